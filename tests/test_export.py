"""gezondestad.layers.export: every theme to GeoPackage / GeoJSON / CSV and rasters to GeoTIFF, in Lambert 72 and WGS84."""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from affine import Affine
from gezondestad.layers.export import (
    ExportError,
    Raster,
    export_study_area,
    layer_to_bytes,
    to_csv_frame,
)
from gezondestad.model.studyarea import VECTOR_THEMES
from rasterio.io import MemoryFile
from shapely.geometry import Point


def test_gpkg_both_crs(demo_area, tmp_path):
    files = export_study_area(demo_area, tmp_path / "l72", "gpkg")
    gpkg = files[0]
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert layers == {t for t in VECTOR_THEMES if demo_area.has(t)}
    for t in layers:
        back = gpd.read_file(gpkg, layer=t)
        assert back.crs.to_epsg() == 31370 and len(back) == len(demo_area.themes[t])
    files = export_study_area(demo_area, tmp_path / "wgs", "gpkg", crs="EPSG:4326")
    assert files[0].name == "demostad_4326.gpkg"
    green = gpd.read_file(files[0], layer="green")
    assert green.crs.to_epsg() == 4326
    # back in Lambert the park areas are the same to 0.01 %
    assert green.to_crs(31370).area.to_numpy() == pytest.approx(demo_area.green.area.to_numpy(), rel=1e-4)
    man = json.loads((tmp_path / "wgs" / "manifest.json").read_text(encoding="utf-8"))
    assert man["export"] == {"format": "gpkg", "crs": "EPSG:4326", "files": ["demostad_4326.gpkg"]}
    assert man["synthetic"] is True


def test_geojson_is_rfc7946(demo_area, tmp_path):
    files = export_study_area(demo_area, tmp_path, "geojson", crs="EPSG:31370")
    pois = json.loads((tmp_path / "demostad_pois_4326.geojson").read_text(encoding="utf-8"))
    assert "crs" not in pois  # RFC 7946: no crs member, WGS84 implied
    assert len(pois["features"]) == len(demo_area.pois)
    lon, lat = pois["features"][0]["geometry"]["coordinates"]
    ref = demo_area.pois.to_crs(4326).geometry.iloc[0]
    assert (lon, lat) == pytest.approx((ref.x, ref.y), abs=1e-7)
    assert len([f for f in files if f.suffix == ".geojson"]) == sum(demo_area.has(t) for t in VECTOR_THEMES)


def test_csv_points_and_lines(demo_area, tmp_path):
    export_study_area(demo_area, tmp_path, "csv")
    pois = pd.read_csv(tmp_path / "demostad_pois.csv")
    assert len(pois) == len(demo_area.pois) and {"x", "y", "category"} <= set(pois.columns)
    assert pois["x"].to_numpy() == pytest.approx(demo_area.pois.geometry.x.to_numpy(), abs=1e-3)
    streets = pd.read_csv(tmp_path / "demostad_streets.csv")
    assert streets["wkt"].str.startswith("LINESTRING").all() and len(streets) == len(demo_area.streets)
    wgs = to_csv_frame(demo_area.pois, "EPSG:4326")
    assert {"lon", "lat"} <= set(wgs.columns) and wgs["lat"].between(49, 52).all()


def test_geotiff_landcover_both_crs(demo_area, tmp_path):
    (tif,) = [p for p in export_study_area(demo_area, tmp_path, "geotiff") if p.suffix == ".tif"]
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 31370 and src.nodata == 0
        np.testing.assert_array_equal(src.read(1), demo_area.landcover.classes)
    (tif4326,) = [p for p in export_study_area(demo_area, tmp_path, "geotiff", crs="EPSG:4326") if p.suffix == ".tif"]
    with rasterio.open(tif4326) as src:
        assert src.crs.to_epsg() == 4326
        a = src.read(1)
    # nearest-neighbour: same classes, shares within 2 percentage points
    orig = demo_area.landcover.classes
    for c in range(1, 7):
        assert (a[a > 0] == c).mean() == pytest.approx((orig[orig > 0] == c).mean(), abs=0.02)
    assert set(np.unique(a)) <= set(np.unique(orig))


def test_layer_to_bytes_all_formats(demo_area):
    g = layer_to_bytes(demo_area.green, "gpkg", layer="green")
    assert g[:16] == b"SQLite format 3\x00"
    gj = json.loads(layer_to_bytes(demo_area.green, "geojson"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == len(demo_area.green)
    csv = pd.read_csv(io.BytesIO(layer_to_bytes(demo_area.pois, "csv", "EPSG:4326")))
    assert len(csv) == len(demo_area.pois)
    tif = layer_to_bytes(demo_area.landcover, "geotiff")
    assert tif[:4] in (b"II*\x00", b"MM\x00*")
    # any numpy array + transform
    arr = np.arange(12, dtype="float32").reshape(3, 4)
    t = Affine(10, 0, 150000, 0, -10, 190030)
    with MemoryFile(layer_to_bytes((arr, t), "geotiff")) as mf, mf.open() as src:
        np.testing.assert_array_equal(src.read(1), arr)
        assert src.transform == t and src.crs.to_epsg() == 31370
    with MemoryFile(layer_to_bytes(Raster(arr, t), "tif", "EPSG:4326")) as mf, mf.open() as src:
        assert src.crs.to_epsg() == 4326 and 4.0 < src.bounds.left < 5.0


def test_export_errors(demo_area, tmp_path):
    with pytest.raises(ExportError, match="Onbekend exportformaat 'shp'"):
        export_study_area(demo_area, tmp_path, "shp")
    with pytest.raises(ExportError, match="enkel als geotiff"):
        layer_to_bytes(demo_area.landcover, "gpkg")
    with pytest.raises(ExportError, match="vectorgegevens"):
        layer_to_bytes(demo_area.pois, "geotiff")
    with pytest.raises(ExportError, match="Onbekend CRS"):
        layer_to_bytes(demo_area.pois, "csv", "EPSG:999999")
    nocrs = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)])
    with pytest.raises(ExportError, match="geen CRS"):
        layer_to_bytes(nocrs, "gpkg")
