"""Health outcomes of exposures per home: deaths, DALYs and euros a year, per pathway, with uncertainty.

Pure arithmetic on a per-home exposure frame (no GIS here; :mod:`screening.health_outcomes`
assembles the frame from a study area). Every coefficient comes from ``data/norms/health.toml``
and the age-band table ``data/norms/health_baseline.csv`` (:class:`HealthParams`).

Pathways and the per-home column each one reads (a pathway whose column is absent or all NaN is
*onbekend*: listed in ``notes``, never counted as 0):

===================  =================================  ==========================================
pathway              column(s)                          relation
===================  =================================  ==========================================
``walking``          ``walk_access`` or                 WHO HEAT (Kahlmeier et al. 2017): risk
                     ``walk_min_week``                  reduction (1 - RR) x min / ref, capped
``cycling``          ``cycle_access`` or                idem, cycling RR and cap
                     ``cycle_min_week``
``pm25``, ``no2``    ``pm25_ugm3``, ``no2_ugm3``        RR per 10 ug/m3 (WHO AQG 2021 CRFs)
``noise_ihd``        ``lden_road_db`` or ``lden_db``    road traffic only: IHD incidence RR per 10
                                                        dB above 53 dB
``noise_annoyance``  ``lden_road_db`` + ``lden_rail_db`` %HA curves per source (Guski et al. 2017)
                     or ``lden_db``                     x DW 0.02, each above its guideline level
``noise_sleep``      ``lnight_road_db`` +               %HSD curves per source (Basner & McGuire
                     ``lnight_rail_db`` or              2018) x DW 0.07
                     ``lnight_db``
``heat``             ``tair_hot_day_c``                 RR per degC above the rural reference on
                                                        hot days x hot days / 365
``green``            ``ndvi_proxy``                     RR per +0.1 NDVI (Rojas-Rueda et al. 2019)
===================  =================================  ==========================================

Burden per home
---------------
For a pathway with relative risk ``RR(x)`` of exposure ``x`` against its counterfactual ``x_cf``
(the WHO guideline, the rural temperature, the greenness target, the recommended activity), the
attributable fraction is ``PAF = 1 - 1 / RR`` and the attributable deaths of a home are
``residents x sum_b(share_b x mortality_b) x PAF`` over the age bands ``b`` the relation applies
to; years of life lost weight each band's deaths by its remaining life expectancy. Morbidity
pathways give DALYs directly (cases x disability weight, IHD cases x DALY per case).

*Current city* (``after=None``): the burden of not meeting each recommendation; exposures
better than the counterfactual count 0 (physical activity: the gap to 150 min/week is walked).
*Plan* (before vs after): per group the change ``A_after - A_before``. Existing residents are
compared with themselves with the relations *unclipped* at the counterfactual for air, green and
activity (log-linear / linear relations, so a change below a guideline still counts: walking
and cycling give the HEAT change ``-(r_after - r_before)``), while noise (curves valid only above
the guideline), IHD (relation stated above 53 dB) and heat (hot days above the threshold) stay
clipped. New residents count the burden they carry at their new home and removed residents the
burden they no longer carry there, both against the counterfactuals (as for the current city):
where they lived before is unknown. Positive = more deaths (worse); negative = health gain.

Monte Carlo
-----------
Relative risks are drawn from lognormals whose 95 % interval is the CI (scrambled
quasi-random Sobol' points, seeded; with the default 4,096 draws the interval is stable to two
significant figures between seeds); the mode-choice
response, hot days a year, DALYs per IHD case and new residents' household size uniformly
between their low and high values; the regional NO2/PM2.5 background as one normal shift per
draw. Per pathway the homes are first binned by exposure (``exposure_levels`` steps over the range) with their
summed weights per group, so a draw costs one evaluation per unique value: 40,000 homes x 1,000
draws take about a second (``bench/bench_health.py``). Draws are shared between the situations
and the pathways (common random numbers) so differences and totals are consistent per draw.
Results are a comparison between plan variants, not a forecast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.norms import NORMS_DIR, load_norms, load_table

logger = logging.getLogger(__name__)

PATHWAYS: tuple[str, ...] = ("walking", "cycling", "pm25", "no2", "noise_ihd", "noise_annoyance", "noise_sleep", "heat", "green")
"""All pathways, in report order."""

PATHWAY_LABELS_NL: dict[str, str] = {
    "walking": "Wandelen",
    "cycling": "Fietsen",
    "physical_activity": "Lichaamsbeweging (wandelen + fietsen)",
    "pm25": "Fijnstof (PM2,5)",
    "no2": "Stikstofdioxide (NO2)",
    "noise_ihd": "Wegverkeerslawaai: ischemische hartziekte",
    "noise_annoyance": "Weg- en spoorlawaai: ernstige hinder",
    "noise_sleep": "Weg- en spoorlawaai: ernstige slaapverstoring",
    "heat": "Hitte (stedelijk hitte-eiland)",
    "green": "Groen rond de woning",
    "total": "Totaal",
}

EXPOSURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "walking": ("walk_access", "walk_min_week"),
    "cycling": ("cycle_access", "cycle_min_week"),
    "pm25": ("pm25_ugm3",),
    "no2": ("no2_ugm3",),
    "noise_ihd": ("lden_road_db", "lden_db"),
    "noise_annoyance": ("lden_road_db", "lden_db"),
    "noise_sleep": ("lnight_road_db", "lnight_db"),
    "heat": ("tair_hot_day_c",),
    "green": ("ndvi_proxy",),
}
"""Per pathway the accepted exposure columns, first present wins. With the road-only level the
railway level (:data:`RAIL_COLUMNS`) is added for annoyance and sleep when the frame has it; a
total level without a split is judged with the road-traffic curves."""

MORBIDITY_ONLY: tuple[str, ...] = ("noise_annoyance", "noise_sleep")
"""Pathways that count disability (DALYs) but no deaths."""

RAIL_COLUMNS: dict[str, str] = {"noise_annoyance": "lden_rail_db", "noise_sleep": "lnight_rail_db"}
"""Railway level read next to the road level (Directive (EU) 2020/367 Annex III: high annoyance
and sleep disturbance per source; ischaemic heart disease for road traffic only)."""

GROUP_LABELS_NL: dict[str, str] = {
    "total": "Alle bewoners",
    "existing": "Bestaande bewoners",
    "new": "Nieuwe bewoners",
    "removed": "Verdwenen bewoners",
    "age_65plus": "65-plussers",
    "age_0_5": "Kinderen 0-5 jaar",
}
"""Dutch labels of the result groups (deprivation quintiles are ``q1`` (most deprived) .. ``q5``)."""

METRICS: tuple[str, ...] = ("deaths", "dalys", "eur", "eur_vsl")
DEFAULT_DRAWS = 4096
"""Monte Carlo draws by default: at this size the median and 95 % interval agree to two
significant figures between seeds (``bench/bench_health.py``); at 1,000 they differ by ~1 %."""
COMPARISON_LABEL_NL = (
    "Vergelijking tussen planvarianten met gemiddelde risico's uit de literatuur, geen voorspelling van "
    "sterfte in deze stad. Mediaan en 95 %-interval uit een Monte-Carlosimulatie."
)
BURDEN_LABEL_NL = (
    "Ziektelast tegenover de aanbevelingen (WHO-richtwaarden, 150 minuten beweging, groennorm) met gemiddelde "
    "risico's uit de literatuur: een vergelijking tussen paden en wijken, geen voorspelling van sterfte in deze stad. "
    "Mediaan en 95 %-interval uit een Monte-Carlosimulatie."
)


class HealthNormError(GezondeStadError):
    """A health norm or baseline table is missing or out of range."""


class HealthInputError(GezondeStadError):
    """The per-home exposure frame cannot be used."""


# ------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgeBand:
    """One age band of the baseline table (rates per person per year)."""

    name: str
    lo: int
    hi: int
    pop_share: float
    mortality: float
    ihd_incidence: float
    ihd_mortality: float
    life_expectancy: float


Triple = tuple[float, float, float]
Curve = tuple[float, float, float]


@dataclass(frozen=True)
class HealthParams:
    """Every number of the health layer, validated (see ``data/norms/health.toml``)."""

    pa_walk_rr: Triple
    pa_walk_ref_min: float
    pa_walk_cap: float
    pa_walk_age: tuple[int, int]
    pa_cycle_rr: Triple
    pa_cycle_ref_min: float
    pa_cycle_cap: float
    pa_cycle_age: tuple[int, int]
    pa_recommended_min: float
    pa_walk_base_min: float
    pa_cycle_base_min: float
    pa_cycle_gain_min: Triple
    pa_walk_gain_min: Triple
    pm25_rr: Triple
    pm25_cf_ugm3: float
    no2_rr: Triple
    no2_cf_ugm3: float
    air_min_age: int
    no2_pm25_overlap: float
    background_sd_no2_ugm3: float
    background_sd_pm25_ugm3: float
    noise_ihd_rr: Triple
    noise_lden_cf_db: float
    noise_lnight_cf_db: float
    noise_ha_curve: Curve
    noise_hsd_curve: Curve
    noise_rail_lden_cf_db: float
    noise_rail_lnight_cf_db: float
    noise_rail_ha_curve: Curve
    noise_rail_hsd_curve: Curve
    dw_high_annoyance: float
    dw_high_sleep_disturbance: float
    ihd_daly_per_case: Triple
    noise_min_age: int
    heat_rr_per_c: Triple
    heat_ref_c: float
    hot_days_per_year: Triple
    green_rr_per_01ndvi: Triple
    green_buffer_m: float
    ndvi_green: float
    ndvi_other: float
    green_target_share: float
    green_min_age: int
    voly_eur: float
    vsl_eur: float
    household_size_range: Triple
    exposure_levels: int
    bands: tuple[AgeBand, ...]
    norms_dir: str = ""

    @property
    def ndvi_target(self) -> float:
        """NDVI proxy of the greenness target (``green_target_share`` of green land)."""
        return ndvi_from_green_share(self.green_target_share, self)

    @classmethod
    def from_norms(cls, norms_dir: str | Path | None = None, **overrides: Any) -> "HealthParams":
        """Read and validate ``health.toml`` and ``health_baseline.csv`` (a custom folder overrides).

        Raises
        ------
        HealthNormError
            In Dutch, naming the entry, when a relative risk, rate or share is out of range.
        """
        d = str(norms_dir or NORMS_DIR)
        where = f"{d}/health.toml"
        try:
            norms = {k: n.value for k, n in load_norms("health", d).items()}
            table = load_table("health_baseline", d)
        except GezondeStadError as exc:
            raise HealthNormError(f"Gezondheidsnormen niet leesbaar: {exc} Zet health.toml en health_baseline.csv in de normenmap.") from exc
        norms.update(overrides)
        kw: dict[str, Any] = {}
        for f in cls.__dataclass_fields__:
            if f in ("bands", "norms_dir"):
                continue
            if f not in norms:
                raise HealthNormError(f"{where}: de norm '{f}' ontbreekt. Voeg ze toe (value, unit, source) of gebruik de meegeleverde normenmap.")
            kw[f] = norms[f]
        for f in (f for f, t in cls.__annotations__.items() if t == "Triple"):
            kw[f] = _triple(kw[f], f, where)
        for f in ("noise_ha_curve", "noise_hsd_curve", "noise_rail_ha_curve", "noise_rail_hsd_curve"):
            kw[f] = tuple(float(x) for x in norms[f])
        for f in ("pa_walk_age", "pa_cycle_age"):
            kw[f] = (int(norms[f][0]), int(norms[f][1]))
        _check_ranges(kw, where)
        return cls(**kw, bands=_bands(table, f"{d}/health_baseline.csv"), norms_dir=d)


def _triple(v: Any, f: str, where: str) -> Triple:
    """``[central, low, high]`` of norm ``f`` as floats, checked (low <= central <= high)."""
    if not isinstance(v, (list, tuple)) or len(v) != 3 or not all(isinstance(x, (int, float)) for x in v):
        raise HealthNormError(f"{where}: '{f}' moet drie getallen zijn [centraal, laag, hoog], niet {v!r}.")
    c, lo, hi = (float(x) for x in v)
    if not lo <= c <= hi:
        raise HealthNormError(f"{where}: '{f}' = {v}: de centrale waarde moet tussen laag en hoog liggen.")
    return (c, lo, hi)


def _check_ranges(kw: dict[str, Any], where: str) -> None:
    """Relative risks, shares and positive quantities of the health norms within their ranges."""
    harmful = ("pm25_rr", "no2_rr", "noise_ihd_rr", "heat_rr_per_c")
    protective = ("pa_walk_rr", "pa_cycle_rr", "green_rr_per_01ndvi")
    for f in harmful:
        if not (1.0 <= kw[f][1] and kw[f][2] <= 3.0):
            raise HealthNormError(f"{where}: relatief risico '{f}' = {list(kw[f])} valt buiten 1-3 (een schadelijke blootstelling heeft RR >= 1). Controleer de waarde en de eenheid.")
    for f in protective:
        if not (0.3 <= kw[f][1] and kw[f][2] <= 1.0):
            raise HealthNormError(f"{where}: relatief risico '{f}' = {list(kw[f])} valt buiten 0,3-1 (een beschermende factor heeft RR <= 1). Controleer de waarde.")
    for f in ("pa_walk_cap", "pa_cycle_cap", "no2_pm25_overlap", "green_target_share", "dw_high_annoyance", "dw_high_sleep_disturbance"):
        if not 0.0 <= float(kw[f]) <= 1.0:
            raise HealthNormError(f"{where}: '{f}' = {kw[f]} moet tussen 0 en 1 liggen.")
    for f in ("pa_walk_ref_min", "pa_cycle_ref_min", "voly_eur", "vsl_eur", "exposure_levels", "green_buffer_m"):
        if not float(kw[f]) > 0:
            raise HealthNormError(f"{where}: '{f}' = {kw[f]} moet groter dan 0 zijn.")
    if not (0 <= kw["hot_days_per_year"][1] and kw["hot_days_per_year"][2] <= 366):
        raise HealthNormError(f"{where}: 'hot_days_per_year' moet tussen 0 en 366 dagen liggen.")
    if kw["household_size_range"][1] <= 0:
        raise HealthNormError(f"{where}: 'household_size_range' moet positief zijn.")


def _bands(t: pd.DataFrame, where: str) -> tuple[AgeBand, ...]:
    need = ["age_band", "age_lo", "age_hi", "pop_share", "mortality_per_1000", "ihd_incidence_per_100000", "ihd_mortality_per_100000", "life_expectancy_years"]
    miss = [c for c in need if c not in t.columns]
    if miss:
        raise HealthNormError(f"{where}: kolommen ontbreken: {', '.join(miss)}.")
    out = []
    for _, r in t.iterrows():
        vals = {c: pd.to_numeric(r[c], errors="coerce") for c in need[1:]}
        bad = [c for c, v in vals.items() if not np.isfinite(v) or v < 0]
        if bad:
            raise HealthNormError(f"{where}: leeftijdsgroep {r['age_band']}: {', '.join(bad)} moet een getal >= 0 zijn.")
        if vals["mortality_per_1000"] > 1000 or vals["ihd_incidence_per_100000"] > 100000 or vals["ihd_mortality_per_100000"] > 100000:
            raise HealthNormError(f"{where}: leeftijdsgroep {r['age_band']}: een sterfte- of incidentiecijfer ligt boven 100 % per jaar; controleer de eenheid (per 1.000 of per 100.000).")
        if vals["life_expectancy_years"] > 110:
            raise HealthNormError(f"{where}: leeftijdsgroep {r['age_band']}: resterende levensverwachting {vals['life_expectancy_years']} jaar is onmogelijk.")
        out.append(AgeBand(str(r["age_band"]), int(vals["age_lo"]), int(vals["age_hi"]), float(vals["pop_share"]), float(vals["mortality_per_1000"]) / 1000.0,
                           float(vals["ihd_incidence_per_100000"]) / 1e5, float(vals["ihd_mortality_per_100000"]) / 1e5, float(vals["life_expectancy_years"])))
    tot = sum(b.pop_share for b in out)
    if not out or abs(tot - 1.0) > 0.02:
        raise HealthNormError(f"{where}: de bevolkingsaandelen tellen op tot {tot:.3f} in plaats van 1.")
    return tuple(out)


# ------------------------------------------------------------------------------------------------
# the relations (scalar or array, used by the engine and by tests)
# ------------------------------------------------------------------------------------------------


def rr_scaled(rr: float | np.ndarray, delta: float | np.ndarray, unit: float) -> np.ndarray:
    """Relative risk for an exposure change ``delta`` from an RR per ``unit`` (log-linear)."""
    return np.exp(np.log(np.asarray(rr, dtype=float)) * np.asarray(delta, dtype=float) / float(unit))


def paf(rr: float | np.ndarray) -> np.ndarray:
    """Attributable fraction among the exposed, ``1 - 1/RR``."""
    return 1.0 - 1.0 / np.asarray(rr, dtype=float)


def population_attributable_fraction(shares: np.ndarray, rrs: np.ndarray) -> float:
    """Levin's PAF over exposure categories: ``sum p_i (RR_i - 1) / (1 + sum p_i (RR_i - 1))``."""
    s = float(np.sum(np.asarray(shares, float) * (np.asarray(rrs, float) - 1.0)))
    return s / (1.0 + s)


