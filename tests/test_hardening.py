"""Hardening (issue 12): bounded memory for large plans and designs, content-keyed caches,
refused broken input, safe study-area swaps, defused CSV cells, the facilitator PIN guard."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import shapely
from affine import Affine
from gezondestad.model.geometry import buffer_union
from gezondestad.model.studyarea import LandCover
from rasterio import features as rfeatures

# --------------------------------------------------------------------------------------------
# 1. bounded memory for a plan of many small buildings
# --------------------------------------------------------------------------------------------

_MANY_BOXES = """
import resource, numpy as np, shapely
n, side, step = 3000, 55, 26.5
i = np.arange(n)
cx, cy = 160000 + i % side * step, 190000 + i // side * step
fp = shapely.union_all(shapely.box(cx, cy, cx + 13, cy + 13))
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + 700_000_000, resource.RLIM_INFINITY))
"""


def _run_limited(body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(_MANY_BOXES) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_within_mask_of_3000_buildings_stays_within_700_mb():
    # a GEOS buffer of this footprint by the heat influence distance (1,425 m) ran out of memory
    r = _run_limited("""
        from affine import Affine
        from gezondestad.model.studyarea import LandCover
        from gezondestad.screening.compare import _within_mask, heat_influence_m
        lc = LandCover(np.zeros((300, 300), np.uint8), Affine(10, 0, 159000, 0, -10, 193000), 10.0)
        m = _within_mask(lc, fp, heat_influence_m())
        print("corner", bool(m[0, 0]), "centre", bool(m[150, 150]), "edge", bool(m[299, 299]))
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    # (159000, 193000) is 1,850 m from the nearest building; the centre and the SE corner are within reach
    assert "corner False centre True edge True" in r.stdout


def test_buffer_union_of_3000_parts_stays_within_700_mb():
    r = _run_limited("""
        from gezondestad.model.geometry import buffer_union
        b = buffer_union(fp, 500.0)
        print("area", round(b.area))
    """)
    assert r.returncode == 0, r.stderr[-2000:]


def test_buffer_union_equals_buffer_on_small_input():
    g = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(30, 0, 40, 10), shapely.box(100, 100, 101, 101)])
    a, b = buffer_union(g, 12.0), g.buffer(12.0)
    assert abs(a.area - b.area) < 5e-3 * b.area
    assert a.symmetric_difference(b).area < 5e-3 * b.area
    assert buffer_union(shapely.Polygon(), 5.0).is_empty


def test_within_mask_covers_the_buffer_and_not_much_more():
    from gezondestad.screening.compare import _within_mask

    lc = LandCover(np.zeros((60, 80), np.uint8), Affine(10, 0, 0, 0, -10, 600), 10.0)
    g = shapely.MultiPolygon([shapely.box(100, 200, 130, 230), shapely.box(500, 400, 505, 405)])
    m = _within_mask(lc, g, 55.0)
    exact = rfeatures.rasterize([(g.buffer(55.0), 1)], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8").astype(bool)
    wider = rfeatures.rasterize([(g.buffer(55.0 + 10 * np.sqrt(2)), 1)], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8").astype(bool)
    assert (m >= exact).all()  # never fewer cells than the exact buffer
    assert (m <= wider).all()  # at most about one cell more
    # a footprint just outside the grid still reaches into it
    edge = _within_mask(lc, shapely.box(-40, 300, -30, 310), 55.0)
    assert edge[:, 0].any() and not edge[:, 3:].any()


def test_near_plan_matches_dwithin(demo_area):
    import geopandas as gpd
    from gezondestad.layers.demo import X0, Y0
    from gezondestad.screening.compare import _near_plan
    from gezondestad.screening.plan import plan_from_frame
    from gezondestad.spatial.aggregate import home_points

    rows = [{"feature_type": "building", "dwellings": 5, "geometry": shapely.box(X0 + 1400, Y0 + 1100 + k * 40, X0 + 1420, Y0 + 1120 + k * 40)} for k in range(3)]
    plan = plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=demo_area.crs if hasattr(demo_area, "crs") else 31370), area=demo_area)
    homes = home_points(demo_area)
    want = shapely.dwithin(np.asarray(homes.geometry.values, dtype=object), plan.footprint, 300.0)
    got = _near_plan(homes, plan, 300.0)
    assert 0 < want.sum() < len(homes)
    np.testing.assert_array_equal(got, want)
