"""The synthetic demo area: deterministic, complete, and round-trips through the cache."""

import json

import numpy as np
from gezondestad.layers.demo import build_demo_area
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.landcover import BARE, BUILDING, LOW_GREEN, PAVED, TREES, WATER
from gezondestad.model.studyarea import VECTOR_THEMES
from gezondestad.spatial.network import build_network, largest_component_share


def test_demo_has_every_theme_and_is_marked_synthetic(demo_area, demo_dir):
    for t in VECTOR_THEMES:
        assert demo_area.has(t), t
    m = json.loads((demo_dir / "manifest.json").read_text())
    assert m["synthetic"] is True
    assert m["crs"] == "EPSG:31370"
    assert demo_area.streets.crs.to_epsg() == 31370


def test_demo_holds_the_cases_the_indicators_need(demo_area):
    s = demo_area.streets
    assert (s["cyclestreet"] == "yes").any()
    assert (s["highway"] == "steps").any()
    assert (s["incline"] == "10%").any()
    assert set(s["kerb"].dropna()) >= {"raised", "lowered"}
    assert (demo_area.pois["category"] == "bus_stop").sum() >= 10
    areas = demo_area.green.loc[demo_area.green["public"].astype(bool), "area_m2"]
    assert areas.min() < 5000 and areas.max() > 100000
    assert (demo_area.landuse["kind"] == "brownfield").any()
    assert "Demerdijle" in set(demo_area.water["name"])


def test_demo_is_deterministic():
    a, b = build_demo_area(), build_demo_area()
    assert a.buildings.geometry.equals(b.buildings.geometry)
    assert np.array_equal(a.landcover.classes, b.landcover.classes)


def test_demo_network_is_connected_and_landcover_has_all_classes(demo_area):
    net = build_network(demo_area.streets)
    assert largest_component_share(net) > 0.99
    present = set(np.unique(demo_area.landcover.classes))
    assert {BUILDING, PAVED, LOW_GREEN, TREES, WATER, BARE} <= present


def test_cache_round_trip_keeps_counts(demo_area, demo_dir):
    again = load_study_area(demo_dir)
    for t in VECTOR_THEMES:
        assert len(again.themes[t]) == len(demo_area.themes[t])
    assert again.wijken["residents"].sum() == demo_area.wijken["residents"].sum()


def test_cache_prefers_parquet_and_falls_back_to_an_edited_geopackage(demo_area, tmp_path):
    import os
    import time

    import pyogrio
    from gezondestad.layers.studyarea import GPKG_NAME, PARQUET_DIR, save_study_area

    d = save_study_area(demo_area, tmp_path / "a")
    assert (d / PARQUET_DIR / "streets.parquet").is_file()
    # a GIS user deletes half the wijken in QGIS after saving: the GeoPackage must win
    w = pyogrio.read_dataframe(d / GPKG_NAME, layer="wijken").iloc[:2]
    pyogrio.write_dataframe(w, d / GPKG_NAME, layer="wijken", driver="GPKG")
    later = time.time() + 5
    os.utime(d / GPKG_NAME, (later, later))
    assert len(load_study_area(d).wijken) == 2
