"""Participation remarks: residents drop a pin with a category and a short remark.

Remarks live in one SQLite database (WAL journal, so readers never block the writer and two app
sessions can add remarks at the same time). Every call opens its own short-lived connection:
``sqlite3`` connections must not be shared between the threads Streamlit runs sessions in, and a
connection per call is the simplest pattern that is safe across threads *and* processes. Each
remark is committed at once (``synchronous=FULL``), so it survives an app restart or crash.

Moderation hides a remark (and can unhide it); nothing is ever deleted, and every moderation
action is logged with its time and note.

Text is validated (length, control characters stripped) but otherwise stored *verbatim*:
escaping happens where a remark is shown (:func:`remark_popup_html`), never in the database.
Coordinates are stored in Belgian Lambert 72 (EPSG:31370), like every other layer.
"""

from __future__ import annotations

import hmac
import html
import os
import sqlite3
import tempfile
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd
from gezondestad.layers.textsafe import csv_safe
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.paths import user_data_dir
from gezondestad.model.studyarea import CRS

CATEGORIES: tuple[str, ...] = (
    "hier is het te heet",
    "onveilig oversteken",
    "te weinig groen",
    "slecht toegankelijk",
    "fietsen voelt onveilig",
    "wateroverlast",
    "plek om elkaar te ontmoeten",
    "andere",
)
"""The fixed (Dutch) categories a resident chooses from."""

MAX_TEXT_CHARS = 500
"""Longest remark accepted (characters, after stripping control characters): an input limit of
the form, not a planning norm — long enough for two or three sentences."""

DB_ENV_VAR = "GEZONDESTAD_DB"
"""Environment variable that overrides the database path."""

DEFAULT_DB_PATH = user_data_dir() / "participatie" / "opmerkingen.sqlite"
"""Default database file (``data/participatie/`` is git-ignored)."""

BUSY_TIMEOUT_MS = 15_000
"""How long a writer waits for a concurrent writer's lock before giving up."""

EXPORT_FORMATS: tuple[str, ...] = ("gpkg", "csv")

_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS remarks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    area_name       TEXT    NOT NULL,
    wijk_code       TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    x_31370         REAL    NOT NULL,
    y_31370         REAL    NOT NULL,
    created_at      TEXT    NOT NULL,
    session_id      TEXT    NOT NULL DEFAULT '',
    hidden          INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1)),
    moderation_note TEXT    NOT NULL DEFAULT '',
    moderated_at    TEXT
);
CREATE INDEX IF NOT EXISTS remarks_area_wijk ON remarks (area_name, wijk_code);
CREATE TABLE IF NOT EXISTS moderation_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    remark_id   INTEGER NOT NULL REFERENCES remarks (id),
    action      TEXT    NOT NULL CHECK (action IN ('hide', 'unhide')),
    note        TEXT    NOT NULL DEFAULT '',
    at          TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS pin_state (
    scope         TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_failure  REAL    NOT NULL DEFAULT 0,
    locked_until  REAL    NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    remark_id   INTEGER,
    session_id  TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT ''
);
"""

REMARK_COLUMNS: tuple[str, ...] = (
    "id",
    "area_name",
    "wijk_code",
    "category",
    "text",
    "x_31370",
    "y_31370",
    "created_at",
    "session_id",
    "hidden",
    "moderation_note",
    "moderated_at",
)


class ParticipationError(GezondeStadError):
    """A remark or a moderation action was refused.

    Attributes
    ----------
    nl : str
        The same message in Dutch, for residents and facilitators in the app.
    """

    def __init__(self, message: str, nl: str) -> None:
        super().__init__(message)
        self.nl = nl


@dataclass(frozen=True)
class Bounds:
    """An axis-aligned box in EPSG:31370 (metres) that pins must fall inside."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def contains(self, x_m: float, y_m: float) -> bool:
        return self.minx <= x_m <= self.maxx and self.miny <= y_m <= self.maxy


