"""CNOSSOS-EU emission and propagation formulas, vectorised over source-receiver paths.

Implements the parts of Annex II of Directive 2002/49/EC as replaced by Commission Directive
(EU) 2015/996 and amended by Delegated Directive (EU) 2021/1226 that the noise layer needs:

- road emission per vehicle category (1 light, 2 medium heavy, 3 heavy) and octave band
  63-8000 Hz: rolling noise ``AR + BR lg(v/70)`` (+ temperature correction), propulsion noise
  ``AP + BP (v-70)/70``, and the directional line source ``L_W + 10 lg(Q / 1000 v)``
  (section 2.2; coefficients in ``data/norms/cnossos_road.csv``), with optional per-band
  corrections on rolling and propulsion noise (:func:`surface_correction` for the road surface of
  Appendix F Table F-4; junction corrections are added by the caller);
- the full road source model of section 2.2.4 for all categories (1, 2, 3, 4a, 4b): studded
  tyres, air temperature, road gradient (one- and two-way), acceleration near junctions and road
  surface, for the 2015 or the 2021 coefficient set (:func:`load_road_coefficients`,
  :func:`road_line_emission`; checked against NoiseModelling's reference figures in
  ``tests/test_cnossos_emission.py``);
- a simplified railway line source (section 2.3): rolling noise scaled with speed plus traction
  noise (source heights A and B) per traction unit (:func:`rail_line_emission`; spectra of one
  reference vehicle in ``cnossos_rail.csv``);
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

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gezondestad.model.norms import load_norms, load_table

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


def _per_band(d_db: np.ndarray | float) -> np.ndarray:
    """A correction as a column (scalar or (n,) -> (n or 1, 1)) or as given when already (n, 8)."""
    d = np.asarray(d_db, dtype=float)
    return d if d.ndim == 2 else d.reshape(-1, 1)


def vehicle_sound_power(
    coeffs: np.ndarray,
    speed_kmh: np.ndarray,
    v_ref_kmh: float = 70.0,
    d_rolling_db: np.ndarray | float = 0.0,
    d_propulsion_db: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Sound power of one vehicle per band (eq. 2.2.3-2.2.5): rolling + propulsion.

    Parameters
    ----------
    coeffs : ndarray (8, 4)
        ``AR, BR, AP, BP`` per band for one category.
    speed_kmh : ndarray (n,)
    d_rolling_db : float, ndarray (n,) or ndarray (n, 8)
        Correction on rolling noise (temperature, surface, junction).
    d_propulsion_db : float, ndarray (n,) or ndarray (n, 8)
        Correction on propulsion noise (surface ``min(alpha, 0)``, junction, gradient).

    Returns
    -------
    ndarray (n, 8) in dB re 1 pW.
    """
    v = np.asarray(speed_kmh, dtype=float)[:, None]
    ar, br, ap, bp = (coeffs[:, i][None, :] for i in range(4))
    lwr = ar + br * np.log10(v / v_ref_kmh) + _per_band(d_rolling_db)
    lwp = ap + bp * (v - v_ref_kmh) / v_ref_kmh + _per_band(d_propulsion_db)
    return 10.0 * np.log10(np.power(10.0, lwr / 10.0) + np.power(10.0, lwp / 10.0))


def surface_correction(alpha: np.ndarray, beta: np.ndarray | float, speed_kmh: np.ndarray, v_ref_kmh: float = 70.0) -> tuple[np.ndarray, np.ndarray]:
    """Road-surface correction of one category (eq. 2.2.19-2.2.20), vectorised over segments.

    ``alpha`` (n, 8) or (8,) and ``beta`` (n,) or scalar of each segment's surface (0 for the
    reference surface); ``speed_kmh`` (n,) is the speed inside the surface's validity range.

    Returns
    -------
    (rolling, propulsion) : ndarrays (n, 8), dB: ``alpha + beta lg(v / v_ref)`` and ``min(alpha, 0)``.
    """
    v = np.asarray(speed_kmh, dtype=float)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (v.size, 8))
    b = np.broadcast_to(np.asarray(beta, dtype=float), v.shape)
    return a + (b * np.log10(v / v_ref_kmh))[:, None], np.minimum(a, 0.0)


def line_source_power(lw_vehicle_db: np.ndarray, vehicles_per_hour: np.ndarray, speed_kmh: np.ndarray) -> np.ndarray:
    """Sound power per metre of a traffic flow (eq. 2.2.1): ``L_W + 10 lg(Q / (1000 v))``.

    ``vehicles_per_hour`` of 0 gives -inf.
    """
    q = np.asarray(vehicles_per_hour, dtype=float)[:, None]
    v = np.asarray(speed_kmh, dtype=float)[:, None]
    with np.errstate(divide="ignore"):
        return lw_vehicle_db + 10.0 * np.log10(q / (1000.0 * v))


