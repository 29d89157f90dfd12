"""Residents' sketched wishes ("hier een bank", "hier bomen"): a shape on the map with a category.

Stored in the participation database next to the remarks and the Place Standard rounds, with the
same guarantees (one short-lived connection per call, WAL, committed at once, text validated but
stored verbatim and escaped where shown, moderation hides and never deletes). Geometries are
kept as WKT in the study area's CRS.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from gezondestad.layers.participation import ParticipationError, _connect, clean_text, default_db_path

logger = logging.getLogger(__name__)

WISHES: tuple[str, ...] = (
    "hier een bank",
    "hier bomen",
    "hier speelruimte",
    "hier veilig oversteken",
    "hier minder verkeer",
    "hier een fietsverbinding",
    "andere",
)
"""What a resident can sketch (Dutch, shown as is)."""

MAX_VERTICES = 500
"""Most vertices accepted in one sketch (a resident's shape, not a survey): keeps the database small."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS wishes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    area_name   TEXT    NOT NULL,
    wijk_code   TEXT    NOT NULL DEFAULT '',
    wish        TEXT    NOT NULL,
    text        TEXT    NOT NULL DEFAULT '',
    wkt         TEXT    NOT NULL,
    crs         TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    session_id  TEXT    NOT NULL DEFAULT '',
    hidden      INTEGER NOT NULL DEFAULT 0 CHECK (hidden IN (0, 1))
)
"""


def _db(db_path: str | os.PathLike | None) -> Path:
    return Path(db_path) if db_path else default_db_path()


def add_wish(db_path: str | os.PathLike | None, area_name: str, wish: str, geometry: shapely.Geometry, crs: str,
             text: str = "", wijk_code: str = "", bounds: tuple[float, float, float, float] | None = None,
             session_id: str = "") -> int:
    """Validate and store one sketched wish at once; return its id.

    Raises
    ------
    ParticipationError
        Unknown wish, an empty/invalid/too detailed shape, a shape outside ``bounds``, text too long.
    """
    if wish not in WISHES:
        raise ParticipationError(f"Unknown wish {wish!r}.", "Kies wat je wenst uit de lijst.")
    if geometry is None or geometry.is_empty or not shapely.is_valid(geometry) or \
            geometry.geom_type not in ("Point", "LineString", "Polygon"):
        raise ParticipationError("Sketch must be one valid point, line or polygon.", "Teken één punt, lijn of vlak.")
    if shapely.get_num_coordinates(geometry) > MAX_VERTICES:
        raise ParticipationError("Sketch has too many vertices.", f"De tekening is te gedetailleerd (meer dan {MAX_VERTICES} punten).")
    if bounds is not None and not shapely.box(*bounds).intersects(geometry):
        raise ParticipationError("Sketch lies outside the study area.", "De tekening ligt buiten het gebied; teken in de wijk.")
    txt = clean_text(text) if text and text.strip() else ""
    with _connect(_db(db_path)) as conn:
        conn.execute(_SCHEMA)
        cur = conn.execute(
            "INSERT INTO wishes (area_name, wijk_code, wish, text, wkt, crs, created_at, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (area_name, str(wijk_code), wish, txt, shapely.to_wkt(geometry, rounding_precision=2), crs,
             datetime.now(timezone.utc).isoformat(timespec="seconds"), session_id),
        )
        wid = int(cur.lastrowid or 0)
    logger.info("wish %d stored (%s)", wid, wish)
    return wid


def wishes_gdf(db_path: str | os.PathLike | None, area_name: str | None = None, crs: str | None = None,
               include_hidden: bool = False) -> gpd.GeoDataFrame:
    """Stored wishes as a GeoDataFrame (in ``crs``, default the CRS they were stored in)."""
    q = "SELECT * FROM wishes WHERE 1=1"
    args: list[object] = []
    if area_name is not None:
        q += " AND area_name = ?"
        args.append(area_name)
    if not include_hidden:
        q += " AND hidden = 0"
    with _connect(_db(db_path)) as conn:
        conn.execute(_SCHEMA)
        df = pd.read_sql_query(q + " ORDER BY id", conn, params=args)
    src = df["crs"].iloc[0] if len(df) else (crs or "EPSG:31370")
    g = gpd.GeoDataFrame(df.drop(columns=["wkt"]), geometry=gpd.GeoSeries.from_wkt(df["wkt"]) if len(df) else gpd.GeoSeries([]), crs=src)
    return g.to_crs(crs) if crs and len(g) else g


def set_wish_hidden(db_path: str | os.PathLike | None, wish_id: int, hidden: bool) -> None:
    """Hide (or unhide) a wish; never deleted."""
    with _connect(_db(db_path)) as conn:
        conn.execute(_SCHEMA)
        if conn.execute("UPDATE wishes SET hidden = ? WHERE id = ?", (int(hidden), int(wish_id))).rowcount == 0:
            raise ParticipationError(f"No wish {wish_id}.", "Deze wens bestaat niet.")
