"""Health-determinant checklist of a plan (after HUDU Rapid HIA, Healthy Streets, Place Standard, GES, Gezond Leven).

The items live in ``data/norms/checklist.toml``. An item is either *computed* (filled in from
the before/after numbers of :func:`screening.compare.screen`, with the threshold and its
source from the same file) or a *question* the planner answers (answers passed as a dict or
a JSON file: ``{"ontmoeting": "ja", "spelen": {"answer": "deels", "toelichting": "..."}}``).

Every item gets a score ``+`` (positive for health), ``0`` (neutral / partly), ``-``
(negative) or ``?`` (unknown: no number and no answer), the evidence (numbers or the answer),
the source of the norm, and a Dutch recommendation drawn from the city's priorities.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import NORMS_DIR, load_norms

SCORES: tuple[str, ...] = ("+", "0", "-", "?")
SCORE_LABELS_NL: dict[str, str] = {"+": "positief", "0": "neutraal", "-": "negatief", "?": "onbekend"}
ANSWERS: dict[str, str] = {
    "ja": "+", "yes": "+", "true": "+", "+": "+",
    "deels": "0", "gedeeltelijk": "0", "partly": "0", "0": "0", "neutraal": "0",
    "nee": "-", "no": "-", "false": "-", "-": "-",
    "onbekend": "?", "unknown": "?", "?": "?", "": "?",
}
"""Accepted answers (Dutch or English) and the score they give."""


class ChecklistError(GezondeStadError):
    """Bad checklist answers or a malformed checklist.toml; the message says what to fix."""


@dataclass
class ChecklistItem:
    """One determinant of the checklist, scored.

    Attributes
    ----------
    id : str
        Key in ``checklist.toml`` (e.g. ``groen``).
    theme : str
        Dutch theme label.
    kind : str
        ``computed`` or ``question``.
    question : str
    score : str
        ``+``, ``0``, ``-`` or ``?``.
    evidence : str
        Numbers (computed) or the planner's answer and explanation.
    source : str
        Source of the norm / instrument reference.
    instruments : str
    recommendation : str
        Dutch recommendation.
    """

    id: str
    theme: str
    kind: str
    question: str
    score: str
    evidence: str
    source: str
    instruments: str
    recommendation: str

    @property
    def score_label(self) -> str:
        return SCORE_LABELS_NL[self.score]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score_label"] = self.score_label
        return d


def load_checklist(norms_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """The raw items of ``checklist.toml`` (values and sources checked through :mod:`gezondestad.model.norms`)."""
    d = Path(norms_dir or NORMS_DIR)
    load_norms("checklist", d)  # validates value/source of every entry
    with (d / "checklist.toml").open("rb") as f:
        raw = tomllib.load(f)
    for k, item in raw.items():
        for req in ("theme", "kind", "question", "recommendation"):
            if req not in item:
                raise ChecklistError(f"data/norms/checklist.toml: item '{k}' has no '{req}'.")
        if item["kind"] not in ("computed", "question"):
            raise ChecklistError(f"data/norms/checklist.toml: item '{k}' has kind '{item['kind']}', use 'computed' or 'question'.")
    return raw


def read_answers(path: str | os.PathLike) -> dict[str, Any]:
    """Read the planner's answers from a JSON file (object of item id -> answer)."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ChecklistError(f"{p}: cannot read the answers as JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ChecklistError(f"{p}: the answers must be a JSON object {{item: answer}}.")
    return data


def _fmt(v: float, unit: str) -> str:
    """Dutch formatting (decimal comma), shares as percent (same as the report's tables)."""
    from gezondestad.screening.report import fmt_value

    return fmt_value(v, unit)


def _delta_evidence(result: Any, keys: list[str], zone: str) -> tuple[list[str], list[str]]:
    dirs, ev = [], []
    for k in keys:
        row = result.row(k, zone)
        if row is None:
            continue
        dirs.append(row["direction"])
        ev.append(f"{row['label']} ({row['zone_label'].lower()}): {_fmt(row['before'], row['unit'])} → {_fmt(row['after'], row['unit'])} ({row['direction_nl']})")
    return dirs, ev


def _exposure(result: Any, item: dict[str, Any]) -> tuple[float, float, int]:
    """Residents of plan buildings within ``value`` m of the item's road classes / speeds, total plan residents, buildings near."""
    from gezondestad.spatial.cycling import parse_maxspeed_kmh

    area = result.after.area
    b = area.buildings
    if "plan_fid" not in b.columns:
        return 0.0, 0.0, 0
    pb = b[b["plan_fid"].notna()]
    res = pd.to_numeric(pb["residents"], errors="coerce").fillna(0).to_numpy()
    s = area.streets
    if len(pb) == 0 or len(s) == 0:
        return 0.0, float(res.sum()), 0
    hw = s["highway"].astype("object").fillna("").astype(str).to_numpy()
    speed = parse_maxspeed_kmh(s["maxspeed"].to_numpy())
    busy = np.isin(hw, list(item.get("road_classes", []))) | (np.nan_to_num(speed, nan=0.0) >= float(item.get("min_speed_kmh", np.inf)))
    if not busy.any():
        return 0.0, float(res.sum()), 0
    roads = shapely.union_all(np.asarray(s.geometry.values, dtype=object)[busy])
    near = shapely.dwithin(np.asarray(pb.geometry.values, dtype=object), roads, float(item["value"]))
    return float(res[near].sum()), float(res.sum()), int(near.sum())


