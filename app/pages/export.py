"""Page "Export": any theme or computed indicator layer as GeoPackage, GeoJSON, CSV or GeoTIFF."""

from __future__ import annotations

import re
from dataclasses import dataclass

import geopandas as gpd
import streamlit as st
from gezondestad.app import compute
from gezondestad.app.state import W
from gezondestad.app.ui import THEME_NL, guarded, show_notes, synthetic_banner
from gezondestad.layers import export
from gezondestad.model.fmt import fmt_people
from gezondestad.model.studyarea import StudyArea

TITLE = "Export"
CRS_NL = {"EPSG:31370": "Lambert 72 (EPSG:31370)", "EPSG:4326": "WGS84 (EPSG:4326)"}


@dataclass(frozen=True)
class ExportLayer:
    key: str
    label: str
    kind: str  # "vector" | "raster"
    family: str | None  # None: a theme of the study area; "any": every family


INDICATOR_EXPORTS: tuple[ExportLayer, ...] = (
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
    ExportLayer("noise:homes", "Woningen met geluid (Lden, Lnight, klasse, WHO-richtlijn, hinder)", "vector", "noise"),
    ExportLayer("noise:destinations", "Gevoelige bestemmingen met geluid (Lden, Lnight)", "vector", "noise"),
    ExportLayer("air:homes", "Woningen met luchtkwaliteit (NO2, PM2,5, klasse)", "vector", "air"),
    ExportLayer("air:destinations", "Gevoelige bestemmingen met luchtkwaliteit (NO2, PM2,5)", "vector", "air"),
)


def export_layers(area: StudyArea) -> list[ExportLayer]:
    """Every layer the Export page offers for this study area (themes first, then indicators)."""
    out = [ExportLayer(f"theme:{t}", f"Thema – {THEME_NL.get(t, t)}", "vector", None) for t in area.themes if area.has(t)]
    if area.landcover is not None:
        out.append(ExportLayer("landcover", "Raster – Bodembedekking", "raster", None))
    return out + list(INDICATOR_EXPORTS)


@guarded
def render() -> None:
    folder, stamp, area = compute.current_area()
    synthetic_banner(area)
    st.title(TITLE)
    st.markdown(
        "Download een laag van het studiegebied of een berekende indicator als **GeoPackage**, **GeoJSON**, "
        "**CSV** (attributen) of **GeoTIFF** (rasters), in Lambert 72 (EPSG:31370) of WGS84 (EPSG:4326)."
    )
    by_label = {lyr.label: lyr for lyr in export_layers(area)}
    label = st.selectbox("Laag", list(by_label), key=W.EXPORT_LAYER)
    lyr = by_label[label]
    fmts = {"GeoPackage (.gpkg)": "gpkg", "GeoJSON (.geojson, altijd WGS84)": "geojson", "CSV (attributen)": "csv"} \
        if lyr.kind == "vector" else {"GeoTIFF (.tif)": "geotiff"}
    c1, c2 = st.columns(2)
    fmt_label = c1.radio("Formaat", list(fmts), key=W.export_format(lyr.kind))
    fmt = fmts[fmt_label]
    crs = c2.radio("Coördinatenstelsel", list(export.EXPORT_CRS), key=W.EXPORT_CRS,
                   format_func=lambda c: CRS_NL.get(c, c), disabled=fmt == "geojson")
    if lyr.family not in (None, "any"):
        outcome = compute.family_result(lyr.family, folder, stamp)
        if outcome.result is None:
            st.info(f"{outcome.label} is niet berekend voor dit studiegebied: {outcome.message}")
            return
        show_notes(outcome.notes, outcome.label)
    obj = compute.export_object(lyr.key, folder, stamp)
    if isinstance(obj, gpd.GeoDataFrame):
        n, k = len(obj), len(obj.columns) - 1
        st.caption(f"{fmt_people(n)} {'object' if n == 1 else 'objecten'}, {fmt_people(k)} {'kolom' if k == 1 else 'kolommen'}.")
        if len(obj) == 0:
            st.info("Deze laag is leeg in dit studiegebied.")
    name = re.sub(r"[^a-z0-9]+", "_", f"{area.name}_{lyr.key}".lower()).strip("_")
    layer_name = re.sub(r"[^a-z0-9]+", "_", lyr.key.lower()).strip("_")

    def make_bytes() -> bytes:
        return export.layer_to_bytes(obj, fmt, crs, layer=layer_name)

    st.download_button(f"Download {fmt_label.split(' ')[0]}", data=make_bytes, file_name=f"{name}{export.SUFFIX[fmt]}",
                       mime=export.MIME[fmt], on_click="ignore", type="primary", key=W.EXPORT_DOWNLOAD)
