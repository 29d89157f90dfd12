"""Gezonde Stad — the Streamlit app (user interface only; every analysis lives in the library).

Start it with ``streamlit run streamlit_app.py``; it opens on the synthetic demo town.

Pages (Dutch, nl-BE): Kaart per wijk, Screening, Toegankelijkheidstoets, Participatie, Export.
The study area is chosen in the sidebar (demo, a prepared folder, a place name via OSM, or an
uploaded OSM file). Heavy results are cached per study-area folder (and its manifest's
modification time) plus parameters, so switching pages never recomputes them.

Environment variables
---------------------
GEZONDESTAD_DB
    SQLite file of the participation remarks (default ``data/participatie/opmerkingen.sqlite``).
GEZONDESTAD_PIN
    PIN of the facilitator ("begeleider") section of the Participatie page. It can also be set as
    ``facilitator_pin`` in ``.streamlit/secrets.toml``; the default is ``gezond`` — change it
    before a public session.
GEZONDESTAD_CACHE
    Folder where study areas prepared from a place name or an OSM upload are cached
    (default ``~/.cache/gezondestad/areas``).

Modules written alongside the app are imported lazily inside functions, so the app starts even
while one of them is absent; a page then says "nog niet beschikbaar" for exactly that part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import importlib
import importlib.util
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from branca.element import MacroElement
from jinja2 import Template
from streamlit_folium import st_folium

REPO = Path(__file__).resolve().parent
WGS84 = "EPSG:4326"

st.set_page_config(page_title="Gezonde Stad", page_icon="🌳", layout="wide", initial_sidebar_state="expanded")

# ---------------------------------------------------------------------------------------------
# constants of the user interface (labels, limits of uploads) — no planning norms live here
# ---------------------------------------------------------------------------------------------

AREA_DEMO = "Demostad (demo)"
AREA_FOLDER = "Voorbereide map"
AREA_PLACE = "Plaatsnaam (OSM, internet nodig)"
AREA_OSM = "OSM-bestand (.osm/.pbf) uploaden"
AREA_MODES = (AREA_DEMO, AREA_FOLDER, AREA_PLACE, AREA_OSM)

THEME_NL: dict[str, str] = {
    "boundary": "Grens",
    "wijken": "Wijken",
    "buildings": "Gebouwen",
    "streets": "Straten en paden",
    "green": "Groen",
    "pois": "Voorzieningen (haltes, scholen, winkels…)",
    "water": "Water",
    "landuse": "Bodemgebruik",
    "landcover": "Bodembedekking (raster)",
}
STATUS_NL = {"present": "✅ aanwezig", "partial": "⚠️ gedeeltelijk", "missing": "❌ ontbreekt"}

MAX_OSM_UPLOAD_MB = 200
MAX_VECTOR_UPLOAD_MB = 50
VECTOR_UPLOAD_TYPES = (".gpkg", ".geojson", ".json", ".zip")
OSM_UPLOAD_TYPES = (".osm", ".pbf")

DEFAULT_FACILITATOR_PIN = "gezond"
NOT_AVAILABLE = "nog niet beschikbaar"

LANDCOVER_COLORS: dict[int, tuple[int, int, int]] = {
    1: (200, 60, 60),  # gebouw
    2: (150, 150, 150),  # verhard
    3: (170, 215, 120),  # laag groen
    4: (40, 120, 50),  # bomen
    5: (70, 130, 210),  # water
    6: (210, 180, 120),  # onverhard / braak
}
CATEGORY_COLORS: dict[str, str] = {
    "hier is het te heet": "#e53935",
    "onveilig oversteken": "#fb8c00",
    "te weinig groen": "#43a047",
    "slecht toegankelijk": "#8e24aa",
    "fietsen voelt onveilig": "#6d4c41",
    "wateroverlast": "#1e88e5",
    "plek om elkaar te ontmoeten": "#00acc1",
    "andere": "#757575",
}


# ---------------------------------------------------------------------------------------------
# helpers: lazy modules, errors in Dutch, uploads
# ---------------------------------------------------------------------------------------------


def module_present(name: str) -> bool:
    """True when the module's file exists (a lazily imported part of the library)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # parent package absent
        return False


def lazy_import(name: str) -> Any | None:
    """Import ``name`` when present; None only when the module really is absent."""
    if not module_present(name):
        return None
    return importlib.import_module(name)


def not_available(what: str, module: str) -> None:
    st.info(f"**{what}**: {NOT_AVAILABLE} (de module `{module}` is nog niet aanwezig in deze versie).")


def show_error(context_nl: str, exc: BaseException) -> None:
    """A library error as a Dutch message (the library's own explanation follows as detail)."""
    nl = getattr(exc, "nl", None)
    if nl:
        st.error(f"{context_nl}: {nl}")
    else:
        st.error(f"{context_nl}. Details: {exc}")


@dataclass
class UploadCheck:
    ok: bool
    path: Path | None = None
    message_nl: str = ""


def _suffix(name: str) -> str:
    n = name.lower()
    if n.endswith(".osm.pbf"):
        return ".pbf"
    return Path(n).suffix


def check_upload(uploaded: Any, allowed: tuple[str, ...], max_mb: float) -> UploadCheck:
    """Check an uploaded file (type, size, first bytes) and write it to a temporary file.

    Returns an :class:`UploadCheck` with a Dutch message when the file is refused.
    """
    name = str(getattr(uploaded, "name", "bestand"))
    suffix = _suffix(name)
    if suffix not in allowed:
        return UploadCheck(
            False,
            message_nl=f"‘{name}’ heeft een bestandstype dat hier niet past ({suffix or 'geen extensie'}). "
            f"Toegelaten: {', '.join(allowed)}.",
        )
    size = int(getattr(uploaded, "size", 0) or 0)
    if size > max_mb * 1024 * 1024:
        return UploadCheck(False, message_nl=f"‘{name}’ is {size / 1024 / 1024:.0f} MB; maximaal {max_mb:.0f} MB.")
    data = uploaded.getvalue()
    if len(data) == 0:
        return UploadCheck(False, message_nl=f"‘{name}’ is leeg.")
    head = data[:64]
    sniff_fail = {
        ".gpkg": not head.startswith(b"SQLite format 3\x00"),
        ".zip": not head.startswith(b"PK\x03\x04"),
        ".osm": b"<osm" not in data[:4096] and b"<?xml" not in head,
    }
    if sniff_fail.get(suffix, False):
        kind = {".gpkg": "GeoPackage", ".zip": "zip-bestand", ".osm": "OSM-XML-bestand"}[suffix]
        return UploadCheck(False, message_nl=f"‘{name}’ is geen geldig {kind} (de inhoud klopt niet met de extensie).")
    if suffix in (".geojson", ".json"):
        try:
            json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return UploadCheck(False, message_nl=f"‘{name}’ is geen geldig GeoJSON-bestand (de JSON is onleesbaar).")
    tmpdir = Path(tempfile.mkdtemp(prefix="gezondestad-upload-"))
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[-80:] or f"upload{suffix}"
    path = tmpdir / safe
    path.write_bytes(data)
    return UploadCheck(True, path=path)


def read_uploaded_vector(uploaded: Any, expected_columns: tuple[str, ...] | None = None) -> gpd.GeoDataFrame | None:
    """Check and read an uploaded vector file through ``layers.validate``; Dutch errors, never raises."""
    chk = check_upload(uploaded, VECTOR_UPLOAD_TYPES, MAX_VECTOR_UPLOAD_MB)
    if not chk.ok:
        st.error(chk.message_nl)
        return None
    validate = lazy_import("gezondestad.layers.validate")
    try:
        if validate is not None:
            layer = validate.read_vector(chk.path, expected_columns=expected_columns)
            if layer.repairs and any(layer.repairs.values()):
                rep = ", ".join(f"{k}: {v}" for k, v in layer.repairs.items() if v)
                st.warning(f"Het bestand werd hersteld ({rep}).")
            gdf = layer.gdf
        else:  # pragma: no cover - only while layers.validate is absent
            gdf = gpd.read_file(chk.path)
            if gdf.crs is None:
                raise ValueError("het bestand heeft geen coördinatenstelsel (CRS)")
            gdf = gdf.to_crs("EPSG:31370")
    except Exception as exc:  # every reading problem becomes one Dutch message
        st.error(
            f"‘{uploaded.name}’ kon niet gelezen worden als kaartlaag. Controleer of het een geldige GeoPackage, "
            f"GeoJSON of gezipte shapefile is met een coördinatenstelsel. Details: {exc}"
        )
        return None
    if len(gdf) == 0:
        st.error(f"‘{uploaded.name}’ bevat geen enkele geometrie.")
        return None
    return gdf


# ---------------------------------------------------------------------------------------------
# the study area (cached per folder + manifest modification time)
# ---------------------------------------------------------------------------------------------


