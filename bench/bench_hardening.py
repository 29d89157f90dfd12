"""Hardening figures (issue 12): memory of a huge plan, time of a huge design, concurrent remarks.

Prints:

1. **Plan of 20,000 small buildings** (the plan-size limit; ~8 MB GeoJSON) screened locally on
   the demo town, in a child process: peak resident memory after the baseline and after reading
   and screening the plan (the difference is the plan's cost), and the time of each step.
2. **Toegankelijkheidstoets**: a design of 200,000 elements (refused, time to refuse) and one at
   the limit ``design_max_elements`` (time and peak memory of check + per-element verdicts).
3. **8 concurrent writers** of participation remarks (processes, 50 remarks each): remarks per
   second and latency per remark.

    python bench/bench_hardening.py             # all three
    python bench/bench_hardening.py --only plan  # plan | toets | writers
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

_PLAN_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    import geopandas as gpd, numpy as np, shapely
    from gezondestad.layers.demo import load_demo_area
    from gezondestad.screening import compare
    from gezondestad.screening.plan import read_plan

    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    n, path = int(sys.argv[1]), sys.argv[2]
    a = load_demo_area()
    x0, y0, x1, y1 = a.boundary.total_bounds
    side = int(np.ceil(np.sqrt(n)))
    step = min((x1 - x0 - 100) / side, (y1 - y0 - 100) / side)
    i = np.arange(n)
    cx, cy = x0 + 50 + (i % side) * step, y0 + 50 + (i // side) * step
    gpd.GeoDataFrame({"feature_type": ["building"] * n, "dwellings": [1] * n},
                     geometry=shapely.box(cx, cy, cx + step / 2, cy + step / 2), crs=a.crs).to_file(path, driver="GeoJSON")
    import os
    print(f"plan file {os.path.getsize(path) / 1e6:.1f} MB, {n} buildings of {step / 2:.1f} m x {step / 2:.1f} m")
    t = time.perf_counter(); before = compare.compute_situation(a); tb = time.perf_counter() - t
    base = rss()
    print(f"baseline: {tb:.1f} s, peak {base:.0f} MB")
    t = time.perf_counter(); p = read_plan(path, area=a); tr = time.perf_counter() - t
    t = time.perf_counter(); r = compare.screen(a, p, before=before, local=True); ts = time.perf_counter() - t
    peak = rss()
    print(f"read plan {tr:.1f} s; screen --local {ts:.1f} s (" + ", ".join(f"{k} {v:.1f}" for k, v in r.seconds.items()) + ")")
    print(f"peak {peak:.0f} MB = baseline + {peak - base:.0f} MB for the plan")
    """
)


def bench_plan(n: int = 20_000) -> None:
    print(f"\n== plan of {n} small buildings, screen --local on the demo town (child process, address space capped at 8 GB)")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-c", "import resource; resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30)); exec(open(0).read())", str(n), str(Path(tmp) / "plan.geojson")]
        t = time.perf_counter()
        r = subprocess.run(cmd, input=_PLAN_CHILD, capture_output=True, text=True, timeout=1800)
        print(r.stdout.rstrip() or r.stderr[-2000:])
        print(f"total {time.perf_counter() - t:.0f} s, exit {r.returncode}")


def _design(n: int):
    import geopandas as gpd
    import pandas as pd
    from gezondestad.screening.toets import example_design

    ex = example_design()
    reps = int(np.ceil(n / len(ex)))
    parts = []
    for k in range(reps):
        d = ex.copy()
        d["geometry"] = d.geometry.translate(xoff=(k % 100) * 300.0, yoff=(k // 100) * 300.0)
        d["id"] = [f"{k}-{i}" for i in d["id"]]
        parts.append(d)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True).iloc[:n], geometry="geometry", crs=ex.crs)


def bench_toets() -> None:
    from gezondestad.screening.toets import ToetsError, check_design, element_verdicts, max_design_elements

    print("\n== toegankelijkheidstoets")
    big = _design(200_000)
    t = time.perf_counter()
    try:
        check_design(big)
        print("200,000 elements: NOT refused")
    except ToetsError as exc:
        print(f"200,000 elements: refused in {time.perf_counter() - t:.3f} s: {exc}")
    del big
    n = max_design_elements()
    d = _design(n)
    t = time.perf_counter()
    r = check_design(d)
    tc = time.perf_counter() - t
    t = time.perf_counter()
    ev = element_verdicts(r)
    te = time.perf_counter() - t
    print(f"{n} elements (the limit): check {tc:.1f} s ({len(r)} rule rows), per-element verdicts {te:.1f} s ({len(ev)} rows), "
          f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _writer(db: str, n: int, q) -> None:
    from gezondestad.layers import participation as pt

    lat = []
    for i in range(n):
        t = time.perf_counter()
        pt.add_remark(db, "demo", "DEMO01", pt.CATEGORIES[0], f"opmerking {os.getpid()} {i}", 160500.0, 190500.0)
        lat.append(time.perf_counter() - t)
    q.put(lat)


def bench_writers(writers: int = 8, each: int = 50) -> None:
    from gezondestad.layers import participation as pt

    print(f"\n== {writers} concurrent writers x {each} remarks (processes, one SQLite file, WAL)")
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "p.sqlite")
        pt.init_db(db)
        q = mp.Queue()
        ps = [mp.Process(target=_writer, args=(db, each, q)) for _ in range(writers)]
        t = time.perf_counter()
        for p in ps:
            p.start()
        lat = sum((q.get() for _ in ps), [])
        for p in ps:
            p.join()
        el = time.perf_counter() - t
        assert pt.count_remarks(db) == writers * each
    lat_ms = np.asarray(lat) * 1000
    print(f"{len(lat)} remarks in {el:.2f} s = {len(lat) / el:.0f} remarks/s; latency per remark median {np.median(lat_ms):.0f} ms, "
          f"p95 {np.percentile(lat_ms, 95):.0f} ms, max {lat_ms.max():.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=["plan", "toets", "writers"])
    args = ap.parse_args()
    if args.only in (None, "writers"):
        bench_writers()
    if args.only in (None, "toets"):
        bench_toets()
    if args.only in (None, "plan"):
        bench_plan()


if __name__ == "__main__":
    main()
