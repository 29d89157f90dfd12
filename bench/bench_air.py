"""Benchmark: annual NO2 / PM2.5 at every home of a Mechelen-sized area (prints figures, no asserts).

Streets: the real Mechelen 2017 OSM car roads, split into pieces of at most ``--piece-m`` metres
(about 14 000 segments at 100 m). Homes: the shared data hold no buildings, so the bench places
8 x 10 m blocks on both sides of the residential/tertiary streets every 12 m, 11 m from the axis
(bench assumption only; gives street canyons), up to ``--homes`` of them, 2.2 residents each.
Traffic: ``spatial.traffic.traffic_per_segment`` when present, else the class defaults of
``data/norms/traffic.toml`` (aadt, heavy share, default speed) read here.

Run:  python bench/bench_air.py [--homes 40000] [--piece-m 100] [--grid-m 20]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _split(lines: np.ndarray, piece_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut each line into pieces of at most ``piece_m`` (returns pieces and source index)."""
    out, src = [], []
    for i, g in enumerate(lines):
        L = g.length
        n = max(1, int(np.ceil(L / piece_m)))
        for k in range(n):
            out.append(shapely.ops.substring(g, k * L / n, (k + 1) * L / n))
            src.append(i)
    return np.array(out, dtype=object), np.array(src)


