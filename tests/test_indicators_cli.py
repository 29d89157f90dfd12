"""network_indicators() on the demo town and on real Mechelen, and the `gezondestad indicators` CLI."""

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from gezondestad.spatial.indicators import (
    IndicatorError,
    build_networks,
    network_indicators,
)

REQUIRED = [
    "wijk_code", "wijk_naam", "residents", "green_300m_05ha_share", "green_per_resident_m2", "lts12_share_length",
    "fietsstraat_km", "stop_s", "stop_t", "stop_o", "stop_p", "stop_order_ok", "lts_maxspeed_default_n", "lts_lanes_default_n",
]


@pytest.fixture(scope="module")
def demo_ind(demo_area):
    return network_indicators(demo_area)


def test_per_wijk_table_complete(demo_ind, demo_area):
    per = demo_ind.per_wijk
    assert list(per["wijk_code"]) == list(demo_area.wijken["wijk_code"])
    for c in REQUIRED:
        assert c in per.columns, c
    for c in [c for c in per.columns if c.endswith("_share") or c == "lts12_share_length"]:
        v = per[c].to_numpy(dtype=float)
        assert ((v >= 0) & (v <= 1)).all(), c
    for c in ("stop_s", "stop_t", "stop_o", "stop_p"):
        assert per[c].between(0, 100).all(), c
    assert per["residents"].sum() == pytest.approx(demo_area.buildings["residents"].sum())
    # the demo has every theme; only the O rule is noted: no GTFS feed, so every stop counts
    assert len(demo_ind.notes) == 1 and demo_ind.notes[0].startswith("Geen dienstregeling (GTFS)")


def test_homes_next_to_the_stadspark_are_served(demo_ind, demo_area):
    park = demo_area.green.loc[demo_area.green["name"] == "Stadspark Demerbeemd"].geometry.iloc[0]
    h = demo_ind.homes
    near = h.geometry.distance(park) < 60
    assert near.sum() > 10
    assert h.loc[near, "green_300m_05ha"].all()
    assert h.loc[near, "green_d_05ha_m"].max() < 150


def test_begijnhofpark_just_below_one_hectare(demo_ind):
    sp = demo_ind.green_spaces.set_index("name")
    # 105 m x 95 m = 0.9975 ha: counts for WHO 0.5 ha, not for >= 1 ha
    assert sp.loc["Begijnhofpark", "area_ha"] == pytest.approx(0.9975)
    assert sp["reachable"].all()
    assert "Kloostertuin (privé)" not in sp.index


def test_fietsstraat_and_ring_lts(demo_ind):
    seg = demo_ind.segments
    fs = seg[seg["cyclestreet"] == "yes"]
    assert len(fs) > 0 and (fs["lts"] <= 2).all()
    ring = seg[seg["name"].isin(["Zuidelijke Ring", "Oostelijke Ring"])]
    assert len(ring) > 10
    assert (ring["lts_carriageway"] == 4).all()  # 70 km/h mixed traffic
    assert (ring["lts"] == 1).all()  # its separated cycle track


def test_missing_maxspeed_counted_where_it_is_missing(demo_ind, demo_area):
    per = demo_ind.per_wijk.set_index("wijk_code")
    seg = demo_ind.segments
    untagged = seg["maxspeed"].isna() & seg["cyclable"] & seg["highway"].isin(["residential", "tertiary", "secondary", "primary"])
    assert per["lts_maxspeed_default_n"].sum() == untagged.sum()
    assert per.loc["DEMO04", "lts_maxspeed_default_n"] > 30  # the untagged south-east streets
    assert per.loc["DEMO01", "lts_maxspeed_default_n"] == 0


def test_unserved_layer(demo_ind):
    u = demo_ind.unserved
    assert len(u) == int((~demo_ind.homes["green_300m_05ha"].astype(bool)).sum()) > 0
    assert (u["green_d_05ha_m"] > 300).all()


