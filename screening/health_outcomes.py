"""Health outcomes of a study area (current city) or of a plan (before vs after).

:func:`exposure_frame` assembles the per-home exposures that :func:`spatial.health.health_outcomes`
needs from whatever indicator families a study area supports:

* walking and cycling access (:func:`spatial.indicators.network_indicators`): ``walk_access`` =
  STOP S (share of daily destinations within a 10-minute walk), ``cycle_access`` = mean of
  "low-stress route to the centre" and "to a school" (0-1); the health layer turns them into
  minutes a week with its documented mode-choice response;
* ``tair_hot_day_c``: air temperature of a hot day at the home from the heat layer
  (:func:`spatial.heat.heat_layer`, InVEST Urban Cooling: ``T_air = T_ref + (1 - HM) x UHI_max``
  blended over ``t_air_average_radius_m``);
* ``ndvi_proxy``: the greenness proxy of :func:`green_share_within` (share of LOW_GREEN + TREES
  cells of the land cover within ``green_buffer_m``) mapped linearly to NDVI
  (:func:`spatial.health.ndvi_from_green_share`);
* ``lden_db``, ``lnight_db``, ``no2_ugm3``, ``pm25_ugm3`` from the noise and air layers when
  their modules are installed (``spatial/noise.py``, ``spatial/air.py``); otherwise those pathways
  are *onbekend* and the notes say so.

Wijk columns give the age shares (``residents_65plus``, ``residents_0_5`` over ``residents``)
and the deprivation quintile (``deprivation_index`` / ``kansarmoede_index``: higher is more
deprived; ``median_income`` / ``mediaan_inkomen``: lower is more deprived); quintiles are
resident-weighted over the wijken, 1 = most deprived.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.landcover import LOW_GREEN, NODATA, TREES
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import LandCover, StudyArea
from gezondestad.screening.compare import THEME_NL, ScreeningResult, Situation, before_positions, homes_after_plan, theme_status
from gezondestad.screening.plan import Plan, apply_plan
from gezondestad.spatial.aggregate import home_points
from gezondestad.spatial.health import (
    DEFAULT_DRAWS,
    GROUP_LABELS_NL,
    PATHWAY_LABELS_NL,
    HealthInputError,
    HealthParams,
    HealthResult,
    health_outcomes,
    ndvi_from_green_share,
)
from gezondestad.spatial.heat import heat_layer
from gezondestad.spatial.indicators import network_indicators
from gezondestad.spatial.raster import sample_at_points

logger = logging.getLogger(__name__)

DEPRIVATION_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("deprivation_index", True),
    ("kansarmoede_index", True),
    ("deprivatie_index", True),
    ("median_income", False),
    ("mediaan_inkomen", False),
    ("gemiddeld_inkomen", False),
)
"""Wijk columns for the deprivation quintile: (name, higher value = more deprived)."""

EXTERNAL_LAYERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "noise": ("gezondestad.spatial.noise", ("noise_at_homes", "noise_exposure", "noise_layer"),
              ("lden_db", "lnight_db", "lden_road_db", "lnight_road_db", "lden_rail_db", "lnight_rail_db")),
    "air": ("gezondestad.spatial.air", ("air_exposure", "air_at_homes", "air_layer"), ("no2_ugm3", "pm25_ugm3")),
}
"""Families built by other layers: module, candidate public functions, per-home columns read (the
first two are required: given as ``known`` they stop the layer from being computed again)."""

HEALTH_NEEDS: dict[str, tuple[str, ...]] = {
    "walk_access": ("streets", "pois", "green"),
    "cycle_access": ("streets", "pois"),
    "tair_hot_day_c": ("landcover",),
    "ndvi_proxy": ("landcover", "green"),
}
"""Themes each exposure is built on: a missing or partial one makes it 'onbekend' (as in the screening)."""

KNOWN_EXTERNAL: tuple[str, ...] = ("lden_db", "lnight_db", "lden_road_db", "lnight_road_db", "lden_rail_db", "lnight_rail_db",
                                   "no2_ugm3", "pm25_ugm3")
"""Noise and air columns a caller may pass as already computed (:func:`exposure_frame` ``known``)."""

EXPOSURE_NL: dict[str, str] = {
    "walk_access": "wandelen (voorzieningen op wandelafstand)",
    "cycle_access": "fietsen (stressvrije routes)",
    "tair_hot_day_c": "hitte",
    "ndvi_proxy": "groen rond de woning",
}


def exposure_status(area: StudyArea, column: str) -> str | None:
    """None when ``column`` can be computed on ``area``, else the Dutch reason it is unknown."""
    bad = []
    for t in HEALTH_NEEDS.get(column, ()):
        st = theme_status(area, t)
        if st == "missing":
            bad.append(f"{THEME_NL.get(t, t)} ontbreken")
        elif st == "partial":
            bad.append(f"{THEME_NL.get(t, t)} onvolledig")
    return ", ".join(bad) or None


def green_share_within(lc: LandCover, points: gpd.GeoDataFrame | gpd.GeoSeries, radius_m: float) -> np.ndarray:
    """Share of green land cover (LOW_GREEN + TREES) among valid cells within ``radius_m`` of each point.

    A disc kernel on the land-cover grid (FFT convolution), sampled at the points; NaN off the
    grid. Cells without data do not count in the denominator.
    """
    from scipy.signal import fftconvolve

    cls = lc.classes
    valid = (cls != NODATA).astype(np.float32)
    green = np.isin(cls, [LOW_GREEN, TREES]).astype(np.float32)
    r = max(1, int(round(radius_m / lc.resolution_m)))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    k = ((xx * xx + yy * yy) <= r * r).astype(np.float32)
    g = fftconvolve(green, k, mode="same")
    v = fftconvolve(valid, k, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(v > 0.5, np.clip(g / np.maximum(v, 1e-9), 0.0, 1.0), np.nan)
    return sample_at_points(share, lc, points)


def _wijk_table(wijken: gpd.GeoDataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Per wijk: share_65plus, share_0_5, deprivation_quintile (NaN where unknown) and notes."""
    notes: list[str] = []
    w = pd.DataFrame({"wijk_code": wijken["wijk_code"].astype("object").to_numpy()})
    res = pd.to_numeric(wijken["residents"], errors="coerce").to_numpy(float) if "residents" in wijken else np.full(len(wijken), np.nan)
    for col, out in (("residents_65plus", "share_65plus"), ("residents_0_5", "share_0_5")):
        if col in wijken.columns:
            v = pd.to_numeric(wijken[col], errors="coerce").to_numpy(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                w[out] = np.where(res > 0, v / np.where(res > 0, res, 1), np.nan)
        else:
            w[out] = np.nan
    w["deprivation_quintile"] = np.nan
    for col, higher_worse in DEPRIVATION_COLUMNS:
        if col in wijken.columns:
            v = pd.to_numeric(wijken[col], errors="coerce").to_numpy(float)
            ok = np.isfinite(v)
            if ok.sum() >= 5:
                w["deprivation_quintile"] = deprivation_quintiles(v, np.nan_to_num(res, nan=0.0), higher_worse)
                notes.append(f"Deprivatiekwintielen uit de wijkkolom '{col}' ({'hoger' if higher_worse else 'lager'} = meer kansarmoede), gewogen naar bewoners; 1 = meest kansarm.")
            break
    return w, notes


def deprivation_quintiles(values: np.ndarray, residents: np.ndarray, higher_is_worse: bool = True) -> np.ndarray:
    """Quintile 1 (most deprived) .. 5 per area, so each quintile holds about a fifth of the residents.

    Areas are ranked from most to least deprived; an area's quintile is set by the cumulative
    resident share at its midpoint. NaN values stay NaN.
    """
    v = np.asarray(values, float)
    r = np.where(np.isfinite(residents) & (residents > 0), residents, 0.0)
    out = np.full(len(v), np.nan)
    ok = np.isfinite(v)
    if not ok.any():
        return out
    idx = np.where(ok)[0]
    order = idx[np.argsort(-v[idx] if higher_is_worse else v[idx], kind="stable")]
    w = r[order] if r[order].sum() > 0 else np.ones(len(order))
    cum = np.cumsum(w) - w / 2.0
    out[order] = np.clip(np.floor(cum / w.sum() * 5.0) + 1, 1, 5)
    return out


def _external(area: StudyArea, homes: gpd.GeoDataFrame, family: str) -> tuple[pd.DataFrame | None, str | None]:
    """Per-home columns of the noise or air layer, or (None, reason in Dutch).

    The layer's own homes are matched to ``homes`` by position (same length and order) or else by
    the point coordinates (rounded to 1 cm); unmatched homes stay NaN (unknown).
    """
    mod_name, fns, cols = EXTERNAL_LAYERS[family]
    try:
        mod = importlib.import_module(mod_name)
    except ImportError:
        return None, f"laag '{family}' nog niet beschikbaar"
    for fn in fns:
        f = getattr(mod, fn, None)
        if f is None:
            continue
        try:
            r = f(area, homes=homes) if "homes" in inspect.signature(f).parameters else f(area)
        except GezondeStadError as exc:
            return None, f"laag '{family}' niet berekend ({exc})"
        df = getattr(r, "homes", r)
        if not isinstance(df, pd.DataFrame) or not any(c in df.columns for c in cols):
            continue
        vals = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(float) for c in cols if c in df.columns}
        if "geometry" in df.columns and len(df):
            key = lambda g: pd.Index(np.round(shapely.get_coordinates(np.asarray(g.geometry.values, dtype=object)), 2).view(np.complex128).ravel())  # noqa: E731
            pos = key(df).get_indexer(key(homes)) if key(df).is_unique else np.arange(len(homes)) if len(df) == len(homes) else None
            if pos is None:
                return None, f"laag '{family}': woningen niet te koppelen"
        elif len(df) == len(homes):
            pos = np.arange(len(homes))
        else:
            return None, f"laag '{family}': woningen niet te koppelen"
        out = pd.DataFrame({c: np.where(pos >= 0, v[np.maximum(pos, 0)], np.nan) for c, v in vals.items()})
        return out, None
    return None, f"laag '{family}' geeft geen kolommen {', '.join(cols)} per woning"


