"""CLI subcommands of the climate layers: ``heat`` and ``water`` (GeoTIFF + per-wijk CSV)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
from gezondestad.app.cli.common import family_columns, print_notes, print_wijk_table, progress_bar
from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.fmt import fmt_number
from gezondestad.model.progress import Steps
from gezondestad.model.studyarea import LandCover, StudyArea, StudyAreaError
from gezondestad.spatial.aggregate import home_points
from gezondestad.spatial.heat import HeatParams, heat_to_geotiff
from gezondestad.spatial.raster import landcover_for_area
from gezondestad.spatial.water import WaterParams, water_to_geotiff

_STEPS = {"load": "studiegebied laden", "homes": "woningen", "model": "model", "write": "schrijven"}


def _csv_path(out: Path) -> Path:
    return out.with_suffix(".csv")


def _load(args: argparse.Namespace, steps: Steps, notes: list[str]) -> tuple[StudyArea, LandCover, gpd.GeoDataFrame | None]:
    """(area, landcover, homes) for a --area folder; homes is None when they cannot be derived."""
    area = load_study_area(args.area)
    area.require("wijken")
    lc = landcover_for_area(area, args.resolution_m)
    steps.done("load")
    homes = None
    try:
        homes = home_points(area)
    except StudyAreaError as exc:
        notes.append(f"Geen woningen ({exc}); de kolommen over inwoners blijven leeg.")
    steps.done("homes")
    return area, lc, homes


def _write(result: Any, out: Path, family: str) -> Path:
    """The per-wijk CSV (catalogue columns first) next to the GeoTIFF the layer streamed to ``out``."""
    csv = _csv_path(out)
    per = result.per_wijk
    first = family_columns(per, family)
    write_table(per[first + [c for c in per.columns if c not in first]], csv)  # text cells defused for spreadsheets
    return csv


def _add_common(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied (gezondestad prepare ... --out MAP)")
    p.add_argument("--out", type=Path, default=Path(default_out), help=f"uitvoer-GeoTIFF (standaard {default_out}); de CSV per wijk komt ernaast")
    p.add_argument("--resolution-m", type=float, default=None, help="celgrootte in meter (standaard die van de bodembedekking, 10 m)")
    p.add_argument("--norms", type=Path, help="eigen normenmap (standaard de meegeleverde data/norms)")


def _add_heat(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("heat", help="hitte-eilandlaag (InVEST Urban Cooling) als GeoTIFF + CSV per wijk")
    _add_common(p, "heat.tif")
    p.add_argument("--et0", type=Path, help="raster met referentie-evapotranspiratie (mm/dag); standaard een constante uit data/norms/heat.toml")
    p.add_argument("--green-patch-min-ha", type=float, default=None, help="minimale oppervlakte van een aaneengesloten groenvlek voor parkkoeling (0 = InVEST-regel)")


def _run_heat(args: argparse.Namespace) -> int:
    notes: list[str] = []
    steps = Steps(progress_bar("hitte"), _STEPS)
    area, lc, homes = _load(args, steps, notes)
    over = {} if args.green_patch_min_ha is None else {"green_patch_min_ha": args.green_patch_min_ha}
    params = HeatParams.from_norms(args.norms, **over)
    res = heat_to_geotiff(lc, area.wijken, args.out, homes=homes, params=params, et0=str(args.et0) if args.et0 else None)  # streamed block by block
    steps.done("model")
    csv = _write(res, args.out, "heat")
    steps.done("write")
    print_wijk_table(res.per_wijk, "heat")
    print_notes(notes + list(getattr(res, "notes", [])))
    print(f"Hittelaag ({lc.shape[0]}x{lc.shape[1]} cellen van {fmt_number(lc.resolution_m, 0)} m; banden: {', '.join(res.bands())}) "
          f"geschreven naar {args.out}; per wijk: {csv}")
    return 0


def _add_water(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("water", help="afstroming bij een ontwerpbui (SCS-curvenummer) en overstromingsgevoelige zones als GeoTIFF + CSV per wijk")
    _add_common(p, "water.tif")
    p.add_argument("--dem", type=Path, help="hoogte-GeoTIFF (elk CRS en elke resolutie; wordt op de bodembedekking gelegd)")
    p.add_argument("--flood-zones", type=Path, help="overstromingsgevoelige gebieden: veelhoeken of een raster")
    p.add_argument("--soil", help="hydrologische bodemgroep A-D voor alle cellen, of een raster met 1-4 (standaard uit data/norms/water.toml)")
    p.add_argument("--rain-mm", type=float, help="neerslag van de ontwerpbui in mm (standaard uit data/norms/water.toml)")


def _run_water(args: argparse.Namespace) -> int:
    notes: list[str] = []
    steps = Steps(progress_bar("water"), _STEPS)
    area, lc, homes = _load(args, steps, notes)
    over = {} if args.rain_mm is None else {"design_storm_depth_mm": args.rain_mm}
    res = water_to_geotiff(  # streamed block by block
        lc,
        area.wijken,
        args.out,
        water=area.water if area.has("water") else None,
        dem=str(args.dem) if args.dem else None,
        flood_zones=str(args.flood_zones) if args.flood_zones else None,
        homes=homes,
        params=WaterParams.from_norms(args.norms, **over),
        soil=args.soil,
    )
    steps.done("model")
    csv = _write(res, args.out, "water")
    steps.done("write")
    print_wijk_table(res.per_wijk, "water")
    print_notes(notes + list(getattr(res, "notes", [])))
    print(f"Waterlaag (ontwerpbui {fmt_number(res.params.design_storm_depth_mm, 0)} mm; banden: {', '.join(res.bands())}) "
          f"geschreven naar {args.out}; per wijk: {csv}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "heat": (_add_heat, _run_heat),
    "water": (_add_water, _run_water),
}
