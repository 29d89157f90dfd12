"""Cycling: level of traffic stress (LTS) per street segment, fietsstraten, low-stress reach.

LTS follows Mekuria, Furth & Nixon (2012, MTI Report 11-19) adapted to Flemish rules; every
number is in ``data/norms/lts.toml``. The rules, first match wins:

1. not cyclable (:func:`spatial.profiles.cyclable_mask`) -> no LTS (NaN);
2. ``highway=cycleway``, or a footway/path/pedestrian way where cycling is allowed (no motor
   traffic) -> ``separated_lts`` (1);
3. ``highway=track`` -> ``track_lts``; ``highway=living_street`` (woonerf) -> ``living_street_lts``;
4. fietsstraat (``cyclestreet=yes`` or ``bicycle_road=yes``): motor vehicles may not overtake
   cyclists and drive at most 30 km/h (Wegcode art. 22novies) -> ``fietsstraat_lts_local`` (1)
   on a local road class with at most 2 lanes, else ``fietsstraat_lts_through`` (2);
5. the carriageway: speed = ``maxspeed`` or the default of the highway class, lanes = ``lanes``
   or the default (both COUNTED when assumed):

   * painted lane (``cycleway=lane|opposite_lane``): speed <= band 2 -> 2 (3 with >= 4 lanes);
     faster -> 4;
   * mixed traffic: speed <= band 1 (40 km/h): 1 on local classes / 2 otherwise, 3 with >= 4
     lanes; <= band 2 (50 km/h): 2 local / 3 otherwise, 4 with >= 4 lanes; faster -> 4;

6. a cycle track on the road way (``cycleway=track``) gives the way ``separated_lts`` (1), while
   ``lts_carriageway`` keeps the stress of riding in the traffic lanes (step 5).

``lts`` is what a cyclist meets on the best facility of the way; ``lts_carriageway`` is the
mixed-traffic/painted-lane value of step 5 (NaN for ways without motor traffic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS
from gezondestad.model.topology import node_lines
from gezondestad.spatial.network import (
    Network,
    _adjacency,
    build_router,
    router_nearest,
    snap_points,
)
from gezondestad.spatial.profiles import cyclable_mask
from scipy.sparse import csgraph

_CAR_FREE = {"cycleway", "footway", "path", "pedestrian", "steps", "bridleway", "corridor"}
_LANE_KINDS = {"lane", "opposite_lane"}
_NUM_RE = re.compile(r"(\d+(?:[.,]\d+)?)")


class CyclingError(GezondeStadError):
    """Cycling input that cannot be used (no streets, centre outside the network, ...)."""


def _col(streets: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if name not in streets:
        return np.full(len(streets), "", dtype=object)
    return streets[name].astype("object").fillna("").astype(str).str.strip().str.lower().to_numpy()


def parse_maxspeed_kmh(values: np.ndarray | pd.Series | list, norms_dir: str | None = None) -> np.ndarray:
    """Read OSM ``maxspeed`` values as km/h (NaN when missing or unreadable).

    Numbers are km/h unless followed by ``mph``; implicit values such as ``BE:zone30`` come from
    ``implicit_maxspeed_kmh`` in ``data/norms/lts.toml``; ``"30;50"`` takes the highest value
    (the stress a cyclist meets somewhere on the way).
    """
    implicit = {str(k).lower(): float(v) for k, v in load_norms("lts", norms_dir)["implicit_maxspeed_kmh"].value.items()}
    out = np.full(len(values), np.nan)
    cache: dict[str, float] = {}
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v).strip().lower()
        if s in cache:
            out[i] = cache[s]
            continue
        val = np.nan
        if s in implicit:
            val = implicit[s]
        else:
            parts = [p.strip() for p in s.split(";") if p.strip()]
            nums = []
            for p in parts:
                if p in implicit:
                    nums.append(implicit[p])
                    continue
                m = _NUM_RE.search(p)
                if m:
                    x = float(m.group(1).replace(",", "."))
                    nums.append(x * 1.609344 if "mph" in p else x)
            if nums:
                val = max(nums)
        cache[s] = val
        out[i] = val
    return out


def _parse_lanes(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v:
            m = _NUM_RE.search(str(v))
            if m:
                x = float(m.group(1).replace(",", "."))
                if x > 0:
                    out[i] = np.floor(x)
    return out


def fietsstraat_mask(streets: gpd.GeoDataFrame) -> np.ndarray:
    """True for fietsstraten: ``cyclestreet=yes`` or ``bicycle_road=yes``."""
    return np.isin(_col(streets, "cyclestreet"), ["yes", "designated"]) | np.isin(_col(streets, "bicycle_road"), ["yes", "designated"])


def classify_lts(streets: gpd.GeoDataFrame, norms_dir: str | None = None) -> pd.DataFrame:
    """LTS 1-4 for every street segment (module docstring gives the rules).

    Parameters
    ----------
    streets : GeoDataFrame
        The ``streets`` theme (OSM tags as strings or None).

    Returns
    -------
    DataFrame indexed like ``streets`` with ``lts`` (float 1-4, NaN when not cyclable),
    ``lts_carriageway``, ``lts_rule`` (which rule decided), ``cyclable``, ``fietsstraat``,
    ``maxspeed_kmh`` (value used), ``maxspeed_assumed`` and ``lanes_assumed`` (a default of
    ``data/norms/lts.toml`` was used because the tag was missing or unreadable).
    """
    n = load_norms("lts", norms_dir)
    v = lambda k: float(n[k].value)  # noqa: E731
    m = len(streets)
    hw = _col(streets, "highway")
    cyc = _col(streets, "cycleway")
    cyclable = cyclable_mask(streets) if m else np.zeros(0, bool)
    fiets = fietsstraat_mask(streets)
    speed_tag = parse_maxspeed_kmh(streets["maxspeed"].to_numpy() if "maxspeed" in streets else np.full(m, None), norms_dir)
    dspeed = {str(k): float(x) for k, x in n["default_maxspeed_kmh"].value.items()}
    speed_def = np.array([dspeed.get(h, v("default_maxspeed_fallback_kmh")) for h in hw], dtype=float)
    lanes_tag = _parse_lanes(_col(streets, "lanes"))
    dlanes = {str(k): float(x) for k, x in n["default_lanes"].value.items()}
    lanes_def = np.array([dlanes.get(h, v("default_lanes_fallback")) for h in hw], dtype=float)
    speed = np.where(np.isfinite(speed_tag), speed_tag, speed_def)
    lanes = np.where(np.isfinite(lanes_tag), lanes_tag, lanes_def)
    local = np.isin(hw, list(n["local_highway_classes"].value))
    multi = lanes >= v("multilane_min_lanes")
    b1 = speed <= v("speed_band1_max_kmh")
    b2 = (~b1) & (speed <= v("speed_band2_max_kmh"))
    fast = ~(b1 | b2)

    # step 5: carriageway stress
    mixed = np.select(
        [b1 & ~multi & local, b1 & ~multi, b1 & multi, b2 & ~multi & local, b2 & ~multi, b2 & multi, fast],
        [v("mixed_lts_band1_local"), v("mixed_lts_band1_other"), v("mixed_lts_band1_multilane"),
         v("mixed_lts_band2_local"), v("mixed_lts_band2_other"), 4.0, 4.0],
        default=4.0,
    )
    lane_lts = np.select([fast, multi], [v("bike_lane_lts_fast"), v("bike_lane_lts_multilane")], default=v("bike_lane_lts_band2"))
    has_lane = np.isin(cyc, list(_LANE_KINDS))
    carriage = np.where(has_lane, np.minimum(mixed, lane_lts), mixed)
    car_free = np.isin(hw, list(_CAR_FREE))
    carriage = np.where(car_free, np.nan, carriage)

    lts = np.full(m, np.nan)
    rule = np.full(m, "", dtype=object)
    done = ~cyclable
    rule[done] = "not cyclable"

    def apply(sel: np.ndarray, value: np.ndarray | float, name: str) -> None:
        nonlocal done
        s = sel & ~done
        lts[s] = value[s] if isinstance(value, np.ndarray) else value
        rule[s] = name
        done = done | s

    apply(car_free, v("separated_lts"), "separated path (no motor traffic)")
    apply(hw == "track", v("track_lts"), "track (access traffic only)")
    apply(hw == "living_street", v("living_street_lts"), "woonerf (living_street)")
    apply(fiets & local & ~multi & (lanes <= 2), v("fietsstraat_lts_local"), "fietsstraat on a local street")
    apply(fiets, v("fietsstraat_lts_through"), "fietsstraat on a through road")
    apply(cyc == "track", v("separated_lts"), "cycle track along the road")
    apply(has_lane, carriage, "painted cycle lane")
    apply(np.ones(m, bool), carriage, "mixed traffic")

    # a default counts only where the carriageway rule needed it (car roads that are cyclable
    # and not decided by a tag-only rule); for the cycle-track case lts_carriageway uses it too
    uses_speed = cyclable & ~car_free & np.isin(rule, ["cycle track along the road", "painted cycle lane", "mixed traffic"])
    uses_lanes = uses_speed | (cyclable & fiets)
    return pd.DataFrame(
        {
            "lts": lts,
            "lts_carriageway": carriage,
            "lts_rule": rule,
            "cyclable": cyclable,
            "fietsstraat": fiets,
            "maxspeed_kmh": np.where(car_free, np.nan, speed),
            "lanes_n": np.where(car_free, np.nan, lanes),
            "maxspeed_assumed": uses_speed & ~np.isfinite(speed_tag),
            "lanes_assumed": uses_lanes & ~np.isfinite(lanes_tag),
        },
        index=streets.index,
    )


def segment_wijk(streets: gpd.GeoDataFrame, wijken: gpd.GeoDataFrame, max_gap_m: float = 50.0) -> np.ndarray:
    """``wijk_code`` of each segment by its midpoint (None outside every wijk).

    Midpoints outside every polygon take the nearest wijk within ``max_gap_m`` (streets on the
    city border); pass 0 for a plan polygon, where only segments inside count.
    """
    out = np.full(len(streets), None, dtype=object)
    if len(streets) == 0 or len(wijken) == 0:
        return out
    mid = shapely.line_interpolate_point(streets.geometry.values, 0.5, normalized=True)
    tree = shapely.STRtree(wijken.geometry.values)
    codes = wijken["wijk_code"].astype("object").to_numpy()
    pi, wi = tree.query(mid, predicate="intersects")
    first = ~pd.Series(pi).duplicated().to_numpy()
    out[pi[first]] = codes[wi[first]]
    rest = np.flatnonzero(pd.isna(out))
    if len(rest) and max_gap_m > 0:
        (ri, rwi), _ = tree.query_nearest(mid[rest], max_distance=max_gap_m, return_distance=True, all_matches=False)
        out[rest[ri]] = codes[rwi]
    return out


def fietsstraat_components(streets: gpd.GeoDataFrame) -> np.ndarray:
    """Connected-component label per segment among the fietsstraat segments (-1 for others).

    Two fietsstraat segments are connected when they share an end node (coordinates within
    1 cm), i.e. a cyclist can ride from one to the other without leaving fietsstraten.
    """
    fs = fietsstraat_mask(streets)
    lab = np.full(len(streets), -1, dtype=np.int64)
    idx = np.flatnonzero(fs)
    if len(idx) == 0:
        return lab
    u, v, xy, keep = node_lines(streets.geometry.iloc[idx])
    ki = idx[keep]
    mat = _adjacency(xy.shape[0], u, v, np.ones(len(u)))
    _, nl = csgraph.connected_components(mat, directed=False)
    lab[ki] = nl[u]
    return lab


def fietsstraten_per_wijk(streets: gpd.GeoDataFrame, wijken: gpd.GeoDataFrame, seg_wijk: np.ndarray | None = None) -> pd.DataFrame:
    """Fietsstraat length and connectivity per wijk.

    Returns
    -------
    DataFrame with ``wijk_code``, ``fietsstraat_km`` (length of fietsstraat segments whose
    midpoint lies in the wijk), ``fietsstraat_components`` (number of connected fietsstraat
    networks with a segment in the wijk) and ``fietsstraat_longest_km`` (length of the longest
    such network, counted over the whole city since it does not stop at a wijk border).
    """
    sw = segment_wijk(streets, wijken) if seg_wijk is None else seg_wijk
    lab = fietsstraat_components(streets)
    length = shapely.length(streets.geometry.values) / 1000.0 if len(streets) else np.zeros(0)
    comp_km = pd.Series(length[lab >= 0]).groupby(lab[lab >= 0]).sum()
    rows = []
    for code in wijken["wijk_code"].to_numpy():
        sel = (sw == code) & (lab >= 0)
        comps = np.unique(lab[sel])
        rows.append(
            {
                "wijk_code": code,
                "fietsstraat_km": float(length[sel].sum()),
                "fietsstraat_components": int(len(comps)),
                "fietsstraat_longest_km": float(comp_km.loc[comps].max()) if len(comps) else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=["wijk_code", "fietsstraat_km", "fietsstraat_components", "fietsstraat_longest_km"])


def lts_per_wijk(streets: gpd.GeoDataFrame, lts: pd.DataFrame, wijken: gpd.GeoDataFrame, seg_wijk: np.ndarray | None = None, norms_dir: str | None = None) -> pd.DataFrame:
    """Share of cyclable street length at low stress, and data-quality counts, per wijk.

    Returns
    -------
    DataFrame with ``wijk_code``, ``cyclable_km``, ``lts1_km`` .. ``lts4_km``,
    ``lts12_share_length`` (length with LTS <= ``low_stress_max_lts`` over cyclable length;
    NaN without cyclable streets), ``lts_maxspeed_default_n`` and ``lts_lanes_default_n``
    (segments where a default was assumed) and ``lts_segments_n``.
    """
    max_lts = float(load_norms("lts", norms_dir)["low_stress_max_lts"].value)
    sw = segment_wijk(streets, wijken) if seg_wijk is None else seg_wijk
    length = shapely.length(streets.geometry.values) / 1000.0 if len(streets) else np.zeros(0)
    df = pd.DataFrame(
        {
            "wijk_code": sw,
            "km": length,
            "cyc_km": np.where(lts["cyclable"].to_numpy(), length, 0.0),
            "low_km": np.where(lts["lts"].to_numpy() <= max_lts, length, 0.0),
            "speed_def": lts["maxspeed_assumed"].to_numpy().astype(int),
            "lanes_def": lts["lanes_assumed"].to_numpy().astype(int),
            "n": 1,
        }
    )
    for k in (1, 2, 3, 4):
        df[f"lts{k}_km"] = np.where(lts["lts"].to_numpy() == k, length, 0.0)
    g = df.dropna(subset=["wijk_code"]).groupby("wijk_code").sum(numeric_only=True)
    out = pd.DataFrame({"wijk_code": wijken["wijk_code"].to_numpy()})
    get = lambda c: out["wijk_code"].map(g[c]).fillna(0.0).to_numpy() if len(g) else np.zeros(len(out))  # noqa: E731
    out["cyclable_km"] = get("cyc_km")
    for k in (1, 2, 3, 4):
        out[f"lts{k}_km"] = get(f"lts{k}_km")
    cyc_km = out["cyclable_km"].to_numpy()
    out["lts12_share_length"] = np.where(cyc_km > 0, get("low_km") / np.where(cyc_km > 0, cyc_km, 1.0), np.nan)
    out["lts_maxspeed_default_n"] = get("speed_def").astype(int)
    out["lts_lanes_default_n"] = get("lanes_def").astype(int)
    out["lts_segments_n"] = get("n").astype(int)
    return out


def default_centre(pois: gpd.GeoDataFrame, wijken: gpd.GeoDataFrame) -> shapely.Point:
    """Default city centre: the centroid of the wijk with the most shops and supermarkets.

    Raises
    ------
    CyclingError
        When there are no wijken or no shops; pass ``centre_xy`` explicitly then.
    """
    if len(wijken) == 0:
        raise CyclingError("No wijken to choose a city centre from; pass centre_xy (Lambert 72 x, y).")
    cat = pois["category"].astype("object").fillna("").to_numpy() if len(pois) else np.zeros(0, dtype=object)
    shops = pois[np.isin(cat, ["shop", "supermarket"])]
    if len(shops) == 0:
        raise CyclingError("No shops in the study area to locate the city centre; pass centre_xy (Lambert 72 x, y).")
    from gezondestad.model.wijken import assign_wijk

    codes = assign_wijk(shops, wijken)["wijk_code"].dropna()
    if len(codes) == 0:
        raise CyclingError("No shop lies in a wijk; pass centre_xy (Lambert 72 x, y).")
    best = codes.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    return wijken.loc[wijken["wijk_code"] == best].geometry.iloc[0].centroid


@dataclass
class LowStressReach:
    """Per-home low-stress reach (Mekuria et al. 2012 connectivity with a detour limit).

    Attributes
    ----------
    distances : DataFrame
        Per home: ``bike_d_centre_m`` / ``bike_d_school_m`` (shortest over all cyclable edges),
        ``lts12_d_centre_m`` / ``lts12_d_school_m`` (over LTS <= 2 edges only), and booleans
        ``centre_lts12`` / ``school_lts12`` (low-stress route exists and is at most
        ``max_detour_ratio`` times the shortest).
    centre : shapely.Point
    """

    distances: pd.DataFrame
    centre: shapely.Point


def low_stress_reach(
    bike_net: Network,
    low_net: Network | None,
    homes: gpd.GeoDataFrame,
    centre: shapely.Point,
    schools: gpd.GeoSeries,
    norms_dir: str | None = None,
) -> LowStressReach:
    """Who can cycle to the city centre and to their nearest school over LTS <= 2 edges only.

    Parameters
    ----------
    bike_net : Network
        All cyclable edges.
    low_net : Network or None
        Cyclable edges with LTS <= 2 (None when there is none: nobody is connected).
    homes : GeoDataFrame
    centre : Point
        The destination "city centre", first moved onto the nearest cyclable edge within
        ``centre_max_snap_m`` (raises :class:`CyclingError` when none is that close).
    schools : GeoSeries of Points
    """
    n = load_norms("lts", norms_dir)
    snap = float(n["home_max_snap_m"].value)
    ratio = float(n["max_detour_ratio"].value)  # x low_stress_circuity x crow-fly = the distance budget
    # the centre is a notional point (a wijk centroid): move it onto the nearest cyclable edge
    # within centre_max_snap_m first; schools snap like homes
    sc = snap_points(bike_net, np.array([centre], dtype=object), float(n["centre_max_snap_m"].value))
    if not sc.ok[0]:
        raise CyclingError(
            f"The city centre ({centre.x:.0f}, {centre.y:.0f}) is more than {float(n['centre_max_snap_m'].value):g} m from any cyclable street; pass centre_xy on a street."
        )
    centre_on = shapely.line_interpolate_point(bike_net.edge_geometry[sc.edge[0]], sc.offset_m[0])
    targets = np.concatenate([[centre_on], np.asarray(schools.values, dtype=object)]) if len(schools) else np.array([centre_on], dtype=object)
    is_centre = np.zeros(len(targets), bool)
    is_centre[0] = True
    out = pd.DataFrame(index=homes.index)
    low_router, low_school = None, None
    for prefix, net in (("bike", bike_net), ("lts12", low_net)):
        if net is None:
            out[f"{prefix}_d_centre_m"] = np.inf
            out[f"{prefix}_d_school_m"] = np.inf
            continue
        r = build_router(net, homes.geometry, targets, snap)
        out[f"{prefix}_d_centre_m"] = router_nearest(r, is_centre).distance_m
        near = router_nearest(r, ~is_centre) if len(targets) > 1 else None
        out[f"{prefix}_d_school_m"] = near.distance_m if near is not None else np.inf
        if prefix == "lts12":
            low_router, low_school = r, near
    # absolute budget (independent of the network): ratio x circuity x crow-fly distance
    k = ratio * float(n["low_stress_circuity"].value)
    floor = float(n["low_stress_budget_floor_m"].value)
    hxy = shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object))
    cxy = shapely.get_coordinates(centre_on)[0]
    budget_c = np.maximum(floor, k * np.hypot(hxy[:, 0] - cxy[0], hxy[:, 1] - cxy[1]))
    # a low-stress route is never shorter than the shortest route (snap legs can cut across a
    # block when a home re-snaps to another street): compare max(low-stress, shortest) with the budget
    lo = np.maximum(out["lts12_d_centre_m"].to_numpy(dtype=float), out["bike_d_centre_m"].to_numpy(dtype=float))
    out["centre_lts12"] = np.isfinite(lo) & (lo <= budget_c + 1e-6)
    bike_school = out["bike_d_school_m"].to_numpy(dtype=float)
    reached = np.zeros(len(homes), dtype=bool)
    if low_router is not None and low_school is not None:
        # A home reaches school j when max(low-stress distance to j, shortest distance to the
        # nearest school) <= its budget for j. That maximum is never below dmin (same with the
        # nearest low-stress school), so: the nearest school decides first, and school j is
        # searched only for the homes not yet reached whose budget for j is at least dmin, up to
        # the largest of those budgets (same answer as searching every school for every home).
        sxy = shapely.get_coordinates(np.asarray(schools.values, dtype=object))
        dmin = np.maximum(low_school.distance_m, bike_school)
        j0 = low_school.target - 1
        has = np.isfinite(dmin) & (j0 >= 0)
        b0 = np.maximum(floor, k * np.hypot(hxy[:, 0] - sxy[np.maximum(j0, 0), 0], hxy[:, 1] - sxy[np.maximum(j0, 0), 1]))
        reached = has & (dmin <= b0 + 1e-6)
        for j in range(len(sxy)):
            budget = np.maximum(floor, k * np.hypot(hxy[:, 0] - sxy[j, 0], hxy[:, 1] - sxy[j, 1]))
            cand = ~reached & np.isfinite(dmin) & (dmin <= budget + 1e-6)
            if not cand.any():
                continue
            m = np.zeros(len(targets), dtype=bool)
            m[1 + j] = True
            d = np.maximum(router_nearest(low_router, m, max_dist_m=float(budget[cand].max()) + 1.0).distance_m, bike_school)
            reached |= cand & np.isfinite(d) & (d <= budget + 1e-6)
    out["school_lts12"] = reached
    return LowStressReach(out, centre)


def crossing_stress_edges(streets: gpd.GeoDataFrame, lts: pd.DataFrame, norms_dir: str | None = None) -> np.ndarray:
    """True for edges of roads that are stressful to cross without signals (see :func:`crossing_stress_nodes`)."""
    n = load_norms("lts", norms_dir)
    v_ = lambda k: float(n[k].value)  # noqa: E731
    speed = lts["maxspeed_kmh"].to_numpy(dtype=float)
    lanes = lts["lanes_n"].to_numpy(dtype=float) if "lanes_n" in lts else np.full(len(lts), np.nan)
    lanes = np.nan_to_num(lanes, nan=2.0)
    stress = np.isfinite(speed) & (
        (lanes >= v_("crossing_stress_any_speed_lanes"))
        | ((lanes >= v_("crossing_stress_multilane_min_lanes")) & (speed >= v_("crossing_stress_speed_multilane_kmh")))
        | (speed >= v_("crossing_stress_speed_kmh"))
    )
    return stress & (_col(streets, "motor_vehicle") != "no")


def crossing_stress_nodes(streets: gpd.GeoDataFrame, lts: pd.DataFrame, u: np.ndarray, v: np.ndarray, norms_dir: str | None = None) -> np.ndarray:
    """Node ids where crossing is a stress point (Furth's unsignalised crossing criteria).

    A node is a stress point when a road that is stressful to cross passes through it (at least
    two of its edges meet there) and no edge at the node carries traffic signals
    (``crossing=traffic_signals`` or ``highway=traffic_signals``). Stressful to cross (Mekuria,
    Furth & Nixon 2012, Table 4, without median): ``crossing_stress_any_speed_lanes`` lanes or
    more, or ``crossing_stress_multilane_min_lanes`` lanes at ``crossing_stress_speed_multilane_kmh``,
    or any road at ``crossing_stress_speed_kmh`` or faster.
    """
    stress = crossing_stress_edges(streets, lts, norms_dir)
    nn = int(max(u.max(initial=-1), v.max(initial=-1))) + 1
    cnt = np.bincount(np.r_[u[stress], v[stress]], minlength=nn)
    sig = (_col(streets, "crossing") == "traffic_signals") | (_col(streets, "highway") == "traffic_signals")
    signal = np.zeros(nn, dtype=bool)
    signal[np.r_[u[sig], v[sig]]] = True
    return np.flatnonzero((cnt >= 2) & ~signal)


def low_stress_network(streets: gpd.GeoDataFrame, lts: pd.DataFrame, norms_dir: str | None = None) -> Network | None:
    """The network of cyclable edges with LTS <= ``low_stress_max_lts`` (None when empty).

    Crossings are part of the route: at a :func:`crossing_stress_nodes` node where two or more
    low-stress edges that are not part of the stressful road meet (a side street crossing it),
    those edges are detached from the node, so a low-stress route cannot cross there. A side
    street ending at such a road (one low-stress edge) stays connected to it (e.g. to a cycle
    track along it), and so do the road's own low-stress edges (a separated track).
    """
    max_lts = float(load_norms("lts", norms_dir)["low_stress_max_lts"].value)
    mask = lts["cyclable"].to_numpy() & (lts["lts"].to_numpy() <= max_lts)
    if not mask.any():
        return None
    geoms = streets.geometry.values
    u, v, node_xy, keep = node_lines(geoms)
    sub = lts.iloc[np.flatnonzero(keep)]
    st_keep = streets.iloc[np.flatnonzero(keep)]
    bad = crossing_stress_nodes(st_keep, sub, u, v, norms_dir)
    m = mask[keep]
    src = np.flatnonzero(keep)[m]
    u, v = u[m].astype(np.int64), v[m].astype(np.int64)
    g = np.asarray(geoms, dtype=object)[keep][m]
    if len(g) == 0:
        return None
    if len(bad):
        # low edges that are not the stressful road itself ("side" edges) at each bad node
        road = crossing_stress_edges(st_keep, sub, norms_dir)[m]
        side_u = np.isin(u, bad) & ~road
        side_v = np.isin(v, bad) & ~road
        nn = node_xy.shape[0]
        cnt = np.bincount(np.r_[u[side_u], v[side_v]], minlength=nn)
        cut_u = side_u & (cnt[u] >= 2)
        cut_v = side_v & (cnt[v] >= 2)
        k = int(cut_u.sum() + cut_v.sum())
        if k:
            new_ids = np.arange(nn, nn + k, dtype=np.int64)
            ends = np.r_[u[cut_u], v[cut_v]]
            node_xy = np.vstack([node_xy, node_xy[ends]])
            u = u.copy()
            v = v.copy()
            u[cut_u] = new_ids[: int(cut_u.sum())]
            v[cut_v] = new_ids[int(cut_u.sum()):]
    return Network(node_xy, u, v, shapely.length(g), g, src)


__all__ = [
    "CyclingError",
    "LowStressReach",
    "classify_lts",
    "crossing_stress_edges",
    "crossing_stress_nodes",
    "default_centre",
    "fietsstraat_components",
    "fietsstraat_mask",
    "fietsstraten_per_wijk",
    "low_stress_network",
    "low_stress_reach",
    "lts_per_wijk",
    "parse_maxspeed_kmh",
    "segment_wijk",
]
_ = CRS
