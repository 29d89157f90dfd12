"""Place Standard rounds: residents score the 14 themes of their wijk from 1 to 7.

A *round* is one resident's scores for one wijk on one evening (every theme optional), each with
an optional remark. Rounds are stored in the participation database next to the remarks, with
the same guarantees: one short-lived connection per call, WAL, committed at once, text validated
but stored verbatim and escaped where shown, moderation hides (never deletes) and is logged.

The themes, their Dutch labels and the scale come from ``data/norms/place_standard.toml``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from gezondestad.layers.participation import ParticipationError, _connect, clean_text, default_db_path
from gezondestad.layers.textsafe import defuse_formulas
from gezondestad.model.norms import load_norms

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS place_scores (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id    TEXT    NOT NULL,
    area_name   TEXT    NOT NULL,
    wijk_code   TEXT    NOT NULL,
    evening     TEXT    NOT NULL DEFAULT '',
    theme       TEXT    NOT NULL,
    score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 7),
    remark      TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    session_id  TEXT    NOT NULL DEFAULT '',
    hidden      INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1))
);
CREATE INDEX IF NOT EXISTS place_scores_wijk ON place_scores (area_name, wijk_code);
CREATE TABLE IF NOT EXISTS place_moderation_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id  TEXT    NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('hide', 'unhide')),
    note      TEXT    NOT NULL DEFAULT '',
    at        TEXT    NOT NULL
);
"""


@dataclass(frozen=True)
class Theme:
    """One Place Standard theme: stable key, Dutch label, the question residents answer."""

    key: str
    label: str
    question: str


@dataclass(frozen=True)
class PlaceStandard:
    """The themes and the score range, from ``data/norms/place_standard.toml``."""

    themes: tuple[Theme, ...]
    scale_min: int
    scale_max: int

    @classmethod
    def from_norms(cls, norms_dir: str | os.PathLike | None = None) -> PlaceStandard:
        n = load_norms("place_standard", norms_dir)
        themes = tuple(Theme(*t) for t in n["themes"].value)
        return cls(themes, int(n["scale_min"].value), int(n["scale_max"].value))

    def theme(self, key: str) -> Theme:
        for t in self.themes:
            if t.key == key:
                return t
        raise ParticipationError(f"Unknown Place Standard theme {key!r}.", f"Onbekend thema '{key}'.")


def _db(db_path: str | os.PathLike | None) -> Path:
    return Path(db_path) if db_path else default_db_path()


def _ensure_schema(conn) -> None:
    for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
        conn.execute(stmt)


def add_round(
    db_path: str | os.PathLike | None,
    area_name: str,
    wijk_code: str,
    scores: dict[str, int],
    remarks: dict[str, str] | None = None,
    evening: str = "",
    session_id: str = "",
    standard: PlaceStandard | None = None,
) -> str:
    """Validate and store one resident's round at once; return its round id.

    Parameters
    ----------
    scores : dict
        Theme key → score (``scale_min``..``scale_max``); themes left out were not scored.
    remarks : dict, optional
        Theme key → short remark (validated like participation remarks; empty ones dropped).

    Raises
    ------
    ParticipationError
        Unknown theme, a score out of range, no score at all, or a remark that is too long.
    """
    std = standard or PlaceStandard.from_norms()
    if not scores:
        raise ParticipationError("A round needs at least one score.", "Geef minstens één thema een score.")
    rows = []
    for key, score in scores.items():
        std.theme(key)
        if isinstance(score, bool) or not isinstance(score, (int,)) or not std.scale_min <= score <= std.scale_max:
            raise ParticipationError(
                f"Score for {key} must be a whole number {std.scale_min}-{std.scale_max}, got {score!r}.",
                f"Een score is een geheel getal van {std.scale_min} tot {std.scale_max}.",
            )
        text = (remarks or {}).get(key, "") or ""
        rows.append((key, int(score), clean_text(text) if text.strip() else ""))
    for key in (remarks or {}):
        std.theme(key)
    now = datetime.now(timezone.utc)
    round_id = f"{now.strftime('%Y%m%dT%H%M%S%f')}-{os.urandom(4).hex()}"
    with _connect(_db(db_path)) as conn:
        _ensure_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO place_scores (round_id, area_name, wijk_code, evening, theme, score, remark, created_at, session_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(round_id, area_name, str(wijk_code), evening, k, s, r, now.isoformat(timespec="seconds"), session_id)
                 for k, s, r in rows],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    logger.info("Place Standard round %s stored for wijk %s (%d themes)", round_id, wijk_code, len(rows))
    return round_id


