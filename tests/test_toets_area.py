"""Toegankelijkheidstoets in the study area's own CRS (a city outside Belgium) and Belgium as the default."""

from __future__ import annotations

import geopandas as gpd
import pytest
from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.toets import ToetsError, check_design
from pyproj import Transformer
from shapely.geometry import Point, box

UTM28 = "EPSG:32628"
# a 2 km square around Parque Santa Catalina, Las Palmas (UTM 28N metres)
X0, Y0 = 456_500.0, 3_112_000.0


def _area() -> StudyArea:
    b = gpd.GeoDataFrame({"name": ["vierkant"]}, geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000)], crs=UTM28)
    return StudyArea("Proefgebied Las Palmas", {"boundary": b}, crs=UTM28)


def _ramp(x: float, y: float, crs: str | int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"element": ["ramp"], "width_cm": [150], "slope_pct": [5.0], "length_m": [3.0]}, geometry=[Point(x, y)], crs=crs)


def test_design_in_wgs84_is_checked_in_the_area_crs():
    lon, lat = Transformer.from_crs(UTM28, 4326, always_xy=True).transform(X0 + 1000, Y0 + 1000)
    r = check_design(_ramp(lon, lat, 4326), area=_area())
    assert r.crs.to_epsg() == 32628
    # the point comes back where it was put, in metres of UTM 28N (not Lambert 72)
    assert r.geometry.iloc[0].x == pytest.approx(X0 + 1000, abs=0.01) and r.geometry.iloc[0].y == pytest.approx(Y0 + 1000, abs=0.01)
    assert set(r["verdict"]) <= {"pass", "fail", "unknown"} and (r["rule"] == "ramp_width").any()


def test_design_outside_the_area_is_refused_in_dutch():
    with pytest.raises(ToetsError, match="buiten het studiegebied 'Proefgebied Las Palmas'"):
        check_design(_ramp(X0 + 5000, Y0 + 1000, UTM28), area=_area())
    # a Belgian design against a Spanish area: refused, not silently converted
    with pytest.raises(ToetsError, match="buiten het studiegebied"):
        check_design(_ramp(4.48, 51.03, 4326), area=_area())


def test_without_area_belgium_stays_the_default():
    w = check_design(_ramp(4.48, 51.03, 4326))
    assert w.crs.to_epsg() == 31370 and 150_000 < w.geometry.iloc[0].x < 160_000
    with pytest.raises(ToetsError, match="outside Belgium"):
        check_design(_ramp(X0 + 1000, Y0 + 1000, UTM28))


def test_no_crs_names_the_area_crs():
    with pytest.raises(ToetsError, match="EPSG:32628"):
        check_design(gpd.GeoDataFrame({"element": ["ramp"]}, geometry=[Point(X0 + 10, Y0 + 10)]), area=_area())


def test_cli_toets_with_area(tmp_path, capsys):
    from gezondestad.app.cli.main import main
    from gezondestad.layers.studyarea import save_study_area

    save_study_area(_area(), tmp_path / "gebied")
    lon, lat = Transformer.from_crs(UTM28, 4326, always_xy=True).transform(X0 + 500, Y0 + 500)
    _ramp(lon, lat, 4326).to_file(tmp_path / "ontwerp.geojson")
    assert main(["toets", "--design", str(tmp_path / "ontwerp.geojson"), "--out", str(tmp_path / "t.csv"), "--area", str(tmp_path / "gebied")]) == 0
    assert (tmp_path / "t.csv").is_file()
    # without the area the Spanish design is refused (outside Belgium), one line, exit 2
    assert main(["toets", "--design", str(tmp_path / "ontwerp.geojson"), "--out", str(tmp_path / "t2.csv")]) == 2
    assert "outside Belgium" in capsys.readouterr().err
