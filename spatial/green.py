"""Access to public green space by walking-network distance, per home and per wijk.

Definitions (every number from ``data/norms/green.toml``):

* **Public green space**: a polygon of the ``green`` theme with ``public`` True, or with
  ``public`` unknown and a ``kind`` in ``public_green_kinds``. Overlapping or touching polygons
  (closer than ``merge_gap_m``) are merged into one green space; its size is the union area.
* **Access points** of a green space: points every ``access_point_spacing_m`` along its outer
  boundary that lie within ``access_max_snap_m`` of a walkable edge (the street or path along
  the park), plus every node of the walking network inside it (paths through the park). A
  green space without any access point is *unreachable*: it is listed in the parks report with
  the reason and is no target, but still counts for m² green per resident.
* **Distance** of a home to a class = door-to-door walking-network distance (snap leg home ->
  network, network path, snap leg network -> access point) to the nearest access point of a
  green space of at least the class's minimum size (:mod:`spatial.network`, multi-source
  Dijkstra).

Classes: WHO Europe 2016 (>= 0.5 ha and >= 1 ha within 300 m), 3-30-300 (300 m to >= 0.5 ha;
30 % canopy per wijk from the land-cover TREES class), and the Flemish groennormen hierarchy
of Van Herzele & Wiedemann (2003) (woongroen, buurtgroen, wijkgroen, stadsdeelgroen,
stadsgroen).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.geometry import clipped_measures
from gezondestad.model.landcover import NODATA, TREES
from gezondestad.model.params import Params, norm, strs
from gezondestad.model.studyarea import DEFAULT_CRS, LandCover
from gezondestad.spatial.network import Network, Router, build_router, router_nearest
from rasterio import features

logger = logging.getLogger(__name__)

GROEN_LEVELS: tuple[str, ...] = ("woongroen", "buurtgroen", "wijkgroen", "stadsdeelgroen", "stadsgroen")
"""Levels of the Flemish groennormen hierarchy (Van Herzele & Wiedemann 2003), small to large."""


class GreenError(GezondeStadError):
    """Green-space input that cannot be used (wrong geometry type, no CRS, ...)."""


def _dist(key: str) -> float:
    return norm(key, "m", min_value=0.0)  # type: ignore[no-any-return]


def _area(key: str) -> float:
    return norm(key, "ha", min_value=0.0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class GreenParams(Params):
    """Parameters of green-space access, from ``data/norms/green.toml`` (see the module docstring)."""

    FAMILY: ClassVar[str] = "green"
    public_green_kinds: tuple[str, ...] = norm("public_green_kinds", "green.kind values", kind=strs)
    merge_gap_m: float = _dist("merge_gap_m")
    access_point_spacing_m: float = norm("access_point_spacing_m", "m", min_value=0.1)
    access_max_snap_m: float = _dist("access_max_snap_m")
    home_max_snap_m: float = _dist("home_max_snap_m")
    who_distance_m: float = _dist("who_distance_m")
    who_min_area_ha: float = _area("who_min_area_ha")
    who_min_area_1ha: float = _area("who_min_area_1ha")
    rule_3_30_300_distance_m: float = _dist("rule_3_30_300_distance_m")
    rule_3_30_300_min_area_ha: float = _area("rule_3_30_300_min_area_ha")
    rule_3_30_300_canopy_share: float = norm("rule_3_30_300_canopy_share", "share of wijk area", min_value=0.0, max_value=1.0)
    groen_woongroen_distance_m: float = _dist("groen_woongroen_distance_m")
    groen_woongroen_min_area_ha: float = _area("groen_woongroen_min_area_ha")
    groen_buurtgroen_distance_m: float = _dist("groen_buurtgroen_distance_m")
    groen_buurtgroen_min_area_ha: float = _area("groen_buurtgroen_min_area_ha")
    groen_wijkgroen_distance_m: float = _dist("groen_wijkgroen_distance_m")
    groen_wijkgroen_min_area_ha: float = _area("groen_wijkgroen_min_area_ha")
    groen_stadsdeelgroen_distance_m: float = _dist("groen_stadsdeelgroen_distance_m")
    groen_stadsdeelgroen_min_area_ha: float = _area("groen_stadsdeelgroen_min_area_ha")
    groen_stadsgroen_distance_m: float = _dist("groen_stadsgroen_distance_m")
    groen_stadsgroen_min_area_ha: float = _area("groen_stadsgroen_min_area_ha")


def _params(params: GreenParams | None) -> GreenParams:
    return params if params is not None else GreenParams.from_norms()


@dataclass(frozen=True)
class GreenClass:
    """One access criterion: a green space of at least ``min_area_ha`` within ``max_dist_m``.

    Attributes
    ----------
    name : str
        Column stem of the served flag per home (``green_300m_05ha``, ``groen_buurtgroen``).
    min_area_ha, max_dist_m : float
        From ``data/norms/green.toml``.
    """

    name: str
    min_area_ha: float
    max_dist_m: float

    @property
    def distance_col(self) -> str:
        return distance_column(self.min_area_ha)


def distance_column(min_area_ha: float) -> str:
    """Per-home column with the distance to the nearest green space of at least ``min_area_ha``."""
    s = f"{min_area_ha:g}".replace(".", "")
    return f"green_d_{s}ha_m" if min_area_ha > 0 else "green_d_any_m"


def green_classes(params: GreenParams | None = None) -> list[GreenClass]:
    """The access criteria of ``data/norms/green.toml`` (WHO, 3-30-300, groennormen)."""
    p = _params(params)

    def v(k: str) -> float:
        return float(getattr(p, k))

    out = [
        GreenClass("green_300m_05ha", v("who_min_area_ha"), v("who_distance_m")),
        GreenClass("green_300m_1ha", v("who_min_area_1ha"), v("who_distance_m")),
        GreenClass("green_3_30_300", v("rule_3_30_300_min_area_ha"), v("rule_3_30_300_distance_m")),
    ]
    for lv in GROEN_LEVELS:
        out.append(GreenClass(f"groen_{lv}", v(f"groen_{lv}_min_area_ha"), v(f"groen_{lv}_distance_m")))
    return out


def _empty_spaces(crs: object = None) -> gpd.GeoDataFrame:
    crs = crs or DEFAULT_CRS
    return gpd.GeoDataFrame(
        {
            "space_id": np.zeros(0, np.int64),
            "name": np.zeros(0, dtype=object),
            "n_parts": np.zeros(0, np.int64),
            "area_m2": np.zeros(0),
            "area_ha": np.zeros(0),
            "public_assumed": np.zeros(0, bool),
        },
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def public_green_spaces(green: gpd.GeoDataFrame, params: GreenParams | None = None) -> gpd.GeoDataFrame:
    """Merge the public green polygons of the ``green`` theme into green spaces.

    Parameters
    ----------
    green : GeoDataFrame
        The ``green`` theme (polygons in the area's metric CRS; ``kind``, ``name``, ``public`` columns).
    params : GreenParams, optional
        Checked norms (default ``GreenParams.from_norms()``, the shipped ``data/norms/green.toml``).

    Returns
    -------
    GeoDataFrame
        One row per green space: ``space_id``, ``name`` (names of its parts joined by "; "),
        ``n_parts``, ``area_m2``, ``area_ha``, ``public_assumed`` (True when ``public`` was unknown
        for a part and the kind decided), geometry.
    """
    cols = ["space_id", "name", "n_parts", "area_m2", "area_ha", "public_assumed", "geometry"]
    if green is None or len(green) == 0:
        return _empty_spaces(green.crs if green is not None else None)
    if green.crs is None:
        raise GreenError("Het thema groen heeft geen CRS; laad het via het studiegebied.")
    g = green  # in the study area's metric CRS (area.crs)
    g = g[g.geometry.notna() & ~g.geometry.is_empty & g.geom_type.isin(["Polygon", "MultiPolygon"])]
    p = _params(params)
    kinds = set(p.public_green_kinds)
    pub = g["public"] if "public" in g else pd.Series([None] * len(g), index=g.index)
    pub_known = pub.map(lambda x: x is not None and not (isinstance(x, float) and np.isnan(x)))
    pub_true = pub.map(lambda x: str(x).lower() in {"true", "1", "yes"} if x is not None else False)
    kind = g["kind"].astype("object").fillna("other").astype(str) if "kind" in g else pd.Series(["other"] * len(g), index=g.index)
    is_pub = np.where(pub_known, pub_true, kind.isin(kinds))
    g = g[is_pub].copy()
    g["_assumed"] = ~pub_known[is_pub].to_numpy()
    if len(g) == 0:
        return _empty_spaces(g.crs)
    gap = p.merge_gap_m
    geoms = shapely.make_valid(g.geometry.values)
    merged = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, gap / 2.0)))
    merged = merged[shapely.get_type_id(merged) == 3]  # polygons only
    # each space = union of the original polygons whose buffered shape lies in that merged part
    tree = shapely.STRtree(merged)
    pi, mi = tree.query(shapely.point_on_surface(geoms), predicate="intersects")
    first = ~pd.Series(pi).duplicated().to_numpy()
    pi, mi = pi[first], mi[first]
    names = g["name"].astype("object").to_numpy() if "name" in g else np.full(len(g), None, dtype=object)
    rows = []
    for k in np.unique(mi):
        parts = pi[mi == k]
        geom = shapely.union_all(geoms[parts])
        nm = [str(x) for x in names[parts] if x is not None and not (isinstance(x, float) and np.isnan(x))]
        rows.append(
            {
                "name": "; ".join(dict.fromkeys(nm)) or None,
                "n_parts": int(len(parts)),
                "area_m2": float(shapely.area(geom)),
                "public_assumed": bool(g["_assumed"].to_numpy()[parts].any()),
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=g.crs)
    out["area_ha"] = out["area_m2"] / 10_000.0
    out["space_id"] = np.arange(len(out), dtype=np.int64)
    logger.debug("%d public green polygons merged into %d green spaces", len(g), len(out))
    return out[cols]


def park_access_points(
    spaces: gpd.GeoDataFrame, walk_net: Network, params: GreenParams | None = None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Access points of every green space on the walking network (see module docstring).

    Parameters
    ----------
    spaces : GeoDataFrame
        Output of :func:`public_green_spaces`.
    walk_net : Network
        The walking network (:func:`spatial.network.build_network` with the walkable mask).
    params : GreenParams, optional
        Checked norms (default ``GreenParams.from_norms()``, the shipped ``data/norms/green.toml``).

    Returns
    -------
    (points, report)
        ``points``: GeoDataFrame with ``space_id``, ``area_ha``, ``source`` ("edge" or "node").
        ``report``: one row per green space with ``space_id``, ``name``, ``area_ha``,
        ``n_access_points``, ``reachable`` and ``reason`` (why unreachable).
    """
    p = _params(params)
    spacing = p.access_point_spacing_m
    max_snap = p.access_max_snap_m
    empty = gpd.GeoDataFrame({"space_id": np.zeros(0, np.int64), "area_ha": np.zeros(0), "source": []}, geometry=gpd.GeoSeries([], crs=spaces.crs), crs=spaces.crs)
    if len(spaces) == 0:
        return empty, pd.DataFrame(
            {"space_id": np.zeros(0, np.int64), "name": np.zeros(0, dtype=object), "area_ha": np.zeros(0),
             "n_access_points": np.zeros(0, np.int64), "reachable": np.zeros(0, bool), "reason": np.zeros(0, dtype=object)}
        )
    geoms = spaces.geometry.values
    rings = shapely.get_exterior_ring(shapely.get_parts(geoms))
    ring_space = np.repeat(np.arange(len(geoms)), shapely.get_num_geometries(geoms))
    length = shapely.length(rings)
    k = np.maximum(4, np.ceil(length / spacing).astype(int))
    ridx = np.repeat(np.arange(len(rings)), k)
    pos = (np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)) / np.repeat(k, k)
    pts = shapely.line_interpolate_point(rings[ridx], pos, normalized=True)
    tree = shapely.STRtree(walk_net.edge_geometry)
    (pi, _), _ = tree.query_nearest(pts, max_distance=max_snap, return_distance=True, all_matches=False)
    near = np.zeros(len(pts), dtype=bool)
    near[pi] = True
    edge_pts, edge_space = pts[near], ring_space[ridx[near]]
    used = np.unique(np.concatenate([walk_net.edge_u, walk_net.edge_v]))
    node_pts = shapely.points(walk_net.node_xy[used])
    ni, si = shapely.STRtree(geoms).query(node_pts, predicate="within")
    all_pts = np.concatenate([edge_pts, node_pts[ni]])
    all_space = np.concatenate([edge_space, si]).astype(np.int64)
    src = np.array(["edge"] * len(edge_pts) + ["node"] * len(ni), dtype=object)
    area_ha = spaces["area_ha"].to_numpy(dtype=float)
    points = gpd.GeoDataFrame({"space_id": spaces["space_id"].to_numpy()[all_space], "area_ha": area_ha[all_space], "source": src}, geometry=all_pts, crs=spaces.crs)
    counts = np.bincount(all_space, minlength=len(spaces))
    report = pd.DataFrame(
        {
            "space_id": spaces["space_id"].to_numpy(),
            "name": spaces["name"].to_numpy(),
            "area_ha": area_ha,
            "n_access_points": counts,
            "reachable": counts > 0,
            "reason": np.where(counts > 0, "", f"no walkable edge within {max_snap:g} m of its edge and no path inside"),
        }
    )
    return points, report


