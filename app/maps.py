"""Maps of the app (folium / Leaflet), WGS84 only here at the edge.

Safety: every GeoJSON a map receives goes through :func:`to_geojson`, which HTML-escapes EVERY
column that is not numeric or boolean — whatever its dtype (``object``, pandas' ``str``,
``category``, ...). Names come from OpenStreetMap, which anyone can edit; a tooltip shows its
values as HTML, so an unescaped ``<img onerror=…>`` in a street name would run on hover.
Popups and tooltips of single markers travel as JSON string literals (:class:`SafePopup`,
:class:`SafeTooltip`), never pasted into JavaScript templates.

Leaflet is served by the app itself (``static/leaflet``, next to the main script): the maps work
offline (only the background tiles need internet). The scale bar is metric only.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import streamlit as st
from branca.element import MacroElement
from gezondestad.app import compute
from gezondestad.model.catalogue import indicator as catalogue_indicator
from gezondestad.model.fmt import MISSING, UNKNOWN, as_number, fmt_number
from gezondestad.model.landcover import LANDCOVER_LABELS_NL
from gezondestad.model.norms import load_norms
from jinja2 import Template
from rasterio.warp import Resampling, calculate_default_transform, reproject

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
LEAFLET_JS = "/app/static/leaflet/leaflet.min.js"
LEAFLET_CSS = "/app/static/leaflet/leaflet.css"
MAP_CSS = "<style>.leaflet-container { background: #f4f3ee; }</style>"
BIG_CONTROLS_CSS = ("<style>.leaflet-control-zoom a { width: 52px !important; height: 52px !important; "
                    "line-height: 52px !important; font-size: 30px !important; }</style>")
"""Touch-friendly zoom buttons (evening mode on a projector or a touch screen)."""
FILL_FRAME_CSS = "<style>#map_div, #map_div2 { height: 100vh !important; }</style>"
"""Put in a map's header: the map fills its frame at whatever height the page gives the frame
(the widget otherwise fixes the map at the height it was created with). Evening mode."""

LANDCOVER_COLORS: dict[int, tuple[int, int, int]] = {
    1: (200, 60, 60),  # gebouw
    2: (150, 150, 150),  # verhard
    3: (170, 215, 120),  # laag groen
    4: (40, 120, 50),  # bomen
    5: (70, 130, 210),  # water
    6: (210, 180, 120),  # onverhard / braak
}
LTS_COLORS = {1: "#1a9850", 2: "#a6d96a", 3: "#fdae61", 4: "#d73027"}
VERDICT_COLORS = {"pass": "#1a9850", "unknown": "#9e9e9e", "fail": "#d73027"}
VERDICT_NL = {"pass": "voldoet", "fail": "voldoet niet", "unknown": UNKNOWN}
HEAT_COLORS = {1: (255, 255, 178), 2: (254, 204, 92), 3: (253, 141, 60), 4: (227, 26, 28)}
WATER_COLORS = [(239, 243, 255), (189, 215, 231), (107, 174, 214), (49, 130, 189), (8, 81, 156)]
PROFILE_CHOICES = {"wheelchair": "rolstoel", "walker": "rollator / kinderwagen", "blind": "blind / slechtziend"}
STOP_LABELS = {"stop_s": "S – stappers", "stop_t": "T – trappers", "stop_o": "O – openbaar vervoer",
               "stop_p": "P – privé-auto (hoger = slechter)"}
HIGHWAY_NL = {
    "primary": "hoofdweg", "secondary": "secundaire weg", "tertiary": "lokale hoofdstraat", "residential": "woonstraat",
    "living_street": "woonerf", "service": "dienstweg", "footway": "voetpad", "cycleway": "fietspad",
    "path": "pad", "pedestrian": "voetgangerszone", "steps": "trap", "track": "veldweg", "unclassified": "lokale weg",
    "trunk": "autoweg", "motorway": "autosnelweg",
}
POI_NL = {"bus_stop": "bushalte", "tram_stop": "tramhalte", "train_station": "station"}


# ---------------------------------------------------------------------------------------------
# escaping and GeoJSON
# ---------------------------------------------------------------------------------------------


def _escape_cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    return html.escape(str(v))


def is_numeric_column(s: pd.Series) -> bool:
    """True for numbers and booleans: the only columns a map may pass on unescaped."""
    return bool(pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype))


def escape_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy with EVERY non-numeric, non-geometry column HTML-escaped (missing values as "")."""
    out = gdf.copy()
    geom = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for c in out.columns:
        if c == geom or is_numeric_column(out[c]):
            continue
        out[c] = out[c].map(_escape_cell).astype(object)
    return out


