"""All network indicators of a study area in one call: green access, cycling stress, STOP score.

:func:`network_indicators` builds each network once (walking, cycling, low-stress cycling),
snaps the homes once per network and answers every nearest-destination question with one
multi-source Dijkstra each (:func:`spatial.network.build_router`). The plan screening calls it
on a modified copy of the study area; to recompute only around a change it can pass a subset of
``homes`` and the prebuilt :class:`Networks` of an unchanged street theme.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.studyarea import StudyArea
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points
from gezondestad.spatial.cycling import (
    LowStressReach,
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
    GreenParams,
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
    Router,
    build_network,
    build_router,
    largest_component_share,
    router_nearest,
)
from gezondestad.spatial.netparams import NetworkParams
from gezondestad.spatial.profiles import walkable_mask
from gezondestad.spatial.stop import (
    S_CATEGORIES,
    StopError,
    car_dominance,
    destination_points,
    grid_points,
    o_home_flags,
    s_home_score,
    o_service_note,
    stop_scores,
)

logger = logging.getLogger(__name__)


class IndicatorError(GezondeStadError):
    """The study area cannot give network indicators (no streets, no homes, ...)."""


@dataclass(frozen=True)
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
        raise IndicatorError("Het studiegebied heeft geen straten: de netwerkindicatoren hebben een stratennet nodig.")
    lts = classify_lts(streets, norms_dir)
    try:
        walk = build_network(streets, walkable_mask(streets))
    except NetworkError as exc:
        raise IndicatorError(f"Geen wandelbare straat in het studiegebied ({exc}); controleer de highway-tags.") from exc
    try:
        bike = build_network(streets, lts["cyclable"].to_numpy())
    except NetworkError as exc:
        raise IndicatorError(f"Geen fietsbare straat in het studiegebied ({exc}); controleer de highway-tags.") from exc
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
        Data-quality remarks for the planner (partial or missing themes), in Dutch.
    params : NetworkParams or None
        The parameters of the run (:meth:`NetworkParams.norms_used` lists its norms).
    """

    homes: gpd.GeoDataFrame
    per_wijk: pd.DataFrame
    segments: gpd.GeoDataFrame
    unserved: gpd.GeoDataFrame
    green_spaces: gpd.GeoDataFrame
    centre: shapely.Point
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    params: NetworkParams | None = None


def _has_tag(streets: gpd.GeoDataFrame, tag: str) -> bool:
    return tag in streets and bool(streets[tag].notna().any())


def _status(area: StudyArea, theme: str) -> str:
    return area.theme_info(theme).status if area.has(theme) else "missing"


_STEPS: dict[str, str] = {
    "networks": "netwerken bouwen en woningen voorbereiden",
    "snap": "bestemmingen op het wandelnetwerk leggen",
    "green": "wandelafstand tot groen",
    "walk": "wandelbestemmingen (S en O)",
    "cycling": "fietsen met lage stress (T)",
    "aggregate": "per wijk samenvatten",
}
"""Steps of :func:`network_indicators` and the Dutch message shown while each runs."""


