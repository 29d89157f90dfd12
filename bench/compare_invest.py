"""Compare spatial.heat / spatial.water with natcap.invest on the same inputs (not a test).

natcap-invest is NOT a project dependency: it lives in its own venv (default /opt/invest-venv,
see /work/shared/notes/reference-tools.md). This script exports the land cover, the biophysical
and curve-number tables, a constant ET0 raster, a soil-group raster and the wijken (AOI) to a
temporary folder, runs InVEST Urban Cooling and Urban Flood Risk Mitigation there in a
subprocess, reads their rasters back onto our grid and prints, per case:

* per-wijk Spearman rank correlation (InVEST avg_tmp_an vs our t_anomaly_mean; InVEST
  rnf_rt_idx vs our retention_mean; flood_vol vs runoff_m3_sum) and the largest per-wijk gap;
* the largest cell difference of CC, HM, T_air and runoff Q.

Cases: the demo town (buildings, parks, river) and Mechelen (real wijken, roads, waterways;
see bench_climate.py), with ``green_patch_min_ha = 0`` (exactly InVEST's rule) and with the
project default (contiguous patches >= 2 ha).

Run:  python bench/compare_invest.py [--invest-python /opt/invest-venv/bin/python]

``--speed`` instead times the whole process side by side in one run, on the same exported
inputs: ours (``bench/bench_climate.py --process``: read, heat + water layers, write GeoTIFFs
and per-wijk tables) and InVEST (Urban Cooling + Urban Flood Risk Mitigation, ``n_workers=-1``),
each in its own child process, wall time and peak RSS (``os.wait4``), at the Mechelen raster
(10 m) and at 3,000 x 3,000 cells (the Mechelen land cover and wijken tiled, still 10 m, so the
kernels keep their size in cells) and 5,000 x 5,000 cells (``--sizes``). It prints bytes per
cell at every size and the marginal bytes per extra cell between consecutive sizes (ours
streams from the land-cover file to the output GeoTIFFs, so the marginal figure is ~0), and
the machine load next to the figures (other processes share the cores).
``--baseline DIR`` also times an older checkout of the project (a folder holding a
``gezondestad`` package, e.g. ``git archive`` of a commit with symlinks), for before/after figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from rasterio.enums import Resampling
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

RUNNER = r'''
import json, sys, logging
logging.basicConfig(level=logging.WARNING)
from natcap.invest import urban_cooling_model, urban_flood_risk_mitigation, __version__
cfg = json.loads(sys.argv[1])
print("natcap.invest", __version__, flush=True)
urban_cooling_model.execute(cfg["ucm"])
urban_flood_risk_mitigation.execute(cfg["ufrm"])
'''


def export_inputs(d: Path, lc, wijken, heat_p, water_p) -> dict:
    """Write the InVEST inputs for ``lc`` / ``wijken`` into folder ``d``; return the args of both models."""
    from gezondestad.layers.studyarea import write_landcover

    d.mkdir(parents=True, exist_ok=True)
    write_landcover(lc, d / "lulc.tif")
    h, w = lc.shape
    prof = dict(driver="GTiff", height=h, width=w, count=1, crs="EPSG:31370", transform=lc.transform)
    with rasterio.open(d / "et0.tif", "w", dtype="float32", nodata=-1.0, **prof) as dst:
        dst.write(np.full((h, w), heat_p.et0_mm, dtype=np.float32), 1)
    soil = {"A": 1, "B": 2, "C": 3, "D": 4}[water_p.default_soil_group.upper()]
    with rasterio.open(d / "soil.tif", "w", dtype="uint8", nodata=0, **prof) as dst:
        dst.write(np.full((h, w), soil, dtype=np.uint8), 1)
    bio = heat_p.biophysical
    bio[["lucode", "kc", "green_area", "shade", "albedo", "building_intensity"]].to_csv(d / "biophysical.csv", index=False)
    cn = water_p.biophysical[["lucode", "cn_a", "cn_b", "cn_c", "cn_d"]].rename(
        columns={"cn_a": "CN_A", "cn_b": "CN_B", "cn_c": "CN_C", "cn_d": "CN_D"}
    )
    cn.to_csv(d / "cn.csv", index=False)
    aoi = wijken[["wijk_code", "geometry"]].copy()
    aoi["wijk_code"] = aoi["wijk_code"].astype(str)
    aoi.to_file(d / "aoi.gpkg", driver="GPKG")
    ucm = {
        "workspace_dir": str(d / "ucm"),
        "results_suffix": "",
        "lulc_raster_path": str(d / "lulc.tif"),
        "ref_eto_raster_path": str(d / "et0.tif"),
        "aoi_vector_path": str(d / "aoi.gpkg"),
        "biophysical_table_path": str(d / "biophysical.csv"),
        "green_area_cooling_distance": heat_p.green_area_cooling_distance_m,
        "t_air_average_radius": heat_p.t_air_average_radius_m,
        "t_ref": heat_p.t_ref_c,
        "uhi_max": heat_p.uhi_max_c,
        "cc_method": "factors",
        "cc_weight_shade": heat_p.cc_weight_shade,
        "cc_weight_albedo": heat_p.cc_weight_albedo,
        "cc_weight_eti": heat_p.cc_weight_eti,
        "do_energy_valuation": False,
        "do_productivity_valuation": False,
        "n_workers": -1,
    }
    ufrm = {
        "workspace_dir": str(d / "ufrm"),
        "results_suffix": "",
        "aoi_watersheds_path": str(d / "aoi.gpkg"),
        "rainfall_depth": water_p.design_storm_depth_mm,
        "lulc_path": str(d / "lulc.tif"),
        "curve_number_table_path": str(d / "cn.csv"),
        "soils_hydrological_group_raster_path": str(d / "soil.tif"),
        "n_workers": -1,
    }
    return {"ucm": ucm, "ufrm": ufrm}


def read_on_grid(path: Path, lc) -> np.ndarray:
    from gezondestad.spatial.raster import read_aligned

    return read_aligned(path, lc, resampling=Resampling.nearest, what="InVEST output")


def find(ws: Path, name: str) -> Path:
    hits = sorted(ws.rglob(name))
    if not hits:
        raise FileNotFoundError(f"{name} not found under {ws}")
    return hits[0]


def compare_case(label: str, lc, wijken, invest_python: str, workdir: Path) -> list[dict]:
    import geopandas as gpd
    from gezondestad.spatial.heat import HeatParams, heat_layer, heat_maps
    from gezondestad.spatial.water import WaterParams, water_layer

    heat_p = HeatParams.from_norms()
    water_p = WaterParams.from_norms()
    d = workdir / label
    cfg = export_inputs(d, lc, wijken, heat_p, water_p)
    t = time.perf_counter()
    run = subprocess.run([invest_python, "-c", RUNNER, json.dumps(cfg)], capture_output=True, text=True)
    t_invest = time.perf_counter() - t
    if run.returncode != 0:
        print(run.stdout[-2000:], run.stderr[-4000:])
        raise RuntimeError(f"InVEST failed on case {label}")
    version = run.stdout.strip().splitlines()[0]
    ucm_ws, ufrm_ws = Path(cfg["ucm"]["workspace_dir"]), Path(cfg["ufrm"]["workspace_dir"])
    inv = {
        "cc": read_on_grid(find(ucm_ws, "cc.tif"), lc),
        "hm": read_on_grid(find(ucm_ws, "hm.tif"), lc),
        "t_air": read_on_grid(find(ucm_ws, "T_air.tif"), lc),
        "q": read_on_grid(find(ufrm_ws, "Q_mm.tif"), lc),
    }
    uhi = gpd.read_file(find(ucm_ws, "uhi_results.shp"))
    frs = gpd.read_file(find(ufrm_ws, "flood_risk_service.shp"))
    rows = []
    for rule, patch in (("invest_rule", 0.0), ("patch>=2ha", heat_p.green_patch_min_ha)):
        p = HeatParams.from_norms(green_patch_min_ha=patch)
        t = time.perf_counter()
        h = heat_layer(lc, wijken, params=p)
        t_ours = time.perf_counter() - t
        m = heat_maps(lc, p)
        ok = np.isfinite(inv["hm"]) & np.isfinite(m["hm"])
        per = h.per_wijk.assign(wijk_code=h.per_wijk["wijk_code"].astype(str)).merge(
            uhi[["wijk_code", "avg_tmp_an", "avg_cc"]].assign(wijk_code=uhi["wijk_code"].astype(str)), on="wijk_code"
        )
        rho = spearmanr(per["t_anomaly_mean"], per["avg_tmp_an"]).statistic
        rows.append(
            {
                "case": label,
                "layer": f"heat ({rule})",
                "cells_compared": int(ok.sum()),
                "spearman_wijk": round(float(rho), 4),
                "max_wijk_diff": f"T_anom {np.nanmax(np.abs(per['t_anomaly_mean'] - per['avg_tmp_an'])):.2e} degC",
                "max_cell_diff": (
                    f"CC {np.nanmax(np.abs(m['cc'] - inv['cc'])[ok]):.1e}, HM {np.nanmax(np.abs(m['hm'] - inv['hm'])[ok]):.1e}, "
                    f"T_air {np.nanmax(np.abs(m['t_air'] - inv['t_air'])[ok]):.1e} degC; HM differs (>1e-4) in "
                    f"{int((np.abs(m['hm'] - inv['hm'])[ok] > 1e-4).sum())} cells"
                ),
                "ours_s": round(t_ours, 2),
                "invest_s (both models)": round(t_invest, 1),
            }
        )
    w = water_layer(lc, wijken, params=water_p)
    ok = np.isfinite(inv["q"]) & np.isfinite(w.runoff_mm)
    perw = w.per_wijk.assign(wijk_code=w.per_wijk["wijk_code"].astype(str)).merge(
        frs[["wijk_code", "rnf_rt_idx", "flood_vol"]].assign(wijk_code=frs["wijk_code"].astype(str)), on="wijk_code"
    )
    rho_r = spearmanr(perw["retention_mean"], perw["rnf_rt_idx"]).statistic
    rho_v = spearmanr(perw["runoff_m3_sum"], perw["flood_vol"]).statistic
    rows.append(
        {
            "case": label,
            "layer": "water",
            "cells_compared": int(ok.sum()),
            "spearman_wijk": f"retention {rho_r:.4f}, volume {rho_v:.4f}",
            "max_wijk_diff": (
                f"retention {np.nanmax(np.abs(perw['retention_mean'] - perw['rnf_rt_idx'])):.1e}, "
                f"volume {np.nanmax(np.abs(perw['runoff_m3_sum'] - perw['flood_vol']) / perw['flood_vol']):.1e} rel"
            ),
            "max_cell_diff": f"Q {np.nanmax(np.abs(w.runoff_mm - inv['q'])[ok]):.1e} mm",
            "ours_s": None,
            "invest_s (both models)": round(t_invest, 1),
        }
    )
    print(f"[{label}] {version}; grid {lc.shape}, res {lc.resolution_m:g} m")
    return rows


def _timed(cmd: list[str], pythonpath: str | None = None) -> tuple[float, float, float]:
    """(wall s, peak RSS MiB, CPU s = user + system) of a child process (GNU time, else os.wait4).

    CPU seconds are the steadier figure on a shared machine: wall time also counts waiting for cores.
    """

    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss:
        # GNU time forks the child from its own small process: a child forked from this (large)
        # bench process would count the parent's pages in its peak RSS
        full = ["/usr/bin/time", "-f", "%M %U %S", "-o", rss.name, *cmd] if Path("/usr/bin/time").is_file() else cmd
        t = time.perf_counter()
        proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"{cmd[:3]} failed ({code}):\n{out[-3000:]}")
        text = Path(rss.name).read_text().strip().splitlines()
        if text and full is not cmd:
            kb, user, system = (float(x) for x in text[-1].split())
        else:
            kb, user, system = float(ru.ru_maxrss), ru.ru_utime, ru.ru_stime
    return wall, kb / 1024.0, user + system


def tiled_inputs(lc, wijken, size: int):
    """The land cover tiled to ``size`` x ``size`` cells and the wijken copied onto every tile."""
    import geopandas as gpd
    from gezondestad.model.studyarea import LandCover
    from shapely import affinity

    h, w = lc.shape
    reps = (-(-size // h), -(-size // w))
    classes = np.tile(lc.classes, reps)[:size, :size].copy()
    res = lc.resolution_m
    parts = []
    for i in range(reps[0]):
        for j in range(reps[1]):
            g = wijken[["wijk_code", "geometry"]].copy()
            g["wijk_code"] = g["wijk_code"].astype(str) + f"_{i}{j}"
            g["geometry"] = g.geometry.apply(lambda geom: affinity.translate(geom, j * w * res, -i * h * res))
            parts.append(g)
    big = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=wijken.crs)
    return LandCover(classes, lc.transform, res, lc.crs), big


def speed(args: argparse.Namespace) -> int:
    """Side-by-side whole-process time and peak memory of ours and InVEST (see module docstring)."""
    from bench.bench_climate import mechelen_inputs
    from gezondestad.spatial.heat import HeatParams
    from gezondestad.spatial.water import WaterParams

    have_invest = Path(args.invest_python).is_file()
    if not have_invest:
        print(f"{args.invest_python} not found: InVEST not installed here; timing ours only.")
    heat_p, water_p = HeatParams.from_norms(), WaterParams.from_norms()
    lc, wijken, _ = mechelen_inputs(10.0)
    cases = [("mechelen", lc, wijken)]
    for size in args.sizes:
        big_lc, big_w = tiled_inputs(lc, wijken, size)
        cases.append((f"tiled {size}x{size}", big_lc, big_w))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        base_wall, base_rss, _ = _timed([sys.executable, "-c", "import gezondestad.spatial.heat, gezondestad.spatial.water"])
        print(f"ours, imports only: {base_wall:.1f} s, peak RSS {base_rss:.0f} MiB")
        for label, clc, cw in cases:
            d = work / label.replace(" ", "_")
            cfg = export_inputs(d, clc, cw, heat_p, water_p)
            cells = clc.classes.size
            for rep in range(args.repeat):
                ours = _timed([sys.executable, str(REPO / "bench" / "bench_climate.py"), "--process", str(d)])
                row = {"case": label, "cells": cells, "run": rep + 1, "ours_s": round(ours[0], 1), "ours_cpu_s": round(ours[2], 1),
                       "ours_MiB": round(ours[1]),
                       "ours_B_per_cell": round(ours[1] * 2**20 / cells, 1)}
                if args.baseline:
                    old = _timed([sys.executable, str(REPO / "bench" / "bench_climate.py"), "--process", str(d)], str(args.baseline))
                    row.update({"previous_s": round(old[0], 1), "previous_MiB": round(old[1]),
                                "previous_B_per_cell": round(old[1] * 2**20 / cells, 1)})
                if have_invest:
                    for ws in (cfg["ucm"]["workspace_dir"], cfg["ufrm"]["workspace_dir"]):
                        shutil.rmtree(ws, ignore_errors=True)  # InVEST's taskgraph would reuse a previous run's results
                    inv = _timed([args.invest_python, "-c", RUNNER, json.dumps(cfg)])
                    row.update({"invest_s": round(inv[0], 1), "invest_cpu_s": round(inv[2], 1), "invest_MiB": round(inv[1]),
                                "invest_B_per_cell": round(inv[1] * 2**20 / cells, 1), "speedup": round(inv[0] / ours[0], 2),
                                "cpu_ratio": round(inv[2] / ours[2], 2)})
                row["load_1min"] = round(os.getloadavg()[0], 2)
                rows.append(row)
                print(row, flush=True)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 250)
    print(df.to_string(index=False))
    best = df.groupby("case", sort=False).agg("min", numeric_only=True)
    for i in range(1, len(best)):
        a, b = best.iloc[i - 1], best.iloc[i]
        for who in ("ours", "previous", "invest"):
            if f"{who}_MiB" in best:
                marg = (b[f"{who}_MiB"] - a[f"{who}_MiB"]) * 2**20 / (b["cells"] - a["cells"])
                print(f"{who}: peak {a[f'{who}_MiB']:.0f} MiB at {a['cells']:,.0f} cells ({a[f'{who}_B_per_cell']:.1f} B/cell), "
                      f"{b[f'{who}_MiB']:.0f} MiB at {b['cells']:,.0f} cells ({b[f'{who}_B_per_cell']:.1f} B/cell); "
                      f"marginal {marg:.1f} bytes per extra cell")
    print("machine load (1, 5, 15 min) at the end:", " ".join(f"{x:.2f}" for x in os.getloadavg()), f"on {os.cpu_count()} cores")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Compare heat/water layers with natcap.invest")
    ap.add_argument("--invest-python", default="/opt/invest-venv/bin/python")
    ap.add_argument("--cases", default="demo,mechelen")
    ap.add_argument("--keep", type=Path, help="keep the InVEST workspaces in this folder")
    ap.add_argument("--speed", action="store_true", help="time both whole processes side by side instead")
    ap.add_argument("--sizes", type=int, nargs="*", default=[3000, 5000], help="tiled raster sides for --speed")
    ap.add_argument("--repeat", type=int, default=1, help="runs per case for --speed")
    ap.add_argument("--baseline", type=Path, help="--speed: also time an older checkout importable from this PYTHONPATH")
    args = ap.parse_args(argv)
    if args.speed:
        return speed(args)
    if not Path(args.invest_python).is_file():
        print(f"{args.invest_python} not found: natcap-invest is not installed here; nothing compared.")
        return 1
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        for case in args.cases.split(","):
            if case == "demo":
                from gezondestad.layers.demo import build_demo_area

                a = build_demo_area()
                rows += compare_case("demo", a.landcover, a.wijken, args.invest_python, work)
            elif case == "mechelen":
                from bench.bench_climate import mechelen_inputs

                lc, wijken, _ = mechelen_inputs(10.0)
                rows += compare_case("mechelen", lc, wijken, args.invest_python, work)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 120)
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
