"""CNOSSOS-EU propagation against the ISO/TR 17534-4:2020 reference cases, band by band.

Inputs and expected values (source power 93 dB in every band, 10 degC, 70 % RH, p = 0.5 for the
long-term level) are the numbers of ISO/TR 17534-4 test cases TC01-TC05 (flat ground G = 0,
0.5, 1, spatially varying G, a terrain mean plane) and TC07 (flat ground with a long barrier,
one diffracting edge), as reproduced in the public test suite of NoiseModelling (Universite
Gustave Eiffel, AttenuationCnossosTest). Only the numbers are taken, not the code.
Target: every band within 0.1 dB.
"""

from __future__ import annotations

import numpy as np
import pytest
from gezondestad.model.norms import load_table
from gezondestad.spatial.cnossos import (
    a_ground,
    alpha_atm_db_per_km,
    attenuation,
    combine_conditions,
    delta_dif,
    lden,
    line_source_power,
    path_difference,
    vehicle_sound_power,
)

LW = 93.0
ALPHA = alpha_atm_db_per_km(10.0, 70.0)
TOL = 0.1


def _levels(**kw):
    ah, af = attenuation(alpha_db_per_km=ALPHA, **{k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in kw.items()})
    lh, lf = LW - ah[0], LW - af[0]
    return lh, lf, combine_conditions(lh, lf, 0.5)


def test_alpha_atm_iso9613_1():
    np.testing.assert_allclose(ALPHA, [0.12, 0.41, 1.04, 1.93, 3.66, 9.66, 32.77, 116.88], atol=0.006)


FLAT = {
    # case: (G_path, expected LH, LF, L)
    "TC01": (0.0, [39.21, 39.16, 39.03, 38.86, 38.53, 37.36, 32.87, 16.54], [40.58, 40.52, 40.40, 40.23, 39.89, 38.72, 34.24, 17.90],
             [39.95, 39.89, 39.77, 39.60, 39.26, 38.09, 33.61, 17.27]),
    "TC02": (0.5, [37.71, 37.66, 37.53, 35.01, 29.82, 35.86, 31.37, 15.04], [38.39, 38.34, 38.22, 38.04, 36.45, 36.54, 32.05, 15.72],
             [38.07, 38.01, 37.89, 36.79, 34.29, 36.21, 31.73, 15.39]),
    "TC03": (1.0, [36.21, 36.16, 34.45, 26.19, 30.49, 34.36, 29.87, 13.54], [36.21, 36.16, 36.03, 31.63, 35.53, 34.36, 29.87, 13.54],
             [36.21, 36.16, 35.31, 29.71, 33.70, 34.36, 29.87, 13.54]),
    # TC04: G = 0.2, 0.5, 0.9 over 40.88, 102.19 and 51.09 m
    "TC04": ((0.2 * 40.88 + 0.5 * 102.19 + 0.9 * 51.09) / 194.16, [37.59, 37.53, 37.41, 34.10, 29.29, 35.73, 31.25, 14.91],
             [38.21, 38.15, 38.03, 37.86, 36.48, 36.36, 31.87, 15.54], [37.91, 37.85, 37.73, 36.37, 34.23, 36.06, 31.57, 15.24]),
}


@pytest.mark.parametrize("case", sorted(FLAT))
def test_iso_17534_4_flat_ground(case):
    g, elh, elf, el = FLAT[case]
    lh, lf, lt = _levels(dp=194.16, zs=1.0, zr=4.0, g_path=g, g_s=g)
    np.testing.assert_allclose(lh, elh, atol=TOL)
    np.testing.assert_allclose(lf, elf, atol=TOL)
    np.testing.assert_allclose(lt, el, atol=TOL)


def test_iso_17534_4_tc02_ground_terms():
    g = np.array([0.5])
    args = (np.array([1.0]), np.array([4.0]), np.array([194.16]), g, 0.5)
    np.testing.assert_allclose(a_ground(*args)[0], [-1.50, -1.50, -1.50, 0.85, 5.71, -1.50, -1.50, -1.50], atol=0.02)
    np.testing.assert_allclose(a_ground(*args, favourable=True)[0], [-2.18, -2.18, -2.18, -2.18, -0.93, -2.18, -2.18, -2.18], atol=0.02)


def test_iso_17534_4_tc05_mean_plane():
    # terrain replaced by its mean plane: zs 3.83, zr 6.16, dp 194.59; G 0.9/0.5/0.2 from the source; Gs = 0.9
    g = (0.9 * 40.88 + 0.5 * 102.19 + 0.2 * 51.09) / 194.16
    lh, lf, lt = _levels(dp=194.59, zs=3.83, zr=6.16, g_path=g, g_s=0.9, d_m=np.hypot(194.16, 13.0))
    exp = [37.26, 37.21, 37.08, 36.91, 36.57, 35.41, 30.91, 14.54]
    np.testing.assert_allclose(lh, exp, atol=TOL)
    np.testing.assert_allclose(lf, exp, atol=TOL)
    np.testing.assert_allclose(lt, exp, atol=TOL)


