"""The study area: one city's themes in one metric, validated, cached form.

A study area is a set of vector *themes* (boundary, wijken, buildings, streets, green, pois,
water) plus a land-cover raster, all in Belgian Lambert 72 (EPSG:31370), and a *manifest*
that says per theme where it came from, when, how many features it holds, which repairs were
made, and whether it is present at all.

On disk a study area is one folder::

    DIR/
      studyarea.gpkg   one layer per vector theme (canonical; open it in QGIS)
      cache/*.parquet  GeoParquet copies of the same themes, for fast loading
      landcover.tif    uint8 land-cover classes (see :mod:`spatial.landcover`)
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from affine import Affine

CRS = "EPSG:31370"
"""The one working CRS: Belgian Lambert 72 (metres)."""

VECTOR_THEMES: tuple[str, ...] = (
    "boundary",
    "wijken",
    "buildings",
    "streets",
    "green",
    "pois",
    "water",
    "landuse",
)
"""Vector themes of a study area, in the order they are written."""

STREET_TAGS: tuple[str, ...] = (
    "highway",
    "name",
    "cyclestreet",
    "bicycle_road",
    "maxspeed",
    "lanes",
    "sidewalk",
    "surface",
    "smoothness",
    "incline",
    "kerb",
    "width",
    "wheelchair",
    "lit",
    "access",
    "oneway",
    "foot",
    "bicycle",
    "footway",
    "cycleway",
    "segregated",
    "tactile_paving",
    "crossing",
    "bridge",
    "tunnel",
    "junction",
    "motor_vehicle",
)
"""OSM tags kept on every street edge (strings; missing = None, never a guessed default)."""

THEME_COLUMNS: dict[str, tuple[str, ...]] = {
    "boundary": ("name",),
    "wijken": ("wijk_code", "wijk_naam", "residents"),
    "buildings": ("building_id", "use", "levels", "residents"),
    "streets": ("edge_id", "u", "v", "length_m") + STREET_TAGS,
    "green": ("green_id", "kind", "name", "public", "area_m2", "tree_cover"),
    "pois": ("poi_id", "category", "subtype", "name", "wheelchair"),
    "water": ("water_id", "kind", "name", "width"),
    "landuse": ("landuse_id", "kind", "name"),
}
"""Columns each theme carries besides ``geometry`` (absent values are None/NaN)."""

POI_CATEGORIES: tuple[str, ...] = (
    "bus_stop",
    "tram_stop",
    "train_station",
    "school",
    "shop",
    "supermarket",
    "gp",
    "pharmacy",
    "healthcare",
    "toilet",
    "bench",
    "sports",
    "playground",
    "other",
)
"""Normalised POI categories (``pois.category``)."""

LANDUSE_KINDS: tuple[str, ...] = ("brownfield", "construction", "railway", "parking", "industrial", "residential", "commercial", "farmland", "other")
"""Normalised land-use kinds (``landuse.kind``); brownfield/construction burn as bare soil, parking as paved."""

GREEN_KINDS: tuple[str, ...] = ("park", "wood", "grass", "playground", "garden", "nature", "cemetery", "other")
"""Normalised green-space kinds (``green.kind``)."""


class StudyAreaError(ValueError):
    """Raised when a study area cannot be built, read or written; the message says what to do."""


@dataclass
class ThemeInfo:
    """Manifest entry of one theme.

    Attributes
    ----------
    status : str
        ``"present"``, ``"partial"`` (present but known incomplete) or ``"missing"``.
    source : str
        Where the data came from (file, OSM query, generator).
    date : str
        Date of the data (not of the import), as precise as known.
    count : int
        Number of features.
    repairs : dict
        Counts of repairs made while loading (``{"invalid_repaired": 3, "empty_dropped": 1}``).
    note : str
        Free text for a planner (e.g. what is missing and why).
    """

    status: str = "missing"
    source: str = ""
    date: str = ""
    count: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "source": self.source,
            "date": self.date,
            "count": int(self.count),
            "repairs": {k: int(v) for k, v in self.repairs.items()},
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ThemeInfo":
        return cls(
            status=d.get("status", "missing"),
            source=d.get("source", ""),
            date=d.get("date", ""),
            count=int(d.get("count", 0)),
            repairs=dict(d.get("repairs", {})),
            note=d.get("note", ""),
        )


@dataclass
class LandCover:
    """A land-cover raster in EPSG:31370.

    Attributes
    ----------
    classes : numpy.ndarray
        2-D uint8 array of class codes (:data:`spatial.landcover.LANDCOVER_CLASSES`), 0 = nodata.
    transform : affine.Affine
        Pixel-to-Lambert-72 transform (north-up).
    resolution_m : float
        Cell size in metres.
    """

    classes: np.ndarray
    transform: Affine
    resolution_m: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.classes.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        h, w = self.classes.shape
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 - h * self.resolution_m, x0 + w * self.resolution_m, y1)

    def copy(self) -> "LandCover":
        return LandCover(self.classes.copy(), self.transform, self.resolution_m)


def empty_theme(theme: str) -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the columns of ``theme`` in EPSG:31370."""
    cols = THEME_COLUMNS[theme]
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in cols}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def conform_theme(theme: str, gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Return ``gdf`` with exactly the model columns of ``theme`` (missing ones added as None).

    Extra columns are kept after the model columns so city-specific attributes survive.
    """
    if gdf is None or len(gdf) == 0:
        out = empty_theme(theme)
        if gdf is not None:
            for c in gdf.columns:
                if c not in out.columns and c != gdf.geometry.name:
                    out[c] = pd.Series(dtype="object")
        return out
    if gdf.crs is None:
        raise StudyAreaError(f"Theme '{theme}' has no CRS; load it through layers.validate first.")
    cols = list(THEME_COLUMNS[theme])
    if list(gdf.columns[: len(cols)]) == cols and gdf.columns[-1] == "geometry" and gdf.geometry.name == "geometry" \
            and gdf.crs.to_epsg() == 31370:
        return gdf  # already in the model (e.g. read back from the cache): no copy
    gdf = gdf.to_crs(CRS) if gdf.crs.to_epsg() != 31370 else gdf.copy()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    for c in THEME_COLUMNS[theme]:
        if c not in gdf.columns:
            gdf[c] = None
    extra = [c for c in gdf.columns if c not in THEME_COLUMNS[theme] and c != "geometry"]
    return gpd.GeoDataFrame(gdf[list(THEME_COLUMNS[theme]) + extra + ["geometry"]], geometry="geometry", crs=CRS)


@dataclass
class StudyArea:
    """A city (or part of one) in the model of this project.

    Attributes
    ----------
    name : str
        Human-readable name ("Mechelen", "Demo-stad").
    themes : dict of str to GeoDataFrame
        One GeoDataFrame per entry of :data:`VECTOR_THEMES`, in EPSG:31370, with the columns of
        :data:`THEME_COLUMNS` (missing themes are empty frames, never absent keys).
    landcover : LandCover or None
        The land-cover raster, or None when not derived yet.
    manifest : dict
        ``{"name", "crs", "created", "synthetic", "themes": {theme: ThemeInfo.to_dict()}, ...}``.
    """

    name: str
    themes: dict[str, gpd.GeoDataFrame]
    landcover: LandCover | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t in VECTOR_THEMES:
            self.themes[t] = conform_theme(t, self.themes.get(t))
        self.manifest.setdefault("name", self.name)
        self.manifest.setdefault("crs", CRS)
        self.manifest.setdefault("synthetic", False)
        self.manifest.setdefault("themes", {})
        for t in VECTOR_THEMES:
            info = self.manifest["themes"].setdefault(t, ThemeInfo().to_dict())
            info["count"] = int(len(self.themes[t]))
            if info["count"] == 0:
                info["status"] = "missing"

    # convenient attribute access --------------------------------------------------------
    @property
    def boundary(self) -> gpd.GeoDataFrame:
        return self.themes["boundary"]

    @property
    def wijken(self) -> gpd.GeoDataFrame:
        return self.themes["wijken"]

    @property
    def buildings(self) -> gpd.GeoDataFrame:
        return self.themes["buildings"]

    @property
    def streets(self) -> gpd.GeoDataFrame:
        return self.themes["streets"]

    @property
    def green(self) -> gpd.GeoDataFrame:
        return self.themes["green"]

    @property
    def pois(self) -> gpd.GeoDataFrame:
        return self.themes["pois"]

    @property
    def water(self) -> gpd.GeoDataFrame:
        return self.themes["water"]

    @property
    def landuse(self) -> gpd.GeoDataFrame:
        return self.themes["landuse"]

    def theme_info(self, theme: str) -> ThemeInfo:
        """Manifest entry of ``theme``."""
        return ThemeInfo.from_dict(self.manifest["themes"].get(theme, {}))

    def has(self, theme: str) -> bool:
        """True when ``theme`` holds at least one feature."""
        return len(self.themes[theme]) > 0

    def require(self, *themes: str) -> None:
        """Raise :class:`StudyAreaError` naming every theme in ``themes`` that is missing."""
        missing = [t for t in themes if not self.has(t)]
        if missing:
            raise StudyAreaError(
                f"Study area '{self.name}' has no {', '.join(missing)}; this indicator needs "
                f"{'it' if len(missing) == 1 else 'them'}. Add a source for "
                f"{'that theme' if len(missing) == 1 else 'those themes'} and prepare again."
            )

    def copy(self) -> "StudyArea":
        """A deep copy (themes, raster and manifest), e.g. to apply a plan to."""
        return StudyArea(
            name=self.name,
            themes={t: g.copy() for t, g in self.themes.items()},
            landcover=self.landcover.copy() if self.landcover is not None else None,
            manifest=json.loads(json.dumps(self.manifest)),
        )

    def summary(self) -> pd.DataFrame:
        """One row per theme: status, count, source, date, repairs (for the app and the CLI)."""
        rows = []
        for t in VECTOR_THEMES:
            i = self.theme_info(t)
            rows.append(
                {
                    "theme": t,
                    "status": i.status,
                    "count": i.count,
                    "source": i.source,
                    "date": i.date,
                    "repairs": ", ".join(f"{k}={v}" for k, v in i.repairs.items() if v),
                    "note": i.note,
                }
            )
        return pd.DataFrame(rows)


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
    """Write a land-cover raster as a compressed GeoTIFF in EPSG:31370."""
    h, w = lc.classes.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=lc.transform,
        nodata=0,
        compress="deflate",
    ) as dst:
        dst.write(lc.classes.astype("uint8"), 1)


def read_landcover(path: str | os.PathLike) -> LandCover:
    """Read a land-cover GeoTIFF written by :func:`write_landcover`."""
    with rasterio.open(path) as src:
        if src.crs is None or src.crs.to_epsg() != 31370:
            raise StudyAreaError(f"{path}: land cover must be in EPSG:31370, found {src.crs}.")
        return LandCover(src.read(1), src.transform, float(src.res[0]))


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
                    gdf = gdf.set_crs(CRS)
                themes[t] = gdf
    lc = read_landcover(d / LANDCOVER_NAME) if (d / LANDCOVER_NAME).is_file() else None
    return StudyArea(name=manifest.get("name", d.name), themes=themes, landcover=lc, manifest=manifest)