@dataclass
class GreenAccess:
    """Green-space access per home.

    Attributes
    ----------
    distances : DataFrame
        Per home (index like the homes): one ``green_d_<size>ha_m`` column per distinct minimum
        size (inf = no reachable green space of that size), and one boolean column per
        :class:`GreenClass` (served).
    spaces : GeoDataFrame
        The public green spaces (:func:`public_green_spaces`) with ``n_access_points``,
        ``reachable`` and ``reason``.
    access_points : GeoDataFrame
    classes : list of GreenClass
    """

    distances: pd.DataFrame
    spaces: gpd.GeoDataFrame
    access_points: gpd.GeoDataFrame
    classes: list[GreenClass]


def green_access(
    walk_net: Network,
    homes: gpd.GeoDataFrame,
    green: gpd.GeoDataFrame,
    params: GreenParams | None = None,
    *,
    router: Router | None = None,
    access: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None,
    target_offset: int = 0,
) -> GreenAccess:
    """Walking-network distance from every home to the nearest public green space per size class.

    Parameters
    ----------
    walk_net : Network
        Walking network.
    homes : GeoDataFrame
        Home points (:func:`spatial.aggregate.home_points`).
    green : GeoDataFrame
        The ``green`` theme.
    params : GreenParams, optional
        Checked norms (default ``GreenParams.from_norms()``, the shipped ``data/norms/green.toml``).
    router : Router, optional
        A router over ``walk_net`` whose origins are ``homes`` and whose targets
        ``[target_offset : target_offset + len(access points)]`` are the access points given in
        ``access`` (lets :func:`spatial.indicators.network_indicators` snap homes once for green
        and STOP). Built here when None.
    access : (spaces, access_points), optional
        Output of :func:`public_green_spaces` and :func:`park_access_points` (computed when None).
    target_offset : int
        Position of the first access point among the router's targets.

    Returns
    -------
    GreenAccess
    """
    p = _params(params)
    classes = green_classes(p)
    if access is None:
        spaces = public_green_spaces(green, p)
        points, report = park_access_points(spaces, walk_net, p)
        spaces = spaces.merge(report[["space_id", "n_access_points", "reachable", "reason"]], on="space_id", how="left")
    else:
        spaces, points = access
    out = pd.DataFrame(index=homes.index)
    sizes = sorted({c.min_area_ha for c in classes})
    if len(points):
        if router is None:
            router = build_router(walk_net, homes.geometry, points.geometry, p.home_max_snap_m, p.access_max_snap_m + 1.0)
            target_offset = 0
        n_t = router.target_virtual.shape[0]
        ah = np.full(n_t, -np.inf)
        ah[target_offset : target_offset + len(points)] = points["area_ha"].to_numpy(dtype=float)
        for s in sizes:
            out[distance_column(s)] = router_nearest(router, ah >= s).distance_m
    else:
        for s in sizes:
            out[distance_column(s)] = np.inf
    for c in classes:
        out[c.name] = out[c.distance_col].to_numpy() <= c.max_dist_m
    return GreenAccess(out, gpd.GeoDataFrame(spaces, geometry="geometry", crs=spaces.crs if spaces.crs is not None else homes.crs), points, classes)


