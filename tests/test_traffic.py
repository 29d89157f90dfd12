"""Traffic per street segment: class defaults, counts, bad input, plan traffic (trips, closures, speeds)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from gezondestad.layers.osm_tags import finalize_streets, node_at_intersections
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.traffic import (
    SOURCE_COUNT,
    SOURCE_DEFAULT,
    SOURCE_PLAN,
    TrafficError,
    TrafficParams,
    parse_maxspeed,
    plan_traffic,
    sites_from_plan_features,
    traffic_per_segment,
)
from shapely.geometry import LineString, box


def _area(rows: list[dict]) -> StudyArea:
    g = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    return StudyArea(name="t", themes={"streets": finalize_streets(node_at_intersections(g))})


def _ladder() -> StudyArea:
    """Two parallel 300 m streets (y=0 primary main road, y=100 residential) joined by rungs at x=0, 150, 300."""
    rows = [
        {"geometry": LineString([(0, 0), (150, 0)]), "highway": "primary", "maxspeed": "70"},
        {"geometry": LineString([(150, 0), (300, 0)]), "highway": "primary", "maxspeed": "70"},
        {"geometry": LineString([(0, 100), (150, 100)]), "highway": "residential", "maxspeed": "30"},
        {"geometry": LineString([(150, 100), (300, 100)]), "highway": "residential", "maxspeed": "30"},
        {"geometry": LineString([(0, 0), (0, 100)]), "highway": "residential", "maxspeed": "30"},
        {"geometry": LineString([(150, 0), (150, 100)]), "highway": "residential"},
        {"geometry": LineString([(300, 0), (300, 100)]), "highway": "residential", "maxspeed": "30"},
        {"geometry": LineString([(150, 100), (150, 200)]), "highway": "residential", "maxspeed": "30"},
        {"geometry": LineString([(0, 100), (-50, 100)]), "highway": "footway"},
    ]
    return _area(rows)


def _row(t: gpd.GeoDataFrame, x0, y0, x1, y1) -> int:
    ln = LineString([(x0, y0), (x1, y1)])
    d = t.geometry.apply(lambda g: g.hausdorff_distance(ln)).to_numpy()
    return int(np.argmin(d))


def test_parse_maxspeed():
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("BE:zone30") == 30
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("70;50") == 50
    assert np.isnan(parse_maxspeed(None)) and np.isnan(parse_maxspeed("signals"))


def test_defaults_per_class_from_norms_and_counted_speed_defaults():
    a = _ladder()
    p = TrafficParams.from_norms()
    n = load_norms("traffic")
    t = traffic_per_segment(a, p)
    assert list(t.index) == list(a.streets.index)
    assert (t["edge_id"].to_numpy() == a.streets["edge_id"].to_numpy()).all()
    main = _row(t, 0, 0, 150, 0)
    assert t["aadt"].iloc[main] == n["aadt_per_class"].value["primary"]
    assert t["heavy_share"].iloc[main] == n["heavy_share_per_class"].value["primary"]
    assert t["speed_kmh"].iloc[main] == 70
    assert t["share_day"].iloc[main] + t["share_evening"].iloc[main] + t["share_night"].iloc[main] == pytest.approx(1.0)
    foot = _row(t, 0, 100, -50, 100)
    assert t["aadt"].iloc[foot] == 0 and np.isnan(t["speed_kmh"].iloc[foot])
    rung = _row(t, 150, 0, 150, 100)
    assert t["speed_kmh"].iloc[rung] == n["default_speed_kmh_per_class"].value["residential"]
    assert bool(t["speed_defaulted"].iloc[rung]) and int(t["speed_defaulted"].sum()) == 1
    assert any("1 van 8" in s for s in t.attrs["notes"])
    assert (t["traffic_source"] == SOURCE_DEFAULT).all()
    assert t.attrs["norms_used"]


def test_counts_by_edge_id_override_defaults():
    a = _ladder()
    t0 = traffic_per_segment(a)
    main = _row(t0, 0, 0, 150, 0)
    eid = int(a.streets["edge_id"].iloc[main])
    counts = pd.DataFrame({"edge_id": [eid], "aadt": [21000], "heavy_share": [0.12], "speed_kmh": [50]})
    t = traffic_per_segment(a, counts=counts)
    assert t["aadt"].iloc[main] == 21000 and t["heavy_share"].iloc[main] == 0.12 and t["speed_kmh"].iloc[main] == 50
    assert t["traffic_source"].iloc[main] == SOURCE_COUNT
    assert (t["traffic_source"] == SOURCE_COUNT).sum() == 1


def test_count_lines_matched_by_geometry():
    a = _ladder()
    # a count section drawn 3 m off the axis of the whole main road: both primary segments match
    lines = gpd.GeoDataFrame({"intensiteit": [18000]}, geometry=[LineString([(-5, 3), (305, 3)])], crs=CRS)
    t = traffic_per_segment(a, counts=lines)
    hit = t["traffic_source"] == SOURCE_COUNT
    assert set(t.loc[hit, "highway"]) == {"primary"} and int(hit.sum()) == 2
    assert (t.loc[hit, "aadt"] == 18000).all()
    # the perpendicular rungs that touch the line do not match (angle test)
    assert t["aadt"].iloc[_row(t, 0, 0, 0, 100)] == 500


@pytest.mark.parametrize(
    "counts, fragment",
    [
        (pd.DataFrame({"edge_id": [999], "aadt": [100]}), "onbekende segment-id"),
        (pd.DataFrame({"edge_id": [0], "aadt": [-5]}), "negatief"),
        (pd.DataFrame({"edge_id": [0], "aadt": [5_000_000]}), "onmogelijk veel"),
        (pd.DataFrame({"edge_id": [0], "aadt": [100], "speed_kmh": [300]}), "snelheid buiten"),
        (pd.DataFrame({"edge_id": [0], "aadt": [100], "heavy_share": [8]}), "aandeel zwaar verkeer"),
        (pd.DataFrame({"edge_id": [0], "aadt": ["veel"]}), "geen getal"),
        (pd.DataFrame({"edge_id": [0], "flow": [100]}), "geen kolom"),
        (gpd.GeoDataFrame({"aadt": [100]}, geometry=[LineString([(1000, 1000), (1100, 1000)])], crs=CRS), "op geen enkel straatsegment"),
    ],
)
def test_bad_counts_are_refused_in_dutch(counts, fragment):
    a = _ladder()
    with pytest.raises(TrafficError, match=fragment) as exc:
        traffic_per_segment(a, counts=counts)
    assert isinstance(exc.value, GezondeStadError)


def test_plan_trips_follow_fastest_route_to_main_road():
    a = _ladder()
    p = TrafficParams.from_norms()
    sites = gpd.GeoDataFrame({"dwellings": [100.0], "parking_spaces": [np.nan]}, geometry=[box(140, 190, 160, 210)], crs=CRS)
    t = plan_traffic(a, a.copy(), sites, p)
    trips = 100 * p.household_size * p.trips_per_person_day * p.car_driver_share
    stub = _row(t, 150, 100, 150, 200)
    rung = _row(t, 150, 0, 150, 100)
    assert t["aadt_plan_trips"].iloc[stub] == pytest.approx(trips)
    assert t["aadt_plan_trips"].iloc[rung] == pytest.approx(trips)  # straight down the middle rung
    assert t["aadt"].iloc[rung] == pytest.approx(500 + trips)
    # at the main road the trips split over both directions
    assert t["aadt_plan_trips"].iloc[_row(t, 0, 0, 150, 0)] == pytest.approx(trips / 2)
    assert t["aadt_plan_trips"].iloc[_row(t, 0, 0, 0, 100)] == 0
    assert t["traffic_source"].iloc[rung] == SOURCE_PLAN
    assert t["traffic_source"].iloc[_row(t, 300, 0, 300, 100)] == SOURCE_DEFAULT


def test_car_park_bounds_plan_traffic_not_double_counted():
    p = TrafficParams.from_norms()
    feats = gpd.GeoDataFrame(
        {"feature_type": ["building", "parking"], "dwellings": [10.0, np.nan]},
        geometry=[box(140, 190, 160, 210), box(0, 0, 100, 50)],  # 5000 m2 -> 200 spaces
        crs=CRS,
    )
    sites = sites_from_plan_features(feats, p)
    assert sites["parking_spaces"].iloc[1] == pytest.approx(5000 / p.parking_m2_per_space)
    a = _ladder()
    t = plan_traffic(a, a.copy(), sites, p)
    assert any(f"{200 * p.car_trips_per_parking_space_day:.0f} autoritten" in n for n in t.attrs["notes"])


def test_closure_reroutes_and_speed_change_is_plan():
    a = _ladder()
    after = a.copy()
    s = after.themes["streets"]
    mid = _row(s, 150, 0, 150, 100)
    s.loc[s.index[mid], "motor_vehicle"] = "no"
    up = _row(s, 0, 100, 150, 100)
    s.loc[s.index[up], "maxspeed"] = "50"
    t = plan_traffic(a, after)
    assert t["aadt"].iloc[mid] == 0
    assert t["aadt_before"].iloc[mid] == 500
    # the 500 veh/day of the closed rung go round: one of the side rungs carries them
    side = [_row(t, 0, 0, 0, 100), _row(t, 300, 0, 300, 100)]
    assert sorted(t["aadt_rerouted"].iloc[side].tolist()) == [0.0, 500.0]
    assert t["speed_kmh"].iloc[up] == 50 and t["traffic_source"].iloc[up] == SOURCE_PLAN
    assert any("afgesloten" in n for n in t.attrs["notes"])


def test_plan_keeps_counts_on_unchanged_streets():
    a = _ladder()
    main = _row(a.streets, 150, 0, 300, 0)
    counts = pd.DataFrame({"edge_id": [int(a.streets["edge_id"].iloc[main])], "aadt": [12345]})
    t = plan_traffic(a, a.copy(), counts=counts)
    assert t["aadt"].iloc[main] == 12345 and t["traffic_source"].iloc[main] == SOURCE_COUNT



def test_real_mechelen_roads_invariants():
    """Mechelen 2017 car roads: every class gets a plausible volume, speed in range, defaults counted."""
    import os

    import pyogrio

    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mechelen", "mechelen_osm_roads_car_2017.gpkg")
    if not os.path.isfile(path):
        pytest.skip("../shared/data/mechelen (OSM car roads 2017) is not present on this machine")
    g = pyogrio.read_dataframe(path, layer="roads")
    g = g[g["in_mechelen"].astype(bool)] if "in_mechelen" in g else g
    keep = ["highway", "maxspeed", "name", "motor_vehicle", "junction", "bridge", "tunnel", "oneway"]
    a = _area([dict({k: (None if r[k] is None or (isinstance(r[k], float) and np.isnan(r[k])) else str(r[k])) for k in keep}, geometry=r.geometry)
               for _, r in g.iterrows() if r.geometry is not None and r.geometry.geom_type == "LineString"])
    t = traffic_per_segment(a)
    motor = t["aadt"] > 0
    assert motor.mean() > 0.9
    assert t.loc[motor, "speed_kmh"].between(5, 150).all()
    assert (t.loc[t["highway"] == "motorway", "aadt"] >= 15000).all()
    assert t.loc[t["highway"] == "residential", "aadt"].max() < t.loc[t["highway"] == "primary", "aadt"].min()
    n_def = int(t["speed_defaulted"].sum())
    assert 0 < n_def < motor.sum()
    assert any(f"{n_def} van {int(motor.sum())}" in n for n in t.attrs["notes"])


def test_cli_traffic_writes_and_refuses_bad_counts(tmp_path, capsys):
    from gezondestad.app.cli.main import main
    from gezondestad.layers.demo import demo_area_dir

    d = demo_area_dir()
    out = tmp_path / "t.gpkg"
    assert main(["traffic", "--area", str(d), "--out", str(out)]) == 0
    assert out.is_file() and out.with_suffix(".csv").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("edge_id,aadt\n0,-10\n", encoding="utf-8")
    out2 = tmp_path / "t2.gpkg"
    assert main(["traffic", "--area", str(d), "--out", str(out2), "--counts", str(bad)]) == 2
    assert not out2.exists()  # nothing half-written
    assert "negatief" in capsys.readouterr().err
