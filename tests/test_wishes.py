"""Residents' sketched wishes: stored with their shape, validated, moderated, never run as script."""

from __future__ import annotations

import pytest
import shapely

from gezondestad.layers import wishes as w
from gezondestad.layers.participation import ParticipationError


def test_wish_with_a_line_is_kept_verbatim(tmp_path):
    db = tmp_path / "db.sqlite"
    line = shapely.LineString([(160_000, 190_000), (160_050, 190_010)])
    wid = w.add_wish(db, "Demostad", "hier bomen", line, "EPSG:31370", text="<img src=x onerror=alert(1)>", wijk_code="DEMO01",
                     bounds=(159_000, 189_000, 161_000, 191_000))
    g = w.wishes_gdf(db, "Demostad")
    assert list(g["id"]) == [wid] and g.geometry.iloc[0].equals_exact(line, 0.01)
    assert g["text"].iloc[0] == "<img src=x onerror=alert(1)>"  # verbatim; escaped where shown
    w.set_wish_hidden(db, wid, True)
    assert len(w.wishes_gdf(db, "Demostad")) == 0 and len(w.wishes_gdf(db, "Demostad", include_hidden=True)) == 1


@pytest.mark.parametrize("wish, geom", [
    ("hier een zwembad", shapely.Point(160_000, 190_000)),
    ("hier een bank", shapely.Point()),
    ("hier een bank", shapely.Point(0, 0)),
    ("hier een bank", shapely.LineString([(160_000 + i, 190_000 + (i % 2)) for i in range(600)])),
])
def test_bad_wishes_refused(tmp_path, wish, geom):
    with pytest.raises(ParticipationError):
        w.add_wish(tmp_path / "db.sqlite", "Demostad", wish, geom, "EPSG:31370", bounds=(159_000, 189_000, 161_000, 191_000))
