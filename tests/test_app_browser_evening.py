"""Evening mode on a projector, in Debian's Chromium: the whole wijk on the map, the thanks on screen.

At 1280x720 the wijk outline used to touch (and cross) the map's right edge and run under the zoom
buttons; the maps now open with a margin (``maps.fit_with_margin``). After a remark the thanks is
shown above the form, not below it where a 720 px screen cannot show it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from browser_helpers import SCREENSHOTS, wait_idle
from test_app_browser import (  # noqa: F401
    MAP_IFRAME,
    browser,
    choose_indicator_layers,
    map_frame,
    open_page,
    server,
    workdir,
)

pytestmark = pytest.mark.browser

EVIL = "<script>alert(1)</script> hier is het te heet"
OUTLINE_JS = """(c) => {
    const cb = c.getBoundingClientRect();
    const z = c.querySelector('.leaflet-control-zoom').getBoundingClientRect();
    const ps = [...c.querySelectorAll('path')].filter(p => [%s].includes((p.getAttribute('stroke') || '').toLowerCase()));
    return {outlines: ps.map(p => { const b = p.getBoundingClientRect();
                return {left: b.left - cb.left, top: b.top - cb.top, right: cb.right - b.right, bottom: cb.bottom - b.bottom}; }),
            zoom_right: z.right - cb.left, zoom_bottom: z.bottom - cb.top};
}"""
MIN_MARGIN_PX = 20


def _context(browser, w: int, h: int):  # noqa: F811
    ctx = browser.new_context(viewport={"width": w, "height": h}, locale="nl-BE")
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    return ctx, page


def _outline(page, strokes: str) -> dict:
    leaflet = map_frame(page).locator(".leaflet-container")
    leaflet.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)  # fitBounds and the frame's stretch to the screen height
    return leaflet.evaluate(OUTLINE_JS % strokes)


def _assert_inside_with_margin(m: dict) -> None:
    assert len(m["outlines"]) == 1, m
    o = m["outlines"][0]
    assert min(o.values()) >= MIN_MARGIN_PX, f"the wijk outline touches the map frame: {o}"
    assert o["left"] >= m["zoom_right"] + 8, f"the wijk outline runs under the zoom buttons: {m}"


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["1280x720", "1920x1080"])
def test_evening_map_shows_the_whole_wijk_with_a_margin(server, browser, size) -> None:  # noqa: F811
    w, h = size
    ctx, page = _context(browser, w, h)
    try:
        open_page(page, server, "participatie?modus=avond")
        m = _outline(page, "'#1b7f4b'")  # the wijk outline of the remark map
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"avond_kader_{w}x{h}.png"))
        _assert_inside_with_margin(m)
        box = page.locator(MAP_IFRAME).first.bounding_box()
        assert box and box["y"] + box["height"] <= h  # the map itself fits on the screen
        # the wish sketch map: same margin, and streets under it for orientation
        page.get_by_text("Een wens tekenen").click()
        wait_idle(page)
        m = _outline(page, "'#1f4e9c'")
        page.screenshot(path=str(SCREENSHOTS / f"avond_wens_kader_{w}x{h}.png"))
        _assert_inside_with_margin(m)
        assert map_frame(page).locator('path[stroke="#757575"]').count() > 0  # streets drawn under the wish
        assert page.dialogs == []
    finally:
        ctx.close()


def test_evening_remark_thanks_on_screen_shown_as_text_and_kept(server, browser, workdir: Path) -> None:  # noqa: F811
    ctx, page = _context(browser, 1280, 720)
    try:
        open_page(page, server, "participatie?modus=avond")
        leaflet = map_frame(page).locator(".leaflet-container")
        leaflet.wait_for(state="visible", timeout=30_000)
        box = leaflet.bounding_box()
        leaflet.click(position={"x": box["width"] * 0.33, "y": box["height"] * 0.7})
        page.get_by_text("Gekozen punt:").first.wait_for(timeout=30_000)
        wait_idle(page)
        page.get_by_role("textbox", name="Uw opmerking (maximaal 500 tekens)").fill(EVIL)
        page.get_by_role("button", name="Opmerking plaatsen").click()
        wait_idle(page)
        thanks = page.get_by_text("Bedankt! Uw opmerking").first
        thanks.wait_for()
        tb = thanks.bounding_box()
        assert tb and tb["y"] >= 0 and tb["y"] + tb["height"] <= 720, f"the thanks is off the projector screen: {tb}"
        page.screenshot(path=str(SCREENSHOTS / "avond_bedankt_1280x720.png"))
        conn = sqlite3.connect(workdir / "opmerkingen.sqlite")
        try:
            texts = [r[0] for r in conn.execute("SELECT text FROM remarks WHERE hidden = 0")]
        finally:
            conn.close()
        assert EVIL in texts
        # a reload (the next resident) still shows it, as text
        page.reload()
        wait_idle(page, 90_000)
        markers = map_frame(page).locator("path.opmerking-marker")
        markers.first.wait_for(state="attached", timeout=30_000)
        seen = []
        for i in range(markers.count()):
            markers.nth(i).click(force=True)
            popup = map_frame(page).locator(".leaflet-popup-content").first
            popup.wait_for(state="visible")
            seen.append(popup.inner_text())
        assert any(EVIL in t for t in seen), seen
        assert page.dialogs == [], f"a remark ran as script: {page.dialogs}"
    finally:
        ctx.close()


HOME_POINT_JS = """(c) => {
  const name = Object.keys(window).find(k => k.startsWith('map_') && window[k] && window[k].eachLayer);
  const map = window[name]; let out = null;
  map.eachLayer(l => { if (!out && l instanceof L.CircleMarker && l.feature && l.feature.properties.waarde !== undefined) {
      const p = map.latLngToContainerPoint(l.getLatLng()); out = [p.x, p.y]; } });
  return out;
}"""


def test_kaart_home_tooltip_shows_above_the_wijk_outline(server, browser) -> None:  # noqa: F811
    """Hovering a home of the noise layer shows its Lden, not the wijk under it (Kaart page)."""
    ctx, page = _context(browser, 1400, 1000)
    try:
        open_page(page, server, "")
        choose_indicator_layers(page, "Geluid aan de woning (Lden)")
        leaflet = map_frame(page).locator(".leaflet-container")
        leaflet.wait_for(state="visible", timeout=30_000)
        page.wait_for_timeout(1500)
        xy = leaflet.evaluate(HOME_POINT_JS)
        assert xy, "no home marker on the noise layer"
        leaflet.hover(position={"x": xy[0], "y": xy[1]}, force=True)
        tip = map_frame(page).locator(".leaflet-tooltip").last
        tip.wait_for(state="visible", timeout=10_000)
        assert tip.inner_text().startswith("Lden (dB)"), tip.inner_text()
    finally:
        ctx.close()
