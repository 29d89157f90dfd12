"""Page "Kaart per wijk": the study area's themes and indicator layers, a card per wijk, a comparison."""

from __future__ import annotations

import html

import folium
import pandas as pd
import streamlit as st
from gezondestad.app import compute, health_layer, maps, state
from gezondestad.app.state import W
from gezondestad.app.ui import (
    guarded,
    manifest_table,
    md_escape,
    show_notes,
    synthetic_banner,
)
from gezondestad.model.catalogue import FAMILY_LABELS, Indicator
from gezondestad.model.fmt import UNKNOWN, fmt_number, fmt_people, fmt_value
from gezondestad.model.studyarea import StudyArea
from streamlit_folium import st_folium

TITLE = "Kaart per wijk"
TOOLTIP_STYLE = "font-size: 13px;"
"""Wijk tooltips stay compact: a tooltip wider than the map is cut off by the map's frame."""
BASE_LAYERS = {"Groen": "green", "Waterlopen": "water", "Straten en paden": "streets", "Haltes": "stops",
               "Bodembedekking": "landcover", health_layer.LAYER_NAME: "health"}


def chart_unit(ind: Indicator) -> str:
    return "%" if ind.unit == "%" else ind.unit


def population_norm_nl() -> str:
    """The floor-area norm behind the resident estimate, in Dutch (" Norm: 45 m² bruto vloeroppervlak per inwoner
    (bron: …)."), or "" when the norm is absent."""
    src = compute.norm_source("population", "floor_area_m2_per_resident")
    if not src:
        return ""
    value = compute.norm_value_or_none("population", "floor_area_m2_per_resident")
    what = f"{fmt_number(value, 0)} m² bruto vloeroppervlak per inwoner" if value is not None else src.split(" — ", 1)[0]
    return f" Norm: {what} (bron: {md_escape(compute.short_source(src))})."


def wijk_card(row: pd.Series, indicators: list[Indicator], outcomes: dict[str, compute.FamilyOutcome]) -> None:
    """The card of one wijk: base facts, then per family its indicators, notes and norm sources."""
    st.markdown(f"### {md_escape(row['wijk_naam'])} ({md_escape(row['wijk_code'])})")
    st.markdown(f"**{fmt_number(row['oppervlakte_ha'])} ha** oppervlakte · "
                f"**{fmt_people(row['inwoners'], missing=UNKNOWN)}** inwoners · "
                f"**{fmt_people(row.get('woningen'), missing=UNKNOWN)}** woningen")
    expl = "Inwoners zijn per gebouw geschat uit het vloeroppervlak en afgestemd op een officieel wijktotaal als dat er is."
    if bool(row.get("woningen_geschat", False)):
        expl += " Woningen zijn geschat langs woonstraten omdat gebouwen ontbreken."
    st.caption(expl + population_norm_nl())
    by_family: dict[str, list[Indicator]] = {}
    for ind in indicators:
        by_family.setdefault(ind.family, []).append(ind)
    for fam, outcome in outcomes.items():
        inds = by_family.get(fam)
        with st.expander(FAMILY_LABELS.get(fam, fam), expanded=fam == "network"):
            if outcome.result is None:
                st.caption(f"Niet berekend voor dit studiegebied: {outcome.message}")
                continue
            if not inds:
                st.caption("Geen indicatoren per wijk voor deze familie.")
            for ind in inds or []:
                src = compute.norm_source(*ind.norm) if ind.norm else ""
                st.markdown(f"**{fmt_value(row.get(ind.key), ind.unit, missing=UNKNOWN)}** — {ind.label}",
                            help=f"Norm en bron: {src}" if src else None)
                st.caption(ind.explanation + (f" Bron: {md_escape(compute.short_source(src))}" if src else ""))
            show_notes(outcome.notes)


INDICATOR_PLACEHOLDER = "Kies een of meer indicatoren"


