"""Road and railway noise (CNOSSOS-EU) at every home, every sensitive destination and on a grid.

Pipeline (every number in ``data/norms/noise.toml`` and the per-band tables
``cnossos_road.csv`` / ``cnossos_rail.csv``):

1. **Emission** per street segment (:func:`road_emission`; traffic from
   :mod:`gezondestad.spatial.traffic`; road surface from the OSM ``surface`` tag and the
   acceleration correction near traffic lights and roundabouts from :func:`road_conditions`)
   and per railway track (:func:`rail_emission`: rolling and traction noise): sound power per
   metre per octave band and per period (day 07-19, evening 19-23, night 23-07).
2. **Sources**: every line is cut into point sources every ``source_spacing_m``; far away
   (beyond ``near_distance_m``) the points are merged per ``coarse_cell_m`` cell (energy sum at
   the energy-weighted centre).
3. **Paths** (:func:`noise_at_receivers`): for every receiver the sources within
   ``max_distance_m`` (scipy cKDTree); each path is sampled every ``path_sample_m`` on a
   building-height raster and a ground-factor raster: the soft-ground share gives ``G_path``,
   the building edge with the largest path difference is the diffracting edge. CNOSSOS-EU
   propagation (:mod:`gezondestad.spatial.cnossos`) in homogeneous and favourable conditions,
   combined with the favourable share per period. All vectorised; receivers in blocks
   (``block_receivers``) so memory stays bounded.
4. **Receivers**: the most exposed facade of every home (4 m high, just in front of the facade
   points facing its nearest streets and railway: chosen from the geometry, never from the
   traffic, so a plan compares the same facades), every sensitive destination, and a grid.
5. **Judgement**: Lden/Lnight (+5/+10 dB evening/night penalties), WHO 2018 guideline values
   per source type, 5 dB exposure classes, % highly annoyed / highly sleep-disturbed (WHO 2018
   exposure-response curves), and per wijk population-weighted means and counts per class.

Simplifications (also in the result's notes): flat ground and flat roads (no terrain model, so
no gradient correction), one diffracting edge per path (the dominant one), no reflections, no
lateral diffraction; one junction correction per street segment (its mean along the segment);
railway rolling and traction noise of one reference vehicle with assumed train numbers unless
the railways carry ``trains_per_day`` (see ``rail_*`` norms); no aerodynamic, impact or squeal noise.
"""

from __future__ import annotations

import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.geometry import buffer_union
from gezondestad.model.norms import load_norms, load_table
from gezondestad.model.result import FamilyResult
from gezondestad.model.studyarea import LandCover, StudyArea
from gezondestad.model.topology import node_lines
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial import cnossos
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points
from gezondestad.spatial.raster import sample_raster_file
from gezondestad.spatial.traffic import TrafficParams, plan_traffic, traffic_per_segment
from rasterio import features as rfeatures
from scipy import ndimage
from scipy.spatial import cKDTree

logger = logging.getLogger(__name__)

PERIODS: tuple[str, ...] = ("day", "evening", "night")
PERIOD_HOURS = np.array([12.0, 4.0, 8.0])
KINDS: tuple[str, ...] = ("road", "rail")


class NoiseError(GezondeStadError):
    """The noise layer cannot be computed; the Dutch message says what is missing."""


@dataclass(frozen=True)
class NoiseParams:
    """Every number of the noise layer (sources in ``data/norms/noise.toml`` and the CSV tables)."""

    a_weighting_db: tuple[float, ...] = ()
    road_speed_min_kmh: float = 20.0
    road_speed_ref_kmh: float = 70.0
    road_temperature_ref_c: float = 20.0
    road_temperature_k_light: float = 0.08
    road_temperature_k_heavy: float = 0.04
    annual_mean_temperature_c: float = 11.0
    relative_humidity_pct: float = 70.0
    medium_share_of_heavy: dict = field(default_factory=dict)
    road_source_height_m: float = 0.05
    road_ground_factor_source: float = 0.0
    rail_source_height_m: float = 0.5
    rail_ground_factor_source: float = 1.0
    rail_speed_ref_kmh: float = 80.0
    rail_speed_exponent: float = 30.0
    rail_trains_per_day: float = 200.0
    rail_vehicles_per_train: float = 6.0
    rail_speed_kmh: float = 80.0
    rail_share_day: float = 0.72
    rail_share_evening: float = 0.20
    rail_share_night: float = 0.08
    favourable_share_day: float = 0.5
    favourable_share_evening: float = 0.75
    favourable_share_night: float = 1.0
    diffraction_max_db: float = 25.0
    receiver_height_m: float = 4.0
    facade_offset_m: float = 0.5
    facade_nearest_roads: float = 2.0
    facade_merge_m: float = 3.0
    max_distance_m: float = 300.0
    near_distance_m: float = 100.0
    prune_near_m: float = 25.0
    prune_below_db: float = 30.0
    prune_margin_db: float = 5.0
    source_spacing_m: float = 5.0
    coarse_cell_m: float = 40.0
    path_sample_m: float = 4.0
    path_samples_max: float = 48.0
    building_level_height_m: float = 3.0
    building_default_height_m: float = 7.0
    ground_factor_per_landcover: dict = field(default_factory=dict)
    grid_resolution_m: float = 4.0
    grid_compute_step_m: float = 20.0
    grid_max_receivers: float = 40000.0
    block_receivers: float = 2000.0
    who_road_lden_db: float = 53.0
    who_road_lnight_db: float = 45.0
    who_rail_lden_db: float = 54.0
    who_rail_lnight_db: float = 44.0
    class_edges_lden_db: tuple = ()
    class_edges_lnight_db: tuple = ()
    ha_road: tuple = ()
    ha_rail: tuple = ()
    hsd_road: tuple = ()
    hsd_rail: tuple = ()
    ha_range_db: tuple = (40.0, 80.0)
    hsd_range_db: tuple = (40.0, 65.0)
    sensitive_categories: tuple = ()
    road_junction_sample_m: float = 10.0
    road_surface_unknown_share_note: float = 0.5
    road_coeffs: np.ndarray = field(default_factory=lambda: np.zeros((3, 8, 4)), compare=False, repr=False)
    road_surface: dict = field(default_factory=dict, compare=False, repr=False)
    road_surface_osm: dict = field(default_factory=dict, compare=False, repr=False)
    road_junction: np.ndarray = field(default_factory=lambda: np.zeros((3, 3, 2)), compare=False, repr=False)
    rail_lw0_db: np.ndarray = field(default_factory=lambda: np.zeros(8), compare=False, repr=False)
    sources: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_norms(cls, norms_dir: str | Path | None = None, **overrides: Any) -> "NoiseParams":
        """Read every field from ``data/norms/noise.toml`` and the CSV tables (``overrides`` win)."""
        norms = load_norms("noise", norms_dir)
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in norms:
                continue
            v = norms[f.name].value
            if isinstance(v, dict):
                v = {str(k): float(x) for k, x in v.items()}
            elif isinstance(v, list):
                v = tuple(float(x) if isinstance(x, (int, float)) else str(x) for x in v)
            else:
                v = float(v)
            kw[f.name] = v
        road = load_table("cnossos_road", norms_dir)
        kw["road_coeffs"] = np.stack(
            [road[road["category"] == c].sort_values("band_hz")[["ar", "br", "ap", "bp"]].to_numpy(dtype=float) for c in (1, 2, 3)]
        )
        kw["road_surface"], kw["road_surface_osm"], kw["road_junction"] = _road_condition_tables(norms_dir)
        rail = load_table("cnossos_rail", norms_dir).sort_values("band_hz")
        kw["rail_lw0_db"] = rail["lw0_db"].to_numpy(dtype=float)
        tables = ("cnossos_road.csv", "cnossos_road_surface.csv", "cnossos_road_surface_osm.csv", "cnossos_road_junction.csv", "cnossos_rail.csv")
        kw["sources"] = tuple(("noise", k) for k in norms) + tuple(("noise", tb) for tb in tables)
        kw.update(overrides)
        return cls(**kw)

    @property
    def favourable(self) -> np.ndarray:
        return np.array([self.favourable_share_day, self.favourable_share_evening, self.favourable_share_night])

    @property
    def a_weight(self) -> np.ndarray:
        return np.asarray(self.a_weighting_db, dtype=float)


ROAD_COEFF_SET = "2021"
"""CNOSSOS-EU coefficient set of production (Directive 2015/996 as amended by 2021/1226); ``cnossos_road.csv`` holds it."""


def _road_condition_tables(norms_dir: str | Path | None) -> tuple[dict, dict, np.ndarray]:
    """Surface rows (code -> alpha (3, 8), beta (3,), v_min, v_max), OSM surface -> code, junction C (type, category, R/P)."""
    st = load_table("cnossos_road_surface", norms_dir)
    st = st[st["coeff_set"].astype(str) == ROAD_COEFF_SET]
    acols = [f"alpha_{int(b)}" for b in cnossos.BANDS_HZ]
    surface = {}
    for code, g in st.groupby(st["surface"].astype(str)):
        g = g.set_index(g["category"].astype(str))
        if not {"1", "2", "3"} <= set(g.index):
            continue
        g = g.loc[["1", "2", "3"]]
        surface[code] = (g[acols].to_numpy(dtype=float), g["beta"].to_numpy(dtype=float),
                         float(g["v_min_kmh"].min()), float(g["v_max_kmh"].max()))
    osm = load_table("cnossos_road_surface_osm", norms_dir)
    osm_map = {str(r.osm_surface).strip().lower(): str(r.cnossos_surface) for r in osm.itertuples() if str(r.cnossos_surface) in surface}
    jt = load_table("cnossos_road_junction", norms_dir)
    junction = np.zeros((3, 3, 2))
    for r in jt.itertuples():
        if str(r.category) in ("1", "2", "3") and int(r.junction_type) in (1, 2):
            junction[int(r.junction_type), int(r.category) - 1] = (float(r.cr), float(r.cp))
    return surface, osm_map, junction


def _params(params: NoiseParams | None) -> NoiseParams:
    return params if params is not None else NoiseParams.from_norms()


# --------------------------------------------------------------------------------------------
# emission
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineEmission:
    """Line sources of one kind with their sound power per metre.

    Attributes
    ----------
    kind : str
        ``"road"`` or ``"rail"``.
    geometry : ndarray of LineString (n,)
    lw_per_m_db : ndarray (n, 3, 8)
        Sound power per metre (dB re 1 pW/m) per period (day, evening, night) and octave band;
        -inf where nothing runs.
    height_m : float
        Source height above the ground.
    g_s : float
        Ground factor at the source.
    row : ndarray (n,)
        Row of each line in the frame it came from.
    notes : tuple of str
    class_aadt : ndarray (n,), optional
        Default motor traffic of each line's street class (vehicles/day, ``aadt_per_class``),
        whatever its traffic now: 0 marks a footway or the like, which :func:`facade_points`
        never faces. None: every line can be faced.
    """

    kind: str
    geometry: np.ndarray
    lw_per_m_db: np.ndarray
    height_m: float
    g_s: float
    row: np.ndarray
    notes: tuple[str, ...] = ()
    class_aadt: np.ndarray | None = None

    def lw_a_db(self, params: NoiseParams | None = None) -> np.ndarray:
        """A-weighted sound power per metre per period (n, 3)."""
        aw = _params(params).a_weight
        return cnossos.energy_sum(self.lw_per_m_db + aw[None, None, :], axis=-1)


@dataclass(frozen=True)
class SegmentConditions:
    """Road surface and junction of every segment of a traffic frame (see :func:`road_conditions`).

    Attributes
    ----------
    surface : ndarray (n,) of str
        CNOSSOS-EU surface code (``cnossos_road_surface.csv``), ``""`` for the reference surface.
    junction_type : ndarray (n,) of int
        0 none, 1 crossing with traffic lights, 2 roundabout (Annex II Table 2.2.b).
    junction_weight : ndarray (n,)
        Mean of ``max(1 - x/100, 0)`` along the segment (x: distance to that junction, m).
    notes : tuple of str
        Dutch data-quality notes.
    """

    surface: np.ndarray
    junction_type: np.ndarray
    junction_weight: np.ndarray
    notes: tuple[str, ...] = ()

    @classmethod
    def reference(cls, n: int) -> "SegmentConditions":
        """Reference surface, no junction, for ``n`` segments."""
        return cls(np.full(n, "", dtype=object), np.zeros(n, dtype=np.int8), np.zeros(n))


