"""Plan reading/validation and application to a copy of the study area (screening.plan)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS
from gezondestad.screening.example_plan import (
    EXAMPLE_PLAN_PATH,
    PLAN_NAME,
    example_plan_frame,
)
from gezondestad.screening.plan import (
    FEATURE_TYPES,
    PlanError,
    apply_plan,
    plan_from_frame,
    read_plan,
)
from gezondestad.spatial.network import build_network, component_labels
from shapely.geometry import LineString, box


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def test_example_plan_file_matches_generator(demo_area):
    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    assert plan.name == PLAN_NAME
    assert plan.features.crs.to_epsg() == 31370
    assert plan.counts() == {"building": 5, "green": 4, "street": 2, "path": 2, "parking": 1, "wadi": 1}
    gen = example_plan_frame()
    assert np.allclose(plan.features.total_bounds, gen.total_bounds)
    # the park is public and larger than 0.5 ha (WHO class)
    park = plan.features[plan.features["name"] == "Stationsveldpark"].iloc[0]
    assert bool(park["public"]) and park.geometry.area > 5000


def test_apply_example_plan_adds_residents_and_leaves_original_untouched(demo_area):
    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    n_b, n_s = len(demo_area.buildings), len(demo_area.streets)
    res_before = float(demo_area.wijken["residents"].sum())
    after = apply_plan(demo_area, plan)
    hh = float(load_norms("screening")["household_size"].value)
    assert after.manifest["plan"]["effects"]["residents_added"] == pytest.approx(430 * hh)
    assert len(after.buildings) == n_b + 5
    assert float(after.wijken["residents"].sum()) == pytest.approx(res_before + 430 * hh)
    # original unchanged
    assert len(demo_area.buildings) == n_b and len(demo_area.streets) == n_s
    assert "plan" not in demo_area.manifest
    # the raster changed only inside the plan's extent (plus one cell)
    diff = after.landcover.classes != demo_area.landcover.classes
    assert diff.sum() == after.manifest["plan"]["effects"]["landcover_cells_changed"] > 0
    rows, cols = np.nonzero(diff)
    xs, ys = after.landcover.transform * (cols + 0.5, rows + 0.5)
    b = plan.features.total_bounds
    r = after.landcover.resolution_m
    assert xs.min() >= b[0] - r and xs.max() <= b[2] + r and ys.min() >= b[1] - r and ys.max() <= b[3] + r


def test_new_streets_are_noded_into_the_network(demo_area):
    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    after = apply_plan(demo_area, plan)
    net = build_network(after.streets)
    assert len(np.unique(component_labels(net))) == 1
    # the new fietsstraat meets the street y=900 at x=1575: a node of degree 3 there
    xy = np.array([X0 + 1575, Y0 + 900])
    node = np.flatnonzero(np.hypot(*(net.node_xy - xy).T) < 0.01)
    assert len(node) == 1
    deg = np.sum(net.edge_u == node[0]) + np.sum(net.edge_v == node[0])
    assert deg == 3
    # the crossing with the existing cycle path (y=1050) is a junction too
    node = np.flatnonzero(np.hypot(*(net.node_xy - np.array([X0 + 1575, Y0 + 1050])).T) < 0.01)
    assert len(node) == 1 and np.sum(net.edge_u == node[0]) + np.sum(net.edge_v == node[0]) == 4


def test_fietsstraat_over_existing_street_changes_tags_and_lowers_lts(demo_area):
    from gezondestad.spatial.cycling import classify_lts

    line = LineString([(X0 + 0, Y0 + 300), (X0 + 450, Y0 + 300)])  # three edges of the 50 km/h Dorpsstraat
    plan = plan_from_frame(_frame([{"feature_type": "street", "cyclestreet": "yes", "name": "Fietsstraat Dorpsstraat", "geometry": line}]), area=demo_area)
    after = apply_plan(demo_area, plan)
    assert after.manifest["plan"]["effects"]["street_edges_changed"] == 3
    assert after.manifest["plan"]["effects"]["street_length_added_m"] == 0
    s0, s1 = demo_area.streets, after.streets
    on0 = s0.geometry.within(line.buffer(0.5)).to_numpy()
    on1 = s1.geometry.within(line.buffer(0.5)).to_numpy()
    assert on0.sum() == on1.sum() == 3
    assert (s1.loc[on1, "cyclestreet"] == "yes").all()
    assert (s1.loc[on1, "maxspeed"] == "30").all()  # fietsstraat default, Wegcode art. 22novies
    assert (s1.loc[on1, "name"] == "Dorpsstraat").all()  # existing name kept
    lts0 = classify_lts(s0)["lts"].to_numpy()[on0]
    lts1 = classify_lts(s1)["lts"].to_numpy()[on1]
    assert (lts0 == 3).all() and (lts1 < lts0).all()


def test_demolition_removes_buildings_and_streets(demo_area):
    b = demo_area.buildings.iloc[0].geometry
    demo = b.buffer(1.0)
    plan = plan_from_frame(_frame([{"feature_type": "demolition", "geometry": demo}]), area=demo_area)
    after = apply_plan(demo_area, plan)
    assert len(after.buildings) == len(demo_area.buildings) - 1
    eff = after.manifest["plan"]["effects"]
    assert eff["buildings_removed"] == 1
    assert eff["residents_removed"] == pytest.approx(float(demo_area.buildings.iloc[0]["residents"]), abs=0.01)


def test_plan_outside_study_area_is_refused(demo_area):
    far = box(X0 + 50_000, Y0, X0 + 50_100, Y0 + 100)
    with pytest.raises(PlanError, match="buiten het studiegebied"):
        plan_from_frame(_frame([{"feature_type": "green", "geometry": far}]), area=demo_area)
    # apply_plan checks too
    plan = plan_from_frame(_frame([{"feature_type": "green", "geometry": far}]))
    with pytest.raises(PlanError, match="buiten het studiegebied"):
        apply_plan(demo_area, plan)


def test_unknown_feature_type_lists_allowed_values(demo_area):
    g = box(X0 + 1400, Y0 + 950, X0 + 1450, Y0 + 1000)
    with pytest.raises(PlanError) as e:
        plan_from_frame(_frame([{"feature_type": "skatepark", "geometry": g}]), area=demo_area)
    msg = str(e.value)
    assert "'skatepark'" in msg and all(t in msg for t in FEATURE_TYPES)
    with pytest.raises(PlanError, match="geen kolom 'feature_type'"):
        plan_from_frame(_frame([{"kind": "park", "geometry": g}]))


def test_wrong_geometry_and_values_are_refused(demo_area):
    line = LineString([(X0 + 1400, Y0 + 950), (X0 + 1450, Y0 + 1000)])
    with pytest.raises(PlanError, match="een building moet een vlak"):
        plan_from_frame(_frame([{"feature_type": "building", "geometry": line}]))
    g = box(X0 + 1400, Y0 + 950, X0 + 1450, Y0 + 1000)
    with pytest.raises(PlanError, match="dwellings"):
        plan_from_frame(_frame([{"feature_type": "building", "dwellings": -3, "geometry": g}]))
    with pytest.raises(PlanError, match="public"):
        plan_from_frame(_frame([{"feature_type": "green", "public": "misschien", "geometry": g}]))


def test_self_intersecting_polygon_is_repaired_and_counted(tmp_path: Path, demo_area):
    x, y = X0 + 1400, Y0 + 950
    bowtie = [[x, y], [x + 100, y + 100], [x + 100, y], [x, y + 100], [x, y]]
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}},
        "features": [{"type": "Feature", "properties": {"feature_type": "green", "public": True}, "geometry": {"type": "Polygon", "coordinates": [bowtie]}}],
    }
    p = tmp_path / "bowtie.geojson"
    p.write_text(json.dumps(fc))
    plan = read_plan(p, area=demo_area)
    assert plan.repairs.get("invalid_repaired") == 1
    assert shapely.is_valid(plan.features.geometry.iloc[0])
    assert plan.features.geometry.iloc[0].area == pytest.approx(5000.0)  # two triangles of 50 x 100 / 2 ... = 2 x 2500


def test_broken_geometry_gives_clear_error(tmp_path: Path, demo_area):
    x, y = X0 + 1400, Y0 + 950
    fc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::31370"}},
        "features": [{"type": "Feature", "properties": {"feature_type": "building"}, "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 10, y]]]}}],
    }
    p = tmp_path / "broken.geojson"
    p.write_text(json.dumps(fc))
    with pytest.raises(PlanError) as e:
        read_plan(p, area=demo_area)
    assert "broken.geojson" in str(e.value)


def test_missing_crs_is_refused(tmp_path: Path):
    g = gpd.GeoDataFrame({"feature_type": ["green"]}, geometry=[box(X0 + 1400, Y0 + 950, X0 + 1450, Y0 + 1000)], crs=None)
    p = tmp_path / "nocrs.gpkg"
    g.to_file(p, driver="GPKG")
    with pytest.raises(PlanError, match="coordinate reference system"):
        read_plan(p)


def test_plan_in_wgs84_is_reprojected(tmp_path: Path, demo_area):
    g = _frame([{"feature_type": "green", "public": True, "geometry": box(X0 + 1400, Y0 + 950, X0 + 1450, Y0 + 1000)}]).to_crs("EPSG:4326")
    p = tmp_path / "wgs.geojson"
    g.to_file(p, driver="GeoJSON")
    plan = read_plan(p, area=demo_area)
    assert plan.features.crs.to_epsg() == 31370
    assert plan.features.geometry.iloc[0].area == pytest.approx(2500.0, rel=1e-3)


def test_too_many_features_is_refused():
    n = int(load_norms("screening")["plan_max_features"].value) + 1
    pts = shapely.points(np.c_[np.full(n, X0), np.full(n, Y0)])
    g = gpd.GeoDataFrame({"feature_type": ["green"] * n}, geometry=pts, crs=CRS)
    with pytest.raises(PlanError, match="meer dan de"):
        plan_from_frame(g)


def test_geopackage_plan_and_path_defaults(tmp_path: Path, demo_area):
    from gezondestad.screening.plan import plan_streets

    p = tmp_path / "plan.gpkg"
    example_plan_frame().to_file(p, driver="GPKG", layer="plan")
    plan = read_plan(p, area=demo_area)
    assert plan.name == PLAN_NAME and len(plan.features) == 15
    st = plan_streets(plan).set_index("name")
    assert st.loc["Tuinpad", "highway"] == "footway"  # mode walk
    assert st.loc["Parkpad", "highway"] == "path"  # mode bike+walk
    assert st.loc["Parkpad", "foot"] == "designated" and st.loc["Parkpad", "bicycle"] == "designated"
    assert st.loc["Fietsstraat Stationsveld", "cyclestreet"] == "yes"
    after = apply_plan(demo_area, plan)
    s = after.streets
    line = plan.features.loc[plan.features["name"] == "Parkpad"].geometry.iloc[0]
    on = s.geometry.within(line.buffer(0.5)).to_numpy()
    assert s.loc[on, "length_m"].sum() == pytest.approx(line.length)
    assert (s.loc[on, "highway"] == "path").all() and (s.loc[on, "name"] == "Parkpad").all()


def test_trees_paving_regimes_and_closures_are_applied(demo_area):
    from gezondestad.model import landcover as lcm
    from gezondestad.screening.plan import apply_plan, plan_from_frame

    row = LineString([(X0 + 1400, Y0 + 980), (X0 + 1600, Y0 + 980)])  # tree row on the brownfield, crown 10 m
    park = demo_area.green[demo_area.green["name"] == "Pleintje Kapelstraat"].geometry.iloc[0]
    plan = plan_from_frame(_frame([
        {"feature_type": "trees", "crown_m": 10, "geometry": row},
        {"feature_type": "paving", "geometry": park},
        {"feature_type": "street", "regime": "fietsstraat", "geometry": LineString([(X0 + 0, Y0 + 1200), (X0 + 150, Y0 + 1200)])},
        {"feature_type": "closure", "geometry": LineString([(X0 + 150, Y0 + 1200), (X0 + 300, Y0 + 1200)])},
        {"feature_type": "noise_barrier", "height": 3, "geometry": LineString([(X0 + 0, Y0 + 15), (X0 + 300, Y0 + 15)])},
    ]), area=demo_area)
    after = apply_plan(demo_area, plan)
    eff = after.manifest["plan"]["effects"]
    assert eff["tree_canopy_added_m2"] == pytest.approx(200 * 10 + np.pi * 25, rel=0.01)
    assert eff["noise_barrier_m"] == pytest.approx(300.0)
    lc = after.landcover
    col, row_ = ~lc.transform * (X0 + 1500, Y0 + 980)
    assert lc.classes[int(row_), int(col)] == lcm.TREES
    col, row_ = ~lc.transform * (X0 + 192, Y0 + 942)  # centre of the paved pocket park
    assert lc.classes[int(row_), int(col)] == lcm.PAVED
    # the paved square removes the pocket park from the green theme and paves its cells
    assert not (after.green["name"] == "Pleintje Kapelstraat").any()
    s = after.streets
    mid = shapely.line_interpolate_point(np.asarray(s.geometry.values, dtype=object), 0.5, normalized=True)
    a = s[shapely.dwithin(mid, shapely.Point(X0 + 75, Y0 + 1200), 1.0)]
    b = s[shapely.dwithin(mid, shapely.Point(X0 + 225, Y0 + 1200), 1.0)]
    assert (a["cyclestreet"] == "yes").all() and (a["maxspeed"] == "30").all() and len(a) == 1
    assert (b["motor_vehicle"] == "no").all() and len(b) == 1  # closed to cars, still there
    assert eff["street_length_added_m"] == 0