def heat_risk_reduction(minutes_week: float | np.ndarray, rr: float | np.ndarray, ref_min: float, cap: float) -> np.ndarray:
    """WHO HEAT mortality risk reduction: ``min(cap, (1 - RR) x minutes / ref_min)``, >= 0."""
    m = np.maximum(np.asarray(minutes_week, dtype=float), 0.0)
    return np.minimum(float(cap), (1.0 - np.asarray(rr, dtype=float)) * m / float(ref_min))


def percent_highly_annoyed(lden_db: float | np.ndarray, curve: Triple) -> np.ndarray:
    """%HA from Lden with a WHO 2018 curve (road traffic or railway; clipped to 0-100)."""
    x = np.asarray(lden_db, dtype=float)
    return np.clip(curve[0] + curve[1] * x + curve[2] * x * x, 0.0, 100.0)


def percent_highly_sleep_disturbed(lnight_db: float | np.ndarray, curve: Triple) -> np.ndarray:
    """%HSD from Lnight with a WHO 2018 curve (road traffic or railway; clipped to 0-100)."""
    return percent_highly_annoyed(lnight_db, curve)


def ndvi_from_green_share(green_share: float | np.ndarray, p: HealthParams) -> np.ndarray:
    """Greenness proxy: NDVI ~ ndvi_other + green_share x (ndvi_green - ndvi_other)."""
    return p.ndvi_other + np.asarray(green_share, dtype=float) * (p.ndvi_green - p.ndvi_other)


