"""The health-outcome section of the screening report and the app: numbers, bars and who carries them.

:func:`health_section` turns a :class:`spatial.health.HealthResult` into Dutch, display-ready rows
(median and 95 % interval of premature deaths, DALYs and euros a year; per pathway; existing,
new and removed residents; 65+ and 0-5; per wijk; per deprivation quintile when present; the
pathways not assessed; seed and draws). :func:`pathway_bars_png` draws the pathway bars and
:func:`health_json` gives the same content as plain data for the report JSON.

Signs follow the health layer: in a plan, positive = more deaths (worse), negative = health
gain; in the current-city burden every number is a burden (>= 0).
"""

from __future__ import annotations

import base64
import io
import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from gezondestad.model.fmt import MISSING, as_number, fmt_number, fmt_people
from gezondestad.spatial.health import GROUP_LABELS_NL, PATHWAY_LABELS_NL, PATHWAYS, HealthResult

logger = logging.getLogger(__name__)

METRIC_LABELS_NL: dict[str, str] = {
    "deaths": "Vroegtijdige sterfgevallen per jaar",
    "dalys": "Gezonde levensjaren verloren (DALY) per jaar",
    "eur": "Maatschappelijke waarde per jaar (DALY × VOLY)",
}
"""Dutch labels of the headline metrics."""

PLAN_GROUPS: tuple[str, ...] = ("existing", "new", "removed")

MORBIDITY_ONLY: frozenset[str] = frozenset({"noise_annoyance", "noise_sleep"})
"""Pathways that cause ill health but no deaths: shown in DALYs, not in the deaths bars or columns."""


def fmt_signif(v: Any, signed: bool = False, missing: str = MISSING) -> str:
    """A small or large outcome with about two significant figures, Dutch (``-0,27`` -> ``−0,27``).

    Decimals follow the size: 0 from 100, 1 from 10, 2 from 0,1, else 3.
    """
    f = as_number(v)
    if f is None:
        return missing
    a = abs(f)
    d = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 0.1 else 3
    s = fmt_number(a, d)
    if set(s) <= set("0,"):
        return "0"
    sign = "−" if f < 0 else ("+" if signed and f > 0 else "")
    return sign + s


def fmt_eur(v: Any, signed: bool = False, missing: str = MISSING) -> str:
    """Euros rounded to three significant figures: ``€ 1 230 000``."""
    f = as_number(v)
    if f is None:
        return missing
    if f == 0:
        return "€ 0"
    r = round(abs(f), 2 - int(math.floor(math.log10(abs(f)))))
    sign = "−" if f < 0 else ("+" if signed and f > 0 else "")
    return f"{sign}€ {fmt_number(r, 0)}"


def _fmt(metric: str, v: Any, signed: bool) -> str:
    return fmt_eur(v, signed) if metric in ("eur", "eur_vsl") else fmt_signif(v, signed)


def interval_text(r: HealthResult, pathway: str = "total", group: str = "total", metric: str = "deaths", age: str = "all") -> str:
    """``−1,02 (95 %: −1,41 tot −0,60)`` or ``onbekend``."""
    signed = r.mode == "plan"
    med = r.value(pathway, group, metric, age)
    if not np.isfinite(med):
        return "onbekend"
    lo, hi = r.value(pathway, group, metric, age, "lo"), r.value(pathway, group, metric, age, "hi")
    return f"{_fmt(metric, med, signed)} (95 %: {_fmt(metric, lo, signed)} tot {_fmt(metric, hi, signed)})"


def _pathways_present(r: HealthResult) -> list[str]:
    order = ["physical_activity", *PATHWAYS]
    have = set(r.summary["pathway"]) - {"total"} if len(r.summary) else set()
    return [p for p in order if p in have]


def _group_label(g: str) -> str:
    if g.startswith("q") and g[1:].isdigit():
        return f"Kwintiel {g[1:]}" + (" (meest kansarm)" if g == "q1" else " (minst kansarm)" if g == "q5" else "")
    return GROUP_LABELS_NL.get(g, g)


def not_assessed(r: HealthResult) -> list[dict[str, str]]:
    """Pathways that are *onbekend* with their reason (Dutch)."""
    return [{"pathway": PATHWAY_LABELS_NL.get(k, k), "reason": why} for k, why in r.unknown.items()]


