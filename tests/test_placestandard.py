"""Place Standard rounds: validation, durability with two sessions, moderation, summary, chart."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gezondestad.layers import placestandard as ps
from gezondestad.layers.participation import ParticipationError
from gezondestad.screening.charts import place_standard_spider


def test_fourteen_themes_from_norms():
    std = ps.PlaceStandard.from_norms()
    assert len(std.themes) == 14 and (std.scale_min, std.scale_max) == (1, 7)
    assert len({t.key for t in std.themes}) == 14


@pytest.mark.parametrize("bad", [0, 8, 3.5, "5", True])
def test_scores_out_of_range_refused(tmp_path, bad):
    with pytest.raises(ParticipationError):
        ps.add_round(tmp_path / "db.sqlite", "Demostad", "W1", {"feeling_safe": bad})


def test_unknown_theme_and_empty_round_refused(tmp_path):
    with pytest.raises(ParticipationError):
        ps.add_round(tmp_path / "db.sqlite", "Demostad", "W1", {"no_such_theme": 4})
    with pytest.raises(ParticipationError):
        ps.add_round(tmp_path / "db.sqlite", "Demostad", "W1", {})


def test_two_sessions_at_once_both_kept_and_summarised(tmp_path):
    db = tmp_path / "db.sqlite"
    errors = []

    def resident(i):
        try:
            ps.add_round(db, "Demostad", "W1", {"feeling_safe": 2 + i, "natural_space": 6},
                         remarks={"feeling_safe": "<script>alert(1)</script>"}, evening="avond-1", session_id=f"s{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    df = ps.list_scores(db, "Demostad")
    assert len(df) == 4 and df["round_id"].nunique() == 2
    assert (df.loc[df.theme == "feeling_safe", "remark"] == "<script>alert(1)</script>").all()  # verbatim
    s = ps.summary(df).set_index("theme")
    assert s.loc["feeling_safe", "median"] == 2.5 and s.loc["feeling_safe", "n"] == 2
    assert s.loc["natural_space", "median"] == 6.0
    assert np.isnan(s.loc["work_economy", "median"]) and s.loc["work_economy", "n"] == 0  # unknown, not 0


def test_hidden_round_left_out(tmp_path):
    db = tmp_path / "db.sqlite"
    r1 = ps.add_round(db, "Demostad", "W1", {"feeling_safe": 1})
    ps.add_round(db, "Demostad", "W1", {"feeling_safe": 7})
    ps.set_round_hidden(db, r1, True, note="spam")
    df = ps.list_scores(db, "Demostad")
    assert df["score"].tolist() == [7]
    assert len(ps.list_scores(db, "Demostad", include_hidden=True)) == 2


def test_spider_chart_is_a_png(tmp_path):
    db = tmp_path / "db.sqlite"
    ps.add_round(db, "Demostad", "W1", {"feeling_safe": 3, "natural_space": 5})
    png = place_standard_spider(ps.summary(ps.list_scores(db)), title="Wijk W1")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_export_defuses_formulas_and_hides_moderated(tmp_path):
    db = tmp_path / "db.sqlite"
    r1 = ps.add_round(db, "Demostad", "W1", {"feeling_safe": 3}, remarks={"feeling_safe": "=HYPERLINK(\"http://x\")"})
    ps.add_round(db, "Demostad", "W1", {"natural_space": 6})
    ps.set_round_hidden(db, r1, True)
    text = ps.export_scores(db).decode("utf-8")
    assert "HYPERLINK" not in text and "Groen en water" in text
    text_all = ps.export_scores(db, include_hidden=True).decode("utf-8")
    assert "'=HYPERLINK" in text_all
