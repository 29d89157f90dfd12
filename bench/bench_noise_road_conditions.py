"""Benchmark: CNOSSOS-EU road surface and junction corrections on a real city; prints figures.

    python bench/bench_noise_road_conditions.py --area DIR          # a saved study area (e.g. Las Palmas)
    python bench/bench_noise_road_conditions.py                     # prepares Las Palmas from tests/real/las_palmas.toml (slow)
    python bench/bench_noise_road_conditions.py --area DIR --sample 5000

Prints the share of motor-traffic street length (and segments) per mapped CNOSSOS surface, the
junction points found, the time of :func:`road_conditions`, then the noise at the homes twice:
with the corrections (the production path) and without them (the same area with the OSM tags
``surface``, ``junction`` and ``crossing`` blanked and the traffic-light POIs dropped, i.e. the
reference surface and no junctions, as before this change). Reports wall/CPU time of both runs and the Lden shift at the homes: its
distribution, how many homes change by more than 1 dB, and why (what the motor streets within 50 m
of the home carry: klinkers/kasseien, a traffic light, a roundabout). Every Lden must be finite or unknown (NaN), never inf.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from gezondestad.layers.prepare import prepare_from_args
from gezondestad.layers.studyarea import load_study_area
from gezondestad.spatial.aggregate import home_points
from gezondestad.spatial.noise import NoiseParams, noise_exposure, road_conditions
from gezondestad.spatial.traffic import traffic_per_segment

REPO = Path(__file__).resolve().parent.parent
TOML = REPO / "tests" / "real" / "las_palmas.toml"


def _area(path: Path | None):  # type: ignore[no-untyped-def]
    if path is not None:
        return load_study_area(path)
    if not TOML.is_file():
        print(f"{TOML} not found; pass --area DIR")
        sys.exit(0)
    return prepare_from_args(sources_toml=TOML)


def _blank(area):  # type: ignore[no-untyped-def]
    """The same area with the OSM tags that drive the corrections removed (reference surface, no junctions):
    street tags blanked and the traffic-light POIs (subtype ``traffic_signals``) dropped."""
    a = copy.copy(area)
    a.themes = dict(area.themes)
    st = area.streets.copy()
    for c in ("surface", "junction", "crossing"):
        st[c] = None
    a.themes["streets"] = st
    po = area.pois
    a.themes["pois"] = po[po["subtype"].astype(str) != "traffic_signals"].reset_index(drop=True)
    return a


def sample_homes(area, n: int | None):
    """All homes of ``area``, or a fixed random sample of ``n`` of them (seed 1)."""
    homes = home_points(area)
    if n and n < len(homes):
        homes = homes.iloc[np.sort(np.random.default_rng(1).choice(len(homes), n, replace=False))].reset_index(drop=True)
    return homes


def lden_runs(areas: dict, p, homes) -> list[np.ndarray]:
    """Lden at ``homes`` for each (label -> study area), timed; printed as it goes."""
    runs = []
    for label, a in areas.items():
        w0, c0 = time.perf_counter(), time.process_time()
        res = noise_exposure(a, traffic_per_segment(a), p, homes=homes, with_grid=False)
        print(f"noise at {len(homes)} homes {label}: wall {time.perf_counter() - w0:.1f} s, CPU {time.process_time() - c0:.1f} s")
        lden = res.homes["lden_db"].to_numpy(dtype=float)
        assert not np.isinf(lden).any()
        runs.append(lden)
    return runs


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--area", type=Path, help="a saved study area folder (default: prepare Las Palmas)")
    ap.add_argument("--sample", type=int, default=0, help="compute this many random homes only (0 = all)")
    args = ap.parse_args()
    area = _area(args.area)
    p = NoiseParams.from_norms()
    t = traffic_per_segment(area)
    w0 = time.perf_counter()
    cond = road_conditions(area.streets, t, p, area.pois)
    print(f"{area.name}: {len(area.streets)} street segments; road_conditions {time.perf_counter() - w0:.2f} s")
    motor = (t["aadt"].to_numpy() > 0) & np.isfinite(t["speed_kmh"].to_numpy(dtype=float))
    length = shapely.length(np.asarray(t.geometry.values, dtype=object))
    tot = length[motor].sum()
    tags = area.streets["surface"].astype("object").fillna("(geen tag)").astype(str).to_numpy()
    print("motor-traffic streets by mapped CNOSSOS surface (share of length, segments):")
    for code in sorted(set(cond.surface[motor])):
        m = motor & (cond.surface == code)
        osm = ", ".join(f"{k} {v}" for k, v in zip(*np.unique(tags[m], return_counts=True)) if v > 0)
        print(f"  {code or 'referentie':<11s} {100 * length[m].sum() / tot:6.2f} %  {int(m.sum()):6d} segments  (OSM: {osm[:120]})")
    for jt, name in ((1, "traffic lights"), (2, "roundabout")):
        m = motor & (cond.junction_type == jt)
        print(f"  junction {name:<14s} {int(m.sum()):6d} segments, mean weight {cond.junction_weight[m].mean() if m.any() else 0:.2f}")
    for n in cond.notes:
        print(f"  Opmerking: {n}")

    homes = sample_homes(area, args.sample)
    before, after = lden_runs({"without corrections (before)": _blank(area), "with corrections (after)": area}, p, homes)
    d = after - before
    ok = np.isfinite(d)
    print(f"Lden shift at {int(ok.sum())} homes (after - before), dB: "
          + ", ".join(f"p{q} {v:+.2f}" for q, v in zip((0, 1, 5, 50, 95, 99, 100), np.percentile(d[ok], [0, 1, 5, 50, 95, 99, 100]))))
    big = ok & (np.abs(d) > 1.0)
    print(f"  |shift| > 1 dB: {int(big.sum())} homes ({int((d > 1).sum())} louder, {int((d < -1).sum())} quieter)")
    # why: what the motor streets within 50 m of each such home carry
    hx = np.asarray(homes.geometry.values, dtype=object)[big]
    mg = np.asarray(t.geometry.values, dtype=object)[motor]
    if len(hx):
        hi, si = shapely.STRtree(mg).query(hx, predicate="dwithin", distance=50.0)
        srf = cond.surface[motor][si] != ""
        jtp = cond.junction_type[motor][si]
        flags = np.zeros((len(hx), 3), dtype=bool)
        for k, m in enumerate((srf, jtp == 1, jtp == 2)):
            np.logical_or.at(flags[:, k], hi[m], True)
        why = np.array([" + ".join(n for n, f in zip(("klinkers/kasseien", "verkeerslicht", "rotonde"), row) if f) or "geen binnen 50 m"
                        for row in flags])
        for k, v in sorted(zip(*np.unique(why, return_counts=True)), key=lambda x: -x[1]):
            sel = why == k
            print(f"    within 50 m: {k:<34s} {int(v):5d} homes, mean shift {d[big][sel].mean():+.2f} dB, "
                  f"range {d[big][sel].min():+.2f} .. {d[big][sel].max():+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