def to_geojson(gdf: gpd.GeoDataFrame) -> str:
    """GeoJSON in WGS84 of ``gdf`` with every text column escaped (the one way maps get data)."""
    return escape_frame(gdf).to_crs(WGS84).to_json(drop_id=True)


def display_number(s: pd.Series, decimals: int = 0) -> pd.Series:
    """A numeric column as Dutch text for a tooltip ("1 234,5"; missing as "–")."""
    return s.map(lambda v: fmt_number(v, decimals)).astype(object)


def _name_or_placeholder(s: pd.Series) -> pd.Series:
    return s.map(lambda v: "(zonder naam)" if v is None or (isinstance(v, float) and np.isnan(v)) or str(v) == ""
                 else v).astype(object)


@st.cache_data(show_spinner=False, max_entries=64)
def theme_geojson(folder: str, stamp: str, theme: str, columns: tuple[str, ...], simplify_m: float = 0.0) -> str:
    """One theme as GeoJSON in WGS84 (all text escaped; names, kinds and areas readable in Dutch)."""
    area = compute.load_area(folder, stamp)
    gdf = area.themes[theme]
    keep = [c for c in columns if c in gdf.columns]
    g = gdf[keep + [gdf.geometry.name]].copy()
    if simplify_m > 0:
        g["geometry"] = g.geometry.simplify(simplify_m)
    if "name" in g.columns:
        g["name"] = _name_or_placeholder(g["name"])
    if "highway" in g.columns:
        g["highway"] = g["highway"].map(lambda v: HIGHWAY_NL.get(str(v), v)).astype(object)
    if "area_m2" in g.columns:
        g["area_m2"] = display_number(g["area_m2"], 0)
    return to_geojson(g)


@st.cache_data(show_spinner=False, max_entries=16)
def area_bounds_wgs84(folder: str, stamp: str) -> list[list[float]]:
    area = compute.load_area(folder, stamp)
    src = area.boundary if len(area.boundary) else area.wijken
    x0, y0, x1, y1 = src.to_crs(WGS84).total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


@st.cache_data(show_spinner=False, max_entries=16)
def stops_geojson(folder: str, stamp: str) -> str | None:
    area = compute.load_area(folder, stamp)
    p = area.pois
    s = p[p["category"].isin(list(POI_NL))][["name", "category", "geometry"]].copy()
    if len(s) == 0:
        return None
    s["name"] = _name_or_placeholder(s["name"])
    s["category"] = s["category"].map(POI_NL).astype(object)
    return to_geojson(s)


@st.cache_data(show_spinner=False, max_entries=32)
def wijk_geojson_and_bounds(folder: str, stamp: str, code: str) -> tuple[str, list[list[float]]]:
    area = compute.load_area(folder, stamp)
    w = area.wijken[area.wijken["wijk_code"].astype(str) == code][["wijk_code", "wijk_naam", "geometry"]]
    x0, y0, x1, y1 = w.to_crs(WGS84).total_bounds
    return to_geojson(w), [[float(y0), float(x0)], [float(y1), float(x1)]]


@st.cache_data(show_spinner=False, max_entries=32)
def wijk_context_geojson(folder: str, stamp: str, code: str) -> dict[str, str]:
    """Streets, buildings, green and water around one wijk (WGS84 GeoJSON, text escaped)."""
    area = compute.load_area(folder, stamp)
    w = area.wijken[area.wijken["wijk_code"].astype(str) == code]
    if len(w) == 0:
        return {}
    x0, y0, x1, y1 = w.total_bounds
    margin_m = 0.15 * max(x1 - x0, y1 - y0)  # context beyond the wijk edge, filling the map margin (display only)
    out = {}
    for theme, cols in (("green", ["name"]), ("water", ["name"]), ("buildings", []), ("streets", ["name"])):
        g = area.themes[theme]
        if len(g) == 0:
            continue
        g = g.cx[x0 - margin_m: x1 + margin_m, y0 - margin_m: y1 + margin_m][cols + ["geometry"]].copy()
        if len(g) == 0:
            continue
        if "name" in g.columns:
            g["name"] = _name_or_placeholder(g["name"])
        out[theme] = to_geojson(g)
    return out


