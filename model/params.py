"""Typed, frozen parameters per indicator family, read from ``data/norms`` and checked on load.

A family declares its parameters once, as a frozen dataclass whose fields name the norm they come
from and the unit they must carry::

    @dataclass(frozen=True)
    class GreenParams(Params):
        FAMILY: ClassVar[str] = "green"
        who_distance_m: float = norm("who_distance_m", "m", min_value=0)

``GreenParams.from_norms(norms_dir)`` then reads ``<norms_dir>/green.toml`` and checks that every
key is present, carries the expected unit, converts to the declared kind and lies in range; any
problem raises :class:`~gezondestad.model.norms.NormError` with a Dutch message naming the file
and the key. The object is passed to the indicator functions instead of ``norms_dir`` plus string
look-ups, so a custom norms folder applies everywhere, and :meth:`Params.norms_used` lists exactly
the ``(family, key)`` pairs a run used (the report prints those with their sources).

Field helpers
-------------
:func:`norm`
    A value from a TOML entry (``kind`` converts it: ``float``, ``int``, ``str``, ``bool``,
    :func:`floats`, :func:`ints`, :func:`strs`, :func:`pairs`).
:func:`table`
    A coefficient table ``<norms_dir>/<name>.csv`` (:func:`~gezondestad.model.norms.load_table`).
:func:`nested`
    The parameters of another family read from the same folder (e.g. green inside network).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd
from gezondestad.model.norms import NORMS_DIR, Norm, NormError, load_norms, load_table

logger = logging.getLogger(__name__)

_NORM = "gezondestad.norm"
_TABLE = "gezondestad.table"
_NESTED = "gezondestad.nested"

P = TypeVar("P", bound="Params")


# --------------------------------------------------------------------------------------------
# converters (``kind``): each takes the raw TOML value and returns a hashable Python value
# --------------------------------------------------------------------------------------------


def floats(v: Any) -> tuple[float, ...]:
    """A list of numbers as a tuple of float."""
    return tuple(float(x) for x in _as_list(v))


def ints(v: Any) -> tuple[int, ...]:
    """A list of integers as a tuple of int."""
    return tuple(_as_int(x) for x in _as_list(v))


def strs(v: Any) -> tuple[str, ...]:
    """A list of text values as a tuple of str."""
    return tuple(str(x) for x in _as_list(v))


def pairs(v: Any) -> tuple[tuple[str, Any], ...]:
    """A TOML table (``{key = value}``) as a tuple of ``(key, value)`` pairs; ``dict(p)`` gives it back."""
    if not isinstance(v, dict):
        raise TypeError("not a table")
    return tuple((str(k), tuple(x) if isinstance(x, list) else x) for k, x in v.items())


def _as_list(v: Any) -> list[Any]:
    if isinstance(v, (str, bytes, dict)) or not isinstance(v, Iterable):
        raise TypeError("not a list")
    return list(v)


def _as_int(v: Any) -> int:
    if isinstance(v, bool) or float(v) != int(float(v)):
        raise ValueError("not a whole number")
    return int(float(v))


def _as_bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("not true/false")
    return v


_KIND_NL: dict[Any, str] = {
    float: "getal",
    int: "geheel getal",
    str: "tekst",
    bool: "waar/onwaar (true/false)",
    floats: "lijst van getallen",
    ints: "lijst van gehele getallen",
    strs: "lijst van teksten",
    pairs: "tabel (sleutel = waarde)",
}
_CONVERT: dict[Any, Callable[[Any], Any]] = {int: _as_int, bool: _as_bool}


# --------------------------------------------------------------------------------------------
# field declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormSpec:
    """How one parameter field is read from a norm file.

    Attributes
    ----------
    key : str
        Entry in ``<family>.toml``.
    unit : str or None
        Expected ``unit`` of the entry (exact text); None skips the check.
    kind : callable
        Converter of the raw value (``float``, ``int``, ``str``, ``bool``, :func:`floats`, ...).
    min_value, max_value : float or None
        Allowed range (inclusive) of the number, or of every number in a list or table.
    family : str or None
        Norm file stem when it differs from the class's ``FAMILY``.
    """

    key: str
    unit: str | None = None
    kind: Callable[[Any], Any] = float
    min_value: float | None = None
    max_value: float | None = None
    family: str | None = None


def norm(
    key: str,
    unit: str | None = None,
    *,
    kind: Callable[[Any], Any] = float,
    min_value: float | None = None,
    max_value: float | None = None,
    family: str | None = None,
) -> Any:
    """A dataclass field filled from the norm ``key`` (see :class:`NormSpec`)."""
    return field(metadata={_NORM: NormSpec(key, unit, kind, min_value, max_value, family)})


def table(name: str, columns: tuple[str, ...] = ()) -> Any:
    """A dataclass field holding the coefficient table ``<norms_dir>/<name>.csv`` (must have ``columns``)."""
    return field(metadata={_TABLE: (name, tuple(columns))}, repr=False, compare=False)


def nested(cls: type[Params]) -> Any:
    """A dataclass field holding ``cls.from_norms(norms_dir)`` (the parameters of another family)."""
    return field(metadata={_NESTED: cls})


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def _file(family: str, norms_dir: str | Path | None) -> str:
    return str(Path(norms_dir or NORMS_DIR) / f"{family}.toml")


def _numbers(v: Any) -> list[float]:
    if isinstance(v, bool) or v is None:
        return []
    if isinstance(v, (int, float)):
        return [float(v)]
    if isinstance(v, tuple):
        out: list[float] = []
        for x in v:
            out.extend(_numbers(x[1] if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) else x))
        return out
    return []


def _convert(spec: NormSpec, raw: Any, where: str) -> Any:
    """``raw`` converted by ``spec.kind`` and range-checked; NormError (Dutch) naming ``where``."""
    conv = _CONVERT.get(spec.kind, spec.kind)
    try:
        value = conv(raw)
    except (TypeError, ValueError) as exc:
        raise NormError(f"{where}: de waarde {raw!r} is geen {_KIND_NL.get(spec.kind, 'geldige waarde')}; pas ze aan.") from exc
    for x in _numbers(value):
        if math.isnan(x) or (spec.min_value is not None and x < spec.min_value) or (spec.max_value is not None and x > spec.max_value):
            lo = "-∞" if spec.min_value is None else f"{spec.min_value:g}"
            hi = "∞" if spec.max_value is None else f"{spec.max_value:g}"
            raise NormError(f"{where}: de waarde {x:g} ligt buiten het toegelaten bereik [{lo}, {hi}]; pas ze aan.")
    return value


def _from_norm(spec: NormSpec, family: str, norms: dict[str, Norm], norms_dir: str | Path | None) -> Any:
    f = _file(family, norms_dir)
    if spec.key not in norms:
        raise NormError(f"{f}: de norm '{spec.key}' ontbreekt; voeg ze toe (zie de meegeleverde data/norms/{family}.toml).")
    n = norms[spec.key]
    if spec.unit is not None and n.unit != spec.unit:
        raise NormError(f"{f}: de norm '{spec.key}' heeft eenheid '{n.unit}', verwacht '{spec.unit}'; zet de waarde om en pas de eenheid aan.")
    return _convert(spec, n.value, f"{f}, norm '{spec.key}'")


def _check_table(df: pd.DataFrame, name: str, columns: tuple[str, ...], where: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise NormError(f"{where}: de tabel '{name}' moet een tabel (DataFrame) zijn.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise NormError(f"{where}: de tabel '{name}' mist de kolom(men) {', '.join(missing)}.")
    return df


# --------------------------------------------------------------------------------------------
# the base class
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Base of every family's parameters (a frozen dataclass; see the module docstring).

    Attributes
    ----------
    FAMILY : str (class variable)
        Default norm file stem of the fields.
    norms_dir : str or None
        The folder the norms were read from (None: the shipped ``data/norms``); kept so that
        functions still taking ``norms_dir`` read from the same folder.
    """

    FAMILY: ClassVar[str] = ""
    norms_dir: str | None = field(default=None, kw_only=True)

    @classmethod
    def from_norms(cls: type[P], norms_dir: str | Path | None = None, **overrides: Any) -> P:
        """Read and check every field from ``norms_dir`` (default ``data/norms``); ``overrides`` win.

        Overrides are checked like the file values (kind and range); an unknown name raises
        :class:`NormError`.
        """
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "norms_dir"}
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise NormError(f"Onbekende parameter(s) {', '.join(unknown)} voor {cls.__name__}; gekend: {', '.join(sorted(fields))}.")
        loaded: dict[str, dict[str, Norm]] = {}
        vals: dict[str, Any] = {}
        for name, f in fields.items():
            vals[name] = cls._field_value(f, overrides, loaded, norms_dir)
        logger.debug("%s read from %s", cls.__name__, norms_dir or NORMS_DIR)
        return cls(**vals, norms_dir=None if norms_dir is None else str(norms_dir))

    @classmethod
    def _field_value(cls, f: dataclasses.Field[Any], overrides: dict[str, Any], loaded: dict[str, dict[str, Norm]], norms_dir: str | Path | None) -> Any:
        if _NORM in f.metadata:
            spec: NormSpec = f.metadata[_NORM]
            family = spec.family or cls.FAMILY
            if f.name in overrides:
                return _convert(spec, overrides[f.name], f"{cls.__name__}.{f.name}")
            if family not in loaded:
                loaded[family] = load_norms(family, norms_dir)
            return _from_norm(spec, family, loaded[family], norms_dir)
        if _TABLE in f.metadata:
            name, columns = f.metadata[_TABLE]
            df = overrides[f.name] if f.name in overrides else load_table(name, norms_dir)
            return _check_table(df, name, columns, str(Path(norms_dir or NORMS_DIR) / f"{name}.csv"))
        if _NESTED in f.metadata:
            sub = overrides.get(f.name)
            return sub if sub is not None else f.metadata[_NESTED].from_norms(norms_dir)
        if f.name in overrides:
            return overrides[f.name]
        if f.default is not dataclasses.MISSING:
            return f.default
        if callable(f.default_factory):
            return f.default_factory()
        raise NormError(f"{cls.__name__}.{f.name} komt niet uit een normbestand; geef het mee als parameter.")

    def norms_used(self) -> list[tuple[str, str]]:
        """The ``(family, key)`` of every norm these parameters hold, nested families included, in order."""
        out: list[tuple[str, str]] = []
        for f in dataclasses.fields(self):
            if _NORM in f.metadata:
                spec: NormSpec = f.metadata[_NORM]
                out.append((spec.family or self.FAMILY, spec.key))
            elif _NESTED in f.metadata:
                out.extend(getattr(self, f.name).norms_used())
        return list(dict.fromkeys(out))

    def tables_used(self) -> list[str]:
        """Names of the coefficient tables (``<name>.csv``) these parameters hold."""
        out: list[str] = []
        for f in dataclasses.fields(self):
            if _TABLE in f.metadata:
                out.append(f.metadata[_TABLE][0])
            elif _NESTED in f.metadata:
                out.extend(getattr(self, f.name).tables_used())
        return list(dict.fromkeys(out))


def norms_used_table(used: Iterable[tuple[str, str]], norms_dir: str | Path | None = None) -> pd.DataFrame:
    """The norms ``used`` as a table (family, key, value, unit, source, note) for a report."""
    rows = []
    cache: dict[str, dict[str, Norm]] = {}
    for family, key in dict.fromkeys(used):
        if family not in cache:
            cache[family] = load_norms(family, norms_dir)
        n = cache[family].get(key)
        if n is None:
            raise NormError(f"{_file(family, norms_dir)}: de norm '{key}' ontbreekt.")
        rows.append({"family": family, "key": key, "value": n.value, "unit": n.unit, "source": n.source, "note": n.note})
    return pd.DataFrame(rows, columns=["family", "key", "value", "unit", "source", "note"])