def default_db_path() -> Path:
    """The database path: ``$GEZONDESTAD_DB`` when set, else :data:`DEFAULT_DB_PATH`."""
    env = os.environ.get(DB_ENV_VAR, "").strip()
    return Path(env) if env else DEFAULT_DB_PATH


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _ensure_wal(conn: sqlite3.Connection) -> str:
    """Put the database in WAL mode (persistent once set) and return the journal mode.

    Switching a new database to WAL needs an exclusive lock, and SQLite does not always wait on
    the busy handler for that PRAGMA: two first writers at once can get "database is locked".
    So read the mode first (no lock needed once it is WAL) and retry the switch with backoff
    within the busy timeout.
    """
    mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while mode != "wal":
        try:
            mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
            mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        else:
            break
    return mode


def database_error(path: str | os.PathLike, exc: BaseException) -> ParticipationError:
    """The :class:`ParticipationError` (Dutch ``nl``) for a database that cannot be used: read-only, full, locked, damaged."""
    msg = str(exc).lower()
    if "full" in msg or getattr(exc, "errno", None) == 28:
        nl = (f"De opmerking kon niet bewaard worden: de schijf van de databank ({Path(path).name}) is vol. "
              "Meld dit aan de begeleider; die maakt ruimte vrij of zet GEZONDESTAD_DB naar een andere schijf.")
    elif "readonly" in msg or "read-only" in msg or "unable to open" in msg or isinstance(exc, PermissionError) or getattr(exc, "errno", None) in (13, 30):
        nl = (f"De databank met opmerkingen ({path}) is alleen-lezen of niet bereikbaar: nieuwe opmerkingen kunnen niet "
              "bewaard worden. De beheerder zet GEZONDESTAD_DB naar een map waarin de app mag schrijven.")
    elif "locked" in msg or "busy" in msg:
        nl = "De databank is even bezet door andere deelnemers. Probeer het over enkele seconden opnieuw."
    elif "not a database" in msg or "malformed" in msg or "corrupt" in msg:
        nl = (f"Het bestand {path} is geen (gave) databank met opmerkingen. De beheerder herstelt het uit een back-up "
              "of zet GEZONDESTAD_DB naar een nieuw bestand.")
    else:
        nl = f"De databank met opmerkingen ({path}) kan niet gebruikt worden ({exc}). Meld dit aan de begeleider."
    return ParticipationError(f"{path}: participation database unusable ({exc}).", nl)


