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

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from gezondestad.model.errors import GezondeStadError

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


def _parse(family: str, raw: dict[str, Any]) -> dict[str, Norm]:
    out: dict[str, Norm] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise NormError(f"data/norms/{family}.toml: entry '{key}' needs 'value' and 'source'.")
        out[key] = Norm(key, entry["value"], str(entry.get("unit", "")), str(entry["source"]), str(entry.get("note", "")))
    return out


@lru_cache(maxsize=None)
def _load_cached(path: str) -> dict[str, Norm]:
    p = Path(path)
    with p.open("rb") as f:
        return _parse(p.stem, tomllib.load(f))


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
        raise NormError(f"No norm file {p}.")
    return dict(_load_cached(str(p)))


def norm_value(family: str, key: str, norms_dir: str | Path | None = None) -> Any:
    """The ``value`` of one norm; raises :class:`NormError` naming the file when absent."""
    norms = load_norms(family, norms_dir)
    if key not in norms:
        raise NormError(f"data/norms/{family}.toml has no entry '{key}'.")
    return norms[key].value


def load_table(name: str, norms_dir: str | Path | None = None) -> pd.DataFrame:
    """Read a coefficient table ``<norms_dir>/<name>.csv`` (must carry a ``source`` column)."""
    p = Path(norms_dir or NORMS_DIR) / f"{name}.csv"
    if not p.is_file():
        raise NormError(f"No norm table {p}.")
    df = pd.read_csv(p, comment="#")
    if "source" not in df.columns:
        raise NormError(f"{p}: a norm table needs a 'source' column.")
    return df


def norms_table(norms_dir: str | Path | None = None) -> pd.DataFrame:
    """All norms of all families as one table (family, key, value, unit, source, note) for reports."""
    d = Path(norms_dir or NORMS_DIR)
    rows = []
    for p in sorted(d.glob("*.toml")):
        for n in load_norms(p.stem, d).values():
            rows.append({"family": p.stem, "key": n.key, "value": n.value, "unit": n.unit, "source": n.source, "note": n.note})
    return pd.DataFrame(rows, columns=["family", "key", "value", "unit", "source", "note"])
