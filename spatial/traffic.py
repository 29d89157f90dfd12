"""Road traffic per street segment: volume, heavy share, speed and day/evening/night split.

Three sources, in order of precedence per segment:

1. ``'telling'`` - a counts layer (a CSV with ``edge_id`` or lines matched onto the segments);
2. ``'plan'`` - traffic changed by a plan (:func:`plan_traffic`): trips of new dwellings and
   parking spaces assigned over the car network, traffic of closed streets re-routed;
3. ``'standaard per wegklasse'`` - a default per OSM road class from ``data/norms/traffic.toml``.

Speed is the posted limit (the ``maxspeed`` tag, a fietsstraat's 30 km/h, or the legal default
of the road class when untagged; defaults are counted in the notes). Every number is in
``data/norms/traffic.toml`` with its source.

The result of :func:`traffic_per_segment` and :func:`plan_traffic` is a GeoDataFrame with one
row per segment of ``area.streets`` (same index), columns :data:`TRAFFIC_COLUMNS`; Dutch
data-quality notes are in ``result.attrs["notes"]`` and the norms used in
``result.attrs["norms_used"]``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.network import build_network, snap_points
from scipy import sparse
from scipy.sparse import csgraph

logger = logging.getLogger(__name__)

SOURCE_DEFAULT = "standaard per wegklasse"
SOURCE_COUNT = "telling"
SOURCE_PLAN = "plan"

TRAFFIC_COLUMNS: tuple[str, ...] = (
    "edge_id", "highway", "aadt", "heavy_share", "speed_kmh", "speed_defaulted", "share_day", "share_evening",
    "share_night", "lanes", "traffic_source",
)
"""Columns of a traffic frame besides ``geometry``."""

_COUNT_ALIASES = {
    "aadt": ("aadt", "intensiteit", "mvt_etmaal", "mvt_per_dag", "etmaal", "vehicles_per_day"),
    "heavy_share": ("heavy_share", "aandeel_vracht", "vracht_aandeel"),
    "speed_kmh": ("speed_kmh", "snelheid", "snelheid_kmh"),
    "share_day": ("share_day", "aandeel_dag"),
    "share_evening": ("share_evening", "aandeel_avond"),
    "share_night": ("share_night", "aandeel_nacht"),
}


class TrafficError(GezondeStadError):
    """Traffic input (counts, plan sites) cannot be used; the Dutch message says what to fix."""


@dataclass(frozen=True)
class TrafficParams:
    """Every number the traffic model uses (see ``data/norms/traffic.toml`` for the sources)."""

    aadt_per_class: dict[str, float] = field(default_factory=dict)
    heavy_share_per_class: dict[str, float] = field(default_factory=dict)
    default_speed_kmh_per_class: dict[str, float] = field(default_factory=dict)
    default_lanes_per_class: dict[str, float] = field(default_factory=dict)
    share_day_main: float = 0.76
    share_evening_main: float = 0.14
    share_night_main: float = 0.10
    share_day_local: float = 0.79
    share_evening_local: float = 0.14
    share_night_local: float = 0.07
    main_road_classes: tuple[str, ...] = ()
    max_aadt: float = 250000.0
    min_speed_kmh: float = 5.0
    max_speed_kmh: float = 150.0
    count_match_buffer_m: float = 10.0
    count_match_max_angle_deg: float = 30.0
    trips_per_person_day: float = 2.6
    car_driver_share: float = 0.45
    household_size: float = 2.3
    car_trips_per_parking_space_day: float = 2.5
    parking_m2_per_space: float = 25.0
    fietsstraat_speed_kmh: float = 30.0
    sources: tuple[tuple[str, str], ...] = ()
    """``(family, key)`` of every norm read (for the report's norm list)."""

    @classmethod
    def from_norms(cls, norms_dir: str | Path | None = None, **overrides: Any) -> "TrafficParams":
        """Read every field from ``data/norms/traffic.toml`` (``overrides`` win)."""
        norms = load_norms("traffic", norms_dir)
        kw: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "sources" or f.name not in norms:
                continue
            v = norms[f.name].value
            if isinstance(v, dict):
                v = {str(k): float(x) for k, x in v.items()}
            elif isinstance(v, list):
                v = tuple(str(x) for x in v)
            else:
                v = float(v)
            kw[f.name] = v
        kw["sources"] = tuple(("traffic", k) for k in norms)
        kw.update(overrides)
        return cls(**kw)

    @property
    def car_trips_per_dwelling_day(self) -> float:
        """Household size x trips per person x car-driver share (OVG)."""
        return self.household_size * self.trips_per_person_day * self.car_driver_share


def _params(params: TrafficParams | None) -> TrafficParams:
    return params if params is not None else TrafficParams.from_norms()


# --------------------------------------------------------------------------------------------
# tags
# --------------------------------------------------------------------------------------------

_SPEED_WORDS = {"walk": 6.0, "be:urban": 50.0, "be-vlg:urban": 50.0, "be:rural": 70.0, "be-vlg:rural": 70.0,
                "be:motorway": 120.0, "be:zone30": 30.0, "be:living_street": 20.0, "be-vlg:living_street": 20.0}


def parse_maxspeed(tag: object) -> float:
    """Posted speed in km/h from an OSM ``maxspeed`` value (NaN when absent or unreadable).

    Handles ``"50"``, ``"30 mph"``, ``"BE:urban"``, ``"BE:zone30"``, ``"walk"`` and ``"50;30"``
    (the lowest is taken).
    """
    if tag is None or (isinstance(tag, float) and np.isnan(tag)):
        return float("nan")
    s = str(tag).strip().lower()
    if not s or s in ("none", "signals", "variable", "nan"):
        return float("nan")
    if s in _SPEED_WORDS:
        return _SPEED_WORDS[s]
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", s)]
    if not nums:
        return float("nan")
    v = min(nums)
    if "mph" in s:
        v *= 1.609344
    return v


def _parse_lanes(tag: object) -> float:
    if tag is None:
        return float("nan")
    m = re.findall(r"\d+", str(tag))
    return float(m[0]) if m else float("nan")


def _lower(col: pd.Series) -> np.ndarray:
    return col.astype("object").where(col.notna(), "").astype(str).str.strip().str.lower().to_numpy()


def motor_closed(streets: gpd.GeoDataFrame) -> np.ndarray:
    """True where motor vehicles are not allowed (``motor_vehicle``/``access`` = no)."""
    mv = _lower(streets["motor_vehicle"]) if "motor_vehicle" in streets else np.full(len(streets), "")
    acc = _lower(streets["access"]) if "access" in streets else np.full(len(streets), "")
    return np.isin(mv, ["no", "agricultural", "forestry"]) | (np.isin(acc, ["no"]) & ~np.isin(mv, ["yes", "destination"]))


# --------------------------------------------------------------------------------------------
# defaults per road class
# --------------------------------------------------------------------------------------------


def _default_traffic(streets: gpd.GeoDataFrame, p: TrafficParams) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    hw = _lower(streets["highway"]) if "highway" in streets else np.full(len(streets), "")
    known = np.array([h in p.aadt_per_class for h in hw], dtype=bool)
    aadt = np.array([p.aadt_per_class.get(h, p.aadt_per_class.get("road", 0.0)) for h in hw], dtype=float)
    closed = motor_closed(streets)
    aadt[closed] = 0.0
    heavy = np.array([p.heavy_share_per_class.get(h, 0.02) for h in hw], dtype=float)
    speed = np.array([parse_maxspeed(v) for v in streets["maxspeed"]], dtype=float) if "maxspeed" in streets else np.full(len(streets), np.nan)
    speed[(speed < p.min_speed_kmh) | (speed > p.max_speed_kmh)] = np.nan
    cyc = _lower(streets["cyclestreet"]) if "cyclestreet" in streets else np.full(len(streets), "")
    br = _lower(streets["bicycle_road"]) if "bicycle_road" in streets else np.full(len(streets), "")
    fiets = (cyc == "yes") | (br == "yes")
    speed = np.where(np.isnan(speed) & fiets, p.fietsstraat_speed_kmh, speed)
    speed = np.where(fiets, np.minimum(speed, p.fietsstraat_speed_kmh), speed)
    motor = aadt > 0
    defaulted = np.isnan(speed) & motor
    dflt = np.array([p.default_speed_kmh_per_class.get(h, p.default_speed_kmh_per_class.get("road", 50.0)) for h in hw], dtype=float)
    speed = np.where(np.isnan(speed), dflt, speed)
    speed[~motor] = np.nan
    lanes = np.array([_parse_lanes(v) for v in streets["lanes"]], dtype=float) if "lanes" in streets else np.full(len(streets), np.nan)
    lanes = np.where(np.isnan(lanes), [p.default_lanes_per_class.get(h, 1.0) for h in hw], lanes)
    main = np.isin(hw, list(p.main_road_classes))
    df = pd.DataFrame(
        {
            "edge_id": streets["edge_id"].to_numpy(),
            "highway": streets["highway"].to_numpy() if "highway" in streets else None,
            "aadt": aadt,
            "heavy_share": np.where(motor, heavy, 0.0),
            "speed_kmh": speed,
            "speed_defaulted": defaulted,
            "share_day": np.where(main, p.share_day_main, p.share_day_local),
            "share_evening": np.where(main, p.share_evening_main, p.share_evening_local),
            "share_night": np.where(main, p.share_night_main, p.share_night_local),
            "lanes": lanes,
            "traffic_source": SOURCE_DEFAULT,
        },
        index=streets.index,
    )
    n_unknown = int((~known & (hw != "")).sum() + (hw == "").sum())
    if n_unknown:
        notes.append(f"{n_unknown} straatsegmenten met een onbekende wegklasse kregen het verkeer van een gewone weg ('road').")
    if int(defaulted.sum()):
        notes.append(
            f"{int(defaulted.sum())} van {int(motor.sum())} straatsegmenten met autoverkeer hebben geen snelheidslimiet in de data; "
            "de wettelijke standaard van hun wegklasse is gebruikt (Wegcode)."
        )
    if int(closed.sum()):
        notes.append(f"{int(closed.sum())} straatsegmenten zijn afgesloten voor motorvoertuigen (0 voertuigen).")
    return df, notes


# --------------------------------------------------------------------------------------------
# counts
# --------------------------------------------------------------------------------------------


def _match_lines(targets: np.ndarray, sources: np.ndarray, buffer_m: float, max_angle_deg: float) -> np.ndarray:
    """For every target line, the index of the nearest parallel source line within ``buffer_m`` (-1: none)."""
    out = np.full(len(targets), -1, dtype=np.int64)
    if len(targets) == 0 or len(sources) == 0:
        return out
    mids = shapely.line_interpolate_point(targets, 0.5, normalized=True)
    tree = shapely.STRtree(sources)
    ti, si = tree.query(mids, predicate="dwithin", distance=buffer_m)
    if len(ti) == 0:
        return out
    d = shapely.distance(mids[ti], sources[si])
    # direction of the target (end - start) vs. the source around the projection point
    ts = shapely.get_point(targets[ti], 0)
    te = shapely.get_point(targets[ti], -1)
    tv = np.c_[shapely.get_x(te) - shapely.get_x(ts), shapely.get_y(te) - shapely.get_y(ts)]
    pos = shapely.line_locate_point(sources[si], mids[ti])
    slen = shapely.length(sources[si])
    a = shapely.line_interpolate_point(sources[si], np.clip(pos - 1.0, 0, slen))
    b = shapely.line_interpolate_point(sources[si], np.clip(pos + 1.0, 0, slen))
    sv = np.c_[shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)]
    cos = np.abs((tv * sv).sum(1)) / np.maximum(np.hypot(*tv.T) * np.hypot(*sv.T), 1e-12)
    ok = cos >= np.cos(np.radians(max_angle_deg))
    ti, si, d = ti[ok], si[ok], d[ok]
    order = np.lexsort((d, ti))
    ti, si = ti[order], si[order]
    first = np.r_[True, ti[1:] != ti[:-1]] if len(ti) else np.zeros(0, bool)
    out[ti[first]] = si[first]
    return out


