"""Before/after screening of a plan on every indicator, for the plan area, its surroundings and the city.

:func:`screen` applies a plan to a copy of the study area (:func:`screening.plan.apply_plan`),
runs every indicator family on the situation before and after, and reports per indicator and
zone the value before, after, the difference, whether that is *better*, *worse* or *neutral*
(each indicator declares whether higher is better), and who is affected.

Zones
-----
``plan``      the plan area: the union of the plan's features buffered by ``plan_zone_buffer_m``
              (data/norms/screening.toml), clipped to the study area (not their convex hull);
``omgeving``  the wijken intersecting a buffer of ``surroundings_buffer_m`` around it;
``stad``      the whole study area.

Zone values are computed from the finest level an indicator family gives: per raster cell
(heat index, runoff: mean over the zone's cells), per home (green access, stress-free cycling
reach, ...: resident-weighted mean or share over the zone's homes), per street segment (LTS:
length-weighted share over the segments whose midpoint lies in the zone), or per wijk when a
family only reports wijk values (resident-weighted over the zone's wijken; undefined for the
plan area).

Who is affected (existing, new, removed residents)
-------------------------------------------------
Zone means mix the change for people who live there with the arrival and departure of people.
So every per-home indicator is split three ways (:func:`compare_situations`): the **existing
residents** (homes present before and after, matched by building id: how many residents are
better or worse off beyond a tolerance, and their mean change), the **new residents** (the
share of them meeting the indicator's norm) and the **removed residents** (displacement, with
65+ and 0-5 from each home's own wijk). Lights (:func:`light`) come from the first two only.
Homes are buildings with residents (> 0); a building without residents is no home.

Unknown is unknown
------------------
An indicator built on a theme that is missing or partial before *or* after the plan
(:func:`indicator_status`; a land-cover raster is partial when the buildings, green or streets
it is rasterised from are) is ``onbekend``: no number, no light, with the reason. A theme the
plan adds to an area that had none stays partial (screening.plan), so an indicator keeps one
definition before and after (STOP P is not computed without land use, whatever a plan adds).
Accessibility indicators are unknown in a zone where more than ``unknown_segment_max_share`` of
the walkable length has an unknown verdict.

Heat is reported in °C on the design hot day (``heat_c`` = heat index x ``uhi_max_c``); the
"hottest places" are the homes at or above the ``hot_city_quantile`` of the baseline's cells
(one threshold, fixed before the plan). STOP is read as policy for the plan zone
(``stop_plan_*``: share of street length and public space for walking and cycling); the
S >= T >= O >= P inequality is dropped from the screening.

Traffic, noise and air
----------------------
The ``traffic`` family is the traffic per street segment (:func:`spatial.traffic.traffic_per_segment`;
after a plan :func:`spatial.traffic.plan_traffic`: trips of its dwellings and parking spaces routed
to the main roads, its speed regimes and closures). ``noise`` (CNOSSOS-EU at the most exposed
facade; the plan's buildings are obstacles, its ``noise_barrier`` lines a band of
``noise_barrier_band_m`` with their height) and ``air`` (NO2, PM2.5) run on that traffic, for
every home and every sensitive destination (existing POIs and the plan's facilities). Existing
residents are better or worse off when their level moves by more than ``delta_neutral_db`` /
``delta_neutral_ugm3`` / ``delta_neutral_pm25_ugm3``; WHO flags and the %HA/%HSD only move with
that level (:data:`GATED_HOME_COLS`); new residents are judged against the WHO guideline
(:data:`HOME_NORMS`) and listed per exposure class (``new_classes``). Because a plan's traffic
changes sources far from the plan, the local recompute does not use the plan's reach for these
families: noise is recomputed for receivers within ``max_distance_m`` of a changed source or
obstacle (:func:`noise_change_region`), air only for the segments whose emission or canyon
changed (``previous=``).

Speed
-----
The "before" situation is computed once per study area and parameter set
(:func:`compute_baseline`; :func:`load_or_compute_baseline` caches it in the study-area folder).
With ``local=True`` the "after" situation is recomputed only where a plan can change it: the
per-home families only for homes within reach of the plan (largest search distance of the
reported indicators + ``local_margin_m``), the raster families only on a window around the plan
(plus the heat model's influence distance); everything else is reused from the baseline. The
benchmark (``bench/bench_screening.py``) reports how far local results are from full ones.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.catalogue import Indicator, screening_indicators
from gezondestad.model.fmt import fmt_number, fmt_people
from gezondestad.model.geometry import buffer_union, clipped_measures
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS, LandCover, StudyArea
from gezondestad.screening import baseline_cache
from gezondestad.screening.plan import Plan, apply_plan, plan_area
from gezondestad.spatial.aggregate import building_homes, home_points
from rasterio import features as rfeatures

ZONES: tuple[str, ...] = ("plan", "omgeving", "stad")
ZONE_LABELS_NL: dict[str, str] = {"plan": "Plangebied", "omgeving": "Omliggende wijken", "stad": "Hele stad"}
DIRECTION_NL: dict[str, str] = {"better": "beter", "worse": "slechter", "neutral": "neutraal", "na": "n.v.t."}


# --------------------------------------------------------------------------------------------
# indicator registry
# --------------------------------------------------------------------------------------------


IndicatorSpec = Indicator
"""An indicator of the before/after table: an entry of :data:`gezondestad.model.catalogue.CATALOGUE`."""

INDICATORS: tuple[Indicator, ...] = screening_indicators()
"""Indicators of the before/after table (families missing at run time are reported, not faked)."""


# --------------------------------------------------------------------------------------------
# family runners: normalise each family's result into homes / segments / cells / per_wijk
# --------------------------------------------------------------------------------------------


@dataclass
class FamilyOutput:
    """A family's result in the form the comparison needs.

    Attributes
    ----------
    homes : DataFrame or None
        Per-home values (index = position in the homes frame given to the family).
    segments : GeoDataFrame or None
        Per-segment values with ``length_m`` and geometry.
    cells : dict of str to ndarray
        Per-cell rasters on ``grid``.
    grid : LandCover or None
    per_wijk : DataFrame
    raw : object
        The family's own result object.
    """

    homes: pd.DataFrame | None
    segments: gpd.GeoDataFrame | None
    cells: dict[str, np.ndarray]
    grid: LandCover | None
    per_wijk: pd.DataFrame
    raw: Any = None


def _run_network(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyOutput:
    from gezondestad.spatial.indicators import network_indicators

    r = network_indicators(area, homes=homes)
    seg = r.segments.copy()
    seg["length_m"] = shapely.length(np.asarray(seg.geometry.values, dtype=object))
    return FamilyOutput(_home_frame(r.homes, homes), seg, {}, None, r.per_wijk, r)


def _run_accessibility(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyOutput:
    from gezondestad.spatial.accessibility import accessibility_indicators

    r = accessibility_indicators(area, homes=homes, with_missing_links=False)
    seg = r.segments.copy()
    if "length_m" not in seg.columns:
        seg["length_m"] = shapely.length(np.asarray(seg.geometry.values, dtype=object))
    if "verdict_wheelchair" in seg.columns:
        seg["wheelchair_pass"] = (seg["verdict_wheelchair"].to_numpy() == "pass").astype(float)
    return FamilyOutput(_home_frame(r.homes, homes), seg, {}, None, r.per_wijk, r)


def _run_heat(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyOutput:
    from gezondestad.spatial.heat import canopy_walk_share, heat_layer

    _need_landcover(area)
    r = heat_layer(area.landcover, area.wijken, homes=homes)
    canopy = canopy_walk_share(r.landcover)
    cells = {"heat_index": r.heat_index, "canopy_walk": canopy}
    return FamilyOutput(_heat_homes(cells, r.landcover, homes), None, cells, r.landcover, r.per_wijk, r)


def _heat_homes(cells: dict[str, np.ndarray], grid: LandCover, homes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-home heat values sampled from the (possibly patched) rasters.

    ``heat_c``: heat-island anomaly in °C on the design hot day (heat index x ``uhi_max_c``);
    ``canopy_walk``: tree-canopy share within ``canopy_walk_radius_m``; ``hot`` is set by the
    comparison from a threshold fixed on the baseline (:func:`hot_threshold_c`).
    """
    from gezondestad.spatial.raster import sample_at_points

    uhi = float(load_norms("heat")["uhi_max_c"].value)
    n = len(homes)
    hi = sample_at_points(cells["heat_index"], grid, homes) if n else np.zeros(0)
    cw = sample_at_points(cells["canopy_walk"], grid, homes) if n and "canopy_walk" in cells else np.full(n, np.nan)
    return pd.DataFrame({"heat_index": hi, "heat_c": hi * uhi, "canopy_walk": cw, "hot": np.full(n, np.nan)}, index=homes.index)