@contextmanager
def _connect(db_path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A fresh connection with WAL, a busy timeout and the schema in place; closed on exit.

    A database that cannot be used (read-only volume, full disk, damaged file, still locked after
    the busy timeout) raises :class:`ParticipationError` with a Dutch message (:func:`database_error`),
    never a raw ``sqlite3`` error.
    """
    p = Path(db_path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(p, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise database_error(p, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        mode = _ensure_wal(conn)
        if str(mode).lower() != "wal":
            raise ParticipationError(
                f"{p}: SQLite could not switch to WAL journal mode (got {mode!r}); put the database on a local disk.",
                f"{p}: de databank kan niet in WAL-modus; zet ze op een lokale schijf.",
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")  # two first-time callers: the second waits, then no-ops
            try:
                for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(stmt)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        yield conn
    except (sqlite3.Error, OSError) as exc:
        raise database_error(p, exc) from exc
    finally:
        conn.close()


def init_db(db_path: str | os.PathLike | None = None) -> Path:
    """Create the database (and its folder) when absent; return its path."""
    p = Path(db_path) if db_path else default_db_path()
    with _connect(p):
        pass
    return p


def clean_text(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Validate a remark's text: strip control characters and outer whitespace, check the length.

    Newlines and tabs are kept (a resident may write two lines); every other Unicode control
    character (category ``Cc``) is removed. Nothing else is changed: HTML stays as typed and is
    escaped only where shown.

    Raises
    ------
    ParticipationError
        When the text is empty after cleaning or longer than ``max_chars``.
    """
    if not isinstance(text, str):
        raise ParticipationError("Remark text must be a string.", "De opmerking moet tekst zijn.")
    cleaned = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()
    if not cleaned:
        raise ParticipationError(
            "Remark text is empty; write a short remark.", "Schrijf een korte opmerking (het tekstvak is leeg)."
        )
    if len(cleaned) > max_chars:
        raise ParticipationError(
            f"Remark is {len(cleaned)} characters long; at most {max_chars} are allowed. Shorten it.",
            f"De opmerking is {len(cleaned)} tekens lang; maximaal {max_chars} tekens. Maak ze korter.",
        )
    return cleaned


def check_category(category: str) -> str:
    """Return ``category`` when it is one of :data:`CATEGORIES`, else raise :class:`ParticipationError`."""
    if category not in CATEGORIES:
        raise ParticipationError(
            f"Unknown category {category!r}; choose one of {', '.join(CATEGORIES)}.",
            "Kies een categorie uit de lijst.",
        )
    return category


def add_remark(
    db_path: str | os.PathLike,
    area_name: str,
    wijk_code: str,
    category: str,
    text: str,
    x_m: float,
    y_m: float,
    bounds: Bounds | tuple[float, float, float, float] | None = None,
    session_id: str = "",
) -> int:
    """Validate and store one remark at once; return its id.

    Parameters
    ----------
    db_path : path
        SQLite database file (created when absent).
    area_name : str
        Name of the study area the remark belongs to (remarks of several areas can share a file).
    wijk_code : str
        Code of the wijk the session is about.
    category : str
        One of :data:`CATEGORIES`.
    text : str
        The remark (see :func:`clean_text`).
    x_m, y_m : float
        Pin location in EPSG:31370 (metres).
    bounds : Bounds or (minx, miny, maxx, maxy), optional
        Study-area box in EPSG:31370; a pin outside it is refused.
    session_id : str
        Identifier of the browser session (lets a facilitator see remarks that belong together).

    Raises
    ------
    ParticipationError
        On an unknown category, empty/too long text, a missing wijk or a pin outside ``bounds``.
    """
    category = check_category(category)
    cleaned = clean_text(text)
    if not str(wijk_code or "").strip():
        raise ParticipationError("A remark needs a wijk code.", "Kies eerst een wijk.")
    try:
        x, y = float(x_m), float(y_m)
    except (TypeError, ValueError):
        raise ParticipationError("Pin coordinates must be numbers.", "Klik eerst op de kaart om een punt te kiezen.") from None
    if not (x == x and y == y):  # NaN
        raise ParticipationError("Pin coordinates are missing.", "Klik eerst op de kaart om een punt te kiezen.")
    if bounds is not None:
        b = bounds if isinstance(bounds, Bounds) else Bounds(*map(float, bounds))
        if not b.contains(x, y):
            raise ParticipationError(
                f"Pin ({x:.0f}, {y:.0f}) lies outside the study area {b}; click inside the map area.",
                "Dat punt ligt buiten het studiegebied. Klik op een plek binnen de wijk.",
            )
    with _connect(db_path) as conn:
        cur = conn.execute(
            "INSERT INTO remarks (area_name, wijk_code, category, text, x_31370, y_31370, created_at, session_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (str(area_name), str(wijk_code), category, cleaned, x, y, _now(), str(session_id or "")),
        )
        return int(cur.lastrowid)


def list_remarks(
    db_path: str | os.PathLike,
    area_name: str | None = None,
    wijk_code: str | None = None,
    include_hidden: bool = False,
) -> pd.DataFrame:
    """Remarks as a DataFrame (columns :data:`REMARK_COLUMNS`, oldest first).

    ``area_name`` / ``wijk_code`` filter when given; hidden remarks are left out unless
    ``include_hidden``.
    """
    sql = f"SELECT {', '.join(REMARK_COLUMNS)} FROM remarks WHERE 1 = 1"
    params: list[object] = []
    if area_name is not None:
        sql += " AND area_name = ?"
        params.append(str(area_name))
    if wijk_code is not None:
        sql += " AND wijk_code = ?"
        params.append(str(wijk_code))
    if not include_hidden:
        sql += " AND hidden = 0"
    sql += " ORDER BY id"
    with _connect(db_path) as conn:
        rows = conn.execute(sql, params).fetchall()
    df = pd.DataFrame(rows, columns=list(REMARK_COLUMNS))
    df["hidden"] = df["hidden"].astype(bool)
    return df


def count_remarks(db_path: str | os.PathLike, include_hidden: bool = True) -> int:
    """Number of remarks in the database."""
    with _connect(db_path) as conn:
        sql = "SELECT COUNT(*) FROM remarks" + ("" if include_hidden else " WHERE hidden = 0")
        return int(conn.execute(sql).fetchone()[0])


def set_hidden(db_path: str | os.PathLike, remark_id: int, hidden: bool, note: str = "", session_id: str = "") -> None:
    """Hide (``hidden=True``) or unhide a remark; the row stays, the action is logged (moderation and audit log).

    Raises
    ------
    ParticipationError
        When no remark has ``remark_id``.
    """
    note_clean = "".join(ch for ch in str(note or "") if unicodedata.category(ch) != "Cc").strip()[:MAX_TEXT_CHARS]
    at = _now()
    with _connect(db_path) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "UPDATE remarks SET hidden = ?, moderation_note = ?, moderated_at = ? WHERE id = ?",
                (1 if hidden else 0, note_clean, at, int(remark_id)),
            )
            if cur.rowcount == 0:
                raise ParticipationError(
                    f"No remark with id {remark_id}.", f"Er is geen opmerking met nummer {remark_id}."
                )
            conn.execute(
                "INSERT INTO moderation_log (remark_id, action, note, at) VALUES (?, ?, ?, ?)",
                (int(remark_id), "hide" if hidden else "unhide", note_clean, at),
            )
            _audit(conn, "hide" if hidden else "unhide", int(remark_id), session_id, note_clean, at)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def moderation_log(db_path: str | os.PathLike) -> pd.DataFrame:
    """Every hide/unhide action (remark_id, action, note, at), oldest first."""
    with _connect(db_path) as conn:
        rows = conn.execute("SELECT remark_id, action, note, at FROM moderation_log ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=["remark_id", "action", "note", "at"])


# --------------------------------------------------------------------------------------------
# audit log and the facilitator PIN guard
# --------------------------------------------------------------------------------------------

AUDIT_ACTIONS: tuple[str, ...] = (
    "unlock", "unlock_failed", "unlock_throttled", "unlock_refused_default", "lock", "idle_lock",
    "hide", "unhide", "export",
)
"""Actions written to the audit log."""


def _audit(conn: sqlite3.Connection, action: str, remark_id: int | None, session_id: str, detail: str = "", at: str | None = None) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, action, remark_id, session_id, detail) VALUES (?, ?, ?, ?, ?)",
        (at or _now(), str(action), remark_id, str(session_id or "")[:80], str(detail or "")[:MAX_TEXT_CHARS]),
    )


