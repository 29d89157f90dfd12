"""The baseline table (data/norms/health_baseline.csv) against the Statbel / Statistiek Vlaanderen figures it cites.

Sourced figures (Flemish Region, pre-COVID):
- crude death rate 2019: 9.5 per 1,000 (Statbel, 'Mortality rates, per sex and region, 2000-2019',
  statbel.fgov.be/en/themes/population/mortality-life-expectancy-and-causes-death/mortality);
- deaths before age 75 in 2017: 17,834, 29 % of all deaths (Statistiek Vlaanderen, 'Sterfte');
- life expectancy at birth 2019: 82.7 years, both sexes (Statbel, 'Levensverwachting Belgische
  bevolking 81,8 jaar in 2019');
- share of residents aged 65+ in 2020: 20.5 % (Statistiek Vlaanderen, 'Sterfte').
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gezondestad.model.norms import NORMS_DIR
from gezondestad.spatial.health import HealthParams

STATBEL_CRUDE_PER_1000_2019 = 9.5
STATVL_PREMATURE_SHARE_2017 = 0.29
STATBEL_E0_FLANDERS_2019 = 82.7
STATVL_SHARE_65PLUS_2020 = 0.205


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(NORMS_DIR / "health_baseline.csv", comment="#")


def _life_expectancy(t: pd.DataFrame, ages: list[float], step: float = 0.01) -> list[float]:
    """Remaining life expectancy at ``ages`` of a life table with a constant hazard per band."""
    a = np.arange(0.0, float(t["age_hi"].max()) + 1.0, step)
    h = np.zeros_like(a)
    for _, r in t.iterrows():
        h[(a >= r["age_lo"]) & (a < r["age_hi"] + 1)] = r["mortality_per_1000"] / 1000.0
    surv = np.exp(-np.concatenate([[0.0], np.cumsum(h)[:-1]]) * step)
    out = []
    for x in ages:
        i = int(round(x / step))
        out.append(float(surv[i:].sum() * step / surv[i]))
    return out


def test_crude_death_rate_matches_statbel(table: pd.DataFrame) -> None:
    # Statbel publishes the crude rate to 0.1 per 1,000 (+-0.5 %); the shares are rounded to 0.001:
    # 1 % tolerance. Before the 2026-12-01 correction the table gave 9.33 (1.8 % low) and failed this.
    crude = float((table["pop_share"] * table["mortality_per_1000"]).sum() / table["pop_share"].sum())
    assert crude == pytest.approx(STATBEL_CRUDE_PER_1000_2019, rel=0.01)
    # the engine reads the same numbers (rates per person)
    p = HealthParams.from_norms()
    assert 1000 * sum(b.pop_share * b.mortality for b in p.bands) == pytest.approx(crude, rel=1e-9)


def test_band_shape_share_of_deaths_before_75(table: pd.DataFrame) -> None:
    # independent of the level: the share of deaths before 75 depends only on the band shape.
    # 29 % in 2017, 27 % in 2023 (Statistiek Vlaanderen): +-2 percentage points covers the trend.
    d = table["pop_share"] * table["mortality_per_1000"]
    share = float(d[table["age_hi"] < 75].sum() / d.sum())
    assert abs(share - STATVL_PREMATURE_SHARE_2017) <= 0.02


def test_age_structure_65plus(table: pd.DataFrame) -> None:
    share = float(table.loc[table["age_lo"] >= 65, "pop_share"].sum() / table["pop_share"].sum())
    assert abs(share - STATVL_SHARE_65PLUS_2020) <= 0.01


def test_life_table_of_the_rates_gives_statbel_life_expectancy(table: pd.DataFrame) -> None:
    # A constant hazard per band (infant deaths spread over 0-5, rising hazard flattened within a band)
    # is a coarse life table: 0.75 year (~1 %) tolerance on life expectancy at birth.
    (e0,) = _life_expectancy(table, [0.0])
    assert e0 == pytest.approx(STATBEL_E0_FLANDERS_2019, abs=0.75)


def test_young_bands_life_expectancy_follows_statbel(table: pd.DataFrame) -> None:
    # bands 0-5, 6-19, 20-44: 82.7 minus the years lived before the band's middle age in the
    # table's own life table (fewer than 1 % die before 32, so the band shape hardly matters);
    # the CSV holds these rounded to 0.1 year
    mids = {"0-5": 2.5, "6-19": 12.5, "20-44": 32.0}
    e = _life_expectancy(table, [0.0, *mids.values()])
    for (band, _), ex in zip(mids.items(), e[1:]):
        expected = STATBEL_E0_FLANDERS_2019 - (e[0] - ex)
        got = float(table.loc[table["age_band"] == band, "life_expectancy_years"].iloc[0])
        assert got == pytest.approx(expected, abs=0.1), band
    # the older bands are kept (unsourced per band) and stay at or below the table's life table:
    # years of life lost there are conservative, never inflated
    older = {"45-64": 54.5, "65-74": 69.5, "75-84": 79.5, "85+": 87.0}
    for (band, _), ex in zip(older.items(), _life_expectancy(table, list(older.values()))):
        got = float(table.loc[table["age_band"] == band, "life_expectancy_years"].iloc[0])
        assert got <= ex + 0.1, band


def test_ihd_incidence_at_least_myocardial_infarction(table: pd.DataFrame) -> None:
    # Acute myocardial infarction is one form of ischaemic heart disease: the IHD incidence of the
    # table cannot be below Belgium's AMI incidence, 177 per 100,000 in 2016 (19,948 cases;
    # Sciensano, healthybelgium.be 'Ischemic heart disease'). Only a lower bound: the band values
    # themselves are unverified (see the CSV header).
    crude = float((table["pop_share"] * table["ihd_incidence_per_100000"]).sum() / table["pop_share"].sum())
    assert crude >= 177.0
