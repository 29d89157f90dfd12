"""Page 1 of the screening report: the decision, from the computed results by a written rule.

The advice uses the vocabulary of Flemish advisory bodies: **gunstig**, **gunstig mits** (with
conditions) or **ongunstig**. The rule (``data/norms/report.toml`` ``verdict_rule``) reads only
computed results for harms and benefits; a planner's answers to the checklist questions can add
conditions, never turn a computed harm green. Indicators that could not be computed are listed
as *niet beoordeeld*.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gezondestad.model.catalogue import FAMILY_LABELS
from gezondestad.model.fmt import fmt_people
from gezondestad.model.norms import load_norms
from gezondestad.screening.plan import FEATURE_TYPES_NL

logger = logging.getLogger(__name__)

VERDICTS = ("gunstig", "gunstig mits", "ongunstig")

BASIS_NL = {
    "berekend": "berekend",
    "gedeeltelijk": "berekend op onvolledige gegevens",
    "planner": "antwoord van de planner",
    "onbekend": "niet beoordeeld",
}
"""What a line rests on, in the words page 1 uses."""


@dataclass(frozen=True)
class Finding:
    """One deciding finding: a computed harm or benefit, or a condition from the planner's answers.

    Attributes
    ----------
    key, label, family : str
        Indicator (``displacement`` for removed homes; the checklist id for a planner condition).
    kind : str
        ``harm``, ``benefit`` or ``condition``.
    basis : str
        Key of :data:`BASIS_NL`.
    people : float
        People concerned (existing residents worse or better off, new residents failing the norm,
        removed residents).
    text : str
        One Dutch sentence with the figures.
    causes : str
        The plan elements that cause it (Dutch).
    remedy : str
        The change that would flip it (Dutch).
    """

    key: str
    label: str
    family: str
    kind: str
    basis: str
    people: float
    text: str
    causes: str = ""
    remedy: str = ""


@dataclass(frozen=True)
class Verdict:
    """The decision of page 1."""

    verdict: str
    reasons: tuple[Finding, ...]
    conditions: tuple[str, ...]
    gains: str
    losses: str
    not_assessed: tuple[str, ...]
    harms: tuple[Finding, ...] = field(default_factory=tuple)
    benefits: tuple[Finding, ...] = field(default_factory=tuple)
    planner_conditions: tuple[Finding, ...] = field(default_factory=tuple)
    rule: str = ""
    new_resident_conditions: tuple[Finding, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        def f(x: Finding) -> dict[str, Any]:
            return {k: getattr(x, k) for k in Finding.__dataclass_fields__}

        return {
            "verdict": self.verdict,
            "reasons": [f(x) for x in self.reasons],
            "conditions": list(self.conditions),
            "gains": self.gains,
            "losses": self.losses,
            "not_assessed": list(self.not_assessed),
            "harms": [f(x) for x in self.harms],
            "benefits": [f(x) for x in self.benefits],
            "planner_conditions": [f(x) for x in self.planner_conditions],
            "new_resident_conditions": [f(x) for x in self.new_resident_conditions],
            "rule": self.rule,
        }


def _num(v: Any) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return 0.0
    return f if np.isfinite(f) else 0.0


def in_sentence(label: str) -> str:
    """An indicator label inside a sentence: first letter in lower case unless the first word is an
    abbreviation (STOP, WHO, NO2); the rest as written, so (Lden) and PM2,5 keep their capitals."""
    first = label.split(" ", 1)[0] if label else ""
    if not first or first.isupper() or any(ch.isupper() or ch.isdigit() for ch in first[1:]):
        return label
    return label[0].lower() + label[1:]


def _causes(plan: Any, family: str, mapping: dict[str, tuple[set[str], str]]) -> str:
    """Plan elements of the types that change ``family``, named by name (or type) and counted."""
    types, generic = mapping.get(family, (set(), ""))
    feats = getattr(plan, "features", None)
    if feats is None or not len(feats) or not types:
        return generic
    sel = feats[feats["feature_type"].astype(str).isin(types)]
    if not len(sel):
        return generic
    names = []
    for _, r in sel.iterrows():
        nm = r.get("name")
        nm = nm if isinstance(nm, str) and nm.strip() else None
        ft = FEATURE_TYPES_NL.get(str(r["feature_type"]), str(r["feature_type"]))
        names.append(f"{nm} ({ft})" if nm else ft)
    uniq = list(dict.fromkeys(names))
    more = f" en {len(uniq) - 4} andere" if len(uniq) > 4 else ""
    return ", ".join(uniq[:4]) + more


def _row_people(r: pd.Series) -> tuple[float, float, float]:
    """(existing worse, existing better, new residents failing the norm) of one delta row."""
    worse = _num(r.get("residents_worsened"))
    better = _num(r.get("residents_improved"))
    fail = 0.0
    if str(r.get("new_verdict", "")) in ("voldoet niet", "deels"):
        fail = _num(r.get("new_residents")) * (1.0 - _num(r.get("new_meet_share")))
    return worse, better, fail


def _finding_text(kind: str, label: str, worse: float, better: float, fail: float, new_n: float) -> str:
    if kind == "harm":
        parts = []
        if worse >= 1:
            parts.append(f"{fmt_people(worse)} bestaande bewoners slechter af")
        if fail >= 1:
            parts.append(f"{fmt_people(fail)} van {fmt_people(new_n)} nieuwe bewoners halen de norm niet")
        return f"{label}: " + ("; ".join(parts) if parts else "slechter")
    parts = []
    if better >= 1:
        parts.append(f"{fmt_people(better)} bestaande bewoners beter af")
    if new_n >= 1 and fail < 1:
        parts.append(f"de {fmt_people(new_n)} nieuwe bewoners halen de norm")
    return f"{label}: " + ("; ".join(parts) if parts else "beter")


def findings(result: Any) -> tuple[list[Finding], list[Finding], list[Finding], list[str]]:
    """Computed harms, new-resident shortfalls and benefits per indicator, and what was not assessed.

    Per indicator the zone rows are read together: a red light with existing residents worse off
    is a *harm* (people who live there now lose something; displacement too); a red light from
    new residents who miss the norm is a *condition* on the plan's own design; a green light
    (and no red) is a *benefit*. People count as the largest count over the zones (the zones
    nest, so counts are not added).
    """
    norms = load_norms("report")
    min_res = float(norms["harm_min_residents"].value)
    remedies = dict(norms["remedies"].value)
    mapping = {f: (set(t.split("|")), nl) for f, t, nl in norms["causes"].value}
    d = result.deltas
    harms: list[Finding] = []
    new_fails: list[Finding] = []
    benefits: list[Finding] = []
    unknown: list[str] = []
    if d is None or not len(d):
        return harms, new_fails, benefits, unknown
    for key, rows in d.groupby("key", sort=False):
        first = rows.iloc[0]
        label, family = str(first["label"]), str(first["family"])
        lights = set(rows["light"].astype(str)) if "light" in rows else set()
        status = set(rows["status"].astype(str)) if "status" in rows else {"berekend"}
        if status <= {"onbekend"} or lights <= {"onbekend"}:
            reason = next((str(x) for x in rows.get("unknown_reason", pd.Series(dtype=str)) if isinstance(x, str) and x), "")
            unknown.append(f"{label}" + (f" ({reason})" if reason else ""))
            continue
        basis = "gedeeltelijk" if "gedeeltelijk" in status else "berekend"
        ppl = np.array([_row_people(r) for _, r in rows.iterrows()])
        worse, better, fail = ppl.max(axis=0)
        new_n = float(pd.to_numeric(rows.get("new_residents"), errors="coerce").fillna(0).max()) if "new_residents" in rows else 0.0
        causes = _causes(result.plan, family, mapping)
        remedy = remedies.get(str(key), f"Pas het plan aan zodat '{in_sentence(label)}' niet achteruitgaat.")
        if "rood" in lights and worse >= min_res:
            harms.append(Finding(str(key), label, family, "harm", basis, worse,
                                 _finding_text("harm", label, worse, better, 0.0, new_n), causes, remedy))
        if "rood" in lights and fail >= min_res:
            new_fails.append(Finding(str(key), label, family, "condition", basis, fail,
                                     _finding_text("harm", label, 0.0, better, fail, new_n), causes, remedy))
        if "groen" in lights and "rood" not in lights:
            benefits.append(Finding(str(key), label, family, "benefit", basis, better + max(new_n - fail, 0.0),
                                    _finding_text("benefit", label, worse, better, fail, new_n), causes))
    disp = getattr(result, "displacement", None) or {}
    removed = _num(disp.get("residents"))
    if removed >= min_res:
        extra = []
        if _num(disp.get("residents_65plus")) >= 0.5:
            extra.append(f"65+: {fmt_people(disp.get('residents_65plus'))}")
        if _num(disp.get("residents_0_5")) >= 0.5:
            extra.append(f"0–5 jaar: {fmt_people(disp.get('residents_0_5'))}")
        text = f"{fmt_people(removed)} bewoners moeten verhuizen ({fmt_people(disp.get('homes'))} woningen gesloopt" + (
            "; " + ", ".join(extra) if extra else "") + ")"
        harms.append(Finding("displacement", "Verdringing", "wonen", "harm", "berekend", removed, text,
                             _causes(result.plan, "water", {"water": ({"demolition", "building", "green", "parking"}, "sloop")}),
                             remedies.get("displacement", "")))
    return harms, new_fails, benefits, unknown


def unanswered_questions(items: list[Any] | None) -> list[str]:
    """Themes of the checklist questions the planner has not answered (listed as not assessed)."""
    return [str(it.theme) for it in items or [] if getattr(it, "kind", "") == "question" and str(getattr(it, "score", "?")) == "?"]


def planner_conditions(items: list[Any] | None) -> list[Finding]:
    """Conditions from the planner's answers: a question answered negatively or partly.

    A positive answer adds nothing (it cannot outweigh a computed harm); an answer that the
    computed evidence contradicts (``contradicted`` on the item) is a condition too. Unanswered
    questions are not conditions but *niet beoordeeld* (:func:`unanswered_questions`).
    """
    out = []
    for it in items or []:
        if getattr(it, "kind", "") != "question":
            continue
        score = str(getattr(it, "score", "?"))
        contradicted = bool(getattr(it, "contradicted", False))
        if (score == "+" and not contradicted) or (score == "?" and not contradicted):
            continue
        why = ("het antwoord wordt tegengesproken door de berekening" if contradicted
               else "negatief beantwoord" if score == "-" else "slechts gedeeltelijk")
        rec = str(getattr(it, "recommendation", "") or getattr(it, "question", ""))
        out.append(Finding(str(it.id), str(it.theme), "vraag", "condition", "planner", 0.0,
                           f"{it.theme}: {why}", "", rec))
    return out


def decide(result: Any, items: list[Any] | None = None) -> Verdict:
    """The advice on page 1 by the written rule of ``data/norms/report.toml``.

    * harms to existing residents (or displacement) and no benefits, or more families with harms
      than with benefits → **ongunstig**;
    * otherwise harms, new residents who miss a norm, or planner conditions → **gunstig mits** the
      remedies (the plan can fix them in its own design);
    * otherwise → **gunstig**.
    """
    norms = load_norms("report")
    top = int(norms["top_reasons"].value)
    harms, new_fails, benefits, unknown = findings(result)
    pconds = planner_conditions(items)
    harms.sort(key=lambda f: -f.people)
    new_fails.sort(key=lambda f: -f.people)
    benefits.sort(key=lambda f: -f.people)
    harm_fam = {f.family for f in harms}
    ben_fam = {f.family for f in benefits}
    fixes = [f.remedy for f in harms + new_fails + pconds if f.remedy]
    if harms and (not benefits or len(harm_fam) > len(ben_fam)):
        verdict = "ongunstig"
        reasons = tuple(harms[:top])
        conditions = tuple(dict.fromkeys(fixes))
    elif harms or new_fails or pconds:
        verdict = "gunstig mits"
        reasons = tuple((harms + new_fails + pconds)[:top])
        conditions = tuple(dict.fromkeys(fixes))
    else:
        verdict = "gunstig"
        reasons = tuple(benefits[:top])
        conditions = ()
    gains = ("Beter af: " + "; ".join(f.text.split(": ", 1)[1] + f" ({in_sentence(f.label)})" for f in benefits[:2])) if benefits \
        else "Beter af: niemand aantoonbaar (geen berekende verbetering)."
    losses = ("Slechter af: " + "; ".join(f.text.split(": ", 1)[1] + f" ({in_sentence(f.label)})" for f in (harms + new_fails)[:2])) if harms or new_fails \
        else "Slechter af: niemand volgens de berekening."
    not_assessed = list(unknown)
    open_q = unanswered_questions(items)
    if open_q:
        not_assessed.append("Vragen aan de planner nog niet beantwoord: " + ", ".join(open_q))
    for fam, msg in (getattr(result, "missing", None) or {}).items():
        lab = FAMILY_LABELS.get(str(fam), str(fam))
        not_assessed.append(f"{lab}: {msg}")
    logger.info("verdict %s (%d harms, %d benefits, %d planner conditions)", verdict, len(harms), len(benefits), len(pconds))
    return Verdict(verdict, reasons, conditions, gains, losses, tuple(dict.fromkeys(not_assessed)),
                   tuple(harms), tuple(benefits), tuple(pconds), str(norms["verdict_rule"].value), tuple(new_fails))
