"""Health section of the screening report (screening/health_report.py) and its wiring into the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from gezondestad.screening.health_report import _nice_end, fmt_eur, fmt_signif, health_json, health_section, interval_text
from gezondestad.spatial.health import HealthParams, health_outcomes


@pytest.fixture(scope="module")
def plan_result():
    p = HealthParams.from_norms()
    before = pd.DataFrame({"residents": [100.0, 100.0, 50.0], "pm25_ugm3": [15.0, 15.0, 15.0], "wijk_code": ["A", "B", "B"],
                           "wijk_naam": ["Noord", "Zuid", "Zuid"]})
    # home 0 cleaner air, home 1 unchanged, home 2 demolished, one new home at 15 ug/m3
    after = pd.DataFrame({"residents": [100.0, 100.0, 40.0], "pm25_ugm3": [10.0, 15.0, 15.0], "wijk_code": ["A", "B", "B"],
                          "wijk_naam": ["Noord", "Zuid", "Zuid"], "before_index": [0, 1, -1]})
    return health_outcomes(before, after, p, draws=256, seed=7)


def test_formatting_dutch() -> None:
    assert fmt_signif(-0.2745, signed=True) == "−0,27"
    assert fmt_signif(0.2745, signed=True) == "+0,27"
    assert fmt_signif(12.34) == "12,3"
    assert fmt_signif(1234.6) == "1 235"
    assert fmt_signif(float("nan")) == "–"
    assert fmt_eur(1234567) == "€ 1 230 000"
    assert fmt_eur(-41000.3, signed=True) == "−€ 41 000"
    # the bar axis ends on the next 1-2-5 step
    assert [_nice_end(x) for x in (0.0, 0.013, 0.3, 1.2, 1.9, 2.1, 7.0, 42.0)] == pytest.approx([0.01, 0.02, 0.5, 2.0, 2.0, 5.0, 10.0, 50.0])


def test_section_groups_intervals_and_unknown(plan_result) -> None:
    r = plan_result
    s = health_section(r, with_chart=True)
    assert s["mode"] == "plan" and s["seed"] == 7 and s["draws"] == 256
    assert "geen voorspelling" in s["label"]
    # existing residents gain (cleaner air at home 0): a negative median with its interval
    g = {x["label"]: x for x in s["groups"]}
    assert set(g) == {"Bestaande bewoners", "Nieuwe bewoners", "Verdwenen bewoners"}
    med = r.value("pm25", "existing")
    assert med < 0 and g["Bestaande bewoners"]["deaths"] == interval_text(r, group="existing")
    assert g["Bestaande bewoners"]["deaths"].startswith("−") and "95 %" in g["Bestaande bewoners"]["deaths"]
    # new residents carry the burden of 15 ug/m3 at their home, removed ones no longer do
    assert r.value("total", "new") > 0 and r.value("total", "removed") < 0
    assert g["Nieuwe bewoners"]["deaths"].startswith("+") and g["Verdwenen bewoners"]["deaths"].startswith("−")
    # every pathway without an exposure column is listed as not assessed, none is shown as a number
    na = {x["pathway"] for x in s["not_assessed"]}
    assert {"Stikstofdioxide (NO2)", "Hitte (stedelijk hitte-eiland)", "Groen rond de woning", "Wandelen"} <= na
    assert [p["label"] for p in s["pathways"]] == ["Fijnstof (PM2,5)", "Totaal"]
    # per wijk, largest effect first; no age or quintile columns -> those breakdowns are left out
    assert [w["wijk"] for w in s["wijken"]][0] in ("Noord (A)", "Zuid (B)")
    assert s["ages"] == [] and s["quintiles"] == []
    assert s["bars"].startswith("data:image/png;base64,")
    js = json.loads(json.dumps(health_json(r), default=str))
    assert js["seed"] == 7 and js["draws"] == 256 and "no2" in js["not_assessed"]


def test_burden_section_no_pathway() -> None:
    r = health_outcomes(pd.DataFrame({"residents": [10.0]}), None, HealthParams.from_norms(), draws=16, seed=1)
    s = health_section(r)
    assert s["pathways"] == [] and s["bars"] is None and len(s["not_assessed"]) >= 8
    assert interval_text(r) == "onbekend"


@pytest.fixture(scope="module")
def screened(demo_area):
    from gezondestad.screening.compare import screen
    from gezondestad.screening.example_plan import example_plan_frame
    from gezondestad.screening.health_outcomes import screening_health
    from gezondestad.screening.plan import plan_from_frame

    res = screen(demo_area, plan_from_frame(example_plan_frame(), area=demo_area), local=True)
    return res, screening_health(res, draws=512, seed=11)


def test_screening_health_reuses_screening_and_reports(screened) -> None:
    from gezondestad.screening.checklist import build_checklist
    from gezondestad.screening.report import render_html, report_json

    res, h = screened
    assert h.mode == "plan" and h.seed == 11
    # the screening's own homes: existing + new residents after the plan = its after homes
    assert h.homes.loc[h.homes["group"] != "removed", "residents"].sum() == pytest.approx(pd.to_numeric(res.after.homes["residents"]).sum())
    # the example plan adds a park next to existing homes: the green pathway can only gain for them
    assert h.value("green", "existing", stat="central") < 0
    # the screening computed noise and air (with the plan's traffic): those pathways are known here
    assert not {"pm25", "no2", "noise_ihd"} & set(h.unknown)
    items = build_checklist(res, {})
    html = render_html(res, items, with_maps=False, health=h)
    sec = html[html.index("3. Gezondheidseffecten"):]
    assert "Vergelijking, geen voorspelling" in sec and "seed 11" in sec and "512 trekkingen" in sec
    assert "Bestaande bewoners" in sec and "Nieuwe bewoners" in sec and "95 %:" in sec
    assert interval_text(h) in sec
    js = report_json(res, items, health=h)
    assert js["health"]["seed"] == 11 and any(r["pathway"] == "total" for r in js["health"]["summary"])
    assert np.isfinite([r["median"] for r in js["health"]["summary"] if r["median"] is not None]).all()


def test_situation_health_burden_per_wijk(screened) -> None:
    from gezondestad.screening.health_outcomes import situation_health

    res, _ = screened
    r = situation_health(res.before, draws=64, seed=3)
    assert r.mode == "burden" and not {"pm25", "no2", "noise_ihd", "heat"} & set(r.unknown)
    pw = r.per_wijk
    assert set(pw["wijk_code"]) >= {"DEMO01", "DEMO02"}
    np.testing.assert_allclose(pw["deaths_per_10000"], pw["deaths_total"] / pw["residents"] * 1e4)
    # a burden against the recommendations is never negative, and the wijken add up to the city
    assert (pw["deaths_total"] >= 0).all()
    assert pw["deaths_total"].sum() == pytest.approx(r.value(stat="central"), rel=1e-6)


def test_burden_classes_fixed() -> None:
    from gezondestad.app.health_layer import BURDEN_COLOURS, burden_class, class_labels

    assert [burden_class(v) for v in (0.0, 1.9, 2.0, 4.4, 11.9, 12.0, 40.0)] == [0, 0, 1, 2, 4, 5, 5]
    assert burden_class(float("nan")) is None and burden_class(None) is None
    assert class_labels()[0] == "0–2" and class_labels()[-1] == "≥ 12" and len(class_labels()) == len(BURDEN_COLOURS)


def test_report_lists_not_assessed_pathways(screened, plan_result) -> None:
    from gezondestad.screening.checklist import build_checklist
    from gezondestad.screening.report import render_html

    res, _ = screened
    html = render_html(res, build_checklist(res, {}), with_maps=False, health=plan_result)
    sec = html[html.index("3. Gezondheidseffecten"):html.index("4. Kaarten")]
    assert "Niet beoordeeld" in sec and "Groen rond de woning: onbekend" in sec and "niet als 0" in sec
    assert "data:image/png;base64," in sec  # pathway bars also in a report without maps
    assert "Fijnstof (PM2,5)" in sec and "Hitte (stedelijk hitte-eiland)</td>" not in sec  # unknown: no number row


def test_cli_screen_no_health(tmp_path, demo_dir) -> None:
    from gezondestad.app.cli.main import main
    from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH

    out = tmp_path / "r.html"
    rc = main(["screen", "--area", str(demo_dir), "--plan", str(EXAMPLE_PLAN_PATH), "--out", str(out), "--local", "--no-maps", "--no-health", "--no-cache"])
    assert rc == 0
    assert "Gezondheidseffecten" not in out.read_text(encoding="utf-8")
    assert json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))["health"] is None


def test_variant_health_rows(plan_result) -> None:
    from gezondestad.screening.health_report import variant_health_rows

    p = HealthParams.from_norms()
    before = pd.DataFrame({"residents": [1000.0], "pm25_ugm3": [15.0]})
    big = health_outcomes(before, before.assign(pm25_ugm3=[5.0], before_index=[0]), p, draws=256, seed=7)
    small = health_outcomes(before, before.assign(pm25_ugm3=[14.9], before_index=[0]), p, draws=256, seed=7)
    rows = variant_health_rows([big, small, None])
    assert rows[0]["label"].startswith("Vroegtijdige") and rows[0]["cells"][2] == "–"
    # a 10 ug/m3 cut vs a 0.1 ug/m3 cut: the intervals do not overlap -> highlighted
    assert rows[0]["differs"] and rows[0]["cells"][0].startswith("−")
    assert variant_health_rows([big, big])[0]["differs"] is False
    assert variant_health_rows([None, None]) == []