def list_scores(
    db_path: str | os.PathLike | None,
    area_name: str | None = None,
    wijk_codes: list[str] | None = None,
    include_hidden: bool = False,
) -> pd.DataFrame:
    """All stored scores (one row per round and theme), oldest first."""
    q = "SELECT * FROM place_scores WHERE 1=1"
    args: list[object] = []
    if area_name is not None:
        q += " AND area_name = ?"
        args.append(area_name)
    if wijk_codes is not None:
        q += f" AND wijk_code IN ({','.join('?' * len(wijk_codes))})"
        args.extend(str(w) for w in wijk_codes)
    if not include_hidden:
        q += " AND hidden = 0"
    with _connect(_db(db_path)) as conn:
        _ensure_schema(conn)
        return pd.read_sql_query(q + " ORDER BY id", conn, params=args)


def summary(scores: pd.DataFrame, by: str = "wijk_code", standard: PlaceStandard | None = None) -> pd.DataFrame:
    """Median score and number of rounds per theme, per ``by`` group (``wijk_code`` or ``evening``).

    Returns
    -------
    DataFrame with columns ``by``, ``theme``, ``label``, ``median``, ``mean``, ``n`` in theme order;
    themes nobody scored have ``n == 0`` and a NaN median (unknown, not 0).
    """
    std = standard or PlaceStandard.from_norms()
    groups = sorted(scores[by].astype(str).unique()) if len(scores) else []
    out = []
    for g in groups:
        sub = scores[scores[by].astype(str) == g]
        for t in std.themes:
            s = sub.loc[sub["theme"] == t.key, "score"]
            out.append({by: g, "theme": t.key, "label": t.label, "median": float(s.median()) if len(s) else float("nan"),
                        "mean": float(s.mean()) if len(s) else float("nan"), "n": int(len(s))})
    return pd.DataFrame(out, columns=[by, "theme", "label", "median", "mean", "n"])


def set_round_hidden(db_path: str | os.PathLike | None, round_id: str, hidden: bool, note: str = "") -> None:
    """Hide (or unhide) every score of one round; logged, never deleted."""
    with _connect(_db(db_path)) as conn:
        _ensure_schema(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            n = conn.execute("UPDATE place_scores SET hidden = ? WHERE round_id = ?", (int(hidden), round_id)).rowcount
            if n == 0:
                raise ParticipationError(f"No Place Standard round {round_id}.", "Deze ronde bestaat niet.")
            conn.execute("INSERT INTO place_moderation_log (round_id, action, note, at) VALUES (?, ?, ?, ?)",
                         (round_id, "hide" if hidden else "unhide", note, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def export_scores(db_path: str | os.PathLike | None, area_name: str | None = None, include_hidden: bool = False) -> bytes:
    """All scores as CSV (one row per round and theme, Dutch theme label added); formula cells defused.

    Exported next to the remarks by the facilitator (same moderation: hidden rounds only on request).
    """
    std = PlaceStandard.from_norms()
    df = list_scores(db_path, area_name=area_name, include_hidden=include_hidden)
    df.insert(df.columns.get_loc("theme") + 1, "thema", df["theme"].map({t.key: t.label for t in std.themes}))
    return defuse_formulas(df).to_csv(index=False).encode("utf-8")