# ---------------------------------------------------------------------------------------------
# rasters
# ---------------------------------------------------------------------------------------------


def raster_rgba_wgs84(classes: np.ndarray, transform: Any, colors: dict[int, tuple[int, int, int]], crs: str,
                      alpha: int = 170) -> tuple[np.ndarray, list[list[float]]]:
    """Colour a class raster and warp it to WGS84 for a folium ImageOverlay (display only)."""
    h, w = classes.shape
    left, top = transform.c, transform.f
    right, bottom = left + w * transform.a, top + h * transform.e
    dst_t, dw, dh = calculate_default_transform(crs, WGS84, w, h, left, bottom, right, top)
    dst = np.zeros((dh, dw), dtype=classes.dtype)
    reproject(classes, dst, src_transform=transform, src_crs=crs, dst_transform=dst_t, dst_crs=WGS84,
              resampling=Resampling.nearest, src_nodata=0, dst_nodata=0)
    rgba = np.zeros((dh, dw, 4), dtype=np.uint8)
    for code, rgb in colors.items():
        m = dst == code
        rgba[m, :3] = rgb
        rgba[m, 3] = alpha
    west, north = dst_t.c, dst_t.f
    east, south = west + dw * dst_t.a, north + dh * dst_t.e
    return rgba, [[float(south), float(west)], [float(north), float(east)]]


@st.cache_data(show_spinner="Bodembedekking tekenen…", max_entries=8)
def landcover_overlay(folder: str, stamp: str) -> tuple[np.ndarray, list[list[float]]] | None:
    area = compute.load_area(folder, stamp)
    if area.landcover is None:
        return None
    return raster_rgba_wgs84(area.landcover.classes, area.landcover.transform, LANDCOVER_COLORS, compute.area_crs(area))


@st.cache_data(show_spinner="Hittekaart tekenen…", max_entries=8)
def heat_overlay(folder: str, stamp: str) -> tuple[np.ndarray, list[list[float]], list[float]]:
    res = compute.cached_heat(folder, stamp)
    crs = compute.area_crs(compute.load_area(folder, stamp))
    img, bnds = raster_rgba_wgs84(res.heat_class.astype(np.uint8), res.landcover.transform, HEAT_COLORS, crs, alpha=150)
    return img, bnds, [float(b) for b in res.params.heat_class_breaks]


@st.cache_data(show_spinner="Waterkaart tekenen…", max_entries=8)
def water_overlay(folder: str, stamp: str) -> tuple[np.ndarray, list[list[float]], float]:
    """Runoff depth as 5 equal shares of the design storm (display classes), flood-prone cells on top."""
    res = compute.cached_water(folder, stamp)
    crs = compute.area_crs(compute.load_area(folder, stamp))
    p_mm = float(res.params.design_storm_depth_mm)
    q = np.nan_to_num(res.runoff_mm, nan=-1.0)
    cls = np.where(q < 0, 0, np.clip(np.floor(q / p_mm * 5), 0, 4) + 1).astype(np.uint8)
    cls[np.asarray(res.flood_prone, dtype=bool)] = 6
    colors = {i + 1: c for i, c in enumerate(WATER_COLORS)} | {6: (120, 40, 140)}
    img, bnds = raster_rgba_wgs84(cls, res.landcover.transform, colors, crs, alpha=160)
    return img, bnds, p_mm


# ---------------------------------------------------------------------------------------------
# map, popups, legend
# ---------------------------------------------------------------------------------------------


