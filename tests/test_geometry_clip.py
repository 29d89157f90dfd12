"""model.geometry.clipped_measures (lengths/areas clipped to zones without an overlay per part) and
layers.osm_tags.clean_tags (vectorised tag cleaning), on hand-made cases with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from gezondestad.layers.osm_tags import clean_tags, tag_to_str
from gezondestad.model.geometry import clipped_measures
from shapely.geometry import LineString, Point, box


def _by_pair(pi: np.ndarray, li: np.ndarray, m: np.ndarray) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(v) for a, b, v in zip(pi, li, m)}


def test_lines_inside_crossing_outside_and_on_the_boundary():
    zone = box(0, 0, 100, 100)
    lines = np.array([
        LineString([(10, 10), (90, 10)]),      # inside: 80
        LineString([(50, 50), (150, 50)]),     # crosses: 50 inside
        LineString([(200, 0), (300, 0)]),      # outside: no pair
        LineString([(0, 20), (0, 60)]),        # along the boundary: 40 (as shapely.intersection)
        LineString([(-10, 30), (50, 30), (50, 130)]),  # in and out again: 50 + 70 = 120
    ], dtype=object)
    got = _by_pair(*clipped_measures(lines, np.array([zone], dtype=object)))
    assert got[(0, 0)] == pytest.approx(80.0)
    assert got[(0, 1)] == pytest.approx(50.0)
    assert (0, 2) not in got
    assert got[(0, 3)] == pytest.approx(float(shapely.length(shapely.intersection(lines[3], zone))))
    assert got[(0, 4)] == pytest.approx(120.0)


def test_polygons_and_overlapping_zones():
    zones = np.array([box(0, 0, 100, 100), box(50, 0, 150, 100)], dtype=object)  # overlap 50 x 100
    parks = np.array([box(10, 10, 20, 20), box(90, 40, 110, 60), Point(500, 500).buffer(5)], dtype=object)
    got = _by_pair(*clipped_measures(parks, zones))
    assert got[(0, 0)] == pytest.approx(100.0)      # wholly inside zone 0
    assert (1, 0) not in got                        # not in zone 1
    assert got[(0, 1)] == pytest.approx(200.0)      # 10 x 20 inside zone 0
    assert got[(1, 1)] == pytest.approx(400.0)      # wholly inside zone 1
    assert not any(li == 2 for _, li in got)
    # same as the plain overlay for every pair, on a zone with many vertices
    ring = Point(0, 0).buffer(1000, quad_segs=256)
    rng = np.random.default_rng(1)
    xy = rng.uniform(-1200, 1200, size=(300, 2))
    segs = np.array([LineString([tuple(p), tuple(p + rng.uniform(-150, 150, 2))]) for p in xy], dtype=object)
    pi, li, m = clipped_measures(segs, np.array([ring], dtype=object))
    ref = shapely.length(shapely.intersection(segs[li], ring))
    assert np.allclose(m, ref, atol=1e-9) and len(li) > 100


def test_empty_inputs():
    pi, li, m = clipped_measures(np.array([], dtype=object), np.array([box(0, 0, 1, 1)], dtype=object))
    assert len(pi) == len(li) == len(m) == 0


def test_clean_tags_same_as_tag_to_str():
    col = pd.Series([" residential ", None, np.nan, "", "NaN", "none", "30", "NULL", "<NA>", "yes"], dtype=object)
    got = clean_tags(col).tolist()
    assert got == ["residential", None, None, None, None, None, "30", None, None, "yes"]
    assert [g is None for g in got] == [pd.isna(tag_to_str(v)) for v in col]
    # mixed values (lists, floats, booleans) go value by value
    mixed = pd.Series([["a", "b", "a"], 30.0, True, "x"], dtype=object)
    assert clean_tags(mixed).tolist() == ["a;b", "30", "yes", "x"]
