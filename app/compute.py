"""Cached computation of the app: every heavy result, computed once per study area and shared.

Rules
-----
* Shared results (``st.cache_resource``) are **frozen**: their numpy arrays are made read-only, so
  a page that tried to change one would fail loudly instead of changing it for every session.
* Per-session memos are never stored on a shared object. The screening baseline is shared by
  all sessions; :func:`session_baseline` hands each screening its own shallow copy with its own
  zone memo, so two screenings at once cannot evict or overwrite each other's zone values.
* Cache keys include :func:`area_stamp`, which changes whenever a file of the study-area folder
  changes (editing ``studyarea.gpkg`` in QGIS included), so a cached result cannot be stale.

This module renders nothing; pages show the messages it returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from gezondestad.app import state
from gezondestad.layers import export as export_mod
from gezondestad.layers.demo import demo_area_dir
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.catalogue import (
    CATALOGUE,
    FAMILY_LABELS,
    Indicator,
    card_indicators,
)
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import UNIT_NL, norm_value_nl
from gezondestad.model.norms import load_norms, norm_value
from gezondestad.model.paths import user_cache_dir
from gezondestad.model.studyarea import StudyArea, StudyAreaError
from gezondestad.screening import compare
from gezondestad.spatial.accessibility import accessibility_indicators
from gezondestad.spatial.aggregate import home_points
from gezondestad.spatial.heat import heat_layer
from gezondestad.spatial.indicators import network_indicators
from gezondestad.spatial.water import water_layer

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# freezing shared results
# ---------------------------------------------------------------------------------------------


def _freeze_value(v: Any, depth: int) -> None:
    if isinstance(v, np.ndarray):
        v.setflags(write=False)
    elif depth > 0 and isinstance(v, dict):
        for x in v.values():
            _freeze_value(x, depth - 1)
    elif depth > 0 and dataclasses.is_dataclass(v) and not isinstance(v, type):
        for f in dataclasses.fields(v):
            _freeze_value(getattr(v, f.name, None), depth - 1)


def freeze(obj: Any, depth: int = 3) -> Any:
    """Make every numpy array reachable from ``obj`` (dataclass fields, dict values) read-only.

    Returns ``obj``. Frames (pandas, geopandas) cannot be frozen; pages treat them as read-only
    and copy before they change one.
    """
    _freeze_value(obj, depth)
    return obj


# ---------------------------------------------------------------------------------------------
# the study area
# ---------------------------------------------------------------------------------------------


def area_stamp(folder: str) -> str:
    """A stamp of the folder's files (name, size, modification time): part of every cache key.

    It changes when any file of the prepared study area changes, not only the manifest.
    """
    h = hashlib.sha1()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return "missing"
    for e in entries:
        if e.name.startswith(".") or not e.is_file():
            continue
        s = e.stat()
        h.update(f"{e.name}|{s.st_size}|{s.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


@st.cache_resource(show_spinner="Demostad klaarzetten…")
def demo_folder() -> str:
    return str(demo_area_dir())


@st.cache_resource(show_spinner="Studiegebied laden…", max_entries=4)
def load_area(folder: str, stamp: str) -> StudyArea:
    """The StudyArea of ``folder`` (shared between sessions; read-only)."""
    area = load_study_area(folder)
    if area.landcover is not None:
        area.landcover.classes.setflags(write=False)
    return area


def area_crs(area: StudyArea) -> str:
    """The metric CRS of ``area`` (Lambert 72 for areas prepared before areas carried their own)."""
    return str(getattr(area, "crs", None) or "EPSG:31370")


def current_folder() -> str:
    return state.AREA_DIR.get() or demo_folder()


def current_area() -> tuple[str, str, StudyArea]:
    """(folder, stamp, area) of the study area chosen in the sidebar (the demo town by default)."""
    folder = current_folder()
    stamp = area_stamp(folder)
    return folder, stamp, load_area(folder, stamp)


def areas_cache_dir() -> Path:
    """Folder of study areas prepared in the app (``GEZONDESTAD_CACHE`` or the per-user cache)."""
    env = os.environ.get("GEZONDESTAD_CACHE", "").strip()
    return Path(env) if env else user_cache_dir() / "areas"


def slug(text: str) -> str:
    """A file-name-safe name for ``text`` (with a short hash so different texts never collide)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "gebied"
    return f"{s}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


