"""Evening mode opened by address (``?modus=avond[&gebied=<naam>]``): which study area it shows,
and the map that follows the screen's height (CSS; the browser screenshots are in the report)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gezondestad.app import areas
from gezondestad.app.maps import FILL_FRAME_CSS
from gezondestad.app.pages import participatie
from gezondestad.layers.studyarea import save_study_area
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 300


@pytest.fixture(autouse=True)
def _own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GEZONDESTAD_DB", str(tmp_path / "opmerkingen.sqlite"))
    monkeypatch.setenv("GEZONDESTAD_PIN", "test-pin-1234")
    monkeypatch.setenv("GEZONDESTAD_CACHE", str(tmp_path / "areas"))
    return tmp_path / "areas"


@pytest.fixture(scope="module")
def two_towns(demo_area, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two prepared areas with their own names ("Teststad", "Andere Stad"), outside any cache."""
    root = tmp_path_factory.mktemp("towns")
    out = []
    for name, folder in (("Teststad", "teststad-1"), ("Andere Stad", "andere-stad-2")):
        a = demo_area.copy()
        a.name = name
        out.append(save_study_area(a, root / folder))
    return out[0], out[1]


def _in_cache(cache: Path, town: Path) -> str:
    """A copy of ``town`` prepared in the app's cache (as the sidebar's place or OSM modes do)."""
    import shutil

    cache.mkdir(parents=True, exist_ok=True)
    return str(Path(shutil.copytree(town, cache / town.name)))


def _evening(**params: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=TIMEOUT_S)
    at.query_params["modus"] = "avond"
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.label for s in at.selectbox] == ["Uw wijk"]
    return at


def _area_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if "Gebied:" in c.value)


def test_find_area_by_name_or_folder_only_among_known_areas(_own_dirs: Path, two_towns) -> None:
    cache = _own_dirs
    folder = _in_cache(cache, two_towns[0])
    assert areas.find_area("teststad", cache) == folder  # the area's own name, any case
    assert areas.find_area("  TESTSTAD-1 ", cache) == folder  # or its folder name
    assert areas.find_area("Andere Stad", cache) is None  # prepared, but not known to the app yet
    assert areas.find_area(str(two_towns[1]), cache) is None  # a path in the address is no way in
    areas.remember_area(cache, str(two_towns[1]))
    assert areas.find_area("andere stad", cache) == str(two_towns[1])  # chosen once in the sidebar: known
    assert areas.recent_areas(cache) == [str(two_towns[1])]
    areas.remember_area(cache, folder)
    areas.remember_area(cache, folder)
    assert areas.recent_areas(cache) == [folder, str(two_towns[1])]  # newest first, each once


def test_gebied_in_the_address_opens_that_area(_own_dirs: Path, two_towns) -> None:
    folder = _in_cache(_own_dirs, two_towns[0])
    at = _evening(gebied="Teststad")
    assert at.session_state["area_dir"] == folder
    assert "Teststad" in _area_caption(at) and not at.warning


def test_without_gebied_the_last_chosen_area_opens(_own_dirs: Path, two_towns) -> None:
    areas.remember_area(_own_dirs, str(two_towns[0]))
    areas.remember_area(_own_dirs, str(two_towns[1]))
    at = _evening()
    assert at.session_state["area_dir"] == str(two_towns[1])
    assert "Andere Stad" in _area_caption(at) and not at.warning


def test_nothing_chosen_yet_falls_back_to_the_demo_with_a_note() -> None:
    at = _evening()
    assert "Demostad" in _area_caption(at)
    assert any("demostad wordt getoond" in w.value for w in at.warning)


def test_unknown_gebied_says_so_and_shows_the_last_chosen_area(_own_dirs: Path, two_towns) -> None:
    areas.remember_area(_own_dirs, str(two_towns[0]))
    at = _evening(gebied="Atlantis")
    assert at.session_state["area_dir"] == str(two_towns[0])
    assert any("‘Atlantis’ werd niet gevonden" in w.value and "Teststad" in w.value for w in at.warning)


def test_sidebar_choice_is_remembered_for_evening_mode(_own_dirs: Path, two_towns) -> None:
    from test_app_pages import _sidebar_only  # the sidebar alone, as the app runs it

    at = AppTest.from_function(_sidebar_only, default_timeout=TIMEOUT_S)
    at.run()
    at.sidebar.radio(key="area_mode").set_value("Voorbereide map").run()
    assert areas.recent_areas(_own_dirs) == []  # opening the app (demo) chooses nothing
    at.sidebar.text_input(key="area_folder_input").input(str(two_towns[1]))
    at.sidebar.button(key="area_folder_btn").click().run()
    assert areas.recent_areas(_own_dirs) == [str(two_towns[1].resolve())]


def test_starting_evening_mode_in_the_app_puts_the_area_in_the_address(_own_dirs: Path, two_towns) -> None:
    from test_app_pages import run_page

    at = run_page("participatie", str(two_towns[0]))
    at.toggle(key="facilitator_toggle").set_value(True).run()
    at.text_input(key="facilitator_pin_input").input("test-pin-1234")
    at.button(key="facilitator_unlock").click().run()
    at.button(key="evening_start").click().run()
    assert at.query_params["modus"] == "avond" and at.query_params["gebied"] == "Teststad"
    assert areas.recent_areas(_own_dirs) == [str(two_towns[0].resolve())]


def test_the_evening_map_follows_the_screen_height() -> None:
    css = participatie.EVENING_CSS
    assert 'iframe[title="streamlit_folium.st_folium"]' in css and "calc(100vh - 4.6rem)" in css
    assert "#map_div" in FILL_FRAME_CSS and "100vh" in FILL_FRAME_CSS


def test_map_badge_text_cannot_leave_its_css_string() -> None:
    esc = participatie.css_string('Gebied "x"; } body { display: none } </style><script>')
    assert '"' not in esc and "<" not in esc and "}" not in esc and ";" not in esc
    assert participatie.css_string("Demostad 2") == "Demostad 2"