def test_local_recompute_with_prebuilt_networks(demo_ind, demo_area):
    nets = build_networks(demo_area.streets)
    sub = demo_ind.homes.iloc[::50][["home_id", "building_id", "residents", "estimated", "wijk_code", "wijk_naam", "geometry"]]
    part = network_indicators(demo_area, homes=sub, networks=nets)
    for c in ("green_d_05ha_m", "walk_d_shop_m", "lts12_d_centre_m", "stop_s_home"):
        assert part.homes[c].to_numpy() == pytest.approx(demo_ind.homes[c].to_numpy()[::50]), c
    other = demo_area.copy()
    other.themes["streets"] = other.streets.iloc[:-5]
    with pytest.raises(IndicatorError, match="bouw ze opnieuw"):
        network_indicators(other, homes=sub, networks=nets)


def test_missing_green_is_unknown_not_zero(demo_area):
    a = demo_area.copy()
    a.themes["green"] = a.green.iloc[0:0]
    a.manifest["themes"]["green"]["status"] = "missing"
    r = network_indicators(a)
    assert r.per_wijk["green_300m_05ha_share"].isna().all()
    assert r.per_wijk["green_per_resident_m2"].isna().all()
    assert (r.per_wijk["green_data_status"] == "missing").all()
    assert len(r.unserved) == 0
    assert any("Geen gegevens over groen" in n for n in r.notes)


def test_no_streets_is_a_clear_error(demo_area):
    a = demo_area.copy()
    a.themes["streets"] = a.streets.iloc[0:0]
    with pytest.raises(ValueError, match="streets"):
        network_indicators(a)


def test_cli_writes_layers_and_per_wijk(demo_dir, tmp_path):
    from gezondestad.app.cli.main import main

    out = tmp_path / "ind.gpkg"
    assert main(["indicators", "--area", str(demo_dir), "--out", str(out)]) == 0
    layers = {n for n, _ in pyogrio.list_layers(out)}
    assert {"green_access", "groennormen", "cycling_low_stress", "stop_walk", "homes_unserved_green", "street_lts", "per_wijk"} <= layers
    per = gpd.read_file(out, layer="per_wijk")
    assert len(per) == 4
    for c in REQUIRED:
        assert c in per.columns, c
    ga = gpd.read_file(out, layer="green_access")
    assert ga.crs.to_epsg() == 31370 and len(ga) > 1000
    assert main(["indicators", "--area", str(demo_dir), "--out", str(tmp_path / "x.csv")]) == 2


@pytest.mark.real
def test_real_mechelen_says_green_is_partial(mechelen_dir):
    from gezondestad.layers.sources import area_from_sources

    area = area_from_sources(Path(__file__).resolve().parent / "real" / "mechelen.toml")
    r = network_indicators(area)
    per = r.per_wijk
    assert len(per) == 12 and per["homes"].gt(0).all()
    assert r.homes["estimated"].all()  # no buildings: homes along residential streets
    # only 3 nature reserves: green is flagged partial, canopy below 30 % is unknown, not a failure
    assert (per["green_data_status"] == "partial").all()
    assert any("onvolledig" in n for n in r.notes)
    assert per["canopy_30_ok"].isna().all()
    assert per["green_300m_05ha_share"].max() < 0.2
    # no cyclestreet tags in the 2017 car roads: said, not silently zero
    assert any("cyclestreet" in n for n in r.notes)
    assert per["lts_maxspeed_default_n"].sum() > 1000  # most 2017 ways carry no maxspeed
    assert per["lts12_share_length"].between(0.5, 0.95).all()
    for c in ("stop_s", "stop_t", "stop_o", "stop_p"):
        assert per[c].between(0, 100).all(), c
    assert not per["stop_p_parking_known"].any()  # no land use
    # the default centre lies in the wijk Centrum (most shops)
    centrum = area.wijken.loc[area.wijken["wijk_naam"] == "Centrum"].geometry.iloc[0]
    assert centrum.contains(r.centre)
    # the 2017 car roads have no cycle tracks mapped, so few homes reach the centre at low stress
    # (measured 16 %), and the most from the Centrum itself
    share = per.set_index("wijk_naam")["centre_lts12_share"]
    assert 0.0 < r.homes["centre_lts12"].mean() < 0.5
    assert share["Centrum"] == share.max()
