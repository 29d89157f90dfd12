"""Typed norm parameters (model/params.py), the progress callback and the common family result."""

import dataclasses
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest
from gezondestad.model.norms import NORMS_DIR, NormError
from gezondestad.model.progress import Steps, TqdmProgress, as_progress, no_progress
from gezondestad.model.result import FamilyResult, ResultError, family_result
from gezondestad.spatial.accessibility import AccessibilityParams
from gezondestad.spatial.green import GreenParams, green_classes
from gezondestad.spatial.netparams import NetworkParams
from gezondestad.spatial.water import WaterParams, water_layer


def _custom(tmp_path: Path, family: str, key: str, line: str) -> Path:
    """A copy of data/norms where the ``line`` of ``[key]`` starting like ``line`` is replaced."""
    d = tmp_path / "norms"
    shutil.copytree(NORMS_DIR, d)
    f = d / f"{family}.toml"
    text = f.read_text(encoding="utf-8")
    field = line.split("=")[0].strip()
    pat = re.compile(rf"(\[{re.escape(key)}\]\n(?:.*\n)*?){field} = .*\n")
    new, n = pat.subn(lambda m: m.group(1) + line + "\n", text, count=1)
    assert n == 1, (key, field)
    f.write_text(new, encoding="utf-8")
    return d


def test_values_come_from_the_file():
    raw = tomllib.loads((NORMS_DIR / "green.toml").read_text(encoding="utf-8"))
    p = GreenParams.from_norms()
    assert p.who_distance_m == float(raw["who_distance_m"]["value"])
    assert p.public_green_kinds == tuple(raw["public_green_kinds"]["value"])
    assert ("green", "who_distance_m") in p.norms_used()
    assert len(p.norms_used()) == len(raw)  # every green norm is a parameter, listed once
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.who_distance_m = 1.0  # type: ignore[misc]


def test_custom_folder_applies(tmp_path):
    d = _custom(tmp_path, "green", "who_distance_m", "value = 450.0")
    p = GreenParams.from_norms(d)
    assert p.who_distance_m == 450.0 and p.norms_dir == str(d)
    assert green_classes(p)[0].max_dist_m == 450.0
    # nested: the network and accessibility parameters read green from the same folder
    assert NetworkParams.from_norms(d).green.who_distance_m == 450.0
    assert AccessibilityParams.from_norms(d).green.who_distance_m == 450.0


def test_missing_key_names_file_and_key(tmp_path):
    d = tmp_path / "norms"
    shutil.copytree(NORMS_DIR, d)
    f = d / "water.toml"
    f.write_text(re.sub(r"\[flood_buffer_m\]\n(?:(?!\[).*\n)*", "", f.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(NormError, match=r"water\.toml.*'flood_buffer_m' ontbreekt"):
        WaterParams.from_norms(d)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('unit = "km"', "eenheid 'km', verwacht 'm'"),
        ("value = -5.0", "buiten het toegelaten bereik"),
        ('value = "ver"', "geen getal"),
    ],
)
def test_bad_entry_is_a_dutch_norm_error(tmp_path, line, match):
    d = _custom(tmp_path, "water", "flood_buffer_m", line)
    with pytest.raises(NormError, match=match) as exc:
        WaterParams.from_norms(d)
    assert "flood_buffer_m" in str(exc.value) and "water.toml" in str(exc.value)


def test_overrides_are_checked():
    assert WaterParams.from_norms(design_storm_depth_mm=80).design_storm_depth_mm == 80.0
    with pytest.raises(NormError, match="buiten het toegelaten bereik"):
        WaterParams.from_norms(cn_lambda=2.0)
    with pytest.raises(NormError, match="Onbekende parameter"):
        WaterParams.from_norms(rain=10)
    bad = WaterParams.from_norms().biophysical.drop(columns=["cn_a"])
    with pytest.raises(NormError, match="cn_a"):
        WaterParams.from_norms(biophysical=bad)


def test_ramp_bands_must_match_limits():
    with pytest.raises(NormError, match="ramp_max_slope_pct"):
        AccessibilityParams.from_norms(ramp_rise_bands_cm=[10, 25])


def test_network_params_list_every_family():
    used = NetworkParams.from_norms().norms_used()
    assert {f for f, _ in used} == {"green", "lts", "stop"}
    assert len(used) == len(set(used))


def test_steps_report_progress_and_time():
    seen = []
    steps = Steps(lambda d, t, m: seen.append((d, t, m)), {"a": "eerst", "b": "dan"})
    steps.done("a")
    steps.done("b")
    assert seen == [(0, 2, "eerst"), (1, 2, "dan"), (2, 2, "klaar")]
    assert set(steps.timings_s) == {"a", "b"} and steps.total_s() >= 0
    assert as_progress(None) is no_progress and as_progress(False) is no_progress
    assert isinstance(as_progress(True), TqdmProgress)


def test_water_layer_reports_progress_and_converts(demo_area):
    seen = []
    r = water_layer(demo_area.landcover, demo_area.wijken, progress=lambda d, t, m: seen.append(d))
    assert seen == [0, 1, 2, 3]
    f = family_result(r)
    assert f.family == "water" and f.grid is r.landcover
    assert f.cells["runoff_mm"] is r.runoff_mm
    assert ("water", "design_storm_depth_mm") in f.norms_used
    assert set(f.norms_table()["source"].str.len() > 0) == {True}
    with pytest.raises(TypeError):
        f.cells["x"] = np.zeros(1)  # type: ignore[index]
    assert family_result(f) is f
    with pytest.raises(ResultError):
        family_result(object())
    assert isinstance(f, FamilyResult)


def test_custom_folder_reaches_network_indicators(tmp_path, demo_area):
    from gezondestad.spatial.indicators import network_indicators

    d = _custom(tmp_path, "green", "who_distance_m", "value = 5000.0")
    base = network_indicators(demo_area)
    wide = network_indicators(demo_area, norms_dir=str(d))
    b, w = base.per_wijk["green_300m_05ha_share"].to_numpy(), wide.per_wijk["green_300m_05ha_share"].to_numpy()
    # a larger walking distance can only serve more homes; the demo has unserved homes at 300 m
    assert (w >= b).all() and (w > b).any()
    assert len(wide.unserved) < len(base.unserved)
    assert wide.params.green.who_distance_m == 5000.0


def test_progress_reaches_indicators_and_export(tmp_path, demo_area):
    from gezondestad.layers.export import export_study_area
    from gezondestad.spatial.indicators import network_indicators

    seen = []
    r = network_indicators(demo_area, progress=lambda d, t, m: seen.append((d, t)))
    assert seen == [(i, 6) for i in range(7)]
    assert set(r.timings_s) == {"networks", "snap", "green", "walk", "cycling", "aggregate", "total"}
    calls = []
    files = export_study_area(demo_area, tmp_path, "csv", progress=lambda d, t, m: calls.append((d, t, m)))
    n = len(files) - 1  # one csv per theme, then the manifest
    assert [c[0] for c in calls] == list(range(n + 1)) and calls[-1] == (n, n, "klaar")
