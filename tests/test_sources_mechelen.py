"""gezondestad.layers.sources: city GIS files through a sources TOML; the real Mechelen example (tests/real/mechelen.toml)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from gezondestad.layers.sources import SourcesError, area_from_sources, load_sources
from gezondestad.layers.validate import InputError
from shapely.geometry import LineString, Point, box

MECHELEN_TOML = Path(__file__).resolve().parent / "real" / "mechelen.toml"


# --- small hand-made sources -------------------------------------------------------------------


@pytest.fixture()
def mini(tmp_path):
    """Two 1 km wijken, a street grid, two points (bus stop inside, one outside) and a park."""
    w = gpd.GeoDataFrame(
        {"CODE": ["A", "B"], "NAAM": ["West", "Oost"]},
        geometry=[box(150000, 190000, 151000, 191000), box(151000, 190000, 152000, 191000)],
        crs=31370,
    )
    w.to_file(tmp_path / "w.gpkg", layer="wijken")
    # one long street through both wijken and a cross street sharing its middle vertex
    roads = gpd.GeoDataFrame(
        {"highway": ["residential", "tertiary"], "maxspeed": [30, None]},
        geometry=[LineString([(150100, 190500), (151000, 190500), (151900, 190500)]), LineString([(151000, 190100), (151000, 190500), (151000, 190900)])],
        crs=31370,
    )
    roads.to_file(tmp_path / "roads.gpkg", layer="roads")
    pts = gpd.GeoDataFrame(
        {"type": ["bus_stop", "bus_stop", "waste_basket"], "name": ["In", "Out", "bin"]},
        geometry=[Point(150500, 190510), Point(149000, 190510), Point(150600, 190510)],
        crs=31370,
    )
    pts.to_file(tmp_path / "pts.gpkg", layer="points")
    pd.DataFrame({"MS_POPULATION": [600, 300, 100], "CD_AGE": [30, 70, 3]}).to_csv(tmp_path / "pop.csv", index=False)
    toml = tmp_path / "city.toml"
    toml.write_text(
        """
