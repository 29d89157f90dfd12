"""A plan (a proposed development) and its application to a copy of a study area.

A plan is a GeoPackage or GeoJSON layer whose features each carry a ``feature_type``:

============  ==========  ==========================================================================
feature_type  geometry    attributes (all optional unless said)
============  ==========  ==========================================================================
building      polygon     ``dwellings`` or ``residents``, ``levels``, ``use`` (default residential)
green         polygon     ``public`` (true/false, default true), ``kind`` (park/wood/grass/...),
                          ``trees`` (tree-cover share 0..1; kind=wood means 1)
street        line        ``highway`` (default residential), ``mode`` (car/bike/walk/bike+walk),
                          ``maxspeed``, ``cyclestreet`` (yes/no), ``width``, ``surface`` and any
                          other street tag of :data:`gezondestad.layers.studyarea.STREET_TAGS`
path          line        as street; default ``highway`` from ``mode`` (walk -> footway,
                          bike -> cycleway, else path)
              line        ``regime`` (zone30 / fietsstraat / 50 / 70 / autovrij / verwijderd): a plan
                          street lying over an existing street changes it (speed, fietsstraat,
                          closed to cars, removed) instead of adding a street
parking       polygon     ``paved`` (default true), ``spaces`` (whole number >= 0)
water / wadi  polygon     ``name``; a wadi is a vegetated infiltration basin (water may be a line)
demolition    polygon     removes the buildings, streets, green and pavement it covers
paving        polygon     a paved square or yard (no parking): burned as paved, removes green
facility      point/poly  ``kind``: school, kinderopvang/childcare, huisarts/gp, apotheek/pharmacy,
                          winkel/shop, supermarkt, bushalte/bus_stop, tramhalte, woonzorgcentrum/
                          care_home, ziekenhuis/hospital. Added to the POIs: feeds STOP S/O and
                          counts as a sensitive destination (school, childcare, care, hospital)
trees         poly/line   canopy (polygon) or a tree row (line, ``crown_m`` crown diameter,
                          default ``plan_tree_row_crown_m``): burned as trees over pavement
closure       line        over an existing street: ``regime`` (default autovrij = closed to motor
                          traffic; ``verwijderd`` removes the street); never adds a street
noise_barrier line        ``height`` (m, required): kept for the noise model (issue 13)
============  ==========  ==========================================================================

Every plan polygon replaces the existing land use it covers (a green feature on the station car
park removes that car park; parking on a park removes the park's green). Every attribute is
validated; a wrong value gives a Dutch message naming the feature and what to use.

Existing buildings covered for at least ``demolition_cover_share`` by a plan building, green,
parking, water, wadi or demolition feature are replaced (removed); existing green under a plan
building, parking or demolition is cut away; street edges covered by a demolition are removed.

``name`` is allowed on every feature; a ``plan_name`` column (first non-empty value) names
the plan, otherwise the file name does.

:func:`read_plan` validates (CRS, geometry, types, values, size) and :func:`apply_plan`
returns a *new* :class:`~gezondestad.layers.studyarea.StudyArea` with the plan built in: buildings
added/removed (residents from dwellings x household size), green added/removed, streets added
(noded into the network where they cross or touch existing streets) or changed (a plan street
lying over an existing one changes its tags, e.g. into a fietsstraat), the land-cover raster
re-burned only where the plan has features, and the manifest noting the plan. Every number
used lives in ``data/norms/screening.toml``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.layers.osm_tags import finalize_streets, node_at_intersections
from gezondestad.layers.validate import InputError, VectorLayer, read_layer, validate_frame
from gezondestad.model.geometry import buffer_union
from gezondestad.model.norms import load_norms
from gezondestad.model.population import RESIDENTIAL_USES, estimate_building_residents
from gezondestad.model.studyarea import (
    CRS,
    STREET_TAGS,
    LandCover,
    StudyArea,
    conform_theme,
)
from gezondestad.model import landcover as lcm
from rasterio import features as rfeatures
from rasterio import windows as rwindows
from shapely.ops import substring

FEATURE_TYPES: tuple[str, ...] = (
    "building", "green", "street", "path", "parking", "water", "wadi", "demolition",
    "paving", "facility", "trees", "closure", "noise_barrier",
)
"""Allowed values of a plan feature's ``feature_type``."""

FEATURE_TYPES_NL: dict[str, str] = {
    "building": "gebouw", "green": "groen", "street": "straat", "path": "pad", "parking": "parking", "water": "water",
    "wadi": "wadi", "demolition": "afbraak", "paving": "verharding", "facility": "voorziening", "trees": "bomen",
    "closure": "afsluiting", "noise_barrier": "geluidsscherm",
}
"""Dutch names of the feature types, for what a user reads."""

GEOM_NL = {"Point": "punt", "MultiPoint": "multipunt", "LineString": "lijn", "MultiLineString": "multilijn",
           "Polygon": "vlak", "MultiPolygon": "multivlak"}
"""Dutch names of geometry types, for messages."""

POLYGON_TYPES = frozenset({"building", "green", "parking", "wadi", "demolition", "paving"})
LINE_TYPES = frozenset({"street", "path", "closure", "noise_barrier"})
_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString"}
_POINT = {"Point", "MultiPoint"}
GEOMETRY_KINDS: dict[str, tuple[set[str], str]] = {
    **{t: (_POLY, "een vlak (polygoon)") for t in POLYGON_TYPES},
    **{t: (_LINE, "een lijn") for t in LINE_TYPES},
    "water": (_POLY | _LINE, "een vlak of een lijn"),
    "trees": (_POLY | _LINE, "een vlak (kruinoppervlak) of een lijn (bomenrij)"),
    "facility": (_POINT | _POLY, "een punt of een vlak"),
}
"""Geometry each feature_type may have, with its Dutch description for errors."""

FACILITY_KINDS: dict[str, str] = {
    "school": "school", "kinderopvang": "childcare", "childcare": "childcare", "huisarts": "gp", "gp": "gp",
    "apotheek": "pharmacy", "pharmacy": "pharmacy", "winkel": "shop", "shop": "shop", "supermarkt": "supermarket",
    "supermarket": "supermarket", "bushalte": "bus_stop", "bus_stop": "bus_stop", "tramhalte": "tram_stop",
    "tram_stop": "tram_stop", "woonzorgcentrum": "care_home", "care_home": "care_home", "ziekenhuis": "hospital",
    "hospital": "hospital",
}
"""Facility ``kind`` (Dutch or English) -> ``pois.category``. School, GP, pharmacy, shop and stops feed STOP S/O;
school, childcare, care home and hospital are sensitive destinations."""

REGIMES: dict[str, dict[str, str | None]] = {
    "zone30": {"maxspeed": "30"},
    "fietsstraat": {"cyclestreet": "yes", "maxspeed": "30"},
    "50": {"maxspeed": "50"},
    "70": {"maxspeed": "70"},
    "autovrij": {"motor_vehicle": "no"},
    "verwijderd": {},
}
"""Street regimes a plan street/closure can set on the street it lies over (``regime`` attribute):
zone 30, fietsstraat (cyclestreet, 30 km/h), 50 or 70 km/h, closed to motor traffic ("autovrij",
a knip) or removed altogether ("verwijderd"). A ``closure`` without regime is "autovrij"."""

