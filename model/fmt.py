"""One Dutch (nl-BE) formatter for every number, share, date and missing value a user sees.

App, report, checklist, exports meant for reading and the CLI all format through this module,
so one value reads the same everywhere: decimal comma, a space as thousands separator, shares as
percent, missing values as "–", data that could not be judged as "onbekend", times in
Europe/Brussels.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
MISSING = "–"
"""Shown for a value that does not exist (no residents, nothing to compare)."""
UNKNOWN = "onbekend"
"""Shown for a value that could not be computed because the data it rests on is missing."""
THIN_SPACE = "\u202f"
_NO_UNIT = ("score", "index", "")
_COUNT_UNITS = ("aantal",)
"""Units of a count: shown as a whole number without the unit ("4", not "4,00 aantal")."""


def as_number(v: Any) -> float | None:
    """``v`` as a finite float, or None (None, NaN, inf, text that is not a number)."""
    if isinstance(v, bool):
        return float(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def fmt_number(v: Any, decimals: int = 0, missing: str = MISSING) -> str:
    """``1234.5`` → ``"1 234,5"`` (decimals as asked, space between thousands)."""
    f = as_number(v)
    if f is None:
        return missing
    s = f"{f:,.{decimals}f}"
    return s.replace(",", " ").replace(".", ",")


def _decimals(f: float) -> int:
    return 0 if abs(f) >= 100 else 2


def fmt_value(v: Any, unit: str, missing: str = MISSING) -> str:
    """An indicator value with its unit, in Dutch.

    ``unit == "%"`` means a share 0..1 shown as percent with one decimal; ``"ja/nee"`` a flag;
    ``"score"`` and ``"index"`` are shown without unit; other units follow the number.
    """
    f = as_number(v)
    if f is None:
        return missing
    if unit == "%":
        return fmt_number(100 * f, 1) + " %"
    if unit == "ja/nee":
        return "ja" if f >= 0.5 else "nee"
    if unit in _COUNT_UNITS:
        return fmt_number(f, 0 if f == round(f) else 1)
    if unit == "/100":  # a 0-100 score: one decimal, read as "97,8/100"
        return fmt_number(f, 1) + "/100"
    s = fmt_number(f, _decimals(f))
    return s if unit in _NO_UNIT else f"{s} {unit}"


def fmt_delta(v: Any, unit: str, missing: str = MISSING) -> str:
    """A difference with its sign (``+1,5 %-punt``, ``−0,20 °C``, ``±0,00``)."""
    f = as_number(v)
    if f is None:
        return missing
    sign = "+" if f > 0 else ("−" if f < 0 else "±")
    if unit == "%":
        return f"{sign}{fmt_number(abs(100 * f), 1)} %-punt"
    if unit == "ja/nee":
        return "gewijzigd" if f != 0 else "gelijk"
    if unit in _COUNT_UNITS:
        return f"{sign}{fmt_number(abs(f), 0 if f == round(f) else 1)}"
    if unit == "/100":
        return f"{sign}{fmt_number(abs(f), 1)} punt"
    s = f"{sign}{fmt_number(abs(f), 2)}"
    return s if unit in _NO_UNIT else f"{s} {unit}"


def fmt_people(v: Any, missing: str = MISSING) -> str:
    """A count of people or things: ``12 889``."""
    return fmt_number(v, 0, missing)


UNIT_NL: dict[str, str] = {
    "degC": "°C",
    "heat index (0-1)": "hitte-index (0-1)",
    "weight": "gewicht",
    "ratio": "verhouding",
    "share of wijk area": "aandeel van de wijkoppervlakte",
    "quantile of the city's cells": "kwantiel van de cellen van de stad",
    "land-cover codes": "bodembedekkingscodes",
    "motor vehicles per day (both directions, annual average)": "motorvoertuigen per etmaal (beide richtingen, jaargemiddelde)",
    "µg/m³ (annual mean)": "µg/m³ (jaargemiddelde)",
    "pois.category values and building use values (also of plan buildings)": "soorten voorzieningen en gebouwfuncties",
    "residents": "inwoners",
    "text": "",
}
"""Dutch reading of the (English) units in ``data/norms`` in the report's norms table and the app; a unit not
listed here is shown as written (SI units, dB, km/h read the same in Dutch)."""


def _norm_number(v: float) -> str:
    if float(v).is_integer():
        return fmt_number(v, 0)
    decimals = len(f"{float(v):.4f}".rstrip("0").split(".")[1])
    return fmt_number(v, decimals)


def norm_value_nl(v: Any, family: str = "") -> str:
    """A norm's value as a reader of the report or the app sees it: Dutch numbers, lists joined, tables named."""
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, (int, float)):
        return _norm_number(v)
    if isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return "; ".join(_norm_number(x) for x in v)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return ", ".join(v)
    if isinstance(v, (dict, list)):
        where = f" (zie data/norms/{family}.toml)" if family else ""
        return f"tabel met {fmt_people(len(v))} waarden{where}"
    return str(v)


def fmt_datetime(v: Any, with_seconds: bool = False, missing: str = MISSING) -> str:
    """A moment in Brussels time, ``30-11-2026 20:34``; naive values are taken as UTC."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return missing
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return missing
    if hasattr(v, "to_pydatetime"):
        v = v.to_pydatetime()
    if not isinstance(v, datetime):
        return missing
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return v.astimezone(BRUSSELS).strftime("%d-%m-%Y %H:%M:%S" if with_seconds else "%d-%m-%Y %H:%M")
