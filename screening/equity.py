"""Who gains and who loses: existing residents per wijk and per need quintile, proportionate universalism.

Built on the per-home values of a :class:`~gezondestad.screening.compare.ScreeningResult`: for
each per-home indicator of the catalogue, the same homes before and after (existing residents)
are compared with the screening's own tolerances, and counted per wijk (each home's own wijk)
and per need quintile of wijken when the wijken carry an income or deprivation column
(``data/norms/report.toml`` ``deprivation_columns``). Without such a column the breakdown is
left out and said once; nothing is invented.

Proportionate universalism (Marmot Review 2010): benefits should go at least proportionally to
the groups with the greatest need. The check compares the share of existing residents who gain
in the two highest-need quintiles with their share of the population.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gezondestad.model.norms import load_norms
from gezondestad.screening.compare import (
    BOOL_HOME_COLS,
    INDICATORS,
    _home_tolerance,
    _home_values,
    before_positions,
    situation_keys,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Equity:
    """Gains and losses of existing residents by wijk and need quintile.

    Attributes
    ----------
    per_wijk : DataFrame
        wijk_code, wijk_naam, residents, better, worse (residents better/worse off on at least one
        indicator), per indicator ``<key>_better`` / ``<key>_worse``.
    per_quintile : DataFrame or None
        quintile (1 = greatest need), residents, better, worse, share_of_population, share_of_gains.
    need_column : str or None
        The wijk column used for need (None when the wijken have none).
    proportionate : bool or None
        Whether the two highest-need quintiles get at least their population share of the gains
        (None when unknown).
    notes : list of str
    """

    per_wijk: pd.DataFrame
    per_quintile: pd.DataFrame | None
    need_column: str | None
    proportionate: bool | None
    notes: list[str] = field(default_factory=list)


def per_home_changes(result: Any) -> pd.DataFrame:
    """Per existing home after the plan: residents, wijk and whether each indicator is better/worse.

    Columns ``residents``, ``wijk_code`` and per per-home indicator ``<key>_better`` and
    ``<key>_worse`` (booleans; False where unknown); only homes that existed before.
    """
    before, after = result.before, result.after
    pos = before_positions(before, after.homes, situation_keys(after))
    exist = pos >= 0
    homes = after.homes
    out = pd.DataFrame({
        "residents": pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy(),
        "wijk_code": homes["wijk_code"].astype(str).to_numpy() if "wijk_code" in homes else "",
    })
    for sp in INDICATORS:
        col = sp.home_col
        if not col or sp.higher_is_better is None:
            continue
        hb = _home_values(before, sp.family, col)
        ha = _home_values(after, sp.family, col)
        if hb is None or ha is None or not len(hb):
            continue
        vb = np.where(exist, hb[np.maximum(pos, 0)], np.nan)
        d = ha - vb
        ok = exist & np.isfinite(d)
        tol = _home_tolerance(col)
        eps = 1e-12 if col in BOOL_HOME_COLS else 0.0
        up = ok & (d > tol - eps)
        down = ok & (d < -tol + eps)
        if sp.higher_is_better is False:
            up, down = down, up
        out[f"{sp.key}_better"] = up
        out[f"{sp.key}_worse"] = down
    return out[exist].reset_index(drop=True)


def _need_column(wijken: pd.DataFrame) -> str | None:
    for c in load_norms("report")["deprivation_columns"].value:
        if c in wijken.columns and pd.to_numeric(wijken[c], errors="coerce").notna().sum() >= 2:
            return str(c)
    return None


def need_quintiles(wijken: pd.DataFrame, column: str) -> pd.Series:
    """Quintile of need per wijk code (1 = greatest need), population-weighted where residents are known."""
    n_q = int(load_norms("report")["quintiles"].value)
    worse_high = column in load_norms("report")["need_higher_is_worse_columns"].value
    v = pd.to_numeric(wijken[column], errors="coerce")
    res = pd.to_numeric(wijken.get("residents", pd.Series(1.0, index=wijken.index)), errors="coerce").fillna(0.0)
    if res.sum() <= 0:
        res = pd.Series(1.0, index=wijken.index)
    order = (-v if worse_high else v).sort_values(kind="stable").index  # greatest need first
    cum = res.loc[order].cumsum() / res.sum()
    q = np.minimum((cum.to_numpy() - res.loc[order].to_numpy() / res.sum() / 2) * n_q, n_q - 1e-9).astype(int) + 1
    out = pd.Series(q, index=wijken.loc[order, "wijk_code"].astype(str).to_numpy())
    return out[v.loc[order].notna().to_numpy()]


def equity(result: Any) -> Equity:
    """Gains and losses of existing residents per wijk and per need quintile."""
    notes: list[str] = []
    ch = per_home_changes(result)
    bcols = [c for c in ch.columns if c.endswith("_better")]
    wcols = [c for c in ch.columns if c.endswith("_worse")]
    ch["any_better"] = ch[bcols].any(axis=1) if bcols else False
    ch["any_worse"] = ch[wcols].any(axis=1) if wcols else False
    wijken = result.after.area.wijken
    names = dict(zip(wijken["wijk_code"].astype(str), wijken["wijk_naam"].astype(str)))
    rows = []
    for code, g in ch.groupby("wijk_code", sort=True):
        r = g["residents"].to_numpy()
        row = {"wijk_code": code, "wijk_naam": names.get(code, code), "residents": float(r.sum()),
               "better": float(r[g["any_better"].to_numpy()].sum()), "worse": float(r[g["any_worse"].to_numpy()].sum())}
        for c in bcols + wcols:
            row[c] = float(r[g[c].to_numpy()].sum())
        rows.append(row)
    per_wijk = pd.DataFrame(rows)
    col = _need_column(wijken)
    per_q = None
    prop = None
    if col is None:
        notes.append("De wijken hebben geen kolom met inkomen of kansarmoede: de verdeling naar nood (kwintielen) is weggelaten.")
    elif len(per_wijk):
        q = need_quintiles(wijken, col)
        pw = per_wijk.assign(quintile=per_wijk["wijk_code"].map(q))
        per_q = pw.dropna(subset=["quintile"]).groupby("quintile", as_index=False)[["residents", "better", "worse"]].sum()
        per_q["quintile"] = per_q["quintile"].astype(int)
        tot_r, tot_b = per_q["residents"].sum(), per_q["better"].sum()
        per_q["share_of_population"] = per_q["residents"] / tot_r if tot_r > 0 else np.nan
        per_q["share_of_gains"] = per_q["better"] / tot_b if tot_b > 0 else np.nan
        if tot_b > 0:
            top = per_q[per_q["quintile"] <= 2]
            prop = bool(top["share_of_gains"].sum() >= top["share_of_population"].sum() - 1e-9)
        else:
            notes.append("Niemand gaat er aantoonbaar op vooruit: de verdeling van de winst naar nood is niet te beoordelen.")
    return Equity(per_wijk, per_q, col, prop, notes)
