"""Export study-area layers to GeoPackage, GeoJSON, CSV and GeoTIFF, in EPSG:31370 or EPSG:4326.

- :func:`export_study_area` writes every vector theme (gpkg / geojson / csv) or the land-cover
  raster (geotiff) of a study area into a folder, with the manifest next to it (sources, dates
  and licences travel with the data: ODbL asks for attribution).
- :func:`layer_to_bytes` turns one GeoDataFrame or raster into the bytes of a file, for the
  app's download buttons.

Formats:

- ``gpkg``: one GeoPackage; a layer per theme.
- ``geojson``: one file per theme, always WGS84 longitude/latitude (RFC 7946 allows no other
  CRS), coordinates with 7 decimals (~1 cm).
- ``csv``: attributes per theme; points get ``x``/``y`` columns (``lon``/``lat`` in EPSG:4326),
  lines and polygons a ``wkt`` column.
- ``geotiff``: rasters (land cover; any array + transform); reprojected with nearest neighbour
  so class codes stay class codes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
from affine import Affine
from gezondestad.layers.studyarea import MANIFEST_NAME, _for_gpkg
from gezondestad.layers.textsafe import defuse_formulas
from gezondestad.model.progress import Progress, as_progress
from gezondestad.model.studyarea import (
    CRS,
    DEFAULT_CRS,
    VECTOR_THEMES,
    LandCover,
    StudyArea,
    StudyAreaError,
)
from pyproj import CRS as ProjCRS
from rasterio.transform import array_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject

FORMATS: tuple[str, ...] = ("gpkg", "geojson", "csv", "geotiff")
"""Export formats."""

EXPORT_CRS: tuple[str, ...] = ("EPSG:31370", "EPSG:4326")
"""CRSs offered for export (Lambert 72 for GIS staff, WGS84 for web maps)."""

logger = logging.getLogger(__name__)

SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "csv": ".csv", "geotiff": ".tif"}
MIME = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv", "geotiff": "image/tiff"}


class ExportError(StudyAreaError):
    """A layer cannot be exported as asked; the message says why and what to choose instead."""


@dataclass
class Raster:
    """Any single-band raster to export: values, north-up transform and CRS.

    Attributes
    ----------
    array : ndarray (rows, cols)
    transform : affine.Affine
    crs : str
    nodata : float or None
    """

    array: np.ndarray
    transform: Affine
    crs: str = CRS
    nodata: float | None = None


def _check(fmt: str, crs: str | None) -> tuple[str, str | None]:
    f = fmt.lower().lstrip(".")
    f = {"tif": "geotiff", "tiff": "geotiff", "json": "geojson", "gpkg": "gpkg"}.get(f, f)
    if f not in FORMATS:
        raise ExportError(f"Onbekend exportformaat '{fmt}'; kies uit {', '.join(FORMATS)}.")
    if crs is None:
        return f, None  # the layer's own (the study area's) CRS
    try:
        c = ProjCRS.from_user_input(crs)
    except Exception as exc:
        raise ExportError(f"Onbekend CRS '{crs}'; gebruik bv. EPSG:31370 (Lambert 72) of EPSG:4326 (WGS84).") from exc
    return f, f"EPSG:{c.to_epsg()}" if c.to_epsg() else c.to_string()


def _as_raster(obj: Any) -> Raster:
    if isinstance(obj, Raster):
        return obj
    if isinstance(obj, gpd.GeoDataFrame):
        raise ExportError("Deze laag bevat vectorgegevens: exporteer ze als gpkg, geojson of csv (GeoTIFF is voor rasters).")
    if isinstance(obj, LandCover):
        return Raster(obj.classes, obj.transform, obj.crs, 0)
    if isinstance(obj, tuple) and len(obj) in (2, 3) and isinstance(obj[0], np.ndarray):
        return Raster(obj[0], obj[1], obj[2] if len(obj) == 3 else CRS)
    raise ExportError(f"Een {type(obj).__name__} kan niet als GeoTIFF geëxporteerd worden; geef een LandCover, een Raster of (array, transform[, crs]).")


# --------------------------------------------------------------------------------------------
# writers (to a path)
# --------------------------------------------------------------------------------------------


def write_vector(gdf: gpd.GeoDataFrame, path: str | os.PathLike, fmt: str, crs: str | None = None, layer: str = "layer") -> Path:
    """Write one GeoDataFrame as ``gpkg`` (layer ``layer``, appended to an existing file), ``geojson`` or ``csv``; ``crs`` None keeps ``gdf.crs``."""
    fmt, crs = _check(fmt, crs)
    if fmt == "geotiff":
        raise ExportError(f"Laag '{layer}' bevat vectorgegevens: exporteer ze als gpkg, geojson of csv (GeoTIFF is voor rasters).")
    p = Path(path)
    if gdf.crs is None:
        raise ExportError(f"Laag '{layer}' heeft geen CRS; ze kan niet geëxporteerd worden.")
    crs = crs or gdf.crs.to_string()
    if fmt == "geojson":
        # RFC 7946: GeoJSON is WGS84 lon/lat, whatever the caller asked for
        out = _for_gpkg(gdf.to_crs("EPSG:4326"))
        pyogrio.write_dataframe(out, p, driver="GeoJSON", layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7"})
    elif fmt == "gpkg":
        out = _for_gpkg(gdf.to_crs(crs))
        # a new layer name adds a layer to an existing GeoPackage (as save_study_area does)
        pyogrio.write_dataframe(out, p, layer=layer, driver="GPKG")
    else:
        to_csv_frame(gdf, crs).to_csv(p, index=False)
    return p


def to_csv_frame(gdf: gpd.GeoDataFrame, crs: str | None = None) -> pd.DataFrame:
    """Attributes of ``gdf`` plus ``x``/``y`` (points; ``lon``/``lat`` in a geographic CRS) or ``wkt``; ``crs`` None keeps ``gdf.crs``."""
    _, crs = _check("csv", crs)
    crs = crs or gdf.crs.to_string()
    g = gdf.to_crs(crs)
    df = pd.DataFrame(g.drop(columns=g.geometry.name))
    geoms = np.asarray(g.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    ok = ~shapely.is_missing(geoms)
    geographic = ProjCRS.from_user_input(crs).is_geographic
    if len(g) and bool(np.all(types[ok] == 0)):
        xy = np.full((len(g), 2), np.nan)
        if ok.any():
            xy[ok] = shapely.get_coordinates(geoms[ok])
        nx, ny = ("lon", "lat") if geographic else ("x", "y")
        df[nx] = np.round(xy[:, 0], 7 if geographic else 3)
        df[ny] = np.round(xy[:, 1], 7 if geographic else 3)
    else:
        df["wkt"] = shapely.to_wkt(geoms, rounding_precision=7 if geographic else 3)
    return defuse_formulas(df)  # names from OSM or a city file must not run as spreadsheet formulas


def write_raster(raster: Any, path: str | os.PathLike, crs: str | None = None) -> Path:
    """Write a raster as a compressed GeoTIFF in ``crs`` (nearest-neighbour reprojection; None keeps its own)."""
    _, crs = _check("geotiff", crs)
    r = _as_raster(raster)
    crs = crs or r.crs
    arr = np.asarray(r.array)
    if arr.ndim != 2:
        raise ExportError(f"Een raster moet 2D zijn, niet vorm {arr.shape}.")
    src_crs = rasterio.crs.CRS.from_user_input(r.crs)
    dst_crs = rasterio.crs.CRS.from_user_input(crs)
    h, w = arr.shape
    nodata = r.nodata if r.nodata is not None else (0 if np.issubdtype(arr.dtype, np.integer) else np.nan)
    if src_crs == dst_crs:
        out, transform = arr, r.transform
    else:
        west, south, east, north = array_bounds(h, w, r.transform)
        transform, dw, dh = calculate_default_transform(src_crs, dst_crs, w, h, left=west, bottom=south, right=east, top=north)
        out = np.full((dh, dw), nodata, dtype=arr.dtype)
        reproject(arr, out, src_transform=r.transform, src_crs=src_crs, dst_transform=transform, dst_crs=dst_crs, resampling=Resampling.nearest, src_nodata=nodata, dst_nodata=nodata)
    with rasterio.open(
        path, "w", driver="GTiff", height=out.shape[0], width=out.shape[1], count=1, dtype=out.dtype, crs=dst_crs, transform=transform, nodata=nodata, compress="deflate"
    ) as dst:
        dst.write(out, 1)
    return Path(path)


# --------------------------------------------------------------------------------------------
# bytes (download buttons) and whole study areas
# --------------------------------------------------------------------------------------------


def layer_to_bytes(obj: gpd.GeoDataFrame | LandCover | Raster | tuple, fmt: str, crs: str | None = None, layer: str = "layer") -> bytes:
    """The bytes of one layer written as ``fmt`` in ``crs`` (GeoJSON: always EPSG:4326).

    Parameters
    ----------
    obj : GeoDataFrame, LandCover, Raster or (array, transform[, crs])
    fmt : {"gpkg", "geojson", "csv", "geotiff"}
    crs : str
        Target CRS, e.g. ``EPSG:4326``; None keeps the layer's own (the study area's).
    layer : str
        Layer name inside a GeoPackage.
    """
    fmt, crs = _check(fmt, crs)
    if fmt == "csv" and isinstance(obj, gpd.GeoDataFrame):
        return to_csv_frame(obj, crs).to_csv(index=False).encode("utf-8")
    tmp = Path(tempfile.mkdtemp(prefix="gezondestad-export-"))
    try:
        p = tmp / f"{layer}{SUFFIX[fmt]}"
        if fmt == "geotiff":
            write_raster(obj, p, crs)
        elif isinstance(obj, gpd.GeoDataFrame):
            write_vector(obj, p, fmt, crs, layer)
        else:
            raise ExportError(f"Een raster ({type(obj).__name__}) kan enkel als geotiff geëxporteerd worden, niet als {fmt}.")
        return p.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_table(table: pd.DataFrame, path: str | os.PathLike, dutch: bool = False) -> Path:
    """Write a plain table as CSV: comma-separated with a decimal point, or for Dutch spreadsheets
    (``dutch``) semicolon-separated with a decimal comma and a byte-order mark (Excel, nl-BE).

    The one writer for every user-facing CSV file (CLI outputs, study-area export): text cells a
    spreadsheet would run as a formula get an apostrophe (:func:`~gezondestad.layers.textsafe.defuse_formulas`);
    numbers, including negative ones, are written unchanged. The parent folder is created.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    table = defuse_formulas(table)  # text cells starting with = + - @ get an apostrophe
    if dutch:
        table.to_csv(p, index=False, sep=";", decimal=",", encoding="utf-8-sig")
    else:
        table.to_csv(p, index=False)
    return p


