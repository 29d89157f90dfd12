"""STOP-principle score (stappers > trappers > openbaar vervoer > privé-vervoer) per wijk or polygon.

Four sub-scores, each 0-100, every weight and threshold in ``data/norms/stop.toml``:

* **S** (walking) = 100 x population-weighted mean over homes of
  ``sum_c w_c * [walking distance to the nearest destination of category c <= v * t]``
  with categories shop, school, GP/pharmacy, park, bus stop, ``v`` = walking speed and ``t`` =
  10 minutes (1.33 m/s x 600 s = 798 m).
* **T** (cycling) = 100 x (w_centre * share of residents reaching the centre over LTS <= 2
  + w_school * share reaching a school over LTS <= 2 + w_length * share of cyclable street
  length with LTS <= 2); low-stress reach after Mekuria, Furth & Nixon (2012), see
  :mod:`spatial.cycling`.
* **O** (public transport) = 100 x (w_bus * share of residents within 400 m walk of a bus/tram
  stop + w_train * share within 800 m walk of a railway station).
* **P** (car dominance, *higher = more car-dominated*) = 100 x (w_speed * share of car-street
  length with a limit above 50 km/h + w_parking * min(1, parking area share / 10 %)). Without a
  land-use theme the parking part is unknown and P is the speed part alone
  (``stop_p_parking_known`` False).

``stop_order_ok`` = S >= T >= O >= P (False when any sub-score is NaN).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.geometry import clipped_measures
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS

S_CATEGORIES: tuple[str, ...] = ("shop", "school", "gp_pharmacy", "park", "bus_stop")
"""Daily destinations of the S sub-score (keys of ``s_destination_weights``)."""


class StopError(GezondeStadError):
    """STOP input that cannot be scored (empty polygon, no CRS, ...)."""


def walk_limit_m(norms_dir: str | None = None) -> float:
    """Distance walked in ``walk_minutes`` at ``walk_speed_m_s`` (798 m with the shipped norms)."""
    n = load_norms("stop", norms_dir)
    return float(n["walk_speed_m_s"].value) * 60.0 * float(n["walk_minutes"].value)


def destination_points(pois: gpd.GeoDataFrame, norms_dir: str | None = None) -> gpd.GeoDataFrame:
    """POIs that are STOP destinations, one row per (POI, destination) pair.

    Returns
    -------
    GeoDataFrame with ``dest`` (``shop``, ``school``, ``gp_pharmacy``, ``bus_stop``,
    ``o_bus``, ``o_train``), ``poi_id`` and geometry (points; polygons -> representative point).
    """
    n = load_norms("stop", norms_dir)
    groups = {str(k): list(v) for k, v in n["s_destination_categories"].value.items()}
    groups["o_bus"] = list(n["o_bus_categories"].value)
    groups["o_train"] = list(n["o_train_categories"].value)
    crs = pois.crs if pois is not None and pois.crs is not None else CRS
    if pois is None or len(pois) == 0:
        return gpd.GeoDataFrame({"dest": [], "poi_id": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    cat = pois["category"].astype("object").fillna("").to_numpy()
    served = served_stops(pois, norms_dir)
    geom = pois.geometry.values
    pts = np.where(shapely.get_type_id(geom) == 0, geom, shapely.point_on_surface(geom))
    frames = []
    for dest, cats in groups.items():
        sel = np.isin(cat, cats) & ~shapely.is_missing(pts)
        if dest == "o_bus":
            sel &= served
        if sel.any():
            frames.append(gpd.GeoDataFrame({"dest": dest, "poi_id": pois["poi_id"].to_numpy()[sel]}, geometry=pts[sel], crs=crs))
    if not frames:
        return gpd.GeoDataFrame({"dest": [], "poi_id": []}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def has_service_data(pois: gpd.GeoDataFrame | None) -> bool:
    """True when the POIs carry GTFS departures (a ``departures_per_hour`` column with a value)."""
    return pois is not None and "departures_per_hour" in pois and bool(pd.to_numeric(pois["departures_per_hour"], errors="coerce").notna().any())


def served_stops(pois: gpd.GeoDataFrame, norms_dir: str | None = None) -> np.ndarray:
    """Per POI: may it count as a bus/tram stop for O?

    With GTFS departures (:func:`has_service_data`) only stops with at least
    ``o_bus_min_departures_per_hour`` (basisbereikbaarheid, ``data/norms/stop.toml``) count; a
    stop without a GTFS match has unknown service and does not count. Without a feed every stop
    counts (the stop-only rule).
    """
    if not has_service_data(pois):
        return np.ones(len(pois), dtype=bool)
    need = float(load_norms("stop", norms_dir)["o_bus_min_departures_per_hour"].value)
    dph = pd.to_numeric(pois["departures_per_hour"], errors="coerce").to_numpy(dtype=float)
    return np.isfinite(dph) & (dph >= need)


def o_service_note(pois: gpd.GeoDataFrame | None, norms_dir: str | None = None) -> str:
    """Dutch note saying which O rule was applied (minimum service from GTFS, or stop-only)."""
    n = load_norms("stop", norms_dir)
    need = float(n["o_bus_min_departures_per_hour"].value)
    if has_service_data(pois):
        stops = pois[pois["category"].astype("object").isin(n["o_bus_categories"].value)]
        ok = served_stops(stops, norms_dir)
        return (
            f"O telt alleen bus- en tramhaltes met minstens {need:g} vertrekken per uur (basisbereikbaarheid; dienstregeling uit GTFS): "
            f"{int(ok.sum())} van {len(stops)} haltes halen dat."
        )
    return (
        f"Geen dienstregeling (GTFS) voor dit gebied: O telt elke bus- en tramhalte, ongeacht hoe vaak er een bus of tram stopt "
        f"(de basisbereikbaarheidsdrempel van {need:g} vertrekken per uur kan niet getoetst worden)."
    )


def s_home_score(dist_m: dict[str, np.ndarray], norms_dir: str | None = None) -> np.ndarray:
    """Weighted share (0-1) of the daily destinations within a 10-minute walk, per home.

    Parameters
    ----------
    dist_m : dict
        Walking distance per home to the nearest destination of each category of
        :data:`S_CATEGORIES` (inf when none).
    """
    w = {str(k): float(v) for k, v in load_norms("stop", norms_dir)["s_destination_weights"].value.items()}
    missing = [c for c in w if c not in dist_m]
    if missing:
        raise StopError(f"S needs a distance per home for {', '.join(missing)}.")
    limit = walk_limit_m(norms_dir)
    tot = sum(w.values())
    return sum(w[c] * (np.asarray(dist_m[c], dtype=float) <= limit) for c in w) / tot


def o_home_flags(d_bus_m: np.ndarray, d_train_m: np.ndarray, norms_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(within 400 m walk of a bus/tram stop, within 800 m walk of a station) per home."""
    n = load_norms("stop", norms_dir)
    return (np.asarray(d_bus_m, float) <= float(n["o_bus_distance_m"].value), np.asarray(d_train_m, float) <= float(n["o_train_distance_m"].value))


