"""Noise layer: a hand-computed single source, the fast path against the formulas, directions, judgement."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from gezondestad.layers.osm_tags import finalize_streets, node_at_intersections
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial import cnossos
from gezondestad.spatial.noise import (
    LineEmission,
    NoiseParams,
    _sources,
    build_obstacles,
    facade_points,
    judge,
    noise_at_receivers,
    noise_exposure,
    plan_noise,
    point_sources,
    rail_emission,
    road_emission,
)
from gezondestad.spatial.traffic import TrafficParams, traffic_per_segment
from shapely.geometry import LineString, Point, box

P = NoiseParams.from_norms()


def _area(maxspeed: str = "50", with_block: bool = False, rail: bool = False) -> StudyArea:
    streets = gpd.GeoDataFrame(
        [{"geometry": LineString([(0, 0), (400, 0)]), "highway": "primary", "maxspeed": maxspeed},
         {"geometry": LineString([(200, 0), (200, 200)]), "highway": "footway"}],
        crs=CRS,
    )
    b = [box(180, 20, 190, 30), box(180, 120, 190, 130)]  # a home near the road and one far from it
    lv = [2, 2]
    if with_block:
        b.append(box(-40, 60, 440, 75))  # a long 4-storey block between them
        lv.append(4)
    buildings = gpd.GeoDataFrame({"building_id": np.arange(len(b)), "levels": lv, "use": "residential", "residents": 2.0}, geometry=b, crs=CRS)
    wijken = gpd.GeoDataFrame({"wijk_code": ["W1"], "wijk_naam": ["Wijk"], "residents": [4.0]}, geometry=[box(-50, -50, 450, 250)], crs=CRS)
    pois = gpd.GeoDataFrame({"poi_id": [0], "category": ["school"], "name": ["School"]}, geometry=[Point(300, 8)], crs=CRS)
    themes = {"streets": finalize_streets(node_at_intersections(streets)), "buildings": buildings, "wijken": wijken, "pois": pois,
              "boundary": gpd.GeoDataFrame({"name": ["t"]}, geometry=[box(-50, -50, 450, 250)], crs=CRS)}
    if rail:
        themes["landuse"] = gpd.GeoDataFrame({"landuse_id": [0], "kind": ["railway"]}, geometry=[box(0, 140, 400, 150)], crs=CRS)
    return StudyArea(name="t", themes=themes)


def _one_point_source(lw_db: float = 90.0, length_m: float = 1.0) -> LineEmission:
    lw = np.full((1, 3, 8), lw_db)
    return LineEmission("road", np.array([LineString([(0, 0), (length_m, 0)])], dtype=object), lw, 0.05, 0.0, np.arange(1))


def test_single_point_source_hand_computed():
    """One 1 m source, no obstacles (G = 0.5 everywhere): the exact CNOSSOS sum by hand."""
    src = point_sources(_one_point_source(90.0, 1.0), P)
    assert len(src.xy) == 1
    rx = np.array([[0.5, 50.0]])
    lv = noise_at_receivers(rx, [src], None, P, fast=False)
    alpha = cnossos.alpha_atm_db_per_km(P.annual_mean_temperature_c, P.relative_humidity_pct)
    ah, af = cnossos.attenuation(np.array([50.0]), np.array([0.05]), np.array([4.0]), np.array([0.5]), alpha, 0.0)
    aw = P.a_weight
    for k, q in enumerate(("day", "evening", "night")):
        pf = P.favourable[k]
        e = np.sum(10 ** ((90.0 + aw) / 10) * (pf * 10 ** (-af[0] / 10) + (1 - pf) * 10 ** (-ah[0] / 10)))
        assert lv[f"l{q}_road_db"].iloc[0] == pytest.approx(10 * np.log10(e), abs=1e-9)
    # Lden = Lday when the day level is 5 dB above... here all periods share the same power: check the formula
    d, ev, n = (lv[f"l{q}_road_db"].iloc[0] for q in ("day", "evening", "night"))
    assert lv["lden_road_db"].iloc[0] == pytest.approx(10 * np.log10((12 * 10 ** (d / 10) + 4 * 10 ** ((ev + 5) / 10) + 8 * 10 ** ((n + 10) / 10)) / 24))
    assert np.isneginf(lv["lden_rail_db"].iloc[0])


def test_fast_path_matches_formulas_with_buildings():
    a = _area(with_block=True)
    t = traffic_per_segment(a)
    src = [point_sources(road_emission(t, P), P)]
    obst = build_obstacles(a, (-50, -50, 450, 250), P)
    rx = np.array([[185, 35], [185, 110], [195, 140], [320, 90], [50, 200]], dtype=float)
    fast = noise_at_receivers(rx, src, obst, P)
    exact = noise_at_receivers(rx, src, obst, P, fast=False)
    np.testing.assert_allclose(fast["lden_db"], exact["lden_db"], atol=0.05)
    np.testing.assert_allclose(fast["lnight_db"], exact["lnight_db"], atol=0.05)


def test_directions_closer_louder_barrier_lowers_faster_louder():
    a = _area()
    t = traffic_per_segment(a)
    src = [point_sources(road_emission(t, P), P)]
    obst = build_obstacles(a, (-50, -50, 450, 250), P)
    rx = np.array([[185, 20], [185, 100], [185, 200]], dtype=float)
    lv = noise_at_receivers(rx, src, obst, P)["lden_db"].to_numpy()
    assert lv[0] > lv[1] > lv[2]
    ab = _area(with_block=True)
    ob2 = build_obstacles(ab, (-50, -50, 450, 250), P)
    lb = noise_at_receivers(rx, src, ob2, P)["lden_db"].to_numpy()
    assert lb[1] < lv[1] - 5.0  # behind the 12 m high block
    assert lb[0] == pytest.approx(lv[0], abs=0.5)  # in front of it: (almost) unchanged
    t70 = traffic_per_segment(_area("70"))
    t30 = traffic_per_segment(_area("30"))
    l70 = noise_at_receivers(rx[:1], [point_sources(road_emission(t70, P), P)], obst, P)["lden_db"].iloc[0]
    l30 = noise_at_receivers(rx[:1], [point_sources(road_emission(t30, P), P)], obst, P)["lden_db"].iloc[0]
    assert l70 > l30 + 3.0


def test_judgement_who_classes_and_curves():
    lv = pd.DataFrame({"lden_road_db": [60.0, 50.0], "lnight_road_db": [50.0, 40.0], "lden_rail_db": [-np.inf, 56.0],
                       "lnight_rail_db": [-np.inf, 46.0]})
    lv["lden_db"] = 10 * np.log10(10 ** (lv["lden_road_db"] / 10) + 10 ** (lv["lden_rail_db"] / 10))
    lv["lnight_db"] = 10 * np.log10(10 ** (lv["lnight_road_db"] / 10) + 10 ** (lv["lnight_rail_db"] / 10))
    j = judge(lv, P)
    assert j["above_who_lden"].tolist() == [True, True]  # road 60 > 53; rail 56 > 54
    assert j["above_who_lnight"].tolist() == [True, True]  # road 50 > 45; rail 46 > 44
    assert j["lden_class"].iloc[0] == "60-64"
    # WHO 2018 road curve (Guski et al. 2017): %HA = 78.9270 - 3.1162 L + 0.0342 L^2 at 60 dB
    assert j["highly_annoyed_share"].iloc[0] == pytest.approx((78.9270 - 3.1162 * 60 + 0.0342 * 3600) / 100)
    assert j["highly_sleep_disturbed_share"].iloc[0] == pytest.approx((19.4312 - 0.9336 * 50 + 0.0126 * 2500) / 100)


def test_noise_exposure_homes_destinations_wijk_and_rail():
    a = _area(rail=True)
    r = noise_exposure(a, with_grid=True)
    h = r.homes.set_index("building_id")
    assert h.loc[0, "lden_road_db"] > h.loc[1, "lden_road_db"] + 5  # the home 20 m from the road gets more road noise
    assert h.loc[1, "lden_rail_db"] > h.loc[0, "lden_rail_db"]  # and the other is nearer to the railway
    # most exposed facade of the road-side home lies on its road side (y = 20 - offset)
    assert h.loc[0, "facade_y"] == pytest.approx(20 - P.facade_offset_m, abs=0.01)
    assert len(r.destinations) == 1 and r.destinations["lden_db"].iloc[0] > 65
    w = r.per_wijk.iloc[0]
    assert w["residents"] == 4.0
    assert sum(w[c] for c in r.per_wijk.columns if c.startswith("residents_lden_")) == pytest.approx(4.0)
    assert w["destinations"] == 1
    assert r.grid is not None and r.cells["lden_db"].shape == r.grid.shape
    assert np.nanmax(r.cells["lden_db"]) > 70
    assert any("spoorweggebied" in n for n in r.notes)
    assert ("noise", "who_road_lden_db") in r.norms_used


def test_local_recompute_equals_full_near_the_change():
    a = _area(with_block=True)
    full = noise_exposure(a, with_grid=False)
    b = a.copy()
    b.themes["buildings"] = b.buildings[b.buildings["building_id"] != 2].reset_index(drop=True)  # demolish the block
    loc = noise_exposure(b, with_grid=False, recompute_within=box(-40, 60, 440, 75), previous=full)
    ref = noise_exposure(b, with_grid=False)
    np.testing.assert_allclose(loc.homes["lden_db"], ref.homes["lden_db"], atol=1e-9)
    assert loc.homes.set_index("building_id").loc[1, "lden_db"] > full.homes.set_index("building_id").loc[1, "lden_db"] + 5


def test_rail_emission_scales_with_trains():
    rw = gpd.GeoDataFrame({"kind": ["rail"]}, geometry=[LineString([(0, 0), (100, 0)])], crs=CRS)
    e1 = rail_emission(rw, P).lw_a_db(P)[0, 0]
    rw2 = rw.assign(trains_per_day=2 * P.rail_trains_per_day)
    assert rail_emission(rw2, P).lw_a_db(P)[0, 0] == pytest.approx(e1 + 10 * np.log10(2))


def test_plan_noise_speed_up_raises_levels_near_the_road_only():
    from gezondestad.spatial.noise import plan_noise

    a = _area("50")
    b = a.copy()
    b.themes["streets"].loc[b.streets["highway"] == "primary", "maxspeed"] = "70"
    before, after, change = plan_noise(a, b)
    assert (change["lden_change_db"] > 1.0).all()  # every home hears the faster road
    assert not change["new_home"].any()
    # same plan, no change -> no difference
    _, same, ch0 = plan_noise(a, a.copy(), before_result=before)
    np.testing.assert_allclose(ch0["lden_change_db"], 0.0, atol=1e-9)


def test_no_sources_is_a_dutch_error():
    from gezondestad.spatial.noise import NoiseError

    a = StudyArea(name="leeg", themes={"wijken": gpd.GeoDataFrame({"wijk_code": ["W"], "wijk_naam": ["W"]}, geometry=[box(0, 0, 10, 10)], crs=CRS)})
    with pytest.raises(NoiseError, match="geen geluidsbron"):
        noise_exposure(a)


def test_new_kleuterschool_building_is_a_sensitive_destination():
    a = _area()
    b = a.buildings
    new = gpd.GeoDataFrame({"building_id": [99], "levels": [1], "use": ["kleuterschool"], "residents": [0.0]}, geometry=[box(320, 8, 340, 20)], crs=CRS)
    a.themes["buildings"] = gpd.GeoDataFrame(pd.concat([b, new], ignore_index=True), crs=CRS)
    r = noise_exposure(a, with_grid=False)
    d = r.destinations
    k = d[d["category"] == "kleuterschool"]
    assert len(k) == 1 and k["lden_db"].iloc[0] > P.who_road_lden_db and bool(k["above_who_lden"].iloc[0])


def test_family_result_view():
    r = noise_exposure(_area(), with_grid=True)
    f = r.as_family_result()
    assert f.family == "noise" and "lden_db" in f.homes.columns and "lden_db" in f.cells
    assert "length_m" in f.segments.columns and len(f.layers["destinations"]) == 1


def _official(tmp_path, value: float, crs: str = "EPSG:3857", shift: float = 0.0):
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_bounds

    tr = Transformer.from_crs(CRS, crs, always_xy=True)
    x0, y0 = tr.transform(-100 + shift, -100)
    x1, y1 = tr.transform(500 + shift, 300)
    path = tmp_path / f"official_{value}_{shift}.tif"
    with rasterio.open(path, "w", driver="GTiff", height=20, width=20, count=1, dtype="float32", crs=crs,
                       transform=from_bounds(x0, y0, x1, y1, 20, 20), nodata=-1) as dst:
        dst.write(np.full((1, 20, 20), value, dtype="float32"))
    return path


def test_official_map_baseline_in_other_crs_and_bad_maps(tmp_path):
    from gezondestad.spatial.noise import NoiseError, plan_noise

    a = _area("50")
    good = _official(tmp_path, 61.0)
    b = a.copy()
    b.themes["streets"].loc[b.streets["highway"] == "primary", "maxspeed"] = "70"
    before, after, ch = plan_noise(a, b, official_lden=good)
    assert np.allclose(before.homes["lden_official_db"], 61.0)
    np.testing.assert_allclose(ch["lden_official_after_db"], 61.0 + ch["lden_change_db"])
    assert any("officiële kaart" in n for n in before.notes)
    with pytest.raises(NoiseError, match="overlapt niet"):
        noise_exposure(a, with_grid=False, official_lden=_official(tmp_path, 60.0, shift=50_000))
    with pytest.raises(NoiseError, match="dB"):
        noise_exposure(a, with_grid=False, official_lden=_official(tmp_path, 500.0))


def _two_streets(speed_a: str) -> StudyArea:
    """A building (x 140-160, y 12-34) 12 m from a tertiary street A (y = 0, 4 000 vehicles/day by
    default) and 4 m from a residential street B (y = 38, 500 vehicles/day, 30 km/h)."""
    streets = gpd.GeoDataFrame(
        [{"geometry": LineString([(0, 0), (300, 0)]), "highway": "tertiary", "maxspeed": speed_a},
         {"geometry": LineString([(0, 38), (300, 38)]), "highway": "residential", "maxspeed": "30"}],
        crs=CRS,
    )
    buildings = gpd.GeoDataFrame({"building_id": [0], "levels": [2], "use": "residential", "residents": 2.0},
                                 geometry=[box(140, 12, 160, 34)], crs=CRS)
    return StudyArea(name="t", themes={"streets": finalize_streets(streets), "buildings": buildings,
                                       "boundary": gpd.GeoDataFrame({"name": ["t"]}, geometry=[box(-20, -60, 320, 100)], crs=CRS)})


def test_facade_candidates_do_not_follow_the_traffic():
    """Street A from 50 to 30 km/h: both facades stay candidates and the level falls, but never by
    more than A's own emission falls (B is unchanged, so every candidate loses at most that)."""
    a, b = _two_streets("50"), _two_streets("30")
    ta, tb = traffic_per_segment(a), traffic_per_segment(b)
    pts = []
    for area, t in ((a, ta), (b, tb)):
        lines, _, _ = _sources(area, t, gpd.GeoDataFrame(geometry=[], crs=CRS), P, TrafficParams.from_norms())
        rows, xy = facade_points(area.buildings, lines, P)
        pts.append(sorted(map(tuple, np.round(xy, 6))))
    assert pts[0] == pts[1]  # the same facade points before and after
    ys = sorted(y for _, y in pts[0])
    assert len(ys) == 2 and ys[0] == pytest.approx(12 - P.facade_offset_m) and ys[1] == pytest.approx(34 + P.facade_offset_m)
    la, lb = road_emission(ta, P).lw_a_db(P), road_emission(tb, P).lw_a_db(P)
    on_a = (ta["highway"] == "tertiary").to_numpy()
    drop = float(np.max(la[on_a] - lb[on_a]))
    assert drop > 1.0  # 30 km/h is quieter
    _, after, change = plan_noise(a, b)
    d = float(change["lden_change_db"].iloc[0])
    assert -drop - 0.05 <= d < -0.5, (d, drop)
    assert after.homes["facade_y"].iloc[0] == pytest.approx(12 - P.facade_offset_m)  # A's side stays the most exposed