def _network_access(area: StudyArea, homes: gpd.GeoDataFrame, why: dict[str, str | None], f: pd.DataFrame, notes: list[str]) -> None:
    """Walking and cycling access per home from the network indicators, into ``f`` (or a note)."""
    try:
        h = network_indicators(area, homes=homes).homes
    except GezondeStadError as exc:
        notes.append(f"Wandel- en fietsbereikbaarheid niet berekend ({exc}); lichaamsbeweging onbekend.")
        return
    if not why["walk_access"]:
        f["walk_access"] = pd.to_numeric(h["stop_s_home"], errors="coerce").to_numpy(float)
    if not why["cycle_access"]:
        c = np.column_stack([pd.to_numeric(h[k], errors="coerce").to_numpy(float) for k in ("centre_lts12", "school_lts12") if k in h.columns])
        with np.errstate(invalid="ignore"):
            f["cycle_access"] = np.nanmean(c, axis=1) if c.size else np.nan


def exposure_frame(
    area: StudyArea,
    homes: gpd.GeoDataFrame | None = None,
    params: HealthParams | None = None,
    families: tuple[str, ...] = ("network", "heat", "green", "noise", "air"),
    known: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Per-home exposures of ``area`` for the health layer, and Dutch notes on what is missing.

    Parameters
    ----------
    area : StudyArea
    homes : GeoDataFrame, optional
        Default :func:`spatial.aggregate.home_points`.
    params : HealthParams, optional
    families : tuple of str
        Which exposures to compute (skip some for speed or tests).
    known : DataFrame, optional
        Exposure columns already computed for ``homes`` (same row order, e.g. by the screening):
        a family whose columns are all here is not computed again.

    Returns
    -------
    (DataFrame, list of str)
        Columns ``home_id``, ``wijk_code``, ``residents``, age shares, ``deprivation_quintile``
        and the exposure columns that could be computed.
    """
    p = params or HealthParams.from_norms()
    homes = home_points(area) if homes is None else homes
    notes: list[str] = []
    f = pd.DataFrame(
        {
            "home_id": homes["home_id"].to_numpy() if "home_id" in homes else np.arange(len(homes)),
            "wijk_code": homes["wijk_code"].astype("object").to_numpy() if "wijk_code" in homes else None,
            "wijk_naam": homes["wijk_naam"].astype("object").to_numpy() if "wijk_naam" in homes else None,
            "residents": pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy(float),
        }
    )
    if len(area.wijken):
        wt, wn = _wijk_table(area.wijken)
        notes += wn
        f = f.merge(wt, on="wijk_code", how="left")
    why = {c: exposure_status(area, c) for c in HEALTH_NEEDS}
    wanted = {"walk_access": "network", "cycle_access": "network", "tair_hot_day_c": "heat", "ndvi_proxy": "green"}
    for c, reason in why.items():
        if reason and wanted[c] in families:
            notes.append(f"Blootstelling {EXPOSURE_NL[c]}: onbekend ({reason}); dat pad telt niet mee.")
    known = known if known is not None else pd.DataFrame(index=range(len(f)))
    if len(known) != len(f):
        raise HealthInputError("Intern: de reeds berekende blootstellingen hebben niet één rij per woning; herbereken zonder ze mee te geven.")
    have = {c for c in known.columns if c in (*HEALTH_NEEDS, *KNOWN_EXTERNAL)}
    for c in sorted(have):
        if not why.get(c):
            f[c] = pd.to_numeric(known[c], errors="coerce").to_numpy(float)
    if "network" in families and not (why["walk_access"] and why["cycle_access"]) and not {"walk_access", "cycle_access"} <= have:
        _network_access(area, homes, why, f, notes)
    lc = area.landcover
    if lc is not None and "heat" in families and not why["tair_hot_day_c"] and len(area.wijken) and "tair_hot_day_c" not in have:
        hr = heat_layer(lc, area.wijken, homes=homes)
        f["tair_hot_day_c"] = sample_at_points(hr.t_air, hr.landcover, homes)
    if lc is not None and "green" in families and not why["ndvi_proxy"]:
        share = green_share_within(lc, homes, p.green_buffer_m)
        f["green_share"] = share
        f["ndvi_proxy"] = ndvi_from_green_share(share, p)
    for fam in ("noise", "air"):
        if fam not in families or set(EXTERNAL_LAYERS[fam][2][:2]) <= have:
            continue
        df, why = _external(area, homes, fam)
        if df is None:
            notes.append(f"{'Geluid' if fam == 'noise' else 'Luchtkwaliteit'}: {why}; die paden zijn onbekend.")
            continue
        for c in df.columns:
            f[c] = df[c].to_numpy()
    _source_levels(f)
    return f, notes


def _source_levels(f: pd.DataFrame) -> None:
    """Road and railway levels of a home with a known total but no such source in range are 0 dB
    (no contribution), not unknown: the noise layer leaves them empty (no path within reach)."""
    for total in ("lden_db", "lnight_db"):
        if total not in f.columns:
            continue
        known = np.isfinite(pd.to_numeric(f[total], errors="coerce").to_numpy(float))
        for kind in ("road", "rail"):
            c = total.replace("_db", f"_{kind}_db")
            if c in f.columns:
                v = pd.to_numeric(f[c], errors="coerce").to_numpy(float)
                f[c] = np.where(known & ~np.isfinite(v), 0.0, v)


def _with_notes(r: HealthResult, extra: list[str]) -> HealthResult:
    return replace(r, notes=list(dict.fromkeys(extra + r.notes)))


def city_health(area: StudyArea, params: HealthParams | None = None, draws: int = DEFAULT_DRAWS, seed: int = 20261130,
                families: tuple[str, ...] = ("network", "heat", "green", "noise", "air")) -> HealthResult:
    """Current-city burden: deaths, DALYs and euros a year attributable to not meeting each recommendation."""
    p = params or HealthParams.from_norms()
    f, notes = exposure_frame(area, params=p, families=families)
    return _with_notes(health_outcomes(f, None, p, draws, seed), notes)


def plan_health(area: StudyArea, plan: Plan, params: HealthParams | None = None, draws: int = DEFAULT_DRAWS, seed: int = 20261130,
                families: tuple[str, ...] = ("network", "heat", "green", "noise", "air")) -> HealthResult:
    """A plan's change in deaths, DALYs and euros a year (after - before), per pathway and group.

    Existing residents are matched before/after (:func:`screening.compare.before_positions`);
    new residents come from the plan's buildings, removed ones from its demolitions.
    """
    p = params or HealthParams.from_norms()
    after_area = apply_plan(area, plan)
    homes_b = home_points(area)
    sit = Situation(area, homes_b, {})
    homes_a = homes_after_plan(sit, after_area, plan)
    fb, nb = exposure_frame(area, homes_b, p, families)
    fa, na = exposure_frame(after_area, homes_a, p, families)
    fa["before_index"] = before_positions(sit, homes_a)
    return _with_notes(health_outcomes(fb, fa, p, draws, seed), nb + na)




def _known_from_situation(sit: Situation) -> pd.DataFrame:
    """Exposure columns the screening already computed for ``sit.homes``: walking and cycling
    access (network family), hot-day air temperature (heat), Lden/Lnight (noise, with the plan's
    traffic), NO2/PM2.5 (air, with the plan's traffic)."""
    n = len(sit.homes)
    out = pd.DataFrame(index=range(n))
    net = sit.families.get("network")
    if net is not None and net.homes is not None and len(net.homes) == n:
        h = net.homes
        if "stop_s_home" in h.columns:
            out["walk_access"] = pd.to_numeric(h["stop_s_home"], errors="coerce").to_numpy(float)
        lts = [k for k in ("centre_lts12", "school_lts12") if k in h.columns]
        if lts:
            c = np.column_stack([pd.to_numeric(h[k], errors="coerce").to_numpy(float) for k in lts])
            k = np.isfinite(c).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["cycle_access"] = np.where(k > 0, np.nansum(c, axis=1) / np.maximum(k, 1), np.nan)
    for fam in ("noise", "air"):
        fo = sit.families.get(fam)
        if fo is not None and fo.homes is not None and len(fo.homes) == n:
            for c in EXTERNAL_LAYERS[fam][2]:
                if c in fo.homes.columns:
                    out[c] = pd.to_numeric(fo.homes[c], errors="coerce").to_numpy(float)
    heat = sit.families.get("heat")
    if heat is not None and heat.homes is not None and len(heat.homes) == n and "heat_c" in heat.homes.columns:
        t_ref = float(load_norms("heat")["t_ref_c"].value)
        out["tair_hot_day_c"] = t_ref + pd.to_numeric(heat.homes["heat_c"], errors="coerce").to_numpy(float)
    return out


def situation_health(sit: Situation, params: HealthParams | None = None, draws: int = DEFAULT_DRAWS, seed: int = 20261130) -> HealthResult:
    """:func:`city_health` from a computed situation (e.g. the screening's cached baseline).

    The exposures the situation's families computed are reused (network, heat, noise, air);
    greenness is computed here; a family that is absent is not recomputed (its pathways are
    *onbekend*). Used for the attributable-burden layer per wijk.
    """
    p = params or HealthParams.from_norms()
    kb = _known_from_situation(sit)
    fams = ("green", *(f for f, c in (("network", "walk_access"), ("heat", "tair_hot_day_c"), ("noise", "lden_db"), ("air", "no2_ugm3")) if c in kb.columns))
    f, notes = exposure_frame(sit.area, sit.homes, p, fams, known=kb)
    return _with_notes(health_outcomes(f, None, p, draws, seed), notes)


def screening_health(result: ScreeningResult, params: HealthParams | None = None, draws: int = DEFAULT_DRAWS, seed: int = 20261130) -> HealthResult:
    """:func:`plan_health` for a finished screening, reusing what the screening computed.

    Walking and cycling access, hot-day temperature, noise and air per home come from the
    screening's families (before and after, full or local, with the plan's traffic); only the
    greenness proxy is computed here (one convolution per situation). A family the screening
    could not compute is not recomputed: its pathways are *onbekend* with the screening's reason.
    Homes and their matching are those of the screening, so both sections count the same residents.
    """
    p = params or HealthParams.from_norms()
    b, a = result.before, result.after
    kb, ka = _known_from_situation(b), _known_from_situation(a)
    fams = ("green", *(f for f, cols in (("network", ("walk_access",)), ("heat", ("tair_hot_day_c",)), ("noise", ("lden_db",)), ("air", ("no2_ugm3",)))
                      if set(cols) <= set(kb.columns) & set(ka.columns)))
    fb, nb = exposure_frame(b.area, b.homes, p, fams, known=kb)
    fa, na = exposure_frame(a.area, a.homes, p, fams, known=ka)
    fa["before_index"] = before_positions(b, a.homes)
    r = _with_notes(health_outcomes(fb, fa, p, draws, seed), nb + na)
    fam_of = {"noise_ihd": "noise", "noise_annoyance": "noise", "noise_sleep": "noise", "pm25": "air", "no2": "air", "walking": "network",
              "cycling": "network", "heat": "heat"}
    unknown = dict(r.unknown)
    for k in unknown:
        fam = fam_of.get(k)
        if fam and fam not in fams:
            unknown[k] = f"niet berekend in de screening: {result.missing.get(fam) or b.errors.get(fam) or a.errors.get(fam) or 'laag niet beschikbaar'}"
    if unknown != r.unknown:
        notes = [n for n in r.notes if not any(n.startswith(PATHWAY_LABELS_NL.get(k, k) + ":") for k in unknown)]
        notes = [f"{PATHWAY_LABELS_NL.get(k, k)}: onbekend ({v}); niet meegeteld, niet als 0." for k, v in unknown.items()] + notes
        r = replace(r, unknown=unknown, notes=list(dict.fromkeys(notes)))
    return r


def health_summary_nl(r: HealthResult, groups: tuple[str, ...] = ("total",), metrics: tuple[str, ...] = ("deaths", "dalys", "eur")) -> pd.DataFrame:
    """The summary with Dutch labels (pathway, group, metric) for tables in the report or CLI."""
    s = r.summary
    s = s[s["group"].isin(groups) & s["metric"].isin(metrics)].copy()
    s["pad"] = s["pathway"].map(lambda k: PATHWAY_LABELS_NL.get(k, k))
    s["groep"] = s.apply(lambda x: GROUP_LABELS_NL.get(x["group"] if x["age"] == "all" else x["age"], x["group"].upper()), axis=1)
    labels = {"deaths": "vroegtijdige sterfgevallen/jaar", "dalys": "DALY/jaar", "eur": "EUR/jaar (VOLY)", "eur_vsl": "EUR/jaar (VSL)"}
    s["maat"] = s["metric"].map(labels)
    return s[["pad", "groep", "maat", "median", "lo", "hi", "pathway", "group", "age", "metric"]]


__all__: list[Any] = [
    "exposure_frame",
    "city_health",
    "plan_health",
    "screening_health",
    "situation_health",
    "green_share_within",
    "deprivation_quintiles",
    "health_summary_nl",
]
