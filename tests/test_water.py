"""Water-risk layer: textbook curve-number runoff, pavement, soil groups, flood-prone zones, bad input."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from gezondestad.model.studyarea import CRS, LandCover
from gezondestad.spatial.raster import RasterError
from gezondestad.spatial.water import WaterParams, scs_runoff_mm, water_layer
from shapely.geometry import LineString, Point, box

X0, Y1 = 100_000.0, 200_000.0


def lc_from(arr, res: float = 10.0) -> LandCover:
    return LandCover(np.asarray(arr, dtype=np.uint8), Affine(res, 0, X0, 0, -res, Y1), res)


def one_wijk(lc: LandCover, code: str = "W1") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"wijk_code": [code], "wijk_naam": ["Test"]}, geometry=[box(*lc.bounds)], crs=CRS)


# --- textbook curve-number cases -------------------------------------------------------------


def test_cn98_p100_by_hand():
    s = 25400 / 98 - 254  # 5.1837 mm
    ia = 0.2 * s
    q = (100 - ia) ** 2 / (100 - ia + s)
    assert q == pytest.approx(94.04, abs=0.005)
    assert scs_runoff_mm(100.0, 98.0) == pytest.approx(q, rel=1e-12)


def test_cn61_p50_by_hand():
    s = 25400 / 61 - 254  # 162.39 mm
    ia = 0.2 * s  # 32.48 mm
    q = (50 - ia) ** 2 / (50 - ia + s)
    assert q == pytest.approx(1.706, abs=0.001)
    assert scs_runoff_mm(50.0, 61.0) == pytest.approx(q, rel=1e-12)


def test_rain_below_initial_abstraction_gives_no_runoff_and_limits():
    # CN 61: Ia = 32.48 mm, so 30 mm of rain does not run off at all
    assert scs_runoff_mm(30.0, 61.0) == 0.0
    assert scs_runoff_mm(40.0, 100.0) == pytest.approx(40.0)  # open water: all of it
    assert scs_runoff_mm(40.0, 0.0) == 0.0  # CN 0: infinite retention
    # lambda = 0.05 (Hawkins et al. 2002 variant): Q = (P - 0.05 S)^2 / (P + 0.95 S)
    s = 25400 / 61 - 254
    assert scs_runoff_mm(50.0, 61.0, lam=0.05) == pytest.approx((50 - 0.05 * s) ** 2 / (50 + 0.95 * s))
    with pytest.raises(ValueError, match="0..100"):
        scs_runoff_mm(50.0, 120.0)


# --- layer ----------------------------------------------------------------------------------


def test_cells_follow_the_table_and_volume_is_depth_times_area():
    lc = lc_from([[1, 2, 3, 4, 5, 6]])
    p = WaterParams.from_norms(design_storm_depth_mm=60.0, default_soil_group="B")
    r = water_layer(lc, one_wijk(lc), params=p)
    cn_b = [98, 98, 61, 55, 100, 86]  # TR-55 group B per class (biophysical.csv)
    np.testing.assert_allclose(r.cn[0], cn_b)
    q = np.array([scs_runoff_mm(60.0, c) for c in cn_b])
    np.testing.assert_allclose(r.runoff_mm[0], q)
    np.testing.assert_allclose(r.runoff_m3[0], q * 100.0 / 1000.0)  # mm over 100 m2 -> m3
    np.testing.assert_allclose(r.retention[0], 1 - q / 60.0)
    row = r.per_wijk.iloc[0]
    assert row["runoff_mm_mean"] == pytest.approx(q.mean())
    assert row["runoff_m3_sum"] == pytest.approx(q.sum() / 10.0)
    assert row["impervious_share"] == pytest.approx(2 / 5)  # building + paved over the 5 land cells


def test_more_pavement_more_runoff():
    base = np.full((30, 30), 3, dtype=np.uint8)
    base[::6, :] = 2
    plan = base.copy()
    plan[10:20, 10:20] = 2  # pave a square
    w = one_wijk(lc_from(base))
    a = water_layer(lc_from(base), w)
    b = water_layer(lc_from(plan), w)
    assert b.per_wijk["runoff_mm_mean"][0] > a.per_wijk["runoff_mm_mean"][0]
    assert b.per_wijk["impervious_share"][0] > a.per_wijk["impervious_share"][0]
    assert b.per_wijk["retention_mean"][0] < a.per_wijk["retention_mean"][0]
    assert np.all(b.runoff_mm >= a.runoff_mm - 1e-12)


def test_soil_groups_array_and_bad_values():
    lc = lc_from(np.full((2, 2), 3))
    soil = np.array([[1, 2], [3, 4]])
    r = water_layer(lc, one_wijk(lc), soil=soil)
    np.testing.assert_allclose(r.cn, [[39, 61], [74, 80]])
    assert r.runoff_mm[0, 0] < r.runoff_mm[0, 1] < r.runoff_mm[1, 0] < r.runoff_mm[1, 1]
    with pytest.raises(ValueError, match="bodemgroepen zijn 1 \\(A\\)"):
        water_layer(lc, one_wijk(lc), soil=np.array([[1, 7], [3, 4]]))
    with pytest.raises(ValueError, match="default_soil_group"):
        water_layer(lc, one_wijk(lc), params=WaterParams.from_norms(default_soil_group="E"))


def river_town() -> np.ndarray:
    arr = np.full((20, 20), 3, dtype=np.uint8)
    arr[:, 10] = 5  # a 10 m wide river in column 10
    return arr


def test_cells_near_water_are_flood_prone():
    lc = lc_from(river_town())
    r = water_layer(lc, one_wijk(lc), params=WaterParams.from_norms(flood_buffer_m=25.0))
    # columns 8, 9, 11, 12 lie 20 m and 10 m from the river; 7 and 13 lie 30 m away
    assert r.near_water[:, [8, 9, 11, 12]].all()
    assert not r.near_water[:, [7, 13]].any()
    assert not r.flood_prone[:, 10].any()  # the water itself is not counted as flood-prone land
    assert r.per_wijk["flood_prone_share"][0] == pytest.approx(4 / 19)


def test_water_theme_lines_are_burned_in():
    lc = lc_from(np.full((20, 20), 3))
    water = gpd.GeoDataFrame({"kind": ["stream"]}, geometry=[LineString([(X0 + 105, Y1), (X0 + 105, Y1 - 200)])], crs=CRS)
    r = water_layer(lc, one_wijk(lc), water=water, params=WaterParams.from_norms(flood_buffer_m=10.0))
    assert r.water[:, 10].all() and r.near_water[:, [9, 11]].all() and not r.near_water[:, 8].any()


def test_dem_low_lying_and_reprojection(tmp_path):
    lc = lc_from(river_town())
    # valley: 1 m per 10 m cell up from the river, river at 2 m
    cols = np.arange(20)
    dem = np.tile(2.0 + np.abs(cols - 10) * 0.5, (20, 1))  # 0.5 m per cell
    p = WaterParams.from_norms(flood_buffer_m=0.0, low_lying_above_water_m=1.0)
    r = water_layer(lc, one_wijk(lc), dem=dem, params=p)
    # within 1 m above the river: 2 cells each side (0.5 m, 1.0 m)
    assert r.low_lying[:, [8, 9, 11, 12]].all() and not r.low_lying[:, [7, 13]].any()
    # the same DEM as a 5 m GeoTIFF in Lambert 2008 (EPSG:3812) is reprojected onto the grid
    fine = np.kron(dem, np.ones((2, 2)))
    from pyproj import Transformer

    x3812, y3812 = Transformer.from_crs(CRS, "EPSG:3812", always_xy=True).transform(X0, Y1)  # same corner
    path = tmp_path / "dem_3812.tif"
    with rasterio.open(path, "w", driver="GTiff", height=40, width=40, count=1, dtype="float32", crs="EPSG:3812",
                       transform=Affine(5, 0, x3812, 0, -5, y3812), nodata=-9999) as dst:
        dst.write(fine.astype("float32"), 1)
    r2 = water_layer(lc, one_wijk(lc), dem=str(path), params=p)
    agree = (r2.low_lying == r.low_lying).mean()
    assert agree > 0.95  # resampling after the datum change moves a few edge cells at most
    # a DEM without CRS is refused, naming the file
    bad = tmp_path / "nocrs.tif"
    with rasterio.open(bad, "w", driver="GTiff", height=20, width=20, count=1, dtype="float32",
                       transform=Affine(10, 0, X0, 0, -10, Y1)) as dst:
        dst.write(dem.astype("float32"), 1)
    with pytest.raises(RasterError, match="nocrs.tif.*geen CRS"):
        water_layer(lc, one_wijk(lc), dem=str(bad))
    with pytest.raises(RasterError, match="geen gegevens waar het studiegebied ligt"):
        far = tmp_path / "far.tif"
        with rasterio.open(far, "w", driver="GTiff", height=20, width=20, count=1, dtype="float32", crs=CRS,
                           transform=Affine(10, 0, X0 + 50_000, 0, -10, Y1)) as dst:
            dst.write(dem.astype("float32"), 1)
        water_layer(lc, one_wijk(lc), dem=str(far))


def test_flood_zone_polygons_in_other_crs_and_file(tmp_path):
    lc = lc_from(np.full((20, 20), 3))
    zone = gpd.GeoDataFrame({"klasse": ["effectief"]}, geometry=[box(X0, Y1 - 100, X0 + 50, Y1)], crs=CRS)
    p = WaterParams.from_norms(flood_buffer_m=0.0)
    r = water_layer(lc, one_wijk(lc), flood_zones=zone.to_crs("EPSG:4326"), params=p)
    assert r.in_flood_zone[:10, :5].all() and r.in_flood_zone.sum() == 50
    assert r.per_wijk["flood_prone_share"][0] == pytest.approx(50 / 400)
    f = tmp_path / "ovg.gpkg"
    zone.to_file(f)
    r2 = water_layer(lc, one_wijk(lc), flood_zones=str(f), params=p)
    np.testing.assert_array_equal(r2.in_flood_zone, r.in_flood_zone)
    with pytest.raises(RasterError, match="geen CRS"):
        water_layer(lc, one_wijk(lc), flood_zones=zone.set_crs(None, allow_override=True), params=p)
    with pytest.raises(RasterError, match="missing.gpkg: bestand niet gevonden"):
        water_layer(lc, one_wijk(lc), flood_zones=str(tmp_path / "missing.gpkg"), params=p)


def test_residents_flood_prone_share():
    lc = lc_from(river_town())
    homes = gpd.GeoDataFrame(
        {"residents": [10.0, 30.0], "wijk_code": ["W1", "W1"]},
        geometry=[Point(X0 + 95, Y1 - 55), Point(X0 + 25, Y1 - 55)],  # next to the river / 75 m away
        crs=CRS,
    )
    r = water_layer(lc, one_wijk(lc), homes=homes)
    row = r.per_wijk.iloc[0]
    assert row["residents_flood_prone"] == 10.0 and row["residents_flood_prone_share"] == pytest.approx(0.25)


def test_bad_input_is_named():
    with pytest.raises(RasterError, match="enkel nodata"):
        water_layer(lc_from(np.zeros((4, 4))), one_wijk(lc_from(np.zeros((4, 4)))))
    arr = np.full((4, 4), 3, dtype=np.uint8)
    arr[0, 0] = 9
    with pytest.raises(RasterError, match="class 9 .*no row"):
        water_layer(lc_from(arr), one_wijk(lc_from(arr)))
    t = WaterParams.from_norms().biophysical.copy()
    t.loc[t.lucode == 3, "cn_c"] = np.nan
    with pytest.raises(RasterError, match=r"class 3 \('low_green'\).*cn_c"):
        water_layer(lc_from(np.full((4, 4), 3)), one_wijk(lc_from(np.full((4, 4), 3))), params=WaterParams.from_norms(biophysical=t))
    with pytest.raises(ValueError, match="design_storm_depth_mm"):
        water_layer(lc_from(np.full((4, 4), 3)), one_wijk(lc_from(np.full((4, 4), 3))), params=WaterParams.from_norms(design_storm_depth_mm=0))


def test_mechelen_real_wijken_invariants(mechelen_dir):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_climate import mechelen_inputs

    lc, wijken, water = mechelen_inputs(20.0)
    r = water_layer(lc, wijken, water=water)
    per = r.per_wijk.set_index("wijk_naam")
    assert len(per) == 12 and per["flood_prone_share"].between(0, 1).all()
    q = r.runoff_mm[np.isfinite(r.runoff_mm)]
    assert q.min() >= 0 and q.max() <= r.params.design_storm_depth_mm
    # the old town has the densest street network: the highest sealed share and runoff
    assert per["impervious_share"].idxmax() == "Centrum"
    assert per["runoff_mm_mean"].idxmax() == "Centrum"
    # the Dijle and the canals cross the municipality: every wijk with water has flood-prone land
    assert (per["flood_prone_share"] > 0).sum() >= 10


def test_flood_zone_raster_at_other_resolution(tmp_path):
    lc = lc_from(np.full((20, 20), 3))
    # 20 m raster: value 2 ('effectief overstromingsgevoelig') in its top-left 2 x 2 cells = 40 m x 40 m
    z = np.zeros((10, 10), dtype="uint8")
    z[:2, :2] = 2
    path = tmp_path / "ovg.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=10, count=1, dtype="uint8", crs=CRS,
                       transform=Affine(20, 0, X0, 0, -20, Y1), nodata=255) as dst:
        dst.write(z, 1)
    r = water_layer(lc, one_wijk(lc), flood_zones=str(path), params=WaterParams.from_norms(flood_buffer_m=0.0))
    assert r.in_flood_zone[:4, :4].all() and r.in_flood_zone.sum() == 16