def _surface_terms(cond: SegmentConditions, idx: np.ndarray, vv: np.ndarray, p: NoiseParams) -> tuple[np.ndarray, np.ndarray]:
    """Rolling and propulsion corrections (3 categories, n, 8) of the segments ``idx`` from surface and junction."""
    n = idx.size
    roll = np.zeros((3, n, 8))
    prop = np.zeros((3, n, 8))
    surf = np.asarray(cond.surface, dtype=object)[idx]
    for code in np.unique(surf.astype(str)):
        if code == "" or code not in p.road_surface:
            continue
        m = surf == code
        alpha, beta, v_min, v_max = p.road_surface[code]
        vs = np.clip(vv[m], v_min, v_max)  # validity range of the surface row (counted in the notes)
        for c in range(3):
            r, q = cnossos.surface_correction(alpha[c], beta[c], vs, p.road_speed_ref_kmh)
            roll[c, m], prop[c, m] = r, q
    jt = np.asarray(cond.junction_type, dtype=np.int64)[idx]
    w = np.asarray(cond.junction_weight, dtype=float)[idx]
    for c in range(3):
        coef = p.road_junction[np.clip(jt, 0, 2), c]  # (n, 2): C_R, C_P (type 0: zeros)
        roll[c] += (coef[:, 0] * w)[:, None]
        prop[c] += (coef[:, 1] * w)[:, None]
    return roll, prop