def js_string(text: str) -> str:
    """A JavaScript string literal of ``text`` that is safe inside an inline <script>."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class SafePopup(MacroElement):
    """A Leaflet popup whose (already escaped) HTML travels as a JSON string literal."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.content }}, {{ this.options }});
        {% endmacro %}"""
    )

    def __init__(self, html_content: str, max_width_px: int = 320) -> None:
        super().__init__()
        self._name = "SafePopup"
        self.content = js_string(html_content)
        self.options = json.dumps({"maxWidth": int(max_width_px)})


class SafeTooltip(MacroElement):
    """A Leaflet tooltip with plain text (escaped here), passed as a JSON string literal."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindTooltip({{ this.content }}, {"sticky": true});
        {% endmacro %}"""
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "SafeTooltip"
        self.content = js_string(html.escape(str(text)))


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's ``control_scale`` adds feet and miles)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({"imperial": false, "metric": true}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


FIT_PADDING_PX = 28
"""Margin in screen pixels kept around the area a map opens on (every side), so the outline of a
wijk or study area never touches or crosses the map's frame, whatever the screen size."""
BIG_CONTROLS_PADDING_PX = 40
"""Margin when the touch-sized zoom buttons are shown (evening mode)."""
BIG_CONTROLS_LEFT_PX = 76
"""Left margin with the touch-sized zoom buttons: they take the top-left corner up to ~64 px from the
frame's left edge (10 px offset + 52 px buttons + border), so the outline starts right of them."""


def fit_with_margin(m: folium.Map, bounds: list[list[float]], padding_px: int = FIT_PADDING_PX,
                    left_px: int | None = None) -> None:
    """Open ``m`` on ``bounds`` with ``padding_px`` free pixels on every side (Leaflet fitBounds padding);
    ``left_px`` widens the left margin (clear of the zoom buttons)."""
    left = padding_px if left_px is None else max(left_px, padding_px)
    m.fit_bounds(bounds, padding_top_left=(left, padding_px), padding_bottom_right=(padding_px, padding_px))


def make_map(bounds: list[list[float]], tiles: bool = True, canvas: bool = True, big_controls: bool = False) -> folium.Map:
    """A folium map that loads only the app's own Leaflet (no CDN), with a metric scale bar.

    ``canvas`` draws vectors on one canvas (fast for many features); without it every feature is
    an SVG element (markers that can be found and clicked individually). The map opens on
    ``bounds`` with a margin (:func:`fit_with_margin`), wider with ``big_controls``.
    """
    m = folium.Map(tiles=None, control_scale=False, prefer_canvas=canvas, zoom_snap=0.25, zoom_delta=0.5)
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    m.get_root().header.add_child(folium.Element(MAP_CSS))
    if big_controls:
        m.get_root().header.add_child(folium.Element(BIG_CONTROLS_CSS))
    m.add_child(MetricScale())
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Achtergrond (OpenStreetMap, internet nodig)", control=True).add_to(m)
    fit_area(m, bounds, big_controls)
    return m


def fit_area(m: folium.Map, bounds: list[list[float]], big_controls: bool = False) -> None:
    """Open ``m`` on ``bounds`` with the margin that suits its zoom buttons (normal or touch-sized)."""
    if big_controls:
        fit_with_margin(m, bounds, BIG_CONTROLS_PADDING_PX, BIG_CONTROLS_LEFT_PX)
    else:
        fit_with_margin(m, bounds)


def legend_html(title: str, items: list[tuple[str, str]]) -> str:
    """A small legend (colours and labels escaped)."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span style="width:16px;height:12px;background:{html.escape(c)};display:inline-block;border:1px solid #555">'
        f"</span>{html.escape(label)}</div>"
        for c, label in items
    )
    return f'<div style="font-size:14px;margin-bottom:8px"><b>{html.escape(title)}</b>{rows}</div>'


def source_html(src: str) -> str:
    return f'<div style="font-size:12px;color:#555;margin:-4px 0 10px 0">Norm: {html.escape(src)}</div>' if src else ""


def ramp_color(value: Any, lo: float, hi: float, ramp: str = "RdYlGn", reverse: bool = False) -> str:
    """Colour of ``value`` on a matplotlib ramp between ``lo`` and ``hi`` (grey when missing)."""
    f = as_number(value)
    if f is None:
        return "#bdbdbd"
    t = (f - lo) / (hi - lo) if hi > lo else 0.5
    t = float(np.clip(1 - t if reverse else t, 0, 1))
    return matplotlib.colors.to_hex(matplotlib.colormaps[ramp](t))


def hex_rgb(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# ---------------------------------------------------------------------------------------------
# indicator layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapLayer:
    """A map layer drawn from an indicator family's result (``family`` is a key of FAMILY_LABELS)."""

    key: str
    label: str
    family: str


