"""Shared fixtures: the demo area (generated once per session) and the real Mechelen data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
MECHELEN = SHARED_DATA / "mechelen"


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated demo study area folder (not the app's cached copy)."""
    from gezondestad.layers.demo import build_demo_area
    from gezondestad.layers.studyarea import save_study_area

    return save_study_area(build_demo_area(), tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="session")
def demo_area(demo_dir: Path):
    from gezondestad.layers.studyarea import load_study_area

    return load_study_area(demo_dir)


def require_mechelen() -> Path:
    """Skip (with the reason) when the shared real data is not next to the repo."""
    if not (MECHELEN / "wijken.gpkg").is_file():
        pytest.skip(f"real Mechelen data not found at {MECHELEN} (../shared/data is absent on this machine)")
    return MECHELEN


@pytest.fixture(scope="session")
def mechelen_dir() -> Path:
    return require_mechelen()
