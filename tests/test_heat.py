"""Heat-island layer (InVEST Urban Cooling): hand-computed cells, park rules, trees, bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from gezondestad.model.studyarea import CRS, LandCover
from gezondestad.spatial.heat import HeatParams, heat_layer, heat_maps
from gezondestad.spatial.raster import RasterError
from scipy import ndimage
from shapely.geometry import Point, box

X0, Y1 = 100_000.0, 200_000.0


def lc_from(arr: np.ndarray, res: float = 10.0) -> LandCover:
    return LandCover(np.asarray(arr, dtype=np.uint8), Affine(res, 0, X0, 0, -res, Y1), res)


def one_wijk(lc: LandCover, code: str = "W1", **cols) -> gpd.GeoDataFrame:
    minx, miny, maxx, maxy = lc.bounds
    return gpd.GeoDataFrame({"wijk_code": [code], "wijk_naam": ["Test"], **{k: [v] for k, v in cols.items()}}, geometry=[box(minx, miny, maxx, maxy)], crs=CRS)


def simple_table() -> pd.DataFrame:
    """Round numbers so the hand computation stays readable."""
    return pd.DataFrame(
        {
            "lucode": [1, 2, 3, 4],
            "name": ["building", "paved", "low_green", "trees"],
            "shade": [0.0, 0.0, 0.0, 1.0],
            "kc": [0.5, 0.0, 0.8, 1.0],
            "albedo": [0.3, 0.1, 0.2, 0.2],
            "green_area": [0, 0, 1, 1],
            "building_intensity": [0.5, 0.0, 0.0, 0.0],
            "source": ["test"] * 4,
        }
    )


def test_hand_computed_cells_of_a_tiny_raster():
    # one row of four 10 m cells: trees, trees, paved, building
    lc = lc_from([[4, 4, 2, 1]])
    p = HeatParams.from_norms(
        biophysical=simple_table(),
        green_area_cooling_distance_m=10.0,  # d_cool = 1 cell
        green_area_min_ha=0.015,  # 150 m2, so the tiny park counts
        green_patch_min_ha=0.0,
        t_air_average_radius_m=10.0,  # r = 1 cell, exponential kernel
        t_ref_c=30.0,
        uhi_max_c=4.0,
    )
    m = heat_maps(lc, p)
    # CC = 0.6 shade + 0.2 albedo + 0.2 ETI, ETI = kc (constant ET0)
    cc_tree = 0.6 * 1.0 + 0.2 * 0.2 + 0.2 * 1.0  # 0.84
    cc_paved = 0.2 * 0.1  # 0.02
    cc_bldg = 0.2 * 0.3 + 0.2 * 0.5  # 0.16
    np.testing.assert_allclose(m["cc"][0], [cc_tree, cc_tree, cc_paved, cc_bldg], atol=1e-12)
    e = math.exp
    # CC_park of the paved cell (index 2): exp(-d) weighted mean of g*CC over all 4 cells
    num2 = cc_tree * (e(-2) + e(-1))
    den2 = e(-2) + e(-1) + 1 + e(-1)
    cc_park2 = num2 / den2
    assert m["cc_park"][0, 2] == pytest.approx(cc_park2, abs=1e-12)
    # GA of the paved cell: disc of radius 1 cell = 5 cells, 3 of them inside the raster, 1 green:
    # edge-corrected 1/3 * 5 cells * 100 m2 = 166.7 m2 >= 150 m2 -> park cooling applies
    assert m["green_area_ha"][0, 2] == pytest.approx(1 / 3 * 5 * 100 / 1e4, abs=1e-12)
    assert m["green_area_ha"][0, 3] == pytest.approx(0.0, abs=1e-12)  # no green within 1 cell
    hm = np.array([cc_tree, cc_tree, cc_park2, cc_bldg])  # trees keep CC (CC_park < CC)
    np.testing.assert_allclose(m["hm"][0], hm, atol=1e-12)
    assert m["park_cooled"][0].tolist() == [False, False, True, False]
    t_nomix = 30.0 + (1 - hm) * 4.0
    np.testing.assert_allclose(m["t_air_nomix"][0], t_nomix, atol=1e-12)
    # air mixing: exp(-d) weighted mean of T_nomix over the valid cells
    for i in range(4):
        w = np.array([e(-abs(i - j)) for j in range(4)])
        assert m["t_air"][0, i] == pytest.approx((w * t_nomix).sum() / w.sum(), abs=1e-9)


def test_weights_are_normalised_and_nodata_cells_are_left_out():
    lc = lc_from([[4, 0, 2]])
    p = HeatParams.from_norms(biophysical=simple_table(), cc_weight_shade=3, cc_weight_albedo=1, cc_weight_eti=1, t_air_average_radius_m=0.0)
    m = heat_maps(lc, p)
    assert m["cc"][0, 0] == pytest.approx(0.84, abs=1e-12)
    assert np.isnan(m["cc"][0, 1]) and np.isnan(m["t_air"][0, 1])
    # without mixing T_air = T_nomix
    np.testing.assert_allclose(m["t_air"][0, [0, 2]], m["t_air_nomix"][0, [0, 2]])


def paved_town(n: int = 80) -> np.ndarray:
    arr = np.full((n, n), 2, dtype=np.uint8)
    arr[::4, :] = 1  # rows of buildings
    return arr


def test_more_trees_lower_heat_in_and_around_them():
    base = lc_from(paved_town())
    plan = base.copy()
    plan.classes[30:40, 30:40] = 4  # plant a 1 ha block of trees
    w = one_wijk(base)
    p = HeatParams.from_norms()
    before = heat_layer(base, w, params=p)
    after = heat_layer(plan, w, params=p)
    diff = after.heat_index - before.heat_index
    assert np.all(diff <= 1e-12)  # nowhere hotter
    assert diff[35, 35] < -0.02  # much cooler inside the trees
    ring = np.zeros(base.shape, bool)
    ring[25:45, 25:45] = True
    ring[30:40, 30:40] = False
    assert np.all(diff[ring] < 0)  # and cooler around them (air mixing)
    assert diff[35, 35] < diff[35, 46] < 0  # the effect fades with distance
    assert after.per_wijk["heat_index_mean"][0] < before.per_wijk["heat_index_mean"][0]


def test_large_park_cools_within_d_cool_and_not_beyond():
    # A 20 ha park in a 2.4 km x 2.4 km paved town (InVEST's park kernel reaches 5 d_cool, so a
    # park must be large against that kernel before CC_park beats the CC of a street).
    n = 240
    arr = paved_town(n)
    arr[97:142, 97:142] = 4
    lc = lc_from(arr)
    p = HeatParams.from_norms(t_air_average_radius_m=0.0)
    m = heat_maps(lc, p)
    park = arr == 4
    dist_m = ndimage.distance_transform_edt(~park) * 10.0
    cooled = m["park_cooled"] & ~park
    assert cooled[92, 120] and cooled[120, 87]  # 50 m and 100 m outside the park
    assert m["hm"][92, 120] > m["cc"][92, 120]
    assert dist_m[cooled].max() <= p.green_area_cooling_distance_m  # never beyond d_cool
    far = dist_m > p.green_area_cooling_distance_m
    np.testing.assert_allclose(m["hm"][far], m["cc"][far])  # beyond d_cool: HM = CC
    assert not m["park_cooled"][far].any()


def test_green_area_rule_stops_park_cooling_at_d_cool():
    # a 1 km2 wood: CC_park beats a street's CC even 600 m away, but GA (green within d_cool) is 0 there
    n = 300
    arr = paved_town(n)
    arr[100:200, 100:200] = 4
    m = heat_maps(lc_from(arr), HeatParams.from_norms(t_air_average_radius_m=0.0))
    i, j = 150, 260  # 600 m east of the wood's edge
    assert m["cc_park"][i, j] > m["cc"][i, j]
    assert m["green_area_ha"][i, j] == pytest.approx(0.0, abs=1e-9)
    assert not m["park_cooled"][i, j] and m["hm"][i, j] == m["cc"][i, j]
    assert m["park_cooled"][150, 205]  # 50 m from the edge: cooled


def test_park_smaller_than_2_ha_gets_no_park_effect():
    arr = paved_town(120)
    arr[50:62, 50:62] = 4  # 1.44 ha
    m = heat_maps(lc_from(arr), HeatParams.from_norms(t_air_average_radius_m=0.0))
    assert not m["park_cooled"].any()
    np.testing.assert_allclose(m["hm"][np.isfinite(m["hm"])], m["cc"][np.isfinite(m["cc"])])


def test_contiguity_rule_versus_invest_rule_for_scattered_small_parks():
    # a grid of 1.44 ha wooded blocks (12 x 12 cells) between 40 m wide paved streets: lots of
    # green within d_cool, but no single contiguous patch of 2 ha
    arr = np.full((160, 160), 2, dtype=np.uint8)
    for r0 in range(4, 160, 16):
        for c0 in range(4, 160, 16):
            arr[r0 : r0 + 12, c0 : c0 + 12] = 4
    lc = lc_from(arr)
    patch_rule = heat_maps(lc, HeatParams.from_norms(t_air_average_radius_m=0.0))
    invest_rule = heat_maps(lc, HeatParams.from_norms(t_air_average_radius_m=0.0, green_patch_min_ha=0.0))
    assert not patch_rule["park_cooled"].any()  # project default: small patches do not add up
    streets = arr == 2
    assert invest_rule["park_cooled"][streets].mean() > 0.9  # natcap.invest: they do


def test_residents_hot_share_and_age_groups():
    # west half paved town (hot), east half trees (cool); no air mixing, no park cooling: a crisp split
    arr = paved_town(40)
    arr[:, 20:] = 4
    lc = lc_from(arr)
    w = one_wijk(lc, residents_65plus=200.0, residents_0_5=40.0)
    homes = gpd.GeoDataFrame(
        {"residents": [30.0, 10.0, 60.0], "wijk_code": ["W1", "W1", "W1"]},
        geometry=[Point(X0 + 55, Y1 - 105), Point(X0 + 85, Y1 - 205), Point(X0 + 355, Y1 - 205)],
        crs=CRS,
    )
    p = HeatParams.from_norms(t_air_average_radius_m=0.0, green_area_min_ha=1e6, heat_class_breaks=[0.3, 0.6, 0.9])
    r = heat_layer(lc, w, homes=homes, params=p)
    hi = r.heat_index
    assert hi[10, 5] >= 0.9 > hi[20, 35]  # paved row hot, trees cool
    row = r.per_wijk.iloc[0]
    assert row["residents"] == 100.0
    assert row["residents_hot"] == 40.0
    assert row["residents_hot_share"] == pytest.approx(0.4)
    assert row["residents_65plus_hot"] == pytest.approx(80.0)  # 200 x 0.4, uniform within the wijk
    assert row["residents_0_5_hot"] == pytest.approx(16.0)
    assert row["area_hot_share"] == pytest.approx(float((hi >= 0.9).mean()))
    # p90 equals numpy's percentile over the wijk's cells
    assert row["heat_index_p90"] == pytest.approx(np.nanpercentile(hi, 90))
    assert row["heat_index_mean"] == pytest.approx(np.nanmean(hi))


def test_resolution_changes_little_for_the_same_layout():
    coarse = np.kron(paved_town(40), np.ones((2, 2), dtype=np.uint8))  # 80x80 at 10 m
    coarse[30:50, 30:50] = 4
    fine = np.kron(coarse, np.ones((2, 2), dtype=np.uint8))  # same layout at 5 m
    a = heat_layer(lc_from(coarse, 10.0), one_wijk(lc_from(coarse, 10.0)))
    b = heat_layer(lc_from(fine, 5.0), one_wijk(lc_from(fine, 5.0)))
    assert a.per_wijk["heat_index_mean"][0] == pytest.approx(b.per_wijk["heat_index_mean"][0], abs=0.01)


def test_class_without_coefficients_is_named():
    arr = paved_town(10)
    arr[0, 0] = 6  # bare soil, absent from the simple table
    with pytest.raises(RasterError, match=r"class 6 \('bare_soil'\)"):
        heat_maps(lc_from(arr), HeatParams.from_norms(biophysical=simple_table()))
    t = simple_table()
    t.loc[t.lucode == 2, "albedo"] = np.nan
    with pytest.raises(RasterError, match=r"class 2 \('paved'\).*albedo"):
        heat_maps(lc_from(paved_town(10)), HeatParams.from_norms(biophysical=t))


def test_nodata_everywhere_and_bad_parameters():
    with pytest.raises(RasterError, match="enkel nodata"):
        heat_maps(lc_from(np.zeros((5, 5))))
    with pytest.raises(ValueError, match="uhi_max_c"):
        heat_maps(lc_from(paved_town(10)), HeatParams.from_norms(uhi_max_c=0.0))
    with pytest.raises(ValueError, match="ET0 array has shape"):
        heat_maps(lc_from(paved_town(10)), et0=np.ones((3, 3)))
    with pytest.raises(ValueError, match="Onbekende parameter"):
        HeatParams.from_norms(d_cool=3)
    with pytest.raises(ValueError, match="wijk_code"):
        heat_layer(lc_from(paved_town(10)), one_wijk(lc_from(paved_town(10))).drop(columns="wijk_code"))


def test_mechelen_real_wijken_invariants(mechelen_dir):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_climate import mechelen_inputs

    lc, wijken, _ = mechelen_inputs(20.0)
    r = heat_layer(lc, wijken)
    per = r.per_wijk
    assert len(per) == 12 and per["cells"].gt(0).all()
    v = r.heat_index[np.isfinite(r.heat_index)]
    assert 0.0 <= v.min() and v.max() <= 1.0
    assert (per["heat_index_p90"] >= per["heat_index_mean"] - 1e-12).all()
    # the centre (most roads per km2) is warmer than the rural deelgemeenten
    centrum = per.loc[per["wijk_naam"] == "Centrum", "heat_index_mean"].iloc[0]
    assert centrum > per.loc[per["wijk_naam"].isin(["Leest", "Hombeek"]), "heat_index_mean"].max()


def test_intensity_method_and_et0_raster(tmp_path):
    import rasterio

    lc = lc_from([[1, 2, 3, 4]])
    m = heat_maps(lc, HeatParams.from_norms(biophysical=simple_table(), cc_method="intensity", t_air_average_radius_m=0.0))
    np.testing.assert_allclose(m["cc"][0], [0.5, 1.0, 1.0, 1.0])  # CC = 1 - building_intensity
    # an ET0 GeoTIFF at 5 m is resampled onto the 10 m grid; ETI = kc * ET0 / ETmax
    et0 = np.kron(np.array([[2.0, 4.0, 4.0, 8.0]]), np.ones((2, 2)))
    path = tmp_path / "et0.tif"
    with rasterio.open(path, "w", driver="GTiff", height=2, width=8, count=1, dtype="float32", crs=CRS,
                       transform=Affine(5, 0, X0, 0, -5, Y1)) as dst:
        dst.write(et0.astype("float32"), 1)
    m = heat_maps(lc, HeatParams.from_norms(biophysical=simple_table(), t_air_average_radius_m=0.0), et0=str(path))
    kc = np.array([0.5, 0.0, 0.8, 1.0])
    np.testing.assert_allclose(m["eti"][0], kc * np.array([2.0, 4.0, 4.0, 8.0]) / 8.0, atol=1e-6)
    with pytest.raises(ValueError, match="nope.tif: bestand niet gevonden"):
        heat_maps(lc, et0=str(tmp_path / "nope.tif"))