MAP_LAYERS: tuple[MapLayer, ...] = (
    MapLayer("green_homes", "Groen op wandelafstand (woningen)", "network"),
    MapLayer("lts", "Fietsstress (LTS) per straat", "network"),
    MapLayer("fietsstraten", "Fietsstraten", "network"),
    MapLayer("stop", "STOP per wijk", "network"),
    MapLayer("accessibility", "Toegankelijkheid looproutes", "accessibility"),
    MapLayer("heat", "Hitte op een zomerdag", "heat"),
    MapLayer("water", "Afstroming en wateroverlast", "water"),
    MapLayer("noise", "Geluid aan de woning (Lden)", "noise"),
    MapLayer("air", "Stikstofdioxide (NO2) aan de woning", "air"),
)
"""Map layers of the Kaart page (their family's label is :data:`FAMILY_LABELS`)."""


@st.cache_data(show_spinner=False, max_entries=16)
def green_homes_geojson(folder: str, stamp: str) -> str:
    res = compute.cached_network(folder, stamp)
    h = res.homes[["green_300m_05ha", "geometry"]].copy()
    h["ok"] = h["green_300m_05ha"].astype(float).fillna(-1).astype(int)
    return to_geojson(h[["ok", "geometry"]])


@st.cache_data(show_spinner=False, max_entries=16)
def lts_geojson(folder: str, stamp: str, only_fietsstraat: bool) -> str:
    seg = compute.cached_network(folder, stamp).segments
    if only_fietsstraat:
        seg = seg[seg["fietsstraat"].astype(bool)]
    g = seg[["name", "highway", "lts", "maxspeed_kmh", "geometry"]].copy()
    g["lts"] = g["lts"].astype(float).fillna(0).astype(int)
    g["lts_txt"] = g["lts"].map(lambda v: str(v) if v else "niet fietsbaar").astype(object)
    g["snelheid"] = display_number(g["maxspeed_kmh"].astype(float), 0)
    g["name"] = _name_or_placeholder(g["name"])
    g["highway"] = g["highway"].map(lambda v: HIGHWAY_NL.get(str(v), v)).astype(object)
    return to_geojson(g.drop(columns=["maxspeed_kmh"]))


@st.cache_data(show_spinner=False, max_entries=16)
def stop_choropleth_geojson(folder: str, stamp: str, column: str) -> str:
    area = compute.load_area(folder, stamp)
    per = compute.cached_network(folder, stamp).per_wijk
    w = area.wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    w["score"] = w["wijk_code"].astype(str).map(dict(zip(per["wijk_code"].astype(str), per[column]))).astype(float).round(0)
    w["score_txt"] = display_number(w["score"], 0)
    return to_geojson(w)


@st.cache_data(show_spinner=False, max_entries=16)
def access_geojson(folder: str, stamp: str, profile: str) -> str:
    seg = compute.cached_accessibility(folder, stamp).segments
    g = seg[["name", "highway", f"verdict_{profile}", f"reason_{profile}", "geometry"]].rename(
        columns={f"verdict_{profile}": "verdict", f"reason_{profile}": "reason"})
    g["name"] = _name_or_placeholder(g["name"])
    g["oordeel"] = g["verdict"].map(VERDICT_NL).astype(object)
    return to_geojson(g)


EXPOSURE_LAYERS: dict[str, tuple[str, str, str]] = {
    "noise": ("noise", "lden_mean_db", "lden_db"),
    "air": ("air", "no2_mean_ugm3", "no2_ugm3"),
}
"""Map layer -> (family, catalogue key, per-home column) of the per-home noise and air layers."""


def _exposure_colour(v: Any, ind: Any) -> str:
    return ramp_color(v, float(ind.display.vmin), float(ind.display.vmax), ind.display.ramp)


