"""Public-transport service from a GTFS feed: departures per hour per stop on a representative weekday.

A GTFS zip (``stops.txt``, ``trips.txt``, ``stop_times.txt`` and ``calendar.txt`` and/or
``calendar_dates.txt``) is read with pandas. For one service day (default: the Wednesday with the
most scheduled trips in the feed's validity period; a sources TOML or caller can name a date) the
departures at each GTFS stop between ``start_hour`` and ``end_hour`` are counted and divided by the
number of hours: the mean departures per hour (07:00-19:00 by default, the daytime service a
resident relies on; every route and direction that serves the stop counts). A stop time counts as a
departure unless it is the last stop of its trip or its ``pickup_type`` is 1 (no pick-up).

:func:`attach_departures` puts the result on the ``bus_stop`` / ``tram_stop`` POIs of a study area:
every GTFS stop is matched to the nearest OSM stop within ``max_match_m`` (50 m by default: OSM
poles and GTFS stop coordinates of the same stop usually differ by 5-30 m; both sides of a street
can map onto one OSM stop and then add up). GTFS stops with no OSM stop that near are added as new
``bus_stop`` POIs (``subtype = "gtfs"``). OSM stops with no GTFS stop near them keep
``departures_per_hour`` = NaN (unknown: served by another operator or not at all).
"""

from __future__ import annotations

import datetime as _dt
import io
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError

logger = logging.getLogger(__name__)

STOP_CATEGORIES: tuple[str, ...] = ("bus_stop", "tram_stop")
"""POI categories that GTFS departures are attached to."""


class GtfsError(GezondeStadError):
    """A GTFS feed that cannot be read or has no service on the requested day."""


@dataclass(frozen=True)
class GtfsParams:
    """How departures are counted.

    Attributes
    ----------
    start_hour, end_hour : int
        Window [start, end) in hours of the service day (07-19: 12 daytime hours).
    weekday : int
        Weekday of the default representative day (0 = Monday ... 2 = Wednesday).
    max_match_m : float
        Largest distance between a GTFS stop and the OSM stop it is matched to.
    """

    start_hour: int = 7
    end_hour: int = 19
    weekday: int = 2
    max_match_m: float = 50.0


@dataclass(frozen=True)
class StopService:
    """Departures per GTFS stop on one day.

    Attributes
    ----------
    stops : GeoDataFrame
        ``stop_id``, ``stop_name``, ``departures_day``, ``departures_window``, ``departures_per_hour``,
        ``routes`` (comma-separated route short names), points in EPSG:4326.
    day : datetime.date
        The service day counted.
    params : GtfsParams
    source : str
        The feed file name.
    """

    stops: gpd.GeoDataFrame
    day: _dt.date
    params: GtfsParams
    source: str

    def describe(self) -> str:
        """One Dutch sentence on what was counted (for manifests and notes)."""
        p = self.params
        return (
            f"Vertrekken per uur uit GTFS {self.source}: gemiddelde {p.start_hour:02d}:00-{p.end_hour:02d}:00 op "
            f"{self.day.isoformat()} ({['maandag', 'dinsdag', 'woensdag', 'donderdag', 'vrijdag', 'zaterdag', 'zondag'][self.day.weekday()]}), "
            "alle lijnen en richtingen samen."
        )


def _read_table(z: zipfile.ZipFile, name: str, path: Path, required: bool = True, usecols: list[str] | None = None) -> pd.DataFrame | None:
    names = {Path(n).name: n for n in z.namelist()}
    if name not in names:
        if required:
            raise GtfsError(f"{path.name}: GTFS-bestand zonder {name}; een volledige feed heeft stops.txt, trips.txt, stop_times.txt en calendar.txt of calendar_dates.txt.")
        return None
    with z.open(names[name]) as f:
        df = pd.read_csv(io.TextIOWrapper(f, encoding="utf-8-sig"), dtype=str, usecols=lambda c: usecols is None or c.strip() in usecols)
    df.columns = [c.strip() for c in df.columns]
    return df


def read_gtfs(path: str | os.PathLike) -> dict[str, pd.DataFrame | None]:
    """The tables of a GTFS zip that service counting needs (strings; optional ones may be None)."""
    p = Path(path)
    if not p.is_file():
        raise GtfsError(f"{p}: GTFS-bestand niet gevonden.")
    try:
        z = zipfile.ZipFile(p)
    except zipfile.BadZipFile as exc:
        raise GtfsError(f"{p.name}: geen zip-bestand; een GTFS-feed is een zip met stops.txt, trips.txt, ...") from exc
    with z:
        feed = {
            "stops": _read_table(z, "stops.txt", p, usecols=["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type"]),
            "trips": _read_table(z, "trips.txt", p, usecols=["route_id", "service_id", "trip_id"]),
            "stop_times": _read_table(z, "stop_times.txt", p, usecols=["trip_id", "departure_time", "stop_id", "stop_sequence", "pickup_type"]),
            "calendar": _read_table(z, "calendar.txt", p, required=False),
            "calendar_dates": _read_table(z, "calendar_dates.txt", p, required=False),
            "routes": _read_table(z, "routes.txt", p, required=False, usecols=["route_id", "route_short_name"]),
        }
    if feed["calendar"] is None and feed["calendar_dates"] is None:
        raise GtfsError(f"{p.name}: geen calendar.txt en geen calendar_dates.txt: de dienstdagen zijn onbekend.")
    return feed