def area_stamp(folder: str) -> float:
    """Modification time of the folder's manifest: part of every cache key."""
    try:
        return (Path(folder) / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(show_spinner="Demostad klaarzetten…")
def demo_folder() -> str:
    from gezondestad.layers.demo import demo_area_dir

    return str(demo_area_dir())


@st.cache_resource(show_spinner="Studiegebied laden…", max_entries=4)
def load_area(folder: str, stamp: float) -> Any:
    """The StudyArea of ``folder`` (shared between sessions; treat as read-only)."""
    from gezondestad.layers.studyarea import load_study_area

    return load_study_area(folder)


def current_area() -> tuple[str, float, Any]:
    folder = st.session_state.get("area_dir") or demo_folder()
    stamp = area_stamp(folder)
    return folder, stamp, load_area(folder, stamp)


def areas_cache_dir() -> Path:
    env = os.environ.get("GEZONDESTAD_CACHE", "").strip()
    return Path(env) if env else Path.home() / ".cache" / "gezondestad" / "areas"


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "gebied"
    return f"{s}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


def prepare_and_cache(label: str, **kwargs: Any) -> str | None:
    """Run ``layers.prepare.prepare_from_args`` and cache the result; a Dutch error on failure."""
    prepare = lazy_import("gezondestad.layers.prepare")
    if prepare is None:
        not_available("Voorbereiden", "gezondestad.layers.prepare")
        return None
    from gezondestad.layers.studyarea import save_study_area

    target = areas_cache_dir() / _slug(label)
    with st.status(f"Studiegebied ‘{label}’ voorbereiden…", expanded=True) as status:
        try:
            st.write("Gegevens ophalen en omzetten naar het model (Lambert 72)…")
            area = prepare.prepare_from_args(**kwargs)
            st.write(f"{len(area.wijken)} wijken, {len(area.streets)} straatsegmenten, {len(area.buildings)} gebouwen.")
            st.write("Opslaan in de cache…")
            save_study_area(area, target)
        except Exception as exc:
            status.update(label="Voorbereiden mislukt", state="error")
            show_error(f"Het studiegebied ‘{label}’ kon niet voorbereid worden", exc)
            return None
        status.update(label=f"‘{label}’ is klaar", state="complete", expanded=False)
    return str(target)


def sidebar_study_area() -> None:
    """The study-area chooser in the sidebar."""
    sb = st.sidebar
    sb.markdown("### Studiegebied")
    mode = sb.radio("Bron", AREA_MODES, key="area_mode", label_visibility="collapsed")
    if mode == AREA_DEMO:
        st.session_state["area_dir"] = demo_folder()
    elif mode == AREA_FOLDER:
        folder = sb.text_input("Pad naar een voorbereide map", key="area_folder_input",
                               help="Een map gemaakt met `gezondestad prepare … --out MAP`.")
        if sb.button("Map laden", key="area_folder_btn"):
            from gezondestad.layers.studyarea import is_study_area_dir

            p = Path(folder.strip()).expanduser()
            if not folder.strip():
                sb.error("Geef eerst het pad naar een map op.")
            elif not p.is_dir():
                sb.error(f"De map ‘{p}’ bestaat niet.")
            elif not is_study_area_dir(p):
                sb.error(
                    f"‘{p}’ is geen voorbereid studiegebied (studyarea.gpkg en manifest.json ontbreken). "
                    "Maak er een met `gezondestad prepare … --out MAP`."
                )
            else:
                try:
                    load_area(str(p.resolve()), area_stamp(str(p.resolve())))
                    st.session_state["area_dir"] = str(p.resolve())
                except Exception as exc:
                    with sb:
                        show_error("Deze map kon niet geladen worden", exc)
    elif mode == AREA_PLACE:
        place = sb.text_input("Plaatsnaam", key="area_place_input", placeholder="Mechelen, Belgium")
        if sb.button("Voorbereiden via OpenStreetMap", key="area_place_btn"):
            if not place.strip():
                sb.error("Geef eerst een plaatsnaam op, bv. ‘Mechelen, Belgium’.")
            else:
                with sb:
                    out = prepare_and_cache(place.strip(), place=place.strip())
                if out:
                    st.session_state["area_dir"] = out
    elif mode == AREA_OSM:
        up = sb.file_uploader(f"OSM-bestand (max. {MAX_OSM_UPLOAD_MB} MB)", key="area_osm_upload")
        if up is not None and sb.button("Voorbereiden uit dit bestand", key="area_osm_btn"):
            chk = check_upload(up, OSM_UPLOAD_TYPES, MAX_OSM_UPLOAD_MB)
            if not chk.ok:
                sb.error(chk.message_nl)
            else:
                with sb:
                    out = prepare_and_cache(up.name, osm_file=chk.path)
                if out:
                    st.session_state["area_dir"] = out
    try:
        folder, stamp, area = current_area()
    except Exception as exc:  # the chosen folder broke: fall back to the demo, keep the session
        with sb:
            show_error("Het gekozen studiegebied kon niet geladen worden; terug naar de demostad", exc)
        st.session_state["area_dir"] = demo_folder()
        folder, stamp, area = current_area()
    sb.success(f"Actief: **{area.name}** — {len(area.wijken)} wijken")
    if area.manifest.get("synthetic"):
        sb.caption("Synthetische gegevens (demo).")


def synthetic_banner(area: Any) -> None:
    if area.manifest.get("synthetic"):
        st.warning("**Let op: dit is een synthetische demostad, geen echte gegevens.**", icon=":material/warning:")


def manifest_table(area: Any) -> pd.DataFrame:
    """The manifest per theme, in Dutch."""
    rows = []
    for _, r in area.summary().iterrows():
        rows.append(
            {
                "Thema": THEME_NL.get(r["theme"], r["theme"]),
                "Status": STATUS_NL.get(r["status"], r["status"]),
                "Aantal": int(r["count"]),
                "Bron": r["source"],
                "Datum": r["date"],
                "Herstellingen": r["repairs"],
                "Opmerking": r["note"],
            }
        )
    lc = area.landcover
    rows.append(
        {
            "Thema": THEME_NL["landcover"],
            "Status": STATUS_NL["present"] if lc is not None else STATUS_NL["missing"],
            "Aantal": int(lc.classes.size) if lc is not None else 0,
            "Bron": "afgeleid uit de vectorthema's (gezondestad.model.landcover)" if lc is not None else "",
            "Datum": "",
            "Herstellingen": "",
            "Opmerking": f"cellen van {lc.resolution_m:g} m" if lc is not None else "",
        }
    )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# map helpers (WGS84 only here, at the edge)
# ---------------------------------------------------------------------------------------------


def _escape_columns(gdf: gpd.GeoDataFrame, cols: list[str]) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for c in cols:
        if c in out.columns:
            out[c] = out[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else html.escape(str(v)))
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def theme_geojson(folder: str, stamp: float, theme: str, columns: tuple[str, ...], simplify_m: float = 0.0) -> str:
    """One theme as GeoJSON in WGS84 (text columns HTML-escaped for tooltips)."""
    area = load_area(folder, stamp)
    gdf = area.themes[theme]
    keep = [c for c in columns if c in gdf.columns]
    g = gdf[keep + ["geometry"]].copy()
    if simplify_m > 0:
        g["geometry"] = g.geometry.simplify(simplify_m)
    g = _escape_columns(g, [c for c in keep if g[c].dtype == object])
    return g.to_crs(WGS84).to_json(drop_id=True)


@st.cache_data(show_spinner=False, max_entries=16)
def area_bounds_wgs84(folder: str, stamp: float) -> list[list[float]]:
    area = load_area(folder, stamp)
    src = area.boundary if len(area.boundary) else area.wijken
    x0, y0, x1, y1 = src.to_crs(WGS84).total_bounds
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def raster_rgba_wgs84(
    classes: np.ndarray, transform: Any, colors: dict[int, tuple[int, int, int]], alpha: int = 170
) -> tuple[np.ndarray, list[list[float]]]:
    """Colour a class raster and warp it to WGS84 for a folium ImageOverlay (display only)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    h, w = classes.shape
    left, top = transform.c, transform.f
    right, bottom = left + w * transform.a, top + h * transform.e
    dst_t, dw, dh = calculate_default_transform("EPSG:31370", WGS84, w, h, left, bottom, right, top)
    dst = np.zeros((dh, dw), dtype=classes.dtype)
    reproject(classes, dst, src_transform=transform, src_crs="EPSG:31370", dst_transform=dst_t, dst_crs=WGS84,
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
def landcover_overlay(folder: str, stamp: float) -> tuple[np.ndarray, list[list[float]]] | None:
    area = load_area(folder, stamp)
    if area.landcover is None:
        return None
    return raster_rgba_wgs84(area.landcover.classes, area.landcover.transform, LANDCOVER_COLORS)


def legend_html(title: str, items: list[tuple[str, str]]) -> str:
    """A small legend (fixed colours and fixed Dutch labels only)."""
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:6px;margin:2px 0">'
        f'<span style="width:16px;height:12px;background:{c};display:inline-block;border:1px solid #555"></span>'
        f"{html.escape(label)}</div>"
        for c, label in items
    )
    return f'<div style="font-size:14px;margin-bottom:8px"><b>{html.escape(title)}</b>{rows}</div>'


LEAFLET_JS = "/app/static/leaflet/leaflet.min.js"
LEAFLET_CSS = "/app/static/leaflet/leaflet.css"
# Leaflet is served by the app itself (static/leaflet, Debian's libjs-leaflet 1.7.1, BSD-2): the maps
# must work offline on a fresh machine, so no CDN script is loaded (only the background tiles need
# internet; without it the layers are drawn on a plain background).


def _js_string(text: str) -> str:
    """A JavaScript string literal of ``text`` that is safe inside an inline <script>."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class SafePopup(MacroElement):
    """A Leaflet popup whose (already escaped) HTML travels as a JSON string literal.

    folium's own Popup pastes HTML into a JavaScript template literal and needs jQuery; with user
    text that is both an injection risk (backticks, ``${``) and a CDN dependency.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.content }}, {{ this.options }});
        {% endmacro %}"""
    )

    def __init__(self, html_content: str, max_width_px: int = 320) -> None:
        super().__init__()
        self._name = "SafePopup"
        self.content = _js_string(html_content)
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
        self.content = _js_string(html.escape(str(text)))


MAP_CSS = "<style>.leaflet-container { background: #f4f3ee; }</style>"


