"""``gezondestad heat`` / ``gezondestad water`` on the demo area: GeoTIFF + per-wijk CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import rasterio
from gezondestad.app.cli.main import main


def test_heat_command_writes_geotiff_and_csv(demo_dir, tmp_path):
    out = tmp_path / "heat.tif"
    assert main(["heat", "--area", str(demo_dir), "--out", str(out)]) == 0
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 31370
        assert src.res == (10.0, 10.0)
        assert src.descriptions[:2] == ("heat_index", "t_air_c")
        hi = src.read(1, masked=True)
        assert 0.0 <= hi.min() and hi.max() <= 1.0
    per = pd.read_csv(tmp_path / "heat.csv")
    assert list(per.columns[:6]) == ["wijk_code", "wijk_naam", "heat_index_mean", "t_air_mean", "heat_index_p90", "residents_hot_share"]  # catalogue order
    wijken = pyogrio.read_dataframe(demo_dir / "studyarea.gpkg", layer="wijken")
    assert sorted(per["wijk_code"]) == sorted(wijken["wijk_code"])
    assert per["residents"].sum() > 0  # homes from the demo buildings
    # the CSV holds the raster's own per-wijk mean
    assert np.isfinite(per["heat_index_mean"]).all()


def test_water_command_at_another_resolution(demo_dir, tmp_path):
    out = tmp_path / "sub" / "water.tif"
    assert main(["water", "--area", str(demo_dir), "--out", str(out), "--resolution-m", "20", "--soil", "B", "--rain-mm", "40"]) == 0
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 31370 and src.res == (20.0, 20.0)
        assert "flood_prone" in src.descriptions and "runoff_mm" in src.descriptions
        q = src.read(src.descriptions.index("runoff_mm") + 1, masked=True)
        assert q.max() <= 40.0 + 1e-4
    per = pd.read_csv(out.with_suffix(".csv"))
    for col in ("wijk_code", "runoff_mm_mean", "impervious_share", "flood_prone_share", "residents_flood_prone_share"):
        assert col in per.columns
    assert (per["flood_prone_share"] > 0).any()  # the demo river crosses the town


def test_bad_area_and_bad_dem_exit_2(tmp_path, demo_dir, capsys):
    assert main(["heat", "--area", str(tmp_path / "nope"), "--out", str(tmp_path / "h.tif")]) == 2
    assert "not a prepared study area" in capsys.readouterr().err
    bad = tmp_path / "dem.tif"
    bad.write_text("not a raster")
    assert main(["water", "--area", str(demo_dir), "--out", str(tmp_path / "w.tif"), "--dem", str(bad)]) == 2
    assert "dem.tif" in capsys.readouterr().err