PLAN_COLUMNS: tuple[str, ...] = (
    "feature_type", "name", "dwellings", "residents", "levels", "use", "public", "kind", "trees",
    "mode", "paved", "regime", "spaces", "height", "crown_m",
) + tuple(t for t in STREET_TAGS if t != "name")
"""Columns a plan frame carries after :func:`read_plan` (absent ones are None)."""


class PlanError(InputError):
    """A plan cannot be read or applied; the message says which feature is wrong and what to do."""


@dataclass
class Plan:
    """A validated plan.

    Attributes
    ----------
    name : str
        Name shown in the report (from ``plan_name`` or the file name).
    features : GeoDataFrame
        Plan features in EPSG:31370 with :data:`PLAN_COLUMNS` and a ``plan_fid`` (0..n-1).
    source : str
        File it came from (or "in memory").
    repairs : dict
        Counted repairs made while reading (``invalid_repaired`` ...).
    """

    name: str
    features: gpd.GeoDataFrame
    source: str = "in memory"
    repairs: dict[str, int] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def of_type(self, *types: str) -> gpd.GeoDataFrame:
        """Features whose ``feature_type`` is one of ``types``."""
        return self.features[self.features["feature_type"].isin(types)]

    @property
    def footprint(self) -> shapely.Geometry:
        """Union of all plan features (lines buffered by their street width)."""
        return plan_footprint(self)

    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["_cache"] = {}
        return d

    def counts(self) -> dict[str, int]:
        """Number of features per ``feature_type``."""
        vc = self.features["feature_type"].value_counts()
        return {t: int(vc.get(t, 0)) for t in FEATURE_TYPES if vc.get(t, 0)}


# --------------------------------------------------------------------------------------------
# reading and validation
# --------------------------------------------------------------------------------------------


def _norms() -> dict[str, Any]:
    return {k: n.value for k, n in load_norms("screening").items()}


def _truthy(v: object, default: bool) -> bool:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return default
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        return bool(v)
    s = str(v).strip().lower()
    if s in {"", "none", "nan"}:
        return default
    if s in {"yes", "true", "1", "ja", "y", "publiek", "public"}:
        return True
    if s in {"no", "false", "0", "nee", "n", "privé", "prive", "private"}:
        return False
    raise ValueError(s)


def _label(row: pd.Series, i: int) -> str:
    nm = row.get("name")
    return f"object {i + 1} ({row.get('feature_type')}{', ' + str(nm) if nm is not None and str(nm) not in ('', 'nan', 'None') else ''})"


def plan_from_frame(gdf: gpd.GeoDataFrame, name: str | None = None, source: str = "in memory", area: StudyArea | None = None) -> Plan:
    """Validate plan features already in memory (e.g. drawn in the app).

    Parameters
    ----------
    gdf : GeoDataFrame
        Features with a ``feature_type`` column and a CRS.
    name : str, optional
        Plan name; default the ``plan_name`` column or "Plan".
    source : str
        Shown in the report.
    area : StudyArea, optional
        When given, every feature must lie (at least partly) inside the study area.

    Raises
    ------
    PlanError
    """
    gdf = _checked_columns(gdf, source, _norms())
    work_crs = area.crs if area is not None else CRS  # the study area's working CRS
    layer = _validated_layer(gdf, source, work_crs)
    f = layer.gdf.reset_index(drop=True)
    f["feature_type"] = _feature_types(f, source)
    plan_name = _plan_name(f, name)
    for c in PLAN_COLUMNS:
        if c not in f:
            f[c] = None
    _check_geometry_kinds(f, source)
    _validate_new_attributes(f, source)
    _check_numbers(f, source)
    _check_flags(f, source)
    f["plan_fid"] = np.arange(len(f), dtype=np.int64)
    f = gpd.GeoDataFrame(f[["plan_fid", *PLAN_COLUMNS, "geometry"]], geometry="geometry", crs=work_crs)
    plan = Plan(name=str(plan_name), features=f, source=source, repairs={k: v for k, v in layer.repairs.items() if v})
    if area is not None:
        check_plan_in_area(plan, area)
    return plan


def _checked_columns(gdf: gpd.GeoDataFrame, source: str, norms: dict[str, Any]) -> gpd.GeoDataFrame:
    """``gdf`` within the size limit and with a ``feature_type`` column, known columns renamed to lower case."""
    if len(gdf) > int(norms["plan_max_features"]):
        raise PlanError(
            f"{source}: het plan heeft {len(gdf)} objecten, meer dan de {int(norms['plan_max_features'])} toegelaten; "
            "een plan is één ontwikkeling: splits het of laat de bestaande stad weg."
        )
    cols = {c.lower(): c for c in gdf.columns}
    if "feature_type" not in cols:
        raise PlanError(
            f"{source}: het plan heeft geen kolom 'feature_type' (kolommen: {', '.join(c for c in gdf.columns if c != gdf.geometry.name)}). "
            f"Geef elk object een feature_type, één van: {', '.join(FEATURE_TYPES)}."
        )
    return gdf.rename(columns={v: k for k, v in cols.items() if k != v and k in set(PLAN_COLUMNS) | {"feature_type", "plan_name"}})


def _validated_layer(gdf: gpd.GeoDataFrame, source: str, work_crs: str) -> VectorLayer:
    """The geometry-checked and repaired layer in ``work_crs``; a feature left without geometry is refused."""
    try:
        layer = validate_frame(gdf, name=source, target_crs=work_crs)
    except InputError as exc:
        raise PlanError(str(exc)) from exc
    if layer.repairs.get("empty_dropped", 0):
        raise PlanError(
            f"{source}: {layer.repairs['empty_dropped']} planobject(en) zonder bruikbare geometrie (leeg, of niets over "
            "na herstel). Teken ze opnieuw of verwijder ze."
        )
    return layer


def _feature_types(f: gpd.GeoDataFrame, source: str) -> pd.Series:
    """The ``feature_type`` column trimmed and in lower case; an unknown type is refused."""
    ft = f["feature_type"].astype("object").map(lambda v: None if v is None else str(v).strip().lower())
    bad = sorted({str(v) for v in ft if v not in FEATURE_TYPES})
    if bad:
        raise PlanError(
            f"{source}: onbekend feature_type {', '.join(repr(b) for b in bad)}; toegelaten zijn: {', '.join(FEATURE_TYPES)}."
        )
    return ft


def _plan_name(f: gpd.GeoDataFrame, name: str | None) -> str:
    """``name``, else the first non-empty ``plan_name`` of the features, else "Plan"."""
    plan_name = name
    if plan_name is None and "plan_name" in f:
        vals = [str(v) for v in f["plan_name"].dropna() if str(v).strip()]
        plan_name = vals[0] if vals else None
    return plan_name or "Plan"


def _check_geometry_kinds(f: gpd.GeoDataFrame, source: str) -> None:
    """Each feature type has its kind of geometry (a building is a polygon, a street a line, ...)."""
    gt = f.geom_type.to_numpy()
    for i, (t, g) in enumerate(zip(f["feature_type"], gt)):
        kinds, want = GEOMETRY_KINDS[t]
        if g not in kinds:
            raise PlanError(f"{source}: {_label(f.iloc[i], i)} is een {GEOM_NL.get(g, g)}, maar een {t} moet {want} zijn. Teken het opnieuw.")


