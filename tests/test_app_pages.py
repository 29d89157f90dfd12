"""The app without a browser: every page through Streamlit's AppTest, and the app's small modules.

AppTest runs a page's script in-process (seconds); the Playwright suite (test_app_browser.py)
keeps the cross-page flows and what only a browser can show (hovering a map feature).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser_helpers import HOSTILE, make_hostile_area
from gezondestad.layers import participation as pt
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


def _page_script(module_name: str, area_dir: str | None = None) -> None:
    """One page as the app runs it: the sidebar (study area), then the page (AppTest script)."""
    import importlib

    import streamlit as st
    from gezondestad.app.sidebar import sidebar_study_area

    if area_dir:  # a prepared folder chosen earlier in the sidebar
        st.session_state.setdefault("area_mode", "Voorbereide map")
        st.session_state.setdefault("area_by_mode", {"Voorbereide map": area_dir})
    sidebar_study_area()
    importlib.import_module(f"gezondestad.app.pages.{module_name}").render()


def run_page(module_name: str, area_dir: str | None = None) -> AppTest:
    at = AppTest.from_function(_page_script, args=(module_name, area_dir), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "success", "info", "warning", "error", "metric"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "")))
            parts.append(str(getattr(el, "label", "")))
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def _own_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEZONDESTAD_DB", str(tmp_path / "opmerkingen.sqlite"))
    monkeypatch.setenv("GEZONDESTAD_PIN", "test-pin-1234")
    monkeypatch.setenv("GEZONDESTAD_CACHE", str(tmp_path / "areas"))


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_area(tmp_path_factory.mktemp("vijandig") / "gebied")


# ---------------------------------------------------------------------------------------------
# the entry
# ---------------------------------------------------------------------------------------------


def test_entry_is_import_safe_and_thin() -> None:
    entry = importlib.import_module("gezondestad.app.entry")  # importing runs nothing
    assert callable(entry.main)
    for name in ("kaart", "screening", "toets", "participatie", "export"):
        assert callable(importlib.import_module(f"gezondestad.app.pages.{name}").render)
    assert len((REPO / "streamlit_app.py").read_text(encoding="utf-8").splitlines()) < 150


def test_app_starts_on_kaart_from_the_repository_entry() -> None:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Kaart per wijk"]
    assert any("Actief:" in s.value for s in at.sidebar.success)


# ---------------------------------------------------------------------------------------------
# one AppTest per page
# ---------------------------------------------------------------------------------------------


def test_page_kaart_card_chart_and_wijk_choice() -> None:
    at = run_page("kaart")
    assert [t.value for t in at.title] == ["Kaart per wijk"]
    text = all_text(at)
    assert "Inwoners met publiek groen (≥ 0,5 ha) binnen 300 m wandelen" in text
    assert "None" not in text and "nan" not in text.split()
    manifest = at.dataframe[0].value  # data per theme: Dutch, no empty or "None" cells
    assert list(manifest.columns) == ["Thema", "Status", "Aantal", "Bron", "Datum", "Herstellingen", "Opmerking"]
    assert not set(manifest.astype(str).to_numpy().ravel()) & {"None", "nan", "NaN", ""}
    # every indicator value on the card is Dutch: no dot decimals
    card_values = [m.value for m in at.markdown if m.value.startswith("**") and " — " in m.value]
    assert card_values and not any(re.search(r"\d\.\d", v.split(" — ")[0]) for v in card_values)
    other = at.selectbox(key="kaart_wijk").options[1]
    at.selectbox(key="kaart_wijk").select_index(1).run()
    assert not at.exception
    assert any(other.split(" (")[0] in h.value for h in at.markdown if h.value.startswith("### "))


def test_page_screening_preview_then_result() -> None:
    at = run_page("screening")
    assert [t.value for t in at.title] == ["Screening van een plan"]
    assert any("Voorbeeldplan Stationsveld" in s.value for s in at.success)
    at.button(key="screening_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader][:3] == ["Advies", "Samenvatting", "Voor en na"]
    assert any(w in all_text(at) for w in ("GUNSTIG MITS", "ONGUNSTIG", "GUNSTIG"))
    draws = [c.value for c in at.caption if c.value.startswith("Monte-Carlosimulatie:")]
    assert draws and re.match(r"Monte-Carlosimulatie: \d{1,3}( \d{3})* trekkingen", draws[0]), draws  # "4 096", Dutch
    table = at.dataframe[0].value
    assert list(table.columns[:4]) == ["Indicator", "Voor", "Na", "Verschil"]
    cells = set(table.astype(str).to_numpy().ravel())
    assert not cells & {"None", "nan", "NaN", "<NA>", ""}
    assert not re.search(r"\d\.\d", " ".join(table[["Voor", "Na", "Verschil"]].astype(str).to_numpy().ravel()))


def test_page_toets_example_in_dutch() -> None:
    at = run_page("toets")
    at.radio(key="toets_bron").set_value("Voorbeeldontwerp (demostad, Stationsveld)").run()
    assert not at.exception
    assert [m.label for m in at.metric] == ["Voldoet", "Voldoet niet", "Kan niet beoordeeld worden"]
    table = at.dataframe[0].value
    assert list(table.columns) == ["Nr.", "Element", "Regel", "Oordeel", "Waarde", "Grens", "Eenheid", "Ontbreekt",
                                   "Oplossing", "Bron"]
    cells = set(table.astype(str).to_numpy().ravel())
    assert not cells & {"None", "nan", "NaN", "<NA>", ""}
    assert not re.search(r"\d\.\d", " ".join(table["Waarde"].astype(str)))


def test_page_participatie_refuses_a_remark_without_a_point_and_a_wrong_pin() -> None:
    at = run_page("participatie")
    assert [t.value for t in at.title] == ["Participatie: uw opmerking op de kaart"]
    at.text_area(key="remark_text").input("Hier mag een bank komen")
    at.button[0].click().run()  # the form's submit button
    assert any("Klik eerst op de kaart" in e.value for e in at.error)
    assert at.text_area(key="remark_text").value == "Hier mag een bank komen"
    at.toggle(key="facilitator_toggle").set_value(True).run()
    at.text_input(key="facilitator_pin_input").input("fout")
    at.button(key="facilitator_unlock").click().run()
    assert any("Verkeerde PIN" in e.value for e in at.error)


def test_page_export_offers_themes_and_indicators() -> None:
    at = run_page("export")
    layers = at.selectbox(key="export_layer").options
    assert "Thema – Wijken" in layers and "Indicatoren per wijk (alle beschikbare)" in layers
    at.selectbox(key="export_layer").set_value("Indicatoren per wijk (alle beschikbare)").run()
    assert not at.exception
    assert any("objecten" in c.value for c in at.caption)


def test_pages_show_hostile_names_as_text(hostile_dir: Path) -> None:
    at = run_page("kaart", str(hostile_dir))
    heads = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert heads and "![x]" not in heads[0] and "\\!\\[x\\]" in heads[0]  # markdown escaped: no image fetched


# ---------------------------------------------------------------------------------------------
# maps: every text column escaped, metric scale, Leaflet served locally
# ---------------------------------------------------------------------------------------------


def test_geojson_escapes_str_columns_of_every_dtype() -> None:
    import geopandas as gpd
    from gezondestad.app.maps import to_geojson
    from shapely.geometry import Point

    g = gpd.GeoDataFrame(
        {"name": pd.Series([HOSTILE, None], dtype="str"), "kind": pd.Series([HOSTILE, "park"], dtype="category"),
         "obj": pd.Series([HOSTILE, 3], dtype=object), "area": [1.5, np.nan]},
        geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:31370")
    props = [f["properties"] for f in json.loads(to_geojson(g))["features"]]
    for col in ("name", "kind", "obj"):
        assert props[0][col] == "&lt;img src=x onerror=alert(7)&gt; `${alert(8)}` ![x](https://elders.example/p.png)"
    assert props[1]["name"] == "" and props[0]["area"] == 1.5


def test_kaart_map_html_carries_hostile_names_only_escaped(hostile_dir: Path) -> None:
    from gezondestad.app import compute
    from gezondestad.app.pages.kaart import build_map

    folder = str(hostile_dir)
    stamp = compute.area_stamp(folder)
    show = {"green": True, "water": True, "streets": True, "stops": True, "landcover": False}
    m, _ = build_map(folder, stamp, show, ["lts", "stop"], {})
    page = m.get_root().render()  # folium writes "<" as \u003c and "&" as \u0026 inside its scripts
    assert "<img src=x" not in page and "\\u003cimg src=x" not in page
    assert page.count("\\u0026lt;img src=x onerror=alert(7)\\u0026gt;") >= 4  # wijken, parks, streets, stops


def test_map_scale_is_metric_and_leaflet_local() -> None:
    from gezondestad.app.maps import make_map

    page = make_map([[51.0, 4.4], [51.1, 4.5]]).get_root().render()
    assert '"imperial": false' in page and "L.control.scale()" not in page
    assert "/app/static/leaflet/leaflet.min.js" in page and "cdn.jsdelivr" not in page
    assert (REPO / "static" / "leaflet" / "leaflet.min.js").is_file()


# ---------------------------------------------------------------------------------------------
# uploads, cached computation, state
# ---------------------------------------------------------------------------------------------


class _Upload:
    def __init__(self, name: str, data: bytes, file_id: str) -> None:
        self.name, self._data, self.size, self.file_id = name, data, len(data), file_id

    def getvalue(self) -> bytes:
        return self._data


def _plan_bytes(dwellings: int) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "feature_type": "building", "dwellings": dwellings},
        "geometry": {"type": "Point", "coordinates": [4.48, 51.02]}}]}).encode()


def test_same_name_and_size_but_other_content_is_another_upload() -> None:
    from gezondestad.app.uploads import VECTOR_UPLOAD_TYPES, check_upload

    a, b = _plan_bytes(430), _plan_bytes(230)
    assert len(a) == len(b)
    ka = check_upload(_Upload("plan.geojson", a, "f1"), VECTOR_UPLOAD_TYPES, 50).upload
    kb = check_upload(_Upload("plan.geojson", b, "f2"), VECTOR_UPLOAD_TYPES, 50).upload
    assert ka is not None and kb is not None and ka.key != kb.key
    again = check_upload(_Upload("plan.geojson", a, "f3"), VECTOR_UPLOAD_TYPES, 50).upload
    assert again is not None and again.key == ka.key


def test_upload_read_once_leaves_no_temporary_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from gezondestad.app import uploads

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "A", "element": "bench"}, "geometry": None},
        {"type": "Feature", "properties": {"id": "B", "element": "bench"},
         "geometry": {"type": "Point", "coordinates": [4.48, 51.02]}}]}).encode()
    res = uploads.read_design_cached("d1", "ontwerp.geojson", ".geojson", data)
    assert res.gdf is not None and list(res.gdf["id"]) == ["A", "B"]  # the element without geometry is kept
    assert list(tmp_path.iterdir()) == []  # the temporary copy is gone


def test_deeply_nested_geojson_gets_a_dutch_message() -> None:
    from gezondestad.app.uploads import sniff

    assert "te diep genest" in sniff("x.geojson", ".geojson", b"[" * 200_000 + b"]" * 200_000)


def test_each_screening_gets_its_own_zone_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    from gezondestad.app import compute
    from gezondestad.screening.compare import Situation

    shared = Situation(area=None, homes=pd.DataFrame(), families={})  # type: ignore[arg-type]
    monkeypatch.setattr(compute, "cached_baseline", lambda folder, stamp: shared)
    one, two = compute.session_baseline("f", "s"), compute.session_baseline("f", "s")
    one.zone_cache["plan A"] = 1
    two.zone_cache["plan B"] = 2
    assert shared.zone_cache == {} and one.zone_cache == {"plan A": 1} and two.zone_cache == {"plan B": 2}
    assert dataclasses.replace(shared) is not shared


def test_freeze_makes_shared_arrays_read_only() -> None:
    from gezondestad.app.compute import freeze

    @dataclasses.dataclass
    class R:
        a: np.ndarray
        cells: dict

    r = freeze(R(np.zeros(3), {"x": np.ones(2)}))
    with pytest.raises(ValueError):
        r.a[0] = 1
    with pytest.raises(ValueError):
        r.cells["x"][0] = 1


def test_area_stamp_changes_with_any_file(tmp_path: Path) -> None:
    from gezondestad.app.compute import area_stamp

    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "studyarea.gpkg").write_bytes(b"a")
    s1 = area_stamp(str(tmp_path))
    (tmp_path / "studyarea.gpkg").write_bytes(b"ab")  # edited in QGIS, manifest untouched
    assert area_stamp(str(tmp_path)) != s1


def test_markdown_escape() -> None:
    from gezondestad.app.ui import md_escape

    assert md_escape("![x](https://e.x/p.png)") == "\\!\\[x\\]\\(https\\://e\\.x/p\\.png\\)"


def test_sidebar_accepts_a_file_inside_a_prepared_folder(demo_dir: Path) -> None:
    from gezondestad.app.sidebar import folder_problem

    p, problem = folder_problem(str(demo_dir / "manifest.json"))
    assert problem == "" and p == demo_dir.resolve()
    p, problem = folder_problem(str(demo_dir / "nergens"))
    assert p is None and "bestaat niet" in problem


# ---------------------------------------------------------------------------------------------
# gezondestad app
# ---------------------------------------------------------------------------------------------


def test_cli_app_runs_the_entry_next_to_the_static_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gezondestad.app as app_pkg
    from gezondestad.app.cli import app as cli_app
    from gezondestad.app.cli.main import build_parser

    args = build_parser().parse_args(["app", "--dry-run", "--port", "8765"])
    assert args.port == 8765 and args.dry_run
    args = build_parser().parse_args(["app", "--server.port", "8766", "--server.headless", "true"])
    assert args.port == 8766 and args.server_headless == "true"  # Streamlit's own spelling works too
    # repository (editable install): streamlit_app.py next to static/
    script = cli_app.app_script()
    assert (script.parent / "static" / "leaflet" / "leaflet.min.js").is_file()
    cmd = cli_app.app_command(8765, "127.0.0.1", True)
    assert cmd[2:5] == ["streamlit", "run", str(script)] and "--server.enableStaticServing" in cmd
    # installed wheel: gezondestad/app/entry.py with gezondestad/app/static/ next to it
    inst = tmp_path / "gezondestad" / "app"
    (inst / "static" / "leaflet").mkdir(parents=True)
    monkeypatch.setattr(app_pkg, "__file__", str(inst / "__init__.py"))
    assert cli_app.app_script() == inst / "entry.py"


# ---------------------------------------------------------------------------------------------
# facilitator and evening mode
# ---------------------------------------------------------------------------------------------


def test_facilitator_section_locks_again_and_guards_the_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    at = run_page("participatie")
    at.toggle(key="facilitator_toggle").set_value(True).run()
    assert not [b for b in at.button if b.key == "clear_caches_btn"]  # no visitor can clear the caches
    at.text_input(key="facilitator_pin_input").input("test-pin-1234")
    at.button(key="facilitator_unlock").click().run()
    assert [b for b in at.button if b.key == "clear_caches_btn"]
    at.toggle(key="facilitator_toggle").set_value(False).run()
    at.toggle(key="facilitator_toggle").set_value(True).run()
    assert at.text_input(key="facilitator_pin_input").value == ""  # switching off and on asks again
    assert not [b for b in at.button if b.key == "clear_caches_btn"]
    # an unlocked session left alone locks itself
    at.text_input(key="facilitator_pin_input").input("test-pin-1234")
    at.button(key="facilitator_unlock").click().run()
    assert [b for b in at.button if b.key == "clear_caches_btn"]
    at.session_state["facilitator_seen"] = 0.0  # last facilitator action long ago
    at.run()
    assert not [b for b in at.button if b.key == "clear_caches_btn"]
    assert any("vergrendeld" in i.value for i in at.info)
    actions = list(pt.audit_log(os.environ["GEZONDESTAD_DB"])["action"])
    assert actions.count("unlock") == 2 and "lock" in actions and "idle_lock" in actions


def test_default_pin_is_flagged_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEZONDESTAD_PIN")
    monkeypatch.delenv("GEZONDESTAD_DEMO_PIN", raising=False)
    at = run_page("participatie")
    at.toggle(key="facilitator_toggle").set_value(True).run()
    assert any("standaard-PIN" in w.value for w in at.warning)
    at.text_input(key="facilitator_pin_input").input("gezond")
    at.button(key="facilitator_unlock").click().run()
    assert any("uitgeschakeld" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "clear_caches_btn"]


def test_evening_mode_is_the_map_only_and_needs_the_pin_to_leave() -> None:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.query_params["modus"] = "avond"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.sidebar.radio) == 0 and [s.label for s in at.selectbox] == ["Uw wijk"]
    at.query_params.pop("modus")  # a resident removes the parameter: still evening mode
    at.run()
    assert [s.label for s in at.selectbox] == ["Uw wijk"]
    at.text_input(key="evening_pin").input("fout")
    at.button(key="evening_leave").click().run()
    assert any("Verkeerde PIN" in e.value for e in at.error) and [s.label for s in at.selectbox] == ["Uw wijk"]
    at.text_input(key="evening_pin").input("test-pin-1234")
    at.button(key="evening_leave").click().run()
    assert [t.value for t in at.title] == ["Kaart per wijk"]


def _sidebar_only() -> None:
    from gezondestad.app.sidebar import sidebar_study_area

    sidebar_study_area()


def test_sidebar_brings_back_the_loaded_folder(demo_dir: Path) -> None:
    at = AppTest.from_function(_sidebar_only, default_timeout=TIMEOUT_S)
    at.run()
    demo_active = at.session_state["area_dir"]
    at.sidebar.radio(key="area_mode").set_value("Voorbereide map").run()
    assert at.session_state["area_dir"] == demo_active  # nothing loaded yet: the demo stays, and says so
    at.sidebar.text_input(key="area_folder_input").input(str(demo_dir))
    at.sidebar.button(key="area_folder_btn").click().run()
    assert at.session_state["area_dir"] == str(demo_dir.resolve())
    at.sidebar.radio(key="area_mode").set_value("Demostad (demo)").run()
    assert at.session_state["area_dir"] == demo_active
    at.sidebar.radio(key="area_mode").set_value("Voorbereide map").run()
    assert at.session_state["area_dir"] == str(demo_dir.resolve())  # switching back brings the folder back


def test_offline_preparation_says_what_to_do_in_dutch(monkeypatch: pytest.MonkeyPatch) -> None:
    from gezondestad.app import sidebar

    def offline(**kwargs: object) -> None:
        raise ConnectionError("Max retries exceeded with url: /api/interpreter (NameResolutionError)")

    monkeypatch.setattr(sidebar, "prepare_from_args", offline)
    at = AppTest.from_function(_sidebar_only, default_timeout=TIMEOUT_S)
    at.run()
    at.sidebar.radio(key="area_mode").set_value("Plaatsnaam (OSM, internet nodig)").run()
    at.sidebar.text_input(key="area_place_input").input("Nergenshuizen, Belgium")
    at.sidebar.button(key="area_place_btn").click().run()
    assert not at.exception
    msgs = [e.value for e in at.sidebar.error]
    assert any("geen verbinding" in m and "Wat u kunt doen" in m for m in msgs), msgs
    assert not any("Max retries" in m for m in msgs)  # no English trace in view


def test_preparation_moves_a_progress_bar_and_activates_the_area(monkeypatch: pytest.MonkeyPatch, demo_area) -> None:
    from gezondestad.app import sidebar

    seen: list[tuple[int, int, str]] = []

    def prepare(progress=None, **kwargs: object):
        for i in range(3):
            progress(i + 1, 3, f"stap {i + 1}")
            seen.append((i + 1, 3, f"stap {i + 1}"))
        return demo_area

    monkeypatch.setattr(sidebar, "prepare_from_args", prepare)
    at = AppTest.from_function(_sidebar_only, default_timeout=TIMEOUT_S)
    at.run()
    at.sidebar.radio(key="area_mode").set_value("Plaatsnaam (OSM, internet nodig)").run()
    at.sidebar.text_input(key="area_place_input").input("Demostad, Belgium")
    at.sidebar.button(key="area_place_btn").click().run()
    assert not at.exception and not at.sidebar.error
    assert seen[-1] == (3, 3, "stap 3")
    assert "areas" in at.session_state["area_dir"]  # the prepared copy in the cache folder is active
