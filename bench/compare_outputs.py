"""Compare the CLI outputs of two runs folder by folder (behaviour-unchanged check for refactors).

    python bench/compare_outputs.py OLD_DIR NEW_DIR

GeoPackages layer by layer (attributes exactly, geometries by WKB), GeoTIFFs band by band
(exactly, and the transform and CRS), CSV and JSON files by content (JSON without run times and
paths). Prints one line per file and a total; exit 1 when anything differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import rasterio

VOLATILE = {"generated_at", "created_at", "time_s", "elapsed_s", "run_at", "saved", "created", "seconds", "version", "path", "area_dir", "out"}


def _strip(o):
    if isinstance(o, dict):
        return {k: _strip(v) for k, v in o.items() if k not in VOLATILE}
    if isinstance(o, list):
        return [_strip(v) for v in o]
    return o


def compare(a: Path, b: Path) -> str | None:
    if a.suffix == ".gpkg":
        la = [x[0] for x in pyogrio.list_layers(a)]
        lb = [x[0] for x in pyogrio.list_layers(b)]
        if la != lb:
            return f"layers differ {la} vs {lb}"
        for layer in la:
            da = pyogrio.read_dataframe(a, layer=layer)
            db = pyogrio.read_dataframe(b, layer=layer)
            if list(da.columns) != list(db.columns):
                return f"{layer}: columns {sorted(set(da.columns) ^ set(db.columns))}"
            geo = "geometry" in da.columns
            try:
                pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry") if geo else da),
                                              pd.DataFrame(db.drop(columns="geometry") if geo else db))
            except AssertionError as exc:
                return f"{layer}: {' '.join(str(exc).split())[:200]}"
            if geo and not (da.geometry.to_wkb().values == db.geometry.to_wkb().values).all():
                return f"{layer}: geometries differ"
        return None
    if a.suffix == ".tif":
        with rasterio.open(a) as ra, rasterio.open(b) as rb:
            if ra.transform != rb.transform or ra.crs != rb.crs or ra.count != rb.count:
                return "grid differs"
            for i in range(1, ra.count + 1):
                if not np.array_equal(ra.read(i), rb.read(i), equal_nan=True):
                    return f"band {i} differs"
        return None
    if a.suffix == ".json":
        return None if _strip(json.loads(a.read_text())) == _strip(json.loads(b.read_text())) else "content differs"
    if a.suffix == ".csv":
        return None if a.read_bytes() == b.read_bytes() else "content differs"
    return "skipped"


def main(old: str, new: str) -> int:
    bad = 0
    for a in sorted(Path(old).glob("*.*")):
        b = Path(new) / a.name
        if not b.exists():
            print(f"MISSING  {a.name}")
            bad += 1
            continue
        r = compare(a, b)
        print(f"{'same' if r is None else ('skip' if r == 'skipped' else 'DIFF'):8} {a.name}" + ("" if r in (None, "skipped") else f": {r}"))
        bad += r not in (None, "skipped")
    print(f"{bad} file(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
