"""Block (tile) iteration with a halo, and block-wise FFT convolution, for rasters in bounded memory.

The heat and water layers work on rasters that can be far larger than a wijk (a whole city at
4 m is tens of millions of cells). Instead of FFT-convolving the whole raster at once (whose
complex temporaries alone cost ~100 bytes per cell), they walk over the raster in blocks: every
block is read with a *halo* of ``halo`` cells on each side (cells beyond the raster edge are
filled with zeros / "not valid", exactly what a whole-raster convolution assumes), convolved
there, and only its *core* is written to the output.

Halo rule: a kernel of radius ``r`` cells (shape ``(2r+1, 2r+1)``) needs ``halo >= r``. The core
cells of a block then see every cell their kernel reaches, so the result equals the
whole-raster convolution up to FFT round-off (~1e-15 relative). The window is convolved with a
*circular* FFT of the window's own (fast) size: wrap-around only touches the outer ``r`` cells,
which are the halo and are thrown away.

Block size rule: one block when the whole raster plus its halo fits in ``WINDOW_CELLS**2``
cells (1,664², 2.8 M cells; the window may be oblong); otherwise square cores of at most
``WINDOW_CELLS - 2 halo`` cells split evenly over the raster, so every large raster gets windows
of about the same size and all windows of a pass share one FFT shape and one cached kernel
spectrum. Peak memory per block is a handful of float64 / complex128 window arrays (about 20 MB
each), independent of the raster size.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import geopandas as gpd
import numpy as np
import rasterio
import scipy.fft as sfft
import shapely.geometry
from affine import Affine
from gezondestad.model.studyarea import LandCover
from gezondestad.spatial.raster import RasterError, to_work_crs
from rasterio import features
from rasterio.windows import Window

logger = logging.getLogger(__name__)

WINDOW_CELLS = 1664
"""Windows (core + 2 halo) hold at most ``WINDOW_CELLS**2`` cells (2.8 M; ~22 MB per float64 window)."""

FFT_WORKERS = max(1, min(2, os.cpu_count() or 1))
"""Threads of one FFT (scipy.fft ``workers``)."""


@dataclass(frozen=True)
class Block:
    """One block of a raster: its core (written) and its window (core + halo, read).

    Attributes
    ----------
    row0, row1, col0, col1 : int
        Core extent in raster cells (half-open).
    halo : int
        Halo width in cells on every side (beyond the raster edge the window is padded).
    """

    row0: int
    row1: int
    col0: int
    col1: int
    halo: int

    @property
    def core(self) -> tuple[slice, slice]:
        """Slices of the core in the raster."""
        return slice(self.row0, self.row1), slice(self.col0, self.col1)

    @property
    def inner(self) -> tuple[slice, slice]:
        """Slices of the core inside the (padded) window."""
        h = self.halo
        return slice(h, h + self.row1 - self.row0), slice(h, h + self.col1 - self.col0)

    @property
    def window_shape(self) -> tuple[int, int]:
        """Shape of the padded window (core + 2 halo)."""
        return self.row1 - self.row0 + 2 * self.halo, self.col1 - self.col0 + 2 * self.halo

    def window(self, arr: np.ndarray, fill: float | bool = 0, dtype: np.dtype | type | None = None) -> np.ndarray:
        """The window of ``arr`` (core + halo); cells beyond the raster edge get ``fill``."""
        h = self.halo
        rows, cols = arr.shape
        r0, r1 = self.row0 - h, self.row1 + h
        c0, c1 = self.col0 - h, self.col1 + h
        if r0 >= 0 and c0 >= 0 and r1 <= rows and c1 <= cols:  # wholly inside: one copy, no fill
            return np.array(arr[r0:r1, c0:c1], dtype=dtype or arr.dtype)
        out = np.full((r1 - r0, c1 - c0), fill, dtype=dtype or arr.dtype)
        rr0, rr1, cc0, cc1 = max(r0, 0), min(r1, rows), max(c0, 0), min(c1, cols)
        out[rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0] = arr[rr0:rr1, cc0:cc1]
        return out


def _splits(n: int, core_max: int) -> list[tuple[int, int]]:
    """``n`` cells split into the fewest even parts of at most ``core_max`` cells."""
    parts = max(1, math.ceil(n / max(1, core_max)))
    edges = np.linspace(0, n, parts + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def core_size(halo: int, window_cells: int | None = None) -> int:
    """Largest core side so that core + 2 halo fits ``window_cells`` (at least ``max(halo, 64)``)."""
    w = int(window_cells or WINDOW_CELLS)
    return max(w - 2 * halo, halo, 64)


def _aligned(parts: list[tuple[int, int]], n: int, align: int) -> list[tuple[int, int]]:
    """Cores of a multiple of ``align`` cells, none larger than the largest of ``parts`` (GeoTIFF tiles: no tile is split).

    Rounding the core side down keeps every window within the size the plan allowed; the last
    core takes the rest.
    """
    if align <= 1 or len(parts) == 1:
        return parts
    core = max(align, max(b - a for a, b in parts) // align * align)
    return [(a, min(a + core, n)) for a in range(0, n, core)]


def iter_blocks(shape: tuple[int, int], halo: int = 0, block_cells: int | None = None, align: int = 1) -> Iterator[Block]:
    """Blocks covering a raster of ``shape``, row by row.

    Parameters
    ----------
    shape : (rows, cols)
    halo : int
        Overlap in cells each block needs on every side (the largest kernel radius).
    block_cells : int, optional
        Largest core side in cells; default :func:`core_size` ``(halo)``.
    align : int
        Without ``block_cells``: inner block edges at multiples of ``align`` cells (the tile size
        of a GeoTIFF written block by block, so no tile is written twice).
    """
    if not block_cells and (shape[0] + 2 * halo) * (shape[1] + 2 * halo) <= WINDOW_CELLS * WINDOW_CELLS:
        rows, cols = [(0, shape[0])], [(0, shape[1])]  # one (possibly oblong) window holds it all
    else:
        core = int(block_cells or core_size(halo))
        rows, cols = _splits(shape[0], core), _splits(shape[1], core)
        if not block_cells:
            rows, cols = _aligned(rows, shape[0], align), _aligned(cols, shape[1], align)
    for r0, r1 in rows:
        for c0, c1 in cols:
            yield Block(r0, r1, c0, c1, int(halo))


def iter_strips(shape: tuple[int, int], rows_per_strip: int | None = None) -> Iterator[Block]:
    """Row strips without halo (for per-cell and per-zone passes); about 1 M cells each."""
    n = rows_per_strip or max(1, (1024 * 1024) // max(1, shape[1]))
    for r0, r1 in _splits(shape[0], n):
        yield Block(r0, r1, 0, shape[1], 0)


# ----------------------------------------------------------------------------------------------
# FFT convolution of one window
# ----------------------------------------------------------------------------------------------


class KernelBank:
    """Spectra of centred kernels for the circular FFT convolution of windows, cached per shape."""

    def __init__(self, **kernels: np.ndarray) -> None:
        self.kernels = {k: np.asarray(v, dtype=np.float64) for k, v in kernels.items()}
        self._cache: dict[tuple[str, tuple[int, int]], np.ndarray] = {}
        self._work: np.ndarray | None = None

    def work(self, shape: tuple[int, ...]) -> np.ndarray:
        """A reusable complex work array of ``shape`` (the product of two spectra)."""
        if self._work is None or self._work.shape != shape:
            self._work = np.empty(shape, dtype=np.complex128)
        return self._work

    def radius(self, name: str | None = None) -> int:
        """Largest kernel radius in cells (of ``name``, or of all kernels): the halo they need."""
        ks = [self.kernels[name]] if name else list(self.kernels.values())
        return max(max(k.shape[0], k.shape[1]) // 2 for k in ks)

    def spectrum(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """rfft2 of kernel ``name`` placed with its centre at (0, 0) on a grid of ``shape`` (wrapped, folded when larger)."""
        key = (name, shape)
        if key not in self._cache:
            k = self.kernels[name]
            rows = (np.arange(k.shape[0]) - k.shape[0] // 2) % shape[0]
            cols = (np.arange(k.shape[1]) - k.shape[1] // 2) % shape[1]
            pad = np.zeros(shape, dtype=np.float64)
            if k.shape[0] <= shape[0] and k.shape[1] <= shape[1]:
                pad[np.ix_(rows, cols)] = k
            else:  # a kernel wider than the grid is folded onto it: the same circular convolution
                np.add.at(pad, np.ix_(rows, cols), k)
            self._cache[key] = sfft.rfft2(pad, workers=FFT_WORKERS)
        return self._cache[key]


def fft_shape(window_shape: tuple[int, int]) -> tuple[int, int]:
    """Fast FFT shape at least as large as the window."""
    return sfft.next_fast_len(window_shape[0], real=True), sfft.next_fast_len(window_shape[1], real=True)


def common_fft_shape(blocks: list[Block], raster_shape: tuple[int, int] | None = None) -> tuple[int, int]:
    """One fast FFT shape that holds every window of ``blocks``.

    All windows of a pass are zero-padded to it, so each kernel has one cached spectrum (blocks
    of a few different sizes would each cache their own, ~20 MB apiece). Zero padding beyond
    the window is harmless: wrap-around still only reaches the halo.

    Along an axis where one block spans the whole raster (``raster_shape`` given), both halos
    lie beyond the raster edge and hold zeros, so ``core + halo`` cells suffice: the FFT then
    drops the trailing halo, and what wraps around from the far side lands on the leading
    (zero) halo. The callers guarantee the zeros (signals are 0 outside the raster).
    """

    def need(b: Block, axis: int) -> int:
        lo, hi = (b.row0, b.row1) if axis == 0 else (b.col0, b.col1)
        whole = raster_shape is not None and lo == 0 and hi == raster_shape[axis]
        return b.window_shape[axis] - (b.halo if whole else 0)

    return fft_shape((max(need(b, 0) for b in blocks), max(need(b, 1) for b in blocks)))


def spectrum(window: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """rfft2 of a window zero-padded to ``shape``."""
    return sfft.rfft2(window, s=shape, workers=FFT_WORKERS)


def convolve_spectrum(
    spec: np.ndarray, bank: KernelBank, name: str, shape: tuple[int, int], blk: Block, tol: float
) -> np.ndarray:
    """Core of the convolution of a window (given as its ``spectrum``) with kernel ``name``.

    Values with ``|v| < tol`` are set to 0 (FFT round-off where the exact result is 0), like
    :func:`gezondestad.spatial.raster.convolve`.
    """
    buf = bank.work(spec.shape)
    np.multiply(spec, bank.spectrum(name, shape), out=buf)
    full = sfft.irfft2(buf, s=shape, workers=FFT_WORKERS, overwrite_x=True)  # buf is scratch: no new complex array per call
    out = np.array(full[blk.inner], dtype=np.float64)
    del full
    out[np.abs(out) < tol] = 0.0
    return out


def convolution_tol(signal_max_abs: float, kernel: np.ndarray) -> float:
    """The round-off threshold of :func:`gezondestad.spatial.raster.convolve` for a signal and kernel."""
    return 1e-9 * max(1.0, float(signal_max_abs) * float(np.abs(kernel).sum()))


def blocked_convolve_normalized(
    signal: np.ndarray,
    valid: np.ndarray,
    kernel: np.ndarray,
    *,
    block_cells: int | None = None,
    out_dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """Block-wise :func:`gezondestad.spatial.raster.convolve_normalized` (same result, bounded memory).

    Kernel-weighted mean of ``signal`` over the valid cells around each cell; NaN where no valid
    cell lies within the kernel. The halo is the kernel radius.
    """
    signal = np.asarray(signal)
    valid = np.asarray(valid, dtype=bool)
    bank = KernelBank(k=kernel)
    halo = bank.radius()
    smax = 0.0
    for s in iter_strips(signal.shape):
        part = np.where(valid[s.core], signal[s.core], 0.0)
        smax = max(smax, float(np.abs(part).max()) if part.size else 0.0)
    tol_num = convolution_tol(smax, kernel)
    tol_den = convolution_tol(1.0 if valid.any() else 0.0, kernel)
    out = np.full(signal.shape, np.nan, dtype=out_dtype)
    blocks = list(iter_blocks(signal.shape, halo, block_cells))
    shape = common_fft_shape(blocks, signal.shape)
    for blk in blocks:
        v = blk.window(valid, False)
        x = np.where(v, blk.window(signal, 0, np.float64), 0.0)
        num = convolve_spectrum(spectrum(x, shape), bank, "k", shape, blk, tol_num)
        den = convolve_spectrum(spectrum(v.astype(np.float64), shape), bank, "k", shape, blk, tol_den)
        ok = den > 1e-12
        core = np.full(num.shape, np.nan)
        core[ok] = num[ok] / den[ok]
        out[blk.core] = core
    return out


# ----------------------------------------------------------------------------------------------
# per-zone statistics accumulated block by block
# ----------------------------------------------------------------------------------------------


class ZoneStats:
    """Per-zone sums, counts and means of values seen block by block (zones 0..n-1; -1 = none).

    Same semantics as :func:`gezondestad.spatial.raster.zonal_mean` / ``zonal_sum`` /
    ``zonal_count``: only finite values in a zone count.
    """

    def __init__(self, n_zones: int) -> None:
        self.n = int(n_zones)
        self._sum: dict[str, np.ndarray] = {}
        self._cnt: dict[str, np.ndarray] = {}

    def add(self, name: str, zones: np.ndarray, values: np.ndarray) -> None:
        """Add the finite ``values`` of one block to statistic ``name``."""
        ok = (zones >= 0) & np.isfinite(values)
        z = zones[ok]
        s = np.bincount(z, weights=values[ok].astype(np.float64), minlength=self.n)
        c = np.bincount(z, minlength=self.n)
        self._sum[name] = self._sum.get(name, 0.0) + s
        self._cnt[name] = self._cnt.get(name, 0) + c

    def count(self, name: str, zones: np.ndarray, mask: np.ndarray) -> None:
        """Add the True cells of ``mask`` of one block to count ``name``."""
        c = np.bincount(zones[(zones >= 0) & mask], minlength=self.n)
        self._cnt[name] = self._cnt.get(name, 0) + c

    def sum(self, name: str) -> np.ndarray:
        """Per-zone sum (0 for zones without cells)."""
        return np.asarray(self._sum.get(name, np.zeros(self.n)), dtype=np.float64)

    def n_cells(self, name: str) -> np.ndarray:
        """Per-zone count (int64)."""
        return np.asarray(self._cnt.get(name, np.zeros(self.n)), dtype=np.int64)

    def mean(self, name: str) -> np.ndarray:
        """Per-zone mean (NaN for zones without cells)."""
        s, c = self.sum(name), self.n_cells(name).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def _order_bits(values: np.ndarray) -> np.ndarray:
    """float32 values as uint32 whose unsigned order is the float order."""
    b = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    neg = (b >> 31).astype(bool)
    return np.where(neg, ~b, b | np.uint32(0x80000000))


def _from_order_bits(bits: np.ndarray) -> np.ndarray:
    bits = bits.astype(np.uint32)
    pos = (bits >> 31).astype(bool)
    return np.where(pos, bits & np.uint32(0x7FFFFFFF), ~bits).view(np.float32)


class ZonePercentile:
    """Exact per-zone percentile of float32 values gathered block by block (8 bytes per cell kept).

    Each cell becomes one uint64 key (zone << 32 | order-preserving float bits); one in-place
    sort then puts every zone's values in order. Interpolation is numpy's default ("linear").
    """

    def __init__(self, n_zones: int) -> None:
        self.n = int(n_zones)
        self._parts: list[np.ndarray] = []

    def add(self, zones: np.ndarray, values: np.ndarray) -> None:
        """Add the finite ``values`` (zone >= 0) of one block."""
        ok = (zones >= 0) & np.isfinite(values)
        key = zones[ok].astype(np.uint64) << np.uint64(32)
        key |= _order_bits(values[ok]).astype(np.uint64)
        self._parts.append(key)

    def percentile(self, q: float) -> np.ndarray:
        """``q``-th percentile (0-100) per zone; NaN for zones without values."""
        out = np.full(self.n, np.nan)
        if not self._parts:
            return out
        keys = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts = [keys]
        if keys.size == 0:
            return out
        keys.sort()
        bounds = np.searchsorted(keys, np.arange(self.n + 1, dtype=np.uint64) << np.uint64(32))
        starts, counts = bounds[:-1], np.diff(bounds)
        has = counts > 0
        pos = (counts[has] - 1) * (q / 100.0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, counts[has] - 1)
        frac = pos - lo
        s = starts[has]
        mask32 = np.uint64(0xFFFFFFFF)
        vlo = _from_order_bits(keys[s + lo] & mask32).astype(np.float64)
        vhi = _from_order_bits(keys[s + hi] & mask32).astype(np.float64)
        out[has] = vlo * (1 - frac) + vhi * frac
        return out


# ----------------------------------------------------------------------------------------------
# zones of the wijken, block by block
# ----------------------------------------------------------------------------------------------


@dataclass
class ZoneShapes:
    """Wijk polygons ready to burn block by block: GeoJSON-like mappings (converted once) and bounds."""

    shapes: list[tuple[dict, int]]
    bounds: np.ndarray

    def __len__(self) -> int:
        return len(self.shapes)


def zone_shapes(wijken: gpd.GeoDataFrame, lc: "GridLike") -> ZoneShapes:
    """The wijken (index = row order) in the land cover's CRS, for :func:`zone_block`."""
    if wijken is None or len(wijken) == 0:
        raise RasterError("Geen wijken: de tabel per wijk heeft wijkveelhoeken nodig.")
    w = to_work_crs(wijken, "wijken", lc.crs)
    keep = [(g, i) for i, g in enumerate(w.geometry.values) if g is not None and not g.is_empty]
    return ZoneShapes([(shapely.geometry.mapping(g), i) for g, i in keep],
                      np.array([g.bounds for g, _ in keep], dtype=float).reshape(-1, 4))


