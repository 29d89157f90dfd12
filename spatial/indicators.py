"""All network indicators of a study area in one call: green access, cycling stress, STOP score.

:func:`network_indicators` builds each network once (walking, cycling, low-stress cycling),
snaps the homes once per network and answers every nearest-destination question with one
multi-source Dijkstra each (:func:`spatial.network.build_router`). The plan screening calls it
on a modified copy of the study area; to recompute only around a change it can pass a subset of
``homes`` and the prebuilt :class:`Networks` of an unchanged street theme.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points
from gezondestad.spatial.cycling import (
    classify_lts,
    default_centre,
    fietsstraten_per_wijk,
    low_stress_network,
    low_stress_reach,
    lts_per_wijk,
    segment_wijk,
)
from gezondestad.spatial.green import (
    GreenAccess,
    canopy_share,
    distance_column,
    green_access,
    green_area_per_polygon,
    park_access_points,
    public_green_spaces,
)
from gezondestad.spatial.network import (
    Network,
    NetworkError,
    build_network,
    build_router,
    largest_component_share,
    router_nearest,
)
from gezondestad.spatial.profiles import walkable_mask
from gezondestad.spatial.stop import (
    S_CATEGORIES,
    car_dominance,
    destination_points,
    o_home_flags,
    s_home_score,
    stop_scores,
)


class IndicatorError(GezondeStadError):
    """The study area cannot give network indicators (no streets, no homes, ...)."""


@dataclass
class Networks:
    """The networks of one street theme, built once and reusable across calls.

    Attributes
    ----------
    walk, bike : Network
        Walkable and cyclable edges (:mod:`spatial.profiles`).
    low : Network or None
        Cyclable edges with LTS <= 2 (None when there are none).
    lts : DataFrame
        :func:`spatial.cycling.classify_lts` of the streets.
    n_streets : int
        Number of street rows the networks were built from (a guard against reuse on other streets).
    """

    walk: Network
    bike: Network
    low: Network | None
    lts: pd.DataFrame
    n_streets: int


def build_networks(streets: gpd.GeoDataFrame, norms_dir: str | None = None) -> Networks:
    """Build the walking, cycling and low-stress cycling networks of ``streets`` once."""
    if streets is None or len(streets) == 0:
        raise IndicatorError("The study area has no streets: network indicators need a street network.")
    lts = classify_lts(streets, norms_dir)
    try:
        walk = build_network(streets, walkable_mask(streets))
    except NetworkError as exc:
        raise IndicatorError(f"No walkable street in the study area ({exc}); check the highway tags.") from exc
    try:
        bike = build_network(streets, lts["cyclable"].to_numpy())
    except NetworkError as exc:
        raise IndicatorError(f"No cyclable street in the study area ({exc}); check the highway tags.") from exc
    return Networks(walk, bike, low_stress_network(streets, lts, norms_dir), lts, len(streets))


@dataclass
class NetworkIndicators:
    """Result of :func:`network_indicators`.

    Attributes
    ----------
    homes : GeoDataFrame
        One row per home with every per-home value (distances in m, served flags, S share, ...).
    per_wijk : DataFrame
        One row per wijk (or zone): residents, shares, green m² per resident, LTS shares,
        fietsstraten, STOP sub-scores and the data-quality counts and statuses.
    segments : GeoDataFrame
        Street segments with ``lts``, ``lts_carriageway``, ``lts_rule``, ``maxspeed_kmh``,
        ``maxspeed_assumed``, ``lanes_assumed``, ``fietsstraat``, ``wijk_code``.
    unserved : GeoDataFrame
        Homes NOT within 300 m walk of a public green space >= 0.5 ha (WHO 2016), with their
        distance: where a new park would help most. Empty when green data is missing.
    green_spaces : GeoDataFrame
        Public green spaces with size, number of access points, ``reachable`` and ``reason``.
    centre : shapely.Point
        The city centre used for T.
    timings_s : dict
        Seconds per step.
    notes : list of str
        Data-quality remarks for the planner (partial or missing themes).
    """

    homes: gpd.GeoDataFrame
    per_wijk: pd.DataFrame
    segments: gpd.GeoDataFrame
    unserved: gpd.GeoDataFrame
    green_spaces: gpd.GeoDataFrame
    centre: shapely.Point
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _has_tag(streets: gpd.GeoDataFrame, tag: str) -> bool:
    return tag in streets and bool(streets[tag].notna().any())


def _status(area: StudyArea, theme: str) -> str:
    return area.theme_info(theme).status if area.has(theme) else "missing"


def network_indicators(
    area: StudyArea,
    homes: gpd.GeoDataFrame | None = None,
    centre_xy: tuple[float, float] | None = None,
    networks: Networks | None = None,
    zones: gpd.GeoDataFrame | None = None,
    norms_dir: str | None = None,
    progress: bool = False,
) -> NetworkIndicators:
    """Green access, cycling stress and STOP score for every home, aggregated per wijk.

    Parameters
    ----------
    area : StudyArea
        Needs streets; uses wijken, buildings (else homes estimated along streets), green, pois,
        landuse and the land-cover raster when present (and says so when not).
    homes : GeoDataFrame, optional
        Home points (default :func:`spatial.aggregate.home_points`); pass a subset for a fast
        local recompute (per-wijk values then describe only those homes).
    centre_xy : (x, y), optional
        City centre in EPSG:31370 for the low-stress reach; default
        :func:`spatial.cycling.default_centre` (centroid of the wijk with the most shops).
    networks : Networks, optional
        Prebuilt :func:`build_networks` of ``area.streets`` (skip rebuilding when the streets
        did not change).
    zones : GeoDataFrame, optional
        Polygons with ``wijk_code`` and ``wijk_naam`` to aggregate on instead of ``area.wijken``
        (e.g. one plan polygon).
    progress : bool
        Show a tqdm progress bar over the steps.

    Returns
    -------
    NetworkIndicators
    """
    t_all = time.perf_counter()
    timings: dict[str, float] = {}
    notes: list[str] = []
    area.require("streets")
    streets = area.streets
    zones = area.wijken if zones is None else zones
    if len(zones) == 0:
        raise IndicatorError(f"Study area '{area.name}' has no wijken to aggregate on; add a wijken theme or pass zones.")
    steps = ["networks", "snap", "green", "walk", "cycling", "aggregate"]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(steps), desc="indicators", unit="step")

    def tick(name: str, t0: float) -> float:
        timings[name] = time.perf_counter() - t0
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(1)
        return time.perf_counter()

    t0 = time.perf_counter()
    if networks is not None and networks.n_streets != len(streets):
        raise IndicatorError("The prebuilt networks come from other streets than this study area; rebuild them with build_networks(area.streets).")
    nets = networks or build_networks(streets, norms_dir)
    h = home_points(area) if homes is None else homes.copy()
    if len(h) == 0:
        raise IndicatorError(f"Study area '{area.name}' has no homes (no residential buildings and no residential streets).")
    h = gpd.GeoDataFrame(h, geometry="geometry", crs=CRS).reset_index(drop=True)
    keep = "wijk_code" in h and h["wijk_code"].notna().any() and set(h["wijk_code"].dropna()) <= set(zones["wijk_code"])
    if not keep:
        wk = assign_wijk(h, zones)
        h["wijk_code"], h["wijk_naam"] = wk["wijk_code"].to_numpy(), wk["wijk_naam"].to_numpy()
    if "residents" not in h:
        h["residents"] = 0.0
    if h.get("estimated", pd.Series(False, index=h.index)).astype(bool).any():
        notes.append("Homes are estimated along residential streets (no buildings): residents per home are wijk totals spread evenly, or equal weights when unknown.")
    t0 = tick("networks", t0)

    # --- green: spaces and access points; one walking router for green + STOP destinations ----
    green_status = _status(area, "green")
    pois_status = _status(area, "pois")
    spaces = public_green_spaces(area.green, norms_dir)
    points, report = park_access_points(spaces, nets.walk, norms_dir)
    spaces = gpd.GeoDataFrame(spaces.merge(report[["space_id", "n_access_points", "reachable", "reason"]], on="space_id", how="left"), geometry="geometry", crs=CRS)
    dests = destination_points(area.pois, norms_dir)
    gn = load_norms("green", norms_dir)
    targets = np.concatenate([np.asarray(points.geometry.values, dtype=object), np.asarray(dests.geometry.values, dtype=object)])
    router = build_router(nets.walk, h.geometry, targets, float(gn["home_max_snap_m"].value)) if len(targets) else None
    if router is not None and (~router.target_snapped).any():
        kinds = np.concatenate([np.full(len(points), "park access point", dtype=object), dests["dest"].to_numpy(dtype=object)])
        lost = pd.Series(kinds[~router.target_snapped]).value_counts()
        notes.append(
            f"Destinations farther than {float(gn['home_max_snap_m'].value):g} m from any walkable street are ignored: "
            + ", ".join(f"{n} {k}" for k, n in lost.items())
        )
    share = largest_component_share(nets.walk)
    if share < 0.95:
        notes.append(f"The walking network has disconnected parts: the largest holds {100 * share:.0f} % of its length; homes on the other parts reach fewer destinations.")
    t0 = tick("snap", t0)
    ga: GreenAccess = green_access(nets.walk, h, area.green, norms_dir, router=router, access=(spaces, points), target_offset=0)
    if green_status == "missing":
        notes.append("No green-space data: green indicators are unknown (NaN), not zero.")
        for c in ga.distances.columns:
            ga.distances[c] = np.nan
    elif green_status == "partial":
        notes.append(f"Green-space data is partial ({area.theme_info('green').note or 'known incomplete'}): green shares are lower bounds.")
    unreach = spaces[~spaces["reachable"].astype(bool)] if len(spaces) else spaces
    if len(unreach):
        notes.append(f"{len(unreach)} public green space(s) have no path to them: " + ", ".join(str(x) for x in unreach["name"].fillna("(zonder naam)")))
    t0 = tick("green", t0)

    # --- walking destinations (S, O) -------------------------------------------------------
    dest_kind = np.concatenate([np.full(len(points), "park", dtype=object), dests["dest"].to_numpy(dtype=object)])
    dist: dict[str, np.ndarray] = {}
    for c in ["shop", "school", "gp_pharmacy", "bus_stop", "o_bus", "o_train"]:
        if router is not None and (dest_kind == c).any():
            dist[c] = router_nearest(router, dest_kind == c).distance_m
        else:
            dist[c] = np.full(len(h), np.inf)
    dist["park"] = ga.distances[distance_column(0.0)].to_numpy() if distance_column(0.0) in ga.distances else np.full(len(h), np.inf)
    if router is None or (dest_kind == "park").sum() == 0:
        dist["park"] = np.full(len(h), np.inf)
    s_home = s_home_score({c: dist[c] for c in S_CATEGORIES}, norms_dir)
    bus_ok, train_ok = o_home_flags(dist["o_bus"], dist["o_train"], norms_dir)
    if pois_status == "missing":
        notes.append("No POIs: S and O are unknown (NaN), not zero.")
        s_home = np.full(len(h), np.nan)
        bus_ok = train_ok = np.full(len(h), np.nan)
    elif pois_status == "partial":
        notes.append("POI data is partial: S and O are lower bounds.")
    t0 = tick("walk", t0)

    # --- cycling ---------------------------------------------------------------------------
    if centre_xy is not None:
        centre = shapely.Point(float(centre_xy[0]), float(centre_xy[1]))
    else:
        centre = default_centre(area.pois, area.wijken if len(area.wijken) else zones)
    schools = dests.geometry[dests["dest"].to_numpy() == "school"] if len(dests) else gpd.GeoSeries([], crs=CRS)
    reach = low_stress_reach(nets.bike, nets.low, h, centre, schools, norms_dir)
    seg_w = segment_wijk(streets, zones, max_gap_m=50.0 if zones is area.wijken else 0.0)
    t0 = tick("cycling", t0)

    # --- per home ----------------------------------------------------------------------------
    out = h.copy()
    for c in ga.distances.columns:
        out[c] = ga.distances[c].to_numpy()
    for c in ("shop", "school", "gp_pharmacy", "bus_stop"):
        out[f"walk_d_{c}_m"] = dist[c]
    out["walk_d_train_m"] = dist["o_train"]
    out["stop_s_home"] = s_home
    out["bus_400m"] = bus_ok
    out["train_800m"] = train_ok
    for c in reach.distances.columns:
        out[c] = reach.distances[c].to_numpy()
    out["walk_snapped"] = router.origin_snapped if router is not None else np.zeros(len(h), dtype=bool)
    out["green_data_status"] = green_status

    # --- per wijk ---------------------------------------------------------------------------
    bool_or_nan = lambda a: np.asarray(a, dtype=float)  # noqa: E731  (NaN-aware shares)
    values: dict[str, np.ndarray] = {}
    for c in ga.classes:
        values[f"{c.name}_share"] = bool_or_nan(ga.distances[c.name].to_numpy()) if green_status != "missing" else np.full(len(h), np.nan)
    values["green_d_05ha_mean_m"] = np.where(np.isfinite(ga.distances[distance_column(0.5)].to_numpy(dtype=float)), ga.distances[distance_column(0.5)].to_numpy(dtype=float), np.nan) if distance_column(0.5) in ga.distances else np.full(len(h), np.nan)
    values["stop_s_mean"] = bool_or_nan(s_home)
    values["bus_400m_share"] = bool_or_nan(bus_ok)
    values["train_800m_share"] = bool_or_nan(train_ok)
    values["centre_lts12_share"] = bool_or_nan(reach.distances["centre_lts12"].to_numpy())
    values["school_lts12_share"] = bool_or_nan(reach.distances["school_lts12"].to_numpy())
    values["homes_unsnapped_n"] = ~out["walk_snapped"].to_numpy(dtype=bool)
    how = {k: "mean" for k in values}
    how["homes_unsnapped_n"] = "count"
    per = aggregate_per_wijk(out, values, zones, how=how)
    per["homes_unsnapped_n"] = per["homes_unsnapped_n"].astype(int)
    lw = lts_per_wijk(streets, nets.lts, zones, seg_w, norms_dir)
    fw = fietsstraten_per_wijk(streets, zones, seg_w)
    per = per.merge(lw, on="wijk_code", how="left").merge(fw, on="wijk_code", how="left")
    # green m² per resident and canopy
    gm2 = green_area_per_polygon(spaces, zones)
    res = per["residents"].to_numpy(dtype=float)
    per["public_green_m2"] = gm2 if green_status != "missing" else np.nan
    per["green_per_resident_m2"] = np.where(res > 0, per["public_green_m2"].to_numpy(dtype=float) / np.where(res > 0, res, 1.0), np.nan)
    per["canopy_share"] = canopy_share(area.landcover, zones)
    cn = load_norms("green", norms_dir)
    cshare = per["canopy_share"].to_numpy(dtype=float)
    if green_status == "missing":
        cshare = np.full(len(per), np.nan)
        per["canopy_share"] = cshare
    ok30 = cshare >= float(cn["rule_3_30_300_canopy_share"].value)
    # below 30 % on partial green data cannot be called a failure: unknown (NaN) instead
    per["canopy_30_ok"] = np.where(np.isfinite(cshare) & (ok30 | (green_status == "present")), ok30.astype(float), np.nan)
    per["canopy_source"] = "land-cover raster, TREES class (mapped woods only; street and garden trees missing)" if area.landcover is not None else "missing (no land-cover raster)"
    per["green_data_status"] = green_status
    per["pois_data_status"] = pois_status
    per["landuse_data_status"] = _status(area, "landuse")
    # STOP
    cd = car_dominance(streets, nets.lts, area.landuse, zones, landuse_known=area.has("landuse"), norms_dir=norms_dir)
    cd.index = per.index
    for c in cd.columns:
        per[c] = cd[c].to_numpy()
    st = stop_scores(
        per["stop_s_mean"], per["centre_lts12_share"], per["school_lts12_share"], per["lts12_share_length"],
        per["bus_400m_share"], per["train_800m_share"], per["stop_p"], norms_dir,
    )
    for c in st.columns:
        per[c] = st[c].to_numpy()
    if not (nets.lts["fietsstraat"].any() or _has_tag(streets, "cyclestreet") or _has_tag(streets, "bicycle_road")):
        notes.append("No street carries a cyclestreet or bicycle_road tag: fietsstraat_km = 0 may only mean the street source lacks these tags.")
    if not area.has("landuse"):
        notes.append("No land-use theme: P uses the speed part only (parking surface unknown).")

    # --- segments and unserved ----------------------------------------------------------------
    seg = streets[["edge_id", "highway", "name", "maxspeed", "lanes", "cycleway", "cyclestreet", "bicycle_road", "geometry"]].copy()
    for c in ("lts", "lts_carriageway", "lts_rule", "cyclable", "fietsstraat", "maxspeed_kmh", "maxspeed_assumed", "lanes_assumed"):
        seg[c] = nets.lts[c].to_numpy()
    seg["wijk_code"] = seg_w
    served = out["green_300m_05ha"].to_numpy()
    if green_status == "missing":
        uns = out.iloc[0:0]
    else:
        uns = out[~np.asarray(served, dtype=bool)]
    unserved = gpd.GeoDataFrame(uns[["home_id", "residents", "wijk_code", "wijk_naam", distance_column(0.5), "geometry"]], geometry="geometry", crs=CRS)
    timings["aggregate"] = time.perf_counter() - t0
    if bar is not None:
        bar.update(1)
        bar.close()
    timings["total"] = time.perf_counter() - t_all
    return NetworkIndicators(out, per, gpd.GeoDataFrame(seg, geometry="geometry", crs=CRS), unserved, spaces, centre, timings, notes)


PER_HOME_LAYERS: dict[str, tuple[str, ...]] = {
    "green_access": ("green_d_any_m", "green_d_05ha_m", "green_d_1ha_m", "green_300m_05ha", "green_300m_1ha", "green_3_30_300"),
    "groennormen": ("green_d_any_m", "green_d_1ha_m", "green_d_10ha_m", "green_d_30ha_m", "green_d_60ha_m", "groen_woongroen", "groen_buurtgroen", "groen_wijkgroen", "groen_stadsdeelgroen", "groen_stadsgroen"),
    "cycling_low_stress": ("bike_d_centre_m", "lts12_d_centre_m", "centre_lts12", "bike_d_school_m", "lts12_d_school_m", "school_lts12"),
    "stop_walk": ("walk_d_shop_m", "walk_d_school_m", "walk_d_gp_pharmacy_m", "green_d_any_m", "walk_d_bus_stop_m", "walk_d_train_m", "stop_s_home", "bus_400m", "train_800m"),
}
"""Per-home layers written by ``gezondestad indicators`` (layer name -> columns besides the home id/wijk)."""
