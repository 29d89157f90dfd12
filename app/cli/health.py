"""CLI subcommand ``gezondestad health``: deaths, DALYs and euros a year per pathway, city or plan."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.fmt import fmt_number
from gezondestad.screening.health_outcomes import city_health, health_summary_nl, plan_health
from gezondestad.screening.plan import read_plan
from gezondestad.spatial.health import MORBIDITY_ONLY, HealthParams


def _add_health(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("health", help="gezondheidseffecten per pad (vroegtijdige sterfte, DALY's, euro per jaar) voor de stad of een plan, met onzekerheidsinterval")
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied")
    p.add_argument("--plan", type=Path, help="planbestand: voor en na vergelijken (standaard: de huidige last van de stad tegenover de aanbevelingen)")
    p.add_argument("--layer", help="laag van de plan-GeoPackage als die meerdere lagen bevat")
    p.add_argument("--out", type=Path, required=True, help="samenvattende CSV om te schrijven; <naam>_per_wijk.csv en <naam>.json komen ernaast")
    p.add_argument("--draws", type=int, default=4096, help="aantal Monte-Carlo-trekkingen (standaard 4096: interval stabiel op 2 beduidende cijfers)")
    p.add_argument("--seed", type=int, default=20261130, help="startwaarde van het toeval (staat in het resultaat)")
    p.add_argument("--norms", type=Path, help="eigen normenmap met health.toml en health_baseline.csv")


def _run_health(args: argparse.Namespace) -> int:

    params = HealthParams.from_norms(args.norms)
    area = load_study_area(args.area)
    if args.plan:
        plan = read_plan(args.plan, area=area, layer=args.layer)
        r = plan_health(area, plan, params, args.draws, args.seed)
    else:
        r = city_health(area, params, args.draws, args.seed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_table(r.summary, out)  # text cells defused for spreadsheets
    wijk_csv = out.with_name(out.stem + "_per_wijk.csv")
    write_table(r.per_wijk, wijk_csv)
    js = out.with_suffix(".json")
    js.write_text(json.dumps({"mode": r.mode, "label": r.label_nl, "seed": r.seed, "draws": r.draws, "notes": r.notes,
                              "unknown": r.unknown, "norms_used": r.norms_used.astype(str).to_dict(orient="records")}, ensure_ascii=False, indent=1), encoding="utf-8")
    kind = "verandering door het plan (na - voor)" if r.mode == "plan" else "ziektelast door het niet halen van de aanbevelingen"
    print(f"{area.name}: {kind}; {r.draws} trekkingen, seed {r.seed}.")
    s = health_summary_nl(r, metrics=("deaths", "dalys"))
    s = s[s["age"] == "all"]
    print(f"  {'':<45} {'sterfgevallen/jaar (95 %-interval)':>36}  {'DALY/jaar':>10}")
    for pw, rows in s.groupby("pathway", sort=False):
        d = rows[rows["metric"] == "deaths"].iloc[0]
        y = rows[rows["metric"] == "dalys"].iloc[0]
        # annoyance and sleep disturbance cause no deaths: DALYs only
        deaths = "–" if pw in MORBIDITY_ONLY else f"{fmt_number(d['median'], 2)} ({fmt_number(d['lo'], 2)} tot {fmt_number(d['hi'], 2)})"
        print(f"  {d['pad']:<45} {deaths:>36}  {fmt_number(y['median'], 1):>10}")
    for n in r.notes:
        print(f"  - {n}")
    print(r.label_nl)
    print(f"Samenvatting: {out}\nPer wijk:     {wijk_csv}\nJSON:         {js}")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "health": (_add_health, _run_health),
}
