"""Las Palmas de Gran Canaria end to end: prepare, cache load, every layer, one screening.

Prints seconds (wall clock, and CPU of this process: on a shared machine wall time includes waiting) and peak memory (MB, resident set of this process, ``ru_maxrss``; a step's peak
is the process peak reached by the end of that step, so it never goes down) per step:

    python bench/bench_las_palmas.py [--keep DIR]

Prepared from ``tests/real/las_palmas.toml`` (OSM .pbf + 29 school catchments as wijken + Guaguas
GTFS), working CRS UTM 28N. The screening plan is the demo example plan (housing, a park, a street)
moved onto the largest brownfield inside the city (synthetic; it only has to be city-sized work).
Also prints the city-wide figures of every layer (resident-weighted means over the wijken) and
plausibility checks of the exposure families: Lden and NO2 at homes next to the GC-1 motorway
(OSM names "Autopista del Sur" / "Autovía del Sur") against homes on quiet residential streets,
and the health burden per 10,000 residents. ``--no-exposure`` skips traffic, noise, air and health
(noise and air on the whole city take minutes).
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


GC1_NAMES = ("Autopista del Sur", "Autovía del Sur")
"""OSM names of the GC-1 motorway through Las Palmas (its ref is not carried in the streets theme)."""


def _near_far_medians(area, homes_xy: np.ndarray, values: np.ndarray) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    """Median of ``values`` at homes within 50 m of the GC-1 and at quiet homes (within 20 m of a
    residential street, more than 300 m from any motorway, trunk, primary or secondary road)."""
    st = area.streets
    hw = st["highway"].astype("object").fillna("").to_numpy()
    gc1 = shapely.union_all(st.geometry.values[st["name"].isin(GC1_NAMES).to_numpy() & np.isin(hw, ["motorway", "trunk"])])
    main_roads = shapely.union_all(st.geometry.values[np.isin(hw, ["motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link"])])
    residential = shapely.union_all(st.geometry.values[np.isin(hw, ["residential", "living_street"])])
    pts = shapely.points(homes_xy)
    near = shapely.distance(pts, gc1) <= 50.0
    quiet = (shapely.distance(pts, residential) <= 20.0) & (shapely.distance(pts, main_roads) > 300.0)
    v = np.asarray(values, dtype=float)
    return float(np.nanmedian(v[near])), float(np.nanmedian(v[quiet])), int(near.sum()), int(quiet.sum())


def _exposure(area, homes, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Traffic, noise (homes, no grid), air and the city's health burden; plausibility figures."""
    try:
        from gezondestad.screening.health_outcomes import exposure_frame
        from gezondestad.spatial.air import AirParams, air_exposure
        from gezondestad.spatial.health import HealthParams, health_outcomes
        from gezondestad.spatial.noise import NoiseParams, noise_exposure
        from gezondestad.spatial.traffic import traffic_per_segment
    except ImportError as exc:
        print(f"  (exposure families not measured: {exc})")
        return {}
    traffic = clock("traffic (class defaults)", lambda: traffic_per_segment(area))
    noise = clock("noise (homes + destinations, no grid)", lambda: noise_exposure(area, traffic, NoiseParams.from_norms(), homes=homes, with_grid=False))
    air = clock("air (NO2, PM2.5 at homes + grid)", lambda: air_exposure(area, traffic, AirParams.from_norms(), homes=homes))
    known = pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
                          for df, cols in ((noise.homes, ("lden_db", "lnight_db")), (air.homes, ("no2_ugm3", "pm25_ugm3"))) for c in cols})
    hp = HealthParams.from_norms()

    def health():  # type: ignore[no-untyped-def]
        f, notes = exposure_frame(area, homes=homes, params=hp, known=known)
        return health_outcomes(f, None, hp, 4096, 20261130)

    hr = clock("health (city burden, 4096 draws)", health)
    xy = shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object))
    ln, lq, n_near, n_quiet = _near_far_medians(area, xy, known["lden_db"].to_numpy())
    no2n, no2q, _, _ = _near_far_medians(area, xy, known["no2_ugm3"].to_numpy())
    t = traffic
    top = t.sort_values("aadt", ascending=False).iloc[0]
    res = float(pd.to_numeric(homes["residents"], errors="coerce").fillna(0).sum())
    s = hr.summary
    tot = s[(s["pathway"] == "total") & (s["group"] == "total") & (s["age"] == "all")].set_index("metric") if "pathway" in s else s.iloc[0:0]
    per10k = lambda m: "onbekend" if m not in tot.index else (  # noqa: E731
        f"{tot.loc[m, 'median'] / res * 1e4:.2f} (95 %: {tot.loc[m, 'lo'] / res * 1e4:.2f} to {tot.loc[m, 'hi'] / res * 1e4:.2f})")
    return {
        "busiest road class (AADT, heavy share)": f"{top['highway']} {top['aadt']:.0f} veh/day, {top['heavy_share']:.2f}",
        f"Lden median, homes <= 50 m from the GC-1 (n={n_near})": f"{ln:.1f} dB",
        f"Lden median, quiet residential homes (n={n_quiet})": f"{lq:.1f} dB",
        "Lden resident-weighted mean, max": f"{np.average(known['lden_db'].fillna(0), weights=homes['residents'].fillna(0)):.1f} dB, {known['lden_db'].max():.1f} dB",
        "NO2 median, homes <= 50 m from the GC-1": f"{no2n:.1f} ug/m3",
        "NO2 median, quiet residential homes": f"{no2q:.1f} ug/m3",
        "deaths a year per 10,000 residents (all pathways)": per10k("deaths"),
        "DALYs a year per 10,000 residents (all pathways)": per10k("dalys"),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keep", type=Path, help="write the prepared study area here (default: a temporary folder)")
    ap.add_argument("--no-exposure", action="store_true", help="skip traffic, noise, air and health")
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
    exposure = None if args.no_exposure else _exposure(area, homes, clock)

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
    if exposure:
        print("\nExposure families (plausibility):")
        for k, v in exposure.items():
            print(f"  {k:<64s} {v}")
    total = sum(t for _, t, _ in clock.rows)
    print(f"\ntotal {total:.1f} s, peak {_peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
