"""Hand-checked network distances: snapping, edge splitting, multi-source Dijkstra."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.model.topology import split_lines_at_shared_vertices
from gezondestad.spatial.network import (
    NetworkError,
    build_network,
    largest_component_share,
    nearest_target_distance,
    snap_points,
)


def _cross() -> gpd.GeoDataFrame:
    # a plus sign: two 20 m lines crossing at a shared vertex (0, 0)
    return gpd.GeoDataFrame(
        {"name": ["ew", "ns"]},
        geometry=[shapely.LineString([(-10, 0), (0, 0), (10, 0)]), shapely.LineString([(0, -10), (0, 0), (0, 10)])],
        crs=31370,
    )


def test_split_at_shared_vertex_gives_four_edges_and_five_nodes():
    s = split_lines_at_shared_vertices(_cross())
    assert len(s) == 4
    assert sorted(s["name"]) == ["ew", "ew", "ns", "ns"]
    net = build_network(s)
    assert (net.n_nodes, net.n_edges) == (5, 4)
    assert net.edge_length_m.sum() == pytest.approx(40.0)


def test_unsplit_crossing_lines_are_not_connected():
    net = build_network(_cross())
    assert net.n_nodes == 4
    assert largest_component_share(net) == pytest.approx(0.5)


def test_door_to_door_distance_by_hand():
    net = build_network(split_lines_at_shared_vertices(_cross()))
    # origin (-10, 1): snap 1 m to (-10, 0); 10 m to centre; 9 m up to target (0, 9) (snap 0) = 20
    # origin (10, -1): snap 1 m to (10, 0); nearest target is (9, 0.5): 1 m along + 0.5 snap = 2.5
    r = nearest_target_distance(net, np.array([[-10, 1], [10, -1]]), np.array([[0, 9], [9, 0.5]]))
    assert r.distance_m == pytest.approx([20.0, 2.5])
    assert list(r.target) == [0, 1]
    r2 = nearest_target_distance(net, np.array([[-10, 1]]), np.array([[0, 9]]), include_snap=False)
    assert r2.distance_m == pytest.approx([19.0])


def test_limit_and_unsnapped_points():
    net = build_network(split_lines_at_shared_vertices(_cross()))
    r = nearest_target_distance(net, np.array([[-10, 1], [500, 500]]), np.array([[0, 9]]), max_dist_m=15.0, max_snap_m=50)
    assert np.isinf(r.distance_m).all()
    assert list(r.origin_snapped) == [True, False]
    assert list(r.target) == [-1, -1]


def test_two_points_on_the_same_edge():
    line = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=31370)
    net = build_network(line)
    r = nearest_target_distance(net, np.array([[10, 0], [90, 0]]), np.array([[30, 0], [70, 0]]), include_snap=False)
    assert r.distance_m == pytest.approx([20.0, 20.0])
    s = snap_points(net, np.array([[25, 3]]))
    assert s.offset_m[0] == pytest.approx(25.0) and s.snap_m[0] == pytest.approx(3.0)


def test_empty_network_raises():
    with pytest.raises(NetworkError):
        build_network(gpd.GeoDataFrame(geometry=[], crs=31370))
