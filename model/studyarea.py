"""The study area: one city's themes in one metric, validated, cached form.

A study area is a set of vector *themes* (boundary, wijken, buildings, streets, green, pois,
water) plus a land-cover raster, all in the area's own metric CRS (:attr:`StudyArea.crs`: Belgian
Lambert 72, EPSG:31370, in Belgium; the local UTM zone elsewhere), and a *manifest*
that says per theme where it came from, when, how many features it holds, which repairs were
made, and whether it is present at all.

Its folder on disk (GeoPackage, GeoParquet cache, land-cover GeoTIFF, manifest) and the atomic
write are described in :mod:`gezondestad.layers.studyarea`, which reads and writes it.
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

DEFAULT_CRS = "EPSG:31370"
"""Working CRS of a Belgian study area (Belgian Lambert 72, metres), and of old caches whose manifest names none."""

CRS = DEFAULT_CRS
"""Deprecated alias of :data:`DEFAULT_CRS`: use ``area.crs`` (or ``gdf.crs``) so that areas outside Belgium work."""

BELGIUM_LONLAT_BOX: tuple[float, float, float, float] = (2.5, 49.45, 6.45, 51.55)
"""(west, south, east, north) in degrees: an area whose centroid lies inside works in Lambert 72."""

VECTOR_THEMES: tuple[str, ...] = (
    "boundary",
    "wijken",
    "buildings",
    "streets",
    "green",
    "pois",
    "water",
    "landuse",
    "railways",
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
    "railways": ("railway_id", "kind", "name", "tracks", "maxspeed"),
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
    "traffic",
)
"""Normalised POI categories (``pois.category``). ``traffic`` (subtype ``traffic_signals``) is no
facility: traffic lights kept only for the CNOSSOS-EU junction correction of road noise."""

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


def crs_string(crs: Any) -> str:
    """``"EPSG:nnnn"`` for any CRS pyproj understands (None -> :data:`DEFAULT_CRS`).

    Raises
    ------
    StudyAreaError
        When ``crs`` is unknown, or not a projected CRS in metres (a study area measures in metres).
    """
    from pyproj import CRS as ProjCRS
    from pyproj.exceptions import CRSError

    if crs is None:
        return DEFAULT_CRS
    try:
        c = ProjCRS.from_user_input(crs)
    except CRSError as exc:
        raise StudyAreaError(f"Onbekend coördinatenstelsel '{crs}': geef een EPSG-code, bv. EPSG:31370 (Lambert 72) of EPSG:32628 (UTM 28N).") from exc
    if not c.is_projected or (c.axis_info and c.axis_info[0].unit_name not in ("metre", "meter")):
        raise StudyAreaError(f"Coördinatenstelsel {crs} is niet metrisch geprojecteerd; een studiegebied rekent in meter. Kies bv. de UTM-zone van de stad (EPSG:326xx).")
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_string()


def local_metric_crs(lon: float, lat: float) -> str:
    """The working CRS for an area whose centroid is at (lon, lat) in degrees.

    Belgian Lambert 72 (EPSG:31370) inside :data:`BELGIUM_LONLAT_BOX`; elsewhere the WGS84 UTM zone
    of the centroid (EPSG:326zz north, 327zz south; the Norway/Svalbard zone exceptions are not
    applied). Within a UTM zone the scale error is at most 0.1 % near the central meridian and
    +0.04 % at the zone edge, so distances and areas are right within 0.1 %.
    """
    w, s, e, n = BELGIUM_LONLAT_BOX
    if w <= lon <= e and s <= lat <= n:
        return DEFAULT_CRS
    zone = int((float(lon) + 180.0) // 6.0) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def crs_for_geometries(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """:func:`local_metric_crs` of the centre of ``gdf``'s extent (any CRS)."""
    if gdf is None or len(gdf) == 0 or gdf.crs is None:
        return DEFAULT_CRS
    x0, y0, x1, y1 = gdf.to_crs(4326).total_bounds
    return local_metric_crs((x0 + x1) / 2.0, (y0 + y1) / 2.0)


@dataclass
class LandCover:
    """A land-cover raster in the study area's metric CRS.

    Attributes
    ----------
    classes : numpy.ndarray
        2-D uint8 array of class codes (:data:`gezondestad.model.landcover.LANDCOVER_CLASSES`), 0 = nodata.
    transform : affine.Affine
        Pixel-to-Lambert-72 transform (north-up).
    resolution_m : float
        Cell size in metres.
    crs : str
        The grid's CRS (the study area's, ``"EPSG:31370"`` by default).
    """

    classes: np.ndarray
    transform: Affine
    resolution_m: float
    crs: str = DEFAULT_CRS

    @property
    def shape(self) -> tuple[int, int]:
        return self.classes.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        h, w = self.classes.shape
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 - h * self.resolution_m, x0 + w * self.resolution_m, y1)

    def copy(self) -> "LandCover":
        return LandCover(self.classes.copy(), self.transform, self.resolution_m, self.crs)


