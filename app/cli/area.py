"""CLI subcommands of the layers package: prepare and export.

    gezondestad prepare (--place NAME | --osm FILE | --sources TOML | --demo) [--wijken FILE] --out DIR
    gezondestad export --area DIR --format gpkg|geojson|csv|geotiff [--crs EPSG:4326] --out DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare",
        help="prepare a study area (OSM by place name, OSM file, city GIS files or the demo)",
        description="Prepare a study area into a cache folder (GeoPackage + land-cover GeoTIFF + manifest.json). "
        "The folder is written atomically: when anything fails, nothing is left behind.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--place", help='place name for osmnx, e.g. "Mechelen, Belgium" (needs internet)')
    src.add_argument("--osm", type=Path, help="an OSM .osm.pbf or .osm (XML) file (offline)")
    src.add_argument("--sources", type=Path, help="a TOML file mapping city GIS files onto the themes (see tests/real/mechelen.toml)")
    src.add_argument("--demo", action="store_true", help="the synthetic demo town (offline)")
    p.add_argument("--wijken", type=Path, help="wijken polygons (GeoPackage/Shapefile/GeoJSON/zip) to use as boundary, with --place or --osm")
    p.add_argument("--resolution-m", type=float, default=10.0, help="land-cover cell size in metres (default 10)")
    p.add_argument("--crs", help="working metric CRS, e.g. EPSG:32628 (default: EPSG:31370 in Belgium, else the UTM zone of the area)")
    p.add_argument("--out", type=Path, required=True, help="output folder of the prepared study area")


def _run_prepare(args: argparse.Namespace) -> int:
    from gezondestad.layers import prepare
    from gezondestad.layers.studyarea import save_study_area

    t0 = time.perf_counter()
    area = prepare.prepare_from_args(
        place=args.place,
        osm_file=args.osm,
        sources_toml=args.sources,
        demo=args.demo,
        wijken_file=args.wijken,
        resolution_m=args.resolution_m,
        progress=True,
        crs=args.crs,
    )
    out = save_study_area(area, args.out)
    print(area.summary()[["theme", "status", "count", "date", "repairs"]].to_string(index=False))
    notes = [(t, n) for t, n in zip(area.summary()["theme"], area.summary()["note"]) if n]
    for t, n in notes:
        print(f"  {t}: {n}")
    print(f"Study area '{area.name}' written to {out} in {time.perf_counter() - t0:.1f} s (working CRS {area.crs})")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a prepared study area to GeoPackage, GeoJSON, CSV or GeoTIFF",
        description="Export every vector theme (gpkg, geojson, csv) or the land-cover raster (geotiff) of a prepared "
        "study area. GeoJSON is always WGS84 (RFC 7946). The manifest (sources, dates, licences) is copied alongside.",
    )
    p.add_argument("--area", type=Path, required=True, help="a folder written by 'gezondestad prepare'")
    p.add_argument("--format", required=True, choices=["gpkg", "geojson", "csv", "geotiff"], help="output format")
    p.add_argument("--crs", default=None, help="output CRS, e.g. EPSG:4326 (default: the study area's own, EPSG:31370 in Belgium)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created when absent)")


def _run_export(args: argparse.Namespace) -> int:
    from gezondestad.layers.export import export_study_area
    from gezondestad.layers.studyarea import load_study_area

    area = load_study_area(args.area)
    files = export_study_area(area, args.out, args.format, crs=args.crs, progress=True)
    if args.format == "geojson" and args.crs != "EPSG:4326":
        print("Note: GeoJSON is written in EPSG:4326 (WGS84), as RFC 7946 requires.")
    for f in files:
        print(f)
    print(f"{len(files) - 1} file(s) + manifest written to {args.out}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "prepare": (_add_prepare, _run_prepare),
    "export": (_add_export, _run_export),
}
