"""CLI subcommand ``air``: annual NO2 / PM2.5 map (GeoTIFF) + homes GeoPackage + per-wijk CSV."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.studyarea import StudyArea
from gezondestad.spatial.air import AirParams, air_exposure
from gezondestad.spatial.raster import read_vector_any, write_bands
from gezondestad.spatial.traffic import traffic_per_segment
from tqdm import tqdm

AIR_CSV_COLUMNS = [
    "wijk_code", "wijk_naam", "residents", "no2_mean_ugm3", "pm25_mean_ugm3",
    "residents_above_who_no2", "residents_above_eu2030_no2", "residents_above_who_pm25", "residents_above_eu2030_pm25",
    "destinations", "destinations_above_who_no2", "destinations_above_eu2030_no2",
]


def _add_air(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("air", help="jaargemiddelde NO2 en PM2,5 aan woningen en gevoelige bestemmingen (GeoTIFF + GeoPackage van woningen + CSV per wijk)")
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied (gezondestad prepare ... --out MAP)")
    p.add_argument("--out", type=Path, default=Path("air.tif"),
                   help="GeoTIFF om te schrijven (standaard air.tif); OUT_homes.gpkg (lagen homes, destinations) en OUT.csv komen ernaast")
    p.add_argument("--grid-m", type=float, default=20.0, help="celgrootte van de kaart in meter (standaard 20)")
    p.add_argument("--counts", type=Path, help="verkeerstellingen (CSV met edge_id, of een GeoPackage met tellijnen) in plaats van de standaardwaarden per wegklasse")
    p.add_argument("--baseline-no2", type=Path, help="officiële kaart van het jaargemiddelde NO2 (GeoTIFF, elk CRS) als voor-toestand in plaats van het model")
    p.add_argument("--baseline-pm25", type=Path, help="officiële kaart van het jaargemiddelde PM2,5 (GeoTIFF, elk CRS) als voor-toestand in plaats van het model")
    p.add_argument("--background-no2", type=float, help="achtergrondconcentratie NO2 in µg/m³ (standaard: air_background van het studiegebied, anders data/norms/air.toml, projectwaarde voor Vlaanderen)")
    p.add_argument("--background-pm25", type=float, help="achtergrondconcentratie PM2,5 in µg/m³ (standaard: air_background van het studiegebied, anders data/norms/air.toml)")


def _read_counts(path: Path):
    import pandas as pd

    if not path.is_file():
        raise GezondeStadError(f"Tellingenbestand {path} niet gevonden.")
    if path.suffix.lower() == ".csv":
        try:
            return pd.read_csv(path)
        except Exception as exc:  # pandas raises several parser errors
            raise GezondeStadError(f"Tellingenbestand {path} is geen leesbare CSV ({exc}).") from exc
    return read_vector_any(path)


def area_and_traffic(args: argparse.Namespace, bar: tqdm) -> tuple[StudyArea, gpd.GeoDataFrame]:
    """The first two steps of the air and noise commands: the study area and its traffic (counts if given)."""
    bar.set_description("studiegebied laden")
    area = load_study_area(args.area)
    bar.update(1)
    bar.set_description("verkeer")
    counts = _read_counts(args.counts) if args.counts else None
    traffic = traffic_per_segment(area, counts=counts)
    bar.update(1)
    return area, traffic


def _run_air(args: argparse.Namespace) -> int:
    out: Path = args.out
    homes_path = out.with_name(out.stem + "_homes.gpkg")
    csv_path = out.with_suffix(".csv")
    with tqdm(total=4, unit="stap") as bar:
        area, traffic = area_and_traffic(args, bar)
        bar.set_description("luchtmodel")
        over = {}
        if args.background_no2 is not None:
            over["background_no2_ugm3"] = args.background_no2
        if args.background_pm25 is not None:
            over["background_pm25_ugm3"] = args.background_pm25
        rasters = {k: v for k, v in (("no2", args.baseline_no2), ("pm25", args.baseline_pm25)) if v is not None}
        res = air_exposure(area, traffic, AirParams.for_area(area, **over), baseline_raster=rasters or None,
                           grid_resolution_m=args.grid_m if args.grid_m and args.grid_m > 0 else None)
        bar.update(1)
        bar.set_description("schrijven")
        # everything is computed; write to temporary names and move them into place together
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = {path: path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}") for path in (out, homes_path, csv_path)}
        try:
            if res.grid is not None:
                write_bands(tmp[out], res.bands(), res.grid)
            res.homes.to_file(tmp[homes_path], layer="homes", driver="GPKG")
            if len(res.destinations):
                res.destinations.to_file(tmp[homes_path], layer="destinations", driver="GPKG")
            per = res.per_wijk
            cols = [c for c in AIR_CSV_COLUMNS if c in per.columns] + [c for c in per.columns if c not in AIR_CSV_COLUMNS]
            write_table(per[cols], tmp[csv_path])  # text cells defused for spreadsheets
            for final, t in tmp.items():
                if t.exists():
                    os.replace(t, final)
        except (OSError, ValueError) as exc:
            raise GezondeStadError(f"Wegschrijven van de luchtresultaten mislukt ({exc}); er is niets geschreven.") from exc
        finally:
            for t in tmp.values():
                if t.exists():
                    t.unlink()
        bar.update(1)
    if len(res.per_wijk):
        show = res.per_wijk[["wijk_code", "wijk_naam", "residents", "no2_mean_ugm3", "pm25_mean_ugm3", "residents_above_eu2030_no2"]]
        print(show.round(2).to_string(index=False))
    pc = res.per_class
    for pol, name in (("no2", "NO2"), ("pm25", "PM2,5")):
        rows = pc[(pc.pollutant == pol) & (pc.residents > 0)]
        print(f"{name}: " + "; ".join(f"{r.label}: {fmt_number(r.residents)} inwoners" for r in rows.itertuples()))
    for n in res.notes:
        print(f"- {n}")
    written = [str(p) for p in (out, homes_path, csv_path) if p.exists()]
    print("Geschreven: " + ", ".join(written))
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "air": (_add_air, _run_air),
}
