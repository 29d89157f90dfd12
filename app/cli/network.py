"""CLI subcommand of the network indicators: ``gezondestad indicators --area DIR --out FILE.gpkg``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from gezondestad.app.cli.common import CliError, print_notes, print_wijk_table, progress_bar
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.fmt import fmt_number
from gezondestad.spatial.indicators import PER_HOME_LAYERS, NetworkIndicators, network_indicators


def _add_indicators(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "indicators",
        help="toegang tot groen, fietsstress (LTS) en STOP-score per woning en per wijk, in een GeoPackage",
    )
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied (gezondestad prepare)")
    p.add_argument("--out", type=Path, required=True, help="uitvoer-GeoPackage (.gpkg); wordt vervangen als hij bestaat")
    p.add_argument(
        "--centre", type=float, nargs=2, metavar=("X", "Y"),
        help="stadscentrum in het CRS van het studiegebied (EPSG:31370 in België) voor het bereik met lage fietsstress; "
        "standaard het midden van de wijk met de meeste winkels",
    )
    p.add_argument("--norms", type=Path, help="eigen normenmap (standaard de meegeleverde data/norms)")


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    """A copy that GeoPackage can store: inf -> null (unreachable), odd objects -> text."""
    df = df.copy()
    for c in df.columns:
        if c == "geometry":
            continue
        if df[c].dtype.kind == "f":
            df[c] = df[c].where(np.isfinite(df[c].to_numpy(dtype=float)))
        elif df[c].dtype == object:
            df[c] = df[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else (v if isinstance(v, (str, bool, np.bool_)) else str(v)))
    return df


def _check_gpkg(out: Path) -> Path:
    out = Path(out)
    if out.suffix.lower() != ".gpkg":
        raise CliError(f"{out}: de uitvoer moet een GeoPackage zijn (bestandsnaam eindigt op .gpkg).")
    return out


def write_indicators_gpkg(result: NetworkIndicators, out: Path) -> list[str]:
    """Write a :class:`spatial.indicators.NetworkIndicators` to ``out``; return the layer names.

    Layers: one per indicator per home (:data:`spatial.indicators.PER_HOME_LAYERS`),
    ``homes_unserved_green``, ``street_lts``, ``green_spaces`` and the table ``per_wijk``.
    """
    out = _check_gpkg(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    homes = result.homes
    base = ["home_id", "residents", "estimated", "wijk_code", "wijk_naam"]
    names = []
    for layer, cols in PER_HOME_LAYERS.items():
        cols = tuple(c for c in cols if c in homes.columns)
        gdf = gpd.GeoDataFrame(_clean(homes[[*base, *cols, "geometry"]]), geometry="geometry", crs=homes.crs)
        pyogrio.write_dataframe(gdf, out, layer=layer, driver="GPKG")
        names.append(layer)
    for layer, frame in (("homes_unserved_green", result.unserved), ("street_lts", result.segments), ("green_spaces", result.green_spaces)):
        pyogrio.write_dataframe(gpd.GeoDataFrame(_clean(frame), geometry="geometry", crs=frame.crs), out, layer=layer, driver="GPKG", promote_to_multi=layer == "green_spaces")
        names.append(layer)
    pyogrio.write_dataframe(_clean(result.per_wijk), out, layer="per_wijk", driver="GPKG")
    names.append("per_wijk")
    return names


def _run_indicators(args: argparse.Namespace) -> int:
    _check_gpkg(args.out)  # before an expensive run
    area = load_study_area(args.area)
    centre = (float(args.centre[0]), float(args.centre[1])) if args.centre else None
    res = network_indicators(area, centre_xy=centre, norms_dir=str(args.norms) if args.norms else None, progress=progress_bar("indicatoren"))
    layers = write_indicators_gpkg(res, args.out)
    print_wijk_table(res.per_wijk, "network", extra=("residents",))
    print_notes(res.notes)
    print(f"{len(res.homes)} woningen in {fmt_number(res.timings_s['total'], 2)} s; lagen {', '.join(layers)} geschreven naar {args.out}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "indicators": (_add_indicators, _run_indicators),
}
