"""Homes (origins of every per-resident indicator) and population-weighted aggregation per wijk."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.population import RESIDENTIAL_USES, estimate_homes_along_streets
from gezondestad.model.studyarea import StudyArea
from gezondestad.model.wijken import assign_wijk


def building_homes(buildings: gpd.GeoDataFrame, include_nonresidential: bool = False) -> gpd.GeoDataFrame:
    """One point inside each building with residents (or a residential use), without wijk columns.

    Columns ``building_id``, ``residents``, ``estimated`` (False) and a Point geometry from
    ``representative_point``; used by :func:`home_points` and by plan screening for new buildings.
    """
    b = buildings
    use = b["use"].astype("object").fillna("yes").astype(str).str.lower()
    res = pd.to_numeric(b["residents"], errors="coerce").fillna(0.0)
    keep = (res > 0) | use.isin(RESIDENTIAL_USES) if not include_nonresidential else np.ones(len(b), bool)
    b = b[np.asarray(keep)]
    return gpd.GeoDataFrame(
        {
            "building_id": b["building_id"].to_numpy(),
            "residents": pd.to_numeric(b["residents"], errors="coerce").fillna(0.0).to_numpy(),
            "estimated": np.zeros(len(b), dtype=bool),
        },
        geometry=b.geometry.representative_point().values,
        crs=buildings.crs,
    )


def home_points(area: StudyArea, include_nonresidential: bool = False) -> gpd.GeoDataFrame:
    """One point per home (building or estimated address) with residents and wijk.

    With buildings: a point inside each residential building (``representative_point``) carrying
    its ``residents``. Without buildings: :func:`estimate_homes_along_streets`, with residents
    spread evenly over the homes of each wijk from ``wijken.residents`` (or zero when unknown).

    Returns
    -------
    GeoDataFrame
        Columns ``home_id``, ``building_id`` (or None), ``residents``, ``estimated``,
        ``wijk_code``, ``wijk_naam``, geometry (Point, EPSG:31370).
    """
    if area.has("buildings"):
        homes = building_homes(area.buildings, include_nonresidential)
    else:
        area.require("streets")
        homes = estimate_homes_along_streets(area.streets)
        logger.info("%s: no buildings, %d homes estimated along residential streets", area.name, len(homes))
        homes["building_id"] = None
        homes["residents"] = 0.0
    wk = assign_wijk(homes, area.wijken)
    homes["wijk_code"] = wk["wijk_code"].to_numpy()
    homes["wijk_naam"] = wk["wijk_naam"].to_numpy()
    if not area.has("buildings") and len(homes) and "residents" in area.wijken:
        tot = pd.to_numeric(area.wijken.set_index("wijk_code")["residents"], errors="coerce")
        counts = homes["wijk_code"].value_counts()
        per = homes["wijk_code"].map(lambda c: tot.get(c, np.nan) / counts.get(c, 1) if c is not None else np.nan)
        homes["residents"] = pd.to_numeric(per, errors="coerce").fillna(0.0).to_numpy()
    homes["home_id"] = np.arange(len(homes), dtype=np.int64)
    return homes[["home_id", "building_id", "residents", "estimated", "wijk_code", "wijk_naam", "geometry"]]


logger = logging.getLogger(__name__)


class AggregateError(GezondeStadError):
    """A per-wijk aggregation that was asked in a way that cannot work."""


def aggregate_per_wijk(
    homes: pd.DataFrame,
    values: dict[str, np.ndarray],
    wijken: gpd.GeoDataFrame,
    how: dict[str, str] | None = None,
    weight_col: str = "residents",
) -> pd.DataFrame:
    """Population-weighted aggregates per wijk.

    Parameters
    ----------
    homes : DataFrame
        Output of :func:`home_points` (needs ``wijk_code`` and ``weight_col``).
    values : dict of name -> array
        One value per home. Booleans are aggregated as the weighted share of True; numbers as the
        weighted mean (``how[name] = "mean"``), the weighted sum (``"sum"``) or the unweighted
        count of True (``"count"``).
    wijken : GeoDataFrame
        All wijken (wijken without homes get NaN).
    weight_col : str
        Column with weights; when every weight is 0 the homes count equally.

    Returns
    -------
    DataFrame with ``wijk_code``, ``wijk_naam``, ``residents``, ``homes`` and one column per value.
    """
    how = how or {}
    w = pd.to_numeric(homes[weight_col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if w.sum() == 0:
        w = np.ones(len(homes))
    codes = homes["wijk_code"].astype("object").to_numpy()
    df = pd.DataFrame({"wijk_code": codes, "_w": w})
    for name, arr in values.items():
        a = np.asarray(arr)
        mode = how.get(name, "share" if a.dtype == bool else "mean")
        af = a.astype(float)
        if mode in ("share", "mean"):
            ok = np.isfinite(af)
            df[name + "__num"] = np.where(ok, af * w, 0.0)
            df[name + "__den"] = np.where(ok, w, 0.0)
        elif mode == "sum":
            df[name + "__num"] = np.where(np.isfinite(af), af * w, 0.0)
            df[name + "__den"] = 1.0
        elif mode == "count":
            df[name + "__num"] = np.where(np.isfinite(af), af, 0.0)
            df[name + "__den"] = 1.0
        else:
            raise AggregateError(f"Onbekende samenvatting '{mode}' voor '{name}'; kies share, mean, sum of count.")
    g = df.groupby("wijk_code", dropna=True)
    sums = g.sum(numeric_only=True)
    out = wijken[["wijk_code", "wijk_naam"]].copy().reset_index(drop=True)
    res = pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0)
    out["residents"] = out["wijk_code"].map(res.groupby(codes).sum()).fillna(0.0).to_numpy()
    out["homes"] = out["wijk_code"].map(pd.Series(codes).value_counts()).fillna(0).astype(int).to_numpy()
    for name, arr in values.items():
        mode = how.get(name, "share" if np.asarray(arr).dtype == bool else "mean")
        num = out["wijk_code"].map(sums[name + "__num"])
        if mode in ("share", "mean"):
            den = out["wijk_code"].map(sums[name + "__den"])
            out[name] = (num / den.where(den > 0)).to_numpy(dtype=float)
        elif mode == "count":
            out[name] = num.fillna(0.0).to_numpy(dtype=float)
        else:  # sum
            out[name] = num.fillna(0.0).to_numpy(dtype=float)
    return out
