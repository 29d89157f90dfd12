"""Page "Screening": a plan (example or upload) screened before/after, checklist, maps, report."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from gezondestad.app import compute, draw, maps, state, uploads
from gezondestad.app.state import W
from gezondestad.app.ui import (
    guarded,
    md_escape,
    show_error,
    show_notes,
    synthetic_banner,
)
from gezondestad.layers import participation as pt
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import MISSING, fmt_delta, fmt_number, fmt_people, fmt_value
from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.checklist import (
    SCORE_LABELS_NL,
    ChecklistItem,
    build_checklist,
    load_checklist,
)
from gezondestad.screening.compare import ZONE_LABELS_NL, ScreeningResult, screen
from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH
from gezondestad.screening.health_outcomes import screening_health
from gezondestad.screening.health_report import health_section
from gezondestad.screening.plan import plan_from_frame
from gezondestad.screening.report import (
    data_quality_notes,
    map_green_access,
    map_heat_difference,
    map_plan,
    render_html,
    render_variants_html,
    report_json,
)
from gezondestad.screening.sketch import plan_geojson
from gezondestad.screening.verdict import BASIS_NL, Verdict, decide
from gezondestad.screening.voices import voices_near_plan
from streamlit_folium import st_folium

logger = logging.getLogger(__name__)

TITLE = "Screening van een plan"
SOURCE_EXAMPLE = "Voorbeeldplan (demostad: Stationsveld, Ragheno-achtig)"
SOURCE_UPLOAD = "Eigen plan uploaden"
SOURCE_DRAW = "Plan tekenen op de kaart"
DRAWN_PLAN_KEY = "screening_drawn_plan"
ANSWERS_NL = ("onbekend", "ja", "deels", "nee")
SCORE_COLORS = {"+": "green", "0": "orange", "-": "red", "?": "gray"}
SCORE_MD = {k: f":{c}[● {SCORE_LABELS_NL[k]}]" for k, c in SCORE_COLORS.items()}
"""A checklist score in colour, with the words of the report and the checklist (positief, neutraal, negatief, onbekend)."""
FEATURE_COLORS = {
    "building": ("#8d6e63", "gebouw"), "green": ("#43a047", "groen"), "street": ("#616161", "straat"),
    "path": ("#ab47bc", "pad"), "parking": ("#9e9e9e", "parking"), "water": ("#1e88e5", "water"),
    "wadi": ("#4fc3f7", "wadi"), "demolition": ("#e53935", "afbraak"),
}
DELTA_COLUMNS = {"label": "Indicator", "voor": "Voor", "na": "Na", "verschil": "Verschil", "direction_nl": "Richting",
                 "beter": "Inwoners beter", "slechter": "Inwoners slechter", "norm_source": "Bron van de norm"}


def checklist_item_md(it: ChecklistItem) -> str:
    """One checklist item as Markdown (escaped): theme and score, the question, the planner's answer,
    the evidence and the recommendation, each on its own line so long text wraps instead of being cut."""
    lines = [f"**{md_escape(it.theme)}** · {SCORE_MD.get(it.score, md_escape(it.score))}", f"_{md_escape(it.question)}_"]
    if it.planner_answer:
        lines.append(f"**Antwoord van de planner:** {md_escape(it.planner_answer)}")
    if it.contradicted:
        lines.append(":orange[De berekening spreekt het antwoord van de planner tegen.]")
    lines.append(f"**Onderbouwing:** {md_escape(it.evidence) if it.evidence else MISSING}")
    if it.recommendation:
        lines.append(f"**Aanbeveling:** {md_escape(it.recommendation)}")
    return "  \n".join(lines)


def _checklist_card(it: ChecklistItem) -> None:
    with st.container(border=True):
        st.markdown(checklist_item_md(it))
        if it.source:
            st.caption(f"Bron van de norm: {md_escape(it.source)}")


def checklist_list(items: list[ChecklistItem]) -> None:
    """The scored checklist as a list of cards (a table cut the questions and recommendations off):
    the negative and unknown items first and open, the positive and neutral ones folded below."""
    attention = [it for it in items if it.score == "-"] + [it for it in items if it.score == "?"]
    rest = [it for it in items if it.score not in ("-", "?")]
    st.caption(f"{fmt_people(len(attention))} punt(en) vragen aandacht (negatief of onbekend); "
               f"{fmt_people(len(rest))} zijn positief of neutraal.")
    for it in attention:
        _checklist_card(it)
    if rest:
        with st.expander(f"Positief of neutraal ({fmt_people(len(rest))})", expanded=not attention):
            for it in rest:
                _checklist_card(it)


def plan_source(area: StudyArea) -> tuple[gpd.GeoDataFrame | None, str, str]:
    """The plan features chosen on the page, the plan's name and a content key (example or upload digest)."""
    src = st.radio("Plan", [SOURCE_EXAMPLE, SOURCE_UPLOAD, SOURCE_DRAW], key=W.SCREENING_SOURCE, horizontal=True)
    if src == SOURCE_DRAW:
        return drawn_plan(area)
    if src == SOURCE_EXAMPLE:
        if not area.manifest.get("synthetic"):
            st.warning("Het voorbeeldplan ligt in de demostad; voor dit studiegebied laadt u best een eigen plan.")
        return gpd.read_file(EXAMPLE_PLAN_PATH), "Voorbeeldplan Stationsveld", "example"
    up = st.file_uploader(
        f"Plan (GeoPackage, GeoJSON of gezipte shapefile; max. {uploads.MAX_VECTOR_UPLOAD_MB} MB). "
        "Elk object heeft een kolom feature_type: building, green, street, path, parking, water, wadi, demolition.",
        key=W.SCREENING_UPLOAD, max_upload_size=uploads.MAX_VECTOR_UPLOAD_MB,
    )
    if up is None:
        return None, "", ""
    gdf, upload = uploads.read_uploaded_vector(up)
    if gdf is None or upload is None:
        return None, "", ""
    return gdf, upload.name.rsplit(".", 1)[0], upload.key


