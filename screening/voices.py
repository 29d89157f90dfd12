"""Residents' voices in the screening report: remarks near the plan and Place Standard scores.

Remarks that residents left on the Participatie page within ``remarks_distance_m`` of a plan
feature are gathered, grouped by category, moderated (hidden) ones left out; the Place Standard
scores of the wijken the plan touches are summarised per wijk. Text stays verbatim here; the
report escapes it where shown.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely

from gezondestad.layers import participation as pt
from gezondestad.layers import placestandard as ps
from gezondestad.model.norms import load_norms

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Voices:
    """What residents said near a plan.

    Attributes
    ----------
    remarks : DataFrame
        category, text, created_at, wijk_code, distance_m of the visible remarks near the plan.
    by_category : DataFrame
        category, n (most frequent first).
    hidden_left_out : int
        Moderated remarks near the plan that were left out.
    place_standard : DataFrame
        :func:`gezondestad.layers.placestandard.summary` of the wijken the plan touches.
    distance_m : float
    notes : list of str
    """

    remarks: pd.DataFrame
    by_category: pd.DataFrame
    hidden_left_out: int
    place_standard: pd.DataFrame
    distance_m: float
    notes: list[str] = field(default_factory=list)


def voices_near_plan(
    plan_geometry: shapely.Geometry,
    area_name: str,
    wijk_codes: list[str],
    db_path: str | os.PathLike | None = None,
    distance_m: float | None = None,
    crs: str | None = None,
) -> Voices:
    """Remarks within ``distance_m`` of ``plan_geometry`` and Place Standard scores of ``wijk_codes``.

    ``crs`` is the CRS of ``plan_geometry`` (the study area's, ``area.crs``; default EPSG:31370):
    remarks are stored in Lambert 72 and brought into it before measuring distances.
    A missing database means nobody has said anything yet (empty tables, a note), not an error.
    """
    dist = float(distance_m if distance_m is not None else load_norms("report")["remarks_distance_m"].value)
    db = Path(db_path) if db_path else pt.default_db_path()
    notes: list[str] = []
    empty_r = pd.DataFrame(columns=["category", "text", "created_at", "wijk_code", "distance_m"])
    empty_c = pd.DataFrame(columns=["category", "n"])
    if not db.exists():
        notes.append("Er zijn nog geen opmerkingen van bewoners opgeslagen.")
        return Voices(empty_r, empty_c, 0, ps.summary(pd.DataFrame(columns=["wijk_code", "theme", "score"])), dist, notes)
    g = pt.remarks_gdf(db, area_name=area_name, include_hidden=True)
    if crs is not None and len(g) and not g.crs.equals(crs):
        g = g.to_crs(crs)
    if len(g):
        d = g.geometry.distance(plan_geometry)
        near = g[d.to_numpy() <= dist].assign(distance_m=d[d <= dist].round(0))
    else:
        near = g.assign(distance_m=[])
    hidden = int(near["hidden"].sum()) if len(near) else 0
    vis = near[~near["hidden"].astype(bool)] if len(near) else near
    remarks = pd.DataFrame(vis[["category", "text", "created_at", "wijk_code", "distance_m"]]) if len(vis) else empty_r
    by_cat = remarks.groupby("category").size().rename("n").reset_index().sort_values("n", ascending=False, kind="stable") \
        if len(remarks) else empty_c
    scores = ps.list_scores(db, area_name=area_name, wijk_codes=[str(w) for w in wijk_codes]) if wijk_codes else \
        pd.DataFrame(columns=["wijk_code", "theme", "score"])
    summ = ps.summary(scores) if len(scores) else ps.summary(pd.DataFrame(columns=["wijk_code", "theme", "score"]))
    if not len(remarks):
        notes.append(f"Geen (zichtbare) opmerkingen van bewoners binnen {dist:.0f} m van het plan.")
    return Voices(remarks.reset_index(drop=True), by_cat.reset_index(drop=True), hidden, summ, dist, notes)