def road_emission(traffic: gpd.GeoDataFrame, params: NoiseParams | None = None, conditions: SegmentConditions | None = None) -> LineEmission:
    """CNOSSOS-EU road emission of every segment of a traffic frame (:func:`traffic_per_segment`).

    Flows per period are ``aadt x share / hours``; the heavy share is split into categories 2 and
    3 by ``medium_share_of_heavy`` (per road class). Speeds below ``road_speed_min_kmh`` are
    raised to it (the model's validity range); rolling noise corrected to the annual mean
    temperature. ``conditions`` (:func:`road_conditions`, same rows as ``traffic``) adds the road
    surface correction (eq. 2.2.19-2.2.20, speed clipped to the surface's validity range) and the
    acceleration correction near junctions (eq. 2.2.17-2.2.18); None: reference surface, no junctions.
    """
    p = _params(params)
    aadt = pd.to_numeric(traffic["aadt"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    v = pd.to_numeric(traffic["speed_kmh"], errors="coerce").to_numpy(dtype=float)
    heavy = pd.to_numeric(traffic["heavy_share"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    shares = np.stack([pd.to_numeric(traffic[f"share_{q}"], errors="coerce").fillna(0.0).to_numpy(dtype=float) for q in PERIODS], axis=1)
    hw = traffic["highway"].astype("object").where(traffic["highway"].notna(), "").astype(str).to_numpy() if "highway" in traffic else np.full(len(traffic), "")
    msh = np.array([p.medium_share_of_heavy.get(h, 0.5) for h in hw])
    active = (aadt > 0) & np.isfinite(v)
    slow = active & (v < p.road_speed_min_kmh)
    vv = np.where(np.isfinite(v), np.maximum(v, p.road_speed_min_kmh), p.road_speed_min_kmh)
    out = np.full((len(traffic), 3, 8), -np.inf)
    idx = np.flatnonzero(active)
    if idx.size:
        dT = p.road_temperature_ref_c - p.annual_mean_temperature_c
        k_temp = [(p.road_temperature_k_light if c == 0 else p.road_temperature_k_heavy) * dT for c in range(3)]
        if conditions is None:
            lw_cat = [cnossos.vehicle_sound_power(p.road_coeffs[c], vv[idx], p.road_speed_ref_kmh, k_temp[c]) for c in range(3)]
        else:
            roll, prop = _surface_terms(conditions, idx, vv[idx], p)
            lw_cat = [cnossos.vehicle_sound_power(p.road_coeffs[c], vv[idx], p.road_speed_ref_kmh, k_temp[c] + roll[c], prop[c]) for c in range(3)]
        split = np.stack([1.0 - heavy[idx], heavy[idx] * msh[idx], heavy[idx] * (1.0 - msh[idx])], axis=1)
        for k in range(3):
            q_h = aadt[idx] * shares[idx, k] / PERIOD_HOURS[k]
            parts = [cnossos.line_source_power(lw_cat[c], q_h * split[:, c], vv[idx]) for c in range(3)]
            out[idx, k, :] = cnossos.energy_sum(np.stack(parts, axis=-1), axis=-1)
    notes = []
    if int(slow.sum()):
        notes.append(f"{int(slow.sum())} straatsegmenten rijden trager dan {p.road_speed_min_kmh:g} km/u; de CNOSSOS-emissie is op {p.road_speed_min_kmh:g} km/u berekend.")
    if conditions is not None:
        notes += list(conditions.notes)
        notes += _surface_speed_notes(conditions, active, vv, p)
    return LineEmission("road", np.asarray(traffic.geometry.values, dtype=object), out, p.road_source_height_m, p.road_ground_factor_source,
                        np.arange(len(traffic)), tuple(notes))


def _surface_speed_notes(cond: SegmentConditions, active: np.ndarray, vv: np.ndarray, p: NoiseParams) -> list[str]:
    """One Dutch note on segments driven outside the validity range of their surface row."""
    surf = np.asarray(cond.surface, dtype=object).astype(str)
    out_of_range = np.zeros(len(surf), dtype=bool)
    ranges = []
    for code in np.unique(surf[active]):
        if code == "" or code not in p.road_surface:
            continue
        _, _, v_min, v_max = p.road_surface[code]
        m = active & (surf == code)
        out_of_range |= m & ((vv < v_min) | (vv > v_max))
        ranges.append(f"{code} {fmt_number(v_min)}-{fmt_number(v_max)} km/u")
    n = int(out_of_range.sum())
    if not n:
        return []
    return [f"{n} straatsegmenten met klinkers of kasseien rijden buiten het geldigheidsbereik van hun CNOSSOS-wegdekcorrectie "
            f"({'; '.join(ranges)}): de correctie is op de dichtstbijzijnde grens van dat bereik berekend."]


def _street_rows(streets: gpd.GeoDataFrame, traffic: gpd.GeoDataFrame) -> np.ndarray | None:
    """Row of ``streets`` for every row of ``traffic`` (same frame, or linked by ``edge_id``); None when unknown."""
    if len(streets) == len(traffic) and streets.index.equals(traffic.index):
        return np.arange(len(traffic))
    if "edge_id" in streets and "edge_id" in traffic and streets["edge_id"].is_unique:
        pos = pd.Index(streets["edge_id"]).get_indexer(traffic["edge_id"])
        return pos if (pos >= 0).any() else None
    return None


def _tag_column(streets: gpd.GeoDataFrame, key: str, rows: np.ndarray) -> np.ndarray:
    """Lower-case OSM tag ``key`` of the street rows ``rows`` (-1: no street), "" where missing."""
    if key not in streets:
        return np.full(len(rows), "", dtype=object)
    col = streets[key].astype("object").where(streets[key].notna(), "").astype(str).str.strip().str.lower().to_numpy()
    return np.where(rows >= 0, col[np.maximum(rows, 0)], "")


def road_surfaces(surface_tags: np.ndarray, params: NoiseParams | None = None) -> np.ndarray:
    """CNOSSOS-EU surface code per OSM ``surface`` value (``cnossos_road_surface_osm.csv``); "" = reference.

    A value that is itself a surface code of ``cnossos_road_surface.csv`` (e.g. ``NL12``) is kept.
    """
    p = _params(params)
    tags = np.asarray(surface_tags, dtype=object)
    codes = {k.lower(): k for k in p.road_surface}
    lut = {**codes, **p.road_surface_osm}
    return np.array([lut.get(str(s).strip().lower(), "") for s in tags], dtype=object)


def _junction_points(geoms: np.ndarray, motor: np.ndarray, streets: gpd.GeoDataFrame, rows: np.ndarray,
                     pois: gpd.GeoDataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Traffic-light points and roundabout entry points (each (k, 2))."""
    hw = _tag_column(streets, "highway", rows)
    crossing = _tag_column(streets, "crossing", rows)
    sig_rows = np.flatnonzero((hw == "traffic_signals") | (crossing == "traffic_signals"))
    sig = [shapely.get_coordinates(shapely.get_point(geoms[sig_rows], 0)), shapely.get_coordinates(shapely.get_point(geoms[sig_rows], -1))]
    if pois is not None and len(pois) and "subtype" in pois:
        sub = pois["subtype"].astype("object").fillna("").astype(str).str.lower().to_numpy()
        sig.append(shapely.get_coordinates(np.asarray(pois.geometry.values, dtype=object)[sub == "traffic_signals"]))
    signals = np.vstack(sig) if sig else np.zeros((0, 2))
    mi = np.flatnonzero(motor)
    rnd = np.zeros((0, 2))
    if mi.size:
        u, v, node_xy, keep = node_lines(geoms[mi])
        ring = np.isin(_tag_column(streets, "junction", rows)[mi][keep], ["roundabout", "circular"])
        deg = np.bincount(np.r_[u, v], minlength=len(node_xy))
        on_ring = np.zeros(len(node_xy), dtype=bool)
        on_ring[np.r_[u[ring], v[ring]]] = True
        rnd = node_xy[(deg >= 3) & on_ring]
    return signals, rnd


def _junction_weights(geoms: np.ndarray, motor: np.ndarray, points: np.ndarray, sample_m: float) -> np.ndarray:
    """Mean of ``max(1 - x/100, 0)`` over points every ``sample_m`` along each motor segment (x: distance to ``points``)."""
    w = np.zeros(len(geoms))
    mi = np.flatnonzero(motor)
    if not mi.size or not len(points):
        return w
    g = geoms[mi]
    n = np.maximum(np.ceil(shapely.length(g) / sample_m), 1).astype(np.int64)
    li = np.repeat(np.arange(len(g)), n)
    j = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(g[li], (j + 0.5) / n[li], normalized=True))
    reach = 100.0  # eq. 2.2.17: no correction beyond 100 m
    d, _ = cKDTree(points).query(xy, distance_upper_bound=reach)
    f = np.where(np.isfinite(d), np.maximum(1.0 - d / reach, 0.0), 0.0)
    w[mi] = np.bincount(li, weights=f, minlength=len(g)) / n
    return w


def road_conditions(streets: gpd.GeoDataFrame, traffic: gpd.GeoDataFrame, params: NoiseParams | None = None,
                    pois: gpd.GeoDataFrame | None = None) -> SegmentConditions:
    """Road surface and nearest junction of every segment of ``traffic`` (rows of ``streets`` by position or ``edge_id``).

    Surface: the OSM ``surface`` tag through ``cnossos_road_surface_osm.csv`` (klinkers -> NL10,
    kasseien -> NL11; anything else or no tag: reference surface). Junctions (only segments with
    motor traffic): crossings with traffic lights (street edges tagged ``crossing=traffic_signals``
    or ``highway=traffic_signals``, POIs of subtype ``traffic_signals``: the OSM nodes
    ``highway`` / ``crossing=traffic_signals``, category ``traffic``) and roundabout entries (a
    node where at least three motor streets meet, one of them ``junction=roundabout``); the
    weight of the nearest junction type is the mean of ``max(1 - x/100, 0)`` along the segment
    (points every ``road_junction_sample_m``). Dutch notes say what is assumed.
    """
    p = _params(params)
    n = len(traffic)
    rows = _street_rows(streets, traffic)
    if rows is None:
        return replace(SegmentConditions.reference(n), notes=("Wegdek en kruispunten van de straten zijn niet gekend voor dit verkeer: "
                                                               "referentiewegdek (asfalt), geen kruispuntcorrectie.",))
    geoms = np.asarray(traffic.geometry.values, dtype=object)
    aadt = pd.to_numeric(traffic["aadt"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    motor = (aadt > 0) & np.isfinite(pd.to_numeric(traffic["speed_kmh"], errors="coerce").to_numpy(dtype=float))
    tags = _tag_column(streets, "surface", rows)
    surface = road_surfaces(tags, p)
    signals, rnd = _junction_points(geoms, motor, streets, rows, pois)
    w_sig = _junction_weights(geoms, motor, signals, p.road_junction_sample_m)
    w_rnd = _junction_weights(geoms, motor, rnd, p.road_junction_sample_m)
    jtype = np.where((w_sig > 0) & (w_sig >= w_rnd), 1, np.where(w_rnd > 0, 2, 0)).astype(np.int8)
    weight = np.where(jtype == 1, w_sig, np.where(jtype == 2, w_rnd, 0.0))
    return SegmentConditions(surface, jtype, weight, tuple(_condition_notes(geoms, motor, tags, surface, signals, rnd, jtype, p)))


def _condition_notes(geoms: np.ndarray, motor: np.ndarray, tags: np.ndarray, surface: np.ndarray, signals: np.ndarray,
                     rnd: np.ndarray, jtype: np.ndarray, p: NoiseParams) -> list[str]:
    notes = []
    length = shapely.length(geoms)
    total = float(length[motor].sum())
    if total > 0:
        for code in sorted({str(s) for s in surface[motor]} - {""}):
            m = motor & (surface == code)
            notes.append(f"Wegdek {code} (CNOSSOS-EU, Richtlijn 2021/1226 tabel F-4) op {int(m.sum())} straatsegmenten met autoverkeer "
                         f"({fmt_number(100.0 * length[m].sum() / total, 1)} % van de lengte), afgeleid uit de OSM-tag surface.")
        unknown = float(length[motor & (tags == "")].sum()) / total
        if unknown > p.road_surface_unknown_share_note:
            notes.append(f"Voor {fmt_number(100.0 * unknown)} % van de straatlengte met autoverkeer is het wegdek niet gekend (geen OSM-tag surface): "
                         "referentiewegdek (dicht asfalt) aangenomen; klinkers of kasseien maken het daar in werkelijkheid luider.")
    if not len(signals):
        notes.append("Geen verkeerslichten in de straatgegevens: de CNOSSOS-EU-correctie voor optrekken en afremmen aan kruispunten "
                     "met verkeerslichten is niet toegepast.")
    n_j = int(((jtype > 0) & motor).sum())
    if n_j:
        where = " en ".join(s for s in (f"{len(signals)} verkeerslichtpunten" if len(signals) else "",
                                          f"{len(rnd)} rotondetoegangen" if len(rnd) else "") if s)
        notes.append(f"Optrekken en afremmen nabij {where} (CNOSSOS-EU) op {n_j} straatsegmenten; "
                     "vereenvoudigd: één gemiddelde correctie per segment.")
    return notes


def railway_lines(area: StudyArea) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Railway track lines of ``area``: the ``railways`` theme, or else the centre lines of
    land-use polygons of kind ``railway`` (long side of their minimum rotated rectangle)."""
    notes: list[str] = []
    rw = area.themes.get("railways")
    if rw is not None and len(rw):
        kind = rw["kind"].astype("object").fillna("rail").astype(str).str.lower() if "kind" in rw else pd.Series("rail", index=rw.index)
        rw = rw[~kind.isin(["abandoned", "disused", "razed", "proposed", "construction", "platform"]).to_numpy()]
        lines = rw[np.isin(shapely.get_type_id(np.asarray(rw.geometry.values, dtype=object)), [1, 5])]
        if len(lines):
            notes += list(_rail_notes(lines, None))
        return gpd.GeoDataFrame(lines, geometry=lines.geometry.name, crs=rw.crs).explode(index_parts=False), notes
    lu = area.landuse
    if len(lu) and "kind" in lu:
        polys = lu[lu["kind"].astype(str) == "railway"]
        if len(polys):
            geoms = []
            for g in polys.geometry.values:
                r = shapely.minimum_rotated_rectangle(g)
                c = np.asarray(r.exterior.coords)[:4]
                e = np.hypot(*(np.roll(c, -1, axis=0) - c).T)
                i = int(np.argmin(e))  # a short side: the centre line joins the two short-side midpoints
                m1 = (c[i] + c[(i + 1) % 4]) / 2
                m2 = (c[(i + 2) % 4] + c[(i + 3) % 4]) / 2
                geoms.append(shapely.LineString([m1, m2]))
            notes.append(f"Spoorlijnen afgeleid uit {len(polys)} spoorweggebied(en) in het bodemgebruik (hartlijn); sporen niet apart bekend.")
            notes += list(_rail_notes(polys.iloc[:0], None))
            return gpd.GeoDataFrame({"kind": ["rail"] * len(geoms)}, geometry=geoms, crs=lu.crs), notes
    return gpd.GeoDataFrame({"kind": []}, geometry=gpd.GeoSeries([], crs=area.crs), crs=area.crs), notes


def rail_emission(railways: gpd.GeoDataFrame, params: NoiseParams | None = None) -> LineEmission:
    """Simplified CNOSSOS-EU railway emission per track line: rolling plus traction noise.

    Rolling ``L_W0 + rail_speed_exponent lg(v / v_ref) + 10 lg(Q / (1000 v))`` with ``L_W0`` per band
    from ``cnossos_rail.csv`` and ``Q`` vehicles per hour = trains/day x vehicles/train x period
    share / hours; traction ``L_W0,tr + 10 lg(Q_tr / (1000 v))`` with ``Q_tr`` = trains x
    ``rail_traction_units_per_train`` (sources A and B both at the line's height), see
    :func:`gezondestad.spatial.cnossos.rail_line_emission`. Columns ``trains_per_day``,
    ``vehicles_per_train``, ``traction_units_per_train`` and ``maxspeed``/``speed_kmh`` override the
    defaults per line. Parallel tracks of one line (within 15 m, parallel) share its trains.
    """
    p = _params(params)
    n = len(railways)
    geoms = np.asarray(railways.geometry.values, dtype=object)
    out = np.full((n, 3, 8), -np.inf)
    if n == 0:
        return LineEmission("rail", geoms, out, p.rail_source_height_m, p.rail_ground_factor_source, np.arange(0))

    def col(names: tuple[str, ...], default: float) -> np.ndarray:
        for c in names:
            if c in railways:
                v = pd.to_numeric(railways[c].astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce").to_numpy(dtype=float)
                return np.where(np.isfinite(v) & (v > 0), v, default)
        return np.full(n, default)

    trains = col(("trains_per_day",), p.rail_trains_per_day)
    veh = col(("vehicles_per_train",), p.rail_vehicles_per_train)
    tr_norm = load_norms("noise").get("rail_traction_units_per_train")
    units = col(("traction_units_per_train",), float(tr_norm.value) if tr_norm is not None else 1.0)
    traction_db = cnossos.load_rail_spectra().traction_db
    v = np.minimum(col(("speed_kmh", "maxspeed"), p.rail_speed_kmh), p.rail_speed_kmh if "speed_kmh" not in railways else np.inf)
    # parallel tracks of one line share its trains
    mids = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(mids, predicate="dwithin", distance=15.0)
    ts, te = shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)
    dirv = np.c_[shapely.get_x(te) - shapely.get_x(ts), shapely.get_y(te) - shapely.get_y(ts)]
    dirv /= np.maximum(np.hypot(*dirv.T), 1e-9)[:, None]
    par = np.abs((dirv[a] * dirv[b]).sum(1)) > np.cos(np.radians(20))
    k = np.bincount(a[par], minlength=n).astype(float)
    k = np.maximum(k, 1.0)
    shares = np.array([p.rail_share_day, p.rail_share_evening, p.rail_share_night])
    for j in range(3):
        q_trains = trains * shares[j] / PERIOD_HOURS[j] / k
        out[:, j, :] = cnossos.rail_line_emission(p.rail_lw0_db, traction_db, v, q_trains * veh, q_trains * units,
                                                  p.rail_speed_ref_kmh, p.rail_speed_exponent)
    return LineEmission("rail", geoms, out, p.rail_source_height_m, p.rail_ground_factor_source, np.arange(n), _rail_notes(railways, p))


def _rail_notes(railways: gpd.GeoDataFrame, p: NoiseParams | None) -> tuple[str, ...]:
    """Dutch caveats of the railway source model (assumed train numbers, reference vehicle)."""
    notes = ["Spoorlawaai: rol- en tractiegeluid volgens een vereenvoudigd CNOSSOS-EU-model met de spectra van één "
             "referentievoertuig (een diesellocomotief); geen aerodynamisch, stoot- of piepgeluid."]
    if "trains_per_day" not in railways:
        per_day = f" ({fmt_number(p.rail_trains_per_day)} per dag per lijn)" if p is not None else " (zie de norm rail_trains_per_day)"
        notes.append(f"Aantal treinen is een aanname{per_day}, geen telling van Infrabel; vul een kolom trains_per_day "
                     "in voor echte cijfers.")
    return tuple(notes)


# --------------------------------------------------------------------------------------------
# point sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointSources:
    """Point sources of one kind, fine (every ``source_spacing_m``) and merged per coarse cell."""

    kind: str
    xy: np.ndarray  # (n, 2)
    power: np.ndarray  # (n, 3, 8): A-weighted linear power per period and band
    cell: np.ndarray  # (n,) coarse cell of each fine point
    cell_xy: np.ndarray  # (c, 2)
    cell_power: np.ndarray  # (c, 3, 8)
    height_m: float
    g_s: float


def point_sources(lines: LineEmission, params: NoiseParams | None = None) -> PointSources:
    """Cut the lines into point sources (``L_W = L_W' + 10 lg(l)``) and merge them per coarse cell."""
    p = _params(params)
    lwa = lines.lw_per_m_db + p.a_weight[None, None, :]
    active = np.isfinite(lwa).any(axis=(1, 2))
    g = lines.geometry[active]
    lw = lwa[active]
    if len(g) == 0:
        z = np.zeros((0, 3, 8))
        return PointSources(lines.kind, np.zeros((0, 2)), z, np.zeros(0, np.int64), np.zeros((0, 2)), z, lines.height_m, lines.g_s)
    L = shapely.length(g)
    n = np.maximum(np.ceil(L / p.source_spacing_m), 1).astype(np.int64)
    li = np.repeat(np.arange(len(g)), n)
    j = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    frac = (j + 0.5) / n[li]
    pts = shapely.line_interpolate_point(g[li], frac, normalized=True)
    xy = shapely.get_coordinates(pts)
    seg_len = (L / n)[li]
    power = np.power(10.0, lw[li] / 10.0) * seg_len[:, None, None]
    power = np.where(np.isfinite(power), power, 0.0)
    cs = p.coarse_cell_m
    key = np.floor(xy / cs).astype(np.int64)
    uniq, cell = np.unique(key, axis=0, return_inverse=True)
    cell = cell.ravel()
    c = len(uniq)
    cell_power = np.zeros((c, 3, 8))
    np.add.at(cell_power, cell, power)
    w = power.sum(axis=(1, 2))
    wsum = np.bincount(cell, weights=w, minlength=c)
    cx = np.bincount(cell, weights=w * xy[:, 0], minlength=c) / np.maximum(wsum, 1e-300)
    cy = np.bincount(cell, weights=w * xy[:, 1], minlength=c) / np.maximum(wsum, 1e-300)
    return PointSources(lines.kind, xy, power, cell, np.c_[cx, cy], cell_power, lines.height_m, lines.g_s)


# --------------------------------------------------------------------------------------------
# obstacles and ground
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Obstacles:
    """Building heights (m, 0 = open) and ground factor G on one north-up grid."""

    height_m: np.ndarray
    g: np.ndarray
    transform: Affine
    resolution_m: float
    padded_h: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    padded_g: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        # one open cell around the raster: clipped indices off the grid read "open, mixed ground"
        object.__setattr__(self, "padded_h", np.pad(self.height_m.astype(np.float32), 1, constant_values=0.0))
        object.__setattr__(self, "padded_g", np.pad(self.g.astype(np.float32), 1, constant_values=0.5))

    def sample(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        col = np.floor((x - self.transform.c) / self.resolution_m).astype(np.int64)
        row = np.floor((self.transform.f - y) / self.resolution_m).astype(np.int64)
        h, w = self.height_m.shape
        ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        cc, rr = np.where(ok, col, 0), np.where(ok, row, 0)
        return np.where(ok, self.height_m[rr, cc], 0.0), np.where(ok, self.g[rr, cc], 0.0)


def building_heights(buildings: gpd.GeoDataFrame, params: NoiseParams | None = None) -> np.ndarray:
    """Height per building: ``height`` column when present, else levels x storey height, else the default."""
    p = _params(params)
    h = pd.to_numeric(buildings["height"], errors="coerce").to_numpy(dtype=float) if "height" in buildings else np.full(len(buildings), np.nan)
    lv = pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float) if "levels" in buildings else np.full(len(buildings), np.nan)
    h = np.where(np.isfinite(h) & (h > 0), h, lv * p.building_level_height_m + 1.0)
    return np.where(np.isfinite(h) & (h > 0), h, p.building_default_height_m)


def build_obstacles(area: StudyArea, bounds: tuple[float, float, float, float], params: NoiseParams | None = None) -> Obstacles:
    """Rasterise building heights and the ground factor (from the land cover) on ``bounds``."""
    p = _params(params)
    res = p.path_sample_m
    # snapped to multiples of the cell size: a local recompute sees exactly the same cells
    x0, y0 = np.floor(bounds[0] / res) * res, np.floor(bounds[1] / res) * res
    x1, y1 = np.ceil(bounds[2] / res) * res, np.ceil(bounds[3] / res) * res
    w = max(int(np.ceil((x1 - x0) / res)), 1)
    h = max(int(np.ceil((y1 - y0) / res)), 1)
    tr = Affine(res, 0, x0, 0, -res, y1)
    height = np.zeros((h, w), dtype=np.float32)
    b = area.buildings
    if len(b):
        cand = b.sindex.query(shapely.box(*bounds), predicate="intersects")
        bb = b.iloc[cand]
        if len(bb):
            hh = building_heights(bb, p)
            height = rfeatures.rasterize(zip(bb.geometry.values, hh), out_shape=(h, w), transform=tr, fill=0.0, dtype="float32", all_touched=False)
    g = np.full((h, w), np.nan, dtype=np.float32)
    lc = area.landcover
    if lc is not None:
        gmap = np.zeros(256, dtype=np.float32)
        gmap[:] = np.nan
        for k, v in p.ground_factor_per_landcover.items():
            gmap[int(k)] = v
        cols = np.arange(w) * res + x0 + res / 2
        rows = y1 - (np.arange(h) * res + res / 2)
        lcol = np.floor((cols - lc.transform.c) / lc.resolution_m).astype(np.int64)
        lrow = np.floor((lc.transform.f - rows) / lc.resolution_m).astype(np.int64)
        lh, lw = lc.shape
        okc, okr = (lcol >= 0) & (lcol < lw), (lrow >= 0) & (lrow < lh)
        sub = lc.classes[np.clip(lrow, 0, lh - 1)][:, np.clip(lcol, 0, lw - 1)]
        gv = gmap[sub]
        gv[~okr, :] = np.nan
        gv[:, ~okc] = np.nan
        g = gv
    # unknown ground: half soft (CNOSSOS mixed ground); buildings are hard
    g = np.where(np.isfinite(g), g, 0.5).astype(np.float32)
    g[height > 0] = 0.0
    return Obstacles(height, g, tr, res)


# --------------------------------------------------------------------------------------------
# propagation to receivers
# --------------------------------------------------------------------------------------------


def _interp(tables: tuple[np.ndarray, ...], coords: list[np.ndarray]) -> list[np.ndarray]:
    """Multilinear interpolation of same-shaped tables (grid axes..., 8) at fractional indices ``coords``.

    One flat base index and one set of corner weights serve all ``tables``.
    """
    shape = tables[0].shape[:-1]
    strides = np.cumprod((shape[1:] + (1,))[::-1])[::-1]
    base = 0
    fr = []
    for k, c in enumerate(coords):
        c = np.clip(c, 0.0, shape[k] - 1.000001)
        i = c.astype(np.int64)
        base = base + i * strides[k]
        fr.append((c - i).astype(np.float32)[:, None])
    flat = [t.reshape(-1, t.shape[-1]) for t in tables]
    out = [0.0 for _ in tables]
    for corner in itertools.product((0, 1), repeat=len(coords)):
        w = None
        off = 0
        for k, bit in enumerate(corner):
            f = fr[k] if bit else (1.0 - fr[k])
            w = f if w is None else w * f
            off += bit * strides[k]
        idx = base + off
        for n_, t in enumerate(flat):
            out[n_] = out[n_] + w * t[idx]
    return out


@dataclass(frozen=True)
class _PathTables:
    """Tabulated ground terms for one source height and one receiver height (fast path).

    ``free_h/free_f``: ``10^(-A_ground/10)`` over (log dp, G_path) for free paths; ``so_*`` and
    ``or_*``: ``10^(-A_ground/20)`` of the source-edge and edge-receiver legs over (log d,
    edge height, G). Exact formulas in :mod:`gezondestad.spatial.cnossos`; the tables are checked
    against them in ``tests/test_noise.py``.
    """

    zs: float
    zr: float
    log_d0: float
    dlog: float
    n_g: int
    z_step: float
    free_h: np.ndarray
    free_f: np.ndarray
    so_h: np.ndarray
    so_f: np.ndarray
    or_h: np.ndarray
    or_f: np.ndarray

    @classmethod
    def build(cls, zs: float, zr: float, g_s: float, max_d: float) -> "_PathTables":
        nd, ng, nz, zstep = 160, 21, 31, 2.0
        ld = np.linspace(np.log(0.5), np.log(max_d * 1.5 + 10.0), nd)
        gg = np.linspace(0.0, 1.0, ng)
        D, G = np.meshgrid(np.exp(ld), gg, indexing="ij")
        n2 = D.size
        fh = cnossos.a_ground(np.full(n2, zs), np.full(n2, zr), D.ravel(), G.ravel(), g_s, False)
        ff = cnossos.a_ground(np.full(n2, zs), np.full(n2, zr), D.ravel(), G.ravel(), g_s, True)
        D3, Z3, G3 = np.meshgrid(np.exp(ld), np.arange(nz) * zstep + 0.01, gg, indexing="ij")
        d3, z3, g3 = D3.ravel(), Z3.ravel(), G3.ravel()
        soh = cnossos.a_ground(np.full(d3.size, zs), z3, d3, g3, g_s, False)
        sof = cnossos.a_ground(np.full(d3.size, zs), z3, d3, g3, g_s, True)
        orh = cnossos.a_ground(z3, np.full(d3.size, zr), d3, g3, 0.0, False, g_prime=g3)
        orf = cnossos.a_ground(z3, np.full(d3.size, zr), d3, g3, 0.0, True, g_prime=g3)
        sh3 = (nd, nz, ng, 8)
        return cls(
            zs, zr, float(ld[0]), float(ld[1] - ld[0]), ng, zstep,
            *(np.power(10.0, -a / 10.0).reshape(nd, ng, 8).astype(np.float32) for a in (fh, ff)),
            *(np.power(10.0, -a / 20.0).reshape(sh3).astype(np.float32) for a in (soh, sof, orh, orf)),
        )

    def _d(self, d: np.ndarray) -> np.ndarray:
        return (np.log(np.maximum(d, 1e-3)) - self.log_d0) / self.dlog

    def free(self, dp: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = [self._d(dp), np.clip(g, 0, 1) * (self.n_g - 1)]
        h, f = _interp((self.free_h, self.free_f), c)
        return h, f

    def dif(self, d_so, d_or, zo, g_so, g_or, max_db: float) -> tuple[np.ndarray, np.ndarray]:
        """``10^(-A_dif/10)`` (homogeneous, favourable) over one edge, ground terms included (eq. 2.5.31-2.5.33)."""
        k = 40.0 * cnossos.BANDS_HZ / cnossos.SOUND_SPEED_MS  # 40 / lambda
        cap = 10.0 ** (-max_db / 10.0)
        d = d_so + d_or
        zs, zr = self.zs, self.zr
        cso = [self._d(d_so), zo / self.z_step, np.clip(g_so, 0, 1) * (self.n_g - 1)]
        cor = [self._d(d_or), zo / self.z_step, np.clip(g_or, 0, 1) * (self.n_g - 1)]
        xs = dict(zip(("h", "f"), _interp((self.so_h, self.so_f), cso)))
        xo = dict(zip(("h", "f"), _interp((self.or_h, self.or_f), cor)))

        def inv(delta: np.ndarray) -> np.ndarray:  # 10^(-Delta_dif/10) uncapped; Delta = 0 below x = -2 (continuous)
            return 1.0 / (3.0 + np.maximum(delta[:, None] * k[None, :], -2.0))

        out = []
        for fav, key in ((False, "h"), (True, "f")):
            f_sr = np.maximum(inv(cnossos.path_difference(0.0, zs, d_so, zo, d, zr, fav)), cap)
            f_spr = inv(cnossos.path_difference(0.0, -zs, d_so, zo, d, zr, fav))
            f_srp = inv(cnossos.path_difference(0.0, zs, d_so, zo, d, -zr, fav))
            y_so = np.sqrt(f_spr / f_sr)
            y_or = np.sqrt(f_srp / f_sr)
            out.append(f_sr * (1.0 + (xs[key] - 1.0) * y_so) ** 2 * (1.0 + (xo[key] - 1.0) * y_or) ** 2)
        return out[0], out[1]


@lru_cache(maxsize=8)
def _path_tables(zs: float, zr: float, g_s: float, max_d: float) -> _PathTables:
    return _PathTables.build(zs, zr, g_s, max_d)


def _ball_pairs(tree: cKDTree, rxy: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    lists = tree.query_ball_point(rxy, r)
    lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    ri = np.repeat(np.arange(len(rxy)), lens)
    si = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(lens.sum()))
    return ri, si


def _path_energy(
    rxy: np.ndarray, zr: np.ndarray, ri: np.ndarray, sxy: np.ndarray, power: np.ndarray, src: PointSources,
    obst: Obstacles | None, p: NoiseParams, alpha: np.ndarray, n_rcv: int, table: "_PathTables | None" = None,
) -> np.ndarray:
    """Energy (3 periods) at every receiver from the given pairs."""
    out = np.zeros((n_rcv, 3))
    if len(ri) == 0:
        return out
    d = sxy - rxy[ri]
    dp = np.maximum(np.hypot(d[:, 0], d[:, 1]), 0.5)
    zs = np.full(len(ri), src.height_m)
    zrr = zr[ri]
    edge_d = edge_z = g_so = g_or = None
    if obst is not None:
        n = np.clip(np.ceil(dp / p.path_sample_m), 1, p.path_samples_max).astype(np.int64)
        start = np.cumsum(n) - n
        pair = np.repeat(np.arange(len(ri), dtype=np.int32), n)
        j = (np.arange(n.sum(), dtype=np.int64) - start[pair]).astype(np.float32)
        frac = (j + 0.5) / n[pair].astype(np.float32)
        # positions in (padded) cell coordinates: source + frac * (receiver - source)
        res = obst.resolution_m
        c0 = ((sxy[:, 0] - obst.transform.c) / res + 1.0).astype(np.float32)
        r0 = ((obst.transform.f - sxy[:, 1]) / res + 1.0).astype(np.float32)
        dc = (-d[:, 0] / res).astype(np.float32)
        dr = (d[:, 1] / res).astype(np.float32)
        hp_, wp_ = obst.padded_h.shape
        col = np.clip(c0[pair] + dc[pair] * frac, 0, wp_ - 1).astype(np.int64)
        row = np.clip(r0[pair] + dr[pair] * frac, 0, hp_ - 1).astype(np.int64)
        flat = row * wp_ + col
        hgt = obst.padded_h.ravel()[flat]
        gg = obst.padded_g.ravel()[flat]
        g_path = np.add.reduceat(gg, start).astype(float) / n
        edge_d = np.full(len(ri), np.nan)
        edge_z = np.full(len(ri), np.nan)
        g_so = g_path.copy()
        g_or = g_path.copy()
        sub = np.flatnonzero(hgt > 0)
        if sub.size:
            ps = pair[sub]
            fs = frac[sub].astype(float)
            dps = dp[ps]
            t = fs * dps
            e = hgt[sub] - (zs[ps] + (zrr[ps] - zs[ps]) * fs)
            ok = (e > 0) & ((dps - t) >= 1.5 * res) & (t > 1.0)  # own facade cell: not an obstacle
            key = np.where(ok, e * e * (1.0 / t + 1.0 / np.maximum(dps - t, 1e-3)), 0.0)
            up, ust = np.unique(ps, return_index=True)
            kmax = np.maximum.reduceat(key, ust)
            kfull = np.zeros(len(ri))
            kfull[up] = kmax
            cand = np.flatnonzero((key > 0) & (key == kfull[ps]))
            if cand.size:
                hpair = ps[cand]
                first = np.r_[True, hpair[1:] != hpair[:-1]]
                cand, hpair = cand[first], hpair[first]
                hit = sub[cand]
                edge_d[hpair] = t[cand]
                edge_z[hpair] = hgt[hit]
                cg = np.cumsum(gg, dtype=float)
                before = cg[hit] - np.where(start[hpair] > 0, cg[np.maximum(start[hpair] - 1, 0)], 0.0)
                cnt = j[hit].astype(float) + 1.0
                g_so[hpair] = before / cnt
                rest = n[hpair] - cnt
                tot = g_path[hpair] * n[hpair]
                g_or[hpair] = np.where(rest > 0, (tot - before) / np.maximum(rest, 1), g_path[hpair])
    else:
        g_path = np.full(len(ri), 0.5)
    d3 = np.hypot(dp, zrr - zs)
    blk = np.isfinite(edge_d) if edge_d is not None else np.zeros(len(ri), dtype=bool)
    free = ~blk
    if table is not None:
        # fast path: everything as linear transmission factors, ground terms from tables
        base = np.exp(-(alpha[None, :] * np.log(10.0) / 10000.0) * d3[:, None]) / (10.0**1.1 * d3 * d3)[:, None]
        th = np.empty((len(ri), 8))
        tf = np.empty((len(ri), 8))
        if free.any():
            th[free], tf[free] = table.free(dp[free], g_path[free])
        if blk.any():
            th[blk], tf[blk] = table.dif(edge_d[blk], dp[blk] - edge_d[blk], edge_z[blk], g_so[blk], g_or[blk], p.diffraction_max_db)
        th *= base
        tf *= base
    else:
        base = cnossos.a_div(d3)[:, None] + cnossos.a_atm(d3, alpha)
        ah = np.empty((len(ri), 8))
        af = np.empty((len(ri), 8))
        if free.any():
            ah[free] = cnossos.a_ground(zs[free], zrr[free], dp[free], g_path[free], src.g_s, False)
            af[free] = cnossos.a_ground(zs[free], zrr[free], dp[free], g_path[free], src.g_s, True)
        if blk.any():
            args = (edge_d[blk], dp[blk] - edge_d[blk], zs[blk], edge_z[blk], zrr[blk], g_so[blk], g_or[blk], src.g_s)
            ah[blk] = cnossos.a_dif_edge(*args, favourable=False, max_db=p.diffraction_max_db)
            af[blk] = cnossos.a_dif_edge(*args, favourable=True, max_db=p.diffraction_max_db)
        th, tf = np.power(10.0, -(ah + base) / 10.0), np.power(10.0, -(af + base) / 10.0)
    pf = p.favourable
    for k in range(3):
        fac = pf[k] * tf + (1.0 - pf[k]) * th
        out[:, k] = np.bincount(ri, weights=(power[:, k, :] * fac).sum(axis=1), minlength=n_rcv)
    return out


def noise_at_receivers(
    receivers_xy: np.ndarray,
    sources: list[PointSources],
    obstacles: Obstacles | None = None,
    params: NoiseParams | None = None,
    receiver_height_m: float | np.ndarray | None = None,
    fast: bool = True,
    workers: int | None = None,
) -> pd.DataFrame:
    """A-weighted levels per period and Lden/Lnight per receiver and source kind.

    Parameters
    ----------
    receivers_xy : ndarray (m, 2)
    sources : list of PointSources
        From :func:`point_sources` (one per kind).
    obstacles : Obstacles, optional
        Building heights and ground factor; without it every path is free over mixed ground (G 0.5).
    receiver_height_m : float or ndarray, optional
        Default ``receiver_height_m`` (4 m).
    fast : bool
        Tabulated ground terms in the linear domain (default); False evaluates the CNOSSOS-EU
        formulas of :mod:`gezondestad.spatial.cnossos` on every path (reference, slower).
    workers : int, optional
        Threads over receiver blocks (default: the number of cores, at most 2).

    Returns
    -------
    DataFrame with, per kind in ``road``/``rail``, ``l{day,evening,night}_{kind}_db``,
    ``lden_{kind}_db``, ``lnight_{kind}_db`` and the totals ``lden_db``, ``lnight_db``
    (-inf when no source lies within ``max_distance_m``).
    """
    p = _params(params)
    rxy = np.asarray(receivers_xy, dtype=float).reshape(-1, 2)
    m = len(rxy)
    zr_all = np.broadcast_to(np.asarray(p.receiver_height_m if receiver_height_m is None else receiver_height_m, dtype=float), (m,))
    alpha = cnossos.alpha_atm_db_per_km(p.annual_mean_temperature_c, p.relative_humidity_pct)
    energy = {k: np.zeros((m, 3)) for k in KINDS}
    workers = min(os.cpu_count() or 1, 2) if workers is None else workers
    block = max(int(p.block_receivers), 1)
    trees = [(s, cKDTree(s.xy) if len(s.xy) else None, cKDTree(s.cell_xy) if len(s.cell_xy) else None) for s in sources]
    const_zr = bool(m) and np.all(zr_all == zr_all[0])
    tables = {s.kind: _path_tables(float(s.height_m), float(zr_all[0]), float(s.g_s), float(p.max_distance_m)) if const_zr and fast else None for s in sources}
    diag = p.coarse_cell_m * np.sqrt(0.5)
    wden = PERIOD_HOURS / 24.0 * np.power(10.0, np.array([0.0, 5.0, 10.0]) / 10.0)

    def run_block(b0: int) -> tuple[int, int]:
        n_pruned = n_pairs = 0
        r = rxy[b0 : b0 + block]
        zr = zr_all[b0 : b0 + block]
        for s, ft, ct in trees:
            if ft is None:
                continue
            # fine points whose cell centre is near; the other cells as merged sources (exact partition)
            ri, si = _ball_pairs(ft, r, p.near_distance_m + diag)
            cd = np.hypot(*(s.cell_xy[s.cell[si]] - r[ri]).T)
            keep = cd <= p.near_distance_m
            rc, ci = _ball_pairs(ct, r, p.max_distance_m)
            far = np.hypot(*(s.cell_xy[ci] - r[rc]).T) > p.near_distance_m
            pr = np.r_[ri[keep], rc[far]]
            pxy = np.r_[s.xy[si[keep]], s.cell_xy[ci[far]]]
            ppow = np.concatenate([s.power[si[keep]], s.cell_power[ci[far]]])
            d2 = np.maximum(((pxy - r[pr]) ** 2).sum(axis=1), 0.25)
            # stage 1: the paths within prune_near_m, exactly
            first = d2 <= p.prune_near_m**2
            e = _path_energy(r, zr, pr[first], pxy[first], ppow[first], s, obstacles, p, alpha, len(r), tables[s.kind])
            # stage 2: the other paths, skipping those whose free-field upper bound (no ground or
            # screening loss, + prune_margin_db) lies more than prune_below_db under stage 1
            wpair = (ppow.sum(axis=2) * wden[None, :]).sum(axis=1)
            bound = wpair * 10 ** (p.prune_margin_db / 10.0) / (10 ** 1.1 * d2)
            e1 = (e * wden[None, :]).sum(axis=1)
            rest = ~first & (bound >= e1[pr] * 10 ** (-p.prune_below_db / 10.0))
            n_pruned += int((~first & ~rest).sum())
            n_pairs += len(pr)
            e += _path_energy(r, zr, pr[rest], pxy[rest], ppow[rest], s, obstacles, p, alpha, len(r), tables[s.kind])
            energy[s.kind][b0 : b0 + block] += e
        return n_pairs, n_pruned

    starts = list(range(0, m, block))
    n_workers = max(1, min(int(workers), len(starts)))
    if n_workers == 1:
        counts = [run_block(b0) for b0 in starts]
    else:
        # numpy releases the GIL in its loops: blocks run side by side on the cores (disjoint output rows)
        with ThreadPoolExecutor(max_workers=n_workers) as ex:
            counts = list(ex.map(run_block, starts))
    n_pairs = sum(c[0] for c in counts)
    n_pruned = sum(c[1] for c in counts)
    out = {}
    tot = np.zeros((m, 3))
    with np.errstate(divide="ignore"):
        for k in KINDS:
            lv = 10.0 * np.log10(energy[k])
            for j, q in enumerate(PERIODS):
                out[f"l{q}_{k}_db"] = lv[:, j]
            out[f"lden_{k}_db"] = cnossos.lden(lv[:, 0], lv[:, 1], lv[:, 2])
            out[f"lnight_{k}_db"] = lv[:, 2]
            tot += energy[k]
        lt = 10.0 * np.log10(tot)
    out["lden_db"] = cnossos.lden(lt[:, 0], lt[:, 1], lt[:, 2])
    out["lnight_db"] = lt[:, 2]
    logger.info("noise: %d receivers, %d paths, %d skipped as negligible", m, n_pairs, n_pruned)
    df = pd.DataFrame(out)
    df.attrs["paths"] = n_pairs
    df.attrs["paths_skipped"] = n_pruned
    return df


# --------------------------------------------------------------------------------------------
# facades
# --------------------------------------------------------------------------------------------


def _nearest_lines(geoms: np.ndarray, lines: np.ndarray, k: int, within_m: float, fallback: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (building, line, distance) of the ``k`` nearest lines of every building within ``within_m``.

    Ties with the k-th distance are all kept, so the result does not depend on the order of the
    lines. ``fallback``: a building without a line within ``within_m`` gets its nearest line(s).
    """
    tree = shapely.STRtree(lines)
    bi, li = tree.query(geoms, predicate="dwithin", distance=within_m)
    d = shapely.distance(geoms[bi], lines[li])
    order = np.lexsort((d, bi))
    bi, li, d = bi[order], li[order], d[order]
    if bi.size:
        start = np.r_[0, np.flatnonzero(bi[1:] != bi[:-1]) + 1]
        cnt = np.diff(np.r_[start, bi.size])
        kth = d[start + np.minimum(cnt, k) - 1]
        keep = d <= np.repeat(kth, cnt) + 1e-6
        bi, li, d = bi[keep], li[keep], d[keep]
    if fallback:
        miss = np.setdiff1d(np.arange(len(geoms)), bi)
        if miss.size:
            mi, ml = tree.query_nearest(geoms[miss], all_matches=True)
            bi = np.r_[bi, miss[mi]]
            li = np.r_[li, ml]
            d = np.r_[d, shapely.distance(geoms[miss[mi]], lines[ml])]
    return bi, li, d


def _merge_close(rows: np.ndarray, xy: np.ndarray, rank: np.ndarray, merge_m: float) -> np.ndarray:
    """Indices of the candidate points kept: per building, in ``rank`` order, a point within
    ``merge_m`` of an earlier kept point of the same building is dropped."""
    order = np.lexsort((xy[:, 1], xy[:, 0], rank, rows))
    r, q = rows[order], xy[order]
    n = len(r)
    kept = np.ones(n, dtype=bool)
    if merge_m <= 0 or n == 0:
        return order
    start = np.r_[0, np.flatnonzero(r[1:] != r[:-1]) + 1]
    pos = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    for j in range(1, int(pos.max()) + 1):
        at = np.flatnonzero(pos == j)
        for o in range(1, j + 1):
            prev = at - o
            close = kept[prev] & (np.hypot(*(q[at] - q[prev]).T) < merge_m)
            kept[at[close]] = False
    return order[kept]


def facade_points(
    buildings: gpd.GeoDataFrame, lines: list[LineEmission], params: NoiseParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate receivers on the facades of every building, from the geometry alone.

    Per building, the facade point nearest to each of its ``facade_nearest_roads`` nearest road
    lines (every street that can carry motor traffic, whatever its traffic now, so a plan that
    changes speeds, volumes or closes a street evaluates the same points before and after;
    within ``near_distance_m``, else the nearest one) and to its nearest railway line within
    ``near_distance_m``, moved ``facade_offset_m`` outwards towards the line. Points of one
    building closer than ``facade_merge_m`` to a point already kept are merged. The most
    exposed facade is the candidate with the highest level (:func:`noise_exposure`).

    Returns
    -------
    (building_row, xy) : ndarray (k,), ndarray (k, 2)
    """
    p = _params(params)
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    rings = shapely.boundary(geoms)
    rows_l, xy_l, rank_l = [], [], []
    for ln in lines:
        w = np.ones(len(ln.geometry)) if ln.class_aadt is None else np.asarray(ln.class_aadt, dtype=float)
        act = np.flatnonzero((w > 0) & pd.notna(ln.geometry) & ~shapely.is_empty(ln.geometry))
        if act.size == 0 or len(geoms) == 0:
            continue
        lg = ln.geometry[act]
        road = ln.kind == "road"
        bi, li, d = _nearest_lines(geoms, lg, int(p.facade_nearest_roads) if road else 1, p.near_distance_m, fallback=road)
        if bi.size == 0:
            continue
        sl = shapely.shortest_line(rings[bi], lg[li])
        c = shapely.get_coordinates(sl).reshape(-1, 2, 2)
        p0, p1 = c[:, 0, :], c[:, 1, :]
        v = p1 - p0
        nv = np.hypot(v[:, 0], v[:, 1])
        cen = shapely.get_coordinates(shapely.centroid(geoms[bi]))
        vv = np.where(nv[:, None] > 1e-6, v, p0 - cen)
        nn = np.maximum(np.hypot(vv[:, 0], vv[:, 1]), 1e-9)
        rows_l.append(bi)
        xy_l.append(p0 + vv / nn[:, None] * p.facade_offset_m)
        rank_l.append(d + (0.0 if road else 1e6))  # road points first, then rail
    if not rows_l:
        rp = shapely.get_coordinates(shapely.point_on_surface(geoms))
        return np.arange(len(geoms)), rp
    rows, xy, rank = np.concatenate(rows_l), np.concatenate(xy_l), np.concatenate(rank_l)
    keep = _merge_close(rows, xy, rank, p.facade_merge_m)
    return rows[keep], xy[keep]


# --------------------------------------------------------------------------------------------
# judgement
# --------------------------------------------------------------------------------------------


def _curve(coef: tuple, level: np.ndarray, rng: tuple) -> np.ndarray:
    a, b, c = coef
    x = np.clip(level, rng[0], rng[1])
    y = np.clip(a + b * x + c * x * x, 0.0, 100.0) / 100.0
    return np.where(np.isfinite(level), y, np.nan)


def exposure_class(level_db: np.ndarray, edges: tuple) -> np.ndarray:
    """5 dB class label per level (``"< 45"``, ``"45-49"``, ..., ``">= 75"``; None when unknown)."""
    e = np.asarray(edges, dtype=float)
    labels = [f"< {e[0]:g}"] + [f"{e[i]:g}-{e[i + 1] - 1:g}" for i in range(len(e) - 1)] + [f">= {e[-1]:g}"]
    lv = np.asarray(level_db, dtype=float)
    idx = np.searchsorted(e, np.floor(np.where(np.isfinite(lv), lv, -1e9) + 1e-9), side="right")
    out = np.array(labels, dtype=object)[idx]
    out[~np.isfinite(lv)] = None
    return out


def class_labels(edges: tuple) -> list[str]:
    e = list(edges)
    return [f"< {e[0]:g}"] + [f"{e[i]:g}-{e[i + 1] - 1:g}" for i in range(len(e) - 1)] + [f">= {e[-1]:g}"]


def judge(levels: pd.DataFrame, params: NoiseParams | None = None) -> pd.DataFrame:
    """WHO 2018 judgement per receiver: classes, above-guideline flags, %HA and %HSD (fractions)."""
    p = _params(params)
    out = pd.DataFrame(index=levels.index)
    out["lden_class"] = exposure_class(levels["lden_db"].to_numpy(), p.class_edges_lden_db)
    out["lnight_class"] = exposure_class(levels["lnight_db"].to_numpy(), p.class_edges_lnight_db)
    lr, ll = levels["lden_road_db"].to_numpy(), levels["lden_rail_db"].to_numpy()
    nr, nl = levels["lnight_road_db"].to_numpy(), levels["lnight_rail_db"].to_numpy()
    out["above_who_lden"] = (lr > p.who_road_lden_db) | (ll > p.who_rail_lden_db)
    out["above_who_lnight"] = (nr > p.who_road_lnight_db) | (nl > p.who_rail_lnight_db)
    ha_r = np.where(np.isfinite(lr), _curve(p.ha_road, lr, p.ha_range_db), 0.0)
    ha_l = np.where(np.isfinite(ll), _curve(p.ha_rail, ll, p.ha_range_db), 0.0)
    sd_r = np.where(np.isfinite(nr), _curve(p.hsd_road, nr, p.hsd_range_db), 0.0)
    sd_l = np.where(np.isfinite(nl), _curve(p.hsd_rail, nl, p.hsd_range_db), 0.0)
    out["highly_annoyed_share"] = 1.0 - (1.0 - ha_r) * (1.0 - ha_l)
    out["highly_sleep_disturbed_share"] = 1.0 - (1.0 - sd_r) * (1.0 - sd_l)
    none = ~np.isfinite(levels["lden_db"].to_numpy())
    out.loc[none, ["highly_annoyed_share", "highly_sleep_disturbed_share"]] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# official maps
# --------------------------------------------------------------------------------------------


def sample_official_map(path: str | Path, xy: np.ndarray, crs: Any, what: str = "Officiële geluidskaart") -> np.ndarray:
    """Band 1 of an official noise map (e.g. the Flemish strategic noise map, Lden in dB) at ``xy``.

    The raster may be in any CRS (points are transformed to it). NaN outside the raster or on
    nodata. Raises :class:`NoiseError` (Dutch) when the file is missing or unreadable, has no CRS,
    does not overlap, or holds values that are not levels in dB (< 0 or > 130).
    """
    out = sample_raster_file(path, xy, crs, what, NoiseError)
    lo, hi = np.nanmin(out), np.nanmax(out)
    if lo < 0 or hi > 130:
        raise NoiseError(f"{what}: {path} bevat waarden van {lo:.3g} tot {hi:.3g}; een geluidskaart geeft niveaus in dB (0-130).")
    return out


# --------------------------------------------------------------------------------------------
# the layer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoiseResult:
    """Noise exposure of a study area.

    Attributes
    ----------
    homes : GeoDataFrame
        One row per home (point = the home point of :func:`home_points`): ``home_id``,
        ``building_id``, ``residents``, ``wijk_code``, levels per kind and period, ``lden_db``,
        ``lnight_db``, ``lden_class``, ``lnight_class``, WHO flags, %HA/%HSD (fractions),
        ``facade_x``/``facade_y`` of the most exposed facade.
    destinations : GeoDataFrame
        Sensitive destinations (schools, childcare, care, hospitals) with the same columns.
    grid : LandCover or None
        Grid of :attr:`cells` (``classes`` = Lden class index, 0 = no data).
    cells : dict of str to ndarray
        ``lden_db``, ``lnight_db`` (NaN inside buildings and where no source is in range).
    per_wijk : DataFrame
    notes : list of str
    norms_used : list of (family, key)
    traffic : GeoDataFrame
        The traffic used.
    """

    homes: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    grid: LandCover | None
    cells: dict
    per_wijk: pd.DataFrame
    notes: list[str]
    norms_used: list[tuple[str, str]]
    traffic: gpd.GeoDataFrame | None = None

    def bands(self) -> dict[str, np.ndarray]:
        return dict(self.cells)

    def as_family_result(self) -> FamilyResult:
        """The common result shape (:class:`gezondestad.model.result.FamilyResult`, family ``noise``)."""
        seg = None
        if self.traffic is not None:
            seg = self.traffic.copy()
            seg["length_m"] = seg.geometry.length.to_numpy(dtype=float)
        return FamilyResult(
            "noise", self.per_wijk, homes=self.homes, segments=seg, cells=self.cells, grid=self.grid, notes=tuple(self.notes),
            norms_used=tuple(self.norms_used), layers={"destinations": self.destinations}, raw=self,
        )


def _class_aadt(traffic: gpd.GeoDataFrame, tp: TrafficParams) -> np.ndarray | None:
    """Default motor traffic of every segment's street class (``aadt_per_class``; vehicles/day):
    streets with 0 (footways, cycleways, ...) are never faced, whatever a plan does to the traffic."""
    if "highway" not in traffic:
        return None
    hw = traffic["highway"].astype("object").where(traffic["highway"].notna(), "").astype(str).str.lower().to_numpy()
    dflt = tp.aadt_per_class.get("road", 0.0)
    return np.array([float(tp.aadt_per_class.get(h, dflt)) for h in hw], dtype=float)


def _sources(area: StudyArea, traffic: gpd.GeoDataFrame | None, railways: gpd.GeoDataFrame | None, p: NoiseParams,
             tp: TrafficParams | None) -> tuple[list[LineEmission], gpd.GeoDataFrame | None, list[str]]:
    notes: list[str] = []
    lines: list[LineEmission] = []
    if traffic is None and area.has("streets"):
        traffic = traffic_per_segment(area, tp)
    if traffic is not None and len(traffic):
        notes += list(traffic.attrs.get("notes", []))
        streets = area.themes.get("streets")
        cond = road_conditions(streets, traffic, p, area.themes.get("pois")) if streets is not None and len(streets) else None
        re_ = road_emission(traffic, p, cond)
        notes += list(re_.notes)
        lines.append(replace(re_, class_aadt=_class_aadt(traffic, tp or TrafficParams.from_norms())))
    if railways is None:
        railways, n2 = railway_lines(area)
        # the source-model notes come from rail_emission below (with the assumed numbers filled in)
        notes += [n for n in n2 if n not in _rail_notes(railways, None)]
    if len(railways):
        rl = rail_emission(railways, p)
        notes += [n for n in rl.notes if n not in notes]
        lines.append(rl)
    else:
        notes.append("Geen spoorlijnen in het studiegebied: alleen wegverkeerslawaai berekend.")
    if not lines:
        raise NoiseError("Het studiegebied heeft geen straten en geen spoorlijnen: er is geen geluidsbron om te berekenen.")
    return lines, traffic, notes


def _bounds(area: StudyArea, margin: float) -> tuple[float, float, float, float]:
    parts = [g.total_bounds for g in (area.boundary, area.streets, area.buildings) if len(g)]
    b = np.array(parts)
    return (float(b[:, 0].min() - margin), float(b[:, 1].min() - margin), float(b[:, 2].max() + margin), float(b[:, 3].max() + margin))


def _levels_at_buildings(rows: np.ndarray, area: StudyArea, lines: list[LineEmission], pts: list[PointSources], obst: Obstacles,
                         p: NoiseParams) -> pd.DataFrame:
    """Levels at the most exposed facade of the given building rows (max Lden over candidates)."""
    b = area.buildings.iloc[rows]
    brow, xy = facade_points(b, lines, p)
    lv = noise_at_receivers(xy, pts, obst, p)
    lv["_b"] = brow
    lv["facade_x"], lv["facade_y"] = xy[:, 0], xy[:, 1]
    key = lv["lden_db"].to_numpy()
    order = np.lexsort((-np.where(np.isfinite(key), key, -1e9), brow))
    best = lv.iloc[order].drop_duplicates("_b", keep="first").set_index("_b")
    # Lnight at its own most exposed facade
    ln = lv.groupby("_b")["lnight_db"].max()
    best["lnight_db"] = ln.reindex(best.index).to_numpy()
    return best.reindex(np.arange(len(rows)))


def _add_official(res: pd.DataFrame, area: StudyArea, official_lden: Any, official_lnight: Any, notes: list[str]) -> None:
    """Sample official Lden/Lnight maps at the facade points into ``*_official_db`` columns (in place)."""
    for path, col in ((official_lden, "lden_official_db"), (official_lnight, "lnight_official_db")):
        if path is not None:
            fxy = res[["facade_x", "facade_y"]].to_numpy(dtype=float)
            ok = np.isfinite(fxy).all(axis=1)
            vals = np.full(len(res), np.nan)
            vals[ok] = sample_official_map(path, fxy[ok], area.crs)
            res[col] = vals
            notes.append(f"Basislijn {col.split('_')[0].capitalize()} uit de officiële kaart {Path(path).name} "
                         f"({int(np.isfinite(vals).sum())} van {len(vals)} woningen binnen de kaart); het model levert de verandering door een plan.")


def noise_exposure(
    area: StudyArea,
    traffic: gpd.GeoDataFrame | None = None,
    params: NoiseParams | None = None,
    railways: gpd.GeoDataFrame | None = None,
    homes: gpd.GeoDataFrame | None = None,
    with_grid: bool = True,
    traffic_params: TrafficParams | None = None,
    recompute_within: shapely.Geometry | None = None,
    previous: NoiseResult | None = None,
    official_lden: str | Path | None = None,
    official_lnight: str | Path | None = None,
) -> NoiseResult:
    """Lden and Lnight at every home and sensitive destination, per wijk, and as a grid.

    Parameters
    ----------
    area : StudyArea
        Needs ``streets`` (or railways); buildings are obstacles and homes, the land cover gives
        the ground factor.
    traffic : GeoDataFrame, optional
        :func:`traffic_per_segment` / :func:`plan_traffic` output (default: class defaults).
    railways : GeoDataFrame, optional
        Track lines (default: :func:`railway_lines`).
    homes : GeoDataFrame, optional
        :func:`home_points` output (default: computed).
    with_grid : bool
        Also compute the grid map (:func:`noise_map`).
    recompute_within, previous : optional
        Local recompute after a plan: only homes and destinations within ``max_distance_m`` of
        ``recompute_within`` are computed; the others keep their values from ``previous``
        (matched by building id / position). The grid is then not recomputed.
    official_lden, official_lnight : path, optional
        Official noise maps (GeoTIFF, any CRS), sampled at the most exposed facade of every home
        into ``lden_official_db`` / ``lnight_official_db``; :func:`plan_noise` adds the model's
        change to them. The notes say which map was used.
    """
    p = _params(params)
    lines, traffic, notes = _sources(area, traffic, railways, p, traffic_params)
    pts = [point_sources(ln, p) for ln in lines]
    if homes is None:
        homes = home_points(area)
    homes = homes.copy()
    region = None
    if recompute_within is not None and previous is not None:
        # per-part buffer + union: a plan of 20,000 buildings must not be buffered as one multi-geometry (issue 12)
        region = buffer_union(recompute_within, p.max_distance_m)
        if region.is_empty:
            bounds = _bounds(area, p.max_distance_m * 0.2)
        else:
            d = p.max_distance_m
            b = np.asarray(shapely.bounds(region), dtype=float)
            bounds = (b[0] - d, b[1] - d, b[2] + d, b[3] + d)
    else:
        bounds = _bounds(area, p.max_distance_m * 0.2)
    obst = build_obstacles(area, bounds, p)
    cols = ["lday_road_db", "levening_road_db", "lnight_road_db", "lden_road_db", "lday_rail_db", "levening_rail_db",
            "lnight_rail_db", "lden_rail_db", "lden_db", "lnight_db", "facade_x", "facade_y"]
    res = pd.DataFrame(np.nan, index=np.arange(len(homes)), columns=cols)
    todo = np.ones(len(homes), dtype=bool)
    if region is not None:
        todo = shapely.intersects(np.asarray(homes.geometry.values, dtype=object), region)
        prev = previous.homes
        key = lambda g: pd.Index(np.round(shapely.get_coordinates(np.asarray(g.geometry.values, dtype=object)), 2).view(np.complex128).ravel())  # noqa: E731
        pos = key(prev).get_indexer(key(homes)) if key(prev).is_unique else np.full(len(homes), -1)
        keep = ~todo & (pos >= 0)
        for c in cols:
            if c in prev:
                res.loc[keep, c] = prev[c].to_numpy()[pos[keep]]
        todo = todo | (pos < 0)
    est = homes["estimated"].to_numpy(dtype=bool) if "estimated" in homes else np.zeros(len(homes), bool)
    bid = homes["building_id"].to_numpy()
    with_b = todo & ~est & pd.notna(bid)
    if with_b.any() and area.has("buildings"):
        bpos = pd.Series(np.arange(len(area.buildings)), index=area.buildings["building_id"].to_numpy())
        bpos = bpos[~bpos.index.duplicated()]
        rows = bpos.reindex(bid[with_b]).to_numpy()
        okb = np.isfinite(rows.astype(float))
        idx = np.flatnonzero(with_b)[okb]
        lv = _levels_at_buildings(rows[okb].astype(np.int64), area, lines, pts, obst, p)
        for c in cols:
            res.loc[idx, c] = lv[c].to_numpy()
        with_b[np.flatnonzero(with_b)[~okb]] = False
    pt_only = todo & ~with_b
    if pt_only.any():
        xy = shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object)[pt_only])
        lv = noise_at_receivers(xy, pts, obst, p)
        idx = np.flatnonzero(pt_only)
        for c in cols[:-2]:
            res.loc[idx, c] = lv[c].to_numpy()
        res.loc[idx, "facade_x"], res.loc[idx, "facade_y"] = xy[:, 0], xy[:, 1]
        if est[pt_only].any():
            notes.append(f"{int(est[pt_only].sum())} woningen zonder gebouwgegevens: geluid berekend op het geschatte adrespunt, niet op een gevel.")
    res = res.replace(-np.inf, np.nan)
    _add_official(res, area, official_lden, official_lnight, notes)
    jd = judge(res, p)
    homes_out = gpd.GeoDataFrame(pd.concat([homes.reset_index(drop=True), res, jd], axis=1), geometry="geometry", crs=homes.crs)
    n_none = int((~np.isfinite(res["lden_db"].to_numpy())).sum())
    if n_none:
        notes.append(f"{n_none} woningen hebben geen geluidsbron binnen {fmt_number(p.max_distance_m)} m: niveau onbekend (zeer laag).")
    dest = _destinations(area, lines, pts, obst, p, region, previous)
    per_wijk = _per_wijk(homes_out, dest, area, p)
    grid, cells = (None, {})
    if with_grid and region is None:
        grid, cells, gnote = _grid(area, pts, obst, p)
        if gnote:
            notes.append(gnote)
    notes.append(
        "Geluid volgens CNOSSOS-EU (Richtlijn (EU) 2015/996, 2021/1226) op 4 m hoogte aan de meest blootgestelde gevel; "
        "vlak terrein en vlakke wegen (geen hellingcorrectie), één buigende gebouwrand per pad, geen reflecties; "
        "spoor: rol- en tractiegeluid (vereenvoudigd)."
    )
    tp = traffic_params or TrafficParams.from_norms()
    norms = list(p.sources) + list(tp.sources)
    return NoiseResult(homes_out, dest, grid, cells, per_wijk, notes, norms, traffic)


def noise_at_homes(area: StudyArea, homes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Per-home Lden/Lnight only (no grid): the homes frame of :func:`noise_exposure`."""
    return noise_exposure(area, homes=homes, with_grid=False).homes


def _destinations(area: StudyArea, lines, pts, obst, p: NoiseParams, region, previous) -> gpd.GeoDataFrame:
    cats = set(p.sensitive_categories)
    rows = []
    pois = area.pois
    if len(pois):
        sel = pois[pois["category"].astype(str).isin(cats).to_numpy()]
        for _, r in sel.iterrows():
            rows.append({"name": r.get("name"), "category": r.get("category"), "source": "poi", "geometry": r.geometry})
    b = area.buildings
    if len(b) and "use" in b:
        use = b["use"].astype("object").fillna("").astype(str).str.lower()
        sb = b[use.isin(cats).to_numpy()]
        for _, r in sb.iterrows():
            rows.append({"name": None, "category": str(r["use"]), "source": "gebouw", "geometry": r.geometry.representative_point()})
    if not rows:
        return gpd.GeoDataFrame({"name": [], "category": [], "lden_db": [], "lnight_db": []}, geometry=gpd.GeoSeries([], crs=area.crs), crs=area.crs)
    d = gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs)
    if len(b):
        # a destination inside (or within 2 m of) a building is judged at that building's most exposed facade
        tree = shapely.STRtree(np.asarray(b.geometry.values, dtype=object))
        di, bi = tree.query(np.asarray(d.geometry.values, dtype=object), predicate="dwithin", distance=2.0)
        first = np.r_[True, di[1:] != di[:-1]] if len(di) else np.zeros(0, bool)
        brow = np.full(len(d), -1, dtype=np.int64)
        brow[di[first]] = bi[first]
    else:
        brow = np.full(len(d), -1, dtype=np.int64)
    cols = ["lden_road_db", "lnight_road_db", "lden_rail_db", "lnight_rail_db", "lden_db", "lnight_db"]
    res = pd.DataFrame(np.nan, index=np.arange(len(d)), columns=cols)
    inb = np.flatnonzero(brow >= 0)
    if inb.size:
        lv = _levels_at_buildings(brow[inb], area, lines, pts, obst, p)
        for c in cols:
            res.loc[inb, c] = lv[c].to_numpy()
    free = np.flatnonzero(brow < 0)
    if free.size:
        lv = noise_at_receivers(shapely.get_coordinates(np.asarray(d.geometry.values, dtype=object)[free]), pts, obst, p)
        for c in cols:
            res.loc[free, c] = lv[c].to_numpy()
    res = res.replace(-np.inf, np.nan)
    d = pd.concat([d.reset_index(drop=True), res, judge(res, p)[["lden_class", "lnight_class", "above_who_lden", "above_who_lnight"]]], axis=1)
    if len(area.wijken):
        wk = assign_wijk(gpd.GeoDataFrame(geometry=d.geometry.values, crs=area.crs), area.wijken)
        d["wijk_code"] = wk["wijk_code"].to_numpy()
    else:
        d["wijk_code"] = None
    return gpd.GeoDataFrame(d, geometry="geometry", crs=area.crs)


def _per_wijk(homes: gpd.GeoDataFrame, dest: gpd.GeoDataFrame, area: StudyArea, p: NoiseParams) -> pd.DataFrame:
    if not len(area.wijken):
        return pd.DataFrame(columns=["wijk_code", "wijk_naam"])
    res = pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    vals = {
        "lden_mean_db": homes["lden_db"].to_numpy(dtype=float),
        "lnight_mean_db": homes["lnight_db"].to_numpy(dtype=float),
        "above_who_lden_share": homes["above_who_lden"].to_numpy(dtype=bool),
        "above_who_lnight_share": homes["above_who_lnight"].to_numpy(dtype=bool),
        "highly_annoyed_share": homes["highly_annoyed_share"].to_numpy(dtype=float),
        "highly_sleep_disturbed_share": homes["highly_sleep_disturbed_share"].to_numpy(dtype=float),
    }
    out = aggregate_per_wijk(homes, vals, area.wijken)
    # population-weighted means in energy would be another choice; the arithmetic dB mean is the usual report figure
    codes = homes["wijk_code"].astype("object").to_numpy()
    out["highly_annoyed"] = out["wijk_code"].map(pd.Series(res * homes["highly_annoyed_share"].fillna(0).to_numpy()).groupby(codes).sum()).fillna(0.0).to_numpy()
    out["highly_sleep_disturbed"] = out["wijk_code"].map(pd.Series(res * homes["highly_sleep_disturbed_share"].fillna(0).to_numpy()).groupby(codes).sum()).fillna(0.0).to_numpy()
    for lab in class_labels(p.class_edges_lden_db):
        m = (homes["lden_class"] == lab).to_numpy()
        out[f"residents_lden_{lab}"] = out["wijk_code"].map(pd.Series(res * m).groupby(codes).sum()).fillna(0.0).to_numpy()
    for lab in class_labels(p.class_edges_lnight_db):
        m = (homes["lnight_class"] == lab).to_numpy()
        out[f"residents_lnight_{lab}"] = out["wijk_code"].map(pd.Series(res * m).groupby(codes).sum()).fillna(0.0).to_numpy()
    if len(dest):
        dc = dest["wijk_code"].astype("object").to_numpy()
        out["destinations"] = out["wijk_code"].map(pd.Series(np.ones(len(dest))).groupby(dc).sum()).fillna(0).astype(int).to_numpy()
        out["destinations_above_who_lden"] = out["wijk_code"].map(pd.Series(dest["above_who_lden"].to_numpy(dtype=float)).groupby(dc).sum()).fillna(0).astype(int).to_numpy()
        for lab in class_labels(p.class_edges_lden_db):
            m = (dest["lden_class"] == lab).to_numpy(dtype=float)
            out[f"destinations_lden_{lab}"] = out["wijk_code"].map(pd.Series(m).groupby(dc).sum()).fillna(0).astype(int).to_numpy()
    else:
        out["destinations"] = 0
        out["destinations_above_who_lden"] = 0
    return out


def noise_map(
    area: StudyArea,
    traffic: gpd.GeoDataFrame | None = None,
    params: NoiseParams | None = None,
    railways: gpd.GeoDataFrame | None = None,
) -> tuple[LandCover, dict[str, np.ndarray]]:
    """The grid map alone: Lden and Lnight at 4 m height on a ``grid_resolution_m`` grid."""
    p = _params(params)
    lines, _, _ = _sources(area, traffic, railways, p, None)
    pts = [point_sources(ln, p) for ln in lines]
    obst = build_obstacles(area, _bounds(area, p.max_distance_m * 0.2), p)
    grid, cells, _ = _grid(area, pts, obst, p)
    return grid, cells


def _grid(area: StudyArea, pts: list[PointSources], obst: Obstacles, p: NoiseParams) -> tuple[LandCover, dict[str, np.ndarray], str | None]:
    """Compute on receivers every ``grid_compute_step_m`` and interpolate (dB, bilinear) to the output grid."""
    x0, y0, x1, y1 = (area.boundary.total_bounds if len(area.boundary) else _bounds(area, 0.0))
    res = p.grid_resolution_m
    w, h = int(np.ceil((x1 - x0) / res)), int(np.ceil((y1 - y0) / res))
    tr = Affine(res, 0, x0, 0, -res, y1)
    step = p.grid_compute_step_m
    note = None
    n_est = ((x1 - x0) / step + 1) * ((y1 - y0) / step + 1)
    if n_est > p.grid_max_receivers:
        step = float(np.ceil(np.sqrt((x1 - x0) * (y1 - y0) / p.grid_max_receivers)))
        note = (f"De geluidskaart is voor dit grote gebied om de {fmt_number(step)} m berekend (in plaats van "
                f"{fmt_number(p.grid_compute_step_m)} m) en naar {fmt_number(res)} m geïnterpoleerd; woningen zijn wel per gevel berekend.")
    cx = np.arange(x0, x1 + step, step)
    cy = np.arange(y1, y0 - step, -step)
    gx, gy = np.meshgrid(cx, cy)
    gxy = np.c_[gx.ravel(), gy.ravel()]
    inside = obst.sample(gxy[:, 0], gxy[:, 1])[0] > 0  # receivers inside buildings: no data
    lv = pd.DataFrame(np.nan, index=np.arange(len(gxy)), columns=["lden_db", "lnight_db", "lden_road_db", "lden_rail_db"])
    if (~inside).any():
        part = noise_at_receivers(gxy[~inside], pts, obst, p)
        for c in lv.columns:
            lv.loc[~inside, c] = part[c].to_numpy()
    cells = {}
    fx = (np.arange(w) * res + res / 2) / step
    fy = (np.arange(h) * res + res / 2) / step
    FY, FX = np.meshgrid(fy, fx, indexing="ij")
    # mask buildings on the output grid
    bmask = np.zeros((h, w), dtype=bool)
    if len(area.buildings):
        bmask = rfeatures.rasterize(((g, 1) for g in area.buildings.geometry.values), out_shape=(h, w), transform=tr, fill=0, dtype="uint8").astype(bool)
    for name in ("lden_db", "lnight_db", "lden_road_db", "lden_rail_db"):
        c = lv[name].to_numpy().reshape(gx.shape)
        finite = np.isfinite(c)
        if not finite.any():
            cells[name] = np.full((h, w), np.nan, dtype=np.float32)
            continue
        # fill unknown coarse cells with their nearest known value before interpolating
        idx = ndimage.distance_transform_edt(~finite, return_distances=False, return_indices=True)
        cf = c[tuple(idx)]
        fine = ndimage.map_coordinates(cf, [FY.ravel(), FX.ravel()], order=1, mode="nearest").reshape(h, w).astype(np.float32)
        fine[bmask] = np.nan
        cells[name] = fine
    cls = np.searchsorted(np.asarray(p.class_edges_lden_db), np.floor(np.nan_to_num(cells["lden_db"], nan=-1e9)), side="right").astype(np.uint8) + 1
    cls[~np.isfinite(cells["lden_db"])] = 0
    return LandCover(cls, tr, res, area.crs), cells, note


def _conditions_changed(before: StudyArea, bt: gpd.GeoDataFrame, after: StudyArea, at: gpd.GeoDataFrame, p: NoiseParams) -> np.ndarray:
    """Segments of ``at`` whose road surface or junction correction differs from ``before`` (linked by ``edge_id``)."""
    out = np.zeros(len(at), dtype=bool)
    if not (after.has("streets") and before.has("streets")) or "edge_id" not in at or "edge_id" not in bt or not bt["edge_id"].is_unique:
        return out
    ca = road_conditions(after.streets, at, p, after.pois)
    cb = road_conditions(before.streets, bt, p, before.pois)
    pos = pd.Index(bt["edge_id"]).get_indexer(at["edge_id"])
    k = pos >= 0
    j = pos[k]
    out[k] = ((ca.surface[k] != cb.surface[j]) | (ca.junction_type[k] != cb.junction_type[j])
              | (np.abs(ca.junction_weight[k] - cb.junction_weight[j]) > 1e-9))
    return out


def plan_noise(
    before: StudyArea,
    after: StudyArea,
    sites: gpd.GeoDataFrame | None = None,
    before_result: NoiseResult | None = None,
    params: NoiseParams | None = None,
    traffic_params: TrafficParams | None = None,
    counts: gpd.GeoDataFrame | pd.DataFrame | None = None,
    official_lden: str | Path | None = None,
    official_lnight: str | Path | None = None,
) -> tuple[NoiseResult, NoiseResult, pd.DataFrame]:
    """Noise before and after a plan, recomputed only around what the plan changes.

    The plan's traffic comes from :func:`gezondestad.spatial.traffic.plan_traffic` (trips of
    ``sites``, re-routed closures, new speeds). Homes within ``max_distance_m`` of a changed
    segment or of a new or removed building are recomputed; the rest keep their values.

    Returns
    -------
    (before_result, after_result, change)
        ``change``: one row per home of ``after`` with ``lden_before_db``, ``lden_after_db``,
        ``lden_change_db`` (and the same for Lnight), ``residents``, ``new_home`` (not in
        ``before``), ``building_id``, ``wijk_code``; with official maps also
        ``lden_official_before_db`` / ``lden_official_after_db`` (official level + model change).
    """
    p = _params(params)
    tp = traffic_params or TrafficParams.from_norms()
    bt = before_result.traffic if before_result is not None and before_result.traffic is not None else traffic_per_segment(before, tp, counts)
    if before_result is None:
        before_result = noise_exposure(before, bt, p, with_grid=False, traffic_params=tp, official_lden=official_lden, official_lnight=official_lnight)
    at = plan_traffic(before, after, sites, tp, before_traffic=bt)
    ch = at["traffic_source"].to_numpy() == "plan"
    ch |= ~np.isfinite(at["aadt_before"].to_numpy(dtype=float)) & (at["aadt"].to_numpy(dtype=float) > 0)
    ch |= _conditions_changed(before, bt, after, at, p)
    geoms = list(np.asarray(at.geometry.values, dtype=object)[ch])
    ids_b = set(pd.to_numeric(before.buildings["building_id"], errors="coerce").dropna().astype(int)) if len(before.buildings) else set()
    ids_a = set(pd.to_numeric(after.buildings["building_id"], errors="coerce").dropna().astype(int)) if len(after.buildings) else set()
    if len(after.buildings):
        geoms += list(after.buildings.geometry.values[~after.buildings["building_id"].isin(ids_b).to_numpy()])
    if len(before.buildings):
        geoms += list(before.buildings.geometry.values[~before.buildings["building_id"].isin(ids_a).to_numpy()])
    # closed streets: the before geometry of segments that lost their traffic
    region = shapely.union_all(geoms) if geoms else None
    if region is None or region.is_empty:
        after_result = noise_exposure(after, at, p, with_grid=False, traffic_params=tp, recompute_within=shapely.Point(), previous=before_result)
    else:
        after_result = noise_exposure(after, at, p, with_grid=False, traffic_params=tp, recompute_within=region, previous=before_result)
    hb, ha = before_result.homes, after_result.homes
    key = lambda g: pd.Index(np.round(shapely.get_coordinates(np.asarray(g.geometry.values, dtype=object)), 2).view(np.complex128).ravel())  # noqa: E731
    pos = key(hb).get_indexer(key(ha)) if key(hb).is_unique else np.full(len(ha), -1)
    change = pd.DataFrame({
        "building_id": ha["building_id"].to_numpy(),
        "wijk_code": ha["wijk_code"].to_numpy(),
        "residents": pd.to_numeric(ha["residents"], errors="coerce").to_numpy(),
        "new_home": pos < 0,
    })
    for c in ("lden", "lnight"):
        b = np.where(pos >= 0, hb[f"{c}_db"].to_numpy(dtype=float)[np.maximum(pos, 0)], np.nan)
        a = ha[f"{c}_db"].to_numpy(dtype=float)
        change[f"{c}_before_db"] = b
        change[f"{c}_after_db"] = a
        change[f"{c}_change_db"] = a - b
        off = f"{c}_official_db"
        if off in hb.columns:
            ob = np.where(pos >= 0, hb[off].to_numpy(dtype=float)[np.maximum(pos, 0)], np.nan)
            change[f"{c}_official_before_db"] = ob
            change[f"{c}_official_after_db"] = ob + (a - b)
    return before_result, after_result, change


__all__ = [
    "NoiseParams", "NoiseResult", "NoiseError", "LineEmission", "PointSources", "Obstacles", "road_emission", "rail_emission",
    "SegmentConditions", "road_conditions", "road_surfaces",
    "railway_lines", "point_sources", "build_obstacles", "noise_at_receivers", "facade_points", "judge", "exposure_class",
    "noise_exposure", "noise_at_homes", "noise_map", "plan_noise",
]
