"""Benchmark of the health layer: 40,000 homes, every pathway, current city and a plan, N draws.

Prints seconds per run and the stability of the Monte Carlo interval between two seeds.
Run: ``python bench/bench_health.py [--homes 40000] [--draws 1000]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from gezondestad.spatial.health import HealthParams, health_outcomes


def synthetic_homes(n: int, seed: int = 0) -> pd.DataFrame:
    """Mechelen-sized frame: every exposure column, 30 wijken with age shares and quintiles."""
    rng = np.random.default_rng(seed)
    wijk = rng.integers(0, 30, n)
    return pd.DataFrame(
        {
            "home_id": np.arange(n),
            "wijk_code": [f"W{w:02d}" for w in wijk],
            "residents": rng.gamma(2.0, 1.2, n),
            "share_65plus": 0.12 + 0.01 * (wijk % 10),
            "share_0_5": 0.05 + 0.002 * (wijk % 7),
            "deprivation_quintile": wijk % 5 + 1,
            "walk_access": rng.choice([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], n),
            "cycle_access": rng.choice([0.0, 0.5, 1.0], n),
            "pm25_ugm3": rng.normal(10.5, 1.2, n),
            "no2_ugm3": rng.normal(22.0, 6.0, n),
            "lden_db": rng.normal(56.0, 7.0, n),
            "lnight_db": rng.normal(47.0, 7.0, n),
            "tair_hot_day_c": 29.6 + rng.uniform(0.0, 3.0, n),
            "ndvi_proxy": rng.uniform(0.1, 0.6, n),
        }
    )


def plan_after(before: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A plan: 2 % of homes removed, 1,000 new ones, lower NO2 and noise near 5,000 homes."""
    rng = np.random.default_rng(seed)
    n = len(before)
    keep = rng.random(n) > 0.02
    a = before[keep].copy()
    a["before_index"] = np.where(keep)[0]
    near = rng.random(len(a)) < 5000 / n
    a.loc[near, "no2_ugm3"] -= 3.0
    a.loc[near, "lden_db"] -= 2.0
    a.loc[near, "cycle_access"] = 1.0
    new = synthetic_homes(1000, seed + 1).assign(before_index=-1)
    return pd.concat([a, new], ignore_index=True)


def same_2sf(a: float, b: float, scale: float) -> bool:
    """True when a and b differ by at most half a unit of the second significant figure of
    ``scale`` (the largest magnitude of the interval: an end near zero has no 2 s.f. of its own)."""
    unit = 10 ** (np.floor(np.log10(max(abs(scale), 1e-300))) - 1)
    return abs(a - b) <= 0.5 * unit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--homes", type=int, default=40_000)
    ap.add_argument("--draws", type=int, nargs="+", default=[1000, 4096])
    args = ap.parse_args()
    t = time.perf_counter()
    p = HealthParams.from_norms()
    health_outcomes(synthetic_homes(100), None, p, draws=10, seed=0)  # warm-up: one-time imports (scipy.stats)
    print(f"cores available: {os.cpu_count()}; homes {args.homes:,}; warm-up (imports) {time.perf_counter() - t:.2f} s")
    f = synthetic_homes(args.homes)
    a = plan_after(f)
    for draws in args.draws:
        for label, after in (("current city", None), ("plan before/after", a)):
            t = time.perf_counter()
            r = health_outcomes(f, after, p, draws=draws, seed=1)
            dt = time.perf_counter() - t
            r2 = health_outcomes(f, after, p, draws=draws, seed=2)
            sel = lambda s: s[(s.pathway == "total") & (s.group == "total") & (s.metric == "deaths") & (s.age == "all")].iloc[0]  # noqa: E731
            x, y = sel(r.summary), sel(r2.summary)
            scale = max(abs(x["lo"]), abs(x["median"]), abs(x["hi"]))
            ok = all(same_2sf(x[k], y[k], scale) for k in ("median", "lo", "hi"))
            print(f"{draws:>5} draws, {label:>17}: {dt:5.2f} s; total deaths/yr median {x['median']:.3f} [{x['lo']:.3f}, {x['hi']:.3f}] (seed 1) vs "
                  f"{y['median']:.3f} [{y['lo']:.3f}, {y['hi']:.3f}] (seed 2); stable to 2 s.f.: {'yes' if ok else 'no'}")


if __name__ == "__main__":
    main()