def _check_numbers(f: gpd.GeoDataFrame, source: str) -> None:
    """Dwellings, residents, levels and tree share as floats in their range (in place); a wrong value is refused."""
    for c, lo in (("dwellings", 0.0), ("residents", 0.0), ("levels", 0.0), ("trees", 0.0)):
        num = pd.to_numeric(f[c], errors="coerce")
        wrong = f[c].notna() & (num.isna() | (num < lo) | ~np.isfinite(num.fillna(0)))
        if c == "levels":
            wrong |= f[c].notna() & (num <= 0)
        if c == "trees":
            wrong |= f[c].notna() & (num > 1)
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            rule = "een aandeel tussen 0 en 1" if c == "trees" else ("een getal groter dan 0" if c == "levels" else "een getal ≥ 0")
            raise PlanError(f"{source}: {_label(f.iloc[i], i)} heeft {c}={f[c].iloc[i]!r}; dat moet {rule} zijn.")
        f[c] = num.astype(float)


def _check_flags(f: gpd.GeoDataFrame, source: str) -> None:
    """``public`` and ``paved`` as booleans (in place; empty: yes); a value that is not yes/no is refused."""
    for c, default in (("public", True), ("paved", True)):
        out = []
        for i, v in enumerate(f[c]):
            try:
                out.append(_truthy(v, default))
            except ValueError:
                raise PlanError(f"{source}: {_label(f.iloc[i], i)} heeft {c}={v!r}; gebruik ja/nee (yes/no, true/false).") from None
        f[c] = out


def _validate_new_attributes(f: gpd.GeoDataFrame, source: str) -> None:
    """Check facility kinds, street regimes, parking spaces, barrier heights and crown widths (Dutch errors).

    Normalises in place: ``kind`` of facilities to a ``pois.category``, ``regime`` to a key
    of :data:`REGIMES`, ``spaces``/``height``/``crown_m`` to floats.
    """
    n = _norms()
    ft = f["feature_type"].to_numpy()
    for i in np.flatnonzero(ft == "facility"):
        k = f["kind"].iloc[i]
        key = None if k is None or (isinstance(k, float) and np.isnan(k)) else str(k).strip().lower().replace(" ", "_")
        if key not in FACILITY_KINDS:
            raise PlanError(
                f"{source}: {_label(f.iloc[i], i)}: voorziening met soort (kind) {k!r} is onbekend. "
                f"Geef kind één van: {', '.join(sorted(set(FACILITY_KINDS)))}."
            )
        f.loc[f.index[i], "kind"] = FACILITY_KINDS[key]
    regs = []
    for i, v in enumerate(f["regime"]):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            regs.append("autovrij" if ft[i] == "closure" else None)
            continue
        key = str(v).strip().lower().replace(" ", "").replace("km/u", "").replace("km/h", "").replace("zone", "zone")
        key = {"30": "zone30", "zone_30": "zone30", "cyclestreet": "fietsstraat", "closed": "autovrij", "knip": "autovrij",
               "removed": "verwijderd", "weg": "verwijderd"}.get(key, key)
        if key not in REGIMES:
            raise PlanError(
                f"{source}: {_label(f.iloc[i], i)}: regime {v!r} is onbekend. Gebruik één van: {', '.join(REGIMES)}."
            )
        if ft[i] not in ("street", "path", "closure"):
            raise PlanError(f"{source}: {_label(f.iloc[i], i)}: een regime hoort bij een straat, pad of afsluiting (closure), niet bij een {ft[i]}.")
        regs.append(key)
    f["regime"] = regs
    checks = (
        ("spaces", ("parking",), 0.0, float(n["plan_max_parking_spaces"]), "een geheel aantal parkeerplaatsen ≥ 0"),
        ("height", ("noise_barrier",), 0.0, float(n["plan_max_barrier_height_m"]), "een hoogte in meter > 0"),
        ("crown_m", ("trees",), 0.0, float(n["plan_max_crown_m"]), "een kruindiameter in meter > 0"),
    )
    for c, types, lo, hi, rule in checks:
        num = pd.to_numeric(f[c], errors="coerce")
        given = f[c].notna() & (f[c].astype(str).str.strip() != "")
        wrong = given & (num.isna() | (num < lo) | (num > hi) | ~np.isfinite(num.fillna(0)))
        if c != "spaces":
            wrong |= given & (num <= 0)
        else:
            wrong |= given & (num.fillna(0) % 1 != 0)
        wrong |= given & ~np.isin(ft, types)
        if wrong.any():
            i = int(np.flatnonzero(wrong.to_numpy())[0])
            if ft[i] not in types:
                raise PlanError(f"{source}: {_label(f.iloc[i], i)}: '{c}' hoort enkel bij {', '.join(types)}, niet bij een {ft[i]}.")
            raise PlanError(f"{source}: {_label(f.iloc[i], i)} heeft {c}={f[c].iloc[i]!r}; dat moet {rule} zijn (hoogstens {hi:g}).")
        f[c] = num.astype(float)
    need = (ft == "noise_barrier") & ~np.isfinite(f["height"].to_numpy(dtype=float))
    if need.any():
        i = int(np.flatnonzero(need)[0])
        raise PlanError(f"{source}: {_label(f.iloc[i], i)}: een geluidsscherm heeft een hoogte nodig (attribuut height, in meter).")


def read_plan(path: str | os.PathLike, area: StudyArea | None = None, layer: str | None = None, name: str | None = None) -> Plan:
    """Read and validate a plan file (GeoPackage / GeoJSON / any vector format of :func:`layers.validate.read_vector`).

    Parameters
    ----------
    path : path
        The plan file.
    area : StudyArea, optional
        When given, the plan must lie inside this study area.
    layer : str, optional
        Layer of a multi-layer GeoPackage.
    name : str, optional
        Plan name (default: ``plan_name`` column, else the file stem).

    Raises
    ------
    PlanError
        Missing/unknown CRS, unreadable file, broken geometry, unknown feature_type, wrong
        values, a file over ``plan_max_file_mb``, or a plan outside the study area.
    """
    p = Path(path)
    if not p.is_file():
        raise PlanError(f"{p}: planbestand niet gevonden.")
    max_mb = float(_norms()["plan_max_file_mb"])
    size_mb = p.stat().st_size / 1e6
    if size_mb > max_mb:
        raise PlanError(f"{p}: het planbestand is {size_mb:.0f} MB, meer dan de {max_mb:.0f} MB die een plan mag zijn. Is dit het juiste bestand?")
    try:
        gdf, layer = read_layer(p, p, layer, max_unzipped_bytes=int(max_mb * 1e6))  # a zipped plan: same limit unzipped
    except InputError as exc:
        raise PlanError(f"{exc} Is een geometrie stuk (bv. een ring met minder dan 4 punten)?") from exc
    if name is None and "plan_name" not in {c.lower() for c in gdf.columns}:
        name = p.stem
    return plan_from_frame(gdf, name=name, source=p.name, area=area)


def check_plan_in_area(plan: Plan, area: StudyArea) -> None:
    """Raise :class:`PlanError` when a plan feature lies entirely outside the study area."""
    if not area.has("boundary"):
        raise PlanError(f"Studiegebied '{area.name}' heeft geen grens: waar het plan ligt, kan niet nagegaan worden.")
    bnd = shapely.union_all(area.boundary.geometry.values)
    inside = shapely.intersects(plan.features.geometry.values, bnd)
    if not inside.all():
        out = np.flatnonzero(~inside)
        i = int(out[0])
        b = plan.features.total_bounds
        ab = area.boundary.total_bounds
        raise PlanError(
            f"{plan.source}: {len(out)} van de {len(plan.features)} planobjecten liggen buiten het studiegebied '{area.name}' "
            f"(eerste: {_label(plan.features.iloc[i], i)}; plan x {b[0]:.0f}–{b[2]:.0f}, y {b[1]:.0f}–{b[3]:.0f} in {area.crs}, "
            f"studiegebied x {ab[0]:.0f}–{ab[2]:.0f}, y {ab[1]:.0f}–{ab[3]:.0f}). Is het plan voor deze stad, en klopt het coördinatenstelsel?"
        )


