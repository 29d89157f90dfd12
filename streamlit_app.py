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
    validate = lazy_import("layers.validate")
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
    from layers.demo import demo_area_dir

    return str(demo_area_dir())


@st.cache_resource(show_spinner="Studiegebied laden…", max_entries=4)
def load_area(folder: str, stamp: float) -> Any:
    """The StudyArea of ``folder`` (shared between sessions; treat as read-only)."""
    from layers.studyarea import load_study_area

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
    prepare = lazy_import("layers.prepare")
    if prepare is None:
        not_available("Voorbereiden", "layers.prepare")
        return None
    from layers.studyarea import save_study_area

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
            from layers.studyarea import is_study_area_dir

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
            "Bron": "afgeleid uit de vectorthema's (spatial.landcover)" if lc is not None else "",
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


def make_map(bounds: list[list[float]], tiles: bool = True) -> folium.Map:
    """A folium map that loads only the app's own Leaflet (no CDN plugins, no awesome-markers)."""
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]
    if tiles:
        folium.TileLayer("OpenStreetMap", name="Achtergrond (OpenStreetMap, internet nodig)", control=True).add_to(m)
    m.fit_bounds(bounds)
    return m


# ---------------------------------------------------------------------------------------------
# indicator layers: each computed by a library module written alongside the app
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorLayer:
    key: str
    label: str
    module: str


INDICATOR_LAYERS: tuple[IndicatorLayer, ...] = (
    IndicatorLayer("green_homes", "Groen op wandelafstand (woningen)", "spatial.indicators"),
    IndicatorLayer("lts", "Fietsstress (LTS) per segment", "spatial.indicators"),
    IndicatorLayer("fietsstraten", "Fietsstraten", "spatial.indicators"),
    IndicatorLayer("stop", "STOP-principe per wijk", "spatial.indicators"),
    IndicatorLayer("accessibility", "Toegankelijkheid van stoepen en paden", "spatial.accessibility"),
    IndicatorLayer("heat", "Hitte (koelcapaciteit)", "spatial.heat"),
    IndicatorLayer("water", "Water (afstroming / overstroming)", "spatial.water"),
)


def indicator_builders() -> dict[str, Callable[[str, float, folium.Map], str | None]]:
    """Map-layer builders per indicator key, wired when the library module exists.

    Each builder adds its layer to the map and returns the legend HTML (or None).
    """
    return {}


# ---------------------------------------------------------------------------------------------
# page: Kaart per wijk
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Kerncijfers per wijk berekenen…", max_entries=16)
def wijk_base_table(folder: str, stamp: float) -> pd.DataFrame:
    """Base facts per wijk: area, residents, estimated homes (through spatial.aggregate)."""
    from spatial.aggregate import home_points

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
        homes = home_points(area)
        out["woningen"] = out["wijk_code"].map(homes["wijk_code"].astype(str).value_counts()).fillna(0).astype(int)
        out["woningen_geschat"] = bool(homes["estimated"].any()) if "estimated" in homes else False
    except Exception:  # no buildings and no streets: no homes to count
        out["woningen"] = np.nan
        out["woningen_geschat"] = False
    return out


def norm_source(family: str, key: str) -> str:
    """'value unit — source' of a norm, or an empty string when absent."""
    from spatial.norms import load_norms

    try:
        n = load_norms(family)[key]
    except Exception:
        return ""
    return f"{n.value} {n.unit} — {n.source}"


def wijk_card(row: pd.Series, area: Any) -> None:
    st.markdown(f"### {html.escape(str(row['wijk_naam']))} ({html.escape(str(row['wijk_code']))})")
    c1, c2, c3 = st.columns(3)
    c1.metric("Oppervlakte", f"{row['oppervlakte_ha']:.0f} ha")
    c2.metric("Inwoners", "onbekend" if pd.isna(row["inwoners"]) else f"{row['inwoners']:.0f}")
    c3.metric("Woningen", "onbekend" if pd.isna(row.get("woningen", np.nan)) else f"{int(row['woningen'])}")
    src = norm_source("population", "floor_area_m2_per_resident")
    expl = (
        "**Inwoners** worden per gebouw geschat uit het vloeroppervlak (grondoppervlak × bouwlagen) "
        "en, als er een officieel totaal per wijk is, daarop afgestemd."
    )
    if src:
        expl += f" Norm: {src}."
    if bool(row.get("woningen_geschat", False)):
        expl += (
            " **Woningen** zijn hier geschat langs woonstraten omdat gebouwen ontbreken "
            f"({norm_source('population', 'home_spacing_m')})."
        )
    st.markdown(expl)