def clear_all_caches() -> None:
    """Forget every cached result of every session (facilitator only)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    logger.info("all caches cleared")


# ---------------------------------------------------------------------------------------------
# indicator families
# ---------------------------------------------------------------------------------------------


def _need_landcover(area: StudyArea) -> None:
    if area.landcover is None:
        raise StudyAreaError(
            f"Het studiegebied ‘{area.name}’ heeft geen bodembedekkingsraster; bereid het opnieuw voor "
            "(gezondestad prepare) om het af te leiden."
        )


@st.cache_resource(show_spinner="Woningen en inwoners bepalen…", max_entries=4)
def cached_homes(folder: str, stamp: str) -> gpd.GeoDataFrame:
    return home_points(load_area(folder, stamp))


@st.cache_resource(show_spinner="Groen, fietsen en STOP berekenen (netwerkanalyse)…", max_entries=4)
def cached_network(folder: str, stamp: str) -> Any:
    return freeze(network_indicators(load_area(folder, stamp), homes=cached_homes(folder, stamp)))


@st.cache_resource(show_spinner="Toegankelijkheid van looproutes berekenen…", max_entries=4)
def cached_accessibility(folder: str, stamp: str) -> Any:
    return freeze(accessibility_indicators(load_area(folder, stamp), homes=cached_homes(folder, stamp)))


@st.cache_resource(show_spinner="Hittekaart berekenen (InVEST Urban Cooling)…", max_entries=4)
def cached_heat(folder: str, stamp: str) -> Any:
    area = load_area(folder, stamp)
    _need_landcover(area)
    return freeze(heat_layer(area.landcover, area.wijken, homes=cached_homes(folder, stamp)))


@st.cache_resource(show_spinner="Waterkaart berekenen (afstroming, overstromingsgevoelig)…", max_entries=4)
def cached_water(folder: str, stamp: str) -> Any:
    area = load_area(folder, stamp)
    _need_landcover(area)
    return freeze(water_layer(area.landcover, area.wijken, water=area.water if area.has("water") else None,
                              homes=cached_homes(folder, stamp)))


@st.cache_resource(show_spinner="Indicatoren berekenen…", max_entries=8)
def cached_other_family(folder: str, stamp: str, family: str) -> Any:
    """A family the app has no map layers for: its screening runner's own result (per wijk, notes)."""
    area = load_area(folder, stamp)
    return freeze(compare.FAMILIES[family](area, cached_homes(folder, stamp)).raw)


COMPUTE: dict[str, Callable[[str, str], Any]] = {
    "network": cached_network,
    "accessibility": cached_accessibility,
    "heat": cached_heat,
    "water": cached_water,
}
"""Families with map layers in the app; other families of the catalogue go through the screening's runners."""


def app_families() -> tuple[str, ...]:
    """Families of the catalogue the app can compute (in catalogue order)."""
    fams = dict.fromkeys(ind.family for ind in CATALOGUE)
    return tuple(f for f in fams if f in COMPUTE or f in compare.FAMILIES)


@dataclass(frozen=True)
class FamilyOutcome:
    """A family's result, or the Dutch reason why there is none."""

    family: str
    result: Any | None
    message: str = ""

    @property
    def label(self) -> str:
        return FAMILY_LABELS.get(self.family, self.family)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(str(n) for n in (getattr(self.result, "notes", None) or ()))


def family_result(family: str, folder: str, stamp: str) -> FamilyOutcome:
    """The cached result of one family; a library error becomes a Dutch message."""
    try:
        if family in COMPUTE:
            return FamilyOutcome(family, COMPUTE[family](folder, stamp))
        if family in compare.FAMILIES:
            return FamilyOutcome(family, cached_other_family(folder, stamp, family))
        return FamilyOutcome(family, None, "nog niet beschikbaar in deze versie")
    except GezondeStadError as exc:
        logger.info("family %s unavailable: %s", family, exc)
        return FamilyOutcome(family, None, str(getattr(exc, "nl", "") or exc))
    except ImportError as exc:
        logger.warning("family %s: module missing: %s", family, exc)
        return FamilyOutcome(family, None, "de rekenmodule ontbreekt in deze installatie")


# ---------------------------------------------------------------------------------------------
# per-wijk tables
# ---------------------------------------------------------------------------------------------


@st.cache_data(show_spinner="Kerncijfers per wijk berekenen…", max_entries=16)
def wijk_base_table(folder: str, stamp: str) -> pd.DataFrame:
    """Base facts per wijk: area, residents, homes (estimated or from buildings)."""
    area = load_area(folder, stamp)
    w = area.wijken
    out = pd.DataFrame(
        {
            "wijk_code": w["wijk_code"].astype(str).to_numpy(),
            "wijk_naam": w["wijk_naam"].astype(str).to_numpy(),
            "oppervlakte_ha": (w.geometry.area / 10_000).round(1).to_numpy(),
            "inwoners": pd.to_numeric(w["residents"], errors="coerce").round(0).to_numpy(),
        }
    )
    try:
        homes = cached_homes(folder, stamp)
    except GezondeStadError as exc:  # no buildings and no streets: no homes to count
        logger.info("no homes: %s", exc)
        out["woningen"] = np.nan
        out["woningen_geschat"] = False
        return out
    out["woningen"] = out["wijk_code"].map(homes["wijk_code"].astype(str).value_counts()).fillna(0).astype(int)
    out["woningen_geschat"] = bool(homes["estimated"].any()) if "estimated" in homes else False
    return out


