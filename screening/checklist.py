"""Health-determinant checklist of a plan (after HUDU Rapid HIA, Healthy Streets, Place Standard, GES, Gezond Leven).

The items live in ``data/norms/checklist.toml``. An item is either *computed* (filled in from
the before/after numbers of :func:`screening.compare.screen`, with the threshold and its
source from the same file) or a *question* the planner answers (answers passed as a dict or
a JSON file: ``{"ontmoeting": "ja", "spelen": {"answer": "deels", "toelichting": "..."}}``).

Every item gets a score ``+`` (positive for health), ``0`` (neutral / partly), ``-``
(negative) or ``?`` (unknown: no number and no answer), the evidence (numbers or the answer),
the source of the norm, and a Dutch recommendation drawn from the city's priorities.

Rules
-----
* Computed items follow the screening's lights (:func:`screening.compare.light`): a red light
  (existing residents worse off, or new residents missing the norm) is ``-``; an indicator that
  is ``onbekend`` never scores.
* A norm that is missed after the plan is ``-`` (red), whether or not something got worse.
* The planner's answers are kept apart from the computed evidence (``planner_answer``). A
  planner's answer that computed evidence contradicts (``contradicted_by`` indicators with a
  red light, or plan streets at ``contradicted_by_speed_kmh`` or faster) is flagged
  (``contradicted``) and scores ``-``: never green.
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
from gezondestad.model.fmt import UNKNOWN, fmt_people, fmt_value
from gezondestad.model.norms import NORMS_DIR, load_norms
from gezondestad.spatial.cycling import parse_maxspeed_kmh

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
    planner_answer : str
        The planner's answer (and explanation), shown apart from the computed evidence.
    contradicted : bool
        True when computed evidence contradicts the planner's answer (then never ``+``).
    basis : str
        What the score rests on: ``berekend``, ``antwoord planner``, ``tegengesproken`` or ``onbekend``.
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
    planner_answer: str = ""
    contradicted: bool = False
    basis: str = ""

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
    """Dutch formatting (decimal comma), shares as percent: :func:`gezondestad.model.fmt.fmt_value`."""
    return fmt_value(v, unit)


def _row_text(row: dict[str, Any]) -> str:
    """One indicator row as evidence: existing residents, new residents, zone values; or 'onbekend'."""
    head = f"{row['label']} ({str(row['zone_label']).lower()})"
    if row.get("status", "berekend") != "berekend":
        return f"{head}: {UNKNOWN} ({str(row.get('unknown_reason', '')).removeprefix('onbekend: ')})"
    parts = [f"{_fmt(row['before'], row['unit'])} → {_fmt(row['after'], row['unit'])}"]
    up, down = row.get("residents_improved"), row.get("residents_worsened")
    if up is not None and np.isfinite(up) and np.isfinite(down):
        parts.append(f"bestaande bewoners: {fmt_people(up)} beter, {fmt_people(down)} slechter")
    nn = row.get("new_residents")
    if nn is not None and np.isfinite(nn) and nn > 0 and np.isfinite(row.get("new_meet_share", np.nan)):
        parts.append(f"nieuwe bewoners: {_fmt(row['new_meet_share'], '%')} voldoet")
    if row.get("new_classes"):
        parts.append(f"nieuwe bewoners per klasse: {row['new_classes']}")
    return f"{head}: " + "; ".join(parts) + f" [{row.get('light', row['direction_nl'])}]"


def _delta_evidence(result: Any, keys: list[str], zone: str) -> tuple[list[str], list[str]]:
    """Lights and evidence texts of the item's indicators in ``zone``."""
    lights, ev = [], []
    for k in keys:
        row = result.row(k, zone)
        if row is None:
            continue
        lights.append(str(row.get("light", "onbekend")))
        ev.append(_row_text(row))
    return lights, ev


def _score_from_lights(lights: list[str]) -> str:
    known = [x for x in lights if x != "onbekend"]
    if not known:
        return "?"
    if "rood" in known:
        return "-"
    if "oranje" in known:
        return "0"
    return "+" if "groen" in known else "0"


def _fast_length_m(streets: Any, limit_kmh: float) -> float:
    if len(streets) == 0 or "maxspeed" not in streets:
        return 0.0
    sp = np.nan_to_num(parse_maxspeed_kmh(streets["maxspeed"].to_numpy()), nan=0.0)
    return float(shapely.length(np.asarray(streets.geometry.values, dtype=object)[sp >= limit_kmh]).sum())


def _contradiction(item: dict[str, Any], result: Any) -> str:
    """Computed evidence against a 'yes' of the planner (empty when none)."""
    if result is None:
        return ""
    why = []
    zone = item.get("zone", "omgeving")
    for k in item.get("contradicted_by", []):
        row = result.row(k, zone) or result.row(k, "plan")
        if row is not None and row.get("light") == "rood":
            why.append(f"{row['label']}: rood")
    lim = item.get("contradicted_by_speed_kmh")
    if lim is not None:
        # street length at or above the limit after the plan minus before
        fast = _fast_length_m(result.after.area.streets, float(lim)) - _fast_length_m(result.before.area.streets, float(lim))
        if fast > 1.0:
            why.append(f"het plan voegt {fast:.0f} m straat van {float(lim):.0f} km/u of sneller toe")
    return "; ".join(why)


