"""Timings of the traffic, noise and air families in the screening, on the demo town.

Prints the baseline time per family, then for each plan of ``tests/test_screening_exposure.py``
the "after" time of traffic/noise/air and of the whole screening, locally (``--local``) and, with
``--full``, fully; and the largest difference of local to full per-home Lden and NO2.

    python bench/bench_screening_exposure.py          # local only
    python bench/bench_screening_exposure.py --full   # local and full (slow: noise for every home twice)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from gezondestad.layers.demo import load_demo_area  # noqa: E402
from gezondestad.screening.compare import compute_situation, screen  # noqa: E402
from gezondestad.screening.plan import plan_from_frame  # noqa: E402
from test_screening_exposure import CENTRE_70, RAGHENO, RAIL, SCHOOL, ZONE_30  # noqa: E402

PLANS = {"60 woningen aan het spoor": RAIL, "centrumstraat 70 km/u": CENTRE_70, "kleuterschool aan de ring": SCHOOL,
         "410 woningen + 225 parkeerplaatsen": RAGHENO, "Dorpsstraat zone 30": ZONE_30}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    area = load_demo_area()
    t = time.perf_counter()
    base = compute_situation(area)
    print(f"demo: {len(base.homes)} homes, baseline {time.perf_counter() - t:.1f} s:",
          ", ".join(f"{k} {v:.1f} s" for k, v in base.seconds.items()))
    for name, rows in PLANS.items():
        plan = plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs), area=area)
        loc = screen(area, plan, before=base, local=True)
        exp = sum(loc.after.seconds.get(f, 0.0) for f in ("traffic", "noise", "air"))
        line = (f"{name}: local after {loc.seconds['after']:.1f} s (traffic+noise+air {exp:.1f} s: "
                + ", ".join(f"{f} {loc.after.seconds.get(f, 0.0):.2f}" for f in ("traffic", "noise", "air"))
                + f"), screening total {loc.seconds['total']:.1f} s")
        if args.full:
            full = screen(area, plan, before=base, local=False)
            fexp = sum(full.after.seconds.get(f, 0.0) for f in ("traffic", "noise", "air"))
            diffs = []
            for fam, col in (("noise", "lden_db"), ("air", "no2_ugm3")):
                a = loc.after.families[fam].homes[col].to_numpy(dtype=float)
                b = full.after.families[fam].homes[col].to_numpy(dtype=float)
                diffs.append(f"{col} max |local - full| {np.nanmax(np.abs(a - b)):.4f}")
            line += f"; full after {full.seconds['after']:.1f} s (traffic+noise+air {fexp:.1f} s); " + ", ".join(diffs)
        print(line)


if __name__ == "__main__":
    main()
