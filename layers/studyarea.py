"""Reading and writing a study area folder (GeoPackage + GeoParquet + GeoTIFF + manifest).

On disk a study area is one folder::

    DIR/
      studyarea.gpkg   one layer per vector theme (canonical; open it in QGIS)
      cache/*.parquet  GeoParquet copies of the same themes, for fast loading
      landcover.tif    uint8 land-cover classes (see :mod:`gezondestad.model.landcover`)
      manifest.json    source, date, CRS, counts, repairs per theme

Writing is atomic: the folder is built under a temporary name next to the target and swapped
into place, so an interrupted write never leaves a half-written cache behind. Concurrent saves of
the same folder take turns (an exclusive ``flock`` on the parent folder); on Linux the swap is
one ``renameat2(RENAME_EXCHANGE)``, so a reader never sees the folder missing (elsewhere two
renames, and :func:`load_study_area` retries for :data:`READ_RETRY_S` while a swap is under way).
Temporary folders left by a killed save (``.DIR.*.tmp``, ``.DIR.old-*``) older than
:data:`STALE_TEMP_MINUTES` are removed by the next save.

A folder that is not a valid study area (a manifest that is not JSON or not a JSON object of the
expected shape, a damaged GeoPackage, a truncated land-cover GeoTIFF) raises
:class:`StudyAreaError` with a Dutch message naming the file.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from gezondestad.model.studyarea import (
    DEFAULT_CRS,
    VECTOR_THEMES,
    LandCover,
    StudyArea,
    StudyAreaError,
    crs_string,
)
from pyproj import CRS as ProjCRS

try:  # POSIX advisory locks; without them (Windows) concurrent saves are not serialised
    import fcntl
except ImportError:  # pragma: no cover - not on Linux/macOS
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

STALE_TEMP_MINUTES = 30.0
"""Temporary folders of a save older than this are left-overs of a killed run and removed by the
next save of the same folder (a save of a Mechelen-sized area takes well under a minute; the
margin keeps a slow save on a network drive safe)."""

READ_RETRY_S = 5.0
"""How long :func:`load_study_area` retries while another process swaps the folder."""

SAVE_LOCK_TIMEOUT_S = 600.0
"""How long a save waits for another save of the same folder to finish."""

# --------------------------------------------------------------------------------------------
# cache on disk
# --------------------------------------------------------------------------------------------

GPKG_NAME = "studyarea.gpkg"
PARQUET_DIR = "cache"
"""GeoParquet copies of the themes, read instead of the GeoPackage because they load ~3x faster.
The GeoPackage stays the canonical copy for GIS users; when it is newer than the manifest (edited
in QGIS after saving) the loader reads it and ignores the Parquet copies."""
LANDCOVER_NAME = "landcover.tif"
MANIFEST_NAME = "manifest.json"


def _for_gpkg(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make object columns GeoPackage-safe (mixed types become strings, None stays null)."""
    out = gdf.copy()
    for c in out.columns:
        if c == "geometry":
            continue
        s = out[c]
        if s.dtype == object or str(s.dtype).startswith("string"):
            vals = s.dropna()
            if len(vals) and not all(isinstance(v, str) for v in vals):
                if all(isinstance(v, (bool, np.bool_)) for v in vals):
                    continue
                if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
                    out[c] = pd.to_numeric(s)
                    continue
                out[c] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def write_landcover(lc: LandCover, path: str | os.PathLike) -> None:
    """Write a land-cover raster as a compressed GeoTIFF in its own CRS (``lc.crs``)."""
    h, w = lc.classes.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype="uint8",
        crs=lc.crs,
        transform=lc.transform,
        nodata=0,
        compress="deflate",
    ) as dst:
        dst.write(lc.classes.astype("uint8"), 1)


def read_landcover(path: str | os.PathLike, crs: str = DEFAULT_CRS) -> LandCover:
    """Read a land-cover GeoTIFF written by :func:`write_landcover`; it must be in ``crs`` (the area's)."""
    with rasterio.open(path) as src:
        if src.crs is None or not ProjCRS.from_user_input(src.crs.to_wkt()).equals(ProjCRS.from_user_input(crs)):
            raise StudyAreaError(f"{path}: land cover must be in {crs} (the study area's CRS), found {src.crs}.")
        return LandCover(src.read(1), src.transform, float(src.res[0]), crs)


