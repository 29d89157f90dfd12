"""The air light that tells a good site from a bad one (issue 13, item 4), and the city's own background.

Rule (data/norms/air.toml ``site_increment_share_of_limit``): per home RED above the EU 2030 limit
value or when the near-road increment exceeds 3 % of that limit value (Dutch NIBM: 0,6 µg/m³ NO2,
0,3 µg/m³ PM2.5); ORANGE when only the annual mean is above the WHO 2021 guideline; GREEN at or
below it.

Directions reasoned out on the demo town before running (ring: 15 000 vehicles/day at 70 km/h along
y = 0 and x = 1950; the Stationsveld lies 450 m and more from the ring and from the 50 km/h roads, on
30 km/h streets of 500 vehicles/day):

* 40 dwellings on the west of the Stationsveld: the increment there is a few tenths of a µg/m³ (the
  baseline homes 200-500 m from the ring have a median NO2 increment of about 0,4), below 0,6; with the
  project background (NO2 18, PM2.5 9, both above WHO) the light is orange "door de achtergrond", not red;
* the same 40 dwellings 8-30 m from the ring: the NO2 increment there is about 1,5-2 µg/m³ > 0,6: red,
  wherever the background lies; PM2.5 from traffic is an order of magnitude smaller (about 0,1-0,15
  µg/m³ < 0,3): orange with the project background;
* the city's background below WHO (NO2 8, PM2.5 4): the Stationsveld homes stay at or below 10 and 5
  µg/m³, green; the ring homes stay red for NO2.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from gezondestad.layers.demo import X0, Y0
from gezondestad.model.norms import load_norms
from gezondestad.model.studyarea import StudyArea
from gezondestad.screening.compare import (
    AIR_ABOVE_WHO_BACKGROUND,
    before_positions,
    compute_situation,
    light,
    screen,
    situation_keys,
)
from gezondestad.screening.plan import plan_from_frame
from gezondestad.screening.verdict import findings
from gezondestad.spatial.air import (
    DEFAULT_BACKGROUND_SOURCE,
    AirInputError,
    AirParams,
    air_exposure,
    background_above_who,
    site_increment_limit,
    site_light,
)
from shapely.geometry import box

LOW_BACKGROUND = {"no2_ugm3": 8.0, "pm25_ugm3": 4.0, "source": "testwaarde onder de WHO-advieswaarde", "year": "2023"}


def R(x0: float, y0: float, x1: float, y1: float):
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


FAR = [{"feature_type": "building", "dwellings": 40, "levels": 4, "name": "Blok Stationsveld West", "geometry": R(1370, 950, 1470, 1050)}]
"""40 dwellings 480 m from the ring, 450 m from the Noorderlaan, on 30 km/h streets."""
RING = [{"feature_type": "building", "dwellings": 40, "levels": 4, "name": "Blok aan de ring", "geometry": R(1300, 8, 1400, 30)}]
"""The same 40 dwellings 8-30 m from the axis of the 70 km/h Zuidelijke Ring."""


# ------------------------------------------------------------------------------------------------
# the rule on hand-made values
# ------------------------------------------------------------------------------------------------


def test_increment_limit_is_three_percent_of_the_eu_2030_limit_value():
    p = AirParams.from_norms()
    n = load_norms("air")
    assert float(n["site_increment_share_of_limit"].value) == pytest.approx(0.03)
    assert "niet in betekenende mate" in n["site_increment_share_of_limit"].source
    assert site_increment_limit("no2", p) == pytest.approx(0.6)
    assert site_increment_limit("pm25", p) == pytest.approx(0.3)


def test_site_light_separates_site_from_background():
    p = AirParams.from_norms()  # WHO 10 / 5, EU 2030 20 / 10, increment limit 0,6 / 0,3
    total = np.array([9.9, 10.0, 12.0, 12.0, 19.9, 20.0, 20.1, 9.0, np.nan])
    inc = np.array([0.1, 0.6, 0.5, 0.61, 0.6, 0.2, 0.1, 0.9, 0.1])
    assert site_light(total, inc, "no2", p).tolist() == [0, 0, 1, 2, 1, 1, 2, 2, -1]
    # a home below WHO with a large increment is red: the site, not the background, decides
    pm = site_light(np.array([4.0, 6.0, 6.0, 10.5]), np.array([0.35, 0.3, 0.31, 0.0]), "pm25", p)
    assert pm.tolist() == [2, 1, 2, 2]
    with pytest.raises(AirInputError):
        site_light(total, inc, "o3", p)


def test_orange_verdicts_give_an_orange_light_never_red():
    assert light("neutral", AIR_ABOVE_WHO_BACKGROUND) == "oranje"
    assert light("worse", AIR_ABOVE_WHO_BACKGROUND) == "rood"  # existing residents worse off still decide
    assert light("neutral", "voldoet niet") == "rood"


# ------------------------------------------------------------------------------------------------
# the city's background
# ------------------------------------------------------------------------------------------------


def _with_background(area: StudyArea, bg: object) -> StudyArea:
    return StudyArea(area.name, area.themes, area.landcover, {**area.manifest, "air_background": bg})


def test_project_default_background_is_said_to_be_no_city_value(demo_area):
    p = AirParams.for_area(demo_area)
    n = load_norms("air")
    assert p.background_no2_ugm3 == float(n["background_no2_ugm3"].value)
    assert p.background_pm25_ugm3 == float(n["background_pm25_ugm3"].value)
    assert p.background_source == DEFAULT_BACKGROUND_SOURCE
    assert background_above_who("no2", p) and background_above_who("pm25", p)
    for key in ("background_no2_ugm3", "background_pm25_ugm3"):
        assert "No Mechelen value found" in n[key].source and "air_background" in n[key].note


def test_city_background_from_the_manifest_and_the_cli_wins(demo_area):
    p = AirParams.for_area(_with_background(demo_area, LOW_BACKGROUND))
    assert (p.background_no2_ugm3, p.background_pm25_ugm3) == (8.0, 4.0)
    assert "testwaarde" in p.background_source and "2023" in p.background_source
    assert not background_above_who("no2", p) and not background_above_who("pm25", p)
    q = AirParams.for_area(_with_background(demo_area, LOW_BACKGROUND), background_no2_ugm3=12.5)
    assert (q.background_no2_ugm3, q.background_pm25_ugm3) == (12.5, 4.0)
    assert q.background_source.startswith("opgegeven als parameter") and "testwaarde" in q.background_source
    # the background is the only thing that moves: parameters compare equal otherwise
    assert AirParams.for_area(demo_area, background_no2_ugm3=8.0, background_pm25_ugm3=4.0) == p


@pytest.mark.parametrize("bg", [{"no2_ugm3": 8.0}, {"no2_ugm3": "acht", "source": "x"}, [8.0, 4.0]])
def test_city_background_without_source_or_number_is_refused(demo_area, bg):
    with pytest.raises(AirInputError) as exc:
        AirParams.for_area(_with_background(demo_area, bg))
    assert "air_background" in str(exc.value)


def test_city_background_moves_pm25_one_to_one_and_is_named_in_the_notes(demo_area):
    base = air_exposure(demo_area)
    low = air_exposure(_with_background(demo_area, LOW_BACKGROUND))
    # PM2.5 = background + traffic increment: the same traffic, 5 µg/m³ less background
    d = base.homes["pm25_ugm3"].to_numpy() - low.homes["pm25_ugm3"].to_numpy()
    assert np.allclose(d, 9.0 - 4.0, atol=1e-9)
    # NO2 is ozone-limited (Düring et al. 2011): at a lower background the same NOx gives a larger NO2 increment
    assert np.all(low.homes["no2_increment_ugm3"].to_numpy() >= base.homes["no2_increment_ugm3"].to_numpy() - 1e-9)
    assert any("testwaarde" in n and "8,0" in n for n in low.notes)
    assert any("projectstandaard" in n and "18,0" in n for n in base.notes)


# ------------------------------------------------------------------------------------------------
# the light on plans of the demo town
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screened(demo_area):
    low_area = _with_background(demo_area, LOW_BACKGROUND)
    areas = {"project": demo_area, "low": low_area}
    bases: dict[str, object] = {}
    cache: dict[tuple[str, str], object] = {}

    def run(bg: str, name: str):
        if (bg, name) not in cache:
            area = areas[bg]
            if bg not in bases:
                bases[bg] = compute_situation(area)
            rows = {"far": FAR, "ring": RING}[name]
            plan = plan_from_frame(gpd.GeoDataFrame(rows, geometry="geometry", crs=area.crs), area=area)
            cache[(bg, name)] = screen(area, plan, before=bases[bg], local=True)
        return cache[(bg, name)]

    return run


def _new_homes(r, col: str) -> np.ndarray:
    pos = before_positions(r.before, r.after.homes, situation_keys(r.after))
    v = r.after.families["air"].homes[col].to_numpy(dtype=float)
    return v[pos < 0]


def test_homes_far_from_main_roads_are_orange_by_the_background_not_red(screened):
    r = screened("project", "far")
    assert _new_homes(r, "no2_increment_ugm3").size > 0
    assert np.all(_new_homes(r, "no2_increment_ugm3") < 0.6)
    for key in ("no2_mean_ugm3", "pm25_mean_ugm3", "above_who_no2_share", "above_who_pm25_share"):
        row = r.row(key, "plan")
        assert row["new_residents"] > 0
        assert row["light"] == "oranje" and row["new_verdict"] == AIR_ABOVE_WHO_BACKGROUND, (key, row["new_verdict"])
        assert row["new_meet_share"] == pytest.approx(1.0)
    # the absolute classes stay shown per home: everyone above the WHO guideline, below the EU 2030 value
    assert "boven WHO-advieswaarde (> 10 µg/m³)" in r.row("no2_mean_ugm3", "plan")["new_classes"]
    harms, new_fails, _, _ = findings(r)
    assert not any(f.family == "air" for f in harms + new_fails)


def test_homes_next_to_the_ring_are_red_for_no2_and_a_condition_on_the_plan(screened):
    r = screened("project", "ring")
    inc = _new_homes(r, "no2_increment_ugm3")
    assert inc.size > 0 and np.all(inc > 0.6), inc
    for key in ("no2_mean_ugm3", "above_who_no2_share"):
        row = r.row(key, "plan")
        assert row["light"] == "rood" and row["new_verdict"] == "voldoet niet", key
        assert row["new_meet_share"] == pytest.approx(0.0)
    # PM2.5 from traffic is small next to its regional background: the site does not make it red
    assert np.all(_new_homes(r, "pm25_increment_ugm3") < 0.3)
    assert r.row("pm25_mean_ugm3", "plan")["light"] == "oranje"
    _, new_fails, _, _ = findings(r)
    air = [f for f in new_fails if f.family == "air"]
    assert any(f.key == "no2_mean_ugm3" for f in air) and all(f.kind == "condition" for f in air)


def test_background_below_who_makes_the_quiet_site_green_and_the_ring_stays_red(screened):
    far = screened("low", "far")
    assert np.all(_new_homes(far, "no2_ugm3") <= 10.0) and np.all(_new_homes(far, "pm25_ugm3") <= 5.0)
    for key in ("no2_mean_ugm3", "pm25_mean_ugm3", "above_who_no2_share", "above_who_pm25_share"):
        row = far.row(key, "plan")
        assert row["light"] == "groen" and row["new_verdict"] == "voldoet", key
    ring = screened("low", "ring")
    assert ring.row("no2_mean_ugm3", "plan")["light"] == "rood"
    assert any("testwaarde" in n for n in ring.after.families["air"].raw.notes)
