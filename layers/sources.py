"""City GIS files mapped onto the study-area model through a sources TOML.

``gezondestad prepare --sources FILE.toml --out DIR`` reads one TOML that says, per theme, which
file and layer to read, how its columns map onto the model (:data:`gezondestad.layers.studyarea.THEME_COLUMNS`),
an optional filter, and the source / date / licence text for the manifest. Paths are relative
to the TOML file's folder. Example (the real one is ``tests/real/mechelen.toml``)::

    name = "Mechelen"

    [wijken]
    file = "wijken.gpkg"
    layer = "wijken"
    columns = { wijk_code = "wijk_code", wijk_naam = "wijk_naam" }
    source = "Statbel"
    date = "2024"
    licence = "Modellicentie Gratis Hergebruik Vlaanderen v1.0"

    [streets]                     # OSM-like lines; tags with model names are taken as they are
    file = "roads.gpkg"
    split = "shared_vertices"     # split at vertices shared by two lines (OSM junctions)

    [[pois]]                      # a list of tables: several files add up
    file = "points.gpkg"
    category_column = "type"      # model category per value; values not in the map are dropped
    category_map = { bus_stop = "bus_stop", pharmacy = "pharmacy" }
    filter = { in_mechelen = [true] }   # keep rows whose column value is in the list

    [[pois]]
    file = "benches.gpkg"
    constants = { category = "bench" }

    [buildings]
    status = "missing"
    note = "No building footprints available offline."

    [population]                  # optional: a municipality total spread over the wijken
    file = "population.csv"
    value_column = "MS_POPULATION"
    age_column = "CD_AGE"

    [air_background]              # optional: the city's annual background air (else data/norms/air.toml)
    no2_ugm3 = 16.0               # illustrative numbers; copied to the manifest, read by spatial.air.AirParams.for_area
    pm25_ugm3 = 8.5
    source = "IRCEL-CELINE RIO-IFDM, jaargemiddelde"   # required with a value; year / station optional
    year = "2023"

Every theme keys: ``file``, ``layer``, ``columns`` (model column = file column), ``filter``
(column = [values]), ``constants`` (model column = value), ``category_column`` /
``category_map`` (pois), ``kind_column`` / ``kind_map`` (green, water, landuse), ``assume_crs``, ``force_crs``,
``fix_swapped``, ``status`` (present/partial/missing; default by count), ``note``, ``source``,
``date``, ``licence``.
"""

from __future__ import annotations

import datetime as _dt
import os
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.layers.osm_tags import tag_to_str
from gezondestad.layers.validate import InputError, read_vector
from gezondestad.model.progress import Progress, TqdmProgress, as_progress
from gezondestad.model.studyarea import (
    CRS,
    GREEN_KINDS,
    LANDUSE_KINDS,
    POI_CATEGORIES,
    STREET_TAGS,
    THEME_COLUMNS,
    VECTOR_THEMES,
    StudyArea,
    ThemeInfo,
    conform_theme,
    crs_for_geometries,
    crs_string,
)

STATUSES = ("present", "partial", "missing")
THEME_KEYS = frozenset(
    {
        "file", "layer", "columns", "filter", "constants", "category_column", "category_map", "kind_column", "kind_map",
        "assume_crs", "force_crs", "fix_swapped", "status", "note", "source", "date", "licence", "split", "drop_unmapped",
    }
)
ID_COLUMNS = {"buildings": "building_id", "green": "green_id", "pois": "poi_id", "water": "water_id", "landuse": "landuse_id", "railways": "railway_id"}


class SourcesError(InputError):
    """The sources TOML is malformed or names something that does not exist."""