def _run_water(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyOutput:
    from gezondestad.spatial.water import water_layer

    _need_landcover(area)
    r = water_layer(area.landcover, area.wijken, water=area.water, homes=homes)
    cells: dict[str, np.ndarray] = {}
    for name, cand in (("runoff_mm", ("runoff_mm", "runoff")), ("impervious", ("impervious",)), ("flood_prone", ("flood_prone",))):
        for c in cand:
            a = getattr(r, c, None)
            if isinstance(a, np.ndarray):
                cells[name] = a.astype(float)
                break
    grid = getattr(r, "landcover", None) or area.landcover
    if "impervious" not in cells:
        from gezondestad.model.landcover import BUILDING, NODATA, PAVED

        lc = grid.classes
        cells["impervious"] = np.where(lc == NODATA, np.nan, np.isin(lc, [BUILDING, PAVED]).astype(float))
    return FamilyOutput(_water_homes(cells, grid, homes), None, cells, grid, r.per_wijk, r)


def _water_homes(cells: dict[str, np.ndarray], grid: LandCover, homes: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Per-home flood-prone flag (1/0) sampled from the flood-prone raster."""
    from gezondestad.spatial.raster import sample_at_points

    if "flood_prone" not in cells:
        return None
    fp = sample_at_points(cells["flood_prone"], grid, homes) if len(homes) else np.zeros(0)
    return pd.DataFrame({"flood_prone": fp}, index=homes.index)


CELL_HOMES: dict[str, Callable[[dict[str, np.ndarray], LandCover, gpd.GeoDataFrame], pd.DataFrame | None]] = {
    "heat": _heat_homes,
    "water": _water_homes,
}
"""Per-home values of a raster family, sampled from its cells (also after a local patch)."""


def _need_landcover(area: StudyArea) -> None:
    if area.landcover is None:
        from gezondestad.model.studyarea import StudyAreaError

        raise StudyAreaError(f"Study area '{area.name}' has no land-cover raster; prepare it again to screen heat and water.")


def _home_frame(hv: Any, homes: gpd.GeoDataFrame) -> pd.DataFrame | None:
    if hv is None:
        return None
    df = pd.DataFrame(hv).drop(columns=["geometry"], errors="ignore")
    if len(df) != len(homes):
        if "home_id" in df.columns:
            df = df.set_index("home_id").reindex(homes["home_id"].to_numpy())
        else:
            return None
    df.index = homes.index
    return df


@dataclass
class PlanContext:
    """What the traffic, noise and air runners need to compute the situation after a plan.

    Attributes
    ----------
    before_area : StudyArea
        The study area before the plan (for :func:`spatial.traffic.plan_traffic`).
    plan : Plan
    before : Situation or None
        The baseline: its traffic is carried over, its noise and air results are the
        ``previous=`` of a local recompute.
    local : bool
        Recompute noise only for receivers near changed sources and air only for changed segments.
    traffic : GeoDataFrame or None
        The plan's traffic, computed once per situation by the first runner that needs it.
    """

    before_area: StudyArea
    plan: Plan
    before: Situation | None = None
    local: bool = False
    traffic: gpd.GeoDataFrame | None = None


def _plan_sites(plan: Plan) -> gpd.GeoDataFrame:
    """Traffic generators of a plan (its dwellings and parking spaces; ``spaces`` -> ``parking_spaces``)."""
    from gezondestad.spatial.traffic import sites_from_plan_features

    f = plan.features
    if "spaces" in f.columns:
        f = f.assign(parking_spaces=pd.to_numeric(f["spaces"], errors="coerce"))
    return sites_from_plan_features(f)


def _traffic_of(area: StudyArea, ctx: PlanContext | None) -> gpd.GeoDataFrame:
    """Traffic per segment: class defaults (baseline) or the plan's traffic (after a plan; computed once)."""
    from gezondestad.spatial.traffic import plan_traffic, traffic_per_segment

    if ctx is None:
        return traffic_per_segment(area)
    if ctx.traffic is None:
        bfam = ctx.before.families.get("traffic") if ctx.before is not None else None
        bt = bfam.raw if bfam is not None and isinstance(bfam.raw, gpd.GeoDataFrame) else None
        ctx.traffic = plan_traffic(ctx.before_area, area, _plan_sites(ctx.plan), before_traffic=bt)
    return ctx.traffic


def _run_traffic(area: StudyArea, homes: gpd.GeoDataFrame, ctx: PlanContext | None = None) -> FamilyOutput:
    t = _traffic_of(area, ctx)
    seg = t.copy()
    seg["length_m"] = shapely.length(np.asarray(seg.geometry.values, dtype=object))
    return FamilyOutput(None, seg, {}, None, pd.DataFrame({"wijk_code": []}), t)


def _with_barriers(area: StudyArea, plan: Plan | None) -> StudyArea:
    """``area`` with the plan's noise barriers added as obstacles (a band of ``noise_barrier_band_m``, their ``height``).

    Only the noise model sees them: they are not buildings for homes, land cover or air.
    """
    nb = plan.of_type("noise_barrier") if plan is not None else None
    if nb is None or not len(nb):
        return area
    width = float(load_norms("screening")["noise_barrier_band_m"].value)
    band = shapely.buffer(np.asarray(nb.geometry.values, dtype=object), width / 2.0, cap_style="flat")
    add = gpd.GeoDataFrame({"building_id": np.full(len(nb), np.nan), "use": "noise_barrier", "levels": np.nan,
                            "residents": 0.0, "dwellings": 0.0, "height": pd.to_numeric(nb["height"], errors="coerce").to_numpy(dtype=float)},
                           geometry=band, crs=area.crs)
    themes = dict(area.themes)
    themes["buildings"] = gpd.GeoDataFrame(pd.concat([area.buildings, add], ignore_index=True), geometry="geometry", crs=area.crs)
    return StudyArea(area.name, themes, area.landcover, area.manifest)


def noise_change_region(before_area: StudyArea, after_area: StudyArea, traffic: gpd.GeoDataFrame, plan: Plan) -> shapely.Geometry:
    """Where a plan changes a noise source or an obstacle: receivers within ``max_distance_m`` of it are recomputed.

    Segments whose traffic or speed the plan changed (``traffic_source == 'plan'``) or that are
    new with traffic, streets the plan removed, buildings added or removed (by ``building_id``)
    and the plan's noise barriers.
    """
    src = traffic["traffic_source"].astype("object").to_numpy() == "plan"
    if "aadt_before" in traffic.columns:
        src |= ~np.isfinite(traffic["aadt_before"].to_numpy(dtype=float)) & (traffic["aadt"].to_numpy(dtype=float) > 0)
    geoms = list(np.asarray(traffic.geometry.values, dtype=object)[src])
    bw = shapely.to_wkb(np.asarray(before_area.streets.geometry.values, dtype=object)) if before_area.has("streets") else np.zeros(0, dtype=object)
    aw = set(shapely.to_wkb(np.asarray(after_area.streets.geometry.values, dtype=object)).tolist()) if after_area.has("streets") else set()
    gone = np.fromiter((w not in aw for w in bw.tolist()), dtype=bool, count=len(bw))
    if gone.any():
        geoms += list(np.asarray(before_area.streets.geometry.values, dtype=object)[gone])
    bb, ab = before_area.buildings, after_area.buildings
    ids_b = set(pd.to_numeric(bb["building_id"], errors="coerce").dropna().astype(np.int64)) if len(bb) else set()
    ids_a = set(pd.to_numeric(ab["building_id"], errors="coerce").dropna().astype(np.int64)) if len(ab) else set()
    if len(ab):
        geoms += list(ab.geometry.values[~pd.to_numeric(ab["building_id"], errors="coerce").isin(ids_b).to_numpy()])
    if len(bb):
        geoms += list(bb.geometry.values[~pd.to_numeric(bb["building_id"], errors="coerce").isin(ids_a).to_numpy()])
    geoms += list(plan.of_type("noise_barrier").geometry.values)
    return shapely.union_all(geoms) if geoms else shapely.Point()


def _run_noise(area: StudyArea, homes: gpd.GeoDataFrame, ctx: PlanContext | None = None) -> FamilyOutput:
    from gezondestad.spatial.noise import noise_exposure

    traffic = _traffic_of(area, ctx)
    narea = _with_barriers(area, ctx.plan if ctx is not None else None)
    bfam = ctx.before.families.get("noise") if ctx is not None and ctx.before is not None else None
    if ctx is not None and ctx.local and bfam is not None and bfam.raw is not None:
        region = noise_change_region(ctx.before_area, area, traffic, ctx.plan)
        r = noise_exposure(narea, traffic, homes=homes, with_grid=False, recompute_within=region, previous=bfam.raw)
    else:
        r = noise_exposure(narea, traffic, homes=homes, with_grid=False)
    h = r.homes
    hv = pd.DataFrame({c: pd.to_numeric(h[c], errors="coerce").to_numpy(dtype=float)
                       for c in ("lden_db", "lnight_db", "above_who_lden", "above_who_lnight", "highly_annoyed_share", "highly_sleep_disturbed_share")},
                      index=homes.index)
    for c, lv in (("above_who_lden", "lden_db"), ("above_who_lnight", "lnight_db")):
        hv.loc[~np.isfinite(hv[lv].to_numpy()), c] = np.nan  # no level: unknown, not "below the guideline"
    return FamilyOutput(hv, None, {}, None, r.per_wijk, r)


def _run_air(area: StudyArea, homes: gpd.GeoDataFrame, ctx: PlanContext | None = None) -> FamilyOutput:
    import dataclasses

    from gezondestad.spatial.air import air_exposure, site_light

    traffic = _traffic_of(area, ctx)
    bfam = ctx.before.families.get("air") if ctx is not None and ctx.before is not None else None
    prev = bfam.raw if ctx is not None and ctx.local and bfam is not None else None
    r = air_exposure(area, traffic, homes=homes, previous=prev)
    a = load_norms("air")
    h = r.homes
    hv = pd.DataFrame({"no2_ugm3": h["no2_ugm3"].to_numpy(dtype=float), "pm25_ugm3": h["pm25_ugm3"].to_numpy(dtype=float)}, index=homes.index)
    for pol in ("no2", "pm25"):
        v = hv[f"{pol}_ugm3"].to_numpy()
        hv[f"above_who_{pol}"] = np.where(np.isfinite(v), (v > float(a[f"who_{pol}_ugm3"].value)).astype(float), np.nan)
        # what the site and the plan control (near-road increment) apart from the regional background
        inc = h[f"{pol}_increment_ugm3"].to_numpy(dtype=float)
        hv[f"{pol}_increment_ugm3"] = inc
        hv[f"{pol}_site_light"] = site_light(v, inc, pol, r.params).astype(float)
    pw = r.per_wijk.copy()
    if len(pw) and "residents" in pw.columns:
        rr = pd.to_numeric(pw["residents"], errors="coerce").to_numpy(dtype=float)
        for pol in ("no2", "pm25"):
            col = f"residents_above_who_{pol}"
            if col in pw.columns:
                with np.errstate(invalid="ignore", divide="ignore"):
                    pw[f"above_who_{pol}_share"] = np.where(rr > 0, pd.to_numeric(pw[col], errors="coerce").to_numpy(dtype=float) / rr, np.nan)
        r = dataclasses.replace(r, per_wijk=pw)
    return FamilyOutput(hv, None, {}, None, pw, r)


FAMILIES: dict[str, Callable[..., FamilyOutput]] = {
    "network": _run_network,
    "accessibility": _run_accessibility,
    "heat": _run_heat,
    "water": _run_water,
    "traffic": _run_traffic,
    "noise": _run_noise,
    "air": _run_air,
}
"""Family name -> runner (module imported lazily; a family whose module is absent is reported).

Every runner takes ``(area, homes)``; the runners of :data:`PLAN_FAMILIES` also take a
:class:`PlanContext` after a plan (without it they compute the area as it is)."""

PLAN_FAMILIES: frozenset[str] = frozenset({"traffic", "noise", "air"})
"""Families whose "after" situation depends on the situation before (the plan's traffic, local recompute)."""


# --------------------------------------------------------------------------------------------
# baseline (the "before" situation), cached
# --------------------------------------------------------------------------------------------


@dataclass
class Situation:
    """All family outputs of one study area (before or after a plan)."""

    area: StudyArea
    homes: gpd.GeoDataFrame
    families: dict[str, FamilyOutput]
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    keys: np.ndarray | None = None
    zone_cache: dict[str, Any] = field(default_factory=dict)


def with_residents(homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Homes are places where people live: the rows with ``residents > 0`` (a school building with 0 dwellings is no home)."""
    res = pd.to_numeric(homes["residents"], errors="coerce").to_numpy(dtype=float) if "residents" in homes else np.zeros(len(homes))
    keep = np.isfinite(res) & (res > 0)
    return homes if keep.all() else homes[keep].reset_index(drop=True)


def compute_situation(area: StudyArea, families: tuple[str, ...] | None = None, homes: gpd.GeoDataFrame | None = None,
                      ctx: PlanContext | None = None) -> Situation:
    """Run every indicator family on ``area`` (unavailable families are listed in ``errors``).

    ``ctx``: after a plan, what the traffic, noise and air runners need (:class:`PlanContext`).
    """
    t0 = time.perf_counter()
    homes = with_residents(home_points(area)) if homes is None else homes
    sit = Situation(area, homes, {}, {}, {"homes": time.perf_counter() - t0})
    for name in families or tuple(FAMILIES):
        t = time.perf_counter()
        try:
            sit.families[name] = FAMILIES[name](area, homes, ctx) if ctx is not None and name in PLAN_FAMILIES else FAMILIES[name](area, homes)
        except ImportError as exc:
            sit.errors[name] = f"indicatormodule niet beschikbaar ({exc})"
        sit.seconds[name] = time.perf_counter() - t
    return sit


def baseline_key(area: StudyArea, families: tuple[str, ...] | None = None) -> str:
    """Cache key of a baseline (content of the area, families, norms): :func:`screening.baseline_cache.baseline_key`."""
    return baseline_cache.baseline_key(area, tuple(families or FAMILIES))


def _slim(sit: Situation) -> Situation:
    # the area is on disk already; raster families' own result objects are not needed later
    return Situation(None, sit.homes, {k: FamilyOutput(v.homes, v.segments, v.cells, v.grid, v.per_wijk, None if v.cells else v.raw) for k, v in sit.families.items()},
                     sit.errors, sit.seconds)  # type: ignore[arg-type]


def _restore(sit: Situation, area: StudyArea) -> Situation:
    sit.area = area
    return sit


def load_or_compute_baseline(area: StudyArea, directory: str | Path | None = None, families: tuple[str, ...] | None = None) -> Situation:
    """The "before" situation, read from ``directory/.screening/baseline-<key>.pkl`` when cached, else computed and cached.

    The key is a digest of the area's content (every theme's geometry and attributes, the land
    cover), the families, every norm file and the package version, so an edited
    ``studyarea.gpkg`` or a changed norm is never answered from a stale cache. Files are signed
    (HMAC-SHA256, per-user secret) over key, area and payload; a foreign, damaged or moved file
    is recomputed. Without ``directory`` (or a writable home) nothing is cached. See
    :mod:`gezondestad.screening.baseline_cache`.
    """
    fams = tuple(families or FAMILIES)
    return baseline_cache.load_or_compute(area, directory, fams, lambda: compute_situation(area, families), _slim, _restore)


# --------------------------------------------------------------------------------------------
# local recompute
# --------------------------------------------------------------------------------------------


def local_reach_m() -> float:
    """Distance from the plan beyond which distance-limited per-home values cannot change.

    The largest search distance of the per-home indicators: green access (WHO distance), the
    STOP S walking limit (walk speed x minutes), the STOP O bus/train distances and the reach
    distances of the accessibility profiles, plus ``local_margin_m``. (Homes farther than that
    from every plan feature cannot gain or lose a destination within its limit.)
    """
    st = load_norms("stop")
    dists = [
        float(load_norms("green")["who_distance_m"].value),
        float(st["walk_speed_m_s"].value) * float(st["walk_minutes"].value) * 60.0,
        float(st["o_bus_distance_m"].value),
        float(st["o_train_distance_m"].value),
    ]
    dists += [float(n.value) for k, n in load_norms("accessibility").items() if k.startswith("reach_") and k.endswith("_m")]
    return max(dists) + float(load_norms("screening")["local_margin_m"].value)


def plan_changes_network(after_area: StudyArea) -> bool:
    """True when applying the plan added, changed or removed street edges (from the manifest)."""
    eff = after_area.manifest.get("plan", {}).get("effects", {})
    return bool(eff.get("street_edges_changed") or eff.get("street_edges_removed") or eff.get("street_length_added_m"))


def heat_influence_m() -> float:
    """Distance over which a land-cover change is taken to move the heat index (local mode).

    ``heat_influence_efolds`` x (cooling distance + mixing radius): the exponential kernels of
    the heat model weigh exp(-efolds) of their value at the change there; the benchmark
    measures the actual difference of a local run to a full one.
    """
    h = load_norms("heat")
    k = float(load_norms("screening")["heat_influence_efolds"].value)
    return k * (float(h["green_area_cooling_distance_m"].value) + float(h["t_air_average_radius_m"].value))


def cell_margin_m(family: str) -> float:
    """Distance around the plan within which a raster family's cells can change (local mode)."""
    if family == "heat":
        return heat_influence_m()
    w = load_norms("water")
    return float(w["flood_buffer_m"].value) + float(w["low_lying_max_distance_m"].value)


def _crop(lc: LandCover, bounds: tuple[float, float, float, float]) -> tuple[LandCover, tuple[int, int, int, int]]:
    inv = ~lc.transform
    c0, r0 = inv * (bounds[0], bounds[3])
    c1, r1 = inv * (bounds[2], bounds[1])
    h, w = lc.shape
    c0, r0 = max(0, int(np.floor(c0))), max(0, int(np.floor(r0)))
    c1, r1 = min(w, int(np.ceil(c1))), min(h, int(np.ceil(r1)))
    tr = lc.transform @ lc.transform.translation(c0, r0)
    return LandCover(lc.classes[r0:r1, c0:c1].copy(), tr, lc.resolution_m, lc.crs), (r0, r1, c0, c1)


def homes_after_plan(before: Situation, after_area: StudyArea, plan: Plan) -> gpd.GeoDataFrame:
    """Home points after the plan: the baseline's homes that still exist plus the plan's new homes.

    Same selection as :func:`spatial.aggregate.home_points` (residential buildings or buildings
    with residents), without recomputing the homes that did not change. Where the baseline's
    homes are *estimated* along streets (no buildings, e.g. the offline Mechelen files) they are
    kept as they were (minus those inside demolitions): recomputing the estimate would spread
    the plan's new residents over the whole wijk and count them twice.
    """
    from gezondestad.model.wijken import assign_wijk

    bh = before.homes
    est = bh["estimated"].astype(bool).to_numpy() if "estimated" in bh else np.zeros(len(bh), bool)
    b = after_area.buildings
    keep = np.ones(len(bh), dtype=bool)
    if (~est).any():
        ids = pd.to_numeric(b["building_id"], errors="coerce").dropna().to_numpy()
        bid = pd.to_numeric(bh["building_id"], errors="coerce").to_numpy(dtype=float)
        keep &= est | np.isin(bid, ids)
    demo = plan.of_type("demolition")
    if est.any() and len(demo):
        keep &= ~(est & shapely.within(np.asarray(bh.geometry.values, dtype=object), shapely.union_all(demo.geometry.values)))
    new = b[b["plan_fid"].notna()] if "plan_fid" in b.columns else b.iloc[0:0]
    nh = with_residents(building_homes(new))
    wk = assign_wijk(nh, after_area.wijken)
    nh["wijk_code"] = wk["wijk_code"].to_numpy()
    nh["wijk_naam"] = wk["wijk_naam"].to_numpy()
    out = pd.concat([bh[keep], nh], ignore_index=True)
    out["home_id"] = np.arange(len(out), dtype=np.int64)
    return gpd.GeoDataFrame(out[bh.columns], geometry="geometry", crs=after_area.crs)


def compute_after_local(before: Situation, after_area: StudyArea, plan: Plan) -> Situation:
    """The "after" situation recomputed only near the plan (see module docstring).

    Per-home families run on the homes within :func:`local_reach_m` of the plan (plus the new
    homes); their values replace the baseline's, homes removed by the plan are dropped. When
    the plan changes the street network, the network family runs for all homes (its cycling
    reach to the centre is not distance-limited). Raster
    families run on a window of plan bounds + 2 x :func:`heat_influence_m`; cells within one
    influence distance of the plan replace the baseline's. Per-segment outputs and per-wijk
    tables come from the local run (segments are recomputed for the whole network, which is
    cheap); per-wijk tables are therefore only used for indicators without finer data.
    """
    t0 = time.perf_counter()
    homes_after = homes_after_plan(before, after_area, plan)
    fp = plan.footprint
    reach = local_reach_m()
    near = _near_plan(homes_after, plan, reach)
    sit = Situation(after_area, homes_after, {}, dict(before.errors), {"homes": time.perf_counter() - t0})
    sit.keys = _home_keys(homes_after)
    pos = before_positions(before, homes_after, sit.keys)
    ctx = PlanContext(before.area, plan, before, local=True)
    for name, bfam in before.families.items():
        t = time.perf_counter()
        if name in PLAN_FAMILIES:
            # the plan's traffic changes sources far from the plan (access roads): the runners
            # recompute only receivers near changed sources (noise) or changed segments (air)
            sit.families[name] = FAMILIES[name](after_area, homes_after, ctx)
        elif bfam.cells:
            infl = cell_margin_m(name)
            minx, miny, maxx, maxy = fp.bounds
            win, (r0, r1, c0, c1) = _crop(after_area.landcover, (minx - 2 * infl, miny - 2 * infl, maxx + 2 * infl, maxy + 2 * infl))
            local_area = StudyArea(after_area.name, {k: v for k, v in after_area.themes.items()}, win, after_area.manifest)
            sub_homes = homes_after[near].copy()
            lo = FAMILIES[name](local_area, sub_homes)
            inner = _within_mask(win, fp, infl)
            cells = {}
            for k, arr in bfam.cells.items():
                full = arr.copy()
                if k in lo.cells:
                    blk = full[r0:r1, c0:c1]
                    blk[inner] = lo.cells[k][inner]
                cells[k] = full
            grid = bfam.grid if bfam.grid is not None else after_area.landcover
            # per-home values of a raster family are sampled from the patched raster (as in a full run)
            hv = CELL_HOMES[name](cells, grid, homes_after) if name in CELL_HOMES else _patch_homes(bfam, homes_after, near, lo, pos)
            sit.families[name] = FamilyOutput(hv, bfam.segments, cells, grid, pd.DataFrame({"wijk_code": []}), lo.raw)
        elif name == "network" and plan_changes_network(after_area):
            # the stress-free cycling reach to the centre and schools (STOP T) is not limited by a
            # distance: a new or changed street can change it for any home, so run all homes
            lo = FAMILIES[name](after_area, homes_after)
            sit.families[name] = FamilyOutput(lo.homes, lo.segments, {}, None, lo.per_wijk, lo.raw)
            sit.seconds[name] = time.perf_counter() - t
            continue
        else:
            sub_homes = homes_after[near].copy()
            lo = FAMILIES[name](after_area, sub_homes)
            hv = _patch_homes(bfam, homes_after, near, lo, pos)
            # the local run's per-wijk table covers only the homes near the plan: not used
            sit.families[name] = FamilyOutput(hv, lo.segments, {}, None, pd.DataFrame({"wijk_code": []}), lo.raw)
        sit.seconds[name] = time.perf_counter() - t
    return sit


def _within_mask(lc: LandCover, geom: shapely.Geometry, dist_m: float) -> np.ndarray:
    """Cells of ``lc`` whose centre lies within about ``dist_m`` of ``geom`` (a superset of the buffer).

    Bounded memory for any plan: the geometry is rasterised (every touched cell) on the grid
    padded by ``dist_m`` and dilated with a Euclidean distance transform, instead of buffering
    it (a buffer of a multi-geometry of thousands of parts by a kilometre grows without bound:
    ``std::bad_alloc`` for 3,000 plan buildings). Memory is about 20 bytes per cell of the
    padded grid, whatever the plan. Cells up to half a cell diagonal (``res * sqrt(2) / 2``)
    beyond ``dist_m`` are included too: more cells are recomputed locally, never fewer.
    """
    from scipy import ndimage

    h, w = lc.shape
    if geom is None or geom.is_empty or h == 0 or w == 0:
        return np.zeros(lc.shape, dtype=bool)
    res = float(lc.resolution_m)
    pad = int(np.ceil(dist_m / res)) + 1
    tr = lc.transform * lc.transform.translation(-pad, -pad)
    shape = (h + 2 * pad, w + 2 * pad)
    seed = rfeatures.rasterize([(geom, 1)], out_shape=shape, transform=tr, fill=0, dtype="uint8", all_touched=True)
    if not seed.any():
        return np.zeros(lc.shape, dtype=bool)
    dist = ndimage.distance_transform_edt(seed == 0, sampling=res)
    return dist[pad:pad + h, pad:pad + w] <= dist_m + res * np.sqrt(2.0) / 2.0


def _near_plan(homes: gpd.GeoDataFrame, plan: Plan, dist_m: float) -> np.ndarray:
    """True for each home within ``dist_m`` of some plan feature (the footprint's parts).

    The nearest part per home through an STRtree (one pair per home) instead of testing every
    home against the whole footprint or listing every (home, part) pair within reach: time and
    memory grow with homes + parts, not with their product.
    """
    pts = np.asarray(homes.geometry.values, dtype=object)
    out = np.zeros(len(pts), dtype=bool)
    fp = plan.footprint
    if len(pts) == 0 or fp is None or fp.is_empty:
        return out
    parts = shapely.get_parts(fp)
    idx = shapely.STRtree(parts).query_nearest(pts, max_distance=dist_m, all_matches=False)[0]
    out[idx] = True
    return out


def _home_keys(homes: gpd.GeoDataFrame) -> np.ndarray:
    """Stable key per home across before/after: building id when known, else rounded coordinates."""
    xy = np.round(shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object)), 1)
    pos = pd.Series(xy[:, 0]).map("p{:.1f}".format) + pd.Series(xy[:, 1]).map(",{:.1f}".format)
    if "building_id" in homes:
        bid = pd.to_numeric(homes["building_id"], errors="coerce").reset_index(drop=True)
        has = bid.notna()
        pos[has] = "b" + bid[has].astype(np.int64).astype(str)
    return pos.to_numpy(dtype=object)


