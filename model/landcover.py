"""Land cover: classes and the rasterisation of vector themes into a land-cover grid.

The classes are the minimum the heat and water layers need (after the InVEST biophysical
tables): each cell gets exactly one class; later burns win over earlier ones in the order
background < low green < bare < trees < paved < water < building.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
from affine import Affine
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import LandCover, crs_string
from rasterio import features

NODATA = 0
BUILDING = 1
PAVED = 2
LOW_GREEN = 3
TREES = 4
WATER = 5
BARE = 6

LANDCOVER_CLASSES: dict[int, str] = {
    BUILDING: "building",
    PAVED: "paved",
    LOW_GREEN: "low_green",
    TREES: "trees",
    WATER: "water",
    BARE: "bare_soil",
}
"""Class code -> name. 0 is nodata (outside the study area)."""

LANDCOVER_LABELS_NL: dict[int, str] = {
    BUILDING: "gebouw",
    PAVED: "verhard",
    LOW_GREEN: "laag groen",
    TREES: "bomen",
    WATER: "water",
    BARE: "onverhard / braak",
}
"""Dutch labels for legends."""

GREEN_KIND_TO_CLASS: dict[str, int] = {
    "park": LOW_GREEN,
    "grass": LOW_GREEN,
    "playground": LOW_GREEN,
    "garden": LOW_GREEN,
    "cemetery": LOW_GREEN,
    "nature": LOW_GREEN,
    "other": LOW_GREEN,
    "wood": TREES,
}

_PATH_HIGHWAYS = {"footway", "cycleway", "path", "pedestrian", "steps", "track", "bridleway", "corridor"}
_MAJOR_HIGHWAYS = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link"}
_MID_HIGHWAYS = {"tertiary", "tertiary_link"}


def grid_for_bounds(bounds: tuple[float, float, float, float], resolution_m: float) -> tuple[Affine, tuple[int, int]]:
    """North-up grid covering ``bounds`` (minx, miny, maxx, maxy) snapped to whole ``resolution_m``.

    Returns
    -------
    (transform, (height, width))
    """
    if resolution_m <= 0:
        raise ValueError(f"resolution_m must be > 0, got {resolution_m}")
    minx, miny, maxx, maxy = bounds
    x0 = math.floor(minx / resolution_m) * resolution_m
    y1 = math.ceil(maxy / resolution_m) * resolution_m
    w = max(1, int(math.ceil((maxx - x0) / resolution_m)))
    h = max(1, int(math.ceil((y1 - miny) / resolution_m)))
    return Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1), (h, w)


def street_width_m(streets: gpd.GeoDataFrame) -> np.ndarray:
    """Paved width per street edge: the ``width`` tag when numeric, else a default per class.

    Defaults are the ``street_width_m_*`` entries of ``data/norms/landcover.toml``.
    """
    norms = load_norms("landcover")
    w_major = float(norms["street_width_m_primary"].value)
    w_mid = float(norms["street_width_m_tertiary"].value)
    w_res = float(norms["street_width_m_residential"].value)
    w_path = float(norms["street_width_m_path"].value)
    hw = streets["highway"].astype("object").fillna("").astype(str).to_numpy() if "highway" in streets else np.array([""] * len(streets))
    out = np.full(len(streets), w_res, dtype=float)
    out[np.isin(hw, list(_MAJOR_HIGHWAYS))] = w_major
    out[np.isin(hw, list(_MID_HIGHWAYS))] = w_mid
    out[np.isin(hw, list(_PATH_HIGHWAYS))] = w_path
    if "width" in streets:
        tagged = np.array([_parse_width(v) for v in streets["width"].to_numpy()], dtype=float)
        ok = np.isfinite(tagged) & (tagged > 0) & (tagged < 60)
        out[ok] = tagged[ok]
    return out


def _parse_width(v: object) -> float:
    if v is None:
        return np.nan
    try:
        s = str(v).strip().lower().replace(",", ".").replace("m", "").strip()
        return float(s)
    except ValueError:
        return np.nan


def rasterize_landcover(
    boundary: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    green: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    bare: gpd.GeoDataFrame | None = None,
    paved: gpd.GeoDataFrame | None = None,
    resolution_m: float = 10.0,
    background_class: int | None = None,
) -> LandCover:
    """Derive a land-cover raster from vector themes (all in the boundary's metric CRS).

    Parameters
    ----------
    boundary : GeoDataFrame
        Study-area boundary; cells outside it are nodata (0).
    buildings, streets, green, water : GeoDataFrame, optional
        Themes of a :class:`gezondestad.layers.studyarea.StudyArea`. Streets are buffered by
        :func:`street_width_m`; green polygons burn by ``kind`` (wood -> trees, else low green);
        water lines are buffered by their ``width`` column (default 5 m).
    bare, paved : GeoDataFrame, optional
        Extra polygons to burn as bare soil / paved (brownfields, car parks, plan features).
    resolution_m : float
        Cell size in metres (10 m default).
    background_class : int, optional
        Class of unmapped land inside the boundary; default from ``data/norms/landcover.toml``.

    Returns
    -------
    LandCover
    """
    if boundary is None or len(boundary) == 0:
        raise ValueError("rasterize_landcover needs a boundary polygon.")
    if background_class is None:
        background_class = int(load_norms("landcover")["background_class"].value)
    transform, shape = grid_for_bounds(tuple(boundary.total_bounds), resolution_m)
    shapes: list[tuple[object, int]] = []
    shapes += [(g, background_class) for g in boundary.geometry if g is not None and not g.is_empty]

    def polys(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
        if gdf is None or len(gdf) == 0:
            return gpd.GeoDataFrame(geometry=[], crs=boundary.crs)
        return gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty & gdf.geom_type.isin(["Polygon", "MultiPolygon"])]

    if green is not None and len(green):
        g = polys(green)
        kinds = g["kind"].astype("object").fillna("other") if "kind" in g else ["other"] * len(g)
        cls = [GREEN_KIND_TO_CLASS.get(str(k), LOW_GREEN) for k in kinds]
        low = [(geom, c) for geom, c in zip(g.geometry, cls) if c == LOW_GREEN]
        shapes += low
    if bare is not None:
        shapes += [(geom, BARE) for geom in polys(bare).geometry]
    if green is not None and len(green):
        shapes += [(geom, c) for geom, c in zip(g.geometry, cls) if c == TREES]
    if streets is not None and len(streets):
        s = streets[streets.geometry.notna() & ~streets.geometry.is_empty]
        widths = street_width_m(s)
        buf = s.geometry.buffer(widths / 2.0, cap_style="flat")
        shapes += [(geom, PAVED) for geom in buf if not geom.is_empty]
        # A carriageway narrower than two cells can fall between cell centres (a street on a cell
        # edge would vanish): burn its centre line too, which marks the cells it runs through.
        # Only for widths >= half a cell, so 2.5 m footpaths do not become 10 m of pavement.
        wide = widths >= resolution_m / 2.0
        shapes += [(geom, PAVED) for geom in s.geometry.values[wide]]
    if paved is not None:
        shapes += [(geom, PAVED) for geom in polys(paved).geometry]
    if water is not None and len(water):
        w = water[water.geometry.notna() & ~water.geometry.is_empty]
        lines = w[w.geom_type.isin(["LineString", "MultiLineString"])]
        if len(lines):
            width = (
                lines["width"].map(_parse_width).fillna(5.0).to_numpy()
                if "width" in lines
                else np.full(len(lines), 5.0)
            )
            shapes += [(geom, WATER) for geom in lines.geometry.buffer(np.clip(width, 1.0, 200.0) / 2.0)]
        shapes += [(geom, WATER) for geom in polys(w).geometry]
    if buildings is not None:
        shapes += [(geom, BUILDING) for geom in polys(buildings).geometry]
    arr = features.rasterize(shapes, out_shape=shape, transform=transform, fill=NODATA, dtype="uint8")
    # cells outside the boundary stay nodata even where a street or river runs past
    inside = features.rasterize(
        [(g, 1) for g in boundary.geometry if g is not None and not g.is_empty],
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="uint8",
    )
    arr[inside == 0] = NODATA
    return LandCover(arr, transform, float(resolution_m), crs=crs_string(boundary.crs))


def class_shares(lc: LandCover) -> dict[str, float]:
    """Share of each class among the non-nodata cells."""
    valid = lc.classes[lc.classes != NODATA]
    n = max(1, valid.size)
    return {name: float((valid == code).sum()) / n for code, name in LANDCOVER_CLASSES.items()}