# --------------------------------------------------------------------------------------------
# applying a plan
# --------------------------------------------------------------------------------------------


def plan_streets(plan: Plan) -> gpd.GeoDataFrame:
    """Street/path plan features as street edges with model tags (defaults from mode and norms).

    Computed once per plan (the plan's features are not meant to be edited in place; build a
    new :class:`Plan` with :func:`plan_from_frame` instead).
    """
    if "streets" not in plan._cache:
        plan._cache["streets"] = _plan_streets(plan)
    return plan._cache["streets"].copy()


def _plan_streets(plan: Plan) -> gpd.GeoDataFrame:
    norms = _norms()
    s = plan.of_type("street", "path", "closure").copy()
    if len(s) == 0:
        return gpd.GeoDataFrame({t: pd.Series(dtype=object) for t in STREET_TAGS}, geometry=gpd.GeoSeries([], crs=plan.features.crs), crs=plan.features.crs)
    s = s.explode(index_parts=False).reset_index(drop=True)
    mode = s["mode"].astype("object").fillna("").astype(str).str.lower().str.replace(" ", "")
    hw = s["highway"].astype("object")
    is_path = s["feature_type"] == "path"
    default_path = np.where(mode.isin(["walk", "foot"]), "footway", np.where(mode.isin(["bike", "bicycle"]), "cycleway", "path"))
    default = np.where(is_path, default_path, np.where(mode.isin(["bike", "bicycle"]), "cycleway", "residential"))
    s["highway"] = [h if h is not None and str(h).strip() not in ("", "nan") else d for h, d in zip(hw, default)]
    # a closure only changes the street it lies over: it keeps that street's class
    s.loc[(s["feature_type"] == "closure").to_numpy() & hw.isna().to_numpy(), "highway"] = None
    both = mode.isin(["bike+walk", "walk+bike", "foot+bike", "bike+foot"]).to_numpy()
    s.loc[both & s["foot"].isna().to_numpy(), "foot"] = "designated"
    s.loc[both & s["bicycle"].isna().to_numpy(), "bicycle"] = "designated"
    cyc = s["cyclestreet"].astype("object").map(lambda v: None if v is None else _tagstr(v))
    s["cyclestreet"] = cyc
    fs = (cyc == "yes").to_numpy() & s["maxspeed"].isna().to_numpy()
    s.loc[fs, "maxspeed"] = str(norms["fietsstraat_maxspeed"])
    # a regime overrides the tags it concerns (zone30, fietsstraat, 50, 70, autovrij)
    for i, reg in enumerate(s["regime"].to_numpy()):
        for tag, val in REGIMES.get(reg, {}).items() if isinstance(reg, str) else ():
            s.loc[s.index[i], tag] = val
    for t in STREET_TAGS:
        if t in s:
            s[t] = s[t].map(_tagstr).astype("object")
    return gpd.GeoDataFrame(s, geometry="geometry", crs=plan.features.crs)


