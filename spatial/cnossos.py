"""CNOSSOS-EU emission and propagation formulas, vectorised over source-receiver paths.

Implements the parts of Annex II of Directive 2002/49/EC as replaced by Commission Directive
(EU) 2015/996 and amended by Delegated Directive (EU) 2021/1226 that the noise layer needs:

- road emission per vehicle category (1 light, 2 medium heavy, 3 heavy) and octave band
  63-8000 Hz: rolling noise ``AR + BR lg(v/70)`` (+ temperature correction), propulsion noise
  ``AP + BP (v-70)/70``, and the directional line source ``L_W + 10 lg(Q / 1000 v)``
  (section 2.2; coefficients in ``data/norms/cnossos_road.csv``; reference surface);
- a simplified railway rolling-noise line source (section 2.3; see :func:`rail_emission_per_m`);
- propagation per band (section 2.5): geometric divergence ``20 lg d + 11``, atmospheric
  absorption ``alpha d / 1000`` with ``alpha`` from ISO 9613-1, ground attenuation in homogeneous
  and favourable conditions (``w``, ``C_f``, ``G'_path``, ``A_ground,min``; flat ground / mean
  plane), and diffraction over one horizontal edge with the ground terms on both sides
  (``Delta_dif(S,R) + Delta_ground(S,O) + Delta_ground(O,R)``, curved rays in favourable
  conditions), and the long-term combination of homogeneous and favourable levels.

All functions are pure numpy: path arrays of shape ``(n,)`` in, per-band arrays ``(n, 8)`` out.
They are checked against the ISO/TR 17534-4 reference cases in ``tests/test_cnossos_reference.py``.
"""

from __future__ import annotations

import numpy as np

BANDS_HZ = np.array([63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0])
"""Nominal octave-band centre frequencies (Hz), used for the ground and diffraction terms."""

EXACT_BANDS_HZ = 1000.0 * 10.0 ** (0.3 * np.arange(-4, 4))
"""Exact mid-band frequencies (base-10 series, IEC 61260), used for the atmospheric absorption (ISO 9613-1, 3.1)."""

SOUND_SPEED_MS = 340.0
"""Speed of sound used by CNOSSOS-EU (Annex II 2.5.6, k = 2 pi f / c)."""

A0_PER_M = 2e-4
"""Favourable conditions: inverse curvature radius a0 = 2e-4 1/m (Annex II 2.5.6)."""


