"""Air model: line source against hand values and quadrature, near-road gradient, directions, bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import load_table
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.air import (
    AirInputError,
    AirParams,
    air_exposure,
    exposure_class,
    line_source_increment,
    no2_from_nox,
    nox_from_no2,
    segment_emissions,
    street_canyons,
)
from pyproj import Transformer
from rasterio.transform import from_bounds
from scipy.integrate import quad

X0, Y0 = 160000.0, 190000.0  # somewhere in Lambert 72


def _traffic(lines: list, aadt: float | list = 10000.0, heavy: float = 0.05, speed: float = 50.0) -> gpd.GeoDataFrame:
    n = len(lines)
    return gpd.GeoDataFrame(
        {
            "edge_id": np.arange(n),
            "aadt": np.broadcast_to(np.asarray(aadt, dtype=float), (n,)).copy(),
            "heavy_share": heavy,
            "speed_kmh": speed,
            "share_day": 0.76,
            "share_evening": 0.14,
            "share_night": 0.10,
            "lanes": 2,
            "traffic_source": "test",
        },
        geometry=lines,
        crs=CRS,
    )


def _road(length_m: float = 2000.0) -> shapely.LineString:
    return shapely.LineString([(X0 - length_m / 2, Y0), (X0 + length_m / 2, Y0)])


def _row_of_blocks(y0: float, y1: float, x_from: float = -150.0, x_to: float = 150.0) -> list:
    return [shapely.box(X0 + x, Y0 + y0, X0 + x + 9.0, Y0 + y1) for x in np.arange(x_from, x_to, 10.0)]


def _area(buildings: list, residents: list | None = None, pois: gpd.GeoDataFrame | None = None) -> StudyArea:
    wijken = gpd.GeoDataFrame(
        {"wijk_code": ["W1", "W2"], "wijk_naam": ["West", "Oost"], "residents": [np.nan, np.nan]},
        geometry=[shapely.box(X0 - 1000, Y0 - 600, X0, Y0 + 600), shapely.box(X0, Y0 - 600, X0 + 1000, Y0 + 600)],
        crs=CRS,
    )
    b = gpd.GeoDataFrame(
        {"building_id": np.arange(len(buildings)), "use": "house", "levels": 2,
         "residents": residents if residents is not None else [2.0] * len(buildings)},
        geometry=buildings, crs=CRS,
    )
    themes = {"wijken": wijken, "buildings": b, "boundary": gpd.GeoDataFrame({"name": ["t"]}, geometry=[wijken.union_all()], crs=CRS)}
    if pois is not None:
        themes["pois"] = pois
    return StudyArea(name="test", themes=themes)


# ----------------------------------------------------------------------------------------------
# the line source itself
# ----------------------------------------------------------------------------------------------


def test_single_line_source_hand_computed():
    """sigma_z = a r, no initial spread: C = q sqrt(2/pi) / (2 pi u a d) * (theta2 - theta1)."""
    p = AirParams.from_norms(sigma_z0_m=0.0, sigma_z_a=0.1, sigma_z_b=0.0, wind_speed_ms=2.0, min_distance_m=1.0)
    line = shapely.LineString([(-20.0, 0.0), (20.0, 0.0)])
    got = line_source_increment(np.array([[0.0, 20.0]]), [line], np.array([100.0]), p)[0]
    # seen from (0, 20) the segment spans -45..+45 degrees: pi/2, so C = 100 * 0.7978845608 / (4 * 2 * 0.1 * 20)
    assert got == pytest.approx(4.986778505, rel=1e-9)
    # the same line split into pieces, or given as two sources with half the emission each, sums the same
    two = [shapely.LineString([(-20.0, 0.0), (3.0, 0.0)]), shapely.LineString([(3.0, 0.0), (20.0, 0.0)])]
    assert line_source_increment(np.array([[0.0, 20.0]]), two, np.array([100.0, 100.0]), p)[0] == pytest.approx(got, rel=1e-9)


@pytest.mark.parametrize("length_m,x,y", [(50.0, 25.0, 8.0), (50.0, -120.0, 40.0), (400.0, 100.0, 15.0), (30.0, 10.0, 450.0), (1500.0, 700.0, 6.0)])
def test_line_source_matches_quadrature(length_m, x, y):
    """With the real (Briggs urban + initial spread) sigma_z the quadrature agrees with scipy to 0.3 %."""
    p = AirParams.from_norms()
    got = line_source_increment(np.array([[x, y]]), [shapely.LineString([(0, 0), (length_m, 0)])], np.array([1.0]), p)[0]

    def point_kernel(along: float) -> float:
        r = math.hypot(along, y)
        sz = math.sqrt(p.sigma_z0_m**2 + (p.sigma_z_a * r * (1 + p.sigma_z_b * r) ** p.sigma_z_c) ** 2)
        return math.sqrt(2 / math.pi) / (2 * math.pi * p.wind_speed_ms * r * sz)

    ref = quad(point_kernel, -x, length_m - x, limit=400, epsrel=1e-10)[0]
    assert got == pytest.approx(ref, rel=3e-3)


def test_near_road_gradient_karner():
    """Karner et al. (2010): the increment decays to background within a few hundred metres."""
    p = AirParams.from_norms()
    tr = _traffic([_road(2000.0)], aadt=20000.0)
    q = segment_emissions(tr, p)["nox_ug_m_s"].to_numpy()
    dists = np.array([20.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0])
    xy = np.column_stack([np.full(len(dists), X0), Y0 + dists])
    inc = line_source_increment(xy, tr.geometry, q, p)
    assert np.all(np.diff(inc) < 0), inc
    assert inc[-1] > 0  # the road at 500 m is still summed, so the ratio below is a real decay
    assert inc[-1] < 0.10 * inc[0]
    # the NO2 increment (ozone-limited conversion) decays the same way
    nox_bg = nox_from_no2(np.array([p.background_no2_ugm3]), p)[0]
    no2_inc = no2_from_nox(nox_bg + inc, p) - p.background_no2_ugm3
    assert np.all(np.diff(no2_inc) < 0) and no2_inc[-1] < 0.10 * no2_inc[0]


def test_no2_nox_relation_inverse_and_ozone_limited():
    p = AirParams.from_norms()
    no2 = np.array([0.0, 5.0, 18.0, 40.0, 60.0])
    assert no2_from_nox(nox_from_no2(no2, p), p) == pytest.approx(no2, abs=1e-9)
    nox_bg = nox_from_no2(np.array([18.0]), p)[0]
    d = no2_from_nox(nox_bg + np.array([1.0, 10.0, 100.0]), p) - 18.0
    assert np.all(d < np.array([1.0, 10.0, 100.0]))  # less NO2 than NOx is added
    assert np.all(np.diff(d / np.array([1.0, 10.0, 100.0])) < 0)  # ... and ever less per unit NOx


def test_exposure_classes_bounds():
    breaks = (10.0, 20.0, 30.0, 40.0)
    got = exposure_class(np.array([3.0, 10.0, 10.01, 20.0, 35.0, 40.5, np.nan]), breaks)
    assert got.tolist() == [1, 1, 2, 2, 4, 5, 0]


# ----------------------------------------------------------------------------------------------
# directions
# ----------------------------------------------------------------------------------------------


def test_more_traffic_more_pollution():
    p = AirParams.from_norms()
    area = _area(_row_of_blocks(30.0, 40.0))
    low = air_exposure(area, _traffic([_road()], aadt=5000.0), p).homes
    high = air_exposure(area, _traffic([_road()], aadt=10000.0), p).homes
    assert high["nox_increment_ugm3"].to_numpy() == pytest.approx(2 * low["nox_increment_ugm3"].to_numpy(), rel=1e-12)
    assert np.all(high["no2_ugm3"].to_numpy() > low["no2_ugm3"].to_numpy())
    assert np.all(high["pm25_ugm3"].to_numpy() > low["pm25_ugm3"].to_numpy())


def test_speed_30_vs_50_follows_the_emission_table():
    p = AirParams.from_norms()
    ef = load_table("air_emission_factors").set_index(["speed_type", "vehicle_class"])
    hs = 0.05
    e30 = (1 - hs) * ef.loc[("stad_normaal", "light"), "nox_g_per_km"] + hs * ef.loc[("stad_normaal", "heavy"), "nox_g_per_km"]
    e50 = (1 - hs) * ef.loc[("stad_doorstromend", "light"), "nox_g_per_km"] + hs * ef.loc[("stad_doorstromend", "heavy"), "nox_g_per_km"]
    area = _area(_row_of_blocks(30.0, 40.0))
    r30 = air_exposure(area, _traffic([_road()], heavy=hs, speed=30.0), p).homes["nox_increment_ugm3"].to_numpy()
    r50 = air_exposure(area, _traffic([_road()], heavy=hs, speed=50.0), p).homes["nox_increment_ugm3"].to_numpy()
    assert e30 != e50
    assert r30 / r50 == pytest.approx(np.full(len(r30), e30 / e50), rel=1e-12)


def test_street_canyon_width_and_higher_concentration():
    p = AirParams.from_norms()
    blocks = _row_of_blocks(6.0, 16.0) + _row_of_blocks(-16.0, -6.0)
    road = shapely.LineString([(X0 - 150, Y0), (X0 + 150, Y0)])
    w = street_canyons([road], gpd.GeoSeries(blocks, crs=CRS), p)
    assert w[0] == pytest.approx(12.0)  # buildings 6 m left and right of the axis
    assert np.isnan(street_canyons([road], gpd.GeoSeries(_row_of_blocks(6.0, 16.0), crs=CRS), p)[0])  # one side only

    tr = _traffic([road], aadt=15000.0)
    q = segment_emissions(tr, p)["nox_ug_m_s"].to_numpy()
    receptor = np.array([[X0 + 4.5, Y0 + 11.0]])  # a home point inside the first row of buildings
    open_road = line_source_increment(receptor, tr.geometry, q, p)[0]
    canyon = line_source_increment(receptor, tr.geometry, q, p, canyon_width_m=w)[0]
    box = q[0] / (12.0 * p.canyon_lambda * p.wind_speed_ms)
    assert canyon == pytest.approx(max(open_road, box), rel=1e-12)
    assert canyon > open_road

    homes_canyon = air_exposure(_area(blocks), tr, p).homes
    homes_open = air_exposure(_area(_row_of_blocks(6.0, 16.0) + _row_of_blocks(-16.0, -6.0, 200.0, 260.0)), tr, p).homes
    assert homes_canyon["canyon"].any()
    first = homes_canyon.geometry.x.sub(X0 + 4.5).abs().lt(0.1) & homes_canyon.geometry.y.gt(Y0)
    first_open = homes_open.geometry.x.sub(X0 + 4.5).abs().lt(0.1) & homes_open.geometry.y.gt(Y0)
    assert homes_canyon.loc[first, "no2_ugm3"].iloc[0] > homes_open.loc[first_open, "no2_ugm3"].iloc[0]


# ----------------------------------------------------------------------------------------------
# the layer: homes, destinations, per wijk, baseline raster, bad input
# ----------------------------------------------------------------------------------------------


def _pois() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"poi_id": ["a", "b", "c", "d"], "category": ["school", "school", "healthcare", "shop"],
         "subtype": ["school", "kindergarten", "hospital", "bakery"], "name": ["S", "K", "H", "B"], "wheelchair": None},
        geometry=[shapely.Point(X0 - 300, Y0 + 25), shapely.Point(X0 + 300, Y0 + 200), shapely.Point(X0 + 50, Y0 - 400),
                  shapely.Point(X0, Y0 + 10)],
        crs=CRS,
    )


def test_air_exposure_per_wijk_and_destinations():
    blocks = _row_of_blocks(20.0, 30.0, -400.0, 400.0) + _row_of_blocks(200.0, 210.0, -400.0, 400.0)
    residents = list(np.linspace(1.0, 5.0, len(blocks)))
    area = _area(blocks, residents, _pois())
    res = air_exposure(area, _traffic([_road()]))
    h = res.homes
    bg = res.params.background_no2_ugm3
    assert np.all(h["no2_ugm3"] > bg) and np.all(h["pm25_ugm3"] > res.params.background_pm25_ugm3)
    near = h.geometry.y < Y0 + 100
    assert h.loc[near, "no2_ugm3"].min() > h.loc[~near, "no2_ugm3"].max()  # the front row is worse off
    # population-weighted means per wijk, by hand
    for code, grp in h.groupby("wijk_code"):
        row = res.per_wijk.set_index("wijk_code").loc[code]
        assert row["no2_mean_ugm3"] == pytest.approx(np.average(grp["no2_ugm3"], weights=grp["residents"]))
        assert row["residents_above_who_no2"] == pytest.approx(grp.loc[grp["no2_ugm3"] > 10.0, "residents"].sum())
    # residents per class add up to all residents, for both pollutants
    for pol in ("no2", "pm25"):
        assert res.per_class.query("pollutant == @pol")["residents"].sum() == pytest.approx(sum(residents))
    # destinations: kindergarten -> childcare, hospital, school; the shop is not sensitive
    kinds = dict(zip(res.destinations["poi_id"], res.destinations["kind"]))
    assert kinds == {"a": "school", "b": "childcare", "c": "hospital"}
    assert res.per_wijk["destinations"].sum() == 3
    for pol in ("no2", "pm25"):
        by_class = res.per_wijk[[f"destinations_{pol}_class_{c}" for c in range(1, 6)]].sum(axis=1)
        assert by_class.tolist() == res.per_wijk["destinations"].tolist()
    assert res.baseline == {"no2": "model", "pm25": "model"}
    assert any("projectstandaard" in n for n in res.notes)
    assert {"background_no2_ugm3", "who_no2_ugm3", "eu2030_pm25_ugm3"} <= set(res.norms_used)


def test_unknown_residents_are_onbekend_not_zero():
    area = _area(_row_of_blocks(20.0, 30.0), residents=[0.0] * 30)
    res = air_exposure(area, _traffic([_road()], aadt=30000.0))
    per = res.per_wijk
    assert per["residents"].isna().all() and per["residents_above_who_no2"].isna().all()
    assert per["homes_above_who_no2"].sum() == len(res.homes) == 30  # every home is above 10 µg/m³ NO2
    assert res.per_class["residents"].isna().all()
    assert any("Inwonersaantallen zijn onbekend" in n for n in res.notes)


def _write_raster(path, value: float, lonlat_bounds: tuple[float, float, float, float], nodata_all: bool = False) -> None:
    data = np.full((40, 40), -9999.0 if nodata_all else value, dtype="float32")
    with rasterio.open(path, "w", driver="GTiff", height=40, width=40, count=1, dtype="float32", crs="EPSG:4326",
                       transform=from_bounds(*lonlat_bounds, 40, 40), nodata=-9999.0) as dst:
        dst.write(data, 1)


def _lonlat_bounds(margin_m: float = 1500.0) -> tuple[float, float, float, float]:
    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    xs, ys = t.transform([X0 - margin_m, X0 + margin_m], [Y0 - margin_m, Y0 + margin_m])
    return (min(xs), min(ys), max(xs), max(ys))


def test_baseline_raster_in_other_crs_then_model_adds_only_the_change(tmp_path):
    path = tmp_path / "no2_wgs84.tif"
    _write_raster(path, 25.0, _lonlat_bounds())
    area = _area(_row_of_blocks(20.0, 30.0))
    plan = _traffic([_road()], aadt=12000.0)
    res = air_exposure(area, plan, baseline_raster=path)
    assert res.homes["no2_ugm3"].to_numpy() == pytest.approx(np.full(len(res.homes), 25.0), abs=1e-9)
    assert res.baseline["no2"].startswith("raster:") and res.baseline["pm25"] == "model"
    before = _traffic([_road()], aadt=0.0)
    res2 = air_exposure(area, plan, baseline_raster={"no2": path}, reference_traffic=before)
    p = res2.params
    expected = no2_from_nox(nox_from_no2(np.array([25.0]), p) + res2.homes["nox_increment_ugm3"].to_numpy(), p)
    assert res2.homes["no2_ugm3"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert np.all(res2.homes["no2_ugm3"] > 25.0)
    assert any("officiële kaart" in n for n in res2.notes)


def test_baseline_raster_without_overlap_is_refused(tmp_path):
    path = tmp_path / "elsewhere.tif"
    _write_raster(path, 25.0, (10.0, 50.0, 10.1, 50.1))
    with pytest.raises(GezondeStadError, match="overlapt niet"):
        air_exposure(_area(_row_of_blocks(20.0, 30.0)), _traffic([_road()]), baseline_raster=path)
    nodata = tmp_path / "nodata.tif"
    _write_raster(nodata, 25.0, _lonlat_bounds(), nodata_all=True)
    with pytest.raises(AirInputError, match="overlapt niet"):
        air_exposure(_area(_row_of_blocks(20.0, 30.0)), _traffic([_road()]), baseline_raster={"pm25": nodata})


def test_baseline_raster_partly_outside_gives_onbekend(tmp_path):
    t = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    xs, ys = t.transform([X0 - 1500, X0], [Y0 - 1500, Y0 + 1500])
    path = tmp_path / "west_only.tif"
    _write_raster(path, 22.0, (min(xs), min(ys), max(xs), max(ys)))
    res = air_exposure(_area(_row_of_blocks(20.0, 30.0)), _traffic([_road()]), baseline_raster=path)
    west = res.homes.geometry.x.to_numpy() < X0 - 50  # clear of the raster edge (a WGS84 cell is not a Lambert line)
    east = res.homes.geometry.x.to_numpy() > X0 + 50
    assert res.homes.loc[west, "no2_ugm3"].to_numpy() == pytest.approx(np.full(west.sum(), 22.0))
    assert res.homes.loc[east, "no2_ugm3"].isna().all() and (res.homes.loc[east, "no2_class"] == 0).all()
    assert res.homes["pm25_ugm3"].notna().all()  # PM2.5 still from the model
    assert any("buiten het basisraster NO2" in n for n in res.notes)


@pytest.mark.parametrize(
    "column,value,message",
    [("aadt", np.nan, "onbekende etmaalintensiteit"), ("aadt", -5.0, "negatieve"), ("heavy_share", 1.5, "vrachtverkeer"),
     ("speed_kmh", 400.0, "snelheid")],
)
def test_bad_traffic_is_refused_in_dutch(column, value, message):
    tr = _traffic([_road(), _road(500.0)])
    tr.loc[1, column] = value
    with pytest.raises(AirInputError, match=message):
        air_exposure(_area(_row_of_blocks(20.0, 30.0)), tr)


def test_nan_background_is_refused():
    with pytest.raises(AirInputError, match="achtergrondconcentratie"):
        air_exposure(_area(_row_of_blocks(20.0, 30.0)), _traffic([_road()]), AirParams.from_norms(background_no2_ugm3=float("nan")))


def test_grid_covers_the_area_and_agrees_with_homes():
    area = _area(_row_of_blocks(20.0, 30.0))
    res = air_exposure(area, _traffic([_road()]), grid_resolution_m=50.0)
    assert res.grid is not None and res.grid.shape == (24, 40)
    no2 = res.cells["no2_ugm3"]
    assert np.isfinite(no2).all()
    # the row of cells along the road is the highest, and the map decays away from it
    prof = no2[:, 20]
    assert prof.argmax() in (11, 12)
    assert prof[0] < prof[6] < prof[11]


def test_local_recompute_equals_full_recompute():
    """A plan: more traffic on one street, 30 km/h on another, one street closed, new buildings that make a canyon."""
    streets = [_road(300.0), shapely.LineString([(X0 - 300, Y0 - 500), (X0 - 300, Y0 + 500)]),
               shapely.LineString([(X0 + 300, Y0 - 500), (X0 + 300, Y0 + 500)])]
    before_blocks = _row_of_blocks(6.0, 16.0) + _row_of_blocks(60.0, 70.0, -400.0, 400.0)
    before = air_exposure(_area(before_blocks), _traffic(streets, aadt=[12000.0, 3000.0, 4000.0]), grid_resolution_m=50.0)
    after_area = _area(before_blocks + _row_of_blocks(-16.0, -6.0))  # the other side: a canyon
    after_traffic = _traffic(streets, aadt=[18000.0, 3000.0, 4000.0])
    after_traffic.loc[1, "speed_kmh"] = 30.0
    after_traffic = after_traffic.drop(index=2)
    full = air_exposure(after_area, after_traffic, grid_resolution_m=50.0)
    local = air_exposure(after_area, after_traffic, grid_resolution_m=50.0, previous=before)
    assert any("Lokale herberekening" in n for n in local.notes)
    for col in ("no2_ugm3", "pm25_ugm3", "nox_increment_ugm3"):
        assert local.homes[col].to_numpy() == pytest.approx(full.homes[col].to_numpy(), rel=1e-9, abs=1e-12)
    assert local.cells["no2_ugm3"] == pytest.approx(full.cells["no2_ugm3"], rel=1e-9)
    assert local.homes["canyon"].tolist() == full.homes["canyon"].tolist()
    assert np.isfinite(local.segments["canyon_width_m"]).sum() == 1  # the road between the two rows
    # and the plan changed something: homes on the busier road got more NO2
    same = before.homes.merge(local.homes, on="building_id", suffixes=("_b", "_a"))
    assert (same["no2_ugm3_a"] > same["no2_ugm3_b"]).any()


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------


def test_cli_air_writes_map_homes_and_csv(demo_dir, tmp_path, capsys):
    from gezondestad.app.cli.main import main

    out = tmp_path / "air.tif"
    assert main(["air", "--area", str(demo_dir), "--out", str(out), "--grid-m", "40"]) == 0
    assert out.is_file() and (tmp_path / "air_homes.gpkg").is_file() and (tmp_path / "air.csv").is_file()
    per = pd.read_csv(tmp_path / "air.csv")
    assert {"wijk_code", "no2_mean_ugm3", "pm25_mean_ugm3", "residents_above_eu2030_no2"} <= set(per.columns)
    homes = gpd.read_file(tmp_path / "air_homes.gpkg", layer="homes")
    assert (homes["no2_ugm3"] >= 18.0).all()
    with rasterio.open(out) as src:
        assert src.count == 2 and src.descriptions == ("no2_ugm3", "pm25_ugm3")

    bad = tmp_path / "bad"
    rc = main(["air", "--area", str(demo_dir), "--out", str(bad / "air.tif"), "--baseline-no2", str(tmp_path / "missing.tif")])
    assert rc == 2
    assert "niet gevonden" in capsys.readouterr().err
    assert not bad.exists() or not any(bad.iterdir())
