"""Hardening (issue 12): bounded memory for large plans and designs, content-keyed caches,
refused broken input, safe study-area swaps, defused CSV cells, the facilitator PIN guard."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import shapely
from affine import Affine
from gezondestad.model.geometry import buffer_union
from gezondestad.model.studyarea import LandCover
from rasterio import features as rfeatures

# --------------------------------------------------------------------------------------------
# 1. bounded memory for a plan of many small buildings
# --------------------------------------------------------------------------------------------

_MANY_BOXES = """
import resource, numpy as np, shapely
n, side, step = 3000, 55, 26.5
i = np.arange(n)
cx, cy = 160000 + i % side * step, 190000 + i // side * step
fp = shapely.union_all(shapely.box(cx, cy, cx + 13, cy + 13))
vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vm + 700_000_000, resource.RLIM_INFINITY))
"""


def _run_limited(body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(_MANY_BOXES) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_within_mask_of_3000_buildings_stays_within_700_mb():
    # a GEOS buffer of this footprint by the heat influence distance (1,425 m) ran out of memory
    r = _run_limited("""
        from affine import Affine
        from gezondestad.model.studyarea import LandCover
        from gezondestad.screening.compare import _within_mask, heat_influence_m
        lc = LandCover(np.zeros((300, 300), np.uint8), Affine(10, 0, 159000, 0, -10, 193000), 10.0)
        m = _within_mask(lc, fp, heat_influence_m())
        print("corner", bool(m[0, 0]), "centre", bool(m[150, 150]), "edge", bool(m[299, 299]))
    """)
    assert r.returncode == 0, r.stderr[-2000:]
    # (159000, 193000) is 1,850 m from the nearest building; the centre and the SE corner are within reach
    assert "corner False centre True edge True" in r.stdout


def test_buffer_union_of_3000_parts_stays_within_700_mb():
    r = _run_limited("""
        from gezondestad.model.geometry import buffer_union
        b = buffer_union(fp, 500.0)
        print("area", round(b.area))
    """)
    assert r.returncode == 0, r.stderr[-2000:]


def test_buffer_union_equals_buffer_on_small_input():
    g = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(30, 0, 40, 10), shapely.box(100, 100, 101, 101)])
    a, b = buffer_union(g, 12.0), g.buffer(12.0)
    assert abs(a.area - b.area) < 5e-3 * b.area
    assert a.symmetric_difference(b).area < 5e-3 * b.area
    assert buffer_union(shapely.Polygon(), 5.0).is_empty


def test_within_mask_covers_the_buffer_and_not_much_more():
    from gezondestad.screening.compare import _within_mask

    lc = LandCover(np.zeros((60, 80), np.uint8), Affine(10, 0, 0, 0, -10, 600), 10.0)
    g = shapely.MultiPolygon([shapely.box(100, 200, 130, 230), shapely.box(500, 400, 505, 405)])
    m = _within_mask(lc, g, 55.0)
    exact = rfeatures.rasterize([(g.buffer(55.0), 1)], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8").astype(bool)
    wider = rfeatures.rasterize([(g.buffer(55.0 + 10 * np.sqrt(2)), 1)], out_shape=lc.shape, transform=lc.transform, fill=0, dtype="uint8").astype(bool)
    assert (m >= exact).all()  # never fewer cells than the exact buffer
    assert (m <= wider).all()  # at most about one cell more
    # a footprint just outside the grid still reaches into it
    edge = _within_mask(lc, shapely.box(-40, 300, -30, 310), 55.0)
    assert edge[:, 0].any() and not edge[:, 3:].any()


def test_near_plan_matches_dwithin(demo_area):
    import geopandas as gpd
    from gezondestad.layers.demo import X0, Y0
    from gezondestad.screening.compare import _near_plan
    from gezondestad.screening.plan import plan_from_frame
    from gezondestad.spatial.aggregate import home_points

    rows = [{"feature_type": "building", "dwellings": 5, "geometry": shapely.box(X0 + 1400, Y0 + 1100 + k * 40, X0 + 1420, Y0 + 1120 + k * 40)} for k in range(3)]
    plan = plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=demo_area.crs if hasattr(demo_area, "crs") else 31370), area=demo_area)
    homes = home_points(demo_area)
    want = shapely.dwithin(np.asarray(homes.geometry.values, dtype=object), plan.footprint, 300.0)
    got = _near_plan(homes, plan, 300.0)
    assert 0 < want.sum() < len(homes)
    np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------------------------
# 3. caches that cannot lie
# --------------------------------------------------------------------------------------------


def _saved_demo(tmp_path, demo_area):
    from gezondestad.layers.studyarea import load_study_area, save_study_area

    d = save_study_area(demo_area, tmp_path / "area")
    return d, load_study_area(d)


def _gpkg_functions(con) -> None:
    """The spatial SQL functions the GeoPackage R-tree triggers call (QGIS/GDAL provide them)."""

    def geom(blob):
        flags = blob[3]
        env = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 7]
        return shapely.from_wkb(bytes(blob[8 + env:]))

    con.create_function("ST_IsEmpty", 1, lambda b: int(b is None or geom(b).is_empty))
    for i, name in enumerate(("ST_MinX", "ST_MinY", "ST_MaxX", "ST_MaxY")):
        con.create_function(name, 1, lambda b, i=i: geom(b).bounds[i])


def test_baseline_recomputed_after_gpkg_edited_in_qgis(tmp_path, demo_area, monkeypatch):
    import os
    import sqlite3
    import time

    from gezondestad.layers.studyarea import load_study_area
    from gezondestad.screening import compare

    d, area = _saved_demo(tmp_path, demo_area)
    calls = []
    real = compare.compute_situation
    monkeypatch.setattr(compare, "compute_situation", lambda *a, **k: calls.append(1) or real(*a, **k))
    compare.load_or_compute_baseline(area, d, families=("water",))
    compare.load_or_compute_baseline(load_study_area(d), d, families=("water",))
    assert len(calls) == 1  # same content: read from the cache
    # as QGIS does: update attribute values in the GeoPackage in place (no save time, same counts)
    with sqlite3.connect(d / "studyarea.gpkg") as con:
        _gpkg_functions(con)
        assert con.execute("UPDATE green SET public = 0").rowcount > 0
    later = time.time() + 5
    os.utime(d / "studyarea.gpkg", (later, later))
    edited = load_study_area(d)
    assert not edited.green["public"].astype(bool).any()
    assert compare.baseline_key(edited, ("water",)) != compare.baseline_key(area, ("water",))
    compare.load_or_compute_baseline(edited, d, families=("water",))
    assert len(calls) == 2  # recomputed, not the stale "before"


def test_baseline_key_follows_landcover_content(demo_area):
    from gezondestad.screening.baseline_cache import baseline_key

    a = demo_area.copy()
    k0 = baseline_key(a, ("water",))
    cls = a.landcover.classes.copy()
    i, j = np.argwhere(cls > 0)[0]
    cls[i, j] = 1 if cls[i, j] != 1 else 2  # one cell, same shape and (nearly) same sum as before
    a.landcover = LandCover(cls, a.landcover.transform, a.landcover.resolution_m, a.landcover.crs)
    assert baseline_key(a, ("water",)) != k0
    assert baseline_key(demo_area.copy(), ("water",)) == k0  # a copy with the same content: same key


def test_signed_baseline_copied_under_another_key_is_refused(tmp_path, demo_area, monkeypatch):
    import shutil

    from gezondestad.screening import compare
    from gezondestad.screening.baseline_cache import baseline_key, cache_path

    d, area = _saved_demo(tmp_path, demo_area)
    compare.load_or_compute_baseline(area, d, families=("water",))
    signed = cache_path(d, baseline_key(area, ("water",)))
    assert signed.is_file()
    other = area.copy()
    other.themes["wijken"] = other.wijken.assign(residents=other.wijken["residents"] * 2)
    forged = cache_path(d, baseline_key(other, ("water",)))
    assert forged != signed
    shutil.copyfile(signed, forged)
    calls = []
    real = compare.compute_situation
    monkeypatch.setattr(compare, "compute_situation", lambda *a, **k: calls.append(1) or real(*a, **k))
    compare.load_or_compute_baseline(other, d, families=("water",))
    assert calls == [1]  # not read from the copied file
    assert forged.read_bytes()[:32] != signed.read_bytes()[:32]  # re-signed for its own key


def test_frame_digest_is_content_based():
    import geopandas as gpd

    from gezondestad.screening.baseline_cache import frame_digest

    g = gpd.GeoDataFrame({"feature_type": ["building"], "dwellings": [10]}, geometry=[shapely.box(0, 0, 10, 10)], crs=31370)
    same = gpd.GeoDataFrame({"feature_type": ["building"], "dwellings": [10]}, geometry=[shapely.box(0, 0, 10, 10)], crs=31370, index=[7])
    assert frame_digest(g) == frame_digest(same)
    assert frame_digest(g) != frame_digest(g.assign(dwellings=[11]))
    assert frame_digest(g) != frame_digest(g.set_geometry([shapely.box(0, 0, 10, 10.01)]))


# --------------------------------------------------------------------------------------------
# 2. toegankelijkheidstoets: size limit, bounded time
# --------------------------------------------------------------------------------------------


def test_toets_refuses_200000_elements_with_dutch_message():
    import time

    import pandas as pd
    import pytest
    from gezondestad.screening.toets import ToetsError, check_design, max_design_elements

    n = 200_000
    assert n > max_design_elements()
    design = pd.DataFrame({"element": ["bench"] * n, "width_cm": [150] * n})
    t = time.perf_counter()
    with pytest.raises(ToetsError, match=r"telt 200 000 elementen, meer dan de .* splits het"):
        check_design(design)
    assert time.perf_counter() - t < 5.0  # refused before anything is parsed


def test_toets_cli_reader_refuses_before_reading(tmp_path, monkeypatch):
    import geopandas as gpd
    import pytest
    from gezondestad.app.cli.toets import read_design
    from gezondestad.screening import toets

    f = tmp_path / "ontwerp.gpkg"
    gpd.GeoDataFrame({"element": ["bench"] * 5}, geometry=[shapely.Point(152000 + i, 212000) for i in range(5)], crs=31370).to_file(f)
    assert len(read_design(f)) == 5
    monkeypatch.setattr(toets, "max_design_elements", lambda norms_dir=None: 4)
    with pytest.raises(toets.ToetsError, match="ontwerp.gpkg telt 5 elementen"):
        read_design(f)


def test_element_verdicts_one_row_per_element_in_order():
    from gezondestad.screening.toets import check_design, element_verdicts, example_design

    d = example_design()
    r = check_design(d)
    ev = element_verdicts(r)
    assert list(ev["id"]) == list(dict.fromkeys(r["id"]))
    for _, row in ev.iterrows():
        sub = r[r["id"] == row["id"]]
        worst = "fail" if (sub["verdict"] == "fail").any() else ("unknown" if (sub["verdict"] == "unknown").any() else "pass")
        assert row["verdict"] == worst
        assert row["n_fail"] == (sub["verdict"] == "fail").sum()
        assert row["failed_rules"] == ", ".join(sub.loc[sub["verdict"] == "fail", "rule"])


# --------------------------------------------------------------------------------------------
# 4. broken input: NaN vertices, Z, deep nesting, zips
# --------------------------------------------------------------------------------------------


def test_plan_with_nan_vertex_is_refused_naming_the_feature(tmp_path, demo_area):
    import geopandas as gpd
    import pytest
    from gezondestad.layers.demo import X0, Y0
    from gezondestad.screening.plan import PlanError, plan_from_frame

    blok = shapely.Polygon([(X0 + 1400, Y0 + 1100), (X0 + 1440, Y0 + 1100), (X0 + 1440, Y0 + np.nan), (X0 + 1400, Y0 + 1140)])
    ok = shapely.box(X0 + 1500, Y0 + 1100, X0 + 1520, Y0 + 1120)
    gdf = gpd.GeoDataFrame({"feature_type": ["building", "building"], "name": ["Blok B", "Blok A"], "dwellings": [4, 8]}, geometry=[ok, blok], crs=31370)
    with pytest.raises(PlanError, match=r"object 2 \(name = 'Blok A'\).*NaN of oneindig|NaN of oneindig.*object 2 \(name = 'Blok A'\)"):
        plan_from_frame(gdf, area=demo_area)


def test_plan_with_z_coordinates_is_read_and_applied(tmp_path, demo_area):
    import geopandas as gpd
    from gezondestad.layers.demo import X0, Y0
    from gezondestad.screening.plan import apply_plan, read_plan

    b = shapely.Polygon([(X0 + 1400, Y0 + 1100, 5.0), (X0 + 1440, Y0 + 1100, 5.0), (X0 + 1440, Y0 + 1140, 5.0), (X0 + 1400, Y0 + 1140, 5.0)])
    s = shapely.LineString([(X0 + 1380, Y0 + 1090, 4.0), (X0 + 1380, Y0 + 1180, 4.5)])
    g = gpd.GeoDataFrame({"feature_type": ["building", "path"], "dwellings": [8, None], "mode": [None, "walk"]}, geometry=[b, s], crs=31370)
    f = tmp_path / "plan3d.gpkg"
    g.to_file(f)
    plan = read_plan(f, area=demo_area)
    assert plan.repairs.get("z_dropped") == 2
    assert not shapely.has_z(np.asarray(plan.features.geometry.values, dtype=object)).any()
    after = apply_plan(demo_area, plan)
    assert after.manifest["plan"]["effects"]["buildings_added"] == 1


def test_design_with_z_coordinates_is_checked():
    from gezondestad.screening.toets import check_design, example_design

    d = example_design()
    d3 = d.set_geometry(shapely.force_3d(np.asarray(d.geometry.values, dtype=object), 2.0), crs=d.crs)
    r2, r3 = check_design(d), check_design(d3)
    assert list(r3["verdict"]) == list(r2["verdict"])


def test_deeply_nested_geojson_gives_a_dutch_message(tmp_path):
    import pytest
    from gezondestad.screening.plan import PlanError, read_plan

    depth = 100_000
    f = tmp_path / "diep.geojson"
    f.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"feature_type":"green","x":'
                 + "[" * depth + "]" * depth + '},"geometry":{"type":"Point","coordinates":[152000,212000]}}]}')
    with pytest.raises(PlanError, match="te diep genest"):
        read_plan(f)


def test_zipped_plan_goes_through_the_safe_extractor_with_the_plan_limit(tmp_path):
    import zipfile

    import pytest
    from gezondestad.screening.plan import PlanError, read_plan

    f = tmp_path / "plan.zip"
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as z:
        # 60 MB of white space around one feature: over the 50 MB plan limit once unzipped, tiny zipped
        z.writestr("plan.geojson", '{"type":"FeatureCollection","features":[' + " " * 60_000_000 + "]}")
    assert f.stat().st_size < 1_000_000
    with pytest.raises(PlanError, match="exceeds the limit"):
        read_plan(f)


# --------------------------------------------------------------------------------------------
# 6. CSV exports defuse formula cells; 8. Markdown escaping
# --------------------------------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("https://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "Gewone naam", "\t=1"]


def test_theme_csv_export_defuses_formula_cells(tmp_path, demo_area):
    import pandas as pd
    from gezondestad.layers.export import export_study_area, to_csv_frame, write_table

    a = demo_area.copy()
    g = a.themes["green"].head(len(HOSTILE)).copy()
    g["name"] = pd.array(HOSTILE, dtype="str")  # pandas 3 text dtype, not object
    df = to_csv_frame(g)
    assert list(df["name"]) == ["'" + HOSTILE[0], "'+1+1", "'-2+3", "'@SUM(A1)", "Gewone naam", "'\t=1"]
    assert pd.api.types.is_numeric_dtype(df["area_m2"])  # numbers untouched
    a.themes["green"] = g
    export_study_area(a, tmp_path / "e", "csv")
    text = next((tmp_path / "e").rglob("*green*.csv")).read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    t = write_table(pd.DataFrame({"wijk_naam": ["=1+2"], "v": [-1.5]}), tmp_path / "t.csv", dutch=True)
    assert t.read_text(encoding="utf-8-sig").splitlines()[1] == "'=1+2;-1,5"


def test_toets_csv_defuses_formula_cells(tmp_path):
    from gezondestad.app.cli.main import main
    from gezondestad.screening.toets import example_design

    d = example_design()
    d["id"] = d["id"].astype(str)
    d.loc[d.index[0], "id"] = '=HYPERLINK("https://evil.example")'
    f = tmp_path / "ontwerp.gpkg"
    d.to_file(f)
    out = tmp_path / "toets.csv"
    assert main(["toets", "--design", str(f), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_escape_markdown_shows_text_literally():
    from gezondestad.layers.textsafe import escape_markdown
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    for hostile in ["![x](https://evil.example/p.png)", "[klik](javascript:alert(1))", "<img src=x onerror=alert(1)>",
                    "**vet** _schuin_ `code`", "# Titel\n- lijst", ":red[rood] $x^2$", "<https://evil.example>"]:
        html = md.render(escape_markdown(hostile))
        assert "<img" not in html and "<a " not in html and "<strong>" not in html and "<em>" not in html
        assert "<code>" not in html and "<h1>" not in html and "<li>" not in html
    assert md.render(escape_markdown("Sint-Jozef (Noord)")).strip() == "<p>Sint-Jozef (Noord)</p>"
    assert escape_markdown(None) == ""


# --------------------------------------------------------------------------------------------
# 7. participation: PIN guard, audit log, unusable database
# --------------------------------------------------------------------------------------------


class _Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_default_pin_refused_unless_demo(tmp_path, monkeypatch):
    from gezondestad.layers import participation as pt

    monkeypatch.delenv("GEZONDESTAD_PIN", raising=False)
    monkeypatch.delenv("GEZONDESTAD_DEMO_PIN", raising=False)
    db = tmp_path / "p.sqlite"
    g = pt.PinGuard(db)
    assert g.default_in_force
    r = g.try_unlock("gezond")
    assert not r.ok and "GEZONDESTAD_PIN" in r.message_nl
    monkeypatch.setenv("GEZONDESTAD_DEMO_PIN", "1")
    assert pt.PinGuard(db).try_unlock("gezond").ok
    assert list(pt.audit_log(db)["action"]) == ["unlock_refused_default", "unlock"]


def test_pin_delay_grows_and_is_shared_by_sessions(tmp_path):
    from gezondestad.layers import participation as pt

    db = tmp_path / "p.sqlite"
    clock = _Clock()
    a = pt.PinGuard(db, pin="7391", clock=clock)
    b = pt.PinGuard(db, pin="7391", clock=clock)  # another browser session
    r1 = a.try_unlock("0000", "s1")
    assert not r1.ok and r1.wait_s == 1.0
    r2 = b.try_unlock("7391", "s2")  # the right PIN, but too soon after a failure in another session
    assert not r2.ok and "Te veel foute pogingen" in r2.message_nl
    clock.t += 1.5
    assert b.try_unlock("1111", "s2").wait_s == 2.0
    clock.t += 2.5
    assert a.try_unlock("2222", "s1").wait_s == 4.0
    clock.t += 4.5
    assert a.try_unlock("7391", "s1").ok  # reset after a success
    assert a.wait_s() == 0.0
    log = pt.audit_log(db)
    assert list(log["action"]) == ["unlock_failed", "unlock_throttled", "unlock_failed", "unlock_failed", "unlock"]
    assert list(log["session_id"]) == ["s1", "s2", "s2", "s1", "s1"]


def test_pin_lockout_after_ten_failures(tmp_path):
    from gezondestad.layers import participation as pt

    clock = _Clock()
    g = pt.PinGuard(tmp_path / "p.sqlite", pin="7391", clock=clock)
    for _ in range(10):
        r = g.try_unlock("0000")
        clock.t += 61
    assert "geblokkeerd" in r.message_nl
    assert not g.try_unlock("7391").ok  # locked even for the right PIN
    clock.t += 900
    assert g.try_unlock("7391").ok
    assert pt.is_idle(clock.t - 601, clock.t) and not pt.is_idle(clock.t - 10, clock.t)


def test_moderation_is_audited(tmp_path):
    from gezondestad.layers import participation as pt

    db = tmp_path / "p.sqlite"
    rid = pt.add_remark(db, "demo", "W1", pt.CATEGORIES[0], "te heet hier", 1.0, 2.0)
    pt.set_hidden(db, rid, True, "spam", session_id="fac")
    pt.log_action(db, "export", session_id="fac")
    log = pt.audit_log(db)
    assert list(log["action"]) == ["hide", "export"]
    assert int(log["remark_id"].iloc[0]) == rid and log["session_id"].iloc[0] == "fac"


class _FailingConnection:
    """A sqlite3 connection whose writes fail as on a full disk or a read-only volume."""

    def __init__(self, conn, message: str) -> None:
        self._c, self._m = conn, message

    def execute(self, sql, *a):
        import sqlite3

        if sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            raise sqlite3.OperationalError(self._m)
        return self._c.execute(sql, *a)

    def __getattr__(self, name):
        return getattr(self._c, name)


def _break_db(monkeypatch, message: str) -> None:
    import sqlite3

    from gezondestad.layers import participation as pt

    real = sqlite3.connect
    monkeypatch.setattr(pt.sqlite3, "connect", lambda *a, **k: _FailingConnection(real(*a, **k), message))


def test_full_disk_gives_a_dutch_participation_error(tmp_path, monkeypatch):
    import pytest
    from gezondestad.layers import participation as pt

    db = pt.init_db(tmp_path / "p.sqlite")
    _break_db(monkeypatch, "database or disk is full")
    with pytest.raises(pt.ParticipationError) as e:
        pt.add_remark(db, "demo", "W1", pt.CATEGORIES[0], "te heet", 1.0, 2.0)
    assert "schijf" in e.value.nl and "vol" in e.value.nl


def test_read_only_database_gives_a_dutch_participation_error(tmp_path, monkeypatch):
    import pytest
    from gezondestad.layers import participation as pt

    db = pt.init_db(tmp_path / "p.sqlite")
    _break_db(monkeypatch, "attempt to write a readonly database")
    with pytest.raises(pt.ParticipationError) as e:
        pt.set_hidden(db, 1, True)
    assert "alleen-lezen" in e.value.nl
    # a folder that cannot be created (its parent is a file) is reported the same way, not as OSError
    blocker = tmp_path / "bestand"
    blocker.write_text("x")
    monkeypatch.undo()
    with pytest.raises(pt.ParticipationError):
        pt.add_remark(blocker / "p.sqlite", "demo", "W1", pt.CATEGORIES[0], "te heet", 1.0, 2.0)


# --------------------------------------------------------------------------------------------
# 5. study-area folders: damaged files, stale temp folders, concurrent saves and reads
# --------------------------------------------------------------------------------------------


def test_manifest_of_wrong_shape_or_garbage_names_the_file(tmp_path, demo_area):
    import pytest
    from gezondestad.layers.studyarea import load_study_area, save_study_area
    from gezondestad.model.studyarea import StudyAreaError

    d = save_study_area(demo_area, tmp_path / "a")
    m = d / "manifest.json"
    for content, why in (("[]", "verwachte vorm"), ('{"themes": []}', "verwachte vorm"), ('{"name": 3}', "verwachte vorm"),
                         ("\x00\xff garbage", "geen geldige JSON")):
        m.write_bytes(content.encode("latin-1"))
        with pytest.raises(StudyAreaError, match=why) as e:
            load_study_area(d)
        assert "manifest.json" in str(e.value)


def test_truncated_landcover_and_gpkg_name_the_file(tmp_path, demo_area):
    import shutil

    import pytest
    from gezondestad.layers.studyarea import load_study_area, save_study_area
    from gezondestad.model.studyarea import StudyAreaError

    d = save_study_area(demo_area, tmp_path / "a")
    tif = d / "landcover.tif"
    tif.write_bytes(tif.read_bytes()[:600])
    with pytest.raises(StudyAreaError, match="landcover.tif.*beschadigd"):
        load_study_area(d)
    tif.unlink()
    shutil.rmtree(d / "cache")  # the GeoPackage is read
    g = d / "studyarea.gpkg"
    g.write_bytes(g.read_bytes()[:50_000])
    with pytest.raises(StudyAreaError, match="studyarea.gpkg"):
        load_study_area(d)


def test_stale_temp_folders_are_cleaned_on_the_next_save(tmp_path, demo_area):
    import os
    import time

    from gezondestad.layers.studyarea import STALE_TEMP_MINUTES, save_study_area

    target = tmp_path / "a"
    old_tmp = tmp_path / ".a.killed123.tmp"
    old_swap = tmp_path / ".a.old-999"
    fresh = tmp_path / ".a.running456.tmp"
    for f in (old_tmp, old_swap, fresh):
        f.mkdir()
        (f / "x").write_text("x")
    past = time.time() - (STALE_TEMP_MINUTES + 5) * 60
    for f in (old_tmp, old_swap):
        os.utime(f, (past, past))
    save_study_area(demo_area, target)
    assert not old_tmp.exists() and not old_swap.exists()
    assert fresh.exists()  # may belong to a save still running elsewhere


_SAVER = """
import sys
from gezondestad.layers.studyarea import load_study_area, save_study_area
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
area = load_study_area(src)
for i in range(n):
    area.manifest["round"] = f"{sys.argv[4]}-{i}"
    save_study_area(area, dst)
