"""gezondestad prepare / export on the command line; nothing half-written on failure; load_or_prepare."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import gezondestad.app.cli.main
import pandas as pd
import pyogrio
import pytest
from gezondestad.layers import prepare
from gezondestad.model.catalogue import CATALOGUE, indicator
from gezondestad.layers.studyarea import is_study_area_dir, load_study_area
from gezondestad.model.studyarea import StudyAreaError

TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
  <node id="1" lat="51.0300" lon="4.4700"/>
  <node id="2" lat="51.0300" lon="4.4710"/>
  <node id="3" lat="51.0310" lon="4.4710"/>
  <node id="4" lat="51.0301" lon="4.4705"><tag k="highway" v="bus_stop"/><tag k="name" v="Halte"/></node>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="cyclestreet" v="yes"/><tag k="maxspeed" v="30"/></way>
</osm>
"""


def _run(argv: list[str]) -> int:
    return gezondestad.app.cli.main.main(argv)


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_prepare_demo_then_export(tmp_path, capsys):
    out = tmp_path / "D"
    assert _run(["prepare", "--demo", "--out", str(out)]) == 0
    assert is_study_area_dir(out)
    printed = capsys.readouterr().out
    assert "Studiegebied 'Demostad' geschreven naar" in printed and "streets" in printed
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert man["prepared_from"]["kind"] == "demo" and man["synthetic"] is True
    assert _run(["export", "--area", str(out), "--format", "gpkg", "--out", str(tmp_path / "E")]) == 0
    gpkg = tmp_path / "E" / "demostad.gpkg"
    assert {n for n, _ in pyogrio.list_layers(gpkg)} >= {"wijken", "streets", "green", "pois", "buildings"}
    # the per-wijk indicator table: every family the demo allows, catalogue columns, one row per wijk
    table = pd.read_csv(tmp_path / "E" / "demostad_indicatoren_per_wijk.csv")
    man = json.loads((tmp_path / "E" / "manifest.json").read_text(encoding="utf-8"))
    assert "demostad_indicatoren_per_wijk.csv" in man["export"]["files"]
    assert len(table) == 4 and list(table.columns[:3]) == ["wijk_code", "wijk_naam", "residents"]
    keys = [ind.key for ind in CATALOGUE if ind.key in table.columns]
    assert list(table.columns[3:]) == keys
    assert {indicator(k).family for k in keys} == {"network", "accessibility", "heat", "water"}
    assert table["green_300m_05ha_share"].between(0, 1).all() and table["runoff_mm_mean"].gt(0).all()
    assert _run(["export", "--area", str(out), "--format", "geotiff", "--crs", "EPSG:4326", "--out", str(tmp_path / "T"), "--no-indicators"]) == 0
    assert (tmp_path / "T" / "demostad_landcover_4326.tif").is_file()
    assert not (tmp_path / "T" / "demostad_indicatoren_per_wijk.csv").exists()
    assert _run(["export", "--area", str(out), "--format", "geojson", "--out", str(tmp_path / "J"), "--no-indicators"]) == 0
    assert "RFC 7946" in capsys.readouterr().out


def test_prepare_osm_file_with_wijken(tmp_path):
    osm = tmp_path / "tiny.osm"
    osm.write_text(TINY_OSM, encoding="utf-8")
    pts = gpd.GeoSeries(gpd.points_from_xy([4.4695, 4.4715], [51.0295, 51.0315]), crs=4326).to_crs(31370)
    from shapely.geometry import box

    wijk = gpd.GeoDataFrame({"wijk_code": ["X1"], "wijk_naam": ["Test"]}, geometry=[box(pts.x[0], pts.y[0], pts.x[1], pts.y[1])], crs=31370)
    wijk.to_file(tmp_path / "w.geojson")
    out = tmp_path / "O"
    assert _run(["prepare", "--osm", str(osm), "--wijken", str(tmp_path / "w.geojson"), "--out", str(out)]) == 0
    a = load_study_area(out)
    assert list(a.wijken["wijk_code"]) == ["X1"]
    assert set(a.streets["cyclestreet"]) == {"yes"} and len(a.streets) == 1
    assert list(a.pois["name"]) == ["Halte"]


