"""CLI subcommand ``gezondestad screen``: screen a plan on a prepared study area, write the HTML report and JSON."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from gezondestad.app.cli.common import print_notes, progress_bar
from gezondestad.layers.studyarea import load_study_area
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.progress import Steps
from gezondestad.screening.checklist import ANSWERS, build_checklist, load_checklist, read_answers
from gezondestad.screening.compare import ScreeningResult, load_or_compute_baseline, screen
from gezondestad.screening.health_outcomes import screening_health
from gezondestad.screening.plan import read_plan
from gezondestad.screening.health_report import interval_text
from gezondestad.screening.report import write_report, write_variants_report
from gezondestad.screening.verdict import decide
from gezondestad.screening.voices import Voices, voices_near_plan


def _answers_help() -> str:
    """The ``--answers`` file format, with the question ids of the shipped checklist."""
    try:
        items = load_checklist()
    except GezondeStadError:  # a broken checklist.toml must not break --help
        items = {}
    questions = [k for k, v in items.items() if v.get("kind") == "question"]
    computed = [k for k, v in items.items() if v.get("kind") != "question"]
    words = [a for a in ("ja", "deels", "nee", "onbekend") if a in ANSWERS]
    return (
        "Formaat van --answers: een JSON-object met per checklistvraag (id) een antwoord, bv.\n"
        '  {"ontmoeting": "ja", "veiligheid": {"antwoord": "deels", "toelichting": "verlichting volgt in fase 2"}}\n'
        f"Antwoorden: {', '.join(words)} (ook yes/no/true/false). Een toelichting mag als 'toelichting'.\n"
        f"Vragen: {', '.join(questions) or '(zie data/norms/checklist.toml)'}.\n"
        f"Berekende punten ({', '.join(computed)}) krijgen hun score uit de cijfers; een antwoord daarop komt er enkel als context bij."
    )


def _add_screen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen",
        help="gezondheidsscreening van een plan: voor/na van elke indicator, checklist, HTML-rapport",
        epilog=_answers_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--area", type=Path, required=True, help="map van een klaargezet studiegebied (gezondestad prepare ... --out MAP)")
    p.add_argument("--plan", type=Path, required=True, action="append",
                   help="planbestand (GeoPackage/GeoJSON met een kolom feature_type); herhaal --plan voor varianten naast elkaar in één rapport")
    p.add_argument("--out", type=Path, required=True, help="HTML-rapport om te schrijven (het rapport als JSON komt ernaast)")
    p.add_argument("--answers", type=Path, help="JSON met de antwoorden van de planner op de checklistvragen (formaat: zie onderaan)")
    p.add_argument("--layer", help="laag van de plan-GeoPackage als die meerdere lagen bevat")
    p.add_argument("--local", action="store_true", help="snelle lokale herberekening rond het plan (standaard: alles opnieuw)")
    p.add_argument("--no-maps", action="store_true", help="het rapport zonder kaarten")
    p.add_argument("--db", type=Path, help="participatiedatabank met opmerkingen van bewoners (standaard: die van de app, als ze bestaat)")
    p.add_argument("--no-cache", action="store_true", help="de bewaarde voor-toestand in de map van het studiegebied niet lezen of schrijven")
    p.add_argument("--no-health", action="store_true", help="zonder gezondheidseffecten (sterfte, DALY, euro per jaar)")
    p.add_argument("--health-draws", type=int, default=4096, help="Monte-Carlotrekkingen voor de gezondheidseffecten (standaard 4096)")
    p.add_argument("--seed", type=int, default=20261130, help="seed van de Monte-Carlosimulatie (staat in het rapport)")


def _notes(result: ScreeningResult) -> list[str]:
    """Families that could not run, and the data-quality notes of each family after the plan."""
    out = [f"{fam}: {why}" for fam, why in result.missing.items()]
    for fo in result.after.families.values():
        out.extend(getattr(fo.raw, "notes", None) or [])
    return out


def _run_screen(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    steps = Steps(
        progress_bar("screening"),
        {"read": "plan lezen", "before": "voor-toestand", "after": "plan en na-toestand", "checklist": "checklist", "health": "gezondheidseffecten", "report": "rapport"},
    )
    area = load_study_area(args.area)
    plans = [read_plan(pp, area=area, layer=args.layer) for pp in args.plan]
    answers = read_answers(args.answers) if args.answers else {}
    steps.done("read")
    before = load_or_compute_baseline(area, None if args.no_cache else args.area)
    steps.done("before")
    results = [screen(area, plan, before=before, local=args.local) for plan in plans]
    steps.done("after")
    items = [build_checklist(r, answers) for r in results]
    steps.done("checklist")
    health = [None] * len(results) if args.no_health else [screening_health(r, draws=args.health_draws, seed=args.seed) for r in results]
    steps.done("health")
    voices: list[Voices | None] = [voices_near_plan(r.plan.footprint, area.name, list(r.zones.plan_codes), db_path=args.db, crs=area.crs) for r in results]
    if len(results) == 1:
        html, js = write_report(results[0], items[0], args.out, with_maps=not args.no_maps, voices=voices[0], health=health[0])
    else:
        html, js = write_variants_report(results, items, args.out, with_maps=not args.no_maps, voices=voices, health=health)
    steps.done("report")
    for result, its, h in zip(results, items, health):
        v = decide(result, its)
        print(f"Plan '{result.plan.name}' op '{area.name}': advies {v.verdict.upper()}.")
        for f in v.reasons:
            print(f"  - {f.text}")
        if h is not None:
            print(f"Gezondheid (na min voor): {interval_text(h)} vroegtijdige sterfgevallen per jaar; {h.draws} trekkingen, seed {h.seed}. {h.label_nl}")
        print("Checklist: " + " ".join(f"{i.id}={i.score}" for i in its))
        print_notes(_notes(result))
    print(f"Rapport: {html}\nJSON:    {js}\nTijd:    {fmt_number(time.perf_counter() - t0, 1)} s")
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "screen": (_add_screen, _run_screen),
}