def make_map(bounds: list[list[float]], tiles: bool = True, canvas: bool = True) -> folium.Map:
    """A folium map that loads only the app's own Leaflet (no CDN plugins, no awesome-markers).

    ``canvas`` draws vectors on one canvas (fast for many features); without it every feature
    is an SVG element (markers that can be found and clicked individually).
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=canvas, zoom_snap=0.25, zoom_delta=0.5)
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    m.get_root().header.add_child(folium.Element(MAP_CSS))
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Achtergrond (OpenStreetMap, internet nodig)", control=True).add_to(m)
    m.fit_bounds(bounds)
    return m


# ---------------------------------------------------------------------------------------------
# indicators: computed by the library, cached per study-area folder (+ manifest time)
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Woningen en inwoners bepalen…", max_entries=4)
def cached_homes(folder: str, stamp: float) -> gpd.GeoDataFrame:
    from gezondestad.spatial.aggregate import home_points

    return home_points(load_area(folder, stamp))


@st.cache_resource(show_spinner="Groen, fietsen en STOP berekenen (netwerkanalyse)…", max_entries=4)
def cached_network(folder: str, stamp: float) -> Any:
    from gezondestad.spatial.indicators import network_indicators

    return network_indicators(load_area(folder, stamp), homes=cached_homes(folder, stamp))


@st.cache_resource(show_spinner="Toegankelijkheid van looproutes berekenen…", max_entries=4)
def cached_accessibility(folder: str, stamp: float) -> Any:
    from gezondestad.spatial.accessibility import accessibility_indicators

    return accessibility_indicators(load_area(folder, stamp), homes=cached_homes(folder, stamp))


def _need_landcover(area: Any) -> None:
    if area.landcover is None:
        from gezondestad.model.studyarea import StudyAreaError

        raise StudyAreaError(f"Study area '{area.name}' has no land-cover raster; prepare it again to derive one.")


@st.cache_resource(show_spinner="Hittekaart berekenen (InVEST Urban Cooling)…", max_entries=4)
def cached_heat(folder: str, stamp: float) -> Any:
    from gezondestad.spatial.heat import heat_layer

    area = load_area(folder, stamp)
    _need_landcover(area)
    return heat_layer(area.landcover, area.wijken, homes=cached_homes(folder, stamp))


@st.cache_resource(show_spinner="Waterkaart berekenen (afstroming, overstromingsgevoelig)…", max_entries=4)
def cached_water(folder: str, stamp: float) -> Any:
    from gezondestad.spatial.water import water_layer

    area = load_area(folder, stamp)
    _need_landcover(area)
    return water_layer(area.landcover, area.wijken, water=area.water if area.has("water") else None,
                       homes=cached_homes(folder, stamp))


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    module: str
    compute: Callable[[str, float], Any]


FAMILIES: dict[str, Family] = {
    "network": Family("network", "Groen, fietsen en STOP", "gezondestad.spatial.indicators", cached_network),
    "accessibility": Family("accessibility", "Toegankelijkheid", "gezondestad.spatial.accessibility", cached_accessibility),
    "heat": Family("heat", "Hitte", "gezondestad.spatial.heat", cached_heat),
    "water": Family("water", "Water", "gezondestad.spatial.water", cached_water),
}


def family_result(key: str, folder: str, stamp: float, quiet: bool = False) -> Any | None:
    """The cached result of one indicator family, or None (with a Dutch message) when unavailable."""
    fam = FAMILIES[key]
    if not module_present(fam.module):
        if not quiet:
            not_available(fam.label, fam.module)
        return None
    try:
        return fam.compute(folder, stamp)
    except Exception as exc:  # missing themes etc.: a message, the rest of the page keeps working
        if not quiet:
            show_error(f"{fam.label} kon niet berekend worden voor dit studiegebied", exc)
        return None


@dataclass(frozen=True)
class WijkIndicator:
    """One per-wijk number on the wijk card and in the comparison chart."""

    family: str
    column: str
    label: str
    unit: str  # "%", "m²", "km", "/100", "°C", "mm", "index"
    explain: str
    norm: tuple[str, str] | None = None


WIJK_INDICATORS: tuple[WijkIndicator, ...] = (
    WijkIndicator("network", "green_300m_05ha_share", "Inwoners met publiek groen (≥ 0,5 ha) binnen 300 m wandelen", "%",
                  "Deel van de inwoners dat langs straten en paden binnen 300 m een publieke groene ruimte van minstens "
                  "0,5 ha bereikt (WHO-richtlijn).", ("green", "who_distance_m")),
    WijkIndicator("network", "green_per_resident_m2", "Publiek groen per inwoner", "m²",
                  "Oppervlakte publiek toegankelijk groen in de wijk, gedeeld door het aantal inwoners.",
                  ("green", "public_green_kinds")),
    WijkIndicator("network", "canopy_share", "Boomkroonbedekking", "%",
                  "Deel van de wijk onder bomen volgens de bodembedekkingskaart (enkel gekarteerde bossen en bomenrijen; "
                  "straat- en tuinbomen ontbreken vaak). De 3-30-300-regel vraagt 30 %.",
                  ("green", "rule_3_30_300_canopy_share")),
    WijkIndicator("network", "lts12_share_length", "Fietsbare straten met lage stress (LTS 1–2)", "%",
                  "Deel van de fietsbare straatlengte waar een gewone volwassene zich veilig voelt (Level of Traffic "
                  "Stress 1 of 2, uit snelheid, rijstroken en fietsinfrastructuur).", ("lts", "low_stress_max_lts")),
    WijkIndicator("network", "centre_lts12_share", "Inwoners die het centrum met lage fietsstress bereiken", "%",
                  "Deel van de inwoners dat het centrum per fiets bereikt over straten met LTS 1–2, met beperkte omweg.",
                  ("lts", "max_detour_ratio")),
    WijkIndicator("network", "fietsstraat_km", "Fietsstraten", "km",
                  "Lengte aan fietsstraten in de wijk (auto's mogen fietsers niet inhalen, maximaal 30 km/u).",
                  ("screening", "fietsstraat_maxspeed")),
    WijkIndicator("network", "stop_s", "STOP – Stappers (S)", "/100",
                  "Hoeveel van de dagelijkse bestemmingen (winkel, school, huisarts/apotheek, park, bushalte) inwoners "
                  "binnen 10 minuten wandelen bereiken.", ("stop", "walk_minutes")),
    WijkIndicator("network", "stop_t", "STOP – Trappers (T)", "/100",
                  "Bereikbaarheid van centrum en school met lage fietsstress, en het aandeel laag-stress straten.",
                  ("stop", "t_weight_centre")),
    WijkIndicator("network", "stop_o", "STOP – Openbaar vervoer (O)", "/100",
                  "Inwoners binnen 400 m wandelen van een bus- of tramhalte en binnen 800 m van een station.",
                  ("stop", "o_bus_distance_m")),
    WijkIndicator("network", "stop_p", "STOP – Privé-auto (P; hoger = meer autodominantie)", "/100",
                  "Aandeel straten waar sneller dan 50 km/u mag en oppervlakte parkeren. Volgens het STOP-principe "
                  "hoort P het laagst te scoren.", ("stop", "p_speed_above_kmh")),
    WijkIndicator("accessibility", "wheelchair_pass_share", "Looproutes die voldoen voor een rolstoel", "%",
                  "Deel van de wandelbare lengte waar breedte, helling, verharding en boordstenen volgens de gegevens "
                  "voldoen.", ("accessibility", "network_min_width_m")),
    WijkIndicator("accessibility", "wheelchair_unknown_share", "Looproutes zonder oordeel (gegevens ontbreken)", "%",
                  "Deel van de wandelbare lengte waarvoor breedte, helling of verharding niet gekend is.",
                  ("accessibility", "network_min_width_m")),
    WijkIndicator("accessibility", "wheelchair_reach_bus_stop", "Inwoners die een bushalte bereiken met de rolstoel", "%",
                  "Deel van de inwoners dat een bushalte bereikt over looproutes die voldoen voor een rolstoel.",
                  ("accessibility", "reach_bus_stop_m")),
    WijkIndicator("heat", "heat_index_mean", "Hitte-index (gemiddeld, 0 = koel, 1 = heet)", "index",
                  "Uit schaduw, weerkaatsing (albedo) en verdamping van de bodembedekking en de koeling door grote "
                  "parken (InVEST Urban Cooling-model).", ("heat", "cc_weight_shade")),
    WijkIndicator("heat", "t_air_mean", "Geschatte luchttemperatuur op een hittedag", "°C",
                  "Referentietemperatuur plus het berekende hitte-eilandeffect.", ("heat", "t_ref_c")),
    WijkIndicator("heat", "residents_hot_share", "Inwoners in de heetste klasse", "%",
                  "Deel van de inwoners dat woont in cellen van de heetste hitteklasse.", ("heat", "heat_class_breaks")),
    WijkIndicator("water", "runoff_mm_mean", "Afstroming bij een zware bui", "mm",
                  "Gemiddelde neerslag die niet in de bodem dringt maar afstroomt bij de ontwerpbui (SCS-curvenummer).",
                  ("water", "design_storm_depth_mm")),
    WijkIndicator("water", "impervious_share", "Verharde oppervlakte", "%",
                  "Deel van de wijk bebouwd of verhard (volgens de bodembedekkingskaart).", ("water", "impervious_classes")),
    WijkIndicator("water", "residents_flood_prone_share", "Inwoners in een overstromingsgevoelige zone", "%",
                  "Deel van de inwoners dat woont langs waterlopen of in lage, overstromingsgevoelige delen.",
                  ("water", "flood_buffer_m")),
)


def fmt_value(v: Any, unit: str) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "onbekend"
    if not np.isfinite(f):
        return "onbekend"
    if unit == "%":
        return f"{100 * f:.0f} %"
    if unit == "/100":
        return f"{f:.0f} / 100"
    if unit == "index":
        return f"{f:.2f}"
    if unit in ("km",):
        return f"{f:.1f} km"
    if unit == "°C":
        return f"{f:.1f} °C"
    return f"{f:.0f} {unit}"


def per_wijk_tables(folder: str, stamp: float) -> dict[str, pd.DataFrame]:
    """The per-wijk table of every family that is available (quietly skipping the others)."""
    out = {}
    for key in FAMILIES:
        res = family_result(key, folder, stamp, quiet=True)
        if res is not None and isinstance(getattr(res, "per_wijk", None), pd.DataFrame) and len(res.per_wijk):
            out[key] = res.per_wijk
    return out


def indicator_table(folder: str, stamp: float, base: pd.DataFrame) -> tuple[pd.DataFrame, list[WijkIndicator]]:
    """Base facts + every available per-wijk indicator, one row per wijk."""
    tables = per_wijk_tables(folder, stamp)
    out = base.copy()
    avail: list[WijkIndicator] = []
    for ind in WIJK_INDICATORS:
        t = tables.get(ind.family)
        if t is None or ind.column not in t.columns:
            continue
        out[ind.column] = out["wijk_code"].map(dict(zip(t["wijk_code"].astype(str), t[ind.column])))
        avail.append(ind)
    return out, avail


# --- map layers of the indicators --------------------------------------------------------------

LTS_COLORS = {1: "#1a9850", 2: "#a6d96a", 3: "#fdae61", 4: "#d73027"}
VERDICT_COLORS = {"pass": "#1a9850", "unknown": "#9e9e9e", "fail": "#d73027"}
HEAT_COLORS = {1: (255, 255, 178), 2: (254, 204, 92), 3: (253, 141, 60), 4: (227, 26, 28)}
PROFILE_CHOICES = {"wheelchair": "rolstoel", "walker": "rollator / kinderwagen", "blind": "blind / slechtziend"}


@st.cache_data(show_spinner=False, max_entries=16)
def green_homes_geojson(folder: str, stamp: float) -> str:
    res = cached_network(folder, stamp)
    h = res.homes[["green_300m_05ha", "geometry"]].copy()
    h["ok"] = h["green_300m_05ha"].astype(float).fillna(-1).astype(int)
    return h[["ok", "geometry"]].to_crs(WGS84).to_json(drop_id=True)


@st.cache_data(show_spinner=False, max_entries=16)
def lts_geojson(folder: str, stamp: float, only_fietsstraat: bool) -> str:
    seg = cached_network(folder, stamp).segments
    if only_fietsstraat:
        seg = seg[seg["fietsstraat"].astype(bool)]
    g = seg[["name", "highway", "lts", "maxspeed_kmh", "geometry"]].copy()
    g["lts"] = g["lts"].astype(float).fillna(0).astype(int)
    g["maxspeed_kmh"] = g["maxspeed_kmh"].astype(float).round(0)
    g = _escape_columns(g, ["name", "highway"])
    return g.to_crs(WGS84).to_json(drop_id=True)


@st.cache_data(show_spinner=False, max_entries=16)
def stop_choropleth_geojson(folder: str, stamp: float, column: str) -> str:
    area = load_area(folder, stamp)
    per = cached_network(folder, stamp).per_wijk
    w = area.wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    w["score"] = w["wijk_code"].astype(str).map(dict(zip(per["wijk_code"].astype(str), per[column]))).astype(float).round(0)
    w = _escape_columns(w, ["wijk_code", "wijk_naam"])
    return w.to_crs(WGS84).to_json(drop_id=True)


@st.cache_data(show_spinner=False, max_entries=16)
def access_geojson(folder: str, stamp: float, profile: str) -> str:
    seg = cached_accessibility(folder, stamp).segments
    g = seg[["name", "highway", f"verdict_{profile}", f"reason_{profile}", "geometry"]].rename(
        columns={f"verdict_{profile}": "verdict", f"reason_{profile}": "reason"})
    g = _escape_columns(g, ["name", "highway", "reason"])
    g["oordeel"] = g["verdict"].map({"pass": "voldoet", "fail": "voldoet niet", "unknown": "onbekend"})
    return g.to_crs(WGS84).to_json(drop_id=True)


def _ramp(value: float, lo: float, hi: float, reverse: bool = False) -> str:
    """Colour of a 0-100 style score on a red-yellow-green ramp (display only)."""
    import matplotlib

    if not np.isfinite(value):
        return "#bdbdbd"
    t = (value - lo) / (hi - lo) if hi > lo else 0.5
    t = float(np.clip(1 - t if reverse else t, 0, 1))
    return matplotlib.colors.to_hex(matplotlib.colormaps["RdYlGn"](t))


@st.cache_data(show_spinner="Hittekaart tekenen…", max_entries=8)
def heat_overlay(folder: str, stamp: float) -> tuple[np.ndarray, list[list[float]], list[float]]:
    res = cached_heat(folder, stamp)
    img, bnds = raster_rgba_wgs84(res.heat_class.astype(np.uint8), res.landcover.transform, HEAT_COLORS, alpha=150)
    return img, bnds, [float(b) for b in res.params.heat_class_breaks]


@st.cache_data(show_spinner="Waterkaart tekenen…", max_entries=8)
def water_overlay(folder: str, stamp: float) -> tuple[np.ndarray, list[list[float]], float]:
    """Runoff depth as 5 equal shares of the design storm (display classes) and flood-prone cells on top."""
    res = cached_water(folder, stamp)
    p_mm = float(res.params.design_storm_depth_mm)
    q = np.nan_to_num(res.runoff_mm, nan=-1.0)
    cls = np.where(q < 0, 0, np.clip(np.floor(q / p_mm * 5), 0, 4) + 1).astype(np.uint8)
    cls[np.asarray(res.flood_prone, dtype=bool)] = 6
    colors = {1: (239, 243, 255), 2: (189, 215, 231), 3: (107, 174, 214), 4: (49, 130, 189), 5: (8, 81, 156),
              6: (120, 40, 140)}
    img, bnds = raster_rgba_wgs84(cls, res.landcover.transform, colors, alpha=160)
    return img, bnds, p_mm


def add_indicator_layer(key: str, folder: str, stamp: float, m: folium.Map, options: dict[str, str]) -> str | None:
    """Add one indicator layer to the map; return its legend HTML."""
    if key == "green_homes":
        folium.GeoJson(
            green_homes_geojson(folder, stamp), name="Groen op wandelafstand (woningen)",
            marker=folium.CircleMarker(radius=3, weight=0, fill=True, fill_opacity=0.85),
            style_function=lambda f: {"fillColor": {1: "#1a9850", 0: "#d73027"}.get(f["properties"]["ok"], "#9e9e9e")},
        ).add_to(m)
        src = norm_source("green", "who_distance_m")
        return legend_html("Woningen: publiek groen ≥ 0,5 ha binnen 300 m", [
            ("#1a9850", "ja"), ("#d73027", "nee"), ("#9e9e9e", "onbekend")]) + _src_html(src)
    if key in ("lts", "fietsstraten"):
        fiets = key == "fietsstraten"
        folium.GeoJson(
            lts_geojson(folder, stamp, fiets), name="Fietsstraten" if fiets else "Fietsstress (LTS)",
            style_function=(lambda f: {"color": "#6a1b9a", "weight": 6, "opacity": 0.9}) if fiets else
            (lambda f: {"color": LTS_COLORS.get(f["properties"]["lts"], "#bdbdbd"), "weight": 3, "opacity": 0.9}),
            tooltip=folium.GeoJsonTooltip(fields=["name", "highway", "lts", "maxspeed_kmh"],
                                          aliases=["Straat", "Type", "LTS", "km/u"]),
        ).add_to(m)
        if fiets:
            return legend_html("Fietsstraten", [("#6a1b9a", "fietsstraat")])
        return legend_html("Fietsstress (Level of Traffic Stress)", [
            (LTS_COLORS[1], "LTS 1 – voor iedereen, ook kinderen"), (LTS_COLORS[2], "LTS 2 – voor de meeste volwassenen"),
            (LTS_COLORS[3], "LTS 3 – enkel zelfzekere fietsers"), (LTS_COLORS[4], "LTS 4 – zeer stresserend"),
            ("#bdbdbd", "niet fietsbaar")]) + _src_html(norm_source("lts", "low_stress_max_lts"))
    if key == "stop":
        col = options.get("stop", "stop_s")
        reverse = col == "stop_p"
        folium.GeoJson(
            stop_choropleth_geojson(folder, stamp, col), name="STOP per wijk",
            style_function=lambda f: {"color": "#333", "weight": 1, "fillOpacity": 0.45,
                                      "fillColor": _ramp(float(f["properties"]["score"] if f["properties"]["score"] is not None else np.nan), 0, 100, reverse)},
            tooltip=folium.GeoJsonTooltip(fields=["wijk_naam", "score"], aliases=["Wijk", "Score (0–100)"]),
        ).add_to(m)
        lo, hi = ("slecht", "goed")
        return legend_html(f"STOP per wijk: {STOP_LABELS[col]}", [
            (_ramp(0, 0, 100, reverse), "0" + (" (weinig auto)" if reverse else f" ({lo})")),
            (_ramp(50, 0, 100, reverse), "50"),
            (_ramp(100, 0, 100, reverse), "100" + (" (autodominant)" if reverse else f" ({hi})"))])
    if key == "accessibility":
        prof = options.get("profile", "wheelchair")
        folium.GeoJson(
            access_geojson(folder, stamp, prof), name=f"Toegankelijkheid ({PROFILE_CHOICES[prof]})",
            style_function=lambda f: {"color": VERDICT_COLORS.get(f["properties"]["verdict"], "#9e9e9e"), "weight": 3},
            tooltip=folium.GeoJsonTooltip(fields=["name", "oordeel", "reason"], aliases=["Straat/pad", "Oordeel", "Reden"]),
        ).add_to(m)
        return legend_html(f"Looproutes voor {PROFILE_CHOICES[prof]}", [
            (VERDICT_COLORS["pass"], "voldoet"), (VERDICT_COLORS["fail"], "voldoet niet"),
            (VERDICT_COLORS["unknown"], "onbekend (gegevens ontbreken)")]) + _src_html(
            norm_source("accessibility", "network_min_width_m"))
    if key == "heat":
        img, bnds, breaks = heat_overlay(folder, stamp)
        folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Hitte", opacity=0.75).add_to(m)
        edges = [0.0] + breaks + [1.0]
        labels = [f"hitte-index {edges[i]:.2f}–{edges[i + 1]:.2f}" for i in range(len(edges) - 1)]
        return legend_html("Hitte op een zomerdag (klasse)", [
            ("#%02x%02x%02x" % HEAT_COLORS[i + 1], labels[i]) for i in range(min(4, len(labels)))]) + _src_html(
            norm_source("heat", "heat_class_breaks"))
    if key == "water":
        img, bnds, p_mm = water_overlay(folder, stamp)
        folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Water", opacity=0.75).add_to(m)
        step = p_mm / 5
        items = [("#%02x%02x%02x" % c, f"afstroming {i * step:.0f}–{(i + 1) * step:.0f} mm")
                 for i, c in enumerate([(239, 243, 255), (189, 215, 231), (107, 174, 214), (49, 130, 189), (8, 81, 156)])]
        items.append(("#78288c", "overstromingsgevoelig"))
        return legend_html(f"Water bij een bui van {p_mm:.0f} mm", items) + _src_html(
            norm_source("water", "design_storm_depth_mm"))
    return None


STOP_LABELS = {"stop_s": "S – stappers", "stop_t": "T – trappers", "stop_o": "O – openbaar vervoer",
               "stop_p": "P – privé-auto (hoger = slechter)"}


def _src_html(src: str) -> str:
    return f'<div style="font-size:12px;color:#555;margin:-4px 0 10px 0">Norm: {html.escape(src)}</div>' if src else ""


@dataclass(frozen=True)
class IndicatorLayer:
    key: str
    label: str
    family: str


INDICATOR_LAYERS: tuple[IndicatorLayer, ...] = (
    IndicatorLayer("green_homes", "Groen op wandelafstand (woningen)", "network"),
    IndicatorLayer("lts", "Fietsstress (LTS) per straat", "network"),
    IndicatorLayer("fietsstraten", "Fietsstraten", "network"),
    IndicatorLayer("stop", "STOP per wijk", "network"),
    IndicatorLayer("accessibility", "Toegankelijkheid looproutes", "accessibility"),
    IndicatorLayer("heat", "Hitte op een zomerdag", "heat"),
    IndicatorLayer("water", "Afstroming en wateroverlast", "water"),
)


# ---------------------------------------------------------------------------------------------
# page: Kaart per wijk
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Kerncijfers per wijk berekenen…", max_entries=16)
def wijk_base_table(folder: str, stamp: float) -> pd.DataFrame:
    """Base facts per wijk: area, residents, estimated homes (homes from gezondestad.spatial.aggregate)."""
    area = load_area(folder, stamp)
    w = area.wijken
    out = pd.DataFrame(
        {
            "wijk_code": w["wijk_code"].astype(str).to_numpy(),
            "wijk_naam": w["wijk_naam"].astype(str).to_numpy(),
            "oppervlakte_ha": (w.geometry.area / 10_000).round(1).to_numpy(),
            "inwoners": pd.to_numeric(w["residents"], errors="coerce").round(0).to_numpy(),
        }
    )
    try:
        homes = cached_homes(folder, stamp)
        out["woningen"] = out["wijk_code"].map(homes["wijk_code"].astype(str).value_counts()).fillna(0).astype(int)
        out["woningen_geschat"] = bool(homes["estimated"].any()) if "estimated" in homes else False
    except Exception:  # no buildings and no streets: no homes to count
        out["woningen"] = np.nan
        out["woningen_geschat"] = False
    return out


def norm_source(family: str, key: str) -> str:
    """'value unit — source' of a norm, or an empty string when absent."""
    from gezondestad.model.norms import load_norms

    try:
        n = load_norms(family)[key]
    except Exception:
        return ""
    v = n.value
    if isinstance(v, (list, dict)):
        v = json.dumps(v, ensure_ascii=False)[:60]
    return f"{v} {n.unit} — {n.source}".strip()


def short_source(src: str, max_chars: int = 110) -> str:
    """The citation part of :func:`norm_source`, shortened for a caption (full text in the tooltip)."""
    text = src.split(" — ", 1)[-1]
    return text if len(text) <= max_chars else text[: max_chars - 1].rsplit(" ", 1)[0] + " …"


def wijk_card(row: pd.Series, indicators: list[WijkIndicator]) -> None:
    st.markdown(f"### {html.escape(str(row['wijk_naam']))} ({html.escape(str(row['wijk_code']))})")
    c1, c2, c3 = st.columns(3)
    c1.metric("Oppervlakte", f"{row['oppervlakte_ha']:.0f} ha")
    c2.metric("Inwoners", "onbekend" if pd.isna(row["inwoners"]) else f"{row['inwoners']:.0f}")
    c3.metric("Woningen", "onbekend" if pd.isna(row.get("woningen", np.nan)) else f"{int(row['woningen'])}")
    expl = "Inwoners zijn per gebouw geschat uit het vloeroppervlak en afgestemd op een officieel wijktotaal als dat er is."
    if bool(row.get("woningen_geschat", False)):
        expl += " Woningen zijn geschat langs woonstraten omdat gebouwen ontbreken."
    st.caption(expl + f" Norm: {norm_source('population', 'floor_area_m2_per_resident')}")
    by_family: dict[str, list[WijkIndicator]] = {}
    for ind in indicators:
        by_family.setdefault(ind.family, []).append(ind)
    for fam_key, fam in FAMILIES.items():
        inds = by_family.get(fam_key)
        with st.expander(fam.label, expanded=fam_key == "network"):
            if not inds:
                st.caption(f"{NOT_AVAILABLE} voor dit studiegebied." if not module_present(fam.module)
                           else "Niet berekend voor dit studiegebied (zie de melding bij de kaartlagen).")
                continue
            for ind in inds:
                src = norm_source(*ind.norm) if ind.norm else ""
                st.markdown(f"**{fmt_value(row.get(ind.column), ind.unit)}** — {ind.label}",
                            help=f"Norm en bron: {src}" if src else None)
                st.caption(ind.explain + (f" Bron: {short_source(src)}" if src else ""))


def page_kaart() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Kaart per wijk")
    with st.expander("Gegevens per thema (bron, datum, volledigheid)", expanded=False):
        st.dataframe(manifest_table(area), hide_index=True, width="stretch")
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken; kies een ander studiegebied of voeg een wijkenbestand toe.")
        return
    base = wijk_base_table(folder, stamp)

    base_layers = {"Groen": "green", "Waterlopen": "water", "Straten en paden": "streets", "Haltes": "stops",
                   "Bodembedekking": "landcover"}
    ind_labels = {}
    missing = []
    for lyr in INDICATOR_LAYERS:
        if module_present(FAMILIES[lyr.family].module):
            ind_labels[lyr.label] = lyr.key
        else:
            missing.append(lyr.label)
    chosen = st.pills("Kaartlagen", list(base_layers) + list(ind_labels), selection_mode="multi",
                      default=["Groen", "Waterlopen"], key="kaart_lagen")
    if missing:
        st.caption("Nog niet beschikbaar: " + ", ".join(missing) + ".")
    show = {v: (k in chosen) for k, v in base_layers.items()}
    chosen_ind = [ind_labels[k] for k in chosen if k in ind_labels]
    options: dict[str, str] = {}
    if "stop" in chosen_ind or "accessibility" in chosen_ind:
        oc1, oc2 = st.columns(2)
        if "stop" in chosen_ind:
            options["stop"] = oc1.selectbox("STOP-score op de kaart", list(STOP_LABELS), format_func=STOP_LABELS.get,
                                            key="kaart_stop_col")
        if "accessibility" in chosen_ind:
            options["profile"] = oc2.selectbox("Toegankelijkheid voor", list(PROFILE_CHOICES),
                                               format_func=PROFILE_CHOICES.get, key="kaart_profile")

    left, right = st.columns([3, 2], gap="large")
    with left:
        m = make_map(area_bounds_wgs84(folder, stamp))
        legends: list[str] = []
        if show["landcover"]:
            ov = landcover_overlay(folder, stamp)
            if ov is not None:
                img, bnds = ov
                folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Bodembedekking", opacity=0.8).add_to(m)
                from gezondestad.model.landcover import LANDCOVER_LABELS_NL

                legends.append(legend_html("Bodembedekking", [
                    ("#%02x%02x%02x" % LANDCOVER_COLORS[c], LANDCOVER_LABELS_NL[c]) for c in LANDCOVER_COLORS]))
            else:
                st.info("Dit studiegebied heeft geen bodembedekkingsraster.")
        if show["green"] and area.has("green"):
            folium.GeoJson(
                theme_geojson(folder, stamp, "green", ("name", "kind", "area_m2")),
                name="Groen",
                style_function=lambda f: {"color": "#1b7f4b", "weight": 1, "fillColor": "#4caf50", "fillOpacity": 0.5},
                tooltip=folium.GeoJsonTooltip(fields=["name", "kind", "area_m2"], aliases=["Naam", "Soort", "m²"]),
            ).add_to(m)
            legends.append(legend_html("Groen", [("#4caf50", "groene ruimte")]))
        if show["water"] and area.has("water"):
            folium.GeoJson(
                theme_geojson(folder, stamp, "water", ("name", "kind")),
                name="Water",
                style_function=lambda f: {"color": "#1f5fbf", "weight": 2, "fillColor": "#5b9bd5", "fillOpacity": 0.6},
            ).add_to(m)
        if show["streets"] and area.has("streets"):
            folium.GeoJson(
                theme_geojson(folder, stamp, "streets", ("name", "highway")),
                name="Straten en paden",
                style_function=lambda f: {"color": "#555", "weight": 1.5},
                tooltip=folium.GeoJsonTooltip(fields=["name", "highway"], aliases=["Straat", "Type"]),
            ).add_to(m)
        for key in chosen_ind:
            fam = next(lyr.family for lyr in INDICATOR_LAYERS if lyr.key == key)
            if family_result(fam, folder, stamp) is None:
                continue
            try:
                leg = add_indicator_layer(key, folder, stamp, m, options)
                if leg:
                    legends.append(leg)
            except Exception as exc:
                show_error(f"De laag ‘{key}’ kon niet getekend worden", exc)
        folium.GeoJson(
            theme_geojson(folder, stamp, "wijken", ("wijk_code", "wijk_naam")),
            name="Wijken",
            style_function=lambda f: {"color": "#222", "weight": 2, "fillColor": "#ffffff", "fillOpacity": 0.0},
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.15},
            tooltip=folium.GeoJsonTooltip(fields=["wijk_naam", "wijk_code"], aliases=["Wijk", "Code"]),
        ).add_to(m)
        if show["stops"] and area.has("pois"):
            stops = stops_geojson(folder, stamp)
            if stops:
                folium.GeoJson(
                    stops,
                    name="Haltes",
                    marker=folium.CircleMarker(radius=5, color="#000", weight=1, fill=True, fill_color="#ffd400",
                                               fill_opacity=1),
                    tooltip=folium.GeoJsonTooltip(fields=["name", "category"], aliases=["Halte", "Soort"]),
                ).add_to(m)
                legends.append(legend_html("Openbaar vervoer", [("#ffd400", "halte of station")]))
        folium.LayerControl(collapsed=True).add_to(m)
        out = st_folium(m, key=f"kaart_{_slug(folder)}", height=640, use_container_width=True,
                        returned_objects=["last_active_drawing"])
        if legends:
            st.html('<div style="display:flex;flex-wrap:wrap;gap:8px 28px">' + "".join(
                f"<div>{lg}</div>" for lg in legends) + "</div>")
        clicked = ((out or {}).get("last_active_drawing") or {}).get("properties", {}) or {}
        code_clicked = html.unescape(str(clicked.get("wijk_code", ""))) if "wijk_naam" in clicked else ""
        if code_clicked and code_clicked != st.session_state.get("_kaart_last_click"):
            st.session_state["_kaart_last_click"] = code_clicked
            if code_clicked in set(base["wijk_code"]):
                st.session_state["kaart_wijk"] = code_clicked
                st.rerun()

    table, avail = indicator_table(folder, stamp, base)
    with right:
        codes = list(table["wijk_code"])
        names = dict(zip(table["wijk_code"], table["wijk_naam"]))
        code = st.selectbox("Wijk (of klik op een wijk op de kaart)", codes, format_func=lambda c: f"{names[c]} ({c})",
                            key="kaart_wijk")
        wijk_card(table[table["wijk_code"] == code].iloc[0], avail)

    st.markdown("#### Wijken vergelijken")
    metrics: dict[str, tuple[str, str]] = {"Inwoners": ("inwoners", ""), "Oppervlakte (ha)": ("oppervlakte_ha", "")}
    for ind in avail:
        metrics[f"{ind.label} ({ind.unit})"] = (ind.column, ind.unit)
    metrics = {k: v for k, v in metrics.items() if table[v[0]].notna().any()}
    label = st.selectbox("Indicator", list(metrics), key="kaart_vergelijk")
    col, unit = metrics[label]
    vals = pd.to_numeric(table[col], errors="coerce") * (100 if unit == "%" else 1)
    chart = pd.DataFrame({"Wijk": table["wijk_naam"], label: vals.round(2)})
    st.bar_chart(chart, x="Wijk", y=label, horizontal=True, height=80 + 36 * len(chart), color="#1b7f4b")


@st.cache_data(show_spinner=False, max_entries=16)
def stops_geojson(folder: str, stamp: float) -> str | None:
    area = load_area(folder, stamp)
    p = area.pois
    s = p[p["category"].isin(["bus_stop", "tram_stop", "train_station"])][["name", "category", "geometry"]]
    if len(s) == 0:
        return None
    s = _escape_columns(s, ["name", "category"])
    return s.to_crs(WGS84).to_json(drop_id=True)


# ---------------------------------------------------------------------------------------------
# page: Participatie
# ---------------------------------------------------------------------------------------------

PARTICIPATION_CSS = """
<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stCaptionContainer"] p,
[data-testid="stMain"] [data-testid="stRadio"] label p,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stSelectbox"] input { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stTextArea"] textarea { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button { padding: 0.7rem 1.8rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button p { font-size: 1.35rem !important; }
</style>
"""


def db_path() -> Path:
    from gezondestad.layers.participation import default_db_path

    return default_db_path()


def facilitator_pin() -> str:
    env = os.environ.get("GEZONDESTAD_PIN", "").strip()
    if env:
        return env
    try:
        return str(st.secrets.get("facilitator_pin", DEFAULT_FACILITATOR_PIN))
    except Exception:  # no secrets.toml
        return DEFAULT_FACILITATOR_PIN


def _lonlat_to_lambert(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    x, y = Transformer.from_crs(WGS84, "EPSG:31370", always_xy=True).transform(lon, lat)
    return float(x), float(y)


@st.cache_data(show_spinner=False, max_entries=32)
def wijk_geojson_and_bounds(folder: str, stamp: float, code: str) -> tuple[str, list[list[float]]]:
    area = load_area(folder, stamp)
    w = area.wijken[area.wijken["wijk_code"].astype(str) == code][["wijk_code", "wijk_naam", "geometry"]]
    w = _escape_columns(w, ["wijk_code", "wijk_naam"]).to_crs(WGS84)
    x0, y0, x1, y1 = w.total_bounds
    return w.to_json(drop_id=True), [[float(y0), float(x0)], [float(y1), float(x1)]]


@st.cache_data(show_spinner=False, max_entries=32)
def wijk_context_geojson(folder: str, stamp: float, code: str) -> dict[str, str]:
    """Streets, buildings, green and water around one wijk (WGS84 GeoJSON, text escaped)."""
    area = load_area(folder, stamp)
    w = area.wijken[area.wijken["wijk_code"].astype(str) == code]
    if len(w) == 0:
        return {}
    x0, y0, x1, y1 = w.total_bounds
    margin_m = 0.05 * max(x1 - x0, y1 - y0)  # a little context beyond the wijk edge (display only)
    out = {}
    for theme, cols in (("green", ["name"]), ("water", ["name"]), ("buildings", []), ("streets", ["name"])):
        g = area.themes[theme]
        if len(g) == 0:
            continue
        g = g.cx[x0 - margin_m: x1 + margin_m, y0 - margin_m: y1 + margin_m][cols + ["geometry"]]
        if len(g) == 0:
            continue
        g = _escape_columns(g, cols)
        if "name" in g:
            g["name"] = g["name"].replace("", "(zonder naam)")
        out[theme] = g.to_crs(WGS84).to_json(drop_id=True)
    return out


def page_participatie() -> None:
    from gezondestad.layers import participation as pt

    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.markdown(PARTICIPATION_CSS, unsafe_allow_html=True)
    st.title("Participatie: uw opmerking op de kaart")
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken.")
        return
    if "session_uid" not in st.session_state:
        st.session_state["session_uid"] = uuid.uuid4().hex[:12]
    db = db_path()
    names = dict(zip(area.wijken["wijk_code"].astype(str), area.wijken["wijk_naam"].astype(str)))
    codes = list(names)
    qp = st.query_params.get("wijk")
    if qp in codes and "part_wijk" not in st.session_state:
        st.session_state["part_wijk"] = qp
    code = st.selectbox("Over welke wijk gaat het?", codes, format_func=lambda c: f"{names[c]} ({c})", key="part_wijk")
    remarks = pt.list_remarks(db, area_name=area.name, wijk_code=code)

    st.markdown("**1. Klik op de kaart op de plek waarover u iets wilt zeggen.**")
    gj, bnds = wijk_geojson_and_bounds(folder, stamp, code)
    m = make_map(bnds, canvas=False)
    ctx = wijk_context_geojson(folder, stamp, code)
    # the wijk's own streets, buildings, green and water: the map reads without internet tiles too
    if "green" in ctx:
        folium.GeoJson(ctx["green"], name="Groen", interactive=False,
                       style_function=lambda f: {"color": "#4caf50", "weight": 1, "fillColor": "#a5d6a7", "fillOpacity": 0.8}).add_to(m)
    if "water" in ctx:
        folium.GeoJson(ctx["water"], name="Water", interactive=False,
                       style_function=lambda f: {"color": "#5b9bd5", "weight": 3, "fillColor": "#9ecae1", "fillOpacity": 0.9}).add_to(m)
    if "buildings" in ctx:
        folium.GeoJson(ctx["buildings"], name="Gebouwen", interactive=False,
                       style_function=lambda f: {"color": "#9e9e9e", "weight": 0.5, "fillColor": "#cfcfcf", "fillOpacity": 0.9}).add_to(m)
    if "streets" in ctx:
        folium.GeoJson(ctx["streets"], name="Straten",
                       style_function=lambda f: {"color": "#757575", "weight": 2},
                       tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Straat"])).add_to(m)
    folium.GeoJson(gj, name="Wijk", style_function=lambda f: {"color": "#1b7f4b", "weight": 4, "fillOpacity": 0.0},
                   interactive=False).add_to(m)
    for _, r in remarks.iterrows():
        lon, lat = _to_lonlat(float(r["x_31370"]), float(r["y_31370"]))
        folium.CircleMarker(
            [lat, lon],
            class_name="opmerking-marker",
            radius=11,
            color="#222",
            weight=2,
            fill=True,
            fill_color=CATEGORY_COLORS.get(r["category"], "#777"),
            fill_opacity=0.9,
        ).add_child(SafePopup(pt.remark_popup_html(r["category"], r["text"], r["created_at"]))).add_child(
            SafeTooltip(str(r["category"]))).add_to(m)
    pin_key = f"pin_{code}"
    pin = st.session_state.get(pin_key)
    fg = folium.FeatureGroup(name="Uw punt")
    if pin:
        folium.CircleMarker([pin[0], pin[1]], radius=14, color="#000", weight=4, fill=True, fill_color="#ffeb3b",
                            fill_opacity=1.0).add_child(SafeTooltip("Uw punt")).add_to(fg)
    out = st_folium(m, key=f"part_map_{_slug(folder)}_{code}", height=620, use_container_width=True,
                    returned_objects=["last_clicked"], feature_group_to_add=fg)
    clicked = (out or {}).get("last_clicked")
    if clicked and clicked.get("lat") is not None:
        new_pin = (round(float(clicked["lat"]), 7), round(float(clicked["lng"]), 7))
        if new_pin != (tuple(pin) if pin else None) and new_pin != st.session_state.get(f"_seen_{pin_key}"):
            st.session_state[pin_key] = new_pin
            st.session_state[f"_seen_{pin_key}"] = new_pin
            st.rerun()

    st.markdown("**2. Kies een onderwerp en schrijf een korte opmerking.**")
    if pin:
        st.caption(f"Gekozen punt: {pin[0]:.5f} N, {pin[1]:.5f} O")
    else:
        st.caption("Nog geen punt gekozen: klik eerst op de kaart.")
    if st.session_state.pop("_clear_remark", False):
        st.session_state["remark_text"] = ""
    with st.form("remark_form", clear_on_submit=False, border=True):
        category = st.radio("Onderwerp", pt.CATEGORIES, key="remark_category", horizontal=True)
        text = st.text_area(f"Uw opmerking (maximaal {pt.MAX_TEXT_CHARS} tekens)", key="remark_text",
                            max_chars=pt.MAX_TEXT_CHARS, height=110)
        submitted = st.form_submit_button("Opmerking plaatsen", type="primary")
    if submitted:
        if not pin:
            st.error("Klik eerst op de kaart om de plek van uw opmerking aan te duiden. Uw tekst blijft bewaard.")
        else:
            x, y = _lonlat_to_lambert(pin[1], pin[0])
            try:
                rid = pt.add_remark(db, area.name, code, category, text, x, y,
                                    bounds=tuple(area_box_31370(folder, stamp)), session_id=st.session_state["session_uid"])
            except pt.ParticipationError as exc:
                st.error(f"{exc.nl} Uw tekst blijft bewaard.")
            else:
                st.session_state["_flash"] = f"Bedankt! Uw opmerking (nr. {rid}) is opgeslagen."
                st.session_state["_clear_remark"] = True
                st.session_state.pop(pin_key, None)
                st.rerun()
    flash = st.session_state.pop("_flash", None)
    if flash:
        st.success(flash)

    st.markdown(f"**Opmerkingen in deze wijk ({len(remarks)})**")
    for _, r in remarks.iloc[::-1].head(30).iterrows():
        st.html(pt.remark_popup_html(r["category"], r["text"], r["created_at"]))

    st.divider()
    facilitator_section(area, db)


def _to_lonlat(x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:31370", WGS84, always_xy=True).transform(x, y)
    return float(lon), float(lat)


@st.cache_data(show_spinner=False, max_entries=16)
def area_box_31370(folder: str, stamp: float) -> list[float]:
    area = load_area(folder, stamp)
    src = area.boundary if len(area.boundary) else area.wijken
    return [float(v) for v in src.total_bounds]


def facilitator_section(area: Any, db: Path) -> None:
    from gezondestad.layers import participation as pt

    if not st.toggle("Begeleider (moderatie en export)", key="facilitator_toggle"):
        return
    if not st.session_state.get("facilitator_ok"):
        pin = st.text_input("PIN van de begeleider", type="password", key="facilitator_pin_input")
        if st.button("Ontgrendelen", key="facilitator_unlock"):
            if hmac.compare_digest(pin.encode("utf-8"), facilitator_pin().encode("utf-8")):
                st.session_state["facilitator_ok"] = True
                st.rerun()
            else:
                st.error("Verkeerde PIN.")
        return
    allr = pt.list_remarks(db, area_name=area.name, include_hidden=True)
    st.markdown(f"**Alle opmerkingen van {html.escape(area.name)}** ({len(allr)}, waarvan {int(allr['hidden'].sum())} verborgen)")
    view = allr[["id", "wijk_code", "category", "text", "created_at", "hidden", "moderation_note"]].rename(
        columns={"id": "nr", "wijk_code": "wijk", "category": "onderwerp", "text": "tekst", "created_at": "tijdstip",
                 "hidden": "verborgen", "moderation_note": "moderatienota"})
    st.dataframe(view, hide_index=True, width="stretch")
    if len(allr):
        c1, c2 = st.columns([2, 3])
        rid = c1.selectbox("Opmerking", list(allr["id"]), key="mod_id",
                           format_func=lambda i: f"nr. {i} — " + str(allr.set_index("id").loc[i, "text"])[:50])
        note = c2.text_input("Reden (optioneel)", key="mod_note")
        is_hidden = bool(allr.set_index("id").loc[rid, "hidden"])
        if st.button("Opnieuw tonen" if is_hidden else "Verbergen", key="mod_btn"):
            try:
                pt.set_hidden(db, int(rid), not is_hidden, note)
            except pt.ParticipationError as exc:
                st.error(exc.nl)
            else:
                st.rerun()
    inc = st.checkbox("Verborgen opmerkingen meenemen in de export", value=False, key="exp_hidden")
    d1, d2 = st.columns(2)
    d1.download_button("Download GeoPackage", data=lambda: pt.export_remarks(db, "gpkg", area.name, inc),
                       file_name="opmerkingen.gpkg", mime="application/geopackage+sqlite3", on_click="ignore",
                       key="dl_part_gpkg")
    d2.download_button("Download CSV", data=lambda: pt.export_remarks(db, "csv", area.name, inc),
                       file_name="opmerkingen.csv", mime="text/csv", on_click="ignore", key="dl_part_csv")


# ---------------------------------------------------------------------------------------------
# page: Screening
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Voor-toestand van alle indicatoren berekenen (eenmalig per studiegebied)…", max_entries=2)
def cached_baseline(folder: str, stamp: float) -> Any:
    from gezondestad.screening.compare import load_or_compute_baseline

    return load_or_compute_baseline(load_area(folder, stamp), folder)


SCREENING_ANSWERS_NL = ("onbekend", "ja", "deels", "nee")
SCORE_NL = {"+": ":green[● gunstig]", "0": ":orange[● neutraal]", "-": ":red[● ongunstig]", "?": ":gray[● onbekend]"}


def _plan_source(area: Any) -> tuple[gpd.GeoDataFrame | None, str, str]:
    """The plan features chosen on the page (upload or the example), its name and an identity key."""
    from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH

    src = st.radio("Plan", ["Voorbeeldplan (demostad: Stationsveld, Ragheno-achtig)", "Eigen plan uploaden"],
                   key="screening_bron", horizontal=True)
    if src.startswith("Voorbeeld"):
        if not area.manifest.get("synthetic"):
            st.warning("Het voorbeeldplan ligt in de demostad; voor dit studiegebied laadt u best een eigen plan.")
        return gpd.read_file(EXAMPLE_PLAN_PATH), "Voorbeeldplan Stationsveld", "example"
    up = st.file_uploader(
        f"Plan uploaden (GeoPackage, GeoJSON of gezipte shapefile; max. {MAX_VECTOR_UPLOAD_MB} MB). "
        "Elk object heeft een kolom feature_type: building, green, street, path, parking, water, demolition.",
        key="screening_upload", max_upload_size=MAX_VECTOR_UPLOAD_MB,
    )
    if up is None:
        return None, "", ""
    gdf = read_uploaded_vector(up)
    return gdf, Path(up.name).stem, f"upload:{up.name}:{up.size}"


def _checklist_questions() -> dict[str, str]:
    """The planner's answers to the checklist questions (kept in session state across reruns)."""
    from gezondestad.screening.checklist import load_checklist

    answers: dict[str, str] = {}
    items = {k: v for k, v in load_checklist().items() if v.get("kind") == "question"}
    with st.expander(f"Vragen van de checklist voor de planner ({len(items)})", expanded=False):
        st.caption("Wat het model niet kan berekenen, beantwoordt u hier; 'onbekend' telt als niet beoordeeld.")
        for key, item in items.items():
            a = st.radio(f"**{item['theme']}** – {item['question']}", SCREENING_ANSWERS_NL, key=f"chk_{key}", horizontal=True)
            if a != "onbekend":
                answers[key] = a
    return answers


def page_screening() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Screening van een plan")
    st.markdown(
        "Laad een plan (nieuwe gebouwen, groen, straten) en bekijk wat het verandert aan groen, fietsen, "
        "toegankelijkheid, hitte en water – voor het plangebied, de omliggende wijken en de hele stad – met een "
        "verslag voor het college om te downloaden."
    )
    if lazy_import("gezondestad.screening.compare") is None:
        not_available("Screening (voor/na-vergelijking en verslag)", "gezondestad.screening.compare")
        return
    from gezondestad.screening.checklist import build_checklist, checklist_frame
    from gezondestad.screening.compare import screen
    from gezondestad.screening.plan import plan_from_frame
    from gezondestad.screening.report import (
        map_green_access,
        map_heat_difference,
        map_plan,
        render_html,
        report_json,
    )

    gdf, name, ident = _plan_source(area)
    answers = _checklist_questions()
    if gdf is None:
        return
    try:
        plan = plan_from_frame(gdf, name=name, source=ident, area=area)
    except Exception as exc:
        show_error("Dit plan kan niet gebruikt worden", exc)
        return
    st.success(f"Plan ‘{name}’: {len(gdf)} objecten.")
    key = f"{folder}|{stamp}|{ident}"
    res_state = st.session_state.get("screening_result")
    if st.button("Screening uitvoeren", type="primary", key="screening_run") or (res_state and res_state[0] == key):
        if not res_state or res_state[0] != key:
            try:
                before = cached_baseline(folder, stamp)
                with st.spinner("Plan toepassen en na-toestand berekenen…"):
                    result = screen(area, plan, before=before, local=True)
            except Exception as exc:
                show_error("De screening kon niet uitgevoerd worden", exc)
                return
            st.session_state["screening_result"] = (key, result)
        result = st.session_state["screening_result"][1]
    else:
        preview_vector(gdf, "Plan", key="screening_preview")
        return
    try:
        items = build_checklist(result, answers)
    except Exception as exc:
        show_error("De checklist kon niet opgesteld worden", exc)
        return
    st.caption(f"Berekend in {result.seconds.get('total', 0):.1f} s ({'lokaal herberekend rond het plan' if result.mode == 'local' else 'volledig'}).")
    for fam, why in result.missing.items():
        st.warning(f"Niet berekend – {fam}: {why}")

    st.subheader("Samenvatting")
    cols = st.columns(3)
    for i, it in enumerate(items):
        with cols[i % 3]:
            st.markdown(f"**{it.theme}**: {SCORE_NL.get(it.score, it.score)}")
            st.caption(it.evidence)

    st.subheader("Voor en na")
    zone = st.radio("Zone", ["plan", "omgeving", "stad"], index=1, horizontal=True, key="screening_zone",
                    format_func=lambda z: {"plan": "Plangebied", "omgeving": "Omliggende wijken", "stad": "Hele stad"}[z])
    d = result.deltas[result.deltas["zone"] == zone].copy()
    pct = d["unit"] == "%"  # shares are stored as 0-1; show them as percentages
    for c in ("before", "after", "delta"):
        d[c] = pd.to_numeric(d[c], errors="coerce")
        d.loc[pct, c] = d.loc[pct, c] * 100.0
    show = d[["label", "unit", "before", "after", "delta", "direction_nl", "residents_improved", "residents_worsened", "norm_source"]].rename(
        columns={"label": "Indicator", "unit": "Eenheid", "before": "Voor", "after": "Na", "delta": "Verschil",
                 "direction_nl": "Richting", "residents_improved": "Inwoners beter", "residents_worsened": "Inwoners slechter",
                 "norm_source": "Bron van de norm"})
    st.dataframe(show.round({"Voor": 3, "Na": 3, "Verschil": 3, "Inwoners beter": 0, "Inwoners slechter": 0}),
                 hide_index=True, width="stretch")

    st.subheader("Kaarten")
    mcols = st.columns(3)
    for col, (title, fn) in zip(mcols, [("Plan in de bestaande stad", map_plan), ("Verschil hitte-index (na − voor)", map_heat_difference),
                                        ("Woningen met groen binnen 300 m, na het plan", map_green_access)]):
        with col:
            try:
                uri = fn(result)
            except Exception as exc:  # a map is a bonus: the numbers above stand
                uri = None
                st.caption(f"Kaart niet beschikbaar: {exc}")
            if uri:
                st.markdown(f"**{title}**")
                st.image(base64.b64decode(uri.split(",", 1)[1]))

    st.subheader("Checklist gezondheidsdeterminanten")
    cf = checklist_frame(items)
    cf["score"] = cf["score"].map({"+": "gunstig", "0": "neutraal", "-": "ongunstig", "?": "onbekend"}).fillna(cf["score"])
    nl = {"theme": "Thema", "score": "Beoordeling", "question": "Vraag", "evidence": "Onderbouwing",
          "recommendation": "Aanbeveling", "source": "Bron van de norm"}
    st.dataframe(cf[[c for c in nl if c in cf.columns]].rename(columns=nl), hide_index=True, width="stretch")

    html = render_html(result, items, with_maps=True)
    js = json.dumps(report_json(result, items), ensure_ascii=False, indent=2)
    c1, c2 = st.columns(2)
    c1.download_button("Verslag downloaden (HTML, af te drukken als PDF)", html.encode("utf-8"),
                       file_name=f"screening_{_slug(name)}.html", mime="text/html", key="screening_dl_html")
    c2.download_button("Alle verschillen en checklist (JSON)", js.encode("utf-8"),
                       file_name=f"screening_{_slug(name)}.json", mime="application/json", key="screening_dl_json")


def preview_vector(gdf: gpd.GeoDataFrame, name: str, key: str) -> None:
    g = gdf.to_crs(WGS84)
    x0, y0, x1, y1 = g.total_bounds
    m = make_map([[y0, x0], [y1, x1]])
    cols = [c for c in g.columns if c != "geometry"][:6]
    gs = _escape_columns(g[cols + ["geometry"]], cols)
    for c in cols:
        gs[c] = gs[c].astype(str)
    folium.GeoJson(gs.to_json(drop_id=True), name=name,
                   tooltip=folium.GeoJsonTooltip(fields=cols) if cols else None).add_to(m)
    st_folium(m, key=key, height=420, use_container_width=True, returned_objects=[])


# ---------------------------------------------------------------------------------------------
# page: Toegankelijkheidstoets
# ---------------------------------------------------------------------------------------------


def page_toets() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Toegankelijkheidstoets van een ontwerp")
    st.markdown(
        "Laad een ontwerp (paden, hellingen, oversteken, trappen, banken, toiletten, parkeerplaatsen) en toets elk "
        "element aan de regels voor toegankelijk publiek domein: **groen** = voldoet, **rood** = voldoet niet, "
        "**grijs** = kan niet beoordeeld worden (gegevens ontbreken)."
    )
    toets = lazy_import("gezondestad.screening.toets")
    if toets is None:
        not_available("Toegankelijkheidstoets", "gezondestad.screening.toets")
        return
    src = st.radio("Ontwerp", ["Eigen bestand uploaden", "Voorbeeldontwerp (demostad, Stationsveld)"],
                   key="toets_bron", horizontal=True)
    design: gpd.GeoDataFrame | None = None
    name = ""
    if src.startswith("Eigen"):
        up = st.file_uploader(
            f"Ontwerp (GeoPackage, GeoJSON of gezipte shapefile; max. {MAX_VECTOR_UPLOAD_MB} MB)",
            key="toets_upload", max_upload_size=MAX_VECTOR_UPLOAD_MB,
        )
        if up is not None:
            design = read_uploaded_vector(up)
            name = up.name
    else:
        design = toets.example_design()
        name = "voorbeeldontwerp"
    if design is None:
        with st.expander("Welke kolommen verwacht de toets?"):
            st.markdown(
                "Eén rij per element met een kolom **element** (path/pad, ramp/helling, crossing/oversteek, kerb/boordsteen, "
                "stairs/trap, bench/bank, toilet, parking/parkeerplaats) en waar van toepassing: "
                + ", ".join(f"`{c}`" for c in toets.SCHEMA if c not in ("id", "element")) + "."
            )
            st.dataframe(toets.rules_table(), hide_index=True, width="stretch")
        return
    st.success(f"‘{name}’: {len(design)} elementen.")
    cols = [c for c in design.columns if c != design.geometry.name]
    none = "(niet gebruiken)"
    with st.expander("Kolommen koppelen aan de toets", expanded=not any(c == "element" for c in cols)):
        st.caption("Koppel elke kolom van uw bestand aan een kenmerk van de toets. Kolommen met de juiste naam zijn al gekoppeld.")
        mapping: dict[str, str] = {}
        grid = st.columns(3)
        for i, c in enumerate(cols):
            opts = [none] + list(toets.SCHEMA)
            default = opts.index(str(c)) if str(c) in toets.SCHEMA else 0
            target = grid[i % 3].selectbox(str(c), opts, index=default, key=f"toets_map_{_slug(name)}_{c}")
            if target != none and target != c:
                mapping[str(c)] = target
    try:
        result = toets.check_design(design, column_map=mapping or None)
    except Exception as exc:
        show_error("Het ontwerp kan niet getoetst worden", exc)
        return
    per_el = toets.element_verdicts(result)
    n = per_el["verdict"].value_counts()
    c1, c2, c3 = st.columns(3)
    c1.metric("Voldoet", int(n.get("pass", 0)))
    c2.metric("Voldoet niet", int(n.get("fail", 0)))
    c3.metric("Kan niet beoordeeld worden", int(n.get("unknown", 0)))
    has_geom = isinstance(per_el, gpd.GeoDataFrame) and (~per_el.geometry.is_empty & per_el.geometry.notna()).any()
    if has_geom:
        toets_map(result, per_el)
    else:
        st.info("Het ontwerp heeft geen geometrie: enkel de tabel wordt getoond.")
    st.markdown("#### Resultaat per regel")
    show_cols = ["id", "element", "rule_text", "oordeel", "value", "limit", "unit", "missing", "fix", "source"]
    table = pd.DataFrame(result[show_cols])
    for c in ("id", "value", "limit"):  # mixed numbers and words: show as text
        table[c] = table[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    st.dataframe(
        table.rename(columns={
            "rule_text": "regel", "value": "waarde", "limit": "grens", "unit": "eenheid", "missing": "ontbreekt",
            "fix": "oplossing", "source": "bron"}),
        hide_index=True, width="stretch",
    )
    export = lazy_import("gezondestad.layers.export")
    d1, d2 = st.columns(2)
    res_gdf = gpd.GeoDataFrame(result, geometry="geometry", crs=result.crs)
    if export is not None and has_geom:
        d1.download_button("Download resultaat (GeoPackage)", data=lambda: export.layer_to_bytes(
            res_gdf[res_gdf.geometry.notna()], "gpkg", layer="toets"), file_name="toegankelijkheidstoets.gpkg",
            mime="application/geopackage+sqlite3", on_click="ignore", key="toets_dl_gpkg")
    d2.download_button("Download resultaat (CSV)", data=lambda: pd.DataFrame(result.drop(columns="geometry")).to_csv(
        index=False).encode("utf-8"), file_name="toegankelijkheidstoets.csv", mime="text/csv", on_click="ignore",
        key="toets_dl_csv")


def toets_map(result: gpd.GeoDataFrame, per_el: gpd.GeoDataFrame) -> None:
    """Elements coloured by their worst verdict; a click shows every rule (escaped)."""
    from gezondestad.layers.participation import escape_text as esc
    g = per_el[per_el.geometry.notna() & ~per_el.geometry.is_empty].to_crs(WGS84)
    x0, y0, x1, y1 = g.total_bounds
    pad = max(x1 - x0, y1 - y0) * 0.1 + 1e-4
    m = make_map([[y0 - pad, x0 - pad], [y1 + pad, x1 + pad]])
    try:  # the active study area's streets around the design, for orientation without internet tiles
        folder, stamp, area = current_area()
        bx0, by0, bx1, by1 = per_el.total_bounds
        near = area.streets.cx[bx0 - 100: bx1 + 100, by0 - 100: by1 + 100]
        if len(near):
            folium.GeoJson(near[["geometry"]].to_crs(WGS84).to_json(drop_id=True), name="Straten", interactive=False,
                           style_function=lambda f: {"color": "#9e9e9e", "weight": 2}).add_to(m)
    except Exception:  # context only; the check itself does not depend on it
        pass
    by_id = {str(k): d for k, d in result.groupby(result["id"].astype(str), sort=False)}
    for _, r in g.iterrows():
        rules = by_id.get(str(r["id"]))
        rows = ""
        if rules is not None:
            for _, rr in rules.iterrows():
                rows += (f"<li><b style='color:{VERDICT_COLORS.get(rr['verdict'], '#999')}'>{esc(rr['oordeel'])}</b>: "
                         f"{esc(rr['rule_text'])}"
                         + (f" (waarde {esc(rr['value'])}, grens {esc(rr['limit'])} {esc(rr['unit'] or '')})"
                            if rr["value"] is not None else "")
                         + (f"<br><i>{esc(rr['fix'])}</i>" if rr["fix"] else "") + "</li>")
        popup = (f"<div style='font-size:13px;max-width:360px'><b>{esc(r['id'])} — "
                 f"{esc(r['element'])}</b><ul style='padding-left:16px'>{rows}</ul></div>")
        color = VERDICT_COLORS.get(r["verdict"], "#9e9e9e")
        geom = r.geometry
        if geom.geom_type == "Point":
            folium.CircleMarker([geom.y, geom.x], radius=8, color="#222", weight=1, fill=True, fill_color=color,
                                fill_opacity=0.95).add_child(SafePopup(popup, 380)).add_child(
                SafeTooltip(str(r["id"]))).add_to(m)
        else:
            folium.GeoJson(
                gpd.GeoSeries([geom], crs=WGS84).to_json(),
                style_function=lambda f, c=color: {"color": c, "weight": 6, "fillColor": c, "fillOpacity": 0.7},
            ).add_child(SafePopup(popup, 380)).add_child(SafeTooltip(str(r["id"]))).add_to(m)
    st_folium(m, key="toets_map", height=480, use_container_width=True, returned_objects=[])
    st.html(legend_html("Oordeel per element (slechtste regel telt)", [
        (VERDICT_COLORS["pass"], "voldoet"), (VERDICT_COLORS["fail"], "voldoet niet"),
        (VERDICT_COLORS["unknown"], "kan niet beoordeeld worden")]))


# ---------------------------------------------------------------------------------------------
# page: Export
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportLayer:
    key: str
    label: str
    kind: str  # "vector" | "raster"
    family: str | None  # None: a theme of the study area


def export_layers(area: Any) -> list[ExportLayer]:
    """Every layer the Export page offers for this study area (themes first, then indicators)."""
    out = [ExportLayer(f"theme:{t}", f"Thema – {THEME_NL.get(t, t)}", "vector", None)
           for t in area.themes if area.has(t)]
    if area.landcover is not None:
        out.append(ExportLayer("landcover", "Raster – Bodembedekking", "raster", None))
    out += [
        ExportLayer("per_wijk", "Indicatoren per wijk (alle beschikbare)", "vector", "any"),
        ExportLayer("net:homes", "Woningen met groen-, fiets- en STOP-indicatoren", "vector", "network"),
        ExportLayer("net:unserved", "Woningen zonder publiek groen ≥ 0,5 ha binnen 300 m", "vector", "network"),
        ExportLayer("net:segments", "Straten met fietsstress (LTS) en fietsstraten", "vector", "network"),
        ExportLayer("net:green_spaces", "Publieke groene ruimten (grootte, toegangen)", "vector", "network"),
        ExportLayer("acc:segments", "Looproutes met toegankelijkheidsoordeel", "vector", "accessibility"),
        ExportLayer("acc:missing_links", "Ontbrekende schakels voor toegankelijkheid", "vector", "accessibility"),
        ExportLayer("heat:heat_index", "Raster – Hitte-index (0–1)", "raster", "heat"),
        ExportLayer("heat:t_air_c", "Raster – Luchttemperatuur op een hittedag (°C)", "raster", "heat"),
        ExportLayer("water:runoff_mm", "Raster – Afstroming bij de ontwerpbui (mm)", "raster", "water"),
        ExportLayer("water:flood_prone", "Raster – Overstromingsgevoelig (1 = ja)", "raster", "water"),
    ]
    return [lyr for lyr in out if lyr.family in (None, "any") or module_present(FAMILIES[lyr.family].module)]


def per_wijk_gdf(folder: str, stamp: float) -> gpd.GeoDataFrame:
    """Wijken with the base facts and every available per-wijk indicator (columns prefixed by family)."""
    area = load_area(folder, stamp)
    g = area.wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    g["wijk_code"] = g["wijk_code"].astype(str)
    base = wijk_base_table(folder, stamp).drop(columns=["wijk_naam"])
    g = g.merge(base, on="wijk_code", how="left")
    for fam, t in per_wijk_tables(folder, stamp).items():
        t = t.copy()
        t["wijk_code"] = t["wijk_code"].astype(str)
        t = t.drop(columns=[c for c in ("wijk_naam", "geometry") if c in t.columns])
        t = t.rename(columns={c: f"{fam}_{c}" for c in t.columns if c != "wijk_code"})
        g = g.merge(t, on="wijk_code", how="left")
    return gpd.GeoDataFrame(g, geometry="geometry", crs=area.wijken.crs)


def export_object(key: str, folder: str, stamp: float) -> Any:
    """The GeoDataFrame or raster of an export layer (computed through the cached families)."""
    export = importlib.import_module("gezondestad.layers.export")
    area = load_area(folder, stamp)
    if key.startswith("theme:"):
        return area.themes[key.split(":", 1)[1]]
    if key == "landcover":
        return area.landcover
    if key == "per_wijk":
        return per_wijk_gdf(folder, stamp)
    fam, part = key.split(":", 1)
    res = FAMILIES[{"net": "network", "acc": "accessibility", "heat": "heat", "water": "water"}[fam]].compute(folder, stamp)
    if fam in ("net", "acc"):
        return getattr(res, part)
    band = res.bands()[part]
    return export.Raster(np.asarray(band, dtype="float32"), res.landcover.transform, "EPSG:31370", None)


def page_export() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Export")
    st.markdown(
        "Download een laag van het studiegebied of een berekende indicator als **GeoPackage**, **GeoJSON**, "
        "**CSV** (attributen) of **GeoTIFF** (rasters), in Lambert 72 (EPSG:31370) of WGS84 (EPSG:4326)."
    )
    export = lazy_import("gezondestad.layers.export")
    if export is None:
        not_available("Export", "gezondestad.layers.export")
        return
    layers = export_layers(area)
    by_label = {lyr.label: lyr for lyr in layers}
    label = st.selectbox("Laag", list(by_label), key="export_layer")
    lyr = by_label[label]
    fmts = {"GeoPackage (.gpkg)": "gpkg", "GeoJSON (.geojson, altijd WGS84)": "geojson", "CSV (attributen)": "csv"} \
        if lyr.kind == "vector" else {"GeoTIFF (.tif)": "geotiff"}
    c1, c2 = st.columns(2)
    fmt_label = c1.radio("Formaat", list(fmts), key=f"export_fmt_{lyr.kind}")
    fmt = fmts[fmt_label]
    crs = c2.radio("Coördinatenstelsel", list(export.EXPORT_CRS), key="export_crs",
                   format_func=lambda c: {"EPSG:31370": "Lambert 72 (EPSG:31370)", "EPSG:4326": "WGS84 (EPSG:4326)"}.get(c, c),
                   disabled=fmt == "geojson")
    if lyr.family not in (None, "any"):
        if family_result(lyr.family, folder, stamp) is None:
            return
    try:
        obj = export_object(lyr.key, folder, stamp)
    except Exception as exc:
        show_error(f"De laag ‘{label}’ kon niet klaargezet worden", exc)
        return
    if isinstance(obj, gpd.GeoDataFrame):
        st.caption(f"{len(obj)} objecten, {len(obj.columns) - 1} kolommen.")
        if len(obj) == 0:
            st.info("Deze laag is leeg in dit studiegebied.")
    name = re.sub(r"[^a-z0-9]+", "_", f"{area.name}_{lyr.key}".lower()).strip("_")
    layer_name = re.sub(r"[^a-z0-9]+", "_", lyr.key.lower()).strip("_")

    def make_bytes() -> bytes:
        return export.layer_to_bytes(obj, fmt, crs, layer=layer_name)

    st.download_button(f"Download {fmt_label.split(' ')[0]}", data=make_bytes,
                       file_name=f"{name}{export.SUFFIX[fmt]}", mime=export.MIME[fmt], on_click="ignore",
                       type="primary", key="export_download")


# ---------------------------------------------------------------------------------------------
# navigation
# ---------------------------------------------------------------------------------------------


def main() -> None:
    pages = [
        st.Page(page_kaart, title="Kaart per wijk", icon=":material/map:", default=True),
        st.Page(page_screening, title="Screening", icon=":material/checklist:", url_path="screening"),
        st.Page(page_toets, title="Toegankelijkheidstoets", icon=":material/accessible:", url_path="toets"),
        st.Page(page_participatie, title="Participatie", icon=":material/pin_drop:", url_path="participatie"),
        st.Page(page_export, title="Export", icon=":material/download:", url_path="export"),
    ]
    nav = st.navigation(pages)
    sidebar_study_area()
    nav.run()


main()
