"""One table of every indicator per wijk, for export: all families the study area allows.

Columns are ``wijk_code``, ``wijk_naam``, ``residents`` and the catalogue's indicators
(:mod:`gezondestad.model.catalogue`) in catalogue order; a family that cannot run on this study
area (no streets, no land cover, ...) is left out with a Dutch note saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from gezondestad.model.catalogue import CATALOGUE, FAMILY_LABELS
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.result import FamilyResult, family_result
from gezondestad.model.studyarea import StudyArea
from gezondestad.spatial.accessibility import accessibility_indicators
from gezondestad.spatial.aggregate import home_points
from gezondestad.spatial.heat import heat_layer
from gezondestad.spatial.indicators import network_indicators
from gezondestad.spatial.raster import landcover_for_area
from gezondestad.spatial.water import water_layer

logger = logging.getLogger(__name__)

TABLE_FAMILIES: tuple[str, ...] = ("network", "accessibility", "heat", "water")
"""Families the export table computes, in order."""


@dataclass(frozen=True)
class WijkTable:
    """Result of :func:`wijk_indicator_table`.

    Attributes
    ----------
    table : DataFrame
        One row per wijk; ``wijk_code``, ``wijk_naam``, ``residents`` and catalogue columns.
    families : tuple of str
        Families that were computed.
    notes : tuple of str
        Dutch data-quality notes of every family, and why a family is missing.
    norms_used : tuple of (family, key)
    """

    table: pd.DataFrame
    families: tuple[str, ...]
    notes: tuple[str, ...] = ()
    norms_used: tuple[tuple[str, str], ...] = field(default=())


def _network(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyResult:
    return family_result(network_indicators(area, homes=homes))


def _accessibility(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyResult:
    return family_result(accessibility_indicators(area, homes=homes, with_missing_links=False))


def _heat(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyResult:
    return family_result(heat_layer(landcover_for_area(area), area.wijken, homes=homes))


def _water(area: StudyArea, homes: gpd.GeoDataFrame) -> FamilyResult:
    return family_result(water_layer(landcover_for_area(area), area.wijken, water=area.water if area.has("water") else None, homes=homes))


_RUN: dict[str, Callable[[StudyArea, gpd.GeoDataFrame], FamilyResult]] = {
    "network": _network,
    "accessibility": _accessibility,
    "heat": _heat,
    "water": _water,
}


def wijk_indicator_table(area: StudyArea, families: Sequence[str] = TABLE_FAMILIES, progress: Progress | None = None) -> WijkTable:
    """Every catalogue indicator per wijk of ``area`` (see the module docstring).

    Parameters
    ----------
    area : StudyArea
        Needs wijken; each family uses what it needs (streets, land cover) and is skipped with a
        note when that is missing.
    families : sequence of str
        Subset of :data:`TABLE_FAMILIES`.
    progress : Progress, optional
        Callback ``(done, total, message)`` after each family.
    """
    unknown = [f for f in families if f not in _RUN]
    if unknown:
        raise GezondeStadError(f"Onbekende indicatorfamilie(s) {', '.join(unknown)}; kies uit {', '.join(TABLE_FAMILIES)}.")
    area.require("wijken")
    steps = Steps(progress, {f: FAMILY_LABELS.get(f, f) for f in families})
    homes = home_points(area)
    table = pd.DataFrame({"wijk_code": area.wijken["wijk_code"].astype("object").to_numpy()})
    if "wijk_naam" in area.wijken:
        table["wijk_naam"] = area.wijken["wijk_naam"].astype("object").to_numpy()
    notes: list[str] = []
    used: list[tuple[str, str]] = []
    done: list[str] = []
    for fam in families:
        try:
            r = _RUN[fam](area, homes)
        except GezondeStadError as exc:
            logger.info("family %s skipped: %s", fam, exc)
            notes.append(f"{FAMILY_LABELS.get(fam, fam)} niet berekend: {exc}")
            steps.done(fam)
            continue
        table = _merge(table, r, fam)
        notes.extend(r.notes)
        used.extend(r.norms_used)
        done.append(fam)
        steps.done(fam)
    keys = [ind.key for ind in CATALOGUE if ind.key in table.columns]
    first = [c for c in ("wijk_code", "wijk_naam", "residents") if c in table.columns]
    return WijkTable(table[first + keys], tuple(done), tuple(dict.fromkeys(notes)), tuple(dict.fromkeys(used)))


def _merge(table: pd.DataFrame, r: FamilyResult, family: str) -> pd.DataFrame:
    keys = [ind.key for ind in CATALOGUE if ind.family == family and ind.key in r.per_wijk.columns]
    cols = keys + (["residents"] if "residents" in r.per_wijk.columns and "residents" not in table.columns else [])
    if not cols:
        return table
    part = r.per_wijk[["wijk_code", *cols]].drop_duplicates("wijk_code")
    return table.merge(part, on="wijk_code", how="left")


def dutch_table(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` for people: the catalogue's Dutch labels (with unit) as column names, shares in
    percent (one decimal), flags as ja/nee, other numbers rounded to two decimals."""
    out = table.copy()
    names = {"wijk_code": "Wijkcode", "wijk_naam": "Wijk", "residents": "Inwoners"}
    if "residents" in out:
        out["residents"] = pd.to_numeric(out["residents"], errors="coerce").round(0)
    for ind in CATALOGUE:
        if ind.key not in out.columns:
            continue
        v = out[ind.key]
        if ind.unit == "%":
            out[ind.key] = (100.0 * pd.to_numeric(v, errors="coerce")).round(1)
        elif ind.unit == "ja/nee":
            out[ind.key] = v.map(lambda x: None if pd.isna(x) else ("ja" if bool(x) else "nee"))
        else:
            out[ind.key] = pd.to_numeric(v, errors="coerce").round(2)
        names[ind.key] = f"{ind.label} ({ind.unit})" if ind.unit and ind.unit != "ja/nee" else ind.label
    return out.rename(columns=names)
