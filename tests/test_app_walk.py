"""What the "Monday morning" walk through the app found, without a browser (session 4).

- maps open on their area with a margin, clear of the (touch-sized) zoom buttons;
- the health-burden wijk layer escapes wijk names (they may come from OpenStreetMap) and its value,
  like the STOP score, reaches the wijk tooltip (the wijk outlines lie on top and take the mouse);
- every theme has a Dutch name on the Export page;
- the accessibility check says which elements have no rule of their own (benches).

The browser side (the evening map at 1280x720 and 1920x1080, the thanks on screen) is in
``test_app_browser_evening.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gezondestad.app import compute, draw, maps
from gezondestad.app.pages.kaart import build_map
from gezondestad.app.ui import THEME_NL
from gezondestad.model.studyarea import THEME_COLUMNS
from test_app_pages import hostile_dir, run_page  # noqa: F401

BOUNDS = [[51.02, 4.47], [51.03, 4.49]]


def _fit_options(m) -> list[dict]:
    """Every fitBounds call of a map, as (bounds, options) read back from the rendered page."""
    page = m.get_root().render()
    calls = re.findall(r"fitBounds\(\s*(\[\[.*?\]\]),\s*(\{.*?\})\s*\)", page, flags=re.S)
    return [{"bounds": json.loads(b), **json.loads(o)} for b, o in calls]


def test_maps_open_with_a_margin_on_every_side() -> None:
    fits = _fit_options(maps.make_map(BOUNDS))
    assert fits == [{"bounds": BOUNDS, "paddingTopLeft": [maps.FIT_PADDING_PX] * 2,
                     "paddingBottomRight": [maps.FIT_PADDING_PX] * 2}]
    assert maps.FIT_PADDING_PX >= 20


def test_touch_sized_zoom_buttons_get_a_wider_left_margin() -> None:
    (fit,) = _fit_options(maps.make_map(BOUNDS, big_controls=True))
    left, top = fit["paddingTopLeft"]
    # the 52 px buttons sit 10 px from the left edge (+2 px border): the outline starts right of them
    assert left == maps.BIG_CONTROLS_LEFT_PX and left > 10 + 52 + 2
    assert top == maps.BIG_CONTROLS_PADDING_PX and fit["paddingBottomRight"] == [maps.BIG_CONTROLS_PADDING_PX] * 2
    assert "width: 52px" in maps.BIG_CONTROLS_CSS


def test_draw_map_fits_again_with_the_same_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The draw control resets the view, so draw_map fits a second time: with the same margin."""
    seen = []
    monkeypatch.setattr(draw, "st_folium", lambda m, **kw: seen.append(m) or {})
    for fill_frame, expect_left in ((False, maps.FIT_PADDING_PX), (True, maps.BIG_CONTROLS_LEFT_PX)):
        draw.draw_map(BOUNDS, key="x", fill_frame=fill_frame)
        fits = _fit_options(seen[-1])
        assert len(fits) == 2 and fits[0] == fits[1]
        assert fits[-1]["paddingTopLeft"][0] == expect_left


def test_health_layer_escapes_names_and_the_wijk_tooltip_carries_its_value(hostile_dir: Path) -> None:  # noqa: F811
    folder = str(hostile_dir)
    stamp = compute.area_stamp(folder)
    show = {"green": False, "water": False, "streets": False, "stops": False, "landcover": False, "health": True}
    m, legends = build_map(folder, stamp, show, ["stop"], {"stop": "stop_s"})
    page = m.get_root().render()
    assert "<img src=x" not in page and "\\u003cimg src=x" not in page
    n_wijken = 4
    # outline + health layer + STOP choropleth: each wijk name three times, escaped
    assert page.count("\\u0026lt;img src=x onerror=alert(7)\\u0026gt;") >= 3 * n_wijken
    assert '"Sterfte/jaar per 10 000 inw."' in page
    assert '"STOP S (0\\u2013100)"' in page or '"STOP S (0–100)"' in page
    burden = re.findall(r'"extra_1": "([^"]*)"', page)
    assert len(burden) == n_wijken and all(re.fullmatch(r"\d+,\d|onbekend", v) for v in burden), burden
    stop = re.findall(r'"extra_0": "([^"]*)"', page)
    assert len(stop) == n_wijken and all(re.fullmatch(r"\d+|onbekend", v) for v in stop), stop
    assert any("10 000 inwoners" in lg for lg in legends)


def test_every_theme_has_a_dutch_name() -> None:
    missing = [t for t in THEME_COLUMNS if t not in THEME_NL]
    assert not missing, f"themes without a Dutch name on the Export page: {missing}"


def test_toets_example_says_which_elements_have_no_rule_of_their_own() -> None:
    at = run_page("toets")
    at.radio(key="toets_bron").set_value("Voorbeeldontwerp (demostad, Stationsveld)").run()
    assert not at.exception, [e.value for e in at.exception]
    counts = {m.label: int(m.value) for m in at.metric}
    judged = sum(counts.values())
    caption = next(c.value for c in at.caption if "geen eigen regel" in c.value)
    n_context, n_all = map(int, re.match(r"(\d+) van de (\d+) elementen", caption).groups())
    assert n_all == 23 and n_context == n_all - judged == 4  # the four benches of the example design


def test_wijk_card_states_the_population_norm_in_dutch() -> None:
    from gezondestad.app.pages.kaart import population_norm_nl
    from gezondestad.model.norms import load_norms

    value = load_norms("population")["floor_area_m2_per_resident"].value
    text = population_norm_nl()
    assert text.startswith(f" Norm: {value:g} m² bruto vloeroppervlak per inwoner (bron: ")
    assert "gross floor area per resident" not in text  # the norm's English unit text stays out of the card


def test_features_with_their_own_tooltip_lie_above_the_wijk_outlines() -> None:
    """On the canvas the layer drawn last takes the mouse: homes, streets and parks must come after the
    wijk outlines (else their tooltips never show), wijk choropleths and rasters before them."""
    from gezondestad.layers.demo import demo_area_dir

    folder = str(demo_area_dir())
    stamp = compute.area_stamp(folder)
    show = {"green": True, "water": True, "streets": True, "stops": True, "landcover": False, "health": False}
    m, _ = build_map(folder, stamp, show, ["stop", "heat", "noise", "lts"], {})
    names = [getattr(c, "layer_name", None) for c in m._children.values()]
    at = {n: names.index(n) for n in names if n}
    wijken = at["Wijken"]
    for below in ("Water", "STOP per wijk"):
        assert at[below] < wijken, (below, names)
    for above in ("Groen", "Straten en paden", "Geluid aan de woning (Lden)", "Fietsstress (LTS)", "Haltes"):
        assert at[above] > wijken, (above, names)
    rasters = [i for i, c in enumerate(m._children.values()) if type(c).__name__ == "ImageOverlay"]
    assert rasters and max(rasters) < wijken