def network_indicators(
    area: StudyArea,
    homes: gpd.GeoDataFrame | None = None,
    centre_xy: tuple[float, float] | None = None,
    networks: Networks | None = None,
    zones: gpd.GeoDataFrame | None = None,
    norms_dir: str | None = None,
    progress: Progress | bool | None = None,
    *,
    params: NetworkParams | None = None,
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
        City centre in the area's CRS (``area.crs``) for the low-stress reach; default
        :func:`spatial.cycling.default_centre` (centroid of the wijk with the most shops).
    networks : Networks, optional
        Prebuilt :func:`build_networks` of ``area.streets`` (skip rebuilding when the streets
        did not change).
    zones : GeoDataFrame, optional
        Polygons with ``wijk_code`` and ``wijk_naam`` to aggregate on instead of ``area.wijken``
        (e.g. one plan polygon).
    norms_dir : path, optional
        Norms folder (default ``data/norms``); ignored when ``params`` is given.
    progress : Progress, optional
        Callback ``(done, total, message)`` after each step (:mod:`gezondestad.model.progress`;
        ``True`` shows a tqdm bar).
    params : NetworkParams, optional
        Checked parameters (default ``NetworkParams.from_norms(norms_dir)``).

    Returns
    -------
    NetworkIndicators
    """
    p = params if params is not None else NetworkParams.from_norms(norms_dir)
    notes: list[str] = []
    area.require("streets")
    streets = area.streets
    zones = area.wijken if zones is None else zones
    if len(zones) == 0:
        raise IndicatorError(f"Studiegebied '{area.name}' heeft geen wijken om over samen te vatten; voeg een thema wijken toe of geef zones mee.")
    steps = Steps(progress, _STEPS, desc="indicatoren")
    if networks is not None and networks.n_streets != len(streets):
        raise IndicatorError("De meegegeven netwerken komen van andere straten dan dit studiegebied; bouw ze opnieuw met build_networks(area.streets).")
    nets = networks or build_networks(streets, p.norms_dir)
    h = _homes(area, homes, zones, notes)
    steps.done("networks")

    green_status = _status(area, "green")
    pois_status = _status(area, "pois")
    wt = _walk_targets(area, nets, h, p, notes)
    steps.done("snap")
    ga = _green(area, nets, h, wt, p, green_status, notes)
    steps.done("green")
    walk = _walk_destinations(wt, ga, len(h), p, pois_status, notes)
    steps.done("walk")
    centre = _centre(area, zones, centre_xy)
    reach = _low_stress_reach(area, nets, h, centre, wt, p)
    seg_w = segment_wijk(streets, zones, max_gap_m=50.0 if zones is area.wijken else 0.0)
    steps.done("cycling")

    out = _per_home(h, ga, walk, reach, wt, green_status)
    per = _per_wijk(area, nets, out, ga, walk, reach, zones, seg_w, wt.spaces, p, green_status, pois_status)
    per = _add_stop(per, area, nets, zones, p)
    notes.extend(_stop_notes(area, nets))
    seg = _segments(streets, nets, seg_w, area.crs)
    unserved = _unserved(out, green_status, area.crs)
    steps.done("aggregate")
    timings = dict(steps.timings_s)
    timings["total"] = steps.total_s()
    notes.append(o_service_note(area.pois if area.has("pois") else None, p.norms_dir))
    notes.extend(area.norms_notes())
    return NetworkIndicators(out, per, seg, unserved, wt.spaces, centre, timings, notes, p)


# --------------------------------------------------------------------------------------------
# stages of network_indicators
# --------------------------------------------------------------------------------------------


def _homes(area: StudyArea, homes: gpd.GeoDataFrame | None, zones: gpd.GeoDataFrame, notes: list[str]) -> gpd.GeoDataFrame:
    """Home points with ``wijk_code``/``wijk_naam`` of ``zones`` and ``residents``."""
    h = home_points(area) if homes is None else homes.copy()
    if len(h) == 0:
        raise IndicatorError(f"Studiegebied '{area.name}' heeft geen woningen (geen woongebouwen en geen woonstraten).")
    h = gpd.GeoDataFrame(h, geometry="geometry", crs=area.crs).reset_index(drop=True)
    keep = "wijk_code" in h and h["wijk_code"].notna().any() and set(h["wijk_code"].dropna()) <= set(zones["wijk_code"])
    if not keep:
        wk = assign_wijk(h, zones)
        h["wijk_code"], h["wijk_naam"] = wk["wijk_code"].to_numpy(), wk["wijk_naam"].to_numpy()
    if "residents" not in h:
        h["residents"] = 0.0
    if h.get("estimated", pd.Series(False, index=h.index)).astype(bool).any():
        notes.append(
            "Woningen zijn geschat langs woonstraten (geen gebouwen): de inwoners per woning zijn wijktotalen, "
            "gelijk verdeeld, of gelijke gewichten als die onbekend zijn."
        )
    return h


@dataclass(frozen=True)
class _WalkTargets:
    """Green spaces, their access points and the STOP destinations, snapped once on the walking network.

    The router's targets are ``points`` followed by ``dests``.
    """

    spaces: gpd.GeoDataFrame
    points: gpd.GeoDataFrame
    dests: gpd.GeoDataFrame
    router: Router | None

    def kinds(self, park: str) -> np.ndarray:
        """Kind of every router target: ``park`` for access points, else the STOP destination."""
        return np.concatenate([np.full(len(self.points), park, dtype=object), self.dests["dest"].to_numpy(dtype=object)])


def _walk_targets(area: StudyArea, nets: Networks, h: gpd.GeoDataFrame, p: NetworkParams, notes: list[str]) -> _WalkTargets:
    spaces = public_green_spaces(area.green, p.green)
    points, report = park_access_points(spaces, nets.walk, p.green)
    spaces = gpd.GeoDataFrame(spaces.merge(report[["space_id", "n_access_points", "reachable", "reason"]], on="space_id", how="left"), geometry="geometry", crs=area.crs)
    dests = destination_points(area.pois, p.norms_dir)
    targets = np.concatenate([np.asarray(points.geometry.values, dtype=object), np.asarray(dests.geometry.values, dtype=object)])
    snap = p.green.home_max_snap_m
    router = build_router(nets.walk, h.geometry, targets, snap) if len(targets) else None
    wt = _WalkTargets(spaces, points, dests, router)
    if router is not None and (~router.target_snapped).any():
        lost = pd.Series(wt.kinds("parktoegang")[~router.target_snapped]).value_counts()
        notes.append(f"Bestemmingen verder dan {snap:g} m van een wandelbare straat tellen niet mee: " + ", ".join(f"{n} {k}" for k, n in lost.items()))
    share = largest_component_share(nets.walk)
    if share < 0.95:
        notes.append(
            f"Het wandelnetwerk bestaat uit losse delen: het grootste bevat {100 * share:.0f} % van de lengte; "
            "woningen op de andere delen bereiken minder bestemmingen."
        )
    return wt


def _green(area: StudyArea, nets: Networks, h: gpd.GeoDataFrame, wt: _WalkTargets, p: NetworkParams, green_status: str, notes: list[str]) -> GreenAccess:
    ga = green_access(nets.walk, h, area.green, p.green, router=wt.router, access=(wt.spaces, wt.points), target_offset=0)
    if green_status == "missing":
        notes.append("Geen gegevens over groen: de groenindicatoren zijn onbekend, niet nul.")
        for c in ga.distances.columns:
            ga.distances[c] = np.nan
    elif green_status == "partial":
        notes.append(f"De gegevens over groen zijn onvolledig ({area.theme_info('green').note or 'gekend onvolledig'}): de aandelen groen zijn ondergrenzen.")
    spaces = wt.spaces
    unreach = spaces[~spaces["reachable"].astype(bool)] if len(spaces) else spaces
    if len(unreach):
        notes.append(f"{len(unreach)} publieke groene ruimte(s) zonder pad ernaartoe: " + ", ".join(str(x) for x in unreach["name"].fillna("(zonder naam)")))
    return ga


@dataclass(frozen=True)
class _Walk:
    """Walking distances per home to each destination kind, the S score and the O flags."""

    dist: dict[str, np.ndarray]
    s_home: np.ndarray
    bus_ok: np.ndarray
    train_ok: np.ndarray


def _walk_destinations(wt: _WalkTargets, ga: GreenAccess, n_homes: int, p: NetworkParams, pois_status: str, notes: list[str]) -> _Walk:
    dest_kind = wt.kinds("park")
    dist: dict[str, np.ndarray] = {}
    for c in ["shop", "school", "gp_pharmacy", "bus_stop", "o_bus", "o_train"]:
        if wt.router is not None and (dest_kind == c).any():
            dist[c] = router_nearest(wt.router, dest_kind == c).distance_m
        else:
            dist[c] = np.full(n_homes, np.inf)
    any_col = distance_column(0.0)
    dist["park"] = ga.distances[any_col].to_numpy() if any_col in ga.distances else np.full(n_homes, np.inf)
    if wt.router is None or (dest_kind == "park").sum() == 0:
        dist["park"] = np.full(n_homes, np.inf)
    s_home = s_home_score({c: dist[c] for c in S_CATEGORIES}, p.norms_dir)
    bus_ok, train_ok = o_home_flags(dist["o_bus"], dist["o_train"], p.norms_dir)
    if pois_status == "missing":
        notes.append("Geen POI's (voorzieningen): S en O zijn onbekend, niet nul.")
        s_home = np.full(n_homes, np.nan)
        bus_ok = train_ok = np.full(n_homes, np.nan)
    elif pois_status == "partial":
        notes.append("De POI-gegevens (voorzieningen) zijn onvolledig: S en O zijn ondergrenzen.")
    return _Walk(dist, s_home, bus_ok, train_ok)


def _centre(area: StudyArea, zones: gpd.GeoDataFrame, centre_xy: tuple[float, float] | None) -> shapely.Point:
    if centre_xy is not None:
        return shapely.Point(float(centre_xy[0]), float(centre_xy[1]))
    return default_centre(area.pois, area.wijken if len(area.wijken) else zones)


def _low_stress_reach(area: StudyArea, nets: Networks, h: gpd.GeoDataFrame, centre: shapely.Point, wt: _WalkTargets, p: NetworkParams) -> LowStressReach:
    dests = wt.dests
    schools = dests.geometry[dests["dest"].to_numpy() == "school"] if len(dests) else gpd.GeoSeries([], crs=area.crs)
    return low_stress_reach(nets.bike, nets.low, h, centre, schools, p.norms_dir)


def _per_home(h: gpd.GeoDataFrame, ga: GreenAccess, walk: _Walk, reach: LowStressReach, wt: _WalkTargets, green_status: str) -> gpd.GeoDataFrame:
    out = h.copy()
    for c in ga.distances.columns:
        out[c] = ga.distances[c].to_numpy()
    for c in ("shop", "school", "gp_pharmacy", "bus_stop"):
        out[f"walk_d_{c}_m"] = walk.dist[c]
    out["walk_d_train_m"] = walk.dist["o_train"]
    out["stop_s_home"] = walk.s_home
    out["bus_400m"] = walk.bus_ok
    out["train_800m"] = walk.train_ok
    for c in reach.distances.columns:
        out[c] = reach.distances[c].to_numpy()
    out["walk_snapped"] = wt.router.origin_snapped if wt.router is not None else np.zeros(len(h), dtype=bool)
    out["green_data_status"] = green_status
    return out


def _share(a: np.ndarray | pd.Series) -> np.ndarray:
    """Booleans (or NaN for unknown) as floats, so that their mean is a NaN-aware share."""
    return np.asarray(a, dtype=float)


def _home_values(out: gpd.GeoDataFrame, ga: GreenAccess, walk: _Walk, reach: LowStressReach, green_status: str) -> dict[str, np.ndarray]:
    """Per-home values that become per-wijk means (and the unsnapped count)."""
    n = len(out)
    values: dict[str, np.ndarray] = {}
    for c in ga.classes:
        values[f"{c.name}_share"] = _share(ga.distances[c.name].to_numpy()) if green_status != "missing" else np.full(n, np.nan)
    d05 = distance_column(0.5)
    if d05 in ga.distances:
        d = ga.distances[d05].to_numpy(dtype=float)
        values["green_d_05ha_mean_m"] = np.where(np.isfinite(d), d, np.nan)
    else:
        values["green_d_05ha_mean_m"] = np.full(n, np.nan)
    values["stop_s_mean"] = _share(walk.s_home)
    values["bus_400m_share"] = _share(walk.bus_ok)
    values["train_800m_share"] = _share(walk.train_ok)
    values["centre_lts12_share"] = _share(reach.distances["centre_lts12"].to_numpy())
    values["school_lts12_share"] = _share(reach.distances["school_lts12"].to_numpy())
    values["homes_unsnapped_n"] = ~out["walk_snapped"].to_numpy(dtype=bool)
    return values


def _per_wijk(
    area: StudyArea, nets: Networks, out: gpd.GeoDataFrame, ga: GreenAccess, walk: _Walk, reach: LowStressReach,
    zones: gpd.GeoDataFrame, seg_w: np.ndarray, spaces: gpd.GeoDataFrame, p: NetworkParams, green_status: str, pois_status: str,
) -> pd.DataFrame:
    values = _home_values(out, ga, walk, reach, green_status)
    how = {k: "mean" for k in values}
    how["homes_unsnapped_n"] = "count"
    per = aggregate_per_wijk(out, values, zones, how=how)
    per["homes_unsnapped_n"] = per["homes_unsnapped_n"].astype(int)
    lw = lts_per_wijk(area.streets, nets.lts, zones, seg_w, p.norms_dir)
    fw = fietsstraten_per_wijk(area.streets, zones, seg_w)
    per = per.merge(lw, on="wijk_code", how="left").merge(fw, on="wijk_code", how="left")
    _add_green_per_wijk(per, area, spaces, zones, p.green, green_status)
    per["green_data_status"] = green_status
    per["pois_data_status"] = pois_status
    per["landuse_data_status"] = _status(area, "landuse")
    return per


def _add_green_per_wijk(per: pd.DataFrame, area: StudyArea, spaces: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, g: GreenParams, green_status: str) -> None:
    """Green m² per resident, canopy share and the 30 % canopy check, added to ``per`` in place."""
    gm2 = green_area_per_polygon(spaces, zones)
    res = per["residents"].to_numpy(dtype=float)
    per["public_green_m2"] = gm2 if green_status != "missing" else np.nan
    per["green_per_resident_m2"] = np.where(res > 0, per["public_green_m2"].to_numpy(dtype=float) / np.where(res > 0, res, 1.0), np.nan)
    per["canopy_share"] = canopy_share(area.landcover, zones)
    cshare = per["canopy_share"].to_numpy(dtype=float)
    if green_status == "missing":
        cshare = np.full(len(per), np.nan)
        per["canopy_share"] = cshare
    ok30 = cshare >= g.rule_3_30_300_canopy_share
    # below 30 % on partial green data cannot be called a failure: unknown (NaN) instead
    per["canopy_30_ok"] = np.where(np.isfinite(cshare) & (ok30 | (green_status == "present")), ok30.astype(float), np.nan)
    per["canopy_source"] = "land-cover raster, TREES class (mapped woods only; street and garden trees missing)" if area.landcover is not None else "missing (no land-cover raster)"


def _add_stop(per: pd.DataFrame, area: StudyArea, nets: Networks, zones: gpd.GeoDataFrame, p: NetworkParams) -> pd.DataFrame:
    """``per`` with the car-dominance columns and the STOP scores."""
    cd = car_dominance(area.streets, nets.lts, area.landuse, zones, landuse_known=area.has("landuse"), norms_dir=p.norms_dir)
    cd.index = per.index
    for c in cd.columns:
        per[c] = cd[c].to_numpy()
    st = stop_scores(
        per["stop_s_mean"], per["centre_lts12_share"], per["school_lts12_share"], per["lts12_share_length"],
        per["bus_400m_share"], per["train_800m_share"], per["stop_p"], p.norms_dir,
    )
    for c in st.columns:
        per[c] = st[c].to_numpy()
    return per


def _stop_notes(area: StudyArea, nets: Networks) -> list[str]:
    notes = []
    streets = area.streets
    if not (nets.lts["fietsstraat"].any() or _has_tag(streets, "cyclestreet") or _has_tag(streets, "bicycle_road")):
        notes.append("Geen enkele straat heeft een tag cyclestreet of bicycle_road: fietsstraat_km = 0 kan ook betekenen dat de straatbron deze tags mist.")
    if not area.has("landuse"):
        notes.append("Geen thema bodemgebruik (landuse): P gebruikt alleen het snelheidsdeel (parkeeroppervlak onbekend).")
    return notes


_SEGMENT_TAGS = ("edge_id", "highway", "name", "maxspeed", "lanes", "cycleway", "cyclestreet", "bicycle_road")
_SEGMENT_LTS = ("lts", "lts_carriageway", "lts_rule", "cyclable", "fietsstraat", "maxspeed_kmh", "maxspeed_assumed", "lanes_assumed")


def _segments(streets: gpd.GeoDataFrame, nets: Networks, seg_w: np.ndarray, crs: object) -> gpd.GeoDataFrame:
    seg = streets[[*_SEGMENT_TAGS, "geometry"]].copy()
    for c in _SEGMENT_LTS:
        seg[c] = nets.lts[c].to_numpy()
    seg["wijk_code"] = seg_w
    return gpd.GeoDataFrame(seg, geometry="geometry", crs=crs)


def _unserved(out: gpd.GeoDataFrame, green_status: str, crs: object) -> gpd.GeoDataFrame:
    """Homes not served by the WHO 300 m / 0.5 ha criterion (none when green data is missing)."""
    uns = out.iloc[0:0] if green_status == "missing" else out[~np.asarray(out["green_300m_05ha"].to_numpy(), dtype=bool)]
    return gpd.GeoDataFrame(uns[["home_id", "residents", "wijk_code", "wijk_naam", distance_column(0.5), "geometry"]], geometry="geometry", crs=crs)


# --------------------------------------------------------------------------------------------
# STOP score of any polygon (here, not in spatial.stop: it runs the whole network family)
# --------------------------------------------------------------------------------------------


def stop_score_polygon(
    area: StudyArea,
    polygon: shapely.Geometry,
    homes: gpd.GeoDataFrame | None = None,
    networks: Networks | None = None,
    centre_xy: tuple[float, float] | None = None,
    name: str = "polygon",
    norms_dir: str | None = None,
) -> pd.Series:
    """STOP sub-scores for any polygon (a plan area, a street block), in the area's CRS (``area.crs``).

    Scored from the homes inside the polygon (from ``homes`` or :func:`spatial.aggregate.home_points`);
    a polygon without homes is scored from grid points ``polygon_grid_spacing_m`` apart, each
    weight 1 (``origin`` = "grid" in the result). Streets and parking are clipped to the polygon.

    Parameters
    ----------
    area : StudyArea
    polygon : shapely Polygon or MultiPolygon
    homes : GeoDataFrame, optional
    networks : Networks, optional
        Prebuilt networks of ``area`` (faster when scoring many polygons).
    centre_xy : (x, y), optional
        City centre for T (default: :func:`spatial.cycling.default_centre`).

    Returns
    -------
    Series with ``stop_s``, ``stop_t``, ``stop_o``, ``stop_p``, ``stop_order_ok``, the shares they
    come from, ``residents``, ``homes`` and ``origin`` ("homes" or "grid").
    """
    if polygon is None or polygon.is_empty or polygon.area <= 0:
        raise StopError("De te scoren veelhoek is leeg; teken een veelhoek met een oppervlakte.")
    p = NetworkParams.from_norms(norms_dir)
    zone = gpd.GeoDataFrame({"wijk_code": [name], "wijk_naam": [name]}, geometry=[polygon], crs=area.crs)
    h = home_points(area) if homes is None else homes
    inside = h[shapely.contains(polygon, h.geometry.values)].copy() if len(h) else h
    origin = "homes"
    if len(inside) == 0:
        pts = grid_points(polygon, p.stop.polygon_grid_spacing_m)
        inside = gpd.GeoDataFrame(
            {"home_id": np.arange(len(pts)), "building_id": None, "residents": 0.0, "estimated": True},
            geometry=pts, crs=area.crs,
        )
        origin = "grid"
    inside["wijk_code"] = name
    inside["wijk_naam"] = name
    ind = network_indicators(area, homes=inside, centre_xy=centre_xy, networks=networks, zones=zone, params=p)
    row = ind.per_wijk.iloc[0].copy()
    row["origin"] = origin
    return row


PER_HOME_LAYERS: dict[str, tuple[str, ...]] = {
    "green_access": ("green_d_any_m", "green_d_05ha_m", "green_d_1ha_m", "green_300m_05ha", "green_300m_1ha", "green_3_30_300"),
    "groennormen": ("green_d_any_m", "green_d_1ha_m", "green_d_10ha_m", "green_d_30ha_m", "green_d_60ha_m", "groen_woongroen", "groen_buurtgroen", "groen_wijkgroen", "groen_stadsdeelgroen", "groen_stadsgroen"),
    "cycling_low_stress": ("bike_d_centre_m", "lts12_d_centre_m", "centre_lts12", "bike_d_school_m", "lts12_d_school_m", "school_lts12"),
    "stop_walk": ("walk_d_shop_m", "walk_d_school_m", "walk_d_gp_pharmacy_m", "green_d_any_m", "walk_d_bus_stop_m", "walk_d_train_m", "stop_s_home", "bus_400m", "train_800m"),
}
"""Per-home layers written by ``gezondestad indicators`` (layer name -> columns besides the home id/wijk)."""