def per_wijk_tables(folder: str, stamp: str) -> dict[str, pd.DataFrame]:
    """The per-wijk table of every family that could be computed."""
    out = {}
    for fam in app_families():
        res = family_result(fam, folder, stamp).result
        pw = getattr(res, "per_wijk", None)
        if isinstance(pw, pd.DataFrame) and len(pw) and "wijk_code" in pw.columns:
            out[fam] = pw
    return out


def indicator_table(folder: str, stamp: str, base: pd.DataFrame) -> tuple[pd.DataFrame, list[Indicator]]:
    """Base facts + every card indicator of the catalogue that is available, one row per wijk."""
    tables = per_wijk_tables(folder, stamp)
    out = base.copy()
    avail: list[Indicator] = []
    for ind in card_indicators():
        t = tables.get(ind.family)
        if t is None or ind.key not in t.columns:
            continue
        out[ind.key] = out["wijk_code"].map(dict(zip(t["wijk_code"].astype(str), t[ind.key])))
        avail.append(ind)
    return out, avail


def norm_source(family: str, key: str) -> str:
    """'value unit — source' of a norm, or an empty string when the norm is absent."""
    try:
        n = load_norms(family)[key]
    except (GezondeStadError, KeyError, OSError) as exc:
        logger.debug("norm %s.%s: %s", family, key, exc)
        return ""
    return f"{norm_value_nl(n.value, family)} {UNIT_NL.get(n.unit, n.unit)} — {n.source}".strip()


def norm_value_or_none(family: str, key: str) -> float | None:
    """A numeric norm's value, or None when the norm is absent or not a single number."""
    try:
        v = norm_value(family, key)
    except (GezondeStadError, OSError) as exc:
        logger.debug("norm %s.%s: %s", family, key, exc)
        return None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def short_source(src: str, max_chars: int = 110) -> str:
    """The citation part of :func:`norm_source`, shortened for a caption."""
    text = src.split(" — ", 1)[-1]
    return text if len(text) <= max_chars else text[: max_chars - 1].rsplit(" ", 1)[0] + " …"


# ---------------------------------------------------------------------------------------------
# screening baseline
# ---------------------------------------------------------------------------------------------


@st.cache_resource(show_spinner="Voor-toestand van alle indicatoren berekenen (eenmalig per studiegebied)…",
                   max_entries=2)
def cached_baseline(folder: str, stamp: str) -> compare.Situation:
    """The shared, frozen "before" situation of a study area."""
    base = compare.load_or_compute_baseline(load_area(folder, stamp), folder)
    compare.situation_keys(base)  # the one memo a baseline may carry: filled here, before sharing
    for fam in base.families.values():
        for arr in fam.cells.values():
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
    return base


def session_baseline(folder: str, stamp: str) -> compare.Situation:
    """The shared baseline with a private zone memo: one screening never evicts another's values."""
    base = cached_baseline(folder, stamp)
    return dataclasses.replace(base, zone_cache={}, families=dict(base.families), errors=dict(base.errors),
                               seconds=dict(base.seconds))


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


def per_wijk_gdf(folder: str, stamp: str) -> gpd.GeoDataFrame:
    """Wijken with the base facts and every available per-wijk indicator (columns prefixed by family)."""
    area = load_area(folder, stamp)
    g = area.wijken[["wijk_code", "wijk_naam", "geometry"]].copy()
    g["wijk_code"] = g["wijk_code"].astype(str)
    base = wijk_base_table(folder, stamp).drop(columns=["wijk_naam"])
    g = g.merge(base, on="wijk_code", how="left")
    for fam, t in per_wijk_tables(folder, stamp).items():
        t = t.copy()
        t["wijk_code"] = t["wijk_code"].astype(str)
        t = t.drop(columns=[c for c in ("wijk_naam", "geometry") if c in t.columns])
        t = t.rename(columns={c: f"{fam}_{c}" for c in t.columns if c != "wijk_code"})
        g = g.merge(t, on="wijk_code", how="left")
    return gpd.GeoDataFrame(g, geometry="geometry", crs=area.wijken.crs)


_EXPORT_FAMILY = {"net": "network", "acc": "accessibility", "heat": "heat", "water": "water"}


def export_object(key: str, folder: str, stamp: str) -> Any:
    """The GeoDataFrame or raster of an export layer (computed through the cached families)."""
    area = load_area(folder, stamp)
    if key.startswith("theme:"):
        return area.themes[key.split(":", 1)[1]]
    if key == "landcover":
        return area.landcover
    if key == "per_wijk":
        return per_wijk_gdf(folder, stamp)
    fam, part = key.split(":", 1)
    if fam in ("noise", "air"):  # per-home and sensitive-destination exposure (the screening runners' results)
        return getattr(cached_other_family(folder, stamp, fam), part)
    res = COMPUTE[_EXPORT_FAMILY[fam]](folder, stamp)
    if fam in ("net", "acc"):
        return getattr(res, part)
    band = res.bands()[part]
    return export_mod.Raster(np.asarray(band, dtype="float32"), res.landcover.transform, area_crs(area), None)