def active_travel_minutes(access: np.ndarray, base_min: float, gain_min: float, ref_access: float) -> np.ndarray:
    """Minutes a week per adult from an access score (0-1): ``max(0, base + gain x (access - ref))``.

    The documented mode-choice response: a city-wide mean (``base_min``, at the city's mean
    access ``ref_access``) shifted by ``gain_min`` for a full 0 -> 1 change of access.
    """
    return np.maximum(0.0, float(base_min) + np.asarray(gain_min, dtype=float) * (np.asarray(access, dtype=float) - float(ref_access)))


# ------------------------------------------------------------------------------------------------
# Monte Carlo draws
# ------------------------------------------------------------------------------------------------


def lognormal_draws(z: np.ndarray, triple: Triple) -> np.ndarray:
    """RR draws from standard-normal scores ``z``: median the central value, 95 % interval (lo, hi)."""
    c, lo, hi = triple
    sd = (np.log(hi) - np.log(lo)) / (2 * 1.959964) if hi > lo else 0.0
    return np.exp(np.log(c) + sd * z)


def _uniform(u: np.ndarray, triple: Triple) -> np.ndarray:
    return triple[1] + u * (triple[2] - triple[1]) if triple[2] > triple[1] else np.full(len(u), triple[0])


def _sobol(d: int, n: int, seed: int) -> np.ndarray:
    """The first ``n`` points of a scrambled Sobol' sequence in ``d`` dimensions (seeded)."""
    from scipy.stats import qmc

    m = max(1, int(np.ceil(np.log2(max(n, 2)))))
    return qmc.Sobol(d=d, scramble=True, seed=np.random.default_rng(seed)).random_base2(m)[:n]


