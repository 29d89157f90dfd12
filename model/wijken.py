"""Which wijk each point lies in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def assign_wijk(points: gpd.GeoDataFrame | gpd.GeoSeries, wijken: gpd.GeoDataFrame) -> pd.DataFrame:
    """``wijk_code`` and ``wijk_naam`` of the wijk each point lies in (nearest wijk within 50 m otherwise).

    Returns
    -------
    DataFrame indexed like ``points`` with columns ``wijk_code``, ``wijk_naam`` (None outside).
    """
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    out = pd.DataFrame({"wijk_code": pd.Series([None] * len(geoms), dtype="object", index=geoms.index),
                        "wijk_naam": pd.Series([None] * len(geoms), dtype="object", index=geoms.index)})
    if len(wijken) == 0 or len(geoms) == 0:
        return out
    tree = shapely.STRtree(wijken.geometry.values)
    pts = np.asarray(geoms.values, dtype=object)
    pi, wi = tree.query(pts, predicate="intersects")
    first = ~pd.Series(pi).duplicated().to_numpy()
    pi, wi = pi[first], wi[first]
    codes = wijken["wijk_code"].astype("object").to_numpy()
    names = wijken["wijk_naam"].astype("object").to_numpy()
    out.iloc[pi, 0] = codes[wi]
    out.iloc[pi, 1] = names[wi]
    rest = np.flatnonzero(out["wijk_code"].isna().to_numpy())
    if len(rest):
        (ri, rwi), _ = tree.query_nearest(pts[rest], max_distance=50.0, return_distance=True, all_matches=False)
        out.iloc[rest[ri], 0] = codes[rwi]
        out.iloc[rest[ri], 1] = names[rwi]
    return out

