"""The Place Standard page through AppTest: a round scored and stored, the spider chart shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gezondestad.layers import placestandard as ps


def _script() -> None:
    from gezondestad.app.pages import placestandard
    from gezondestad.app.sidebar import sidebar_study_area

    sidebar_study_area()
    placestandard.render()


@pytest.fixture(autouse=True)
def _own_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEZONDESTAD_DB", str(tmp_path / "opmerkingen.sqlite"))
    monkeypatch.setenv("GEZONDESTAD_CACHE", str(tmp_path / "areas"))


def test_a_round_is_stored_and_charted(tmp_path):
    at = AppTest.from_function(_script, default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Nog geen scores" in i.value for i in at.info)
    at.radio(key="ps_feeling_safe").set_value(2)
    at.radio(key="ps_natural_space").set_value(6)
    at.text_area(key="ps_r_feeling_safe").input("<script>alert(1)</script> slecht verlicht")
    submit = next(b for b in at.button if "bewaren" in str(b.label))
    submit.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    df = ps.list_scores(tmp_path / "opmerkingen.sqlite")
    assert sorted(df["theme"]) == ["feeling_safe", "natural_space"]
    assert df.loc[df.theme == "feeling_safe", "remark"].iloc[0].startswith("<script>")  # verbatim, never rendered as HTML
    assert any("bewaard" in s.value for s in at.success)
    assert any("1 deelnemers" in h.value for h in at.subheader)
    assert len(at.get("imgs")) + len(at.get("image")) >= 1 or "image" in str(at._tree)
