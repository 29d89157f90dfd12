"""Browser flows of issue 16: a plan drawn on the map and screened; a Place Standard round by two sessions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from browser_helpers import screenshot, wait_idle
from test_app_browser import assert_no_exception, browser, map_frame, open_page, page, server, workdir  # noqa: F401

pytestmark = pytest.mark.browser


def test_plan_drawn_on_the_map_is_screened(server, page) -> None:  # noqa: F811
    open_page(page, server, "screening")
    page.get_by_text("Plan tekenen op de kaart").click()
    wait_idle(page, 90_000)
    frame = map_frame(page)
    leaflet = frame.locator(".leaflet-container")
    leaflet.wait_for(state="visible")
    frame.locator(".leaflet-draw-draw-rectangle").click()
    box = leaflet.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.70, box["y"] + box["height"] * 0.30
    x1, y1 = box["x"] + box["width"] * 0.76, box["y"] + box["height"] * 0.38
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.get_by_text("Tekening 1 (vlak)").first.wait_for(timeout=60_000)
    wait_idle(page, 90_000)
    page.get_by_role("button", name="Dit plan gebruiken").click()
    wait_idle(page, 90_000)
    assert_no_exception(page)
    page.get_by_role("button", name="Plan bewaren als bestand (GeoJSON)").wait_for(timeout=60_000)
    page.get_by_role("button", name="Screening uitvoeren").click()
    wait_idle(page, 180_000)
    assert_no_exception(page)
    page.get_by_role("heading", name="Voor en na").wait_for(timeout=180_000)
    screenshot(page, "screening_getekend_plan")
    assert page.js_errors == []


def test_place_standard_round_by_two_sessions(server, browser, workdir: Path) -> None:  # noqa: F811
    pages = []
    for _ in range(2):
        ctx = browser.new_context(viewport={"width": 1280, "height": 720})
        pg = ctx.new_page()
        pg.goto(f"{server.url}/wijkscore")
        wait_idle(pg, 90_000)
        pages.append(pg)
    for i, pg in enumerate(pages):
        pg.locator('[data-testid="stRadio"]').filter(has_text="Voel ik me veilig").get_by_text(str(2 + 3 * i), exact=True).click()
    for pg in pages:
        pg.get_by_role("button", name="Mijn scores bewaren").click()
    for pg in pages:
        wait_idle(pg, 90_000)
        pg.get_by_text("zijn bewaard").first.wait_for(timeout=60_000)
    with sqlite3.connect(workdir / "opmerkingen.sqlite") as conn:
        rows = conn.execute("SELECT round_id, score FROM place_scores").fetchall()
    assert len({r[0] for r in rows}) == 2 and sorted(r[1] for r in rows) == [2, 5]
    pages[0].reload()
    wait_idle(pages[0], 90_000)
    pages[0].get_by_text("2 deelnemers").first.wait_for(timeout=60_000)
    assert pages[0].locator('[data-testid="stImage"] img').count() >= 1
    screenshot(pages[0], "place_standard_twee_sessies")
    for pg in pages:
        pg.context.close()