def active_services(feed: dict[str, pd.DataFrame | None], day: _dt.date) -> set[str]:
    """service_ids running on ``day`` (calendar.txt weekday and date range, then calendar_dates exceptions)."""
    ymd = day.strftime("%Y%m%d")
    wd = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][day.weekday()]
    on: set[str] = set()
    cal = feed.get("calendar")
    if cal is not None and len(cal):
        sel = (cal[wd].astype(str).str.strip() == "1") & (cal["start_date"].str.strip() <= ymd) & (cal["end_date"].str.strip() >= ymd)
        on = set(cal.loc[sel, "service_id"].str.strip())
    cd = feed.get("calendar_dates")
    if cd is not None and len(cd):
        today = cd[cd["date"].str.strip() == ymd]
        on |= set(today.loc[today["exception_type"].str.strip() == "1", "service_id"].str.strip())
        on -= set(today.loc[today["exception_type"].str.strip() == "2", "service_id"].str.strip())
    return on


def representative_day(feed: dict[str, pd.DataFrame | None], weekday: int = 2) -> _dt.date:
    """The ``weekday`` (default Wednesday) in the feed's validity period with the most scheduled trips.

    Ties go to the earliest such date. The validity period is that of ``calendar.txt`` (else the
    dates of ``calendar_dates.txt``).
    """
    cal, cd = feed.get("calendar"), feed.get("calendar_dates")
    if cal is not None and len(cal):
        start = _dt.datetime.strptime(cal["start_date"].str.strip().min(), "%Y%m%d").date()
        end = _dt.datetime.strptime(cal["end_date"].str.strip().max(), "%Y%m%d").date()
    else:
        dates = pd.to_datetime(cd["date"].str.strip(), format="%Y%m%d")  # type: ignore[index]
        start, end = dates.min().date(), dates.max().date()
    first = start + _dt.timedelta(days=(weekday - start.weekday()) % 7)
    trips_per_service = feed["trips"]["service_id"].str.strip().value_counts()  # type: ignore[index]
    best, best_n = None, -1
    d = first
    while d <= end:
        n = int(sum(trips_per_service.get(s, 0) for s in active_services(feed, d)))
        if n > best_n:
            best, best_n = d, n
        d += _dt.timedelta(days=7)
    if best is None or best_n <= 0:
        raise GtfsError("De GTFS-feed heeft op geen enkele weekdag ritten in zijn geldigheidsperiode.")
    return best


def _seconds(hms: pd.Series) -> np.ndarray:
    parts = hms.fillna("").str.strip().str.split(":", expand=True)
    if parts.shape[1] < 2:
        return np.full(len(hms), np.nan)
    h = pd.to_numeric(parts[0], errors="coerce")
    m = pd.to_numeric(parts[1], errors="coerce")
    s = pd.to_numeric(parts[2], errors="coerce") if parts.shape[1] > 2 else 0
    return (h * 3600 + m * 60 + s).to_numpy(dtype=float)