@contextmanager
def _save_lock(target: Path) -> Iterator[None]:
    """Exclusive lock for saving ``target`` (other saves into the same parent folder wait, readers do not)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    # the parent folder itself is the lock (no lock file left behind); saves of other areas in
    # the same parent folder wait too, which is harmless
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + SAVE_LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StudyAreaError(f"{target}: een andere bewerking schrijft deze map al meer dan {SAVE_LOCK_TIMEOUT_S:.0f} s; probeer later opnieuw.") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def clean_stale_temp(target: str | os.PathLike, older_than_min: float = STALE_TEMP_MINUTES) -> list[Path]:
    """Remove temporary folders of earlier, killed saves of ``target`` older than ``older_than_min``; return them."""
    target = Path(target)
    if not target.parent.is_dir():
        return []
    now = time.time()
    gone = []
    for pat in (f".{target.name}.*.tmp", f".{target.name}.old-*"):
        for d in target.parent.glob(pat):
            try:
                if d.is_dir() and now - d.stat().st_mtime > older_than_min * 60:
                    shutil.rmtree(d, ignore_errors=True)
                    gone.append(d)
            except OSError:
                continue
    if gone:
        logger.info("removed %d stale temporary folder(s) of %s", len(gone), target)
    return gone


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    r = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if r == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP if hasattr(errno, "ENOTSUP") else errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(a))


def save_study_area(area: StudyArea, directory: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write ``area`` to ``directory`` atomically (GeoPackage + GeoTIFF + manifest.json).

    Parameters
    ----------
    area : StudyArea
        The study area to write.
    directory : path
        Target folder; created, or replaced when ``overwrite`` is True.
    overwrite : bool
        Replace an existing folder. When False and the folder exists, raise.

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    target = Path(directory).resolve()
    if target.exists() and not overwrite:
        raise StudyAreaError(f"{target} exists already; choose another folder or allow overwriting.")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _save_lock(target):
        clean_stale_temp(target)
        if target.exists() and not overwrite:
            raise StudyAreaError(f"{target} exists already; choose another folder or allow overwriting.")
        return _save_locked(area, target)


def _save_locked(area: StudyArea, target: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        gpkg = tmp / GPKG_NAME
        for t in VECTOR_THEMES:
            gdf = _for_gpkg(area.themes[t])
            # GeoPackage has one geometry type per layer at best; let pyogrio promote to multi.
            pyogrio.write_dataframe(gdf, gpkg, layer=t, driver="GPKG", promote_to_multi=False)
            (tmp / PARQUET_DIR).mkdir(exist_ok=True)
            gdf.to_parquet(tmp / PARQUET_DIR / f"{t}.parquet", index=False)
        if area.landcover is not None:
            write_landcover(area.landcover, tmp / LANDCOVER_NAME)
        manifest = dict(area.manifest)
        manifest["name"] = area.name
        manifest["saved"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        if area.landcover is not None:
            manifest["landcover"] = {
                "file": LANDCOVER_NAME,
                "resolution_m": area.landcover.resolution_m,
                "shape": list(area.landcover.shape),
                "bounds": list(area.landcover.bounds),
            }
        (tmp / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        if target.exists():
            if _exchange(tmp, target):  # readers never see the folder missing
                shutil.rmtree(tmp, ignore_errors=True)  # now holds the old version
            else:
                old = target.with_name(f".{target.name}.old-{os.getpid()}-{time.time_ns()}")
                target.rename(old)
                tmp.rename(target)
                shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def is_study_area_dir(directory: str | os.PathLike) -> bool:
    """True when ``directory`` holds a complete cached study area."""
    d = Path(directory)
    return (d / GPKG_NAME).is_file() and (d / MANIFEST_NAME).is_file()


def _swap_in_progress(d: Path) -> bool:
    return any(d.parent.glob(f".{d.name}.old-*")) or any(d.parent.glob(f".{d.name}.*.tmp"))


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest as a dict of the expected shape, else :class:`StudyAreaError` (Dutch, naming the file)."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StudyAreaError(f"{path}: het manifest is geen geldige JSON ({exc}). Maak het studiegebied opnieuw aan met 'gezondestad prepare'.") from exc
    problems = []
    if not isinstance(manifest, dict):
        problems.append(f"het is een JSON-{type(manifest).__name__} in plaats van een object")
    else:
        if "themes" in manifest and not (isinstance(manifest["themes"], dict) and all(isinstance(v, dict) for v in manifest["themes"].values())):
            problems.append("'themes' is geen object met per thema een object")
        for key in ("name", "crs", "saved", "created"):
            if key in manifest and manifest[key] is not None and not isinstance(manifest[key], str):
                problems.append(f"'{key}' is geen tekst")
        if "landcover" in manifest and manifest["landcover"] is not None and not isinstance(manifest["landcover"], dict):
            problems.append("'landcover' is geen object")
    if problems:
        raise StudyAreaError(f"{path}: het manifest heeft niet de verwachte vorm ({'; '.join(problems)}). "
                             "Herstel het bestand of maak het studiegebied opnieuw aan met 'gezondestad prepare'.")
    return manifest


def load_study_area(directory: str | os.PathLike) -> StudyArea:
    """Load a study area written by :func:`save_study_area`.

    While another process swaps the folder (a save in progress), a read that finds it missing or
    changing under it is retried for up to :data:`READ_RETRY_S`.

    Raises
    ------
    StudyAreaError
        When the folder is not a (complete) study area, or a file in it is damaged (Dutch, naming the file).
    """
    d = Path(directory)
    deadline = time.monotonic() + READ_RETRY_S
    while True:
        try:
            return _load_study_area(d)
        except (StudyAreaError, FileNotFoundError) as exc:
            if time.monotonic() > deadline or not _swap_in_progress(d):
                if isinstance(exc, FileNotFoundError):
                    raise StudyAreaError(f"{d}: een bestand verdween tijdens het lezen ({exc.filename}); probeer opnieuw.") from exc
                raise
            time.sleep(0.05)


def _read_parquet_themes(d: Path) -> dict[str, gpd.GeoDataFrame]:
    """The themes from the Parquet cache; empty when it is incomplete, older than an edited
    GeoPackage or damaged (the canonical GeoPackage is read then)."""
    themes: dict[str, gpd.GeoDataFrame] = {}
    pq = [d / PARQUET_DIR / f"{t}.parquet" for t in VECTOR_THEMES]
    gpkg_edited = (d / GPKG_NAME).stat().st_mtime > (d / MANIFEST_NAME).stat().st_mtime + 1.0
    if all(p.is_file() for p in pq) and not gpkg_edited:
        try:
            for t, p in zip(VECTOR_THEMES, pq):
                themes[t] = gpd.read_parquet(p)
        except Exception:  # a damaged Parquet copy: fall back to the canonical GeoPackage
            themes = {}
    return themes


def _read_gpkg_themes(d: Path, area_crs: str) -> dict[str, gpd.GeoDataFrame]:
    """The themes from the study area's GeoPackage (layers without a CRS get the area's)."""
    themes: dict[str, gpd.GeoDataFrame] = {}
    try:
        layers = {name for name, _ in pyogrio.list_layers(d / GPKG_NAME)}
        for t in VECTOR_THEMES:
            if t in layers:
                gdf = pyogrio.read_dataframe(d / GPKG_NAME, layer=t)
                if gdf.crs is None:
                    gdf = gdf.set_crs(area_crs)
                themes[t] = gdf
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyogrio's DataSourceError and friends: a damaged GeoPackage
        raise StudyAreaError(f"{d / GPKG_NAME}: de GeoPackage is beschadigd of onvolledig ({exc}). Herstel hem uit een back-up "
                             "of maak het studiegebied opnieuw aan met 'gezondestad prepare'.") from exc
    return themes


def _read_area_landcover(d: Path, area_crs: str) -> LandCover | None:
    """The study area's land-cover raster, None when it has none."""
    if not (d / LANDCOVER_NAME).is_file():
        return None
    try:
        return read_landcover(d / LANDCOVER_NAME, area_crs)
    except StudyAreaError:
        raise
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - rasterio errors of a truncated or damaged GeoTIFF
        raise StudyAreaError(f"{d / LANDCOVER_NAME}: het bodembedekkingsraster is beschadigd of onvolledig ({exc}). "
                             "Maak het studiegebied opnieuw aan met 'gezondestad prepare'.") from exc


def _load_study_area(d: Path) -> StudyArea:
    if not is_study_area_dir(d):
        raise StudyAreaError(
            f"{d} is not a prepared study area (expected {GPKG_NAME} and {MANIFEST_NAME}); "
            "run 'gezondestad prepare ... --out DIR' first."
        )
    manifest = _read_manifest(d / MANIFEST_NAME)
    area_crs = crs_string(manifest.get("crs") or DEFAULT_CRS)  # caches from before per-area CRS: Lambert 72
    themes = _read_parquet_themes(d) or _read_gpkg_themes(d, area_crs)
    lc = _read_area_landcover(d, area_crs)
    try:
        return StudyArea(name=manifest.get("name", d.name), themes=themes, landcover=lc, manifest=manifest, crs=area_crs)
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        if isinstance(exc, StudyAreaError):
            raise
        raise StudyAreaError(f"{d / MANIFEST_NAME}: het manifest past niet bij de gegevens ({exc}). "
                             "Maak het studiegebied opnieuw aan met 'gezondestad prepare'.") from exc
