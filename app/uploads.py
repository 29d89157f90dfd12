"""Uploads: checked, keyed by their content, read once, temporary files cleaned up.

An upload is identified by the SHA-256 of its bytes (:attr:`Upload.digest`), never by its name
and size: a changed plan re-uploaded under the same name and size is a different upload and
gets its own result. Reading a vector upload is cached per digest (``st.cache_data``), so a
rerun neither writes a new temporary copy nor extracts a zip again; the temporary folder of the
one read is removed straight after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import streamlit as st
from gezondestad.layers.validate import (
    VECTOR_SUFFIXES,
    read_layer,
    read_vector,
    safe_extract_zip,
)
from gezondestad.model.errors import GezondeStadError

logger = logging.getLogger(__name__)

MAX_OSM_UPLOAD_MB = 200
MAX_VECTOR_UPLOAD_MB = 50
VECTOR_UPLOAD_TYPES = (".gpkg", ".geojson", ".json", ".zip")
OSM_UPLOAD_TYPES = (".osm", ".pbf")
MAX_DESIGN_ELEMENTS = 20_000
"""Most elements the app's toets takes at once (a limit of the app, not a planning norm)."""
REPAIR_NL = {
    "empty_dropped": "lege geometrieën weggelaten",
    "invalid_repaired": "ongeldige geometrieën hersteld",
    "crs_assumed": "coördinatenstelsel aangenomen",
    "crs_overridden": "coördinatenstelsel vervangen",
    "lonlat_swapped": "lengte- en breedtegraad teruggewisseld",
}
_KIND_NL = {".gpkg": "GeoPackage", ".zip": "zip-bestand", ".osm": "OSM-XML-bestand"}
_DIGESTS = "_upload_digests"  # session memo: uploader file id -> digest (never shared)


@dataclass(frozen=True)
class Upload:
    """A checked upload: its name, type, size and content digest."""

    name: str
    suffix: str
    size: int
    digest: str

    @property
    def key(self) -> str:
        """Identity of the content (with the name, which only labels it)."""
        return f"upload:{self.digest}"


@dataclass(frozen=True)
class UploadCheck:
    ok: bool
    upload: Upload | None = None
    message_nl: str = ""


@dataclass(frozen=True)
class VectorUpload:
    """The result of reading a vector upload (cached per content digest)."""

    gdf: gpd.GeoDataFrame | None
    repairs: dict[str, int] = field(default_factory=dict)
    message_nl: str = ""


def suffix_of(name: str) -> str:
    n = name.lower()
    return ".pbf" if n.endswith(".osm.pbf") else Path(n).suffix


