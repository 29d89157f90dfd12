"""Homes and population-weighted aggregation, checked by hand."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.model.population import estimate_homes_along_streets
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points


def _wijken():
    return gpd.GeoDataFrame(
        {"wijk_code": ["A", "B"], "wijk_naam": ["Aa", "Bb"]},
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
        crs=31370,
    )


def test_weighted_share_and_mean_by_hand():
    homes = gpd.GeoDataFrame(
        {"residents": [1.0, 3.0, 2.0, 0.0], "wijk_code": ["A", "A", "B", "B"]},
        geometry=shapely.points([(10, 10), (20, 20), (150, 50), (160, 50)]),
        crs=31370,
    )
    out = aggregate_per_wijk(homes, {"served": np.array([True, False, True, False]), "d": np.array([100.0, 200.0, 50.0, np.inf * 0])}, _wijken())
    a, b = out.iloc[0], out.iloc[1]
    assert a["served"] == pytest.approx(0.25)  # 1 of 4 residents
    assert a["d"] == pytest.approx((1 * 100 + 3 * 200) / 4)
    assert b["served"] == pytest.approx(1.0)
    assert (a["residents"], b["residents"], a["homes"], b["homes"]) == (4.0, 2.0, 2, 2)


def test_assign_wijk_inside_and_near():
    pts = gpd.GeoSeries(shapely.points([(50, 50), (150, 50), (220, 50), (1000, 1000)]), crs=31370)
    wk = assign_wijk(pts, _wijken())
    assert list(wk["wijk_code"]) == ["A", "B", "B", None]


def test_homes_from_buildings_keep_residents(demo_area):
    homes = home_points(demo_area)
    assert len(homes) > 1000
    assert homes["residents"].sum() == pytest.approx(demo_area.buildings["residents"].sum())
    assert homes["wijk_code"].notna().all()


def test_estimated_homes_along_a_street():
    streets = gpd.GeoDataFrame({"highway": ["residential", "footway"]},
                               geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 100)])], crs=31370)
    h = estimate_homes_along_streets(streets, spacing_m=25.0, offset_m=10.0)
    assert len(h) == 4
    assert np.allclose(np.sort(h.geometry.x), [12.5, 37.5, 62.5, 87.5])
    assert np.allclose(np.abs(h.geometry.y), 10.0)