def drawn_plan(area: StudyArea) -> tuple[gpd.GeoDataFrame | None, str, str]:
    """A plan drawn on the map; kept in the session once confirmed, keyed by its content."""
    folder, stamp, _ = compute.current_area()
    context = [(maps.theme_geojson(folder, stamp, "wijken", ("wijk_naam",)), "#1f4e9c", "wijken"),
               (maps.theme_geojson(folder, stamp, "green", ("name",)), "#43a047", "groen"),
               (maps.theme_geojson(folder, stamp, "streets", ("name",), simplify_m=1.0), "#616161", "straten")]
    plan = draw.sketch_plan(area, maps.area_bounds_wgs84(folder, stamp), key="screening_draw", context=context)
    if plan is not None:
        data = plan_geojson(plan)
        st.session_state[DRAWN_PLAN_KEY] = (data, plan.name)
    kept = st.session_state.get(DRAWN_PLAN_KEY)
    if not kept:
        return None, "", ""
    data, name = kept
    gdf = gpd.read_file(io.BytesIO(data))
    return gdf, name, "drawn-" + hashlib.sha256(data).hexdigest()[:16]


def checklist_questions() -> dict[str, str]:
    """The planner's answers to the checklist questions (kept in session state across reruns)."""
    answers: dict[str, str] = {}
    items = {k: v for k, v in load_checklist().items() if v.get("kind") == "question"}
    with st.expander(f"Vragen van de checklist voor de planner ({len(items)})", expanded=False):
        st.caption("Wat het model niet kan berekenen, beantwoordt u hier; ‘onbekend’ telt als niet beoordeeld.")
        for key, item in items.items():
            a = st.radio(f"**{md_escape(item['theme'])}** – {md_escape(item['question'])}", ANSWERS_NL,
                         key=W.checklist(key), horizontal=True)
            if a != "onbekend":
                answers[key] = a
    return answers