def _layer_choice(area_has_family: dict[str, bool]) -> tuple[dict[str, bool], list[str], dict[str, str]]:
    """The layer controls beside the map: base layers as pills, the indicator layers in one compact multiselect.

    Returns what to show of the base layers, the indicator layer keys chosen and their options.
    """
    ind_labels = {lyr.label: lyr.key for lyr in maps.MAP_LAYERS if area_has_family.get(lyr.family)}
    missing = [lyr.label for lyr in maps.MAP_LAYERS if not area_has_family.get(lyr.family)]
    chosen = st.pills("Kaartlagen", list(BASE_LAYERS), selection_mode="multi",
                      default=["Groen", "Waterlopen"], key=W.KAART_LAYERS, wrap=True) or []
    chosen_labels = st.multiselect(
        "Indicatorlagen", list(ind_labels), key=W.KAART_INDICATORS, placeholder=INDICATOR_PLACEHOLDER, wrap=True,
        help="Indicatoren per woning, straat, wijk of rastercel; de waarden staan in de tooltip en de legende onder de kaart.")
    if missing:
        st.caption("Niet beschikbaar voor dit studiegebied: " + ", ".join(missing) + ".")
    show = {v: (k in chosen) for k, v in BASE_LAYERS.items()}
    chosen_ind = [ind_labels[k] for k in chosen_labels if k in ind_labels]
    options: dict[str, str] = {}
    if "stop" in chosen_ind:
        options["stop"] = st.selectbox("STOP-score op de kaart", list(maps.STOP_LABELS),
                                       format_func=maps.STOP_LABELS.get, key=W.KAART_STOP_COL)
    if "accessibility" in chosen_ind:
        options["profile"] = st.selectbox("Toegankelijkheid voor", list(maps.PROFILE_CHOICES),
                                          format_func=maps.PROFILE_CHOICES.get, key=W.KAART_PROFILE)
    return show, chosen_ind, options