def _tagstr(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    if s.lower() in {"true", "ja"}:
        return "yes"
    if s.lower() in {"false", "nee"}:
        return "no"
    return s if s and s.lower() not in {"nan", "none", "null"} else None


def plan_footprint(plan: Plan) -> shapely.Geometry:
    """Union of the plan's polygons and its street/path lines buffered by their paved width (cached per plan)."""
    if "footprint" not in plan._cache:
        plan._cache["footprint"] = _plan_footprint(plan)
    return plan._cache["footprint"]


def _plan_footprint(plan: Plan) -> shapely.Geometry:
    polys = plan.features[plan.features.geom_type.isin(list(_POLY))].geometry.values
    lines = plan.features[plan.features.geom_type.isin(list(_LINE))]
    parts = list(polys)
    if len(lines):
        st = plan_streets(plan) if len(plan.of_type("street", "path", "closure")) else None
        if st is not None and len(st):
            parts += list(st.geometry.buffer(lcm.street_width_m(st) / 2.0, cap_style="flat").values)
        water_lines = lines[lines["feature_type"] == "water"]
        parts += list(water_lines.geometry.buffer(_water_line_width_m(water_lines) / 2.0).values)
        parts += list(_tree_shapes(lines[lines["feature_type"] == "trees"]).values)
        parts += list(lines[lines["feature_type"] == "noise_barrier"].geometry.buffer(0.5).values)
    pts = plan.features[plan.features.geom_type.isin(list(_POINT))]
    parts += list(pts.geometry.buffer(1.0).values)
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _tree_shapes(trees: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Canopy of plan trees: polygons as drawn, tree rows (lines) buffered by half their crown diameter."""
    if len(trees) == 0:
        return gpd.GeoSeries([], crs=trees.crs)
    crown = trees["crown_m"].to_numpy(dtype=float)
    crown = np.where(np.isfinite(crown) & (crown > 0), crown, float(_norms()["plan_tree_row_crown_m"]))
    line = trees.geom_type.isin(list(_LINE)).to_numpy()
    geoms = np.asarray(trees.geometry.values, dtype=object).copy()
    geoms[line] = shapely.buffer(geoms[line], crown[line] / 2.0)
    return gpd.GeoSeries(geoms, index=trees.index, crs=trees.crs)


def _water_line_width_m(water: gpd.GeoDataFrame) -> np.ndarray:
    """Width of plan water lines: the numeric ``width`` attribute, else ``plan_water_line_width_m``."""
    default = float(_norms()["plan_water_line_width_m"])
    w = np.array([lcm._parse_width(v) for v in water["width"]], dtype=float) if "width" in water else np.full(len(water), np.nan)
    return np.where(np.isfinite(w) & (w > 0), w, default)


def _covered_share(geoms: np.ndarray, cover: shapely.Geometry) -> np.ndarray:
    """Share of each geometry's area (polygons) or length (lines) inside ``cover``.

    ``cover`` is a union (its parts do not overlap), so the covered area or length is the sum over
    the parts each geometry meets (found with an STRtree): a plan of 20,000 buildings costs
    (geometries x parts they touch), not geometries x every vertex of the plan (issue 12).
    """
    if len(geoms) == 0 or cover is None or cover.is_empty:
        return np.zeros(len(geoms))
    poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    parts = shapely.get_parts(cover)
    if len(parts) <= 1:
        inter = shapely.intersection(geoms, cover)
        num = np.where(poly, shapely.area(inter), shapely.length(inter))
    else:
        gi, pi = shapely.STRtree(parts).query(geoms, predicate="intersects")
        inter = shapely.intersection(geoms[gi], parts[pi])
        num = np.zeros(len(geoms))
        np.add.at(num, gi, np.where(poly[gi], shapely.area(inter), shapely.length(inter)))
    den = np.where(poly, shapely.area(geoms), shapely.length(geoms))
    return np.divide(num, den, out=np.zeros(len(geoms)), where=den > 0)


@dataclass
class AppliedPlan:
    """What :func:`apply_plan` did (goes into the manifest and the report)."""

    buildings_added: int = 0
    buildings_removed: int = 0
    residents_added: float = 0.0
    residents_removed: float = 0.0
    dwellings_added: float = 0.0
    residents_estimated_from_floor_area: int = 0
    green_added_m2: float = 0.0
    green_public_added_m2: float = 0.0
    green_removed_m2: float = 0.0
    street_edges_changed: int = 0
    street_edges_removed: int = 0
    street_length_added_m: float = 0.0
    street_ends_snapped: int = 0
    parking_added_m2: float = 0.0
    parking_spaces_added: float = 0.0
    landuse_replaced_m2: float = 0.0
    facilities_added: int = 0
    tree_canopy_added_m2: float = 0.0
    noise_barrier_m: float = 0.0
    water_added_m2: float = 0.0
    wadi_added_m2: float = 0.0
    landcover_cells_changed: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = {k: (round(float(v), 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        return d


def apply_plan(area: StudyArea, plan: Plan) -> StudyArea:
    """Apply ``plan`` to a copy of ``area`` and return the new study area (``area`` is untouched).

    Buildings, green, parking and demolitions edit the vector themes; streets and paths are
    added to the network (noded at every crossing with existing streets, ends within
    ``street_snap_tolerance_m`` connected) or, where they lie over an existing street, change
    its tags; the land-cover raster is re-burned only inside the plan footprint. The manifest
    gets a ``plan`` entry with the counts of :class:`AppliedPlan`.

    Raises
    ------
    PlanError
        When the plan lies outside the study area.
    """
    check_plan_in_area(plan, area)
    norms = _norms()
    out = area.copy()
    rep = AppliedPlan()
    demo = plan.of_type("demolition")
    demo_u = shapely.union_all(demo.geometry.values) if len(demo) else shapely.Polygon()
    removed_b = _apply_buildings(out, plan, demo_u, norms, rep)
    _update_wijk_residents(out, removed_b, rep)
    _apply_green(out, plan, demo_u, rep)
    _apply_water(out, plan.of_type("water"), rep)
    _apply_landuse(out, plan, rep)
    _apply_facilities(out, plan.of_type("facility"), rep)
    nb = plan.of_type("noise_barrier")
    rep.noise_barrier_m = float(nb.geometry.length.sum()) if len(nb) else 0.0
    tr = plan.of_type("trees")
    rep.tree_canopy_added_m2 = float(_tree_shapes(tr).area.sum()) if len(tr) else 0.0
    removed_streets = _apply_streets(out, plan, demo_u, norms, rep)
    if out.landcover is not None:
        rep.landcover_cells_changed = _reburn_landcover(out, plan, demo_u, removed_b, removed_streets)
    _record_plan_in_manifest(out, plan, rep)
    return out


def _next_id(frame: pd.DataFrame, column: str) -> int:
    """The first free integer id after the largest numeric value of ``column`` (0 when there is none)."""
    ids = pd.to_numeric(frame[column], errors="coerce") if len(frame) else None
    return int(ids.max()) + 1 if ids is not None and ids.notna().any() else 0


def _added_rows(theme: pd.DataFrame, id_col: str, feats: gpd.GeoDataFrame, columns: dict[str, Any], crs: str,
                geometry: Any = None) -> gpd.GeoDataFrame:
    """New rows of a theme from plan features: fresh ids after the theme's largest, ``columns``, the
    features' ``plan_fid`` and their geometry (or ``geometry``)."""
    start = _next_id(theme, id_col)
    return gpd.GeoDataFrame(
        {id_col: np.arange(start, start + len(feats), dtype=np.int64), **columns, "plan_fid": feats["plan_fid"].to_numpy()},
        geometry=feats.geometry.values if geometry is None else geometry,
        crs=crs,
    )


def _apply_buildings(out: StudyArea, plan: Plan, demo_u: shapely.Geometry, norms: dict[str, Any], rep: AppliedPlan) -> gpd.GeoDataFrame:
    """Remove buildings mostly covered by the plan's polygons, add the plan's buildings; return the removed ones."""
    new_b = plan.of_type("building")
    b = out.themes["buildings"]
    removed_b = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=out.crs), crs=out.crs)
    clearing = [plan.of_type(t).geometry.values for t in ("building", "parking", "water", "wadi", "green", "paving")]
    clear = shapely.union_all([demo_u, *(g for values in clearing for g in values)])
    if len(b) and not clear.is_empty:
        cand = b.sindex.query(clear, predicate="intersects")
        sh = np.zeros(len(b))
        sh[cand] = _covered_share(np.asarray(b.geometry.values[cand], dtype=object), clear)
        gone = sh >= float(norms["demolition_cover_share"])
        removed_b = b[gone]
        rep.buildings_removed = int(gone.sum())
        rep.residents_removed = float(pd.to_numeric(removed_b["residents"], errors="coerce").fillna(0).sum())
        b = b[~gone]
    if len(new_b):
        b = pd.concat([b, _new_buildings(out, new_b, _next_id(b, "building_id"), norms, rep)], ignore_index=True)
    out.themes["buildings"] = conform_theme("buildings", gpd.GeoDataFrame(b, geometry="geometry", crs=out.crs))
    return removed_b


def _new_buildings(out: StudyArea, new_b: gpd.GeoDataFrame, start: int, norms: dict[str, Any], rep: AppliedPlan) -> gpd.GeoDataFrame:
    """The plan's buildings as rows of the buildings theme: residents given, from dwellings, or estimated from floor area."""
    nb = new_b.reset_index(drop=True)
    hh = float(norms["household_size"])
    use = nb["use"].astype("object").fillna("residential").astype(str).str.lower()
    res = nb["residents"].to_numpy(dtype=float)
    dw = nb["dwellings"].to_numpy(dtype=float)
    from_dw = ~np.isfinite(res) & np.isfinite(dw)
    res = np.where(from_dw, dw * hh, res)
    est = ~np.isfinite(res)
    if est.any():
        tmp = gpd.GeoDataFrame({"levels": nb["levels"], "use": use}, geometry=nb.geometry.values, crs=out.crs)
        res = np.where(est, estimate_building_residents(tmp), res)
        rep.residents_estimated_from_floor_area = int((est & use.isin(RESIDENTIAL_USES | {"residential"}).to_numpy()).sum())
    add = gpd.GeoDataFrame(
        {
            "building_id": np.arange(start, start + len(nb), dtype=np.int64),
            "use": use.to_numpy(),
            "levels": nb["levels"].to_numpy(dtype=float),
            "residents": res,
            "plan_fid": nb["plan_fid"].to_numpy(),
        },
        geometry=nb.geometry.values,
        crs=out.crs,
    )
    rep.buildings_added = len(add)
    rep.residents_added = float(np.nansum(res))
    rep.dwellings_added = float(np.nansum(dw))
    return add