def zone_block(shapes: ZoneShapes, lc: "GridLike", blk: Block) -> np.ndarray:
    """Wijk index (-1 elsewhere) of the core cells of ``blk``, as :func:`spatial.raster.zone_raster` gives them.

    Only the wijken whose bounding box reaches the block are burned (a city-wide raster in
    many blocks would otherwise burn every wijk into every block).
    """
    h, w = blk.row1 - blk.row0, blk.col1 - blk.col0
    t = lc.transform * Affine.translation(blk.col0, blk.row0)
    x0, y1 = t.c, t.f
    x1, y0 = x0 + w * t.a, y1 + h * t.e
    pad = abs(t.a)
    b = shapes.bounds
    near = (b[:, 0] <= x1 + pad) & (b[:, 2] >= x0 - pad) & (b[:, 1] <= y1 + pad) & (b[:, 3] >= y0 - pad) if len(b) else np.zeros(0, bool)
    sel = [shapes.shapes[i] for i in np.flatnonzero(near)]
    if not sel:
        return np.full((h, w), -1, dtype=np.int32)
    return features.rasterize(sel, out_shape=(h, w), transform=t, fill=-1, dtype="int32")


# ----------------------------------------------------------------------------------------------
# exact per-zone quantile in two passes, memory bounded by zones x value buckets
# ----------------------------------------------------------------------------------------------