def situation_keys(sit: Situation) -> np.ndarray:
    """:func:`_home_keys` of ``sit.homes``, computed once per situation."""
    if sit.keys is None or len(sit.keys) != len(sit.homes):
        sit.keys = _home_keys(sit.homes)
    return sit.keys


def before_positions(before: Situation, homes_after: gpd.GeoDataFrame, keys_after: np.ndarray | None = None) -> np.ndarray:
    """Row of each after-home in ``before.homes`` (-1 for new homes), matched on :func:`_home_keys`."""
    kb = pd.Series(np.arange(len(before.homes)), index=situation_keys(before))
    kb = kb[~kb.index.duplicated()]
    ka = _home_keys(homes_after) if keys_after is None else keys_after
    return kb.reindex(ka).fillna(-1).to_numpy(dtype=np.int64)


def _home_value_columns() -> set[str]:
    """Per-home columns the comparison reads (indicator columns and the STOP zone shares)."""
    return {sp.home_col for sp in INDICATORS if sp.home_col} | {"stop_s_home", "centre_lts12", "school_lts12", "bus_400m", "train_800m", "heat_index"}


def _as_float(df: pd.DataFrame, col: str, n: int) -> np.ndarray:
    if col not in df.columns:
        return np.full(n, np.nan)
    v = df[col]
    if v.dtype == object:
        v = pd.to_numeric(v, errors="coerce")
    return v.to_numpy(dtype=float, na_value=np.nan)