def _update_wijk_residents(out: StudyArea, removed_b: gpd.GeoDataFrame, rep: AppliedPlan) -> None:
    """Add the new buildings' residents to their wijk and take the removed ones' away."""
    w = out.themes["wijken"]
    if not (len(w) and (rep.buildings_added or rep.buildings_removed)):
        return
    allb = out.themes["buildings"]
    added_b = allb[allb["plan_fid"].notna()] if "plan_fid" in allb else allb.iloc[0:0]
    delta = np.zeros(len(w))
    tree = shapely.STRtree(w.geometry.values)
    for frame, sign in ((removed_b, -1.0), (added_b, 1.0)):
        if len(frame) == 0:
            continue
        wi = tree.query_nearest(frame.geometry.representative_point().values, all_matches=False)[1]
        np.add.at(delta, wi, sign * pd.to_numeric(frame["residents"], errors="coerce").fillna(0).to_numpy())
    w = w.copy()
    w["residents"] = pd.to_numeric(w["residents"], errors="coerce").fillna(0).to_numpy() + delta
    out.themes["wijken"] = w
    rep.notes.append("Nieuwe bewoners zijn bij de bewoners van hun wijk opgeteld; de leeftijdsopbouw van de wijk is ongewijzigd verondersteld.")


def _apply_green(out: StudyArea, plan: Plan, demo_u: shapely.Geometry, rep: AppliedPlan) -> None:
    """Cut green under hard surfaces of the plan (demolition, buildings, parking, paving); add the plan's green."""
    g = out.themes["green"]
    green = plan.of_type("green")
    hard = shapely.union_all([demo_u, *(geom for t in ("building", "parking", "paving") for geom in plan.of_type(t).geometry.values)])
    if len(g) and not hard.is_empty:
        geoms = np.asarray(g.geometry.values, dtype=object)
        hit = shapely.intersects(geoms, hard)
        if hit.any():
            before_a = shapely.area(geoms[hit])
            rest = shapely.difference(geoms[hit], hard)
            rest = np.where(shapely.area(rest) < 1.0, None, rest)
            new_geoms = geoms.copy()
            new_geoms[hit] = rest
            rep.green_removed_m2 = float(before_a.sum() - shapely.area(np.asarray([r for r in rest if r is not None], dtype=object)).sum())
            g = g.copy()
            g["geometry"] = gpd.GeoSeries(new_geoms, index=g.index, crs=out.crs)
            g = g[g.geometry.notna()]
            g["area_m2"] = g.geometry.area.round(1)
    if len(green):
        kind = green["kind"].astype("object").fillna("park").astype(str).str.lower()
        trees = np.where(kind == "wood", 1.0, green["trees"].to_numpy(dtype=float))
        add = _added_rows(g, "green_id", green, {
            "kind": kind.to_numpy(), "name": green["name"].to_numpy(), "public": np.asarray(green["public"], dtype=bool),
            "area_m2": green.geometry.area.round(1).to_numpy(), "tree_cover": trees,
        }, out.crs)
        rep.green_added_m2 = float(add["area_m2"].sum())
        rep.green_public_added_m2 = float(add.loc[add["public"], "area_m2"].sum())
        g = pd.concat([g, add], ignore_index=True)
    out.themes["green"] = conform_theme("green", gpd.GeoDataFrame(g, geometry="geometry", crs=out.crs))


def _apply_water(out: StudyArea, water: gpd.GeoDataFrame, rep: AppliedPlan) -> None:
    """Add the plan's ponds to the water theme."""
    if not len(water):
        return
    wt = out.themes["water"]
    add = _added_rows(wt, "water_id", water, {
        "kind": np.full(len(water), "pond", dtype=object), "name": water["name"].to_numpy(), "width": water["width"].to_numpy(),
    }, out.crs)
    rep.water_added_m2 = float(add.geometry.area.sum())
    out.themes["water"] = conform_theme("water", gpd.GeoDataFrame(pd.concat([wt, add], ignore_index=True), geometry="geometry", crs=out.crs))


def _apply_landuse(out: StudyArea, plan: Plan, rep: AppliedPlan) -> None:
    """Replace land use under the plan's polygons, add wadis and parking, clip developed brownfield."""
    lu = _replace_landuse(out.themes["landuse"], plan, out.crs, rep)
    wadi = plan.of_type("wadi")
    if len(wadi):
        # A wadi is a vegetated infiltration basin, dry most of the time: it is land use
        # ("other", named wadi) burned as low green, not open water (the water layer would treat
        # a water-theme feature as open water with all rain running off). Its storage volume is
        # not modelled by the curve-number runoff.
        add = _added_rows(lu, "landuse_id", wadi, {
            "kind": np.full(len(wadi), "other", dtype=object), "name": [f"wadi: {n}" if n is not None else "wadi" for n in wadi["name"]],
        }, out.crs)
        rep.wadi_added_m2 = float(add.geometry.area.sum())
        rep.notes.append("Wadi's zijn als begroeide infiltratiezone (laag groen) gemodelleerd; hun bergingsvolume zit niet in de afstromingsberekening.")
        lu = pd.concat([lu, add], ignore_index=True)
    parking = plan.of_type("parking")
    if len(parking):
        paved = parking[np.asarray(parking["paved"], dtype=bool)]
        rep.parking_added_m2 = float(paved.geometry.area.sum())
        rep.parking_spaces_added = float(np.nansum(parking["spaces"].to_numpy(dtype=float)))
        add = _added_rows(lu, "landuse_id", parking, {
            "kind": np.where(np.asarray(parking["paved"], dtype=bool), "parking", "other"), "name": parking["name"].to_numpy(),
        }, out.crs)
        lu = pd.concat([lu, add], ignore_index=True)
    lu = _clip_developed_land(lu, plan_footprint(plan), out.crs)
    out.themes["landuse"] = conform_theme("landuse", gpd.GeoDataFrame(lu, geometry="geometry", crs=out.crs))


def _replace_landuse(lu: gpd.GeoDataFrame, plan: Plan, crs: str, rep: AppliedPlan) -> gpd.GeoDataFrame:
    """Existing land use under a plan polygon is replaced (car park -> park, ...) or removed (demolition)."""
    f = plan.features
    polys = f[f.geom_type.isin(list(_POLY)) & f["feature_type"].isin(["building", "green", "parking", "water", "wadi", "demolition", "paving", "facility"])]
    repl = shapely.union_all([*polys.geometry.values])
    if not len(lu) or repl.is_empty:
        return lu
    geoms = np.asarray(lu.geometry.values, dtype=object)
    hit = shapely.intersects(geoms, repl)
    if not hit.any():
        return lu
    a0 = float(shapely.area(geoms[hit]).sum())
    geoms = geoms.copy()
    geoms[hit] = shapely.difference(geoms[hit], repl)
    rep.landuse_replaced_m2 = a0 - float(shapely.area(geoms[hit]).sum())
    lu = lu.copy()
    lu["geometry"] = gpd.GeoSeries(geoms, index=lu.index, crs=crs)
    return lu[~lu.geometry.is_empty & (lu.geometry.area >= 1.0)]


def _clip_developed_land(lu: gpd.GeoDataFrame, fp: shapely.Geometry, crs: str) -> gpd.GeoDataFrame:
    """Brownfield / construction land covered by the plan is developed: clip it out."""
    kinds = lu["kind"].astype("object").fillna("").to_numpy()
    dev = np.isin(kinds, ["brownfield", "construction"])
    if not dev.any() or fp.is_empty:
        return lu
    geoms = np.asarray(lu.geometry.values, dtype=object)
    geoms[dev] = shapely.difference(geoms[dev], fp)
    lu = lu.copy()
    lu["geometry"] = gpd.GeoSeries(geoms, index=lu.index, crs=crs)
    return lu[~lu.geometry.is_empty]