def _count_columns(counts: pd.DataFrame) -> dict[str, str]:
    cols = {c.lower(): c for c in counts.columns}
    found = {}
    for key, aliases in _COUNT_ALIASES.items():
        for a in aliases:
            if a in cols:
                found[key] = cols[a]
                break
    if "aadt" not in found:
        raise TrafficError(
            "De tellingen hebben geen kolom met het aantal voertuigen per dag. Geef een kolom 'aadt' "
            f"(of 'intensiteit'); gevonden kolommen: {', '.join(map(str, counts.columns))}."
        )
    return found


def _bad_rows(mask: np.ndarray, labels: np.ndarray) -> str:
    bad = labels[mask][:5]
    more = int(mask.sum()) - len(bad)
    return ", ".join(map(str, bad)) + (f" en nog {more}" if more > 0 else "")


def validate_counts(counts: pd.DataFrame, p: TrafficParams) -> pd.DataFrame:
    """Check a counts table and return it with the model column names (raises :class:`TrafficError`)."""
    cols = _count_columns(counts)
    out = pd.DataFrame(index=counts.index)
    labels = np.asarray(counts["edge_id"] if "edge_id" in counts else np.arange(len(counts)) + 1)
    for key, col in cols.items():
        v = pd.to_numeric(counts[col], errors="coerce").to_numpy(dtype=float)
        raw = counts[col]
        unreadable = np.isnan(v) & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
        if unreadable.any():
            raise TrafficError(f"Tellingen, kolom '{col}': geen getal bij {_bad_rows(unreadable, labels)}. Gebruik cijfers met een punt als decimaalteken.")
        out[key] = v
    a = out["aadt"].to_numpy()
    if np.isnan(a).any():
        raise TrafficError(f"Tellingen: het aantal voertuigen per dag ontbreekt bij {_bad_rows(np.isnan(a), labels)}. Vul het in of laat die rijen weg.")
    if (a < 0).any():
        raise TrafficError(f"Tellingen: negatief aantal voertuigen per dag bij {_bad_rows(a < 0, labels)}. Een telling is 0 of meer.")
    if (a > p.max_aadt).any():
        raise TrafficError(
            f"Tellingen: meer dan {p.max_aadt:,.0f} voertuigen per dag bij {_bad_rows(a > p.max_aadt, labels)}; dat is onmogelijk veel "
            "(de drukste Belgische snelwegen halen ca. 200.000). Controleer de eenheid: voertuigen per etmaal, niet per jaar."
            .replace(",", ".")
        )
    if "heavy_share" in out:
        h = out["heavy_share"].to_numpy()
        bad = ~np.isnan(h) & ((h < 0) | (h > 1))
        if bad.any():
            raise TrafficError(f"Tellingen: aandeel zwaar verkeer buiten 0-1 bij {_bad_rows(bad, labels)}. Geef een aandeel (0,08), geen percentage (8).")
    if "speed_kmh" in out:
        s = out["speed_kmh"].to_numpy()
        bad = ~np.isnan(s) & ((s < p.min_speed_kmh) | (s > p.max_speed_kmh))
        if bad.any():
            raise TrafficError(
                f"Tellingen: snelheid buiten {p.min_speed_kmh:g}-{p.max_speed_kmh:g} km/u bij {_bad_rows(bad, labels)}. Geef de snelheid in km/u."
            )
    shares = [k for k in ("share_day", "share_evening", "share_night") if k in out]
    if shares:
        if len(shares) != 3:
            raise TrafficError("Tellingen: geef de verdeling dag/avond/nacht volledig (share_day, share_evening, share_night) of helemaal niet.")
        tot = out[shares].sum(axis=1).to_numpy()
        anyv = out[shares].notna().any(axis=1).to_numpy()
        bad = anyv & (np.abs(tot - 1.0) > 0.02)
        if bad.any():
            raise TrafficError(f"Tellingen: de aandelen dag + avond + nacht tellen niet op tot 1 bij {_bad_rows(bad, labels)}.")
    return out


