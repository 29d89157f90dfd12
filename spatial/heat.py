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

**Bounded memory** (:mod:`gezondestad.spatial.blocks`): every step runs block by block: the
park-cell patch rule with a halo of the smallest patch's cells (exact, see :func:`_green_pass`),
the park convolutions with a halo of the park kernel's radius (5 d_cool), the air mixing with a
halo of the mixing kernel's radius; the result equals the whole-raster computation (FFT
round-off aside). The convolutions are float64 inside a block; the rasters of
:class:`HeatResult` are float32 (CC, HM, GA and the heat index are 0-1 values or hectares, T_air
is kept to ~2e-6 degC). :func:`heat_to_geotiff` runs the same blocks but reads the land cover by
windows from its file and writes each block straight to the GeoTIFF and the per-wijk sums
(intermediate rasters in scratch files, the 90th percentile exact in two passes), so its
memory does not grow with the raster.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from gezondestad.model.landcover import LANDCOVER_CLASSES, NODATA, TREES
from gezondestad.model.params import Params, floats, norm, table
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.result import RasterFileResult
from gezondestad.model.studyarea import LandCover
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.blocks import (
    ArrayRaster,
    Block,
    GeoTiffBands,
    KernelBank,
    LandCoverFile,
    PointSampler,
    ScratchRaster,
    Sink,
    ZoneQuantile,
    ZoneStats,
    blocked_convolve_normalized,
    common_fft_shape,
    class_source,
    convolution_tol,
    convolve_spectrum,
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
)
from scipy import ndimage

Store = ArrayRaster | ScratchRaster
"""An intermediate raster read back by windows: in memory, or in a scratch file."""

BlockHook = Callable[[Block, np.ndarray, np.ndarray], None]
"""Called with (block, one core raster, another) after each block of a pass."""


class HeatInputError(RasterError):
    """Bad input for the heat layer (unknown class, no data, bad parameter)."""


HEAT_COLUMNS: tuple[str, ...] = ("shade", "kc", "albedo", "green_area", "building_intensity")


@dataclass(frozen=True)
class HeatParams(Params):
    """Parameters of the heat layer; ``HeatParams.from_norms(norms_dir, **overrides)`` reads and checks them.

    Keys, units and ranges are checked on load (:mod:`gezondestad.model.params`; a Dutch
    :class:`~gezondestad.model.norms.NormError` names the file and key).

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
    canopy_walk_radius_m : float
        Radius of the tree-canopy share around a home (3-30-300 rule).
    biophysical : DataFrame
        One row per land-cover class (``lucode`` + :data:`HEAT_COLUMNS`).
    """

    FAMILY: ClassVar[str] = "heat"
    cc_method: str = norm("cc_method", "", kind=str)
    cc_weight_shade: float = norm("cc_weight_shade", "weight", min_value=0.0)
    cc_weight_albedo: float = norm("cc_weight_albedo", "weight", min_value=0.0)
    cc_weight_eti: float = norm("cc_weight_eti", "weight", min_value=0.0)
    et0_mm: float = norm("et0_mm", "mm/day", min_value=0.0)
    green_area_cooling_distance_m: float = norm("green_area_cooling_distance_m", "m", min_value=0.0)
    green_area_min_ha: float = norm("green_area_min_ha", "ha", min_value=0.0)
    green_patch_min_ha: float = norm("green_patch_min_ha", "ha", min_value=0.0)
    t_air_average_radius_m: float = norm("t_air_average_radius_m", "m", min_value=0.0)
    air_mixing_kernel: str = norm("air_mixing_kernel", "", kind=str)
    t_ref_c: float = norm("t_ref_c", "degC", min_value=-60.0, max_value=60.0)
    uhi_max_c: float = norm("uhi_max_c", "degC", min_value=0.0, max_value=20.0)
    heat_class_breaks: tuple[float, ...] = norm("heat_class_breaks", "heat index (0-1)", kind=floats, min_value=0.0, max_value=1.0)
    canopy_walk_radius_m: float = norm("canopy_walk_radius_m", "m", min_value=0.0)
    biophysical: pd.DataFrame = table("biophysical", ("lucode",))


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


HEAT_BANDS: tuple[str, ...] = ("heat_index", "t_air_c", "hm", "cc", "heat_class")
"""Bands of the heat GeoTIFF (:meth:`HeatResult.bands`, :func:`heat_to_geotiff`)."""


