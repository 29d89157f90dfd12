"""CNOSSOS-EU railway source (rolling + traction) against NoiseModelling's reference figures.

Figures: NoiseModelling (Universite Gustave Eiffel, GPL), ``noisemodelling-emission/src/test/java/
org/noise_planet/noisemodelling/emission/railway/RailwayCnossosTest.java``, test
``Test_Cnossos_Rail_emission_section_1`` (vehicle SNCF-BB66400 at 80 km/h, 2 tracks, track
transfer 7, rail roughness 3, impact 1; ``expectedValuesLWRolling``, ``expectedValuesLWTractionA``,
``expectedValuesLWTractionB``, 24 one-third-octave bands 50 Hz - 10 kHz). That test normalises the
per-vehicle power with ``deltaT = -10 lg(1000 v x nTracks)``: its figures are the sound power per
metre of 1 vehicle per hour shared by 2 tracks (0.5 vehicle/h per track) at 80 km/h.

Scope (honest): our per-vehicle spectra are *transcribed* from these figures (summed to octaves),
not computed from the Appendix G roughness, contact-filter and transfer tables; these tests check
the transcription and the line-source formula (flow, speed, tracks), not an independent
computation of the Appendix G model.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from gezondestad.spatial import cnossos
from gezondestad.spatial.noise import NoiseParams, rail_emission

NM_ROLLING = [46.6292393707431, 47.5930887825746, 49.4885539543655, 50.8452515062722, 48.2904168235536, 47.5599118826212,
              48.3659880536885, 53.6850278385126, 55.1794804329062, 56.4435891375742, 57.3811010252223, 58.0623572653650,
              59.8295159717300, 59.4546602463242, 56.5427214224336, 52.1790459841615, 54.51129722944201, 53.2570463370446,
              51.118153521942574, 48.73174211849708, 49.13517759611298, 48.60046539576308, 48.58746317902302, 50.14566621392022]
NM_TRACTION_A = [46.8200805302231, 42.7200805302231, 40.5200805302231, 42.5200805302231, 40.7200805302231, 40.7200805302231,
                 40.9200805302231, 42.7200805302231, 42.5200805302231, 43.6200805302231, 43.5200805302231, 46.5200805302231,
                 43.1200805302231, 43.0200805302231, 43.0200805302231, 42.0200805302231, 42.0200805302231, 47.3200805302231,
                 40.4200805302231, 37.4200805302231, 34.9200805302231, 32.0200805302231, 29.4200805302231, 27.1200805302231]
NM_TRACTION_B = [51.1200805302231, 47.9200805302231, 43.4200805302231, 41.9200805302231, 41.2200805302231, 41.5200805302231,
                 40.8200805302231, 40.6200805302231, 40.3200805302231, 40.7200805302231, 40.7200805302231, 44.7200805302231,
                 40.6200805302231, 40.9200805302231, 40.8200805302231, 41.0200805302231, 41.1200805302231, 46.2200805302231,
                 39.4200805302231, 36.6200805302231, 33.9200805302231, 31.3200805302231, 28.8200805302231, 26.6200805302231]
V_KMH, N_TRACKS = 80.0, 2
TOL_DB = 0.1


def _octaves(third_octaves):
    return 10 * np.log10(np.power(10.0, np.asarray(third_octaves) / 10).reshape(8, 3).sum(axis=1))


@pytest.fixture(scope="module")
def spectra():
    return cnossos.load_rail_spectra()


def test_table_is_the_reference_case_per_vehicle(spectra):
    offset = 10 * np.log10(1000 * V_KMH * N_TRACKS)
    for ours, nm in ((spectra.rolling_db, NM_ROLLING), (spectra.traction_a_db, NM_TRACTION_A), (spectra.traction_b_db, NM_TRACTION_B)):
        assert np.max(np.abs(ours - (_octaves(nm) + offset))) < 0.01


@pytest.mark.parametrize("part", ["rolling", "traction_a", "traction_b"])
def test_line_source_reproduces_section_1(spectra, part):
    """One vehicle per hour over two tracks at 80 km/h: per-band sound power per metre as NoiseModelling."""
    q = np.array([1.0 / N_TRACKS])
    none = np.full(8, -np.inf)
    v = np.array([V_KMH])
    if part == "rolling":
        got = cnossos.rail_line_emission(spectra.rolling_db, none, v, q, np.zeros(1))[0]
        nm = _octaves(NM_ROLLING)
    else:
        tr = spectra.traction_a_db if part == "traction_a" else spectra.traction_b_db
        got = cnossos.rail_line_emission(none, tr, v, np.zeros(1), q)[0]
        nm = _octaves(NM_TRACTION_A if part == "traction_a" else NM_TRACTION_B)
    assert np.max(np.abs(got - nm)) < TOL_DB


def test_speed_dependence_rolling_and_traction(spectra):
    none = np.full(8, -np.inf)
    v = np.array([80.0, 160.0])
    q = np.ones(2)
    roll = cnossos.rail_line_emission(spectra.rolling_db, none, v, q, np.zeros(2))
    trac = cnossos.rail_line_emission(none, spectra.traction_db, v, np.zeros(2), q)
    # rolling: +30 lg 2 per vehicle, -10 lg 2 fewer vehicles per metre; traction: only the latter
    np.testing.assert_allclose(roll[1] - roll[0], 20 * np.log10(2), atol=1e-9)
    np.testing.assert_allclose(trac[1] - trac[0], -10 * np.log10(2), atol=1e-9)


def test_rail_emission_adds_traction_per_train():
    p = NoiseParams.from_norms()
    rw = gpd.GeoDataFrame({"kind": ["rail"]}, geometry=[LineString([(0, 0), (100, 0)])], crs="EPSG:31370")
    e = rail_emission(rw, p)
    sp = cnossos.load_rail_spectra()
    q_tr = p.rail_trains_per_day * p.rail_share_day / 12.0
    expected = cnossos.rail_line_emission(p.rail_lw0_db, sp.traction_db, np.array([p.rail_speed_kmh]),
                                          np.array([q_tr * p.rail_vehicles_per_train]), np.array([q_tr * 1.0]))[0]
    np.testing.assert_allclose(e.lw_per_m_db[0, 0], expected, atol=1e-9)
    rolling_only = cnossos.line_source_power(p.rail_lw0_db[None, :], np.array([q_tr * p.rail_vehicles_per_train]),
                                             np.array([p.rail_speed_kmh]))[0]
    assert np.all(e.lw_per_m_db[0, 0] > rolling_only)
    # 63 Hz: rolling 104.9 + 10 lg 6 = 112.7 dB per train, traction 106.7 dB: about +1.0 dB
    assert e.lw_per_m_db[0, 0, 0] - rolling_only[0] == pytest.approx(0.98, abs=0.05)
    assert any("aanname" in n for n in e.notes)
    more = rail_emission(rw.assign(traction_units_per_train=3, trains_per_day=p.rail_trains_per_day), p)
    assert np.all(more.lw_per_m_db[0, 0] > e.lw_per_m_db[0, 0])
    assert not any("aanname" in n for n in more.notes)