def _clipped_lengths(lines: np.ndarray, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # only the lines crossing a polygon's boundary are intersected (a city boundary has thousands of vertices)
    return clipped_measures(np.asarray(lines, dtype=object), np.asarray(polygons, dtype=object))


def car_dominance(
    streets: gpd.GeoDataFrame,
    lts: pd.DataFrame,
    landuse: gpd.GeoDataFrame | None,
    polygons: gpd.GeoDataFrame,
    landuse_known: bool = True,
    norms_dir: str | None = None,
) -> pd.DataFrame:
    """The P sub-score per polygon: share of fast car-street length and parking surface share.

    Parameters
    ----------
    streets : GeoDataFrame
    lts : DataFrame
        :func:`spatial.cycling.classify_lts` of ``streets`` (its ``maxspeed_kmh`` is the limit
        used, NaN for ways without motor traffic).
    landuse : GeoDataFrame or None
        Land use with ``kind``; parking = ``kind == "parking"``.
    polygons : GeoDataFrame
        Wijken or any polygon(s).
    landuse_known : bool
        False when the land-use theme is missing: the parking part is then unknown (not 0).

    Returns
    -------
    DataFrame (one row per polygon) with ``car_street_km``, ``street_gt50_share_length`` (0 when
    the polygon has no car street),
    ``parking_share``, ``stop_p_parking_known`` and ``stop_p``.
    """
    n = load_norms("stop", norms_dir)
    above = float(n["p_speed_above_kmh"].value)
    full = float(n["p_parking_share_full"].value)
    w_s, w_p = float(n["p_weight_speed"].value), float(n["p_weight_parking"].value)
    pg = polygons.geometry.values
    k = len(pg)
    speed = lts["maxspeed_kmh"].to_numpy(dtype=float)
    car = np.isfinite(speed)
    car_km = np.zeros(k)
    fast_km = np.zeros(k)
    if car.any():
        lines = streets.geometry.values[car]
        pi, li, ln = _clipped_lengths(lines, pg)
        car_km = np.bincount(pi, weights=ln, minlength=k) / 1000.0
        fast_km = np.bincount(pi, weights=ln * (speed[car][li] > above), minlength=k) / 1000.0
    # no car street at all is no car dominance: the speed part is 0 there (not unknown)
    share_fast = np.where(car_km > 0, fast_km / np.where(car_km > 0, car_km, 1.0), 0.0)
    parking = np.zeros(k)
    if landuse is not None and len(landuse):
        lu = landuse[landuse["kind"].astype("object").fillna("").to_numpy() == "parking"]
        if len(lu):
            pi, _, pa = clipped_measures(np.asarray(lu.geometry.values, dtype=object), np.asarray(pg, dtype=object))
            if len(pi):
                parking = np.bincount(pi, weights=pa, minlength=k)
    area = shapely.area(pg)
    park_share = np.where(area > 0, parking / np.where(area > 0, area, 1.0), np.nan)
    if landuse_known:
        p = 100.0 * (w_s * share_fast + w_p * np.minimum(1.0, park_share / full)) / (w_s + w_p)
    else:
        park_share = np.full(k, np.nan)
        p = 100.0 * share_fast
    return pd.DataFrame(
        {
            "car_street_km": car_km,
            "street_gt50_share_length": share_fast,
            "parking_share": park_share,
            "stop_p_parking_known": np.full(k, bool(landuse_known)),
            "stop_p": p,
        },
        index=polygons.index,
    )


def stop_scores(
    s_mean: np.ndarray,
    centre_share: np.ndarray,
    school_share: np.ndarray,
    lts12_share_length: np.ndarray,
    bus_share: np.ndarray,
    train_share: np.ndarray,
    stop_p: np.ndarray,
    norms_dir: str | None = None,
) -> pd.DataFrame:
    """Combine per-zone shares into ``stop_s``, ``stop_t``, ``stop_o``, ``stop_p`` and ``stop_order_ok``.

    Parameters
    ----------
    s_mean : array
        Population-weighted mean of :func:`s_home_score` per zone (0-1).
    centre_share, school_share : array
        Shares of residents reaching centre / school at low stress (0-1).
    lts12_share_length : array
        Share of cyclable length with LTS <= 2 (0-1).
    bus_share, train_share : array
        Shares of residents within the bus / train walking distance (0-1).
    stop_p : array
        :func:`car_dominance` ``stop_p`` (0-100).
    """
    n = load_norms("stop", norms_dir)
    f = lambda a: np.asarray(a, dtype=float)  # noqa: E731
    wc, ws, wl = (float(n[k].value) for k in ("t_weight_centre", "t_weight_school", "t_weight_length"))
    wb, wt = float(n["o_weight_bus"].value), float(n["o_weight_train"].value)
    s = 100.0 * f(s_mean)
    t = 100.0 * (wc * f(centre_share) + ws * f(school_share) + wl * f(lts12_share_length)) / (wc + ws + wl)
    o = 100.0 * (wb * f(bus_share) + wt * f(train_share)) / (wb + wt)
    p = f(stop_p)
    return pd.DataFrame({"stop_s": s, "stop_t": t, "stop_o": o, "stop_p": p, "stop_order_ok": stop_order_ok(s, t, o, p)})


def stop_order_ok(s: np.ndarray, t: np.ndarray, o: np.ndarray, p: np.ndarray) -> np.ndarray:
    """True where S >= T >= O >= P (False when any of them is NaN)."""
    s, t, o, p = (np.asarray(x, dtype=float) for x in (s, t, o, p))
    with np.errstate(invalid="ignore"):
        return (s >= t) & (t >= o) & (o >= p)


def grid_points(polygon: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Points on a ``spacing_m`` grid inside ``polygon`` (its representative point when none fits)."""
    x0, y0, x1, y1 = polygon.bounds
    xs = np.arange(x0 + spacing_m / 2, x1, spacing_m)
    ys = np.arange(y0 + spacing_m / 2, y1, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    pts = shapely.points(np.c_[gx.ravel(), gy.ravel()])
    pts = pts[shapely.contains(polygon, pts)] if len(pts) else pts
    if len(pts) == 0:
        pts = np.array([polygon.representative_point()], dtype=object)
    return pts
