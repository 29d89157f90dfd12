"""The screening report (HTML + JSON) and the ``gezondestad screen`` command."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.studyarea import CRS
from gezondestad.screening.checklist import build_checklist, load_checklist
from gezondestad.screening.compare import compute_situation, screen
from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH
from gezondestad.screening.plan import plan_from_frame, read_plan
from gezondestad.screening.report import fmt_delta, fmt_value, render_html, write_report
from shapely.geometry import box

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def example_result(demo_area):
    before = compute_situation(demo_area)
    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    return screen(demo_area, plan, before=before)


def test_number_formatting():
    assert fmt_value(0.3781, "%") == "37,8 %"
    assert fmt_value(float("nan"), "%") == "–"
    assert fmt_value(1.0, "ja/nee") == "ja"
    assert fmt_delta(0.08, "%") == "+8,0 %-punt"
    assert fmt_delta(-0.0054, "index") == "−0,01"
    # norms as the report shows them: Dutch numbers, lists joined, tables named
    from gezondestad.screening.report import UNIT_NL, norm_value_nl

    assert norm_value_nl([0.25, 0.5, 0.75]) == "0,25; 0,5; 0,75" and norm_value_nl(0.3333333333) == "0,3333"
    assert norm_value_nl(300.0) == "300" and norm_value_nl(["school", "kinderopvang"]) == "school, kinderopvang"
    assert norm_value_nl({"primary": 8000, "secondary": 5000}, "traffic") == "tabel met 2 waarden (zie data/norms/traffic.toml)"
    assert UNIT_NL["degC"] == "°C"
    # 0-100 scores with one decimal; indicator labels inside a sentence keep their abbreviations
    from gezondestad.screening.verdict import in_sentence

    assert fmt_value(97.81, "/100") == "97,8/100" and fmt_delta(-0.09, "/100") == "−0,1 punt"
    assert in_sentence("Geluid aan de woning 's nachts (Lnight)") == "geluid aan de woning 's nachts (Lnight)"
    assert in_sentence("STOP – Stappers (S)") == "STOP – Stappers (S)"
    # counts: whole numbers without the unit word
    assert fmt_value(4.0, "aantal") == "4" and fmt_delta(-2240, "aantal") == "−2 240" and fmt_delta(0, "aantal") == "±0"


def test_report_has_summary_maps_deltas_checklist_norms(tmp_path, example_result):
    items = build_checklist(example_result, {"woningmix": "ja"})
    html_path, json_path = write_report(example_result, items, tmp_path / "rapport.html")
    html = html_path.read_text(encoding="utf-8")
    assert "1. Advies" in html and any(f">{w}</div>" in html for w in ("gunstig", "gunstig mits", "ongunstig"))
    assert html.count("data:image/png;base64,") >= 3  # plan, heat difference, green access
    for it in load_checklist().values():
        assert it["theme"] in html
    assert "WHO Regional Office for Europe (2016)" in html  # a norm source
    for raw in ("<td>degC</td>", "{'", "<td>heat index (0-1)</td>", "<td>weight</td>"):  # norms table values and units in Dutch
        assert raw not in html, html[max(0, html.find(raw) - 300): html.find(raw) + 100]
    assert "Inwoners met publiek groen" in html and "Omliggende wijken" in html
    assert "synthetisch" in html  # data-quality: demo town
    assert "@media print" in html
    assert "<script" not in html  # self-contained, no scripts at all
    text = json_path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text  # strict JSON: missing values are null
    data = json.loads(text)
    assert json_path.name == "rapport.json"
    keys = {(d["key"], d["zone"]) for d in data["deltas"]}
    assert ("green_300m_05ha_share", "omgeving") in keys and ("heat_index_mean", "plan") in keys
    assert len(data["deltas"]) == len(example_result.deltas)
    assert {c["id"] for c in data["checklist"]} == set(load_checklist())
    assert next(c for c in data["checklist"] if c["id"] == "woningmix")["score"] == "+"
    assert data["applied"]["dwellings_added"] == 430


def test_report_escapes_malicious_names(demo_area):
    plan = plan_from_frame(
        gpd.GeoDataFrame(
            [{"feature_type": "green", "public": True, "name": EVIL, "geometry": box(X0 + 1400, Y0 + 950, X0 + 1500, Y0 + 1050)}],
            geometry="geometry",
            crs=CRS,
        ),
        name=EVIL,
        area=demo_area,
    )
    r = screen(demo_area, plan, families=("water",))
    html = render_html(r, build_checklist(r, {"spelen": {"answer": "ja", "toelichting": EVIL}}), with_maps=False)
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "<script" not in html


def test_cli_screen_writes_report_and_json(tmp_path, demo_dir):
    from gezondestad.app.cli.main import main

    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"ontmoeting": "ja", "voeding": "nee"}), encoding="utf-8")
    out = tmp_path / "out" / "report.html"
    rc = main(["screen", "--area", str(demo_dir), "--plan", str(EXAMPLE_PLAN_PATH), "--out", str(out), "--answers", str(answers), "--local", "--no-maps"])
    assert rc == 0
    assert out.is_file() and out.with_suffix(".json").is_file()
    data = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["mode"] == "local"
    assert next(c for c in data["checklist"] if c["id"] == "voeding")["score"] == "-"


def test_cli_screen_plan_outside_area_fails_cleanly(tmp_path, demo_dir, capsys):
    from gezondestad.app.cli.main import main

    far = gpd.GeoDataFrame({"feature_type": ["green"]}, geometry=[box(X0 + 90_000, Y0, X0 + 90_100, Y0 + 100)], crs=CRS)
    p = tmp_path / "far.geojson"
    far.to_file(p, driver="GeoJSON")
    rc = main(["screen", "--area", str(demo_dir), "--plan", str(p), "--out", str(tmp_path / "r.html"), "--no-cache"])
    assert rc == 2
    assert "buiten het studiegebied" in capsys.readouterr().err
