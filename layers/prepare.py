"""One entry point to prepare a study area from any of the supported sources."""

from __future__ import annotations

from pathlib import Path

from layers.studyarea import StudyArea, StudyAreaError


def prepare_from_args(
    place: str | None = None,
    osm_file: str | Path | None = None,
    sources_toml: str | Path | None = None,
    demo: bool = False,
    wijken_file: str | Path | None = None,
    resolution_m: float = 10.0,
    progress: bool = False,
) -> StudyArea:
    """Prepare a study area from exactly one source (see ``gezondestad prepare --help``)."""
    chosen = [x for x in (place, osm_file, sources_toml, demo or None) if x]
    if len(chosen) != 1:
        raise StudyAreaError("Choose exactly one source: a place name, an OSM file, a sources TOML or the demo.")
    if demo:
        from layers.demo import build_demo_area

        return build_demo_area()
    raise StudyAreaError("This source is not available yet.")
