"""A Ragheno-like example plan for the demo town's brownfield "Stationsveld" (synthetic, deterministic).

The real Ragheno site in Mechelen is a former railway workshop area next to the station being
redeveloped into a mixed neighbourhood with a park. This example only borrows the idea: on
the demo town's brownfield (Lambert 72 x 161 355-161 795, y 190 905-191 195, see
:mod:`layers.demo`) it places

- five housing blocks (4-6 levels, 430 dwellings in all) with private courtyard gardens,
- a public park of ~2.2 ha with trees ("Stationsveldpark"),
- a fietsstraat running north-south through the site, connected to the streets at both ends,
  and the existing street along the north edge turned into a fietsstraat,
- a wadi collecting rainwater, a paved car park, and two paths linking the site to the
  streets east and west of it.

``python -m screening.example_plan`` rewrites ``data/examples/ragheno_demo_plan.geojson``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.studyarea import CRS
from shapely.geometry import LineString, box

EXAMPLE_PLAN_PATH = Path(__file__).resolve().parent.parent / "data" / "examples" / "ragheno_demo_plan.geojson"
"""The shipped example plan (committed)."""

PLAN_NAME = "Stationsveld – voorbeeldplan (synthetisch, Ragheno-achtig)"


def _r(x0: float, y0: float, x1: float, y1: float):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _l(*pts: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def example_plan_frame() -> gpd.GeoDataFrame:
    """The example plan as a GeoDataFrame in EPSG:31370 (same on every machine)."""
    rows: list[dict] = []

    def building(name: str, geom, dwellings: int, levels: int, use: str = "residential") -> None:
        rows.append({"feature_type": "building", "name": name, "dwellings": dwellings, "levels": levels, "use": use, "geometry": geom})

    building("Blok A", _r(1370, 915, 1555, 955), 90, 5)
    building("Blok B", _r(1370, 990, 1555, 1035), 80, 4)
    building("Blok C", _r(1370, 1065, 1555, 1105), 80, 4)
    building("Blok D", _r(1370, 1140, 1555, 1185), 110, 6)
    building("Blok E", _r(1600, 915, 1690, 1035), 70, 5)
    rows.append({"feature_type": "green", "name": "Binnentuin A-B", "public": False, "kind": "garden", "geometry": _r(1370, 955, 1555, 990)})
    rows.append({"feature_type": "green", "name": "Binnentuin C-D", "public": False, "kind": "garden", "geometry": _r(1370, 1105, 1555, 1140)})
    rows.append({"feature_type": "green", "name": "Stationsveldpark", "public": True, "kind": "park", "trees": 0.3, "geometry": _r(1600, 1062, 1785, 1185)})
    rows.append({"feature_type": "green", "name": "Bomenrij Fietsstraat", "public": True, "kind": "wood", "geometry": _r(1582, 1062, 1596, 1185)})
    rows.append({"feature_type": "wadi", "name": "Wadi Stationsveld", "geometry": _r(1700, 915, 1785, 960)})
    rows.append({"feature_type": "parking", "name": "Buurtparking", "paved": True, "geometry": _r(1700, 970, 1785, 1035)})
    rows.append({"feature_type": "street", "name": "Fietsstraat Stationsveld", "highway": "residential", "cyclestreet": "yes", "maxspeed": "30", "surface": "asphalt", "sidewalk": "both", "lit": "yes", "geometry": _l((1575, 900), (1575, 1200))})
    rows.append({"feature_type": "street", "name": "Noordrand (fietsstraat)", "highway": "residential", "cyclestreet": "yes", "maxspeed": "30", "geometry": _l((1350, 1200), (1800, 1200))})
    rows.append({"feature_type": "path", "name": "Parkpad", "mode": "bike+walk", "surface": "asphalt", "width": "3", "lit": "yes", "geometry": _l((1575, 1125), (1800, 1125))})
    rows.append({"feature_type": "path", "name": "Tuinpad", "mode": "walk", "surface": "paving_stones", "width": "2", "geometry": _l((1350, 972), (1575, 972))})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)
    gdf.insert(0, "plan_name", PLAN_NAME)
    return gdf


def write_example_plan(path: str | Path = EXAMPLE_PLAN_PATH) -> Path:
    """Write the example plan as GeoJSON (EPSG:31370, declared in the file) and return its path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.exists():
        p.unlink()
    example_plan_frame().to_file(p, driver="GeoJSON")
    return p


if __name__ == "__main__":
    print(write_example_plan())
