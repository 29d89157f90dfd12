"""Which street edges a walker or a cyclist may use (from OSM highway/access/foot/bicycle tags).

Rules follow OSM's access conventions (wiki "Key:access", "OSM tags for routing/Access
restrictions" for Belgium): motorways and motorway links are closed to both; foot/bicycle tags
override the highway default; access=private/no closes an edge unless foot/bicycle allow it.
Oneway restrictions are ignored for cyclists: most Flemish one-way streets are "beperkt
eenrichtingsverkeer" open to cyclists both ways (Wegcode art. 22novies), and OSM does not tag
every exception reliably.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

_NO = {"no", "private", "discouraged"}
_YES = {"yes", "designated", "permissive", "official", "destination"}
_CLOSED_BOTH = {"motorway", "motorway_link", "construction", "proposed", "abandoned", "raceway", "bus_guideway"}
_NO_FOOT_DEFAULT = {"trunk", "trunk_link"}  # Belgian default: pedestrians not on expressways unless tagged
_NO_BIKE_DEFAULT = {"footway", "pedestrian", "steps", "corridor", "trunk", "trunk_link", "bridleway"}


def _col(streets: gpd.GeoDataFrame, name: str) -> np.ndarray:
    if name not in streets:
        return np.full(len(streets), "", dtype=object)
    return streets[name].astype("object").fillna("").astype(str).str.lower().to_numpy()


def walkable_mask(streets: gpd.GeoDataFrame) -> np.ndarray:
    """True for edges a pedestrian may use."""
    hw, foot, access, sidewalk = _col(streets, "highway"), _col(streets, "foot"), _col(streets, "access"), _col(streets, "sidewalk")
    ok = ~np.isin(hw, list(_CLOSED_BOTH)) & (hw != "")
    ok &= ~(np.isin(hw, list(_NO_FOOT_DEFAULT)) & ~np.isin(sidewalk, ["both", "left", "right", "yes", "separate"]))
    ok &= ~np.isin(hw, ["cycleway"]) | ~np.isin(foot, ["no"])
    ok &= ~(np.isin(access, list(_NO)) & ~np.isin(foot, list(_YES)))
    ok &= ~np.isin(foot, ["no", "private"])
    ok |= np.isin(foot, list(_YES)) & ~np.isin(hw, list(_CLOSED_BOTH))
    return ok


def cyclable_mask(streets: gpd.GeoDataFrame) -> np.ndarray:
    """True for edges a cyclist may ride (pushing a bike over footways is not counted)."""
    hw, bike, access = _col(streets, "highway"), _col(streets, "bicycle"), _col(streets, "access")
    ok = ~np.isin(hw, list(_CLOSED_BOTH)) & (hw != "")
    ok &= ~np.isin(hw, list(_NO_BIKE_DEFAULT)) | np.isin(bike, list(_YES))
    ok &= ~(np.isin(access, list(_NO)) & ~np.isin(bike, list(_YES)))
    ok &= ~np.isin(bike, ["no", "private", "dismount"])
    return ok
