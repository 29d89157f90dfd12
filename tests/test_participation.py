"""Participation remarks: storage, restart, moderation, concurrency, validation, escaping, export."""

from __future__ import annotations

import io
import multiprocessing as mp
import sys
import types
import sqlite3
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from gezondestad.layers import participation as pt

BOUNDS = (159_970.0, 189_970.0, 161_980.0, 191_530.0)  # the demo town's box in EPSG:31370
X, Y = 160_500.0, 190_400.0


def _add(db: Path, text: str = "Geen schaduw aan de bushalte", **kw) -> int:
    args = dict(area_name="Demostad", wijk_code="DEMO01", category="hier is het te heet", text=text,
                x_m=X, y_m=Y, bounds=BOUNDS, session_id="s1")
    args.update(kw)
    return pt.add_remark(db, **args)


def test_round_trip_and_restart(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "p.sqlite"
    rid = _add(db)
    _add(db, text="Oversteken aan de ring is gevaarlijk", category="onveilig oversteken", x_m=X + 10, y_m=Y - 5)
    df = pt.list_remarks(db)
    assert list(df["id"]) == [rid, rid + 1]
    r = df.iloc[0]
    assert (r["area_name"], r["wijk_code"], r["category"], r["text"]) == (
        "Demostad", "DEMO01", "hier is het te heet", "Geen schaduw aan de bushalte")
    assert (r["x_31370"], r["y_31370"]) == (X, Y)
    assert r["session_id"] == "s1" and not r["hidden"] and r["created_at"].endswith("+00:00")
    # "restart": a brand-new connection on the file (no state kept in the module) sees both
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM remarks").fetchone()[0] == 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert pt.count_remarks(db) == 2
    # filters
    assert len(pt.list_remarks(db, area_name="Demostad", wijk_code="DEMO01")) == 2
    assert len(pt.list_remarks(db, wijk_code="DEMO02")) == 0
    assert len(pt.list_remarks(db, area_name="Mechelen")) == 0


def test_hide_keeps_row_and_unhide(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    a = _add(db)
    b = _add(db, text="tweede")
    pt.set_hidden(db, a, True, note="persoonsgegevens")
    visible = pt.list_remarks(db)
    assert list(visible["id"]) == [b]
    everything = pt.list_remarks(db, include_hidden=True)
    assert list(everything["id"]) == [a, b]
    row = everything.set_index("id").loc[a]
    assert bool(row["hidden"]) and row["moderation_note"] == "persoonsgegevens" and row["text"] == "Geen schaduw aan de bushalte"
    assert pt.count_remarks(db) == 2 and pt.count_remarks(db, include_hidden=False) == 1
    pt.set_hidden(db, a, False)
    assert list(pt.list_remarks(db)["id"]) == [a, b]
    log = pt.moderation_log(db)
    assert list(log["action"]) == ["hide", "unhide"] and list(log["remark_id"]) == [a, a]
    with pytest.raises(pt.ParticipationError) as ei:
        pt.set_hidden(db, 999, True)
    assert "999" in ei.value.nl
    # there is no delete: the module has no function for it
    assert not [n for n in dir(pt) if "delete" in n.lower() or "remove" in n.lower()]


def _writer(db: str, tag: str, n: int, start) -> None:  # pragma: no cover - runs in a child process
    start.wait()
    for i in range(n):
        pt.add_remark(db, "Demostad", "DEMO01", "andere", f"{tag}-{i}", X + i, Y, bounds=BOUNDS, session_id=tag)


def test_two_processes_lose_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "p.sqlite"
    n = 200
    # Streamlit's AppTest (earlier in the session) leaves a script of its own as __main__; a spawned
    # child would re-run it. An empty __main__ makes the children import only this test module.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(db), tag, n, start)) for tag in ("A", "B")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    df = pt.list_remarks(db)
    assert len(df) == 2 * n
    for tag in ("A", "B"):
        texts = set(df.loc[df["session_id"] == tag, "text"])
        assert texts == {f"{tag}-{i}" for i in range(n)}
    assert df["id"].is_unique


def test_validation(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    with pytest.raises(pt.ParticipationError, match="category") as ei:
        _add(db, category="iets anders")
    assert "categorie" in ei.value.nl
    with pytest.raises(pt.ParticipationError, match="empty"):
        _add(db, text="  \x00\x07 \n ")
    with pytest.raises(pt.ParticipationError, match="501 characters") as ei:
        _add(db, text="x" * 501)
    assert "maximaal 500" in ei.value.nl
    _add(db, text="y" * 500)  # the limit itself is fine
    with pytest.raises(pt.ParticipationError, match="outside") as ei:
        _add(db, x_m=BOUNDS[2] + 1)
    assert "buiten het studiegebied" in ei.value.nl
    with pytest.raises(pt.ParticipationError):
        _add(db, x_m=float("nan"))
    with pytest.raises(pt.ParticipationError):
        _add(db, wijk_code="  ")
    assert pt.count_remarks(db) == 1  # only the valid one was stored
    # control characters are stripped, newlines and tabs kept, the rest verbatim
    assert pt.clean_text(" a\x00b\x1bc\r\nd\te\x7f ") == "abc\nd\te"


def test_script_is_stored_verbatim_and_rendered_escaped(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    evil = '<script>alert(1)</script> <img src=x onerror="alert(2)"> & \'quote\''
    rid = _add(db, text=evil, category="andere")
    stored = pt.list_remarks(db).set_index("id").loc[rid, "text"]
    assert stored == evil
    out = pt.remark_popup_html("andere", stored + "\nregel 2", "2026-11-24T20:00:00+00:00")
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in out
    assert "&amp; &#x27;quote&#x27;" in out
    assert out.count("<br>") == 3  # after the category, the newline, before the date
    assert "2026-11-24 20:00" in out
    assert "&lt;b&gt;" in pt.remark_popup_html("<b>", "x")
    # characters that are code inside a JavaScript template literal become entities too
    js = pt.remark_popup_html("andere", "a`b ${alert(3)} c\\`d")
    assert "`" not in js and "${" not in js and "\\" not in js
    assert "a&#96;b &#36;{alert(3)} c&#92;&#96;d" in js
    assert pt.escape_text("5 $ & <i>") == "5 &#36; &amp; &lt;i&gt;"


def test_export_gpkg_and_csv(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    a = _add(db, text="=HYPERLINK(\"http://x\")")
    _add(db, text="gewoon")
    pt.set_hidden(db, a, True)
    gp = tmp_path / "o.gpkg"
    gp.write_bytes(pt.export_remarks(db, "gpkg", include_hidden=True))
    g = gpd.read_file(gp, layer="opmerkingen")
    assert g.crs.to_epsg() == 31370 and len(g) == 2
    assert g.geometry.iloc[0].x == X and g["text"].iloc[0] == "=HYPERLINK(\"http://x\")"
    assert list(g["hidden"].astype(bool)) == [True, False]
    only_visible = pd.read_csv(io.BytesIO(pt.export_remarks(db, "csv")))
    assert list(only_visible["text"]) == ["gewoon"]
    c = pd.read_csv(io.BytesIO(pt.export_remarks(db, "CSV", include_hidden=True)))
    assert c["text"].iloc[0] == "'=HYPERLINK(\"http://x\")"  # defused for spreadsheets
    # the demo box lies around 4.3E, 50.8N in WGS84 (Lambert 72 origin region)
    assert 2.5 < c["lon"].iloc[0] < 6.5 and 49.5 < c["lat"].iloc[0] < 51.6
    with pytest.raises(pt.ParticipationError):
        pt.export_remarks(db, "xlsx")


def test_default_db_path_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pt.DB_ENV_VAR, str(tmp_path / "x.sqlite"))
    assert pt.default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv(pt.DB_ENV_VAR)
    assert pt.default_db_path() == pt.DEFAULT_DB_PATH
    assert pt.init_db(tmp_path / "y.sqlite").is_file()
