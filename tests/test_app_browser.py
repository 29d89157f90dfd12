"""Browser tests: the Streamlit app in Debian's headless Chromium, driven by Playwright.

The app runs as ``streamlit run streamlit_app.py`` in a subprocess with its own participation
database. Screenshots of every page go to ``artifacts/screenshots/`` (git-ignored).
Chromium must be at /usr/bin/chromium (``apt-get install chromium``); the tests FAIL, not skip,
when it is missing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from browser_helpers import (
    CHROMIUM_ARGS,
    SCREENSHOTS,
    AppServer,
    make_hostile_area,
    require_chromium,
    screenshot,
    wait_idle,
)

pytestmark = pytest.mark.browser

PIN = "test-pin-4821"
EVIL = "<script>alert(1)</script> Hier staat geen boom `${alert(2)}` <img src=x onerror=alert(3)>"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[AppServer]:
    env = {
        "GEZONDESTAD_DB": str(workdir / "opmerkingen.sqlite"),
        "GEZONDESTAD_PIN": PIN,
        "GEZONDESTAD_CACHE": str(workdir / "areas"),
    }
    srv = AppServer(env, workdir / "streamlit.log").start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    exe = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-BE")
    pg = ctx.new_page()
    pg.set_default_timeout(45_000)
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.js_errors = []  # type: ignore[attr-defined]

    def on_dialog(d) -> None:
        pg.dialogs.append(d.message)  # type: ignore[attr-defined]
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("pageerror", lambda e: pg.js_errors.append(str(e)))  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def open_page(page, server: AppServer, path: str) -> None:
    page.goto(f"{server.url}/{path}")
    wait_idle(page, 90_000)


def assert_no_exception(page) -> None:
    exc = page.locator('[data-testid="stException"]')
    assert exc.count() == 0, exc.first.inner_text()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    page.get_by_role("combobox", name=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page, 90_000)


def choose_indicator_layers(page, *labels: str) -> None:
    """Add the Kaart page's indicator layers ``labels`` (its "Indicatorlagen" multiselect)."""
    for label in labels:
        page.get_by_role("combobox", name="Indicatorlagen").first.click()
        page.get_by_role("option", name=label, exact=True).click()
        page.keyboard.press("Escape")
        wait_idle(page, 90_000)


def map_frame(page):
    return page.frame_locator(MAP_IFRAME).first


PAGES = [
    ("", "Kaart per wijk", "kaart", True),
    ("screening", "Screening van een plan", "screening", False),
    ("toets", "Toegankelijkheidstoets van een ontwerp", "toets", False),
    ("participatie", "Participatie: uw opmerking op de kaart", "participatie", True),
    ("export", "Export", "export", False),
]


def test_every_page_renders(server: AppServer, page) -> None:
    for path, title, shot, has_map in PAGES:
        open_page(page, server, path)
        page.get_by_role("heading", name=title).wait_for(timeout=60_000)
        page.get_by_text("dit is een synthetische demostad").first.wait_for(timeout=60_000)
        assert_no_exception(page)
        if has_map:
            # Leaflet is served by the app itself: the map draws without internet
            map_frame(page).locator(".leaflet-container").wait_for(state="visible", timeout=30_000)
            box = page.locator(MAP_IFRAME).first.bounding_box()
            assert box and box["height"] > 300
        screenshot(page, shot)
    assert page.js_errors == []
    assert page.dialogs == []


