"""Drawing a plan on the map (Screening page) and sketching a wish (evening mode).

Leaflet.draw is served by the app itself (``static/leaflet-draw``, from the npm registry, MIT;
see its LICENSE.md), never from a CDN. The planner draws, then gives each drawing a type and its
attributes in a form beside the map; :func:`gezondestad.screening.sketch.plan_from_drawings`
turns that into a validated plan, screened like an upload and downloadable as a plan file.
"""

from __future__ import annotations

import logging
from typing import Any

import folium
import streamlit as st
from folium.plugins import Draw
from streamlit_folium import st_folium

from gezondestad.app import maps
from gezondestad.app.ui import show_error
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.plan import Plan
from gezondestad.screening.sketch import FORMS, plan_from_drawings, plan_geojson

logger = logging.getLogger(__name__)

DRAW_JS = "/app/static/leaflet-draw/leaflet.draw.js"
DRAW_CSS = "/app/static/leaflet-draw/leaflet.draw.css"
TYPE_LABELS = {k: v[0] for k, v in FORMS.items()}
GEOM_NL = {"Polygon": "vlak", "LineString": "lijn", "Point": "punt"}


def local_draw(polyline: bool = True, polygon: bool = True, marker: bool = True) -> Draw:
    """The Leaflet.draw control loading its script and style from the app (no CDN), metric, no circles."""
    d = Draw(
        export=False,
        draw_options={"polyline": polyline and {"metric": True}, "polygon": polygon and {"allowIntersection": False, "showArea": True, "metric": True},
                      "rectangle": polygon and {"metric": True}, "circle": False, "circlemarker": False, "marker": marker},
        edit_options={"edit": True, "remove": True},
    )
    d.default_js = [("leaflet_draw_js", DRAW_JS)]
    d.default_css = [("leaflet_draw_css", DRAW_CSS)]
    return d


def draw_map(bounds: list[list[float]], key: str, context: list[tuple[str, str, str]] | None = None, height: int = 520,
             fill_frame: bool = False) -> list[dict[str, Any]]:
    """A map to draw on; returns the drawings (GeoJSON features in WGS84) as the map reports them.

    ``context`` is a list of (GeoJSON text, colour, Dutch name) drawn under the drawings (streets, wijken).
    ``fill_frame``: the map fills its frame when the page stretches it and has touch-sized zoom
    buttons (evening mode, ``maps.FILL_FRAME_CSS``).
    """
    m = maps.make_map(bounds, tiles=True, canvas=False, big_controls=fill_frame)
    if fill_frame:
        m.get_root().header.add_child(folium.Element(maps.FILL_FRAME_CSS))
    for gj, color, name in context or []:
        folium.GeoJson(gj, name=name, style_function=lambda _f, c=color: {"color": c, "weight": 1, "fillOpacity": 0.05}).add_to(m)
    local_draw().add_to(m)
    maps.fit_area(m, bounds, big_controls=fill_frame)  # again after the draw control: its script resets the view
    out = st_folium(m, key=key, height=height, use_container_width=True, returned_objects=["all_drawings"])
    return list((out or {}).get("all_drawings") or [])


def drawing_form(drawings: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """A compact form per drawing (type and attributes); returns one attribute dict per drawing."""
    attrs = []
    for i, d in enumerate(drawings):
        gt = (d.get("geometry") or {}).get("type", "")
        with st.expander(f"Tekening {i + 1} ({GEOM_NL.get(gt, gt)})", expanded=i == len(drawings) - 1):
            ftype = st.selectbox("Wat is het?", list(FORMS), format_func=lambda t: TYPE_LABELS[t], key=f"{key}_t{i}")
            a: dict[str, Any] = {"feature_type": ftype, "name": st.text_input("Naam (mag leeg)", key=f"{key}_n{i}", max_chars=80)}
            for f in FORMS[ftype][1]:
                k = f"{key}_{ftype}_{f.column}_{i}"
                if f.kind == "int":
                    a[f.column] = st.number_input(f.label, min_value=int(f.min_value or 0), max_value=int(f.max_value or 10**6),
                                                  value=int(f.default or 0), step=1, key=k)
                elif f.kind == "choice":
                    a[f.column] = st.selectbox(f.label, f.choices, index=f.choices.index(f.default) if f.default in f.choices else 0, key=k)
                elif f.kind == "bool":
                    a[f.column] = st.checkbox(f.label, value=bool(f.default), key=k)
                else:
                    a[f.column] = st.text_input(f.label, key=k)
            attrs.append(a)
    return attrs


def sketch_plan(area: StudyArea, bounds: list[list[float]], key: str, context: list[tuple[str, str, str]] | None = None) -> Plan | None:
    """The whole drawing flow: map, forms, a name; returns the validated plan once the planner confirms it."""
    st.caption("Teken met de knoppen links op de kaart: vlakken (gebouw, groen, parking, wadi, sloop), lijnen (straat, pad, "
               "bomenrij, nieuw regime van een bestaande straat) of punten (voorziening). Geef daarna elk element zijn soort.")
    drawings = draw_map(bounds, f"{key}_map", context)
    if not drawings:
        st.info("Nog niets getekend.")
        return None
    attrs = drawing_form(drawings, key)
    name = st.text_input("Naam van het plan", value="Getekend plan", key=f"{key}_name", max_chars=120)
    if not st.button("Dit plan gebruiken", key=f"{key}_use", type="primary"):
        return None
    try:
        plan = plan_from_drawings(drawings, attrs, area, name=name or "Getekend plan")
    except GezondeStadError as exc:
        show_error("Het getekende plan kan niet gebruikt worden", exc)
        return None
    st.download_button("Plan bewaren als bestand (GeoJSON)", plan_geojson(plan), file_name="getekend_plan.geojson",
                       mime="application/geo+json", key=f"{key}_dl")
    return plan
