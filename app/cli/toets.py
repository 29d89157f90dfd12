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
from pathlib import Path
from typing import Callable


def _add_toets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("toets", help="toegankelijkheidstoets of a public-space design (paths, ramps, crossings, ...)")
    p.add_argument("--design", type=Path, required=True, help="design layer (GeoPackage, GeoJSON, Shapefile) with an 'element' column")
    p.add_argument("--layer", help="layer name when the file holds several layers")
    p.add_argument("--mapping", help='column mapping as JSON text or a .json file, e.g. \'{"type": "element", "breedte": "width_cm"}\'')
    p.add_argument("--out", type=Path, required=True, help="result CSV; a GeoPackage with the same name (.gpkg) is written next to it")


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
        raise ValueError(f"--mapping is not valid JSON ({exc.msg} at position {exc.pos}); give e.g. '{{\"type\": \"element\"}}'.") from exc
    if not isinstance(m, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in m.items()):
        raise ValueError("--mapping must be a JSON object of column name -> schema attribute (strings).")
    return m


def read_design(path: Path, layer: str | None = None):
    """Read a design file as it is (no rows dropped; CRS checks happen in ``check_design``)."""
    import pyogrio
    from gezondestad.screening.toets import ToetsError

    if not path.is_file():
        raise ToetsError(f"{path}: file not found.")
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio's DataSourceError and friends
        raise ToetsError(f"{path}: cannot be read as a vector file ({exc}). Use GeoPackage, GeoJSON or Shapefile.") from exc
    if layer is None and len(layers) > 1:
        raise ToetsError(f"{path}: holds several layers ({', '.join(layers)}); choose one with --layer.")
    if layer is not None and layer not in layers:
        raise ToetsError(f"{path}: has no layer '{layer}'; its layers are {', '.join(layers)}.")
    try:
        return pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise ToetsError(f"{path}: cannot be read ({exc}).") from exc


def _run_toets(args: argparse.Namespace) -> int:
    import pyogrio
    from gezondestad.screening.toets import check_design, element_verdicts

    design = read_design(args.design, args.layer)
    result = check_design(design, column_map=_read_mapping(args.mapping))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.drop(columns="geometry").to_csv(out, index=False)
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
    print(f"written {out} and {gpkg} (layers toets, elementen)")
    return 0


def _add_access(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("access", help="accessibility of the walking network per profile (wheelchair, walker/pram, blind)")
    p.add_argument("--area", type=Path, required=True, help="prepared study-area folder (gezondestad prepare)")
    p.add_argument("--out", type=Path, required=True, help="output GeoPackage (layers segments, per_wijk, missing_links)")
    p.add_argument("--no-missing-links", action="store_true", help="skip the missing-links layer (faster)")


def _run_access(args: argparse.Namespace) -> int:
    import pyogrio
    from gezondestad.layers.studyarea import load_study_area
    from gezondestad.spatial.accessibility import PROFILES, accessibility_indicators
    from tqdm import tqdm

    with tqdm(total=3, desc="access", unit="step") as bar:
        area = load_study_area(args.area)
        bar.update(1)
        res = accessibility_indicators(area, with_missing_links=not args.no_missing_links)
        bar.update(1)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.unlink()
        pyogrio.write_dataframe(res.segments, out, layer="segments", driver="GPKG")
        pyogrio.write_dataframe(res.per_wijk, out, layer="per_wijk", driver="GPKG")
        pyogrio.write_dataframe(res.missing_links, out, layer="missing_links", driver="GPKG", geometry_type="LineString")
        bar.update(1)
    L = res.segments["length_m"].sum()
    for p in PROFILES:
        v = res.segments[f"verdict_{p}"]
        sh = {k: res.segments.loc[v == k, "length_m"].sum() / L for k in ("pass", "unknown", "fail")}
        print(f"{p:10s} pass {sh['pass']:.1%}  unknown {sh['unknown']:.1%}  fail {sh['fail']:.1%} of {L / 1000:.1f} km walkable")
    for n in area.norms_notes():
        print(f"Opmerking: {n}")
    print(f"{len(res.missing_links)} missing links; written {out} (layers segments, per_wijk, missing_links)")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "toets": (_add_toets, _run_toets),
    "access": (_add_access, _run_access),
}