def _patch_homes(bfam: FamilyOutput, homes_after: gpd.GeoDataFrame, near: np.ndarray, lo: FamilyOutput, pos: np.ndarray) -> pd.DataFrame | None:
    """Per-home values after: the local run's for ``near`` homes, the baseline's for the others.

    Only the columns the comparison reads (:func:`_home_value_columns`) are carried.
    """
    if bfam.homes is None or lo.homes is None:
        return None
    cols = [c for c in dict.fromkeys([*bfam.homes.columns, *lo.homes.columns]) if c in _home_value_columns()]
    n = len(homes_after)
    far = ~near & (pos >= 0)
    out = {}
    for c in cols:
        b = _as_float(bfam.homes, c, len(bfam.homes))
        v = np.full(n, np.nan)
        v[far] = b[pos[far]]
        v[near] = _as_float(lo.homes, c, len(lo.homes))
        out[c] = v
    return pd.DataFrame(out, index=homes_after.index)


# --------------------------------------------------------------------------------------------
# zones and zone values
# --------------------------------------------------------------------------------------------


@dataclass
class Zones:
    """The three comparison zones."""

    plan: shapely.Geometry
    omgeving: shapely.Geometry
    stad: shapely.Geometry
    omgeving_codes: list[str]
    plan_codes: list[str]
    buffer_m: float
    crs: str = CRS  # the study area's working CRS

    def geom(self, zone: str) -> shapely.Geometry:
        return getattr(self, zone)

    def frame(self) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"zone": list(ZONES), "label": [ZONE_LABELS_NL[z] for z in ZONES]},
                                geometry=[self.plan, self.omgeving, self.stad], crs=self.crs)


def make_zones(area: StudyArea, plan: Plan, buffer_m: float | None = None) -> Zones:
    """Plan area, surrounding wijken (intersecting the buffer) and the whole study area."""
    buffer_m = float(buffer_m if buffer_m is not None else load_norms("screening")["surroundings_buffer_m"].value)
    pa = plan_area(plan).geometry.iloc[0]
    w = area.wijken
    codes: list[str] = []
    pcodes: list[str] = []
    if len(w):
        geoms = np.asarray(w.geometry.values, dtype=object)
        hit = shapely.intersects(geoms, buffer_union(pa, buffer_m))
        codes = [str(c) for c in w["wijk_code"].to_numpy()[hit]]
        pcodes = [str(c) for c in w["wijk_code"].to_numpy()[shapely.intersects(geoms, pa)]]
        om = shapely.union_all(geoms[hit]) if hit.any() else buffer_union(pa, buffer_m)
    else:
        om = buffer_union(pa, buffer_m)
    stad = shapely.union_all(area.boundary.geometry.values) if area.has("boundary") else shapely.union_all(np.asarray(w.geometry.values, dtype=object))
    pa = shapely.intersection(pa, stad) if not stad.is_empty else pa  # the plan zone stays inside the study area
    return Zones(pa, om, stad, codes, pcodes, buffer_m, area.crs)


def _home_zone_masks(homes: gpd.GeoDataFrame, zones: Zones) -> dict[str, np.ndarray]:
    pts = np.asarray(homes.geometry.values, dtype=object)
    codes = homes["wijk_code"].astype("object").map(lambda c: None if c is None else str(c)).to_numpy() if "wijk_code" in homes else np.full(len(homes), None)
    return {
        "plan": _within_zone(pts, zones.plan) if len(pts) else np.zeros(0, bool),
        "omgeving": np.isin(codes, zones.omgeving_codes) if zones.omgeving_codes else _within_zone(pts, zones.omgeving),
        "stad": np.ones(len(homes), dtype=bool),
    }