def log_action(db_path: str | os.PathLike, action: str, remark_id: int | None = None, session_id: str = "", detail: str = "") -> None:
    """Write one facilitator action (``lock``, ``export``, ...) to the audit log (time in UTC)."""
    if action not in AUDIT_ACTIONS:
        raise ParticipationError(f"Unknown audit action {action!r}.", f"Onbekende actie {action!r}.")
    with _connect(db_path) as conn:
        _audit(conn, action, remark_id, session_id, detail)


def audit_log(db_path: str | os.PathLike) -> pd.DataFrame:
    """Every unlock, failed try, lock, moderation and export (at, action, remark_id, session_id, detail), oldest first."""
    with _connect(db_path) as conn:
        rows = conn.execute("SELECT at, action, remark_id, session_id, detail FROM audit_log ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=["at", "action", "remark_id", "session_id", "detail"])


PIN_ENV_VAR = "GEZONDESTAD_PIN"
"""Environment variable holding the facilitator PIN."""

DEFAULT_PIN = "gezond"
"""The PIN shipped with the app. It is refused unless :data:`DEMO_PIN_ENV_VAR` is ``1``."""

DEMO_PIN_ENV_VAR = "GEZONDESTAD_DEMO_PIN"
"""Set to ``1`` to allow the default PIN (a demo on one's own machine, never a public session)."""


@dataclass(frozen=True)
class PinPolicy:
    """How the facilitator PIN resists guessing (security settings, not planning norms).

    Attributes
    ----------
    base_delay_s : float
        Wait after the first wrong PIN; it doubles with every further failure (1, 2, 4, 8 ... s).
    max_delay_s : float
        Cap of that wait (60 s).
    lockout_after : int
        Consecutive failures after which the PIN is locked for ``lockout_s`` (10).
    lockout_s : float
        Lockout (15 minutes): with the doubling waits, an attacker gets at most ~10 guesses per
        17 minutes, over all sessions together (the count lives in the database).
    idle_timeout_s : float
        An unlocked facilitator session locks itself after this long without a facilitator action
        (10 minutes: a shared kiosk left alone).
    """

    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    lockout_after: int = 10
    lockout_s: float = 900.0
    idle_timeout_s: float = 600.0


@dataclass(frozen=True)
class PinResult:
    """Outcome of :meth:`PinGuard.try_unlock`: ``ok``, a Dutch message, and seconds to wait before the next try."""

    ok: bool
    message_nl: str
    wait_s: float = 0.0


def configured_pin() -> str:
    """The facilitator PIN from :data:`PIN_ENV_VAR` (``DEFAULT_PIN`` when unset)."""
    return os.environ.get(PIN_ENV_VAR, "").strip() or DEFAULT_PIN


def demo_pin_allowed() -> bool:
    """True when :data:`DEMO_PIN_ENV_VAR` is ``1`` (the default PIN may then be used)."""
    return os.environ.get(DEMO_PIN_ENV_VAR, "").strip() == "1"


def is_idle(last_activity_s: float, now_s: float | None = None, policy: PinPolicy = PinPolicy()) -> bool:
    """True when an unlocked session's last facilitator action (``time.time()``) is older than ``policy.idle_timeout_s``."""
    now = time.time() if now_s is None else now_s
    return now - float(last_activity_s) > policy.idle_timeout_s


class PinGuard:
    """The facilitator PIN check, with its state in the participation database.

    * refused while the PIN is the default ``gezond``, unless ``GEZONDESTAD_DEMO_PIN=1``;
    * after a wrong PIN the next try is refused for ``base_delay_s * 2**(failures-1)`` seconds
      (at most ``max_delay_s``), after ``lockout_after`` failures for ``lockout_s``; the count is
      shared by every session and process (it is in the database), so sessions do not add up;
    * every unlock, failed or throttled try, and refusal of the default PIN is written to the
      audit log (:func:`audit_log`), as are moderation actions (:func:`set_hidden`).

    Parameters
    ----------
    db_path : path
        The participation database.
    pin : str, optional
        The PIN (default :func:`configured_pin`).
    policy : PinPolicy
    allow_default : bool, optional
        Allow the default PIN (default :func:`demo_pin_allowed`).
    clock : callable
        Seconds since the epoch (tests pass a fake clock).
    """

    SCOPE = "facilitator"

    def __init__(self, db_path: str | os.PathLike, pin: str | None = None, policy: PinPolicy = PinPolicy(),
                 allow_default: bool | None = None, clock=time.time) -> None:
        self.db_path = Path(db_path)
        self.pin = configured_pin() if pin is None else str(pin)
        self.policy = policy
        self.allow_default = demo_pin_allowed() if allow_default is None else bool(allow_default)
        self.clock = clock

    @property
    def default_in_force(self) -> bool:
        """True while the PIN is the shipped default (show a warning on screen)."""
        return self.pin == DEFAULT_PIN

    def delay_s(self, failures: int) -> float:
        """Wait imposed after ``failures`` consecutive wrong PINs."""
        if failures <= 0:
            return 0.0
        return float(min(self.policy.max_delay_s, self.policy.base_delay_s * 2 ** (failures - 1)))

    def wait_s(self) -> float:
        """Seconds before the next try is accepted (0 when a try may be made now)."""
        with _connect(self.db_path) as conn:
            return self._wait(conn, self.clock())[0]

    def _state(self, conn: sqlite3.Connection) -> tuple[int, float, float]:
        row = conn.execute("SELECT failures, last_failure, locked_until FROM pin_state WHERE scope = ?", (self.SCOPE,)).fetchone()
        return (int(row[0]), float(row[1]), float(row[2])) if row else (0, 0.0, 0.0)

    def _wait(self, conn: sqlite3.Connection, now: float) -> tuple[float, int]:
        failures, last, locked = self._state(conn)
        wait = max(locked - now, last + self.delay_s(failures) - now, 0.0)
        return wait, failures

    def try_unlock(self, attempt: str, session_id: str = "") -> PinResult:
        """Check a PIN attempt; the state and the audit entry are written in one transaction."""
        if self.default_in_force and not self.allow_default:
            with _connect(self.db_path) as conn:
                _audit(conn, "unlock_refused_default", None, session_id)
            return PinResult(False, "De begeleiders-PIN is nog de standaard ‘gezond’ en daarom uitgeschakeld. Stel een eigen PIN in "
                                    f"met de omgevingsvariabele {PIN_ENV_VAR} (voor een demo op eigen toestel: {DEMO_PIN_ENV_VAR}=1).")
        now = self.clock()
        with _connect(self.db_path) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                wait, failures = self._wait(conn, now)
                if wait > 0:
                    _audit(conn, "unlock_throttled", None, session_id, f"nog {wait:.0f} s")
                    conn.execute("COMMIT")
                    return PinResult(False, f"Te veel foute pogingen. Probeer opnieuw over {int(wait) + 1} seconden.", wait)
                if hmac.compare_digest(str(attempt or "").encode(), self.pin.encode()):
                    conn.execute("INSERT OR REPLACE INTO pin_state (scope, failures, last_failure, locked_until) VALUES (?, 0, 0, 0)", (self.SCOPE,))
                    _audit(conn, "unlock", None, session_id)
                    conn.execute("COMMIT")
                    return PinResult(True, "Ontgrendeld.")
                failures += 1
                locked = now + self.policy.lockout_s if failures >= self.policy.lockout_after else 0.0
                conn.execute("INSERT OR REPLACE INTO pin_state (scope, failures, last_failure, locked_until) VALUES (?, ?, ?, ?)",
                             (self.SCOPE, failures, now, locked))
                _audit(conn, "unlock_failed", None, session_id, f"poging {failures}")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        wait = max(locked - now, self.delay_s(failures))
        if locked:
            return PinResult(False, f"Verkeerde PIN. Na {failures} foute pogingen is de PIN {int(self.policy.lockout_s // 60)} minuten geblokkeerd.", wait)
        return PinResult(False, f"Verkeerde PIN. Volgende poging over {int(wait)} seconde(n).", wait)

    def lock(self, session_id: str = "", idle: bool = False) -> None:
        """Log that a session locked itself (lock button, or ``idle=True`` after :func:`is_idle`)."""
        log_action(self.db_path, "idle_lock" if idle else "lock", None, session_id)


def remarks_gdf(
    db_path: str | os.PathLike,
    area_name: str | None = None,
    wijk_code: str | None = None,
    include_hidden: bool = False,
) -> gpd.GeoDataFrame:
    """Remarks as points in EPSG:31370 (same filters as :func:`list_remarks`)."""
    df = list_remarks(db_path, area_name, wijk_code, include_hidden)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["x_31370"], df["y_31370"]), crs=CRS)


