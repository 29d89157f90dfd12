"""CLI subcommands of the climate layers: ``heat`` and ``water`` (GeoTIFF + per-wijk CSV)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

HEAT_CSV_COLUMNS = ["wijk_code", "wijk_naam", "heat_index_mean", "heat_index_p90", "residents_hot_share"]
WATER_CSV_COLUMNS = ["wijk_code", "wijk_naam", "runoff_mm_mean", "impervious_share", "flood_prone_share"]


def _csv_path(out: Path) -> Path:
    return out.with_suffix(".csv")


def _load(args: argparse.Namespace, bar) -> tuple:
    """(area, landcover, homes) for a --area folder; homes is None when they cannot be derived."""
    from gezondestad.layers.studyarea import load_study_area
    from gezondestad.model.studyarea import StudyAreaError
    from gezondestad.spatial.aggregate import home_points
    from gezondestad.spatial.raster import landcover_for_area

    bar.set_description("loading study area")
    area = load_study_area(args.area)
    area.require("wijken")
    lc = landcover_for_area(area, args.resolution_m)
    bar.update(1)
    bar.set_description("homes")
    homes = None
    try:
        homes = home_points(area)
    except StudyAreaError as exc:
        bar.write(f"note: no homes ({exc}); resident columns will be empty")
    bar.update(1)
    return area, lc, homes


def _write(result, out: Path, first_cols: list[str], bar) -> Path:
    from gezondestad.spatial.raster import write_bands

    bar.set_description("writing")
    write_bands(out, result.bands(), result.landcover)
    csv = _csv_path(out)
    per = result.per_wijk
    cols = first_cols + [c for c in per.columns if c not in first_cols]
    per[cols].to_csv(csv, index=False)
    bar.update(1)
    return csv


def _add_common(p: argparse.ArgumentParser, default_out: str) -> None:
    p.add_argument("--area", type=Path, required=True, help="prepared study-area folder (gezondestad prepare ... --out DIR)")
    p.add_argument("--out", type=Path, default=Path(default_out), help=f"output GeoTIFF (default {default_out}); the per-wijk CSV is written next to it")
    p.add_argument("--resolution-m", type=float, default=None, help="cell size in metres (default: the study area's land cover, 10 m)")


def _add_heat(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("heat", help="urban heat-island layer (InVEST Urban Cooling) as GeoTIFF + per-wijk CSV")
    _add_common(p, "heat.tif")
    p.add_argument("--et0", type=Path, help="reference evapotranspiration raster (mm/day); default: constant from data/norms/heat.toml")
    p.add_argument("--green-patch-min-ha", type=float, default=None, help="contiguous green patch size for park cooling (0 = InVEST rule)")


def _run_heat(args: argparse.Namespace) -> int:
    from gezondestad.spatial.heat import HeatParams, heat_layer
    from tqdm import tqdm

    with tqdm(total=4, unit="step") as bar:
        area, lc, homes = _load(args, bar)
        bar.set_description("heat model")
        over = {} if args.green_patch_min_ha is None else {"green_patch_min_ha": args.green_patch_min_ha}
        res = heat_layer(lc, area.wijken, homes=homes, params=HeatParams.from_norms(**over), et0=str(args.et0) if args.et0 else None)
        bar.update(1)
        csv = _write(res, args.out, HEAT_CSV_COLUMNS, bar)
    cols = ["wijk_code", "wijk_naam", "heat_index_mean", "heat_index_p90", "t_air_mean", "residents_hot_share"]
    print(res.per_wijk[cols].round(3).to_string(index=False))
    for n in area.norms_notes():
        print(f"Opmerking: {n}")
    print(f"Heat layer ({lc.shape[0]}x{lc.shape[1]} cells of {lc.resolution_m:g} m; bands: {', '.join(res.bands())}) "
          f"written to {args.out}; per wijk: {csv}")
    return 0


def _add_water(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("water", help="storm runoff (SCS curve number) and flood-prone zones as GeoTIFF + per-wijk CSV")
    _add_common(p, "water.tif")
    p.add_argument("--dem", type=Path, help="elevation GeoTIFF (any CRS/resolution; reprojected onto the land cover)")
    p.add_argument("--flood-zones", type=Path, help="flood-sensitive areas (overstromingsgevoelige gebieden): polygons or raster")
    p.add_argument("--soil", help="hydrologic soil group A-D for all cells, or a raster of 1-4 (default from data/norms/water.toml)")
    p.add_argument("--rain-mm", type=float, help="design-storm depth in mm (default from data/norms/water.toml)")


def _run_water(args: argparse.Namespace) -> int:
    from gezondestad.spatial.water import WaterParams, water_layer
    from tqdm import tqdm

    with tqdm(total=4, unit="step") as bar:
        area, lc, homes = _load(args, bar)
        bar.set_description("water model")
        over = {} if args.rain_mm is None else {"design_storm_depth_mm": args.rain_mm}
        res = water_layer(
            lc,
            area.wijken,
            water=area.water if area.has("water") else None,
            dem=str(args.dem) if args.dem else None,
            flood_zones=str(args.flood_zones) if args.flood_zones else None,
            homes=homes,
            params=WaterParams.from_norms(**over),
            soil=args.soil,
        )
        bar.update(1)
        csv = _write(res, args.out, WATER_CSV_COLUMNS, bar)
    cols = ["wijk_code", "wijk_naam", "runoff_mm_mean", "impervious_share", "flood_prone_share", "residents_flood_prone_share"]
    print(res.per_wijk[cols].round(3).to_string(index=False))
    for n in area.norms_notes():
        print(f"Opmerking: {n}")
    print(f"Water layer (design storm {res.params.design_storm_depth_mm:g} mm; bands: {', '.join(res.bands())}) "
          f"written to {args.out}; per wijk: {csv}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "heat": (_add_heat, _run_heat),
    "water": (_add_water, _run_water),
}
