"""Las Palmas de Gran Canaria end to end: prepare, cache load, every layer, one screening.

Prints seconds (wall clock, and CPU of this process: on a shared machine wall time includes waiting) and peak memory (MB, resident set of this process, ``ru_maxrss``; a step's peak
is the process peak reached by the end of that step, so it never goes down) per step:

    python bench/bench_las_palmas.py [--keep DIR]

Prepared from ``tests/real/las_palmas.toml`` (OSM .pbf + 29 school catchments as wijken + Guaguas
GTFS), working CRS UTM 28N. The screening plan is the demo example plan (housing, a park, a street)
moved onto the largest brownfield inside the city (synthetic; it only has to be city-sized work).
Also prints the city-wide figures of every layer (resident-weighted means over the wijken).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely import affinity

REPO = Path(__file__).resolve().parent.parent
TOML = REPO / "tests" / "real" / "las_palmas.toml"
DATA = REPO.parent / "shared" / "data" / "las_palmas"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _Clock:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def __call__(self, label: str, fn):  # type: ignore[no-untyped-def]
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        dt, dc = time.perf_counter() - t, time.process_time() - c
        self.rows.append((label, dt, _peak_mb()))
        print(f"{label:<38s} {dt:7.2f} s wall {dc:7.2f} s CPU   peak {_peak_mb():7.0f} MB", flush=True)
        return out


def _wmean(per: pd.DataFrame, col: str) -> float:
    w = pd.to_numeric(per.get("residents"), errors="coerce").fillna(0.0)
    v = pd.to_numeric(per[col], errors="coerce")
    ok = v.notna() & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, help="write the prepared study area here (default: a temporary folder)")
    args = ap.parse_args()
    if not (DATA / "las_palmas_osm_20230221.osm.pbf").is_file():
        print(f"Las Palmas data not found in {DATA}; nothing to measure.")
        return 0
    from gezondestad.layers.prepare import prepare_from_args
    from gezondestad.layers.studyarea import load_study_area, save_study_area
    from gezondestad.screening.compare import compute_situation, screen
    from gezondestad.screening.example_plan import example_plan_frame
    from gezondestad.screening.plan import plan_from_frame
    from gezondestad.spatial.accessibility import accessibility_indicators
    from gezondestad.spatial.aggregate import home_points
    from gezondestad.spatial.heat import HeatParams, heat_layer
    from gezondestad.spatial.indicators import network_indicators
    from gezondestad.spatial.water import WaterParams, water_layer

    clock = _Clock()
    area = clock("prepare (pbf + catchments + GTFS)", lambda: prepare_from_args(sources_toml=TOML))
    out = args.keep or Path(tempfile.mkdtemp(prefix="lp-bench-")) / "L"
    clock("save (gpkg + parquet + tif)", lambda: save_study_area(area, out))
    area = clock("cache load", lambda: load_study_area(out))
    print(f"  {area.name}: CRS {area.crs}, {len(area.streets)} street edges, {len(area.buildings)} buildings, "
          f"{len(area.pois)} POIs, land cover {area.landcover.shape} cells of {area.landcover.resolution_m:g} m")
    homes = clock("homes", lambda: home_points(area))
    ind = clock("network indicators (green, LTS, STOP)", lambda: network_indicators(area, homes=homes))
    acc = clock("accessibility (with missing links)", lambda: accessibility_indicators(area, homes=homes))
    heat = clock("heat", lambda: heat_layer(area.landcover, area.wijken, homes=homes, params=HeatParams.from_norms()))
    water = clock("water", lambda: water_layer(area.landcover, area.wijken, water=area.water, homes=homes, params=WaterParams.from_norms()))
    try:
        from gezondestad.spatial.noise import noise_layer  # noqa: F401  (lands with the noise family)

        print("  (noise family present: measured by the screening below)")
    except ImportError:
        pass

    lu = area.landuse
    bf = lu[lu["kind"] == "brownfield"]
    site = bf.geometry.values[int(np.argmax(bf.area.to_numpy()))] if len(bf) else shapely.centroid(shapely.union_all(area.wijken.geometry.values))
    anchor = shapely.centroid(site)
    f = example_plan_frame()
    c = shapely.centroid(shapely.union_all(f.geometry.values))
    f["geometry"] = [affinity.translate(g, anchor.x - c.x, anchor.y - c.y) for g in f.geometry]
    f = f.set_crs(area.crs, allow_override=True)  # metres stay metres: only the origin moves
    f["plan_name"] = "Voorbeeldplan verplaatst naar een braakliggend terrein in Las Palmas (synthetisch)"
    plan = plan_from_frame(f, area=area)
    before = clock("screening: baseline (all families)", lambda: compute_situation(area))
    res = clock("screening: plan (local after)", lambda: screen(area, plan, before=before, local=True))
    print(f"  plan at {anchor.x:.0f}, {anchor.y:.0f} ({area.crs}); baseline families: {', '.join(before.seconds)}; "
          f"unavailable: {before.errors or 'none'}; {len(res.deltas)} delta rows")

    per = ind.per_wijk
    figures = {
        "residents (estimated)": per["residents"].sum(),
        "green within 300 m (>= 0.5 ha), share": _wmean(per, "green_300m_05ha_share"),
        "cyclable length LTS <= 2, share": _wmean(per, "lts12_share_length"),
        "STOP S / T / O / P": " / ".join(f"{_wmean(per, c):.1f}" for c in ("stop_s", "stop_t", "stop_o", "stop_p")),
        "within 400 m of a served stop, share": _wmean(per, "bus_400m_share"),
        "walkable km": acc.segments["length_m"].sum() / 1000.0,
        "wheelchair pass share (length)": float(acc.segments.loc[acc.segments["verdict_wheelchair"] == "pass", "length_m"].sum() / acc.segments["length_m"].sum()),
        "heat index, mean of wijken": float(heat.per_wijk["heat_index_mean"].mean()),
        "runoff mm (design storm), mean of wijken": float(water.per_wijk["runoff_mm_mean"].mean()),
        "impervious share, mean of wijken": float(water.per_wijk["impervious_share"].mean()),
    }
    print("\nLas Palmas figures (Vlaamse normen toegepast):")
    for k, v in figures.items():
        print(f"  {k:<44s} {v if isinstance(v, str) else round(float(v), 3)}")
    for n in ind.notes:
        if len(n) < 300:
            print(f"  Opmerking: {n}")
    total = sum(t for _, t, _ in clock.rows)
    print(f"\ntotal {total:.1f} s, peak {_peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
