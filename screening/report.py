"""The screening report: one self-contained HTML file (Dutch) and a JSON of all deltas and checklist items.

The HTML holds a management summary with traffic lights, maps before/after (matplotlib PNGs
embedded as base64), the table of deltas, the checklist with sources, every norm used, the
data-quality notes of the study area and the plan, and the date. Every text coming from data
(plan and street names, answers) is HTML-escaped by jinja2's autoescape. A print stylesheet
makes "print to PDF" in a browser give a clean document; no PDF library is used (WeasyPrint
needs system libraries - Pango, cairo - that a fresh machine does not have).
"""

from __future__ import annotations

import base64
import io
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from gezondestad.model.catalogue import CATALOGUE
from gezondestad.model.fmt import UNIT_NL, as_number, fmt_datetime, fmt_delta, fmt_number, fmt_people, fmt_value, norm_value_nl
from gezondestad.model.norms import load_norms, norms_table
from gezondestad.screening.checklist import SCORE_LABELS_NL, ChecklistItem
from gezondestad.screening.charts import place_standard_spider
from gezondestad.screening.compare import ScreeningResult
from gezondestad.screening.equity import equity
from gezondestad.screening.health_report import health_json, health_section, variant_health_rows
from gezondestad.screening.verdict import BASIS_NL, decide
from gezondestad.screening.voices import Voices

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LIGHT = {"+": "groen", "0": "oranje", "-": "rood", "?": "grijs"}
"""Traffic-light colour per checklist score."""


_num = as_number


# --------------------------------------------------------------------------------------------
# maps
# --------------------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _extent(result: ScreeningResult, margin_m: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = result.zones.plan.bounds
    return (minx - margin_m, maxx + margin_m, miny - margin_m, maxy + margin_m)


def _removed(before: Any, after: Any, theme: str, key: str) -> Any:
    """Features of ``theme`` present before and gone after (by ``key`` id, else by geometry)."""
    gb, ga = before.themes[theme], after.themes[theme]
    if not len(gb):
        return gb
    if key in gb.columns and key in ga.columns and gb[key].notna().all():
        return gb[~gb[key].isin(set(ga[key].dropna()))]
    keep = shapely.STRtree(np.asarray(ga.geometry.values, dtype=object)) if len(ga) else None
    if keep is None:
        return gb
    hit = keep.query(np.asarray(gb.geometry.values, dtype=object), predicate="equals")[0]
    return gb.drop(gb.index[np.unique(hit)])


def retagged_streets(result: ScreeningResult) -> Any:
    """Plan street/path features that lie over existing streets (a regime change, not a new street)."""
    f = result.plan.features
    ln = f[f["feature_type"].isin(["street", "path"])]
    s = result.before.area.streets
    if not len(ln) or not len(s):
        return ln.iloc[0:0]
    near = shapely.unary_union(np.asarray(s.geometry.values, dtype=object)).buffer(float(load_norms("report")["retag_tolerance_m"].value))
    over = shapely.length(shapely.intersection(np.asarray(ln.geometry.values, dtype=object), near))
    return ln[over >= float(load_norms("report")["retag_min_share"].value) * ln.length.to_numpy()]


