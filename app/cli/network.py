"""CLI subcommand of the network indicators: ``gezondestad indicators --area DIR --out FILE.gpkg``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable


def _add_indicators(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "indicators",
        help="green access, cycling stress (LTS) and STOP score per home and per wijk, written to a GeoPackage",
    )
    p.add_argument("--area", type=Path, required=True, help="a prepared study-area folder (gezondestad prepare)")
    p.add_argument("--out", type=Path, required=True, help="output GeoPackage (.gpkg); replaced when it exists")
    p.add_argument("--centre", type=float, nargs=2, metavar=("X", "Y"), help="city centre in the study area's CRS (EPSG:31370 in Belgium) for the low-stress reach; default: centroid of the wijk with the most shops")


def write_indicators_gpkg(result: object, out: Path) -> list[str]:
    """Write a :class:`spatial.indicators.NetworkIndicators` to ``out``; return the layer names.

    Layers: one per indicator per home (:data:`spatial.indicators.PER_HOME_LAYERS`),
    ``homes_unserved_green``, ``street_lts``, ``green_spaces`` and the table ``per_wijk``.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio
    from gezondestad.spatial.indicators import PER_HOME_LAYERS

    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise ValueError(f"{out}: the output must be a GeoPackage file ending in .gpkg.")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()

    def clean(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        for c in df.columns:
            if c == "geometry":
                continue
            if df[c].dtype.kind == "f":
                df[c] = df[c].where(np.isfinite(df[c].to_numpy(dtype=float)))  # inf -> null (unreachable)
            elif df[c].dtype == object:
                df[c] = df[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else (v if isinstance(v, (str, bool, np.bool_)) else str(v)))
        return df

    homes = result.homes  # type: ignore[attr-defined]
    base = ["home_id", "residents", "estimated", "wijk_code", "wijk_naam"]
    names = []
    for layer, cols in PER_HOME_LAYERS.items():
        cols = [c for c in cols if c in homes.columns]
        gdf = gpd.GeoDataFrame(clean(homes[base + cols + ["geometry"]]), geometry="geometry", crs=homes.crs)
        pyogrio.write_dataframe(gdf, out, layer=layer, driver="GPKG")
        names.append(layer)
    for layer, gdf in (("homes_unserved_green", result.unserved), ("street_lts", result.segments), ("green_spaces", result.green_spaces)):  # type: ignore[attr-defined]
        pyogrio.write_dataframe(gpd.GeoDataFrame(clean(gdf), geometry="geometry", crs=gdf.crs), out, layer=layer, driver="GPKG", promote_to_multi=layer == "green_spaces")
        names.append(layer)
    per = clean(result.per_wijk)  # type: ignore[attr-defined]
    pyogrio.write_dataframe(per, out, layer="per_wijk", driver="GPKG")
    names.append("per_wijk")
    return names


def _run_indicators(args: argparse.Namespace) -> int:
    from gezondestad.layers.studyarea import load_study_area
    from gezondestad.spatial.indicators import network_indicators

    area = load_study_area(args.area)
    res = network_indicators(area, centre_xy=tuple(args.centre) if args.centre else None, progress=True)
    layers = write_indicators_gpkg(res, args.out)
    cols = ["wijk_code", "wijk_naam", "residents", "green_300m_05ha_share", "lts12_share_length", "fietsstraat_km", "stop_s", "stop_t", "stop_o", "stop_p", "stop_order_ok"]
    print(res.per_wijk[cols].round(3).to_string(index=False))
    for n in res.notes:
        print(f"Opmerking: {n}")
    print(f"{len(res.homes)} homes in {res.timings_s['total']:.2f} s; layers {', '.join(layers)} written to {args.out}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "indicators": (_add_indicators, _run_indicators),
}