def draw_parameters(p: HealthParams, draws: int, seed: int) -> dict[str, np.ndarray]:
    """One array of ``draws`` values per uncertain quantity; element 0 is the central estimate.

    The first draw holds every central value (median RRs, central gains, no background shift) so
    the point estimate and the interval come from one computation; the others are random.
    """
    from scipy.special import ndtri

    names = ("walk_rr", "cycle_rr", "walk_gain", "cycle_gain", "pm25_rr", "no2_rr", "pm25_shift", "no2_shift", "ihd_rr", "ihd_daly",
             "heat_rr", "hot_days", "green_rr", "hh_factor")
    n = int(draws) + 1
    # scrambled Sobol' points (quasi-Monte Carlo): the interval settles with far fewer draws than
    # pseudo-random sampling; row 0 is replaced by the central values below
    u = np.vstack([np.full((1, len(names)), 0.5), _sobol(len(names), n - 1, seed)])
    col = {k: u[:, i] for i, k in enumerate(names)}
    z = {k: ndtri(np.clip(v, 1e-12, 1 - 1e-12)) for k, v in col.items()}
    th = {
        "walk_rr": lognormal_draws(z["walk_rr"], p.pa_walk_rr),
        "cycle_rr": lognormal_draws(z["cycle_rr"], p.pa_cycle_rr),
        "walk_gain": _uniform(col["walk_gain"], p.pa_walk_gain_min),
        "cycle_gain": _uniform(col["cycle_gain"], p.pa_cycle_gain_min),
        "pm25_rr": lognormal_draws(z["pm25_rr"], p.pm25_rr),
        "no2_rr": lognormal_draws(z["no2_rr"], p.no2_rr),
        "pm25_shift": p.background_sd_pm25_ugm3 * z["pm25_shift"],
        "no2_shift": p.background_sd_no2_ugm3 * z["no2_shift"],
        "ihd_rr": lognormal_draws(z["ihd_rr"], p.noise_ihd_rr),
        "ihd_daly": _uniform(col["ihd_daly"], p.ihd_daly_per_case),
        "heat_rr": lognormal_draws(z["heat_rr"], p.heat_rr_per_c),
        "hot_days": _uniform(col["hot_days"], p.hot_days_per_year),
        "green_rr": lognormal_draws(z["green_rr"], p.green_rr_per_01ndvi),
        "hh_factor": _uniform(col["hh_factor"], p.household_size_range) / p.household_size_range[0],
    }
    central = {
        "walk_rr": p.pa_walk_rr[0], "cycle_rr": p.pa_cycle_rr[0], "walk_gain": p.pa_walk_gain_min[0], "cycle_gain": p.pa_cycle_gain_min[0],
        "pm25_rr": p.pm25_rr[0], "no2_rr": p.no2_rr[0], "pm25_shift": 0.0, "no2_shift": 0.0, "ihd_rr": p.noise_ihd_rr[0],
        "ihd_daly": p.ihd_daly_per_case[0], "heat_rr": p.heat_rr_per_c[0], "hot_days": p.hot_days_per_year[0],
        "green_rr": p.green_rr_per_01ndvi[0], "hh_factor": 1.0,
    }
    for k, v in central.items():
        th[k][0] = v
    return th