@dataclass
class HeatFileResult(RasterFileResult[HeatParams]):
    """Output of :func:`heat_to_geotiff`: the per-wijk table (as :attr:`HeatResult.per_wijk`); the
    rasters are the bands :data:`HEAT_BANDS` of the GeoTIFF ``path``."""

    BANDS: ClassVar[tuple[str, ...]] = HEAT_BANDS


LandCoverLike = LandCover | LandCoverFile
"""A land cover in memory or a land-cover GeoTIFF read by windows."""


def class_counts(lc: LandCoverLike) -> np.ndarray:
    """Number of cells of every class code 0-255 (strip by strip: no full-raster copy)."""
    src = class_source(lc)
    counts = np.zeros(256, dtype=np.int64)
    for s in iter_strips(lc.shape):
        counts += np.bincount(np.asarray(src.read(s), dtype=np.uint8).ravel(), minlength=256)
    return counts


def class_luts(lc: LandCoverLike, table: pd.DataFrame, columns: tuple[str, ...], what: str,
               counts: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Lookup tables (256 values, NaN for absent codes) of ``columns`` by land-cover class.

    ``lut[lc.classes]`` gives the per-cell values; used block by block to avoid full-raster
    float64 copies of every coefficient. ``counts`` (:func:`class_counts`) saves a pass.

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
    present = np.flatnonzero(class_counts(lc) if counts is None else counts)
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


def check_counts(lc: LandCoverLike, counts: np.ndarray) -> None:
    """The grid checks of :func:`check_landcover` (all of them in memory; every cell nodata for a file)."""
    if isinstance(lc, LandCover):
        check_landcover(lc)
    elif counts[1:].sum() == 0:
        raise RasterError(f"Het raster {lc.path} bevat enkel nodata (klasse 0) in alle {counts.sum()} cellen.")


def _et0_source(et0: float | np.ndarray | str | None, lc: LandCoverLike, p: HeatParams) -> float | np.ndarray:
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
    return read_aligned(et0, lc, what="ET0 raster")  # type: ignore[arg-type]  # a LandCoverFile has .classes too


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
    if p.cc_method not in ("factors", "intensity"):
        raise HeatInputError(f"cc_method must be 'factors' or 'intensity', got '{p.cc_method}'.")
    if p.cc_method == "factors" and p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti <= 0:
        raise HeatInputError("The CC weights must sum to more than 0.")


@dataclass
class _CC:
    """Steps 1-2 for any window: class lookup tables, ET0 (constant or raster) and ETmax."""

    p: HeatParams
    lut: dict[str, np.ndarray]
    et0: float | ArrayRaster
    et_max: float
    _tabs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _cc_eti(self, cls: np.ndarray, e: float | np.ndarray) -> tuple[np.ndarray | float, np.ndarray | float]:
        p, lut = self.p, self.lut
        if p.cc_method != "factors":
            return 1.0 - lut["building_intensity"][cls], np.nan
        eti = lut["kc"][cls] * e / self.et_max
        wsum = p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti
        return (p.cc_weight_shade * lut["shade"][cls] + p.cc_weight_albedo * lut["albedo"][cls] + p.cc_weight_eti * eti) / wsum, eti

    def window(self, cls: np.ndarray, blk: Block, eti: bool = True) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(CC, ETI or None, green) of the window of ``blk``: NaN / False outside the valid cells.

        With a constant ET0 every value depends on the class only: one lookup per cell in
        tables computed once for the 256 codes (the same float64 operations, so the same numbers).
        """
        if not isinstance(self.et0, ArrayRaster):
            if self._tabs is None:
                codes = np.arange(256)
                cc_t, eti_t = self._cc_eti(codes, self.et0)
                cc_t = np.broadcast_to(cc_t, (256,)).astype(np.float64)
                ok = (codes != 0) & np.isfinite(cc_t)
                self._tabs = (np.where(ok, cc_t, np.nan), np.where(ok, np.broadcast_to(eti_t, (256,)), np.nan),
                              ok & (self.lut["green_area"] > 0))
            return self._tabs[0][cls], self._tabs[1][cls] if eti else None, self._tabs[2][cls]
        e = self.et0.window(blk, np.nan, np.float64)
        cc, et = self._cc_eti(cls, e)
        v = (cls != 0) & np.isfinite(cc)
        return (np.where(v, cc, np.nan), np.where(v, et, np.nan) if eti else None, v & (self.lut["green_area"][cls] > 0))


def _cc_setup(lc: LandCoverLike, p: HeatParams, et0: float | np.ndarray | str | None) -> _CC:
    """Check the grid, build the lookup tables and find ETmax (one strip pass over the classes)."""
    counts = class_counts(lc)
    check_counts(lc, counts)
    cols = HEAT_COLUMNS if p.cc_method == "factors" else ("kc", "green_area", "building_intensity")
    lut = class_luts(lc, p.biophysical, cols, "biophysical", counts)
    if p.cc_method != "factors":
        return _CC(p, lut, 1.0, 1.0)
    src = _et0_source(et0, lc, p)
    if not isinstance(src, np.ndarray):
        return _CC(p, lut, src, src)
    classes, et_max = class_source(lc), -np.inf
    for s in iter_strips(lc.shape):
        e = src[s.core][(classes.read(s) != 0) & np.isfinite(src[s.core])]
        if e.size:
            et_max = max(et_max, float(e.max()))
    if not np.isfinite(et_max):
        raise HeatInputError("ET0 has no data inside the study area.")
    if et_max <= 0:
        raise HeatInputError(f"The largest ET0 in the study area is {et_max}; ET0 must be > 0.")
    return _CC(p, lut, ArrayRaster(src), et_max)


def _min_patch_cells(p: HeatParams, res: float) -> int:
    """Fewest cells of a green patch of at least ``green_patch_min_ha`` (0: no patch rule)."""
    if p.green_patch_min_ha <= 0:
        return 0
    n = max(1, int(np.floor((p.green_patch_min_ha - 1e-9) * 1e4 / (res * res))) - 1)
    while n * res * res / 1e4 < p.green_patch_min_ha - 1e-9:
        n += 1
    return n


def _green_pass(src: ArrayRaster | LandCoverFile, c: _CC, res: float, green: Store, block_cells: int | None, align: int) -> tuple[bool, bool, float]:
    """Park cells g_j into ``green``; returns (any valid cell, any park cell, max |CC| on park cells).

    The patch rule (contiguous green patches >= ``green_patch_min_ha``, 8-connected) is applied
    per window with a halo of ``n_min - 1`` cells (``n_min`` = cells of the smallest patch): a
    patch cut by the window's outer ring runs from the core to that ring, so it has at least
    ``halo + 1 = n_min`` cells inside the window and counts as large, which it is; a patch not
    cut lies wholly in the window and is counted exactly. The result is the whole-raster labelling.
    """
    n_min = _min_patch_cells(c.p, res)
    any_valid, any_green, cc_max = False, False, 0.0
    for blk in iter_blocks(src.shape, max(n_min - 1, 0), block_cells, align):
        cc, _, g = c.window(src.window(blk, 0), blk, eti=False)
        if n_min > 1 and g.any():
            labels, n = ndimage.label(g, structure=np.ones((3, 3), dtype=bool))
            big = np.bincount(labels.ravel(), minlength=n + 1) >= n_min
            big[0] = False
            g = big[labels]
            del labels
        gi, ci = g[blk.inner], cc[blk.inner]
        green.write(blk, gi)
        any_valid = any_valid or bool(np.isfinite(ci).any())
        if gi.any():
            any_green, cc_max = True, max(cc_max, float(np.abs(ci[gi]).max()))
    return any_valid, any_green, cc_max


def _put(sinks: dict[str, Sink], blk: Block, **values: np.ndarray) -> None:
    for k, v in values.items():
        if k in sinks:
            sinks[k].write(blk, v)


def _park_pass(src: ArrayRaster | LandCoverFile, c: _CC, res: float, green: Store, hm: Store, sinks: dict[str, Sink],
               flags: tuple[bool, bool, float], block_cells: int | None, align: int, on_block: BlockHook | None) -> tuple[float, float]:
    """Steps 3-4 block by block (halo = 5 d_cool): HM into ``hm``; returns the smallest and largest HM."""
    p = c.p
    d_px = int(np.round(p.green_area_cooling_distance_m / res))
    kexp, disk = exponential_kernel(d_px, 5 * d_px), disk_kernel(d_px)
    bank = KernelBank(exp=kexp, disk=disk)
    any_valid, any_green, cc_max = flags
    tol_num, tol_den = convolution_tol(cc_max, kexp), convolution_tol(float(any_valid), kexp)
    tol_nv, tol_ng = convolution_tol(float(any_valid), disk), convolution_tol(float(any_green), disk)
    disk_sum, hmin, hmax = float(disk.sum()), np.inf, -np.inf
    blocks = list(iter_blocks(src.shape, bank.radius(), block_cells, align))
    shape = common_fft_shape(blocks, src.shape)
    for blk in blocks:
        ccw, etiw, _ = c.window(src.window(blk, 0), blk, eti="eti" in sinks)
        v = np.isfinite(ccw)
        spec = spectrum(v.astype(np.float64), shape)
        den = convolve_spectrum(spec, bank, "exp", shape, blk, tol_den)
        n_valid = convolve_spectrum(spec, bank, "disk", shape, blk, tol_nv)
        g = green.window(blk, False, bool)
        spec = spectrum(np.where(g, ccw, 0.0), shape)
        num = convolve_spectrum(spec, bank, "exp", shape, blk, tol_num)
        spec = spectrum(g.astype(np.float64), shape)
        del g
        n_green = convolve_spectrum(spec, bank, "disk", shape, blk, tol_ng)
        del spec
        vi, ci, eti = v[blk.inner], ccw[blk.inner], (etiw[blk.inner] if etiw is not None else None)
        del v, ccw, etiw
        cc_park = np.full(num.shape, np.nan)
        ok = den > 1e-12
        cc_park[ok] = num[ok] / den[ok]
        # GA_i: green cells within d_cool, edge-corrected like pygeoprocessing.convolve_2d(ignore_nodata_and_edges)
        with np.errstate(invalid="ignore", divide="ignore"):
            ga_cells = np.where(n_valid > 1e-9, n_green / n_valid * disk_sum, 0.0)
        ga_ha = np.where(vi, ga_cells * res * res / 1e4, np.nan)
        with np.errstate(invalid="ignore"):
            cooled = vi & (ga_ha >= p.green_area_min_ha - 1e-9) & (cc_park > ci)
        h = np.where(vi, np.where(cooled, cc_park, ci), np.nan)
        hm.write(blk, h)
        _put(sinks, blk, cc=ci, hm=h, green_area_ha=ga_ha, park_cooled=cooled, cc_park=np.where(vi, cc_park, np.nan))
        if eti is not None:
            _put(sinks, blk, eti=eti)
        if on_block is not None:
            on_block(blk, ci, h)
        if vi.any():
            hmin, hmax = min(hmin, float(np.nanmin(h[vi]))), max(hmax, float(np.nanmax(h[vi])))
    return hmin, hmax


def _air_pass(shape: tuple[int, int], p: HeatParams, res: float, hm: Store, sinks: dict[str, Sink], hm_range: tuple[float, float],
              any_valid: bool, block_cells: int | None, align: int, on_block: BlockHook | None) -> None:
    """Step 5 block by block (halo = mixing-kernel radius): ``t_air_nomix`` and ``t_air``."""
    kmix = _mixing_kernel(p, res)
    bank = KernelBank(mix=kmix)
    hmin, hmax = hm_range
    tmax = max(abs(p.t_ref_c + (1.0 - hmin) * p.uhi_max_c), abs(p.t_ref_c + (1.0 - hmax) * p.uhi_max_c)) if hmin <= hmax else 0.0
    tol_num, tol_den = convolution_tol(tmax, kmix), convolution_tol(float(any_valid), kmix)
    blocks = list(iter_blocks(shape, bank.radius(), block_cells, align))
    fshape = common_fft_shape(blocks, shape)
    for blk in blocks:
        h = hm.window(blk, np.nan, np.float64)
        v = np.isfinite(h)
        t = np.where(v, p.t_ref_c + (1.0 - h) * p.uhi_max_c, 0.0)
        num = convolve_spectrum(spectrum(t, fshape), bank, "mix", fshape, blk, tol_num)
        den = convolve_spectrum(spectrum(v.astype(np.float64), fshape), bank, "mix", fshape, blk, tol_den)
        vi = v[blk.inner]
        t_air = np.full(num.shape, np.nan)
        ok = (den > 1e-12) & vi
        t_air[ok] = num[ok] / den[ok]
        _put(sinks, blk, t_air=t_air)
        if "t_air_nomix" in sinks:
            _put(sinks, blk, t_air_nomix=p.t_ref_c + (1.0 - h[blk.inner]) * p.uhi_max_c)
        if on_block is not None:
            on_block(blk, t_air, vi)


def _heat_model(lc: LandCoverLike, p: HeatParams, et0: float | np.ndarray | str | None, *, sinks: dict[str, Sink], green: Store,
                hm: Store, block_cells: int | None, on_park: BlockHook | None = None, on_air: BlockHook | None = None) -> None:
    """Steps 1-5 block by block, writing the core of every block to ``sinks`` (see :func:`heat_maps`)."""
    _check_heat_params(p)
    c = _cc_setup(lc, p, et0)
    src, res = class_source(lc), float(lc.resolution_m)
    align = 1  # blocks need not follow the GeoTIFF tiles (GDAL's cache joins split tiles)
    flags = _green_pass(src, c, res, green, block_cells, align)
    hm_range = _park_pass(src, c, res, green, hm, sinks, flags, block_cells, align, on_park)
    _air_pass(lc.shape, p, res, hm, sinks, hm_range, flags[0], block_cells, align, on_air)


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

    Computed in blocks (:mod:`gezondestad.spatial.blocks`): the park-cell patch rule with a halo
    of the smallest patch's cells, the park-cooling convolutions with a halo of 5 d_cool, the
    air mixing with a halo of the mixing kernel's radius; the result equals the whole-raster
    computation (FFT round-off aside) and peak memory beyond the output rasters is one block.

    Parameters
    ----------
    lc : LandCover
    params : HeatParams, optional
    et0 : float, ndarray or path, optional
    dtype : numpy dtype
        Of the float output rasters: float64 (default) or float32 (what :func:`heat_layer` keeps:
        CC, HM, GA and the indices are 0-1 or hectares, T_air within 4e-6 degC).
    block_cells : int, optional
        Largest block core side in cells (default: windows of at most 1,664² cells).
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
    names = ["cc", "green_area_ha", "hm", "t_air_nomix", "t_air"] + (["eti", "cc_park"] if extras else [])
    # every cell of these is written by a pass below; np.empty leaves the pages untouched until then
    out: dict[str, np.ndarray] = {k: np.empty(lc.shape, dtype=dtype) for k in names}
    out["green"] = np.zeros(lc.shape, dtype=bool)
    out["park_cooled"] = np.zeros(lc.shape, dtype=bool)
    sinks: dict[str, Sink] = {k: ArrayRaster(v) for k, v in out.items() if k != "green"}
    _heat_model(lc, p, et0, sinks=sinks, green=ArrayRaster(out["green"]), hm=ArrayRaster(out["hm"]), block_cells=block_cells)
    return out


def _check_wijken(wijken: gpd.GeoDataFrame, p: HeatParams) -> np.ndarray:
    """The heat class breaks, after checking the wijken and the breaks."""
    if wijken is None or len(wijken) == 0:
        raise HeatInputError("heat_layer needs wijken (polygons with wijk_code) for the per-wijk table.")
    if "wijk_code" not in wijken.columns:
        raise HeatInputError("The wijken layer needs a 'wijk_code' column.")
    breaks = np.asarray(p.heat_class_breaks, dtype=float)
    if breaks.size == 0 or np.any(np.diff(breaks) <= 0):
        raise HeatInputError(f"heat_class_breaks must be increasing, got {list(breaks)}.")
    return breaks


class _HeatTable:
    """Heat index, classes and the per-wijk table, gathered block by block (park pass, then air pass)."""

    def __init__(self, lc: LandCoverLike, wijken: gpd.GeoDataFrame, homes: gpd.GeoDataFrame | None, p: HeatParams,
                 sinks: dict[str, Sink], hi_store: Store) -> None:
        self.lc, self.wijken, self.p, self.sinks, self.hi_store = lc, wijken, p, sinks, hi_store
        self.breaks = _check_wijken(wijken, p)
        self.shapes = zone_shapes(wijken, lc)
        n = len(wijken)
        self.st, self.q90 = ZoneStats(n), ZoneQuantile(n, 90.0)
        self.homes = homes_with_wijk(homes, wijken)
        self.at_homes = PointSampler(lc, self.homes)

    def park(self, blk: Block, cc: np.ndarray, hm: np.ndarray) -> None:
        z = zone_block(self.shapes, self.lc, blk)
        self.st.add("cc", z, cc)
        self.st.add("hm", z, hm)

    def air(self, blk: Block, t_air: np.ndarray, v: np.ndarray) -> None:
        p, breaks = self.p, self.breaks
        hi = np.where(v, (t_air - p.t_ref_c) / p.uhi_max_c, np.nan)
        hi32 = hi.astype(np.float32)
        heat_class = np.where(v, np.digitize(np.nan_to_num(hi), breaks) + 1, 0).astype(np.uint8)
        with np.errstate(invalid="ignore"):
            hot = v & (hi >= breaks[-1])
        z = zone_block(self.shapes, self.lc, blk)
        self.st.count("cells", z, v)
        self.st.count("hot", z, hot)
        self.st.add("heat_index", z, hi)
        self.st.add("t_air", z, t_air)
        self.q90.add(z, hi32)
        self.hi_store.write(blk, hi32)
        _put(self.sinks, blk, heat_index=hi32, heat_class=heat_class)
        self.at_homes.add("hot", blk, hot)
        self.at_homes.add("valid", blk, v)

    def table(self) -> pd.DataFrame:
        while self.q90.next_pass():  # further passes of the exact percentile
            for s in iter_strips(self.lc.shape):
                self.q90.refine(zone_block(self.shapes, self.lc, s), self.hi_store.read(s))
        wijken, st, p = self.wijken, self.st, self.p
        per = pd.DataFrame(
            {
                "wijk_code": wijken["wijk_code"].astype("object").to_numpy(),
                "wijk_naam": wijken["wijk_naam"].astype("object").to_numpy() if "wijk_naam" in wijken else None,
            }
        )
        per["cells"] = st.n_cells("cells")
        per["heat_index_mean"] = st.mean("heat_index")
        per["heat_index_p90"] = self.q90.result()
        per["t_air_mean"] = st.mean("t_air")
        per["t_anomaly_mean"] = per["t_air_mean"] - p.t_ref_c
        per["cc_mean"] = st.mean("cc")
        per["hm_mean"] = st.mean("hm")
        with np.errstate(invalid="ignore", divide="ignore"):
            per["area_hot_share"] = np.where(per["cells"] > 0, st.n_cells("hot") / per["cells"].clip(lower=1), np.nan)
        residents_columns(per, wijken, self.homes, self.at_homes.values("hot"), self.at_homes.values("valid") == 1, "hot")
        return per


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
    _check_wijken(wijken, p)
    check_landcover(landcover)
    steps = Steps(progress, {"model": "hittemodel (InVEST Urban Cooling)", "aggregate": "per wijk samenvatten"})
    shape = landcover.shape
    m = {k: np.empty(shape, dtype=np.float32) for k in ("cc", "green_area_ha", "hm", "t_air_nomix", "t_air")}
    m["park_cooled"] = np.zeros(shape, dtype=bool)
    m["heat_index"] = np.full(shape, np.nan, dtype=np.float32)
    m["heat_class"] = np.zeros(shape, dtype=np.uint8)
    sinks: dict[str, Sink] = {k: ArrayRaster(v) for k, v in m.items()}
    agg = _HeatTable(landcover, wijken, homes, p, sinks, ArrayRaster(m["heat_index"]))
    _heat_model(landcover, p, et0, sinks=sinks, green=ArrayRaster(np.zeros(shape, dtype=bool)), hm=ArrayRaster(m["hm"]),
                block_cells=block_cells, on_park=agg.park, on_air=agg.air)
    steps.done("model")
    per = agg.table()
    steps.done("aggregate")
    return HeatResult(
        landcover=landcover, cc=m["cc"], hm=m["hm"], t_air_nomix=m["t_air_nomix"], t_air=m["t_air"], heat_index=m["heat_index"],
        heat_class=m["heat_class"], park_cooled=m["park_cooled"], green_area_ha=m["green_area_ha"], per_wijk=per, params=p,
    )


class _ClassBand:
    """The heat class (uint8, 0 outside) as a float32 band with NaN outside."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    def write(self, blk: Block, values: np.ndarray) -> None:
        self.sink.write(blk, np.where(values > 0, values.astype(np.float32), np.float32(np.nan)))


def heat_to_geotiff(
    landcover: LandCoverLike,
    wijken: gpd.GeoDataFrame,
    out: str | os.PathLike,
    homes: gpd.GeoDataFrame | None = None,
    params: HeatParams | None = None,
    et0: float | np.ndarray | str | None = None,
    *,
    progress: Progress | None = None,
    block_cells: int | None = None,
) -> HeatFileResult:
    """:func:`heat_layer` streamed to a GeoTIFF: no raster is held whole in memory.

    The land cover is read by windows (a :class:`~gezondestad.spatial.blocks.LandCoverFile`, or
    an in-memory :class:`LandCover`), each block's core is written to the GeoTIFF ``out``
    (bands :data:`HEAT_BANDS`, tiled, deflate) and to the per-wijk sums as soon as it is
    computed; the intermediate rasters the next step reads with a halo (park cells, HM, heat
    index) go to scratch files on disk. Memory is bounded by one block, whatever the raster
    size. Same numbers as :func:`heat_layer` (same blocks, same float32 HM). An ET0 *raster*,
    when given, is still aligned whole in memory.

    Returns
    -------
    HeatFileResult
    """
    p = params or HeatParams.from_norms()
    _check_wijken(wijken, p)
    steps = Steps(progress, {"model": "hittemodel (InVEST Urban Cooling)", "aggregate": "per wijk samenvatten"})
    scratch = [ScratchRaster(landcover.shape, t) for t in (np.bool_, np.float32, np.float32)]
    try:
        with rasterio.Env(GDAL_CACHEMAX=32), GeoTiffBands(out, landcover, list(HEAT_BANDS)) as tif:
            sinks: dict[str, Sink] = {"heat_index": tif.sink("heat_index"), "t_air": tif.sink("t_air_c"), "hm": tif.sink("hm"),
                                      "cc": tif.sink("cc"), "heat_class": _ClassBand(tif.sink("heat_class"))}
            agg = _HeatTable(landcover, wijken, homes, p, sinks, scratch[2])
            _heat_model(landcover, p, et0, sinks=sinks, green=scratch[0], hm=scratch[1], block_cells=block_cells,
                        on_park=agg.park, on_air=agg.air)
            steps.done("model")
            per = agg.table()
            steps.done("aggregate")
    except BaseException:
        Path(out).unlink(missing_ok=True)  # no half-written GeoTIFF left behind
        raise
    finally:
        for s in scratch:
            s.close()
    return HeatFileResult(Path(out), per, p, landcover.shape, float(landcover.resolution_m))


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
    r = float(radius_m if radius_m is not None else HeatParams.from_norms().canopy_walk_radius_m)
    cls = landcover.classes
    valid = cls != NODATA
    share = blocked_convolve_normalized(cls == TREES, valid, disk_kernel(r / float(landcover.resolution_m)))
    return np.where(valid, share, np.nan)


def homes_with_wijk(homes: gpd.GeoDataFrame | None, wijken: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """``homes`` with a ``wijk_code`` (assigned from ``wijken`` when missing); None without homes."""
    if homes is None or len(homes) == 0:
        return None
    if "wijk_code" in homes.columns and not homes["wijk_code"].isna().all():
        return homes
    h = homes.copy()
    h["wijk_code"] = assign_wijk(h, wijken)["wijk_code"].to_numpy()
    return h


def residents_columns(
    per: pd.DataFrame,
    wijken: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame | None,
    flag_at: np.ndarray,
    inside: np.ndarray,
    name: str,
) -> None:
    """Add residents, residents_<name>, residents_<name>_share, homes_outside_raster (+ age groups).

    ``homes`` come from :func:`homes_with_wijk`; ``flag_at`` is the condition (1.0 where it holds)
    at each home and ``inside`` says whether the home lies on a valid cell. Homes on nodata
    cells or off the grid are left out of the shares and counted in ``homes_outside_raster``.
    """
    codes = per["wijk_code"].astype(str)
    if homes is None or len(homes) == 0:
        per["residents"] = np.nan
        per[f"residents_{name}"] = np.nan
        per[f"residents_{name}_share"] = np.nan
        per["homes_outside_raster"] = 0
    else:
        h = homes
        res = pd.to_numeric(h["residents"], errors="coerce").fillna(0.0).to_numpy() if "residents" in h else np.ones(len(h))
        f = np.where(inside, flag_at, np.nan)
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