def preview_plan(gdf: gpd.GeoDataFrame, area: StudyArea, key: str) -> None:
    """The plan on a map before it is screened: colours per feature type, a legend, streets and wijken."""
    g = gdf.copy()
    if "feature_type" not in g.columns:
        g["feature_type"] = ""
    g = g[g.geometry.notna() & ~g.geometry.is_empty]
    if len(g) == 0:
        st.info("Het plan heeft geen objecten met een geometrie om te tonen.")
        return
    g = g.to_crs(compute.area_crs(area))
    x0, y0, x1, y1 = g.total_bounds
    pad = max(x1 - x0, y1 - y0) * 0.15 + 50
    w = gpd.GeoSeries.from_xy([x0 - pad, x1 + pad], [y0 - pad, y1 + pad], crs=g.crs).to_crs(maps.WGS84)
    m = maps.make_map([[w.y.min(), w.x.min()], [w.y.max(), w.x.max()]])
    near = area.streets.cx[x0 - pad: x1 + pad, y0 - pad: y1 + pad]
    if len(near):
        folium.GeoJson(maps.to_geojson(near[["geometry"]]), name="Straten", interactive=False,
                       style_function=lambda f: {"color": "#9e9e9e", "weight": 2}).add_to(m)
    folium.GeoJson(maps.to_geojson(area.wijken[["wijk_naam", "geometry"]]), name="Wijken",
                   style_function=lambda f: {"color": "#222", "weight": 1.5, "dashArray": "4 4", "fillOpacity": 0},
                   tooltip=folium.GeoJsonTooltip(fields=["wijk_naam"], aliases=["Wijk"])).add_to(m)
    cols = [c for c in ("name", "feature_type", "dwellings", "levels") if c in g.columns]
    show = g[cols + ["geometry"]].copy()
    show["soort"] = show["feature_type"].map(lambda t: FEATURE_COLORS.get(str(t), ("", str(t)))[1]).astype(object)
    for c in ("dwellings", "levels"):
        if c in show.columns:
            show[c] = maps.display_number(pd.to_numeric(show[c], errors="coerce"))
    fields = [c for c in ("name", "soort", "dwellings", "levels") if c in show.columns]
    aliases = {"name": "Naam", "soort": "Soort", "dwellings": "Woningen", "levels": "Bouwlagen"}
    folium.GeoJson(
        maps.to_geojson(show), name="Plan",
        style_function=lambda f: {"color": _type_color(f["properties"].get("feature_type")), "weight": 4,
                                  "fillColor": _type_color(f["properties"].get("feature_type")), "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases[c] for c in fields]),
    ).add_to(m)
    st_folium(m, key=key, height=440, use_container_width=True, returned_objects=[])
    present = [t for t in FEATURE_COLORS if t in set(g["feature_type"].astype(str))]
    st.html(maps.legend_html("Plan per soort", [FEATURE_COLORS[t] for t in present]))


def _type_color(t: object) -> str:
    return FEATURE_COLORS.get(str(t), ("#1565c0", ""))[0]


def delta_table(result: ScreeningResult, zone: str) -> pd.DataFrame:
    """The before/after table of one zone, every number in Dutch text ("–" where there is none)."""
    d = result.deltas[result.deltas["zone"] == zone]
    out = pd.DataFrame({
        "label": d["label"].astype(str),
        "voor": [fmt_value(v, u) for v, u in zip(d["before"], d["unit"])],
        "na": [fmt_value(v, u) for v, u in zip(d["after"], d["unit"])],
        "verschil": [fmt_delta(v, u) for v, u in zip(d["delta"], d["unit"])],
        "direction_nl": d["direction_nl"].fillna(MISSING).astype(str),
        "beter": [fmt_people(v) for v in d["residents_improved"]],
        "slechter": [fmt_people(v) for v in d["residents_worsened"]],
        "norm_source": d["norm_source"].fillna(MISSING).astype(str),
    })
    return out.rename(columns=DELTA_COLUMNS)


def run_or_reuse(folder: str, stamp: str, area: StudyArea, gdf: gpd.GeoDataFrame, name: str, ident: str
                 ) -> ScreeningResult | None:
    """The result for this exact plan content: kept per session, recomputed only for a new plan."""
    key = f"{folder}|{stamp}|{ident}"
    kept = state.SCREENING_RESULT.get()
    if kept and kept[0] == key:
        return kept[1]
    if not st.button("Screening uitvoeren", type="primary", key=W.SCREENING_RUN):
        try:
            plan = plan_from_frame(gdf, name=name, source=ident, area=area)
        except GezondeStadError as exc:
            show_error("Dit plan kan niet gebruikt worden", exc)
            return None
        st.success(f"Plan ‘{name}’: {fmt_people(len(plan.features))} objecten.")
        preview_plan(gdf, area, key="screening_preview")
        return None
    try:
        plan = plan_from_frame(gdf, name=name, source=ident, area=area)
        before = compute.session_baseline(folder, stamp)
        with st.spinner("Plan toepassen en na-toestand berekenen…"):
            result = screen(area, plan, before=before, local=True)
    except GezondeStadError as exc:
        show_error("De screening kon niet uitgevoerd worden", exc)
        return None
    state.SCREENING_RESULT.set((key, result))
    return result


VERDICT_MD = {"gunstig": ":green[**GUNSTIG**]", "gunstig mits": ":orange[**GUNSTIG MITS**]", "ongunstig": ":red[**ONGUNSTIG**]"}
KIND_MD = {"harm": ":red[●]", "benefit": ":green[●]", "condition": ":orange[●]"}
VARIANTS_KEY = "screening_variants"


def show_verdict(v: Verdict) -> None:
    """Page 1 of the report in the app: the advice, the deciding findings, who gains and loses, what is not assessed."""
    st.subheader("Advies")
    with st.container(border=True):
        st.markdown(f"### {VERDICT_MD[v.verdict]}")
        for f in v.reasons:
            st.markdown(f"{KIND_MD.get(f.kind, '●')} **{md_escape(f.text)}** — _{BASIS_NL.get(f.basis, f.basis)}_")
            if f.causes:
                st.caption(f"Oorzaak in het plan: {md_escape(f.causes)}")
            if f.remedy and f.kind != "benefit":
                st.caption(f"Wat dit omkeert: {md_escape(f.remedy)}")
        if v.conditions:
            st.markdown("**" + ("Wat het plan zou moeten veranderen" if v.verdict == "ongunstig" else "Voorwaarden") + "**")
            st.markdown("\n".join(f"- {md_escape(c)}" for c in v.conditions))
        st.markdown(f"{md_escape(v.gains)}  \n{md_escape(v.losses)}")
        if v.not_assessed:
            st.markdown("**Niet beoordeeld**")
            st.markdown("\n".join(f"- {md_escape(n)}" for n in v.not_assessed))


def variants_section(result: ScreeningResult, items: list, name: str) -> None:
    """Keep screened plans as variants in the session and compare them side by side (one report)."""
    kept: list = st.session_state.setdefault(VARIANTS_KEY, [])
    names = [k[0] for k in kept]
    c1, c2 = st.columns([1, 3])
    if c1.button("Als variant bewaren", key="screening_keep_variant", disabled=name in names):
        kept.append((name, result, items))
        names.append(name)
    if len(kept) >= 2:
        c2.caption(f"Bewaarde varianten: {', '.join(md_escape(n) for n in names)}")
        decided = {n: decide(r, it) for n, r, it in kept}
        table = pd.DataFrame({n: [v.verdict, "; ".join(f.text for f in v.reasons)] for n, v in decided.items()},
                             index=["Advies", "Bepalende punten"])
        st.dataframe(table, width="stretch")
        html = render_variants_html([k[1] for k in kept], [k[2] for k in kept], with_maps=False)
        st.download_button("Varianten naast elkaar (HTML)", html.encode("utf-8"), file_name="screening_varianten.html",
                           mime="text/html", key="screening_dl_variants")
        if st.button("Varianten wissen", key="screening_clear_variants"):
            st.session_state[VARIANTS_KEY] = []
            st.rerun()
    elif kept:
        c2.caption(f"Bewaarde variant: {md_escape(names[0])}. Screen een tweede plan en bewaar het om ze te vergelijken.")


MAPS_NL = (("Plan in de bestaande stad", map_plan),
           ("Verschil luchttemperatuur op een hittedag (na − voor)", map_heat_difference),
           ("Woningen met groen binnen 300 m, voor en na het plan", map_green_access))
"""The screening's maps: two side by side, the before/after pair of green access on its own row (readable)."""


def show_maps(result: ScreeningResult) -> None:
    st.subheader("Kaarten")
    c1, c2 = st.columns(2)
    for col, (title, fn) in zip([c1, c2, st.container()], MAPS_NL):
        with col:
            try:
                uri = fn(result)
            except GezondeStadError as exc:  # a map is a bonus: the numbers above stand
                uri = None
                st.caption(f"Kaart niet beschikbaar: {exc}")
            if uri:
                st.markdown(f"**{title}**")
                st.image(base64.b64decode(uri.split(",", 1)[1]))


HEALTH_KEY = "screening_health_result"
"""Session key of the health outcomes of the screening shown (plan key, HealthResult)."""


def health_for(result: ScreeningResult, key: str) -> object | None:
    """Health outcomes of ``result`` (deaths, DALYs, euros a year), computed once per plan and kept in the session."""
    kept = st.session_state.get(HEALTH_KEY)
    if kept and kept[0] == key:
        return kept[1]
    try:
        with st.spinner("Gezondheidseffecten berekenen…"):
            h = screening_health(result)
    except GezondeStadError as exc:
        st.caption(f"Gezondheidseffecten niet berekend: {exc}")
        return None
    st.session_state[HEALTH_KEY] = (key, h)
    return h


def show_health(h: object) -> None:
    """The short health section: interval, pathway bars, who carries the effect, what was not assessed."""
    s = health_section(h)
    st.subheader("Gezondheidseffecten")
    st.info(f"**Vergelijking, geen voorspelling.** {s['label']}")
    st.caption(s["intro"])
    if not s["pathways"]:
        st.write("Geen enkel gezondheidspad kon berekend worden met de gegevens van deze studiezone.")
    else:
        st.dataframe(pd.DataFrame({"Uitkomst (hele studiezone)": [x["label"] for x in s["headline"]],
                                   "Mediaan (95 %-interval)": [x["value"] for x in s["headline"]]}), hide_index=True, width="stretch")
        if s["bars"]:
            st.image(base64.b64decode(s["bars"].split(",", 1)[1]), caption="Per gezondheidspad: balk = mediaan, streep = 95 %-interval.")
        rows = [{"Groep": g["label"], "Bewoners": g["residents"], "Sterfgevallen/jaar": g["deaths"], "DALY/jaar": g["dalys"]} for g in s["groups"]]
        rows += [{"Groep": g["label"], "Bewoners": MISSING, "Sterfgevallen/jaar": g["deaths"], "DALY/jaar": g["dalys"]} for g in s["ages"]]
        rows += [{"Groep": g["label"], "Bewoners": MISSING, "Sterfgevallen/jaar": g["deaths"], "DALY/jaar": g["dalys"]} for g in s["quintiles"]]
        st.markdown("**Wie draagt het effect**")
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if s["not_assessed"]:
        st.markdown("**Niet beoordeeld:** " + "; ".join(md_escape(f"{n['pathway']} ({n['reason']})") for n in s["not_assessed"]))
    st.caption(f"Monte-Carlosimulatie: {fmt_people(s['draws'])} trekkingen, seed {s['seed']}.")
    show_notes(s["notes"], "gezondheid")


@guarded
def render() -> None:
    folder, stamp, area = compute.current_area()
    synthetic_banner(area)
    st.title(TITLE)
    st.markdown(
        "Laad een plan (nieuwe gebouwen, groen, straten) en bekijk wat het verandert aan groen, fietsen, "
        "toegankelijkheid, hitte en water – voor het plangebied, de omliggende wijken en de hele stad – met een "
        "verslag voor het college om te downloaden."
    )
    gdf, name, ident = plan_source(area)
    answers = checklist_questions()
    if gdf is None:
        return
    result = run_or_reuse(folder, stamp, area, gdf, name, ident)
    if result is None:
        return
    items = build_checklist(result, answers)
    mode = "lokaal herberekend rond het plan" if result.mode == "local" else "volledig"
    st.caption(f"Plan ‘{md_escape(name)}’ berekend in {fmt_number(result.seconds.get('total', 0), 1)} s ({mode}).")
    for fam, why in result.missing.items():
        st.warning(f"Niet berekend – {fam}: {why}")
    show_notes(data_quality_notes(result), "screening")
    show_verdict(decide(result, items))
    variants_section(result, items, name)

    st.subheader("Samenvatting")
    cols = st.columns(3)
    for i, it in enumerate(items):
        with cols[i % 3]:
            st.markdown(f"**{md_escape(it.theme)}**: {SCORE_MD.get(it.score, it.score)}")
            st.caption(md_escape(it.evidence))

    st.subheader("Voor en na")
    zone = st.radio("Zone", list(ZONE_LABELS_NL), index=1, horizontal=True, key=W.SCREENING_ZONE,
                    format_func=ZONE_LABELS_NL.get)
    st.dataframe(delta_table(result, zone), hide_index=True, width="stretch")
    show_maps(result)
    health = health_for(result, f"{folder}|{stamp}|{ident}")
    if health is not None:
        show_health(health)

    st.subheader("Checklist gezondheidsdeterminanten")
    checklist_list(items)
    voices = voices_near_plan(result.plan.footprint, area.name, list(result.zones.plan_codes), db_path=pt.default_db_path(), crs=area.crs)
    report = render_html(result, items, with_maps=True, health=health, voices=voices)
    js = json.dumps(report_json(result, items, health=health), ensure_ascii=False, indent=2)
    c1, c2 = st.columns(2)
    c1.download_button("Verslag downloaden (HTML, af te drukken als PDF)", report.encode("utf-8"),
                       file_name=f"screening_{compute.slug(name)}.html", mime="text/html", key="screening_dl_html")
    c2.download_button("Alle verschillen en checklist (JSON)", js.encode("utf-8"),
                       file_name=f"screening_{compute.slug(name)}.json", mime="application/json", key="screening_dl_json")
