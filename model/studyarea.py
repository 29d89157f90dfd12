"""The study area: one city's themes in one metric, validated, cached form.

A study area is a set of vector *themes* (boundary, wijken, buildings, streets, green, pois,
water) plus a land-cover raster, all in Belgian Lambert 72 (EPSG:31370), and a *manifest*
that says per theme where it came from, when, how many features it holds, which repairs were
made, and whether it is present at all.

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
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from gezondestad.model.errors import GezondeStadError

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


class StudyAreaError(GezondeStadError):
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
        2-D uint8 array of class codes (:data:`gezondestad.model.landcover.LANDCOVER_CLASSES`), 0 = nodata.
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