# --------------------------------------------------------------------------------------------
# full road source model (section 2.2.4): corrections and all vehicle categories
# --------------------------------------------------------------------------------------------

ROAD_CATEGORIES: tuple[str, ...] = ("1", "2", "3", "4a", "4b")
"""Vehicle categories: 1 light, 2 medium heavy, 3 heavy, 4a mopeds, 4b motorcycles."""


@dataclass(frozen=True)
class RoadCoefficients:
    """One CNOSSOS-EU road coefficient set read from ``data/norms`` (see :func:`load_road_coefficients`).

    Attributes
    ----------
    coeff_set : ``"2015"`` (Directive 2015/996 as published) or ``"2021"`` (as amended by 2021/1226).
    vehicle : category -> ndarray (8, 4) of ``AR, BR, AP, BP`` per band.
    stud_ab : ndarray (8, 2), studded-tyre ``a, b`` per band (category 1).
    junction : (category, junction type) -> ``(C_R, C_P)``.
    gradient : (category, "downhill"|"uphill") -> ``(s0 %, s_max %, divisor, speed offset km/h or NaN)``.
    surface : (surface, category) -> ``(alpha (8,), beta)``.
    temperature_k : category -> K (dB/degC) of the rolling-noise temperature correction.
    t_ref_c : reference air temperature (degC).
    v_ref_kmh : reference speed (km/h).
    """

    coeff_set: str
    vehicle: dict[str, np.ndarray]
    stud_ab: np.ndarray
    junction: dict[tuple[str, int], tuple[float, float]]
    gradient: dict[tuple[str, str], tuple[float, float, float, float]]
    surface: dict[tuple[str, str], tuple[np.ndarray, float]] = field(default_factory=dict)
    temperature_k: dict[str, float] = field(default_factory=dict)
    t_ref_c: float = 20.0
    v_ref_kmh: float = 70.0


@dataclass(frozen=True)
class RoadConditions:
    """Conditions of a road segment for :func:`road_line_emission` (defaults: the reference case).

    ``studded_share`` is ``p_m`` (share of light vehicles with studded tyres) and
    ``studded_months`` is ``T_s`` (months per year they are fitted), eq. 2.2.7; ``slope_pct`` is
    the gradient in the driving direction (positive uphill); ``two_way`` splits the flow in half
    uphill and half downhill (section 2.2.4, road gradients); ``junction_type`` 0 none, 1 traffic
    lights, 2 roundabout, at ``junction_distance_m``; ``surface`` "" is the reference surface.
    """

    temperature_c: float = 20.0
    studded_share: float = 0.0
    studded_months: float = 0.0
    slope_pct: float = 0.0
    two_way: bool = False
    junction_type: int = 0
    junction_distance_m: float = math.inf
    surface: str = ""


def load_road_coefficients(coeff_set: str = "2021", norms_dir: str | Path | None = None) -> RoadCoefficients:
    """Read one road coefficient set from the ``cnossos_road_*`` tables and ``noise.toml``."""
    veh = load_table("cnossos_road_vehicles", norms_dir)
    veh = veh[veh["coeff_set"].astype(str) == str(coeff_set)]
    if veh.empty:
        raise ValueError(f"unknown CNOSSOS road coefficient set {coeff_set!r}")
    vehicle = {
        str(c): g.sort_values("band_hz")[["ar", "br", "ap", "bp"]].to_numpy(dtype=float)
        for c, g in veh.groupby(veh["category"].astype(str))
    }
    stud = load_table("cnossos_road_studded", norms_dir).sort_values("band_hz")[["a", "b"]].to_numpy(dtype=float)
    jt = load_table("cnossos_road_junction", norms_dir)
    junction = {(str(r.category), int(r.junction_type)): (float(r.cr), float(r.cp)) for r in jt.itertuples()}
    gt = load_table("cnossos_road_gradient", norms_dir)
    gradient = {
        (str(r.category), str(r.direction)): (float(r.s0_pct), float(r.s_max_pct), float(r.divisor), float(r.speed_offset_kmh))
        for r in gt.itertuples()
    }
    st = load_table("cnossos_road_surface", norms_dir)
    st = st[st["coeff_set"].astype(str) == str(coeff_set)]
    acols = [f"alpha_{int(b)}" for b in BANDS_HZ]
    surface = {(str(r["surface"]), str(r["category"])): (r[acols].to_numpy(dtype=float), float(r["beta"])) for _, r in st.iterrows()}
    nn = load_norms("noise", norms_dir)
    k_light = float(nn["road_temperature_k_light"].value)
    k_heavy = float(nn["road_temperature_k_heavy"].value)
    return RoadCoefficients(
        str(coeff_set), vehicle, stud, junction, gradient, surface,
        {"1": k_light, "2": k_heavy, "3": k_heavy, "4a": 0.0, "4b": 0.0},
        float(nn["road_temperature_ref_c"].value), float(nn["road_speed_ref_kmh"].value),
    )


