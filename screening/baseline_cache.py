"""A cache of screening baselines that cannot lie: keyed by content, signed with its key and area.

The "before" situation of a screening takes seconds to minutes; it is cached in the study-area
folder (``DIR/.screening/baseline-<key>.pkl``). Two promises:

* **keyed by content.** The key is a digest of what the baseline is computed from: every theme's
  geometry (WKB) and attribute values, the land-cover raster (classes, transform, CRS), the
  indicator families, every norm file and the package version. Editing ``studyarea.gpkg`` in
  QGIS, replacing the land cover or changing a norm gives a new key, so the baseline is
  recomputed. File names, save times and counts are not used (they can stay the same while the
  data changes).
* **signed with its key and area.** The file is a pickle; it is only unpickled when its
  HMAC-SHA256 (per-user secret in the user cache folder, mode 0600) over key, area identity and
  payload matches. A file written by someone else, damaged, or copied under another key or
  into another area's folder is ignored and recomputed, never trusted.

The digests also key other caches: :func:`frame_digest` of a plan or design (the app keys its
result cache on it, not on a file name and size) and :func:`file_digest` of an upload.

Cost: the area digest hashes WKB and attribute values once per call (demo town ~0.15 s on a
busy 2-core machine; it grows linearly with the number of features), far below computing a
baseline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.norms import NORMS_DIR
from gezondestad.model.paths import user_cache_dir
from gezondestad.model.studyarea import StudyArea

logger = logging.getLogger(__name__)

CACHE_FORMAT = 2
"""Bumped when the cached payload changes shape; part of every key."""

SECRET_NAME = "screening-cache.key"
CACHE_SUBDIR = ".screening"

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# content digests
# --------------------------------------------------------------------------------------------


def _hash_values(h: "hashlib._Hash", s: pd.Series) -> None:
    """Feed one attribute column into ``h`` (dtype-stable, None/NaN distinct from values)."""
    h.update(str(s.name).encode() + b"\0")
    try:
        hv = pd.util.hash_pandas_object(s, index=False, categorize=False).to_numpy()
    except TypeError:  # unhashable cells (lists, dicts): their text
        hv = pd.util.hash_pandas_object(s.astype("object").map(repr), index=False, categorize=False).to_numpy()
    h.update(np.ascontiguousarray(hv).tobytes())


def frame_digest(gdf: gpd.GeoDataFrame | pd.DataFrame | None) -> str:
    """Stable hex digest of a (Geo)DataFrame's content: column names, attribute values, geometry WKB.

    Row order counts; the index and the object identity do not. Two frames with the same
    features give the same digest in any process; a moved vertex or a changed value changes it.
    """
    h = hashlib.sha256()
    if gdf is None:
        return h.hexdigest()
    h.update(f"{len(gdf)}|".encode())
    geom_col = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) and gdf._geometry_column_name in gdf.columns else None
    for c in gdf.columns:
        if c == geom_col:
            continue
        _hash_values(h, gdf[c].reset_index(drop=True))
    if geom_col is not None:
        h.update(str(gdf.crs.to_string() if gdf.crs is not None else None).encode())
        wkb = shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object), hex=False, output_dimension=3, include_srid=False)
        for b in wkb:
            h.update(b"\1" + b if b is not None else b"\0")
    return h.hexdigest()


def area_digest(area: StudyArea) -> str:
    """Digest of a study area's content: name, CRS, every theme (:func:`frame_digest`) and the land cover."""
    h = hashlib.sha256()
    h.update(str(area.name).encode() + b"\0" + str(getattr(area, "crs", "")).encode() + b"\0")
    for t in sorted(area.themes):
        h.update(t.encode() + b"=" + frame_digest(area.themes[t]).encode())
    lc = area.landcover
    if lc is None:
        h.update(b"landcover=None")
    else:
        h.update(b"landcover=" + str(lc.classes.shape).encode() + str(lc.classes.dtype).encode())
        h.update(np.ascontiguousarray(lc.classes).tobytes())
        h.update(repr(tuple(lc.transform)[:6]).encode() + repr(float(lc.resolution_m)).encode() + str(getattr(lc, "crs", "")).encode())
    return h.hexdigest()


