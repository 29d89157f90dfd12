"""Page 1 of the report is the decision: harm-only → ongunstig, help-only → gunstig, mixed → gunstig mits.

The plans are built so that the right answer is known beforehand:
- *harm*: the 1 ha Begijnhofpark paved into a car park: green access, heat and water worsen for
  the residents around it and nothing improves;
- *help*: the station car park turned into a tree park: nothing that people have gets worse;
- *mixed*: the shipped Ragheno-like example (housing, a park, a fietsstraat, parking): benefits for
  existing residents, and new residents who miss some norms.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from gezondestad.layers import participation as pt
from gezondestad.layers.demo import X0, Y0
from gezondestad.screening.checklist import build_checklist, load_checklist
from gezondestad.screening.compare import compute_baseline, screen
from gezondestad.screening.equity import equity
from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH
from gezondestad.screening.plan import plan_from_frame, read_plan
from gezondestad.screening.report import norms_used, plan_summary_sentence, render_html
from gezondestad.screening.verdict import decide
from gezondestad.screening.voices import voices_near_plan


def _rect(x0, y0, x1, y1):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture(scope="module")
def baseline(demo_area):
    return compute_baseline(demo_area)


def _plan(area, ftype, geom, **attrs):
    gdf = gpd.GeoDataFrame({"feature_type": [ftype], **{k: [v] for k, v in attrs.items()}}, geometry=[geom], crs=area.crs)
    return plan_from_frame(gdf, name=attrs.get("name", ftype), area=area)


@pytest.fixture(scope="module")
def harm(demo_area, baseline):
    p = _plan(demo_area, "parking", _rect(622.5, 1177.5, 727.5, 1272.5), name="Parking Begijnhof")
    return screen(demo_area, p, before=baseline, local=True)


@pytest.fixture(scope="module")
def helps(demo_area, baseline):
    p = _plan(demo_area, "green", _rect(1805, 1005, 1895, 1095), name="Stationspark", kind="park", trees=0.6)
    return screen(demo_area, p, before=baseline, local=True)


@pytest.fixture(scope="module")
def mixed(demo_area, baseline):
    return screen(demo_area, read_plan(EXAMPLE_PLAN_PATH, area=demo_area), before=baseline, local=True)


def _all_answers(value):
    return {k: value for k, item in load_checklist().items() if item.get("kind") == "question"}


@pytest.mark.parametrize("answer", [None, "ja", "nee"])
def test_harm_only_is_ongunstig_whatever_the_planner_answers(harm, answer):
    items = build_checklist(harm, _all_answers(answer) if answer else {})
    v = decide(harm, items)
    assert v.verdict == "ongunstig"
    assert len(v.reasons) == 3 and all(f.kind == "harm" and f.basis in ("berekend", "gedeeltelijk") for f in v.reasons)
    assert not v.benefits
    fams = {f.family for f in v.harms}
    assert "network" in fams and "heat" in fams  # green access and heat get worse
    assert any("Parking Begijnhof" in f.causes for f in v.reasons)
    assert all(f.remedy for f in v.reasons)


def test_help_only_is_gunstig(helps):
    v = decide(helps, build_checklist(helps, _all_answers("ja")))
    assert v.verdict == "gunstig"
    assert not v.harms and v.benefits and v.reasons[0].kind == "benefit"


def test_unanswered_questions_are_not_assessed_not_conditions(helps):
    v = decide(helps, build_checklist(helps, {}))
    assert v.verdict == "gunstig"
    assert any("nog niet beantwoord" in n for n in v.not_assessed)


def test_planner_no_adds_a_condition_but_never_a_benefit(helps):
    v = decide(helps, build_checklist(helps, _all_answers("nee")))
    assert v.verdict == "gunstig mits" and v.planner_conditions
    assert all(f.basis == "planner" for f in v.planner_conditions)


def test_mixed_plan_is_gunstig_mits_with_conditions(mixed):
    v = decide(mixed, build_checklist(mixed, _all_answers("ja")))
    assert v.verdict == "gunstig mits"
    assert v.harms and v.benefits and v.conditions
    assert len(v.conditions) >= len({f.remedy for f in v.harms if f.remedy})


def test_summary_sentence_names_removals(harm, mixed):
    assert "verwijdert 1,0 ha groen" in plan_summary_sentence(harm)
    s = plan_summary_sentence(mixed)
    assert "430 woningen" in s and "ander regime (fietsstraat)" in s


def test_who_gains_per_need_quintile_when_income_is_known(mixed):
    e = equity(mixed)
    assert e.per_quintile is None and e.need_column is None and e.notes  # said once, left out
    w = mixed.after.area.wijken
    saved = w.copy()
    try:
        w["median_income"] = np.linspace(18_000, 40_000, len(w))
        e = equity(mixed)
        assert e.need_column == "median_income" and e.per_quintile is not None
        assert abs(e.per_quintile["share_of_population"].sum() - 1) < 1e-9
        assert e.per_quintile["better"].sum() == pytest.approx(e.per_wijk["better"].sum())
        assert isinstance(e.proportionate, bool)
    finally:
        mixed.after.area.themes["wijken"] = saved


def test_remark_near_plan_in_report_escaped_hidden_left_out(mixed, tmp_path):
    db = tmp_path / "db.sqlite"
    c = mixed.plan.footprint.centroid
    area = mixed.before.area
    code = str(area.wijken["wijk_code"].iloc[0])
    pt.add_remark(db, area.name, code, "te weinig groen", "<script>alert('x')</script> meer bomen", c.x, c.y)
    rid = pt.add_remark(db, area.name, code, "andere", "VERBORGEN-OPMERKING", c.x + 3, c.y)
    pt.set_hidden(db, rid, True, "spam")
    far = pt.add_remark(db, area.name, code, "andere", "VER-WEG", c.x + 5_000, c.y)
    assert far
    v = voices_near_plan(mixed.plan.footprint, area.name, list(mixed.zones.plan_codes), db_path=db)
    assert len(v.remarks) == 1 and v.hidden_left_out == 1
    html = render_html(mixed, build_checklist(mixed, {}), with_maps=False, voices=v)
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    assert "VERBORGEN-OPMERKING" not in html and "VER-WEG" not in html


def test_only_used_norms_listed(mixed):
    from gezondestad.model.norms import norms_table

    used = norms_used(mixed, build_checklist(mixed, {}))
    assert 5 < len(used) < len(norms_table()) / 2


def test_two_variants_side_by_side_in_one_report(demo_dir, tmp_path):
    from gezondestad.app.cli.main import main

    b = EXAMPLE_PLAN_PATH.with_name("ragheno_demo_plan_variant_b.geojson")
    out = tmp_path / "varianten.html"
    rc = main(["screen", "--area", str(demo_dir), "--plan", str(EXAMPLE_PLAN_PATH), "--plan", str(b), "--out", str(out),
               "--local", "--no-maps", "--no-cache", "--db", str(tmp_path / "geen.sqlite")])
    assert rc == 0
    html = out.read_text(encoding="utf-8")
    assert "Indicatoren naast elkaar" in html and "variant B" in html and "Ragheno-achtig" in html
    assert 'class="differs"' in html  # the park vs parking difference is highlighted
    import json

    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert len(data["variants"]) == 2
    assert data["variants"][0]["verdict"]["verdict"] in ("gunstig", "gunstig mits", "ongunstig")


def test_every_screening_indicator_has_a_remedy_and_a_cause_family():
    from gezondestad.model.catalogue import screening_indicators
    from gezondestad.model.norms import load_norms

    n = load_norms("report")
    remedies = dict(n["remedies"].value)
    families = {f for f, _t, _d in n["causes"].value}
    assert [i.key for i in screening_indicators() if i.key not in remedies] == []
    assert {i.family for i in screening_indicators()} <= families
