"""Text from map data and users made safe for where it is shown: spreadsheets and Markdown.

Names of wijken, parks, streets and stops come from OpenStreetMap or city files that anyone may
have edited; remarks come from residents. Two places would run or fetch something from such text:

* a **spreadsheet** opening a CSV export runs a cell starting with ``=``, ``+``, ``-`` or ``@``
  (and tab / carriage return) as a formula (OWASP "CSV injection"): :func:`csv_safe` and
  :func:`defuse_formulas` put an apostrophe in front, which spreadsheets show but do not run
  (a cell that is only a signed number, ``-0,5`` or ``+3``, runs nothing and stays as it is);
* **Markdown** (Streamlit's ``st.markdown``, captions, tables) turns ``![x](https://…)`` into an
  image every visitor's browser fetches, ``[x](javascript:…)`` into a link, ``:red[…]`` and
  ``$…$`` into styling and formulas: :func:`escape_markdown` backslash-escapes every Markdown
  punctuation character and folds newlines, so the text shows literally.

HTML escaping (map popups, reports) is :func:`gezondestad.layers.participation.escape_text`.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula."""

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)
"""A signed number written as text (``-0,5``, ``+3``, ``-1.2e-3``): nothing a spreadsheet could run."""

_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~:$&=^\"'%")


def csv_safe(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula; else unchanged.

    Numbers, and text that is only a signed number (``"-0,5"``), are left as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def defuse_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells are :func:`csv_safe` (numbers, booleans and missing values untouched).

    Text columns are found by their values, not by ``dtype == object`` only: pandas 3 stores text
    as ``str`` dtype.
    """
    out = df.copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        if not s.map(lambda v: csv_safe(v) is not v).any():
            continue
        out[c] = s.astype("object").map(csv_safe)
    return out


def escape_markdown(text: object) -> str:
    """``text`` for Markdown, shown literally: every Markdown punctuation character backslash-escaped, newlines folded.

    ``None`` gives ``""``. Use it for every name or remark placed in ``st.markdown``, ``st.caption``,
    ``st.info`` and the like (independent of :mod:`gezondestad.model.fmt`).
    """
    if text is None:
        return ""
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


__all__ = ["FORMULA_START", "csv_safe", "defuse_formulas", "escape_markdown"]
