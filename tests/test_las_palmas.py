"""Las Palmas de Gran Canaria end to end: its own metric CRS (UTM 28N), every layer, GTFS service.

The real extract lives in ``../shared/data/las_palmas`` (see its PROVENANCE.md); the study area is
prepared once per module from ``tests/real/las_palmas.toml`` (OSM .pbf + 29 school catchments as
wijken + the Guaguas GTFS feed), about 20 s.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from gezondestad.layers.gtfs import active_services, read_gtfs
from gezondestad.layers.studyarea import MANIFEST_NAME, load_study_area, save_study_area
from gezondestad.model.studyarea import DEFAULT_CRS, local_metric_crs
from pyproj import Geod
from scipy.sparse import csgraph

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data" / "las_palmas"
TOML = ROOT / "real" / "las_palmas.toml"
GTFS = DATA / "gtfs_guaguas_20230222.zip"
needs_data = pytest.mark.skipif(not (DATA / "las_palmas_osm_20230221.osm.pbf").is_file(), reason=f"Las Palmas data not found in {DATA} (shared data set absent)")
GEOD = Geod(ellps="WGS84")


# --------------------------------------------------------------------------------------------
# without the data: CRS choice and old caches
# --------------------------------------------------------------------------------------------


def test_local_metric_crs():
    assert local_metric_crs(4.48, 51.03) == DEFAULT_CRS  # Mechelen: Lambert 72
    assert local_metric_crs(-15.43, 28.10) == "EPSG:32628"  # Las Palmas: UTM 28N
    assert local_metric_crs(-58.4, -34.6) == "EPSG:32721"  # Buenos Aires: UTM 21S


def test_old_cache_without_crs_loads_as_lambert72(tmp_path):
    from gezondestad.layers.demo import build_demo_area

    d = save_study_area(build_demo_area(), tmp_path / "D")
    m = json.loads((d / MANIFEST_NAME).read_text(encoding="utf-8"))
    m.pop("crs")
    (d / MANIFEST_NAME).write_text(json.dumps(m), encoding="utf-8")
    a = load_study_area(d)
    assert a.crs == "EPSG:31370" and a.landcover.crs == "EPSG:31370"
    assert a.streets.crs.to_epsg() == 31370


# --------------------------------------------------------------------------------------------
# the real city
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lp(tmp_path_factory):
    if not (DATA / "las_palmas_osm_20230221.osm.pbf").is_file():
        pytest.skip(f"Las Palmas data not found in {DATA}")
    from gezondestad.layers.prepare import prepare_to_dir

    d = prepare_to_dir(tmp_path_factory.mktemp("lp") / "L", sources_toml=TOML)
    return load_study_area(d)  # through the cache, as a user would


@pytest.fixture(scope="module")
def lp_ind(lp):
    from gezondestad.spatial.indicators import network_indicators

    return network_indicators(lp)


@needs_data
def test_area_is_in_utm28n_everywhere(lp):
    assert lp.crs == "EPSG:32628"
    assert lp.manifest["crs"] == "EPSG:32628"
    assert lp.landcover.crs == "EPSG:32628"
    for t, g in lp.themes.items():
        assert g.crs.to_epsg() == 32628, t
    assert lp.manifest["gtfs"]["day"] == "2023-02-22"


@needs_data
def test_areas_match_utm28n_and_the_ellipsoid(lp):
    raw = gpd.read_file(DATA / "school_catchments.geojson")
    utm = shapely.union_all(raw.to_crs(32628).geometry.values).area
    assert lp.boundary.area.sum() == pytest.approx(utm, rel=1e-3)
    # and against the true (ellipsoidal) area of the municipality: within 0.1 % (UTM scale 0.9996)
    muni = gpd.read_file(DATA / "las_palmas_municipality.geojson")
    true_m2 = abs(sum(GEOD.geometry_area_perimeter(g)[0] for g in muni.geometry))
    here = muni.to_crs(lp.crs).area.sum()
    assert here == pytest.approx(true_m2, rel=1e-3)
    assert 100e6 < here < 106e6  # 103 km² (IGN)
    # what the old fixed Lambert 72 gave: +14 % (the bug this CRS fixes)
    assert muni.to_crs(31370).area.sum() / true_m2 > 1.10


def _path_edges(net, a: int, b: int) -> np.ndarray:
    _, pred = csgraph.dijkstra(net.matrix(), directed=False, indices=a, return_predecessors=True)
    nodes = [b]
    while nodes[-1] != a:
        nodes.append(int(pred[nodes[-1]]))
    eu, ev = np.minimum(net.edge_u, net.edge_v), np.maximum(net.edge_u, net.edge_v)
    out = []
    for x, y in zip(nodes[:-1], nodes[1:]):
        idx = np.flatnonzero((eu == min(x, y)) & (ev == max(x, y)))
        out.append(idx[np.argmin(net.edge_length_m[idx])])
    return np.asarray(out)


@needs_data
def test_network_distance_matches_the_ellipsoid(lp):
    from gezondestad.spatial.network import build_network
    from gezondestad.spatial.profiles import walkable_mask

    net = build_network(lp.streets, walkable_mask(lp.streets))
    g = lp.green
    ends = []
    for name in ("Parque Santa Catalina", "Parque Doramas"):
        c = g[g["name"] == name].geometry.iloc[0].centroid
        ends.append(int(np.argmin(np.hypot(net.node_xy[:, 0] - c.x, net.node_xy[:, 1] - c.y))))
    dist = csgraph.dijkstra(net.matrix(), directed=False, indices=ends[0])[ends[1]]
    assert 2000 < dist < 3500  # the two parks are 2.2 km apart as the crow flies
    edges = _path_edges(net, *ends)
    assert net.edge_length_m[edges].sum() == pytest.approx(dist, rel=1e-9)
    lines = gpd.GeoSeries(net.edge_geometry[edges], crs=lp.crs)
    true_m = sum(GEOD.geometry_length(line) for line in lines.to_crs(4326))
    assert dist == pytest.approx(true_m, rel=1e-3)
    assert lines.to_crs(31370).length.sum() / true_m > 1.05  # Lambert 72 there: +7 %


@needs_data
def test_network_and_buildings_invariants(lp, lp_ind):
    from gezondestad.spatial.network import build_network, largest_component_share
    from gezondestad.spatial.profiles import walkable_mask

    # a city's footway/street network is one piece apart from private estates and harbour
    # piers: measured 97.4 % of the walkable length in one component
    assert largest_component_share(build_network(lp.streets, walkable_mask(lp.streets))) > 0.95
    b = lp.buildings
    res = pd.to_numeric(b["residents"], errors="coerce").fillna(0.0)
    # 22,232 OSM buildings inside the catchments; most are homes or mixed use (21,156 with residents)
    assert 20_000 < (res > 0).sum() <= len(b)
    # estimated from footprint x levels: below the 378,517 inhabitants of 2022 (INE), since many
    # OSM buildings have no building:levels, but of the right order
    assert 150_000 < res.sum() < 378_517
    assert len(lp_ind.homes) == (res > 0).sum()


@needs_data
def test_known_parks_are_reachable(lp_ind):
    sp = lp_ind.green_spaces
    for name in ("Parque Santa Catalina", "Parque Doramas", "Parque de San Telmo"):
        hit = sp[sp["name"].fillna("").str.contains(name)]
        assert len(hit) and hit["reachable"].astype(bool).all(), name
    # homes next to Parque Santa Catalina (Mesa y López / Santa Catalina) reach green within 300 m
    per = lp_ind.per_wijk.set_index("wijk_naam")
    assert per.loc["IES ALONSO QUESADA", "green_300m_05ha_share"] > 0.5


@needs_data
def test_route_1_frequencies(lp):
    """Guaguas line 1 (Teatro - Puerto) runs about every 10-12 min on weekdays; every stop it
    serves has at least line 1's departures per hour."""
    feed = read_gtfs(GTFS)
    on = active_services(feed, dt.date(2023, 2, 22))
    trips = feed["trips"]
    t1 = set(trips.loc[(trips["route_id"] == "1") & trips["service_id"].isin(on), "trip_id"])
    st = feed["stop_times"]
    st = st[st["trip_id"].isin(t1)].copy()
    st["seq"] = pd.to_numeric(st["stop_sequence"])
    st = st[st["seq"] < st.groupby("trip_id")["seq"].transform("max")]  # the last stop has no departure
    h = pd.to_numeric(st["departure_time"].str[:2])
    per_stop = st[(h >= 7) & (h < 19)].groupby("stop_id").size() / 12.0
    assert 4.0 <= per_stop["1001"] <= 8.0  # Teatro, first stop towards Puerto
    pois = lp.pois
    ids = pois["gtfs_stop_ids"].fillna("").str.split(",")
    dph = pd.to_numeric(pois["departures_per_hour"], errors="coerce")
    checked = 0
    for stop_id, f in per_stop.items():
        rows = [i for i, s in zip(pois.index, ids) if stop_id in s]
        if rows:  # stops outside the catchments are not in the study area
            assert dph[rows[0]] >= f - 1e-9, stop_id
            checked += 1
    assert checked > 0.8 * len(per_stop)


@needs_data
def test_o_with_service_rule_and_notes(lp, lp_ind):
    from gezondestad.spatial.indicators import build_networks, network_indicators

    assert any("Vlaamse normen toegepast" in n for n in lp_ind.notes)
    assert any(n.startswith("O telt alleen bus- en tramhaltes met minstens 2 vertrekken") for n in lp_ind.notes)
    # without the feed every stop counts: O can only go up, and the note says so
    bare = lp.copy()
    bare.themes["pois"] = bare.pois.drop(columns=["departures_per_hour"])
    r = network_indicators(bare, homes=lp_ind.homes[["home_id", "building_id", "residents", "estimated", "wijk_code", "wijk_naam", "geometry"]], networks=build_networks(lp.streets))
    o_feed = lp_ind.per_wijk.set_index("wijk_code")["stop_o"]
    o_bare = r.per_wijk.set_index("wijk_code")["stop_o"]
    assert (o_bare >= o_feed - 1e-9).all()
    assert (o_bare > o_feed + 1e-9).any()
    assert any(n.startswith("Geen dienstregeling (GTFS)") for n in r.notes)