def export_study_area(
    area: StudyArea,
    out_dir: str | os.PathLike,
    fmt: str,
    crs: str | None = None,
    progress: Progress | bool | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    dutch_tables: bool = False,
) -> list[Path]:
    """Export a study area: vector themes (gpkg/geojson/csv) or the land cover (geotiff).

    Empty themes are skipped (the manifest, written next to the files as ``manifest.json``,
    says they are missing). Files are named ``<name>_<theme>.<ext>`` (a GeoPackage holds all
    themes as layers: ``<name>.gpkg``), with ``_4326`` appended in WGS84. Plain ``tables``
    (e.g. the indicators per wijk) are written as ``<name>_<key>.csv`` (:func:`write_table`,
    ``dutch_tables`` for Dutch spreadsheets) and listed in the manifest too.

    Returns
    -------
    list of pathlib.Path
        The files written (manifest last).
    """
    fmt, crs = _check(fmt, crs)
    crs = crs or area.crs or DEFAULT_CRS
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in area.name.lower()) or "studyarea"
    tag = "" if crs == area.crs else "_" + crs.split(":")[-1]
    if fmt == "geojson":
        tag = "_4326"
    written: list[Path] = []
    themes = [t for t in VECTOR_THEMES if area.has(t)]
    report = as_progress(progress if fmt != "geotiff" else None, f"Export {fmt}")

    def it_themes() -> Any:
        for i, t in enumerate(themes):
            report(i, len(themes), t)
            yield t
        report(len(themes), len(themes), "klaar")

    it = it_themes()
    if fmt == "geotiff":
        if area.landcover is None:
            raise ExportError(f"Studiegebied '{area.name}' heeft geen bodembedekkingsraster om te exporteren; zet het opnieuw klaar.")
        written.append(write_raster(area.landcover, out / f"{stem}_landcover{tag}.tif", crs))
    elif fmt == "gpkg":
        p = out / f"{stem}{tag}.gpkg"
        if p.exists():
            p.unlink()
        for t in it:
            write_vector(area.themes[t], p, "gpkg", crs, layer=t)
        written.append(p)
    else:
        for t in it:
            written.append(write_vector(area.themes[t], out / f"{stem}_{t}{tag}{SUFFIX[fmt]}", fmt, crs, layer=t))
    for key, table in (tables or {}).items():
        written.append(write_table(table, out / f"{stem}_{key}.csv", dutch=dutch_tables))
    man = dict(area.manifest)
    man["export"] = {"format": fmt, "crs": "EPSG:4326" if fmt == "geojson" else crs, "files": [p.name for p in written]}
    mp = out / MANIFEST_NAME
    mp.write_text(json.dumps(man, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    written.append(mp)
    logger.info("exported %s (%s): %d file(s) to %s", area.name, fmt, len(written), out)
    return written


__all__ = [
    "FORMATS", "EXPORT_CRS", "MIME", "ExportError", "Raster", "export_study_area", "layer_to_bytes", "write_vector", "write_raster",
    "to_csv_frame", "write_table",
]
