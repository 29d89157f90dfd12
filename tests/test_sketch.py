"""A plan drawn on the map becomes the same validated plan as an upload, and round-trips as a plan file."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box, mapping

from gezondestad.layers.demo import X0, Y0
from gezondestad.screening.plan import PlanError, read_plan
from gezondestad.screening.sketch import SketchError, plan_from_drawings, plan_geojson


def _wgs84(geom, crs):
    return mapping(gpd.GeoSeries([geom], crs=crs).to_crs("EPSG:4326").iloc[0])


def _drawing(geom, crs):
    return {"type": "Feature", "properties": {}, "geometry": _wgs84(geom, crs)}


def test_drawn_plan_is_validated_and_round_trips(demo_area, tmp_path):
    crs = demo_area.crs
    blk = box(X0 + 1400, Y0 + 950, X0 + 1480, Y0 + 1000)
    park = box(X0 + 1500, Y0 + 950, X0 + 1600, Y0 + 1050)
    school = shapely.Point(X0 + 1450, Y0 + 1100)
    drawings = [_drawing(blk, crs), _drawing(park, crs), _drawing(school, crs)]
    attrs = [{"feature_type": "building", "dwellings": "40", "levels": 4, "name": "Blok <b>X</b>"},
             {"feature_type": "green", "kind": "park", "public": True},
             {"feature_type": "facility", "kind": "school"}]
    plan = plan_from_drawings(drawings, attrs, demo_area, name="Schets")
    f = plan.features
    assert list(f["feature_type"]) == ["building", "green", "facility"]
    assert f.crs == demo_area.crs
    assert abs(f.geometry.iloc[0].area - blk.area) / blk.area < 1e-6  # reprojected back within a millionth
    assert float(f["dwellings"].iloc[0]) == 40
    out = tmp_path / "schets.geojson"
    out.write_bytes(plan_geojson(plan))
    again = read_plan(out, area=demo_area)
    assert again.name == "Schets" and len(again.features) == 3
    assert list(again.features["feature_type"]) == ["building", "green", "facility"]
    assert again.features.geometry.iloc[0].equals_exact(f.geometry.iloc[0], 1e-6)


@pytest.mark.parametrize("attrs, words", [
    ({"feature_type": ""}, "kies wat het is"),
    ({"feature_type": "building", "dwellings": "veel"}, "moet een getal zijn"),
    ({"feature_type": "building", "dwellings": -3}, "tussen"),
    ({"feature_type": "street", "maxspeed": "90"}, "kies voor"),
])
def test_bad_form_values_get_a_dutch_message(demo_area, attrs, words):
    g = box(X0 + 1400, Y0 + 950, X0 + 1480, Y0 + 1000) if attrs["feature_type"] != "street" else shapely.LineString(
        [(X0 + 1400, Y0 + 950), (X0 + 1480, Y0 + 950)])
    with pytest.raises(SketchError, match=words):
        plan_from_drawings([_drawing(g, demo_area.crs)], [attrs], demo_area)


def test_nothing_drawn_and_wrong_geometry(demo_area):
    with pytest.raises(SketchError, match="nog niets getekend"):
        plan_from_drawings([], [], demo_area)
    line = shapely.LineString([(X0 + 1400, Y0 + 950), (X0 + 1480, Y0 + 950)])
    with pytest.raises(PlanError):  # a building must be a polygon
        plan_from_drawings([_drawing(line, demo_area.crs)], [{"feature_type": "building", "dwellings": 5}], demo_area)
