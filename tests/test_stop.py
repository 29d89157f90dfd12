"""STOP sub-scores computed by hand, and the polygon score on the demo town."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from gezondestad.model.studyarea import STREET_TAGS
from gezondestad.spatial.cycling import classify_lts
from gezondestad.spatial.indicators import stop_score_polygon
from gezondestad.spatial.stop import (
    StopError,
    car_dominance,
    o_home_flags,
    s_home_score,
    stop_order_ok,
    stop_scores,
    walk_limit_m,
)


def test_walk_limit_is_ten_minutes_at_1_33_m_s():
    assert walk_limit_m() == pytest.approx(1.33 * 600)  # 798 m


def test_s_home_score_by_hand():
    inf = np.inf
    d = {
        "shop": np.array([100.0, inf]),
        "school": np.array([900.0, inf]),
        "gp_pharmacy": np.array([500.0, inf]),
        "park": np.array([798.0, inf]),  # exactly at the limit counts
        "bus_stop": np.array([1000.0, inf]),
    }
    # home 1: shop, GP/pharmacy and park within 798 m -> 3 of 5 equal weights
    assert s_home_score(d) == pytest.approx([0.6, 0.0])
    with pytest.raises(StopError, match="park"):
        s_home_score({k: v for k, v in d.items() if k != "park"})


def test_o_flags_by_hand():
    bus, train = o_home_flags(np.array([399.0, 401.0]), np.array([800.0, 801.0]))
    assert list(bus) == [True, False] and list(train) == [True, False]


def test_stop_scores_formula_by_hand():
    st = stop_scores(
        s_mean=[0.6, 0.4], centre_share=[1.0, 1.0], school_share=[0.5, 0.5], lts12_share_length=[0.3, 0.3],
        bus_share=[0.8, 0.8], train_share=[0.2, 0.2], stop_p=[37.5, 37.5],
    )
    # T = 100 x (1 + 0.5 + 0.3) / 3 = 60; O = 100 x (0.8 + 0.2) / 2 = 50
    assert st["stop_s"].tolist() == pytest.approx([60.0, 40.0])
    assert st["stop_t"].tolist() == pytest.approx([60.0, 60.0])
    assert st["stop_o"].tolist() == pytest.approx([50.0, 50.0])
    assert st["stop_order_ok"].tolist() == [True, False]  # 60 >= 60 >= 50 >= 37.5; 40 < 60
    assert list(stop_order_ok([50, np.nan], [40, 40], [30, 30], [20, 20])) == [True, False]


def test_car_dominance_by_hand():
    rows = [{"highway": "primary", "maxspeed": "70"}] + [{"highway": "residential", "maxspeed": "30"}] * 3 + [{"highway": "cycleway"}, {"highway": "primary", "maxspeed": "70"}]
    geoms = [
        shapely.LineString([(0, 500), (1000, 500)]),
        shapely.LineString([(0, 100), (1000, 100)]),
        shapely.LineString([(0, 200), (1000, 200)]),
        shapely.LineString([(0, 300), (1000, 300)]),
        shapely.LineString([(0, 700), (1000, 700)]),  # no motor traffic: not counted
        shapely.LineString([(500, 900), (1500, 900)]),  # half inside the polygon
    ]
    s = gpd.GeoDataFrame(pd.DataFrame([{t: r.get(t) for t in STREET_TAGS} for r in rows]), geometry=geoms, crs=31370)
    poly = gpd.GeoDataFrame({"wijk_code": ["W"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=31370)
    landuse = gpd.GeoDataFrame({"kind": ["parking", "residential"]}, geometry=[shapely.box(0, 0, 100, 500), shapely.box(500, 0, 1000, 500)], crs=31370)
    p = car_dominance(s, classify_lts(s), landuse, poly).iloc[0]
    # car streets: 1 + 3 + 0.5 = 4.5 km, of which 1.5 km at 70 km/h -> 1/3
    assert p["car_street_km"] == pytest.approx(4.5)
    assert p["street_gt50_share_length"] == pytest.approx(1 / 3)
    # parking 100 x 500 = 5 % of 1 km2 -> parking part 0.05 / 0.10 = 0.5; P = 100 x (0.5/3 + 0.5 x 0.5)
    assert p["parking_share"] == pytest.approx(0.05)
    assert p["stop_p"] == pytest.approx(100 * (0.5 / 3 + 0.25))
    q = car_dominance(s, classify_lts(s), None, poly, landuse_known=False).iloc[0]
    assert q["stop_p"] == pytest.approx(100 / 3) and np.isnan(q["parking_share"]) and not q["stop_p_parking_known"]


def test_polygon_without_homes_is_scored_from_a_grid(demo_area):
    from gezondestad.layers.demo import X0, Y0

    # the Stationsveld brownfield: no homes inside
    poly = shapely.box(X0 + 1355, Y0 + 905, X0 + 1795, Y0 + 1195)
    row = stop_score_polygon(demo_area, poly, name="Stationsveld")
    assert row["origin"] == "grid"
    assert row["homes"] == len(__import__("gezondestad.spatial.stop", fromlist=["grid_points"]).grid_points(poly, 50.0))
    for c in ("stop_s", "stop_t", "stop_o", "stop_p"):
        assert 0.0 <= row[c] <= 100.0
    # the station (bus + train) is within a 10-minute walk of this area: O > 0
    assert row["train_800m_share"] > 0


def test_polygon_with_homes_and_bad_polygon(demo_area):
    from gezondestad.layers.demo import X0, Y0

    row = stop_score_polygon(demo_area, shapely.box(X0 + 150, Y0 + 1050, X0 + 600, Y0 + 1350))
    assert row["origin"] == "homes" and row["homes"] > 10
    assert row["stop_s"] > 50  # the shopping streets of the Centrum
    with pytest.raises(StopError):
        stop_score_polygon(demo_area, shapely.Polygon())
