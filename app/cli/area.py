"""CLI subcommands of the study area: prepare and export.

    gezondestad prepare (--place NAME | --osm FILE | --sources TOML | --demo) [--wijken FILE] --out DIR
    gezondestad export --area DIR --format gpkg|geojson|csv|geotiff [--crs EPSG:4326] --out DIR
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from gezondestad.app.cli.common import print_notes, progress_bar
from gezondestad.layers import prepare
from gezondestad.layers.export import export_study_area
from gezondestad.layers.studyarea import load_study_area, save_study_area
from gezondestad.model.fmt import fmt_number
from gezondestad.spatial.wijk_table import TABLE_FAMILIES, dutch_table, wijk_indicator_table

TABLE_NAME = "indicatoren_per_wijk"
"""Key of the per-wijk indicator table in the export (``<naam>_indicatoren_per_wijk.csv``)."""


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prepare",
        help="studiegebied klaarzetten (OSM op plaatsnaam, OSM-bestand, GIS-bestanden van de stad of de demostad)",
        description="Zet een studiegebied klaar in een map (GeoPackage + bodembedekking als GeoTIFF + manifest.json). "
        "De map wordt in één keer geschreven: mislukt er iets, dan blijft er niets half achter.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--place", help='plaatsnaam voor osmnx, bv. "Mechelen, Belgium" (internet nodig)')
    src.add_argument("--osm", type=Path, help="een OSM-bestand .osm.pbf of .osm (XML) (offline)")
    src.add_argument("--sources", type=Path, help="TOML-bestand dat GIS-bestanden van de stad op de thema's legt (zie tests/real/mechelen.toml)")
    src.add_argument("--demo", action="store_true", help="de synthetische demostad (offline)")
    p.add_argument("--wijken", type=Path, help="wijkgrenzen (GeoPackage/Shapefile/GeoJSON/zip) als grens van het gebied, met --place of --osm")
    p.add_argument("--resolution-m", type=float, default=10.0, help="celgrootte van de bodembedekking in meter (standaard 10)")
    p.add_argument("--crs", help="metrisch werk-CRS, bv. EPSG:32628 (standaard EPSG:31370 in België, elders de UTM-zone van het gebied)")
    p.add_argument("--out", type=Path, required=True, help="map van het klaargezette studiegebied")


def _run_prepare(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    area = prepare.prepare_from_args(
        place=args.place,
        osm_file=args.osm,
        sources_toml=args.sources,
        demo=args.demo,
        wijken_file=args.wijken,
        resolution_m=args.resolution_m,
        progress=progress_bar("klaarzetten"),
        crs=args.crs,
    )
    out = save_study_area(area, args.out)
    print(area.summary()[["theme", "status", "count", "date", "repairs"]].to_string(index=False))
    notes = [(t, n) for t, n in zip(area.summary()["theme"], area.summary()["note"]) if n]
    for t, n in notes:
        print(f"  {t}: {n}")
    print(f"Studiegebied '{area.name}' geschreven naar {out} in {fmt_number(time.perf_counter() - t0, 1)} s (werk-CRS {area.crs})")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="studiegebied exporteren naar GeoPackage, GeoJSON, CSV of GeoTIFF, met de indicatoren per wijk",
        description="Exporteer elk vectorthema (gpkg, geojson, csv) of de bodembedekking (geotiff) van een klaargezet "
        "studiegebied, en een tabel met alle indicatoren per wijk (<naam>_indicatoren_per_wijk.csv; elke familie die "
        "het gebied toelaat). GeoJSON is altijd WGS84 (RFC 7946). Het manifest (bronnen, data, licenties) komt ernaast.",
    )
    p.add_argument("--area", type=Path, required=True, help="een map geschreven door 'gezondestad prepare'")
    p.add_argument("--format", required=True, choices=["gpkg", "geojson", "csv", "geotiff"], help="uitvoerformaat")
    p.add_argument("--crs", default=None, help="uitvoer-CRS, bv. EPSG:4326 (standaard dat van het studiegebied, EPSG:31370 in België)")
    p.add_argument("--out", type=Path, required=True, help="uitvoermap (wordt aangemaakt)")
    p.add_argument("--no-indicators", action="store_true", help="de tabel met indicatoren per wijk niet berekenen en schrijven")
    p.add_argument(
        "--dutch-headers", action="store_true",
        help="indicatortabel met Nederlandse kolomkoppen, puntkomma als scheidingsteken en decimale komma (Excel nl-BE)",
    )


def _run_export(args: argparse.Namespace) -> int:
    area = load_study_area(args.area)
    tables = {}
    notes: tuple[str, ...] = ()
    if not args.no_indicators:
        wt = wijk_indicator_table(area, TABLE_FAMILIES, progress=progress_bar("indicatoren"))
        tables[TABLE_NAME] = dutch_table(wt.table) if args.dutch_headers else wt.table
        notes = wt.notes
    files = export_study_area(area, args.out, args.format, crs=args.crs, progress=progress_bar(f"export {args.format}"), tables=tables, dutch_tables=args.dutch_headers)
    if args.format == "geojson" and args.crs != "EPSG:4326":
        print("Opmerking: GeoJSON wordt in EPSG:4326 (WGS84) geschreven, zoals RFC 7946 vraagt.")
    print_notes(notes)
    for f in files:
        print(f)
    print(f"{len(files) - 1} bestand(en) + manifest geschreven naar {args.out}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "prepare": (_add_prepare, _run_prepare),
    "export": (_add_export, _run_export),
}