def test_kaart_layers_card_and_chart(server: AppServer, page) -> None:
    open_page(page, server, "")
    # the map starts high on a 1280x720 screen: its layer controls sit beside it, not above it
    frame_top = page.locator(MAP_IFRAME).first.bounding_box()["y"]
    assert frame_top < 720 / 2, frame_top
    choose_indicator_layers(page, "Fietsstress (LTS) per straat", "Hitte op een zomerdag", "STOP per wijk")
    assert_no_exception(page)
    page.get_by_text("Fietsstress (Level of Traffic Stress)").first.wait_for(timeout=60_000)
    page.get_by_text("Hitte op een zomerdag (klasse)").first.wait_for(timeout=60_000)
    page.get_by_text("STOP per wijk: S – stappers").first.wait_for(timeout=60_000)
    # the wijk card: an indicator with its plain-language explanation and source
    page.get_by_text("Inwoners met publiek groen (≥ 0,5 ha) binnen 300 m wandelen").first.wait_for(timeout=60_000)
    page.get_by_text("WHO Regional Office for Europe").first.wait_for(timeout=60_000)
    # another wijk in the chooser changes the card
    choose(page, "Wijk (of klik op een wijk op de kaart)", "Stationswijk (DEMO02)")
    page.get_by_role("heading", name="Stationswijk (DEMO02)").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]').count() >= 1
    screenshot(page, "kaart_lagen")
    assert page.js_errors == []


def test_broken_uploads_give_dutch_messages(server: AppServer, page, workdir: Path) -> None:
    open_page(page, server, "toets")
    page.get_by_text("Eigen bestand uploaden").click()
    wait_idle(page)
    broken = workdir / "kapot.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [ {"type": "Feat', encoding="utf-8")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(broken))
    wait_idle(page)
    page.get_by_text("is geen geldig GeoJSON-bestand").first.wait_for()
    fake_gpkg = workdir / "ontwerp.gpkg"
    fake_gpkg.write_bytes(b"dit is geen geopackage")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(fake_gpkg))
    wait_idle(page)
    page.get_by_text("is geen geldig GeoPackage").first.wait_for()
    wrong = workdir / "notities.txt"
    wrong.write_text("hallo", encoding="utf-8")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(wrong))
    wait_idle(page)
    page.get_by_text("heeft een bestandstype dat hier niet past").first.wait_for()
    screenshot(page, "toets_kapot_bestand")
    assert_no_exception(page)
    # the session is still usable: the example design is checked
    page.get_by_text("Voorbeeldontwerp (demostad, Stationsveld)").click()
    wait_idle(page, 90_000)
    page.get_by_text("Voldoet niet", exact=True).first.wait_for(timeout=60_000)
    map_frame(page).locator(".leaflet-container").wait_for(state="visible")
    assert_no_exception(page)
    screenshot(page, "toets_voorbeeld")
    assert page.js_errors == []


def _db_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, category, text, hidden FROM remarks ORDER BY id").fetchall()
    finally:
        conn.close()