def norms_digest() -> str:
    """Digest of every norm file (``data/norms/*.toml|csv``): a changed norm gives new keys."""
    h = hashlib.sha256()
    for p in sorted(Path(NORMS_DIR).glob("*")):
        if p.suffix in (".toml", ".csv"):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def file_digest(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (streamed; for keying uploads by content, not name and size)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk_bytes)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _package_version() -> str:
    try:
        return metadata.version("gezondestad")
    except metadata.PackageNotFoundError:
        return "dev"


def baseline_key(area: StudyArea, families: tuple[str, ...] | list[str]) -> str:
    """Cache key of a baseline: area content (:func:`area_digest`), families, norms, package version, format."""
    ident = {
        "area": area_digest(area),
        "families": list(families),
        "norms": norms_digest(),
        "version": _package_version(),
        "format": CACHE_FORMAT,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:24]


# --------------------------------------------------------------------------------------------
# signing
# --------------------------------------------------------------------------------------------


def cache_secret() -> bytes:
    """Per-user secret that signs cache files (created once, mode 0600); ``b""`` when it cannot be kept."""
    d = user_cache_dir()
    f = d / SECRET_NAME
    try:
        if f.is_file() and f.stat().st_size == 32:
            return f.read_bytes()
        d.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except OSError:
        return b""


def _signature(secret: bytes, key: str, area_ident: str, payload: bytes) -> bytes:
    m = hmac.new(secret, digestmod="sha256")
    m.update(b"gezondestad-baseline\0" + key.encode() + b"\0" + area_ident.encode() + b"\0")
    m.update(payload)
    return m.digest()


def read_signed(path: Path, secret: bytes, key: str, area_ident: str) -> Any | None:
    """The unpickled payload of ``path`` when its signature covers this key and area, else None."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    sig, payload = blob[:32], blob[32:]
    if len(sig) < 32 or not hmac.compare_digest(sig, _signature(secret, key, area_ident, payload)):
        logger.info("baseline cache %s not signed for this key and area: recomputed", path)
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a damaged (but signed) file is recomputed, never trusted
        return None


def write_signed(path: Path, obj: Any, secret: bytes, key: str, area_ident: str) -> bool:
    """Pickle ``obj`` to ``path`` atomically, signed with key and area; False when the folder is read-only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(_signature(secret, key, area_ident, payload) + payload)
        os.replace(tmp, path)
        return True
    except OSError:
        return False


def cache_path(directory: str | os.PathLike, key: str) -> Path:
    """File of the baseline with ``key`` in a study-area folder."""
    return Path(directory) / CACHE_SUBDIR / f"baseline-{key}.pkl"


def load_or_compute(
    area: StudyArea,
    directory: str | os.PathLike | None,
    families: tuple[str, ...],
    compute: Callable[[], T],
    slim: Callable[[T], Any] = lambda x: x,
    restore: Callable[[Any, StudyArea], T] = lambda x, a: x,
) -> T:
    """Read the baseline of ``area`` from ``directory`` when a signed one with its content key exists, else compute and store it.

    Parameters
    ----------
    area : StudyArea
        The study area (its content makes the key).
    directory : path or None
        Study-area folder; None caches nothing.
    families : tuple of str
        Indicator families of the baseline (part of the key).
    compute : callable
        Computes the baseline.
    slim : callable
        Turns a baseline into what is pickled (e.g. without the area itself).
    restore : callable
        Turns an unpickled object back into a baseline for ``area``.
    """
    if directory is None:
        return compute()
    secret = cache_secret()
    if not secret:
        return compute()
    key = baseline_key(area, families)
    ident = area_digest(area)
    f = cache_path(directory, key)
    if f.is_file():
        obj = read_signed(f, secret, key, ident)
        if obj is not None:
            return restore(obj, area)
    result = compute()
    if not write_signed(f, slim(result), secret, key, ident):
        logger.info("baseline cache not written (read-only folder %s)", directory)
    return result


__all__ = [
    "CACHE_FORMAT",
    "frame_digest",
    "area_digest",
    "norms_digest",
    "file_digest",
    "baseline_key",
    "cache_secret",
    "read_signed",
    "write_signed",
    "cache_path",
    "load_or_compute",
]
