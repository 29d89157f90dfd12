"""OpenStreetMap into the study-area model: by place name (osmnx, online), or from a file (offline).

Three ways in, one mapping:

- :func:`area_from_place` / :func:`area_from_polygon`: osmnx downloads the street graph and the
  other features (needs internet);
- :func:`area_from_osm_file`: an ``.osm.pbf`` file read with pyrosm, or an ``.osm`` XML file
  read with osmnx (pyrosm cannot read XML);
- all three hand raw OSM data (ways/edges with tag columns, features with tag columns, tagged
  nodes) to :func:`study_area_from_osm`, the ONE function that maps OSM tags onto the themes of
  :mod:`gezondestad.layers.studyarea` (streets, green, pois, water, landuse, buildings), clips to the
  boundary, estimates residents per building, rasterises land cover and writes the manifest.

Street tags are kept as strings (:data:`gezondestad.layers.studyarea.STREET_TAGS`); nothing is guessed.
Ways are split where they share a node with another way (OSM junctions). ``kerb``,
``tactile_paving`` and ``crossing`` live on *nodes* in OSM; they are copied onto the crossing
edges (``footway=crossing`` ...) that touch such a node when the edge has no value of its own,
and the number of copies is recorded in the manifest.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.layers.osm_tags import tag_to_str
from gezondestad.layers.validate import InputError, read_vector, validate_frame
from gezondestad.model.progress import Progress, TqdmProgress, as_progress
from gezondestad.model.studyarea import (
    CRS,
    STREET_TAGS,
    StudyArea,
    ThemeInfo,
    conform_theme,
    crs_for_geometries,
    crs_string,
)
from shapely.geometry import box

# --------------------------------------------------------------------------------------------
# what is read from OSM
# --------------------------------------------------------------------------------------------

NODE_TAGS: tuple[str, ...] = ("kerb", "tactile_paving", "crossing")
"""Tags that OSM puts on nodes and that crossing edges need."""

CROSSING_MARKERS: dict[str, frozenset[str]] = {
    "footway": frozenset({"crossing"}),
    "cycleway": frozenset({"crossing"}),
    "path": frozenset({"crossing"}),
    "highway": frozenset({"crossing"}),
}
"""An edge is a crossing edge when one of these tags has one of these values."""

FEATURE_TAGS: dict[str, Any] = {
    "leisure": ["park", "garden", "playground", "nature_reserve", "sports_centre", "pitch", "recreation_ground", "fitness_station"],
    "landuse": True,
    "natural": ["wood", "scrub", "water", "grassland", "heath"],
    "amenity": ["school", "kindergarten", "doctors", "clinic", "hospital", "pharmacy", "toilets", "bench", "dentist", "parking", "grave_yard"],
    "shop": True,
    "highway": ["bus_stop", "traffic_signals"],
    "crossing": ["traffic_signals"],
    "public_transport": ["platform", "stop_position"],
    "railway": ["station", "halt", "tram_stop", "rail", "light_rail", "tram"],
    "waterway": True,
    "water": True,
    "building": True,
}
"""OSM keys/values fetched for the non-street themes (osmnx ``tags`` / pyrosm ``custom_filter``)."""

EXCLUDED_HIGHWAYS = frozenset({"proposed", "planned", "abandoned", "razed", "no", "platform", "disused"})
"""highway values that are not (yet / any more) a way one can use; dropped from streets."""

GREEN_RULES: tuple[tuple[str, str, str], ...] = (
    ("leisure", "park", "park"),
    ("leisure", "garden", "garden"),
    ("leisure", "playground", "playground"),
    ("leisure", "nature_reserve", "nature"),
    ("leisure", "recreation_ground", "park"),
    ("landuse", "recreation_ground", "park"),
    ("landuse", "grass", "grass"),
    ("landuse", "meadow", "grass"),
    ("landuse", "village_green", "grass"),
    ("landuse", "forest", "wood"),
    ("landuse", "cemetery", "cemetery"),
    ("amenity", "grave_yard", "cemetery"),
    ("natural", "wood", "wood"),
    ("natural", "scrub", "nature"),
    ("natural", "grassland", "grass"),
    ("natural", "heath", "nature"),
)
"""(key, value, green kind) in priority order: the first rule that matches decides the kind."""

GREEN_LANDUSE = frozenset(v for k, v, _ in GREEN_RULES if k == "landuse")

SIGNAL_CATEGORY = "traffic"
"""``pois.category`` of OSM *nodes* ``highway=traffic_signals`` (a junction with traffic lights) or
``crossing=traffic_signals`` (a crossing with traffic lights on the road); subtype ``traffic_signals``. Not a
facility: every indicator selects POIs by named categories, none of which is this one; only the
CNOSSOS-EU junction correction (:func:`gezondestad.spatial.noise.road_conditions`) reads them."""

POI_RULES: tuple[tuple[str, str | None, str], ...] = (
    ("railway", "tram_stop", "tram_stop"),
    ("railway", "station", "train_station"),
    ("railway", "halt", "train_station"),
    ("highway", "bus_stop", "bus_stop"),
    ("highway", "traffic_signals", SIGNAL_CATEGORY),
    ("crossing", "traffic_signals", SIGNAL_CATEGORY),
    ("public_transport", "platform", "_pt"),
    ("public_transport", "stop_position", "_pt"),
    ("amenity", "doctors", "gp"),
    ("amenity", "clinic", "healthcare"),
    ("amenity", "hospital", "healthcare"),
    ("amenity", "dentist", "healthcare"),
    ("amenity", "pharmacy", "pharmacy"),
    ("amenity", "school", "school"),
    ("amenity", "kindergarten", "school"),
    ("shop", "supermarket", "supermarket"),
    ("shop", None, "shop"),
    ("amenity", "toilets", "toilet"),
    ("amenity", "bench", "bench"),
    ("leisure", "sports_centre", "sports"),
    ("leisure", "pitch", "sports"),
    ("leisure", "fitness_station", "sports"),
    ("leisure", "playground", "playground"),
)
"""(key, value or None for any value, category) in priority order. ``_pt``: a public-transport
stop whose mode is read from ``bus``/``tram``/``train`` (default bus_stop)."""

LANDUSE_MAP: dict[str, str] = {
    "brownfield": "brownfield",
    "construction": "construction",
    "railway": "railway",
    "industrial": "industrial",
    "residential": "residential",
    "commercial": "commercial",
    "retail": "commercial",
    "farmland": "farmland",
    "farmyard": "farmland",
    "orchard": "farmland",
    "garages": "parking",
}
"""OSM landuse value -> model kind; green landuse goes to the green theme, the rest is ``other``."""

WATER_LINE_KINDS = frozenset({"river", "stream", "canal", "ditch", "drain", "brook", "tidal_channel"})


class OSMError(InputError):
    """OSM data could not be obtained or holds nothing usable; the message says what to do."""


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _tag(df: pd.DataFrame, key: str) -> np.ndarray:
    if key not in df.columns:
        return np.full(len(df), None, dtype=object)
    return np.array([tag_to_str(v) for v in df[key].to_numpy()], dtype=object)


def _expand_tags(df: gpd.GeoDataFrame, keys: tuple[str, ...] | list[str]) -> gpd.GeoDataFrame:
    """Fill tag columns from pyrosm's JSON ``tags`` column where the column is absent or empty."""
    if "tags" not in df.columns or len(df) == 0:
        return df
    parsed = []
    for t in df["tags"].to_numpy():
        if isinstance(t, dict):
            parsed.append(t)
        elif isinstance(t, str) and t.startswith("{"):
            try:
                parsed.append(json.loads(t))
            except ValueError:
                parsed.append({})
        else:
            parsed.append({})
    out = df.copy()
    for k in keys:
        vals = np.array([p.get(k) for p in parsed], dtype=object)
        if k in out.columns:
            cur = _tag(out, k)
            out[k] = np.where(pd.isna(pd.Series(cur)).to_numpy(), vals, cur)
        elif any(v is not None for v in vals):
            out[k] = vals
    return out


