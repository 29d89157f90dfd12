"""Water-risk layer: storm runoff (SCS curve number) and flood-prone zones, per cell and per wijk.

Runoff follows the InVEST Urban Flood Risk Mitigation model (``natcap.invest.urban_flood_risk_mitigation``),
which applies the USDA-NRCS (1986, TR-55) curve-number method to one design storm of depth P (mm):

* ``S = 25400 / CN - 254`` (mm; potential maximum retention; CN 0 means no runoff at all)
* ``Ia = lambda * S`` (initial abstraction, lambda = 0.2)
* ``Q = (P - Ia)^2 / (P - Ia + S)`` for ``P > Ia``, else 0 (mm)
* runoff retention ``R = 1 - Q / P``; runoff volume ``Q * cell area / 1000`` (m³)

CN comes from ``data/norms/biophysical.csv`` per land-cover class and hydrologic soil group
(A-D; one default group from ``water.toml`` or a soil-group raster with values 1-4).

Flood-prone cells (``flood_prone``) are the union of

* cells within ``flood_buffer_m`` of a water cell (land-cover class water, plus the ``water``
  theme when given) — a screening proxy, not a flood map;
* with a DEM: cells at most ``low_lying_above_water_m`` above the *nearest* water cell and within
  ``low_lying_max_distance_m`` of it (a simple Height-Above-Nearest-Drainage test along the
  straight line to the nearest water cell, no flow routing);
* cells inside a user-supplied flood-sensitivity layer (the Flemish "overstromingsgevoelige
  gebieden", polygons or a raster where any value > 0 counts).

Water cells themselves are left out of every per-wijk share (``impervious_share``,
``flood_prone_share``): the shares are over land cells.

Bounded memory: everything runs block by block (:func:`_water_model`): runoff is looked up
per (soil group, class) as float32, the water theme is burned per window, the distance to water
is computed per block with a halo of the farthest distance that matters, the per-wijk sums are
gathered per block (:mod:`gezondestad.spatial.blocks`). :func:`water_to_geotiff` reads the land
cover by windows and writes each block straight to a GeoTIFF (memory flat in the raster size).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from gezondestad.model.fmt import fmt_number
from gezondestad.model.landcover import WATER
from gezondestad.model.params import Params, ints, norm, table
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.result import RasterFileResult
from gezondestad.model.studyarea import LandCover
from gezondestad.spatial.blocks import (
    ArrayRaster,
    Block,
    GeoTiffBands,
    PointSampler,
    Sink,
    ZoneStats,
    class_source,
    iter_blocks,
    zone_block,
    zone_shapes,
)
from gezondestad.spatial.heat import LandCoverLike, check_counts, class_counts, class_luts, homes_with_wijk, residents_columns
from gezondestad.spatial.raster import (
    RasterError,
    check_landcover,
    is_raster_file,
    read_aligned,
    read_vector_any,
    to_work_crs,
)
from rasterio import features
from rasterio.enums import Resampling
from scipy import ndimage

logger = logging.getLogger(__name__)

SOIL_GROUPS = {"A": 1, "B": 2, "C": 3, "D": 4}
CN_COLUMNS = ("cn_a", "cn_b", "cn_c", "cn_d")


class WaterInputError(RasterError):
    """Bad input for the water layer (unknown class, bad soil group, unreadable DEM or flood map)."""


@dataclass(frozen=True)
class WaterParams(Params):
    """Parameters of the water layer; ``WaterParams.from_norms()`` fills and checks them from ``data/norms``.

    Attributes
    ----------
    design_storm_depth_mm : float
        P, rain depth of the design storm (mm).
    cn_lambda : float
        Initial abstraction ratio Ia / S.
    default_soil_group : str
        Hydrologic soil group A-D used when no soil raster is given.
    impervious_classes : tuple of int
        Land-cover codes counted as sealed.
    flood_buffer_m : float
        Distance from water cells within which land is flood-prone (m).
    low_lying_above_water_m, low_lying_max_distance_m : float
        DEM criterion (m).
    biophysical : DataFrame
        Curve numbers per class (``lucode``, ``cn_a`` .. ``cn_d``).
    """

    FAMILY: ClassVar[str] = "water"
    design_storm_depth_mm: float = norm("design_storm_depth_mm", "mm", min_value=0.0)
    cn_lambda: float = norm("cn_lambda", "ratio Ia/S", min_value=0.0, max_value=1.0)
    default_soil_group: str = norm("default_soil_group", "hydrologic soil group A-D", kind=str)
    impervious_classes: tuple[int, ...] = norm("impervious_classes", "land-cover codes", kind=ints, min_value=0, max_value=255)
    flood_buffer_m: float = norm("flood_buffer_m", "m", min_value=0.0)
    low_lying_above_water_m: float = norm("low_lying_above_water_m", "m", min_value=0.0)
    low_lying_max_distance_m: float = norm("low_lying_max_distance_m", "m", min_value=0.0)
    biophysical: pd.DataFrame = table("biophysical", ("lucode", "cn_a", "cn_b", "cn_c", "cn_d"))


@dataclass
class WaterResult:
    """Output of :func:`water_layer`.

    Attributes
    ----------
    landcover : LandCover
    cn, runoff_mm, retention, runoff_m3 : ndarray
        Curve number, runoff depth Q (mm), runoff retention 1 - Q/P and runoff volume per cell (m³);
        NaN outside the study area.
    impervious, water, near_water, low_lying, in_flood_zone, flood_prone : ndarray of bool
    per_wijk : DataFrame
        wijk_code, wijk_naam, cells, runoff_mm_mean, runoff_m3_sum, retention_mean,
        impervious_share, flood_prone_share, near_water_share, low_lying_share,
        flood_zone_share, residents, residents_flood_prone, residents_flood_prone_share,
        homes_outside_raster.
    params : WaterParams
    notes : list of str
        Data-quality remarks in Dutch (assumed soil group, no elevation model, no flood map).
    """

    landcover: LandCover
    cn: np.ndarray
    runoff_mm: np.ndarray
    retention: np.ndarray
    runoff_m3: np.ndarray
    impervious: np.ndarray
    water: np.ndarray
    near_water: np.ndarray
    low_lying: np.ndarray
    in_flood_zone: np.ndarray
    flood_prone: np.ndarray
    per_wijk: pd.DataFrame
    params: WaterParams
    notes: list[str] = field(default_factory=list)

    def bands(self) -> dict[str, np.ndarray]:
        """Named rasters for export (GeoTIFF band descriptions)."""
        valid = np.isfinite(self.runoff_mm)

        def b(a: np.ndarray) -> np.ndarray:
            return np.where(valid, a.astype(np.float32), np.float32(np.nan))

        return {
            "runoff_mm": self.runoff_mm,
            "runoff_retention": self.retention,
            "runoff_m3": self.runoff_m3,
            "curve_number": self.cn,
            "impervious": b(self.impervious),
            "flood_prone": b(self.flood_prone),
        }


def scs_runoff_mm(p_mm: float | np.ndarray, cn: float | np.ndarray, lam: float = 0.2) -> np.ndarray:
    """SCS curve-number runoff depth Q (mm) for rain depth ``p_mm`` and curve number ``cn``.

    ``S = 25400/CN - 254``; ``Ia = lam * S``; ``Q = (P - Ia)^2 / (P - Ia + S)`` when ``P > Ia``,
    else 0. CN = 0 gives Q = 0 (infinite retention), CN = 100 gives Q = P.
    """
    p = np.asarray(p_mm, dtype=float)
    c = np.asarray(cn, dtype=float)
    if np.any(c[np.isfinite(c)] < 0) or np.any(c[np.isfinite(c)] > 100):
        raise WaterInputError("Curvenummers moeten tussen 0..100 liggen.")
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(c > 0, 25400.0 / np.where(c > 0, c, 1.0) - 254.0, np.inf)
        ia = lam * s
        excess = p - ia
        q = np.where(excess > 0, excess**2 / (excess + s), 0.0)
    q = np.where(np.isfinite(c), q, np.nan)
    return q


def _soil_source(soil: str | np.ndarray | os.PathLike | None, lc: LandCoverLike, p: WaterParams) -> int | np.ndarray:
    """Hydrologic soil group 1-4: one number for the whole area, or an int8 array on the grid."""
    if soil is None:
        soil = p.default_soil_group
    if isinstance(soil, str) and soil.strip().upper() in SOIL_GROUPS:
        return SOIL_GROUPS[soil.strip().upper()]
    return _soil_array(soil, lc, np.asarray(lc.classes) != 0, p)


def _soil_array(soil: str | np.ndarray | os.PathLike | None, lc: LandCoverLike, valid: np.ndarray, p: WaterParams) -> np.ndarray:
    if soil is None:
        soil = p.default_soil_group
    if isinstance(soil, str) and soil.strip().upper() in SOIL_GROUPS:
        return np.full(lc.shape, SOIL_GROUPS[soil.strip().upper()], dtype=np.int8)
    if isinstance(soil, np.ndarray):
        if soil.shape != lc.shape:
            raise WaterInputError(f"De bodemgroep-array heeft vorm {soil.shape}; de bodembedekking heeft {lc.shape}.")
        arr = soil.astype(float)
        name = "bodemgroep-array"
    else:
        arr = read_aligned(soil, lc, resampling=Resampling.mode, what="bodemgroepraster")  # type: ignore[arg-type]
        name = f"bodemgroepraster {soil}"
    vals = arr[valid]
    bad = np.isfinite(vals) & ~np.isin(vals, [1, 2, 3, 4])
    if bad.any():
        raise WaterInputError(
            f"Het {name} bevat waarde(n) {sorted(set(np.unique(vals[bad]).tolist()))[:5]}; hydrologische "
            "bodemgroepen zijn 1 (A), 2 (B), 3 (C) of 4 (D)."
        )
    out = np.where(np.isfinite(arr), arr, SOIL_GROUPS[p.default_soil_group.upper()]).astype(np.int8)
    return out


def _dem_array(dem: np.ndarray | str | os.PathLike, lc: LandCoverLike) -> np.ndarray:
    if isinstance(dem, np.ndarray):
        if dem.shape != lc.shape:
            raise WaterInputError(f"De hoogte-array (DEM) heeft vorm {dem.shape}; de bodembedekking heeft {lc.shape}. Leg ze eerst op hetzelfde raster.")
        return dem.astype(float)
    return read_aligned(dem, lc, resampling=Resampling.bilinear, what="hoogteraster (DEM)")  # type: ignore[arg-type]


def _theme_shapes(water: gpd.GeoDataFrame | None, lc: LandCoverLike) -> list[tuple[object, int]]:
    """(geometry, 1) of the water theme in the grid's CRS, burned per window (all touched cells)."""
    if water is None or not len(water):
        return []
    w = to_work_crs(water, "water theme", lc.crs)
    w = w[w.geometry.notna() & ~w.geometry.is_empty]
    return [(g, 1) for g in w.geometry.values]