def load_sources(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a sources TOML (unknown themes or keys are errors, with the allowed ones listed)."""
    p = Path(path)
    if not p.is_file():
        raise SourcesError(f"{p}: sources file not found.")
    try:
        with p.open("rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{p}: not valid TOML ({exc}).") from exc
    allowed_top = set(VECTOR_THEMES) | {"name", "resolution_m", "population", "description", "crs", "osm", "gtfs"}
    unknown = sorted(set(cfg) - allowed_top)
    if unknown:
        raise SourcesError(f"{p}: unknown section(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed_top))}.")
    for theme in VECTOR_THEMES:
        for spec in _specs(cfg.get(theme)):
            bad = sorted(set(spec) - THEME_KEYS)
            if bad:
                raise SourcesError(f"{p}: [{theme}] has unknown key(s) {', '.join(bad)}; allowed: {', '.join(sorted(THEME_KEYS))}.")
            if spec.get("status", "present") not in STATUSES:
                raise SourcesError(f"{p}: [{theme}] status must be one of {', '.join(STATUSES)}.")
    if "wijken" not in cfg or not any("file" in s for s in _specs(cfg["wijken"])):
        raise SourcesError(f"{p}: a [wijken] section with a file is required (the wijken also give the boundary).")
    return cfg


def _specs(v: Any) -> list[dict[str, Any]]:
    if v is None:
        return []
    if isinstance(v, dict):
        return [v]
    if isinstance(v, list) and all(isinstance(x, dict) for x in v):
        return list(v)
    raise SourcesError(f"A theme section must be a table or a list of tables, got {type(v).__name__}.")


def _expected_columns(spec: dict[str, Any], columns: dict[str, str], theme: str) -> list[str]:
    """The source columns a theme file must have (mapped, category/kind, filter, ``highway``)."""
    expected = list(columns.values())
    for key in ("category_column", "kind_column"):
        if key in spec:
            expected.append(spec[key])
    expected += list(spec.get("filter", {}).keys())
    if theme == "streets":
        expected += ["highway"]
    return expected


def _filtered(g: gpd.GeoDataFrame, spec: dict[str, Any], label: str) -> gpd.GeoDataFrame:
    """The rows whose ``filter`` columns hold one of the listed values."""
    for col, values in spec.get("filter", {}).items():
        if col not in g.columns:
            raise SourcesError(f"{label}: filter column '{col}' not found; columns are {', '.join(c for c in g.columns if c != 'geometry')}.")
        vals = values if isinstance(values, list) else [values]
        g = g[g[col].isin(vals)]
    return g


def _model_columns(g: gpd.GeoDataFrame, spec: dict[str, Any], columns: dict[str, str], theme: str) -> gpd.GeoDataFrame:
    """The model columns (mapped, or present under their model name), the OSM id, the category/kind
    source columns and the constants; the other columns of a city file are not carried over."""
    wanted = list(THEME_COLUMNS[theme]) + (list(STREET_TAGS) if theme == "streets" else []) + ["osm_id"]
    keep = gpd.GeoDataFrame({c: g[c].to_numpy() for c in dict.fromkeys(wanted) if c in g.columns and c not in columns}, geometry=g.geometry.values, crs=g.crs)
    for model, src in columns.items():
        keep[model] = g[src].to_numpy()
    for key in ("category_column", "kind_column"):
        if key in spec and spec[key] not in keep.columns:
            keep[spec[key]] = g[spec[key]].to_numpy()
    for col, value in spec.get("constants", {}).items():
        keep[col] = value
    return keep


def _mapped_categories(keep: gpd.GeoDataFrame, spec: dict[str, Any], columns: dict[str, str], theme: str) -> gpd.GeoDataFrame:
    """``category``/``kind`` through the spec's maps (unmapped rows dropped where asked), then the
    category/kind source columns dropped when they are no model column."""
    if "category_column" in spec:
        cmap = {str(k): str(v) for k, v in spec.get("category_map", {}).items()}
        raw = keep[spec["category_column"]].map(tag_to_str)
        keep["category"] = raw.map(cmap)
        if "subtype" not in columns:
            keep["subtype"] = raw
        keep = keep[keep["category"].notna()]
    if "kind_column" in spec:
        kmap = {str(k): str(v) for k, v in spec.get("kind_map", {}).items()}
        raw = keep[spec["kind_column"]].map(tag_to_str)
        keep["kind"] = raw.map(kmap) if kmap else raw
        if kmap and spec.get("drop_unmapped", False):
            keep = keep[keep["kind"].notna()]
    for key in ("category_column", "kind_column"):
        if key in spec and spec[key] not in THEME_COLUMNS[theme] and spec[key] in keep.columns and spec[key] not in columns:
            keep = keep.drop(columns=[spec[key]])
    return keep


def read_theme_file(spec: dict[str, Any], base_dir: Path, theme: str, crs: str | None = CRS) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Read one file of one theme and bring its columns to the model names.

    Returns the frame in ``crs`` (the area's; None keeps the file's) with the model columns + whatever else the file has, and the repair
    counts of :func:`layers.validate.read_vector`.
    """
    path = (base_dir / spec["file"]).resolve() if not Path(spec["file"]).is_absolute() else Path(spec["file"])
    columns: dict[str, str] = dict(spec.get("columns", {}))
    expected = _expected_columns(spec, columns, theme)
    v = read_vector(path, spec.get("layer"), expected_columns=expected or None, assume_crs=spec.get("assume_crs"), force_crs=spec.get("force_crs"), fix_swapped=bool(spec.get("fix_swapped", False)), target_crs=crs)
    g = v.gdf
    label = f"{path.name}" + (f" [{spec['layer']}]" if spec.get("layer") else "")
    g = _filtered(g, spec, label)
    missing = [src for src in columns.values() if src not in g.columns]
    if missing:
        raise SourcesError(f"{label}: column(s) {', '.join(missing)} not found; columns are {', '.join(c for c in g.columns if c != 'geometry')}.")
    keep = _mapped_categories(_model_columns(g, spec, columns, theme), spec, columns, theme)
    keep = gpd.GeoDataFrame(keep, geometry="geometry", crs=g.crs)
    return keep, {k: n for k, n in v.repairs.items() if n}


def _finish_theme(theme: str, g: gpd.GeoDataFrame, spec: dict[str, Any]) -> gpd.GeoDataFrame:
    """Model columns and ids per theme (kinds normalised, points for pois, areas, residents)."""
    if len(g) == 0:
        return conform_theme(theme, None, g.crs)
    g = g.reset_index(drop=True)
    if theme == "streets":
        from gezondestad.layers.osm_tags import finalize_streets
        from gezondestad.model.topology import split_lines_at_shared_vertices

        lines = g[g.geom_type.isin(["LineString", "MultiLineString"])]
        cols = [c for c in STREET_TAGS if c in lines.columns]
        lines = gpd.GeoDataFrame({c: lines[c].map(tag_to_str).astype(object).to_numpy() for c in cols}, geometry=lines.geometry.values, crs=g.crs)
        if spec.get("split", "shared_vertices") == "shared_vertices":
            lines = split_lines_at_shared_vertices(lines)
        return finalize_streets(lines)
    if theme == "pois":
        geom = np.asarray(g.geometry.values, dtype=object)
        nonpt = shapely.get_type_id(geom) != 0
        if nonpt.any():
            geom = geom.copy()
            geom[nonpt] = shapely.point_on_surface(geom[nonpt])
            g = g.set_geometry(gpd.GeoSeries(geom, index=g.index, crs=g.crs))
        bad = sorted(set(g["category"].dropna()) - set(POI_CATEGORIES)) if "category" in g else ["(no category)"]
        if bad:
            raise SourcesError(f"[pois]: categories {', '.join(bad)} are not model categories ({', '.join(POI_CATEGORIES)}); fix the category_map.")
    if theme == "green":
        g["kind"] = [k if k in GREEN_KINDS else "other" for k in (g["kind"].map(tag_to_str) if "kind" in g else [None] * len(g))]
        access = g["access"].map(tag_to_str) if "access" in g else pd.Series([None] * len(g), index=g.index)
        if "public" not in g:
            g["public"] = ~access.isin(["private", "no"]).to_numpy()
        g["area_m2"] = g.geometry.area.round(1)
        if "tree_cover" not in g:
            g["tree_cover"] = np.where(g["kind"] == "wood", 1.0, np.nan)
    if theme == "landuse":
        g["kind"] = [k if k in LANDUSE_KINDS else "other" for k in (g["kind"].map(tag_to_str) if "kind" in g else [None] * len(g))]
    if theme == "buildings":
        from gezondestad.model.population import estimate_building_residents

        if "residents" not in g or pd.to_numeric(g["residents"], errors="coerce").isna().all():
            g["residents"] = estimate_building_residents(g)
    if theme in ID_COLUMNS:
        g[ID_COLUMNS[theme]] = np.arange(len(g), dtype=np.int64)
    return conform_theme(theme, g)


def _clip(theme: str, g: gpd.GeoDataFrame, poly: shapely.Geometry) -> gpd.GeoDataFrame:
    """Features touching the boundary (pois: inside it). Lines and polygons are kept whole."""
    if len(g) == 0 or theme in ("wijken", "boundary"):
        return g
    tree = shapely.STRtree(g.geometry.values)
    idx = np.sort(tree.query(poly, predicate="contains" if theme == "pois" else "intersects"))
    out = g.iloc[idx].reset_index(drop=True)
    if theme in ID_COLUMNS:
        out[ID_COLUMNS[theme]] = np.arange(len(out), dtype=np.int64)
    if theme == "streets":
        from gezondestad.layers.osm_tags import finalize_streets

        out = finalize_streets(out)
    return out


def _source_text(spec: dict[str, Any], path_label: str) -> str:
    parts = [spec.get("source") or path_label]
    if spec.get("licence"):
        parts.append(f"licence: {spec['licence']}")
    return "; ".join(parts)


def spread_population(
    wijken: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    total: float,
    shares: dict[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Spread a municipality total over the wijken in proportion to estimated homes per wijk.

    Homes are estimated along residential streets (:func:`spatial.aggregate.estimate_homes_along_streets`).
    ``shares`` (e.g. ``{"residents_65plus": 0.17}``) adds one column per share = residents x share.

    Returns
    -------
    GeoDataFrame
        ``wijken`` with ``residents`` (float, estimated), ``homes_estimated`` and one column per share.
    """
    from gezondestad.model.population import estimate_homes_along_streets
    from gezondestad.model.wijken import assign_wijk

    homes = estimate_homes_along_streets(streets)
    w = wijken.copy()
    counts = assign_wijk(homes, w)["wijk_code"].value_counts() if len(homes) else pd.Series(dtype=float)
    n = w["wijk_code"].map(counts).fillna(0).to_numpy(dtype=float)
    if n.sum() == 0:
        # no residential streets at all: spread by area (documented fallback)
        n = w.geometry.area.to_numpy()
    w["homes_estimated"] = n.astype(int) if n.sum() else n
    w["residents"] = float(total) * n / n.sum()
    for col, share in (shares or {}).items():
        w[col] = w["residents"] * float(share)
    return w


def read_population(spec: dict[str, Any], base_dir: Path) -> tuple[float, dict[str, float], str]:
    """Total residents and age shares from a Statbel-like table.

    Keys: ``file`` (CSV), ``value_column`` (default ``MS_POPULATION``), ``age_column`` (default
    ``CD_AGE``), ``filter`` (column = [values]), ``source``, ``date``, ``licence``.

    Returns
    -------
    (total, shares, source text)
        ``shares`` has ``residents_65plus`` (age >= 65) and ``residents_0_5`` (age 0-5) as
        fractions of the total when the age column exists.
    """
    path = (base_dir / spec["file"]).resolve()
    if not path.is_file():
        raise SourcesError(f"{path}: population table not found.")
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise SourcesError(f"{path}: cannot be read as CSV ({exc}).") from exc
    vcol = spec.get("value_column", "MS_POPULATION")
    if vcol not in df.columns:
        raise SourcesError(f"{path.name}: no column '{vcol}'; columns are {', '.join(df.columns)}.")
    for col, values in spec.get("filter", {}).items():
        if col not in df.columns:
            raise SourcesError(f"{path.name}: filter column '{col}' not found.")
        df = df[df[col].isin(values if isinstance(values, list) else [values])]
    vals = pd.to_numeric(df[vcol], errors="coerce").fillna(0.0)
    total = float(vals.sum())
    if total <= 0:
        raise SourcesError(f"{path.name}: the population total is 0 after filtering; check the filter.")
    shares: dict[str, float] = {}
    acol = spec.get("age_column", "CD_AGE")
    if acol in df.columns:
        age = pd.to_numeric(df[acol], errors="coerce")
        shares["residents_65plus"] = float(vals[age >= 65].sum() / total)
        shares["residents_0_5"] = float(vals[(age >= 0) & (age <= 5)].sum() / total)
    return total, shares, _source_text(spec, path.name)


def area_from_sources(path: str | os.PathLike, resolution_m: float | None = None, progress: Progress | bool | None = False, crs: str | None = None) -> StudyArea:
    """Prepare a study area from a sources TOML: city GIS files per theme, or an OSM file (``[osm]``), plus a GTFS feed.

    Top-level keys besides the themes: ``crs`` (working CRS, e.g. ``"EPSG:32628"``; default Lambert 72
    in Belgium, else the UTM zone of the wijken), ``[osm]`` (``file`` = an ``.osm.pbf``/``.osm``: every
    theme but the wijken then comes from OpenStreetMap), ``[gtfs]`` (``file`` = a GTFS zip, optional
    ``date`` = the service day, ``start_hour``/``end_hour``, ``max_match_m``; departures per hour go onto
    the bus/tram-stop POIs, see :mod:`gezondestad.layers.gtfs`).

    Parameters
    ----------
    path : path
        The sources TOML (file paths inside are relative to its folder).
    resolution_m : float, optional
        Land-cover cell size; default the TOML's ``resolution_m`` or 10 m.
    progress : bool
        tqdm bars.
    crs : str, optional
        Working CRS; overrides the TOML's ``crs``.
    """
    p = Path(path).resolve()
    cfg = load_sources(p)
    area_crs = crs or cfg.get("crs")
    if "osm" in cfg:
        area = _area_from_osm_section(cfg, p, resolution_m, progress, area_crs)
    else:
        area = _area_from_files(p, resolution_m, progress, area_crs)
    if "gtfs" in cfg:
        area = _attach_gtfs(area, cfg["gtfs"], p.parent)
    if isinstance(cfg.get("air_background"), dict):
        # the city's own annual background air (no2_ugm3, pm25_ugm3, source, year, station): read by spatial.air
        area.manifest["air_background"] = dict(cfg["air_background"])
    return area


def _area_from_osm_section(cfg: dict[str, Any], p: Path, resolution_m: float | None, progress: Progress | bool | None, crs: str | None) -> StudyArea:
    """``[osm]`` + ``[wijken]``: every theme from the OSM file, clipped to the wijken (read with their column mapping)."""
    from gezondestad.layers.osm import area_from_osm_file

    spec = cfg["osm"]
    if not isinstance(spec, dict) or "file" not in spec:
        raise SourcesError(f"{p.name}: [osm] needs file = \"....osm.pbf\".")
    others = [t for t in VECTOR_THEMES if t not in ("wijken", "boundary") and any("file" in s for s in _specs(cfg.get(t)))]
    if others:
        raise SourcesError(f"{p.name}: with [osm] every theme comes from OpenStreetMap; remove the file(s) of {', '.join(others)} or drop [osm].")
    wspec = _specs(cfg["wijken"])[0]
    g, rep = read_theme_file(wspec, p.parent, "wijken", crs=None)
    if "wijk_code" not in g or g["wijk_code"].isna().all():
        raise SourcesError(f"{p.name}: [wijken] needs a wijk_code column (columns = {{ wijk_code = \"...\" }}).")
    g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    g["wijk_code"] = g["wijk_code"].map(tag_to_str)
    if "wijk_naam" in g:
        g["wijk_naam"] = g["wijk_naam"].map(tag_to_str)
    winfo = ThemeInfo(status=wspec.get("status", "present"), source=_source_text(wspec, Path(wspec["file"]).name), date=str(wspec.get("date", "")), count=len(g), repairs=rep, note=wspec.get("note", ""))
    osm_path = (p.parent / spec["file"]).resolve() if not Path(spec["file"]).is_absolute() else Path(spec["file"])
    res = float(resolution_m or cfg.get("resolution_m", 10.0))
    area = area_from_osm_file(osm_path, None, name=str(cfg.get("name", p.stem)), resolution_m=res, progress=progress, crs=crs, wijken=g, wijken_info=winfo)
    area.manifest["sources_file"] = str(p)
    if spec.get("licence"):
        area.manifest["source"] = f"{area.manifest.get('source', '')}; licence: {spec['licence']}"
    return area


def _attach_gtfs(area: StudyArea, spec: dict[str, Any], base: Path) -> StudyArea:
    """Departures per hour from ``[gtfs]`` onto the transit-stop POIs; recorded in the manifest."""
    from gezondestad.layers.gtfs import GtfsParams, attach_departures, stop_departures

    if not isinstance(spec, dict) or "file" not in spec:
        raise SourcesError("[gtfs] needs file = \"feed.zip\".")
    unknown = sorted(set(spec) - {"file", "date", "start_hour", "end_hour", "max_match_m", "source", "licence", "note"})
    if unknown:
        raise SourcesError(f"[gtfs] has unknown key(s) {', '.join(unknown)}; allowed: file, date, start_hour, end_hour, max_match_m, source, licence, note.")
    gp = (base / spec["file"]).resolve() if not Path(spec["file"]).is_absolute() else Path(spec["file"])
    d = GtfsParams()
    params = GtfsParams(int(spec.get("start_hour", d.start_hour)), int(spec.get("end_hour", d.end_hour)), d.weekday, float(spec.get("max_match_m", d.max_match_m)))
    service = stop_departures(gp, spec.get("date"), params)
    poly = shapely.union_all(area.boundary.geometry.values)
    pois, counts = attach_departures(area.pois, service, poly)
    area.themes["pois"] = conform_theme("pois", pois, area.crs)
    info = area.manifest["themes"]["pois"]
    info["count"] = len(pois)
    text = (
        f"{service.describe()} {counts['matched']} GTFS-haltes gekoppeld aan een OSM-halte binnen {params.max_match_m:g} m, "
        f"{counts['added']} als nieuwe halte toegevoegd; {counts['osm_without_gtfs']} OSM-haltes zonder GTFS-halte in de buurt (bediening onbekend)."
    )
    info["note"] = (info.get("note", "") + " " + text).strip()
    info["source"] = (info.get("source", "") + " + " + _source_text(spec, gp.name)).strip(" +")
    area.manifest["gtfs"] = {"file": str(gp), "day": service.day.isoformat(), "start_hour": params.start_hour, "end_hour": params.end_hour, "max_match_m": params.max_match_m, **counts, "note": text}
    return area


def _area_from_files(p: Path, resolution_m: float | None, progress: Progress | bool | None, crs: str | None) -> StudyArea:
    """Prepare a study area from the city GIS files named in a sources TOML.

    Parameters
    ----------
    path : path
        The sources TOML (file paths inside are relative to its folder).
    resolution_m : float, optional
        Land-cover cell size; default the TOML's ``resolution_m`` or 10 m.
    progress : bool
        tqdm bar over the themes.
    """
    from gezondestad.model.landcover import rasterize_landcover

    cfg = load_sources(p)
    base = p.parent
    name = str(cfg.get("name", p.stem))
    res = float(resolution_m or cfg.get("resolution_m", 10.0))
    themes: dict[str, gpd.GeoDataFrame] = {}
    info: dict[str, dict[str, Any]] = {}
    order = ["wijken", "streets", "green", "pois", "water", "landuse", "railways", "buildings"]
    report = as_progress(progress, f"Preparing {name}")
    n_steps, done = len(order) + 2, 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        report(min(done, n_steps), n_steps, label)
    try:
        for theme in order:
            specs = _specs(cfg.get(theme))
            files = [s for s in specs if "file" in s]
            frames, repairs, sources, dates = [], {}, [], []
            for s in files:
                g, rep = read_theme_file(s, base, theme, crs=None if theme == "wijken" else crs)
                if theme == "wijken" and frames:
                    g = g.to_crs(frames[0].crs)
                frames.append(g)
                for k, n in rep.items():
                    repairs[k] = repairs.get(k, 0) + n
                sources.append(_source_text(s, Path(s["file"]).name))
                if s.get("date"):
                    dates.append(str(s["date"]))
            g = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs) if frames else None
            if theme == "wijken":
                if g is None or "wijk_code" not in g or g["wijk_code"].isna().all():
                    raise SourcesError(f"{p.name}: [wijken] needs a wijk_code column (columns = {{ wijk_code = \"...\" }}).")
                crs = crs_string(crs) if crs else crs_for_geometries(g)
                g = g.to_crs(crs)
                g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
                g["wijk_code"] = g["wijk_code"].map(tag_to_str)
                if "wijk_naam" in g:
                    g["wijk_naam"] = g["wijk_naam"].map(tag_to_str)
                themes["wijken"] = conform_theme("wijken", g)
                poly = shapely.union_all(themes["wijken"].geometry.values)
            else:
                spec0 = files[0] if files else {}
                themes[theme] = _clip(theme, _finish_theme(theme, g if g is not None else gpd.GeoDataFrame(geometry=[], crs=crs), spec0), poly)
            count = len(themes[theme])
            status_given = [s.get("status") for s in specs if s.get("status")]
            status = status_given[0] if status_given else ("present" if count else "missing")
            if count == 0:
                status = "missing"
            notes = [s["note"] for s in specs if s.get("note")]
            if not specs:
                notes = [f"No source for {theme} in {p.name}."]
            info[theme] = ThemeInfo(
                status=status, source=" + ".join(sources), date=" + ".join(dict.fromkeys(dates)), count=count, repairs=repairs, note=" ".join(notes)
            ).to_dict()
            tick(theme)
        wi = info["wijken"]
        themes["boundary"] = gpd.GeoDataFrame({"name": [name]}, geometry=[poly], crs=crs)
        info["boundary"] = ThemeInfo(status="present", source=wi["source"], date=wi["date"], count=1, note="Union of the wijken.").to_dict()
        manifest: dict[str, Any] = {"synthetic": False, "source": f"sources TOML {p.name}", "sources_file": str(p)}
        if "population" in cfg:
            spec = cfg["population"]
            total, shares, src = read_population(spec, base)
            if len(themes["streets"]) == 0:
                raise SourcesError(f"{p.name}: [population] is spread over the wijken by homes along streets, but there are no streets.")
            themes["wijken"] = spread_population(themes["wijken"], themes["streets"], total, shares)
            method = (
                f"Municipality total {total:.0f} ({src}, {spec.get('date', '')}) spread over the wijken in proportion to the "
                "number of estimated homes along residential streets (one per home_spacing_m, data/norms/population.toml); "
                "age groups by the municipality's age shares. ESTIMATED, not counted per wijk."
            )
            info["wijken"]["note"] = (info["wijken"]["note"] + " " + method).strip()
            manifest["population"] = {
                "estimated": True,
                "total": total,
                "source": src,
                "date": str(spec.get("date", "")),
                "method": method,
                "shares": shares,
                "columns": ["residents", *shares.keys()],
            }
        tick("population")
        lu = themes["landuse"]
        lc = rasterize_landcover(
            themes["boundary"],
            buildings=themes["buildings"],
            streets=themes["streets"],
            green=themes["green"],
            water=themes["water"],
            bare=lu[lu["kind"].isin(["brownfield", "construction", "railway"])],
            paved=lu[lu["kind"] == "parking"],
            resolution_m=res,
        )
        tick("land cover")
        manifest["themes"] = info
        manifest["created"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return StudyArea(name=name, themes=themes, landcover=lc, manifest=manifest, crs=crs)
    finally:
        if isinstance(report, TqdmProgress):
            report.close()


__all__ = ["SourcesError", "load_sources", "read_theme_file", "read_population", "spread_population", "area_from_sources"]