# ------------------------------------------------------------------------------------------------
# pathway terms
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One pathway as the engine evaluates it.

    ``response(u, th, clip)`` maps the unique exposure rows ``u`` (U x k) to a fraction per draw
    (D x U): the attributable fraction of deaths (mortality pathways), of IHD cases, or the
    excess share highly annoyed / sleep-disturbed. ``deaths_rate`` and ``daly_rate`` name the
    per-band rate that turns residents into the deaths and DALY weights; ``daly_mult`` and
    ``all_mult`` are per-draw multipliers.
    """

    pathway: str
    columns: tuple[str, ...]
    response: Callable[[np.ndarray, dict[str, np.ndarray], bool], np.ndarray]
    ages: tuple[int, int]
    deaths_rate: str | None
    daly_rate: str
    daly_mult: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    all_mult: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    clip_matters: bool = True


def _excess_mortality(beta: np.ndarray, excess: np.ndarray) -> np.ndarray:
    """``1 - exp(-beta x excess)`` (PAF of a log-linear RR), broadcast draws x values."""
    return -np.expm1(-beta[:, None] * excess)


def _noise_columns(road_col: str, path: str, frame_cols: set[str]) -> tuple[str, ...]:
    """The road column, plus the railway one when the road level is split from the total."""
    rail = RAIL_COLUMNS[path]
    return (road_col, rail) if road_col.endswith("_road_db") and rail in frame_cols else (road_col,)


def _noise_curve_response(road_cf: float, road_curve: Curve, rail_cf: float, rail_curve: Curve) -> Callable[..., np.ndarray]:
    """Share of residents highly annoyed (or sleep-disturbed) above the guideline levels: the road
    curve's excess over its guideline on column 0 plus, when given, the railway curve's excess over
    its own guideline on column 1 (Directive (EU) 2020/367 Annex III counts each source)."""
    ref_road = float(percent_highly_annoyed(road_cf, road_curve))
    ref_rail = float(percent_highly_annoyed(rail_cf, rail_curve))

    def response(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
        v = percent_highly_annoyed(np.maximum(u[:, 0], road_cf), road_curve) - ref_road
        if u.shape[1] > 1:
            v = v + percent_highly_annoyed(np.maximum(u[:, 1], rail_cf), rail_curve) - ref_rail
        v = np.minimum(v, 100.0) / 100.0
        return np.broadcast_to(v[None, :], (len(th["ihd_rr"]), len(v)))

    return response


def _exposure_col(path: str, frame_cols: set[str], unknown: dict[str, str]) -> str | None:
    """The first accepted exposure column of ``path`` in the frame; else the reason in ``unknown``."""
    for c in EXPOSURE_COLUMNS[path]:
        if c in frame_cols:
            return c
    unknown[path] = f"geen kolom {' of '.join(EXPOSURE_COLUMNS[path])}"
    return None


def _pa_minutes(p: HealthParams, ref: dict[str, float], u: np.ndarray, th: dict[str, np.ndarray], which: str, c: str) -> np.ndarray:
    """Walking or cycling minutes a week per draw and home (from an access score, or given)."""
    if c.endswith("_access"):
        base = p.pa_walk_base_min if which == "walk" else p.pa_cycle_base_min
        return np.maximum(0.0, base + th[f"{which}_gain"][:, None] * (u[None, :] - ref[c]))
    return np.broadcast_to(np.maximum(u[None, :], 0.0), (len(th["walk_rr"]), len(u)))


def _pa_reduction(p: HealthParams, m: np.ndarray, th: dict[str, np.ndarray], which: str) -> np.ndarray:
    """Mortality risk reduction of ``m`` minutes a week of walking or cycling (capped)."""
    if which == "walk":
        return np.minimum(p.pa_walk_cap, (1 - th["walk_rr"])[:, None] * m / p.pa_walk_ref_min)
    return np.minimum(p.pa_cycle_cap, (1 - th["cycle_rr"])[:, None] * m / p.pa_cycle_ref_min)


def _activity_terms(p: HealthParams, frame_cols: set[str], ref: dict[str, float], mode: str, unknown: dict[str, str]) -> list[Term]:
    """Walking and cycling (plan), or physical activity as one pathway (burden)."""
    terms: list[Term] = []
    wcol, ccol = _exposure_col("walking", frame_cols, unknown), _exposure_col("cycling", frame_cols, unknown)
    if wcol is not None:
        wcols = (wcol,) + ((ccol,) if ccol else ())

        def walk_resp(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
            mw = _pa_minutes(p, ref, u[:, 0], th, "walk", wcol)
            if not clip:
                return -_pa_reduction(p, mw, th, "walk")
            mc = _pa_minutes(p, ref, u[:, 1], th, "cycle", ccol) if ccol else 0.0
            gap = np.maximum(0.0, p.pa_recommended_min - mw - mc)
            return _pa_reduction(p, mw + gap, th, "walk") - _pa_reduction(p, mw, th, "walk")

        terms.append(Term("physical_activity" if mode == "burden" else "walking", wcols, walk_resp, p.pa_walk_age, "mortality", "yll"))
    if mode == "burden":
        unknown.pop("cycling", None)
        if "walking" in unknown:
            unknown["physical_activity"] = unknown.pop("walking")
    elif ccol is not None:

        def cycle_resp(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
            if clip:  # the recommendation gap is counted with walking
                return np.zeros((len(th["cycle_rr"]), len(u)))
            return -_pa_reduction(p, _pa_minutes(p, ref, u[:, 0], th, "cycle", ccol), th, "cycle")

        terms.append(Term("cycling", (ccol,), cycle_resp, p.pa_cycle_age, "mortality", "yll"))
    return terms


def _air_terms(p: HealthParams, frame_cols: set[str], unknown: dict[str, str]) -> list[Term]:
    """PM2.5 and NO2 (WHO AQG 2021 CRFs, per 10 ug/m3 above the counterfactual)."""
    terms: list[Term] = []
    for path, key, cf in (("pm25", "pm25", p.pm25_cf_ugm3), ("no2", "no2", p.no2_cf_ugm3)):
        c = _exposure_col(path, frame_cols, unknown)
        if c is None:
            continue

        def air(u: np.ndarray, th: dict[str, np.ndarray], clip: bool, key: str = key, cf: float = cf) -> np.ndarray:
            ex = u[None, :, 0] + th[f"{key}_shift"][:, None] - cf
            if clip:
                ex = np.maximum(ex, 0.0)
            return -np.expm1(-np.log(th[f"{key}_rr"])[:, None] / 10.0 * ex)

        terms.append(Term(path, (c,), air, (p.air_min_age, 200), "mortality", "yll"))
    return terms


def _noise_terms(p: HealthParams, frame_cols: set[str], unknown: dict[str, str]) -> list[Term]:
    """Ischaemic heart disease (road traffic), high annoyance and high sleep disturbance."""
    terms: list[Term] = []
    c = _exposure_col("noise_ihd", frame_cols, unknown)
    if c is not None:
        def ihd(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
            return _excess_mortality(np.log(th["ihd_rr"]) / 10.0, np.maximum(u[:, 0] - p.noise_lden_cf_db, 0.0)[None, :])

        terms.append(Term("noise_ihd", (c,), ihd, (p.noise_min_age, 200), "ihd_mortality", "ihd_incidence", daly_mult=lambda th: th["ihd_daly"], clip_matters=False))
        ha = _noise_curve_response(p.noise_lden_cf_db, p.noise_ha_curve, p.noise_rail_lden_cf_db, p.noise_rail_ha_curve)
        terms.append(Term("noise_annoyance", _noise_columns(c, "noise_annoyance", frame_cols), ha, (p.noise_min_age, 200), None, "dw_ha", clip_matters=False))
    else:
        unknown["noise_annoyance"] = unknown["noise_ihd"]
    c = _exposure_col("noise_sleep", frame_cols, unknown)
    if c is not None:
        hsd = _noise_curve_response(p.noise_lnight_cf_db, p.noise_hsd_curve, p.noise_rail_lnight_cf_db, p.noise_rail_hsd_curve)
        terms.append(Term("noise_sleep", _noise_columns(c, "noise_sleep", frame_cols), hsd, (p.noise_min_age, 200), None, "dw_hsd", clip_matters=False))
    return terms


def _heat_green_terms(p: HealthParams, frame_cols: set[str], unknown: dict[str, str]) -> list[Term]:
    """Heat (hot days above the rural reference) and green around the home (NDVI deficit)."""
    terms: list[Term] = []
    c = _exposure_col("heat", frame_cols, unknown)
    if c is not None:
        def heat(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
            return _excess_mortality(np.log(th["heat_rr"]), np.maximum(u[:, 0] - p.heat_ref_c, 0.0)[None, :])

        terms.append(Term("heat", (c,), heat, (0, 200), "mortality", "yll", all_mult=lambda th: th["hot_days"] / 365.0, clip_matters=False))
    c = _exposure_col("green", frame_cols, unknown)
    if c is not None:
        target = p.ndvi_target

        def green(u: np.ndarray, th: dict[str, np.ndarray], clip: bool) -> np.ndarray:
            deficit = (target - u[:, 0])[None, :]
            if clip:
                deficit = np.maximum(deficit, 0.0)
            return -np.expm1(np.log(th["green_rr"])[:, None] / 0.1 * deficit)

        terms.append(Term("green", (c,), green, (p.green_min_age, 200), "mortality", "yll"))
    return terms


def _terms(p: HealthParams, frame_cols: set[str], ref: dict[str, float], mode: str) -> tuple[list[Term], dict[str, str]]:
    """Terms of the pathways whose exposure is in the frame, and the reason for each one that is not."""
    unknown: dict[str, str] = {}
    terms = _activity_terms(p, frame_cols, ref, mode, unknown)
    terms += _air_terms(p, frame_cols, unknown)
    terms += _noise_terms(p, frame_cols, unknown)
    terms += _heat_green_terms(p, frame_cols, unknown)
    return terms, unknown


# ------------------------------------------------------------------------------------------------
# weights per home
# ------------------------------------------------------------------------------------------------

AGE_SUBSETS: dict[str, tuple[int, int]] = {"all": (0, 200), "age_65plus": (65, 200), "age_0_5": (0, 5)}


def band_shares(frame: pd.DataFrame, p: HealthParams) -> np.ndarray:
    """Age-band shares per home (N x B): the Flemish shares, adjusted to ``share_65plus`` and
    ``share_0_5`` where the frame gives them (other bands scaled to the remainder)."""
    n = len(frame)
    base = np.array([b.pop_share for b in p.bands])
    base = base / base.sum()
    s = np.tile(base, (n, 1))
    old = np.array([b.lo >= 65 for b in p.bands])
    young = np.array([b.hi <= 5 for b in p.bands])
    mid = ~old & ~young
    s65 = pd.to_numeric(frame["share_65plus"], errors="coerce").to_numpy(float) if "share_65plus" in frame else np.full(n, np.nan)
    s05 = pd.to_numeric(frame["share_0_5"], errors="coerce").to_numpy(float) if "share_0_5" in frame else np.full(n, np.nan)
    s65 = np.where(np.isfinite(s65), np.clip(s65, 0, 1), base[old].sum())
    s05 = np.where(np.isfinite(s05), np.clip(s05, 0, 1), base[young].sum())
    rest = np.clip(1.0 - s65 - s05, 0.0, 1.0)
    s[:, old] = base[old] / max(base[old].sum(), 1e-12) * s65[:, None]
    s[:, young] = base[young] / max(base[young].sum(), 1e-12) * s05[:, None]
    s[:, mid] = base[mid] / max(base[mid].sum(), 1e-12) * rest[:, None]
    return s


def _rate_vector(p: HealthParams, rate: str) -> np.ndarray:
    if rate == "mortality":
        return np.array([b.mortality for b in p.bands])
    if rate == "yll":
        return np.array([b.mortality * b.life_expectancy for b in p.bands])
    if rate == "ihd_mortality":
        return np.array([b.ihd_mortality for b in p.bands])
    if rate == "ihd_incidence":
        return np.array([b.ihd_incidence for b in p.bands])
    if rate == "dw_ha":
        return np.full(len(p.bands), p.dw_high_annoyance)
    if rate == "dw_hsd":
        return np.full(len(p.bands), p.dw_high_sleep_disturbance)
    raise KeyError(rate)


def _age_mask(p: HealthParams, ages: tuple[int, int], subset: tuple[int, int]) -> np.ndarray:
    return np.array([(b.lo >= ages[0] and b.hi <= ages[1]) and (b.lo >= subset[0] and b.hi <= subset[1]) for b in p.bands], dtype=float)


# ------------------------------------------------------------------------------------------------
# the engine
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Groups:
    """Home groups of one situation: name -> boolean mask; ``new`` marks homes whose residents
    scale with the household-size draw."""

    masks: dict[str, np.ndarray]
    new: np.ndarray


def _term_matrix(term: Term, frame: pd.DataFrame, residents: np.ndarray, shares: np.ndarray, groups: Groups, cols: list[tuple[str, str]],
                 p: HealthParams, th: dict[str, np.ndarray], clip: np.ndarray, scale_clipped: bool) -> np.ndarray:
    """Deaths and DALYs per draw for every (group, age subset) column: array D x len(cols) x 2.

    Homes with ``clip`` True are evaluated against the counterfactual (burden carried at this
    place: current city, new and removed residents), the others unclipped (existing residents
    of a plan). With ``scale_clipped`` the clipped homes' residents follow the household-size
    draw (new residents).
    """
    x = np.column_stack([_num(frame, c) for c in term.columns])
    ok = np.all(np.isfinite(x), axis=1) & (residents > 0)
    D = len(th["walk_rr"])
    out = np.zeros((D, len(cols), 2))
    if not ok.any():
        return out
    u, inv = _unique_rows(x[ok], p.exposure_levels)
    U = len(u)
    r_ok, s_ok, c_ok = residents[ok], shares[ok], clip[ok]
    rates = [_rate_vector(p, term.deaths_rate) if term.deaths_rate else None, _rate_vector(p, term.daly_rate)]
    W = np.zeros((2, U, len(cols), 2))  # class (unclipped, clipped) x unique x column x channel
    for j, (g, a) in enumerate(cols):
        gm = groups.masks[g][ok]
        am = _age_mask(p, term.ages, AGE_SUBSETS[a])
        for ch in (0, 1):
            if rates[ch] is None:
                continue
            w = r_ok * (s_ok @ (rates[ch] * am))
            for k, sel in ((0, gm & ~c_ok), (1, gm & c_ok)):
                if sel.any():
                    W[k, :, j, ch] = np.bincount(inv[sel], weights=w[sel], minlength=U)
    F = None
    for k, flag in ((0, False), (1, True)):
        if not W[k].any():
            continue
        if F is None or term.clip_matters:
            F = np.asarray(term.response(u, th, flag), dtype=float)  # D x U
        R = (F @ W[k].reshape(U, -1)).reshape(D, len(cols), 2)
        if k == 1 and scale_clipped:
            R = R * th["hh_factor"][:, None, None]
        out = out + R
    if term.all_mult is not None:
        out = out * term.all_mult(th)[:, None, None]
    if term.daly_mult is not None:
        out[..., 1] = out[..., 1] * term.daly_mult(th)[:, None]
    return out


def _unique_rows(x: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin the rows of ``x`` (each column in ``levels`` equal steps over its range): the mean row
    of each occupied bin (U x k) and each row's bin index.

    The columns' steps are combined into one int64 key, so a plain 1-D ``np.unique`` does the
    work (much faster than ``np.unique(axis=0)``). Taking the bin mean rather than its centre
    keeps single-valued bins exact.
    """
    lo = x.min(axis=0)
    rng = x.max(axis=0) - lo
    step = np.where(rng > 0, rng / float(levels), 1.0)
    q = np.round((x - lo) / step).astype(np.int64)
    span = q.max(axis=0) + 1
    key = np.zeros(len(q), dtype=np.int64)
    for j in range(q.shape[1]):
        key = key * span[j] + q[:, j]
    _, inv = np.unique(key, return_inverse=True)
    inv = inv.ravel()
    cnt = np.bincount(inv)
    u = np.column_stack([np.bincount(inv, weights=x[:, j]) / cnt for j in range(x.shape[1])])
    return u, inv


