"""Urban heat-island layer after the InVEST Urban Cooling model (per cell and per wijk).

The equations are those of the InVEST user guide ("Urban Cooling") as implemented in
``natcap.invest.urban_cooling_model`` (version >= 3.15, which includes CC_j in the park sum):

1. Evapotranspiration index: ``ETI = kc * ET0 / ETmax`` (ETmax = largest ET0 in the area).
2. Cooling capacity: ``CC = w_shade * shade + w_albedo * albedo + w_eti * ETI`` with the weights
   divided by their sum (default 0.6 / 0.2 / 0.2); or ``CC = 1 - building_intensity``.
3. Park cooling: ``CC_park_i`` = the distance-weighted mean, with weights ``exp(-d(i,j)/d_cool)``
   (kernel cut at 5 d_cool and normalised), of ``g_j * CC_j`` over the valid cells j, where g_j
   is 1 on green-space cells; ``GA_i`` = green area within ``d_cool`` of i (a disc; at the study
   area's edge scaled up by the share of the disc that lies inside, as pygeoprocessing does).
4. Heat mitigation: ``HM_i = CC_park_i`` if ``GA_i >= 2 ha`` and ``CC_park_i > CC_i``, else ``CC_i``.
5. Air temperature: ``T_air_nomix = T_ref + (1 - HM) * UHI_max``, then mixed spatially by the
   normalised kernel of radius ``r`` (``t_air_average_radius_m``), again over valid cells only.

Deviation from natcap.invest, on purpose and switchable: green cells only count as park cells
g_j when they belong to a contiguous green patch of at least ``green_patch_min_ha`` (2 ha; the
user guide speaks of "large green spaces (> 2 ha)", natcap/invest issue #1348). With
``green_patch_min_ha = 0`` the result is natcap.invest's.

**Heat index** (per cell, 0-1, higher = hotter): ``(T_air - T_ref) / UHI_max``, i.e. ``1 - HM``
after air mixing — the air-temperature anomaly as a share of the city's UHI magnitude. The
hottest class is ``heat_index >= heat_class_breaks[-1]`` (norms). Residents aged 65+ / 0-5 in
the hottest class are estimated assuming their share is uniform within the wijk (the wijk's
``residents_65plus`` / ``residents_0_5`` times the wijk's share of residents living in hot cells).

All coefficients come from ``data/norms/biophysical.csv`` and ``data/norms/heat.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from gezondestad.model.landcover import LANDCOVER_CLASSES
from gezondestad.model.norms import load_norms, load_table
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.studyarea import LandCover
from gezondestad.spatial.raster import (
    RasterError,
    check_landcover,
    convolve,
    convolve_normalized,
    disk_kernel,
    exponential_kernel,
    gaussian_kernel,
    read_aligned,
    sample_at_points,
    zonal_count,
    zonal_mean,
    zonal_percentile,
    zone_raster,
)
from scipy import ndimage


class HeatInputError(RasterError):
    """Bad input for the heat layer (unknown class, no data, bad parameter)."""


HEAT_COLUMNS: tuple[str, ...] = ("shade", "kc", "albedo", "green_area", "building_intensity")


@dataclass
class HeatParams:
    """Parameters of the heat layer; ``HeatParams.from_norms()`` fills them from ``data/norms``.

    Attributes
    ----------
    cc_method : str
        ``"factors"`` (shade, albedo, ETI; daytime) or ``"intensity"`` (1 - building intensity).
    cc_weight_shade, cc_weight_albedo, cc_weight_eti : float
        Weights of the CC index (divided by their sum).
    et0_mm : float
        Constant reference evapotranspiration when no ET0 raster is given (mm/day).
    green_area_cooling_distance_m : float
        d_cool (m).
    green_area_min_ha : float
        Minimum green area within d_cool for park cooling (ha).
    green_patch_min_ha : float
        Minimum area of a contiguous green patch for its cells to count as park cells (ha); 0 = all.
    t_air_average_radius_m : float
        Air-mixing radius r (m).
    air_mixing_kernel : str
        ``"exponential"`` (natcap.invest) or ``"gaussian"``.
    t_ref_c, uhi_max_c : float
        Rural reference temperature and UHI magnitude (degC).
    heat_class_breaks : tuple of float
        Class breaks of the heat index; the hottest class is ``>= breaks[-1]``.
    biophysical : DataFrame
        One row per land-cover class (``lucode`` + :data:`HEAT_COLUMNS`).
    """

    cc_method: str
    cc_weight_shade: float
    cc_weight_albedo: float
    cc_weight_eti: float
    et0_mm: float
    green_area_cooling_distance_m: float
    green_area_min_ha: float
    green_patch_min_ha: float
    t_air_average_radius_m: float
    air_mixing_kernel: str
    t_ref_c: float
    uhi_max_c: float
    heat_class_breaks: tuple[float, ...]
    biophysical: pd.DataFrame = field(repr=False)

    @classmethod
    def from_norms(cls, norms_dir: Any = None, **overrides: Any) -> "HeatParams":
        """Parameters from ``heat.toml`` + ``biophysical.csv``; keyword overrides win."""
        n = load_norms("heat", norms_dir)
        vals: dict[str, Any] = {
            "cc_method": str(n["cc_method"].value),
            "cc_weight_shade": float(n["cc_weight_shade"].value),
            "cc_weight_albedo": float(n["cc_weight_albedo"].value),
            "cc_weight_eti": float(n["cc_weight_eti"].value),
            "et0_mm": float(n["et0_mm"].value),
            "green_area_cooling_distance_m": float(n["green_area_cooling_distance_m"].value),
            "green_area_min_ha": float(n["green_area_min_ha"].value),
            "green_patch_min_ha": float(n["green_patch_min_ha"].value),
            "t_air_average_radius_m": float(n["t_air_average_radius_m"].value),
            "air_mixing_kernel": str(n["air_mixing_kernel"].value),
            "t_ref_c": float(n["t_ref_c"].value),
            "uhi_max_c": float(n["uhi_max_c"].value),
            "heat_class_breaks": tuple(float(b) for b in n["heat_class_breaks"].value),
            "biophysical": load_table("biophysical", norms_dir),
        }
        unknown = set(overrides) - set(vals)
        if unknown:
            raise HeatInputError(f"Unknown heat parameter(s) {sorted(unknown)}; known: {sorted(vals)}.")
        vals.update(overrides)
        if "heat_class_breaks" in overrides:
            vals["heat_class_breaks"] = tuple(float(b) for b in vals["heat_class_breaks"])
        return cls(**vals)


@dataclass
class HeatResult:
    """Output of :func:`heat_layer`.

    Attributes
    ----------
    landcover : LandCover
        The grid everything refers to.
    cc, hm, t_air_nomix, t_air, heat_index : ndarray
        Per-cell cooling capacity, heat mitigation index, air temperature before/after mixing
        (degC) and heat index (0-1, higher = hotter); NaN outside the study area.
    heat_class : ndarray
        uint8 class 1..len(breaks)+1 of the heat index (0 outside).
    park_cooled : ndarray
        bool, cells where HM took the park value (CC_park > CC and GA >= 2 ha).
    green_area_ha : ndarray
        GA_i, green area within d_cool (ha).
    per_wijk : DataFrame
        wijk_code, wijk_naam, cells, heat_index_mean, heat_index_p90, t_air_mean, t_anomaly_mean,
        cc_mean, hm_mean, area_hot_share, residents, residents_hot, residents_hot_share,
        homes_outside_raster, and residents_65plus_hot / residents_0_5_hot when known.
    params : HeatParams
    """

    landcover: LandCover
    cc: np.ndarray
    hm: np.ndarray
    t_air_nomix: np.ndarray
    t_air: np.ndarray
    heat_index: np.ndarray
    heat_class: np.ndarray
    park_cooled: np.ndarray
    green_area_ha: np.ndarray
    per_wijk: pd.DataFrame
    params: HeatParams

    def bands(self) -> dict[str, np.ndarray]:
        """Named rasters for export (GeoTIFF band descriptions)."""
        return {
            "heat_index": self.heat_index,
            "t_air_c": self.t_air,
            "hm": self.hm,
            "cc": self.cc,
            "heat_class": np.where(self.heat_class > 0, self.heat_class, np.nan),
        }


def class_lookup(
    lc: LandCover, table: pd.DataFrame, columns: tuple[str, ...], what: str
) -> dict[str, np.ndarray]:
    """Per-cell arrays of ``columns`` looked up by land-cover class.

    Raises
    ------
    RasterError
        When a class present in the raster has no row (or an empty value) in ``table``, naming it.
    """
    if "lucode" not in table.columns:
        raise RasterError(f"The {what} table needs a 'lucode' column.")
    missing_cols = [c for c in columns if c not in table.columns]
    if missing_cols:
        raise RasterError(f"The {what} table lacks column(s) {missing_cols}.")
    present = np.unique(lc.classes)
    present = present[present != 0]
    t = table.copy()
    t["lucode"] = pd.to_numeric(t["lucode"], errors="coerce")
    t = t.dropna(subset=["lucode"]).drop_duplicates("lucode", keep="last").set_index(t["lucode"].astype(int))
    for code in present:
        name = LANDCOVER_CLASSES.get(int(code), "unknown")
        if int(code) not in t.index:
            raise RasterError(
                f"Land-cover class {int(code)} ('{name}') occurs in the raster but has no row in the {what} "
                f"table; add a row with lucode {int(code)} to data/norms/biophysical.csv."
            )
        row = t.loc[int(code)]
        empty = [c for c in columns if pd.isna(pd.to_numeric(row[c], errors="coerce"))]
        if empty:
            raise RasterError(
                f"Land-cover class {int(code)} ('{name}') has no value for {empty} in the {what} table."
            )
    out = {}
    for c in columns:
        lut = np.full(256, np.nan)
        for code, v in pd.to_numeric(t[c], errors="coerce").items():
            if 0 <= int(code) < 256:
                lut[int(code)] = float(v)
        out[c] = lut[lc.classes]
    return out


def _et0_array(et0: float | np.ndarray | str | None, lc: LandCover, p: HeatParams) -> np.ndarray:
    if et0 is None:
        et0 = p.et0_mm
    if isinstance(et0, (int, float, np.floating)):
        if not float(et0) > 0:
            raise HeatInputError(f"ET0 must be > 0 mm, got {et0}.")
        return np.full(lc.shape, float(et0))
    if isinstance(et0, np.ndarray):
        if et0.shape != lc.shape:
            raise HeatInputError(f"The ET0 array has shape {et0.shape}; the land cover has {lc.shape}. Align it first.")
        return et0.astype(float)
    return read_aligned(et0, lc, what="ET0 raster")


def _mixing_kernel(p: HeatParams, res: float) -> np.ndarray:
    r_px = int(np.round(p.t_air_average_radius_m / res))
    if p.air_mixing_kernel == "exponential":
        return exponential_kernel(r_px, 5 * r_px)
    if p.air_mixing_kernel == "gaussian":
        return gaussian_kernel(r_px)
    raise HeatInputError(f"air_mixing_kernel must be 'exponential' or 'gaussian', got '{p.air_mixing_kernel}'.")


def heat_maps(lc: LandCover, params: HeatParams | None = None, et0: float | np.ndarray | str | None = None) -> dict[str, np.ndarray]:
    """The per-cell InVEST Urban Cooling rasters (see module docstring for the equations).

    Returns
    -------
    dict with ``eti``, ``cc``, ``green`` (park cells g_j), ``cc_park``, ``green_area_ha``,
    ``park_cooled``, ``hm``, ``t_air_nomix``, ``t_air`` (NaN outside the study area).
    """
    p = params or HeatParams.from_norms()
    valid = check_landcover(lc)
    res = float(lc.resolution_m)
    if p.uhi_max_c <= 0:
        raise HeatInputError(f"uhi_max_c must be > 0 degC (the city is warmer than its rural reference), got {p.uhi_max_c}.")
    if p.green_area_cooling_distance_m < 0 or p.t_air_average_radius_m < 0:
        raise HeatInputError("green_area_cooling_distance_m and t_air_average_radius_m must be >= 0.")
    coef = class_lookup(lc, p.biophysical, HEAT_COLUMNS if p.cc_method == "factors" else ("kc", "green_area", "building_intensity"), "biophysical")

    # 1-2: cooling capacity
    if p.cc_method == "factors":
        et0_arr = _et0_array(et0, lc, p)
        et_ok = valid & np.isfinite(et0_arr)
        if not et_ok.any():
            raise HeatInputError("ET0 has no data inside the study area.")
        et_max = float(np.nanmax(et0_arr[et_ok]))
        if et_max <= 0:
            raise HeatInputError(f"The largest ET0 in the study area is {et_max}; ET0 must be > 0.")
        eti = coef["kc"] * et0_arr / et_max
        wsum = p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti
        if wsum <= 0:
            raise HeatInputError("The CC weights must sum to more than 0.")
        cc = (p.cc_weight_shade * coef["shade"] + p.cc_weight_albedo * coef["albedo"] + p.cc_weight_eti * eti) / wsum
    elif p.cc_method == "intensity":
        eti = np.full(lc.shape, np.nan)
        cc = 1.0 - coef["building_intensity"]
    else:
        raise HeatInputError(f"cc_method must be 'factors' or 'intensity', got '{p.cc_method}'.")
    valid &= np.isfinite(cc)
    cc = np.where(valid, cc, np.nan)

    # 3: green (park) cells; contiguous patches >= green_patch_min_ha when asked
    green = valid & (coef["green_area"] > 0)
    if p.green_patch_min_ha > 0 and green.any():
        labels, n = ndimage.label(green, structure=np.ones((3, 3), dtype=bool))
        sizes_ha = np.bincount(labels.ravel(), minlength=n + 1) * res * res / 1e4
        big = sizes_ha >= p.green_patch_min_ha - 1e-9
        big[0] = False
        green = big[labels]
    d_px = int(np.round(p.green_area_cooling_distance_m / res))
    cc_green = np.where(green, cc, 0.0)
    cc_park = convolve_normalized(cc_green, valid, exponential_kernel(d_px, 5 * d_px))
    disk = disk_kernel(d_px)
    # GA_i: green cells within d_cool, edge-corrected like pygeoprocessing.convolve_2d(ignore_nodata_and_edges)
    n_green = convolve(green.astype(float), disk)
    n_valid = convolve(valid.astype(float), disk)
    with np.errstate(invalid="ignore", divide="ignore"):
        ga_cells = np.where(n_valid > 1e-9, n_green / n_valid * disk.sum(), 0.0)
    green_area_ha = np.where(valid, ga_cells * res * res / 1e4, np.nan)

    # 4: heat mitigation
    park_cooled = valid & (green_area_ha >= p.green_area_min_ha - 1e-9) & (cc_park > cc)
    hm = np.where(park_cooled, cc_park, cc)
    hm = np.where(valid, hm, np.nan)

    # 5: air temperature
    t_nomix = p.t_ref_c + (1.0 - hm) * p.uhi_max_c
    t_air = convolve_normalized(np.where(valid, t_nomix, 0.0), valid, _mixing_kernel(p, res))
    t_air = np.where(valid, t_air, np.nan)
    return {
        "eti": np.where(valid, eti, np.nan),
        "cc": cc,
        "green": green,
        "cc_park": np.where(valid, cc_park, np.nan),
        "green_area_ha": green_area_ha,
        "park_cooled": park_cooled,
        "hm": hm,
        "t_air_nomix": np.where(valid, t_nomix, np.nan),
        "t_air": t_air,
    }


def heat_layer(
    landcover: LandCover,
    wijken: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame | None = None,
    params: HeatParams | None = None,
    et0: float | np.ndarray | str | None = None,
    *,
    progress: Progress | None = None,
) -> HeatResult:
    """Heat-island layer per cell and per wijk (InVEST Urban Cooling; see module docstring).

    Parameters
    ----------
    landcover : LandCover
        Land-cover raster (any resolution; a plan's modified copy works the same).
    wijken : GeoDataFrame
        Wijk polygons with ``wijk_code`` (and optionally ``wijk_naam``, ``residents_65plus``,
        ``residents_0_5``).
    homes : GeoDataFrame, optional
        Home points with ``residents`` (and ``wijk_code``), e.g. :func:`spatial.aggregate.home_points`.
        Without homes the resident columns are NaN (``area_hot_share`` is always given).
    params : HeatParams, optional
        Defaults to :meth:`HeatParams.from_norms`.
    et0 : float, ndarray or path, optional
        Reference evapotranspiration (mm/day): a constant, an array on the land-cover grid or a
        raster file (reprojected/resampled onto the grid). Default: ``et0_mm`` of the norms.
    progress : Progress, optional
        Callback ``(done, total, message)`` after each step (:mod:`gezondestad.model.progress`).

    Returns
    -------
    HeatResult
    """
    p = params or HeatParams.from_norms()
    if wijken is None or len(wijken) == 0:
        raise HeatInputError("heat_layer needs wijken (polygons with wijk_code) for the per-wijk table.")
    if "wijk_code" not in wijken.columns:
        raise HeatInputError("The wijken layer needs a 'wijk_code' column.")
    steps = Steps(progress, {"model": "hittemodel (InVEST Urban Cooling)", "aggregate": "per wijk samenvatten"})
    m = heat_maps(landcover, p, et0)
    steps.done("model")
    valid = np.isfinite(m["hm"])
    heat_index = np.where(valid, (m["t_air"] - p.t_ref_c) / p.uhi_max_c, np.nan)
    breaks = np.asarray(p.heat_class_breaks, dtype=float)
    if breaks.size == 0 or np.any(np.diff(breaks) <= 0):
        raise HeatInputError(f"heat_class_breaks must be increasing, got {list(breaks)}.")
    heat_class = np.where(valid, np.digitize(np.nan_to_num(heat_index), breaks) + 1, 0).astype(np.uint8)
    hot = valid & (heat_index >= breaks[-1])

    zones = zone_raster(wijken, landcover)
    n = len(wijken)
    per = pd.DataFrame(
        {
            "wijk_code": wijken["wijk_code"].astype("object").to_numpy(),
            "wijk_naam": wijken["wijk_naam"].astype("object").to_numpy() if "wijk_naam" in wijken else None,
        }
    )
    per["cells"] = zonal_count(valid, zones, n)
    per["heat_index_mean"] = zonal_mean(heat_index, zones, n)
    per["heat_index_p90"] = zonal_percentile(heat_index, zones, n, 90.0)
    per["t_air_mean"] = zonal_mean(m["t_air"], zones, n)
    per["t_anomaly_mean"] = per["t_air_mean"] - p.t_ref_c
    per["cc_mean"] = zonal_mean(m["cc"], zones, n)
    per["hm_mean"] = zonal_mean(m["hm"], zones, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        per["area_hot_share"] = np.where(per["cells"] > 0, zonal_count(hot, zones, n) / per["cells"].clip(lower=1), np.nan)
    _residents_columns(per, wijken, homes, hot.astype(float), valid, landcover, "hot")
    steps.done("aggregate")
    return HeatResult(
        landcover=landcover,
        cc=m["cc"],
        hm=m["hm"],
        t_air_nomix=m["t_air_nomix"],
        t_air=m["t_air"],
        heat_index=heat_index,
        heat_class=heat_class,
        park_cooled=m["park_cooled"],
        green_area_ha=m["green_area_ha"],
        per_wijk=per,
        params=p,
    )


def canopy_walk_share(landcover: LandCover, radius_m: float | None = None) -> np.ndarray:
    """Tree-canopy share within ``radius_m`` of every cell (the "30" of the 3-30-300 rule).

    Share of the valid land-cover cells within a disc of ``radius_m`` (default
    ``canopy_walk_radius_m`` of the heat norms) that are trees (class TREES). NaN outside the
    study area.

    Parameters
    ----------
    landcover : LandCover
    radius_m : float, optional

    Returns
    -------
    ndarray (float, the raster's shape)
    """
    from gezondestad.model.landcover import NODATA, TREES

    r = float(radius_m if radius_m is not None else load_norms("heat")["canopy_walk_radius_m"].value)
    cls = landcover.classes
    valid = cls != NODATA
    share = convolve_normalized((cls == TREES).astype(float), valid, disk_kernel(r / float(landcover.resolution_m)))
    return np.where(valid, share, np.nan)


def _residents_columns(
    per: pd.DataFrame,
    wijken: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame | None,
    flag: np.ndarray,
    valid: np.ndarray,
    lc: LandCover,
    name: str,
) -> None:
    """Add residents, residents_<name>, residents_<name>_share, homes_outside_raster (+ age groups).

    ``flag`` is 1.0 where the condition holds; homes on nodata cells or off the grid are left
    out of the shares and counted in ``homes_outside_raster``.
    """
    codes = per["wijk_code"].astype(str)
    if homes is None or len(homes) == 0:
        per["residents"] = np.nan
        per[f"residents_{name}"] = np.nan
        per[f"residents_{name}_share"] = np.nan
        per["homes_outside_raster"] = 0
    else:
        h = homes
        if "wijk_code" not in h.columns or h["wijk_code"].isna().all():
            from gezondestad.model.wijken import assign_wijk

            h = h.copy()
            h["wijk_code"] = assign_wijk(h, wijken)["wijk_code"].to_numpy()
        res = pd.to_numeric(h["residents"], errors="coerce").fillna(0.0).to_numpy() if "residents" in h else np.ones(len(h))
        f = sample_at_points(np.where(valid, flag, np.nan), lc, h)
        inside = np.isfinite(f)
        df = pd.DataFrame(
            {
                "wijk_code": h["wijk_code"].astype("object").map(lambda c: None if c is None or (isinstance(c, float) and np.isnan(c)) else str(c)),
                "res": res,
                "res_in": np.where(inside, res, 0.0),
                "res_flag": np.where(inside, res * np.nan_to_num(f), 0.0),
                "outside": (~inside).astype(int),
            }
        )
        g = df.groupby("wijk_code").sum(numeric_only=True)
        per["residents"] = codes.map(g["res"]).fillna(0.0).to_numpy()
        per[f"residents_{name}"] = codes.map(g["res_flag"]).fillna(0.0).to_numpy()
        den = codes.map(g["res_in"]).fillna(0.0).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            per[f"residents_{name}_share"] = np.where(den > 0, per[f"residents_{name}"].to_numpy() / np.where(den > 0, den, 1), np.nan)
        per["homes_outside_raster"] = codes.map(g["outside"]).fillna(0).astype(int).to_numpy()
    # age groups: assumed spread like all residents within the wijk (documented in the module)
    for col in ("residents_65plus", "residents_0_5"):
        if col in wijken.columns:
            tot = pd.to_numeric(wijken[col], errors="coerce").to_numpy(dtype=float)
            per[f"{col}_{name}"] = tot * per[f"residents_{name}_share"].to_numpy(dtype=float)