def _blocks(lines: np.ndarray, n_max: int, rng: np.random.Generator) -> np.ndarray:
    pts, nrm = [], []
    for g in lines:
        L = g.length
        for s in np.arange(6.0, L - 6.0, 12.0):
            p0 = np.array(g.interpolate(s - 1).coords[0])
            p1 = np.array(g.interpolate(s + 1).coords[0])
            t = (p1 - p0) / max(np.hypot(*(p1 - p0)), 1e-9)
            c = np.array(g.interpolate(s).coords[0])
            for side in (1, -1):
                pts.append(c + side * 11.0 * np.array([-t[1], t[0]]))
                nrm.append(t)
    pts = np.array(pts)
    nrm = np.array(nrm)
    if len(pts) > n_max:
        keep = rng.choice(len(pts), n_max, replace=False)
        pts, nrm = pts[keep], nrm[keep]
    boxes = [shapely.affinity.rotate(shapely.box(x - 4, y - 5, x + 4, y + 5), np.degrees(np.arctan2(t[1], t[0])), origin=(x, y))
             for (x, y), t in zip(pts, nrm)]
    # drop blocks that overlap a road axis
    return np.array(boxes, dtype=object)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--homes", type=int, default=40000)
    ap.add_argument("--piece-m", type=float, default=100.0)
    ap.add_argument("--grid-m", type=float, default=20.0, help="map grid cell size (0 = no grid)")
    args = ap.parse_args(argv)
    if not (MECHELEN / "wijken.gpkg").is_file():
        print(f"Mechelen data not found at {MECHELEN}; nothing to benchmark.")
        return 1
    import shapely.affinity
    import shapely.ops  # noqa: F401
    from gezondestad.model.norms import load_norms
    from gezondestad.model.studyarea import StudyArea
    from gezondestad.spatial import air

    rng = np.random.default_rng(13)
    t0 = time.perf_counter()
    wijken = gpd.read_file(MECHELEN / "wijken.gpkg")
    roads = gpd.read_file(MECHELEN / "mechelen_osm_roads_car_2017.gpkg", layer="roads")
    pieces, src = _split(np.asarray(roads.geometry.values, dtype=object), args.piece_m)
    streets = gpd.GeoDataFrame(
        {"edge_id": np.arange(len(pieces)), "highway": roads["highway"].to_numpy()[src], "maxspeed": roads["maxspeed"].to_numpy()[src]},
        geometry=pieces, crs=roads.crs,
    )
    local = streets["highway"].isin(["residential", "tertiary", "living_street", "unclassified", "secondary"]).to_numpy()
    blocks = _blocks(np.asarray(streets.geometry.values[local], dtype=object), args.homes, rng)
    buildings = gpd.GeoDataFrame({"building_id": np.arange(len(blocks)), "use": "house", "levels": 2, "residents": 2.2},
                                 geometry=blocks, crs=roads.crs)
    area = StudyArea(name="bench-mechelen", themes={"wijken": wijken, "streets": streets, "buildings": buildings,
                                                    "boundary": gpd.GeoDataFrame(geometry=[wijken.union_all()], crs=wijken.crs)})
    print(f"inputs: {len(streets):,} street segments, {len(buildings):,} homes (blocks), built in {time.perf_counter() - t0:.1f} s")

    t = time.perf_counter()
    if air.traffic_per_segment is not None:
        traffic = air.traffic_per_segment(area)
        how = "spatial.traffic.traffic_per_segment"
    else:
        n = load_norms("traffic")
        hw = streets["highway"].astype(str)
        speed = pd.to_numeric(streets["maxspeed"], errors="coerce")
        traffic = gpd.GeoDataFrame(
            {
                "edge_id": streets["edge_id"],
                "aadt": hw.map(n["aadt_per_class"].value).fillna(500.0).astype(float),
                "heavy_share": hw.map(n["heavy_share_per_class"].value).fillna(0.02).astype(float),
                "speed_kmh": speed.fillna(hw.map(n["default_speed_kmh_per_class"].value)).fillna(50.0).clip(5, 130).astype(float),
            },
            geometry=streets.geometry, crs=streets.crs,
        )
        how = "class defaults of data/norms/traffic.toml (traffic module absent)"
    print(f"traffic ({how}): {time.perf_counter() - t:.1f} s")

    p = air.AirParams.from_norms()
    t = time.perf_counter()
    width = air.street_canyons(np.asarray(traffic.geometry.values, dtype=object), buildings, p)
    print(f"street canyons: {int(np.isfinite(width).sum()):,} of {len(width):,} segments, {time.perf_counter() - t:.1f} s")

    t, c = time.perf_counter(), time.process_time()
    res = air.air_exposure(area, traffic, p)
    t_homes, c_homes = time.perf_counter() - t, time.process_time() - c
    h = res.homes
    print(f"air_exposure, homes + destinations only: {t_homes:.1f} s wall, {c_homes:.1f} s CPU "
          f"for {len(h):,} homes x {len(traffic):,} segments (machine load {os.getloadavg()[0]:.1f})")
    print(f"  NO2 at homes: mean {h.no2_ugm3.mean():.2f}, p95 {h.no2_ugm3.quantile(0.95):.2f}, max {h.no2_ugm3.max():.2f} µg/m³; "
          f"PM2.5 mean {h.pm25_ugm3.mean():.2f}, max {h.pm25_ugm3.max():.2f}; canyon façades {int(h.canyon.sum()):,}")
    print(res.per_class[res.per_class.pollutant == "no2"][["class", "label", "residents", "homes"]].to_string(index=False))
    # a plan's local recompute: +50 % traffic on the 20 segments nearest the centre, 30 km/h on 20 others,
    # and 300 new dwellings (blocks) next to the centre
    cx, cy = np.asarray(wijken.union_all().centroid.coords[0])
    d = shapely.distance(np.asarray(traffic.geometry.values, dtype=object), shapely.Point(cx, cy))
    order = np.argsort(d)
    plan = traffic.copy()
    plan.loc[plan.index[order[:20]], "aadt"] *= 1.5
    plan.loc[plan.index[order[20:40]], "speed_kmh"] = 30.0
    new = [shapely.box(cx + 40 + 12 * (i % 20), cy + 40 + 14 * (i // 20), cx + 48 + 12 * (i % 20), cy + 50 + 14 * (i // 20)) for i in range(300)]
    nb = gpd.GeoDataFrame({"building_id": np.arange(len(buildings), len(buildings) + 300), "use": "apartments", "levels": 4,
                           "residents": 2.2}, geometry=new, crs=roads.crs)
    area_after = StudyArea(name="bench-plan", themes={**area.themes, "buildings": pd.concat([buildings, nb], ignore_index=True)})
    t, c = time.perf_counter(), time.process_time()
    res_plan = air.air_exposure(area_after, plan, p, previous=res)
    print(f"plan, local recompute (40 segments changed, 300 new homes): {time.perf_counter() - t:.1f} s wall, "
          f"{time.process_time() - c:.1f} s CPU")
    print("  " + next(n for n in res_plan.notes if n.startswith("Lokale")))
    if args.grid_m > 0:
        t, c = time.perf_counter(), time.process_time()
        res_g = air.air_exposure(area, traffic, p, grid_resolution_m=args.grid_m)
        g = res_g.grid
        print(f"air_exposure with a {args.grid_m:g} m grid ({g.shape[0]} x {g.shape[1]}, {int(g.classes.sum()):,} cells inside): "
              f"{time.perf_counter() - t:.1f} s wall, {time.process_time() - c:.1f} s CPU")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