def _num(frame: pd.DataFrame, c: str) -> np.ndarray:
    return pd.to_numeric(frame[c], errors="coerce").to_numpy(float)


def _per_home_central(term: Term, frame: pd.DataFrame, residents: np.ndarray, shares: np.ndarray, p: HealthParams,
                      th0: dict[str, np.ndarray], clip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central deaths and DALYs per home (NaN where the exposure is unknown)."""
    x = np.column_stack([_num(frame, c) for c in term.columns])
    ok = np.all(np.isfinite(x), axis=1)
    f = np.full(len(frame), np.nan)
    for flag in (False, True):
        sel = ok & (clip == flag)
        if sel.any():
            f[sel] = np.asarray(term.response(x[sel], th0, flag), dtype=float)[0]
    mult = float(term.all_mult(th0)[0]) if term.all_mult is not None else 1.0
    am = _age_mask(p, term.ages, AGE_SUBSETS["all"])
    d = f * residents * (shares @ (_rate_vector(p, term.deaths_rate) * am)) * mult if term.deaths_rate else np.where(ok, 0.0, np.nan)
    y = f * residents * (shares @ (_rate_vector(p, term.daly_rate) * am)) * mult
    if term.daly_mult is not None:
        y = y * float(term.daly_mult(th0)[0])
    return d, y


@dataclass(frozen=True)
class HealthResult:
    """Health outcomes of one situation (current city) or of a plan (before vs after).

    Attributes
    ----------
    homes : DataFrame
        One row per home (plan: after homes plus removed homes) with ``group`` and, per pathway,
        central ``deaths_<p>`` and ``dalys_<p>`` (plan: the change after - before), plus totals.
    per_wijk : DataFrame
        Per wijk: residents, central deaths, DALYs and euros per pathway and in total, and
        deaths per 10,000 residents (for a map).
    summary : DataFrame
        One row per pathway x group x age subset x metric with ``median``, ``lo``, ``hi`` (95 %)
        and ``central`` (central RRs).
    notes : list of str
        Dutch remarks: unknown pathways, missing breakdowns, assumptions.
    norms_used : DataFrame
        Every norm read (key, value, unit, source).
    seed, draws : int
        Monte Carlo seed and number of draws.
    mode : str
        ``"burden"`` (current city vs recommendations) or ``"plan"`` (after - before).
    """

    homes: pd.DataFrame
    per_wijk: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str]
    norms_used: pd.DataFrame
    seed: int
    draws: int
    mode: str
    label_nl: str = COMPARISON_LABEL_NL
    unknown: dict[str, str] = field(default_factory=dict)

    def value(self, pathway: str = "total", group: str = "total", metric: str = "deaths", age: str = "all", stat: str = "median") -> float:
        """One number of :attr:`summary` (NaN when absent)."""
        s = self.summary
        r = s[(s["pathway"] == pathway) & (s["group"] == group) & (s["metric"] == metric) & (s["age"] == age)]
        return float(r[stat].iloc[0]) if len(r) else float("nan")


def _residents(frame: pd.DataFrame) -> np.ndarray:
    if "residents" not in frame.columns:
        raise HealthInputError("De blootstellingstabel heeft geen kolom 'residents' (bewoners per woning).")
    r = pd.to_numeric(frame["residents"], errors="coerce").fillna(0.0).to_numpy(float)
    if (r < 0).any():
        raise HealthInputError("Negatief aantal bewoners in de blootstellingstabel; controleer de kolom 'residents'.")
    return r


def _has_values(frame: pd.DataFrame, c: str) -> bool:
    return c in frame.columns and pd.to_numeric(frame[c], errors="coerce").notna().any()


def _usable_cols(frames: list[pd.DataFrame]) -> set[str]:
    cols = set.intersection(*[{c for c in f.columns if _has_values(f, c)} for f in frames])
    return cols


def _quintile_groups(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    if "deprivation_quintile" not in frame.columns:
        return {}
    q = pd.to_numeric(frame["deprivation_quintile"], errors="coerce").to_numpy(float)
    if not np.isfinite(q).any():
        return {}
    return {f"q{k}": q == k for k in range(1, 6)}


def _norms_used(p: HealthParams) -> pd.DataFrame:
    rows = [{"family": "health", "key": n.key, "value": n.value, "unit": n.unit, "source": n.source} for n in load_norms("health", p.norms_dir or None).values()]
    t = load_table("health_baseline", p.norms_dir or None)
    rows.append({"family": "health_baseline", "key": "age bands", "value": ", ".join(t["age_band"].astype(str)), "unit": "per band", "source": "; ".join(dict.fromkeys(t["source"].astype(str)))})
    return pd.DataFrame(rows)


def _reference_access(before: pd.DataFrame, usable: set[str], res_b: np.ndarray) -> dict[str, float]:
    """Resident-weighted mean walk/cycle access before (the reference of the minutes a week)."""
    ref: dict[str, float] = {}
    for c in ("walk_access", "cycle_access"):
        if c in usable:
            v = pd.to_numeric(before[c], errors="coerce").to_numpy(float)
            m = np.isfinite(v) & (res_b > 0)
            ref[c] = float(np.average(v[m], weights=res_b[m])) if m.any() else 0.0
    return ref


def _situation_groups(
    before: pd.DataFrame, after: pd.DataFrame | None, quint: list[dict[str, np.ndarray]]
) -> tuple[list[Groups], list[str], list[np.ndarray], list[bool]]:
    """Per situation (before, and after a plan) the groups of homes, the group names, the homes
    judged against the recommendations (clip) and whether new residents' numbers are uncertain."""
    n_b = len(before)
    if after is None:
        gb = {"total": np.ones(n_b, bool), **quint[0]}
        return [Groups(gb, np.zeros(n_b, bool))], ["total", *quint[0].keys()], [np.ones(n_b, bool)], [False]
    if "before_index" not in after.columns:
        raise HealthInputError("De tabel 'na het plan' mist de kolom 'before_index' (positie van dezelfde woning vóór het plan, -1 voor nieuw).")
    bi = pd.to_numeric(after["before_index"], errors="coerce").fillna(-1).to_numpy(np.int64)
    if (bi >= n_b).any():
        raise HealthInputError("'before_index' verwijst naar een woning die niet in de tabel 'vóór het plan' staat.")
    kept = np.zeros(n_b, bool)
    kept[bi[bi >= 0]] = True
    new = bi < 0
    n_a = len(after)
    gb = {"total": np.ones(n_b, bool), "existing": kept, "new": np.zeros(n_b, bool), "removed": ~kept, **quint[0]}
    ga = {"total": np.ones(n_a, bool), "existing": ~new, "new": new, "removed": np.zeros(n_a, bool), **quint[1]}
    group_sets = [Groups(gb, np.zeros(n_b, bool)), Groups(ga, new)]
    return group_sets, ["total", "existing", "new", "removed", *quint[0].keys()], [~kept, new], [False, True]


def health_outcomes(
    before: pd.DataFrame,
    after: pd.DataFrame | None = None,
    params: HealthParams | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 20261130,
) -> HealthResult:
    """Deaths, DALYs and euros a year per pathway for the current city or a plan.

    Parameters
    ----------
    before : DataFrame
        One row per home: ``residents`` and any exposure columns of :data:`EXPOSURE_COLUMNS`;
        optional ``wijk_code``, ``share_65plus``, ``share_0_5`` (age shares of the home's wijk)
        and ``deprivation_quintile`` (1 = most deprived .. 5).
    after : DataFrame, optional
        The homes after a plan, same columns plus ``before_index`` (row position in ``before``
        of the same home, -1 for a new home). Without it the current-city burden is computed.
    params : HealthParams, optional
        Default :meth:`HealthParams.from_norms`.
    draws : int
        Monte Carlo draws (plus one central evaluation).
    seed : int
        Seed of the random generator (reported).

    Returns
    -------
    HealthResult
    """
    p = params or HealthParams.from_norms()
    if int(draws) < 0:
        raise HealthInputError(f"Het aantal Monte-Carlotrekkingen moet 0 of meer zijn, niet {draws}.")
    mode = "burden" if after is None else "plan"
    notes: list[str] = []
    frames = [before] if after is None else [before, after]
    res_b = _residents(before)
    if res_b.sum() <= 0:
        raise HealthInputError("Geen bewoners in de blootstellingstabel: er valt niets te berekenen.")
    usable = _usable_cols(frames)
    terms, unknown = _terms(p, usable, _reference_access(before, usable, res_b), mode)
    for path, why in unknown.items():
        notes.append(f"{PATHWAY_LABELS_NL.get(path, path)}: onbekend ({why}); niet meegeteld, niet als 0.")
    th = draw_parameters(p, draws, seed)

    # groups per situation
    age_ok = all("share_65plus" in f.columns and _has_values(f, "share_65plus") for f in frames) and all(_has_values(f, "share_0_5") for f in frames)
    if not age_ok:
        notes.append("Geen leeftijdsverdeling per wijk (kolommen residents_65plus / residents_0_5): de Vlaamse leeftijdsopbouw is gebruikt en de uitsplitsing naar 65-plussers en 0-5-jarigen is weggelaten.")
    quint = [_quintile_groups(f) for f in frames]
    if not all(quint):
        notes.append("Geen inkomens- of kansarmoede-index per wijk: de uitsplitsing naar deprivatiekwintiel is weggelaten.")
        quint = [{} for _ in frames]
    group_sets, home_groups, clips, scale = _situation_groups(before, after, quint)
    cols = [(g, "all") for g in home_groups] + ([("total", "age_65plus"), ("total", "age_0_5")] if age_ok else [])

    shares = [band_shares(f, p) for f in frames]
    residents = [_residents(f) for f in frames]
    per_term: dict[str, np.ndarray] = {}
    central_home: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    th0 = {k: v[:1] for k, v in th.items()}
    for t in terms:
        mats = [_term_matrix(t, f, r, s, g, cols, p, th, c, sc) for f, r, s, g, c, sc in zip(frames, residents, shares, group_sets, clips, scale)]
        per_term[t.pathway] = mats[0] if mode == "burden" else mats[1] - mats[0]
        central_home[t.pathway] = [_per_home_central(t, f, r, s, p, th0, c) for f, r, s, c in zip(frames, residents, shares, clips)]
    if mode == "plan":
        hs = p.household_size_range
        notes.append(f"Nieuwe bewoners: huishoudgrootte {fmt_number(hs[0], 1)} (bereik {fmt_number(hs[1], 1)}-{fmt_number(hs[2], 1)}) in de onzekerheid.")
        notes.append("Nieuwe en verdwenen bewoners: de ziektelast die zij hier dragen tegenover de aanbevelingen (WHO-richtwaarden, "
                     "150 min beweging, groennorm), niet de verandering tegenover hun vorige of volgende woning, die onbekend is. "
                     "Bestaande bewoners: de verandering door het plan.")

    summary = _summary(per_term, cols, p)
    homes = _homes_frame(frames, central_home, mode, p.no2_pm25_overlap)
    per_wijk = _per_wijk(homes, p)
    if any(t.pathway in ("walking", "cycling", "physical_activity") for t in terms):
        notes.append("Lichaamsbeweging: minuten wandelen/fietsen per volwassene volgen uit een aangenomen reactie op stressvrije fietsroutes en voorzieningen op wandelafstand (brede onzekerheid), niet uit metingen.")
    if "pm25" in per_term and "no2" in per_term:
        notes.append(f"Lucht: PM2,5 en NO2 overlappen; in het totaal telt NO2 voor {100 * (1 - p.no2_pm25_overlap):.0f} % mee.")
    return HealthResult(homes, per_wijk, summary, notes, _norms_used(p), int(seed), int(draws), mode,
                        COMPARISON_LABEL_NL if mode == "plan" else BURDEN_LABEL_NL, unknown)


def _summary(per_term: dict[str, np.ndarray], cols: list[tuple[str, str]], p: HealthParams) -> pd.DataFrame:
    rows = []
    if not per_term:
        return pd.DataFrame(columns=["pathway", "group", "age", "metric", "central", "median", "lo", "hi"])
    total = sum(v * (1.0 - p.no2_pm25_overlap) if k == "no2" else v for k, v in per_term.items())
    for path, m in [*per_term.items(), ("total", total)]:
        for j, (g, a) in enumerate(cols):
            d, y = m[:, j, 0], m[:, j, 1]
            for metric, v in (("deaths", d), ("dalys", y), ("eur", y * p.voly_eur), ("eur_vsl", d * p.vsl_eur)):
                lo, med, hi = np.percentile(v[1:], [2.5, 50, 97.5]) if len(v) > 1 else (v[0], v[0], v[0])
                rows.append({"pathway": path, "group": g, "age": a, "metric": metric, "central": float(v[0]), "median": float(med), "lo": float(lo), "hi": float(hi)})
    return pd.DataFrame(rows)


def _homes_frame(frames: list[pd.DataFrame], central: dict[str, list[tuple[np.ndarray, np.ndarray]]], mode: str, overlap: float) -> pd.DataFrame:
    keep = [c for c in ("home_id", "wijk_code", "wijk_naam", "residents") if c in frames[-1].columns]
    if mode == "burden":
        out = frames[0][keep].copy().reset_index(drop=True)
        out["group"] = "total"
        for path, ((d, y),) in central.items():
            out[f"deaths_{path}"] = d
            out[f"dalys_{path}"] = y
    else:
        before, after = frames
        bi = pd.to_numeric(after["before_index"], errors="coerce").fillna(-1).to_numpy(np.int64)
        kept = np.zeros(len(before), bool)
        kept[bi[bi >= 0]] = True
        a = after[keep].copy().reset_index(drop=True)
        a["group"] = np.where(bi >= 0, "existing", "new")
        r = before.loc[~kept, [c for c in keep if c in before.columns]].copy().reset_index(drop=True)
        r["group"] = "removed"
        r["residents"] = 0.0
        for path, ((db, yb), (da, ya)) in central.items():
            prev_d = np.where(bi >= 0, db[np.maximum(bi, 0)], 0.0)
            prev_y = np.where(bi >= 0, yb[np.maximum(bi, 0)], 0.0)
            a[f"deaths_{path}"] = da - prev_d
            a[f"dalys_{path}"] = ya - prev_y
            r[f"deaths_{path}"] = -db[~kept]
            r[f"dalys_{path}"] = -yb[~kept]
        out = pd.concat([a, r], ignore_index=True)
    for m in ("deaths", "dalys"):
        cs = [f"{m}_{k}" for k in central]
        if not cs:
            out[f"{m}_total"] = np.nan
            continue
        w = np.array([1.0 - overlap if c.endswith("_no2") else 1.0 for c in cs])
        v = out[cs].to_numpy(float)
        known = np.isfinite(v).any(axis=1)
        out[f"{m}_total"] = np.where(known, np.nansum(v * w, axis=1), np.nan)
    return out


def _per_wijk(homes: pd.DataFrame, p: HealthParams) -> pd.DataFrame:
    if "wijk_code" not in homes.columns:
        return pd.DataFrame(columns=["wijk_code", "residents"])
    h = homes
    val = [c for c in h.columns if c.startswith(("deaths_", "dalys_"))]
    g = h.groupby(h["wijk_code"].astype("object").where(h["wijk_code"].notna(), "(geen wijk)"))
    per = g[val].sum(min_count=1)
    per.insert(0, "residents", g["residents"].sum())
    if "wijk_naam" in h.columns:
        per.insert(0, "wijk_naam", g["wijk_naam"].first())
    per = per.reset_index().rename(columns={"index": "wijk_code"})
    per["eur_total"] = per["dalys_total"] * p.voly_eur
    with np.errstate(divide="ignore", invalid="ignore"):
        per["deaths_per_10000"] = np.where(per["residents"] > 0, per["deaths_total"] / per["residents"] * 1e4, np.nan)
    return per