name = "Mini"
[wijken]
file = "w.gpkg"
columns = { wijk_code = "CODE", wijk_naam = "NAAM" }
source = "test wijken"
date = "2024"
[streets]
file = "roads.gpkg"
[[pois]]
file = "pts.gpkg"
category_column = "type"
category_map = { bus_stop = "bus_stop" }
[buildings]
status = "missing"
note = "none here"
[population]
file = "pop.csv"
""",
        encoding="utf-8",
    )
    return toml


def test_mini_sources(mini):
    a = area_from_sources(mini)
    assert list(a.wijken["wijk_code"]) == ["A", "B"] and list(a.wijken["wijk_naam"]) == ["West", "Oost"]
    # split at the shared vertex (151000, 190500): 2 + 2 edges
    assert len(a.streets) == 4
    assert set(a.streets["maxspeed"].dropna()) == {"30"}
    assert list(a.pois["name"]) == ["In"] and list(a.pois["category"]) == ["bus_stop"]
    m = a.manifest["themes"]
    assert m["buildings"]["status"] == "missing" and m["buildings"]["note"] == "none here"
    assert m["green"]["status"] == "missing" and "No source for green" in m["green"]["note"]
    assert m["wijken"]["source"] == "test wijken" and m["wijken"]["date"] == "2024"
    # population 1000 spread by estimated homes along residential-class streets
    assert a.wijken["residents"].sum() == pytest.approx(1000.0)
    assert a.wijken["residents_65plus"].sum() == pytest.approx(300.0)
    assert a.wijken["residents_0_5"].sum() == pytest.approx(100.0)
    assert a.manifest["population"]["estimated"] is True
    assert a.boundary.area.iloc[0] == pytest.approx(2e6)


def test_sources_errors(mini, tmp_path):
    text = mini.read_text(encoding="utf-8")
    bad = tmp_path / "bad1.toml"
    bad.write_text(text.replace("[streets]", "[streets]\nfiel = 'x'"), encoding="utf-8")
    with pytest.raises(SourcesError, match="unknown key\\(s\\) fiel"):
        load_sources(bad)
    bad.write_text(text.replace("bus_stop = \"bus_stop\"", "bus_stop = \"busstop\""), encoding="utf-8")
    with pytest.raises(SourcesError, match="busstop are not model categories"):
        area_from_sources(bad)
    bad.write_text(text.replace('wijk_code = "CODE"', 'wijk_code = "WIJK"'), encoding="utf-8")
    with pytest.raises(InputError, match="column\\(s\\) WIJK not found; columns are CODE, NAAM"):
        area_from_sources(bad)
    bad.write_text(text.replace('file = "roads.gpkg"', 'file = "nope.gpkg"'), encoding="utf-8")
    with pytest.raises(InputError, match="nope.gpkg: file not found"):
        area_from_sources(bad)
    bad.write_text("name = 'x'\n[streets]\nfile = 'roads.gpkg'\n", encoding="utf-8")
    with pytest.raises(SourcesError, match="\\[wijken\\] section with a file is required"):
        load_sources(bad)


# --- the real Mechelen files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def mechelen(mechelen_dir):
    return area_from_sources(MECHELEN_TOML)



@pytest.mark.real
def test_mechelen_wijken_and_area(mechelen):
    assert len(mechelen.wijken) == 12
    assert mechelen.wijken["wijk_code"].str.startswith("12025").all()
    assert mechelen.wijken.area.sum() / 1e6 == pytest.approx(65.8, rel=0.01)
    assert mechelen.boundary.area.iloc[0] / 1e6 == pytest.approx(65.8, rel=0.01)


@pytest.mark.real
def test_mechelen_network_routes_across_the_ring(mechelen):
    from gezondestad.spatial.network import (
        build_network,
        largest_component_share,
        nearest_target_distance,
    )

    net = build_network(mechelen.streets)
    assert largest_component_share(net) > 0.95
    w = mechelen.wijken.set_index("wijk_naam")
    north = w.loc["Mechelen - Noord"].geometry.representative_point()
    south = w.loc["Mechelen - Zuid"].geometry.representative_point()
    res = nearest_target_distance(net, np.array([[north.x, north.y]]), np.array([[south.x, south.y]]), max_snap_m=300.0)
    straight = north.distance(south)
    assert np.isfinite(res.distance_m[0])
    assert straight <= res.distance_m[0] < 2.5 * straight


@pytest.mark.real
def test_mechelen_bus_stops_inside_boundary(mechelen, mechelen_dir):
    stops = mechelen.pois[mechelen.pois["category"] == "bus_stop"]
    poly = mechelen.boundary.geometry.iloc[0]
    assert shapely.contains(poly, stops.geometry.values).all()
    raw = gpd.read_file(mechelen_dir / "mechelen_osm_geofabrik_2015.gpkg", layer="points")
    raw_stops = raw[raw["type"] == "bus_stop"]
    assert len(raw_stops) == 357
    outside = int((~raw_stops.within(poly)).sum())
    assert len(stops) == 357 - outside
    assert 300 < len(stops) < 357


@pytest.mark.real
def test_mechelen_water_green_and_manifest(mechelen):
    assert "Dijle" in set(mechelen.water["name"].dropna())
    m = mechelen.manifest["themes"]
    assert m["green"]["status"] == "partial" and "MISSING" in m["green"]["note"]
    assert set(mechelen.green["kind"]) == {"nature"}
    assert m["buildings"]["status"] == "missing" and m["landuse"]["status"] == "missing"
    assert m["streets"]["status"] == "partial" and m["streets"]["date"] == "2017-08"
    assert m["pois"]["count"] == len(mechelen.pois)
    # benches and toilets of the 2023 cache are in
    cats = mechelen.pois["category"].value_counts()
    assert cats["bench"] > 200 and cats["toilet"] > 20
    assert mechelen.landcover is not None and mechelen.landcover.resolution_m == 10.0


@pytest.mark.real
def test_mechelen_population_estimate(mechelen, mechelen_dir):
    pop = pd.read_csv(mechelen_dir / "tables" / "statbel_TF_SOC_POP_STRUCT_2015_mechelen.csv")
    pop = pop[pop["CD_MUNTY_REFNIS"] == 12025]
    total = pop["MS_POPULATION"].sum()
    assert mechelen.wijken["residents"].sum() == pytest.approx(total)
    assert mechelen.wijken["residents_65plus"].sum() == pytest.approx(pop.loc[pop["CD_AGE"] >= 65, "MS_POPULATION"].sum())
    assert mechelen.wijken["residents_0_5"].sum() == pytest.approx(pop.loc[pop["CD_AGE"] <= 5, "MS_POPULATION"].sum())
    assert (mechelen.wijken["residents"] > 0).all()
    assert mechelen.manifest["population"]["estimated"] is True
    # without buildings the indicators' homes are estimated along streets and carry the wijk totals
    from gezondestad.spatial.aggregate import home_points

    homes = home_points(mechelen)
    assert homes["estimated"].all()
    assert homes["residents"].sum() == pytest.approx(total, rel=1e-6)
