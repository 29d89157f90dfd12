"""Toegankelijkheidstoets: every rule at and just beyond its limit, unknowns, bad input, example file, CLI."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import CRS
from gezondestad.screening.toets import (
    RULES,
    ToetsError,
    check_design,
    element_verdicts,
    example_design,
    ramp_slope_limit_pct,
    rules_table,
)
from shapely.geometry import LineString, Point, Polygon

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "data" / "examples" / "ontwerp_voorbeeld.geojson"


def _verdict(element: str, rule: str, geometry=None, **attrs) -> tuple[str, object]:
    row = {"id": "x", "element": element, **attrs}
    gdf = gpd.GeoDataFrame([row], geometry=[geometry], crs=CRS)
    res = check_design(gdf)
    r = res[res["rule"] == rule]
    assert len(r) == 1, res[["rule", "verdict"]]
    return r["verdict"].item(), r["value"].item()


# (rule, element, attrs, expected verdict): at the limit and just beyond it
CASES = [
    ("path_width", "path", dict(width_cm=150, length_m=5), "pass"),
    ("path_width", "path", dict(width_cm=90, length_m=1.2), "pass"),  # short narrowing at its minimum
    ("path_width", "path", dict(width_cm=89.9, length_m=1.2), "fail"),
    ("path_width", "path", dict(width_cm=120, length_m=1.21), "unknown"),  # long narrowing: turning spaces not checkable
    ("path_width", "path", dict(width_cm=119.9, length_m=1.21), "fail"),
    ("path_slope", "path", dict(slope_pct=4.0), "pass"),
    ("path_slope", "path", dict(slope_pct=4.1), "fail"),
    ("path_cross_slope", "path", dict(cross_slope_pct=2.0), "pass"),
    ("path_cross_slope", "path", dict(cross_slope_pct=2.1), "fail"),
    ("path_surface", "path", dict(surface="asfalt"), "pass"),
    ("path_surface", "path", dict(surface="Grind"), "fail"),
    ("path_surface", "path", dict(surface="marmer"), "unknown"),
    # ramp slope: limit by height difference (10 cm 10 %, 25 cm 8.3 %, 50 cm 6.25 %, above 5 %)
    ("ramp_slope", "ramp", dict(slope_pct=10.0, rise_cm=10), "pass"),
    ("ramp_slope", "ramp", dict(slope_pct=10.1, rise_cm=10), "fail"),
    ("ramp_slope", "ramp", dict(slope_pct=10.0, rise_cm=10.1), "fail"),  # next band: 8.3 %
    ("ramp_slope", "ramp", dict(slope_pct=8.3, rise_cm=25), "pass"),
    ("ramp_slope", "ramp", dict(slope_pct=8.31, rise_cm=25), "fail"),
    ("ramp_slope", "ramp", dict(slope_pct=6.25, rise_cm=50), "pass"),
    ("ramp_slope", "ramp", dict(slope_pct=6.26, rise_cm=50), "fail"),
    ("ramp_slope", "ramp", dict(slope_pct=5.0, rise_cm=200), "pass"),
    ("ramp_slope", "ramp", dict(slope_pct=5.01, rise_cm=200), "fail"),
    ("ramp_slope", "ramp", dict(slope_pct=5.0, length_m=12), "pass"),  # rise 60 cm from slope x length
    ("ramp_slope", "ramp", dict(slope_pct=6.0, length_m=8), "pass"),  # rise 48 cm -> 6.25 %
    ("ramp_slope", "ramp", dict(slope_pct=6.0, length_m=9), "fail"),  # rise 54 cm -> 5 %
    ("ramp_slope", "ramp", dict(slope_pct=7.0), "unknown"),  # no rise, no length: band unknown
    ("ramp_slope", "ramp", dict(slope_pct=10.5), "fail"),  # steeper than every band
    ("ramp_slope", "ramp", dict(slope_pct=5.0), "pass"),  # within every band
    ("ramp_length", "ramp", dict(length_m=10.0), "pass"),
    ("ramp_length", "ramp", dict(length_m=10.1, rest_landing="nee"), "fail"),
    ("ramp_length", "ramp", dict(length_m=10.1, rest_landing="ja"), "pass"),
    ("ramp_length", "ramp", dict(length_m=10.1), "unknown"),
    ("ramp_width", "ramp", dict(width_cm=120), "pass"),
    ("ramp_width", "ramp", dict(width_cm=119.9), "fail"),
    ("ramp_cross_slope", "ramp", dict(cross_slope_pct=2.0), "pass"),
    ("ramp_cross_slope", "ramp", dict(cross_slope_pct=2.05), "fail"),
    ("crossing_kerb", "crossing", dict(kerb_height_cm=2.0), "pass"),
    ("crossing_kerb", "crossing", dict(kerb_height_cm=2.1), "fail"),
    ("crossing_tactile", "crossing", dict(tactile="ja"), "pass"),
    ("crossing_tactile", "crossing", dict(tactile="nee"), "fail"),
    ("kerb_height", "kerb", dict(kerb_height_cm=2.0), "pass"),
    ("kerb_height", "kerb", dict(kerb_height_cm=2.1), "fail"),
    ("stairs_riser", "stairs", dict(riser_cm=18.0), "pass"),
    ("stairs_riser", "stairs", dict(riser_cm=18.1), "fail"),
    ("stairs_handrail", "stairs", dict(handrail="yes"), "pass"),
    ("stairs_handrail", "stairs", dict(handrail="no"), "fail"),
    ("stairs_tactile", "stairs", dict(tactile=True), "pass"),
    ("stairs_tactile", "stairs", dict(tactile=False), "fail"),
    ("toilet_width", "toilet", dict(width_cm=165), "pass"),
    ("toilet_width", "toilet", dict(width_cm=164.9), "fail"),
    ("toilet_length", "toilet", dict(length_cm=220), "pass"),
    ("toilet_length", "toilet", dict(length_cm=219.9), "fail"),
    ("toilet_length", "toilet", dict(length_m=2.2), "pass"),  # length_m converted
    ("toilet_turning", "toilet", dict(turning_cm=150), "pass"),
    ("toilet_turning", "toilet", dict(turning_cm=149.9), "fail"),
    ("parking_width", "parking", dict(width_cm=350, layout="dwars"), "pass"),
    ("parking_width", "parking", dict(width_cm=349.9, layout="dwars"), "fail"),
    ("parking_width", "parking", dict(width_cm=349.9, layout="schuin"), "fail"),
    ("parking_width", "parking", dict(width_cm=349.9), "unknown"),  # langs would need no width
    ("parking_width", "parking", dict(width_cm=250, layout="langs"), "pass"),
    ("parking_length", "parking", dict(length_cm=500, layout="dwars"), "pass"),
    ("parking_length", "parking", dict(length_cm=499.9, layout="dwars"), "fail"),
    ("parking_length", "parking", dict(length_cm=600, layout="langs"), "pass"),
    ("parking_length", "parking", dict(length_cm=599.9, layout="langs"), "fail"),
    ("parking_length", "parking", dict(length_cm=550), "unknown"),
    ("parking_length", "parking", dict(length_cm=600), "pass"),
    ("parking_length", "parking", dict(length_cm=499.9), "fail"),
]


@pytest.mark.parametrize("rule,element,attrs,expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_at_and_beyond_limit(rule, element, attrs, expected):
    assert _verdict(element, rule, **attrs)[0] == expected


def test_bench_spacing_at_and_beyond_limit():
    line = LineString([(150_000, 190_000), (150_200, 190_000)])

    def run(benches):
        rows = [{"id": "p", "element": "path"}] + [{"id": f"b{i}", "element": "bench"} for i in range(len(benches))]
        gdf = gpd.GeoDataFrame(rows, geometry=[line] + [Point(150_000 + x, 190_000 + dy) for x, dy in benches], crs=CRS)
        r = check_design(gdf)
        r = r[r["rule"] == "path_bench_spacing"]
        return r["verdict"].item(), r["value"].item()

    assert run([(100, 0)]) == ("pass", 100.0)  # gaps 100 and 100
    assert run([(100.5, 0)]) == ("fail", 100.5)
    assert run([(100, 4.9)]) == ("pass", 100.0)  # within 5 m of the path
    assert run([(100, 5.1)]) == ("fail", 200.0)  # too far from the path: not a rest point
    assert run([]) == ("fail", 200.0)
    # no line geometry: cannot tell
    assert _verdict("path", "path_bench_spacing", geometry=None)[0] == "unknown"


def test_every_rule_is_tested_with_pass_and_fail():
    tested = {}
    for rule, _, _, verdict in CASES:
        tested.setdefault(rule, set()).add(verdict)
    tested.setdefault("path_bench_spacing", set()).update({"pass", "fail"})
    for r in RULES:
        assert {"pass", "fail"} <= tested.get(r.rule_id, set()), r.rule_id


def test_missing_attributes_are_unknown_never_pass():
    for etype in ("path", "ramp", "crossing", "kerb", "stairs", "toilet", "parking"):
        res = check_design(gpd.GeoDataFrame([{"id": 1, "element": etype}], geometry=[None], crs=CRS))
        assert len(res) == len([r for r in RULES if r.element == etype])
        assert (res["verdict"] == "unknown").all(), res[["rule", "verdict"]]
        assert (res["oordeel"] == "kan niet beoordeeld worden").all()
        assert (res["missing"] != "").all()


def test_ramp_limit_table_from_norms():
    n = load_norms("accessibility")
    assert n["ramp_max_slope_pct"].value == [10.0, 8.3, 6.25, 5.0]
    assert [ramp_slope_limit_pct(x) for x in (0, 10, 10.01, 25, 25.01, 50, 50.01, 500)] == [10.0, 10.0, 8.3, 8.3, 6.25, 6.25, 5.0, 5.0]


def test_output_columns_and_sources():
    res = check_design(example_design())
    for c in ("id", "rule", "verdict", "value", "limit", "source", "fix", "rule_text", "missing"):
        assert c in res.columns
    assert set(res["verdict"]) <= {"pass", "fail", "unknown"}
    known = res[res["rule"] != "element_type"]
    assert (known["source"].str.len() > 10).all()
    assert (known.loc[known["verdict"] == "fail", "fix"].str.len() > 10).all()
    tbl = rules_table()
    assert set(tbl["rule"]) == {r.rule_id for r in RULES}
    assert tbl["source"].str.contains("GSV|VTPD|toegankelijk", regex=True).all()


def test_example_design_file_and_verdicts():
    g = gpd.read_file(EXAMPLE)
    assert g.crs.to_epsg() == 31370
    assert set(g["element"]) >= {"path", "ramp", "crossing", "kerb", "stairs", "bench", "toilet", "parking"}
    res = check_design(g)
    per = element_verdicts(res).set_index("id")
    assert per.loc["P1", "verdict"] == "pass"
    assert per.loc["R1", "verdict"] == "pass"
    assert per.loc["R2", "failed_rules"] == "ramp_slope, ramp_length, ramp_width"
    assert per.loc["C3", "verdict"] == "unknown" and per.loc["C3", "n_unknown"] == 2
    assert per.loc["C3", "missing"] == "kerb_height_cm, tactile"
    assert per.loc["P1", "missing"] == ""
    assert per.loc["X1", "unknown_rules"] == "element_type"
    assert per.loc["PK2", "failed_rules"] == "parking_length"
    # the committed file is what example_design() generates
    gen = example_design()
    assert list(gen["id"]) == list(g["id"])


def test_column_mapping_and_dutch_element_names():
    df = gpd.GeoDataFrame(
        [{"nr": 7, "type": "helling", "breedte": 119, "helling_pct": 5.0, "lengte": 4.0}],
        geometry=[LineString([(150_000, 190_000), (150_004, 190_000)])],
        crs=CRS,
    )
    res = check_design(df, column_map={"nr": "id", "type": "element", "breedte": "width_cm", "helling_pct": "slope_pct", "lengte": "length_m"})
    by = res.set_index("rule")["verdict"]
    assert by["ramp_width"] == "fail" and by["ramp_slope"] == "pass" and by["ramp_length"] == "pass"
    assert (res["id"] == 7).all() and (res["element"] == "ramp").all()
    with pytest.raises(ToetsError, match="not schema attributes"):
        check_design(df, column_map={"type": "soort"})
    with pytest.raises(ToetsError, match="no such column"):
        check_design(df, column_map={"typ": "element"})


def test_bad_input_messages():
    with pytest.raises(ToetsError, match="no 'element' column"):
        check_design(gpd.GeoDataFrame({"type": ["path"]}, geometry=[Point(150_000, 190_000)], crs=CRS))
    # unknown element type: reported, not crashing
    res = check_design(gpd.GeoDataFrame({"element": ["fontein", None, "path"]}, geometry=[None, None, None], crs=CRS))
    bad = res[res["rule"] == "element_type"]
    assert len(bad) == 2 and (bad["verdict"] == "unknown").all()
    assert "fontein" in bad["note"].iloc[0]
    # non-numeric values: unknown with a note, never pass
    v = check_design(gpd.GeoDataFrame({"element": ["path"], "width_cm": ["breed"], "slope_pct": ["8 %"], "cross_slope_pct": ["1,5"]}, geometry=[None], crs=CRS))
    by = v.set_index("rule")
    assert by.loc["path_width", "verdict"] == "unknown" and "geen getal" in by.loc["path_width", "note"]
    assert by.loc["path_slope", "verdict"] == "fail"  # "8 %" is read as 8
    assert by.loc["path_cross_slope", "verdict"] == "pass"  # decimal comma
    u = check_design(gpd.GeoDataFrame({"element": ["ramp"], "width_cm": ["150 cm"]}, geometry=[None], crs=CRS))
    assert u.set_index("rule").loc["ramp_width", "verdict"] == "unknown" and "eenheid" in u.set_index("rule").loc["ramp_width", "note"]
    # no CRS with coordinates
    with pytest.raises(ToetsError, match="no coordinate reference system"):
        check_design(gpd.GeoDataFrame({"element": ["kerb"]}, geometry=[Point(150_000, 190_000)]))
    # declared WGS84 but Lambert metres
    with pytest.raises(ToetsError, match="not degrees"):
        check_design(gpd.GeoDataFrame({"element": ["kerb"]}, geometry=[Point(150_000, 190_000)], crs=4326))
    # a real WGS84 design is converted
    w = check_design(gpd.GeoDataFrame({"element": ["kerb"], "kerb_height_cm": [1]}, geometry=[Point(4.48, 51.03)], crs=4326))
    assert w.crs.to_epsg() == 31370 and 150_000 < w.geometry.iloc[0].x < 160_000
    # invalid geometry is repaired and said
    bow = Polygon([(150_000, 190_000), (150_002, 190_002), (150_002, 190_000), (150_000, 190_002)])
    t = check_design(gpd.GeoDataFrame({"element": ["toilet"], "width_cm": [170]}, geometry=[bow], crs=CRS))
    assert "hersteld" in t.set_index("rule").loc["toilet_width", "note"] and t.geometry.iloc[0].is_valid
    # a plain DataFrame without geometry is accepted
    p = check_design(pd.DataFrame({"element": ["stairs"], "riser_cm": [17]}))
    assert p.set_index("rule").loc["stairs_riser", "verdict"] == "pass"
    with pytest.raises(ToetsError, match="must be a"):
        check_design([{"element": "path"}])  # type: ignore[arg-type]


def test_cli_toets(tmp_path):
    from gezondestad.app.cli.main import main

    out = tmp_path / "res.csv"
    assert main(["toets", "--design", str(EXAMPLE), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    for c in ("id", "rule", "verdict", "value", "limit", "source"):
        assert c in df.columns
    assert set(df["verdict"]) == {"pass", "fail", "unknown"}
    layers = dict(pyogrio.list_layers(out.with_suffix(".gpkg")))
    assert {"toets", "elementen"} <= set(layers)
    lay = gpd.read_file(out.with_suffix(".gpkg"), layer="toets")
    assert len(lay) == len(df)
    # mapping file and a bad mapping
    d = tmp_path / "d.gpkg"
    g = gpd.read_file(EXAMPLE).rename(columns={"element": "soort"})
    g.to_file(d, driver="GPKG")
    (tmp_path / "m.json").write_text('{"soort": "element"}', encoding="utf-8")
    assert main(["toets", "--design", str(d), "--mapping", str(tmp_path / "m.json"), "--out", str(tmp_path / "r2.csv")]) == 0
    assert main(["toets", "--design", str(d), "--out", str(tmp_path / "r3.csv")]) == 2
    assert main(["toets", "--design", str(d), "--mapping", "{not json", "--out", str(tmp_path / "r4.csv")]) == 2


def test_cli_access(demo_dir, tmp_path):
    from gezondestad.app.cli.main import main

    out = tmp_path / "acc.gpkg"
    assert main(["access", "--area", str(demo_dir), "--out", str(out)]) == 0
    layers = dict(pyogrio.list_layers(out))
    assert {"segments", "per_wijk", "missing_links"} <= set(layers)
    w = pyogrio.read_dataframe(out, layer="per_wijk")
    assert len(w) == 4 and "wheelchair_reach_bus_stop" in w.columns
    s = gpd.read_file(out, layer="segments")
    assert set(s["verdict_wheelchair"]) == {"pass", "fail", "unknown"}
