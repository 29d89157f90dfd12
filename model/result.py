"""One result shape for every indicator family.

Each family computes its own rich result (``NetworkIndicators``, ``AccessibilityResult``,
``HeatResult``, ``WaterResult``, ...). :class:`FamilyResult` is the common view that the
screening, the report, the app and the exports read: values per home, per street segment, per
raster cell (with the grid), per wijk, the data-quality notes and exactly the norms the run used.

:func:`family_result` converts any of the existing results (by duck typing: this module is on
the model floor and imports nothing above it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.norms import load_norms
from gezondestad.model.params import norms_used_table
from gezondestad.model.studyarea import LandCover


class ResultError(GezondeStadError):
    """A family result that cannot be converted to :class:`FamilyResult`."""


@dataclass(frozen=True)
class FamilyResult:
    """What one indicator family computed, in one shape.

    Attributes
    ----------
    family : str
        Catalogue family (``network``, ``accessibility``, ``heat``, ``water``, ...).
    per_wijk : DataFrame
        One row per wijk (or zone) with ``wijk_code`` and the catalogue's per-wijk columns.
    homes : DataFrame or None
        One row per home (``home_id``, ``wijk_code``, ``residents``, per-home values).
    segments : GeoDataFrame or None
        One row per street segment with ``length_m`` and geometry.
    cells : mapping of str to ndarray
        Named rasters on ``grid`` (empty for vector families).
    grid : LandCover or None
        The raster grid of ``cells``.
    notes : tuple of str
        Data-quality remarks in Dutch (missing or partial themes, assumptions).
    norms_used : tuple of (family, key)
        Exactly the norms of ``data/norms`` that the run read (for the report's norm list).
    layers : mapping of str to DataFrame
        Further family-specific layers (``unserved``, ``green_spaces``, ``missing_links``).
    raw : object
        The family's own result object (not compared, not hashed).
    """

    family: str
    per_wijk: pd.DataFrame = field(compare=False)
    homes: pd.DataFrame | None = field(default=None, compare=False)
    segments: pd.DataFrame | None = field(default=None, compare=False)
    cells: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    grid: LandCover | None = field(default=None, compare=False)
    notes: tuple[str, ...] = ()
    norms_used: tuple[tuple[str, str], ...] = ()
    layers: Mapping[str, pd.DataFrame] = field(default_factory=lambda: MappingProxyType({}), compare=False)
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # read-only views: a cached result shared between sessions cannot be changed by one of them
        object.__setattr__(self, "cells", MappingProxyType(dict(self.cells)))
        object.__setattr__(self, "layers", MappingProxyType(dict(self.layers)))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "norms_used", tuple(tuple(x) for x in self.norms_used))

    def norms_table(self, norms_dir: str | None = None) -> pd.DataFrame:
        """:attr:`norms_used` with value, unit, source and note (for the report)."""
        return norms_used_table(self.norms_used, norms_dir if norms_dir is not None else _norms_dir_of(self.raw))


P = TypeVar("P")


@dataclass
class RasterFileResult(Generic[P]):
    """Output of a raster family streamed to a GeoTIFF (``heat_to_geotiff``, ``water_to_geotiff``).

    The per-wijk table is held; the rasters are the bands of the GeoTIFF ``path``, named by the
    subclass's :attr:`BANDS`.

    Attributes
    ----------
    path : Path
        The GeoTIFF.
    per_wijk : DataFrame
        As the family's in-memory result's ``per_wijk``.
    params : P
        The family's parameters.
    shape : (rows, cols)
    resolution_m : float
    notes : list of str
        Data-quality remarks in Dutch.
    """

    BANDS: ClassVar[tuple[str, ...]] = ()

    path: Path
    per_wijk: pd.DataFrame
    params: P
    shape: tuple[int, int]
    resolution_m: float
    notes: list[str] = field(default_factory=list)

    def bands(self) -> tuple[str, ...]:
        """Band names of the GeoTIFF, in order."""
        return self.BANDS


# --------------------------------------------------------------------------------------------
# conversions of the existing family results
# --------------------------------------------------------------------------------------------


def _norms_dir_of(raw: Any) -> str | None:
    params = getattr(raw, "params", None)
    return getattr(params, "norms_dir", None)


def norms_used_of(params: Any, family: str) -> tuple[tuple[str, str], ...]:
    """The ``(family, key)`` norms of a parameter object.

    A :class:`~gezondestad.model.params.Params` lists them itself; for an older parameter
    dataclass (e.g. ``HeatParams``), its field names that are keys of ``<family>.toml``.
    """
    if params is None:
        return ()
    if hasattr(params, "norms_used"):
        return tuple(params.norms_used())
    if dataclasses.is_dataclass(params):
        keys = load_norms(family, getattr(params, "norms_dir", None))
        return tuple((family, f.name) for f in dataclasses.fields(params) if f.name in keys)
    return ()


def _with_length(seg: pd.DataFrame | None) -> pd.DataFrame | None:
    if seg is None or "length_m" in seg.columns or "geometry" not in seg.columns:
        return seg
    seg = seg.copy()
    seg["length_m"] = seg.geometry.length.to_numpy(dtype=float)
    return seg


def _network(res: Any) -> FamilyResult:
    return FamilyResult(
        "network", res.per_wijk, homes=res.homes, segments=_with_length(res.segments), notes=tuple(res.notes),
        norms_used=norms_used_of(getattr(res, "params", None), "network"),
        layers={"unserved": res.unserved, "green_spaces": res.green_spaces}, raw=res,
    )


def _accessibility(res: Any) -> FamilyResult:
    return FamilyResult(
        "accessibility", res.per_wijk, homes=res.homes, segments=_with_length(res.segments), notes=tuple(getattr(res, "notes", ())),
        norms_used=norms_used_of(getattr(res, "params", None), "accessibility"),
        layers={"missing_links": res.missing_links}, raw=res,
    )


def _raster(family: str) -> Callable[[Any], FamilyResult]:
    def convert(res: Any) -> FamilyResult:
        return FamilyResult(
            family, res.per_wijk, cells=res.bands(), grid=res.landcover, notes=tuple(getattr(res, "notes", ())),
            norms_used=norms_used_of(getattr(res, "params", None), family), raw=res,
        )

    return convert


_CONVERTERS: dict[str, Callable[[Any], FamilyResult]] = {
    "network": _network,
    "accessibility": _accessibility,
    "heat": _raster("heat"),
    "water": _raster("water"),
}
"""Family -> conversion of its own result object."""

_BY_TYPE: dict[str, str] = {
    "NetworkIndicators": "network",
    "AccessibilityResult": "accessibility",
    "HeatResult": "heat",
    "WaterResult": "water",
}


def family_result(res: Any, family: str | None = None) -> FamilyResult:
    """``res`` (a family's own result) as a :class:`FamilyResult`; a FamilyResult is returned as is.

    Parameters
    ----------
    res : NetworkIndicators, AccessibilityResult, HeatResult, WaterResult or FamilyResult
    family : str, optional
        The family; default from the type name of ``res``.
    """
    if isinstance(res, FamilyResult):
        return res
    fam = family or _BY_TYPE.get(type(res).__name__)
    if fam is None or fam not in _CONVERTERS:
        raise ResultError(f"Onbekend soort resultaat '{type(res).__name__}'; geef de familie mee (een van {', '.join(_CONVERTERS)}).")
    return _CONVERTERS[fam](res)
