"""Block-wise raster processing: blocks with halos give the whole-raster result, edges and nodata included."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from gezondestad.model.studyarea import CRS, LandCover
from gezondestad.spatial.blocks import (
    ZonePercentile,
    ZoneStats,
    blocked_convolve_normalized,
    iter_blocks,
    iter_strips,
    zone_block,
    zone_shapes,
)
from gezondestad.spatial.heat import HeatParams, heat_layer, heat_maps
from gezondestad.spatial.raster import (
    convolve,
    convolve_normalized,
    disk_kernel,
    exponential_kernel,
    zonal_percentile,
    zone_raster,
)
from gezondestad.spatial.water import WaterParams, water_layer
from scipy import ndimage
from shapely.geometry import LineString, box

X0, Y1 = 100_000.0, 200_000.0


def lc_from(arr: np.ndarray, res: float = 10.0) -> LandCover:
    return LandCover(np.asarray(arr, dtype=np.uint8), Affine(res, 0, X0, 0, -res, Y1), res)


def town(h: int = 61, w: int = 73, seed: int = 3) -> np.ndarray:
    """Paved town with buildings, a park, a tree row, water and a nodata corner and hole."""
    rng = np.random.default_rng(seed)
    a = np.full((h, w), 2, dtype=np.uint8)  # paved
    a[rng.random((h, w)) < 0.3] = 1  # buildings
    a[10:28, 40:60] = 3  # park 18 x 20 cells = 3.6 ha (low green)
    a[14:20, 44:50] = 4  # trees inside it
    a[45, 5:50] = 4  # tree row
    a[:, 66] = 5  # water column
    a[:12, :9] = 0  # nodata corner at the raster edge
    a[35:38, 20:24] = 0  # nodata hole
    return a


def test_blocks_cover_every_cell_once_and_windows_pad_beyond_the_edge():
    shape = (61, 73)
    seen = np.zeros(shape, dtype=int)
    blocks = list(iter_blocks(shape, halo=7, block_cells=25))
    assert len(blocks) == 3 * 3
    for b in blocks:
        seen[b.core] += 1
    assert (seen == 1).all()
    arr = np.arange(61 * 73, dtype=float).reshape(shape)
    b = blocks[0]  # top-left: the halo lies beyond the raster above and left
    win = b.window(arr, fill=-1.0)
    assert win.shape == b.window_shape == (b.row1 + 14, b.col1 + 14)
    assert (win[:7] == -1).all() and (win[:, :7] == -1).all()
    np.testing.assert_array_equal(win[b.inner], arr[b.core])
    assert win[7 + b.row1, 7 + b.col1] == arr[b.row1, b.col1]  # halo inside the raster is real data
    assert sum((s.row1 - s.row0) for s in iter_strips(shape, 10)) == 61


@pytest.mark.parametrize("kernel", [exponential_kernel(3, 15), disk_kernel(4.5), np.ones((1, 1))])
def test_blocked_normalized_convolution_equals_whole_raster(kernel):
    a = town()
    valid = a != 0
    signal = np.random.default_rng(1).random(a.shape) * 30.0
    whole = convolve_normalized(signal, valid, kernel)
    blocked = blocked_convolve_normalized(signal, valid, kernel, block_cells=31)  # 2 x 3 blocks
    np.testing.assert_array_equal(np.isnan(blocked), np.isnan(whole))
    ok = np.isfinite(whole)
    assert np.abs(blocked[ok] - whole[ok]).max() < 1e-9


def test_no_valid_cell_within_reach_stays_nan_in_blocks():
    valid = np.zeros((40, 40), dtype=bool)
    valid[2, 2] = True
    out = blocked_convolve_normalized(np.ones((40, 40)), valid, disk_kernel(3), block_cells=20)
    assert out[2, 2] == pytest.approx(1.0) and out[5, 2] == pytest.approx(1.0)
    assert np.isnan(out[6, 2]) and np.isnan(out[30, 30])


def heat_params(**kw) -> HeatParams:
    # d_cool 30 m (3 cells, park kernel radius 15), mixing radius 20 m (kernel radius 10): halos of 15 / 10 cells
    base = dict(green_area_cooling_distance_m=30.0, t_air_average_radius_m=20.0, green_area_min_ha=0.1, green_patch_min_ha=2.0)
    base.update(kw)
    return HeatParams.from_norms(**base)


def whole_raster_heat(lc: LandCover, p: HeatParams) -> dict[str, np.ndarray]:
    """The whole-raster computation (as before blocks) from raster.convolve*: the reference."""
    t = p.biophysical.set_index("lucode")
    lut = {c: np.full(256, np.nan) for c in ("shade", "kc", "albedo", "green_area")}
    for c in lut:
        for code, v in t[c].items():
            lut[c][int(code)] = float(v)
    cls = lc.classes
    valid = cls != 0
    eti = lut["kc"][cls] * p.et0_mm / p.et0_mm
    w = p.cc_weight_shade + p.cc_weight_albedo + p.cc_weight_eti
    cc = (p.cc_weight_shade * lut["shade"][cls] + p.cc_weight_albedo * lut["albedo"][cls] + p.cc_weight_eti * eti) / w
    cc = np.where(valid, cc, np.nan)
    green = valid & (lut["green_area"][cls] > 0)
    labels, n = ndimage.label(green, structure=np.ones((3, 3), dtype=bool))
    big = np.bincount(labels.ravel(), minlength=n + 1) * 100 / 1e4 >= p.green_patch_min_ha - 1e-9
    big[0] = False
    green = big[labels]
    d_px = int(round(p.green_area_cooling_distance_m / lc.resolution_m))
    cc_park = convolve_normalized(np.where(green, cc, 0.0), valid, exponential_kernel(d_px, 5 * d_px))
    disk = disk_kernel(d_px)
    ng, nv = convolve(green.astype(float), disk), convolve(valid.astype(float), disk)
    with np.errstate(invalid="ignore", divide="ignore"):
        ga = np.where(valid, np.where(nv > 1e-9, ng / nv * disk.sum(), 0.0) * 100 / 1e4, np.nan)
    cooled = valid & (ga >= p.green_area_min_ha - 1e-9) & (cc_park > cc)
    hm = np.where(valid, np.where(cooled, cc_park, cc), np.nan)
    r = int(round(p.t_air_average_radius_m / lc.resolution_m))
    t_nomix = p.t_ref_c + (1 - hm) * p.uhi_max_c
    t_air = np.where(valid, convolve_normalized(np.where(valid, t_nomix, 0.0), valid, exponential_kernel(r, 5 * r)), np.nan)
    return {"cc": cc, "cc_park": np.where(valid, cc_park, np.nan), "green_area_ha": ga, "park_cooled": cooled, "hm": hm, "t_air": t_air}


def test_heat_in_four_blocks_equals_the_whole_raster_computation():
    lc = lc_from(town())
    p = heat_params()
    ref = whole_raster_heat(lc, p)
    assert ref["park_cooled"].sum() > 50  # the park cools its surroundings: the comparison means something
    one = heat_maps(lc, p, block_cells=10_000)  # one block
    four = heat_maps(lc, p, block_cells=37)  # 2 x 2 blocks, halos of 15 and 10 cells
    for m in (one, four):
        for k in ("cc", "cc_park", "green_area_ha", "hm", "t_air"):
            np.testing.assert_array_equal(np.isnan(m[k]), np.isnan(ref[k]), err_msg=k)
            ok = np.isfinite(ref[k])
            assert np.abs(m[k][ok] - ref[k][ok]).max() < 1e-9, k
        np.testing.assert_array_equal(m["park_cooled"], ref["park_cooled"])


def test_heat_layer_float32_in_blocks_matches_one_block_within_1e_6():
    lc = lc_from(town())
    wijken = gpd.GeoDataFrame(
        {"wijk_code": ["W", "O"]}, geometry=[box(X0, Y1 - 610, X0 + 360, Y1), box(X0 + 360, Y1 - 610, X0 + 730, Y1)], crs=CRS
    )
    p = heat_params()
    a = heat_layer(lc, wijken, params=p, block_cells=10_000)
    b = heat_layer(lc, wijken, params=p, block_cells=23)  # 3 x 4 blocks
    assert a.t_air.dtype == np.float32 and a.heat_index.dtype == np.float32
    for k in ("cc", "hm", "heat_index", "green_area_ha"):
        x, y = getattr(a, k), getattr(b, k)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
        assert np.nanmax(np.abs(x - y)) <= 1e-6, k
    assert np.nanmax(np.abs(a.t_air - b.t_air) / a.t_air) <= 1e-6
    np.testing.assert_array_equal(a.heat_class, b.heat_class)
    pd.testing.assert_frame_equal(a.per_wijk, b.per_wijk, atol=1e-6)
    # float32 against the float64 whole-raster reference
    ref = whole_raster_heat(lc, p)
    assert np.nanmax(np.abs(b.t_air - ref["t_air"])) < 1e-5  # degC
    assert np.nanmax(np.abs(b.hm - ref["hm"])) < 1e-7


def test_water_in_blocks_equals_one_block_with_a_dem():
    a = town()
    lc = lc_from(a)
    rows, cols = np.indices(a.shape)
    dem = 5.0 + 0.05 * np.abs(cols - 66) + 0.01 * rows  # rises away from the water column
    wijken = gpd.GeoDataFrame({"wijk_code": ["W1"]}, geometry=[box(*lc.bounds)], crs=CRS)
    river = gpd.GeoDataFrame(geometry=[LineString([(X0 + 5, Y1 - 305), (X0 + 300, Y1 - 305)])], crs=CRS)
    p = WaterParams.from_norms(flood_buffer_m=25.0, low_lying_max_distance_m=120.0, low_lying_above_water_m=0.5)
    one = water_layer(lc, wijken, water=river, dem=dem, params=p, block_cells=10_000)
    many = water_layer(lc, wijken, water=river, dem=dem, params=p, block_cells=16)
    assert one.near_water.sum() > 100 and one.low_lying.sum() > 100
    for k in ("water", "near_water", "low_lying", "flood_prone", "impervious"):
        np.testing.assert_array_equal(getattr(one, k), getattr(many, k), err_msg=k)
    np.testing.assert_array_equal(one.runoff_mm, many.runoff_mm)
    pd.testing.assert_frame_equal(one.per_wijk, many.per_wijk)
    # near water = within 25 m (2.5 cells) of a water cell, computed on the whole raster
    dist = ndimage.distance_transform_edt(~one.water, sampling=10.0)
    expected = (a != 0) & ~one.water & (dist <= 25.0 + 1e-9)
    np.testing.assert_array_equal(one.near_water, expected)
    no_dem = water_layer(lc, wijken, water=river, params=p, block_cells=16)  # disc dilation instead of the EDT
    np.testing.assert_array_equal(no_dem.near_water, expected)
    assert not no_dem.low_lying.any()


def test_zone_blocks_and_statistics_equal_the_whole_raster_ones():
    lc = lc_from(town())
    wijken = gpd.GeoDataFrame(
        {"wijk_code": ["A", "B", "C"]},
        geometry=[box(X0, Y1 - 300, X0 + 400, Y1), box(X0 + 100, Y1 - 610, X0 + 730, Y1 - 300), box(X0 + 400, Y1 - 300, X0 + 730, Y1)],
        crs=CRS,
    )
    whole = zone_raster(wijken, lc)
    shapes = zone_shapes(wijken, lc)
    vals = np.random.default_rng(5).normal(0.2, 0.5, lc.shape).astype(np.float32)  # negatives too
    vals[lc.classes == 0] = np.nan
    st, pct = ZoneStats(3), ZonePercentile(3)
    for s in iter_strips(lc.shape, rows_per_strip=7):
        z = zone_block(shapes, lc, s)
        np.testing.assert_array_equal(z, whole[s.core])
        st.add("v", z, vals[s.core])
        pct.add(z, vals[s.core])
    for k in range(3):
        sel = (whole == k) & np.isfinite(vals)
        assert st.mean("v")[k] == pytest.approx(vals[sel].astype(float).mean(), rel=1e-12)
    np.testing.assert_allclose(pct.percentile(90.0), zonal_percentile(vals.astype(float), whole, 3, 90.0), rtol=0, atol=1e-12)


def test_patch_rule_in_windows_equals_whole_raster_labelling():
    # small patches (0.1 ha = 10 cells, halo 9) and 4 x 4 blocks of 20 cells: patches cross block edges
    rng = np.random.default_rng(11)
    a = np.full((80, 80), 2, dtype=np.uint8)
    a[rng.random(a.shape) < 0.45] = 3  # speckled low green: patches of every size, many cut by blocks
    a[:5, :5] = 0
    lc = lc_from(a)
    p = heat_params(green_patch_min_ha=0.1, green_area_cooling_distance_m=10.0, t_air_average_radius_m=10.0)
    ref = whole_raster_heat(lc, p)
    blocked = heat_maps(lc, p, block_cells=20)
    labels, n = ndimage.label((a == 3), structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel())
    assert ((sizes[1:] >= 10) & (sizes[1:] < 60)).any() and (sizes[1:] < 10).any()  # both kinds exist
    np.testing.assert_array_equal(blocked["park_cooled"], ref["park_cooled"])
    ok = np.isfinite(ref["hm"])
    assert np.abs(blocked["hm"][ok] - ref["hm"][ok]).max() < 1e-9


def test_exact_zone_quantile_in_three_passes_equals_numpy():
    from gezondestad.spatial.blocks import ZoneQuantile

    rng = np.random.default_rng(2)
    z = rng.integers(-1, 6, (90, 70)).astype(np.int32)
    for vals in (rng.normal(0.2, 0.5, z.shape), np.round(rng.random(z.shape), 1), np.full(z.shape, 0.25)):
        v = vals.astype(np.float32)
        v[rng.random(z.shape) < 0.1] = np.nan
        q = ZoneQuantile(7, 90.0)  # zone 6 never occurs
        for s in iter_strips(z.shape, rows_per_strip=13):
            q.add(z[s.core], v[s.core])
        passes = 1
        while q.next_pass():
            passes += 1
            for s in iter_strips(z.shape, rows_per_strip=31):
                q.refine(z[s.core], v[s.core])
        assert passes == 3
        assert q.result() is not None
        ref = zonal_percentile(v.astype(float), z, 7, 90.0)
        np.testing.assert_array_equal(np.isnan(q.result()), np.isnan(ref))
        np.testing.assert_allclose(q.result(), ref, rtol=0, atol=1e-12)


def test_scratch_raster_windows_equal_array_windows():
    from gezondestad.spatial.blocks import ScratchRaster

    a = np.random.default_rng(4).random((53, 67)).astype(np.float32)
    s = ScratchRaster(a.shape, np.float32)
    for b in iter_blocks(a.shape, 3, 20):
        s.write(b, a[b.core])
    for b in iter_blocks(a.shape, 9, 25):
        np.testing.assert_array_equal(s.window(b, np.nan), b.window(a, np.nan))
    s.close()


def _write_lc(path, lc: LandCover) -> None:
    from gezondestad.layers.studyarea import write_landcover

    write_landcover(lc, path)


def test_heat_streamed_from_file_to_geotiff_equals_in_memory(tmp_path):
    import rasterio
    from gezondestad.spatial.blocks import LandCoverFile
    from gezondestad.spatial.heat import HEAT_BANDS, heat_to_geotiff

    lc = lc_from(town())
    wijken = gpd.GeoDataFrame(
        {"wijk_code": ["W", "O"], "wijk_naam": ["west", "oost"]},
        geometry=[box(X0, Y1 - 610, X0 + 360, Y1), box(X0 + 360, Y1 - 610, X0 + 730, Y1)], crs=CRS,
    )
    homes = gpd.GeoDataFrame({"residents": [2.0, 3.0, 1.0]}, geometry=gpd.points_from_xy(
        [X0 + 505, X0 + 15, X0 + 700], [Y1 - 155, Y1 - 15, Y1 - 400]), crs=CRS)  # in the park, on nodata, east
    p = heat_params()
    mem = heat_layer(lc, wijken, homes=homes, params=p, block_cells=23)
    _write_lc(tmp_path / "lulc.tif", lc)
    src = LandCoverFile(tmp_path / "lulc.tif")
    f = heat_to_geotiff(src, wijken, tmp_path / "heat.tif", homes=homes, params=p, block_cells=23)
    pd.testing.assert_frame_equal(f.per_wijk, mem.per_wijk, rtol=0, atol=0)
    assert f.per_wijk["homes_outside_raster"].sum() == 1
    with rasterio.open(tmp_path / "heat.tif") as ds:
        assert ds.descriptions == HEAT_BANDS and ds.block_shapes[0] == (256, 256)
        for i, band in enumerate(mem.bands().values(), start=1):
            got = ds.read(i, masked=True).filled(np.nan)
            np.testing.assert_array_equal(got, band.astype(np.float32))


def test_water_streamed_to_geotiff_equals_in_memory(tmp_path):
    import rasterio
    from gezondestad.spatial.blocks import LandCoverFile
    from gezondestad.spatial.water import WATER_BANDS, water_to_geotiff

    a = town()
    lc = lc_from(a)
    wijken = gpd.GeoDataFrame({"wijk_code": ["W1", "W2"], "wijk_naam": ["noord", "zuid"]}, geometry=[box(X0, Y1 - 300, X0 + 730, Y1), box(X0, Y1 - 610, X0 + 730, Y1 - 300)], crs=CRS)
    river = gpd.GeoDataFrame(geometry=[LineString([(X0 + 5, Y1 - 305), (X0 + 300, Y1 - 305)])], crs=CRS)
    zones = gpd.GeoDataFrame(geometry=[box(X0 + 100, Y1 - 200, X0 + 250, Y1 - 100)], crs=CRS)
    homes = gpd.GeoDataFrame({"residents": [4.0, 1.0]}, geometry=gpd.points_from_xy([X0 + 155, X0 + 600], [Y1 - 285, Y1 - 555]), crs=CRS)
    p = WaterParams.from_norms(flood_buffer_m=25.0)
    mem = water_layer(lc, wijken, water=river, flood_zones=zones, homes=homes, params=p, block_cells=16)
    _write_lc(tmp_path / "lulc.tif", lc)
    f = water_to_geotiff(LandCoverFile(tmp_path / "lulc.tif"), wijken, tmp_path / "w.tif", water=river, flood_zones=zones,
                         homes=homes, params=p, block_cells=16)
    pd.testing.assert_frame_equal(f.per_wijk, mem.per_wijk, rtol=0, atol=0)
    assert f.per_wijk["residents_flood_prone"].sum() == 4.0 and mem.flood_prone.sum() > 100
    with rasterio.open(tmp_path / "w.tif") as ds:
        assert ds.descriptions == WATER_BANDS
        for i, band in enumerate(mem.bands().values(), start=1):
            np.testing.assert_array_equal(ds.read(i, masked=True).filled(np.nan), np.asarray(band, dtype=np.float32))