def _apply_facilities(out: StudyArea, fac: gpd.GeoDataFrame, rep: AppliedPlan) -> None:
    """Add the plan's facilities to the points of interest (a polygon as a point on its surface)."""
    if not len(fac):
        return
    po = out.themes["pois"]
    add = _added_rows(po, "poi_id", fac, {
        "category": fac["kind"].to_numpy(), "subtype": fac["kind"].to_numpy(), "name": fac["name"].to_numpy(),
    }, out.crs, geometry=shapely.point_on_surface(np.asarray(fac.geometry.values, dtype=object)))
    rep.facilities_added = int(len(add))
    out.themes["pois"] = conform_theme("pois", gpd.GeoDataFrame(pd.concat([po, add], ignore_index=True), geometry="geometry", crs=out.crs), crs=out.crs)


def _record_plan_in_manifest(out: StudyArea, plan: Plan, rep: AppliedPlan) -> None:
    """The manifest's ``plan`` entry (name, source, counts, effects) and the changed themes' counts and notes."""
    out.manifest["plan"] = {
        "name": plan.name,
        "source": plan.source,
        "applied": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "features": plan.counts(),
        "repairs": dict(plan.repairs),
        "effects": rep.to_dict(),
        "bounds": [float(x) for x in plan.features.total_bounds],
    }
    for t in ("buildings", "green", "streets", "water", "landuse", "wijken", "pois"):
        info = out.manifest["themes"].setdefault(t, {})
        info["count"] = int(len(out.themes[t]))
        if info["count"]:
            # a theme that was missing holds only the plan's features now: partial, never "present"
            # (an indicator keeps one definition before and after; see screening.compare.indicator_status)
            info["status"] = info.get("status") if info.get("status") not in (None, "missing") else "partial"
        note = info.get("note", "")
        if "plan" not in note.lower() or plan.name not in note:
            info["note"] = (note + " " if note else "") + f"Met plan '{plan.name}' toegepast."


def _apply_streets(out: StudyArea, plan: Plan, demo_u: shapely.Geometry, norms: dict[str, Any], rep: AppliedPlan) -> gpd.GeoDataFrame:
    """Edit the street network of ``out`` in place; return the removed edges (for the raster)."""
    s = out.themes["streets"]
    ps = plan_streets(plan)
    removed = s.iloc[0:0]
    share = float(norms["demolition_cover_share"])
    if len(s) and not demo_u.is_empty:
        cand = s.sindex.query(demo_u, predicate="intersects")
        sh = np.zeros(len(s))
        sh[cand] = _covered_share(np.asarray(s.geometry.values[cand], dtype=object), demo_u)
        gone = sh >= share
        removed = s[gone]
        rep.street_edges_removed = int(gone.sum())
        s = s[~gone]
    if len(ps) == 0:
        if rep.street_edges_removed:
            out.themes["streets"] = finalize_streets(s.drop(columns=["u", "v", "edge_id", "length_m"], errors="ignore"))
        return removed
    tol = float(norms["street_cover_tolerance_m"])
    snap = float(norms["street_snap_tolerance_m"])
    s = s.copy().reset_index(drop=True)
    tags = [t for t in STREET_TAGS if t in ps.columns and t != "name"]  # an existing street keeps its name
    new_parts: list[tuple[shapely.Geometry, int]] = []
    changed = np.zeros(len(s), dtype=bool)
    drop = np.zeros(len(s), dtype=bool)
    for j in range(len(ps)):
        line = ps.geometry.iloc[j]
        buf = line.buffer(tol, cap_style="flat")
        cand = s.sindex.query(buf, predicate="intersects") if len(s) else np.zeros(0, dtype=int)
        covered = cand[shapely.covered_by(np.asarray(s.geometry.values[cand], dtype=object), line.buffer(tol))] if len(cand) else cand
        remove = ps["regime"].iloc[j] == "verwijderd"
        if len(covered):
            if remove:
                drop[covered] = True
            else:
                for t in tags:
                    v = _tagstr(ps[t].iloc[j])
                    if v is not None:
                        s.loc[covered, t] = v
                changed[covered] = True
            rest = line.difference(shapely.union_all(s.geometry.values[covered]).buffer(tol))
        else:
            rest = line
        if remove or ps["feature_type"].iloc[j] == "closure":
            # closures and removals act on existing streets only; nothing is added
            if not len(covered):
                rep.notes.append(f"Afsluiting/verwijdering '{ps['name'].iloc[j] or j}' ligt niet over een bestaande straat en heeft geen effect.")
            continue
        for part in shapely.get_parts(rest):
            if part.geom_type == "LineString" and part.length > tol:
                new_parts.append((part, j))
    rep.street_edges_changed = int((changed & ~drop).sum())
    if drop.any():
        removed = pd.concat([removed, s[drop]], ignore_index=True)
        rep.street_edges_removed += int(drop.sum())
        s = s[~drop].reset_index(drop=True)
    if not new_parts:
        out.themes["streets"] = finalize_streets(s.drop(columns=["u", "v", "edge_id", "length_m"], errors="ignore"))
        return removed
    new = ps.iloc[[j for _, j in new_parts]].copy().reset_index(drop=True)
    new["geometry"] = gpd.GeoSeries([g for g, _ in new_parts], crs=out.crs).values
    new = gpd.GeoDataFrame(new, geometry="geometry", crs=out.crs)
    # connect loose ends within the snap tolerance: split the existing edge at the projection
    s, new, n_snapped = _snap_ends(s, new, snap)
    rep.street_ends_snapped = n_snapped
    rep.street_length_added_m = float(new.length.sum())
    # node new lines with the existing edges they cross (only those edges are re-noded)
    region = buffer_union(shapely.union_all(new.geometry.values), 0.5)
    touch = s.sindex.query(region, predicate="intersects") if len(s) else np.zeros(0, dtype=int)
    keep_mask = np.ones(len(s), dtype=bool)
    keep_mask[touch] = False
    keep_cols = [c for c in s.columns if c not in ("u", "v", "edge_id", "length_m")]
    local = pd.concat([s.iloc[touch][keep_cols], new[[c for c in keep_cols if c in new.columns]]], ignore_index=True)
    local = gpd.GeoDataFrame(local, geometry="geometry", crs=out.crs)
    noded = node_at_intersections(local)
    allst = pd.concat([s[keep_mask][keep_cols], noded], ignore_index=True)
    out.themes["streets"] = finalize_streets(gpd.GeoDataFrame(allst, geometry="geometry", crs=out.crs))
    return removed