def test_iso_17534_4_tc07_long_barrier():
    # S (0, 1), barrier top O (170.23, 6), R (194.16, 4); G 0.9/0.5/0.2 along the path, Gs = 0.9
    g_so = (0.9 * 40.88 + 0.5 * 102.19 + 0.2 * (170.23 - 40.88 - 102.19)) / 170.23
    lh, lf, lt = _levels(dp=194.16, zs=1.0, zr=4.0, g_path=0.5, g_s=0.9, edge_d_m=170.23, edge_z_m=6.0, g_so=g_so, g_or=0.2)
    d_sr = delta_dif(np.atleast_1d(path_difference(0.0, 1.0, 170.23, 6.0, 194.16, 4.0)))[0]
    np.testing.assert_allclose(d_sr, [6.01, 6.96, 8.41, 10.36, 12.72, 15.37, 18.19, 21.10], atol=0.02)
    d_sr_f = delta_dif(np.atleast_1d(path_difference(0.0, 1.0, 170.23, 6.0, 194.16, 4.0, favourable=True)))[0]
    np.testing.assert_allclose(d_sr_f, [5.67, 6.40, 7.58, 9.27, 11.43, 13.94, 16.68, 19.55], atol=0.02)
    np.testing.assert_allclose(lh, [32.54, 31.32, 29.60, 27.37, 22.22, 20.76, 13.44, -5.81], atol=TOL)
    np.testing.assert_allclose(lf, [32.85, 31.83, 30.35, 28.36, 25.78, 22.06, 14.81, -4.41], atol=TOL)
    np.testing.assert_allclose(lt, [32.70, 31.58, 29.99, 27.89, 24.36, 21.46, 14.18, -5.05], atol=TOL)


# ------------------------------------------------------------------------------------------
# emission: hand computation from the Directive's formulas and Appendix F coefficients
# ------------------------------------------------------------------------------------------


def _coeffs(cat: int) -> np.ndarray:
    t = load_table("cnossos_road")
    return t[t["category"] == cat].sort_values("band_hz")[["ar", "br", "ap", "bp"]].to_numpy(dtype=float)


def test_road_emission_at_reference_speed_is_energy_sum_of_ar_and_ap():
    c = _coeffs(1)
    lw = vehicle_sound_power(c, np.array([70.0]))[0]
    # at v = vref: LWR = AR, LWP = AP  -> 10 lg(10^(AR/10) + 10^(AP/10)); 1 kHz: AR 100.1, AP 84.7
    assert lw[4] == pytest.approx(10 * np.log10(10 ** 10.01 + 10 ** 8.47), abs=1e-9)
    assert lw[0] == pytest.approx(10 * np.log10(10 ** 8.31 + 10 ** 9.79), abs=1e-9)


def test_road_emission_line_source_hand_case():
    # 1000 light vehicles/h at 50 km/h, 1 kHz: LWR = 100.1 + 32.5 lg(50/70); LWP = 84.7 + 8 (50-70)/70
    c = _coeffs(1)
    lw = vehicle_sound_power(c, np.array([50.0]))
    lwr = 100.1 + 32.5 * np.log10(50 / 70)
    lwp = 84.7 + 8.0 * (50 - 70) / 70
    exp = 10 * np.log10(10 ** (lwr / 10) + 10 ** (lwp / 10)) + 10 * np.log10(1000 / (1000 * 50))
    assert line_source_power(lw, np.array([1000.0]), np.array([50.0]))[0, 4] == pytest.approx(exp, abs=1e-9)


def test_heavy_vehicles_louder_and_speed_raises_emission():
    v = np.array([50.0])
    l1, l3 = (10 * np.log10(np.sum(10 ** ((vehicle_sound_power(_coeffs(c), v)[0] + np.array([-26.2, -16.1, -8.6, -3.2, 0, 1.2, 1.0, -1.1])) / 10))) for c in (1, 3))
    assert l3 - l1 > 8.0
    aw = np.array([-26.2, -16.1, -8.6, -3.2, 0, 1.2, 1.0, -1.1])
    lo, hi = (10 * np.log10(np.sum(10 ** ((vehicle_sound_power(_coeffs(1), np.array([s]))[0] + aw) / 10))) for s in (30.0, 70.0))
    assert hi > lo + 5.0


def test_lden_penalties():
    # equal levels in all periods: Lden = L + 10 lg((12 + 4*10^0.5 + 8*10)/24)
    assert lden(np.array([60.0]), np.array([60.0]), np.array([60.0]))[0] == pytest.approx(60 + 10 * np.log10((12 + 4 * 10**0.5 + 80) / 24), abs=1e-9)