def _apply_counts(df: pd.DataFrame, streets: gpd.GeoDataFrame, counts: gpd.GeoDataFrame | pd.DataFrame, p: TrafficParams) -> tuple[pd.DataFrame, list[str]]:
    vals = validate_counts(counts, p)
    is_geo = isinstance(counts, gpd.GeoDataFrame) and counts.geometry.name in counts and counts.geometry.notna().any()
    if "edge_id" in counts.columns and not is_geo:
        ids = pd.to_numeric(counts["edge_id"], errors="coerce")
        lookup = pd.Series(np.arange(len(streets)), index=pd.to_numeric(streets["edge_id"], errors="coerce"))
        lookup = lookup[~lookup.index.duplicated()]
        unknown = ids.isna().to_numpy() | ~ids.isin(lookup.index).to_numpy()
        if unknown.any():
            raise TrafficError(
                f"Tellingen: {int(unknown.sum())} onbekende segment-id's ({_bad_rows(unknown, counts['edge_id'].to_numpy())}); "
                "ze bestaan niet in de straten van dit studiegebied. Gebruik de edge_id van de laag 'streets' van dit studiegebied."
            )
        seg = lookup.loc[ids.to_numpy()].to_numpy()
        src_of_seg = np.full(len(streets), -1, dtype=np.int64)
        src_of_seg[seg] = np.arange(len(vals))
    elif is_geo:
        g = counts.to_crs(streets.crs) if counts.crs is not None and streets.crs is not None and counts.crs != streets.crs else counts
        if g.crs is None:
            raise TrafficError("De tellingenlaag heeft geen coördinatenstelsel (CRS). Sla ze op met een CRS, bv. EPSG:31370.")
        lines = np.asarray(g.geometry.values, dtype=object)
        if not np.all(np.isin(shapely.get_type_id(lines), [1, 5])):
            raise TrafficError("De tellingenlaag moet lijnen bevatten (telvakken langs de straat), geen punten of vlakken.")
        src_of_seg = _match_lines(np.asarray(streets.geometry.values, dtype=object), lines, p.count_match_buffer_m, p.count_match_max_angle_deg)
        matched = np.zeros(len(vals), dtype=bool)
        matched[src_of_seg[src_of_seg >= 0]] = True
        if not matched.all():
            raise TrafficError(
                f"Tellingen: {int((~matched).sum())} tellijnen liggen op geen enkel straatsegment (binnen {p.count_match_buffer_m:g} m, "
                f"evenwijdig): rij(en) {_bad_rows(~matched, np.arange(len(vals)) + 1)}. Teken ze op de as van de straat of laat ze weg."
            )
    else:
        raise TrafficError("Tellingen: geef een kolom 'edge_id' (CSV) of lijnen (GeoPackage) om ze aan straatsegmenten te koppelen.")
    hit = np.flatnonzero(src_of_seg >= 0)
    vi = src_of_seg[hit]
    df = df.copy()
    idx = df.index[hit]
    for key in ("aadt", "heavy_share", "speed_kmh", "share_day", "share_evening", "share_night"):
        if key in vals:
            v = vals[key].to_numpy()[vi]
            keep = ~np.isnan(v)
            df.loc[idx[keep], key] = v[keep]
            if key == "speed_kmh":
                df.loc[idx[keep], "speed_defaulted"] = False
    df.loc[idx, "traffic_source"] = SOURCE_COUNT
    return df, [f"{len(hit)} straatsegmenten kregen hun verkeer uit de tellingen ({len(vals)} tellingen)."]