def map_plan(result: ScreeningResult, margin_m: float = 250.0) -> str:
    """The plan on top of the existing city (PNG data URI): additions, removals and re-tagged streets apart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    x0, x1, y0, y1 = _extent(result, margin_m)
    box = shapely.box(x0, y0, x1, y1)
    area = result.before.area
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for theme, kw in (("green", dict(color="#b7dfa5")), ("water", dict(color="#9cc9ee")), ("buildings", dict(color="#cfcfcf"))):
        g = area.themes[theme]
        g = g[g.intersects(box)] if len(g) else g
        if len(g):
            g.plot(ax=ax, **kw)
    s = area.streets
    s = s[s.intersects(box)] if len(s) else s
    if len(s):
        s.plot(ax=ax, color="#888888", linewidth=0.8)
    f = result.plan.features
    colors = {"building": "#c0392b", "green": "#27ae60", "parking": "#7f8c8d", "water": "#2e86c1", "wadi": "#5dade2"}
    for t, c in colors.items():
        sub = f[f["feature_type"] == t]
        if len(sub):
            sub.plot(ax=ax, color=c, alpha=0.75, edgecolor="black", linewidth=0.4)
    handles = [Patch(color=colors["building"], label="nieuwe gebouwen"), Patch(color=colors["green"], label="nieuw groen"),
               Patch(color=colors["parking"], label="parking / verharding"), Patch(color=colors["wadi"], label="wadi / water")]
    gone_b = _removed(result.before.area, result.after.area, "buildings", "building_id")
    gone_g = _removed(result.before.area, result.after.area, "green", "green_id")
    demol = f[f["feature_type"] == "demolition"]
    for g, lab in ((gone_b, "gesloopte gebouwen"), (gone_g, "verdwenen groen"), (demol, "sloopzone")):
        g = g[g.intersects(box)] if len(g) else g
        if len(g):
            g.plot(ax=ax, facecolor="none", edgecolor="#b00020", hatch="xxxx", linewidth=0.8)
            handles.append(Patch(facecolor="none", edgecolor="#b00020", hatch="xxxx", label=lab))
    ln = f[f["feature_type"].isin(["street", "path"])]
    if len(ln):
        ret = retagged_streets(result)
        new = ln.drop(ret.index)
        cyc = ln["cyclestreet"].astype("object").astype(str).str.lower().eq("yes")
        if len(new):
            new_c = cyc.loc[new.index]
            if (~new_c).any():
                new[~new_c].plot(ax=ax, color="#8e44ad", linewidth=2.0)
                handles.append(Line2D([], [], color="#8e44ad", linewidth=2, label="nieuwe straat / pad"))
            if new_c.any():
                new[new_c].plot(ax=ax, color="#e67e22", linewidth=3.0)
                handles.append(Line2D([], [], color="#e67e22", linewidth=3, label="nieuwe fietsstraat"))
        if len(ret):
            ret.plot(ax=ax, color="#1f4e9c", linewidth=3.0, linestyle=(0, (4, 2)))
            speeds = sorted({str(v) for v in ret.get("maxspeed", []) if isinstance(v, str) and v} | ({"fietsstraat"} if cyc.loc[ret.index].any() else set()))
            handles.append(Line2D([], [], color="#1f4e9c", linewidth=3, linestyle=(0, (4, 2)),
                                  label="bestaande straat, nieuw regime" + (f" ({', '.join(speeds)})" if speeds else "")))
    gpd_plan = result.zones.frame().iloc[[0]]
    gpd_plan.boundary.plot(ax=ax, color="black", linestyle="--", linewidth=1)
    handles.append(Patch(facecolor="none", edgecolor="black", linestyle="--", label="plangebied"))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title("Plan op de bestaande toestand", fontsize=10)
    return _png(fig)


def map_heat_difference(result: ScreeningResult, margin_m: float = 600.0) -> str | None:
    """Heat index after - before around the plan (PNG data URI), or None without the heat family."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hb, ha = result.before.families.get("heat"), result.after.families.get("heat")
    if hb is None or ha is None or "heat_index" not in hb.cells or "heat_index" not in ha.cells:
        return None
    grid = ha.grid
    uhi_c = float(load_norms("heat")["uhi_max_c"].value)
    d = (ha.cells["heat_index"] - hb.cells["heat_index"]) * uhi_c  # °C on the design hot day
    x0, x1, y0, y1 = _extent(result, margin_m)
    inv = ~grid.transform
    c0, r0 = inv * (x0, y1)
    c1, r1 = inv * (x1, y0)
    h, w = d.shape
    c0, r0, c1, r1 = max(0, int(c0)), max(0, int(r0)), min(w, int(math.ceil(c1))), min(h, int(math.ceil(r1)))
    sub = d[r0:r1, c0:c1]
    ext = (grid.transform.c + c0 * grid.resolution_m, grid.transform.c + c1 * grid.resolution_m,
           grid.transform.f - r1 * grid.resolution_m, grid.transform.f - r0 * grid.resolution_m)
    vmax = float(load_norms("report")["heat_diff_scale_c"].value)  # fixed: a tiny change must look tiny
    fig, ax = plt.subplots(figsize=(7.5, 6))
    im = ax.imshow(sub, extent=ext, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    s = result.after.area.streets
    s = s[s.intersects(shapely.box(x0, y0, x1, y1))] if len(s) else s
    if len(s):
        s.plot(ax=ax, color="#555555", linewidth=0.4, alpha=0.6)
    result.zones.frame().iloc[[0]].boundary.plot(ax=ax, color="black", linestyle="--", linewidth=1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("verschil luchttemperatuur op een hittedag (°C, na − voor); blauw = koeler")
    cb.formatter = matplotlib.ticker.FuncFormatter(lambda v, _: fmt_number(v, 1))
    cb.update_ticks()
    ax.set_title("Hitte: temperatuurverschil door het plan (°C)", fontsize=10)
    return _png(fig)


def map_green_access(result: ScreeningResult, margin_m: float = 500.0) -> str | None:
    """Homes with / without public green >= 0.5 ha within 300 m, before and after (PNG data URI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb, na = result.before.families.get("network"), result.after.families.get("network")
    if nb is None or na is None or nb.homes is None or na.homes is None or "green_300m_05ha" not in na.homes:
        return None
    x0, x1, y0, y1 = _extent(result, margin_m)
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    for ax, sit, fam, title in ((axes[0], result.before, nb, "Voor"), (axes[1], result.after, na, "Na")):
        g = sit.area.green
        pub = g[g["public"].astype("object").astype(str).str.lower().isin(["true", "1", "yes"])] if len(g) else g
        if len(pub):
            pub.plot(ax=ax, color="#b7dfa5")
        xy = shapely.get_coordinates(np.asarray(sit.homes.geometry.values, dtype=object))
        v = pd.to_numeric(fam.homes["green_300m_05ha"], errors="coerce").to_numpy(dtype=float)
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        ok = inside & (v >= 0.5)
        no = inside & ~(v >= 0.5)
        ax.scatter(xy[no, 0], xy[no, 1], s=4, c="#c0392b", label="geen groen ≥ 0,5 ha binnen 300 m")
        ax.scatter(xy[ok, 0], xy[ok, 1], s=4, c="#1e8449", label="wel")
        result.zones.frame().iloc[[0]].boundary.plot(ax=ax, color="black", linestyle="--", linewidth=1)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{title}: woningen en publiek groen", fontsize=10)
    axes[1].legend(loc="lower left", fontsize=7, markerscale=3, framealpha=0.9)
    return _png(fig)


# --------------------------------------------------------------------------------------------
# content
# --------------------------------------------------------------------------------------------


def _manifest_notes(m: dict[str, Any]) -> list[str]:
    """Synthetic, missing, partial and repaired themes of a study area's manifest (Dutch)."""
    notes: list[str] = []
    if m.get("synthetic"):
        notes.append("De studiezone is synthetisch (demodata): de cijfers illustreren de methode, niet een echte stad.")
    for t, info in m.get("themes", {}).items():
        st = info.get("status", "missing")
        if st == "missing":
            notes.append(f"Thema '{t}' ontbreekt: indicatoren die het nodig hebben zijn onbekend, niet nul.")
        elif st == "partial":
            notes.append(f"Thema '{t}' is onvolledig{': ' + info['note'] if info.get('note') else ''}.")
        rep = {k: v for k, v in (info.get("repairs") or {}).items() if v}
        if rep:
            notes.append(f"Thema '{t}': herstellingen bij het inlezen ({', '.join(f'{k}={v}' for k, v in rep.items())}).")
    return notes


def data_quality_notes(result: ScreeningResult) -> list[str]:
    """What is missing, partial, synthetic or repaired in the study area and the plan (Dutch)."""
    notes = _manifest_notes(result.before.area.manifest)
    if result.plan.repairs:
        notes.append("Plan: herstelde geometrieën (" + ", ".join(f"{k}={v}" for k, v in result.plan.repairs.items()) + ").")
    for n in result.applied.get("notes", []) if isinstance(result.applied, dict) else []:
        notes.append(str(n))
    if isinstance(result.applied, dict) and result.applied.get("residents_estimated_from_floor_area"):
        notes.append(f"{result.applied['residents_estimated_from_floor_area']} plangebouw(en) zonder woningen of bewoners: bewoners geschat uit vloeroppervlak.")
    for k, msg in result.missing.items():
        notes.append(f"Niet berekend: {k} ({msg}).")
    net = result.after.families.get("network")
    for n in getattr(getattr(net, "raw", None), "notes", []) or []:
        notes.append(f"Netwerkindicatoren: {n}")
    seen: set[str] = set()
    for fam, label in (("noise", "Geluid"), ("air", "Lucht")):  # traffic notes come with both: said once
        for n in getattr(getattr(result.after.families.get(fam), "raw", None), "notes", []) or []:
            if str(n) not in seen:
                seen.add(str(n))
                notes.append(f"{label}: {n}")
    if result.mode == "local":
        notes.append("Snelle (lokale) herberekening: alleen woningen en rastercellen nabij het plan zijn herberekend, de rest komt uit de voor-toestand"
                     + (" (de netwerkindicatoren zijn voor alle woningen herberekend omdat het plan het stratennet wijzigt)." if result.applied.get("street_edges_changed") or result.applied.get("street_length_added_m") or result.applied.get("street_edges_removed") else "."))
    if "residents_65plus" not in result.before.area.wijken.columns:
        notes.append("De wijken hebben geen leeftijdsgegevens: het aantal getroffen 65-plussers en 0-5-jarigen is onbekend.")
    return notes


def summary_lines(result: ScreeningResult, items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """Traffic lights of the checklist: one per theme."""
    return [{"theme": i.theme, "score": i.score, "light": LIGHT[i.score], "label": SCORE_LABELS_NL[i.score], "evidence": i.evidence,
             "kind": i.kind} for i in items]


def _ha(m2: Any) -> str:
    return fmt_number(_num(m2) / 10_000 if _num(m2) is not None else None, 1) + " ha"


def _added(a: dict[str, Any], new_len: float) -> list[str]:
    out = []
    if _num(a.get("buildings_added")):
        out.append(f"{fmt_people(a.get('buildings_added'))} gebouwen ({fmt_people(a.get('dwellings_added'))} woningen, "
                   f"ongeveer {fmt_people(a.get('residents_added'))} bewoners)")
    if _num(a.get("green_public_added_m2")):
        out.append(f"{_ha(a.get('green_public_added_m2'))} publiek groen")
    if _num(a.get("parking_added_m2")):
        out.append(f"{_ha(a.get('parking_added_m2'))} parking of verharding")
    water = (_num(a.get("wadi_added_m2")) or 0) + (_num(a.get("water_added_m2")) or 0)
    if water:
        out.append(f"{_ha(water)} water of wadi")
    if new_len > 0:
        out.append(f"{fmt_people(new_len)} m nieuwe straten en paden")
    out += [f"{fmt_people(a.get(k))} {lab}" for k, lab in (("facilities_added", "voorzieningen"), ("trees_added", "bomen")) if _num(a.get(k))]
    return out


def _removed_parts(a: dict[str, Any]) -> list[str]:
    out = []
    if _num(a.get("buildings_removed")):
        out.append(f"{fmt_people(a.get('buildings_removed'))} gebouwen (met {fmt_people(a.get('residents_removed'))} bewoners)")
    out += [f"{_ha(a.get(k))} {lab}" for k, lab in (("green_removed_m2", "groen"), ("landuse_removed_m2", "bestaand landgebruik (bv. parking)"))
            if _num(a.get(k))]
    if _num(a.get("street_edges_removed")):
        out.append(f"{fmt_people(a.get('street_edges_removed'))} straatsegmenten")
    return out


def _regime(r: pd.Series) -> str:
    if str(r.get("cyclestreet", "")).lower() == "yes":
        return "fietsstraat"
    ms = r.get("maxspeed")
    return f"{ms} km/u" if isinstance(ms, str) and ms else "nieuw regime"


def plan_summary_sentence(result: ScreeningResult) -> str:
    """One Dutch sentence on what the plan does: what it adds, removes and re-tags."""
    a = result.applied if isinstance(result.applied, dict) else {}
    ret = retagged_streets(result)
    lines = result.plan.features[result.plan.features["feature_type"].isin(["street", "path"])]
    adds = _added(a, float(lines.drop(ret.index).length.sum()))
    removes = _removed_parts(a)
    changes = []
    if len(ret):
        regimes = sorted({_regime(r) for _, r in ret.iterrows()})
        changes.append(f"{fmt_people(ret.length.sum())} m bestaande straat krijgt een ander regime ({', '.join(regimes)})")
    elif _num(a.get("street_edges_changed")):
        changes.append(f"{fmt_people(a.get('street_edges_changed'))} bestaande straatsegmenten krijgen een ander regime")
    parts = (["voegt " + ", ".join(adds) + " toe"] if adds else []) + (["verwijdert " + ", ".join(removes)] if removes else []) + changes
    return ("Het plan " + "; ".join(parts) + ".") if parts else "Het plan verandert niets dat de tool kan meten."


def norms_used(result: ScreeningResult, items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """The norms this run used: those of the indicators in the table and of the decision rule (Dutch labels)."""
    keys = set(result.deltas["key"]) if len(result.deltas) else set()
    out, seen = [], set()
    for ind in CATALOGUE:
        if ind.key not in keys or not ind.norm or ind.norm in seen:
            continue
        seen.add(ind.norm)
        try:
            n = load_norms(ind.norm[0])[ind.norm[1]]
        except Exception:  # a catalogue entry whose norm is absent from a custom folder: skip, listed in JSON
            continue
        out.append({"indicator": ind.label, "value": norm_value_nl(n.value, ind.norm[0]), "unit": UNIT_NL.get(n.unit, n.unit), "source": n.source})
    for key, lab in (("verdict_rule", "Beslisregel van het advies"), ("harm_min_residents", "Minimum aantal getroffen bewoners voor een nadeel"),
                     ("remarks_distance_m", "Afstand waarbinnen opmerkingen van bewoners meetellen")):
        n = load_norms("report")[key]
        out.append({"indicator": lab, "value": str(n.value) if key == "verdict_rule" else fmt_number(n.value, 0), "unit": UNIT_NL.get(n.unit, n.unit), "source": n.source})
    for i in items:
        if i.kind == "question" and i.source:
            out.append({"indicator": f"Checklist: {i.theme}", "value": "vraag aan de planner", "unit": "", "source": i.source})
    return out


def delta_rows(result: ScreeningResult) -> list[dict[str, Any]]:
    """Rows of the delta table with Dutch formatting."""
    rows = []
    for r in result.deltas.to_dict("records"):
        rows.append(
            {
                **r,
                "before_s": fmt_value(r["before"], r["unit"]),
                "after_s": fmt_value(r["after"], r["unit"]),
                "delta_s": fmt_delta(r["delta"], r["unit"]),
                "residents_s": fmt_people(r["residents"]),
                "improved_s": fmt_people(r["residents_improved"]),
                "worsened_s": fmt_people(r["residents_worsened"]),
                "r65_s": fmt_people(r["residents_65plus"]),
                "r05_s": fmt_people(r["residents_0_5"]),
            }
        )
    return rows


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return v


VERDICT_CLASS = {"gunstig": "v-gunstig", "gunstig mits": "v-mits", "ongunstig": "v-ongunstig"}


def _jsonable(obj: Any) -> Any:
    if obj is None:
        return None
    if hasattr(obj, "to_dict") and not isinstance(obj, pd.DataFrame):
        return obj.to_dict()
    return obj


def report_json(result: ScreeningResult, items: list[ChecklistItem], created: str | None = None,
                voices: Voices | None = None, health: Any | None = None) -> dict[str, Any]:
    """Everything of the report as plain JSON-able data (NaN -> null); the full norms list stays here."""
    v = decide(result, items)
    eq = equity(result)
    return _clean(
        {
            "plan": {"name": result.plan.name, "source": result.plan.source, "features": result.plan.counts(), "bounds": [float(x) for x in result.plan.features.total_bounds]},
            "study_area": result.before.area.name,
            "synthetic": bool(result.before.area.manifest.get("synthetic", False)),
            "created": created or fmt_datetime(datetime.now(timezone.utc)),
            "mode": result.mode,
            "verdict": v.to_dict(),
            "summary_sentence": plan_summary_sentence(result),
            "zones": {"omgeving_wijken": result.zones.omgeving_codes, "plan_wijken": result.zones.plan_codes, "buffer_m": result.zones.buffer_m},
            "applied": result.applied,
            "deltas": result.deltas.to_dict("records"),
            "equity": {"per_wijk": eq.per_wijk.to_dict("records"),
                       "per_quintile": None if eq.per_quintile is None else eq.per_quintile.to_dict("records"),
                       "need_column": eq.need_column, "proportionate": eq.proportionate, "notes": eq.notes},
            "displacement": getattr(result, "displacement", {}),
            "checklist": [i.to_dict() for i in items],
            "participation": None if voices is None else {
                "remarks": voices.remarks.to_dict("records"), "by_category": voices.by_category.to_dict("records"),
                "hidden_left_out": voices.hidden_left_out, "distance_m": voices.distance_m,
                "place_standard": voices.place_standard.to_dict("records")},
            "health": health_json(health) if hasattr(health, "summary") else _jsonable(health),
            "missing": result.missing,
            "data_quality": data_quality_notes(result),
            "norms_used": norms_used(result, items),
            "norms_all": norms_table().to_dict("records"),
            "seconds": result.seconds,
        }
    )


def _equity_rows(eq: Any) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    wijk = [{"wijk": f"{r['wijk_naam']} ({r['wijk_code']})", "residents": fmt_people(r["residents"]),
             "better": fmt_people(r["better"]), "worse": fmt_people(r["worse"])} for r in eq.per_wijk.to_dict("records")]
    quint = [] if eq.per_quintile is None else [
        {"q": str(int(r["quintile"])), "residents": fmt_people(r["residents"]), "pop": fmt_value(r["share_of_population"], "%"),
         "better": fmt_people(r["better"]), "gains": fmt_value(r["share_of_gains"], "%"), "worse": fmt_people(r["worse"])}
        for r in eq.per_quintile.to_dict("records")]
    return wijk, quint


def _who_rows(result: ScreeningResult) -> list[dict[str, str]]:
    """Per indicator: existing better/worse, new residents meeting the norm, removed residents (plan + surroundings)."""
    d = result.deltas
    out = []
    if not len(d):
        return out
    for key, rows in d.groupby("key", sort=False):
        r0 = rows.iloc[0]
        if "status" in rows and (rows["status"].astype(str) == "onbekend").all():
            out.append({"label": str(r0["label"]), "basis": "niet beoordeeld", "better": "onbekend", "worse": "onbekend", "new": "onbekend", "light": "grijs"})
            continue
        better = pd.to_numeric(rows.get("residents_improved"), errors="coerce").max()
        worse = pd.to_numeric(rows.get("residents_worsened"), errors="coerce").max()
        plan_rows = rows[rows["zone"] == "plan"] if "zone" in rows else rows
        new_n = pd.to_numeric(plan_rows.get("new_residents"), errors="coerce").max() if len(plan_rows) else float("nan")
        share = pd.to_numeric(plan_rows.get("new_meet_share"), errors="coerce").max() if len(plan_rows) else float("nan")
        lights = set(rows.get("light", pd.Series(dtype=str)).astype(str))
        light = "rood" if "rood" in lights else "groen" if "groen" in lights else "oranje" if "oranje" in lights else "grijs"
        st = set(rows.get("status", pd.Series(["berekend"])).astype(str))
        out.append({"label": str(r0["label"]), "basis": BASIS_NL.get("gedeeltelijk" if "gedeeltelijk" in st else "berekend"),
                    "better": fmt_people(better), "worse": fmt_people(worse),
                    "new": (f"{fmt_value(share, '%')} van {fmt_people(new_n)}" if _num(share) is not None and (_num(new_n) or 0) > 0 else "–"),
                    "light": light})
    return out


def render_html(result: ScreeningResult, items: list[ChecklistItem], with_maps: bool = True, created: str | None = None,
                voices: Voices | None = None, health: Any | None = None) -> str:
    """The report as one self-contained HTML string (Dutch); page 1 is the decision."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"], default=True))
    maps = []
    if with_maps:
        maps.append({"title": "Het plan", "src": map_plan(result), "caption": "Toevoegingen in kleur, verwijderingen gearceerd in rood, bestaande straten met een nieuw regime in blauw gestreept. Stippellijn: plangebied."})
        h = map_heat_difference(result)
        if h:
            maps.append({"title": "Hitte", "src": h, "caption": "Verschil in luchttemperatuur op een hittedag (°C, InVEST Urban Cooling × hitte-eilandeffect), na min voor. Vaste schaal van −1 tot +1 °C."})
        g = map_green_access(result)
        if g:
            maps.append({"title": "Toegang tot groen", "src": g, "caption": "Woningen met (groen) en zonder (rood) publiek groen ≥ 0,5 ha binnen 300 m wandelen (WHO 2016), voor en na."})
    v = decide(result, items)
    eq = equity(result)
    wijk_rows, quint_rows = _equity_rows(eq)
    ps_png = None
    if voices is not None and len(voices.place_standard) and (voices.place_standard["n"] > 0).any():
        ps_png = "data:image/png;base64," + base64.b64encode(place_standard_spider(voices.place_standard, title="Place Standard: wijken van het plan")).decode("ascii")
    tpl = env.get_template("report.html.j2")
    return tpl.render(
        plan=result.plan,
        area_name=result.before.area.name,
        synthetic=bool(result.before.area.manifest.get("synthetic", False)),
        created=created or fmt_datetime(datetime.now(timezone.utc)),
        verdict=v,
        verdict_class=VERDICT_CLASS[v.verdict],
        basis_nl=BASIS_NL,
        sentence=plan_summary_sentence(result),
        who=_who_rows(result),
        wijk_rows=wijk_rows,
        quint_rows=quint_rows,
        equity=eq,
        displacement=getattr(result, "displacement", {}) or {},
        fmt_people=fmt_people,
        summary=summary_lines(result, items),
        rows=delta_rows(result),
        omgeving=", ".join(result.zones.omgeving_codes),
        buffer_m=result.zones.buffer_m,
        items_computed=[i for i in items if i.kind != "question"],
        items_planner=[i for i in items if i.kind == "question"],
        maps=maps,
        voices=voices,
        ps_png=ps_png,
        health=(health_section(health) if hasattr(health, "summary") else health),
        norms=norms_used(result, items),
        notes=data_quality_notes(result),
        mode=result.mode,
        seconds=result.seconds,
        seconds_s=fmt_number(result.seconds.get("total", 0), 1),
    )


def write_report(result: ScreeningResult, items: list[ChecklistItem], out_html: str | Path, with_maps: bool = True,
                 voices: Voices | None = None, health: Any | None = None) -> tuple[Path, Path]:
    """Write ``out_html`` and ``<stem>.json`` next to it (atomically); return both paths."""
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    created = fmt_datetime(datetime.now(timezone.utc))
    html = render_html(result, items, with_maps=with_maps, created=created, voices=voices, health=health)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    js = out.with_suffix(".json")
    tmpj = js.with_suffix(".json.tmp")
    tmpj.write_text(json.dumps(report_json(result, items, created, voices, health), indent=2, ensure_ascii=False), encoding="utf-8")
    tmpj.replace(js)
    return out, js


def _variant_cells(result: ScreeningResult) -> dict[str, dict[str, Any]]:
    """Per indicator key: light, existing better/worse and new residents meeting the norm (for the variants table)."""
    out = {}
    for r in _who_rows(result):
        out[r["label"]] = r
    return out


def render_variants_html(results: list[ScreeningResult], items: list[list[ChecklistItem]], with_maps: bool = True,
                         voices: list[Voices | None] | None = None, created: str | None = None, health: list[Any] | None = None) -> str:
    """One report for several plan variants: the decisions and indicators side by side, then each variant in full.

    A row is highlighted when the variants differ in a way that matters: another light, or a
    count of people better or worse off that differs.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"], default=True))
    voices = voices or [None] * len(results)
    health = health or [None] * len(results)
    created = created or fmt_datetime(datetime.now(timezone.utc))
    verdicts = [decide(r, it) for r, it in zip(results, items)]
    cells = [_variant_cells(r) for r in results]
    labels = list(dict.fromkeys(lab for c in cells for lab in c))
    rows = []
    for lab in labels:
        vals = [c.get(lab) for c in cells]
        sig = {(v or {}).get("light") for v in vals} , {((v or {}).get("better"), (v or {}).get("worse"), (v or {}).get("new")) for v in vals}
        rows.append({"label": lab, "cells": vals, "differs": len(sig[0]) > 1 or len(sig[1]) > 1})
    bodies = []
    for r, it, v, h in zip(results, items, voices, health):
        html = render_html(r, it, with_maps=with_maps, created=created, voices=v, health=h)
        bodies.append(html[html.index("<body>") + len("<body>"): html.rindex("</body>")])
    return env.get_template("variants.html.j2").render(
        created=created, area_name=results[0].before.area.name, variants=[r.plan.name for r in results],
        verdicts=verdicts, verdict_class=VERDICT_CLASS, sentences=[plan_summary_sentence(r) for r in results],
        rows=rows, bodies=bodies, synthetic=bool(results[0].before.area.manifest.get("synthetic", False)),
        health_rows=variant_health_rows([h if hasattr(h, "summary") else None for h in health]))


def write_variants_report(results: list[ScreeningResult], items: list[list[ChecklistItem]], out_html: str | Path, with_maps: bool = True,
                          voices: list[Voices | None] | None = None, health: list[Any] | None = None) -> tuple[Path, Path]:
    """Write the variants report and a JSON with each variant's report data; return both paths."""
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    created = fmt_datetime(datetime.now(timezone.utc))
    voices = voices or [None] * len(results)
    health = health or [None] * len(results)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(render_variants_html(results, items, with_maps, voices, created, health), encoding="utf-8")
    tmp.replace(out)
    js = out.with_suffix(".json")
    tmpj = js.with_suffix(".json.tmp")
    tmpj.write_text(json.dumps({"variants": [report_json(r, it, created, v, h) for r, it, v, h in zip(results, items, voices, health)]}, indent=2, ensure_ascii=False), encoding="utf-8")
    tmpj.replace(js)
    return out, js


__all__ = ["render_html", "write_report", "render_variants_html", "write_variants_report", "report_json", "data_quality_notes", "map_plan", "map_heat_difference", "map_green_access", "fmt_value", "fmt_delta"]