def pathway_bars_png(r: HealthResult, dpi: int = 110) -> str | None:
    """Horizontal bars of premature deaths a year per pathway: median with the 95 % interval.

    The axis is symmetric around zero in plan mode (gain left, harm right) and starts at zero
    for the current-city burden; its end is the next 1-2-5 step above the largest interval end
    so the scale means the same for two plans of similar size. Decimal comma on the ticks.
    A PNG as a data URI, or None when no pathway was assessed.
    """
    paths = [p for p in _pathways_present(r) if p not in MORBIDITY_ONLY]
    if not paths:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    paths = [*paths, "total"]
    med = np.array([r.value(p) for p in paths])
    lo = np.array([r.value(p, stat="lo") for p in paths])
    hi = np.array([r.value(p, stat="hi") for p in paths])
    m = float(np.nanmax(np.abs(np.concatenate([lo, hi, med])))) if np.isfinite(med).any() else 0.0
    end = _nice_end(m)
    plan = r.mode == "plan"
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(paths) + 1.3))
    y = np.arange(len(paths))[::-1]
    colours = ["#2e9e4f" if (plan and v < 0) else "#d03b2f" if v > 0 else "#999999" for v in med]
    colours[-1] = "#333333"
    ax.barh(y, med, color=colours, height=0.6)
    err = np.vstack([np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)])
    ax.errorbar(med, y, xerr=err, fmt="none", ecolor="#222222", capsize=3, lw=1)
    ax.set_yticks(y, [PATHWAY_LABELS_NL.get(p, p) for p in paths], fontsize=8.5)
    ax.axvline(0, color="#222222", lw=0.8)
    ax.set_xlim(-end if plan else 0.0, end)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(v, _tick_decimals(end)).replace("-", "−")))
    if plan:
        ax.set_xlabel("Vroegtijdige sterfgevallen per jaar, na min voor\n← minder sterfte (gezondheidswinst)   |   meer sterfte →", fontsize=9)
    else:
        ax.set_xlabel("Vroegtijdige sterfgevallen per jaar door het niet halen van de aanbeveling", fontsize=9)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    for s in ("top", "right"):
        ax.spines[s].set_visible(False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _nice_end(m: float) -> float:
    """The next 1-2-5 step at or above ``m`` (at least 0,01)."""
    m = max(float(m), 0.01)
    e = 10.0 ** math.floor(math.log10(m))
    for k in (1.0, 2.0, 5.0, 10.0):
        if k * e >= m * (1 - 1e-12):
            return k * e
    return 10.0 * e


def _tick_decimals(end: float) -> int:
    return max(0, -int(math.floor(math.log10(end))) + 1) if end < 10 else 0


def health_section(r: HealthResult, with_chart: bool = True) -> dict[str, Any]:
    """Everything the report's and the app's health section show, formatted in Dutch.

    Returns
    -------
    dict
        ``mode``, ``intro``, ``headline`` (metric label, interval text), ``pathways`` (rows:
        label, deaths, DALYs, euros), ``groups`` (existing/new/removed or everyone), ``ages``
        (65+ and 0-5, empty when unknown), ``quintiles``, ``wijken``, ``not_assessed``,
        ``notes``, ``seed``, ``draws``, ``label`` (the comparison sentence), ``bars`` (PNG data
        URI or None).
    """
    plan = r.mode == "plan"
    head = [{"label": METRIC_LABELS_NL[m], "value": interval_text(r, metric=m)} for m in ("deaths", "dalys", "eur")]
    paths = [{"label": PATHWAY_LABELS_NL.get(p, p), "deaths": MISSING if p in MORBIDITY_ONLY else interval_text(r, p), "dalys": interval_text(r, p, metric="dalys"),
              "eur": interval_text(r, p, metric="eur")} for p in [*_pathways_present(r), "total"]] if len(r.summary) else []
    groups_present = set(r.summary["group"]) if len(r.summary) else set()
    group_keys = [g for g in (PLAN_GROUPS if plan else ("total",)) if g in groups_present]
    res = r.homes.groupby("group")["residents"].sum() if len(r.homes) and "group" in r.homes else pd.Series(dtype=float)
    groups = []
    for g in group_keys:
        n = float(res.get(g, np.nan)) if g != "total" else float(r.homes["residents"].sum())
        if g == "removed":
            n = float("nan")  # removed homes carry 0 residents after the plan; their count is in the displacement section
        groups.append({"label": _group_label(g), "residents": fmt_number(n, 0) if np.isfinite(n) else MISSING,
                       "deaths": interval_text(r, group=g), "dalys": interval_text(r, group=g, metric="dalys")})
    ages_present = set(r.summary["age"]) if len(r.summary) else set()
    ages = [{"label": GROUP_LABELS_NL[a], "deaths": interval_text(r, age=a), "dalys": interval_text(r, metric="dalys", age=a)}
            for a in ("age_65plus", "age_0_5") if a in ages_present]
    quint = [{"label": _group_label(g), "deaths": interval_text(r, group=g), "dalys": interval_text(r, group=g, metric="dalys")}
             for g in sorted(x for x in groups_present if x.startswith("q") and x[1:].isdigit())]
    wijken = []
    pw = r.per_wijk
    if len(pw) and "deaths_total" in pw:
        pw = pw.assign(_abs=pw["deaths_total"].abs()).sort_values("_abs", ascending=False)
        for _, w in pw.iterrows():
            name = str(w.get("wijk_naam") or "") if pd.notna(w.get("wijk_naam", None)) else ""
            wijken.append({"wijk": f"{name} ({w['wijk_code']})" if name else str(w["wijk_code"]),
                           "residents": fmt_number(w["residents"], 0), "deaths": fmt_signif(w["deaths_total"], plan),
                           "per10000": fmt_signif(w.get("deaths_per_10000"), plan), "dalys": fmt_signif(w.get("dalys_total"), plan)})
    intro = ("Verandering per jaar door het plan (na min voor): negatief = minder vroegtijdige sterfte of ziektelast (gezondheidswinst), positief = meer."
             if plan else "Ziektelast per jaar door het niet halen van de aanbevelingen (WHO-richtwaarden lucht en geluid, 150 min beweging, groennorm, hitte-eiland).")
    return {
        "mode": r.mode, "intro": intro, "headline": head, "pathways": paths, "groups": groups, "ages": ages, "quintiles": quint,
        "wijken": wijken, "not_assessed": not_assessed(r), "notes": list(r.notes), "seed": r.seed, "draws": r.draws, "draws_s": fmt_people(r.draws),
        "label": r.label_nl, "bars": pathway_bars_png(r) if with_chart else None,
        "wijk_note": "Per wijk: centrale schatting (zonder interval)." if wijken else "",
    }


def variant_health_rows(results: list[HealthResult | None]) -> list[dict[str, Any]]:
    """Rows of the side-by-side health table of plan variants: total deaths, DALYs and euros, then
    deaths per pathway; ``differs`` when two variants' 95 % intervals do not overlap."""
    if not any(r is not None for r in results):
        return []
    rows = []
    keys = [("total", m) for m in ("deaths", "dalys", "eur")]
    paths = list(dict.fromkeys(p for r in results if r is not None for p in _pathways_present(r)))
    keys += [(p, "dalys" if p in MORBIDITY_ONLY else "deaths") for p in paths]
    for path, metric in keys:
        cells, ivs = [], []
        for r in results:
            if r is None:
                cells.append(MISSING)
                continue
            cells.append(interval_text(r, path, metric=metric))
            lo, hi = r.value(path, metric=metric, stat="lo"), r.value(path, metric=metric, stat="hi")
            if np.isfinite(lo) and np.isfinite(hi):
                ivs.append((lo, hi))
        differs = len(ivs) > 1 and max(a for a, _ in ivs) > min(b for _, b in ivs)
        label = METRIC_LABELS_NL[metric] if path == "total" else f"{PATHWAY_LABELS_NL.get(path, path)}: {'DALY' if metric == 'dalys' else 'sterfgevallen'} per jaar"
        rows.append({"label": label, "cells": cells, "differs": bool(differs)})
    return rows


def health_json(r: HealthResult | None) -> dict[str, Any] | None:
    """The health result as plain data for the report JSON (NaN left for the caller to clean)."""
    if r is None:
        return None
    return {
        "mode": r.mode,
        "label": r.label_nl,
        "seed": r.seed,
        "draws": r.draws,
        "summary": r.summary.to_dict("records"),
        "per_wijk": r.per_wijk.to_dict("records"),
        "not_assessed": dict(r.unknown),
        "notes": list(r.notes),
        "norms_used": r.norms_used.astype(str).to_dict("records"),
    }


__all__ = ["health_section", "health_json", "variant_health_rows", "pathway_bars_png", "interval_text", "fmt_signif", "fmt_eur", "not_assessed"]
