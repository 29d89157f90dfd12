"""Read and validate every vector file a user brings in (GeoPackage, Shapefile, GeoJSON, zipped shapefile).

All file imports of the project go through :func:`read_vector`. It turns the usual ways a GIS
file can be wrong into one clear :class:`InputError` (what is wrong and what to do), and repairs
what can be repaired safely, *counting* every repair so the manifest can report it:

- a file that cannot be opened, or a layer that does not exist -> error naming the file;
- a ``.zip`` is extracted safely: members with absolute paths, paths climbing out of the target
  folder (zip-slip), symlinks, or a total uncompressed size over a limit are refused;
- no CRS -> error, unless the caller passes ``assume_crs``;
- coordinates that contradict the declared CRS (degrees declared as Lambert 72 metres, metres
  declared as degrees) -> error saying which CRS the values look like;
- latitude/longitude swapped (values that only make sense as (lat, lon) in Belgium) -> error, or
  swapped back and counted when ``fix_swapped=True``;
- invalid geometries -> repaired with :func:`shapely.make_valid`, counted (``invalid_repaired``);
- empty or null geometries -> dropped, counted (``empty_dropped``);
- a vertex with a NaN or infinite coordinate -> error naming the feature (never dropped silently:
  repairing it would turn a block into a triangle);
- Z (height) coordinates -> dropped (the model is 2-D), counted (``z_dropped``) with a note;
- a GeoJSON nested too deeply to read -> error saying so (GDAL refuses it; no RecursionError);
- none of the expected columns -> error listing the columns present and the ones expected.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from gezondestad.model.studyarea import CRS, StudyAreaError
from pyproj import CRS as ProjCRS

VECTOR_SUFFIXES: tuple[str, ...] = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml")
"""File types :func:`read_vector` reads (a ``.zip`` may hold any of them)."""

MAX_UNZIPPED_BYTES = 2 * 1024**3
"""Default limit on the total uncompressed size of a zip (2 GiB): a zip bomb is refused."""

# Plausible extents used to recognise which CRS coordinate values belong to. These are
# geographic facts (the extent of Belgium), not tunable thresholds, hence not in data/norms.
_BE_LON = (2.3, 6.6)
_BE_LAT = (49.3, 51.7)


class InputError(StudyAreaError):
    """A user file cannot be used as it is; the message names the file and says what to do."""


@dataclass
class VectorLayer:
    """A validated vector layer.

    Attributes
    ----------
    gdf : GeoDataFrame
        Features in ``target_crs`` (EPSG:31370 by default), repaired, without empty geometries.
    repairs : dict of str to int
        Counts of repairs (``invalid_repaired``, ``empty_dropped``, ``lonlat_swapped``,
        ``crs_assumed``); goes into the theme's manifest entry.
    path : pathlib.Path
        The file read (the zip itself for zipped files).
    layer : str or None
        The layer read.
    source_crs : str
        The CRS the file declared (or that was assumed).
    """

    gdf: gpd.GeoDataFrame
    repairs: dict[str, int] = field(default_factory=dict)
    path: Path | None = None
    layer: str | None = None
    source_crs: str = ""
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# zip files
# --------------------------------------------------------------------------------------------


def _member_is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return bool(mode) and stat.S_ISLNK(mode)


def safe_extract_zip(zip_path: str | os.PathLike, target_dir: str | os.PathLike, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> list[Path]:
    """Extract ``zip_path`` into ``target_dir``, refusing anything that could escape it.

    Parameters
    ----------
    zip_path : path
        The zip file.
    target_dir : path
        Folder to extract into (must exist).
    max_unzipped_bytes : int
        Refuse the zip when its members add up to more than this many bytes (checked on the
        declared sizes first and again while writing, so a lying header does not help).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    InputError
        On absolute member paths, members climbing out of ``target_dir`` (``../``), symlinks,
        a total size over the limit, or a corrupt zip.
    """
    zip_path = Path(zip_path)
    target = Path(target_dir).resolve()
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{zip_path}: not a readable zip file ({exc}). Re-create the zip or unzip it yourself.") from exc
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            name = info.filename
            if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive:
                raise InputError(f"{zip_path}: member '{name}' has an absolute path; refusing to extract. Re-create the zip with relative paths.")
            dest = (target / name).resolve()
            if dest != target and target not in dest.parents:
                raise InputError(f"{zip_path}: member '{name}' would be written outside the extraction folder (path climbs out with '..'); refusing to extract this zip.")
            if _member_is_symlink(info):
                raise InputError(f"{zip_path}: member '{name}' is a symbolic link; refusing to extract. Zip the real files instead.")
            total += int(info.file_size)
        if total > max_unzipped_bytes:
            raise InputError(
                f"{zip_path}: uncompressed size {total / 1e6:.0f} MB exceeds the limit of {max_unzipped_bytes / 1e6:.0f} MB; "
                "unzip it yourself and pass the file inside."
            )
        written: list[Path] = []
        budget = max_unzipped_bytes
        for info in infos:
            dest = (target / info.filename).resolve()
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(dest, "wb") as out:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        budget -= len(chunk)
                        if budget < 0:
                            raise InputError(f"{zip_path}: uncompressed size exceeds the limit of {max_unzipped_bytes / 1e6:.0f} MB; refusing to extract.")
                        out.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
                raise InputError(f"{zip_path}: member '{info.filename}' cannot be extracted ({exc}).") from exc
            written.append(dest)
    return written


def _pick_vector_file(files: list[Path], zip_path: Path, layer: str | None) -> Path:
    cands = [f for f in files if f.suffix.lower() in VECTOR_SUFFIXES and not f.name.startswith("._")]
    if not cands:
        raise InputError(
            f"{zip_path}: the zip holds no vector file ({', '.join(VECTOR_SUFFIXES)}); found: "
            f"{', '.join(sorted(f.name for f in files)) or 'nothing'}."
        )
    if len(cands) == 1:
        return cands[0]
    if layer:
        named = [f for f in cands if f.stem == layer]
        if len(named) == 1:
            return named[0]
    raise InputError(
        f"{zip_path}: the zip holds several vector files ({', '.join(sorted(f.name for f in cands))}); "
        "name the one to use as the layer (its file name without extension)."
    )


# --------------------------------------------------------------------------------------------
# coordinates and CRS
# --------------------------------------------------------------------------------------------


def _in(v: np.ndarray, lo_hi: tuple[float, float]) -> bool:
    return bool(v.size) and bool(np.all((v >= lo_hi[0]) & (v <= lo_hi[1])))


def check_coordinates(gdf: gpd.GeoDataFrame, name: str, fix_swapped: bool = False) -> tuple[gpd.GeoDataFrame, int]:
    """Check that coordinate values fit the declared CRS; detect lon/lat swapped in Belgium.

    Parameters
    ----------
    gdf : GeoDataFrame
        Layer with a CRS set.
    name : str
        File name for messages.
    fix_swapped : bool
        When the values only make sense as (lat, lon) in Belgium, swap them back instead of raising.

    Returns
    -------
    (GeoDataFrame, int)
        The (possibly swapped) layer and the number of features swapped.
    """
    if len(gdf) == 0:
        return gdf, 0
    coords = shapely.get_coordinates(gdf.geometry.values)
    if coords.size == 0:
        return gdf, 0
    x, y = coords[:, 0], coords[:, 1]
    looks_degrees = bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90))
    crs = ProjCRS.from_user_input(gdf.crs)
    label = crs.to_string()
    if crs.is_geographic:
        if not looks_degrees:
            hint = " They look like Belgian Lambert 72 metres: declare EPSG:31370 (force_crs='EPSG:31370'; in a sources TOML force_crs = 'EPSG:31370'), since a GeoJSON without CRS is read as EPSG:4326." if _in(x, (0, 320_000)) and _in(y, (0, 320_000)) else ""
            raise InputError(
                f"{name}: CRS is {label} (degrees) but coordinates reach ({x.max():.0f}, {y.max():.0f}), which are not degrees.{hint}"
            )
        if _in(x, _BE_LAT) and _in(y, _BE_LON):
            if not fix_swapped:
                raise InputError(
                    f"{name}: longitude and latitude look swapped (x values {x.min():.2f}..{x.max():.2f} are Belgian "
                    f"latitudes, y values {y.min():.2f}..{y.max():.2f} Belgian longitudes). Fix the file, or accept the "
                    "automatic fix (fix_swapped=True; in a sources TOML fix_swapped = true)."
                )
            swapped = gdf.copy()
            swapped.geometry = gpd.GeoSeries(shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1]), index=gdf.index, crs=gdf.crs)
            return swapped, int(len(gdf))
    else:
        if looks_degrees:
            raise InputError(
                f"{name}: CRS is {label} (metres) but all coordinates lie within ±180/±90: they look like "
                "longitude/latitude degrees. Declare EPSG:4326 instead (fix the .prj, or force_crs='EPSG:4326')."
            )
    return gdf, 0


def feature_label(gdf: gpd.GeoDataFrame, i: int) -> str:
    """Dutch label of row ``i`` for messages: its position (1-based) and its name or id when it has one."""
    label = f"object {i + 1}"
    for c in ("name", "naam", "id", "fid"):
        if c in gdf.columns:
            v = gdf[c].iloc[i]
            if v is not None and str(v).strip() not in ("", "nan", "None", "<NA>"):
                return f"{label} ({c} = {str(v)[:60]!r})"
    return label


def check_finite(gdf: gpd.GeoDataFrame, name: str) -> None:
    """Raise :class:`InputError` (Dutch) when a vertex has a NaN or infinite x or y, naming the feature.

    Such a vertex used to be dropped by the geometry repair, silently changing the shape.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return
    coords, idx = shapely.get_coordinates(geoms[present], return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(present)[np.unique(idx[bad])]
        raise InputError(
            f"{name}: {len(rows)} object(en) hebben een hoekpunt zonder geldige coördinaat (NaN of oneindig); het eerste is "
            f"{feature_label(gdf, int(rows[0]))}. Verbeter of verwijder dat hoekpunt in een GIS-programma en lees het bestand opnieuw in."
        )


def drop_z(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """The layer with Z (height) coordinates dropped, and the number of features that had them."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    hz = shapely.has_z(geoms)
    n = int(hz.sum())
    if n == 0:
        return gdf, 0
    out = gdf.copy()
    out.geometry = gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index, crs=gdf.crs)
    return out, n


def _repair_geometries(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    geoms = gdf.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    out = gdf[~empty].copy()
    g = np.asarray(out.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(g)
    n_invalid = int(invalid.sum())
    if n_invalid:
        # "structure" keeps polygons polygonal (no stray collapsed lines) for the usual
        # self-intersections and ring-orientation errors of city GIS exports.
        fixed = shapely.make_valid(g[invalid], method="structure", keep_collapsed=False)
        g = g.copy()
        g[invalid] = fixed
        out.geometry = gpd.GeoSeries(g, index=out.index, crs=gdf.crs)
    empty2 = shapely.is_empty(np.asarray(out.geometry.values, dtype=object))
    n_empty = int(empty.sum()) + int(empty2.sum())
    out = out[~empty2]
    return out.reset_index(drop=True), {"invalid_repaired": n_invalid, "empty_dropped": n_empty}


def check_columns(columns: Iterable[str], expected: Iterable[str], name: str) -> None:
    """Raise :class:`InputError` when none of ``expected`` is among ``columns`` (case-insensitive)."""
    cols = [c for c in columns if c != "geometry"]
    exp = list(expected)
    if not exp:
        return
    have = {c.lower() for c in cols}
    if not any(e.lower() in have for e in exp):
        raise InputError(
            f"{name}: none of the expected columns ({', '.join(exp)}) is present; the layer has "
            f"{', '.join(cols) or 'no attribute columns'}. Map its columns onto the expected ones (column mapping in the sources TOML)."
        )


# --------------------------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------------------------


def read_vector(
    path: str | os.PathLike,
    layer: str | None = None,
    *,
    expected_columns: Iterable[str] | None = None,
    assume_crs: str | None = None,
    force_crs: str | None = None,
    fix_swapped: bool = False,
    target_crs: str | None = CRS,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
) -> VectorLayer:
    """Read one vector layer, validate it, repair what is safe, and count the repairs.

    Parameters
    ----------
    path : path
        GeoPackage, Shapefile, GeoJSON (or another OGR vector format), or a ``.zip`` holding one.
    layer : str, optional
        Layer name (GeoPackage) or, in a zip with several files, the file stem. Required when a
        file holds several layers.
    expected_columns : iterable of str, optional
        Attribute columns of which at least one must be present.
    assume_crs : str, optional
        CRS to use when the file declares none (e.g. ``"EPSG:31370"``); counted as ``crs_assumed``.
    force_crs : str, optional
        CRS that replaces a wrongly declared one (a GeoJSON in Lambert 72 is read as EPSG:4326
        because GeoJSON has no CRS member); counted as ``crs_overridden``.
    fix_swapped : bool
        Swap lon/lat back when the values only make sense swapped (else raise).
    target_crs : str or None
        Reproject to this CRS (EPSG:31370 by default); None keeps the file's CRS.
    max_unzipped_bytes : int
        Size limit for zips.

    Returns
    -------
    VectorLayer

    Raises
    ------
    InputError
        With a message naming the file, saying what is wrong and what to do.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found. Check the path (relative paths in a sources TOML are relative to the TOML's folder).")
    if p.suffix.lower() != ".zip" and (p.is_dir() or p.suffix.lower() not in VECTOR_SUFFIXES):
        raise InputError(f"{p}: not a supported vector file (use {', '.join(VECTOR_SUFFIXES)} or a .zip of a shapefile).")
    gdf, layer = read_layer(p, p, layer, max_unzipped_bytes=max_unzipped_bytes)
    return validate_frame(
        gdf,
        name=p.name,
        expected_columns=expected_columns,
        assume_crs=assume_crs,
        force_crs=force_crs,
        fix_swapped=fix_swapped,
        target_crs=target_crs,
        path=p,
        layer=layer,
    )


def read_layer(read_path: Path, shown: Path, layer: str | None, max_unzipped_bytes: int = MAX_UNZIPPED_BYTES) -> tuple[gpd.GeoDataFrame, str | None]:
    """Read one layer of a vector file: the only one, or ``layer`` (an error names the choices).

    The one reading path for the CLI and the app: a ``.zip`` is never handed to GDAL (its
    ``/vsizip/`` would decompress a zip bomb for minutes) but extracted by
    :func:`safe_extract_zip` with ``max_unzipped_bytes`` into a temporary folder, read, and removed.
    """
    read_path = Path(read_path)
    if read_path.suffix.lower() == ".zip":
        tmp = tempfile.mkdtemp(prefix="gezondestad-unzip-")
        try:
            files = safe_extract_zip(read_path, tmp, max_unzipped_bytes)
            inner = _pick_vector_file(files, Path(shown), layer)
            gdf, inner_layer = _read_layer_file(inner, shown, layer if inner.suffix.lower() == ".gpkg" else None)
            return gdf, inner_layer
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return _read_layer_file(read_path, shown, layer)


def _read_layer_file(read_path: Path, shown: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(read_path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        if "nested" in str(exc).lower():
            raise InputError(f"{shown}: het GeoJSON-bestand is te diep genest om te lezen; sla het opnieuw op vanuit een GIS-programma.") from exc
        raise InputError(f"{shown}: cannot be read as a vector file ({exc}). Is the file complete and in a GIS format?") from exc
    if layer is None:
        if len(layers) > 1:
            raise InputError(f"{shown}: holds several layers ({', '.join(layers)}); say which one to use.")
        layer = layers[0] if layers else None
    elif layer not in layers:
        raise InputError(f"{shown}: has no layer '{layer}'; its layers are {', '.join(layers) or 'none'}.")
    try:
        gdf = pyogrio.read_dataframe(read_path, layer=layer)
    except Exception as exc:
        raise InputError(f"{shown}: layer '{layer}' cannot be read ({exc}).") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(f"{shown}: layer '{layer}' has no geometry column.")
    return gdf, layer


def validate_frame(
    gdf: gpd.GeoDataFrame,
    name: str,
    *,
    expected_columns: Iterable[str] | None = None,
    assume_crs: str | None = None,
    fix_swapped: bool = False,
    target_crs: str | None = CRS,
    path: Path | None = None,
    force_crs: str | None = None,
    layer: str | None = None,
) -> VectorLayer:
    """The checks and repairs of :func:`read_vector` on a GeoDataFrame already in memory."""
    repairs: dict[str, int] = {}
    if expected_columns is not None:
        check_columns(gdf.columns, expected_columns, name)
    if force_crs:
        if gdf.crs is None or not ProjCRS.from_user_input(gdf.crs).equals(ProjCRS.from_user_input(force_crs)):
            repairs["crs_overridden"] = 1
        gdf = gdf.set_crs(force_crs, allow_override=True)
    if gdf.crs is None:
        if not assume_crs:
            raise InputError(
                f"{name}: the file declares no coordinate reference system (a shapefile without .prj?). "
                "Add the .prj, or say which CRS it is in (assume_crs='EPSG:31370' / --assume-crs)."
            )
        gdf = gdf.set_crs(assume_crs)
        repairs["crs_assumed"] = 1
    source_crs = gdf.crs.to_string()
    notes: list[str] = []
    check_finite(gdf, name)
    gdf, n_z = drop_z(gdf)
    if n_z:
        repairs["z_dropped"] = n_z
        notes.append(f"{name}: de hoogte (Z) van {n_z} object(en) is weggelaten; het model rekent in 2D.")
    gdf, rep = _repair_geometries(gdf)
    repairs.update(rep)
    gdf, n_swapped = check_coordinates(gdf, name, fix_swapped=fix_swapped)
    if n_swapped:
        repairs["lonlat_swapped"] = n_swapped
    if target_crs is not None and len(gdf) and not ProjCRS.from_user_input(gdf.crs).equals(ProjCRS.from_user_input(target_crs)):
        gdf = gdf.to_crs(target_crs)
    elif target_crs is not None and len(gdf) == 0:
        gdf = gdf.set_crs(target_crs, allow_override=True)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return VectorLayer(gdf=gdf, repairs=repairs, path=path, layer=layer, source_crs=source_crs, notes=notes)


__all__ = ["InputError", "VectorLayer", "read_vector", "read_layer", "validate_frame", "safe_extract_zip", "check_coordinates", "check_columns",
           "check_finite", "drop_z", "feature_label", "MAX_UNZIPPED_BYTES"]
