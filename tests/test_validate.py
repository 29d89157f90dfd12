"""gezondestad.layers.validate: every way a user file can be wrong gives one clear InputError; repairs are counted."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from gezondestad.layers.validate import InputError, read_vector, safe_extract_zip
from gezondestad.model.studyarea import StudyAreaError
from shapely.geometry import Point, Polygon

# two small squares in central Mechelen (Lambert 72) and the same places in lon/lat
SQ1 = Polygon([(157000, 189000), (157100, 189000), (157100, 189100), (157000, 189100)])
SQ2 = Polygon([(157200, 189000), (157300, 189000), (157300, 189100), (157200, 189100)])
BOWTIE = Polygon([(157400, 189000), (157500, 189100), (157500, 189000), (157400, 189100)])  # self-intersecting


def _write(gdf: gpd.GeoDataFrame, path: Path, **kw) -> Path:
    gdf.to_file(path, **kw)
    return path


def test_input_error_is_a_study_area_error():
    assert issubclass(InputError, StudyAreaError) and issubclass(InputError, ValueError)


def test_reads_gpkg_and_counts_repairs(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"wijk_code": ["A", "B", "C", "D"], "wijk_naam": ["a", "b", "c", "d"]},
        geometry=[SQ1, BOWTIE, None, Polygon()],
        crs="EPSG:31370",
    )
    p = _write(gdf, tmp_path / "w.gpkg", layer="wijken")
    res = read_vector(p, "wijken", expected_columns=["wijk_code"])
    assert list(res.gdf["wijk_code"]) == ["A", "B"]
    assert res.repairs == {"invalid_repaired": 1, "empty_dropped": 2}
    assert res.gdf.geometry.is_valid.all()
    # the bow-tie becomes two triangles of 2500 m2 each, not a sliver or a line
    assert res.gdf.geometry.iloc[1].area == pytest.approx(5000.0)
    assert res.gdf.crs.to_epsg() == 31370


def test_reprojects_4326_to_lambert(tmp_path):
    pts = gpd.GeoDataFrame({"name": ["Grote Markt"]}, geometry=[Point(4.4793, 51.0279)], crs="EPSG:4326")
    res = read_vector(_write(pts, tmp_path / "p.geojson"))
    x, y = res.gdf.geometry.iloc[0].x, res.gdf.geometry.iloc[0].y
    # Grote Markt lies in the Centrum wijk: x 157 755, y 190 863 (pyproj); tolerance 100 m
    assert x == pytest.approx(157_755, abs=100) and y == pytest.approx(190_863, abs=100)


def test_missing_crs_is_an_error_unless_assumed(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["x"]}, geometry=[SQ1], crs="EPSG:31370")
    p = _write(gdf, tmp_path / "nocrs.shp")
    p.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match="nocrs.shp.*no coordinate reference system"):
        read_vector(p)
    res = read_vector(p, assume_crs="EPSG:31370")
    assert res.repairs["crs_assumed"] == 1
    assert res.gdf.geometry.iloc[0].equals(SQ1)  # same square (shapefile may reorient the ring)


def test_swapped_lonlat_detected_and_fixable(tmp_path):
    swapped = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[Point(51.0279, 4.4793), Point(51.03, 4.48)], crs="EPSG:4326")
    p = _write(swapped, tmp_path / "swapped.geojson")
    with pytest.raises(InputError, match="swapped"):
        read_vector(p)
    res = read_vector(p, fix_swapped=True)
    assert res.repairs["lonlat_swapped"] == 2
    assert res.gdf.geometry.iloc[0].x == pytest.approx(157_755, abs=100)


def test_degrees_declared_as_lambert(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[Point(4.4793, 51.0279)], crs="EPSG:31370")
    with pytest.raises(InputError, match="look like longitude/latitude degrees"):
        read_vector(_write(gdf, tmp_path / "deg.gpkg"))


def test_lambert_declared_as_degrees(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[SQ1], crs="EPSG:31370").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputError, match="Lambert 72 metres: declare EPSG:31370"):
        read_vector(_write(gdf, tmp_path / "lam.gpkg"))


def test_no_expected_column_lists_both(tmp_path):
    gdf = gpd.GeoDataFrame({"foo": [1], "bar": [2]}, geometry=[SQ1], crs="EPSG:31370")
    with pytest.raises(InputError) as ei:
        read_vector(_write(gdf, tmp_path / "cols.gpkg"), expected_columns=["wijk_code", "wijk_naam"])
    msg = str(ei.value)
    assert "cols.gpkg" in msg and "wijk_code, wijk_naam" in msg and "foo, bar" in msg


def test_broken_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.gpkg"
    bad.write_bytes(b"this is not a geopackage")
    with pytest.raises(InputError, match="broken.gpkg"):
        read_vector(bad)
    with pytest.raises(InputError, match="nothere.gpkg: file not found"):
        read_vector(tmp_path / "nothere.gpkg")


def test_unknown_layer_and_ambiguous_layers(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[SQ1], crs="EPSG:31370")
    p = tmp_path / "two.gpkg"
    gdf.to_file(p, layer="one")
    gdf.to_file(p, layer="two")
    with pytest.raises(InputError, match="several layers \\(one, two\\)"):
        read_vector(p)
    with pytest.raises(InputError, match="no layer 'three'"):
        read_vector(p, "three")
    assert len(read_vector(p, "two").gdf) == 1


def _shapefile_zip(tmp_path: Path) -> Path:
    gdf = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[SQ1, SQ2], crs="EPSG:31370")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gdf.to_file(shp_dir / "parken.shp")
    z = tmp_path / "parken.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, arcname=f"parken/{f.name}")
    return z


def test_zipped_shapefile(tmp_path):
    res = read_vector(_shapefile_zip(tmp_path))
    assert len(res.gdf) == 2 and res.gdf.crs.to_epsg() == 31370
    assert res.gdf.area.sum() == pytest.approx(20_000.0)


@pytest.mark.parametrize(
    "member, pattern",
    [("../../evil.txt", "outside the extraction folder"), ("/etc/evil.txt", "absolute path"), ("C:/evil.txt", "absolute path")],
)
def test_zip_slip_refused(tmp_path, member, pattern):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr(member, "pwned")
    target = tmp_path / "x" / "y"
    target.mkdir(parents=True)
    with pytest.raises(InputError, match=pattern):
        safe_extract_zip(z, target)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "x" / "evil.txt").exists()
    with pytest.raises(InputError, match=pattern):
        read_vector(z)


def test_zip_symlink_refused(tmp_path):
    z = tmp_path / "link.zip"
    info = zipfile.ZipInfo("link.shp")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match="symbolic link"):
        read_vector(z)


def test_zip_bomb_refused(tmp_path):
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.geojson", b"0" * 5_000_000)
    with pytest.raises(InputError, match="exceeds the limit"):
        read_vector(z, max_unzipped_bytes=1_000_000)


def test_zip_without_vector_file(tmp_path):
    z = tmp_path / "docs.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("readme.txt", "no data")
    with pytest.raises(InputError, match="holds no vector file"):
        read_vector(z)


def test_geojson_in_lambert_needs_force_crs(tmp_path):
    # GeoJSON has no CRS member: GDAL reads it as EPSG:4326 although the numbers are Lambert 72
    p = tmp_path / "lambert.geojson"
    p.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "a"}, '
        '"geometry": {"type": "Point", "coordinates": [157755.0, 190863.0]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="look like Belgian Lambert 72 metres.*force_crs"):
        read_vector(p)
    res = read_vector(p, force_crs="EPSG:31370")
    assert res.repairs["crs_overridden"] == 1
    assert (res.gdf.geometry.iloc[0].x, res.gdf.geometry.iloc[0].y) == (157755.0, 190863.0)