def page_kaart() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Kaart per wijk")
    with st.expander("Gegevens per thema (bron, datum, volledigheid)", expanded=False):
        st.dataframe(manifest_table(area), hide_index=True, width="stretch")
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken; kies een ander studiegebied of voeg een wijkenbestand toe.")
        return
    table = wijk_base_table(folder, stamp)

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Lagen**")
        lc1, lc2 = st.columns(2)
        show = {
            "green": lc1.checkbox("Groen", value=True, key="lyr_green"),
            "water": lc1.checkbox("Water", value=True, key="lyr_water"),
            "streets": lc2.checkbox("Straten en paden", value=False, key="lyr_streets"),
            "stops": lc2.checkbox("Haltes openbaar vervoer", value=False, key="lyr_stops"),
            "landcover": lc1.checkbox("Bodembedekking (raster)", value=False, key="lyr_landcover"),
        }
        builders = indicator_builders()
        chosen_ind: list[str] = []
        with st.expander("Indicatorlagen", expanded=True):
            for lyr in INDICATOR_LAYERS:
                if not module_present(lyr.module):
                    st.checkbox(f"{lyr.label} — {NOT_AVAILABLE}", value=False, disabled=True, key=f"ind_{lyr.key}")
                elif lyr.key not in builders:
                    st.checkbox(f"{lyr.label} — nog niet gekoppeld in de app", value=False, disabled=True,
                                key=f"ind_{lyr.key}")
                elif st.checkbox(lyr.label, value=False, key=f"ind_{lyr.key}"):
                    chosen_ind.append(lyr.key)

        m = make_map(area_bounds_wgs84(folder, stamp))
        legends: list[str] = []
        if show["landcover"]:
            ov = landcover_overlay(folder, stamp)
            if ov is not None:
                img, bnds = ov
                folium.raster_layers.ImageOverlay(img, bounds=bnds, name="Bodembedekking", opacity=0.8).add_to(m)
                from spatial.landcover import LANDCOVER_LABELS_NL

                legends.append(legend_html("Bodembedekking", [
                    ("#%02x%02x%02x" % LANDCOVER_COLORS[c], LANDCOVER_LABELS_NL[c]) for c in LANDCOVER_COLORS]))
            else:
                st.info("Dit studiegebied heeft geen bodembedekkingsraster.")
        wj = theme_geojson(folder, stamp, "wijken", ("wijk_code", "wijk_naam"))
        folium.GeoJson(
            wj,
            name="Wijken",
            style_function=lambda f: {"color": "#333", "weight": 2, "fillColor": "#ffffff", "fillOpacity": 0.15},
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.35},
            tooltip=folium.GeoJsonTooltip(fields=["wijk_naam", "wijk_code"], aliases=["Wijk", "Code"]),
        ).add_to(m)
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
                style_function=lambda f: {"color": "#666", "weight": 1.5},
                tooltip=folium.GeoJsonTooltip(fields=["name", "highway"], aliases=["Straat", "Type"]),
            ).add_to(m)
        if show["stops"] and area.has("pois"):
            stops = stops_geojson(folder, stamp)
            if stops:
                folium.GeoJson(
                    stops,
                    name="Haltes",
                    marker=folium.CircleMarker(radius=5, color="#000", fill=True, fill_color="#ffd400", fill_opacity=1),
                    tooltip=folium.GeoJsonTooltip(fields=["name", "category"], aliases=["Halte", "Soort"]),
                ).add_to(m)
                legends.append(legend_html("Openbaar vervoer", [("#ffd400", "halte of station")]))
        for key in chosen_ind:
            try:
                leg = builders[key](folder, stamp, m)
                if leg:
                    legends.append(leg)
            except Exception as exc:
                show_error(f"De laag ‘{key}’ kon niet berekend worden", exc)
        folium.LayerControl(collapsed=False).add_to(m)
        out = st_folium(m, key=f"kaart_{_slug(folder)}", height=560, use_container_width=True,
                        returned_objects=["last_active_drawing"])
        if legends:
            st.html("".join(legends))
        clicked = ((out or {}).get("last_active_drawing") or {}).get("properties", {}).get("wijk_code")
        if clicked and clicked != st.session_state.get("_kaart_last_click"):
            st.session_state["_kaart_last_click"] = clicked
            codes = list(table["wijk_code"])
            if html.unescape(clicked) in codes:
                st.session_state["kaart_wijk"] = html.unescape(clicked)

    with right:
        codes = list(table["wijk_code"])
        names = dict(zip(table["wijk_code"], table["wijk_naam"]))
        code = st.selectbox("Wijk (of klik op de kaart)", codes, format_func=lambda c: f"{names[c]} ({c})",
                            key="kaart_wijk")
        wijk_card(table[table["wijk_code"] == code].iloc[0], area)
        st.markdown("#### Wijken vergelijken")
        metrics = {"Inwoners": "inwoners", "Oppervlakte (ha)": "oppervlakte_ha", "Woningen": "woningen"}
        metrics = {k: v for k, v in metrics.items() if table[v].notna().any()}
        label = st.selectbox("Indicator", list(metrics), key="kaart_vergelijk")
        chart = table[["wijk_naam", metrics[label]]].rename(columns={"wijk_naam": "Wijk", metrics[label]: label})
        st.bar_chart(chart, x="Wijk", y=label, horizontal=True, height=60 + 40 * len(chart))


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
[data-testid="stMain"] [data-baseweb="select"] div { font-size: 1.2rem !important; }
[data-testid="stMain"] [data-testid="stTextArea"] textarea { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button { padding: 0.7rem 1.8rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button p { font-size: 1.35rem !important; }
</style>
"""


def db_path() -> Path:
    from layers.participation import default_db_path

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


def page_participatie() -> None:
    from layers import participation as pt

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
    m = make_map(bnds)
    folium.GeoJson(gj, name="Wijk", style_function=lambda f: {"color": "#1b7f4b", "weight": 3, "fillOpacity": 0.05},
                   interactive=False).add_to(m)
    for _, r in remarks.iterrows():
        lon, lat = _to_lonlat(float(r["x_31370"]), float(r["y_31370"]))
        folium.CircleMarker(
            [lat, lon],
            radius=11,
            color="#222",
            weight=2,
            fill=True,
            fill_color=CATEGORY_COLORS.get(r["category"], "#777"),
            fill_opacity=0.9,
            popup=folium.Popup(pt.remark_popup_html(r["category"], r["text"], r["created_at"]), max_width=320),
            tooltip=html.escape(str(r["category"])),
        ).add_to(m)
    pin_key = f"pin_{code}"
    pin = st.session_state.get(pin_key)
    fg = folium.FeatureGroup(name="Uw punt")
    if pin:
        folium.CircleMarker([pin[0], pin[1]], radius=14, color="#000", weight=4, fill=True, fill_color="#ffeb3b",
                            fill_opacity=1.0, tooltip="Uw punt").add_to(fg)
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
    from layers import participation as pt

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


def page_screening() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Screening van een plan")
    st.markdown(
        "Laad een plan (nieuwe gebouwen, groen, straten) en bekijk wat het verandert aan groen, fietsen, "
        "toegankelijkheid, hitte en water, met een verslag om te downloaden."
    )
    up = st.file_uploader(
        f"Plan uploaden (GeoPackage, GeoJSON of gezipte shapefile; max. {MAX_VECTOR_UPLOAD_MB} MB)",
        key="screening_upload", max_upload_size=MAX_VECTOR_UPLOAD_MB,
    )
    plan = None
    if up is not None:
        plan = read_uploaded_vector(up)
        if plan is not None:
            st.success(f"Plan gelezen: {len(plan)} objecten.")
            preview_vector(plan, "Plan", key="screening_preview")
    screening = lazy_import("screening.plan")
    if screening is None:
        not_available("Screening (voor/na-vergelijking en verslag)", "screening.plan")
        return
    st.info("De screeningsmodule is aanwezig maar nog niet gekoppeld in de app.")


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
        "Laad een ontwerp (stoepen, oversteken, hellingen) en toets elk element aan de regels voor "
        "toegankelijkheid: groen = voldoet, rood = voldoet niet, grijs = niet te beoordelen."
    )
    up = st.file_uploader(
        f"Ontwerp uploaden (GeoPackage, GeoJSON of gezipte shapefile; max. {MAX_VECTOR_UPLOAD_MB} MB)",
        key="toets_upload", max_upload_size=MAX_VECTOR_UPLOAD_MB,
    )
    design = None
    if up is not None:
        design = read_uploaded_vector(up)
        if design is not None:
            st.success(f"Ontwerp gelezen: {len(design)} elementen, kolommen: {', '.join(map(str, design.columns[:12]))}.")
            preview_vector(design, "Ontwerp", key="toets_preview")
    toets = lazy_import("screening.toets")
    if toets is None:
        not_available("Toegankelijkheidstoets", "screening.toets")
        return
    st.info("De toetsmodule is aanwezig maar nog niet gekoppeld in de app.")


# ---------------------------------------------------------------------------------------------
# page: Export
# ---------------------------------------------------------------------------------------------


def page_export() -> None:
    folder, stamp, area = current_area()
    synthetic_banner(area)
    st.title("Export")
    st.markdown("Download een laag van het studiegebied als GeoPackage, GeoJSON, GeoTIFF (raster) of CSV (attributen).")
    export = lazy_import("layers.export")
    if export is None:
        not_available("Export", "layers.export")
        return
    st.info("De exportmodule is aanwezig maar nog niet gekoppeld in de app.")


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
