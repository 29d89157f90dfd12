"""What every CLI subcommand shares: its error, catalogue-driven tables, notes, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import pandas as pd
from gezondestad.model.catalogue import by_family
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_value
from gezondestad.model.progress import TqdmProgress

ID_COLUMNS: tuple[str, ...] = ("wijk_code", "wijk_naam")


class CliError(GezondeStadError):
    """Bad command-line input (an option value that cannot be used); the message says what to give."""


def family_columns(per_wijk: pd.DataFrame, family: str) -> list[str]:
    """``wijk_code``, ``wijk_naam`` and the catalogue indicators of ``family`` present in ``per_wijk``."""
    keys = [ind.key for ind in by_family(family) if ind.key in per_wijk.columns]
    return [c for c in ID_COLUMNS if c in per_wijk.columns] + keys


def print_wijk_table(per_wijk: pd.DataFrame, family: str, extra: Iterable[str] = ()) -> None:
    """Print the family's catalogue indicators per wijk, formatted in Dutch (decimal comma, "–")."""
    ids = [c for c in ID_COLUMNS if c in per_wijk.columns]
    keys = family_columns(per_wijk, family)[len(ids):]
    cols = ids + [c for c in extra if c in per_wijk.columns and c not in keys] + keys
    units = {ind.key: ind.unit for ind in by_family(family)}
    out = pd.DataFrame(index=per_wijk.index)
    for c in cols:
        if c in units:
            out[c] = [fmt_value(v, units[c]) for v in per_wijk[c]]
        elif c == "residents":
            out[c] = [fmt_value(v, "") for v in per_wijk[c]]
        else:
            out[c] = per_wijk[c].astype("object").fillna("–").astype(str)
    print(out.to_string(index=False))


def print_notes(notes: Iterable[str]) -> None:
    """Print data-quality notes, one per line, after ``Opmerking:``."""
    for n in dict.fromkeys(notes):
        if n:
            print(f"Opmerking: {n}")


def progress_bar(desc: str) -> TqdmProgress:
    """The CLI's progress bar (tqdm on stderr) for a library ``progress=`` argument."""
    return TqdmProgress(desc, file=sys.stderr)
