"""Shared raster helpers for the heat and water layers.

Everything here works on numpy arrays on the grid of a :class:`gezondestad.layers.studyarea.LandCover`
(north-up, square cells, in the study area's metric CRS ``lc.crs``): distance kernels and edge-aware FFT convolution, zones
of the wijken burned into the grid, per-zone statistics, sampling at points, and bringing
other rasters (a DEM, a soil-group map, a flood map, an ET0 map) onto that grid.

Reading files happens only in :func:`read_aligned` (rasterio) and :func:`read_vector_any`
(geopandas); the indicator functions themselves stay pure.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.landcover import rasterize_landcover
from gezondestad.model.studyarea import DEFAULT_CRS, LandCover, StudyArea
from rasterio import features
from rasterio.crs import CRS as RioCRS
from rasterio.enums import Resampling
from rasterio.warp import reproject
from rasterio.windows import Window

logger = logging.getLogger(__name__)


class RasterError(GezondeStadError):
    """Bad raster input (wrong CRS, no data, misaligned grid); the message names the file or layer."""


# ----------------------------------------------------------------------------------------------
# land cover checks and resampling
# ----------------------------------------------------------------------------------------------


def check_landcover(lc: LandCover, what: str = "bodembedekking") -> np.ndarray:
    """Validate ``lc`` and return its boolean valid-cell mask (class != 0).

    Raises
    ------
    RasterError
        When the array is not 2-D, the cells are not square / north-up, or every cell is nodata.
    """
    if lc is None:
        raise RasterError(f"Geen raster {what}: zet het studiegebied eerst klaar (dat leidt het af uit de thema's).")
    arr = np.asarray(lc.classes)
    if arr.ndim != 2 or arr.size == 0:
        raise RasterError(f"Het raster {what} moet een niet-lege 2D-array zijn, niet vorm {arr.shape}.")
    t = lc.transform
    if abs(t.b) > 1e-9 or abs(t.d) > 1e-9 or t.e >= 0:
        raise RasterError(f"Het raster {what} moet noord-boven liggen zonder rotatie (transform {tuple(t)[:6]}).")
    if not np.isclose(abs(t.a), abs(t.e), rtol=1e-6) or not np.isclose(abs(t.a), lc.resolution_m, rtol=1e-6):
        raise RasterError(
            f"Het raster {what} moet vierkante cellen van resolution_m={lc.resolution_m} m hebben "
            f"(de transform zegt {abs(t.a)} x {abs(t.e)} m)."
        )
    valid = arr != 0
    if not valid.any():
        raise RasterError(
            f"Het raster {what} bevat enkel nodata (klasse 0) in alle {arr.size} cellen: de grens "
            "overlapt het raster niet of elke klasse viel weg. Controleer de grens en bouw de bodembedekking opnieuw."
        )
    return valid


def resample_landcover(lc: LandCover, resolution_m: float) -> LandCover:
    """The same land cover on a grid of ``resolution_m`` (majority class per coarser cell).

    Uses rasterio's ``mode`` resampling so every cell keeps a real class (no averaged codes);
    when refining (smaller cells) each cell takes the class of the cell it falls in.
    """
    if resolution_m <= 0:
        raise RasterError(f"resolution_m moet > 0 zijn, niet {resolution_m}.")
    if np.isclose(resolution_m, lc.resolution_m):
        return lc
    x0, y1 = lc.transform.c, lc.transform.f
    h, w = lc.shape
    width_m, height_m = w * lc.resolution_m, h * lc.resolution_m
    nw, nh = max(1, int(np.ceil(width_m / resolution_m))), max(1, int(np.ceil(height_m / resolution_m)))
    dst_t = Affine(resolution_m, 0.0, x0, 0.0, -resolution_m, y1)
    out = np.zeros((nh, nw), dtype=np.uint8)
    reproject(
        np.ascontiguousarray(lc.classes, dtype=np.uint8),
        out,
        src_transform=lc.transform,
        src_crs=lc.crs,
        dst_transform=dst_t,
        dst_crs=lc.crs,
        src_nodata=0,
        dst_nodata=0,
        resampling=Resampling.mode if resolution_m > lc.resolution_m else Resampling.nearest,
    )
    return LandCover(out, dst_t, float(resolution_m), lc.crs)


def landcover_for_area(area: StudyArea, resolution_m: float | None = None) -> LandCover:
    """The land cover of a study area at ``resolution_m`` (default: the stored one).

    When the stored raster has another resolution (or none exists), the raster is rebuilt from
    the themes with :func:`gezondestad.model.landcover.rasterize_landcover`, burning the same themes as the
    demo/prepare step (brownfield/construction/railway land use as bare soil, parking as paved).
    """
    lc = area.landcover
    if lc is not None and (resolution_m is None or np.isclose(resolution_m, lc.resolution_m)):
        return lc
    if not area.has("boundary"):
        if lc is not None and resolution_m is not None:
            return resample_landcover(lc, float(resolution_m))
        raise RasterError(f"Studiegebied '{area.name}' heeft geen bodembedekking en geen grens om er een uit af te leiden.")
    logger.info("land cover of %s rebuilt from the themes at %s m", area.name, resolution_m)
    lu = area.landuse
    kind = lu["kind"].astype("object").fillna("") if len(lu) else pd.Series([], dtype=object)
    return rasterize_landcover(
        area.boundary,
        buildings=area.buildings,
        streets=area.streets,
        green=area.green,
        water=area.water,
        bare=lu[kind.isin(["brownfield", "construction", "railway"]).to_numpy()] if len(lu) else None,
        paved=lu[(kind == "parking").to_numpy()] if len(lu) else None,
        resolution_m=float(resolution_m or 10.0),
    )


# ----------------------------------------------------------------------------------------------
# kernels and convolution
# ----------------------------------------------------------------------------------------------


def _dist_grid(radius_px: int) -> np.ndarray:
    r = np.arange(-radius_px, radius_px + 1, dtype=float)
    return np.hypot(r[:, None], r[None, :])


def exponential_kernel(expected_px: float, max_px: float) -> np.ndarray:
    """``exp(-d / expected_px)`` for cell-centre distances ``d <= max_px`` (pixels), 0 beyond; sums to 1.

    This is pygeoprocessing's ``exponential_decay_kernel`` as used by InVEST Urban Cooling
    (``max_distance = 5 * expected_distance``, normalised).
    """
    if expected_px <= 0:
        return np.ones((1, 1))
    d = _dist_grid(int(np.floor(max_px)))
    k = np.where(d <= max_px, np.exp(-d / expected_px), 0.0)
    return k / k.sum()


def gaussian_kernel(sigma_px: float, n_sigma: float = 3.0) -> np.ndarray:
    """Normalised Gaussian kernel with standard deviation ``sigma_px``, cut at ``n_sigma`` sigmas."""
    if sigma_px <= 0:
        return np.ones((1, 1))
    max_px = sigma_px * n_sigma
    d = _dist_grid(int(np.floor(max_px)))
    k = np.where(d <= max_px, np.exp(-(d**2) / (2.0 * sigma_px**2)), 0.0)
    return k / k.sum()


def disk_kernel(radius_px: float) -> np.ndarray:
    """1 for cell-centre distances ``<= radius_px`` (pixels), else 0; not normalised."""
    d = _dist_grid(int(np.floor(max(radius_px, 0.0))))
    return (d <= radius_px).astype(float)


def convolve(signal: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Same-size FFT convolution (zero outside the array), float64, tiny FFT noise removed.

    scipy's ``fftconvolve`` is used because the kernels here reach hundreds of cells (an
    InVEST park kernel at 10 m is 451 x 451 cells); a direct convolution would take minutes.
    """
    if kernel.shape == (1, 1):
        return signal.astype(float) * float(kernel[0, 0])
    from scipy.signal import fftconvolve  # scipy.signal takes seconds to import; only this needs it

    out = fftconvolve(signal.astype(float), kernel, mode="same")
    # FFT round-off leaves ~1e-12 residues where the exact result is 0
    tol = 1e-9 * max(1.0, float(np.abs(signal).max()) * float(np.abs(kernel).sum()))
    out[np.abs(out) < tol] = 0.0
    return out


