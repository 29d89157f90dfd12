"""Which study areas the app knows, and which one was chosen last (for evening mode opened by URL).

A projector or kiosk opens ``?modus=avond`` in a fresh browser session, which has no study area
chosen yet. This module lets it find the area meant: one named in the URL (``&gebied=<naam>``,
the area's own name or its folder name) among the areas prepared in the app's cache and the ones
used recently, or else the one chosen last on this server (loaded or prepared in the sidebar, or the area of an
evening started in the app). The list of recently chosen folders is a
small JSON file next to the cached areas (``GEZONDESTAD_CACHE`` or the per-user cache).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from gezondestad.layers.studyarea import is_study_area_dir

logger = logging.getLogger(__name__)

RECENT_FILE = "recent_areas.json"
"""Name of the file, in the areas cache folder, listing the folders used last (newest first)."""
MAX_RECENT = 10


def _recent_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / RECENT_FILE


def recent_areas(cache_dir: Path) -> list[str]:
    """Folders of study areas used recently on this server, newest first (only those still there)."""
    try:
        data = json.loads(_recent_path(cache_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    folders = data.get("recent") if isinstance(data, dict) else None
    if not isinstance(folders, list):
        return []
    return [f for f in folders if isinstance(f, str) and is_study_area_dir(f)]


def remember_area(cache_dir: Path, folder: str) -> None:
    """Put ``folder`` first in the list of recently used areas (written only when it changes).

    A failure to write (read-only disk) is logged, never shown: evening mode then falls back
    to the demo with a note.
    """
    folder = str(folder)
    recent = recent_areas(cache_dir)
    if recent[:1] == [folder]:
        return
    new = [folder] + [f for f in recent if f != folder][: MAX_RECENT - 1]
    p = _recent_path(cache_dir)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"recent": new}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, p)
    except OSError as exc:
        logger.warning("could not remember the last study area in %s: %s", p, exc)
        tmp.unlink(missing_ok=True)


def area_name(folder: str | Path) -> str:
    """The study area's own name from its manifest ("" when unreadable)."""
    try:
        m = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    name = m.get("name") if isinstance(m, dict) else None
    return name if isinstance(name, str) else ""


def known_areas(cache_dir: Path, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Folders the app knows: recently used ones (newest first), then the areas prepared in the
    cache (newest first), then ``extra`` (e.g. the demo); each once."""
    cache_dir = Path(cache_dir)
    try:
        cached = [p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and is_study_area_dir(p)]
    except OSError:
        cached = []
    cached.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    out: list[str] = []
    for f in [*recent_areas(cache_dir), *(str(p) for p in cached), *(str(e) for e in extra)]:
        if f not in out:
            out.append(f)
    return out


def find_area(name: str, cache_dir: Path, extra: list[str] | tuple[str, ...] = ()) -> str | None:
    """The folder of the known study area called ``name`` (its own name or its folder name,
    case and surrounding spaces ignored); the most recently used one on a tie; None when unknown.

    Only areas the app knows are searched: a URL cannot point the app at any folder on the server.
    """
    want = name.strip().casefold()
    if not want:
        return None
    for folder in known_areas(cache_dir, extra):
        if Path(folder).name.casefold() == want or area_name(folder).strip().casefold() == want:
            return folder
    return None


__all__ = ["MAX_RECENT", "RECENT_FILE", "area_name", "find_area", "known_areas", "recent_areas", "remember_area"]
