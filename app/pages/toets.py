"""Page "Toegankelijkheidstoets": every element of a design checked against the accessibility rules."""

from __future__ import annotations

import logging
import re
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from gezondestad.app import compute, maps, uploads
from gezondestad.app.state import W
from gezondestad.app.ui import (
    guarded,
    md_escape,
    show_error,
    synthetic_banner,
    text_cell,
)
from gezondestad.layers import export
from gezondestad.layers.participation import escape_text as esc
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import MISSING, fmt_people, norm_value_nl
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import DEFAULT_CRS, StudyArea
from gezondestad.screening import toets
from streamlit_folium import st_folium

logger = logging.getLogger(__name__)

TITLE = "Toegankelijkheidstoets van een ontwerp"
SOURCE_UPLOAD = "Eigen bestand uploaden"
SOURCE_EXAMPLE = "Voorbeeldontwerp (demostad, Stationsveld)"
NOT_USED = "(niet gebruiken)"
ELEMENT_NL = {"path": "pad", "ramp": "helling", "crossing": "oversteek", "kerb": "boordsteen", "stairs": "trap",
              "bench": "zitbank", "toilet": "toilet", "parking": "parkeerplaats"}
TABLE_COLUMNS = {"id": "Nr.", "element": "Element", "rule_text": "Regel", "oordeel": "Oordeel", "value": "Waarde",
                 "limit": "Grens", "unit": "Eenheid", "missing": "Ontbreekt", "fix": "Oplossing", "source": "Bron"}
ATTR_NL = {"width_cm": "breedte", "length_m": "lengte", "length_cm": "lengte", "slope_pct": "langshelling",
           "rise_cm": "hoogteverschil", "cross_slope_pct": "dwarshelling", "kerb_height_cm": "hoogte boordsteen",
           "riser_cm": "optrede", "turning_cm": "draaicirkel", "tactile": "voelbare markering", "handrail": "leuning",
           "rest_landing": "tussenbordes", "surface": "verharding", "layout": "opstelling"}
"""Dutch names of the design attributes; the column name of the file stays in brackets (it is what to add)."""
TABLE_WIDTHS_PX = {"Nr.": 52, "Element": 84, "Oordeel": 104, "Regel": 260, "Waarde": 124, "Grens": 156, "Eenheid": 64,
                   "Ontbreekt": 170, "Oplossing": 280, "Bron": 360, "Regel (code)": 150, "Nodig": 170}
"""Column widths of the result and rules tables; with ``TABLE_ROW_HEIGHT_PX`` the long texts wrap over three lines."""
TABLE_ROW_HEIGHT_PX = 68
"""Taller than 4rem (64 px): Streamlit then wraps the text in the cells instead of cutting it."""
RULES_COLUMNS = {"rule": "Regel (code)", "element": "Element", "rule_text": "Regel", "limit": "Grens", "unit": "Eenheid",
                 "requires": "Nodig", "source": "Bron", "fix": "Oplossing"}


@st.cache_data(show_spinner="Ontwerp toetsen…", max_entries=8)
def checked(design_key: str, mapping: tuple[tuple[str, str], ...], _design: gpd.GeoDataFrame, area_key: str = "", _area: StudyArea | None = None) -> gpd.GeoDataFrame:
    """The toets of one design content and column mapping (computed once, not on every rerun).

    With ``_area`` (keyed by ``area_key``) the design is checked in the area's CRS and must lie in it.
    """
    return toets.check_design(_design, column_map=dict(mapping) or None, area=_area)


def result_table(result: pd.DataFrame) -> pd.DataFrame:
    """Per rule, in Dutch: Dutch headers, numbers with a decimal comma, "–" where nothing applies."""
    t = pd.DataFrame({c: result[c] for c in TABLE_COLUMNS if c in result.columns})
    t["element"] = t["element"].map(lambda e: ELEMENT_NL.get(str(e), text_cell(e)))
    for c in t.columns:
        if c != "element":
            t[c] = t[c].map(attrs_nl if c == "missing" else text_cell)
    return t.rename(columns=TABLE_COLUMNS)