def studded_tyres_correction(speed_kmh: np.ndarray, studded_share: float, studded_months: float, stud_ab: np.ndarray, v_ref_kmh: float = 70.0) -> np.ndarray:
    """Studded-tyre correction on the rolling noise of category 1 (eq. 2.2.6-2.2.8), (n, 8) dB.

    ``delta_stud = a + b lg(v / v_ref)`` with ``v`` clipped to 50..90 km/h, weighted by the yearly
    share ``p_s = p_m T_s / 12``: ``10 lg((1 - p_s) + p_s 10^(delta_stud/10))``.
    """
    ps = float(np.clip(studded_share * studded_months / 12.0, 0.0, 1.0))
    v = np.clip(np.asarray(speed_kmh, dtype=float), 50.0, 90.0)[:, None]
    d = stud_ab[:, 0][None, :] + stud_ab[:, 1][None, :] * np.log10(v / v_ref_kmh)
    return 10.0 * np.log10((1.0 - ps) + ps * np.power(10.0, d / 10.0))


def gradient_correction(slope_pct: np.ndarray | float, speed_kmh: np.ndarray, rows: dict[str, tuple[float, float, float, float]]) -> np.ndarray:
    """Gradient correction on the propulsion noise of one category (eq. 2.2.13-2.2.16), (n,) dB.

    ``rows`` maps ``"downhill"``/``"uphill"`` to ``(s0, s_max, divisor, speed_offset)`` from
    ``cnossos_road_gradient.csv``; missing rows (categories 4a/4b) give 0.
    """
    v = np.asarray(speed_kmh, dtype=float)
    s = np.broadcast_to(np.asarray(slope_pct, dtype=float), v.shape)
    out = np.zeros(v.shape)
    for direction, sign in (("downhill", -1.0), ("uphill", 1.0)):
        if direction not in rows:
            continue
        s0, smax, div, voff = rows[direction]
        ss = sign * s
        factor = np.ones(v.shape) if not np.isfinite(voff) else (v - voff) / 100.0
        out = np.where(ss > s0, (np.minimum(smax, ss) - s0) / div * factor, out)
    return out


def junction_factor(distance_m: float) -> float:
    """Weight of the junction correction at ``distance_m`` from the junction: ``max(1 - |x|/100, 0)`` (eq. 2.2.17)."""
    return max(1.0 - abs(distance_m) / 100.0, 0.0) if math.isfinite(distance_m) else 0.0


def _category_parts(rc: RoadCoefficients, cat: str, v: np.ndarray, cond: RoadConditions) -> tuple[np.ndarray, np.ndarray]:
    """Rolling and propulsion sound power (n, 8) of one vehicle of ``cat`` with every correction but the gradient."""
    c = rc.vehicle[cat]
    ar, br, ap, bp = (c[:, i][None, :] for i in range(4))
    vv = v[:, None]
    alpha, beta = rc.surface.get((cond.surface, cat), (np.zeros(8), 0.0))
    if cond.surface and not any(k[0] == cond.surface for k in rc.surface):
        raise ValueError(f"unknown road surface {cond.surface!r} in coefficient set {rc.coeff_set}")
    cr, cp = rc.junction.get((cat, cond.junction_type), (0.0, 0.0)) if cond.junction_type else (0.0, 0.0)
    jf = junction_factor(cond.junction_distance_m)
    lwr = ar + br * np.log10(vv / rc.v_ref_kmh) + alpha[None, :] + beta * np.log10(vv / rc.v_ref_kmh)
    lwr = lwr + rc.temperature_k.get(cat, 0.0) * (rc.t_ref_c - cond.temperature_c) + cr * jf
    if cat == "1" and cond.studded_share > 0 and cond.studded_months > 0:
        lwr = lwr + studded_tyres_correction(v, cond.studded_share, cond.studded_months, rc.stud_ab, rc.v_ref_kmh)
    lwp = ap + bp * (vv - rc.v_ref_kmh) / rc.v_ref_kmh + np.minimum(alpha, 0.0)[None, :] + cp * jf
    return lwr, lwp


