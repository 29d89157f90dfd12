"""Road surface (OSM surface -> CNOSSOS-EU Table F-4) and junction corrections in the production noise layer.

Exact values on small hand-made streets (the expected numbers are written out from the CSV rows and
Annex II formulas, not from the code under test), directions, "no tag = no change", the rail notes,
and an invariant on the real Mechelen streets (skipped when ../shared/data is absent).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from gezondestad.layers.osm_tags import finalize_streets
from gezondestad.layers.sources import area_from_sources
from gezondestad.model.norms import load_table
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.noise import (
    NoiseParams,
    _sources,
    noise_at_receivers,
    plan_noise,
    point_sources,
    road_conditions,
    road_emission,
    road_surfaces,
)
from gezondestad.spatial.traffic import traffic_per_segment
from shapely.geometry import LineString, box

P = NoiseParams.from_norms()
BANDS = (63, 125, 250, 500, 1000, 2000, 4000, 8000)
AW = np.array([-26.2, -16.1, -8.6, -3.2, 0.0, 1.2, 1.0, -1.1])  # IEC 61672-1 A-weighting per octave band


def _traffic(geoms: list, speed_kmh: float, aadt: float = 4000.0, heavy: float = 0.0, highway: str = "residential") -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame({"edge_id": np.arange(n), "highway": [highway] * n, "aadt": [aadt] * n, "heavy_share": [heavy] * n,
                             "speed_kmh": [float(speed_kmh)] * n, "share_day": [0.75] * n, "share_evening": [0.15] * n,
                             "share_night": [0.10] * n}, geometry=geoms, crs=CRS)


def _streets(geoms: list, **tags: list) -> gpd.GeoDataFrame:
    n = len(geoms)
    d = {"edge_id": np.arange(n), "highway": ["residential"] * n}
    d.update(tags)
    return gpd.GeoDataFrame(d, geometry=geoms, crs=CRS)


def _car_rows(surface: str | None) -> tuple[np.ndarray, np.ndarray]:
    """AR, BR, AP, BP of category 1 (cnossos_road.csv) and alpha/beta of ``surface`` (cnossos_road_surface.csv, set 2021)."""
    road = load_table("cnossos_road")
    c = road[road["category"] == 1].sort_values("band_hz")[["ar", "br", "ap", "bp"]].to_numpy(dtype=float)
    if surface is None:
        return c, np.zeros(9)
    s = load_table("cnossos_road_surface")
    r = s[(s["coeff_set"].astype(str) == "2021") & (s["surface"] == surface) & (s["category"].astype(str) == "1")].iloc[0]
    return c, np.r_[[float(r[f"alpha_{b}"]) for b in BANDS], float(r["beta"])]


def _car_lw_a(v: float, surface: str | None, cr: float = 0.0, cp: float = 0.0) -> float:
    """A-weighted sound power of one car by hand (eq. 2.2.3-2.2.5, 2.2.13, 2.2.17, 2.2.19-2.2.20)."""
    c, s = _car_rows(surface)
    alpha, beta = s[:8], s[8]
    dt = P.road_temperature_k_light * (P.road_temperature_ref_c - P.annual_mean_temperature_c)
    lwr = c[:, 0] + c[:, 1] * np.log10(v / 70) + alpha + beta * np.log10(v / 70) + dt + cr
    lwp = c[:, 2] + c[:, 3] * (v - 70) / 70 + np.minimum(alpha, 0) + cp
    lw = 10 * np.log10(10 ** (lwr / 10) + 10 ** (lwp / 10))
    return float(10 * np.log10(np.sum(10 ** ((lw + AW) / 10))))


# --- surface ----------------------------------------------------------------------------------


def test_osm_surface_mapping():
    tags = np.array(["sett", "paving_stones", "asphalt", "", None, "Cobblestone", "unhewn_cobblestone", "NL12", "concrete", "bricks"], dtype=object)
    assert list(road_surfaces(tags, P)) == ["NL11", "NL10", "", "", "", "NL11", "NL11", "NL12", "", "NL10"]


def test_setts_vs_asphalt_100m_at_50_exact():
    """Cars only: the A-weighted difference equals the Table F-4 NL11 correction, energy-summed over the bands by hand."""
    g = [LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)])]
    t = _traffic(g, 50.0)
    cond = road_conditions(_streets(g, surface=["sett", "asphalt"]), t, P)
    assert list(cond.surface) == ["NL11", ""]
    lw = road_emission(t, P, cond).lw_a_db(P)[:, 0]
    expected = _car_lw_a(50.0, "NL11") - _car_lw_a(50.0, None)
    assert expected == pytest.approx(5.80, abs=0.01)  # kasseien: about +6 dB(A) for a car at 50 km/h
    assert lw[0] - lw[1] == pytest.approx(expected, abs=1e-9)
    # the line source itself: L_W + 10 lg(Q / 1000 v) with Q the day flow
    q = 4000.0 * 0.75 / 12.0
    assert lw[1] == pytest.approx(_car_lw_a(50.0, None) + 10 * np.log10(q / (1000 * 50.0)), abs=1e-9)


def test_surface_speed_outside_validity_is_clipped_and_noted():
    """NL10 is valid from 30 to 60 km/h: at 70 km/h the beta term uses 60 km/h (said once in the notes)."""
    g = [LineString([(0, 0), (100, 0)])]
    t = _traffic(g, 70.0)
    e = road_emission(t, P, road_conditions(_streets(g, surface=["paving_stones"]), t, P))
    ref = road_emission(t, P)
    c, s = _car_rows("NL10")
    alpha, beta = s[:8], s[8]
    dt = P.road_temperature_k_light * (P.road_temperature_ref_c - P.annual_mean_temperature_c)
    lwr = c[:, 0] + alpha + beta * np.log10(60 / 70) + dt
    lwp = c[:, 2] + np.minimum(alpha, 0)
    lw = 10 * np.log10(10 ** (lwr / 10) + 10 ** (lwp / 10)) + 10 * np.log10(4000 * 0.75 / 12 / (1000 * 70.0))
    np.testing.assert_allclose(e.lw_per_m_db[0, 0], lw, atol=1e-9)
    assert ref.lw_per_m_db[0, 0, 0] < e.lw_per_m_db[0, 0, 0]
    assert sum("geldigheidsbereik" in n for n in e.notes) == 1


@pytest.mark.parametrize("speed", [30.0, 50.0])
def test_klinkers_and_kasseien_louder_than_asphalt_at_a_home(speed):
    """Direction: at a receiver 20 m from a 100 m street, paving stones and setts are louder than asphalt (cars, mixed traffic)."""
    g = [LineString([(0, 0), (100, 0)])]
    rx = np.array([[50.0, 20.0]])
    lv = {}
    for tag in ("asphalt", "paving_stones", "sett"):
        t = _traffic(g, speed, heavy=0.05)
        src = point_sources(road_emission(t, P, road_conditions(_streets(g, surface=[tag]), t, P)), P)
        lv[tag] = float(noise_at_receivers(rx, [src], None, P)["lden_db"].iloc[0])
    assert lv["sett"] > lv["paving_stones"] + 1.0 > lv["asphalt"] + 1.0


def test_no_surface_tag_no_change_to_1e9():
    """A street without a surface tag (or asphalt) and no junction nearby gives the same Lden as before."""
    g = [LineString([(0, 0), (300, 0)]), LineString([(0, 400), (300, 400)])]
    t = _traffic(g, 50.0, heavy=0.08, highway="secondary")
    st = _streets(g, surface=[None, "asphalt"])
    rx = np.array([[150.0, 15.0], [150.0, 200.0], [20.0, 390.0]])
    before = noise_at_receivers(rx, [point_sources(road_emission(t, P), P)], None, P)["lden_db"].to_numpy()
    cond = road_conditions(st, t, P)
    after = noise_at_receivers(rx, [point_sources(road_emission(t, P, cond), P)], None, P)["lden_db"].to_numpy()
    np.testing.assert_allclose(after, before, rtol=0, atol=1e-9)
    assert any("Geen verkeerslichten" in n for n in cond.notes)


# --- junctions ----------------------------------------------------------------------------------


def test_segment_30m_from_a_signal_crossing():
    """A 1 m segment centred 30 m from a crossing=traffic_signals node: C * (1 - 30/100) on rolling and propulsion."""
    g = [LineString([(30, -0.5), (30, 0.5)]), LineString([(0, 0), (0, -6)])]  # the motor segment; a signalised footway crossing
    t = _traffic(g, 50.0)
    t.loc[1, "aadt"] = 0.0
    t.loc[1, "speed_kmh"] = np.nan
    st = _streets(g, highway=["residential", "footway"], footway=[None, "crossing"], crossing=[None, "traffic_signals"])
    cond = road_conditions(st, t, P)
    assert cond.junction_type[0] == 1 and cond.junction_weight[0] == pytest.approx(0.7, abs=1e-12)
    jt = load_table("cnossos_road_junction")
    r = jt[(jt["category"].astype(str) == "1") & (jt["junction_type"] == 1)].iloc[0]
    lw = road_emission(t, P, cond).lw_a_db(P)[0, 0]
    lw_ref = road_emission(t, P).lw_a_db(P)[0, 0]
    expected = _car_lw_a(50.0, None, float(r["cr"]) * 0.7, float(r["cp"]) * 0.7) - _car_lw_a(50.0, None)
    assert lw - lw_ref == pytest.approx(expected, abs=1e-9)


def test_segment_from_the_signal_gets_half_the_weight():
    """A 100 m segment starting at the signal: mean of 1 - x/100 at x = 5, 15, ..., 95 m is 0.5; 150 m further: none."""
    g = [LineString([(0, 0), (100, 0)]), LineString([(250, 0), (300, 0)]), LineString([(0, 0), (0, -6)])]
    t = _traffic(g, 50.0)
    t.loc[2, "aadt"] = 0.0
    st = _streets(g, highway=["residential", "residential", "footway"], crossing=[None, None, "traffic_signals"])
    cond = road_conditions(st, t, P)
    assert cond.junction_weight[0] == pytest.approx(0.5, abs=1e-12)
    assert cond.junction_type[1] == 0 and cond.junction_weight[1] == 0.0


def test_roundabout_entry():
    """A ring tagged junction=roundabout with one entry road: the entry node (3 motor streets) is a roundabout junction."""
    ring = [LineString([(0, 0), (20, 0)]), LineString([(20, 0), (20, 20)]), LineString([(20, 20), (0, 20)]), LineString([(0, 20), (0, 0)])]
    entry = LineString([(20, 0), (60, 0)])
    far = LineString([(400, 0), (450, 0)])
    g = ring + [entry, far]
    t = _traffic(g, 50.0)
    st = _streets(g, junction=["roundabout"] * 4 + [None, None])
    cond = road_conditions(st, t, P)
    assert cond.junction_type[4] == 2
    # entry: samples every 10 m at 5, 15, 25, 35 m from the entry node (40 m long): mean of 1 - x/100 = 0.8
    assert cond.junction_weight[4] == pytest.approx(0.8, abs=1e-12)
    assert cond.junction_type[5] == 0
    assert (cond.junction_type[:4] == 2).all()


# --- sources and notes ------------------------------------------------------------------------------


def test_sources_collect_rail_notes_once():
    streets = _streets([LineString([(0, 0), (300, 0)])], surface=["sett"], maxspeed=["50"])
    rail = gpd.GeoDataFrame({"railway_id": [0], "kind": ["rail"]}, geometry=[LineString([(0, 200), (300, 200)])], crs=CRS)
    area = StudyArea(name="t", themes={"streets": streets, "railways": rail,
                                       "boundary": gpd.GeoDataFrame({"name": ["t"]}, geometry=[box(-10, -10, 310, 210)], crs=CRS)})
    t = _traffic([LineString([(0, 0), (300, 0)])], 50.0)
    _, _, notes = _sources(area, t, None, P, None)
    assert sum("Aantal treinen is een aanname" in n for n in notes) == 1
    assert any("200 per dag per lijn" in n for n in notes)
    assert sum("Spoorlawaai: rol- en tractiegeluid" in n for n in notes) == 1
    assert any("Wegdek NL11" in n for n in notes)


# --- real data ------------------------------------------------------------------------------------


@pytest.mark.real
def test_mechelen_streets_conditions_invariant(mechelen_dir):
    """Mechelen 2017 car roads (no surface tags, roundabouts tagged): reference surface everywhere, roundabout
    corrections in [0, 1], finite emission on every motor segment."""
    area = area_from_sources(Path(__file__).resolve().parent / "real" / "mechelen.toml")
    t = traffic_per_segment(area)
    cond = road_conditions(area.streets, t, P, area.pois)
    motor = (t["aadt"].to_numpy() > 0) & np.isfinite(t["speed_kmh"].to_numpy(dtype=float))
    assert (cond.surface[motor] == "").all()
    assert ((cond.junction_weight >= 0) & (cond.junction_weight <= 1)).all()
    assert (cond.junction_type[motor] == 2).sum() > 50  # Mechelen has many roundabouts
    lw = road_emission(t, P, cond).lw_a_db(P)
    assert np.isfinite(lw[motor]).all()
    assert any("Geen verkeerslichten" in n for n in cond.notes) or any("verkeerslichtpunten" in n for n in cond.notes)


def _street_area(surface: str | None) -> StudyArea:
    streets = finalize_streets(gpd.GeoDataFrame({"highway": ["tertiary"], "maxspeed": ["50"], "surface": [surface]},
                                                geometry=[LineString([(0, 0), (300, 0)])], crs=CRS))
    buildings = gpd.GeoDataFrame({"building_id": [0], "levels": [2], "use": "residential", "residents": 2.0},
                                 geometry=[box(140, 12, 160, 30)], crs=CRS)
    return StudyArea(name="t", themes={"streets": streets, "buildings": buildings,
                                       "boundary": gpd.GeoDataFrame({"name": ["t"]}, geometry=[box(-20, -60, 320, 100)], crs=CRS)})


def test_plan_that_only_changes_the_surface_is_recomputed():
    """Asphalt -> kasseien on the same street (same traffic): the home in front is recomputed and gets louder.

    Without the surface in the plan's change region nothing would be recomputed (change 0)."""
    before, after = _street_area("asphalt"), _street_area("sett")
    _, _, change = plan_noise(before, after)
    d = float(change["lden_change_db"].iloc[0])
    t = traffic_per_segment(after)
    la = road_emission(t, P, road_conditions(after.streets, t, P)).lw_per_m_db[0]
    lb = road_emission(t, P).lw_per_m_db[0]
    # the receiver cannot change by more than the largest per-band change of the source (propagation is per band)
    assert 2.0 < d <= float(np.max(la - lb)) + 1e-6, d