def empty_theme(theme: str, crs: str | None = None) -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the columns of ``theme`` in ``crs`` (default EPSG:31370)."""
    cols = THEME_COLUMNS[theme]
    crs = crs or DEFAULT_CRS
    return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in cols}, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def conform_theme(theme: str, gdf: gpd.GeoDataFrame | None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` with exactly the model columns of ``theme`` (missing ones added as None).

    Extra columns are kept after the model columns so city-specific attributes survive. The
    result is in ``crs`` when given, else in ``gdf``'s own CRS (an empty/None frame: EPSG:31370).
    """
    if gdf is None or len(gdf) == 0:
        out = empty_theme(theme, crs or (gdf.crs if gdf is not None and gdf.crs is not None else None))
        if gdf is not None:
            for c in gdf.columns:
                if c not in out.columns and c != gdf.geometry.name:
                    out[c] = pd.Series(dtype="object")
        return out
    if gdf.crs is None:
        raise StudyAreaError(f"Theme '{theme}' has no CRS; load it through layers.validate first.")
    cols = list(THEME_COLUMNS[theme])
    target = gdf.crs if crs is None else crs
    same = gdf.crs.equals(target) if crs is not None else True
    if list(gdf.columns[: len(cols)]) == cols and gdf.columns[-1] == "geometry" and gdf.geometry.name == "geometry" and same:
        return gdf  # already in the model (e.g. read back from the cache): no copy
    gdf = gdf.to_crs(target) if not same else gdf.copy()
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    for c in THEME_COLUMNS[theme]:
        if c not in gdf.columns:
            gdf[c] = None
    extra = [c for c in gdf.columns if c not in THEME_COLUMNS[theme] and c != "geometry"]
    return gpd.GeoDataFrame(gdf[list(THEME_COLUMNS[theme]) + extra + ["geometry"]], geometry="geometry", crs=target)


@dataclass
class StudyArea:
    """A city (or part of one) in the model of this project.

    Attributes
    ----------
    name : str
        Human-readable name ("Mechelen", "Demo-stad").
    themes : dict of str to GeoDataFrame
        One GeoDataFrame per entry of :data:`VECTOR_THEMES`, in :attr:`crs`, with the columns of
        :data:`THEME_COLUMNS` (missing themes are empty frames, never absent keys).
    landcover : LandCover or None
        The land-cover raster, or None when not derived yet.
    manifest : dict
        ``{"name", "crs", "created", "synthetic", "themes": {theme: ThemeInfo.to_dict()}, ...}``.
    crs : str, optional
        The area's working metric CRS (``"EPSG:nnnn"``); default ``manifest["crs"]``, else
        EPSG:31370 (Belgium, and every cache written before areas carried their own CRS). Every
        theme is brought into it; the manifest records it.
    """

    name: str
    themes: dict[str, gpd.GeoDataFrame]
    landcover: LandCover | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    crs: str | None = None

    def __post_init__(self) -> None:
        self.crs = crs_string(self.crs or self.manifest.get("crs") or DEFAULT_CRS)
        for t in VECTOR_THEMES:
            self.themes[t] = conform_theme(t, self.themes.get(t), crs=self.crs)
        if self.landcover is not None and self.landcover.crs != self.crs:
            raise StudyAreaError(f"Het landgebruiksraster staat in {self.landcover.crs}, het studiegebied in {self.crs}; bereid het gebied opnieuw voor.")
        self.manifest.setdefault("name", self.name)
        self.manifest["crs"] = self.crs
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

    @property
    def in_belgium(self) -> bool:
        """True when the boundary's centroid lies in :data:`BELGIUM_LONLAT_BOX` (unknown extent: True)."""
        if len(self.boundary) == 0:
            return True
        c = gpd.GeoSeries([self.boundary.geometry.union_all().centroid], crs=self.crs).to_crs(4326).iloc[0]
        w, s, e, n = BELGIUM_LONLAT_BOX
        return bool(w <= c.x <= e and s <= c.y <= n)

    def norms_notes(self) -> list[str]:
        """Dutch notes to show with every result of this area: Flemish norms outside Flanders."""
        if self.in_belgium:
            return []
        return [f"Vlaamse normen toegepast: {self.name} ligt buiten Vlaanderen; drempels en gewichten komen uit data/norms (Vlaamse en internationale bronnen), niet uit lokale regels."]

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
            crs=self.crs,
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


