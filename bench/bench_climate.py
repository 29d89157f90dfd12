"""Benchmark: heat and water layers on a Mechelen-sized land cover (prints timings, no asserts).

Land cover: the real Mechelen wijken (boundary = their union, 65.8 km²), the real 2017 OSM car
roads (buffered by the default street widths) and the real 2015 OSM waterways, rasterised with
:func:`gezondestad.model.landcover.rasterize_landcover` at 10 m (the rest is the background class, low
green: the shared data hold no buildings or parks). Waterway widths: OSM has none, so rivers and
canals get 30 m and smaller waterways 4 m (bench assumption only).

Run:  python bench/bench_climate.py [--resolution-m 10] [--repeat 3]

``--process DIR`` is the whole process that ``bench/compare_invest.py --speed`` times side by
side with InVEST: read ``DIR/aoi.gpkg`` (wijken) and ``DIR/lulc.tif`` by windows, run the heat
and water layers block by block and stream them to ``DIR/ours/heat.tif`` / ``DIR/ours/water.tif``
and the per-wijk CSVs (:func:`gezondestad.spatial.heat.heat_to_geotiff`,
:func:`gezondestad.spatial.water.water_to_geotiff`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
MECHELEN = REPO.parent / "shared" / "data" / "mechelen"

WATERWAY_WIDTH_M = {"river": 30.0, "canal": 30.0}
"""Bench-only widths of OSM waterway types (OSM 2015 extract has no width tags)."""


def mechelen_inputs(resolution_m: float = 10.0):
    """(landcover, wijken, water) for Mechelen from the shared real data."""
    from gezondestad.model.landcover import rasterize_landcover

    wijken = gpd.read_file(MECHELEN / "wijken.gpkg")
    boundary = gpd.GeoDataFrame(geometry=[wijken.union_all()], crs=wijken.crs)
    roads = gpd.read_file(MECHELEN / "mechelen_osm_roads_car_2017.gpkg", layer="roads")
    water = gpd.read_file(MECHELEN / "mechelen_osm_geofabrik_2015.gpkg", layer="waterways")
    water["width"] = water["type"].map(WATERWAY_WIDTH_M).fillna(4.0)
    water["kind"] = water["type"]
    lc = rasterize_landcover(boundary, streets=roads, water=water, resolution_m=resolution_m)
    return lc, wijken, water


def process(folder: Path, block_cells: int | None = None) -> None:
    """Whole heat + water run on exported inputs (what compare_invest.py times against InVEST).

    Streams: the land cover is read from ``lulc.tif`` by windows, every block's result goes
    straight to the output GeoTIFF and the per-wijk sums (no raster is held whole in memory).
    An older checkout without ``heat_to_geotiff`` (``--baseline``) runs its in-memory path.
    """
    import rasterio
    from gezondestad.spatial import heat, water

    wijken = gpd.read_file(folder / "aoi.gpkg")
    out = folder / "ours"
    kw = {"block_cells": block_cells} if block_cells else {}  # without it also runs an older checkout (PYTHONPATH)
    if not hasattr(heat, "heat_to_geotiff"):
        from gezondestad.layers.studyarea import read_landcover
        from gezondestad.spatial.raster import write_bands

        lc = read_landcover(folder / "lulc.tif")
        h = heat.heat_layer(lc, wijken, **kw)
        write_bands(out / "heat.tif", h.bands(), lc)
        h.per_wijk.to_csv(out / "heat_per_wijk.csv", index=False)
        del h
        w = water.water_layer(lc, wijken, **kw)
        write_bands(out / "water.tif", w.bands(), lc)
        w.per_wijk.to_csv(out / "water_per_wijk.csv", index=False)
        return
    from gezondestad.spatial.blocks import LandCoverFile

    with rasterio.Env(GDAL_CACHEMAX=32):
        lc = LandCoverFile(folder / "lulc.tif")
        hr = heat.heat_to_geotiff(lc, wijken, out / "heat.tif", **kw)
        hr.per_wijk.to_csv(out / "heat_per_wijk.csv", index=False)
        wr = water.water_to_geotiff(lc, wijken, out / "water.tif", **kw)
        wr.per_wijk.to_csv(out / "water_per_wijk.csv", index=False)
        lc.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution-m", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--process", type=Path, help="run heat + water on DIR/lulc.tif + DIR/aoi.gpkg (see module docstring)")
    ap.add_argument("--block-cells", type=int, default=None)
    args = ap.parse_args(argv)
    if args.process:
        process(args.process, args.block_cells)
        return 0
    if not (MECHELEN / "wijken.gpkg").is_file():
        print(f"Mechelen data not found at {MECHELEN}; nothing to benchmark.")
        return 1
    from gezondestad.model.landcover import class_shares
    from gezondestad.spatial.heat import heat_layer
    from gezondestad.spatial.water import water_layer

    t = time.perf_counter()
    lc, wijken, water = mechelen_inputs(args.resolution_m)
    t_lc = time.perf_counter() - t
    valid = int((lc.classes != 0).sum())
    print(f"land cover {lc.shape[0]} x {lc.shape[1]} = {lc.classes.size:,} cells, {valid:,} inside "
          f"({valid * lc.resolution_m**2 / 1e6:.1f} km2) at {lc.resolution_m:g} m; rasterised in {t_lc:.2f} s")
    print("class shares:", {k: round(v, 3) for k, v in class_shares(lc).items()})
    heat_t, water_t = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        h = heat_layer(lc, wijken)
        heat_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        w = water_layer(lc, wijken, water=water)
        water_t.append(time.perf_counter() - t)
    print(f"heat_layer : best {min(heat_t):.2f} s, median {np.median(heat_t):.2f} s over {args.repeat} runs")
    print(f"water_layer: best {min(water_t):.2f} s, median {np.median(water_t):.2f} s over {args.repeat} runs")
    cols_h = ["wijk_code", "wijk_naam", "heat_index_mean", "heat_index_p90", "t_air_mean", "area_hot_share"]
    cols_w = ["wijk_code", "runoff_mm_mean", "impervious_share", "flood_prone_share"]
    print(h.per_wijk[cols_h].merge(w.per_wijk[cols_w], on="wijk_code").round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