def _new_norm_evidence(result: Any, keys: list[str], zone: str, value: float) -> tuple[list[str], list[str]]:
    """Lights and evidence of rule ``new_norm``: the share of new residents that meets ``value``."""
    lights, ev = [], []
    for k in keys:
        row = result.row(k, zone)
        if row is None:
            continue
        if row.get("status", "berekend") != "berekend":
            lights.append("onbekend")
            ev.append(_row_text(row))
            continue
        nn, sh = row.get("new_residents", np.nan), row.get("new_meet_share", np.nan)
        if not (np.isfinite(nn) and nn > 0):
            lights.append("neutraal")
            ev.append(f"{row['label']}: het plan voegt geen bewoners toe")
            continue
        ok = np.isfinite(sh) and sh >= value - 1e-9
        lights.append("groen" if ok else ("onbekend" if not np.isfinite(sh) else "rood"))
        ev.append(f"{row['label']}: {_fmt(sh, '%')} van {nn:.0f} nieuwe bewoners voldoet (norm: {_fmt(value, '%')})")
    return lights, ev


def _after_norm_score(item: dict[str, Any], result: Any, keys: list[str], zone: str, rule: str) -> tuple[str, str]:
    """Score and evidence of rules ``min_after``/``max_after``: every computed value after the plan
    against the item's norm (a norm missed after the plan is red)."""
    score = "?"
    thr = float(item["value"])
    lights, ev = _delta_evidence(result, keys, zone)
    rows = [result.row(k, zone) for k in keys]
    vals = [r["after"] for r in rows if r is not None and r.get("status", "berekend") == "berekend" and np.isfinite(r["after"])]
    if vals:
        ok = all((v >= thr - 1e-9) if rule == "min_after" else (v <= thr + 1e-9) for v in vals)
        score = "+" if ok else "-"  # a norm missed after the plan is red
    unit = "%" if thr <= 1 else str(item.get("unit", ""))
    evidence = "; ".join(ev) + (f" (norm: {'≥' if rule == 'min_after' else '≤'} {_fmt(thr, unit)})" if ev else "Niet berekend (indicator ontbreekt).")
    return score, evidence


def _computed_score(item: dict[str, Any], result: Any) -> tuple[str, str]:
    """Score and evidence of a computed item by its rule (``?`` and no evidence for an unknown rule)."""
    rule = item.get("rule", "delta")
    zone = item.get("zone", "omgeving")
    keys = list(item.get("indicators", []))
    if rule == "delta":
        lights, ev = _delta_evidence(result, keys, zone)
        return _score_from_lights(lights), "; ".join(ev) or "Niet berekend (indicator ontbreekt)."
    if rule == "new_norm":
        lights, ev = _new_norm_evidence(result, keys, zone, float(item["value"]))
        return _score_from_lights(lights), "; ".join(ev) or "Niet berekend (indicator ontbreekt)."
    if rule in ("min_after", "max_after"):
        return _after_norm_score(item, result, keys, zone, rule)
    return "?", ""


def _computed_contradiction(item: dict[str, Any], result: Any, planner: str, score: str) -> str:
    """Why the computation contradicts the planner's 'yes' on a computed item (empty when it does not)."""
    if not planner:
        return ""
    yes = ANSWERS[planner.split(" – ")[0]] == "+"
    why = _contradiction(item, result) if yes else ""
    if yes and score == "-":
        why = why or "de berekening geeft een rood licht"
    return why


def _question_score(item: dict[str, Any], result: Any | None, planner: str) -> tuple[str, str, str, bool]:
    """Score, evidence, basis and contradicted of a question item from the planner's answer."""
    if not planner:
        return "?", "Nog niet beantwoord door de planner.", "onbekend", False
    score, basis = ANSWERS[planner.split(" – ")[0]], "antwoord planner"
    evidence = f"Antwoord planner: {planner}"
    why = _contradiction(item, result) if score == "+" else ""
    if why:
        return "-", evidence + f". Tegengesproken door de berekening: {why}.", "tegengesproken", True
    return score, evidence, basis, False


def score_item(item_id: str, item: dict[str, Any], result: Any | None, answers: dict[str, Any]) -> ChecklistItem:
    """Score one checklist item from the screening result and/or the planner's answer (see module rules)."""
    source = item.get("source", "")
    rec_bad = item["recommendation"]
    rec_good = item.get("recommendation_good", rec_bad)
    score, evidence, basis = "?", "", "onbekend"
    planner, contradicted = "", False
    ans = answers.get(item_id)
    if ans is not None:
        a, note = _parse_answer(item_id, ans)
        planner = a + (f" – {note}" if note else "")
    if item["kind"] == "computed" and result is not None:
        score, evidence = _computed_score(item, result)
        basis = "berekend" if score != "?" else "onbekend"
        why = _computed_contradiction(item, result, planner, score)
        contradicted = bool(why)
        if contradicted:
            evidence += f" Het antwoord van de planner wordt tegengesproken: {why}."
    elif item["kind"] == "question":
        score, evidence, basis, contradicted = _question_score(item, result, planner)
    else:
        evidence = "Niet berekend."
    rec = rec_good if score == "+" else rec_bad
    return ChecklistItem(item_id, item["theme"], item["kind"], item["question"], score, evidence, source, item.get("instruments", ""), rec,
                         planner, contradicted, basis)


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
