"""Geometry operations whose memory stays bounded for geometries of many parts.

A GEOS buffer of a multi-geometry of thousands of parts nodes every offset curve against every
other one: with a large distance (a 500 m surroundings zone, a 1.4 km heat influence) the
number of crossings grows with the square of the parts and a plan of 3,000 small buildings
ended in ``std::bad_alloc`` (issue 12). :func:`buffer_union` buffers each part on its own and
unions the results (a cascaded union merges overlapping neighbours first), which stays within
a few hundred MB for a 20,000-part plan (``bench/bench_hardening.py``).
"""

from __future__ import annotations

import numpy as np
import shapely


def buffer_union(geom: shapely.Geometry, dist_m: float, quad_segs: int = 8) -> shapely.Geometry:
    """``geom.buffer(dist_m)`` computed part by part, with memory bounded by the number of parts.

    Parameters
    ----------
    geom : shapely.Geometry
        Any geometry (a multi-geometry or a collection of many parts is the case this is for).
    dist_m : float
        Buffer distance in CRS units (metres in the study area's metric CRS); may be 0 or negative
        (negative distances shrink each part separately).
    quad_segs : int
        Segments per quarter circle (as :func:`shapely.buffer`).

    Returns
    -------
    shapely.Geometry
        The union of the buffered parts (an empty polygon for an empty input).
    """
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    parts = shapely.get_parts(geom)
    if len(parts) == 1:
        return shapely.buffer(parts[0], dist_m, quad_segs=quad_segs)
    bufs = shapely.buffer(parts, dist_m, quad_segs=quad_segs)
    bufs = bufs[~shapely.is_empty(bufs)]
    return shapely.union_all(np.asarray(bufs, dtype=object)) if len(bufs) else shapely.Polygon()


__all__ = ["buffer_union"]