def score_item(item_id: str, item: dict[str, Any], result: Any | None, answers: dict[str, Any]) -> ChecklistItem:
    """Score one checklist item from the screening result and/or the planner's answer."""
    source = item.get("source", "")
    rec_bad = item["recommendation"]
    rec_good = item.get("recommendation_good", rec_bad)
    score, evidence = "?", ""
    if item["kind"] == "computed" and result is not None:
        rule = item.get("rule", "delta")
        zone = item.get("zone", "omgeving")
        keys = list(item.get("indicators", []))
        if rule == "exposure":
            near, total, nb = _exposure(result, item)
            if total > 0:
                score = "-" if near > 0 else "+"
                evidence = f"{near:.0f} van {total:.0f} nieuwe bewoners ({nb} gebouwen) binnen {float(item['value']):.0f} m van een drukke weg (benadering)."
            else:
                score = "0"
                evidence = "Het plan voegt geen bewoners toe."
        elif rule == "delta":
            dirs, ev = _delta_evidence(result, keys, zone)
            known = [d for d in dirs if d != "na"]
            if known:
                score = "-" if "worse" in known else ("+" if "better" in known else "0")
            evidence = "; ".join(ev) or "Niet berekend (indicator ontbreekt)."
        elif rule in ("min_after", "max_after"):
            thr = float(item["value"])
            dirs, ev = _delta_evidence(result, keys, zone)
            vals = [result.value(k, zone) for k in keys]
            vals = [v for v in vals if np.isfinite(v)]
            if vals:
                ok = all((v >= thr - 1e-9) if rule == "min_after" else (v <= thr + 1e-9) for v in vals)
                score = "+" if ok else ("-" if "worse" in dirs or all(d == "na" for d in dirs) else "0")
            evidence = "; ".join(ev) + (f" (norm: {'≥' if rule == 'min_after' else '≤'} {_fmt(thr, '%' if thr <= 1 else str(item.get('unit', '')))})" if ev else "Niet berekend (indicator ontbreekt).")
        # a planner's answer on a computed item is added as context, never overrides the numbers
        ans = answers.get(item_id)
        if ans is not None:
            a, note = _parse_answer(item_id, ans)
            evidence += f" Planner: {a}{' – ' + note if note else ''}."
    elif item["kind"] == "question":
        ans = answers.get(item_id)
        if ans is None:
            score, evidence = "?", "Nog niet beantwoord door de planner."
        else:
            a, note = _parse_answer(item_id, ans)
            score = ANSWERS[a]
            evidence = f"Antwoord planner: {a}" + (f" – {note}" if note else "")
    else:
        evidence = "Niet berekend."
    rec = rec_good if score == "+" else rec_bad
    return ChecklistItem(item_id, item["theme"], item["kind"], item["question"], score, evidence, source, item.get("instruments", ""), rec)


def _parse_answer(item_id: str, ans: Any) -> tuple[str, str]:
    note = ""
    if isinstance(ans, dict):
        note = str(ans.get("toelichting", ans.get("note", "")) or "")
        ans = ans.get("answer", ans.get("antwoord", ""))
    if isinstance(ans, bool):
        ans = "ja" if ans else "nee"
    a = str(ans).strip().lower()
    if a not in ANSWERS:
        raise ChecklistError(f"Answer to '{item_id}' is {ans!r}; use one of: ja, deels, nee, onbekend.")
    return a, note


def build_checklist(result: Any | None, answers: dict[str, Any] | None = None, norms_dir: str | Path | None = None) -> list[ChecklistItem]:
    """Score every item of ``checklist.toml``.

    Parameters
    ----------
    result : ScreeningResult or None
        Output of :func:`screening.compare.screen` (None: only the planner's answers count).
    answers : dict, optional
        Item id -> answer (``ja``/``deels``/``nee``/``onbekend``, or ``{"answer": ..., "toelichting": ...}``).

    Raises
    ------
    ChecklistError
        For answers to unknown items or unknown answer values.
    """
    items = load_checklist(norms_dir)
    answers = dict(answers or {})
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise ChecklistError(f"Answers for unknown checklist items: {', '.join(unknown)}; known items: {', '.join(items)}.")
    return [score_item(k, v, result, answers) for k, v in items.items()]


def checklist_frame(items: list[ChecklistItem]) -> pd.DataFrame:
    """The scored checklist as a table."""
    return pd.DataFrame([i.to_dict() for i in items])


__all__ = ["ChecklistItem", "ChecklistError", "load_checklist", "read_answers", "build_checklist", "score_item", "checklist_frame", "SCORES", "ANSWERS"]