@st.cache_data(show_spinner=False, max_entries=16)
def exposure_homes_geojson(folder: str, stamp: str, layer: str) -> str:
    """Home points with their noise or air level and its colour on the catalogue's fixed scale."""
    fam, key, col = EXPOSURE_LAYERS[layer]
    ind = catalogue_indicator(key)
    res = compute.cached_other_family(folder, stamp, fam)
    h = res.homes[[col, "geometry"]].copy()
    v = pd.to_numeric(h[col], errors="coerce").astype(float)
    h["kleur"] = [_exposure_colour(x, ind) for x in v]
    h["waarde"] = display_number(v, 1)
    return to_geojson(h[["kleur", "waarde", "geometry"]])


def exposure_legend(layer: str) -> str:
    """Legend of a noise or air layer: classes of the norms (5 dB; WHO/EU µg/m³) on the fixed scale."""
    fam, key, _ = EXPOSURE_LAYERS[layer]
    ind = catalogue_indicator(key)
    if fam == "noise":
        edges = [float(e) for e in load_norms("noise")["class_edges_lden_db"].value]
        unit, norm = "dB", ("noise", "who_road_lden_db")
    else:
        edges = [float(e) for e in load_norms("air")["no2_class_breaks_ugm3"].value]
        unit, norm = "µg/m³", ("air", "who_no2_ugm3")
    items = [(_exposure_colour(edges[0] - 1, ind), f"< {fmt_number(edges[0])} {unit}")]
    items += [(_exposure_colour((edges[i] + edges[i + 1]) / 2, ind), f"{fmt_number(edges[i])}–{fmt_number(edges[i + 1])} {unit}")
              for i in range(len(edges) - 1)]
    items += [(_exposure_colour(edges[-1] + 1, ind), f"≥ {fmt_number(edges[-1])} {unit}"), ("#bdbdbd", UNKNOWN)]
    return legend_html(ind.display.legend or ind.label, items) + source_html(compute.norm_source(*norm))


