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

Bounded memory: runoff is looked up per (soil group, class) and written strip by strip as
float32 (CN, Q, retention, volume); the distance to water is computed per block with a halo of
the farthest distance that matters (:func:`flood_maps`); the per-wijk sums are gathered strip by
strip (:mod:`gezondestad.spatial.blocks`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
from gezondestad.model.fmt import fmt_number
from gezondestad.model.landcover import WATER
from gezondestad.model.params import Params, ints, norm, table
from gezondestad.model.progress import Progress, Steps
from gezondestad.model.studyarea import LandCover
from gezondestad.spatial.blocks import ZoneStats, iter_blocks, iter_strips, zone_block, zone_shapes
from gezondestad.spatial.heat import _residents_columns, class_counts, class_luts
from gezondestad.spatial.raster import (
    RasterError,
    burn_polygons,
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


def _soil_source(soil: str | np.ndarray | os.PathLike | None, lc: LandCover, valid: np.ndarray, p: WaterParams) -> int | np.ndarray:
    """Hydrologic soil group 1-4: one number for the whole area, or an int8 array on the grid."""
    if soil is None:
        soil = p.default_soil_group
    if isinstance(soil, str) and soil.strip().upper() in SOIL_GROUPS:
        return SOIL_GROUPS[soil.strip().upper()]
    return _soil_array(soil, lc, valid, p)


def _soil_array(soil: str | np.ndarray | os.PathLike | None, lc: LandCover, valid: np.ndarray, p: WaterParams) -> np.ndarray:
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
        arr = read_aligned(soil, lc, resampling=Resampling.mode, what="bodemgroepraster")
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


def _water_mask(lc: LandCover, water: gpd.GeoDataFrame | None) -> np.ndarray:
    mask = lc.classes == WATER
    if water is not None and len(water):
        w = to_work_crs(water, "water theme", lc.crs)
        w = w[w.geometry.notna() & ~w.geometry.is_empty]
        if len(w):
            mask |= features.rasterize(
                [(g, 1) for g in w.geometry.values], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8", all_touched=True
            ).astype(bool)
    return mask & (lc.classes != 0)


def _flood_zone_mask(flood_zones: Any, lc: LandCover) -> np.ndarray:
    if flood_zones is None:
        return np.zeros(lc.shape, dtype=bool)
    if isinstance(flood_zones, np.ndarray):
        if flood_zones.shape != lc.shape:
            raise WaterInputError(f"De overstromingszone-array heeft vorm {flood_zones.shape}; de bodembedekking heeft {lc.shape}.")
        return np.nan_to_num(flood_zones.astype(float)) > 0
    if isinstance(flood_zones, gpd.GeoDataFrame):
        poly = flood_zones[flood_zones.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(flood_zones) and not len(poly):
            raise WaterInputError("De laag met overstromingsgevoelige gebieden bevat geen veelhoeken (het zijn gebieden).")
        return burn_polygons(poly, lc, "laag overstromingsgevoelige gebieden")
    path = os.fspath(flood_zones)
    if is_raster_file(path):
        arr = read_aligned(path, lc, resampling=Resampling.nearest, what="raster overstromingsgevoelige gebieden")
        return np.nan_to_num(arr) > 0
    gdf = read_vector_any(path)
    poly = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not len(poly):
        raise WaterInputError(f"{path}: geen veelhoeken in de laag met overstromingsgevoelige gebieden (het zijn gebieden).")
    return burn_polygons(poly, lc, f"laag overstromingsgevoelige gebieden {path}")


def _dem_array(dem: np.ndarray | str | os.PathLike, lc: LandCover) -> np.ndarray:
    if isinstance(dem, np.ndarray):
        if dem.shape != lc.shape:
            raise WaterInputError(f"De hoogte-array (DEM) heeft vorm {dem.shape}; de bodembedekking heeft {lc.shape}. Leg ze eerst op hetzelfde raster.")
        return dem.astype(float)
    return read_aligned(dem, lc, resampling=Resampling.bilinear, what="hoogteraster (DEM)")


def flood_maps(
    lc: LandCover,
    valid: np.ndarray,
    water: gpd.GeoDataFrame | None = None,
    dem: np.ndarray | str | os.PathLike | None = None,
    flood_zones: Any = None,
    params: WaterParams | None = None,
    *,
    block_cells: int | None = None,
) -> dict[str, np.ndarray]:
    """Flood-prone masks: ``water``, ``near_water``, ``low_lying``, ``in_flood_zone``, ``flood_prone``.

    The distance to water is an exact Euclidean distance transform per block, with a halo of
    the farthest distance that matters (``flood_buffer_m``, and ``low_lying_max_distance_m``
    with a DEM) so every water cell within reach is inside the block. With a DEM, a cell
    equidistant from several water cells may take another one of them as "nearest" than the
    whole-raster transform would (same distance, possibly another water level).
    """
    p = params or WaterParams.from_norms()
    res = float(lc.resolution_m)
    wmask = _water_mask(lc, water)
    z = _dem_array(dem, lc) if dem is not None else None
    near = np.zeros(lc.shape, dtype=bool)
    low = np.zeros(lc.shape, dtype=bool)
    if wmask.any():
        reach_m = p.flood_buffer_m if z is None else max(p.flood_buffer_m, p.low_lying_max_distance_m)
        halo = int(np.ceil(reach_m / res)) + 1
        # cell offsets within flood_buffer_m (same test as the distance transform: d <= buffer + 1e-9)
        r = int(np.floor((p.flood_buffer_m + 1e-9) / res))
        off = np.arange(-r, r + 1, dtype=float) * res
        disc = np.hypot(off[:, None], off[None, :]) <= p.flood_buffer_m + 1e-9
        for blk in iter_blocks(lc.shape, halo, block_cells):
            ww = blk.window(wmask, False)
            if not ww.any():
                continue
            if z is None:  # only the buffer: a dilation by the disc is the same set as dist <= buffer, faster
                land = valid[blk.core] & ~wmask[blk.core]
                near[blk.core] = land & ndimage.binary_dilation(ww, structure=disc)[blk.inner]
                continue
            edt = ndimage.distance_transform_edt(~ww, sampling=res, return_indices=z is not None)
            dist, idx = edt if z is not None else (edt, None)
            dist = dist[blk.inner]
            land = valid[blk.core] & ~wmask[blk.core]
            near[blk.core] = land & (dist <= p.flood_buffer_m + 1e-9)
            if z is not None and idx is not None:
                gy = idx[0][blk.inner] + (blk.row0 - blk.halo)
                gx = idx[1][blk.inner] + (blk.col0 - blk.halo)
                zw = z[gy, gx]  # height of the nearest water cell
                zi = z[blk.core]
                with np.errstate(invalid="ignore"):
                    low[blk.core] = land & np.isfinite(zi) & np.isfinite(zw) & (zi - zw <= p.low_lying_above_water_m) & (dist <= p.low_lying_max_distance_m)
            del edt, idx
    zone = valid & _flood_zone_mask(flood_zones, lc)
    prone = valid & ~wmask & (near | low | zone)
    return {"water": wmask, "near_water": near, "low_lying": low, "in_flood_zone": zone & ~wmask, "flood_prone": prone}


def _runoff_rasters(
    lc: LandCover, valid: np.ndarray, p: WaterParams, soil: str | np.ndarray | os.PathLike | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CN, Q (mm), retention, runoff volume (m³) as float32 and the impervious mask, strip by strip.

    float32 keeps 7 significant digits: CN is a whole number, Q and the volume are good to 1e-7
    relative, retention (0-1) to 6e-8.
    """
    luts = class_luts(lc, p.biophysical, CN_COLUMNS, "curve-number (biophysical)")
    cn_tab = np.stack([luts[c] for c in CN_COLUMNS])  # (4 soil groups, 256 classes)
    sg = _soil_source(soil, lc, valid, p)
    imperv_codes = np.asarray(p.impervious_classes, dtype=np.uint8)
    cell_m2 = float(lc.resolution_m) ** 2
    out = [np.empty(lc.shape, dtype=np.float32) for _ in range(4)]  # every cell written below
    imperv = np.zeros(lc.shape, dtype=bool)
    # Q depends on the cell only through (soil group, class): evaluate it once per pair, then look it up
    present = class_counts(lc) > 0
    groups = np.asarray(
        [int(sg) - 1] if not isinstance(sg, np.ndarray) else np.flatnonzero(np.bincount(np.clip(sg, 1, 4).ravel(), minlength=5)[1:]), dtype=np.intp
    )
    q_tab = np.full(cn_tab.shape, np.nan)
    q_tab[np.ix_(groups, present)] = scs_runoff_mm(p.design_storm_depth_mm, cn_tab[np.ix_(groups, present)], p.cn_lambda)
    tabs = [cn_tab, q_tab, 1.0 - q_tab / p.design_storm_depth_mm, q_tab * cell_m2 / 1000.0]
    tabs = [np.where(np.arange(256) == 0, np.nan, t).astype(np.float32) for t in tabs]  # class 0 = nodata
    is_imperv = np.isin(np.arange(256), imperv_codes)
    for s in iter_strips(lc.shape):
        cls = lc.classes[s.core]
        v = valid[s.core]
        g = (np.clip(sg[s.core], 1, 4) - 1).astype(np.intp) if isinstance(sg, np.ndarray) else int(sg) - 1
        for arr, tab in zip(out, tabs):
            arr[s.core] = tab[g, cls]
        imperv[s.core] = v & is_imperv[cls]
    return out[0], out[1], out[2], out[3], imperv


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
        Largest block core side in cells of the distance-to-water step (:func:`flood_maps`);
        every per-cell step runs strip by strip and the result rasters are float32.

    Returns
    -------
    WaterResult
    """
    p = params or WaterParams.from_norms()
    if wijken is None or len(wijken) == 0:
        raise WaterInputError("De waterlaag heeft wijken nodig (veelhoeken met wijk_code) voor de tabel per wijk.")
    if "wijk_code" not in wijken.columns:
        raise WaterInputError("De laag wijken heeft een kolom 'wijk_code' nodig.")
    if not p.design_storm_depth_mm > 0:
        raise WaterInputError(f"design_storm_depth_mm (neerslag van de ontwerpbui) moet > 0 zijn, niet {p.design_storm_depth_mm}.")
    if str(p.default_soil_group).upper() not in SOIL_GROUPS:
        raise WaterInputError(f"default_soil_group moet A, B, C of D zijn, niet '{p.default_soil_group}'.")
    steps = Steps(progress, {"runoff": "afstroming (curvenummer)", "flood": "overstromingsgevoelige zones", "aggregate": "per wijk samenvatten"})
    valid = check_landcover(landcover)
    shapes = zone_shapes(wijken, landcover)
    cn, q, retention, runoff_m3, imperv = _runoff_rasters(landcover, valid, p, soil)
    steps.done("runoff")
    fm = flood_maps(landcover, valid, water=water, dem=dem, flood_zones=flood_zones, params=p, block_cells=block_cells)
    steps.done("flood")

    n = len(wijken)
    st = ZoneStats(n)
    masks = {"impervious": imperv, "flood_prone": fm["flood_prone"], "near_water": fm["near_water"],
             "low_lying": fm["low_lying"], "flood_zone": fm["in_flood_zone"]}
    for s in iter_strips(landcover.shape):
        z = zone_block(shapes, landcover, s)
        v = valid[s.core]
        land = v & ~fm["water"][s.core]
        st.count("cells", z, v)
        st.count("land", z, land)
        st.add("runoff_mm", z, q[s.core])
        st.add("runoff_m3", z, runoff_m3[s.core])
        st.add("retention", z, retention[s.core])
        for name, mask in masks.items():
            st.count(name, z, mask[s.core] & land)
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
    for name in masks:
        with np.errstate(invalid="ignore", divide="ignore"):
            per[f"{name}_share"] = np.where(land_cells > 0, st.n_cells(name) / np.maximum(land_cells, 1), np.nan)
    _residents_columns(per, wijken, homes, fm["flood_prone"], valid, landcover, "flood_prone")
    steps.done("aggregate")
    return WaterResult(
        landcover=landcover,
        cn=cn,
        runoff_mm=q,
        retention=retention,
        runoff_m3=runoff_m3,
        impervious=imperv,
        water=fm["water"],
        near_water=fm["near_water"],
        low_lying=fm["low_lying"],
        in_flood_zone=fm["in_flood_zone"],
        flood_prone=fm["flood_prone"],
        per_wijk=per,
        params=p,
        notes=_notes(p, soil, dem, flood_zones),
    )


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
