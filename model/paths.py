"""Where runtime data lives: per-user folders, overridable by environment variables.

Nothing is written inside the installed package. ``GEZONDESTAD_HOME`` moves every runtime
folder at once; the finer variables (``GEZONDESTAD_DB``, ``GEZONDESTAD_CACHE``) win over it.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV_VAR = "GEZONDESTAD_HOME"


def user_data_dir() -> Path:
    """The per-user data folder: ``$GEZONDESTAD_HOME``, else ``$XDG_DATA_HOME/gezondestad``,
    else ``~/.local/share/gezondestad``."""
    env = os.environ.get(HOME_ENV_VAR, "").strip()
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "gezondestad"


def user_cache_dir() -> Path:
    """The per-user cache folder: ``$GEZONDESTAD_HOME/cache``, else ``$XDG_CACHE_HOME/gezondestad``,
    else ``~/.cache/gezondestad``."""
    env = os.environ.get(HOME_ENV_VAR, "").strip()
    if env:
        return Path(env) / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".cache") / "gezondestad"
