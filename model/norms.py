"""Every threshold, weight and coefficient of the project, with its source, read from ``data/norms``.

Norms live in TOML files, one per indicator family (``data/norms/<family>.toml``). Each entry is
a table with at least ``value`` and ``source``::

    [who_green_distance_m]
    value = 300
    unit = "m"
    source = "WHO Regional Office for Europe (2016). Urban green spaces and health, p. 4"

Code never hard-codes such a number: it reads it here, and the report prints the source next to
it, so a planner can defend every figure. Tables of coefficients (e.g. per land-cover class)
are CSV files in the same folder with a ``source`` column.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from gezondestad.model.errors import GezondeStadError

logger = logging.getLogger(__name__)

NORMS_DIR = Path(__file__).resolve().parent.parent / "data" / "norms"
"""Folder with the shipped norm files."""


class NormError(GezondeStadError):
    """A norm file or entry is missing or malformed."""


@dataclass(frozen=True)
class Norm:
    """One cited number.

    Attributes
    ----------
    key : str
        Name of the norm inside its family (``who_green_distance_m``).
    value : Any
        The number (or list/str) itself.
    unit : str
        Unit, empty when dimensionless.
    source : str
        Citation a planner can look up.
    note : str
        Why this value, or how it was adapted.
    """

    key: str
    value: Any
    unit: str
    source: str
    note: str = ""


def _parse(path: str, raw: dict[str, Any]) -> dict[str, Norm]:
    out: dict[str, Norm] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise NormError(f"{path}: de norm '{key}' heeft een 'value' en een 'source' nodig; vul ze aan.")
        out[key] = Norm(key, entry["value"], str(entry.get("unit", "")), str(entry["source"]), str(entry.get("note", "")))
    return out


@lru_cache(maxsize=None)
def _load_cached(path: str, mtime_ns: int) -> dict[str, Norm]:
    """Parsed norms of ``path``; ``mtime_ns`` is part of the key so an edited file is read again."""
    p = Path(path)
    logger.debug("reading norms %s", p)
    with p.open("rb") as f:
        try:
            raw = tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise NormError(f"{p}: geen geldig TOML-bestand ({exc}); verbeter de opmaak.") from exc
    return _parse(str(p), raw)


def load_norms(family: str, norms_dir: str | Path | None = None) -> dict[str, Norm]:
    """Read ``<norms_dir>/<family>.toml`` into a dict of :class:`Norm`.

    Parameters
    ----------
    family : str
        File stem, e.g. ``"green"``, ``"lts"``, ``"stop"``, ``"accessibility"``.
    norms_dir : path, optional
        Folder to read from; defaults to the shipped ``data/norms``.
    """
    p = Path(norms_dir or NORMS_DIR) / f"{family}.toml"
    if not p.is_file():
        raise NormError(f"Normbestand {p} niet gevonden; kopieer het uit de meegeleverde data/norms of kies een andere normenmap.")
    return dict(_load_cached(str(p), p.stat().st_mtime_ns))


def norm_value(family: str, key: str, norms_dir: str | Path | None = None) -> Any:
    """The ``value`` of one norm; raises :class:`NormError` naming the file when absent."""
    norms = load_norms(family, norms_dir)
    if key not in norms:
        raise NormError(f"{Path(norms_dir or NORMS_DIR) / (family + '.toml')}: de norm '{key}' ontbreekt; voeg ze toe.")
    return norms[key].value


def load_table(name: str, norms_dir: str | Path | None = None) -> pd.DataFrame:
    """Read a coefficient table ``<norms_dir>/<name>.csv`` (must carry a ``source`` column)."""
    p = Path(norms_dir or NORMS_DIR) / f"{name}.csv"
    if not p.is_file():
        raise NormError(f"Normtabel {p} niet gevonden; kopieer ze uit de meegeleverde data/norms.")
    df = pd.read_csv(p, comment="#")
    if "source" not in df.columns:
        raise NormError(f"{p}: een normtabel heeft een kolom 'source' (bron) nodig; voeg ze toe.")
    return df


def norms_table(norms_dir: str | Path | None = None) -> pd.DataFrame:
    """All norms of all families as one table (family, key, value, unit, source, note) for reports."""
    d = Path(norms_dir or NORMS_DIR)
    rows = []
    for p in sorted(d.glob("*.toml")):
        for n in load_norms(p.stem, d).values():
            rows.append({"family": p.stem, "key": n.key, "value": n.value, "unit": n.unit, "source": n.source, "note": n.note})
    return pd.DataFrame(rows, columns=["family", "key", "value", "unit", "source", "note"])
