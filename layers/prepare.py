"""One entry point to prepare a study area from any of the supported sources.

- :func:`prepare_from_args`: exactly one of a place name (osmnx, online), an OSM file
  (``.osm.pbf`` / ``.osm``), a sources TOML (city GIS files) or the synthetic demo -> StudyArea.
- :func:`prepare_to_dir`: the same, written atomically to a cache folder (nothing is written
  when preparing fails; :func:`gezondestad.layers.studyarea.save_study_area` renames a complete temporary
  folder into place).
- :func:`load_or_prepare`: load the cached folder when it was prepared from the same request,
  else prepare and cache.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gezondestad.layers.demo import build_demo_area
from gezondestad.layers.osm import area_from_osm_file, area_from_place
from gezondestad.layers.sources import area_from_sources
from gezondestad.layers.studyarea import (
    MANIFEST_NAME,
    is_study_area_dir,
    load_study_area,
    save_study_area,
)
from gezondestad.model.progress import Progress
from gezondestad.model.studyarea import StudyArea, StudyAreaError


def _request(
    place: str | None,
    osm_file: str | os.PathLike | None,
    sources_toml: str | os.PathLike | None,
    demo: bool,
    wijken_file: str | os.PathLike | None,
    resolution_m: float,
) -> dict[str, Any]:
    chosen = [x for x in (place, osm_file, sources_toml, demo or None) if x]
    if len(chosen) != 1:
        raise StudyAreaError("Choose exactly one source: a place name, an OSM file, a sources TOML or the demo.")
    if not resolution_m or float(resolution_m) <= 0:
        raise StudyAreaError(f"The land-cover resolution must be > 0 m, got {resolution_m}.")
    if wijken_file and (demo or sources_toml):
        raise StudyAreaError("--wijken is only used with --place or --osm (the demo has its own wijken; a sources TOML names its wijken file).")
    kind = "place" if place else "osm" if osm_file else "sources" if sources_toml else "demo"
    value = place if place else str(Path(osm_file).resolve()) if osm_file else str(Path(sources_toml).resolve()) if sources_toml else "demo"
    return {
        "kind": kind,
        "value": value,
        "wijken": str(Path(wijken_file).resolve()) if wijken_file else None,
        "resolution_m": float(resolution_m),
    }


def prepare_from_args(
    place: str | None = None,
    osm_file: str | Path | None = None,
    sources_toml: str | Path | None = None,
    demo: bool = False,
    wijken_file: str | Path | None = None,
    resolution_m: float = 10.0,
    progress: Progress | bool | None = None,
    crs: str | None = None,
) -> StudyArea:
    """Prepare a study area from exactly one source (see ``gezondestad prepare --help``).

    Parameters
    ----------
    place : str, optional
        Place name for osmnx (needs internet), e.g. ``"Mechelen, Belgium"``.
    osm_file : path, optional
        ``.osm.pbf`` or ``.osm`` file (offline).
    sources_toml : path, optional
        A sources TOML mapping city GIS files onto the themes (:mod:`layers.sources`).
    demo : bool
        The synthetic demo town.
    wijken_file : path, optional
        Wijken polygons for ``place`` / ``osm_file`` (boundary = their union).
    resolution_m : float
        Land-cover cell size in metres.
    progress : Progress, optional
        Callback ``(done, total, message)`` (:mod:`gezondestad.model.progress`); ``True`` shows tqdm bars.
    crs : str, optional
        Working metric CRS (``"EPSG:32628"``); default Lambert 72 in Belgium, else the UTM zone of
        the area (a sources TOML may name one with ``crs = ...``). Not for the demo (Lambert 72).

    Returns
    -------
    StudyArea
        With ``manifest["prepared_from"]`` recording the request.
    """
    req = _request(place, osm_file, sources_toml, demo, wijken_file, resolution_m)
    if crs:
        if demo:
            raise StudyAreaError("De demostad ligt in Lambert 72 (EPSG:31370); --crs geldt niet voor --demo.")
        req["crs"] = crs
    if demo:
        area = build_demo_area()
    elif place:
        area = area_from_place(place, wijken_file, resolution_m=resolution_m, progress=progress, crs=crs)
    elif osm_file:
        area = area_from_osm_file(osm_file, wijken_file, resolution_m=resolution_m, progress=progress, crs=crs)
    else:
        area = area_from_sources(sources_toml, resolution_m=resolution_m, progress=progress, crs=crs)  # type: ignore[arg-type]
    area.manifest["prepared_from"] = req
    return area


def prepare_to_dir(out_dir: str | os.PathLike, **kwargs: Any) -> Path:
    """Prepare (:func:`prepare_from_args` keywords) and write the study area atomically to ``out_dir``.

    When preparing or writing fails, ``out_dir`` is left as it was (absent, or the previous
    complete study area) and no temporary folder remains.
    """
    area = prepare_from_args(**kwargs)
    return save_study_area(area, out_dir)


def _cached_request(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8")).get("prepared_from")
    except (OSError, ValueError):
        return None


def load_or_prepare(
    directory: str | os.PathLike,
    *,
    place: str | None = None,
    osm_file: str | Path | None = None,
    sources_toml: str | Path | None = None,
    demo: bool = False,
    wijken_file: str | Path | None = None,
    resolution_m: float = 10.0,
    rebuild: bool = False,
    progress: Progress | bool | None = None,
) -> StudyArea:
    """Load ``directory`` when it holds a study area prepared from the same request; else prepare it.

    The request (source kind, place/file, wijken file, resolution) is stored in the manifest
    as ``prepared_from``; a different request, ``rebuild=True`` or an incomplete folder prepares
    again and replaces the folder atomically. A changed input *file* with the same path is not
    detected: pass ``rebuild=True`` after updating data.
    """
    d = Path(directory)
    req = _request(place, osm_file, sources_toml, demo, wijken_file, resolution_m)
    if not rebuild and is_study_area_dir(d) and _cached_request(d) == req:
        return load_study_area(d)
    area = prepare_from_args(place, osm_file, sources_toml, demo, wijken_file, resolution_m, progress)
    save_study_area(area, d)
    return area


__all__ = ["prepare_from_args", "prepare_to_dir", "load_or_prepare"]
