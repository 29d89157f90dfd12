"""Kaart layer of the attributable health burden per wijk (deaths a year per 10,000 residents).

The burden is :func:`screening.health_outcomes.situation_health` on the app's cached baseline
(the same exposures as the screening): deaths a year attributable to not meeting the
recommendations (WHO air and noise guidelines, 150 min of activity, the greenness target, the
rural temperature on hot days). Fixed classes so two cities or two dates read the same.
"""

from __future__ import annotations

import html
import logging

import folium
import geopandas as gpd
import numpy as np
import streamlit as st
from gezondestad.app import compute, maps
from gezondestad.model.fmt import UNKNOWN, fmt_number
from gezondestad.screening.health_outcomes import situation_health
from gezondestad.spatial.health import PATHWAY_LABELS_NL, HealthResult

logger = logging.getLogger(__name__)

BURDEN_BREAKS: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0)
"""Class lower bounds in deaths a year per 10,000 residents (last class open-ended)."""
BURDEN_COLOURS: tuple[str, ...] = ("#fff5eb", "#fdd0a2", "#fdae6b", "#f16913", "#d94801", "#7f2704")
UNKNOWN_COLOUR = "#bdbdbd"
LAYER_NAME = "Gezondheidslast per wijk"


@st.cache_resource(show_spinner="Gezondheidslast per wijk berekenen…", max_entries=4)
def city_burden(folder: str, stamp: str) -> HealthResult:
    """The current-city health burden of the area (cached per area version)."""
    return situation_health(compute.session_baseline(folder, stamp), draws=256)


def burden_class(v: float | None) -> int | None:
    """Index of the class of ``v`` in :data:`BURDEN_BREAKS`, None when unknown."""
    if v is None or not np.isfinite(v):
        return None
    return int(np.searchsorted(BURDEN_BREAKS, max(float(v), 0.0), side="right") - 1)


def class_labels() -> list[str]:
    """Dutch legend labels of the classes (``2–4``, ``≥ 12``)."""
    b = BURDEN_BREAKS
    out = [f"{fmt_number(b[i], 0)}–{fmt_number(b[i + 1], 0)}" for i in range(len(b) - 1)]
    return out + [f"≥ {fmt_number(b[-1], 0)}"]


TOOLTIP_ALIAS = "Sterfgevallen/jaar per 10 000 inwoners"


def _per_wijk(r: HealthResult) -> dict[str, float] | None:
    pw = r.per_wijk
    if not len(pw) or "deaths_per_10000" not in pw:
        return None
    return dict(zip(pw["wijk_code"].astype(str), pw["deaths_per_10000"].astype(float)))


def burden_text_by_wijk(folder: str, stamp: str) -> dict[str, str]:
    """Deaths a year per 10,000 residents per wijk code as Dutch text ("3,4"; "onbekend")."""
    per = _per_wijk(city_burden(folder, stamp)) or {}
    codes = compute.load_area(folder, stamp).wijken["wijk_code"].astype(str)
    return {c: fmt_number(per.get(c), 1, missing=UNKNOWN) for c in codes}


def burden_frame(folder: str, stamp: str) -> gpd.GeoDataFrame | None:
    """Wijken with their burden text (``waarde``) and class index (``klasse``, NaN when unknown); None without any pathway."""
    per = _per_wijk(city_burden(folder, stamp))
    if per is None:
        return None
    w = compute.load_area(folder, stamp).wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    vals = [per.get(str(c), np.nan) for c in w["wijk_code"]]
    w["klasse"] = [np.nan if (k := burden_class(v)) is None else float(k) for v in vals]
    w["waarde"] = [fmt_number(v, 1, missing=UNKNOWN) for v in vals]
    return w


def add_burden_layer(folder: str, stamp: str, m: folium.Map) -> str | None:
    """Add the wijk choropleth of deaths per 10,000 residents a year to ``m``; return its legend HTML.

    The GeoJSON goes through :func:`maps.to_geojson` (wijk names escaped: they may come from OSM).
    """
    r = city_burden(folder, stamp)
    w = burden_frame(folder, stamp)
    if w is None:
        st.caption("Gezondheidslast per wijk: geen enkel gezondheidspad kon berekend worden.")
        return None
    colour = {i: c for i, c in enumerate(BURDEN_COLOURS)}
    folium.GeoJson(
        maps.to_geojson(w[["wijk_naam", "wijk_code", "waarde", "klasse", "geometry"]]), name=LAYER_NAME,
        style_function=lambda f: {"color": "#444", "weight": 1, "fillOpacity": 0.7,
                                  "fillColor": colour.get(f["properties"].get("klasse"), UNKNOWN_COLOUR)},
        tooltip=folium.GeoJsonTooltip(fields=["wijk_naam", "waarde"], aliases=["Wijk", TOOLTIP_ALIAS]),
    ).add_to(m)
    unknown = ", ".join(PATHWAY_LABELS_NL.get(k, k) for k in r.unknown)
    items = [(c, lab) for c, lab in zip(BURDEN_COLOURS, class_labels())] + [(UNKNOWN_COLOUR, UNKNOWN)]
    leg = maps.legend_html("Vroegtijdige sterfgevallen per jaar per 10 000 inwoners (niet halen van de aanbevelingen)", items)
    note = ("Vergelijking, geen voorspelling; centrale schatting. "
            + (f"Niet meegeteld (onbekend): {unknown}. " if unknown else ""))
    return leg + f'<div style="font-size:12px;color:#555;margin:-4px 0 10px 0">{html.escape(note)}</div>'