_csv_safe = csv_safe  # one defuser for every CSV export (gezondestad.layers.textsafe)


def export_remarks(
    db_path: str | os.PathLike,
    fmt: str,
    area_name: str | None = None,
    include_hidden: bool = False,
) -> bytes:
    """Remarks as a GeoPackage (layer ``opmerkingen``, EPSG:31370) or CSV (with lon/lat too).

    The CSV holds ``x_31370``/``y_31370`` and WGS84 ``lon``/``lat`` columns. Text cells that a
    spreadsheet would run as a formula (starting with ``= + - @``) get a leading apostrophe in the
    CSV only; the GeoPackage keeps the text verbatim.

    Raises
    ------
    ParticipationError
        On an unknown format.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in EXPORT_FORMATS:
        raise ParticipationError(
            f"Unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}.",
            f"Onbekend exportformaat {fmt!r}; kies GeoPackage of CSV.",
        )
    gdf = remarks_gdf(db_path, area_name=area_name, include_hidden=include_hidden)
    if fmt == "csv":
        ll = gdf.geometry.to_crs("EPSG:4326")
        df = pd.DataFrame(gdf.drop(columns="geometry"))
        df["lon"] = ll.x.round(7).to_numpy()
        df["lat"] = ll.y.round(7).to_numpy()
        for c in ("text", "moderation_note", "wijk_code", "area_name", "session_id"):
            df[c] = df[c].map(_csv_safe)
        return df.to_csv(index=False).encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "opmerkingen.gpkg"
        gdf = gdf.copy()
        gdf["hidden"] = gdf["hidden"].astype(bool)
        gdf.to_file(out, layer="opmerkingen", driver="GPKG")
        return out.read_bytes()


_JS_TEMPLATE_CHARS = {"`": "&#96;", "$": "&#36;", "\\": "&#92;"}


def escape_text(text: object) -> str:
    """Escape user text for HTML *and* for JavaScript template literals.

    :func:`html.escape` makes ``< > & " '`` harmless in HTML. Map libraries sometimes paste HTML
    into a JavaScript template literal (folium's popups do), where a backtick, ``${`` or a
    backslash would still be code; those become HTML entities too, which a browser shows as the
    same characters.
    """
    out = html.escape(str(text), quote=True)
    for ch, ent in _JS_TEMPLATE_CHARS.items():
        out = out.replace(ch, ent)
    return out


def remark_popup_html(category: str, text: str, created_at: str = "") -> str:
    """HTML for a remark's map popup, with every user-supplied part escaped (:func:`escape_text`).

    Nothing from a remark can run as HTML or script: ``<script>`` becomes ``&lt;script&gt;``.
    Newlines become ``<br>`` *after* escaping.
    """
    body = escape_text(text).replace("\n", "<br>")
    head = escape_text(category)
    when = escape_text(str(created_at)[:16].replace("T", " "))
    return (
        f'<div style="font-size:16px;max-width:280px"><b>{head}</b><br>{body}'
        + (f'<br><span style="color:#666;font-size:12px">{when}</span>' if when else "")
        + "</div>"
    )


__all__ = [
    "CATEGORIES",
    "MAX_TEXT_CHARS",
    "Bounds",
    "ParticipationError",
    "add_remark",
    "check_category",
    "clean_text",
    "count_remarks",
    "default_db_path",
    "escape_text",
    "export_remarks",
    "init_db",
    "list_remarks",
    "moderation_log",
    "remark_popup_html",
    "remarks_gdf",
    "set_hidden",
]
