"""Screening deltas that mean what they say (issue 11): plans on the demo town whose answer is known beforehand.

Every delta is split into existing residents (same homes before/after), new residents (share
meeting the norm) and removed residents (displacement); lights come from the first two only;
an indicator built on a missing or partial theme is 'onbekend'.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.norms import load_norms
from gezondestad.screening.checklist import build_checklist
from gezondestad.screening.compare import compute_situation, screen
from gezondestad.screening.plan import PlanError, plan_area, plan_from_frame
from shapely.geometry import LineString, box

BEGIJNHOF = (622.5, 1177.5, 727.5, 1272.5)  # 105 m x 95 m public park (0.9975 ha)
PARKING_STATION = (1805.0, 1005.0, 1895.0, 1095.0)  # 90 m x 90 m car park (landuse kind=parking)


def R(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def L(*pts: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in pts])


def _plan(rows, area):
    return plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs), area=area)


@pytest.fixture(scope="module")
def base(demo_area):
    return compute_situation(demo_area)


def _nothing(r, what: str) -> None:
    """No row is ``what`` ('better' or 'worse') and no existing resident is counted so.

    Traffic, noise and air are left out: a plan's buildings shield homes from traffic noise, a
    removed street takes its traffic away, a car park brings traffic; their directions are tested
    in test_screening_exposure.py.
    """
    d = r.deltas
    d = d[~d["family"].isin(["traffic", "noise", "air"])]
    assert not (d["direction"] == what).any(), d.loc[d["direction"] == what, ["key", "zone"]].to_string()
    col = "residents_improved" if what == "better" else "residents_worsened"
    assert (d[col].fillna(0) == 0).all()


def _area_buffer(w: float, h: float, d: float) -> float:
    """Area of a w x h rectangle buffered by d, as shapely draws it (quarter circles of 8 segments: a 32-gon)."""
    return w * h + 2 * d * (w + h) + 16 * np.sin(np.pi / 16) * d * d


@pytest.fixture(scope="module")
def paved_park(demo_area, base):
    return screen(demo_area, _plan([{"feature_type": "parking", "spaces": 300, "geometry": R(*BEGIJNHOF)}], demo_area), before=base)


def test_paving_a_park_into_a_car_park_is_worse_on_green_heat_water_and_p(paved_park):
    r = paved_park
    _nothing(r, "better")
    assert r.applied["green_removed_m2"] == pytest.approx(105 * 95, rel=1e-6)
    assert r.applied["parking_spaces_added"] == 300
    for key in ("green_300m_05ha_share", "green_per_resident_m2", "heat_index_mean", "heat_index_p90", "residents_hot_share",
                "runoff_mm_mean", "impervious_share", "stop_p", "stop_plan_active_space_share", "walker_reach_park"):
        row = r.row(key, "plan")
        assert row["direction"] == "worse" and row["light"] == "rood", key
    # existing residents who lose the park, counted by home (the plan adds nobody)
    g = r.row("green_300m_05ha_share", "omgeving")
    assert g["residents_worsened"] > 0 and g["new_residents"] == 0 and g["removed_residents"] == 0
    # heat in degC at the homes: warmer for existing residents, nobody cooler
    h = r.row("heat_c_home", "plan")
    assert h["residents_worsened"] > 0 and h["existing_change"] > 0
    # the plan zone (the park + plan_zone_buffer_m) has no other public green: 0 m² per resident after
    assert r.row("green_per_resident_m2", "plan")["after"] == 0.0
    # P by hand: no road faster than 50 km/h in the zone (speed part 0); parking 9 975 m² of the zone's
    # 105 x 95 + 2 x 100 x (105 + 95) + pi x 100² m² = 12.3 % >= p_parking_share_full (10 %): parking part 1
    st = load_norms("stop")
    share = 105 * 95 / _area_buffer(105, 95, 100.0)
    ws, wp = float(st["p_weight_speed"].value), float(st["p_weight_parking"].value)
    expected = 100.0 * wp * min(1.0, share / float(st["p_parking_share_full"].value)) / (ws + wp)
    p = r.row("stop_p", "plan")
    assert p["before"] == pytest.approx(0.0) and p["after"] == pytest.approx(expected, rel=1e-3)
    assert r.zones.plan.area == pytest.approx(_area_buffer(105, 95, 100.0), rel=1e-6)  # buffered features, not a hull


def test_planner_answer_apart_and_contradicted_never_green(paved_park):
    items = {i.id: i for i in build_checklist(paved_park, {"groen": {"answer": "ja", "toelichting": "groen blijft"}, "spelen": "ja"})}
    g = items["groen"]
    assert g.score == "-" and g.basis == "berekend" and g.contradicted
    assert g.planner_answer == "ja – groen blijft" and "groen blijft" not in g.evidence.split("Het antwoord")[0]
    s = items["spelen"]  # a question answered 'ja' while green access for existing residents turns red
    assert s.contradicted and s.score == "-" and s.basis == "tegengesproken"
    assert items["hitte"].score == "-" and items["water"].score == "-"


def test_local_screening_equals_full(demo_area, base, paved_park):
    loc = screen(demo_area, paved_park.plan, before=base, local=True)
    m = paved_park.deltas.merge(loc.deltas, on=["key", "zone"], suffixes=("_f", "_l"))
    assert (m["light_f"] == m["light_l"]).all()
    for c in ("after", "residents_improved", "residents_worsened", "new_residents", "removed_residents"):
        net = m["family_f"].isin(["network", "accessibility", "water"])
        assert np.allclose(m.loc[net, f"{c}_f"].to_numpy(float), m.loc[net, f"{c}_l"].to_numpy(float), equal_nan=True, atol=1e-9), c
    heat = m["family_f"] == "heat"
    assert np.allclose(m.loc[heat, "after_f"].to_numpy(float), m.loc[heat, "after_l"].to_numpy(float), equal_nan=True, atol=1e-3)


def test_car_park_depaved_into_tree_park_is_better_and_nothing_worse(demo_area, base):
    plan = _plan([{"feature_type": "green", "kind": "wood", "public": True, "name": "Stationsbos", "geometry": R(*PARKING_STATION)}], demo_area)
    r = screen(demo_area, plan, before=base)
    _nothing(r, "worse")
    # the existing car park is replaced, not kept under the park
    assert r.applied["landuse_replaced_m2"] == pytest.approx(90 * 90, rel=1e-6)
    assert not (r.after.area.landuse["kind"] == "parking").any()
    for key in ("green_300m_05ha_share", "stop_p", "runoff_mm_mean", "impervious_share", "heat_index_mean", "canopy_walk_share"):
        assert r.row(key, "plan")["direction"] == "better", key
    # P by hand: the parking part (8 100 m² of 90² + 2 x 100 x 180 + pi x 100² m² = 10.7 % >= 10 %: full) goes, the speed part stays
    st = load_norms("stop")
    ws, wp = float(st["p_weight_speed"].value), float(st["p_weight_parking"].value)
    share = 90 * 90 / _area_buffer(90, 90, 100.0)
    p = r.row("stop_p", "plan")
    assert p["before"] - p["after"] == pytest.approx(100.0 * wp * min(1.0, share / float(st["p_parking_share_full"].value)) / (ws + wp), rel=1e-3)
    assert r.row("green_300m_05ha_share", "stad")["residents_improved"] > 0


def test_housing_far_from_green_and_transit(demo_area, base):
    plan = _plan([{"feature_type": "building", "dwellings": 40, "levels": 4, "geometry": R(1370, 915, 1450, 950)}], demo_area)
    r = screen(demo_area, plan, before=base)
    _nothing(r, "better")
    # 40 dwellings x 2.3 residents per dwelling
    g = r.row("green_300m_05ha_share", "stad")
    assert g["new_residents"] == pytest.approx(92.0)
    # existing residents: nobody gains or loses green, bus or park access
    for key in ("green_300m_05ha_share", "wheelchair_reach_bus_stop", "walker_reach_park", "centre_lts12_share"):
        row = r.row(key, "stad")
        assert row["residents_improved"] == 0 and row["residents_worsened"] == 0, key
    # new residents fail the green norm: red although the zone mean hardly moves
    assert g["new_meet_share"] == 0.0 and g["new_verdict"] == "voldoet niet" and g["light"] == "rood"
    items = {i.id: i for i in build_checklist(r)}
    assert items["groen_nieuwe_bewoners"].score == "-"


def test_demolition_reports_displacement_with_age_groups_of_own_wijk(demo_area):
    a = demo_area.copy()
    w = a.themes["wijken"].copy()
    w["residents_65plus"] = np.where(w["wijk_code"] == "DEMO01", 0.25, 0.10) * w["residents"]
    w["residents_0_5"] = np.where(w["wijk_code"] == "DEMO01", 0.06, 0.02) * w["residents"]
    a.themes["wijken"] = w
    before = compute_situation(a, ("network",))
    blk = R(151, 1051, 299, 1199)  # one whole perimeter block in the Centrum (DEMO01)
    b = a.buildings
    gone = b[b.within(blk)]
    res = gone["residents"].to_numpy(float)
    r = screen(a, _plan([{"feature_type": "demolition", "geometry": blk}], a), before=before)
    d = r.displacement
    assert d["homes"] == int((res > 0).sum()) and d["residents"] == pytest.approx(res.sum())
    assert d["residents_65plus"] == pytest.approx(0.25 * res.sum()) and d["residents_0_5"] == pytest.approx(0.06 * res.sum())
    assert d["per_wijk"] == {"DEMO01": pytest.approx(res.sum())}
    row = r.row("green_300m_05ha_share", "plan")
    assert row["removed_residents"] == pytest.approx(res.sum()) and row["removed_65plus"] == pytest.approx(0.25 * res.sum())
    # the departure of residents is no change for anybody who stays
    assert r.row("stop_o", "plan")["direction"] == "neutral"
    assert r.row("green_per_resident_m2", "plan")["direction"] == "neutral"  # fewer residents is not more green


def test_building_with_zero_dwellings_is_no_home(demo_area, base):
    plan = _plan([{"feature_type": "building", "dwellings": 0, "use": "school", "geometry": R(1370, 915, 1450, 950)},
                  {"feature_type": "building", "dwellings": 0, "geometry": R(1370, 1000, 1450, 1030)}], demo_area)
    r = screen(demo_area, plan, before=base, families=("network",))
    assert len(r.after.homes) == len(base.homes)
    assert (r.deltas["new_residents"].fillna(0) == 0).all() and (r.deltas["new_verdict"] == "").all()
    assert r.displacement["homes"] == 0


def test_feature_on_a_wijk_boundary_is_counted_once(demo_area, base):
    bldg = R(1045, 1100, 1055, 1120)  # straddles x = 1050, the boundary of Centrum and Stationswijk
    r = screen(demo_area, _plan([{"feature_type": "building", "dwellings": 10, "geometry": bldg}], demo_area), before=base, families=("network",))
    assert set(r.zones.plan_codes) >= {"DEMO01", "DEMO02"}
    assert len(r.after.homes) == len(base.homes) + 1
    assert r.after.area.wijken["residents"].sum() == pytest.approx(demo_area.wijken["residents"].sum() + 23.0)
    assert r.after.homes["residents"].sum() == pytest.approx(base.homes["residents"].sum() + 23.0)
    assert r.row("green_300m_05ha_share", "stad")["new_residents"] == pytest.approx(23.0)
    assert r.row("green_300m_05ha_share", "omgeving")["new_residents"] == pytest.approx(23.0)


def test_housing_on_a_flood_bank_raises_residents_in_the_flood_zone(demo_area, base):
    # courtyard north of the river at x = 480-560, within flood_buffer_m (25 m) of the river bank
    plan = _plan([{"feature_type": "building", "dwellings": 20, "levels": 3, "geometry": R(480, 769, 560, 777)}], demo_area)
    r = screen(demo_area, plan, before=base)
    assert r.displacement["homes"] == 0
    row = r.row("residents_flood_prone_share", "stad")
    rb, ra = base.homes["residents"].sum(), r.after.homes["residents"].sum()
    assert ra == pytest.approx(rb + 46.0)
    # residents in the flood zone rise by exactly the 46 new residents (20 dwellings x 2.3)
    assert row["after"] * ra == pytest.approx(row["before"] * rb + 46.0)
    assert row["new_meet_share"] == 0.0 and row["light"] == "rood"
    assert row["residents_improved"] == 0 and row["residents_worsened"] == 0


def test_new_70_road_through_a_residential_street_cuts_low_stress_reach(demo_area, base):
    # Centrumstraat 1050 (zone 30, x = 0-1050) becomes a 70 km/h road
    plan = _plan([{"feature_type": "street", "regime": "70", "geometry": L((0, 1050), (1050, 1050))}], demo_area)
    r = screen(demo_area, plan, before=base, families=("network",))
    assert r.applied["street_edges_changed"] == 7 and r.applied["street_length_added_m"] == 0
    _nothing(r, "better")
    c = r.row("centre_lts12_share", "stad")
    assert c["residents_worsened"] > 0 and c["residents_improved"] == 0 and c["light"] == "rood"
    assert r.row("school_lts12_share", "stad")["residents_worsened"] > 0
    for key in ("stop_t", "lts12_share_length"):
        assert r.row(key, "plan")["direction"] == "worse", key
    # a planner answering 'safe streets: yes' is contradicted and never green
    items = {i.id: i for i in build_checklist(r, {"veiligheid": {"answer": "ja", "toelichting": "zone 30"}})}
    v = items["veiligheid"]
    assert v.contradicted and v.score == "-" and v.planner_answer.startswith("ja") and "1050 m" in v.evidence


def test_deleting_a_street_improves_nothing(demo_area, base):
    plan = _plan([{"feature_type": "closure", "regime": "verwijderd", "geometry": L((600, 900), (600, 1050))}], demo_area)
    r = screen(demo_area, plan, before=base)
    assert r.applied["street_edges_removed"] == 1
    _nothing(r, "better")
    # one 150 m edge of the fietsstraat Demerlaan is gone
    f = r.row("fietsstraat_km", "stad")
    assert f["before"] == pytest.approx(0.6) and f["after"] == pytest.approx(0.45)
    assert r.row("centre_lts12_share", "plan")["residents_worsened"] > 0


def test_plan_format_validates_attributes_in_dutch(demo_area):
    with pytest.raises(PlanError, match="voorziening met soort"):
        _plan([{"feature_type": "facility", "kind": "casino", "geometry": shapely.Point(X0 + 1400, Y0 + 1000)}], demo_area)
    with pytest.raises(PlanError, match="regime 'snel' is onbekend"):
        _plan([{"feature_type": "street", "regime": "snel", "geometry": L((0, 1050), (150, 1050))}], demo_area)
    with pytest.raises(PlanError, match="parkeerplaatsen"):
        _plan([{"feature_type": "parking", "spaces": -3, "geometry": R(*PARKING_STATION)}], demo_area)
    with pytest.raises(PlanError, match="geluidsscherm heeft een hoogte nodig"):
        _plan([{"feature_type": "noise_barrier", "geometry": L((0, 20), (300, 20))}], demo_area)
    with pytest.raises(PlanError, match="een punt of een vlak"):
        _plan([{"feature_type": "facility", "kind": "school", "geometry": L((0, 20), (300, 20))}], demo_area)


def test_facility_feeds_stop_and_counts_as_sensitive(demo_area, base):
    # a kinderopvang and a bus stop on the brownfield, and a school in the river's flood zone
    plan = _plan([
        {"feature_type": "facility", "kind": "bushalte", "geometry": shapely.Point(X0 + 1400, Y0 + 1050)},
        {"feature_type": "facility", "kind": "kinderopvang", "geometry": shapely.Point(X0 + 1420, Y0 + 1050)},
        {"feature_type": "facility", "kind": "school", "geometry": R(480, 769, 560, 777)},
    ], demo_area)
    r = screen(demo_area, plan, before=base)
    assert r.applied["facilities_added"] == 3
    cats = r.after.area.pois["category"].tolist()
    assert cats.count("childcare") == 1 and cats.count("bus_stop") == (base.area.pois["category"] == "bus_stop").sum() + 1
    s = r.row("sensitive_flood_n", "stad")
    assert s["before"] == 0 and s["after"] == 1 and s["direction"] == "worse"
    assert r.row("stop_o", "plan")["direction"] == "better"


def test_plan_zone_is_the_buffered_features_not_the_hull(demo_area):
    a1, a2 = R(200, 950, 220, 970), R(1700, 200, 1720, 220)  # two 20 m squares 1.8 km apart
    plan = _plan([{"feature_type": "green", "geometry": a1}, {"feature_type": "green", "geometry": a2}], demo_area)
    d = float(load_norms("screening")["plan_zone_buffer_m"].value)
    z = plan_area(plan).geometry.iloc[0]
    assert z.area == pytest.approx(2 * _area_buffer(20, 20, d), rel=1e-6)
    assert not z.contains(shapely.Point(X0 + 960, Y0 + 585))  # the middle of the hull is not in the plan zone


def test_heat_discriminates_and_paving_6_6_ha_is_not_hidden(demo_area, base):
    # the harmful plan: the 1 ha Begijnhofpark and a 5.6 ha car park on the Stationsveld paved
    plan = _plan([{"feature_type": "parking", "geometry": R(*BEGIJNHOF)},
                  {"feature_type": "parking", "geometry": R(1360, 910, 1600, 1143)}], demo_area)
    assert plan.footprint.area == pytest.approx(105 * 95 + 240 * 233, rel=1e-9)  # 6.59 ha
    r = screen(demo_area, plan, before=base, families=("heat",))
    _nothing(r, "better")
    for key in ("heat_index_mean", "heat_index_p90", "heat_c_home", "residents_hot_share"):
        assert r.row(key, "plan")["direction"] == "worse", key
    h = r.row("heat_c_home", "plan")
    assert h["residents_worsened"] > 0 and h["existing_change"] > float(load_norms("screening")["delta_neutral_c"].value)
    # the hottest places (>= the city's 80th percentile before the plan) separate the wood from the centre
    fam = base.families["heat"]
    uhi = float(load_norms("heat")["uhi_max_c"].value)
    thr = np.nanquantile(fam.cells["heat_index"], float(load_norms("heat")["hot_city_quantile"].value)) * uhi
    from rasterio import features as rfeatures

    def cells(poly):
        m = rfeatures.rasterize([(poly, 1)], out_shape=fam.grid.shape, transform=fam.grid.transform, fill=0, dtype="uint8").astype(bool)
        return fam.cells["heat_index"][m] * uhi

    wood = demo_area.green[demo_area.green["name"] == "Zuidbos"].geometry.iloc[0]
    assert (cells(wood.buffer(-20)) < thr).all()
    centre = cells(R(300, 1050, 900, 1450))
    assert np.median(centre) > np.nanmedian(fam.cells["heat_index"]) * uhi  # the dense centre is hotter than half the city
    assert np.median(centre) - np.median(cells(wood.buffer(-20))) > 0.15  # and clearly hotter than the wood (°C)