class _Steps:
    """Named steps reported to a progress callback (:mod:`gezondestad.model.progress`; ``True`` = tqdm)."""

    def __init__(self, total: int, progress: Progress | bool | None, desc: str) -> None:
        self._progress = as_progress(progress, desc)
        self._total = total
        self._done = 0

    def __call__(self, label: str) -> None:
        self._done = min(self._done + 1, self._total)
        self._progress(self._done, self._total, label)

    def close(self) -> None:
        if isinstance(self._progress, TqdmProgress):
            self._progress.close()


# --------------------------------------------------------------------------------------------
# tag mapping, theme by theme
# --------------------------------------------------------------------------------------------


def _polygonal(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()


def map_streets(ways: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame | None = None, crs: str = CRS) -> tuple[gpd.GeoDataFrame, int]:
    """Street edges from OSM ways/edges (in ``crs``, the area's metric CRS), split at shared nodes, node tags transferred.

    Parameters
    ----------
    ways : GeoDataFrame
        Lines with a ``highway`` column and any of :data:`STREET_TAGS` (pyrosm ways, osmnx edges).
    nodes : GeoDataFrame, optional
        Points with any of :data:`NODE_TAGS`.

    Returns
    -------
    (GeoDataFrame, int)
        Finalised street edges (:func:`layers.osm_tags.finalize_streets`) and the number of tag
        values copied from nodes onto crossing edges.
    """
    from gezondestad.layers.osm_tags import finalize_streets
    from gezondestad.model.topology import split_lines_at_shared_vertices

    if ways is None or len(ways) == 0:
        return conform_theme("streets", None, crs), 0
    w = ways.to_crs(crs) if ways.crs is not None and not ways.crs.equals(crs) else ways
    hw = _tag(w, "highway")
    keep = np.array([h is not None and h not in EXCLUDED_HIGHWAYS for h in hw]) & w.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    w = w[keep]
    cols = [c for c in STREET_TAGS if c in w.columns]
    w = gpd.GeoDataFrame({c: _tag(w, c) for c in cols} | {"osm_id": _osm_ids(w)}, geometry=w.geometry.values, crs=crs)
    w = split_lines_at_shared_vertices(w)
    n_copied = 0
    if nodes is not None and len(nodes):
        w, n_copied = transfer_node_tags(w, nodes)
    return finalize_streets(w), n_copied


def _osm_ids(df: pd.DataFrame) -> np.ndarray:
    for c in ("osm_id", "osmid", "id"):
        if c in df.columns:
            return np.array([tag_to_str(v) for v in df[c].to_numpy()], dtype=object)
    if isinstance(df.index, pd.MultiIndex) and "id" in df.index.names:
        return np.array([str(v) for v in df.index.get_level_values("id")], dtype=object)
    return np.full(len(df), None, dtype=object)


def is_crossing_edge(streets: pd.DataFrame) -> np.ndarray:
    """True for edges that are a crossing (``footway=crossing``, ``cycleway=crossing``, ...)."""
    out = np.zeros(len(streets), dtype=bool)
    for key, values in CROSSING_MARKERS.items():
        out |= np.isin(_tag(streets, key), list(values))
    return out


def transfer_node_tags(streets: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, precision_m: float = 0.01) -> tuple[gpd.GeoDataFrame, int]:
    """Copy :data:`NODE_TAGS` from nodes onto the crossing edges that pass through them.

    An edge keeps its own value; a missing value is taken from any touching node (the first in
    edge order when two nodes disagree). Returns the edges and the number of values copied.
    """
    nd = nodes.to_crs(streets.crs) if nodes.crs is not None and streets.crs is not None and not nodes.crs.equals(streets.crs) else nodes
    nd = nd[nd.geom_type == "Point"]
    if len(nd) == 0 or len(streets) == 0:
        return streets, 0
    xy = shapely.get_coordinates(nd.geometry.values)
    keys = [tuple(k) for k in np.round(xy / precision_m).astype(np.int64)]
    node_tags: dict[tuple[int, int], dict[str, str]] = {}
    vals = {t: _tag(nd, t) for t in NODE_TAGS}
    for i, k in enumerate(keys):
        d = node_tags.setdefault(k, {})
        for t in NODE_TAGS:
            v = vals[t][i]
            if v is not None and t not in d:
                d[t] = v
    out = streets.copy()
    for t in NODE_TAGS:
        if t not in out.columns:
            out[t] = None
        out[t] = out[t].astype(object)
    cross = np.flatnonzero(is_crossing_edge(out))
    if len(cross) == 0:
        return out, 0
    coords, idx = shapely.get_coordinates(out.geometry.values[cross], return_index=True)
    ckeys = np.round(coords / precision_m).astype(np.int64)
    n = 0
    col_pos = {t: out.columns.get_loc(t) for t in NODE_TAGS}
    for (cx, cy), li in zip(ckeys, idx):
        d = node_tags.get((int(cx), int(cy)))
        if not d:
            continue
        row = cross[li]
        for t, v in d.items():
            if tag_to_str(out.iat[row, col_pos[t]]) is None:
                out.iat[row, col_pos[t]] = v
                n += 1
    return out, n


def _first_match(df: pd.DataFrame, rules: tuple[tuple[str, str | None, str], ...]) -> tuple[np.ndarray, np.ndarray]:
    """(label, matched value) per row from the first rule that matches, None when none does."""
    label = np.full(len(df), None, dtype=object)
    value = np.full(len(df), None, dtype=object)
    cache: dict[str, np.ndarray] = {}
    for key, val, lab in rules:
        if key not in cache:
            cache[key] = _tag(df, key)
        col = cache[key]
        hit = (col != None) if val is None else (col == val)  # noqa: E711
        hit &= label == None  # noqa: E711
        label[hit] = lab
        value[hit] = col[hit]
    return label, value


def map_green(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Green spaces (polygons) with ``kind`` (:data:`GREEN_KINDS`), ``public``, ``area_m2``.

    ``public`` is False for ``access=private/no`` and for gardens not tagged ``access=yes`` /
    ``permissive`` (in OSM a ``leisure=garden`` is usually private unless said otherwise).
    """
    if features is None or len(features) == 0:
        return conform_theme("green", None, crs)
    f = features[_polygonal(features)]
    kind, _ = _first_match(f, tuple((k, v, lab) for k, v, lab in GREEN_RULES))
    sel = kind != None  # noqa: E711
    f, kind = f[sel], kind[sel]
    access = _tag(f, "access")
    private = np.isin(access, ["private", "no"])
    garden_not_public = (kind == "garden") & ~np.isin(access, ["yes", "permissive", "public"])
    g = gpd.GeoDataFrame(
        {
            "kind": kind,
            "name": _tag(f, "name"),
            "public": ~(private | garden_not_public),
            "access": access,
            "osm_id": _osm_ids(f),
        },
        geometry=f.geometry.values,
        crs=f.crs,
    ).to_crs(crs)
    g["area_m2"] = g.geometry.area.round(1)
    g["tree_cover"] = np.where(g["kind"] == "wood", 1.0, np.nan)
    g["green_id"] = np.arange(len(g), dtype=np.int64)
    return conform_theme("green", g)


def map_pois(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Points of interest with ``category`` (:data:`POI_CATEGORIES`), ``subtype`` (the OSM value) and ``wheelchair``.

    Polygons (a school ground, a station building) become a point inside them. Traffic lights
    (:data:`SIGNAL_CATEGORY`) are kept from nodes only (a crossing way tagged
    ``crossing=traffic_signals`` is a street edge, not a light).
    """
    if features is None or len(features) == 0:
        return conform_theme("pois", None, crs)
    cat, val = _first_match(features, POI_RULES)
    sel = cat != None  # noqa: E711
    sel &= ~((cat == SIGNAL_CATEGORY) & (shapely.get_type_id(np.asarray(features.geometry.values, dtype=object)) != 0))  # lights: nodes only
    f, cat, val = features[sel], cat[sel], val[sel]
    pt = cat == "_pt"
    if pt.any():
        bus, tram, train = (_tag(f, k) for k in ("bus", "tram", "train"))
        mode = np.where(tram == "yes", "tram_stop", np.where(train == "yes", "train_station", "bus_stop"))
        mode = np.where(bus == "yes", "bus_stop", mode)
        cat = np.where(pt, mode, cat)
    geom = f.geometry.values
    not_pt = ~shapely.is_missing(geom) & (shapely.get_type_id(geom) != 0)
    if not_pt.any():
        geom = geom.copy()
        geom[not_pt] = shapely.point_on_surface(geom[not_pt])
    p = gpd.GeoDataFrame(
        {"category": cat, "subtype": val, "name": _tag(f, "name"), "wheelchair": _tag(f, "wheelchair"), "osm_id": _osm_ids(f)},
        geometry=geom,
        crs=f.crs,
    ).to_crs(crs)
    p["poi_id"] = np.arange(len(p), dtype=np.int64)
    return conform_theme("pois", p)


def map_water(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Waterway lines (kind = waterway value, ``width`` tag) and water polygons (natural=water, riverbanks)."""
    if features is None or len(features) == 0:
        return conform_theme("water", None, crs)
    ww, nat, water = _tag(features, "waterway"), _tag(features, "natural"), _tag(features, "water")
    lines = features.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    polys = _polygonal(features)
    is_line = lines & np.isin(ww, list(WATER_LINE_KINDS))
    is_poly = polys & ((nat == "water") | (ww == "riverbank") | (water != None))  # noqa: E711
    kind = np.where(is_line, ww, np.where(ww == "riverbank", "river_area", np.where(water != None, water, "water")))  # noqa: E711
    sel = is_line | is_poly
    f = features[sel]
    w = gpd.GeoDataFrame(
        {"kind": kind[sel], "name": _tag(f, "name"), "width": _tag(f, "width"), "osm_id": _osm_ids(f)},
        geometry=f.geometry.values,
        crs=f.crs,
    ).to_crs(crs)
    w["water_id"] = np.arange(len(w), dtype=np.int64)
    return conform_theme("water", w)


RAILWAY_KINDS = frozenset({"rail", "light_rail", "tram"})
"""OSM ``railway`` values read as railway tracks (noise sources)."""


def map_railways(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Railway track lines (``railway=rail|light_rail|tram``), one row per OSM way."""
    if features is None or len(features) == 0 or "railway" not in features.columns:
        return conform_theme("railways", None, crs)
    rw = _tag(features, "railway")
    line = np.isin(shapely.get_type_id(np.asarray(features.geometry.values, dtype=object)), [1, 5])
    f = features[np.isin(rw, list(RAILWAY_KINDS)) & line]
    g = gpd.GeoDataFrame(
        {"kind": _tag(f, "railway"), "name": _tag(f, "name"), "tracks": _tag(f, "tracks"), "maxspeed": _tag(f, "maxspeed"), "osm_id": _osm_ids(f)},
        geometry=f.geometry.values,
        crs=f.crs,
    ).to_crs(crs)
    g["railway_id"] = np.arange(len(g), dtype=np.int64)
    return conform_theme("railways", g)


def map_landuse(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Land-use polygons (:data:`LANDUSE_KINDS`); green land use is left to :func:`map_green`; car parks as ``parking``."""
    if features is None or len(features) == 0:
        return conform_theme("landuse", None, crs)
    f = features[_polygonal(features)]
    lu, amen, bld = _tag(f, "landuse"), _tag(f, "amenity"), _tag(f, "building")
    is_lu = (lu != None) & ~np.isin(lu, list(GREEN_LANDUSE))  # noqa: E711
    is_parking = (amen == "parking") & (bld == None)  # noqa: E711  (multi-storey car parks are buildings)
    sel = is_lu | is_parking
    kind = np.array([LANDUSE_MAP.get(v, "other") if v is not None else "parking" for v in lu], dtype=object)
    kind = np.where(is_parking & ~is_lu, "parking", kind)
    f2 = f[sel]
    g = gpd.GeoDataFrame(
        {"kind": kind[sel], "name": _tag(f2, "name"), "osm_landuse": lu[sel], "osm_id": _osm_ids(f2)},
        geometry=f2.geometry.values,
        crs=f2.crs,
    ).to_crs(crs)
    g["landuse_id"] = np.arange(len(g), dtype=np.int64)
    return conform_theme("landuse", g)


def map_buildings(features: gpd.GeoDataFrame, crs: str = CRS) -> gpd.GeoDataFrame:
    """Building footprints: ``use`` from ``building=*``, ``levels`` from ``building:levels``, estimated ``residents``."""
    from gezondestad.model.population import estimate_building_residents

    if features is None or len(features) == 0 or "building" not in features.columns:
        return conform_theme("buildings", None, crs)
    f = features[_polygonal(features)]
    use = _tag(f, "building")
    sel = (use != None) & (use != "no")  # noqa: E711
    f, use = f[sel], use[sel]
    levels = pd.to_numeric(pd.Series(_tag(f, "building:levels")).str.replace(",", ".", regex=False), errors="coerce").to_numpy()
    b = gpd.GeoDataFrame(
        {"use": use, "levels": levels, "osm_id": _osm_ids(f)},
        geometry=f.geometry.values,
        crs=f.crs,
    ).to_crs(crs)
    b["residents"] = estimate_building_residents(b)
    b["building_id"] = np.arange(len(b), dtype=np.int64)
    return conform_theme("buildings", b)


# --------------------------------------------------------------------------------------------
# the one mapping function
# --------------------------------------------------------------------------------------------


def _clip(gdf: gpd.GeoDataFrame, poly: shapely.Geometry, points_within: bool = False) -> gpd.GeoDataFrame:
    """Keep features that intersect the boundary (points: that lie inside it); geometries are not cut,
    so a street crossing the boundary stays whole and routable."""
    if len(gdf) == 0:
        return gdf
    tree = shapely.STRtree(gdf.geometry.values)
    idx = tree.query(poly, predicate="contains" if points_within else "intersects")
    return gdf.iloc[np.sort(idx)].reset_index(drop=True)


def _renumber(gdf: gpd.GeoDataFrame, id_col: str) -> gpd.GeoDataFrame:
    if id_col in gdf.columns:
        gdf[id_col] = np.arange(len(gdf), dtype=np.int64)
    return gdf


def _repaired(gdf: gpd.GeoDataFrame, name: str) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    if len(gdf) == 0:
        return gdf, {}
    v = validate_frame(gdf, name, target_crs=gdf.crs)
    return v.gdf, {k: n for k, n in v.repairs.items() if n}


def _theme_infos(themes: dict[str, gpd.GeoDataFrame], repairs: dict[str, dict[str, int]], n_copied: int, source: str, date: str) -> dict[str, dict[str, Any]]:
    """Manifest entries of the OSM-derived themes (count, repairs, note)."""
    info: dict[str, dict[str, Any]] = {}
    for t in ("streets", "green", "pois", "water", "landuse", "buildings"):
        n = len(themes[t])
        rep = dict(repairs.get(t, {}))
        note = ""
        if t == "streets" and n_copied:
            rep["node_tags_copied"] = n_copied
            note = f"{n_copied} kerb/tactile_paving/crossing values copied from OSM nodes onto crossing edges."
        if t == "pois" and n:
            n_sig = int((themes[t]["category"] == SIGNAL_CATEGORY).sum())
            if n_sig:
                note = (f"Waarvan {n_sig} verkeerslichten (OSM-knopen highway/crossing=traffic_signals, categorie {SIGNAL_CATEGORY}): "
                        "geen voorzieningen, enkel gebruikt voor de geluidscorrectie aan kruispunten.")
        if t == "buildings":
            note = "Residents estimated from footprint x levels (data/norms/population.toml)." if n else "No buildings in the OSM data: homes are estimated along streets."
        if n == 0 and not note:
            note = f"No {t} found in the OSM data for this area."
        info[t] = ThemeInfo(status="present" if n else "missing", source=source, date=date, count=n, repairs=rep, note=note).to_dict()
    return info


def study_area_from_osm(
    ways: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame | None,
    nodes: gpd.GeoDataFrame | None = None,
    *,
    name: str,
    source: str,
    date: str = "",
    boundary: gpd.GeoDataFrame | None = None,
    wijken: gpd.GeoDataFrame | None = None,
    wijken_info: ThemeInfo | None = None,
    resolution_m: float = 10.0,
    progress: Progress | bool | None = False,
    crs: str | None = None,
) -> StudyArea:
    """Map raw OSM data onto a :class:`StudyArea` (the one place where OSM tags are interpreted).

    Parameters
    ----------
    ways : GeoDataFrame
        Street ways or graph edges with tag columns (any CRS).
    features : GeoDataFrame
        Every other OSM feature fetched with :data:`FEATURE_TAGS`, tag columns (any CRS).
    nodes : GeoDataFrame, optional
        Nodes carrying :data:`NODE_TAGS`.
    name, source, date : str
        Study-area name; source and data date for the manifest.
    boundary : GeoDataFrame, optional
        Boundary polygon(s) (any CRS); default the union of ``wijken``, else the data's extent.
    wijken : GeoDataFrame, optional
        Wijken (``wijk_code``, ``wijk_naam``, any CRS); default one wijk = the boundary.
    wijken_info : ThemeInfo, optional
        Manifest entry for the wijken (source/date of the wijken file).
    resolution_m : float
        Land-cover cell size.
    progress : bool
        Show a tqdm bar over the mapping steps.
    crs : str, optional
        The area's working metric CRS; default :func:`model.studyarea.crs_for_geometries` of the
        boundary, else the wijken, else the ways (Lambert 72 in Belgium, the UTM zone elsewhere).
    """
    from gezondestad.model.landcover import rasterize_landcover

    steps = _Steps(6, progress, f"Mapping OSM ({name})")
    try:
        if ways is None or len(ways) == 0 or "highway" not in ways.columns:
            raise OSMError(f"{source}: holds no street network (no ways tagged highway=*). Choose a larger area or another file.")
        feats = features if features is not None else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
        if crs:
            crs = crs_string(crs)
        else:
            ref = next((g for g in (boundary, wijken) if g is not None and len(g) and g.crs is not None), ways)
            crs = crs_for_geometries(ref)
        boundary = boundary.to_crs(crs) if boundary is not None and len(boundary) else boundary
        wijken = wijken.to_crs(crs) if wijken is not None and len(wijken) else wijken
        streets, n_copied = map_streets(ways, nodes, crs)
        steps("streets")
        themes: dict[str, gpd.GeoDataFrame] = {
            "streets": streets,
            "green": map_green(feats, crs),
            "pois": map_pois(feats, crs),
            "water": map_water(feats, crs),
            "landuse": map_landuse(feats, crs),
            "railways": map_railways(feats, crs),
        }
        steps("green, pois, water, landuse")
        themes["buildings"] = map_buildings(feats, crs)
        steps("buildings")
        note_wijken = ""
        if boundary is None or len(boundary) == 0:
            if wijken is not None and len(wijken):
                poly = shapely.union_all(wijken.geometry.values)
                bnote = "Union of the wijken."
            else:
                bounds = [streets.total_bounds] + [themes[t].total_bounds for t in ("green", "pois", "water", "landuse", "buildings") if len(themes[t])]
                b = np.vstack(bounds)
                poly = box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
                bnote = "Extent (bounding box) of the OSM data: no boundary or wijken given."
            boundary = gpd.GeoDataFrame({"name": [name]}, geometry=[poly], crs=crs)
        else:
            bnote = ""
        poly = shapely.union_all(boundary.geometry.values)
        if wijken is None or len(wijken) == 0:
            wijken = gpd.GeoDataFrame({"wijk_code": ["0"], "wijk_naam": [name], "residents": [np.nan]}, geometry=[poly], crs=crs)
            note_wijken = "No wijken given: the whole area is one wijk. Pass a wijken file (--wijken) for results per wijk."
        repairs: dict[str, dict[str, int]] = {}
        for t, id_col in (("streets", None), ("green", "green_id"), ("pois", "poi_id"), ("water", "water_id"), ("landuse", "landuse_id"), ("railways", "railway_id"), ("buildings", "building_id")):
            g = themes[t]
            if t != "streets":
                g, rep = _repaired(g, f"{source} [{t}]")
                repairs[t] = rep
            g = _clip(g, poly, points_within=(t == "pois"))
            themes[t] = _renumber(g, id_col) if id_col else g
        if len(themes["streets"]) == 0:
            raise OSMError(f"{source}: no street lies inside the boundary; check that the wijken and the OSM data cover the same place.")
        from gezondestad.layers.osm_tags import finalize_streets

        themes["streets"] = finalize_streets(themes["streets"])
        steps("clip to boundary")
        themes["boundary"] = boundary
        res_note = ""
        b = themes["buildings"]
        wres = pd.to_numeric(wijken["residents"], errors="coerce") if "residents" in wijken.columns else pd.Series(np.nan, index=wijken.index)
        if len(b):
            from gezondestad.model.population import scale_to_totals
            from gezondestad.model.wijken import assign_wijk

            wijken = wijken.copy()
            codes = assign_wijk(gpd.GeoSeries(b.geometry.representative_point().values, crs=crs), wijken)["wijk_code"].to_numpy()
            res = pd.to_numeric(b["residents"], errors="coerce").fillna(0.0).to_numpy()
            if wres.isna().all():
                per = pd.Series(res).groupby(codes).sum()
                wijken["residents"] = wijken["wijk_code"].map(per).fillna(0.0).to_numpy(dtype=float)
                res_note = "Residents per wijk = sum of the estimated residents of its buildings (ESTIMATED from footprint x levels)."
            else:
                # the wijken file gives counted residents: buildings share them by floor area
                totals = {c: float(v) for c, v in zip(wijken["wijk_code"], wres) if np.isfinite(v)}
                b = b.copy()
                b["residents"] = scale_to_totals(res, codes, totals)
                themes["buildings"] = b
                res_note = "Building residents scaled so that each wijk adds up to the residents of the wijken file."
        themes["wijken"] = wijken
        lc = rasterize_landcover(
            boundary,
            buildings=themes["buildings"],
            streets=themes["streets"],
            green=themes["green"],
            water=themes["water"],
            bare=themes["landuse"][themes["landuse"]["kind"].isin(["brownfield", "construction", "railway"])],
            paved=themes["landuse"][themes["landuse"]["kind"] == "parking"],
            resolution_m=resolution_m,
        )
        steps("land cover")
        info = _theme_infos(themes, repairs, n_copied, source, date)
        info["boundary"] = ThemeInfo(status="present", source=wijken_info.source if (wijken_info and not bnote.startswith("Extent")) else source, date=date, count=len(boundary), note=bnote).to_dict()
        wi = wijken_info or ThemeInfo(source=source, date=date)
        info["wijken"] = ThemeInfo(status="present" if not note_wijken else "partial", source=wi.source, date=wi.date, count=len(wijken), repairs=wi.repairs, note=" ".join(x for x in (note_wijken or wi.note, res_note) if x)).to_dict()
        area = StudyArea(
            name=name,
            themes=themes,
            landcover=lc,
            manifest={"synthetic": False, "source": source, "themes": info, "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
            crs=crs,
        )
        steps("done")
        return area
    finally:
        steps.close()


# --------------------------------------------------------------------------------------------
# wijken / boundary
# --------------------------------------------------------------------------------------------

WIJK_CODE_COLUMNS = ("wijk_code", "code", "wijkcode", "geoitem", "id")
WIJK_NAME_COLUMNS = ("wijk_naam", "naam", "name", "wijknaam", "wijk")


def read_wijken(path: str | os.PathLike, layer: str | None = None) -> tuple[gpd.GeoDataFrame, ThemeInfo]:
    """Read a wijken file (via :func:`layers.validate.read_vector`) into ``wijk_code``/``wijk_naam``.

    Columns are recognised by the usual names (:data:`WIJK_CODE_COLUMNS`, :data:`WIJK_NAME_COLUMNS`).
    The polygons keep the file's CRS (the study area reprojects them to its own).
    """
    v = read_vector(path, layer, expected_columns=WIJK_CODE_COLUMNS + WIJK_NAME_COLUMNS, target_crs=None)
    g = v.gdf
    lower = {c.lower(): c for c in g.columns}
    code_col = next((lower[c] for c in WIJK_CODE_COLUMNS if c in lower), None)
    name_col = next((lower[c] for c in WIJK_NAME_COLUMNS if c in lower), None)
    g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(g) == 0:
        raise InputError(f"{path}: holds no polygons; wijken must be polygons.")
    out = gpd.GeoDataFrame(
        {
            "wijk_code": [tag_to_str(x) for x in g[code_col]] if code_col else [str(i + 1) for i in range(len(g))],
            "wijk_naam": [tag_to_str(x) for x in g[name_col]] if name_col else [None] * len(g),
            "residents": pd.to_numeric(g[lower["residents"]], errors="coerce").to_numpy() if "residents" in lower else np.nan,
        },
        geometry=g.geometry.values,
        crs=g.crs,
    )
    date = _dt.date.fromtimestamp(Path(path).stat().st_mtime).isoformat()
    return out, ThemeInfo(status="present", source=str(path), date=f"file of {date}", count=len(out), repairs={k: n for k, n in v.repairs.items() if n})


def _boundary_from_wijken(wijken: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.union_all(wijken.geometry.values)], crs=wijken.crs)


# --------------------------------------------------------------------------------------------
# osmnx (online by place / polygon, and offline .osm XML)
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def osmnx_tag_settings() -> Iterator[None]:
    """Make osmnx keep every :data:`STREET_TAGS` on edges and :data:`NODE_TAGS` on nodes (restored afterwards).

    Also points osmnx's HTTP cache to ``~/.cache/gezondestad/osmnx`` instead of ``./cache``.
    """
    import osmnx as ox

    old_w, old_n, old_cache = list(ox.settings.useful_tags_way), list(ox.settings.useful_tags_node), ox.settings.cache_folder
    ox.settings.useful_tags_way = list(dict.fromkeys([*old_w, *STREET_TAGS, "area"]))
    ox.settings.useful_tags_node = list(dict.fromkeys([*old_n, *NODE_TAGS]))
    if str(old_cache) in ("./cache", "cache"):
        # osmnx's default caches HTTP answers in ./cache of whatever folder the user is in
        ox.settings.cache_folder = str(Path.home() / ".cache" / "gezondestad" / "osmnx")
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node, ox.settings.cache_folder = old_w, old_n, old_cache


def _graph_to_frames(G: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Edges (one per street segment between junctions, undirected) and tagged nodes of an osmnx graph."""
    import osmnx as ox

    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if tag_to_str(d.get("highway")) in (None, *EXCLUDED_HIGHWAYS) or tag_to_str(d.get("area")) == "yes"]
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if G.number_of_edges() == 0:
        raise OSMError("The OSM data holds no street network (no ways tagged highway=*).")
    present = {k for _, _, d in G.edges(data=True) for k in d}
    G = ox.simplify_graph(G, node_attrs_include=list(NODE_TAGS), edge_attrs_differ=[t for t in STREET_TAGS if t in present])
    Gu = ox.convert.to_undirected(G)
    nodes, edges = ox.graph_to_gdfs(Gu)
    edges = edges.reset_index(drop=True)
    tagged = np.zeros(len(nodes), dtype=bool)
    for t in NODE_TAGS:
        if t in nodes.columns:
            tagged |= nodes[t].notna().to_numpy()
    return edges, nodes[tagged]


def _features_xml(path: Path) -> gpd.GeoDataFrame:
    import osmnx as ox

    try:
        return ox.features_from_xml(path, tags=FEATURE_TAGS)
    except ox._errors.InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")


def _xml_date(path: Path) -> str:
    """The OSM data date of an XML file: header timestamp / osm_base, else the newest element, else the file date."""
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    m = re.search(r'<osm\s[^>]*timestamp="([0-9]{4}-[0-9]{2}-[0-9]{2})', head) or re.search(r'osm_base="([0-9]{4}-[0-9]{2}-[0-9]{2})', head)
    if m:
        return m.group(1)
    stamps = re.findall(rb'timestamp="([0-9]{4}-[0-9]{2}-[0-9]{2})', path.read_bytes())
    if stamps:
        return f"{max(stamps).decode()} (newest edit in the file)"
    return f"file of {_dt.date.fromtimestamp(path.stat().st_mtime).isoformat()}"


def _read_osm_xml(path: Path, boundary4326: shapely.Geometry | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import osmnx as ox

    with osmnx_tag_settings():
        try:
            G = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        except Exception as exc:  # osmnx/lxml raise many kinds on a broken file
            raise OSMError(f"{path}: cannot be read as OSM XML ({exc}).") from exc
        edges, nodes = _graph_to_frames(G)
        feats = _features_xml(path)
    if boundary4326 is not None and len(feats):
        feats = feats[feats.intersects(boundary4326)]
    return edges, nodes, feats


def _read_pbf(path: Path, boundary4326: shapely.Geometry | None, progress: Progress | bool | None = False) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    import pyrosm

    steps = _Steps(4, progress, f"Reading {path.name}")
    try:
        return _read_pbf_steps(pyrosm, path, boundary4326, steps)
    finally:
        steps.close()


def _read_pbf_steps(pyrosm: Any, path: Path, boundary4326: shapely.Geometry | None, steps: _Steps) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    try:
        osm = pyrosm.OSM(str(path), bounding_box=boundary4326)
        extra = [t for t in STREET_TAGS]
        ways = osm.get_network(network_type="all", extra_attributes=extra, nodes=False)
    except Exception as exc:
        raise OSMError(f"{path}: cannot be read as an OSM PBF file ({exc}).") from exc
    if ways is None or len(ways) == 0:
        raise OSMError(f"{path}: holds no street network inside the requested area.")
    ways = _expand_tags(ways, STREET_TAGS)
    steps("street network")
    nodes = osm.get_data_by_custom_criteria(
        custom_filter={t: True for t in NODE_TAGS}, filter_type="keep", keep_nodes=True, keep_ways=False, keep_relations=False
    )
    if nodes is not None:
        nodes = _expand_tags(nodes, NODE_TAGS)
    steps("crossing nodes")
    feats = osm.get_data_by_custom_criteria(custom_filter={k: v for k, v in FEATURE_TAGS.items() if k != "building"}, filter_type="keep")
    keys = sorted({*FEATURE_TAGS, "name", "access", "wheelchair", "width", "bus", "tram", "train", "building:levels", "tracks", "maxspeed"})
    feats = _expand_tags(feats, keys) if feats is not None else None
    steps("green, pois, water, land use")
    blds = osm.get_buildings()
    if blds is not None and len(blds):
        blds = _expand_tags(blds, ["building", "building:levels"])
    steps("buildings")
    parts = [f for f in (feats, blds) if f is not None and len(f)]
    allf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326") if parts else None
    if allf is not None and {"id", "osm_type"} <= set(allf.columns):
        # a school or station that is also a building comes back from both queries
        allf = allf.drop_duplicates(subset=["osm_type", "id"]).reset_index(drop=True)
    stamps = [pd.to_numeric(d["timestamp"], errors="coerce").max() for d in (ways, allf) if d is not None and "timestamp" in d]
    stamps = [s for s in stamps if np.isfinite(s) and s > 0]
    date = f"{_dt.datetime.fromtimestamp(max(stamps), _dt.timezone.utc).date().isoformat()} (newest edit in the file)" if stamps else ""
    return ways, nodes, allf, date


def area_from_osm_file(
    path: str | os.PathLike,
    wijken_file: str | os.PathLike | None = None,
    *,
    name: str | None = None,
    wijken_layer: str | None = None,
    resolution_m: float = 10.0,
    progress: Progress | bool | None = False,
    crs: str | None = None,
    wijken: gpd.GeoDataFrame | None = None,
    wijken_info: ThemeInfo | None = None,
) -> StudyArea:
    """Prepare a study area from an OSM file, offline.

    Parameters
    ----------
    path : path
        ``.osm.pbf`` (read with pyrosm) or ``.osm`` / ``.xml`` (read with osmnx).
    wijken_file : path, optional
        Wijken polygons; the data are clipped to their union. Without it, to the data's extent.
    name : str, optional
        Study-area name (default: the file name).
    crs : str, optional
        Working metric CRS (e.g. ``"EPSG:32628"``); default Lambert 72 in Belgium, else the UTM
        zone of the area's centroid (:func:`model.studyarea.local_metric_crs`).
    wijken, wijken_info : GeoDataFrame, ThemeInfo, optional
        Wijken already read (``wijk_code``, ``wijk_naam``; any CRS) instead of ``wijken_file``.
    """
    p = Path(path)
    if not p.is_file():
        raise OSMError(f"{p}: file not found.")
    low = p.name.lower()
    wijken, winfo = (read_wijken(wijken_file, wijken_layer) if wijken_file else (wijken, wijken_info))
    b4326 = gpd.GeoSeries([shapely.union_all(wijken.geometry.values)], crs=wijken.crs).to_crs(4326).iloc[0] if wijken is not None else None
    nm = name or re.sub(r"\.(osm\.pbf|pbf|osm|xml)$", "", p.name, flags=re.I)
    if low.endswith(".pbf"):
        ways, nodes, feats, date = _read_pbf(p, b4326, progress)
        src = f"OpenStreetMap file {p.name} (pyrosm)"
    elif low.endswith((".osm", ".xml")):
        ways, nodes, feats = _read_osm_xml(p, b4326)
        date = _xml_date(p)
        src = f"OpenStreetMap file {p.name} (osmnx)"
    else:
        raise OSMError(f"{p}: not an OSM file; use .osm.pbf or .osm (XML).")
    return study_area_from_osm(
        ways, feats, nodes, name=nm, source=src, date=date, wijken=wijken, wijken_info=winfo, resolution_m=resolution_m, progress=progress, crs=crs,
    )


class _OnlineErrors:
    """Turn osmnx/network exceptions into one clear :class:`OSMError`."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: type | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, OSMError):
            return False
        import osmnx as ox

        msg = str(exc)
        if isinstance(exc, ox._errors.InsufficientResponseError) or (isinstance(exc, (ValueError, TypeError)) and ("geocod" in msg.lower() or "found no graph nodes" in msg.lower() or "no data elements" in msg.lower())):
            if "geocod" in msg.lower() or "nominatim" in msg.lower() or self.what == "place":
                raise OSMError(f"OpenStreetMap does not know the place {self._q()}: {msg.rstrip('.')}. Check the spelling, add the country (\"Mechelen, Belgium\") or pass a polygon.") from exc
            raise OSMError(f"No street network found in OpenStreetMap for {self._q()}: {msg.rstrip('.')}. Choose a larger area or check the polygon.") from exc
        if isinstance(exc, OSError) or type(exc).__module__.startswith(("requests", "urllib3")):
            raise OSMError(f"Cannot reach OpenStreetMap ({exc}). Without internet, prepare from a file: gezondestad prepare --osm FILE.osm.pbf.") from exc
        return False

    def _q(self) -> str:
        return str(getattr(self, "query", "")) or "the requested area"


def area_from_polygon(
    polygon: shapely.Geometry,
    *,
    crs: str = CRS,
    name: str = "Study area",
    wijken: gpd.GeoDataFrame | None = None,
    wijken_info: ThemeInfo | None = None,
    resolution_m: float = 10.0,
    progress: Progress | bool | None = False,
    _query_label: str | None = None,
    area_crs: str | None = None,
) -> StudyArea:
    """Download OSM for a polygon (in ``crs``) with osmnx (needs internet) and map it onto a study area in ``area_crs`` (default: local)."""
    import osmnx as ox

    poly4326 = gpd.GeoSeries([polygon], crs=crs).to_crs(4326).iloc[0]
    guard = _OnlineErrors("network")
    guard.query = _query_label or name  # type: ignore[attr-defined]
    with guard, osmnx_tag_settings():
        G = ox.graph_from_polygon(poly4326, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True)
        edges, nodes = _graph_to_frames(G)
        try:
            feats = ox.features_from_polygon(poly4326, tags=FEATURE_TAGS)
        except ox._errors.InsufficientResponseError:
            feats = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    boundary = gpd.GeoDataFrame({"name": [name]}, geometry=[shapely.Polygon(polygon) if polygon.geom_type == "LinearRing" else polygon], crs=crs)
    today = _dt.date.today().isoformat()
    return study_area_from_osm(
        edges, feats, nodes, name=name, source=f"OpenStreetMap via osmnx (Overpass API), {_query_label or 'polygon'}", date=f"{today} (downloaded)",
        boundary=boundary, wijken=wijken, wijken_info=wijken_info, resolution_m=resolution_m, progress=progress, crs=area_crs,
    )


def area_from_place(
    place: str,
    wijken_file: str | os.PathLike | None = None,
    *,
    wijken_layer: str | None = None,
    resolution_m: float = 10.0,
    progress: Progress | bool | None = False,
    crs: str | None = None,
) -> StudyArea:
    """Download OSM for a place name with osmnx (needs internet), e.g. ``"Mechelen, Belgium"``.

    The boundary is the place polygon from Nominatim, or the union of the wijken when a wijken
    file is given.

    Raises
    ------
    OSMError
        When the place is not found, there is no network, or OSM cannot be reached.
    """
    import osmnx as ox

    if not place or not place.strip():
        raise OSMError("Give a place name, e.g. \"Mechelen, Belgium\".")
    wijken, winfo = (read_wijken(wijken_file, wijken_layer) if wijken_file else (None, None))
    if wijken is not None:
        polygon, poly_crs = shapely.union_all(wijken.geometry.values), wijken.crs
    else:
        guard = _OnlineErrors("place")
        guard.query = repr(place)  # type: ignore[attr-defined]
        with guard:
            gdf = ox.geocode_to_gdf(place)
            if gdf is None or len(gdf) == 0 or not gdf.geom_type.isin(["Polygon", "MultiPolygon"]).any():
                raise OSMError(f"OpenStreetMap knows {place!r} only as a point, not an area; pass a wijken file or a polygon.")
        poly_crs = crs_for_geometries(gdf)
        polygon = shapely.union_all(gdf.to_crs(poly_crs).geometry.values)
    name = place.split(",")[0].strip()
    return area_from_polygon(polygon, crs=poly_crs, name=name, wijken=wijken, wijken_info=winfo, resolution_m=resolution_m, progress=progress, _query_label=f"place {place!r}", area_crs=crs)


__all__ = [
    "OSMError",
    "FEATURE_TAGS",
    "NODE_TAGS",
    "area_from_place",
    "area_from_polygon",
    "area_from_osm_file",
    "study_area_from_osm",
    "map_streets",
    "map_green",
    "map_pois",
    "map_water",
    "map_landuse",
    "map_buildings",
    "transfer_node_tags",
    "read_wijken",
    "osmnx_tag_settings",
]
