"""Polish after the Monday-morning walk (session 4): the Kaart map starts high, long texts are not cut.

AppTest (no browser): the Kaart page's layer controls, the toets table's wrapping and column widths,
the screening checklist as a list, Dutch names of missing design attributes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gezondestad.app.pages import screening as screening_page
from gezondestad.app.pages import toets as toets_page
from gezondestad.app.pages.kaart import BASE_LAYERS
from gezondestad.app.state import W
from gezondestad.app.ui import md_escape
from gezondestad.screening.checklist import SCORE_LABELS_NL, ChecklistItem
from test_app_pages import run_page


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEZONDESTAD_DB", str(tmp_path / "opmerkingen.sqlite"))
    monkeypatch.setenv("GEZONDESTAD_PIN", "test-pin-1234")
    monkeypatch.setenv("GEZONDESTAD_CACHE", str(tmp_path / "areas"))


def test_kaart_base_layers_are_pills_and_indicator_layers_one_compact_multiselect() -> None:
    at = run_page("kaart")
    pills = at.pills(key=W.KAART_LAYERS)
    assert list(pills.options) == list(BASE_LAYERS) and set(pills.value) == {"Groen", "Waterlopen"}
    layers = at.multiselect(key=W.KAART_INDICATORS)
    assert layers.label == "Indicatorlagen" and layers.value == []
    assert {"Fietsstress (LTS) per straat", "STOP per wijk", "Hitte op een zomerdag"} <= set(layers.options)
    assert not set(layers.options) & set(BASE_LAYERS)  # each layer in one control only
    # the STOP score's choice appears only with the STOP layer
    assert W.KAART_STOP_COL not in [s.key for s in at.selectbox]
    layers.set_value(["Fietsstress (LTS) per straat", "STOP per wijk"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert W.KAART_STOP_COL in [s.key for s in at.selectbox]
    # the data per theme moved under the map, it is still the page's first table
    assert list(at.dataframe[0].value.columns)[:2] == ["Thema", "Status"]


def test_toets_table_wraps_long_text_with_the_verdict_up_front() -> None:
    at = run_page("toets")
    at.radio(key="toets_bron").set_value("Voorbeeldontwerp (demostad, Stationsveld)").run()
    assert not at.exception
    df = at.dataframe[0]
    assert df.proto.row_height > 64  # Streamlit wraps cell text only above 4rem
    assert list(df.proto.column_order)[:4] == ["Nr.", "Element", "Oordeel", "Regel"]
    widths = {k: v.get("width") for k, v in json.loads(df.proto.columns).items()}
    oordeel = df.value["Oordeel"]
    assert "kan niet beoordeeld worden" in set(oordeel)
    # "kan niet beoordeeld worden" (26 characters) wraps over at most three lines of its column
    assert widths["Oordeel"] >= 100 and widths["Regel"] >= 250
    assert set(df.value.columns) <= set(widths)  # every column has its width
    missing = " ".join(df.value["Ontbreekt"])
    assert "breedte (width_cm)" in missing and " width_cm" not in missing.replace("(width_cm)", "")


def test_toets_rules_table_wraps_too() -> None:
    at = run_page("toets")  # no design yet: the expected columns and the rules
    df = at.dataframe[0]
    assert "Regel (code)" in df.value.columns and df.proto.row_height > 64
    widths = {k: v.get("width") for k, v in json.loads(df.proto.columns).items()}
    assert set(df.value.columns) <= set(widths) and widths["Regel"] >= 250
    limits = df.value.set_index("Regel (code)")["Grens"]
    assert limits["path_slope"] == "path_max_slope_pct: 4"  # 4.0 in the norms
    assert limits["ramp_slope"] == "ramp_rise_bands_cm: 10; 25; 50\nramp_max_slope_pct: 10; 8,3; 6,25; 5"
    assert not any(re.search(r"\d\.\d", v) for v in limits)


def test_missing_attributes_are_named_in_dutch_with_their_column() -> None:
    assert toets_page.attrs_nl("rise_cm of length_m") == "hoogteverschil (rise_cm) of lengte (length_m)"
    assert toets_page.attrs_nl("length_m, rest_landing") == "lengte (length_m), tussenbordes (rest_landing)"
    assert toets_page.attrs_nl(None) == "–"
    assert toets_page.attrs_nl("onbekende_kolom") == "onbekende_kolom"


def _item(**kw: object) -> ChecklistItem:
    base = dict(id="groen", theme="Groen", kind="question", question="Krijgt iedereen groen binnen 300 m?", score="-",
                evidence="12 % van de woningen", source="WHO (2016)", instruments="", recommendation="Voeg een park toe.")
    base.update(kw)
    return ChecklistItem(**base)  # type: ignore[arg-type]


def test_checklist_item_shows_every_text_whole_and_escaped() -> None:
    md = screening_page.checklist_item_md(_item())
    lines = md.split("  \n")
    assert lines[0] == "**Groen** · :red[● negatief]"
    assert lines[1] == f"_{md_escape('Krijgt iedereen groen binnen 300 m?')}_"
    assert lines[2:] == [f"**Onderbouwing:** {md_escape('12 % van de woningen')}", f"**Aanbeveling:** {md_escape('Voeg een park toe.')}"]
    contra = screening_page.checklist_item_md(_item(planner_answer="ja", contradicted=True, evidence="", recommendation=""))
    assert "**Antwoord van de planner:** ja" in contra and "spreekt het antwoord van de planner tegen" in contra
    assert "**Onderbouwing:** –" in contra and "Aanbeveling" not in contra
    hostile = screening_page.checklist_item_md(_item(theme="![x](https://elders.example/p.png)"))
    assert "![x]" not in hostile


def test_summary_and_checklist_use_the_same_score_words() -> None:
    for score, word in SCORE_LABELS_NL.items():
        assert screening_page.SCORE_MD[score].endswith(f"● {word}]")


def test_checklist_shows_what_needs_attention_first_and_folds_the_rest() -> None:
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        from gezondestad.app.pages import screening as sp
        from gezondestad.screening.checklist import ChecklistItem as CI

        def item(theme: str, score: str) -> CI:
            return CI(id=theme, theme=theme, kind="question", question="?", score=score, evidence="", source="",
                      instruments="", recommendation="")

        sp.checklist_list([item("Groen", "+"), item("Lucht", "-"), item("Geluid", "?"), item("Hitte", "0"), item("Water", "-")])

    at = AppTest.from_function(page).run()
    assert at.caption[0].value.startswith("3 punt(en) vragen aandacht")
    top = [m.value.split("**")[1] for m in at.main.markdown if m.value.startswith("**")]
    assert top[:3] == ["Lucht", "Water", "Geluid"]  # negatives, then unknown, outside the fold
    fold = at.expander[0]
    assert fold.label == "Positief of neutraal (2)" and fold.proto.expanded is False
    assert [m.value.split("**")[1] for m in fold.markdown] == ["Groen", "Hitte"]