def _merge_counts(keys: np.ndarray, counts: np.ndarray, new_keys: np.ndarray, new_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique ``keys`` with summed ``counts`` after adding ``new_keys`` / ``new_counts``."""
    k = np.concatenate([keys, new_keys])
    c = np.concatenate([counts, new_counts])
    u, inv = np.unique(k, return_inverse=True)
    return u, np.bincount(inv.ravel(), weights=c, minlength=u.size).astype(np.int64)


class ZoneQuantile:
    """Exact per-zone ``q``-th percentile of float32 values, by radix selection over a few passes.

    Every value becomes 32 order-preserving bits. Pass 1 (:meth:`add`, during the computation)
    counts cells per (zone, upper 16 bits); each further pass (:meth:`refine`, over the same
    values again, in any block order) counts the next 8 bits, but only of the cells whose bits so
    far match the one or two prefixes per zone that hold the ranks the percentile interpolates
    between. After 16 + 8 + 8 bits those ranks' values are known exactly. Memory is bounded by
    the zones times the buckets in use (at most 2 x 256 per zone after the first pass), not by
    the number of cells. Interpolation is numpy's default ("linear"), so the result equals
    :func:`gezondestad.spatial.raster.zonal_percentile` of the float32 values.

    Use::

        q = ZoneQuantile(n, 90.0)
        for blk in ...: q.add(zones, values)
        while q.next_pass():
            for blk in ...: q.refine(zones, values)
        q.result()
    """

    BITS = (16, 8, 8)

    def __init__(self, n_zones: int, q: float) -> None:
        self.n, self.q = int(n_zones), float(q)
        self._level = 0
        self._keys = np.empty(0, np.uint64)
        self._cnt = np.empty(0, np.int64)
        self._targets: dict[str, np.ndarray] = {}

    def _shift(self, level: int) -> int:
        return 32 - sum(self.BITS[: level + 1])

    @staticmethod
    def _bits(zones: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = (zones >= 0) & np.isfinite(values)
        return zones[ok].astype(np.uint64), _order_bits(values[ok]).astype(np.uint64)

    def _count(self, z: np.ndarray, b: np.ndarray) -> None:
        part = b >> np.uint64(self._shift(self._level))
        if part.size == 0:
            return
        lo, span = int(part.min()), int(part.max() - part.min()) + 1
        if self.n * span <= 1 << 22:  # a dense count is faster than sorting
            counts = np.bincount(z.astype(np.int64) * span + (part - np.uint64(lo)).astype(np.int64), minlength=self.n * span)
            nz = np.flatnonzero(counts)
            k = ((nz // span).astype(np.uint64) << np.uint64(32)) | ((nz % span) + lo).astype(np.uint64)
            c = counts[nz]
        else:
            k, c = np.unique((z << np.uint64(32)) | part, return_counts=True)
        self._keys, self._cnt = _merge_counts(self._keys, self._cnt, k, c)

    def add(self, zones: np.ndarray, values: np.ndarray) -> None:
        """First pass: the finite ``values`` (zone >= 0) of one block."""
        self._count(*self._bits(zones, values))

    def refine(self, zones: np.ndarray, values: np.ndarray) -> None:
        """A further pass (after :meth:`next_pass` returned True): the same values again."""
        z, b = self._bits(zones, values)
        prev = (z << np.uint64(32)) | (b >> np.uint64(self._shift(self._level - 1)))
        sel = np.isin(prev, self._targets["prefix_keys"])
        self._count(z[sel], b[sel])

    def _start(self) -> None:
        """Ranks of the first pass: per zone the lo/hi rank and the interpolation weight."""
        zone_of = (self._keys >> np.uint64(32)).astype(np.int64)
        n = np.bincount(zone_of, weights=self._cnt, minlength=self.n).astype(np.int64)
        has = np.flatnonzero(n > 0)
        pos = (n[has] - 1) * (self.q / 100.0)
        lo = np.floor(pos).astype(np.int64)
        self._targets = {"has": has, "frac": pos - lo, "lo_off": lo, "hi_off": np.minimum(lo + 1, n[has] - 1),
                         "lo_prefix": np.zeros(has.size, np.uint64), "hi_prefix": np.zeros(has.size, np.uint64)}

    def _resolve(self) -> None:
        """Narrow every target (zone, prefix, offset) by the bits counted in this pass."""
        t, d = self._targets, np.uint64(self.BITS[self._level])
        cum = np.cumsum(self._cnt)
        zone = t["has"].astype(np.uint64) << np.uint64(32)
        for name in ("lo", "hi"):
            first = zone | (t[f"{name}_prefix"] << d)
            start = np.searchsorted(self._keys, first, side="left")
            base = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0)
            j = np.searchsorted(cum, base + t[f"{name}_off"], side="right")
            t[f"{name}_off"] = base + t[f"{name}_off"] - (cum[j] - self._cnt[j])
            t[f"{name}_prefix"] = self._keys[j] & np.uint64(0xFFFFFFFF)
        t["prefix_keys"] = np.unique(np.concatenate([zone | t["lo_prefix"], zone | t["hi_prefix"]]))

    def next_pass(self) -> bool:
        """Close the current pass; True when another pass over the values is needed."""
        if self._level == 0:
            self._start()
        if self._keys.size and self._targets["has"].size:
            self._resolve()
        self._keys, self._cnt = np.empty(0, np.uint64), np.empty(0, np.int64)
        self._level += 1
        return self._level < len(self.BITS) and bool(self._targets["has"].size)

    def result(self) -> np.ndarray:
        """Per-zone percentile (NaN for zones without values) after all passes."""
        out = np.full(self.n, np.nan)
        t = self._targets
        if self._level < len(self.BITS) or not t or not t["has"].size:
            return out
        lo = _from_order_bits(t["lo_prefix"].astype(np.uint32)).astype(np.float64)
        hi = _from_order_bits(t["hi_prefix"].astype(np.uint32)).astype(np.float64)
        out[t["has"]] = lo * (1 - t["frac"]) + hi * t["frac"]
        return out


# ----------------------------------------------------------------------------------------------
# rasters read and written by windows: in memory, in a scratch file, in a GeoTIFF
# ----------------------------------------------------------------------------------------------


class GridLike(Protocol):
    """What the block functions need of a grid (a :class:`LandCover` or a :class:`LandCoverFile`)."""

    transform: Affine
    resolution_m: float
    crs: str

    @property
    def shape(self) -> tuple[int, int]: ...


def _clip(blk: Block, shape: tuple[int, int]) -> tuple[int, int, int, int, int, int]:
    """(r0, c0 of the window, rr0, rr1, cc0, cc1 of its part inside the raster)."""
    h = blk.halo
    r0, c0 = blk.row0 - h, blk.col0 - h
    r1, c1 = blk.row1 + h, blk.col1 + h
    return r0, c0, max(r0, 0), min(r1, shape[0]), max(c0, 0), min(c1, shape[1])


class ArrayRaster:
    """An in-memory raster with the window interface of :class:`ScratchRaster`."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.shape: tuple[int, int] = arr.shape  # type: ignore[assignment]

    def window(self, blk: Block, fill: float | bool = 0, dtype: np.dtype | type | None = None) -> np.ndarray:
        """Core + halo of ``blk`` (``fill`` beyond the raster edge)."""
        return blk.window(self.arr, fill, dtype)

    def read(self, blk: Block) -> np.ndarray:
        """The core of ``blk``."""
        return self.arr[blk.core]

    def write(self, blk: Block, values: np.ndarray) -> None:
        """Set the core of ``blk``."""
        self.arr[blk.core] = values


class ScratchRaster:
    """A raster in an unnamed temporary file, read and written by windows (``pread`` / ``pwrite``).

    Not memory-mapped on purpose: the file's pages stay in the page cache, not in the process's
    resident memory, so intermediate rasters cost disk, not RAM. Unwritten cells read as 0.
    """

    def __init__(self, shape: tuple[int, int], dtype: np.dtype | type) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self._f = tempfile.TemporaryFile(prefix="gezondestad-scratch-")
        self._fd = self._f.fileno()
        os.ftruncate(self._fd, self.shape[0] * self.shape[1] * self.dtype.itemsize)

    def close(self) -> None:
        """Delete the file."""
        self._f.close()

    def _rows(self, r0: int, r1: int, c0: int, c1: int, out: np.ndarray, write: bool) -> None:
        isz, w = self.dtype.itemsize, self.shape[1]
        if c0 == 0 and c1 == w and out.flags.c_contiguous:
            views = [out]
        else:
            views = [out[i] for i in range(r1 - r0)]
        step = (r1 - r0) if len(views) == 1 else 1
        for i, v in enumerate(views):
            off = ((r0 + i * step) * w + c0) * isz
            buf = (np.ascontiguousarray(v) if write else v).data.cast("B")
            done = 0
            while done < buf.nbytes:
                n = os.pwrite(self._fd, buf[done:], off + done) if write else os.preadv(self._fd, [buf[done:]], off + done)
                if n <= 0:
                    raise OSError("scratch raster: short read/write")
                done += n

    def window(self, blk: Block, fill: float | bool = 0, dtype: np.dtype | type | None = None) -> np.ndarray:
        """Core + halo of ``blk`` (``fill`` beyond the raster edge)."""
        r0, c0, rr0, rr1, cc0, cc1 = _clip(blk, self.shape)
        out = np.full(blk.window_shape, fill, dtype=self.dtype)
        if rr1 > rr0 and cc1 > cc0:
            part = np.empty((rr1 - rr0, cc1 - cc0), dtype=self.dtype)
            self._rows(rr0, rr1, cc0, cc1, part, write=False)
            out[rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0] = part
        return out if dtype is None else out.astype(dtype, copy=False)

    def read(self, blk: Block) -> np.ndarray:
        """The core of ``blk``."""
        out = np.empty((blk.row1 - blk.row0, blk.col1 - blk.col0), dtype=self.dtype)
        self._rows(blk.row0, blk.row1, blk.col0, blk.col1, out, write=False)
        return out

    def write(self, blk: Block, values: np.ndarray) -> None:
        """Set the core of ``blk``."""
        a = np.ascontiguousarray(values, dtype=self.dtype)
        self._rows(blk.row0, blk.row1, blk.col0, blk.col1, a, write=True)


class LandCoverFile:
    """A land-cover GeoTIFF read by windows (class 0 beyond the edge): the grid without the array.

    Has the grid attributes of :class:`LandCover` (``transform``, ``resolution_m``, ``crs``,
    ``shape``, ``bounds``) so zones, sampling and the block functions work on it unchanged.

    Raises
    ------
    RasterError
        When the file cannot be read, has no CRS, or its cells are not square and north-up.
    """

    def __init__(self, path: str | os.PathLike, crs: str | None = None) -> None:
        self.path = str(path)
        try:
            self._src = rasterio.open(self.path)
        except Exception as exc:  # rasterio raises several types; all mean "not a raster"
            raise RasterError(f"{self.path}: niet te lezen als raster ({exc}).") from exc
        src = self._src
        if src.crs is None:
            raise RasterError(f"{self.path}: het raster heeft geen CRS; ken er een toe (bv. EPSG:31370).")
        t = src.transform
        if abs(t.b) > 1e-9 or abs(t.d) > 1e-9 or t.e >= 0 or not np.isclose(abs(t.a), abs(t.e), rtol=1e-6):
            raise RasterError(f"{self.path}: de bodembedekking moet vierkante cellen hebben, noord-boven zonder rotatie.")
        self.transform: Affine = t
        self.resolution_m = float(abs(t.a))
        self.crs = crs or src.crs.to_string()
        self.shape: tuple[int, int] = (src.height, src.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        h, w = self.shape
        x0, y1 = self.transform.c, self.transform.f
        return (x0, y1 - h * self.resolution_m, x0 + w * self.resolution_m, y1)

    def close(self) -> None:
        self._src.close()

    @property
    def classes(self) -> np.ndarray:
        """The whole class array (read on each access): only for whole-raster helpers such as aligning an ET0 or DEM raster."""
        return self._src.read(1)

    def window(self, blk: Block, fill: float | bool = 0, dtype: np.dtype | type | None = None) -> np.ndarray:
        """Classes (uint8) of the core + halo of ``blk``; ``fill`` (class 0) beyond the raster edge."""
        r0, c0, rr0, rr1, cc0, cc1 = _clip(blk, self.shape)
        out = np.full(blk.window_shape, fill, dtype=np.uint8)
        if rr1 > rr0 and cc1 > cc0:
            out[rr0 - r0 : rr1 - r0, cc0 - c0 : cc1 - c0] = self._src.read(1, window=Window(cc0, rr0, cc1 - cc0, rr1 - rr0))
        return out if dtype is None else out.astype(dtype, copy=False)

    def read(self, blk: Block) -> np.ndarray:
        """Classes of the core of ``blk``."""
        return self._src.read(1, window=Window(blk.col0, blk.row0, blk.col1 - blk.col0, blk.row1 - blk.row0))


def class_source(lc: "LandCover | LandCoverFile") -> "ArrayRaster | LandCoverFile":
    """Window reader of the classes of an in-memory land cover or a land-cover file."""
    return lc if isinstance(lc, LandCoverFile) else ArrayRaster(np.asarray(lc.classes))


TILE = 256
"""Tile side of the GeoTIFFs written block by block."""


class GeoTiffBands:
    """A float32 GeoTIFF (tiled, deflate) whose named bands are written block by block.

    Use as a context manager; :meth:`sink` gives one band a ``write(blk, values)`` method.
    NaN is written as ``nodata``. The callers cap GDAL's block cache (``GDAL_CACHEMAX`` 32 MB) so
    memory stays flat however large the raster.
    """

    def __init__(self, path: str | os.PathLike, grid: GridLike, names: list[str], nodata: float = -9999.0) -> None:
        self.path = Path(path)
        self.names, self.nodata = list(names), float(nodata)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        h, w = grid.shape
        self._dst = rasterio.open(
            self.path, "w", driver="GTiff", height=h, width=w, count=len(self.names), dtype="float32",
            crs=grid.crs, transform=grid.transform, nodata=self.nodata, compress="deflate", zlevel=1,
            num_threads="ALL_CPUS", tiled=True, blockxsize=TILE, blockysize=TILE, interleave="band",
        )

    def __enter__(self) -> "GeoTiffBands":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._dst.closed:
            for i, name in enumerate(self.names, start=1):
                self._dst.set_band_description(i, name)
            self._dst.close()

    def write(self, name: str, blk: Block, values: np.ndarray) -> None:
        """Write the core of ``blk`` of band ``name`` (float32; NaN -> nodata)."""
        a = np.asarray(values, dtype=np.float32)
        a = np.where(np.isfinite(a), a, np.float32(self.nodata))
        win = Window(blk.col0, blk.row0, blk.col1 - blk.col0, blk.row1 - blk.row0)
        self._dst.write(a, self.names.index(name) + 1, window=win)

    def sink(self, name: str) -> "_BandSink":
        return _BandSink(self, name)


@dataclass
class _BandSink:
    bands: GeoTiffBands
    name: str

    def write(self, blk: Block, values: np.ndarray) -> None:
        self.bands.write(self.name, blk, values)


class Sink(Protocol):
    """Anything with ``write(blk, values)`` (an :class:`ArrayRaster`, a band of :class:`GeoTiffBands`)."""

    def write(self, blk: Block, values: np.ndarray) -> None: ...


# ----------------------------------------------------------------------------------------------
# values at points (homes), gathered block by block
# ----------------------------------------------------------------------------------------------


class PointSampler:
    """Values of rasters at points, filled block by block (NaN for points off the grid).

    Same cell rule as :func:`gezondestad.spatial.raster.sample_at_points`.
    """

    def __init__(self, grid: GridLike, points: gpd.GeoDataFrame | None) -> None:
        n = 0 if points is None else len(points)
        self.row = np.zeros(n, dtype=np.int64)
        self.col = np.zeros(n, dtype=np.int64)
        self.inside = np.zeros(n, dtype=bool)
        self._vals: dict[str, np.ndarray] = {}
        if n and points is not None:
            g = points.geometry
            if g.crs is not None and not g.crs.equals(grid.crs):
                g = g.to_crs(grid.crs)
            t = grid.transform
            self.col = np.floor((g.x.to_numpy() - t.c) / t.a).astype(np.int64)
            self.row = np.floor((g.y.to_numpy() - t.f) / t.e).astype(np.int64)
            h, w = grid.shape
            self.inside = (self.row >= 0) & (self.row < h) & (self.col >= 0) & (self.col < w)

    def add(self, name: str, blk: Block, core: np.ndarray) -> None:
        """Record the values of ``core`` (the core of ``blk``) at the points inside it."""
        if name not in self._vals:
            self._vals[name] = np.full(self.row.size, np.nan)
        sel = self.inside & (self.row >= blk.row0) & (self.row < blk.row1) & (self.col >= blk.col0) & (self.col < blk.col1)
        if sel.any():
            self._vals[name][sel] = core[self.row[sel] - blk.row0, self.col[sel] - blk.col0].astype(float)

    def values(self, name: str) -> np.ndarray:
        """Value per point (NaN off the grid or never recorded)."""
        return self._vals.get(name, np.full(self.row.size, np.nan))
