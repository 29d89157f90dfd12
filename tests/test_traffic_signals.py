"""OSM traffic lights (nodes ``highway=traffic_signals``) as POIs of category ``traffic``.

They feed the CNOSSOS-EU junction correction of road noise (:func:`spatial.noise.road_conditions`)
and nothing else: no indicator may count them as a facility or destination. Cases:

- a hand-made OSM XML (read with osmnx, the offline path) with a signal node on a street: the
  segment that starts at it gets the correction, the one starting 150 m further does not;
- the same on frames, with the exact weight (mean of ``1 - x/100`` along the segment);
- the demo town with a traffic light on top of every facility, stop and bench: STOP destinations,
  air and noise sensitive destinations, walk/STOP indicators and accessibility are identical.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from gezondestad.layers.osm import SIGNAL_CATEGORY, area_from_osm_file, map_pois
from gezondestad.model.studyarea import CRS, POI_CATEGORIES, StudyArea, conform_theme
from gezondestad.spatial.accessibility import accessibility_indicators
from gezondestad.spatial.air import sensitive_destinations
from gezondestad.spatial.indicators import network_indicators
from gezondestad.spatial.noise import NoiseParams, road_conditions
from gezondestad.spatial.stop import destination_points
from gezondestad.spatial.traffic import traffic_per_segment
from shapely.geometry import LineString, Point

P = NoiseParams.from_norms()

# A straight street in Mechelen along a parallel (lon step 0.0001 deg ~ 7.0 m here), Lambert 72 later.
# Nodes: 1 (west end) - 2 (traffic light, side street 4 joins) - 3 (~150 m east of 2) - 5 (~300 m east of 2).
LAT = 51.03
DLON_PER_M = 1.0 / (111_320.0 * np.cos(np.radians(LAT)))
NODES = {
    1: (4.47 - 60 * DLON_PER_M, LAT),
    2: (4.47, LAT),
    3: (4.47 + 150 * DLON_PER_M, LAT),
    5: (4.47 + 300 * DLON_PER_M, LAT),
    4: (4.47, LAT + 60 / 111_320.0),
    9: (4.47 - 30 * DLON_PER_M, LAT + 10 / 111_320.0),
}
NODE_TAGS = {2: {"highway": "traffic_signals"}, 9: {"highway": "bus_stop", "name": "Halte"}}
WAYS = [
    (100, [1, 2, 3], {"highway": "secondary", "name": "Steenweg", "maxspeed": "50"}),
    (101, [2, 4], {"highway": "residential", "name": "Zijstraat", "maxspeed": "30"}),
    (102, [3, 5], {"highway": "secondary", "name": "Verderweg", "maxspeed": "50"}),
]
TS = 'version="1" timestamp="2024-03-01T10:00:00Z" changeset="1" uid="1" user="test"'


def _write_xml(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="gezondestad-test">']
    for nid, (lon, lat) in NODES.items():
        tags = NODE_TAGS.get(nid, {})
        lines.append(f'  <node id="{nid}" {TS} lat="{lat:.8f}" lon="{lon:.8f}"' + (">" if tags else "/>"))
        if tags:
            lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()] + ["  </node>"]
    for wid, refs, tags in WAYS:
        lines.append(f'  <way id="{wid}" {TS}>')
        lines += [f'    <nd ref="{r}"/>' for r in refs] + [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()] + ["  </way>"]
    path.write_text("\n".join(lines + ["</osm>"]), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def xml_area(tmp_path_factory: pytest.TempPathFactory) -> StudyArea:
    return area_from_osm_file(_write_xml(tmp_path_factory.mktemp("sig") / "signal.osm"))


def test_signal_node_becomes_a_traffic_poi(xml_area: StudyArea) -> None:
    p = xml_area.pois
    assert sorted(p["category"]) == ["bus_stop", SIGNAL_CATEGORY]
    sig = p[p["category"] == SIGNAL_CATEGORY].iloc[0]
    assert sig["subtype"] == "traffic_signals" and sig["osm_id"] == "2"
    assert SIGNAL_CATEGORY in POI_CATEGORIES
    assert "1 verkeerslichten" in xml_area.manifest["themes"]["pois"]["note"]


def test_signal_node_corrects_the_segment_next_to_it_only(xml_area: StudyArea) -> None:
    st = xml_area.streets
    t = traffic_per_segment(xml_area)
    cond = road_conditions(st, t, P, xml_area.pois)
    name = st["name"].to_numpy()
    x = np.array([g.centroid.x for g in st.geometry])
    west = np.flatnonzero((name == "Steenweg") & (x < x[name == "Zijstraat"][0]))
    east = np.flatnonzero((name == "Steenweg") & (x > x[name == "Zijstraat"][0]))
    far = np.flatnonzero(name == "Verderweg")
    assert len(west) == len(east) == len(far) == 1
    motor = t["aadt"].to_numpy()[[west[0], east[0], far[0]]] > 0
    assert motor.all()
    # 60 m west segment ending at the light: samples at 55, 45, ..., 5 m -> mean of 1 - x/100 = 0.7
    assert cond.junction_type[west[0]] == 1 and cond.junction_weight[west[0]] == pytest.approx(0.7, abs=0.02)
    # ~150 m east segment starting at the light: samples 5..145 m, weight (10 - 5) / 15 = 1/3
    assert cond.junction_type[east[0]] == 1 and cond.junction_weight[east[0]] == pytest.approx(1 / 3, abs=0.02)
    # the segment from ~150 m to ~300 m: nothing
    assert cond.junction_type[far[0]] == 0 and cond.junction_weight[far[0]] == 0.0
    # without the POIs no junction at all (no signal tag on any street edge)
    none = road_conditions(st, t, P, None)
    assert (none.junction_type == 0).all()
    assert any("Geen verkeerslichten" in n for n in none.notes) and not any("Geen verkeerslichten" in n for n in cond.notes)


def _traffic(geoms: list) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"edge_id": np.arange(n), "highway": ["secondary"] * n, "aadt": [8000.0] * n, "heavy_share": [0.05] * n,
                             "speed_kmh": [50.0] * n, "share_day": [0.75] * n, "share_evening": [0.15] * n,
                             "share_night": [0.10] * n}, geometry=geoms, crs=CRS)


def test_signal_poi_weight_exact() -> None:
    """A 100 m segment from the light: mean of 1 - x/100 at x = 5, ..., 95 m = 0.5; a segment 150 m away: none."""
    g = [LineString([(0, 0), (100, 0)]), LineString([(150, 0), (300, 0)]), LineString([(-100, 0), (0, 0)])]
    t = _traffic(g)
    st = gpd.GeoDataFrame({"edge_id": np.arange(3), "highway": ["secondary"] * 3}, geometry=g, crs=CRS)
    pois = conform_theme("pois", gpd.GeoDataFrame({"poi_id": [0, 1], "category": [SIGNAL_CATEGORY, "shop"],
                                                   "subtype": ["traffic_signals", "bakery"]},
                                                  geometry=[Point(0, 0), Point(200, 0)], crs=CRS))
    cond = road_conditions(st, t, P, pois)
    assert cond.junction_weight[0] == pytest.approx(0.5, abs=1e-12) and cond.junction_type[0] == 1
    assert cond.junction_weight[2] == pytest.approx(0.5, abs=1e-12) and cond.junction_type[2] == 1
    assert cond.junction_type[1] == 0 and cond.junction_weight[1] == 0.0


def test_map_pois_keeps_signals_apart_from_stops() -> None:
    """Signal nodes (highway= or crossing=traffic_signals) become lights; a crossing *way* with lights and a plain crossing do not."""
    f = gpd.GeoDataFrame({"highway": ["traffic_signals", "bus_stop", "crossing", "crossing", "footway"],
                          "crossing": [None, None, "unmarked", "traffic_signals", "traffic_signals"],
                          "name": [None, "Halte", None, None, None]},
                         geometry=[Point(4.47, 51.03), Point(4.471, 51.03), Point(4.472, 51.03), Point(4.473, 51.03),
                                   LineString([(4.474, 51.03), (4.474, 51.0301)])], crs=4326)
    p = map_pois(f)
    assert list(p["category"]) == [SIGNAL_CATEGORY, "bus_stop", SIGNAL_CATEGORY]
    assert list(p["subtype"]) == ["traffic_signals", "bus_stop", "traffic_signals"]


# --- signals are no facility -----------------------------------------------------------------------


def _with_signals(area: StudyArea) -> StudyArea:
    """``area`` with a traffic light on top of every POI (the worst case for a category leak)."""
    po = area.pois
    sig = gpd.GeoDataFrame({"poi_id": np.arange(len(po)) + int(po["poi_id"].max()) + 1, "category": SIGNAL_CATEGORY,
                            "subtype": "traffic_signals", "name": None, "wheelchair": "yes"},
                           geometry=po.geometry.values, crs=po.crs)
    themes = dict(area.themes)
    themes["pois"] = conform_theme("pois", gpd.GeoDataFrame(pd.concat([po, sig], ignore_index=True), geometry="geometry", crs=po.crs))
    return StudyArea(name=area.name, themes=themes, landcover=area.landcover, manifest=area.manifest, crs=area.crs)


def test_signals_are_no_destination_on_the_demo(demo_area: StudyArea) -> None:
    sig = _with_signals(demo_area)
    assert len(sig.pois) == 2 * len(demo_area.pois)
    a, b = destination_points(demo_area.pois), destination_points(sig.pois)
    assert len(a) == len(b) and a["dest"].value_counts().equals(b["dest"].value_counts())
    assert len(sensitive_destinations(sig.pois)) == len(sensitive_destinations(demo_area.pois)) > 0
    ni_a, ni_b = network_indicators(demo_area), network_indicators(sig)
    pd.testing.assert_frame_equal(ni_a.per_wijk, ni_b.per_wijk)
    ac_a = accessibility_indicators(demo_area, with_missing_links=False)
    ac_b = accessibility_indicators(sig, with_missing_links=False)
    pd.testing.assert_frame_equal(ac_a.per_wijk, ac_b.per_wijk)
    # ... but the noise junction correction does see them
    t = traffic_per_segment(demo_area)
    assert (road_conditions(sig.streets, t, P, sig.pois).junction_type == 1).sum() > (road_conditions(demo_area.streets, t, P, demo_area.pois).junction_type == 1).sum()