print("ok")
"""

_READER = """
import sys, time
from gezondestad.layers.studyarea import load_study_area
dst, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds
n = fails = 0
while time.time() < end:
    try:
        a = load_study_area(dst)
        assert len(a.themes["buildings"]) > 0
        n += 1
    except Exception as exc:
        fails += 1
        print("FAIL", type(exc).__name__, exc, file=sys.stderr)
print(n, fails)
"""


def test_concurrent_saves_and_reader(tmp_path, demo_area):
    from gezondestad.layers.studyarea import save_study_area

    src = save_study_area(demo_area, tmp_path / "src")
    dst = save_study_area(demo_area, tmp_path / "dst")
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(dst), "12"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    savers = [subprocess.Popen([sys.executable, "-c", _SAVER, str(src), str(dst), "3", k], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for k in ("a", "b")]
    for p in savers:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "ok" in out, err[-2000:]
    out, err = reader.communicate(timeout=300)
    n, fails = map(int, out.split())
    assert n > 0 and fails == 0, err[-2000:]
    assert not list(tmp_path.glob(".dst*"))  # no temporary folder or lock file left behind


def test_covered_share_by_parts_equals_direct_intersection():
    from gezondestad.screening.plan import _covered_share

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 500, (300, 2))
    cover = shapely.union_all(shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 20, xy[:, 1] + 15))
    assert len(shapely.get_parts(cover)) > 50
    b = rng.uniform(0, 500, (200, 2))
    geoms = np.concatenate([shapely.box(b[:, 0], b[:, 1], b[:, 0] + 12, b[:, 1] + 9),
                            shapely.linestrings([[(x, y), (x + 30, y + 5)] for x, y in b[:50]])])
    inter = shapely.intersection(geoms, cover)
    poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    want = np.where(poly, shapely.area(inter) / shapely.area(geoms), shapely.length(inter) / shapely.length(geoms))
    np.testing.assert_allclose(_covered_share(geoms, cover), want, atol=1e-9)
