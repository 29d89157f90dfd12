"""The per-wijk indicator table of the export: catalogue columns, skipped families, Dutch version."""

import numpy as np
import pandas as pd
from gezondestad.model.catalogue import indicator
from gezondestad.model.studyarea import empty_theme
from gezondestad.spatial.wijk_table import dutch_table, wijk_indicator_table


def test_dutch_table_by_hand():
    t = pd.DataFrame(
        {
            "wijk_code": ["A", "B"],
            "wijk_naam": ["Noord", "Zuid"],
            "residents": [1234.4, np.nan],
            "green_300m_05ha_share": [0.3456, np.nan],
            "stop_order_ok": [True, False],
            "runoff_mm_mean": [12.346, 0.0],
        }
    )
    d = dutch_table(t)
    share = indicator("green_300m_05ha_share")
    assert list(d.columns[:3]) == ["Wijkcode", "Wijk", "Inwoners"]
    assert d[f"{share.label} (%)"].iloc[0] == 34.6 and np.isnan(d[f"{share.label} (%)"].iloc[1])  # unknown stays unknown
    assert list(d[indicator("stop_order_ok").label]) == ["ja", "nee"]
    assert d[f"{indicator('runoff_mm_mean').label} (mm)"].iloc[0] == 12.35
    assert d["Inwoners"].iloc[0] == 1234.0


def test_a_family_that_cannot_run_is_left_out_with_a_note(demo_area):
    area = demo_area.copy()
    area.landcover = None
    area.themes["boundary"] = empty_theme("boundary", area.crs)  # no raster and nothing to derive one from
    wt = wijk_indicator_table(area, families=("heat", "water"))
    assert wt.families == ()
    assert len(wt.notes) == 2 and all("niet berekend" in n for n in wt.notes)
    assert list(wt.table.columns) == ["wijk_code", "wijk_naam"] and len(wt.table) == len(area.wijken)