def traffic_per_segment(
    area: StudyArea,
    params: TrafficParams | None = None,
    counts: gpd.GeoDataFrame | pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Traffic on every street segment of ``area``: class defaults, overridden by counts.

    Parameters
    ----------
    area : StudyArea
        Needs ``streets``.
    params : TrafficParams, optional
        Defaults from ``data/norms/traffic.toml``.
    counts : DataFrame or GeoDataFrame, optional
        A column ``aadt`` (vehicles/day; alias ``intensiteit``) and optional ``heavy_share``
        (0-1), ``speed_kmh``, ``share_day``/``share_evening``/``share_night``; linked to segments
        by ``edge_id`` (CSV) or by line geometry (GeoPackage; see ``count_match_buffer_m``).

    Returns
    -------
    GeoDataFrame
        One row per segment (same index as ``area.streets``) with :data:`TRAFFIC_COLUMNS`;
        ``attrs["notes"]`` (Dutch) and ``attrs["norms_used"]``.

    Raises
    ------
    TrafficError
        Unknown segment ids, negative or absurd flows, speeds out of range, unmatched count lines.
    """
    p = _params(params)
    area.require("streets")
    s = area.streets
    df, notes = _default_traffic(s, p)
    if counts is not None and len(counts):
        df, n2 = _apply_counts(df, s, counts, p)
        notes += n2
    out = gpd.GeoDataFrame(df, geometry=s.geometry.values, crs=s.crs or CRS, index=s.index)
    out.attrs["notes"] = notes
    out.attrs["norms_used"] = list(p.sources)
    return out


# --------------------------------------------------------------------------------------------
# car network and plan traffic
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarGraph:
    """The car network of a traffic frame, weighted by travel time.

    Attributes
    ----------
    matrix : csr_matrix
        Undirected travel-time graph (s); one-way restrictions are ignored.
    node_xy : ndarray (n, 2)
    edge_u, edge_v : ndarray
        Nodes of each network edge.
    edge_row : ndarray
        Row position in the traffic frame of each network edge.
    pair_edge : dict
        ``(min(u, v), max(u, v)) -> network edge`` (the fastest of parallel edges).
    """

    matrix: sparse.csr_matrix
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_row: np.ndarray
    pair_edge: dict
    net: Any


def car_graph(traffic: gpd.GeoDataFrame) -> CarGraph:
    """Travel-time graph over the segments that carry motor traffic (``speed_kmh`` known)."""
    car = np.isfinite(pd.to_numeric(traffic["speed_kmh"], errors="coerce").to_numpy(dtype=float))
    if not car.any():
        raise TrafficError("Er is geen enkel straatsegment met autoverkeer: plan-verkeer kan niet worden toegedeeld.")
    net = build_network(traffic, mask=car)
    v_ms = traffic["speed_kmh"].to_numpy(dtype=float)[net.edge_source] / 3.6
    t = np.maximum(net.edge_length_m / v_ms, 1e-6)
    a, b = np.minimum(net.edge_u, net.edge_v), np.maximum(net.edge_u, net.edge_v)
    order = np.lexsort((t, b, a))
    pair: dict = {}
    for k in order[::-1]:  # fastest last -> wins
        pair[(int(a[k]), int(b[k]))] = int(k)
    keys = np.array(list(pair.keys()), dtype=np.int64).reshape(-1, 2)
    ks = np.array(list(pair.values()), dtype=np.int64)
    keep = keys[:, 0] != keys[:, 1]
    keys, ks = keys[keep], ks[keep]
    n = net.n_nodes
    m = sparse.csr_matrix((np.r_[t[ks], t[ks]], (np.r_[keys[:, 0], keys[:, 1]], np.r_[keys[:, 1], keys[:, 0]])), shape=(n, n))
    return CarGraph(m, net.node_xy, net.edge_u, net.edge_v, net.edge_source, pair, net)


def _path_edges(g: CarGraph, pred: np.ndarray, target: int) -> list[int]:
    out = []
    cur = target
    while pred[cur] >= 0:
        prev = int(pred[cur])
        k = g.pair_edge.get((min(prev, cur), max(prev, cur)))
        if k is not None:
            out.append(int(g.edge_row[k]))
        cur = prev
    return out


def _nearest_node(g: CarGraph, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest network node (by snapping to the nearest car edge, then its nearer end)."""
    sn = snap_points(g.net, pts, max_snap_m=500.0)
    node = np.full(len(sn.edge), -1, dtype=np.int64)
    ok = sn.ok
    e = sn.edge[ok]
    L = g.net.edge_length_m[e]
    node[ok] = np.where(sn.offset_m[ok] <= L / 2, g.edge_u[e], g.edge_v[e])
    return node, sn.snap_m


def sites_from_plan_features(features: gpd.GeoDataFrame, params: TrafficParams | None = None) -> gpd.GeoDataFrame:
    """Traffic generators of a plan: one row per plan building or parking feature.

    Parameters
    ----------
    features : GeoDataFrame
        ``Plan.features`` (``feature_type``, ``dwellings``, ``residents``; parking features may
        carry ``parking_spaces`` or ``capacity``; otherwise spaces = area / ``parking_m2_per_space``).

    Returns
    -------
    GeoDataFrame with ``dwellings`` and ``parking_spaces`` (NaN where not applicable), geometry.
    """
    p = _params(params)
    ft = features["feature_type"].astype(str) if "feature_type" in features else pd.Series("building", index=features.index)
    rows = []
    for i, r in features.iterrows():
        t = ft.loc[i]
        if t == "building":
            dw = pd.to_numeric(pd.Series([r.get("dwellings")]), errors="coerce").iloc[0]
            if not np.isfinite(dw):
                res = pd.to_numeric(pd.Series([r.get("residents")]), errors="coerce").iloc[0]
                dw = res / p.household_size if np.isfinite(res) else np.nan
            use = str(r.get("use") or "residential").lower()
            if not np.isfinite(dw) or use not in ("residential", "apartments", "house", "yes", "terrace", "detached"):
                continue
            rows.append({"dwellings": float(dw), "parking_spaces": np.nan, "geometry": r.geometry})
        elif t == "parking":
            sp = np.nan
            for c in ("parking_spaces", "capacity"):
                if c in features.columns:
                    sp = pd.to_numeric(pd.Series([r.get(c)]), errors="coerce").iloc[0]
                    if np.isfinite(sp):
                        break
            if not np.isfinite(sp):
                sp = float(r.geometry.area) / p.parking_m2_per_space
            rows.append({"dwellings": np.nan, "parking_spaces": float(sp), "geometry": r.geometry})
    if not rows:
        return gpd.GeoDataFrame({"dwellings": [], "parking_spaces": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=features.crs or CRS)


def _site_trips(sites: gpd.GeoDataFrame, p: TrafficParams) -> np.ndarray:
    """Car trips per day per site: max(dwelling trips, parking trips) over the whole plan."""
    dw = pd.to_numeric(sites.get("dwellings"), errors="coerce").fillna(0.0).to_numpy(dtype=float) if "dwellings" in sites else np.zeros(len(sites))
    sp = pd.to_numeric(sites.get("parking_spaces"), errors="coerce").fillna(0.0).to_numpy(dtype=float) if "parking_spaces" in sites else np.zeros(len(sites))
    if (dw < 0).any() or (sp < 0).any():
        raise TrafficError("Plan: een negatief aantal woningen of parkeerplaatsen kan niet. Corrigeer het plan.")
    dw_trips = dw * p.car_trips_per_dwelling_day
    pk_trips = sp * p.car_trips_per_parking_space_day
    tot_dw, tot_pk = dw_trips.sum(), pk_trips.sum()
    if tot_pk >= tot_dw:
        return pk_trips  # the car park bounds the traffic; dwelling trips run through it
    rest = (tot_dw - tot_pk) / tot_dw if tot_dw > 0 else 0.0
    return pk_trips + dw_trips * rest


def assign_site_trips(traffic: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, params: TrafficParams | None = None) -> tuple[np.ndarray, list[str]]:
    """Vehicles/day added to every segment by the trips of ``sites`` (one value per traffic row).

    Each site's car trips (:func:`_site_trips`) run from the network node nearest to the site
    over the fastest car route to the nearest node of a main road (``main_road_classes``), and
    are then split evenly over the main-road segments meeting at that node.
    """
    p = _params(params)
    add = np.zeros(len(traffic))
    notes: list[str] = []
    if sites is None or len(sites) == 0:
        return add, notes
    trips = _site_trips(sites, p)
    if trips.sum() <= 0:
        return add, notes
    g = car_graph(traffic)
    pts = sites.geometry.representative_point().values
    node, snap = _nearest_node(g, pts)
    hw = _lower(traffic["highway"]).astype(object)
    main_row = np.isin(hw, list(p.main_road_classes))
    main_edge = main_row[g.edge_row]
    main_nodes = np.unique(np.r_[g.edge_u[main_edge], g.edge_v[main_edge]])
    lost = 0.0
    if main_nodes.size == 0:
        notes.append("Het studiegebied heeft geen hoofdwegen: het verkeer van het plan is alleen op de toegangsstraat gelegd.")
    for k in np.flatnonzero(trips > 0):
        if node[k] < 0:
            lost += trips[k]
            continue
        d, pred = csgraph.dijkstra(g.matrix, directed=False, indices=int(node[k]), return_predecessors=True)
        if main_nodes.size:
            dm = d[main_nodes]
            if not np.isfinite(dm).any():
                lost += trips[k]
                continue
            target = int(main_nodes[np.argmin(dm)])
            rows = _path_edges(g, pred, target)
            add[rows] += trips[k]
            inc = np.flatnonzero(main_edge & ((g.edge_u == target) | (g.edge_v == target)))
            if inc.size:
                add[g.edge_row[inc]] += trips[k] / inc.size
        else:
            e = np.flatnonzero((g.edge_u == node[k]) | (g.edge_v == node[k]))
            add[g.edge_row[e]] += trips[k] / max(e.size, 1)
    if lost > 0:
        notes.append(f"{fmt_number(lost)} autoritten per dag van het plan konden niet op het autonetwerk worden gelegd (geen verbinding).")
    notes.append(
        f"Het plan genereert {fmt_number(trips.sum())} autoritten per dag (woningen x {fmt_number(p.car_trips_per_dwelling_day, 2)} ritten als autobestuurder, OVG; "
        f"of parkeerplaatsen x {fmt_number(p.car_trips_per_parking_space_day, 1)}), gelegd via de snelste route naar de dichtstbijzijnde hoofdweg."
    )
    return add, notes


def _reroute_closed(before: gpd.GeoDataFrame, closed_rows: np.ndarray, after: gpd.GeoDataFrame, after_graph: CarGraph) -> tuple[np.ndarray, list[str]]:
    """Re-route the traffic of closed before-segments over the after network.

    Closed segments are grouped into chains (connected via shared nodes); each chain's largest
    flow is moved to the fastest after-route between the two chain ends farthest apart that
    still touch open streets.
    """
    add = np.zeros(len(after))
    notes: list[str] = []
    if closed_rows.size == 0:
        return add, notes
    geoms = np.asarray(before.geometry.values, dtype=object)
    sub = geoms[closed_rows]
    starts = shapely.get_coordinates(shapely.get_point(sub, 0))
    ends = shapely.get_coordinates(shapely.get_point(sub, -1))
    xy = np.round(np.r_[starts, ends], 2)
    uniq, inv = np.unique(xy, axis=0, return_inverse=True)
    inv = inv.ravel()
    n = len(closed_rows)
    u, v = inv[:n], inv[n:]
    m = sparse.coo_matrix((np.ones(n), (u, v)), shape=(len(uniq), len(uniq)))
    _, lab = csgraph.connected_components(m, directed=False)
    chain = lab[u]
    flow = before["aadt"].to_numpy(dtype=float)[closed_rows]
    node, snap = _nearest_node(after_graph, uniq)
    lost = 0.0
    moved = 0
    for c in np.unique(chain):
        sel = chain == c
        f = float(flow[sel].max())
        if f <= 0:
            continue
        ends_c = np.unique(np.r_[u[sel], v[sel]])
        ends_c = ends_c[(node[ends_c] >= 0) & (snap[ends_c] < 1.0)]
        if ends_c.size < 2:
            lost += f
            continue
        pts = uniq[ends_c]
        dd = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
        i, j = np.unravel_index(np.argmax(dd), dd.shape)
        a, b = int(node[ends_c[i]]), int(node[ends_c[j]])
        d, pred = csgraph.dijkstra(after_graph.matrix, directed=False, indices=a, return_predecessors=True)
        if not np.isfinite(d[b]) or a == b:
            lost += f
            continue
        add[_path_edges(after_graph, pred, b)] += f
        moved += 1
    if moved:
        notes.append(f"Het verkeer van {moved} afgesloten straat(deel)en is omgeleid via de snelste route op het overblijvende autonetwerk.")
    if lost > 0:
        notes.append(f"{fmt_number(lost)} voertuigen per dag van afgesloten straten vinden geen omleiding binnen het studiegebied (verdwijnen uit het model).")
    return add, notes


def plan_traffic(
    before: StudyArea,
    after: StudyArea,
    sites: gpd.GeoDataFrame | None = None,
    params: TrafficParams | None = None,
    counts: gpd.GeoDataFrame | pd.DataFrame | None = None,
    before_traffic: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Traffic on the streets of ``after`` (a study area with a plan applied).

    1. Every after-segment lying on a before-segment (same line, or a piece of it) keeps the
       before volume (counts included); new segments get their class default.
    2. Speeds come from the after tags (a plan's zone 30, fietsstraat or 70 km/h).
    3. Segments closed to motor traffic by the plan (or removed) get 0; their volume is
       re-routed over the remaining car network (:func:`_reroute_closed`).
    4. The trips of ``sites`` (new dwellings / parking spaces; see
       :func:`sites_from_plan_features`) are added along the fastest route to the main roads.

    Returns
    -------
    GeoDataFrame
        As :func:`traffic_per_segment` for ``after.streets``, plus ``aadt_before`` (NaN for new
        segments), ``aadt_plan_trips`` and ``aadt_rerouted``; ``traffic_source`` is ``'plan'``
        where the plan changed volume or speed.
    """
    p = _params(params)
    bt = before_traffic if before_traffic is not None else traffic_per_segment(before, p, counts)
    at = traffic_per_segment(after, p)
    notes = list(at.attrs.get("notes", []))
    ag = np.asarray(at.geometry.values, dtype=object)
    bg = np.asarray(bt.geometry.values, dtype=object)
    match = _match_lines(ag, bg, 1.0, 10.0)
    # an after-segment only counts as "the same street" when it lies (almost) on the before line
    has = match >= 0
    if has.any():
        hd = shapely.hausdorff_distance(ag[has], bg[match[has]])
        cov = shapely.length(ag[has]) <= shapely.length(bg[match[has]]) + 1.0
        ok = np.zeros(len(ag), bool)
        ok[np.flatnonzero(has)] = (hd < 1.0) | cov
        match = np.where(ok, match, -1)
    has = match >= 0
    b_aadt = bt["aadt"].to_numpy(dtype=float)
    aadt_before = np.full(len(at), np.nan)
    aadt_before[has] = b_aadt[match[has]]
    closed_after = at["aadt"].to_numpy(dtype=float) <= 0
    out = at.copy()
    # carry volumes (and counts) over onto open, matched segments
    carry = has & ~closed_after
    for k in ("aadt", "heavy_share", "share_day", "share_evening", "share_night", "traffic_source"):
        vals = bt[k].to_numpy()[match[carry]]
        out.loc[out.index[carry], k] = vals
    # speed: a count's speed survives only when the plan did not change the maxspeed tag
    same_tag = np.zeros(len(at), bool)
    if carry.any():
        bt_tag = before.streets["maxspeed"].astype(str).to_numpy()[match[carry]] if "maxspeed" in before.streets else None
        at_tag = after.streets["maxspeed"].astype(str).to_numpy()[carry] if "maxspeed" in after.streets else None
        if bt_tag is not None and at_tag is not None:
            same_tag[np.flatnonzero(carry)] = bt_tag == at_tag
    b_speed = bt["speed_kmh"].to_numpy(dtype=float)
    use_b = same_tag & (bt["traffic_source"].to_numpy()[np.clip(match, 0, None)] == SOURCE_COUNT)
    spd = out["speed_kmh"].to_numpy(dtype=float).copy()
    spd[use_b] = b_speed[match[use_b]]
    out["speed_kmh"] = spd
    speed_changed = has & ~closed_after & ~np.isclose(np.nan_to_num(spd), np.nan_to_num(b_speed[np.clip(match, 0, None)]))
    # closures: before segments with traffic that are closed or gone after the plan
    matched_before = np.zeros(len(bt), bool)
    matched_before[match[carry]] = True
    closed_b = np.flatnonzero((b_aadt > 0) & ~matched_before)
    g = car_graph(out)
    rer, n1 = _reroute_closed(bt, closed_b, out, g)
    notes += n1
    trips, n2 = assign_site_trips(out, sites, p) if sites is not None else (np.zeros(len(out)), [])
    notes += n2
    aadt = out["aadt"].to_numpy(dtype=float) + rer + trips
    out["aadt"] = aadt
    out["aadt_before"] = aadt_before
    out["aadt_plan_trips"] = trips
    out["aadt_rerouted"] = rer
    changed = (rer > 0) | (trips > 0) | speed_changed | (has & closed_after & (aadt_before > 0))
    out.loc[changed, "traffic_source"] = SOURCE_PLAN
    if (trips > 0).any():
        # new trips are cars: heavy share dilutes on the segments they use
        h = out["heavy_share"].to_numpy(dtype=float)
        base = aadt - trips
        out["heavy_share"] = np.where(aadt > 0, h * base / np.maximum(aadt, 1e-9), h)
    n_closed = int((has & closed_after & (aadt_before > 0)).sum())
    if n_closed:
        notes.append(f"Het plan sluit {n_closed} straatsegmenten af voor autoverkeer.")
    if int(speed_changed.sum()):
        notes.append(f"Het plan wijzigt de snelheid op {int(speed_changed.sum())} straatsegmenten.")
    out.attrs["notes"] = notes
    out.attrs["norms_used"] = list(p.sources)
    return out


__all__ = [
    "TrafficParams", "TrafficError", "traffic_per_segment", "plan_traffic", "sites_from_plan_features",
    "assign_site_trips", "car_graph", "parse_maxspeed", "validate_counts", "motor_closed", "TRAFFIC_COLUMNS",
    "SOURCE_DEFAULT", "SOURCE_COUNT", "SOURCE_PLAN",
]