def test_remark_is_stored_escaped_and_survives_restart(server: AppServer, page, workdir: Path) -> None:
    db = workdir / "opmerkingen.sqlite"
    open_page(page, server, "participatie")
    # submitting without a pin keeps the typed text
    page.get_by_role("textbox", name="Uw opmerking (maximaal 500 tekens)").fill(EVIL)
    page.get_by_role("button", name="Opmerking plaatsen").click()
    wait_idle(page)
    page.get_by_text("Klik eerst op de kaart").first.wait_for()
    assert page.get_by_role("textbox", name="Uw opmerking (maximaal 500 tekens)").input_value() == EVIL
    # drop the pin: a click on the Leaflet map inside the component iframe
    leaflet = map_frame(page).locator(".leaflet-container")
    leaflet.wait_for(state="visible")
    box = leaflet.bounding_box()
    leaflet.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.45})
    page.get_by_text("Gekozen punt:").first.wait_for(timeout=30_000)
    wait_idle(page)
    page.get_by_text("te weinig groen", exact=True).click()
    assert page.get_by_role("textbox", name="Uw opmerking (maximaal 500 tekens)").input_value() == EVIL
    page.get_by_role("button", name="Opmerking plaatsen").click()
    wait_idle(page)
    page.get_by_text("Bedankt! Uw opmerking").first.wait_for()
    rows = _db_rows(db)
    assert len(rows) == 1 and rows[0][1] == "te weinig groen" and rows[0][2] == EVIL and rows[0][3] == 0
    # shown as text in the list, never run
    page.get_by_text("<script>alert(1)</script> Hier staat geen boom").first.wait_for()
    # and as text in the map popup
    marker = map_frame(page).locator("path.opmerking-marker").first
    marker.wait_for(state="attached")
    marker.click(force=True)
    popup = map_frame(page).locator(".leaflet-popup-content").first
    popup.wait_for(state="visible")
    assert "<script>alert(1)</script>" in popup.inner_text()
    assert "${alert(2)}" in popup.inner_text()
    screenshot(page, "participatie_opmerking")
    assert page.dialogs == [], f"a remark ran as script: {page.dialogs}"

    # restart the app server: the remark is still there
    server.restart()
    open_page(page, server, "participatie")
    page.get_by_text("<script>alert(1)</script> Hier staat geen boom").first.wait_for()
    page.get_by_text("Opmerkingen in deze wijk (1)").first.wait_for(timeout=60_000)

    # facilitator: wrong PIN refused, right PIN hides the remark (the row stays)
    page.get_by_text("Begeleider (moderatie en export)").click()
    wait_idle(page)
    page.get_by_label("PIN van de begeleider").fill("fout")
    page.get_by_role("button", name="Ontgrendelen").click()
    wait_idle(page)
    page.get_by_text("Verkeerde PIN.").first.wait_for()
    page.get_by_label("PIN van de begeleider").fill(PIN)
    page.get_by_role("button", name="Ontgrendelen").click()
    wait_idle(page)
    page.get_by_role("button", name="Verbergen").click()
    wait_idle(page)
    page.get_by_text("Opmerkingen in deze wijk (0)").first.wait_for()
    rows = _db_rows(db)
    assert len(rows) == 1 and rows[0][3] == 1
    wait_idle(page)
    page.get_by_role("button", name="Download CSV").wait_for()
    with page.expect_download(timeout=90_000) as dl:
        page.get_by_role("button", name="Download CSV", exact=True).click()
    path = dl.value.path()
    assert path and Path(path).read_bytes().startswith(b"id,")
    screenshot(page, "participatie_begeleider")
    assert page.dialogs == []
    assert page.js_errors == []


def test_export_download(server: AppServer, page) -> None:
    open_page(page, server, "export")
    choose(page, "Laag", "Thema – Wijken")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download GeoPackage").click()
    data = Path(dl.value.path()).read_bytes()
    assert data.startswith(b"SQLite format 3\x00")
    assert dl.value.suggested_filename.endswith(".gpkg")
    screenshot(page, "export")
    assert_no_exception(page)


def test_screening_of_the_example_plan(server: AppServer, page) -> None:
    open_page(page, server, "screening")
    page.get_by_role("button", name="Screening uitvoeren").click()
    wait_idle(page, 120_000)
    assert_no_exception(page)
    page.get_by_role("heading", name="Samenvatting").wait_for()
    page.get_by_role("heading", name="Voor en na").wait_for()
    page.get_by_role("heading", name="Checklist gezondheidsdeterminanten").wait_for(timeout=120_000)
    assert page.locator('[data-testid="stImage"] img').count() >= 2  # before/after maps
    with page.expect_download() as dl:
        page.get_by_role("button", name="Verslag downloaden (HTML, af te drukken als PDF)").click()
    report = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Voorbeeldplan Stationsveld" in report and "<table" in report
    screenshot(page, "screening_resultaat")
    assert page.js_errors == []