def energy_sum(levels_db: np.ndarray, axis: int = -1) -> np.ndarray:
    """10 lg(sum 10^(L/10)) along ``axis`` (-inf where all inputs are -inf)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.sum(np.power(10.0, np.asarray(levels_db) / 10.0), axis=axis))


# --------------------------------------------------------------------------------------------
# emission
# --------------------------------------------------------------------------------------------


def vehicle_sound_power(coeffs: np.ndarray, speed_kmh: np.ndarray, v_ref_kmh: float = 70.0, d_rolling_db: np.ndarray | float = 0.0) -> np.ndarray:
    """Sound power of one vehicle per band (eq. 2.2.3-2.2.5): rolling + propulsion.

    Parameters
    ----------
    coeffs : ndarray (8, 4)
        ``AR, BR, AP, BP`` per band for one category.
    speed_kmh : ndarray (n,)
    d_rolling_db : float or ndarray (n,)
        Correction on rolling noise (temperature, surface).

    Returns
    -------
    ndarray (n, 8) in dB re 1 pW.
    """
    v = np.asarray(speed_kmh, dtype=float)[:, None]
    ar, br, ap, bp = (coeffs[:, i][None, :] for i in range(4))
    lwr = ar + br * np.log10(v / v_ref_kmh) + np.asarray(d_rolling_db, dtype=float).reshape(-1, 1)
    lwp = ap + bp * (v - v_ref_kmh) / v_ref_kmh
    return 10.0 * np.log10(np.power(10.0, lwr / 10.0) + np.power(10.0, lwp / 10.0))


def line_source_power(lw_vehicle_db: np.ndarray, vehicles_per_hour: np.ndarray, speed_kmh: np.ndarray) -> np.ndarray:
    """Sound power per metre of a traffic flow (eq. 2.2.1): ``L_W + 10 lg(Q / (1000 v))``.

    ``vehicles_per_hour`` of 0 gives -inf.
    """
    q = np.asarray(vehicles_per_hour, dtype=float)[:, None]
    v = np.asarray(speed_kmh, dtype=float)[:, None]
    with np.errstate(divide="ignore"):
        return lw_vehicle_db + 10.0 * np.log10(q / (1000.0 * v))


# --------------------------------------------------------------------------------------------
# propagation
# --------------------------------------------------------------------------------------------


def alpha_atm_db_per_km(temperature_c: float, humidity_pct: float, pressure_kpa: float = 101.325, bands_hz: np.ndarray = EXACT_BANDS_HZ) -> np.ndarray:
    """Pure-tone atmospheric absorption coefficient per band (ISO 9613-1:1993, eq. 3-5), dB/km."""
    T = temperature_c + 273.15
    T0, T01, pr = 293.15, 273.16, 101.325
    pa = pressure_kpa
    C = -6.8346 * (T01 / T) ** 1.261 + 4.6151
    h = humidity_pct * 10.0**C * (pa / pr) ** -1
    frO = (pa / pr) * (24.0 + 4.04e4 * h * (0.02 + h) / (0.391 + h))
    frN = (pa / pr) * (T / T0) ** -0.5 * (9.0 + 280.0 * h * np.exp(-4.170 * ((T / T0) ** (-1.0 / 3.0) - 1.0)))
    f = np.asarray(bands_hz, dtype=float)
    a = 8.686 * f**2 * (
        1.84e-11 * (pa / pr) ** -1 * (T / T0) ** 0.5
        + (T / T0) ** -2.5 * (0.01275 * np.exp(-2239.1 / T) / (frO + f**2 / frO) + 0.1068 * np.exp(-3352.0 / T) / (frN + f**2 / frN))
    )
    return a * 1000.0


def a_div(d_m: np.ndarray) -> np.ndarray:
    """Geometric divergence of a point source (eq. 2.5.10): ``20 lg d + 11`` (n,)."""
    return 20.0 * np.log10(np.maximum(np.asarray(d_m, dtype=float), 1e-3)) + 11.0


def a_atm(d_m: np.ndarray, alpha_db_per_km: np.ndarray) -> np.ndarray:
    """Atmospheric absorption per band (eq. 2.5.11): ``alpha d / 1000`` (n, 8)."""
    return np.asarray(d_m, dtype=float)[:, None] * alpha_db_per_km[None, :] / 1000.0


def g_path_prime(g_path: np.ndarray, zs: np.ndarray, zr: np.ndarray, dp: np.ndarray, g_s: np.ndarray | float) -> np.ndarray:
    """``G'_path`` (eq. 2.5.14): near the source the path ground is blended with the source's ``G_s``."""
    lim = 30.0 * (zs + zr)
    r = np.where(lim > 0, dp / np.maximum(lim, 1e-9), np.inf)
    return np.where(dp <= lim, g_path * r + g_s * (1.0 - r), g_path)


def _w(g: np.ndarray) -> np.ndarray:
    f = BANDS_HZ[None, :]
    g = np.clip(np.asarray(g, dtype=float), 0.0, 1.0)[:, None]
    g26 = g**2.6
    return 0.0185 * f**2.5 * g26 / (f**1.5 * g26 + 1.3e3 * f**0.75 * g**1.3 + 1.16e6)


def a_ground(
    zs: np.ndarray,
    zr: np.ndarray,
    dp: np.ndarray,
    g_path: np.ndarray,
    g_s: np.ndarray | float = 0.0,
    favourable: bool = False,
    g_prime: np.ndarray | None = None,
) -> np.ndarray:
    """Ground attenuation per band on flat ground (mean plane), eq. 2.5.15-2.5.20.

    Parameters
    ----------
    zs, zr : ndarray (n,)
        Source and receiver heights above the (mean) ground plane, m.
    dp : ndarray (n,)
        Distance between source and receiver projected on the ground plane, m.
    g_path : ndarray (n,)
        Share of soft ground along the path (0..1).
    g_s : float or ndarray
        Ground factor at the source (0 for road platforms).
    favourable : bool
        Downward-refracting conditions (heights raised by the curvature terms).
    g_prime : ndarray, optional
        ``G'_path`` when already known (otherwise from :func:`g_path_prime`); pass ``g_path``
        for a path starting at a diffraction edge.

    Returns
    -------
    ndarray (n, 8), dB.
    """
    zs = np.asarray(zs, dtype=float)
    zr = np.asarray(zr, dtype=float)
    dp = np.maximum(np.asarray(dp, dtype=float), 1e-3)
    g_path = np.asarray(g_path, dtype=float)
    gp = g_path_prime(g_path, zs, zr, dp, g_s) if g_prime is None else np.asarray(g_prime, dtype=float)
    lim = 30.0 * (zs + zr)
    if favourable:
        s = np.maximum(zs + zr, 1e-9)
        dzs = A0_PER_M * (zs / s) ** 2 * dp**2 / 2.0
        dzr = A0_PER_M * (zr / s) ** 2 * dp**2 / 2.0
        dzt = 6e-3 * dp / s
        zse, zre = zs + dzs + dzt, zr + dzr + dzt
        w = _w(g_path)
        amin = np.where(dp <= lim, -3.0 * (1.0 - gp), -3.0 * (1.0 - gp) * (1.0 + 2.0 * (1.0 - lim / dp)))
    else:
        zse, zre = zs, zr
        w = _w(gp)
        amin = -3.0 * (1.0 - gp)
    k = 2.0 * np.pi * BANDS_HZ[None, :] / SOUND_SPEED_MS
    d = dp[:, None]
    wd = w * d
    cf = d * (1.0 + 3.0 * wd * np.exp(-np.sqrt(wd))) / (1.0 + wd)
    r = np.sqrt(2.0 * cf / k)
    ck = cf / k
    term = 4.0 * k**2 / d**2 * (zse[:, None] ** 2 - r * zse[:, None] + ck) * (zre[:, None] ** 2 - r * zre[:, None] + ck)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = -10.0 * np.log10(term)
    val = np.where(np.isfinite(val), val, amin[:, None])
    out = np.maximum(val, amin[:, None])
    hard = (g_path <= 0)[:, None]
    return np.where(hard, np.broadcast_to(amin[:, None], out.shape) if favourable else -3.0 * (1.0 - gp)[:, None] * np.ones_like(out), out)


def delta_dif(delta_m: np.ndarray, c2: np.ndarray | float = 1.0, max_db: float = 25.0) -> np.ndarray:
    """Diffraction of one edge per band (eq. 2.5.21): ``10 lg(3 + 40/lambda C'' delta)`` or 0.

    ``delta_m`` (n,) is the path difference; capped at ``max_db``.
    """
    lam = SOUND_SPEED_MS / BANDS_HZ[None, :]
    x = 40.0 / lam * np.asarray(c2, dtype=float).reshape(-1, 1) * np.asarray(delta_m, dtype=float)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(x >= -2.0, 10.0 * np.log10(np.maximum(3.0 + x, 1e-12)), 0.0)
    return np.minimum(v, max_db)


def _arc(chord: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    return 2.0 * gamma * np.arcsin(np.clip(chord / (2.0 * gamma), -1.0, 1.0))


def path_difference(sx, sz, ox, oz, rx, rz, favourable: bool = False) -> np.ndarray:
    """Path difference over one edge O between S and R (2-D vertical plane), eq. 2.5.22-2.5.26.

    Homogeneous: ``SO + OR - SR``. Favourable: the same with circular arcs of radius
    ``Gamma = max(1000, 8 SR)`` (rays curved downwards).
    """
    so = np.hypot(ox - sx, oz - sz)
    orr = np.hypot(rx - ox, rz - oz)
    sr = np.hypot(rx - sx, rz - sz)
    if not favourable:
        return so + orr - sr
    gamma = np.maximum(1000.0, 8.0 * sr)
    return _arc(so, gamma) + _arc(orr, gamma) - _arc(sr, gamma)


def a_dif_edge(
    d_so: np.ndarray,
    d_or: np.ndarray,
    zs: np.ndarray,
    zo: np.ndarray,
    zr: np.ndarray,
    g_so: np.ndarray,
    g_or: np.ndarray,
    g_s: np.ndarray | float = 0.0,
    favourable: bool = False,
    max_db: float = 25.0,
) -> np.ndarray:
    """Diffraction attenuation over one horizontal edge on flat ground, with ground effects (eq. 2.5.31-2.5.33).

    ``A_dif = Delta_dif(S,R) + Delta_ground(S,O) + Delta_ground(O,R)`` where the ground terms
    weigh ``A_ground`` of each side by the image-source/receiver diffraction differences.

    Parameters
    ----------
    d_so, d_or : horizontal distances source-edge and edge-receiver (m)
    zs, zo, zr : heights of source, edge and receiver above the ground (m)
    g_so, g_or : share of soft ground on each side; ``g_s`` at the source.
    """
    zs, zo, zr = (np.asarray(a, dtype=float) for a in (zs, zo, zr))
    d_so = np.asarray(d_so, dtype=float)
    d = d_so + np.asarray(d_or, dtype=float)
    dsr = delta_dif(path_difference(0.0, zs, d_so, zo, d, zr, favourable), 1.0, max_db)
    # the image-path terms only weigh the ground effect: they are not capped (ISO/TR 17534-4 TC07)
    dspr = delta_dif(path_difference(0.0, -zs, d_so, zo, d, zr, favourable), 1.0, np.inf)
    dsrp = delta_dif(path_difference(0.0, zs, d_so, zo, d, -zr, favourable), 1.0, np.inf)
    ag_so = a_ground(zs, zo, d_so, g_so, g_s, favourable)
    ag_or = a_ground(zo, zr, np.asarray(d_or, dtype=float), g_or, 0.0, favourable, g_prime=g_or)
    dg_so = -20.0 * np.log10(1.0 + (np.power(10.0, -ag_so / 20.0) - 1.0) * np.power(10.0, -(dspr - dsr) / 20.0))
    dg_or = -20.0 * np.log10(1.0 + (np.power(10.0, -ag_or / 20.0) - 1.0) * np.power(10.0, -(dsrp - dsr) / 20.0))
    return dsr + dg_so + dg_or


def attenuation(
    dp: np.ndarray,
    zs: np.ndarray,
    zr: np.ndarray,
    g_path: np.ndarray,
    alpha_db_per_km: np.ndarray,
    g_s: np.ndarray | float = 0.0,
    edge_d_m: np.ndarray | None = None,
    edge_z_m: np.ndarray | None = None,
    g_so: np.ndarray | None = None,
    g_or: np.ndarray | None = None,
    d_m: np.ndarray | None = None,
    g_prime: np.ndarray | None = None,
    max_dif_db: float = 25.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Total attenuation per band in homogeneous and favourable conditions.

    ``A = A_div + A_atm + A_boundary`` with ``A_boundary = A_ground`` on a free path and
    ``A_dif`` (one edge, ground included) where ``edge_d_m`` is finite.

    Parameters
    ----------
    dp, zs, zr, g_path, g_s : see :func:`a_ground`
    alpha_db_per_km : ndarray (8,)
    edge_d_m, edge_z_m : ndarray (n,), optional
        Horizontal distance from the source to the diffracting edge and its height (NaN: free path).
    g_so, g_or : ndarray (n,), optional
        Soft-ground share between source and edge, edge and receiver.
    d_m : ndarray (n,), optional
        3-D source-receiver distance (default from ``dp`` and the heights).

    Returns
    -------
    (A_H, A_F) : two ndarrays (n, 8), dB.
    """
    dp = np.asarray(dp, dtype=float)
    zs = np.broadcast_to(np.asarray(zs, dtype=float), dp.shape)
    zr = np.broadcast_to(np.asarray(zr, dtype=float), dp.shape)
    g_path = np.broadcast_to(np.asarray(g_path, dtype=float), dp.shape)
    d = np.hypot(dp, zr - zs) if d_m is None else np.asarray(d_m, dtype=float)
    base = a_div(d)[:, None] + a_atm(d, alpha_db_per_km)
    ah = a_ground(zs, zr, dp, g_path, g_s, False, g_prime)
    af = a_ground(zs, zr, dp, g_path, g_s, True, g_prime)
    if edge_d_m is not None:
        ed = np.asarray(edge_d_m, dtype=float)
        dif = np.isfinite(ed)
        if dif.any():
            gs = np.broadcast_to(np.asarray(g_s, dtype=float), dp.shape)[dif]
            args = (ed[dif], dp[dif] - ed[dif], zs[dif], np.asarray(edge_z_m, dtype=float)[dif], zr[dif],
                    np.asarray(g_so, dtype=float)[dif], np.asarray(g_or, dtype=float)[dif], gs)
            ah[dif] = a_dif_edge(*args, favourable=False, max_db=max_dif_db)
            af[dif] = a_dif_edge(*args, favourable=True, max_db=max_dif_db)
    return base + ah, base + af


def combine_conditions(lh_db: np.ndarray, lf_db: np.ndarray, p_favourable: float) -> np.ndarray:
    """Long-term level (eq. 2.5.4): ``10 lg(p 10^(LF/10) + (1-p) 10^(LH/10))``."""
    return 10.0 * np.log10(p_favourable * np.power(10.0, lf_db / 10.0) + (1.0 - p_favourable) * np.power(10.0, lh_db / 10.0))


def lden(l_day: np.ndarray, l_evening: np.ndarray, l_night: np.ndarray) -> np.ndarray:
    """Day-evening-night level (Directive 2002/49/EC Annex I): 12 h day, 4 h evening +5 dB, 8 h night +10 dB."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(
            (12.0 * np.power(10.0, l_day / 10.0) + 4.0 * np.power(10.0, (l_evening + 5.0) / 10.0) + 8.0 * np.power(10.0, (l_night + 10.0) / 10.0)) / 24.0
        )