def road_vehicle_sound_power(rc: RoadCoefficients, category: str, speed_kmh: np.ndarray, cond: RoadConditions = RoadConditions(), slope_pct: np.ndarray | float | None = None) -> np.ndarray:
    """Sound power of one vehicle of ``category`` per band (eq. 2.2.2-2.2.3), (n, 8) dB re 1 pW.

    Categories 4a/4b have propulsion noise only. ``slope_pct`` overrides ``cond.slope_pct``
    (the driving direction's gradient).
    """
    v = np.asarray(speed_kmh, dtype=float)
    lwr, lwp = _category_parts(rc, category, v, cond)
    rows = {d: rc.gradient[(category, d)] for d in ("downhill", "uphill") if (category, d) in rc.gradient}
    lwp = lwp + gradient_correction(cond.slope_pct if slope_pct is None else slope_pct, v, rows)[:, None]
    if category in ("4a", "4b"):
        return lwp
    return 10.0 * np.log10(np.power(10.0, lwr / 10.0) + np.power(10.0, lwp / 10.0))


def road_line_emission(rc: RoadCoefficients, vehicles_per_hour: dict[str, np.ndarray], speed_kmh: dict[str, np.ndarray], cond: RoadConditions = RoadConditions()) -> np.ndarray:
    """Sound power per metre of a mixed traffic flow per band (eq. 2.2.1), (n, 8) dB re 1 pW/m.

    ``vehicles_per_hour`` and ``speed_kmh`` map categories (``"1"`` .. ``"4b"``) to arrays (n,);
    absent categories carry no traffic. With ``cond.two_way`` half of each flow drives uphill and
    half downhill. Returns -inf where no vehicle runs.
    """
    parts = []
    for cat, q in vehicles_per_hour.items():
        q = np.asarray(q, dtype=float)
        v = np.asarray(speed_kmh[cat], dtype=float)
        if cond.two_way and cond.slope_pct != 0:
            up = road_vehicle_sound_power(rc, cat, v, cond, abs(cond.slope_pct))
            down = road_vehicle_sound_power(rc, cat, v, cond, -abs(cond.slope_pct))
            parts += [line_source_power(up, q / 2.0, v), line_source_power(down, q / 2.0, v)]
        else:
            parts.append(line_source_power(road_vehicle_sound_power(rc, cat, v, cond), q, v))
    return energy_sum(np.stack(parts, axis=-1), axis=-1)


# --------------------------------------------------------------------------------------------
# railway source (section 2.3, simplified)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RailSpectra:
    """Per-vehicle sound power per octave band at the reference speed (``cnossos_rail.csv``).

    ``rolling_db`` (source A, 0.5 m), ``traction_a_db`` (0.5 m) and ``traction_b_db`` (4 m), each (8,).
    """

    rolling_db: np.ndarray
    traction_a_db: np.ndarray
    traction_b_db: np.ndarray

    @property
    def traction_db(self) -> np.ndarray:
        """Traction noise of both source heights together (energy sum), (8,)."""
        return energy_sum(np.stack([self.traction_a_db, self.traction_b_db], axis=-1), axis=-1)


def load_rail_spectra(norms_dir: str | Path | None = None) -> RailSpectra:
    """Read the railway source spectra from ``cnossos_rail.csv``."""
    t = load_table("cnossos_rail", norms_dir).sort_values("band_hz")
    return RailSpectra(*(t[c].to_numpy(dtype=float) for c in ("lw0_db", "lw0_traction_a_db", "lw0_traction_b_db")))


def rail_line_emission(
    rolling_lw0_db: np.ndarray,
    traction_lw0_db: np.ndarray,
    speed_kmh: np.ndarray,
    vehicles_per_hour: np.ndarray,
    traction_units_per_hour: np.ndarray,
    v_ref_kmh: float = 80.0,
    speed_exponent: float = 30.0,
) -> np.ndarray:
    """Sound power per metre of a railway line per band (eq. 2.3.1 with rolling and traction), (n, 8).

    Rolling noise ``L_W0,roll + k lg(v / v_ref) + 10 lg(Q_veh / (1000 v))`` (``k`` = ``speed_exponent``:
    roughness-dominated rolling noise) and traction noise ``L_W0,tr + 10 lg(Q_tr / (1000 v))``
    (constant-speed traction, independent of speed per unit), summed on an energy basis.
    Aerodynamic noise (relevant above 200 km/h, Annex II 2.3.2) is not modelled.
    """
    v = np.asarray(speed_kmh, dtype=float)
    roll = np.asarray(rolling_lw0_db, dtype=float)[None, :] + speed_exponent * np.log10(v / v_ref_kmh)[:, None]
    tr = np.broadcast_to(np.asarray(traction_lw0_db, dtype=float)[None, :], roll.shape)
    parts = [line_source_power(roll, vehicles_per_hour, v), line_source_power(tr, traction_units_per_hour, v)]
    return energy_sum(np.stack(parts, axis=-1), axis=-1)


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
