"""Green-space access on a hand-made network: every distance computed by hand below."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from gezondestad.model.studyarea import LandCover
from gezondestad.spatial.green import (
    canopy_share,
    green_access,
    green_area_per_polygon,
    park_access_points,
    public_green_spaces,
)
from gezondestad.spatial.network import build_network


def _streets() -> gpd.GeoDataFrame:
    # a street along y = 0 from x = 0 to 1000, noded at x = 350 where a footway runs north to y = 250
    return gpd.GeoDataFrame(
        {"highway": ["residential", "residential", "footway"]},
        geometry=[
            shapely.LineString([(0, 0), (350, 0)]),
            shapely.LineString([(350, 0), (1000, 0)]),
            shapely.LineString([(350, 0), (350, 250)]),
        ],
        crs=31370,
    )


def _green() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "kind": ["park", "wood", "park", "park", "garden", "park"],
            "name": ["A", "A-bomen", "B", "C", "Privé", "E"],
            "public": [True, None, True, True, False, True],
        },
        geometry=[
            shapely.box(100, 10, 175, 85),  # A: 75 x 75 = 0.5625 ha, 10 m north of the street
            shapely.box(110, 20, 130, 40),  # a wood inside A (public unknown, kind wood -> public): merges with A
            shapely.box(700, 20, 900, 120),  # B: 2 ha, 20 m north of the street
            shapely.box(300, 230, 400, 330),  # C: 1 ha, reached by the footway only
            shapely.box(400, 5, 450, 50),  # private garden: never a target
            shapely.box(2000, 2000, 2100, 2100),  # E: 1 ha, no path anywhere near
        ],
        crs=31370,
    )


def test_public_spaces_merge_and_exclude_private():
    sp = public_green_spaces(_green())
    assert len(sp) == 4  # A (+ wood), B, C, E; the private garden is dropped
    a = sp[sp["name"].str.startswith("A")].iloc[0]
    assert a["n_parts"] == 2
    assert a["area_m2"] == pytest.approx(5625.0)  # the wood lies inside A: union area
    assert a["public_assumed"]  # the wood had no public value: decided by its kind
    assert sorted(sp["area_ha"].round(4)) == [0.5625, 1.0, 1.0, 2.0]


def test_access_points_and_unreachable_park_reported():
    net = build_network(_streets())
    sp = public_green_spaces(_green())
    pts, rep = park_access_points(sp, net)
    byname = rep.set_index("name")
    # A: perimeter 300 m -> 12 points 25 m apart; the 4 on its south edge (y = 10) are within 30 m
    assert byname.loc["A; A-bomen", "n_access_points"] == 4
    # B: perimeter 600 -> 24 points; the 9 on its south edge (y = 20, x = 700..900) count
    assert byname.loc["B", "n_access_points"] == 9
    # C: south-edge points x = 325, 350, 375 lie within 25 m of the footway, + the node (350, 250) inside
    assert byname.loc["C", "n_access_points"] == 4
    assert set(pts.loc[pts["space_id"] == byname.loc["C", "space_id"], "source"]) == {"edge", "node"}
    assert not byname.loc["E", "reachable"]
    assert "no walkable edge" in byname.loc["E", "reason"]
    assert byname.loc[["A; A-bomen", "B", "C"], "reachable"].all()


def test_distances_per_class_by_hand():
    net = build_network(_streets())
    homes = gpd.GeoDataFrame(geometry=shapely.points([(500, -10), (150, -5), (990, -10), (340, 100)]), crs=31370)
    ga = green_access(net, homes, _green())
    d = ga.distances
    # H1 (500,-10): 10 snap + 200 to x=700 + 20 to B's corner point (700,20) = 230 (A: 10+325+10 = 345)
    # H2 (150,-5): 5 snap + 10 to A's point (150,10) = 15; >= 1 ha: C via footway 5+200+230 = 435 (B: 575)
    # H3 (990,-10): 10 + 90 to x=900 + 20 = 120 (B)
    # H4 (340,100): 10 snap onto the footway, 130 north to C's point (350,230) on the footway = 140
    assert d["green_d_any_m"].to_numpy() == pytest.approx([230, 15, 120, 140])
    assert d["green_d_05ha_m"].to_numpy() == pytest.approx([230, 15, 120, 140])
    assert d["green_d_1ha_m"].to_numpy() == pytest.approx([230, 435, 120, 140])
    assert np.isinf(d["green_d_10ha_m"]).all()
    assert list(d["green_300m_05ha"]) == [True, True, True, True]
    assert list(d["green_300m_1ha"]) == [True, False, True, True]
    assert list(d["groen_woongroen"]) == [False, True, True, True]  # 150 m, any size
    assert list(d["groen_buurtgroen"]) == [True, False, True, True]  # 400 m, >= 1 ha
    assert not d["groen_wijkgroen"].any()


def test_no_green_gives_inf_not_zero():
    net = build_network(_streets())
    homes = gpd.GeoDataFrame(geometry=shapely.points([(500, -10)]), crs=31370)
    ga = green_access(net, homes, _green().iloc[0:0])
    assert np.isinf(ga.distances["green_d_any_m"]).all()
    assert not ga.distances["green_300m_05ha"].any()


def test_green_area_per_polygon_and_canopy_by_hand():
    sp = public_green_spaces(_green())
    polys = gpd.GeoDataFrame(geometry=[shapely.box(0, -50, 200, 100), shapely.box(800, 0, 1000, 200)], crs=31370)
    # first: A whole (5625, the wood counted once, the garden is private); second: half of B = 10000
    assert green_area_per_polygon(sp, polys) == pytest.approx([5625.0, 10000.0])
    lc = LandCover(np.array([[4, 3], [4, 0]], dtype=np.uint8), Affine(10, 0, 0, 0, -10, 20), 10.0)
    whole = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 20), shapely.box(10, 0, 20, 20)], crs=31370)
    # 2 tree cells of 3 valid cells; right column: 1 low-green cell and 1 nodata -> 0
    assert canopy_share(lc, whole) == pytest.approx([2 / 3, 0.0])
    assert np.isnan(canopy_share(None, whole)).all()


def test_router_gives_the_same_distances_as_nearest_target_distance():
    from gezondestad.spatial.network import (
        build_router,
        nearest_target_distance,
        router_nearest,
    )

    net = build_network(_streets())
    rng = np.random.default_rng(3)
    origins = rng.uniform([-50, -60], [1050, 300], size=(200, 2))
    targets = rng.uniform([-50, -60], [1050, 300], size=(30, 2))
    r = build_router(net, origins, targets, max_snap_m=100.0)
    pick = np.arange(30) % 3 == 0
    for mask in (None, pick):
        want = nearest_target_distance(net, origins, targets if mask is None else targets[mask], max_snap_m=100.0)
        got = router_nearest(r, mask)
        assert got.distance_m == pytest.approx(want.distance_m)
        tw = np.where(want.target >= 0, (np.flatnonzero(mask) if mask is not None else np.arange(30))[np.maximum(want.target, 0)], -1)
        assert (got.target == tw).all()
    lim = router_nearest(r, max_dist_m=100.0).distance_m
    assert (lim[np.isfinite(lim)] <= 100.0).all()
