"""Bring street edges from any source into the model of :data:`gezondestad.layers.studyarea.THEME_COLUMNS`.

Every tag is kept as a string (or None when absent); no default is guessed here. Indicators
that need a default (e.g. maxspeed) assume it themselves, document it, and count it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.studyarea import CRS, STREET_TAGS, conform_theme
from gezondestad.model.topology import node_lines


def tag_to_str(v: object) -> str | None:
    """An OSM tag value (or a city-file attribute) as a clean string; None when absent.

    Lists (pyrosm/osmnx merge duplicate tags into lists) are joined with ';' without repeats,
    booleans become yes/no, whole floats lose their '.0', and NaN / 'nan' / 'none' / '' are None.
    """
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        vals = [x for x in (tag_to_str(y) for y in v) if x]
        return ";".join(dict.fromkeys(vals)) if vals else None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v).strip()
    return s if s and s.lower() not in {"nan", "none", "null", "<na>"} else None


_NONE_WORDS = ["nan", "none", "null", "<na>"]


def clean_tags(col: pd.Series) -> pd.Series:
    """:func:`tag_to_str` of every value of ``col`` (object dtype).

    A column whose values are all strings or missing (the usual case: OSM tags, and streets
    that were finalized before) is cleaned with vectorised string operations; any other
    column value by value.
    """
    if pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
        return col.map(tag_to_str).astype("object")
    st = col.astype("object").str.strip()
    bad = col.isna().to_numpy() | (st == "").to_numpy() | st.str.lower().isin(_NONE_WORDS).to_numpy()
    out = st.astype("object").to_numpy(copy=True)
    out[bad] = None
    return pd.Series(out, index=col.index, dtype="object", name=col.name)


def finalize_streets(streets: gpd.GeoDataFrame, node_precision_m: float = 0.01) -> gpd.GeoDataFrame:
    """Give street edges the model columns: string tags, ``edge_id``, ``u``/``v`` node ids, ``length_m``.

    Parameters
    ----------
    streets : GeoDataFrame
        LineString edges in EPSG:31370, already split at junctions.
    node_precision_m : float
        Line ends closer than this share a node.
    """
    s = streets[streets.geometry.notna() & ~streets.geometry.is_empty].copy()
    s = s.explode(index_parts=False)
    s = s[s.geom_type == "LineString"].reset_index(drop=True)
    for t in STREET_TAGS:
        if t in s.columns:
            s[t] = clean_tags(s[t])
        else:
            s[t] = None
    u, v, _, keep = node_lines(s.geometry, precision_m=node_precision_m)
    s = s[keep].reset_index(drop=True)
    s["u"] = u.astype(np.int64)
    s["v"] = v.astype(np.int64)
    s["length_m"] = shapely.length(s.geometry.values).round(3)
    s["edge_id"] = np.arange(len(s), dtype=np.int64)
    if s.crs is None:
        s = s.set_crs(CRS)
    return conform_theme("streets", gpd.GeoDataFrame(s, geometry="geometry"))


def node_at_intersections(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Split lines at every mutual intersection, carrying attributes over (planar graph).

    Only for sources without bridges/tunnels modelled (synthetic areas, hand-drawn plans):
    a bridge over a street would wrongly become a junction. OSM data is noded at shared
    vertices instead (:func:`spatial.network.split_lines_at_shared_vertices`).
    """
    geoms = lines.geometry.values
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(list(shapely.get_parts(geoms)))))
    pieces = gpd.GeoSeries(noded, crs=lines.crs)
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(geoms)
    src = tree.query_nearest(mid, all_matches=False)[1]
    out = lines.iloc[src].copy().reset_index(drop=True)
    out.geometry = pieces.values
    return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=lines.crs)


__all__ = ["finalize_streets", "node_at_intersections", "tag_to_str"]