def wijk_values(folder: str, stamp: str, show: dict[str, bool], chosen_ind: list[str],
                options: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per-wijk values of the wijk layers shown (tooltip label -> {wijk code: Dutch text}).

    The wijk outlines lie on top of every layer and take the mouse, so they carry these values
    in their tooltip (the choropleths' own tooltips are never reached)."""
    extra: dict[str, dict[str, str]] = {}
    if "stop" in chosen_ind:
        col = options.get("stop", "stop_s")
        per = compute.cached_network(folder, stamp).per_wijk
        extra[f"STOP {col.removeprefix('stop_').upper()} (0–100)"] = {
            str(c): fmt_number(v, 0, missing=UNKNOWN) for c, v in zip(per["wijk_code"], per[col])}
    if show.get("health"):
        extra["Sterfte/jaar per 10 000 inw."] = health_layer.burden_text_by_wijk(folder, stamp)
    return extra


def wijk_outline_geojson(folder: str, stamp: str, extra: dict[str, dict[str, str]]) -> tuple[str, list[str]]:
    """The wijk outlines with the ``extra`` values as columns (escaped GeoJSON) and those columns' names."""
    w = compute.load_area(folder, stamp).wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    fields = []
    for i, per in enumerate(extra.values()):
        fields.append(f"extra_{i}")
        w[fields[-1]] = w["wijk_code"].astype(str).map(per).fillna(UNKNOWN).astype(object)
    return maps.to_geojson(w), fields


UNDER_WIJKEN = ("stop", "heat", "water")
"""Indicator layers drawn under the wijk outlines: wijk choropleths (their values are in the wijk
tooltip) and rasters. Every other layer (homes, streets, routes, parks, stops) is drawn on top, so
hovering one of its features shows that feature's own tooltip; between features the wijk's shows."""


def _add_layers(keys: list[str], folder: str, stamp: str, m: folium.Map, options: dict[str, str], legends: list[str]) -> None:
    for key in keys:
        leg = maps.add_indicator_layer(key, folder, stamp, m, options)
        if leg:
            legends.append(leg)


def _add_wijk_outline(folder: str, stamp: str, m: folium.Map, extra: dict[str, dict[str, str]]) -> None:
    """The wijk outlines (hover: name, code and the values of the wijk layers shown; click: choose the wijk)."""
    if extra:
        outline, fields = wijk_outline_geojson(folder, stamp, extra)
    else:
        outline, fields = maps.theme_geojson(folder, stamp, "wijken", ("wijk_code", "wijk_naam")), []
    folium.GeoJson(
        outline, name="Wijken",
        style_function=lambda f: {"color": "#222", "weight": 2, "fillColor": "#ffffff", "fillOpacity": 0.0},
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.15},
        tooltip=folium.GeoJsonTooltip(fields=["wijk_naam", "wijk_code"] + fields, aliases=["Wijk", "Code"] + list(extra),
                                      style=TOOLTIP_STYLE),
    ).add_to(m)


def _add_base_features(area: StudyArea, folder: str, stamp: str, show: dict[str, bool], m: folium.Map, legends: list[str]) -> None:
    """Parks, streets and stops: above the wijk outlines, each with its own tooltip."""
    if show["green"] and area.has("green"):
        folium.GeoJson(
            maps.theme_geojson(folder, stamp, "green", ("name", "kind", "area_m2")), name="Groen",
            style_function=lambda f: {"color": "#1b7f4b", "weight": 1, "fillColor": "#4caf50", "fillOpacity": 0.5},
            tooltip=folium.GeoJsonTooltip(fields=["name", "kind", "area_m2"], aliases=["Naam", "Soort", "m²"]),
        ).add_to(m)
        legends.append(maps.legend_html("Groen", [("#4caf50", "groene ruimte")]))
    if show["streets"] and area.has("streets"):
        folium.GeoJson(
            maps.theme_geojson(folder, stamp, "streets", ("name", "highway")), name="Straten en paden",
            style_function=lambda f: {"color": "#555", "weight": 1.5},
            tooltip=folium.GeoJsonTooltip(fields=["name", "highway"], aliases=["Straat", "Type"]),
        ).add_to(m)


def _add_stops(area: StudyArea, folder: str, stamp: str, show: dict[str, bool], m: folium.Map, legends: list[str]) -> None:
    if show["stops"] and area.has("pois"):
        stops = maps.stops_geojson(folder, stamp)
        if stops:
            folium.GeoJson(
                stops, name="Haltes",
                marker=folium.CircleMarker(radius=5, color="#000", weight=1, fill=True, fill_color="#ffd400", fill_opacity=1),
                tooltip=folium.GeoJsonTooltip(fields=["name", "category"], aliases=["Halte", "Soort"]),
            ).add_to(m)
            legends.append(maps.legend_html("Openbaar vervoer", [("#ffd400", "halte of station")]))


def build_map(folder: str, stamp: str, show: dict[str, bool], chosen_ind: list[str],
              options: dict[str, str]) -> tuple[folium.Map, list[str]]:
    """The Kaart map with the chosen layers, and the legends of what it shows.

    Drawing order (last on top, and on top takes the mouse): land cover, water, rasters and wijk
    choropleths, the wijk outlines, then parks, streets, home/route layers and stops.
    """
    area = compute.load_area(folder, stamp)
    m = maps.make_map(maps.area_bounds_wgs84(folder, stamp))
    legends: list[str] = []
    if show["landcover"]:
        leg = maps.add_landcover_layer(folder, stamp, m)
        if leg:
            legends.append(leg)
        else:
            st.info("Dit studiegebied heeft geen bodembedekkingsraster.")
    if show["water"] and area.has("water"):
        folium.GeoJson(
            maps.theme_geojson(folder, stamp, "water", ("name", "kind")), name="Water", interactive=False,
            style_function=lambda f: {"color": "#1f5fbf", "weight": 2, "fillColor": "#5b9bd5", "fillOpacity": 0.6},
        ).add_to(m)
    _add_layers([k for k in chosen_ind if k in UNDER_WIJKEN], folder, stamp, m, options, legends)
    if show.get("health"):
        leg = health_layer.add_burden_layer(folder, stamp, m)
        if leg:
            legends.append(leg)
    _add_wijk_outline(folder, stamp, m, wijk_values(folder, stamp, show, chosen_ind, options))
    _add_base_features(area, folder, stamp, show, m, legends)
    _add_layers([k for k in chosen_ind if k not in UNDER_WIJKEN], folder, stamp, m, options, legends)
    _add_stops(area, folder, stamp, show, m, legends)
    folium.LayerControl(collapsed=True).add_to(m)
    return m, legends


def comparison_chart(table: pd.DataFrame, avail: list[Indicator]) -> None:
    """A bar chart of one indicator over all wijken (axis with decimal comma)."""
    st.markdown("#### Wijken vergelijken")
    metrics: dict[str, tuple[str, str]] = {"Inwoners": ("inwoners", ""), "Oppervlakte (ha)": ("oppervlakte_ha", "")}
    for ind in avail:
        metrics[f"{ind.label} ({chart_unit(ind)})"] = (ind.key, ind.unit)
    metrics = {k: v for k, v in metrics.items() if table[v[0]].notna().any()}
    label = st.selectbox("Indicator", list(metrics), key=W.KAART_COMPARE)
    col, unit = metrics[label]
    vals = pd.to_numeric(table[col], errors="coerce") * (100 if unit == "%" else 1)
    chart = pd.DataFrame({"Wijk": table["wijk_naam"].astype(str), "waarde": vals.round(2),
                          "tekst": [fmt_value(v, unit) for v in pd.to_numeric(table[col], errors="coerce")]})
    spec = {
        "mark": {"type": "bar", "color": "#1b7f4b"},
        "encoding": {
            "y": {"field": "Wijk", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 220}},
            "x": {"field": "waarde", "type": "quantitative", "title": label, "axis": {"format": ",.2~f"}},
            "tooltip": [{"field": "Wijk", "type": "nominal"}, {"field": "tekst", "type": "nominal", "title": "Waarde"}],
        },
        "height": {"step": 28},
        "config": {"locale": {"number": {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["€", ""]}}},
    }
    st.vega_lite_chart(chart, spec, width="stretch")