def convolve_normalized(signal: np.ndarray, valid: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Kernel-weighted mean of ``signal`` over the valid cells around each cell.

    ``conv(signal * valid) / conv(valid)``: cells outside the study area and beyond the raster
    edge are left out of the average instead of counted as zeros (pygeoprocessing's
    ``convolve_2d(..., ignore_nodata_and_edges=True)``, as InVEST uses it). NaN where no valid
    cell lies within the kernel.
    """
    v = valid.astype(float)
    num = convolve(np.where(valid, signal, 0.0), kernel)
    den = convolve(v, kernel)
    out = np.full(signal.shape, np.nan)
    ok = den > 1e-12
    out[ok] = num[ok] / den[ok]
    return out


# ----------------------------------------------------------------------------------------------
# zones, statistics and sampling
# ----------------------------------------------------------------------------------------------


def zone_raster(wijken: gpd.GeoDataFrame, lc: LandCover) -> np.ndarray:
    """Index (0..n-1, row order of ``wijken``) of the wijk each cell centre lies in; -1 elsewhere."""
    if wijken is None or len(wijken) == 0:
        raise RasterError("Geen wijken: de tabel per wijk heeft wijkveelhoeken nodig.")
    w = to_work_crs(wijken, "wijken", lc.crs)
    shapes = [(g, i) for i, g in enumerate(w.geometry.values) if g is not None and not g.is_empty]
    if not shapes:
        return np.full(lc.shape, -1, dtype=np.int32)
    return features.rasterize(shapes, out_shape=lc.shape, transform=lc.transform, fill=-1, dtype="int32")


def zonal_mean(values: np.ndarray, zones: np.ndarray, n_zones: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean of the finite ``values`` per zone (NaN for zones without cells)."""
    ok = (zones >= 0) & np.isfinite(values)
    if mask is not None:
        ok &= mask
    z = zones[ok]
    s = np.bincount(z, weights=values[ok].astype(float), minlength=n_zones)
    c = np.bincount(z, minlength=n_zones).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def zonal_sum(values: np.ndarray, zones: np.ndarray, n_zones: int) -> np.ndarray:
    """Sum of the finite ``values`` per zone (0 for zones without cells)."""
    ok = (zones >= 0) & np.isfinite(values)
    return np.bincount(zones[ok], weights=values[ok].astype(float), minlength=n_zones)


def zonal_count(mask: np.ndarray, zones: np.ndarray, n_zones: int) -> np.ndarray:
    """Number of True cells of ``mask`` per zone."""
    ok = (zones >= 0) & mask
    return np.bincount(zones[ok], minlength=n_zones).astype(np.int64)


def zonal_percentile(values: np.ndarray, zones: np.ndarray, n_zones: int, q: float) -> np.ndarray:
    """``q``-th percentile (0-100, linear interpolation as numpy's default) of the finite values per zone.

    One sort of all cells by (zone, value) instead of one ``np.percentile`` per zone.
    """
    ok = (zones >= 0) & np.isfinite(values)
    z = zones[ok].astype(np.int64)
    v = values[ok].astype(float)
    out = np.full(n_zones, np.nan)
    if z.size == 0:
        return out
    order = np.lexsort((v, z))
    z, v = z[order], v[order]
    counts = np.bincount(z, minlength=n_zones)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    pos = (counts[has] - 1) * (q / 100.0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[has] - 1)
    frac = pos - lo
    s = starts[has]
    out[has] = v[s + lo] * (1 - frac) + v[s + hi] * frac
    return out


def sample_at_points(array: np.ndarray, lc: LandCover, points: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Value of the cell under each point (NaN outside the grid; bool arrays give 0/1 floats)."""
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if len(geoms) == 0:
        return np.zeros(0)
    if geoms.crs is not None and not geoms.crs.equals(lc.crs):
        geoms = geoms.to_crs(lc.crs)
    x = geoms.x.to_numpy()
    y = geoms.y.to_numpy()
    t = lc.transform  # north-up (checked by check_landcover)
    col = np.floor((x - t.c) / t.a).astype(np.int64)
    row = np.floor((y - t.f) / t.e).astype(np.int64)
    h, w = array.shape
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    out = np.full(len(x), np.nan)
    out[inside] = array[row[inside], col[inside]].astype(float)
    return out


# ----------------------------------------------------------------------------------------------
# other inputs onto the land-cover grid
# ----------------------------------------------------------------------------------------------


def to_work_crs(gdf: gpd.GeoDataFrame, name: str, crs: str = DEFAULT_CRS) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs`` (the land cover's, ``lc.crs``); a layer without CRS is refused (naming it) rather than guessed."""
    if gdf.crs is None:
        raise RasterError(f"{name} heeft geen CRS; stel het in (bv. EPSG:31370) en probeer opnieuw.")
    return gdf if gdf.crs.equals(crs) else gdf.to_crs(crs)


def read_vector_any(path: str | os.PathLike, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector file (GeoPackage, Shapefile, GeoJSON) with a clear error naming it."""
    p = Path(path)
    if not p.exists():
        raise RasterError(f"{p}: bestand niet gevonden.")
    try:
        gdf = gpd.read_file(p, layer=layer) if layer else gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types; all mean "not a readable vector"
        raise RasterError(f"{p}: niet te lezen als vectorlaag ({exc}).") from exc
    if gdf.crs is None:
        raise RasterError(f"{p}: de laag heeft geen CRS (ontbreekt het .prj-bestand?); bewaar ze met haar CRS, bv. EPSG:31370.")
    return gdf


def is_raster_file(path: str | os.PathLike) -> bool:
    """True for file names that look like rasters (GeoTIFF, ASCII grid, VRT, IMG)."""
    return Path(path).suffix.lower() in {".tif", ".tiff", ".asc", ".vrt", ".img", ".nc"}


def align_array(
    data: np.ndarray,
    src_transform: Affine,
    src_crs: str | RioCRS,
    lc: LandCover,
    resampling: Resampling = Resampling.bilinear,
    src_nodata: float | None = None,
) -> np.ndarray:
    """Reproject/resample a 2-D array onto the land-cover grid (float64, NaN where no data)."""
    out = np.full(lc.shape, np.nan, dtype=np.float64)
    src = np.asarray(data, dtype=np.float64)
    if src_nodata is not None and not np.isnan(src_nodata):
        src = np.where(src == src_nodata, np.nan, src)
    reproject(
        src,
        out,
        src_transform=src_transform,
        src_crs=src_crs,
        dst_transform=lc.transform,
        dst_crs=lc.crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=resampling,
    )
    return out


def read_aligned(
    path: str | os.PathLike,
    lc: LandCover,
    resampling: Resampling = Resampling.bilinear,
    what: str = "raster",
) -> np.ndarray:
    """Read band 1 of a raster file onto the land-cover grid (reprojected/resampled; NaN = no data).

    Continuous data (``bilinear``) from a finer raster are averaged over each land-cover cell.

    Raises
    ------
    RasterError
        When the file is missing, unreadable, has no CRS, or does not overlap the study area.
    """
    p = Path(path)
    if not p.is_file():
        raise RasterError(f"{what} {p}: bestand niet gevonden.")
    try:
        src = rasterio.open(p)
    except Exception as exc:  # rasterio raises RasterioIOError and others
        raise RasterError(f"{what} {p}: niet te lezen als raster ({exc}).") from exc
    with src:
        if src.crs is None:
            raise RasterError(f"{what} {p}: het raster heeft geen CRS; ken er een toe (bv. EPSG:31370) en probeer opnieuw.")
        data = src.read(1).astype(np.float64)
        nodata = src.nodata
        if resampling == Resampling.bilinear and src.crs.is_projected and max(abs(src.res[0]), abs(src.res[1])) < lc.resolution_m:
            # GDAL widens the bilinear filter when coarsening; the cell average is what a coarser cell means
            resampling = Resampling.average
        out = align_array(data, src.transform, src.crs, lc, resampling=resampling, src_nodata=nodata)
    if not np.isfinite(out[lc.classes != 0]).any():
        raise RasterError(
            f"{what} {p}: geen gegevens waar het studiegebied ligt (het overlapt de bodembedekking "
            f"{tuple(round(b) for b in lc.bounds)} in {lc.crs} niet, of het is helemaal nodata)."
        )
    return out


def burn_polygons(gdf: gpd.GeoDataFrame, lc: LandCover, name: str, all_touched: bool = False) -> np.ndarray:
    """Boolean grid: True where a (multi)polygon of ``gdf`` covers the cell centre (or touches it)."""
    g = to_work_crs(gdf, name, lc.crs)
    geoms = [geom for geom in g.geometry.values if geom is not None and not geom.is_empty]
    if not geoms:
        return np.zeros(lc.shape, dtype=bool)
    return features.rasterize(
        [(geom, 1) for geom in geoms], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8", all_touched=all_touched
    ).astype(bool)


def write_bands(
    path: str | os.PathLike,
    bands: dict[str, np.ndarray],
    lc: LandCover,
    nodata: float = -9999.0,
) -> Path:
    """Write float32 bands (NaN -> ``nodata``) as one compressed GeoTIFF in the land cover's CRS with band descriptions."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    h, w = lc.shape
    with rasterio.Env(GDAL_CACHEMAX=64), rasterio.open(  # 64 MB tile cache: memory stays flat on large rasters
        p,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=len(bands),
        dtype="float32",
        crs=lc.crs,
        transform=lc.transform,
        nodata=nodata,
        compress="deflate",
        zlevel=1,  # level 6 (GDAL's default) took 7x longer for files ~5% smaller
        num_threads="ALL_CPUS",
        tiled=True,
    ) as dst:
        # strips of ~4 M cells in whole rows of 256-cell tiles: no full-raster temporaries, no partial tiles
        step = max(256, (1 << 22) // max(1, w) // 256 * 256)
        for i, (name, arr) in enumerate(bands.items(), start=1):
            for r0 in range(0, h, step):
                a = np.asarray(arr[r0 : r0 + step], dtype=np.float32)
                win = Window(0, r0, w, a.shape[0])
                dst.write(np.where(np.isfinite(a), a, np.float32(nodata)), i, window=win)
            dst.set_band_description(i, name)
    return p


def sample_raster_file(path: str | os.PathLike, xy: np.ndarray, crs: object, what: str,
                       error: type[GezondeStadError] = GezondeStadError) -> np.ndarray:
    """Band 1 of a raster file at the points ``xy`` (given in ``crs``); NaN outside the raster or on nodata.

    The raster may be in any CRS (the points are transformed to it) and only the window that
    covers the points is read. Raises ``error`` (a :class:`GezondeStadError`, Dutch message naming
    ``what`` and the file) when the file is missing, unreadable, has no CRS, or no point falls on a value.
    """
    from pyproj import CRS as ProjCRS  # pyproj comes with geopandas; imported here to keep module import light
    from pyproj import Transformer

    pth = Path(path)
    if not pth.is_file():
        raise error(f"{what}: bestand {pth} niet gevonden.")
    try:
        src = rasterio.open(pth)
    except Exception as exc:  # rasterio raises several error types; all mean "not a raster"
        raise error(f"{what}: {pth} is geen leesbaar raster ({exc}).") from exc
    out = np.full(len(xy), np.nan)
    with src:
        if src.crs is None:
            raise error(f"{what}: {pth} heeft geen coördinatenstelsel (CRS); ken er een toe (bv. EPSG:31370) en probeer opnieuw.")
        x, y = xy[:, 0], xy[:, 1]
        if ProjCRS(src.crs) != ProjCRS(crs):
            x, y = Transformer.from_crs(ProjCRS(crs), ProjCRS(src.crs), always_xy=True).transform(x, y)
            x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        col_f, row_f = ~src.transform * (x, y)
        col, row = np.floor(col_f).astype(np.int64), np.floor(row_f).astype(np.int64)
        inside = np.isfinite(col_f) & np.isfinite(row_f) & (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        if inside.any():
            r0, r1 = row[inside].min(), row[inside].max() + 1
            c0, c1 = col[inside].min(), col[inside].max() + 1
            data = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0)).astype(np.float64)
            if src.nodata is not None and not np.isnan(src.nodata):
                data[data == src.nodata] = np.nan
            out[inside] = data[row[inside] - r0, col[inside] - c0]
        out[~np.isfinite(out)] = np.nan
        if not np.isfinite(out).any():
            raise error(
                f"{what}: {pth} overlapt niet met het studiegebied (geen enkel punt valt binnen het raster met een waarde; "
                f"raster-CRS {src.crs}). Controleer het bestand en zijn coördinatenstelsel."
            )
    return out
