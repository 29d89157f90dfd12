"""Remarks near a plan in a study area outside Belgium: stored in Lambert 72, measured in the area's CRS."""

from __future__ import annotations

from pathlib import Path

import pytest
from gezondestad.layers import participation as pt
from gezondestad.screening.voices import voices_near_plan
from pyproj import Transformer
from shapely.geometry import Point

UTM28 = "EPSG:32628"
PLAN_XY = (457_400.0, 3_112_800.0)  # Parque Santa Catalina, Las Palmas (UTM 28N)


def _store(db: Path, dx_m: float, text: str) -> None:
    """A remark ``dx_m`` east of the plan, clicked on the map (WGS84) and stored in Lambert 72 as the app does."""
    lon, lat = Transformer.from_crs(UTM28, 4326, always_xy=True).transform(PLAN_XY[0] + dx_m, PLAN_XY[1])
    x, y = Transformer.from_crs(4326, "EPSG:31370", always_xy=True).transform(lon, lat)
    pt.add_remark(db, area_name="Las Palmas", wijk_code="W1", category=pt.CATEGORIES[0], text=text, x_m=x, y_m=y, session_id="s")


def test_remarks_measured_in_the_area_crs(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    _store(db, 50.0, "vlakbij")
    _store(db, 5_000.0, "ver weg")
    plan = Point(PLAN_XY)
    v = voices_near_plan(plan, "Las Palmas", ["W1"], db_path=db, distance_m=200.0, crs=UTM28)
    assert list(v.remarks["text"]) == ["vlakbij"]
    assert float(v.remarks["distance_m"].iloc[0]) == pytest.approx(50.0, abs=1.0)
    # without the CRS the UTM plan is read as Lambert 72 metres: nothing lies near it
    assert len(voices_near_plan(plan, "Las Palmas", ["W1"], db_path=db, distance_m=200.0).remarks) == 0
