"""CLI subcommands for accessibility: ``toets`` (design check) and ``access`` (network per profile).

``gezondestad toets --design FILE [--mapping JSON] --out result.csv``
    Checks every element of a design (GeoPackage/GeoJSON/Shapefile) and writes one row per
    element and rule to the CSV, and a GeoPackage ``result.gpkg`` next to it with the layers
    ``toets`` (per rule) and ``elementen`` (worst verdict per element).

``gezondestad access --area DIR --out FILE.gpkg``
    Per-segment verdicts (layer ``segments``), per-wijk table (layer ``per_wijk``, no geometry)
    and the missing links (layer ``missing_links``) of a prepared study area.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio
from gezondestad.app.cli.common import CliError, print_notes, print_wijk_table, progress_bar
from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import load_study_area
from gezondestad.layers.validate import InputError, read_layer
from gezondestad.model.fmt import fmt_number
from gezondestad.model.progress import Steps
from gezondestad.screening.toets import ToetsError, check_design, check_design_size, element_verdicts
from gezondestad.spatial.accessibility import PROFILE_NL, PROFILES, accessibility_indicators


def _add_toets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("toets", help="toegankelijkheidstoets van een ontwerp voor de publieke ruimte (paden, hellingen, oversteken, ...)")
    p.add_argument("--design", type=Path, required=True, help="ontwerplaag (GeoPackage, GeoJSON, Shapefile) met een kolom 'element'")
    p.add_argument("--layer", help="laagnaam als het bestand meerdere lagen bevat")
    p.add_argument("--mapping", help='kolomkoppeling als JSON-tekst of .json-bestand, bv. \'{"type": "element", "breedte": "width_cm"}\'')
    p.add_argument("--out", type=Path, required=True, help="resultaat-CSV; een GeoPackage met dezelfde naam (.gpkg) komt ernaast")
    p.add_argument("--area", type=Path, help="klaargezet studiegebied: het ontwerp wordt in zijn coördinatenstelsel getoetst en moet erin liggen "
                   "(zonder: Belgisch Lambert 72, het ontwerp moet in België liggen)")


def _read_mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    src = text
    pth = Path(text)
    if pth.suffix.lower() == ".json" and pth.is_file():
        src = pth.read_text(encoding="utf-8")
    try:
        m = json.loads(src)
    except json.JSONDecodeError as exc:
        raise CliError(f"--mapping is geen geldige JSON ({exc.msg} op positie {exc.pos}); geef bv. '{{\"type\": \"element\"}}'.") from exc
    if not isinstance(m, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in m.items()):
        raise CliError("--mapping moet een JSON-object zijn van kolomnaam -> schema-attribuut (teksten).")
    return m


def read_design(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a design file as it is (no rows dropped; CRS checks happen in ``check_design``).

    Zips go through the same safe extractor as in the app (:func:`gezondestad.layers.validate.read_layer`);
    a design over the size limit is refused from its feature count before it is read.
    """
    if not path.is_file():
        raise ToetsError(f"{path}: bestand niet gevonden.")
    if path.suffix.lower() != ".zip":
        try:
            n = int(pyogrio.read_info(path, layer=layer).get("features", -1))
        except Exception:  # noqa: BLE001 - counting is an early refusal only; reading reports real errors
            n = -1
        check_design_size(n, source=path.name)
    try:
        gdf, _ = read_layer(path, Path(path.name), layer)
    except InputError as exc:
        raise ToetsError(str(exc)) from exc
    check_design_size(len(gdf), source=path.name)
    return gdf


def _run_toets(args: argparse.Namespace) -> int:
    design = read_design(args.design, args.layer)
    area = load_study_area(args.area) if getattr(args, "area", None) else None
    result = check_design(design, column_map=_read_mapping(args.mapping), area=area)
    out = Path(args.out)
    write_table(result.drop(columns="geometry"), out)  # creates the folder; no formula cells from design text
    gpkg = out.with_suffix(".gpkg")
    if gpkg.exists():
        gpkg.unlink()
    per_el = element_verdicts(result)
    for name, layer in (("toets", result), ("elementen", per_el)):
        lay = layer.copy()  # elements without geometry stay in the layer (null geometry)
        for c in ("value", "limit"):
            if c in lay:
                lay[c] = lay[c].map(lambda v: None if v is None else str(v))
        pyogrio.write_dataframe(lay, gpkg, layer=name, driver="GPKG", geometry_type="Unknown")
    counts = result["verdict"].value_counts()
    n_el = per_el["verdict"].value_counts()
    print(
        f"{len(per_el)} elementen, {len(result)} toetsen: {counts.get('pass', 0)} voldoet, {counts.get('fail', 0)} voldoet niet, "
        f"{counts.get('unknown', 0)} kan niet beoordeeld worden"
    )
    print(f"elementen: {n_el.get('pass', 0)} in orde, {n_el.get('fail', 0)} met een fout, {n_el.get('unknown', 0)} onvolledig")
    print(f"geschreven: {out} en {gpkg} (lagen toets, elementen)")
    return 0


def _add_access(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("access", help="toegankelijkheid van het wandelnetwerk per profiel (rolstoel, rollator/kinderwagen, blind)")
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied (gezondestad prepare)")
    p.add_argument("--out", type=Path, required=True, help="uitvoer-GeoPackage (lagen segments, per_wijk, missing_links)")
    p.add_argument("--no-missing-links", action="store_true", help="de ontbrekende schakels niet zoeken (sneller)")
    p.add_argument("--norms", type=Path, help="eigen normenmap (standaard de meegeleverde data/norms)")


def _run_access(args: argparse.Namespace) -> int:
    steps = Steps(progress_bar("toegankelijkheid"), {"load": "studiegebied laden", "model": "netwerk per profiel", "write": "schrijven"})
    area = load_study_area(args.area)
    steps.done("load")
    res = accessibility_indicators(area, with_missing_links=not args.no_missing_links, norms_dir=str(args.norms) if args.norms else None)
    steps.done("model")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    pyogrio.write_dataframe(res.segments, out, layer="segments", driver="GPKG")
    pyogrio.write_dataframe(res.per_wijk, out, layer="per_wijk", driver="GPKG")
    pyogrio.write_dataframe(res.missing_links, out, layer="missing_links", driver="GPKG", geometry_type="LineString")
    steps.done("write")
    total_m = res.segments["length_m"].sum()
    for p in PROFILES:
        v = res.segments[f"verdict_{p}"]
        sh = {k: res.segments.loc[v == k, "length_m"].sum() / total_m for k in ("pass", "unknown", "fail")}
        print(
            f"{PROFILE_NL[p]:20s} voldoet {fmt_number(100 * sh['pass'], 1)} %  onbekend {fmt_number(100 * sh['unknown'], 1)} %  "
            f"voldoet niet {fmt_number(100 * sh['fail'], 1)} % van {fmt_number(total_m / 1000, 1)} km wandelbaar"
        )
    if len(res.per_wijk):
        print_wijk_table(res.per_wijk, "accessibility")
    print_notes(res.notes)
    print(f"{len(res.missing_links)} ontbrekende schakel(s); geschreven: {out} (lagen segments, per_wijk, missing_links)")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "toets": (_add_toets, _run_toets),
    "access": (_add_access, _run_access),
}
