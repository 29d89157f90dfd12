"""Before/after screening (screening.compare) and the checklist (screening.checklist) on the demo town."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.studyarea import CRS
from gezondestad.screening.checklist import (
    ChecklistError,
    build_checklist,
    load_checklist,
)
from gezondestad.screening.compare import (
    ZONES,
    compute_situation,
    direction,
    load_or_compute_baseline,
    make_zones,
    screen,
)
from gezondestad.screening.plan import plan_from_frame
from rasterio import features as rfeatures
from shapely.geometry import box

PARK = box(X0 + 1357, Y0 + 1100, X0 + 1560, Y0 + 1193)  # 1.9 ha on the brownfield, along two streets


def _plan(rows: list[dict], area):
    return plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS), area=area)


@pytest.fixture(scope="module")
def baseline(demo_area):
    return compute_situation(demo_area, ("network", "heat", "water"))


@pytest.fixture(scope="module")
def park_result(demo_area, baseline):
    plan = _plan([{"feature_type": "green", "public": True, "kind": "park", "trees": 0.6, "name": "Testpark", "geometry": PARK}], demo_area)
    return screen(demo_area, plan, before=baseline)


def test_direction_rules():
    assert direction(0.5, 0.6, True) == "better"
    assert direction(0.5, 0.6, False) == "worse"
    assert direction(0.5, 0.5001, True) == "neutral"  # within 0.5 % of the before value
    assert direction(0.5, 0.6, None) == "neutral"
    assert direction(float("nan"), 0.6, True) == "na"


def test_public_park_serves_unserved_homes_nearby(park_result):
    r = park_result
    hb = r.before.families["network"].homes
    ha = r.after.families["network"].homes
    # homes within 150 m straight line of the new park that were not served before
    near = r.before.homes.geometry.distance(PARK).to_numpy() < 150
    unserved = near & ~hb["green_300m_05ha"].astype(bool).to_numpy()
    assert unserved.sum() > 0
    # the plan adds no homes, so before/after homes are the same rows
    assert len(r.before.homes) == len(r.after.homes)
    assert ha["green_300m_05ha"].astype(bool).to_numpy()[unserved].all()
    row = r.row("green_300m_05ha_share", "omgeving")
    assert row["direction"] == "better" and row["after"] > row["before"]
    assert row["residents_improved"] > 0 and row["residents_worsened"] == 0
    # exact: the share over all homes = served residents / residents
    res = r.after.homes["residents"].to_numpy()
    served = ha["green_300m_05ha"].astype(bool).to_numpy()
    assert r.value("green_300m_05ha_share", "stad") == pytest.approx(res[served].sum() / res.sum())


def test_public_park_lowers_heat_index_nearby(park_result):
    r = park_result
    hb, ha = r.before.families["heat"], r.after.families["heat"]
    grid = ha.grid
    near = rfeatures.rasterize([(PARK.buffer(100), 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    before, after = hb.cells["heat_index"][near], ha.cells["heat_index"][near]
    assert np.nanmean(after) < np.nanmean(before)
    assert r.row("heat_index_mean", "plan")["direction"] == "better"
    # far away (> 3 km) nothing changes at all
    far = ~rfeatures.rasterize([(PARK.buffer(3000), 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)
    if far.any():
        assert np.allclose(hb.cells["heat_index"][far], ha.cells["heat_index"][far], equal_nan=True, atol=1e-3)


def test_paving_a_park_raises_runoff(demo_area, baseline):
    begijnhof = demo_area.green[demo_area.green["name"] == "Begijnhofpark"].geometry.iloc[0]
    plan = _plan([{"feature_type": "parking", "paved": True, "name": "Parking Begijnhof", "geometry": begijnhof}], demo_area)
    r = screen(demo_area, plan, before=baseline)
    row = r.row("runoff_mm_mean", "plan")
    assert row["after"] > row["before"] and row["direction"] == "worse"
    # the plan zone is the park buffered by plan_zone_buffer_m: its impervious share rises; the park's own cells are all paved
    imp = r.row("impervious_share", "plan")
    assert imp["after"] > imp["before"] and imp["direction"] == "worse"
    fam = r.after.families["water"]
    inside = rfeatures.rasterize([(begijnhof.buffer(-5), 1)], out_shape=fam.grid.shape, transform=fam.grid.transform, fill=0, dtype="uint8").astype(bool)
    assert np.nanmean(fam.cells["impervious"][inside]) == pytest.approx(1.0)
    # the park is gone from the green theme, so green access cannot improve
    assert r.applied["green_removed_m2"] == pytest.approx(begijnhof.area, rel=0.01)
    assert r.row("green_300m_05ha_share", "omgeving")["direction"] in ("worse", "neutral")


def test_local_recompute_matches_full(demo_area, baseline, park_result):
    plan = park_result.plan
    rl = screen(demo_area, plan, before=baseline, local=True)
    m = park_result.deltas.merge(rl.deltas, on=["key", "zone"], suffixes=("_full", "_local"))
    net = m["family_full"] == "network"
    a, b = m.loc[net, "after_full"].to_numpy(float), m.loc[net, "after_local"].to_numpy(float)
    assert np.allclose(a, b, equal_nan=True, atol=1e-9)
    heat = m["family_full"] == "heat"
    a, b = m.loc[heat, "after_full"].to_numpy(float), m.loc[heat, "after_local"].to_numpy(float)
    assert np.allclose(a, b, equal_nan=True, atol=1e-3)
    assert rl.mode == "local"


def test_zones_cover_plan_surroundings_city(demo_area, park_result):
    z = make_zones(demo_area, park_result.plan)
    assert z.plan.within(z.omgeving.buffer(1e-6)) and z.omgeving.within(z.stad.buffer(1e-6))
    assert "DEMO02" in z.plan_codes and "DEMO02" in z.omgeving_codes
    # a 1 m buffer only reaches the wijk the plan lies in
    z1 = make_zones(demo_area, park_result.plan, buffer_m=1.0)
    assert z1.omgeving_codes == ["DEMO02"]
    assert set(park_result.deltas["zone"]) == set(ZONES)


def test_baseline_cache_round_trip(tmp_path, demo_area):
    s1 = load_or_compute_baseline(demo_area, tmp_path, families=("water",))
    files = list((tmp_path / ".screening").glob("baseline-*.pkl"))
    assert len(files) == 1
    s2 = load_or_compute_baseline(demo_area, tmp_path, families=("water",))
    assert s2.area is demo_area
    assert np.array_equal(s1.families["water"].cells["runoff_mm"], s2.families["water"].cells["runoff_mm"], equal_nan=True)


def test_checklist_computed_and_answered(park_result):
    items = {i.id: i for i in build_checklist(park_result, {"ontmoeting": "ja", "spelen": {"answer": "deels", "toelichting": "speelweide"}})}
    assert set(items) == set(load_checklist())
    assert items["groen"].score == "+" and "→" in items["groen"].evidence
    assert items["hitte"].score == "+"
    assert items["ontmoeting"].score == "+" and items["spelen"].score == "0" and "speelweide" in items["spelen"].evidence
    assert items["woningmix"].score == "?"
    assert items["luchtkwaliteit"].score == "?"  # air is not in this baseline: not computed, so no score (issue 13)
    assert all(i.source for i in items.values()) and all(i.recommendation for i in items.values())
    with pytest.raises(ChecklistError, match="unknown checklist items"):
        build_checklist(park_result, {"nonsense": "ja"})
    with pytest.raises(ChecklistError, match="ja, deels, nee"):
        build_checklist(park_result, {"spelen": "misschien"})


def test_housing_next_to_ring_road_scores_negative_on_air_and_noise(demo_area, baseline):
    # a block right next to the 70 km/h Zuidelijke Ring (y = 0)
    plan = _plan([{"feature_type": "building", "dwellings": 20, "levels": 4, "geometry": box(X0 + 620, Y0 + 8, X0 + 700, Y0 + 20)}], demo_area)
    # the checklist reads the computed noise and air (issue 13): new residents above the WHO guidelines
    r = screen(demo_area, plan, before=compute_situation(demo_area, ("traffic", "noise", "air")), local=True)
    items = {i.id: i for i in build_checklist(r)}
    assert items["luchtkwaliteit"].score == "-" and items["geluid"].score == "-"
    assert r.row("lden_mean_db", "stad")["new_residents"] == pytest.approx(46.0)  # 20 dwellings x 2.3 residents
    assert "0,0 % voldoet" in items["geluid"].evidence
    df = pd.DataFrame([i.to_dict() for i in items.values()])
    assert set(df["score"]) <= {"+", "0", "-", "?"}


def test_area_without_buildings_keeps_estimated_homes_and_counts_vulnerable(demo_area):
    from gezondestad.model.studyarea import empty_theme

    a = demo_area.copy()
    a.themes["buildings"] = empty_theme("buildings")
    w = a.themes["wijken"]
    w["residents_65plus"] = 0.2 * w["residents"]
    w["residents_0_5"] = 0.05 * w["residents"]
    before = compute_situation(a, ("network",))
    assert before.homes["estimated"].all()
    plan = _plan(
        [
            {"feature_type": "building", "dwellings": 10, "levels": 3, "geometry": box(X0 + 1370, Y0 + 915, X0 + 1450, Y0 + 950)},
            {"feature_type": "green", "public": True, "geometry": PARK},
        ],
        a,
    )
    r = screen(a, plan, before=before)
    assert len(r.after.homes) == len(before.homes) + 1
    assert r.after.homes["residents"].sum() == pytest.approx(before.homes["residents"].sum() + 23.0)
    row = r.row("green_300m_05ha_share", "omgeving")
    affected = row["residents_improved"] + row["residents_worsened"]
    assert affected > 0
    # 65+ / 0-5 of the affected homes from each home's own wijk (before the plan): 20 % and 5 % everywhere
    assert row["residents_65plus"] == pytest.approx(affected * 0.2)
    assert row["residents_0_5"] == pytest.approx(affected * 0.05)


def test_foreign_baseline_cache_is_not_unpickled(tmp_path, demo_area):
    s1 = load_or_compute_baseline(demo_area, tmp_path, families=("water",))
    f = next((tmp_path / ".screening").glob("baseline-*.pkl"))
    blob = f.read_bytes()
    f.write_bytes(b"\0" * 32 + blob[32:])  # same payload, wrong signature
    s2 = load_or_compute_baseline(demo_area, tmp_path, families=("water",))
    assert s2 is not s1 and s2.seconds != {} and s2.keys is None
    assert f.read_bytes()[:32] != b"\0" * 32  # recomputed and re-signed


def test_homes_after_plan_match_home_points(demo_area, baseline):
    from gezondestad.screening.compare import homes_after_plan
    from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH
    from gezondestad.screening.plan import apply_plan, read_plan
    from gezondestad.spatial.aggregate import home_points

    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    after = apply_plan(demo_area, plan)
    fast = homes_after_plan(baseline, after, plan)
    ref = home_points(after)
    assert sorted(fast["building_id"].astype(int)) == sorted(ref["building_id"].astype(int))
    assert fast["residents"].sum() == pytest.approx(ref["residents"].sum())
    assert (fast.set_index("building_id")["wijk_code"].sort_index() == ref.set_index("building_id")["wijk_code"].sort_index()).all()


def test_local_recompute_with_street_edits_matches_full(demo_area, baseline):
    from gezondestad.screening.example_plan import EXAMPLE_PLAN_PATH
    from gezondestad.screening.plan import read_plan

    plan = read_plan(EXAMPLE_PLAN_PATH, area=demo_area)
    full = screen(demo_area, plan, before=baseline, families=("network",))
    loc = screen(demo_area, plan, before=baseline, local=True)
    m = full.deltas.merge(loc.deltas, on=["key", "zone"], suffixes=("_f", "_l"))
    m = m[m["family_f"].isin(["network", "water"])]
    assert len(m) > 0
    assert np.allclose(m["after_f"].to_numpy(float), m["after_l"].to_numpy(float), equal_nan=True, atol=1e-9)


@pytest.mark.real
def test_real_mechelen_screening_invariants(mechelen_dir):
    from pathlib import Path

    import shapely
    from gezondestad.layers.prepare import prepare_from_args
    from gezondestad.screening.example_plan import example_plan_frame
    from shapely import affinity

    assert mechelen_dir.is_dir()
    area = prepare_from_args(sources_toml=Path(__file__).resolve().parent / "real" / "mechelen.toml")
    st = area.pois[area.pois["category"] == "train_station"]
    anchor = st.geometry.iloc[0]
    f = example_plan_frame()
    c = shapely.centroid(shapely.union_all(f.geometry.values))
    f["geometry"] = [affinity.translate(g, anchor.x + 300 - c.x, anchor.y + 200 - c.y) for g in f.geometry]
    plan = plan_from_frame(f, area=area)
    before = compute_situation(area, ("network", "water"))
    r = screen(area, plan, before=before)
    # no buildings in the open Mechelen files: estimated homes kept, the 5 plan blocks added
    assert before.homes["estimated"].all()
    assert len(r.after.homes) == len(before.homes) + 5
    assert r.after.homes["residents"].sum() == pytest.approx(before.homes["residents"].sum() + 989.0)
    # Mechelen's open files have no parks, no buildings, no land use and car-only streets: every
    # indicator built on them is 'onbekend', before and after, without a number or a light, even
    # though the plan adds a park, buildings and a car park (one definition before and after)
    for key in ("green_300m_05ha_share", "stop_p", "impervious_share", "runoff_mm_mean", "lts12_share_length"):
        for z in ("plan", "omgeving", "stad"):
            row = r.row(key, z)
            assert row["status"] == "onbekend" and row["light"] == "onbekend", (key, z)
            assert np.isnan(row["before"]) and np.isnan(row["after"]) and np.isnan(row["residents_improved"])
            assert row["unknown_reason"].startswith("onbekend")
    assert set(r.deltas["light"]) == {"onbekend"}
    assert np.isnan(r.deltas[["before", "after", "delta", "new_meet_share"]].to_numpy(float)).all()
    # the checklist's computed items therefore score nothing either ('?'), and say why
    items = {i.id: i for i in build_checklist(r)}
    for k in ("groen", "water", "actieve_mobiliteit", "stop_volgorde", "groen_nieuwe_bewoners"):
        assert items[k].score == "?" and "onbekend" in items[k].evidence, k
    loc = screen(area, plan, before=before, local=True)
    m = r.deltas.merge(loc.deltas, on=["key", "zone"], suffixes=("_f", "_l"))
    assert np.allclose(m["after_f"].to_numpy(float), m["after_l"].to_numpy(float), equal_nan=True, atol=1e-9)