def _data_per_theme(area: StudyArea) -> None:
    with st.expander("Gegevens per thema (bron, datum, volledigheid)", expanded=False):
        st.dataframe(manifest_table(area), hide_index=True, width="stretch")


@guarded
def render() -> None:
    folder, stamp, area = compute.current_area()
    synthetic_banner(area)
    st.title(TITLE)
    if len(area.wijken) == 0:
        _data_per_theme(area)
        st.error("Dit studiegebied heeft geen wijken; kies een ander studiegebied of voeg een wijkenbestand toe.")
        return
    base = compute.wijk_base_table(folder, stamp)
    outcomes = {fam: compute.family_result(fam, folder, stamp) for fam in compute.app_families()}
    # the map starts right under the title; its layer controls and the wijk card sit beside it
    left, right = st.columns([3, 2], gap="large")
    with right:
        show, chosen_ind, options = _layer_choice({f: o.result is not None for f, o in outcomes.items()})
    with left:
        m, legends = build_map(folder, stamp, show, chosen_ind, options)
        out = st_folium(m, key=f"kaart_{compute.slug(folder)}", height=640, use_container_width=True,
                        returned_objects=["last_active_drawing"])
        if legends:
            st.html('<div style="display:flex;flex-wrap:wrap;gap:8px 28px">' + "".join(
                f"<div>{lg}</div>" for lg in legends) + "</div>")
        for note in area.norms_notes():  # outside Flanders the thresholds are still the Flemish ones: say so
            st.info(md_escape(note))
        clicked = ((out or {}).get("last_active_drawing") or {}).get("properties", {}) or {}
        code_clicked = html.unescape(str(clicked.get("wijk_code", ""))) if "wijk_naam" in clicked else ""
        if code_clicked and code_clicked != state.KAART_LAST_CLICK.get():
            state.KAART_LAST_CLICK.set(code_clicked)
            if code_clicked in set(base["wijk_code"]):
                st.session_state[W.KAART_WIJK] = code_clicked
                st.rerun()

    table, avail = compute.indicator_table(folder, stamp, base)
    with right:
        codes = list(table["wijk_code"])
        names = dict(zip(table["wijk_code"], table["wijk_naam"]))
        code = st.selectbox("Wijk (of klik op een wijk op de kaart)", codes, format_func=lambda c: f"{names[c]} ({c})",
                            key=W.KAART_WIJK)
        wijk_card(table[table["wijk_code"] == code].iloc[0], avail, outcomes)
    _data_per_theme(area)
    comparison_chart(table, avail)
