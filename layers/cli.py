"""CLI subcommands of the layers package: prepare (and export)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

def _add_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="prepare a study area (OSM by place name, OSM file, city GIS files or the demo)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--place", help='place name for osmnx, e.g. "Mechelen, Belgium" (needs internet)')
    src.add_argument("--osm", type=Path, help="an OSM .osm or .osm.pbf file (offline)")
    src.add_argument("--sources", type=Path, help="a TOML file mapping city GIS files onto the themes")
    src.add_argument("--demo", action="store_true", help="the synthetic demo town (offline)")
    p.add_argument("--wijken", type=Path, help="wijken polygons (GeoPackage/Shapefile/GeoJSON) to use as boundary")
    p.add_argument("--resolution-m", type=float, default=10.0, help="land-cover cell size in metres (default 10)")
    p.add_argument("--out", type=Path, required=True, help="output folder of the prepared study area")


def _run_prepare(args: argparse.Namespace) -> int:
    from layers import prepare

    area = prepare.prepare_from_args(
        place=args.place,
        osm_file=args.osm,
        sources_toml=args.sources,
        demo=args.demo,
        wijken_file=args.wijken,
        resolution_m=args.resolution_m,
        progress=True,
    )
    from layers.studyarea import save_study_area

    out = save_study_area(area, args.out)
    print(area.summary()[["theme", "status", "count", "source"]].to_string(index=False))
    print(f"Study area '{area.name}' written to {out}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "prepare": (_add_prepare, _run_prepare),
}