def _snap_ends(s: gpd.GeoDataFrame, new: gpd.GeoDataFrame, snap_m: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, int]:
    """Move plan-line ends lying within ``snap_m`` of an existing edge (but not on it) onto that edge.

    The existing edge is split at the projection point so the new end becomes a shared node.
    Ends already on an existing edge's interior are split there too.
    """
    if len(s) == 0:
        return s, new, 0
    tree = shapely.STRtree(s.geometry.values)
    geoms = list(new.geometry.values)
    splits: dict[int, list[float]] = {}
    n = 0
    node_pts = shapely.get_coordinates(shapely.boundary(np.asarray(s.geometry.values, dtype=object)))
    for k, g in enumerate(geoms):
        coords = np.asarray(g.coords)
        for end in (0, -1):
            pt = shapely.Point(coords[end])
            (_, ei), d = tree.query_nearest([pt], max_distance=snap_m, return_distance=True, all_matches=False)
            if len(ei) == 0:
                continue
            e = int(ei[0])
            edge = s.geometry.values[e]
            t = edge.project(pt)
            proj = edge.interpolate(t)
            # prefer an existing node when one is within the snap distance
            dn = np.hypot(node_pts[:, 0] - pt.x, node_pts[:, 1] - pt.y) if len(node_pts) else np.array([np.inf])
            if dn.min() <= snap_m:
                target = node_pts[int(np.argmin(dn))]
            else:
                target = np.array([proj.x, proj.y])
                if 0 < t < edge.length:
                    splits.setdefault(e, []).append(t)
            if np.hypot(*(coords[end] - target)) > 0:
                coords[end] = target
            n += 1
        geoms[k] = shapely.LineString(coords)
    new = new.copy()
    new["geometry"] = gpd.GeoSeries(geoms, index=new.index, crs=s.crs)
    if splits:
        rows = []
        drop = []
        for e, ts in splits.items():
            edge = s.geometry.values[e]
            cuts = [0.0, *sorted(set(ts)), edge.length]
            for a, c in zip(cuts[:-1], cuts[1:]):
                if c - a > 1e-6:
                    r = s.iloc[e].copy()
                    r["geometry"] = substring(edge, a, c)
                    rows.append(r)
            drop.append(e)
        s = pd.concat([s.drop(index=s.index[drop]), gpd.GeoDataFrame(rows, geometry="geometry", crs=s.crs)], ignore_index=True)
        s = gpd.GeoDataFrame(s, geometry="geometry", crs=s.crs)
    return s, new, n


def _reburn_landcover(out: StudyArea, plan: Plan, demo_u: shapely.Geometry, removed_b: gpd.GeoDataFrame, removed_s: gpd.GeoDataFrame) -> int:
    """Burn the plan into ``out.landcover`` inside the plan footprint only; return cells changed.

    Why hand-burned with rasterio instead of re-running :func:`gezondestad.model.landcover.rasterize_landcover`
    on a window: the existing raster may come from a land-cover map rather than from the
    vector themes, so only cells the plan touches may change. The burn order is the one of
    ``rasterize_landcover`` (low green < bare < trees < paved < water < building); cleared
    ground (demolished buildings and streets not covered by a plan feature) becomes bare soil.
    """
    lc = out.landcover
    assert lc is not None
    fp = plan_footprint(plan)
    cleared = [demo_u, *removed_b.geometry.values, *removed_s.geometry.buffer(lcm.street_width_m(removed_s) / 2.0, cap_style="flat").values] if len(removed_s) else [demo_u, *removed_b.geometry.values]
    region = shapely.union_all([fp, *cleared])
    if region.is_empty:
        return 0
    h, w = lc.shape
    minx, miny, maxx, maxy = region.bounds
    win = rwindows.from_bounds(minx, miny, maxx, maxy, transform=lc.transform).round_offsets(op="floor").round_lengths(op="ceil")
    col0, row0 = max(0, int(win.col_off) - 1), max(0, int(win.row_off) - 1)
    col1, row1 = min(w, int(win.col_off + win.width) + 2), min(h, int(win.row_off + win.height) + 2)
    if col1 <= col0 or row1 <= row0:
        return 0
    window = rwindows.Window(col0, row0, col1 - col0, row1 - row0)
    tr = rwindows.transform(window, lc.transform)
    old = lc.classes[row0:row1, col0:col1].copy()
    arr = old.copy()
    shapes: list[tuple[object, int]] = []
    shapes += [(g, lcm.BARE) for g in cleared if g is not None and not g.is_empty]
    green = plan.of_type("green")
    if len(green):
        kinds = green["kind"].astype("object").fillna("park").astype(str).str.lower()
        trees = green["trees"].to_numpy(dtype=float)
        cls = [lcm.TREES if (k == "wood" or (np.isfinite(t) and t >= 0.5)) else lcm.GREEN_KIND_TO_CLASS.get(k, lcm.LOW_GREEN) for k, t in zip(kinds, trees)]
        shapes += [(g, c) for g, c in zip(green.geometry.values, cls) if c == lcm.LOW_GREEN]
        shapes += [(g, c) for g, c in zip(green.geometry.values, cls) if c == lcm.TREES]
    wadi = plan.of_type("wadi")
    # a wadi is a vegetated basin: low green, except its permanent water is drawn as water
    shapes += [(g, lcm.LOW_GREEN) for g in wadi.geometry.values]
    shapes += [(g, lcm.PAVED) for g in plan.of_type("paving").geometry.values]
    st = plan_streets(plan)
    res_m = lc.resolution_m
    if len(st):
        sw = lcm.street_width_m(st)
        shapes += [(g, lcm.PAVED) for g in st.geometry.buffer(sw / 2.0, cap_style="flat").values]
        # as gezondestad.model.landcover.rasterize_landcover: streets of at least half a cell wide also burn
        # their centre line, so a street on a cell edge does not vanish
        shapes += [(g, lcm.PAVED) for g in st.geometry.values[sw >= res_m / 2.0]]
    park = plan.of_type("parking")
    shapes += [(g, lcm.PAVED if p else lcm.BARE) for g, p in zip(park.geometry.values, park["paved"])]
    # planted trees: canopy seen from above covers the pavement under it (not buildings or water)
    shapes += [(g, lcm.TREES) for g in _tree_shapes(plan.of_type("trees")).values]
    wat = plan.of_type("water")
    wat_w = _water_line_width_m(wat)
    shapes += [(g if g.geom_type in _POLY else g.buffer(w / 2.0), lcm.WATER) for g, w in zip(wat.geometry.values, wat_w)]
    shapes += [(g, lcm.WATER) for g, w in zip(wat.geometry.values, wat_w) if g.geom_type in _LINE and w >= res_m / 2.0]
    shapes += [(g, lcm.BUILDING) for g in plan.of_type("building").geometry.values]
    shapes = [(g, int(c)) for g, c in shapes if g is not None and not g.is_empty]
    if not shapes:
        return 0
    rfeatures.rasterize(shapes, out=arr, transform=tr, dtype="uint8")
    arr[old == lcm.NODATA] = lcm.NODATA  # never burn outside the study area
    lc.classes[row0:row1, col0:col1] = arr
    out.landcover = LandCover(lc.classes, lc.transform, lc.resolution_m, lc.crs)
    return int((arr != old).sum())


def plan_area(plan: Plan, buffer_m: float | None = None) -> gpd.GeoDataFrame:
    """The plan area as one polygon row, for zone statistics.

    The union of the plan's features (its footprint) buffered by ``plan_zone_buffer_m``
    (data/norms/screening.toml): the plan and the homes directly around it. Not the convex
    hull: a plan with two distant parts gives two parts, not the wedge between them.
    """
    d = float(buffer_m if buffer_m is not None else _norms()["plan_zone_buffer_m"])
    fp = plan_footprint(plan)
    return gpd.GeoDataFrame({"zone": ["plan"]}, geometry=[buffer_union(fp, d) if not fp.is_empty else fp], crs=plan.features.crs)


__all__ = [
    "FEATURE_TYPES",
    "PLAN_COLUMNS",
    "Plan",
    "PlanError",
    "AppliedPlan",
    "read_plan",
    "plan_from_frame",
    "check_plan_in_area",
    "apply_plan",
    "plan_streets",
    "plan_footprint",
    "plan_area",
]
