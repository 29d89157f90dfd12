"""Residents per building (and estimated homes where buildings are missing)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS

RESIDENTIAL_USES = frozenset({"residential", "house", "apartments", "detached", "semidetached_house", "terrace", "yes", "dormitory", "farm", "bungalow", "mixed"})
"""Building uses that hold residents (OSM building=* values and the model's ``use``)."""


def estimate_building_residents(
    buildings: gpd.GeoDataFrame,
    floor_area_m2_per_resident: float | None = None,
    default_levels: float | None = None,
) -> np.ndarray:
    """Residents per building from footprint area x levels / floor area per resident.

    Parameters
    ----------
    buildings : GeoDataFrame
        Polygons with optional ``use`` and ``levels`` columns. Only residential uses
        (:data:`RESIDENTIAL_USES`, or unknown use) get residents.
    floor_area_m2_per_resident, default_levels : float, optional
        Defaults from ``data/norms/population.toml``.

    Returns
    -------
    ndarray of float
        Estimated residents per building (not rounded, so wijk totals add up).
    """
    norms = load_norms("population")
    fa = float(floor_area_m2_per_resident or norms["floor_area_m2_per_resident"].value)
    dl = float(default_levels or norms["default_levels"].value)
    if len(buildings) == 0:
        return np.zeros(0)
    levels = pd.to_numeric(buildings["levels"], errors="coerce").to_numpy(dtype=float) if "levels" in buildings else np.full(len(buildings), np.nan)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, dl)
    use = buildings["use"].astype("object").fillna("yes").astype(str).str.lower().to_numpy() if "use" in buildings else np.full(len(buildings), "yes")
    residential = np.isin(use, list(RESIDENTIAL_USES))
    area = buildings.geometry.area.to_numpy()
    return np.where(residential, area * levels / fa, 0.0)


def scale_to_totals(residents: np.ndarray, groups: np.ndarray, totals: dict[object, float]) -> np.ndarray:
    """Scale ``residents`` so that each group's sum equals ``totals[group]`` (groups absent keep theirs)."""
    out = np.asarray(residents, dtype=float).copy()
    g = pd.Series(out).groupby(pd.Series(groups)).sum()
    for key, tot in totals.items():
        if key in g.index and g[key] > 0 and np.isfinite(tot):
            sel = groups == key
            out[sel] *= float(tot) / float(g[key])
    return out


RESIDENTIAL_STREETS = frozenset({"residential", "living_street", "unclassified", "tertiary", "secondary", "primary"})
"""Street classes with dwellings along them (used only to estimate homes when buildings are missing)."""


def estimate_homes_along_streets(
    streets: gpd.GeoDataFrame,
    spacing_m: float | None = None,
    offset_m: float = 10.0,
) -> gpd.GeoDataFrame:
    """Estimated address points along residential streets, for areas without buildings.

    One point every ``spacing_m`` along each residential-class street, ``offset_m`` to its side
    (alternating), so homes are not exactly on the street line. The result is flagged
    ``estimated=True``; residents are set by :func:`home_points` from wijk totals.
    """
    spacing_m = float(spacing_m or load_norms("population")["home_spacing_m"].value)
    hw = streets["highway"].astype("object").fillna("").to_numpy()
    s = streets[np.isin(hw, list(RESIDENTIAL_STREETS))]
    if len(s) == 0:
        return gpd.GeoDataFrame({"estimated": []}, geometry=[], crs=streets.crs or CRS)
    lines = s.geometry.values
    lengths = shapely.length(lines)
    n = np.maximum(1, np.floor(lengths / spacing_m).astype(int))
    line_idx = np.repeat(np.arange(len(lines)), n)
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    dist = (k + 0.5) * lengths[line_idx] / n[line_idx]
    on = shapely.line_interpolate_point(lines[line_idx], dist)
    ahead = shapely.line_interpolate_point(lines[line_idx], np.minimum(dist + 1.0, lengths[line_idx]))
    back = shapely.line_interpolate_point(lines[line_idx], np.maximum(dist - 1.0, 0.0))
    a, b = shapely.get_coordinates(back), shapely.get_coordinates(ahead)
    d = b - a
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1.0
    side = np.where(k % 2 == 0, 1.0, -1.0)
    nx, ny = -d[:, 1] / norm * side, d[:, 0] / norm * side
    xy = shapely.get_coordinates(on) + np.c_[nx, ny] * offset_m
    return gpd.GeoDataFrame({"estimated": np.ones(len(xy), dtype=bool)}, geometry=shapely.points(xy), crs=streets.crs or CRS)