def stop_departures(path: str | os.PathLike, day: _dt.date | str | None = None, params: GtfsParams | None = None) -> StopService:
    """Departures per hour per GTFS stop on ``day`` (default :func:`representative_day`).

    Returns
    -------
    StopService
        Every stop of ``stops.txt`` that is a stop (location_type empty or 0), with 0 departures
        when nothing leaves it in the window.
    """
    params = params or GtfsParams()
    if not 0 <= params.start_hour < params.end_hour <= 30:
        raise GtfsError(f"Ongeldig tijdvenster {params.start_hour}-{params.end_hour} u.")
    feed = read_gtfs(path)
    if isinstance(day, str):
        day = _dt.date.fromisoformat(day)
    day = day or representative_day(feed, params.weekday)
    services = active_services(feed, day)
    trips = feed["trips"]
    trips = trips[trips["service_id"].str.strip().isin(services)]  # type: ignore[index]
    if len(trips) == 0:
        raise GtfsError(f"{Path(path).name}: geen ritten op {day.isoformat()}; kies een andere dag binnen de geldigheid van de feed.")
    st = feed["stop_times"]
    st = st[st["trip_id"].isin(set(trips["trip_id"]))].copy()  # type: ignore[index]
    st["seq"] = pd.to_numeric(st["stop_sequence"], errors="coerce")
    last = st.groupby("trip_id")["seq"].transform("max")
    dep = _seconds(st["departure_time"])
    no_pickup = st["pickup_type"].fillna("").str.strip().eq("1").to_numpy() if "pickup_type" in st else np.zeros(len(st), bool)
    counts = (st["seq"] < last).to_numpy() & ~no_pickup & np.isfinite(dep)
    in_window = counts & (dep >= params.start_hour * 3600) & (dep < params.end_hour * 3600)
    st["route_id"] = st["trip_id"].map(trips.set_index("trip_id")["route_id"])
    names = feed.get("routes")
    short = names.set_index("route_id")["route_short_name"] if names is not None and "route_short_name" in names else pd.Series(dtype=str)
    st["route"] = st["route_id"].map(short).fillna(st["route_id"])
    day_n = st[counts].groupby("stop_id").size()
    win_n = st[in_window].groupby("stop_id").size()
    routes = st[counts].groupby("stop_id")["route"].agg(lambda r: ",".join(sorted(set(map(str, r)), key=lambda x: (len(x), x))))
    stops = feed["stops"].copy()  # type: ignore[union-attr]
    if "location_type" in stops:
        stops = stops[stops["location_type"].fillna("").str.strip().isin(["", "0"])]
    lon, lat = pd.to_numeric(stops["stop_lon"], errors="coerce"), pd.to_numeric(stops["stop_lat"], errors="coerce")
    ok = lon.notna() & lat.notna()
    stops, lon, lat = stops[ok], lon[ok], lat[ok]
    hours = params.end_hour - params.start_hour
    out = gpd.GeoDataFrame(
        {
            "stop_id": stops["stop_id"].to_numpy(),
            "stop_name": stops["stop_name"].to_numpy() if "stop_name" in stops else None,
            "departures_day": stops["stop_id"].map(day_n).fillna(0).astype(int).to_numpy(),
            "departures_window": stops["stop_id"].map(win_n).fillna(0).astype(int).to_numpy(),
            "routes": stops["stop_id"].map(routes).fillna("").to_numpy(),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    out["departures_per_hour"] = out["departures_window"] / float(hours)
    logger.info("GTFS %s: %d stops, %d trips on %s", Path(path).name, len(out), len(trips), day)
    return StopService(out.reset_index(drop=True), day, params, Path(path).name)


def attach_departures(pois: gpd.GeoDataFrame, service: StopService, boundary: shapely.Geometry | None = None) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Put ``departures_per_hour`` (and ``gtfs_stop_ids``) on the transit-stop POIs.

    Parameters
    ----------
    pois : GeoDataFrame
        The study area's ``pois`` theme (metric CRS).
    service : StopService
        :func:`stop_departures` of the feed.
    boundary : shapely geometry, optional
        Study-area boundary (in ``pois.crs``): GTFS stops outside it are ignored.

    Returns
    -------
    (GeoDataFrame, dict)
        The POIs (unmatched GTFS stops appended as ``bus_stop`` with ``subtype`` "gtfs"; new
        ``poi_id`` values continue the old ones) and counts ``matched``, ``added``,
        ``osm_without_gtfs``.
    """
    crs = pois.crs
    g = service.stops.to_crs(crs)
    if boundary is not None:
        g = g[shapely.contains(boundary, g.geometry.values)].reset_index(drop=True)
    out = pois.copy()
    out["departures_per_hour"] = np.nan
    out["gtfs_stop_ids"] = None
    is_stop = out["category"].astype("object").isin(STOP_CATEGORIES).to_numpy()
    idx_stop = np.flatnonzero(is_stop)
    matched = np.full(len(g), -1)
    if len(idx_stop) and len(g):
        tree = shapely.STRtree(out.geometry.values[idx_stop])
        gi, pi = tree.query_nearest(g.geometry.values, max_distance=service.params.max_match_m, all_matches=False)
        matched[gi] = idx_stop[pi]
    m = matched >= 0
    if m.any():
        dph = pd.Series(g["departures_per_hour"].to_numpy()[m]).groupby(matched[m]).sum()
        ids = pd.Series(g["stop_id"].astype(str).to_numpy()[m]).groupby(matched[m]).agg(",".join)
        out.iloc[dph.index.to_numpy(), out.columns.get_loc("departures_per_hour")] = dph.to_numpy()
        out.iloc[ids.index.to_numpy(), out.columns.get_loc("gtfs_stop_ids")] = ids.to_numpy()
    add = g[~m]
    if len(add):
        start = int(pd.to_numeric(out["poi_id"], errors="coerce").max()) + 1 if len(out) else 0
        new = gpd.GeoDataFrame(
            {
                "poi_id": np.arange(start, start + len(add), dtype=np.int64),
                "category": "bus_stop",
                "subtype": "gtfs",
                "name": add["stop_name"].to_numpy(),
                "wheelchair": None,
                "departures_per_hour": add["departures_per_hour"].to_numpy(dtype=float),
                "gtfs_stop_ids": add["stop_id"].astype(str).to_numpy(),
            },
            geometry=add.geometry.values,
            crs=crs,
        )
        out = gpd.GeoDataFrame(pd.concat([out, new], ignore_index=True), geometry="geometry", crs=crs)
    counts = {"matched": int(m.sum()), "added": int(len(add)), "osm_without_gtfs": int(np.isnan(out["departures_per_hour"].to_numpy(dtype=float)[: len(pois)][is_stop]).sum())}
    return out, counts


__all__ = ["GtfsError", "GtfsParams", "StopService", "read_gtfs", "active_services", "representative_day", "stop_departures", "attach_departures", "STOP_CATEGORIES"]