def safe_name(name: str, suffix: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[-80:] or f"upload{suffix}"


def digest_of(uploaded: Any) -> str:
    """SHA-256 of an upload's bytes, computed once per uploaded file of this session."""
    memo: dict[str, str] = st.session_state.setdefault(_DIGESTS, {})
    fid = str(getattr(uploaded, "file_id", "") or "")
    if fid and fid in memo:
        return memo[fid]
    d = hashlib.sha256(uploaded.getvalue()).hexdigest()
    if fid:
        memo[fid] = d
    return d


def sniff(name: str, suffix: str, data: bytes) -> str:
    """Dutch reason why ``data`` is not what its suffix says ("" when it looks right)."""
    head = data[:64]
    bad = {
        ".gpkg": not head.startswith(b"SQLite format 3\x00"),
        ".zip": not head.startswith(b"PK\x03\x04"),
        ".osm": b"<osm" not in data[:4096] and b"<?xml" not in head,
    }
    if bad.get(suffix, False):
        return f"‘{name}’ is geen geldig {_KIND_NL[suffix]} (de inhoud klopt niet met de extensie)."
    if suffix in (".geojson", ".json"):
        try:
            json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return f"‘{name}’ is geen geldig GeoJSON-bestand (de JSON is onleesbaar)."
        except RecursionError:
            return f"‘{name}’ is te diep genest om als GeoJSON gelezen te worden; sla het opnieuw op vanuit een GIS-programma."
    return ""


def check_upload(uploaded: Any, allowed: tuple[str, ...], max_mb: float) -> UploadCheck:
    """Check type, size and first bytes of an upload; a Dutch message when it is refused."""
    name = str(getattr(uploaded, "name", "bestand"))
    suffix = suffix_of(name)
    if suffix not in allowed:
        return UploadCheck(False, message_nl=f"‘{name}’ heeft een bestandstype dat hier niet past "
                           f"({suffix or 'geen extensie'}). Toegelaten: {', '.join(allowed)}.")
    size = int(getattr(uploaded, "size", 0) or 0)
    if size > max_mb * 1024 * 1024:
        return UploadCheck(False, message_nl=f"‘{name}’ is {size / 1024 / 1024:.0f} MB; maximaal {max_mb:.0f} MB.")
    data = uploaded.getvalue()
    if len(data) == 0:
        return UploadCheck(False, message_nl=f"‘{name}’ is leeg.")
    why = sniff(name, suffix, data)
    if why:
        return UploadCheck(False, message_nl=why)
    return UploadCheck(True, Upload(name, suffix, len(data), digest_of(uploaded)))


@contextmanager
def temporary_copy(upload: Upload, data: bytes) -> Iterator[Path]:
    """The upload written to a fresh temporary folder, removed again when the block ends."""
    tmp = Path(tempfile.mkdtemp(prefix=f"gezondestad-upload-{upload.digest[:12]}-"))
    try:
        path = tmp / safe_name(upload.name, upload.suffix)
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@st.cache_data(show_spinner="Bestand lezen en controleren…", max_entries=16)
def read_vector_cached(digest: str, name: str, suffix: str, expected_columns: tuple[str, ...] | None,
                       _data: bytes) -> VectorUpload:
    """Read a vector upload once per content digest (``_data`` is not hashed: the digest is the key)."""
    upload = Upload(name, suffix, len(_data), digest)
    with temporary_copy(upload, _data) as path:
        try:
            layer = read_vector(path, expected_columns=expected_columns)
        except GezondeStadError as exc:
            logger.info("upload %s refused: %s", name, exc)
            return VectorUpload(None, {}, f"‘{name}’ kon niet gelezen worden als kaartlaag: {exc}")
    gdf = layer.gdf
    if len(gdf) == 0:
        return VectorUpload(None, {}, f"‘{name}’ bevat geen enkele geometrie.")
    return VectorUpload(gdf, {k: int(v) for k, v in (layer.repairs or {}).items() if v})


@st.cache_data(show_spinner="Ontwerp lezen…", max_entries=16)
def read_design_cached(digest: str, name: str, suffix: str, _data: bytes) -> VectorUpload:
    """Read a design as it is — elements without geometry are kept (the toets reports them), like
    ``gezondestad toets``. Zips are extracted once, safely, into the temporary folder."""
    upload = Upload(name, suffix, len(_data), digest)
    with temporary_copy(upload, _data) as path:
        try:
            read_path = path
            if suffix == ".zip":
                files = safe_extract_zip(path, path.parent / "zip")
                cands = [f for f in files if f.suffix.lower() in VECTOR_SUFFIXES and not f.name.startswith("._")]
                if len(cands) != 1:
                    return VectorUpload(None, {}, f"‘{name}’ moet precies één kaartlaag bevatten (gevonden: "
                                        f"{', '.join(f.name for f in cands) or 'geen'}).")
                read_path = cands[0]
            gdf, _ = read_layer(read_path, Path(name), None)
        except GezondeStadError as exc:
            logger.info("design %s refused: %s", name, exc)
            return VectorUpload(None, {}, f"‘{name}’ kon niet gelezen worden als ontwerp: {exc}")
    if len(gdf) == 0:
        return VectorUpload(None, {}, f"‘{name}’ bevat geen enkel element.")
    if len(gdf) > MAX_DESIGN_ELEMENTS:
        return VectorUpload(None, {}, f"‘{name}’ bevat {len(gdf)} elementen; de toets in de app neemt er maximaal "
                            f"{MAX_DESIGN_ELEMENTS}. Splits het ontwerp of gebruik `gezondestad toets`.")
    return VectorUpload(gdf)


def read_uploaded_design(uploaded: Any) -> tuple[gpd.GeoDataFrame | None, Upload | None]:
    """Check and read an uploaded design for the toets (no rows dropped); Dutch messages, never raises."""
    chk = check_upload(uploaded, VECTOR_UPLOAD_TYPES, MAX_VECTOR_UPLOAD_MB)
    if not chk.ok or chk.upload is None:
        st.error(chk.message_nl)
        return None, None
    up = chk.upload
    res = read_design_cached(up.digest, up.name, up.suffix, uploaded.getvalue())
    if res.gdf is None:
        st.error(res.message_nl)
        return None, up
    return res.gdf.copy(), up


def repairs_nl(repairs: dict[str, int]) -> str:
    """``{"empty_dropped": 1}`` → ``"lege geometrieën weggelaten: 1"``."""
    return ", ".join(f"{REPAIR_NL.get(k, k.replace('_', ' '))}: {v}" for k, v in repairs.items() if v)


def read_uploaded_vector(uploaded: Any, expected_columns: tuple[str, ...] | None = None
                         ) -> tuple[gpd.GeoDataFrame | None, Upload | None]:
    """Check and read an uploaded vector file; Dutch messages on the page, never raises."""
    chk = check_upload(uploaded, VECTOR_UPLOAD_TYPES, MAX_VECTOR_UPLOAD_MB)
    if not chk.ok or chk.upload is None:
        st.error(chk.message_nl)
        return None, None
    up = chk.upload
    res = read_vector_cached(up.digest, up.name, up.suffix, expected_columns, uploaded.getvalue())
    if res.gdf is None:
        st.error(res.message_nl + " Controleer of het een geldige GeoPackage, GeoJSON of gezipte shapefile is "
                 "met een coördinatenstelsel.")
        return None, up
    if res.repairs:
        st.warning(f"Het bestand werd hersteld ({repairs_nl(res.repairs)}).")
    return res.gdf.copy(), up
