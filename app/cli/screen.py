"""CLI subcommand ``gezondestad screen``: screen a plan on a prepared study area, write the HTML report and JSON."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable


def _add_screen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("screen", help="health screening of a plan: before/after of every indicator, checklist, HTML report")
    p.add_argument("--area", type=Path, required=True, help="folder of a prepared study area (gezondestad prepare ... --out DIR)")
    p.add_argument("--plan", type=Path, required=True, help="plan file (GeoPackage/GeoJSON with a feature_type column)")
    p.add_argument("--out", type=Path, required=True, help="HTML report to write (report JSON is written next to it)")
    p.add_argument("--answers", type=Path, help="JSON with the planner's answers to the checklist questions")
    p.add_argument("--layer", help="layer of the plan GeoPackage when it holds several")
    p.add_argument("--local", action="store_true", help="fast local recompute near the plan (default: full recompute)")
    p.add_argument("--no-maps", action="store_true", help="leave the maps out of the report")
    p.add_argument("--no-cache", action="store_true", help="do not read/write the cached before-situation in the area folder")


def _run_screen(args: argparse.Namespace) -> int:
    from gezondestad.layers.studyarea import load_study_area
    from gezondestad.screening.checklist import build_checklist, read_answers
    from gezondestad.screening.compare import load_or_compute_baseline, screen
    from gezondestad.screening.plan import read_plan
    from gezondestad.screening.report import write_report
    from tqdm import tqdm

    t0 = time.perf_counter()
    with tqdm(total=5, desc="screening", unit="stap") as bar:
        area = load_study_area(args.area)
        plan = read_plan(args.plan, area=area, layer=args.layer)
        answers = read_answers(args.answers) if args.answers else {}
        bar.set_postfix_str("voor-toestand")
        bar.update(1)
        before = load_or_compute_baseline(area, None if args.no_cache else args.area)
        bar.set_postfix_str("plan en na-toestand")
        bar.update(1)
        result = screen(area, plan, before=before, local=args.local)
        bar.set_postfix_str("checklist")
        bar.update(1)
        items = build_checklist(result, answers)
        bar.set_postfix_str("rapport")
        bar.update(1)
        html, js = write_report(result, items, args.out, with_maps=not args.no_maps)
        bar.update(1)
    d = result.deltas
    worse = d[(d["zone"] == "omgeving") & (d["direction"] == "worse")]["label"].tolist()
    better = d[(d["zone"] == "omgeving") & (d["direction"] == "better")]["label"].tolist()
    print(f"Plan '{plan.name}' on '{area.name}': {len(better)} indicators better, {len(worse)} worse in the surrounding wijken.")
    print("Checklist: " + " ".join(f"{i.id}={i.score}" for i in items))
    print(f"Report: {html}\nJSON:   {js}\nTime:   {time.perf_counter() - t0:.1f} s")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "screen": (_add_screen, _run_screen),
}
