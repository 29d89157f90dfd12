"""Plans drawn on the map: drawings (GeoJSON in WGS84 from the map) plus the attributes of a side form → a plan.

The planner draws features on the Screening page (Leaflet.draw, served locally); each drawing gets
a ``feature_type`` and its attributes in a form. :func:`plan_from_drawings` turns them into the same
validated :class:`~gezondestad.screening.plan.Plan` an uploaded file gives, so a drawn plan is
screened exactly like an upload, and :func:`plan_geojson` saves it as a plan file (in the study
area's CRS) that can be uploaded again or opened in QGIS.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely

from gezondestad.model.errors import GezondeStadError
from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.plan import FEATURE_TYPES, REGIMES, Plan, plan_from_frame

logger = logging.getLogger(__name__)


class SketchError(GezondeStadError):
    """A drawing cannot become a plan feature; the message says which one and what to do."""


@dataclass(frozen=True)
class Field:
    """One attribute of the side form: column, Dutch label, kind (int/float/choice/text/bool), choices, range."""

    column: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    default: Any = None


FORMS: dict[str, tuple[str, tuple[Field, ...]]] = {
    "building": ("Gebouw met woningen", (Field("dwellings", "Aantal woningen", "int", min_value=0, max_value=5000, default=20),
                                         Field("levels", "Bouwlagen", "int", min_value=1, max_value=60, default=3))),
    "green": ("Groen", (Field("kind", "Soort groen", "choice", ("park", "wood", "grass", "playground"), default="park"),
                        Field("public", "Publiek toegankelijk", "bool", default=True))),
    "street": ("Straat", (Field("highway", "Wegtype", "choice", ("residential", "living_street", "tertiary", "secondary"), default="residential"),
                          Field("maxspeed", "Snelheid (km/u)", "choice", ("30", "50", "70"), default="30"))),
    "path": ("Pad of fietspad", (Field("mode", "Voor wie", "choice", ("walk", "bike", "bike+walk"), default="bike+walk"),)),
    "parking": ("Parking", (Field("spaces", "Parkeerplaatsen", "int", min_value=0, max_value=10000, default=20),)),
    "wadi": ("Wadi (waterbuffer)", ()),
    "facility": ("Voorziening", (Field("kind", "Soort", "choice", ("school", "kinderopvang", "huisarts", "apotheek", "winkel",
                                                                  "supermarkt", "bushalte", "woonzorgcentrum", "ziekenhuis"),
                                       default="school"),)),
    "trees": ("Bomen (kruin of bomenrij)", ()),
    "closure": ("Regime van een bestaande straat", (Field("regime", "Nieuw regime", "choice", tuple(REGIMES), default="fietsstraat"),)),
    "demolition": ("Verwijderen (sloop)", ()),
    "paving": ("Verharding (plein)", ()),
}
"""Feature types a planner can draw, with their Dutch name and the fields of the side form."""


def _check_value(ftype: str, f: Field, value: Any, i: int) -> Any:
    if value is None or value == "":
        return f.default
    if f.kind in ("int", "float"):
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise SketchError(f"Tekening {i + 1} ({FORMS[ftype][0]}): '{f.label}' moet een getal zijn, niet '{value}'.") from None
        if (f.min_value is not None and v < f.min_value) or (f.max_value is not None and v > f.max_value):
            raise SketchError(f"Tekening {i + 1} ({FORMS[ftype][0]}): '{f.label}' moet tussen {f.min_value:g} en {f.max_value:g} liggen.")
        return int(v) if f.kind == "int" else v
    if f.kind == "choice" and str(value) not in f.choices:
        raise SketchError(f"Tekening {i + 1} ({FORMS[ftype][0]}): kies voor '{f.label}' uit {', '.join(f.choices)}.")
    if f.kind == "bool":
        return bool(value)
    return value


def plan_from_drawings(drawings: list[dict[str, Any]], attributes: list[dict[str, Any]], area: StudyArea,
                       name: str = "Getekend plan") -> Plan:
    """A validated plan from map drawings and their form attributes.

    Parameters
    ----------
    drawings : list of GeoJSON Feature dicts
        As the map returns them (WGS84, EPSG:4326).
    attributes : list of dict
        One per drawing: ``feature_type`` plus the form's fields (and an optional ``name``).
    area : StudyArea
        The study area the plan is for (its CRS is the plan's).

    Raises
    ------
    SketchError
        No drawing, a drawing without a type, an unknown type, a value out of range.
    PlanError
        What :func:`~gezondestad.screening.plan.plan_from_frame` refuses (wrong geometry for the type, outside the area...).
    """
    if not drawings:
        raise SketchError("Er is nog niets getekend: teken minstens één element op de kaart.")
    if len(attributes) != len(drawings):
        raise SketchError("Elke tekening heeft een type en eigenschappen nodig (vul het formulier in naast de kaart).")
    rows, geoms = [], []
    for i, (d, a) in enumerate(zip(drawings, attributes)):
        ftype = str(a.get("feature_type", "") or "")
        if ftype not in FORMS or ftype not in FEATURE_TYPES:
            raise SketchError(f"Tekening {i + 1}: kies wat het is ({', '.join(v[0].lower() for v in FORMS.values())}).")
        geom = shapely.geometry.shape(d.get("geometry") or d)
        row: dict[str, Any] = {"feature_type": ftype, "name": str(a.get("name") or f"{FORMS[ftype][0]} {i + 1}")}
        for f in FORMS[ftype][1]:
            row[f.column] = _check_value(ftype, f, a.get(f.column), i)
        if ftype == "street" and row.get("maxspeed"):
            row["maxspeed"] = str(row["maxspeed"])
        if ftype == "green" and "public" in row:
            row["public"] = "true" if row["public"] else "false"
        rows.append(row)
        geoms.append(geom)
    gdf = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_crs(area.crs)
    logger.info("plan drawn: %d features", len(gdf))
    return plan_from_frame(gdf, name=name, source="getekend op de kaart", area=area)


def plan_geojson(plan: Plan) -> bytes:
    """The plan as a GeoJSON plan file (in the plan's CRS, with ``plan_name``), ready to download or upload again."""
    g = plan.features.drop(columns=[c for c in ("plan_fid",) if c in plan.features.columns]).copy()
    g["plan_name"] = plan.name
    data = json.loads(g.to_json(drop_id=True))
    epsg = g.crs.to_epsg() if g.crs is not None else None
    if epsg:
        data["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