def attrs_nl(text: object) -> str:
    """The attribute names in a "missing" text in Dutch, each with its column name ("breedte (width_cm)")."""
    return re.sub(r"[a-z_]+", lambda m: f"{ATTR_NL[m.group()]} ({m.group()})" if m.group() in ATTR_NL else m.group(),
                  text_cell(text))


def result_column_config(table: pd.DataFrame) -> dict[str, Any]:
    """Widths of the result table's columns (number pinned), so long rules and fixes wrap instead of being cut."""
    return {c: st.column_config.TextColumn(c, width=TABLE_WIDTHS_PX.get(c, "medium"), pinned=c == "Nr.")
            for c in table.columns}


def wrapped_table(t: pd.DataFrame, first: tuple[str, ...] = ()) -> None:
    """A table whose long texts wrap in their cells (columns ``first`` up front, then the others)."""
    order = [c for c in first if c in t.columns]
    order += [c for c in t.columns if c not in order]
    st.dataframe(t, hide_index=True, width="stretch", row_height=TABLE_ROW_HEIGHT_PX, column_order=order,
                 column_config=result_column_config(t), height=min(560, 38 + TABLE_ROW_HEIGHT_PX * len(t) + 2))


def show_result_table(result: pd.DataFrame) -> None:
    """Per rule: the verdict right after the element, then the rule, the values and what to do."""
    wrapped_table(result_table(result), ("Nr.", "Element", "Oordeel", "Regel"))


def rule_limits_nl(norm_keys: tuple[str, ...]) -> str:
    """A rule's limits with Dutch numbers ("path_max_slope_pct: 4", lists "10; 8,3; 6,25"), one per line;
    long tables (six values or more) are left out as in the report."""
    norms = load_norms("accessibility")
    return "\n".join(f"{k}: {norm_value_nl(norms[k].value, 'accessibility')}" for k in norm_keys
                     if not isinstance(norms[k].value, list) or len(norms[k].value) < 6) or MISSING


def rules_table_nl() -> pd.DataFrame:
    rt = toets.rules_table()
    t = pd.DataFrame({c: rt[c] for c in RULES_COLUMNS if c in rt.columns})
    if "limit" in t.columns and "rule" in t.columns:
        keys = {r.rule_id: r.norm_keys for r in toets.RULES}
        t["limit"] = [rule_limits_nl(keys[str(r)]) if str(r) in keys else lim for r, lim in zip(t["rule"], t["limit"])]
    if "element" in t.columns:
        t["element"] = t["element"].map(lambda e: ELEMENT_NL.get(str(e), text_cell(e)))
    return t.map(text_cell).rename(columns=RULES_COLUMNS)


def choose_design() -> tuple[gpd.GeoDataFrame | None, str, str]:
    src = st.radio("Ontwerp", [SOURCE_UPLOAD, SOURCE_EXAMPLE], key=W.TOETS_SOURCE, horizontal=True)
    if src == SOURCE_EXAMPLE:
        return toets.example_design(), "voorbeeldontwerp", "example"
    up = st.file_uploader(
        f"Ontwerp (GeoPackage, GeoJSON of gezipte shapefile; max. {uploads.MAX_VECTOR_UPLOAD_MB} MB)",
        key=W.TOETS_UPLOAD, max_upload_size=uploads.MAX_VECTOR_UPLOAD_MB,
    )
    if up is None:
        return None, "", ""
    design, upload = uploads.read_uploaded_design(up)
    if design is None or upload is None:
        return None, "", ""
    return design, upload.name, upload.key


