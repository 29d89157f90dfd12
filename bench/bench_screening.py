"""Timings of a plan screening: demo town with the example plan, and real Mechelen (when the shared data is there).

Prints, per study area: the baseline ("before", computed once and cacheable), applying the plan,
the "after" situation fully and locally, the comparison, and how far the local after-values are
from the full ones (max absolute difference per indicator family).

    python bench/bench_screening.py            # demo + Mechelen
    python bench/bench_screening.py --demo     # demo only

Mechelen is prepared from ``tests/real/mechelen.toml`` (open files in ../shared/data; partial:
no buildings, so homes are estimated along streets). The plan there is the demo example plan
moved next to Mechelen's railway station (synthetic; it only has to be Mechelen-sized work).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import shapely
from shapely import affinity

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.compare import compute_situation, local_reach_m, screen  # noqa: E402
from gezondestad.screening.example_plan import example_plan_frame  # noqa: E402
from gezondestad.screening.plan import Plan, plan_from_frame, read_plan  # noqa: E402


def _bench(area: StudyArea, plan: Plan, label: str, repeat: int = 2) -> None:
    print(f"\n== {label}: {len(area.streets)} street edges, {len(area.buildings)} buildings, landcover {area.landcover.shape if area.landcover is not None else None}")
    t = time.perf_counter()
    before = compute_situation(area)
    t_base = time.perf_counter() - t
    print(f"baseline (before, all families): {t_base:.2f} s  " + ", ".join(f"{k} {v:.2f}" for k, v in before.seconds.items()))
    if before.errors:
        print("  families unavailable:", before.errors)
    full = loc = None
    t_full, t_loc = [], []
    for _ in range(repeat):
        full = screen(area, plan, before=before)
        t_full.append(full.seconds)
        loc = screen(area, plan, before=before, local=True)
        t_loc.append(loc.seconds)
    best = lambda ts: {k: min(t[k] for t in ts) for k in ts[0]}  # noqa: E731
    bf, bl = best(t_full), best(t_loc)
    print(f"full  after: total {bf['total']:.2f} s (apply {bf['apply']:.2f}, after {bf['after']:.2f}, compare {bf['compare']:.2f})  "
          + ", ".join(f"{k} {v:.2f}" for k, v in full.after.seconds.items()))
    print(f"local after: total {bl['total']:.2f} s (apply {bl['apply']:.2f}, after {bl['after']:.2f}, compare {bl['compare']:.2f})  "
          + ", ".join(f"{k} {v:.2f}" for k, v in loc.after.seconds.items()))
    print(f"full before+after from scratch: {t_base + bf['total']:.2f} s; local reach {local_reach_m():.0f} m")
    m = full.deltas.merge(loc.deltas, on=["key", "zone"], suffixes=("_f", "_l"))
    m["absdiff"] = (m["after_f"].astype(float) - m["after_l"].astype(float)).abs()
    print("max |local - full| per family:", m.groupby("family_f")["absdiff"].max().round(6).to_dict())
    d = full.deltas
    print(f"{len(d)} delta rows; omgeving: {int((d.zone.eq('omgeving') & d.direction.eq('better')).sum())} better, "
          f"{int((d.zone.eq('omgeving') & d.direction.eq('worse')).sum())} worse")
    with pd.option_context("display.width", 200, "display.max_columns", 10):
        print(d[d.zone == "omgeving"][["key", "before", "after", "direction"]].to_string(index=False))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", action="store_true", help="demo town only")
    args = ap.parse_args()
    from gezondestad.layers.demo import build_demo_area

    demo = build_demo_area()
    plan = read_plan(REPO / "data" / "examples" / "ragheno_demo_plan.geojson", area=demo)
    _bench(demo, plan, "Demostad + voorbeeldplan Stationsveld")
    if args.demo:
        return 0
    toml = REPO / "tests" / "real" / "mechelen.toml"
    shared = REPO.parent / "shared" / "data" / "mechelen" / "wijken.gpkg"
    if not toml.is_file() or not shared.is_file():
        print(f"\nMechelen skipped: {'tests/real/mechelen.toml' if not toml.is_file() else shared} not found.")
        return 0
    from gezondestad.layers.prepare import prepare_from_args

    t = time.perf_counter()
    mech = prepare_from_args(sources_toml=toml)
    print(f"\nMechelen prepared in {time.perf_counter() - t:.1f} s")
    st = mech.pois[mech.pois["category"] == "train_station"]
    anchor = st.geometry.iloc[0] if len(st) else shapely.centroid(shapely.union_all(mech.wijken.geometry.values))
    f = example_plan_frame()
    c = shapely.centroid(shapely.union_all(f.geometry.values))
    dx, dy = anchor.x + 300 - c.x, anchor.y + 200 - c.y
    f["geometry"] = [affinity.translate(g, dx, dy) for g in f.geometry]
    f["plan_name"] = "Voorbeeldplan verplaatst naar Mechelen-station (synthetisch)"
    mplan = plan_from_frame(f, area=mech)
    _bench(mech, mplan, "Mechelen (echte open data, partieel) + verplaatst voorbeeldplan")

    # Mechelen with ~40 000 buildings (a full GRB/OSM building layer has ~45 000): synthetic 8 x 8 m
    # houses every 8 m along the residential streets, residents scaled to the wijk totals.
    import geopandas as gpd
    from gezondestad.model.population import estimate_homes_along_streets
    from gezondestad.model.studyarea import CRS
    from gezondestad.model.wijken import assign_wijk

    pts = estimate_homes_along_streets(mech.streets, spacing_m=8.0, offset_m=12.0)
    b = gpd.GeoDataFrame({"building_id": range(len(pts)), "use": "residential", "levels": 2.0}, geometry=pts.geometry.buffer(4.0, cap_style="square").values, crs=CRS)
    wk = assign_wijk(gpd.GeoDataFrame(geometry=pts.geometry.values, crs=CRS), mech.wijken)["wijk_code"].to_numpy()
    tot = mech.wijken.set_index("wijk_code")["residents"]
    counts = pd.Series(wk).value_counts()
    b["residents"] = [float(tot.get(c, 0.0)) / counts.get(c, 1) if c is not None else 0.0 for c in wk]
    dense = mech.copy()
    dense.themes["buildings"] = b
    dense = StudyArea(dense.name + " (+ synthetische gebouwen)", dense.themes, dense.landcover, dense.manifest)
    _bench(dense, plan_from_frame(f, area=dense), f"Mechelen-straten + {len(b)} synthetische gebouwen + verplaatst voorbeeldplan")
    no_streets = f[~f["feature_type"].isin(["street", "path"])]
    _bench(dense, plan_from_frame(no_streets, area=dense), f"Mechelen-straten + {len(b)} synthetische gebouwen + voorbeeldplan zonder straten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
