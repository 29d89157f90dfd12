"""Benchmark: what the OSM traffic-light nodes (POIs of category ``traffic``) change in road noise; prints figures.

    python bench/bench_noise_signals.py --area DIR                 # a saved study area (e.g. Las Palmas)
    python bench/bench_noise_signals.py --area DIR --sample 5000   # noise at 5 000 random homes only

Prints the traffic-light points (POI nodes, and the street edges tagged ``highway`` /
``crossing=traffic_signals`` that were the only source before), the motor segments that get the
CNOSSOS-EU traffic-light correction with and without the POI lights, and the Lden shift at the
homes between the two (same streets, same traffic; only the ``traffic`` POIs removed).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
from gezondestad.layers.osm import SIGNAL_CATEGORY
from gezondestad.layers.studyarea import load_study_area
from gezondestad.spatial.noise import NoiseParams, road_conditions
from gezondestad.spatial.traffic import traffic_per_segment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_noise_road_conditions import lden_runs, sample_homes  # noqa: E402  (sibling bench script)


def _without_signals(area):  # type: ignore[no-untyped-def]
    a = copy.copy(area)
    a.themes = dict(area.themes)
    po = area.pois
    a.themes["pois"] = po[po["category"].astype(str) != SIGNAL_CATEGORY].reset_index(drop=True)
    return a


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--area", type=Path, required=True, help="a saved study area folder")
    ap.add_argument("--sample", type=int, default=0, help="compute this many random homes only (0 = all)")
    args = ap.parse_args()
    area = load_study_area(args.area)
    bare = _without_signals(area)
    p = NoiseParams.from_norms()
    t = traffic_per_segment(area)
    po = area.pois
    n_sig = int((po["category"].astype(str) == SIGNAL_CATEGORY).sum())
    st = area.streets
    n_edge = int(((st["highway"].astype(str) == "traffic_signals") | (st["crossing"].astype(str) == "traffic_signals")).sum())
    print(f"{area.name}: {len(st)} street segments, {len(po)} POIs of which {n_sig} traffic lights (category {SIGNAL_CATEGORY}); "
          f"{n_edge} street edges tagged traffic_signals")
    motor = (t["aadt"].to_numpy() > 0) & np.isfinite(t["speed_kmh"].to_numpy(dtype=float))
    conds = {}
    for label, a in (("without POI lights", bare), ("with POI lights", area)):
        w0 = time.perf_counter()
        c = road_conditions(a.streets, t, p, a.pois)
        conds[label] = c
        m = motor & (c.junction_type == 1)
        print(f"  {label:<19s}: {int(m.sum()):6d} motor segments with the traffic-light correction "
              f"(mean weight {c.junction_weight[m].mean() if m.any() else 0:.2f}), "
              f"{int((motor & (c.junction_type == 2)).sum())} roundabout; road_conditions {time.perf_counter() - w0:.2f} s")
    c0, c1 = conds.values()
    print(f"  segments that changed junction type or weight: {int((motor & ((c0.junction_type != c1.junction_type) | (c0.junction_weight != c1.junction_weight))).sum())}")

    homes = sample_homes(area, args.sample)
    before, after = lden_runs({"without POI lights": bare, "with POI lights": area}, p, homes)
    d = after - before
    ok = np.isfinite(d)
    print(f"Lden shift at {int(ok.sum())} homes (with - without POI lights), dB: "
          + ", ".join(f"p{q} {v:+.2f}" for q, v in zip((0, 50, 90, 99, 100), np.percentile(d[ok], [0, 50, 90, 99, 100]))))
    for thr in (0.01, 0.1, 0.5, 1.0):
        print(f"  |shift| > {thr} dB: {int((ok & (np.abs(d) > thr)).sum())} homes ({int((ok & (d > thr)).sum())} louder, {int((ok & (d < -thr)).sum())} quieter)")
    # CNOSSOS-EU Table 2.2.b, traffic lights: rolling noise C_R < 0, propulsion C_P > 0: near lights on fast streets
    # (rolling noise dominant) a home can get quieter; a segment that was nearer a roundabout than a light changes type
    print(f"  mean shift {d[ok].mean():+.3f} dB; among changed homes {d[ok & (d != 0)].mean() if (ok & (d != 0)).any() else 0:+.3f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
