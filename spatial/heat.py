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

**Bounded memory** (:mod:`gezondestad.spatial.blocks`): the per-cell steps run strip by strip,
the park convolutions block by block with a halo of the park kernel's radius (5 d_cool), the
air mixing with a halo of the mixing kernel's radius; the result equals the whole-raster
computation (FFT round-off aside). The convolutions are float64 inside a block; the rasters of
:class:`HeatResult` are float32 (CC, HM, GA and the heat index are 0-1 values or hectares, T_air
is kept to ~2e-6 degC).
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
from gezondestad.spatial.blocks import (
    KernelBank,
    ZonePercentile,
    blocked_convolve_normalized,
    ZoneStats,
    convolution_tol,
    convolve_spectrum,
    fft_shape,
    iter_blocks,
    iter_strips,
    spectrum,
    zone_block,
    zone_shapes,
)
from gezondestad.spatial.raster import (
    RasterError,
    check_landcover,
    disk_kernel,
    exponential_kernel,
    gaussian_kernel,
    read_aligned,
    sample_at_points,
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
            "heat_class": np.where(self.heat_class > 0, self.heat_class, np.float32(np.nan)).astype(np.float32, copy=False),
        }


def class_counts(lc: LandCover) -> np.ndarray:
    """Number of cells of every class code 0-255 (strip by strip: no full-raster int64 copy)."""
    counts = np.zeros(256, dtype=np.int64)
    for s in iter_strips(lc.shape):
        counts += np.bincount(np.asarray(lc.classes[s.core], dtype=np.uint8).ravel(), minlength=256)
    return counts


