"""GTFS departures per hour (layers/gtfs.py) and the STOP O minimum-service rule, on hand-made feeds."""

from __future__ import annotations

import datetime as dt
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.layers.gtfs import GtfsError, GtfsParams, attach_departures, representative_day, read_gtfs, stop_departures
from gezondestad.spatial.stop import destination_points, has_service_data, o_service_note, served_stops


def _feed(tmp_path, calendar_dates: str = "service_id,date,exception_type\n") -> str:
    """Two stops A -> B; weekday service WK with 3 trips, weekend service WE with 1 trip."""
    files = {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Alfa,51.0280,4.4800\nB,Beta,51.0300,4.4850\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,WK,t1\nR1,WK,t2\nR2,WK,t3\nR1,WE,t4\n",
        "stop_times.txt": (
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type\n"
            "t1,07:10:00,07:10:00,A,1,\nt1,07:20:00,07:20:00,B,2,\n"  # B is the last stop: no departure
            "t2,18:59:00,18:59:00,A,1,\nt2,19:05:00,19:05:00,B,2,\n"
            "t3,06:59:00,06:59:00,A,1,\nt3,07:30:00,07:30:00,B,2,\n"  # 06:59 is outside 07-19
            "t4,10:00:00,10:00:00,A,1,\nt4,10:10:00,10:10:00,B,2,\n"
        ),
        "routes.txt": "route_id,route_short_name\nR1,1\nR2,2\n",
        "calendar.txt": (
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
            "WK,1,1,1,1,1,0,0,20230101,20230131\nWE,0,0,0,0,0,1,1,20230101,20230131\n"
        ),
        "calendar_dates.txt": calendar_dates,
    }
    p = tmp_path / "feed.zip"
    with zipfile.ZipFile(p, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return str(p)


def test_departures_counted_in_window_without_last_stop(tmp_path):
    s = stop_departures(_feed(tmp_path), "2023-01-11")  # a Wednesday
    d = s.stops.set_index("stop_id")
    # A: t1 07:10 and t2 18:59 in the window, t3 06:59 not; B is every trip's last stop
    assert d.loc["A", "departures_window"] == 2
    assert d.loc["A", "departures_day"] == 3
    assert d.loc["A", "departures_per_hour"] == pytest.approx(2 / 12)
    assert d.loc["B", "departures_day"] == 0
    assert d.loc["A", "routes"] == "1,2"
    assert s.stops.crs.to_epsg() == 4326


def test_weekend_and_exception_days(tmp_path):
    sat = stop_departures(_feed(tmp_path), dt.date(2023, 1, 14)).stops.set_index("stop_id")
    assert sat.loc["A", "departures_day"] == 1  # only the weekend trip
    holiday = "service_id,date,exception_type\nWK,20230111,2\nWE,20230111,1\n"
    h = stop_departures(_feed(tmp_path, holiday), "2023-01-11").stops.set_index("stop_id")
    assert h.loc["A", "departures_day"] == 1  # the Wednesday runs the weekend timetable
    with pytest.raises(GtfsError, match="geen ritten"):
        stop_departures(_feed(tmp_path), "2024-06-05")  # outside the feed's validity


def test_representative_day_is_the_busiest_wednesday(tmp_path):
    # 4 January 2023 is the first Wednesday; make it a holiday: the next Wednesday wins
    holiday = "service_id,date,exception_type\nWK,20230104,2\n"
    feed = read_gtfs(_feed(tmp_path, holiday))
    assert representative_day(feed) == dt.date(2023, 1, 11)


def _pois() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"poi_id": [0, 1, 2], "category": ["bus_stop", "bus_stop", "shop"], "subtype": None, "name": ["S1", "S2", "winkel"], "wheelchair": None},
        geometry=[shapely.Point(0, 0), shapely.Point(1000, 0), shapely.Point(10, 0)],
        crs="EPSG:32631",
    )


def test_attach_sums_both_sides_and_adds_unmatched_stops():
    from gezondestad.layers.gtfs import StopService

    # GTFS stops 20 m either side of S1, and one 500 m from any OSM stop
    g = gpd.GeoDataFrame(
        {"stop_id": ["a", "b", "c"], "stop_name": ["A", "B", "C"], "departures_per_hour": [3.0, 2.5, 1.0]},
        geometry=[shapely.Point(0, 20), shapely.Point(0, -20), shapely.Point(500, 0)],
        crs="EPSG:32631",
    ).to_crs(4326)
    out, counts = attach_departures(_pois(), StopService(g, dt.date(2023, 1, 11), GtfsParams(max_match_m=50.0), "x.zip"))
    assert counts == {"matched": 2, "added": 1, "osm_without_gtfs": 1}
    dph = out.set_index("name")["departures_per_hour"]
    assert dph["S1"] == pytest.approx(5.5)
    assert np.isnan(dph["S2"]) and np.isnan(dph["winkel"])  # S2: no GTFS stop near it -> unknown, not 0
    new = out[out["subtype"] == "gtfs"]
    assert len(new) == 1 and new["poi_id"].iloc[0] == 3 and new["category"].iloc[0] == "bus_stop"
    assert new.geometry.iloc[0].distance(shapely.Point(500, 0)) < 0.01


def test_o_counts_only_served_stops_when_a_feed_is_present():
    p = _pois()
    assert not has_service_data(p)
    assert served_stops(p).all()  # no feed: the stop-only rule
    assert "Geen dienstregeling" in o_service_note(p)
    p["departures_per_hour"] = [1.0, 2.0, np.nan]
    assert served_stops(p).tolist() == [False, True, False]  # 1/h is below the 2/h floor
    d = destination_points(p)
    assert d.loc[d["dest"] == "o_bus", "poi_id"].tolist() == [1]
    assert sorted(d.loc[d["dest"] == "bus_stop", "poi_id"].tolist()) == [0, 1]  # S (walking) still counts every stop
    assert "1 van 2 haltes" in o_service_note(p)
