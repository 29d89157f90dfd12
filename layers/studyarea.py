"""Reading and writing a study area folder (GeoPackage + GeoParquet + GeoTIFF + manifest).

On disk a study area is one folder::

    DIR/
      studyarea.gpkg   one layer per vector theme (canonical; open it in QGIS)
      cache/*.parquet  GeoParquet copies of the same themes, for fast loading
      landcover.tif    uint8 land-cover classes (see :mod:`gezondestad.model.landcover`)
      manifest.json    source, date, CRS, counts, repairs per theme

Writing is atomic: the folder is built under a temporary name next to the target and renamed
into place, so an interrupted write never leaves a half-written cache behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from gezondestad.model.studyarea import (
    DEFAULT_CRS,
    VECTOR_THEMES,
    LandCover,
    StudyArea,
    StudyAreaError,
    crs_string,
)
from pyproj import CRS as ProjCRS

# --------------------------------------------------------------------------------------------
# cache on disk
# --------------------------------------------------------------------------------------------

GPKG_NAME = "studyarea.gpkg"
PARQUET_DIR = "cache"
"""GeoParquet copies of the themes, read instead of the GeoPackage because they load ~3x faster.
The GeoPackage stays the canonical copy for GIS users; when it is newer than the manifest (edited
in QGIS after saving) the loader reads it and ignores the Parquet copies."""
LANDCOVER_NAME = "landcover.tif"
MANIFEST_NAME = "manifest.json"


def _for_gpkg(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make object columns GeoPackage-safe (mixed types become strings, None stays null)."""
    out = gdf.copy()
    for c in out.columns:
        if c == "geometry":
            continue
        s = out[c]
        if s.dtype == object or str(s.dtype).startswith("string"):
            vals = s.dropna()
            if len(vals) and not all(isinstance(v, str) for v in vals):
                if all(isinstance(v, (bool, np.bool_)) for v in vals):
                    continue
                if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
                    out[c] = pd.to_numeric(s)
                    continue
                out[c] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def write_landcover(lc: LandCover, path: str | os.PathLike) -> None:
    """Write a land-cover raster as a compressed GeoTIFF in its own CRS (``lc.crs``)."""
    h, w = lc.classes.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype="uint8",
        crs=lc.crs,
        transform=lc.transform,
        nodata=0,
        compress="deflate",
    ) as dst:
        dst.write(lc.classes.astype("uint8"), 1)


def read_landcover(path: str | os.PathLike, crs: str = DEFAULT_CRS) -> LandCover:
    """Read a land-cover GeoTIFF written by :func:`write_landcover`; it must be in ``crs`` (the area's)."""
    with rasterio.open(path) as src:
        if src.crs is None or not ProjCRS.from_user_input(src.crs.to_wkt()).equals(ProjCRS.from_user_input(crs)):
            raise StudyAreaError(f"{path}: land cover must be in {crs} (the study area's CRS), found {src.crs}.")
        return LandCover(src.read(1), src.transform, float(src.res[0]), crs)


def save_study_area(area: StudyArea, directory: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write ``area`` to ``directory`` atomically (GeoPackage + GeoTIFF + manifest.json).

    Parameters
    ----------
    area : StudyArea
        The study area to write.
    directory : path
        Target folder; created, or replaced when ``overwrite`` is True.
    overwrite : bool
        Replace an existing folder. When False and the folder exists, raise.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    target = Path(directory).resolve()
    if target.exists() and not overwrite:
        raise StudyAreaError(f"{target} exists already; choose another folder or allow overwriting.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        gpkg = tmp / GPKG_NAME
        for t in VECTOR_THEMES:
            gdf = _for_gpkg(area.themes[t])
            # GeoPackage has one geometry type per layer at best; let pyogrio promote to multi.
            pyogrio.write_dataframe(gdf, gpkg, layer=t, driver="GPKG", promote_to_multi=False)
            (tmp / PARQUET_DIR).mkdir(exist_ok=True)
            gdf.to_parquet(tmp / PARQUET_DIR / f"{t}.parquet", index=False)
        if area.landcover is not None:
            write_landcover(area.landcover, tmp / LANDCOVER_NAME)
        manifest = dict(area.manifest)
        manifest["name"] = area.name
        manifest["saved"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        if area.landcover is not None:
            manifest["landcover"] = {
                "file": LANDCOVER_NAME,
                "resolution_m": area.landcover.resolution_m,
                "shape": list(area.landcover.shape),
                "bounds": list(area.landcover.bounds),
            }
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def is_study_area_dir(directory: str | os.PathLike) -> bool:
    """True when ``directory`` holds a complete cached study area."""
    d = Path(directory)
    return (d / GPKG_NAME).is_file() and (d / MANIFEST_NAME).is_file()


def load_study_area(directory: str | os.PathLike) -> StudyArea:
    """Load a study area written by :func:`save_study_area`.

    Raises
    ------
    StudyAreaError
        When the folder is not a (complete) study area.
    """
    d = Path(directory)
    if not is_study_area_dir(d):
        raise StudyAreaError(
            f"{d} is not a prepared study area (expected {GPKG_NAME} and {MANIFEST_NAME}); "
            "run 'gezondestad prepare ... --out DIR' first."
        )
    manifest = json.loads((d / MANIFEST_NAME).read_text(encoding="utf-8"))
    area_crs = crs_string(manifest.get("crs") or DEFAULT_CRS)  # caches from before per-area CRS: Lambert 72
    themes: dict[str, gpd.GeoDataFrame] = {}
    pq = [d / PARQUET_DIR / f"{t}.parquet" for t in VECTOR_THEMES]
    gpkg_edited = (d / GPKG_NAME).stat().st_mtime > (d / MANIFEST_NAME).stat().st_mtime + 1.0
    if all(p.is_file() for p in pq) and not gpkg_edited:
        try:
            for t, p in zip(VECTOR_THEMES, pq):
                themes[t] = gpd.read_parquet(p)
        except Exception:  # a damaged Parquet copy: fall back to the canonical GeoPackage
            themes = {}
    if not themes:
        layers = {name for name, _ in pyogrio.list_layers(d / GPKG_NAME)}
        for t in VECTOR_THEMES:
            if t in layers:
                gdf = pyogrio.read_dataframe(d / GPKG_NAME, layer=t)
                if gdf.crs is None:
                    gdf = gdf.set_crs(area_crs)
                themes[t] = gdf
    lc = read_landcover(d / LANDCOVER_NAME, area_crs) if (d / LANDCOVER_NAME).is_file() else None
    return StudyArea(name=manifest.get("name", d.name), themes=themes, landcover=lc, manifest=manifest, crs=area_crs)