def column_mapping(design: gpd.GeoDataFrame, key: str) -> dict[str, str]:
    cols = [c for c in design.columns if c != design.geometry.name]
    mapping: dict[str, str] = {}
    with st.expander("Kolommen koppelen aan de toets", expanded=not any(c == "element" for c in cols)):
        st.caption("Koppel elke kolom van uw bestand aan een kenmerk van de toets. Kolommen met de juiste naam zijn al gekoppeld.")
        grid = st.columns(3)
        opts = [NOT_USED] + list(toets.SCHEMA)
        for i, c in enumerate(cols):
            default = opts.index(str(c)) if str(c) in toets.SCHEMA else 0
            target = grid[i % 3].selectbox(str(c), opts, index=default, key=W.toets_column(compute.slug(key), str(c)))
            if target != NOT_USED and target != c:
                mapping[str(c)] = target
    return mapping


def toets_map(result: gpd.GeoDataFrame, per_el: gpd.GeoDataFrame) -> None:
    """Elements coloured by their worst verdict; a click shows every rule (escaped)."""
    g = per_el[per_el.geometry.notna() & ~per_el.geometry.is_empty].to_crs(maps.WGS84)
    x0, y0, x1, y1 = g.total_bounds
    pad = max(x1 - x0, y1 - y0) * 0.1 + 1e-4
    m = maps.make_map([[y0 - pad, x0 - pad], [y1 + pad, x1 + pad]])
    _, _, area = compute.current_area()
    bx0, by0, bx1, by1 = per_el[per_el.geometry.notna()].to_crs(compute.area_crs(area)).total_bounds
    near = area.streets.cx[bx0 - 100: bx1 + 100, by0 - 100: by1 + 100]
    if len(near):  # the active study area's streets around the design, for orientation without tiles
        folium.GeoJson(maps.to_geojson(near[["geometry"]]), name="Straten", interactive=False,
                       style_function=lambda f: {"color": "#9e9e9e", "weight": 2}).add_to(m)
    by_id = {str(k): d for k, d in result.groupby(result["id"].astype(str), sort=False)}
    for _, r in g.iterrows():
        rules = by_id.get(str(r["id"]))
        rows = ""
        for _, rr in (rules.iterrows() if rules is not None else []):
            rows += (f"<li><b style='color:{maps.VERDICT_COLORS.get(rr['verdict'], '#999')}'>{esc(rr['oordeel'])}</b>: "
                     f"{esc(rr['rule_text'])}"
                     + (f" (waarde {esc(text_cell(rr['value']))}, grens {esc(text_cell(rr['limit']))} {esc(rr['unit'] or '')})"
                        if rr["value"] is not None else "")
                     + (f"<br><i>{esc(rr['fix'])}</i>" if rr["fix"] else "") + "</li>")
        popup = (f"<div style='font-size:13px;max-width:360px'><b>{esc(r['id'])} — "
                 f"{esc(ELEMENT_NL.get(str(r['element']), r['element']))}</b><ul style='padding-left:16px'>{rows}</ul></div>")
        color = maps.VERDICT_COLORS.get(r["verdict"], "#9e9e9e")
        geom = r.geometry
        if geom.geom_type == "Point":
            folium.CircleMarker([geom.y, geom.x], radius=8, color="#222", weight=1, fill=True, fill_color=color,
                                fill_opacity=0.95).add_child(maps.SafePopup(popup, 380)).add_child(
                maps.SafeTooltip(str(r["id"]))).add_to(m)
        else:
            folium.GeoJson(
                gpd.GeoSeries([geom], crs=maps.WGS84).to_json(),
                style_function=lambda f, c=color: {"color": c, "weight": 6, "fillColor": c, "fillOpacity": 0.7},
            ).add_child(maps.SafePopup(popup, 380)).add_child(maps.SafeTooltip(str(r["id"]))).add_to(m)
    st_folium(m, key="toets_map", height=480, use_container_width=True, returned_objects=[])
    st.html(maps.legend_html("Oordeel per element (slechtste regel telt)", [
        (maps.VERDICT_COLORS["pass"], "voldoet"), (maps.VERDICT_COLORS["fail"], "voldoet niet"),
        (maps.VERDICT_COLORS["unknown"], "kan niet beoordeeld worden")]))