def class_luts(lc: LandCover, table: pd.DataFrame, columns: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    """Lookup tables (256 values, NaN for absent codes) of ``columns`` by land-cover class.

    ``lut[lc.classes]`` gives the per-cell values; used block by block to avoid full-raster
    float64 copies of every coefficient.

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
    present = np.flatnonzero(class_counts(lc))
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
        out[c] = lut
    return out


def class_lookup(
    lc: LandCover, table: pd.DataFrame, columns: tuple[str, ...], what: str
) -> dict[str, np.ndarray]:
    """Per-cell arrays of ``columns`` looked up by land-cover class (see :func:`class_luts`)."""
    return {c: lut[lc.classes] for c, lut in class_luts(lc, table, columns, what).items()}


def _et0_source(et0: float | np.ndarray | str | None, lc: LandCover, p: HeatParams) -> float | np.ndarray:
    """ET0 (mm/day) as a constant or an array on the land-cover grid."""
    if et0 is None:
        et0 = p.et0_mm
    if isinstance(et0, (int, float, np.floating)):
        if not float(et0) > 0:
            raise HeatInputError(f"ET0 must be > 0 mm, got {et0}.")
        return float(et0)
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


def _check_heat_params(p: HeatParams) -> None:
    if p.uhi_max_c <= 0:
        raise HeatInputError(f"uhi_max_c must be > 0 degC (the city is warmer than its rural reference), got {p.uhi_max_c}.")
    if p.green_area_cooling_distance_m < 0 or p.t_air_average_radius_m < 0:
        raise HeatInputError("green_area_cooling_distance_m and t_air_average_radius_m must be >= 0.")
    if p.cc_method not in ("factors", "intensity"):
        raise HeatInputError(f"cc_method must be 'factors' or 'intensity', got '{p.cc_method}'.")
    if p.cc_method == "factors" and p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti <= 0:
        raise HeatInputError("The CC weights must sum to more than 0.")


def _et_max(et0: float | np.ndarray, valid: np.ndarray) -> float:
    """Largest ET0 over the valid cells (ETmax of the ETI), strip by strip."""
    if not isinstance(et0, np.ndarray):
        return float(et0)
    et_max = -np.inf
    for s in iter_strips(valid.shape):
        e = et0[s.core][valid[s.core] & np.isfinite(et0[s.core])]
        if e.size:
            et_max = max(et_max, float(e.max()))
    if not np.isfinite(et_max):
        raise HeatInputError("ET0 has no data inside the study area.")
    if et_max <= 0:
        raise HeatInputError(f"The largest ET0 in the study area is {et_max}; ET0 must be > 0.")
    return et_max


def _cc_pass(lc: LandCover, p: HeatParams, et0: float | np.ndarray | str | None, out: dict[str, np.ndarray], extras: bool) -> np.ndarray:
    """Steps 1-2 strip by strip: fills ``out['cc']`` (and ``eti``), returns the valid mask; ``out['green']`` = green cells."""
    valid = lc.classes != 0
    cols = HEAT_COLUMNS if p.cc_method == "factors" else ("kc", "green_area", "building_intensity")
    lut = class_luts(lc, p.biophysical, cols, "biophysical")
    green = out["green"]
    if p.cc_method == "factors":
        et0_src = _et0_source(et0, lc, p)
        et_max = _et_max(et0_src, valid)
        wsum = p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti
    for s in iter_strips(lc.shape):
        cls = lc.classes[s.core]
        v = valid[s.core]
        if p.cc_method == "factors":
            e = et0_src[s.core] if isinstance(et0_src, np.ndarray) else et0_src
            eti = lut["kc"][cls] * e / et_max
            cc = (p.cc_weight_shade * lut["shade"][cls] + p.cc_weight_albedo * lut["albedo"][cls] + p.cc_weight_eti * eti) / wsum
        else:
            eti = np.full(cls.shape, np.nan)
            cc = 1.0 - lut["building_intensity"][cls]
        v &= np.isfinite(cc)
        out["cc"][s.core] = np.where(v, cc, np.nan)
        if extras:
            out["eti"][s.core] = np.where(v, eti, np.nan)
        green[s.core] = v & (lut["green_area"][cls] > 0)
    return valid


def _patch_rule(green: np.ndarray, p: HeatParams, res: float) -> None:
    """Keep only green cells in contiguous patches >= ``green_patch_min_ha`` (in place)."""
    if p.green_patch_min_ha > 0 and green.any():
        labels, n = ndimage.label(green, structure=np.ones((3, 3), dtype=bool))
        sizes_ha = np.bincount(labels.ravel(), minlength=n + 1) * res * res / 1e4
        big = sizes_ha >= p.green_patch_min_ha - 1e-9
        big[0] = False
        green[:] = big[labels]
        del labels


def _max_abs(arr: np.ndarray, mask: np.ndarray) -> float:
    m = 0.0
    for s in iter_strips(arr.shape):
        a = arr[s.core][mask[s.core]]
        if a.size:
            m = max(m, float(np.nanmax(np.abs(a.astype(np.float64)))))
    return m


def _park_pass(lc: LandCover, p: HeatParams, valid: np.ndarray, out: dict[str, np.ndarray], extras: bool, block_cells: int | None) -> None:
    """Steps 3-4 block by block (halo = 5 d_cool): ``cc_park``, ``green_area_ha``, ``park_cooled``, ``hm``."""
    res = float(lc.resolution_m)
    d_px = int(np.round(p.green_area_cooling_distance_m / res))
    kexp, disk = exponential_kernel(d_px, 5 * d_px), disk_kernel(d_px)
    bank = KernelBank(exp=kexp, disk=disk)
    green, cc = out["green"], out["cc"]
    any_valid, any_green = bool(valid.any()), bool(green.any())
    tol_num = convolution_tol(_max_abs(cc, green), kexp)
    tol_den = convolution_tol(float(any_valid), kexp)
    tol_nv = convolution_tol(float(any_valid), disk)
    tol_ng = convolution_tol(float(any_green), disk)
    disk_sum = float(disk.sum())
    for blk in iter_blocks(lc.shape, bank.radius(), block_cells):
        shape = fft_shape(blk.window_shape)
        v = blk.window(valid, False)
        g = blk.window(green, False)
        spec = spectrum(v.astype(np.float64), shape)
        den = convolve_spectrum(spec, bank, "exp", shape, blk, tol_den)
        n_valid = convolve_spectrum(spec, bank, "disk", shape, blk, tol_nv)
        spec = spectrum(np.where(g, blk.window(cc, np.nan, np.float64), 0.0), shape)
        num = convolve_spectrum(spec, bank, "exp", shape, blk, tol_num)
        spec = spectrum(g.astype(np.float64), shape)
        n_green = convolve_spectrum(spec, bank, "disk", shape, blk, tol_ng)
        del spec, g
        vi = v[blk.inner]
        ci = cc[blk.core].astype(np.float64)
        cc_park = np.full(num.shape, np.nan)
        ok = den > 1e-12
        cc_park[ok] = num[ok] / den[ok]
        # GA_i: green cells within d_cool, edge-corrected like pygeoprocessing.convolve_2d(ignore_nodata_and_edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            ga_cells = np.where(n_valid > 1e-9, n_green / n_valid * disk_sum, 0.0)
        ga_ha = np.where(vi, ga_cells * res * res / 1e4, np.nan)
        with np.errstate(invalid="ignore"):
            cooled = vi & (ga_ha >= p.green_area_min_ha - 1e-9) & (cc_park > ci)
        out["green_area_ha"][blk.core] = ga_ha
        out["park_cooled"][blk.core] = cooled
        out["hm"][blk.core] = np.where(vi, np.where(cooled, cc_park, ci), np.nan)
        if extras:
            out["cc_park"][blk.core] = np.where(vi, cc_park, np.nan)


def _air_pass(lc: LandCover, p: HeatParams, valid: np.ndarray, out: dict[str, np.ndarray], block_cells: int | None) -> None:
    """Step 5 block by block (halo = mixing-kernel radius): ``t_air_nomix`` and ``t_air``."""
    kmix = _mixing_kernel(p, float(lc.resolution_m))
    bank = KernelBank(mix=kmix)
    hm = out["hm"]
    for s in iter_strips(lc.shape):
        out["t_air_nomix"][s.core] = p.t_ref_c + (1.0 - hm[s.core].astype(np.float64)) * p.uhi_max_c
    hmin, hmax = np.inf, -np.inf
    for s in iter_strips(lc.shape):
        h = hm[s.core][valid[s.core]]
        if h.size:
            hmin, hmax = min(hmin, float(np.nanmin(h))), max(hmax, float(np.nanmax(h)))
    tmax = max(abs(p.t_ref_c + (1.0 - hmin) * p.uhi_max_c), abs(p.t_ref_c + (1.0 - hmax) * p.uhi_max_c)) if hmin <= hmax else 0.0
    tol_num = convolution_tol(tmax, kmix)
    tol_den = convolution_tol(float(valid.any()), kmix)
    for blk in iter_blocks(lc.shape, bank.radius(), block_cells):
        shape = fft_shape(blk.window_shape)
        v = blk.window(valid, False)
        h = blk.window(hm, np.nan, np.float64)
        t = np.where(v, p.t_ref_c + (1.0 - h) * p.uhi_max_c, 0.0)
        del h
        num = convolve_spectrum(spectrum(t, shape), bank, "mix", shape, blk, tol_num)
        den = convolve_spectrum(spectrum(v.astype(np.float64), shape), bank, "mix", shape, blk, tol_den)
        t_air = np.full(num.shape, np.nan)
        ok = (den > 1e-12) & v[blk.inner]
        t_air[ok] = num[ok] / den[ok]
        out["t_air"][blk.core] = t_air


def heat_maps(
    lc: LandCover,
    params: HeatParams | None = None,
    et0: float | np.ndarray | str | None = None,
    *,
    dtype: np.dtype | type = np.float64,
    block_cells: int | None = None,
    extras: bool = True,
) -> dict[str, np.ndarray]:
    """The per-cell InVEST Urban Cooling rasters (see module docstring for the equations).

    Computed in blocks (:mod:`gezondestad.spatial.blocks`): per-cell steps strip by strip, the
    park-cooling convolutions with a halo of 5 d_cool, the air mixing with a halo of the mixing
    kernel's radius; the result equals the whole-raster computation (FFT round-off aside) and
    peak memory beyond the output rasters is bounded by one block.

    Parameters
    ----------
    lc : LandCover
    params : HeatParams, optional
    et0 : float, ndarray or path, optional
    dtype : numpy dtype
        Of the float output rasters: float64 (default) or float32 (what :func:`heat_layer` keeps:
        CC, HM, GA and the indices are 0-1 or hectares, T_air within 4e-6 degC).
    block_cells : int, optional
        Largest block core side in cells (default: window of 2,048 cells minus the halo).
    extras : bool
        Also return ``eti`` and ``cc_park``.

    Returns
    -------
    dict with ``cc``, ``green`` (park cells g_j), ``green_area_ha``, ``park_cooled``, ``hm``,
    ``t_air_nomix``, ``t_air`` (NaN outside the study area), and ``eti``, ``cc_park`` when
    ``extras``.
    """
    p = params or HeatParams.from_norms()
    check_landcover(lc)
    _check_heat_params(p)
    shape = lc.shape
    names = ["cc", "green_area_ha", "hm", "t_air_nomix", "t_air"] + (["eti", "cc_park"] if extras else [])
    # every cell of these is written by a pass below; np.empty leaves the pages untouched until then
    out: dict[str, np.ndarray] = {k: np.empty(shape, dtype=dtype) for k in names}
    out["green"] = np.zeros(shape, dtype=bool)
    out["park_cooled"] = np.zeros(shape, dtype=bool)
    valid = _cc_pass(lc, p, et0, out, extras)
    _patch_rule(out["green"], p, float(lc.resolution_m))
    _park_pass(lc, p, valid, out, extras, block_cells)
    _air_pass(lc, p, valid, out, block_cells)
    return out


def heat_layer(
    landcover: LandCover,
    wijken: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame | None = None,
    params: HeatParams | None = None,
    et0: float | np.ndarray | str | None = None,
    *,
    progress: Progress | None = None,
    block_cells: int | None = None,
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
    block_cells : int, optional
        Largest block core side in cells (:func:`heat_maps`); the rasters of the result are float32.

    Returns
    -------
    HeatResult
    """
    p = params or HeatParams.from_norms()
    if wijken is None or len(wijken) == 0:
        raise HeatInputError("heat_layer needs wijken (polygons with wijk_code) for the per-wijk table.")
    if "wijk_code" not in wijken.columns:
        raise HeatInputError("The wijken layer needs a 'wijk_code' column.")
    breaks = np.asarray(p.heat_class_breaks, dtype=float)
    if breaks.size == 0 or np.any(np.diff(breaks) <= 0):
        raise HeatInputError(f"heat_class_breaks must be increasing, got {list(breaks)}.")
    shapes = zone_shapes(wijken, landcover)
    steps = Steps(progress, {"model": "hittemodel (InVEST Urban Cooling)", "aggregate": "per wijk samenvatten"})
    m = heat_maps(landcover, p, et0, dtype=np.float32, block_cells=block_cells, extras=False)
    steps.done("model")
    n = len(wijken)
    heat_index = np.full(landcover.shape, np.nan, dtype=np.float32)
    heat_class = np.zeros(landcover.shape, dtype=np.uint8)
    hot = np.zeros(landcover.shape, dtype=bool)
    st, pct = ZoneStats(n), ZonePercentile(n)
    for s in iter_strips(landcover.shape):
        t_air = m["t_air"][s.core].astype(np.float64)
        v = np.isfinite(m["hm"][s.core])
        hi = np.where(v, (t_air - p.t_ref_c) / p.uhi_max_c, np.nan)
        heat_index[s.core] = hi
        heat_class[s.core] = np.where(v, np.digitize(np.nan_to_num(hi), breaks) + 1, 0)
        with np.errstate(invalid="ignore"):
            hot[s.core] = h = v & (hi >= breaks[-1])
        z = zone_block(shapes, landcover, s)
        st.count("cells", z, v)
        st.count("hot", z, h)
        st.add("heat_index", z, hi)
        st.add("t_air", z, t_air)
        st.add("cc", z, m["cc"][s.core])
        st.add("hm", z, m["hm"][s.core])
        pct.add(z, heat_index[s.core])
    per = pd.DataFrame(
        {
            "wijk_code": wijken["wijk_code"].astype("object").to_numpy(),
            "wijk_naam": wijken["wijk_naam"].astype("object").to_numpy() if "wijk_naam" in wijken else None,
        }
    )
    per["cells"] = st.n_cells("cells")
    per["heat_index_mean"] = st.mean("heat_index")
    per["heat_index_p90"] = pct.percentile(90.0)
    del pct
    per["t_air_mean"] = st.mean("t_air")
    per["t_anomaly_mean"] = per["t_air_mean"] - p.t_ref_c
    per["cc_mean"] = st.mean("cc")
    per["hm_mean"] = st.mean("hm")
    with np.errstate(invalid="ignore", divide="ignore"):
        per["area_hot_share"] = np.where(per["cells"] > 0, st.n_cells("hot") / per["cells"].clip(lower=1), np.nan)
    _residents_columns(per, wijken, homes, hot, np.isfinite(m["hm"]), landcover, "hot")
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
    share = blocked_convolve_normalized(cls == TREES, valid, disk_kernel(r / float(landcover.resolution_m)))
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
        inside = sample_at_points(valid, lc, h) == 1
        f = np.where(inside, sample_at_points(flag, lc, h), np.nan)
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
