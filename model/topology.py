"""Noding of line networks: shared end nodes and splitting at shared vertices."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def node_lines(lines: gpd.GeoSeries, precision_m: float = 0.01) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Give every line end a node id, merging ends closer than ``precision_m``.

    Returns
    -------
    (u, v, node_xy, keep)
        ``u``/``v`` per kept line, node coordinates, and the boolean mask of lines kept
        (non-empty, non-null).
    """
    geoms = np.asarray(lines.values if hasattr(lines, "values") else lines, dtype=object)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    g = geoms[keep]
    start = shapely.get_coordinates(shapely.get_point(g, 0))
    end = shapely.get_coordinates(shapely.get_point(g, -1))
    ends = np.vstack([start, end])
    key = np.round(ends / precision_m).astype(np.int64)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    inv = inv.ravel()
    node_xy = np.zeros((uniq.shape[0], 2))
    node_xy[inv] = ends
    m = g.shape[0]
    return inv[:m], inv[m:], node_xy, keep


def split_lines_at_shared_vertices(lines: gpd.GeoDataFrame, precision_m: float = 0.01) -> gpd.GeoDataFrame:
    """Split lines wherever a vertex is shared with another line (OSM ways crossing at a node).

    City exports of OSM ways keep each way whole, so junctions in the middle of a way are
    invisible to a graph that only links line ends. This splits every line at each interior
    vertex that another line (or the same line, a loop) also uses, keeping all attributes.
    Multi-lines are exploded first.
    """
    gdf = lines[lines.geometry.notna() & ~lines.geometry.is_empty].explode(index_parts=False).reset_index(drop=True)
    gdf = gdf[gdf.geom_type == "LineString"].reset_index(drop=True)
    coords, line_idx = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    key = np.round(coords / precision_m).astype(np.int64)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    shared = counts[inv] > 1
    # position of each vertex within its line
    starts = np.r_[0, np.flatnonzero(np.diff(line_idx)) + 1]
    pos = np.arange(len(line_idx)) - np.repeat(starts, np.diff(np.r_[starts, len(line_idx)]))
    nverts = np.bincount(line_idx, minlength=len(gdf))
    interior = (pos > 0) & (pos < nverts[line_idx] - 1)
    cut = shared & interior
    if not cut.any():
        return gdf
    # piece number within its line = number of cut vertices before this vertex in that line
    line_of_start = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(line_idx)]))
    before = np.cumsum(cut) - cut
    run = before - before[starts][line_of_start]
    # a cut vertex ends one piece and starts the next: duplicate it, the copy starts piece+1
    dup = np.repeat(np.arange(len(coords)), np.where(cut, 2, 1))
    second = np.r_[False, dup[1:] == dup[:-1]]
    dup_run = run[dup] + second
    new_line = line_idx[dup]
    piece_key = new_line.astype(np.int64) * (int(run.max()) + 2) + dup_run
    _, piece_id = np.unique(piece_key, return_inverse=True)
    piece_id = piece_id.ravel()
    pieces = shapely.linestrings(coords[dup], indices=piece_id)
    first_of_piece = np.r_[0, np.flatnonzero(np.diff(piece_id)) + 1]
    out = gdf.iloc[new_line[first_of_piece]].copy()
    out.geometry = gpd.GeoSeries(pieces, index=out.index, crs=gdf.crs)
    out = out[shapely.length(pieces) > 0].reset_index(drop=True)
    return out

