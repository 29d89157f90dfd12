"""Residents per building (and estimated homes where buildings are missing)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.norms import load_norms

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