def canopy_share(landcover: LandCover | None, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Share of TREES cells among the non-nodata land-cover cells inside each polygon.

    Land-cover-derived: the raster knows only mapped woods (and whatever the source burned as
    trees), so street trees and garden trees are missing; the value is a lower bound.

    Returns
    -------
    ndarray of float, NaN where the raster is absent or has no cell in the polygon.
    """
    out = np.full(len(polygons), np.nan)
    if landcover is None or len(polygons) == 0:
        return out
    valid = landcover.classes != NODATA
    trees = landcover.classes == TREES
    # one mask per polygon: polygons may overlap (a plan area inside a wijk)
    for i, g in enumerate(polygons.geometry.values):
        if g is None or g.is_empty:
            continue
        inside = features.geometry_mask([g], out_shape=landcover.shape, transform=landcover.transform, invert=True)
        tot = int((inside & valid).sum())
        if tot > 0:
            out[i] = float((inside & trees).sum()) / tot
    return out


def green_area_per_polygon(spaces: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """m² of public green space inside each polygon (green spaces clipped to it)."""
    out = np.zeros(len(polygons))
    if len(spaces) == 0 or len(polygons) == 0:
        return out
    # spaces wholly inside a polygon keep their area; only those crossing its boundary are intersected
    wi, _, a = clipped_measures(np.asarray(spaces.geometry.values, dtype=object), np.asarray(polygons.geometry.values, dtype=object))
    if len(wi):
        out += np.bincount(wi, weights=a, minlength=len(polygons))
    return out
