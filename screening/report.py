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
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from gezondestad.model.norms import norms_table
from gezondestad.screening.checklist import SCORE_LABELS_NL, ChecklistItem
from gezondestad.screening.compare import ZONE_LABELS_NL, ZONES, ScreeningResult

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LIGHT = {"+": "groen", "0": "oranje", "-": "rood", "?": "grijs"}
"""Traffic-light colour per checklist score."""


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt_value(v: Any, unit: str) -> str:
    """Dutch number formatting of an indicator value (shares as percent)."""
    f = _num(v)
    if f is None:
        return "–"
    if unit == "%":
        return f"{100 * f:.1f} %".replace(".", ",")
    if unit == "ja/nee":
        return "ja" if f >= 0.5 else "nee"
    if abs(f) >= 100:
        return f"{f:,.0f}".replace(",", " ") + (f" {unit}" if unit not in ("score", "index") else "")
    s = f"{f:.2f}".replace(".", ",")
    return s + (f" {unit}" if unit not in ("score", "index") else "")


def fmt_delta(v: Any, unit: str) -> str:
    f = _num(v)
    if f is None:
        return "–"
    sign = "+" if f > 0 else ("−" if f < 0 else "±")
    if unit == "%":
        return f"{sign}{abs(100 * f):.1f} %-punt".replace(".", ",")
    if unit == "ja/nee":
        return "gewijzigd" if f != 0 else "gelijk"
    return f"{sign}{abs(f):.2f}".replace(".", ",") + (f" {unit}" if unit not in ("score", "index") else "")


def fmt_people(v: Any) -> str:
    f = _num(v)
    return "–" if f is None else f"{f:,.0f}".replace(",", " ")


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


def map_plan(result: ScreeningResult, margin_m: float = 250.0) -> str:
    """The plan on top of the existing city (PNG data URI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
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
    colors = {"building": "#c0392b", "green": "#27ae60", "parking": "#7f8c8d", "water": "#2e86c1", "wadi": "#5dade2", "demolition": "#000000"}
    for t, c in colors.items():
        sub = f[f["feature_type"] == t]
        if len(sub):
            sub.plot(ax=ax, color=c, alpha=0.75 if t != "demolition" else 0.3, edgecolor="black", linewidth=0.4)
    ln = f[f["feature_type"].isin(["street", "path"])]
    if len(ln):
        cyc = ln["cyclestreet"].astype("object").astype(str).str.lower().eq("yes")
        if (~cyc).any():
            ln[~cyc].plot(ax=ax, color="#8e44ad", linewidth=2.0)
        if cyc.any():
            ln[cyc].plot(ax=ax, color="#e67e22", linewidth=3.0)
    gpd_plan = result.zones.frame().iloc[[0]]
    gpd_plan.boundary.plot(ax=ax, color="black", linestyle="--", linewidth=1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles = [Patch(color=colors["building"], label="nieuwe gebouwen"), Patch(color=colors["green"], label="nieuw groen"),
               Patch(color=colors["parking"], label="parking"), Patch(color=colors["wadi"], label="wadi / water"),
               Patch(color="#e67e22", label="fietsstraat"), Patch(color="#8e44ad", label="nieuwe straat / pad"),
               Patch(facecolor="none", edgecolor="black", linestyle="--", label="plangebied")]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.set_title("Plan op de bestaande toestand", fontsize=10)
    return _png(fig)


def map_heat_difference(result: ScreeningResult, margin_m: float = 600.0) -> str | None:
    """Heat index after - before around the plan (PNG data URI), or None without the heat family."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hb, ha = result.before.families.get("heat"), result.after.families.get("heat")
    if hb is None or ha is None or "heat_index" not in hb.cells or "heat_index" not in ha.cells:
        return None
    grid = ha.grid
    d = ha.cells["heat_index"] - hb.cells["heat_index"]
    x0, x1, y0, y1 = _extent(result, margin_m)
    inv = ~grid.transform
    c0, r0 = inv * (x0, y1)
    c1, r1 = inv * (x1, y0)
    h, w = d.shape
    c0, r0, c1, r1 = max(0, int(c0)), max(0, int(r0)), min(w, int(math.ceil(c1))), min(h, int(math.ceil(r1)))
    sub = d[r0:r1, c0:c1]
    ext = (grid.transform.c + c0 * grid.resolution_m, grid.transform.c + c1 * grid.resolution_m,
           grid.transform.f - r1 * grid.resolution_m, grid.transform.f - r0 * grid.resolution_m)
    vmax = float(np.nanmax(np.abs(sub))) if np.isfinite(sub).any() else 0.0
    vmax = vmax if vmax > 0 else 0.01
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
    cb.set_label("verschil hitte-index (na − voor); blauw = koeler")
    ax.set_title("Hitte-index: verschil door het plan", fontsize=10)
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