def _tooltip(fields: list[str], aliases: list[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(fields=fields, aliases=aliases)


def add_indicator_layer(key: str, folder: str, stamp: str, m: folium.Map, options: dict[str, str]) -> str | None:
    """Add one indicator layer to the map; return its legend HTML."""
    if key == "green_homes":
        folium.GeoJson(
            green_homes_geojson(folder, stamp), name="Groen op wandelafstand (woningen)",
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
            style_function=lambda f: {"fillColor": {1: "#1a9850", 0: "#d73027"}.get(f["properties"]["ok"], "#9e9e9e")},
        ).add_to(m)
        return legend_html("Woningen: publiek groen ≥ 0,5 ha binnen 300 m", [
            ("#1a9850", "ja"), ("#d73027", "nee"), ("#9e9e9e", UNKNOWN)]) + source_html(
            compute.norm_source("green", "who_distance_m"))
    if key in ("lts", "fietsstraten"):
        fiets = key == "fietsstraten"
        folium.GeoJson(
            lts_geojson(folder, stamp, fiets), name="Fietsstraten" if fiets else "Fietsstress (LTS)",
            style_function=(lambda f: {"color": "#6a1b9a", "weight": 6, "opacity": 0.9}) if fiets else
            (lambda f: {"color": LTS_COLORS.get(f["properties"]["lts"], "#bdbdbd"), "weight": 3, "opacity": 0.9}),
            tooltip=_tooltip(["name", "highway", "lts_txt", "snelheid"], ["Straat", "Type", "LTS", "km/u"]),
        ).add_to(m)
        if fiets:
            return legend_html("Fietsstraten", [("#6a1b9a", "fietsstraat")])
        return legend_html("Fietsstress (Level of Traffic Stress)", [
            (LTS_COLORS[1], "LTS 1 – voor iedereen, ook kinderen"), (LTS_COLORS[2], "LTS 2 – voor de meeste volwassenen"),
            (LTS_COLORS[3], "LTS 3 – enkel zelfzekere fietsers"), (LTS_COLORS[4], "LTS 4 – zeer stresserend"),
            ("#bdbdbd", "niet fietsbaar")]) + source_html(compute.norm_source("lts", "low_stress_max_lts"))
    if key == "stop":
        col = options.get("stop", "stop_s")
        reverse = col == "stop_p"
        folium.GeoJson(
            stop_choropleth_geojson(folder, stamp, col), name="STOP per wijk",
            style_function=lambda f: {"color": "#333", "weight": 1, "fillOpacity": 0.45,
                                      "fillColor": ramp_color(f["properties"]["score"], 0, 100, reverse=reverse)},
            tooltip=_tooltip(["wijk_naam", "score_txt"], ["Wijk", "Score (0–100)"]),
        ).add_to(m)
        return legend_html(f"STOP per wijk: {STOP_LABELS[col]}", [
            (ramp_color(0, 0, 100, reverse=reverse), "0" + (" (weinig auto)" if reverse else " (slecht)")),
            (ramp_color(50, 0, 100, reverse=reverse), "50"),
            (ramp_color(100, 0, 100, reverse=reverse), "100" + (" (autodominant)" if reverse else " (goed)"))])
    if key == "accessibility":
        prof = options.get("profile", "wheelchair")
        folium.GeoJson(
            access_geojson(folder, stamp, prof), name=f"Toegankelijkheid ({PROFILE_CHOICES[prof]})",
            style_function=lambda f: {"color": VERDICT_COLORS.get(f["properties"]["verdict"], "#9e9e9e"), "weight": 3},
            tooltip=_tooltip(["name", "oordeel", "reason"], ["Straat/pad", "Oordeel", "Reden"]),
        ).add_to(m)
        return legend_html(f"Looproutes voor {PROFILE_CHOICES[prof]}", [
            (VERDICT_COLORS["pass"], "voldoet"), (VERDICT_COLORS["fail"], "voldoet niet"),
            (VERDICT_COLORS["unknown"], "onbekend (gegevens ontbreken)")]) + source_html(
            compute.norm_source("accessibility", "network_min_width_m"))
    if key == "heat":
        img, bnds, breaks = heat_overlay(folder, stamp)
        folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Hitte", opacity=0.75).add_to(m)
        edges = [0.0] + breaks + [1.0]
        labels = [f"hitte-index {fmt_number(edges[i], 2)}–{fmt_number(edges[i + 1], 2)}" for i in range(len(edges) - 1)]
        return legend_html("Hitte op een zomerdag (klasse)", [
            (hex_rgb(HEAT_COLORS[i + 1]), labels[i]) for i in range(min(4, len(labels)))]) + source_html(
            compute.norm_source("heat", "heat_class_breaks"))
    if key in EXPOSURE_LAYERS:
        folium.GeoJson(
            exposure_homes_geojson(folder, stamp, key), name=dict((lyr.key, lyr.label) for lyr in MAP_LAYERS)[key],
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
            style_function=lambda f: {"fillColor": f["properties"]["kleur"]},
            tooltip=_tooltip(["waarde"], ["Lden (dB)" if key == "noise" else "NO2 (µg/m³)"]),
        ).add_to(m)
        return exposure_legend(key)
    if key == "water":
        img, bnds, p_mm = water_overlay(folder, stamp)
        folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Water", opacity=0.75).add_to(m)
        step = p_mm / 5
        items = [(hex_rgb(c), f"afstroming {fmt_number(i * step)}–{fmt_number((i + 1) * step)} mm")
                 for i, c in enumerate(WATER_COLORS)]
        items.append(("#78288c", "overstromingsgevoelig"))
        return legend_html(f"Water bij een bui van {fmt_number(p_mm)} mm", items) + source_html(
            compute.norm_source("water", "design_storm_depth_mm"))
    return None


def add_landcover_layer(folder: str, stamp: str, m: folium.Map) -> str | None:
    """The land-cover raster on the map; its legend, or None when the area has none."""
    ov = landcover_overlay(folder, stamp)
    if ov is None:
        return None
    img, bnds = ov
    folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Bodembedekking", opacity=0.8).add_to(m)
    return legend_html("Bodembedekking", [(hex_rgb(LANDCOVER_COLORS[c]), LANDCOVER_LABELS_NL[c]) for c in LANDCOVER_COLORS])


__all__ = ["MISSING", "MetricScale", "SafePopup", "SafeTooltip", "escape_frame", "make_map", "to_geojson"]