def _burn(shapes: list[tuple[object, int]], lc: LandCoverLike, blk: Block, window: bool, all_touched: bool) -> np.ndarray:
    """``shapes`` burned (bool) into the window (or the core) of ``blk``."""
    h = blk.halo if window else 0
    out_shape = blk.window_shape if window else (blk.row1 - blk.row0, blk.col1 - blk.col0)
    if not shapes:
        return np.zeros(out_shape, dtype=bool)
    t = lc.transform * Affine.translation(blk.col0 - h, blk.row0 - h)
    return features.rasterize(shapes, out_shape=out_shape, transform=t, fill=0, dtype="uint8", all_touched=all_touched).astype(bool)


def _flood_zone_source(flood_zones: Any, lc: LandCoverLike) -> Callable[[Block], np.ndarray]:
    """Function giving the flood-sensitivity mask (bool) of the core of a block."""
    if flood_zones is None:
        return lambda blk: np.zeros((blk.row1 - blk.row0, blk.col1 - blk.col0), dtype=bool)
    if isinstance(flood_zones, np.ndarray):
        if flood_zones.shape != lc.shape:
            raise WaterInputError(f"De overstromingszone-array heeft vorm {flood_zones.shape}; de bodembedekking heeft {lc.shape}.")
        return ArrayRaster(np.nan_to_num(flood_zones.astype(float)) > 0).read
    if isinstance(flood_zones, gpd.GeoDataFrame):
        poly = flood_zones[flood_zones.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(flood_zones) and not len(poly):
            raise WaterInputError("De laag met overstromingsgevoelige gebieden bevat geen veelhoeken (het zijn gebieden).")
        name = "laag overstromingsgevoelige gebieden"
    else:
        path = os.fspath(flood_zones)
        if is_raster_file(path):
            zr = read_aligned(path, lc, resampling=Resampling.nearest, what="raster overstromingsgevoelige gebieden")  # type: ignore[arg-type]
            return ArrayRaster(np.nan_to_num(zr) > 0).read
        gdf = read_vector_any(path)
        poly = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
        if not len(poly):
            raise WaterInputError(f"{path}: geen veelhoeken in de laag met overstromingsgevoelige gebieden (het zijn gebieden).")
        name = f"laag overstromingsgevoelige gebieden {path}"
    g = to_work_crs(poly, name, lc.crs)
    shapes = [(geom, 1) for geom in g.geometry.values if geom is not None and not geom.is_empty]
    return lambda blk: _burn(shapes, lc, blk, window=False, all_touched=False)


@dataclass
class _Runoff:
    """CN, Q, retention and volume per (soil group, class), looked up per block as float32."""

    tabs: list[np.ndarray]
    soil: int | ArrayRaster
    is_imperv: np.ndarray

    def core(self, cls: np.ndarray, blk: Block) -> list[np.ndarray]:
        if isinstance(self.soil, ArrayRaster):
            g: int | np.ndarray = (np.clip(self.soil.read(blk), 1, 4) - 1).astype(np.intp)
        else:
            g = int(self.soil) - 1
        return [tab[g, cls] for tab in self.tabs]


def _runoff_setup(lc: LandCoverLike, p: WaterParams, soil: str | np.ndarray | os.PathLike | None, counts: np.ndarray) -> _Runoff:
    """The lookup tables of the runoff (Q evaluated once per soil group and class present).

    float32 keeps 7 significant digits: CN is a whole number, Q and the volume are good to 1e-7
    relative, retention (0-1) to 6e-8.
    """
    luts = class_luts(lc, p.biophysical, CN_COLUMNS, "curve-number (biophysical)", counts)
    cn_tab = np.stack([luts[c] for c in CN_COLUMNS])  # (4 soil groups, 256 classes)
    sg = _soil_source(soil, lc, p)
    present = counts > 0
    groups = np.asarray(
        [int(sg) - 1] if not isinstance(sg, np.ndarray) else np.flatnonzero(np.bincount(np.clip(sg, 1, 4).ravel(), minlength=5)[1:]), dtype=np.intp
    )
    q_tab = np.full(cn_tab.shape, np.nan)
    q_tab[np.ix_(groups, present)] = scs_runoff_mm(p.design_storm_depth_mm, cn_tab[np.ix_(groups, present)], p.cn_lambda)
    cell_m2 = float(lc.resolution_m) ** 2
    tabs = [cn_tab, q_tab, 1.0 - q_tab / p.design_storm_depth_mm, q_tab * cell_m2 / 1000.0]
    tabs = [np.where(np.arange(256) == 0, np.nan, t).astype(np.float32) for t in tabs]  # class 0 = nodata
    is_imperv = np.isin(np.arange(256), np.asarray(p.impervious_classes, dtype=np.uint8))
    return _Runoff(tabs, ArrayRaster(sg) if isinstance(sg, np.ndarray) else int(sg), is_imperv)


def _put(sinks: dict[str, Sink], blk: Block, **values: np.ndarray) -> None:
    for k, v in values.items():
        if k in sinks:
            sinks[k].write(blk, v)


def _near_and_low(ww: np.ndarray, land: np.ndarray, blk: Block, z: ArrayRaster | None, disc: np.ndarray, p: WaterParams,
                  res: float) -> tuple[np.ndarray, np.ndarray]:
    """Near-water and low-lying land in the core of ``blk`` from the water cells of its window ``ww``."""
    low = np.zeros(land.shape, dtype=bool)
    if not ww.any():
        return np.zeros(land.shape, dtype=bool), low
    if z is None:  # only the buffer: a dilation by the disc is the same set as dist <= buffer, faster
        return land & ndimage.binary_dilation(ww, structure=disc)[blk.inner], low
    dist, idx = ndimage.distance_transform_edt(~ww, sampling=res, return_indices=True)
    dist = dist[blk.inner]
    near = land & (dist <= p.flood_buffer_m + 1e-9)
    zwin = z.window(blk, np.nan, np.float64)
    zw = zwin[idx[0][blk.inner], idx[1][blk.inner]]  # height of the nearest water cell
    zi = zwin[blk.inner]
    with np.errstate(invalid="ignore"):
        low = land & np.isfinite(zi) & np.isfinite(zw) & (zi - zw <= p.low_lying_above_water_m) & (dist <= p.low_lying_max_distance_m)
    return near, low


WaterHook = Callable[[Block, dict[str, np.ndarray]], None]


def _water_model(lc: LandCoverLike, p: WaterParams, water: gpd.GeoDataFrame | None, dem: Any, flood_zones: Any, soil: Any, *,
                 sinks: dict[str, Sink], block_cells: int | None, on_block: WaterHook | None = None, steps: Steps | None = None) -> None:
    """Runoff and flood-prone masks block by block, each block's core written to ``sinks``.

    The distance to water is exact per block, with a halo of the farthest distance that
    matters (``flood_buffer_m``, and ``low_lying_max_distance_m`` with a DEM) so every water
    cell within reach is inside the window. With a DEM, a cell equidistant from several water
    cells may take another one of them as "nearest" than a whole-raster transform would (same
    distance, possibly another water level).
    """
    counts = class_counts(lc)
    check_counts(lc, counts)
    ro = _runoff_setup(lc, p, soil, counts)
    if steps is not None:
        steps.done("runoff")  # the lookup tables; the cells follow block by block with the flood masks
    shapes = _theme_shapes(water, lc)
    z = ArrayRaster(_dem_array(dem, lc)) if dem is not None else None
    zone_of = _flood_zone_source(flood_zones, lc)
    res = float(lc.resolution_m)
    has_water = counts[WATER] > 0 or bool(shapes)
    reach_m = p.flood_buffer_m if z is None else max(p.flood_buffer_m, p.low_lying_max_distance_m)
    halo = int(np.ceil(reach_m / res)) + 1 if has_water else 0
    r = int(np.floor((p.flood_buffer_m + 1e-9) / res))  # cell offsets within flood_buffer_m (same test as the EDT)
    off = np.arange(-r, r + 1, dtype=float) * res
    disc = np.hypot(off[:, None], off[None, :]) <= p.flood_buffer_m + 1e-9
    src = class_source(lc)
    for blk in iter_blocks(lc.shape, halo, block_cells):
        cls_w = src.window(blk, 0)
        ww = (cls_w == WATER) | _burn(shapes, lc, blk, window=True, all_touched=True) if has_water else np.zeros(cls_w.shape, dtype=bool)
        ww &= cls_w != 0
        cls = cls_w[blk.inner]
        v, wi = cls != 0, ww[blk.inner]
        land = v & ~wi
        near, low = _near_and_low(ww, land, blk, z, disc, p, res)
        zone = v & zone_of(blk)
        prone = land & (near | low | zone)
        cn, q, ret, vol = ro.core(cls, blk)
        imperv = v & ro.is_imperv[cls]
        masks = {"water": wi, "near_water": near, "low_lying": low, "in_flood_zone": zone & ~wi, "flood_prone": prone, "impervious": imperv}
        _put(sinks, blk, curve_number=cn, runoff_mm=q, runoff_retention=ret, runoff_m3=vol, **masks)
        if "impervious_band" in sinks:
            _put(sinks, blk, impervious_band=np.where(v, imperv.astype(np.float32), np.float32(np.nan)),
                 flood_prone_band=np.where(v, prone.astype(np.float32), np.float32(np.nan)))
        if on_block is not None:
            on_block(blk, {"valid": v, "land": land, "runoff_mm": q, "runoff_m3": vol, "retention": ret, **masks})


class _WaterTable:
    """The per-wijk water table, gathered block by block."""

    SHARES = {"impervious": "impervious", "flood_prone": "flood_prone", "near_water": "near_water",
              "low_lying": "low_lying", "flood_zone": "in_flood_zone"}

    def __init__(self, lc: LandCoverLike, wijken: gpd.GeoDataFrame, homes: gpd.GeoDataFrame | None) -> None:
        self.lc, self.wijken = lc, wijken
        self.shapes = zone_shapes(wijken, lc)
        self.st = ZoneStats(len(wijken))
        self.homes = homes_with_wijk(homes, wijken)
        self.at_homes = PointSampler(lc, self.homes)

    def block(self, blk: Block, m: dict[str, np.ndarray]) -> None:
        z = zone_block(self.shapes, self.lc, blk)
        st, land = self.st, m["land"]
        st.count("cells", z, m["valid"])
        st.count("land", z, land)
        st.add("runoff_mm", z, m["runoff_mm"])
        st.add("runoff_m3", z, m["runoff_m3"])
        st.add("retention", z, m["retention"])
        for name, key in self.SHARES.items():
            st.count(name, z, m[key] & land)
        self.at_homes.add("flood_prone", blk, m["flood_prone"])
        self.at_homes.add("valid", blk, m["valid"])

    def table(self) -> pd.DataFrame:
        wijken, st = self.wijken, self.st
        per = pd.DataFrame(
            {
                "wijk_code": wijken["wijk_code"].astype("object").to_numpy(),
                "wijk_naam": wijken["wijk_naam"].astype("object").to_numpy() if "wijk_naam" in wijken else None,
            }
        )
        land_cells = st.n_cells("land")
        per["cells"] = st.n_cells("cells")
        per["runoff_mm_mean"] = st.mean("runoff_mm")
        per["runoff_m3_sum"] = st.sum("runoff_m3")
        per["retention_mean"] = st.mean("retention")
        for name in self.SHARES:
            with np.errstate(invalid="ignore", divide="ignore"):
                per[f"{name}_share"] = np.where(land_cells > 0, st.n_cells(name) / np.maximum(land_cells, 1), np.nan)
        residents_columns(per, wijken, self.homes, self.at_homes.values("flood_prone"), self.at_homes.values("valid") == 1, "flood_prone")
        return per


def _check_inputs(wijken: gpd.GeoDataFrame, p: WaterParams) -> None:
    if wijken is None or len(wijken) == 0:
        raise WaterInputError("De waterlaag heeft wijken nodig (veelhoeken met wijk_code) voor de tabel per wijk.")
    if "wijk_code" not in wijken.columns:
        raise WaterInputError("De laag wijken heeft een kolom 'wijk_code' nodig.")
    if not p.design_storm_depth_mm > 0:
        raise WaterInputError(f"design_storm_depth_mm (neerslag van de ontwerpbui) moet > 0 zijn, niet {p.design_storm_depth_mm}.")
    if str(p.default_soil_group).upper() not in SOIL_GROUPS:
        raise WaterInputError(f"default_soil_group moet A, B, C of D zijn, niet '{p.default_soil_group}'.")


_STEPS = {"runoff": "afstroming (curvenummer)", "flood": "overstromingsgevoelige zones", "aggregate": "per wijk samenvatten"}


def water_layer(
    landcover: LandCover,
    wijken: gpd.GeoDataFrame,
    water: gpd.GeoDataFrame | None = None,
    dem: np.ndarray | str | os.PathLike | None = None,
    flood_zones: Any = None,
    homes: gpd.GeoDataFrame | None = None,
    params: WaterParams | None = None,
    soil: str | np.ndarray | os.PathLike | None = None,
    *,
    progress: Progress | None = None,
    block_cells: int | None = None,
) -> WaterResult:
    """Storm runoff and flood-prone zones per cell and per wijk (see module docstring).

    Parameters
    ----------
    landcover : LandCover
        Land-cover raster (any resolution; a plan's modified copy works the same).
    wijken : GeoDataFrame
        Wijk polygons with ``wijk_code``.
    water : GeoDataFrame, optional
        Water theme (lines/polygons) burned onto the water cells of the land cover.
    dem : ndarray or path, optional
        Elevation (m) on the land-cover grid, or a GeoTIFF reprojected/resampled onto it.
    flood_zones : GeoDataFrame, ndarray or path, optional
        Flood-sensitive areas (overstromingsgevoelige gebieden): polygons, a raster (> 0 counts)
        or an array on the grid.
    homes : GeoDataFrame, optional
        Home points with ``residents`` (:func:`spatial.aggregate.home_points`).
    params : WaterParams, optional
        Defaults to :meth:`WaterParams.from_norms`.
    soil : str, ndarray or path, optional
        Hydrologic soil group: a letter A-D for all cells, an array or a raster of 1-4.
    progress : Progress, optional
        Callback ``(done, total, message)`` after each step (:mod:`gezondestad.model.progress`).
    block_cells : int, optional
        Largest block core side in cells (default: windows of at most 1,664² cells); the result
        rasters are float32.

    Returns
    -------
    WaterResult
    """
    p = params or WaterParams.from_norms()
    _check_inputs(wijken, p)
    check_landcover(landcover)
    steps = Steps(progress, _STEPS)
    shape = landcover.shape
    f32 = {k: np.empty(shape, dtype=np.float32) for k in ("curve_number", "runoff_mm", "runoff_retention", "runoff_m3")}
    masks = {k: np.zeros(shape, dtype=bool) for k in ("impervious", "water", "near_water", "low_lying", "in_flood_zone", "flood_prone")}
    sinks: dict[str, Sink] = {k: ArrayRaster(v) for k, v in {**f32, **masks}.items()}
    agg = _WaterTable(landcover, wijken, homes)
    _water_model(landcover, p, water, dem, flood_zones, soil, sinks=sinks, block_cells=block_cells, on_block=agg.block, steps=steps)
    steps.done("flood")
    per = agg.table()
    steps.done("aggregate")
    return WaterResult(
        landcover=landcover, cn=f32["curve_number"], runoff_mm=f32["runoff_mm"], retention=f32["runoff_retention"],
        runoff_m3=f32["runoff_m3"], impervious=masks["impervious"], water=masks["water"], near_water=masks["near_water"],
        low_lying=masks["low_lying"], in_flood_zone=masks["in_flood_zone"], flood_prone=masks["flood_prone"],
        per_wijk=per, params=p, notes=_notes(p, soil, dem, flood_zones),
    )


WATER_BANDS: tuple[str, ...] = ("runoff_mm", "runoff_retention", "runoff_m3", "curve_number", "impervious", "flood_prone")
"""Bands of the water GeoTIFF (:meth:`WaterResult.bands`, :func:`water_to_geotiff`)."""


@dataclass
class WaterFileResult(RasterFileResult[WaterParams]):
    """Output of :func:`water_to_geotiff`: the per-wijk table (as :attr:`WaterResult.per_wijk`); the
    rasters are the bands :data:`WATER_BANDS` of the GeoTIFF ``path``."""

    BANDS: ClassVar[tuple[str, ...]] = WATER_BANDS


def water_to_geotiff(
    landcover: LandCoverLike,
    wijken: gpd.GeoDataFrame,
    out: str | os.PathLike,
    water: gpd.GeoDataFrame | None = None,
    dem: np.ndarray | str | os.PathLike | None = None,
    flood_zones: Any = None,
    homes: gpd.GeoDataFrame | None = None,
    params: WaterParams | None = None,
    soil: str | np.ndarray | os.PathLike | None = None,
    *,
    progress: Progress | None = None,
    block_cells: int | None = None,
) -> WaterFileResult:
    """:func:`water_layer` streamed to a GeoTIFF (bands :data:`WATER_BANDS`): no raster held whole.

    The land cover is read by windows (a :class:`~gezondestad.spatial.blocks.LandCoverFile` or
    an in-memory :class:`LandCover`), the water theme and flood polygons are burned per window,
    and each block's core goes to the GeoTIFF and the per-wijk sums. A DEM, soil-group or
    flood-zone *raster*, when given, is still aligned whole in memory.
    """
    p = params or WaterParams.from_norms()
    _check_inputs(wijken, p)
    steps = Steps(progress, _STEPS)
    try:
        with rasterio.Env(GDAL_CACHEMAX=32), GeoTiffBands(out, landcover, list(WATER_BANDS)) as tif:
            sinks: dict[str, Sink] = {k: tif.sink(k) for k in WATER_BANDS[:4]}
            sinks.update({"impervious_band": tif.sink("impervious"), "flood_prone_band": tif.sink("flood_prone")})
            agg = _WaterTable(landcover, wijken, homes)
            _water_model(landcover, p, water, dem, flood_zones, soil, sinks=sinks, block_cells=block_cells, on_block=agg.block, steps=steps)
            steps.done("flood")
            per = agg.table()
            steps.done("aggregate")
    except BaseException:
        Path(out).unlink(missing_ok=True)  # no half-written GeoTIFF left behind
        raise
    return WaterFileResult(Path(out), per, p, landcover.shape, float(landcover.resolution_m), _notes(p, soil, dem, flood_zones))


def _notes(p: WaterParams, soil: object, dem: object, flood_zones: object) -> list[str]:
    """Dutch caveats of a water run: what was assumed because an input was not given."""
    notes = []
    if soil is None or isinstance(soil, str):
        group = str(soil or p.default_soil_group).strip().upper()
        notes.append(f"Overal hydrologische bodemgroep {group} aangenomen (geen bodemkaart): de afstroming is een schatting.")
    if dem is None:
        notes.append("Geen hoogtemodel: overstromingsgevoelig betekent hier enkel binnen "
                     f"{fmt_number(p.flood_buffer_m, 0)} m van water, niet laaggelegen.")
    if flood_zones is None:
        notes.append("Geen kaart van overstromingsgevoelige gebieden meegegeven: enkel de benadering langs waterlopen telt.")
    return notes