def _cell_zone_masks(grid: LandCover, zones: Zones) -> dict[str, np.ndarray]:
    out = {}
    for z in ZONES:
        g = zones.geom(z)
        out[z] = rfeatures.rasterize([(g, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool) if not g.is_empty else np.zeros(grid.shape, bool)
    return out


def _weighted(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> float:
    v = np.asarray(values, dtype=float)
    ok = mask & np.isfinite(v)
    w = weights[ok]
    if ok.sum() == 0 or w.sum() <= 0:
        return float("nan")  # no residents (or no length): undefined, never an unweighted mean
    return float(np.sum(v[ok] * w) / w.sum())


def _seg_in_zone(seg: gpd.GeoDataFrame, zones: Zones) -> dict[str, np.ndarray]:
    mid = shapely.line_interpolate_point(np.asarray(seg.geometry.values, dtype=object), 0.5, normalized=True)
    return {z: _within_zone(mid, zones.geom(z)) for z in ZONES}


def _within_zone(pts: np.ndarray, zone: shapely.Geometry) -> np.ndarray:
    """``shapely.within(pts, zone)`` with the zone prepared (a city boundary has thousands of vertices)."""
    shapely.prepare(zone)
    return shapely.contains(zone, pts)  # the prepared geometry must be the first argument


def _zf_green_per_resident(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    from gezondestad.spatial.green import green_area_per_polygon

    spaces = getattr(fam.raw, "green_spaces", None)
    if spaces is None:
        return {}
    m2 = green_area_per_polygon(spaces, zones.frame())
    out = {}
    for i, z in enumerate(ZONES):
        r = float(res[hmask[z]].sum())
        out[z] = float(m2[i] / r) if r > 0 else float("nan")
    return {"green_per_resident_m2": out}


def _lts12(fam: FamilyOutput, zones: Zones) -> dict[str, float]:
    seg = fam.segments
    max_lts = float(load_norms("lts")["low_stress_max_lts"].value)
    inz = _seg_in_zone(seg, zones)
    cyc = seg["cyclable"].to_numpy(dtype=bool)
    lts = pd.to_numeric(seg["lts"], errors="coerce").to_numpy(dtype=float)
    L = seg["length_m"].to_numpy(dtype=float)
    out = {}
    for z in ZONES:
        m = inz[z] & cyc
        tot = L[m].sum()
        out[z] = float(L[m & (lts <= max_lts)].sum() / tot) if tot > 0 else float("nan")
    return out


def _zf_lts12(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    if fam.segments is None or "lts" not in fam.segments.columns:
        return {}
    return {"lts12_share_length": _lts12(fam, zones)}


def _zf_fietsstraat(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    seg = fam.segments
    if seg is None or "fietsstraat" not in seg.columns:
        return {}
    inz = _seg_in_zone(seg, zones)
    f = seg["fietsstraat"].astype(bool).to_numpy()
    L = seg["length_m"].to_numpy(dtype=float)
    return {"fietsstraat_km": {z: float(L[inz[z] & f].sum() / 1000.0) for z in ZONES}}


def _zf_stop(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """STOP sub-scores per zone with the project's own :func:`spatial.stop.stop_scores` on zone shares."""
    from gezondestad.spatial.stop import car_dominance, stop_scores

    h = fam.homes
    need = ("stop_s_home", "centre_lts12", "school_lts12", "bus_400m", "train_800m")
    if h is None or any(c not in h.columns for c in need) or fam.segments is None:
        return {}
    zf = zones.frame()
    mean = {c: np.array([_weighted(pd.to_numeric(h[c], errors="coerce").to_numpy(dtype=float), res, hmask[z]) for z in ZONES]) for c in need}
    l12 = _lts12(fam, zones)
    seg = fam.segments
    # P has one definition: speed and parking. Without complete land use the parking part is
    # unknown, and so is P (compare_situations reports it as 'onbekend'), whatever a plan adds.
    cd = car_dominance(seg, seg, sit.area.landuse, zf, landuse_known=theme_status(sit.area, "landuse") == "present")
    st = stop_scores(mean["stop_s_home"], mean["centre_lts12"], mean["school_lts12"], np.array([l12[z] for z in ZONES]),
                     mean["bus_400m"], mean["train_800m"], cd["stop_p"].to_numpy(dtype=float))
    out = {}
    for c in ("stop_s", "stop_t", "stop_o", "stop_p", "stop_order_ok"):
        out[c] = {z: float(st[c].to_numpy(dtype=float)[i]) for i, z in enumerate(ZONES)}
    if theme_status(sit.area, "landuse") != "present":
        out["stop_p"] = {z: float("nan") for z in ZONES}
    return out


def _zf_heat_p90(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """90th percentile of the heat index over each zone's cells."""
    arr = fam.cells.get("heat_index")
    if arr is None or fam.grid is None:
        return {}
    cm = _cell_zone_masks(fam.grid, zones)
    out = {}
    for z in ZONES:
        v = arr[cm[z] & np.isfinite(arr)]
        out[z] = float(np.percentile(v, 90.0)) if v.size else float("nan")
    return {"heat_index_p90": out}


def _zf_sensitive_flood(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """Number of sensitive destinations (:data:`SENSITIVE_CATEGORIES`) on flood-prone cells per zone."""
    from gezondestad.spatial.raster import sample_at_points

    arr = fam.cells.get("flood_prone")
    if arr is None or fam.grid is None:
        return {}
    p = sit.area.pois
    if len(p) == 0 or "category" not in p.columns:
        return {"sensitive_flood_n": {z: 0.0 for z in ZONES}}
    sens = p[p["category"].astype(str).str.lower().isin(SENSITIVE_CATEGORIES)]
    if len(sens) == 0:
        return {"sensitive_flood_n": {z: 0.0 for z in ZONES}}
    f = np.nan_to_num(sample_at_points(arr, fam.grid, sens)) >= 0.5
    pts = np.asarray(sens.geometry.values, dtype=object)
    return {"sensitive_flood_n": {z: float((f & shapely.intersects(pts, zones.geom(z))).sum()) for z in ZONES}}


def _count_destinations(dest: gpd.GeoDataFrame | None, above: np.ndarray, zones: Zones) -> dict[str, float]:
    if dest is None or len(dest) == 0:
        return {z: 0.0 for z in ZONES}
    pts = np.asarray(dest.geometry.values, dtype=object)
    return {z: float((above & shapely.intersects(pts, zones.geom(z))).sum()) for z in ZONES}


def _zf_sensitive_noise(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """Sensitive destinations (existing and the plan's facilities) above the WHO Lden guideline, per zone."""
    dest = getattr(fam.raw, "destinations", None)
    if dest is None:
        return {}
    above = pd.to_numeric(dest["above_who_lden"], errors="coerce").fillna(0).to_numpy(dtype=float) >= 0.5 if len(dest) else np.zeros(0, bool)
    return {"destinations_above_who_lden": _count_destinations(dest, above, zones)}


def _zf_sensitive_air(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """Sensitive destinations (existing and the plan's facilities) above the WHO NO2 guideline, per zone."""
    dest = getattr(fam.raw, "destinations", None)
    if dest is None:
        return {}
    v = pd.to_numeric(dest["no2_ugm3"], errors="coerce").to_numpy(dtype=float) if len(dest) else np.zeros(0)
    above = np.isfinite(v) & (v > float(load_norms("air")["who_no2_ugm3"].value))
    return {"destinations_above_who_no2": _count_destinations(dest, above, zones)}


ACTIVE_HIGHWAYS: frozenset[str] = frozenset({"footway", "cycleway", "path", "pedestrian", "steps", "living_street", "bridleway", "track", "corridor"})
"""Street classes given to walking and cycling (a woonerf/living_street is shared space that puts walking first)."""


def _zf_stop_plan(sit: Situation, fam: FamilyOutput, zones: Zones, hmask: dict[str, np.ndarray], res: np.ndarray) -> dict[str, dict[str, float]]:
    """STOP as a policy reading (replaces the S >= T >= O >= P inequality).

    ``stop_plan_active_share``: share of the street length in the zone given to walking,
    cycling and public transport (paths, cycleways, pedestrian streets, woonerven, fietsstraten,
    streets closed to motor traffic) versus streets for cars. ``stop_plan_active_space_share``:
    the same for public space by area: public green + active street surface versus car street
    surface + parking. Before and after the plan over the same zone.
    """
    from gezondestad.model.landcover import street_width_m

    st = sit.area.streets
    if len(st) == 0:
        return {}
    hw = st["highway"].astype("object").fillna("").astype(str).str.lower().to_numpy()
    cyc = st["cyclestreet"].astype("object").fillna("").astype(str).str.lower().to_numpy() == "yes" if "cyclestreet" in st else np.zeros(len(st), bool)
    nomotor = st["motor_vehicle"].astype("object").fillna("").astype(str).str.lower().to_numpy() == "no" if "motor_vehicle" in st else np.zeros(len(st), bool)
    active = np.isin(hw, list(ACTIVE_HIGHWAYS)) | cyc | nomotor
    lines = np.asarray(st.geometry.values, dtype=object)
    width = street_width_m(st)
    zf = zones.frame()
    pg = np.asarray(zf.geometry.values, dtype=object)
    k = len(pg)
    act_l, car_l, act_a, car_a = np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)
    # clipped_measures intersects only the parts crossing a zone's boundary (the city boundary is large)
    pi, li, ln = clipped_measures(lines, pg)
    if len(pi):
        a = active[li]
        np.add.at(act_l, pi[a], ln[a])
        np.add.at(car_l, pi[~a], ln[~a])
        np.add.at(act_a, pi[a], (ln * width[li])[a])
        np.add.at(car_a, pi[~a], (ln * width[li])[~a])
    green_a = np.zeros(k)
    g = sit.area.green
    if len(g):
        pub = g[g["public"].astype("object").map(lambda v: v is None or (isinstance(v, float) and np.isnan(v)) or bool(v)).to_numpy(dtype=bool)] if "public" in g else g
        if len(pub):
            gg = np.asarray(pub.geometry.values, dtype=object)
            gi, _, ga = clipped_measures(gg, pg)
            if len(gi):
                np.add.at(green_a, gi, ga)
    park_a = np.zeros(k)
    lu = sit.area.landuse
    if len(lu):
        pk = lu[lu["kind"].astype("object").fillna("").to_numpy() == "parking"]
        if len(pk):
            pp = np.asarray(pk.geometry.values, dtype=object)
            gi, _, pa = clipped_measures(pp, pg)
            if len(gi):
                np.add.at(park_a, gi, pa)
    with np.errstate(invalid="ignore", divide="ignore"):
        sl = np.where(act_l + car_l > 0, act_l / (act_l + car_l), np.nan)
        sa = np.where(act_a + green_a + car_a + park_a > 0, (act_a + green_a) / (act_a + green_a + car_a + park_a), np.nan)
    return {
        "stop_plan_active_share": {z: float(sl[i]) for i, z in enumerate(ZONES)},
        "stop_plan_active_space_share": {z: float(sa[i]) for i, z in enumerate(ZONES)},
    }


ZONE_FUNCTIONS: dict[str, Callable[..., dict[str, dict[str, float]]]] = {
    "green_per_resident": _zf_green_per_resident,
    "lts12": _zf_lts12,
    "fietsstraat_km": _zf_fietsstraat,
    "stop": _zf_stop,
    "stop_plan": _zf_stop_plan,
    "heat_p90": _zf_heat_p90,
    "sensitive_flood": _zf_sensitive_flood,
    "sensitive_noise": _zf_sensitive_noise,
    "sensitive_air": _zf_sensitive_air,
}
"""Zone-value functions of indicators that are not a plain per-home/per-cell mean."""


def zone_values(sit: Situation, zones: Zones, specs: tuple[IndicatorSpec, ...] = INDICATORS) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    """Value of every indicator in every zone, and the level it was computed at (cached per situation and zones)."""
    ck = hashlib.sha256(b"".join(shapely.to_wkb(zones.geom(z)) for z in ZONES) + repr([sp.key for sp in specs]).encode()).hexdigest()
    if ck not in sit.zone_cache:
        sit.zone_cache.clear()  # keep one entry: a baseline is screened against one plan area at a time
        sit.zone_cache[ck] = _zone_values(sit, zones, specs)
    return sit.zone_cache[ck]


def _zone_values(sit: Situation, zones: Zones, specs: tuple[IndicatorSpec, ...]) -> tuple[dict[tuple[str, str], float], dict[str, str]]:
    out: dict[tuple[str, str], float] = {}
    level: dict[str, str] = {}
    hmask = _home_zone_masks(sit.homes, zones)
    res = pd.to_numeric(sit.homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    cmask_cache: dict[int, dict[str, np.ndarray]] = {}
    fn_cache: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for sp in specs:
        fam = sit.families.get(sp.family)
        if fam is None:
            continue
        if sp.zone_fn:
            ck = (sp.family, sp.zone_fn)
            if ck not in fn_cache:
                fn_cache[ck] = ZONE_FUNCTIONS[sp.zone_fn](sit, fam, zones, hmask, res)
            if sp.key in fn_cache[ck]:
                for z in ZONES:
                    out[(sp.key, z)] = fn_cache[ck][sp.key][z]
                level[sp.key] = "zone"
                continue
        if sp.cell and sp.cell in fam.cells and fam.grid is not None:
            key = id(fam.grid)
            if key not in cmask_cache:
                cmask_cache[key] = _cell_zone_masks(fam.grid, zones)
            out.update(_cell_zone_means(sp.key, fam.cells[sp.cell], cmask_cache[key]))
            level[sp.key] = "cel"
        elif sp.home_col and fam.homes is not None and sp.home_col in fam.homes.columns:
            vals = pd.to_numeric(fam.homes[sp.home_col], errors="coerce").to_numpy(dtype=float)
            for z in ZONES:
                out[(sp.key, z)] = _weighted(vals, res, hmask[z])
            level[sp.key] = "woning"
        elif sp.seg_col and fam.segments is not None and sp.seg_col in fam.segments.columns:
            out.update(_segment_zone_values(sp, fam.segments, zones))
            level[sp.key] = "segment"
        elif sp.key in fam.per_wijk.columns:
            out.update(_wijk_zone_values(sit, sp, fam.per_wijk, zones))
            level[sp.key] = "wijk"
    return out, level


def _cell_zone_means(key: str, arr: np.ndarray, cmask: dict[str, np.ndarray]) -> dict[tuple[str, str], float]:
    """Mean of the known cells of ``arr`` per zone."""
    out = {}
    for z in ZONES:
        m = cmask[z] & np.isfinite(arr)
        out[(key, z)] = float(arr[m].mean()) if m.any() else float("nan")
    return out


def _segment_zone_values(sp: IndicatorSpec, seg: gpd.GeoDataFrame, zones: Zones) -> dict[tuple[str, str], float]:
    """Length-weighted mean of ``sp.seg_col`` over the segments whose midpoint lies in each zone."""
    mid = shapely.line_interpolate_point(np.asarray(seg.geometry.values, dtype=object), 0.5, normalized=True)
    vals = pd.to_numeric(seg[sp.seg_col], errors="coerce").to_numpy(dtype=float)
    lw = pd.to_numeric(seg["length_m"], errors="coerce").fillna(0).to_numpy(dtype=float)
    return {(sp.key, z): _weighted(vals, lw, _within_zone(mid, zones.geom(z))) for z in ZONES}


def _wijk_zone_values(sit: Situation, sp: IndicatorSpec, pw: pd.DataFrame, zones: Zones) -> dict[tuple[str, str], float]:
    """A per-wijk value over the surroundings' wijken and the city (sum or resident-weighted); none for the plan zone."""
    out = {}
    codes = pw["wijk_code"].astype(str).to_numpy()
    vals = pd.to_numeric(pw[sp.key], errors="coerce").to_numpy(dtype=float)
    wres = _wijk_residents(sit, pw)
    for z, sel in (("plan", None), ("omgeving", np.isin(codes, zones.omgeving_codes)), ("stad", np.ones(len(pw), bool))):
        if sel is None or not sel.any():
            out[(sp.key, z)] = float("nan")
        elif sp.wijk_agg == "sum":
            out[(sp.key, z)] = float(np.nansum(vals[sel]))
        else:
            out[(sp.key, z)] = _weighted(vals, wres, sel)
    return out


def _wijk_residents(sit: Situation, pw: pd.DataFrame) -> np.ndarray:
    if "residents" in pw.columns and pd.to_numeric(pw["residents"], errors="coerce").notna().any():
        return pd.to_numeric(pw["residents"], errors="coerce").fillna(0).to_numpy(dtype=float)
    r = pd.to_numeric(sit.homes["residents"], errors="coerce").fillna(0.0).groupby(sit.homes["wijk_code"].astype(str)).sum()
    return pw["wijk_code"].astype(str).map(r).fillna(0).to_numpy(dtype=float)


# --------------------------------------------------------------------------------------------
# the screening
# --------------------------------------------------------------------------------------------


@dataclass
class ScreeningResult:
    """Everything the report and the app show.

    Attributes
    ----------
    plan : Plan
    before, after : Situation
    zones : Zones
    deltas : DataFrame
        One row per indicator and zone: key, family, label, unit, zone, zone_label, before,
        after, delta (zone values over whoever lives there: context only), direction (of the
        existing residents: better/worse/mixed/neutral/na), direction_nl, light
        (groen/oranje/rood/neutraal/onbekend, from the existing and new residents only), status
        (berekend/onbekend) and unknown_reason, higher_is_better, level, residents (after, in
        the zone); existing residents: existing_residents, existing_before/after/change (mean
        over the same homes), residents_improved, residents_worsened, residents_65plus,
        residents_0_5 (of those improved or worsened, from each home's own wijk); new
        residents: new_residents, new_meet_share, new_verdict (voldoet/deels/voldoet niet),
        new_classes (noise and air levels: new residents per exposure class, Dutch text);
        removed residents: removed_residents, removed_65plus, removed_0_5; norm_source.
    applied : dict
        What apply_plan did (manifest ``plan.effects``).
    missing : dict
        Families or indicators that could not be computed, with the reason.
    mode : str
        ``full`` or ``local``.
    seconds : dict
        Timings (baseline, apply, after, compare, total).
    displacement : dict
        :func:`displacement`: homes and residents removed by the plan, 65+ and 0-5, per wijk.
    """

    plan: Plan
    before: Situation
    after: Situation
    zones: Zones
    deltas: pd.DataFrame
    applied: dict[str, Any]
    missing: dict[str, str]
    mode: str
    seconds: dict[str, float]
    displacement: dict[str, Any] = field(default_factory=dict)

    def value(self, key: str, zone: str, which: str = "after") -> float:
        row = self.deltas[(self.deltas["key"] == key) & (self.deltas["zone"] == zone)]
        return float(row[which].iloc[0]) if len(row) else float("nan")

    def row(self, key: str, zone: str) -> dict[str, Any] | None:
        row = self.deltas[(self.deltas["key"] == key) & (self.deltas["zone"] == zone)]
        return row.iloc[0].to_dict() if len(row) else None


DIRECTION_NL.setdefault("mixed", "gemengd")
LIGHTS_NL: dict[str, str] = {"groen": "groen", "oranje": "oranje", "rood": "rood", "neutraal": "neutraal", "onbekend": "onbekend"}
"""Lights of a screening row; ``onbekend`` is no light at all."""

FAMILY_NEEDS: dict[str, tuple[str, ...]] = {
    "network": ("streets",),
    "accessibility": ("streets",),
    "heat": ("landcover",),
    "water": ("landcover",),
    "traffic": ("streets",),
    "noise": ("streets",),
    "air": ("streets",),
}
"""Themes every indicator of a family is built on (see :func:`indicator_status`)."""

KEY_NEEDS: dict[str, tuple[str, ...]] = {
    "green_300m_05ha_share": ("streets", "green"),
    "green_per_resident_m2": ("green",),
    "stop_s": ("streets", "pois", "green"),
    "stop_t": ("streets", "pois"),
    "stop_o": ("streets", "pois"),
    "stop_p": ("streets", "landuse"),
    "stop_plan_active_space_share": ("streets", "landuse", "green"),
    "school_lts12_share": ("streets", "pois"),
    "wheelchair_reach_bus_stop": ("streets", "pois"),
    "walker_reach_park": ("streets", "green"),
    "flood_prone_share": ("landcover", "water"),
    "residents_flood_prone_share": ("landcover", "water"),
    "sensitive_flood_n": ("landcover", "water", "pois"),
    "destinations_above_who_lden": ("streets", "pois"),
    "destinations_above_who_no2": ("streets", "pois"),
}
"""Themes an indicator is built on besides its family's (a missing or partial one makes it 'onbekend')."""

THEME_NL: dict[str, str] = {
    "streets": "straten", "green": "groen", "pois": "voorzieningen", "landuse": "landgebruik", "water": "water",
    "buildings": "gebouwen", "landcover": "bodembedekking", "wijken": "wijken",
}

BOOL_HOME_COLS: frozenset[str] = frozenset(
    {"green_300m_05ha", "centre_lts12", "school_lts12", "wheelchair_reach_bus_stop", "walker_reach_park", "hot", "flood_prone",
     "above_who_lden", "above_who_lnight", "above_who_no2", "above_who_pm25"}
)
"""Per-home columns that are yes/no (1/0): a home is better or worse when its answer flips."""

GATED_HOME_COLS: dict[str, tuple[str, str]] = {
    "hot": ("heat", "heat_c"),
    "above_who_lden": ("noise", "lden_db"),
    "highly_annoyed_share": ("noise", "lden_db"),
    "above_who_lnight": ("noise", "lnight_db"),
    "highly_sleep_disturbed_share": ("noise", "lnight_db"),
    "above_who_no2": ("air", "no2_ugm3"),
    "above_who_pm25": ("air", "pm25_ugm3"),
}
"""Per-home columns derived from a level: a home only counts as better or worse on them when that
level itself moved beyond its tolerance (a home at 52,9 -> 53,1 dB does not cross the guideline)."""

HOME_NORMS: dict[str, tuple[str, str]] = {
    "lden_db": ("noise", "who_road_lden_db"),
    "lnight_db": ("noise", "who_road_lnight_db"),
    "no2_ugm3": ("air", "who_no2_ugm3"),
    "pm25_ugm3": ("air", "who_pm25_ugm3"),
}
"""Per-home levels judged against a guideline for new residents (value <= norm meets it; WHO 2018 road
traffic noise, WHO 2021 air quality)."""

SENSITIVE_CATEGORIES: frozenset[str] = frozenset(
    {"school", "kindergarten", "childcare", "care_home", "nursing_home", "hospital"}
)
"""POI categories counted as sensitive destinations (schools, childcare, care)."""


def theme_status(area: StudyArea, theme: str) -> str:
    """``present``, ``partial`` or ``missing`` for a vector theme or ``landcover``.

    A land-cover raster is as complete as what it is rasterised from: ``partial`` when the
    buildings, green or streets it is built from are missing or partial (a manifest entry
    ``landcover.status`` set by the preparation takes precedence).
    """
    if theme == "landcover":
        if area.landcover is None:
            return "missing"
        st = (area.manifest.get("landcover") or {}).get("status") if isinstance(area.manifest.get("landcover"), dict) else None
        if st in ("present", "partial", "missing"):
            return st
        parts = [theme_status(area, t) for t in ("buildings", "green", "streets")]
        return "present" if all(p == "present" for p in parts) else "partial"
    if not area.has(theme):
        return "missing"
    return area.theme_info(theme).status or "missing"


def indicator_status(sp: IndicatorSpec, *areas: StudyArea) -> tuple[str, str]:
    """(``berekend`` or ``onbekend``, Dutch reason) of an indicator on the given areas (before and after).

    Unknown when any theme it is built on (:data:`FAMILY_NEEDS`, :data:`KEY_NEEDS`) is missing
    or partial in any of the areas: one definition before and after, and never a number from a
    missing theme.
    """
    needs = tuple(dict.fromkeys(FAMILY_NEEDS.get(sp.family, ()) + KEY_NEEDS.get(sp.key, ())))
    bad = []
    for t in needs:
        sts = {theme_status(a, t) for a in areas if a is not None}
        if "missing" in sts:
            bad.append(f"{THEME_NL.get(t, t)} ontbreken")
        elif "partial" in sts:
            bad.append(f"{THEME_NL.get(t, t)} onvolledig")
    if bad:
        return "onbekend", "onbekend: " + ", ".join(bad)
    return "berekend", ""


def hot_threshold_c(before: Situation) -> float:
    """Heat-island anomaly (°C) from which a place is among the city's hottest: the ``hot_city_quantile`` of the baseline's cells."""
    fam = before.families.get("heat")
    if fam is None or "heat_index" not in fam.cells:
        return float("nan")
    h = load_norms("heat")
    arr = fam.cells["heat_index"]
    v = arr[np.isfinite(arr)]
    return float(np.quantile(v, float(h["hot_city_quantile"].value)) * float(h["uhi_max_c"].value)) if v.size else float("nan")


def _set_hot(sit: Situation, thr_c: float) -> None:
    fam = sit.families.get("heat")
    if fam is None or fam.homes is None or "heat_c" not in fam.homes.columns:
        return
    c = fam.homes["heat_c"].to_numpy(dtype=float)
    hot = np.where(np.isfinite(c) & np.isfinite(thr_c), (c >= thr_c - 1e-12).astype(float), np.nan)
    if "hot" not in fam.homes.columns or not np.array_equal(fam.homes["hot"].to_numpy(dtype=float), hot, equal_nan=True):
        fam.homes = fam.homes.assign(hot=hot)
        sit.zone_cache.clear()


def tolerance(unit: str, before: float = float("nan")) -> float:
    """Change below which a zone value is neutral, by unit (``data/norms/screening.toml``)."""
    s = load_norms("screening")
    by_unit = {"%": "delta_neutral_share", "°C": "delta_neutral_c", "index": "delta_neutral_index", "mm": "delta_neutral_mm", "/100": "delta_neutral_score"}
    if unit in by_unit:
        return float(s[by_unit[unit]].value)
    if unit == "aantal":
        return 0.5
    if unit == "dB":
        return float(s["delta_neutral_db"].value)
    if unit == "µg/m³":
        return float(s["delta_neutral_ugm3"].value)
    if unit == "mvt/etmaal":
        return float(s["delta_neutral_aadt_relative"].value) * abs(before) if np.isfinite(before) else float("nan")
    rel = float(s["delta_neutral_relative"].value) * abs(before) if np.isfinite(before) else 0.0
    return max(float(s["delta_neutral_absolute"].value), rel)


def direction(before: float, after: float, higher_is_better: bool | None, unit: str | None = None) -> str:
    """``better``, ``worse``, ``neutral`` or ``na`` (not comparable) for a change of a zone value.

    Without ``unit``: changes within ``delta_neutral_relative`` of the before value (or
    ``delta_neutral_absolute``) are neutral. With a unit, the absolute tolerance of that unit
    (:func:`tolerance`). Indicators without a direction are always neutral.
    """
    if not (np.isfinite(before) and np.isfinite(after)):
        return "na"
    if unit is None:
        s = load_norms("screening")
        tol = max(float(s["delta_neutral_absolute"].value), float(s["delta_neutral_relative"].value) * abs(before))
    else:
        tol = tolerance(unit, before)
    d = after - before
    if abs(d) <= tol or higher_is_better is None:
        return "neutral"
    return "better" if (d > 0) == bool(higher_is_better) else "worse"


def _wijk_shares(area: StudyArea) -> dict[str, dict[str, float]]:
    """Share of residents aged 65+ and 0-5 per wijk code (absent when the wijken do not say)."""
    w = area.wijken
    out: dict[str, dict[str, float]] = {"residents_65plus": {}, "residents_0_5": {}}
    if "residents" not in w.columns:
        return out
    res = pd.to_numeric(w["residents"], errors="coerce").to_numpy(dtype=float)
    codes = w["wijk_code"].astype(str).to_numpy()
    for col in out:
        if col in w.columns:
            v = pd.to_numeric(w[col], errors="coerce").to_numpy(dtype=float)
            out[col] = {c: (float(x / r) if np.isfinite(x) and r > 0 else float("nan")) for c, x, r in zip(codes, v, res)}
    return out


def _age_counts(homes: gpd.GeoDataFrame, sel: np.ndarray, shares: dict[str, dict[str, float]]) -> tuple[float, float]:
    """Residents 65+ and 0-5 among the selected homes, from each home's own wijk (NaN when unknown)."""
    res = pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    codes = homes["wijk_code"].astype(str).to_numpy() if "wijk_code" in homes else np.full(len(homes), "")
    out = []
    for col in ("residents_65plus", "residents_0_5"):
        m = shares.get(col) or {}
        if not m or not sel.any():
            out.append(float("nan") if not m else 0.0)
            continue
        f = np.array([m.get(c, np.nan) for c in codes[sel]], dtype=float)
        out.append(float(np.nansum(res[sel] * f)) if np.isfinite(f).any() else float("nan"))
    return out[0], out[1]


def _home_values(sit: Situation, family: str, col: str) -> np.ndarray | None:
    fam = sit.families.get(family)
    if fam is None or fam.homes is None or col not in fam.homes.columns:
        return None
    return _as_float(fam.homes, col, len(fam.homes))


def _meets(col: str, v: np.ndarray, hib: bool | None) -> np.ndarray | None:
    """Whether each value meets the indicator's norm (NaN where unknown); None when it has no per-home norm."""
    ok = np.isfinite(v)
    if col in BOOL_HOME_COLS:
        good = (v >= 0.5) if hib else (v < 0.5)
    elif col == "canopy_walk":
        good = v >= float(load_norms("heat")["canopy_walk_target_share"].value) - 1e-12
    elif col in HOME_NORMS:
        fam, key = HOME_NORMS[col]
        good = v <= float(load_norms(fam)[key].value) + 1e-12
    else:
        return None
    return np.where(ok, good.astype(float), np.nan)


def exposure_classes(col: str, v: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """Class index per home (-1 unknown) and Dutch class labels of a noise or air level (None for other columns).

    Noise: the 5 dB classes of ``class_edges_lden_db`` / ``class_edges_lnight_db`` (as the GES);
    air: the WHO 2021 / EU classes of ``no2_class_breaks_ugm3`` / ``pm25_class_breaks_ugm3``.
    """
    if col in ("lden_db", "lnight_db"):
        e = [float(x) for x in load_norms("noise")[f"class_edges_{col.split('_')[0]}_db"].value]
        labels = [f"< {fmt_number(e[0])} dB"] + [f"{fmt_number(e[i])}-{fmt_number(e[i + 1] - 1)} dB" for i in range(len(e) - 1)] + [f">= {fmt_number(e[-1])} dB"]
        idx = np.searchsorted(np.asarray(e), np.floor(np.nan_to_num(v, nan=-1e9) + 1e-9), side="right")
    elif col in ("no2_ugm3", "pm25_ugm3"):
        a = load_norms("air")
        e = [float(x) for x in a[f"{col.split('_')[0]}_class_breaks_ugm3"].value]
        labels = [f"{lab} ({'≤' if i == 0 else '>'} {fmt_number(e[max(i - 1, 0)] if i else e[0])} µg/m³)" for i, lab in enumerate(list(a["class_labels"].value)[: len(e) + 1])]
        idx = np.searchsorted(np.asarray(e), np.nan_to_num(v, nan=-1e9), side="left")
    else:
        return None
    return np.where(np.isfinite(v), idx, -1), labels


def _class_counts_nl(col: str, v: np.ndarray, res: np.ndarray, sel: np.ndarray) -> str:
    """Residents of ``sel`` per exposure class of ``col``, in Dutch (``'55-59 dB: 46; 60-64 dB: 92 inwoners'``)."""
    ec = exposure_classes(col, v)
    if ec is None or not sel.any():
        return ""
    idx, labels = ec
    parts = [f"{labels[k]}: {fmt_people(res[sel & (idx == k)].sum())}" for k in range(len(labels)) if res[sel & (idx == k)].sum() > 0]
    unk = res[sel & (idx < 0)].sum()
    if unk > 0:
        parts.append(f"onbekend: {fmt_people(unk)}")
    return "; ".join(parts) + " inwoners" if parts else ""


def _home_tolerance(col: str) -> float:
    if col in BOOL_HOME_COLS:
        return 0.5
    if col == "heat_c":
        return float(load_norms("screening")["delta_neutral_c"].value)
    if col == "canopy_walk":
        return float(load_norms("screening")["delta_neutral_share"].value)
    if col in ("lden_db", "lnight_db"):
        return float(load_norms("screening")["delta_neutral_db"].value)
    if col == "no2_ugm3":
        return float(load_norms("screening")["delta_neutral_ugm3"].value)
    if col == "pm25_ugm3":
        return float(load_norms("screening")["delta_neutral_pm25_ugm3"].value)
    return 1e-9


def _verdict_existing(up: float, down: float) -> str:
    if not (np.isfinite(up) and np.isfinite(down)):
        return "na"
    if up > 0 and down > 0:
        return "mixed"
    if down > 0:
        return "worse"
    if up > 0:
        return "better"
    return "neutral"


def _verdict_new(share: float, n_new: float) -> str:
    if not n_new or n_new <= 0 or not np.isfinite(share):
        return ""
    if share >= 1.0 - 1e-9:
        return "voldoet"
    if share >= float(load_norms("screening")["new_residents_partial_share"].value):
        return "deels"
    return "voldoet niet"


AIR_SITE_COLS: dict[str, str] = {"no2_ugm3": "no2", "pm25_ugm3": "pm25", "above_who_no2": "no2", "above_who_pm25": "pm25"}
"""Per-home air columns whose new-residents verdict follows the site rule of :func:`spatial.air.site_light`
(EU 2030 limit value, near-road increment), not the WHO guideline alone (the background is above it almost everywhere)."""

AIR_ABOVE_WHO = "boven WHO-advieswaarde"
AIR_ABOVE_WHO_BACKGROUND = "boven WHO-advieswaarde door de achtergrond"
AIR_ORANGE_VERDICTS: frozenset[str] = frozenset({AIR_ABOVE_WHO, AIR_ABOVE_WHO_BACKGROUND})
"""New-residents verdicts of an air row whose homes all pass the site rule but lie above the WHO guideline (orange)."""


def _air_site_verdict(sit: Situation, col: str | None, newm: np.ndarray, res: np.ndarray, share: float, verdict: str) -> tuple[float, str]:
    """(share of new residents meeting the norm, verdict) of a row; an air row is judged by the site rule.

    For :data:`AIR_SITE_COLS` a new resident misses the norm where the home is red in
    :func:`spatial.air.site_light` (above the EU 2030 limit value, or a near-road increment 'in
    betekenende mate': ``data/norms/air.toml`` ``site_increment_share_of_limit``). When every new
    resident meets it but some live above the WHO guideline the verdict is :data:`AIR_ABOVE_WHO_BACKGROUND`
    (the background alone is above WHO) or :data:`AIR_ABOVE_WHO`: orange, not red. Other rows, or
    no new residents, keep ``share`` and ``verdict``.
    """
    pol = AIR_SITE_COLS.get(col or "")
    fam = sit.families.get("air")
    if pol is None or fam is None or fam.homes is None or f"{pol}_site_light" not in fam.homes.columns or not newm.any():
        return share, verdict
    lt = fam.homes[f"{pol}_site_light"].to_numpy(dtype=float)
    known = newm & (lt >= 0)
    if res[known].sum() <= 0:
        return share, verdict
    share = float(res[known & (lt < 2)].sum() / res[known].sum())
    verdict = _verdict_new(share, float(res[newm].sum()))
    if verdict == "voldoet" and res[known & (lt == 1)].sum() > 0:
        p = getattr(fam.raw, "params", None)
        bg_over = p is not None and float(getattr(p, f"background_{pol}_ugm3")) > float(getattr(p, f"who_{pol}_ugm3"))
        verdict = AIR_ABOVE_WHO_BACKGROUND if bg_over else AIR_ABOVE_WHO
    return share, verdict


def light(existing: str, new: str, status: str = "berekend") -> str:
    """The light of a row, from the existing residents' verdict and the new residents' norm verdict only.

    ``onbekend`` (no light) when the indicator is unknown; ``rood`` when existing residents are
    worse off (and none better) or the new residents miss the norm; ``oranje`` when both
    happen (some better, some worse) or only part of the new residents meet the norm (or, for air,
    all meet the site rule but live above the WHO guideline: :data:`AIR_ORANGE_VERDICTS`);
    ``groen`` when existing residents gain (or the new residents all meet the norm) and nothing
    is worse; else ``neutraal``.
    """
    if status != "berekend" or existing == "na" and not new:
        return "onbekend"
    if existing == "worse" or new == "voldoet niet":
        return "rood"
    if existing == "mixed" or new == "deels" or new in AIR_ORANGE_VERDICTS:
        return "oranje"
    if existing == "better" or new == "voldoet":
        return "groen"
    return "neutraal"


def _segment_unknown_share(sit: Situation, zones: Zones) -> dict[str, float]:
    fam = sit.families.get("accessibility")
    if fam is None or fam.segments is None or "verdict_wheelchair" not in fam.segments.columns:
        return {z: float("nan") for z in ZONES}
    seg = fam.segments
    inz = _seg_in_zone(seg, zones)
    unk = (seg["verdict_wheelchair"].astype(str).to_numpy() == "unknown")
    L = pd.to_numeric(seg["length_m"], errors="coerce").fillna(0).to_numpy(dtype=float)
    return {z: float(L[inz[z] & unk].sum() / L[inz[z]].sum()) if L[inz[z]].sum() > 0 else float("nan") for z in ZONES}


@dataclass(frozen=True)
class _Comparison:
    """What every indicator row of :func:`compare_situations` reads: homes matched before/after, zone values."""

    before: Situation
    after: Situation
    pos: np.ndarray  # per home after: its row before, -1 for a new home
    exist_a: np.ndarray  # per home after: it existed before
    hmask: dict[str, np.ndarray]  # per zone: homes after in the zone
    ex_a: dict[str, np.ndarray]  # per zone: existing homes after in the zone
    res: np.ndarray  # residents per home after
    shares_b: dict[str, dict[str, float]]  # age make-up per wijk before the plan
    vb: dict[tuple[str, str], float]
    va: dict[tuple[str, str], float]
    lb: dict[str, str]
    la: dict[str, str]
    same: dict[str, tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]]
    removed: dict[str, tuple[float, float, float]]
    seg_unknown: dict[str, float]
    max_unknown: float


def compare_situations(before: Situation, after: Situation, plan: Plan, zones: Zones, specs: tuple[IndicatorSpec, ...] = INDICATORS) -> tuple[pd.DataFrame, dict[str, str]]:
    """The before/after table (see :class:`ScreeningResult`) and the indicators that are missing.

    Every per-home indicator is split three ways: **existing residents** (the same homes before
    and after: residents better / worse off beyond the tolerance, mean change), **new
    residents** (share meeting the norm) and **removed residents** (displacement, with 65+ and
    0-5 from each home's own wijk). The direction and the light come from the first two only;
    zone values before/after (over whoever lives there) are context. An indicator built on a
    missing or partial theme is ``onbekend``: no number, no light.
    """
    cmp = _comparison(before, after, zones, specs)
    missing: dict[str, str] = {f: msg for f, msg in {**before.errors, **after.errors}.items()}
    rows = []
    for sp in specs:
        if sp.family not in after.families:
            continue
        if sp.key not in cmp.la and sp.key not in cmp.lb:
            missing[sp.key] = f"niet berekend: de familie '{sp.family}' levert '{sp.key}' niet"
            continue
        src = _norm_source(sp)
        status, reason = indicator_status(sp, before.area, after.area)
        col = sp.home_col
        hb = _home_values(before, sp.family, col) if col else None
        ha = _home_values(after, sp.family, col) if col else None
        for z in ZONES:
            rows.append(_zone_row(cmp, sp, z, status, reason, src, hb, ha))
    return pd.DataFrame(rows), missing


def _comparison(before: Situation, after: Situation, zones: Zones, specs: tuple[IndicatorSpec, ...]) -> _Comparison:
    """Match the homes before and after, compute the zone values and what the removed residents were."""
    thr = hot_threshold_c(before)
    _set_hot(before, thr)
    _set_hot(after, thr)
    vb, lb = zone_values(before, zones, specs)
    va, la = zone_values(after, zones, specs)
    hmask = _home_zone_masks(after.homes, zones)
    hmask_b = _home_zone_masks(before.homes, zones)
    res = pd.to_numeric(after.homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    res_b = pd.to_numeric(before.homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    keys_a = situation_keys(after)
    pos = before_positions(before, after.homes, keys_a)
    exist_a = pos >= 0
    exist_b = np.zeros(len(before.homes), bool)
    exist_b[pos[exist_a]] = True
    gone_b = ~exist_b
    shares_b = _wijk_shares(before.area)
    removed = {}
    for z in ZONES:
        sel = gone_b & hmask_b[z]
        r65, r05 = _age_counts(before.homes, sel, shares_b)
        removed[z] = (float(res_b[sel].sum()), r65, r05)
    # zone values of resident-weighted zone functions over the same homes before and after
    ex_b = {k: hmask_b[k] & exist_b for k in ZONES}
    ex_a = {k: hmask[k] & exist_a for k in ZONES}
    same: dict[str, tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]] = {}
    if "network" in before.families and "network" in after.families:
        same["stop"] = (_zf_stop(before, before.families["network"], zones, ex_b, res_b), _zf_stop(after, after.families["network"], zones, ex_a, res))
        # m² per resident for the residents who stay: arrivals and departures do not move it
        same["green_per_resident"] = (_zf_green_per_resident(before, before.families["network"], zones, ex_b, res_b),
                                      _zf_green_per_resident(after, after.families["network"], zones, ex_a, res))
    su_b, su_a = _segment_unknown_share(before, zones), _segment_unknown_share(after, zones)
    seg_unknown = {z: max(_nan0(su_b[z]), _nan0(su_a[z])) for z in ZONES}
    max_unknown = float(load_norms("screening")["unknown_segment_max_share"].value)
    return _Comparison(before, after, pos, exist_a, hmask, ex_a, res, shares_b, vb, va, lb, la, same, removed, seg_unknown, max_unknown)


def _norm_source(sp: IndicatorSpec) -> str:
    """The citation of the indicator's norm ("" without one)."""
    if not sp.norm:
        return ""
    try:
        return load_norms(sp.norm[0])[sp.norm[1]].source
    except KeyError:
        return ""


def _moved_homes(cmp: _Comparison, sp: IndicatorSpec, d: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(better off, worse off) per existing home: its change ``d`` beyond the tolerance, the good way round."""
    col = sp.home_col
    tol = _home_tolerance(col)
    up = ok & (d > tol - 1e-12) if col in BOOL_HOME_COLS else ok & (d > tol)
    down = ok & (d < -tol + 1e-12) if col in BOOL_HOME_COLS else ok & (d < -tol)
    if col in GATED_HOME_COLS:
        # a home only moves in or out of the hottest places (or across a guideline) when
        # the level it is derived from changes beyond that level's tolerance
        gfam, gcol = GATED_HOME_COLS[col]
        cb, ca = _home_values(cmp.before, gfam, gcol), _home_values(cmp.after, gfam, gcol)
        if cb is not None and ca is not None:
            dc = ca - np.where(cmp.exist_a, cb[np.maximum(cmp.pos, 0)] if len(cb) else np.nan, np.nan)
            moved = np.abs(np.nan_to_num(dc)) > _home_tolerance(gcol)
            # and in the same direction (the WHO annoyance curve falls below 45,6 dB)
            up, down = up & moved & (np.nan_to_num(dc) > 0), down & moved & (np.nan_to_num(dc) < 0)
    if sp.higher_is_better is False:
        up, down = down, up
    elif sp.higher_is_better is None:
        up = down = np.zeros(len(d), bool)
    return up, down


def _per_home_effects(cmp: _Comparison, sp: IndicatorSpec, z: str, hb: np.ndarray, ha: np.ndarray) -> dict[str, Any]:
    """Existing residents better / worse off and their mean change, new residents meeting the norm, in zone ``z``."""
    col = sp.home_col
    res, exist_a, ex_a = cmp.res, cmp.exist_a, cmp.ex_a[z]
    nan = float("nan")
    vb_h = np.where(exist_a, hb[np.maximum(cmp.pos, 0)] if len(hb) else np.nan, np.nan)
    ok = ex_a & np.isfinite(vb_h) & np.isfinite(ha)
    d = ha - vb_h
    up, down = _moved_homes(cmp, sp, d, ok)
    e: dict[str, Any] = {"ex_n": float(res[ex_a].sum()), "ex_up": float(res[up].sum()), "ex_down": float(res[down].sum()),
                         "ex_change": nan, "ex_before": nan, "ex_after": nan, "new_share": nan}
    w = res[ok]
    if w.sum() > 0:
        e["ex_change"] = float(np.sum(d[ok] * w) / w.sum())
        e["ex_before"] = float(np.sum(vb_h[ok] * w) / w.sum())
        e["ex_after"] = float(np.sum(ha[ok] * w) / w.sum())
    e["r65"], e["r05"] = _age_counts(cmp.after.homes, up | down, cmp.shares_b)  # existing residents: their wijk's make-up before the plan
    newm = cmp.hmask[z] & ~exist_a
    e["new_n"] = new_n = float(res[newm].sum())
    e["new_classes"] = _class_counts_nl(col, ha, res, newm) if new_n > 0 else ""
    mt = _meets(col, ha, sp.higher_is_better)
    if mt is not None and new_n > 0:
        kn = newm & np.isfinite(mt)
        e["new_share"] = float(np.sum(res[kn] * mt[kn]) / res[kn].sum()) if res[kn].sum() > 0 else nan
    ev = _verdict_existing(e["ex_up"], e["ex_down"]) if e["ex_n"] > 0 else "neutral"
    if e["ex_n"] > 0 and not ok.any() and not (ex_a & np.isfinite(ha)).any():
        ev = "na"
    e["ev"] = ev
    return e


def _zone_effects(cmp: _Comparison, sp: IndicatorSpec, z: str, b: float, a: float, hb: np.ndarray | None, ha: np.ndarray | None) -> dict[str, Any]:
    """The existing / new residents' effects in zone ``z``: per home when the family gives home values,
    else over the same homes (stops, green per resident), else the zone values' direction."""
    if hb is not None and ha is not None:
        return _per_home_effects(cmp, sp, z, hb, ha)
    nan = float("nan")
    e: dict[str, Any] = {k: nan for k in ("ex_n", "ex_up", "ex_down", "ex_change", "ex_before", "ex_after", "new_n", "new_share", "r65", "r05")}
    e["new_classes"] = ""
    same = cmp.same.get(sp.zone_fn) if sp.zone_fn in ("stop", "green_per_resident") else None
    if same is not None and sp.key in same[0] and sp.key in same[1]:
        e["ex_before"], e["ex_after"] = same[0][sp.key][z], same[1][sp.key][z]
        e["ex_change"] = e["ex_after"] - e["ex_before"] if np.isfinite(e["ex_before"]) and np.isfinite(e["ex_after"]) else nan
        e["ev"] = direction(e["ex_before"], e["ex_after"], sp.higher_is_better, sp.unit)
    else:
        e["ev"] = direction(b, a, sp.higher_is_better, sp.unit)
    return e


def _zone_row(cmp: _Comparison, sp: IndicatorSpec, z: str, status: str, reason: str, src: str,
              hb: np.ndarray | None, ha: np.ndarray | None) -> dict[str, Any]:
    """One row of the before/after table: indicator ``sp`` in zone ``z``."""
    b = cmp.vb.get((sp.key, z), float("nan"))
    a = cmp.va.get((sp.key, z), float("nan"))
    zstatus, zreason = status, reason
    if zstatus == "berekend" and sp.family == "accessibility" and cmp.seg_unknown[z] > cmp.max_unknown:
        zstatus, zreason = "onbekend", f"onbekend: van {100 * cmp.seg_unknown[z]:.0f} % van de looproutes is het oordeel niet gekend"
    e = _zone_effects(cmp, sp, z, b, a, hb, ha)
    ev, new_classes = e["ev"], e["new_classes"]
    ex_up, ex_down, ex_change, ex_before, ex_after = e["ex_up"], e["ex_down"], e["ex_change"], e["ex_before"], e["ex_after"]
    nv = _verdict_new(e["new_share"], e["new_n"])
    new_share, nv = _air_site_verdict(cmp.after, sp.home_col, cmp.hmask[z] & ~cmp.exist_a, cmp.res, e["new_share"], nv)
    if zstatus != "berekend":
        b = a = ex_change = ex_before = ex_after = new_share = ex_up = ex_down = float("nan")
        ev, nv, new_classes = "na", "", ""
    removed = cmp.removed[z]
    return {
        "key": sp.key,
        "family": sp.family,
        "label": sp.label,
        "unit": sp.unit,
        "zone": z,
        "zone_label": ZONE_LABELS_NL[z],
        "before": b,
        "after": a,
        "delta": a - b if np.isfinite(a) and np.isfinite(b) else float("nan"),
        "direction": ev,
        "direction_nl": DIRECTION_NL[ev],
        "light": light(ev, nv, zstatus),
        "status": zstatus,
        "unknown_reason": zreason,
        "higher_is_better": sp.higher_is_better,
        "level": cmp.la.get(sp.key, cmp.lb.get(sp.key, "")),
        "residents": float(cmp.res[cmp.hmask[z]].sum()),
        "existing_residents": e["ex_n"],
        "existing_before": ex_before,
        "existing_after": ex_after,
        "existing_change": ex_change,
        "residents_improved": ex_up,
        "residents_worsened": ex_down,
        "residents_65plus": e["r65"],
        "residents_0_5": e["r05"],
        "new_residents": e["new_n"],
        "new_meet_share": new_share,
        "new_verdict": nv,
        "new_classes": new_classes,
        "removed_residents": removed[0],
        "removed_65plus": removed[1],
        "removed_0_5": removed[2],
        "norm_source": src,
    }


def displacement(before: Situation, after: Situation) -> dict[str, Any]:
    """Homes and residents the plan removes (demolished or replaced), with 65+ and 0-5 from each home's own wijk."""
    pos = before_positions(before, after.homes, situation_keys(after))
    exist_b = np.zeros(len(before.homes), bool)
    exist_b[pos[pos >= 0]] = True
    gone = ~exist_b
    res = pd.to_numeric(before.homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    r65, r05 = _age_counts(before.homes, gone, _wijk_shares(before.area))
    per_wijk = pd.Series(res[gone]).groupby(before.homes["wijk_code"].astype(str).to_numpy()[gone]).sum() if gone.any() else pd.Series(dtype=float)
    return {
        "homes": int(gone.sum()),
        "residents": float(res[gone].sum()),
        "residents_65plus": r65,
        "residents_0_5": r05,
        "per_wijk": {str(k): float(v) for k, v in per_wijk.items()},
    }


def _nan0(v: float) -> float:
    return float(v) if np.isfinite(v) else 0.0



def screen(
    area: StudyArea,
    plan: Plan,
    *,
    before: Situation | None = None,
    local: bool = False,
    families: tuple[str, ...] | None = None,
    buffer_m: float | None = None,
) -> ScreeningResult:
    """Screen ``plan`` on ``area``: apply it, compute every indicator before and after, compare.

    Parameters
    ----------
    area : StudyArea
        The study area as it is (not modified).
    plan : Plan
        From :func:`screening.plan.read_plan`.
    before : Situation, optional
        A baseline of ``area`` (:func:`compute_baseline` / :func:`load_or_compute_baseline`);
        computed here when None.
    local : bool
        Recompute the "after" situation only near the plan (see module docstring).
    families : tuple of str, optional
        Indicator families to run (default all of :data:`FAMILIES`).
    buffer_m : float, optional
        Buffer of the surroundings zone (default ``surroundings_buffer_m``).

    Returns
    -------
    ScreeningResult
    """
    t0 = time.perf_counter()
    sec: dict[str, float] = {}
    if before is None:
        before = compute_situation(area, families)
        sec["baseline"] = time.perf_counter() - t0
    else:
        sec["baseline"] = 0.0
    t = time.perf_counter()
    after_area = apply_plan(area, plan)
    sec["apply"] = time.perf_counter() - t
    t = time.perf_counter()
    if local:
        after = compute_after_local(before, after_area, plan)
    else:
        after = compute_situation(after_area, tuple(before.families) or families, homes=homes_after_plan(before, after_area, plan),
                                  ctx=PlanContext(area, plan, before, local=False))
    sec["after"] = time.perf_counter() - t
    t = time.perf_counter()
    zones = make_zones(after_area, plan, buffer_m)
    deltas, missing = compare_situations(before, after, plan, zones)
    disp = displacement(before, after)
    sec["compare"] = time.perf_counter() - t
    sec["total"] = time.perf_counter() - t0
    return ScreeningResult(plan, before, after, zones, deltas, after_area.manifest.get("plan", {}).get("effects", {}), missing, "local" if local else "full", sec, disp)


def compute_baseline(area: StudyArea, families: tuple[str, ...] | None = None) -> Situation:
    """The "before" situation of ``area`` (alias of :func:`compute_situation`, for callers that cache it)."""
    return compute_situation(area, families)


__all__ = [
    "INDICATORS",
    "IndicatorSpec",
    "FAMILIES",
    "Situation",
    "Zones",
    "ScreeningResult",
    "compute_situation",
    "compute_baseline",
    "load_or_compute_baseline",
    "compute_after_local",
    "make_zones",
    "zone_values",
    "compare_situations",
    "direction",
    "screen",
    "local_reach_m",
    "heat_influence_m",
]