def test_errors_are_one_line_exit_2_and_leave_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node", encoding="utf-8")
    out = tmp_path / "never"
    assert _run(["prepare", "--osm", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gezondestad prepare:") and "bad.osm" in err and "\n" not in err
    assert not out.exists() and _leftovers(tmp_path) == []
    assert _run(["prepare", "--demo", "--wijken", "w.gpkg", "--out", str(out)]) == 2
    assert "--wijken is only used with --place or --osm" in capsys.readouterr().err
    assert _run(["export", "--area", str(tmp_path), "--format", "gpkg", "--out", str(tmp_path / "e")]) == 2
    assert "is not a prepared study area" in capsys.readouterr().err


def test_failing_write_leaves_no_folder_and_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    import gezondestad.layers.studyarea as sa

    real = pyogrio.write_dataframe
    calls = {"n": 0}

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("No space left on device")
        return real(*a, **k)

    monkeypatch.setattr(sa.pyogrio, "write_dataframe", flaky)
    out = tmp_path / "D"
    assert _run(["prepare", "--demo", "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not out.exists() and _leftovers(tmp_path) == []
    # a previous complete study area survives a failed re-prepare untouched
    monkeypatch.setattr(sa.pyogrio, "write_dataframe", real)
    assert _run(["prepare", "--demo", "--out", str(out)]) == 0
    before = (out / "manifest.json").read_text(encoding="utf-8")
    calls["n"] = 0
    monkeypatch.setattr(sa.pyogrio, "write_dataframe", flaky)
    assert _run(["prepare", "--demo", "--out", str(out)]) == 2
    assert (out / "manifest.json").read_text(encoding="utf-8") == before and is_study_area_dir(out)
    assert _leftovers(tmp_path) == []


def test_load_or_prepare_uses_the_cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    a1 = prepare.load_or_prepare(d, demo=True)

    def no_rebuild():
        raise AssertionError("prepared again although the cache matches")

    monkeypatch.setattr(prepare, "build_demo_area", no_rebuild)
    a2 = prepare.load_or_prepare(d, demo=True)
    assert len(a2.streets) == len(a1.streets)
    with pytest.raises(AssertionError, match="prepared again"):
        prepare.load_or_prepare(d, demo=True, resolution_m=20.0)  # another request: prepares
    with pytest.raises(StudyAreaError, match="exactly one source"):
        prepare.load_or_prepare(d)
    with pytest.raises(StudyAreaError, match="resolution must be > 0"):
        prepare.prepare_from_args(demo=True, resolution_m=0)


@pytest.mark.real
def test_prepare_mechelen_sources_cli(mechelen_dir, tmp_path):
    toml = Path(__file__).resolve().parent / "real" / "mechelen.toml"
    out = tmp_path / "M"
    assert _run(["prepare", "--sources", str(toml), "--out", str(out)]) == 0
    a = load_study_area(out)
    assert len(a.wijken) == 12 and a.theme_info("buildings").status == "missing"
    assert a.wijken["residents"].sum() > 80_000
    assert a.manifest["prepared_from"]["kind"] == "sources"


def test_help_lists_the_workflow_and_any_bug_is_one_line(capsys, monkeypatch):
    from gezondestad.app.cli import main as cli_main

    with pytest.raises(SystemExit):
        cli_main.main(["--help"])
    text = capsys.readouterr().out
    pos = [re.search(rf"^    {c}\b", text, re.M).start() for c in cli_main.WORKFLOW]
    assert pos == sorted(pos)

    def boom(args):
        raise RuntimeError("stuk")

    cmds = cli_main._commands()
    monkeypatch.setattr(cli_main, "_commands", lambda: {**cmds, "export": (cmds["export"][0], boom)})
    assert cli_main.main(["export", "--area", "x", "--format", "gpkg", "--out", "y"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gezondestad export: onverwachte fout (RuntimeError: stuk)") and "\n" not in err
    assert "Traceback" not in err