def data_quality_notes(result: ScreeningResult) -> list[str]:
    """What is missing, partial, synthetic or repaired in the study area and the plan (Dutch)."""
    notes: list[str] = []
    m = result.before.area.manifest
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
    if result.mode == "local":
        notes.append("Snelle (lokale) herberekening: alleen woningen en rastercellen nabij het plan zijn herberekend, de rest komt uit de voor-toestand"
                     + (" (de netwerkindicatoren zijn voor alle woningen herberekend omdat het plan het stratennet wijzigt)." if result.applied.get("street_edges_changed") or result.applied.get("street_length_added_m") or result.applied.get("street_edges_removed") else "."))
    if "residents_65plus" not in result.before.area.wijken.columns:
        notes.append("De wijken hebben geen leeftijdsgegevens: het aantal getroffen 65-plussers en 0-5-jarigen is onbekend.")
    return notes


def summary_lines(result: ScreeningResult, items: list[ChecklistItem]) -> list[dict[str, Any]]:
    """Traffic lights of the management summary: one per checklist theme."""
    return [{"theme": i.theme, "score": i.score, "light": LIGHT[i.score], "label": SCORE_LABELS_NL[i.score], "evidence": i.evidence} for i in items]


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


def report_json(result: ScreeningResult, items: list[ChecklistItem], created: str | None = None) -> dict[str, Any]:
    """Everything of the report as plain JSON-able data (NaN -> null)."""
    return _clean(
        {
            "plan": {"name": result.plan.name, "source": result.plan.source, "features": result.plan.counts(), "bounds": [float(x) for x in result.plan.features.total_bounds]},
            "study_area": result.before.area.name,
            "synthetic": bool(result.before.area.manifest.get("synthetic", False)),
            "created": created or time.strftime("%Y-%m-%d %H:%M"),
            "mode": result.mode,
            "zones": {"omgeving_wijken": result.zones.omgeving_codes, "plan_wijken": result.zones.plan_codes, "buffer_m": result.zones.buffer_m},
            "applied": result.applied,
            "deltas": result.deltas.to_dict("records"),
            "checklist": [i.to_dict() for i in items],
            "missing": result.missing,
            "data_quality": data_quality_notes(result),
            "seconds": result.seconds,
        }
    )


def render_html(result: ScreeningResult, items: list[ChecklistItem], with_maps: bool = True, created: str | None = None) -> str:
    """The report as one self-contained HTML string (Dutch)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"], default=True))
    maps = []
    if with_maps:
        maps.append({"title": "Het plan", "src": map_plan(result), "caption": "Nieuwe gebouwen, groen, straten en paden op de bestaande toestand. Stippellijn: plangebied."})
        h = map_heat_difference(result)
        if h:
            maps.append({"title": "Hitte", "src": h, "caption": "Verschil in hitte-index (InVEST Urban Cooling) na min voor het plan. Blauw = koeler, rood = warmer."})
        g = map_green_access(result)
        if g:
            maps.append({"title": "Toegang tot groen", "src": g, "caption": "Woningen met (groen) en zonder (rood) publiek groen ≥ 0,5 ha binnen 300 m wandelen (WHO 2016), voor en na."})
    counts = {s: sum(1 for i in items if i.score == s) for s in ("+", "0", "-", "?")}
    nt = norms_table()
    headline = [("green_300m_05ha_share", "omgeving"), ("green_300m_05ha_share", "plan"), ("heat_index_mean", "plan"),
                ("runoff_mm_mean", "plan"), ("impervious_share", "plan"), ("lts12_share_length", "omgeving"),
                ("fietsstraat_km", "omgeving"), ("stop_order_ok", "omgeving"), ("wheelchair_reach_bus_stop", "omgeving")]
    by_key = {(r["key"], r["zone"]): r for r in delta_rows(result)}
    key_rows = [by_key[k] for k in headline if k in by_key]
    tpl = env.get_template("report.html.j2")
    return tpl.render(
        plan=result.plan,
        area_name=result.before.area.name,
        synthetic=bool(result.before.area.manifest.get("synthetic", False)),
        created=created or time.strftime("%d-%m-%Y %H:%M"),
        summary=summary_lines(result, items),
        counts=counts,
        key_rows=key_rows,
        rows=delta_rows(result),
        zones=[{"zone": z, "label": ZONE_LABELS_NL[z]} for z in ZONES],
        omgeving=", ".join(result.zones.omgeving_codes),
        buffer_m=result.zones.buffer_m,
        applied=result.applied,
        items=items,
        maps=maps,
        norms=nt.to_dict("records"),
        notes=data_quality_notes(result),
        mode=result.mode,
        seconds=result.seconds,
    )


def write_report(result: ScreeningResult, items: list[ChecklistItem], out_html: str | Path, with_maps: bool = True) -> tuple[Path, Path]:
    """Write ``out_html`` and ``<stem>.json`` next to it; return both paths."""
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    created = time.strftime("%d-%m-%Y %H:%M")
    html = render_html(result, items, with_maps=with_maps, created=created)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    js = out.with_suffix(".json")
    js.write_text(json.dumps(report_json(result, items, created), indent=2, ensure_ascii=False), encoding="utf-8")
    return out, js


__all__ = ["render_html", "write_report", "report_json", "data_quality_notes", "map_plan", "map_heat_difference", "map_green_access", "fmt_value", "fmt_delta"]
