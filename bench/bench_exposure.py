"""Benchmark: traffic + CNOSSOS noise for a Mechelen-sized synthetic town; prints figures.

    python bench/bench_exposure.py            # ~40 000 homes, ~14 000 street segments
    python bench/bench_exposure.py --scale 0.25

The town is a regular grid of 80 m blocks (every 10th street a main road, a railway diagonal),
with 6 buildings of 2-3 storeys per block; homes are the buildings, all of them obstacles.
Reports wall and CPU time, peak memory (ru_maxrss), paths evaluated, and a plan's local recompute
(a new 8-storey block and a street turned into 70 km/h).
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import shapely
from gezondestad.layers.osm_tags import finalize_streets
from gezondestad.model.studyarea import CRS, StudyArea
from gezondestad.spatial.noise import NoiseParams, _sources, facade_points, noise_exposure
from gezondestad.spatial.traffic import traffic_per_segment
from shapely.geometry import LineString, box


def town(n_lines: int, block_m: float = 80.0, seed: int = 1) -> StudyArea:
    rng = np.random.default_rng(seed)
    x0, y0 = 150_000.0, 180_000.0
    rows = []
    for i in range(n_lines):
        for k in range(n_lines - 1):
            for horiz in (True, False):
                a = (x0 + k * block_m, y0 + i * block_m) if horiz else (x0 + i * block_m, y0 + k * block_m)
                b = (a[0] + block_m, a[1]) if horiz else (a[0], a[1] + block_m)
                main = i % 10 == 0
                rows.append({"geometry": LineString([a, b]), "highway": "secondary" if main else "residential",
                             "maxspeed": "50" if main else ("30" if rng.random() < 0.7 else None)})
    streets = finalize_streets(gpd.GeoDataFrame(rows, crs=CRS))
    bl = []
    for i in range(n_lines - 1):
        for k in range(n_lines - 1):
            bx, by = x0 + i * block_m, y0 + k * block_m
            for j in range(3):
                bl.append(box(bx + 8 + j * 22, by + 6, bx + 8 + j * 22 + 15, by + 18))
                bl.append(box(bx + 8 + j * 22, by + block_m - 18, bx + 8 + j * 22 + 15, by + block_m - 6))
    nb = len(bl)
    buildings = gpd.GeoDataFrame({"building_id": np.arange(nb), "levels": rng.integers(2, 4, nb), "use": "residential",
                                  "residents": 2.3}, geometry=bl, crs=CRS)
    ext = (n_lines - 1) * block_m
    q = ext / 4
    wijken = gpd.GeoDataFrame({"wijk_code": [f"W{i}{j}" for i in range(4) for j in range(4)], "wijk_naam": [f"Wijk {i}{j}" for i in range(4) for j in range(4)]},
                              geometry=[box(x0 + i * q, y0 + j * q, x0 + (i + 1) * q, y0 + (j + 1) * q) for i in range(4) for j in range(4)], crs=CRS)
    railways = gpd.GeoDataFrame({"railway_id": [0], "kind": ["rail"]}, geometry=[LineString([(x0 + 5, y0 + 45), (x0 + ext - 45, y0 + ext - 5)])], crs=CRS)
    return StudyArea(name="bench", themes={"streets": streets, "buildings": buildings, "wijken": wijken, "railways": railways,
                                           "boundary": gpd.GeoDataFrame({"name": ["bench"]}, geometry=[box(x0, y0, x0 + ext, y0 + ext)], crs=CRS)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="share of the Mechelen-sized town (1 = ~40 000 homes)")
    args = ap.parse_args()
    n = max(int(round(84 * np.sqrt(args.scale))), 4)
    t0 = time.time()
    area = town(n)
    print(f"town: {len(area.buildings)} buildings/homes, {len(area.streets)} street segments, {n - 1}x{n - 1} blocks ({time.time() - t0:.1f} s to build)")
    w0, c0 = time.time(), time.process_time()
    traffic = traffic_per_segment(area)
    print(f"traffic_per_segment: {time.time() - w0:.2f} s")
    p = NoiseParams.from_norms()
    w0, c0 = time.time(), time.process_time()
    res = noise_exposure(area, traffic, p, with_grid=False)
    wall, cpu = time.time() - w0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    h = res.homes
    print(f"noise at {len(h)} homes: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB")
    rows, _ = facade_points(area.buildings, _sources(area, traffic, None, p, None)[0], p)
    print(f"  facade candidates: {len(rows) / len(area.buildings):.2f} points per building (facade_nearest_roads {p.facade_nearest_roads:g})")
    print(f"  Lden mean {np.nanmean(h['lden_db']):.1f} dB, p95 {np.nanpercentile(h['lden_db'], 95):.1f} dB; above WHO Lden: {h['above_who_lden'].mean():.0%}")
    # a plan: an 8-storey block in one block, its street turned into 70 km/h; local recompute
    b = area.copy()
    c = b.buildings.geometry.iloc[len(b.buildings) // 2].centroid
    site = box(c.x - 20, c.y - 5, c.x + 20, c.y + 5)
    nb = b.buildings
    nb = nb[~nb.intersects(site)]
    new = gpd.GeoDataFrame({"building_id": [10**7], "levels": [8], "use": ["residential"], "residents": [60.0]}, geometry=[site], crs=CRS)
    b.themes["buildings"] = gpd.GeoDataFrame(__import__("pandas").concat([nb, new], ignore_index=True), crs=CRS)
    s = b.streets
    near = s.sindex.query(site.buffer(60), predicate="intersects")
    s.loc[s.index[near], "maxspeed"] = "70"
    t2 = traffic_per_segment(b)
    region = shapely.union_all([site, *s.geometry.values[near]])
    w0, c0 = time.time(), time.process_time()
    loc = noise_exposure(b, t2, p, with_grid=False, recompute_within=region, previous=res)
    print(f"plan local recompute ({int(shapely.intersects(np.asarray(loc.homes.geometry.values), shapely.buffer(region, p.max_distance_m)).sum())} homes within "
          f"{p.max_distance_m:g} m): wall {time.time() - w0:.1f} s, CPU {time.process_time() - c0:.1f} s")
    # grid map on one square kilometre
    sub = StudyArea(name="tile", themes={t: g.cx[150_000:151_000, 180_000:181_000] for t, g in area.themes.items() if t != "boundary"}
                    | {"boundary": gpd.GeoDataFrame({"name": ["tile"]}, geometry=[box(150_000, 180_000, 151_000, 181_000)], crs=CRS)})
    w0, c0 = time.time(), time.process_time()
    r2 = noise_exposure(sub, None, p, with_grid=True)
    print(f"1 km2 tile with 4 m grid ({r2.grid.shape[0]}x{r2.grid.shape[1]} cells, computed every {p.grid_compute_step_m:g} m): "
          f"wall {time.time() - w0:.1f} s, CPU {time.process_time() - c0:.1f} s")
    print(f"peak RSS overall {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
