"""Every CSV a CLI command writes defuses formula cells (OWASP "CSV injection") and leaves numbers alone.

A wijk named ``=HYPERLINK("x")`` (city file or OpenStreetMap, anyone may edit them) and a road
class ``@SUM(A1)`` must come out of ``heat``, ``water``, ``air``, ``noise``, ``traffic`` and
``health`` with a leading apostrophe, so a spreadsheet shows the text instead of running it;
negative numbers (a plan's change, e.g. -0.5) must stay plain numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from gezondestad.app.cli.main import main
from gezondestad.layers.export import write_table
from gezondestad.layers.studyarea import save_study_area
from gezondestad.layers.textsafe import FORMULA_START
from gezondestad.screening.example_plan import example_plan_frame

HOSTILE_WIJK = '=HYPERLINK("x")'
HOSTILE_ROAD = "@SUM(A1)"


@pytest.fixture(scope="module")
def hostile_dir(demo_area, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo area with a formula as the first wijk's name and as the class of three streets."""
    a = demo_area.copy()
    w = a.themes["wijken"].copy()
    w["wijk_naam"] = w["wijk_naam"].astype(object)
    w.loc[w.index[0], "wijk_naam"] = HOSTILE_WIJK
    a.themes["wijken"] = w
    s = a.themes["streets"].copy()
    s["highway"] = s["highway"].astype(object)
    s.loc[s.index[:3], "highway"] = HOSTILE_ROAD
    a.themes["streets"] = s
    return save_study_area(a, tmp_path_factory.mktemp("hostile") / "area")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [c for row in csv.reader(f) for c in row]


def _assert_defused(path: Path, hostile: str) -> list[str]:
    """The hostile text is there with an apostrophe; no other cell starts like a formula unless it is a number."""
    cells = _cells(path)
    assert "'" + hostile in cells, f"{path.name}: {hostile!r} not found defused"
    for c in cells:
        if c.startswith(FORMULA_START):
            assert _is_number(c), f"{path.name}: formula cell {c!r} left as is"
        if c.startswith("'"):
            assert not _is_number(c[1:]), f"{path.name}: number {c!r} mangled"
    return cells


# (command and options, output file, CSVs written next to it, hostile text expected in each)
CASES = [
    (["heat"], "heat.tif", {"heat.csv": HOSTILE_WIJK}),
    (["water"], "water.tif", {"water.csv": HOSTILE_WIJK}),
    (["air", "--grid-m", "0"], "air.tif", {"air.csv": HOSTILE_WIJK}),
    (["noise", "--no-grid"], "noise.tif", {"noise.csv": HOSTILE_WIJK}),
    (["traffic"], "traffic.gpkg", {"traffic.csv": HOSTILE_ROAD}),
]


@pytest.mark.parametrize(("cmd", "out", "csvs"), CASES, ids=[c[0][0] for c in CASES])
def test_cli_csv_defuses_hostile_names(hostile_dir, tmp_path, cmd, out, csvs):
    assert main([*cmd, "--area", str(hostile_dir), "--out", str(tmp_path / out)]) == 0
    for name, hostile in csvs.items():
        _assert_defused(tmp_path / name, hostile)


def test_health_plan_csvs_defuse_names_and_keep_negative_numbers(hostile_dir, tmp_path):
    plan = example_plan_frame()
    plan.loc[plan.index[0], "name"] = '-HYPERLINK("p")'  # a hostile feature name in the plan must not break anything
    plan_path = tmp_path / "plan.gpkg"
    plan.to_file(plan_path)
    out = tmp_path / "health.csv"
    assert main(["health", "--area", str(hostile_dir), "--plan", str(plan_path), "--draws", "64", "--out", str(out)]) == 0
    per_wijk = _assert_defused(tmp_path / "health_per_wijk.csv", HOSTILE_WIJK)
    summary = _cells(out)
    # the example plan removes and adds homes: changes go both ways, and negative changes stay plain numbers
    negatives = [c for c in per_wijk + summary if c.startswith("-") and _is_number(c)]
    assert negatives, "expected negative changes in the plan's health CSVs"
    assert not [c for c in per_wijk + summary if c.startswith("'-")]


def test_write_table_defuses_text_and_keeps_negative_numbers(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"wijk_naam": [HOSTILE_WIJK, "-Noord", "Zuid"], "delta": [-0.5, 1.0, -2.25], "tekst_getal": ["-0,5", "x", "+3"]})
    plain = write_table(df, tmp_path / "a.csv").read_text(encoding="utf-8").splitlines()
    assert plain[1] == "\"'=HYPERLINK(\"\"x\"\")\",-0.5,\"-0,5\""  # a signed number as text runs nothing: unchanged
    assert plain[2] == "'-Noord,1.0,x"
    dutch = write_table(df, tmp_path / "b.csv", dutch=True).read_text(encoding="utf-8-sig").splitlines()
    assert dutch[3] == "Zuid;-2,25;+3"