def test_hostile_names_on_the_map_never_run(server: AppServer, page, workdir: Path) -> None:
    """Wijk, park, street and stop names that are HTML are shown as text when hovered, never run."""
    folder = make_hostile_area(workdir / "vijandig")
    open_page(page, server, "")
    page.locator('[data-testid="stSidebar"]').get_by_text("Voorbereide map").click()
    wait_idle(page)
    page.get_by_role("textbox", name="Pad naar een voorbereide map").fill(str(folder))
    page.get_by_role("button", name="Map laden").click()
    wait_idle(page, 90_000)
    for label in ("Straten en paden", "Haltes"):
        page.locator('[data-testid="stButtonGroup"] button', has_text=label).first.click()
        wait_idle(page, 90_000)
    assert_no_exception(page)
    # the wijk card shows the name as text (markdown escaped: no image fetched)
    page.get_by_role("heading", name="<img src=x onerror=alert(7)>", exact=False).first.wait_for(timeout=60_000)
    leaflet = map_frame(page).locator(".leaflet-container")
    leaflet.wait_for(state="visible", timeout=30_000)
    box = leaflet.bounding_box()
    seen = []
    for fx in (0.3, 0.4, 0.5, 0.6, 0.7):
        for fy in (0.3, 0.45, 0.6):
            leaflet.hover(position={"x": box["width"] * fx, "y": box["height"] * fy}, force=True)
            page.wait_for_timeout(150)
            tips = map_frame(page).locator(".leaflet-tooltip")
            if tips.count():
                seen.append(tips.last.inner_text())
    assert any("<img src=x onerror=alert(7)>" in t for t in seen), seen
    assert map_frame(page).locator('img[src="x"]').count() == 0
    assert page.dialogs == [], f"a name ran as script: {page.dialogs}"
    screenshot(page, "kaart_vijandige_namen")
    # back to the demo for the other tests
    page.locator('[data-testid="stSidebar"]').get_by_text("Demostad (demo)").click()
    wait_idle(page)
    assert page.js_errors == []


def test_first_click_survives_another_residents_remark(server: AppServer, page, workdir: Path) -> None:
    """Resident B posts while resident A looks at the same wijk: A's first click still sets A's point."""
    from gezondestad.layers import participation as pt
    from gezondestad.layers.demo import demo_area_dir
    from gezondestad.layers.studyarea import load_study_area

    area = load_study_area(demo_area_dir())
    w = area.wijken[area.wijken["wijk_code"] == "DEMO03"].iloc[0]
    open_page(page, server, "participatie?wijk=DEMO03")
    leaflet = map_frame(page).locator(".leaflet-container")
    leaflet.wait_for(state="visible")
    c = w.geometry.representative_point()
    pt.add_remark(workdir / "opmerkingen.sqlite", area.name, "DEMO03", "andere", "van een andere bewoner", c.x, c.y)
    box = leaflet.bounding_box()
    leaflet.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.4})
    page.get_by_text("Gekozen punt:").first.wait_for(timeout=30_000)
    assert_no_exception(page)


def test_evening_mode_fills_a_1280x720_projector(server: AppServer, browser) -> None:
    """?modus=avond: the map fills the screen, no sidebar, no other page within reach."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="nl-BE")
    page = ctx.new_page()
    page.set_default_timeout(45_000)
    try:
        open_page(page, server, "participatie?modus=avond")
        map_frame(page).locator(".leaflet-container").wait_for(state="visible", timeout=30_000)
        box = page.locator(MAP_IFRAME).first.bounding_box()
        assert box and box["height"] >= 560 and box["y"] < 100 and box["width"] >= 700
        assert page.locator('[data-testid="stSidebar"]').count() == 0 or not page.locator('[data-testid="stSidebar"]').is_visible()
        submit = page.get_by_role("button", name="Opmerking plaatsen").bounding_box()
        assert submit and submit["y"] + submit["height"] <= 720  # the whole form fits on the projector
        assert page.get_by_text("Page not found").count() == 0
        open_page(page, server, "export?modus=avond")  # another page's address: still the evening map
        page.get_by_text("Tik op de kaart").first.wait_for()
        assert page.get_by_role("heading", name="Export").count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "avond.png"))
    finally:
        ctx.close()