def downloads(result: gpd.GeoDataFrame, has_geom: bool) -> None:
    d1, d2 = st.columns(2)
    if has_geom:
        d1.download_button("Download resultaat (GeoPackage)", data=lambda: export.layer_to_bytes(
            result[result.geometry.notna()], "gpkg", layer="toets"), file_name="toegankelijkheidstoets.gpkg",
            mime="application/geopackage+sqlite3", on_click="ignore", key="toets_dl_gpkg")
    d2.download_button("Download resultaat (CSV)", data=lambda: export.to_csv_frame(result).to_csv(index=False).encode("utf-8"),
                       file_name="toegankelijkheidstoets.csv",
                       mime="text/csv", on_click="ignore", key="toets_dl_csv")


@guarded
def render() -> None:
    _, _, area = compute.current_area()
    synthetic_banner(area)
    st.title(TITLE)
    st.markdown(
        "Laad een ontwerp (paden, hellingen, oversteken, trappen, banken, toiletten, parkeerplaatsen) en toets elk "
        "element aan de regels voor toegankelijk publiek domein: **groen** = voldoet, **rood** = voldoet niet, "
        "**grijs** = kan niet beoordeeld worden (gegevens ontbreken)."
    )
    design, name, key = choose_design()
    if design is None:
        with st.expander("Welke kolommen verwacht de toets?"):
            st.markdown(
                "Eén rij per element met een kolom **element** (path/pad, ramp/helling, crossing/oversteek, kerb/boordsteen, "
                "stairs/trap, bench/bank, toilet, parking/parkeerplaats) en waar van toepassing: "
                + ", ".join(f"`{c}`" for c in toets.SCHEMA if c not in ("id", "element")) + "."
            )
            wrapped_table(rules_table_nl())
        return
    st.success(f"‘{md_escape(name)}’: {fmt_people(len(design))} elementen.")
    mapping = column_mapping(design, key)
    try:
        # an uploaded design for an area outside Belgium is checked in that area's CRS (e.g. UTM) and
        # must lie in it; in Belgium (and for the shipped demo-town example) Lambert 72 and "in Belgium"
        own = key != "example" and compute.area_crs(area) != DEFAULT_CRS
        result = checked(key, tuple(sorted(mapping.items())), design, f"{compute.current_folder()}|{area.crs}" if own else "", area if own else None)
    except GezondeStadError as exc:
        show_error("Het ontwerp kan niet getoetst worden", exc)
        return
    per_el = toets.element_verdicts(result)
    n = per_el["verdict"].value_counts()
    c1, c2, c3 = st.columns(3)
    c1.metric("Voldoet", fmt_people(n.get("pass", 0)))
    c2.metric("Voldoet niet", fmt_people(n.get("fail", 0)))
    c3.metric("Kan niet beoordeeld worden", fmt_people(n.get("unknown", 0)))
    n_context = len(design) - len(per_el)
    if n_context > 0:  # e.g. benches: judged only through the paths' resting-point rule
        st.caption(f"{fmt_people(n_context)} van de {fmt_people(len(design))} elementen hebben geen eigen regel: "
                   "zij tellen mee in de regels van andere elementen (zoals banken bij de rustpunten langs looppaden).")
    geom_ok = per_el.geometry.notna() & ~per_el.geometry.is_empty if isinstance(per_el, gpd.GeoDataFrame) else None
    has_geom = geom_ok is not None and bool(geom_ok.any())
    if has_geom:
        toets_map(result, per_el)
        n_without = int((~geom_ok).sum())
        if n_without:
            st.info(f"{fmt_people(n_without)} element(en) zonder geometrie: niet op de kaart, wel getoetst in de tabel.")
    else:
        st.info("Het ontwerp heeft geen geometrie: enkel de tabel wordt getoond.")
    st.markdown("#### Resultaat per regel")
    show_result_table(result)
    downloads(gpd.GeoDataFrame(result, geometry="geometry", crs=result.crs), has_geom)
