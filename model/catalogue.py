"""The one indicator catalogue: every indicator described once.

Each :class:`Indicator` says what a number means (Dutch label and plain explanation), its unit
and direction, the norm that defines it (and so its source, in ``data/norms``), the level it is
computed at (home, segment, cell or wijk), how it is drawn (colour ramp, legend), and where the
screening finds it in a family's result (``home_col``, ``seg_col``, ``cell``, ``zone_fn``).

App pages, the screening and its report, exports and the CLI read this catalogue; a new
indicator family adds its entries here and a function in ``spatial/``, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["home", "segment", "cell", "wijk"]


@dataclass(frozen=True)
class Display:
    """How an indicator is drawn on a map and in a legend.

    Attributes
    ----------
    ramp : str
        Matplotlib colour-map name; reversed ramps end in ``_r``. The ramp runs from ``vmin``
        (first colour) to ``vmax`` (last colour).
    vmin, vmax : float or None
        Fixed, meaningful scale ends in the indicator's unit (None: from the data).
    legend : str
        Dutch legend title.
    """

    ramp: str = "RdYlGn"
    vmin: float | None = None
    vmax: float | None = None
    legend: str = ""


@dataclass(frozen=True)
class Indicator:
    """One indicator.

    Attributes
    ----------
    key : str
        Identifier, also the per-wijk column name of the family's result.
    family : str
        ``network``, ``accessibility``, ``heat``, ``water``, ``traffic``, ``noise``, ``air``, ``health``.
    label : str
        Dutch label.
    explanation : str
        Plain Dutch explanation for cards and the report.
    unit : str
        ``%`` is a share 0..1 shown as percent; others are shown after the number.
    higher_is_better : bool or None
        Direction; None means context only (never better or worse).
    level : {"home", "segment", "cell", "wijk"}
        What the indicator is computed for before it is aggregated per wijk.
    norm : (family, key) or None
        The norm that defines it in ``data/norms/<family>.toml`` (its source is shown with it).
    display : Display
        Colour ramp and legend.
    home_col, seg_col, cell : str or None
        Per-home column, per-segment column (length-weighted) or raster of the family result
        that the screening reads for zone values.
    zone_fn : str or None
        Name of a screening zone function for indicators that are not a plain mean.
    wijk_agg : {"mean", "sum"}
        How per-wijk values combine over several wijken (resident-weighted mean or sum).
    in_screening : bool
        Shown in the screening's before/after table.
    on_card : bool
        Shown on the app's wijk card and comparison chart.
    """

    key: str
    family: str
    label: str
    explanation: str
    unit: str
    higher_is_better: bool | None
    level: Level
    norm: tuple[str, str] | None = None
    display: Display = Display()
    home_col: str | None = None
    seg_col: str | None = None
    cell: str | None = None
    zone_fn: str | None = None
    wijk_agg: Literal["mean", "sum"] = "mean"
    in_screening: bool = True
    on_card: bool = True


FAMILY_LABELS: dict[str, str] = {
    "network": "Groen, fietsen en STOP",
    "accessibility": "Toegankelijkheid",
    "heat": "Hitte",
    "water": "Water",
    "traffic": "Verkeer",
    "noise": "Geluid",
    "air": "Lucht",
    "health": "Gezondheid",
}
"""Dutch name of each indicator family."""

_GOOD = Display("RdYlGn", 0.0, 1.0)
_BAD = Display("RdYlGn_r", 0.0, 1.0)
_SCORE = Display("RdYlGn", 0.0, 100.0)

CATALOGUE: tuple[Indicator, ...] = (
    # --- network: green, cycling, STOP ------------------------------------------------------
    Indicator("green_300m_05ha_share", "network", "Inwoners met publiek groen (≥ 0,5 ha) binnen 300 m wandelen",
              "Deel van de inwoners dat langs straten en paden binnen 300 m een publieke groene ruimte van minstens "
              "0,5 ha bereikt (WHO-richtlijn).", "%", True, "home", ("green", "who_distance_m"), _GOOD,
              home_col="green_300m_05ha"),
    Indicator("green_per_resident_m2", "network", "Publiek groen per inwoner",
              "Oppervlakte publiek toegankelijk groen in de wijk, gedeeld door het aantal inwoners.",
              "m²/inw.", True, "wijk", ("green", "who_min_area_ha"), Display("Greens", 0.0, 50.0),
              zone_fn="green_per_resident"),
    Indicator("canopy_share", "network", "Boomkroonbedekking",
              "Deel van de wijk onder bomen volgens de bodembedekkingskaart (enkel gekarteerde bossen en bomenrijen; "
              "straat- en tuinbomen ontbreken vaak). De 3-30-300-regel vraagt 30 %.", "%", True, "cell",
              ("green", "rule_3_30_300_canopy_share"), Display("Greens", 0.0, 0.5), in_screening=False),
    Indicator("lts12_share_length", "network", "Fietsbare straten met lage stress (LTS 1–2)",
              "Deel van de fietsbare straatlengte waar een gewone volwassene zich veilig voelt (Level of Traffic "
              "Stress 1 of 2, uit snelheid, rijstroken en fietsinfrastructuur).", "%", True, "segment",
              ("lts", "low_stress_max_lts"), _GOOD, zone_fn="lts12"),
    Indicator("fietsstraat_km", "network", "Fietsstraten",
              "Lengte aan fietsstraten in de wijk (auto's mogen fietsers niet inhalen, maximaal 30 km/u).",
              "km", True, "segment", ("screening", "fietsstraat_maxspeed"), Display("Blues", 0.0, None),
              zone_fn="fietsstraat_km", wijk_agg="sum"),
    Indicator("stop_s", "network", "STOP – Stappers (S)",
              "Hoeveel van de dagelijkse bestemmingen (winkel, school, huisarts/apotheek, park, bushalte) inwoners "
              "binnen 10 minuten wandelen bereiken.", "/100", True, "home", ("stop", "walk_minutes"), _SCORE,
              zone_fn="stop"),
    Indicator("stop_t", "network", "STOP – Trappers (T)",
              "Bereikbaarheid van centrum en school met lage fietsstress, en het aandeel laag-stress straten.",
              "/100", True, "home", ("stop", "t_weight_centre"), _SCORE, zone_fn="stop"),
    Indicator("stop_o", "network", "STOP – Openbaar vervoer (O)",
              "Inwoners binnen 400 m wandelen van een bus- of tramhalte en binnen 800 m van een station.",
              "/100", True, "home", ("stop", "o_bus_distance_m"), _SCORE, zone_fn="stop"),
    Indicator("stop_p", "network", "STOP – Privé-auto (P; hoger = meer autodominantie)",
              "Aandeel straten waar sneller dan 50 km/u mag en oppervlakte parkeren. Volgens het STOP-principe "
              "hoort P het laagst te scoren.", "/100", False, "wijk", ("stop", "p_speed_above_kmh"),
              Display("RdYlGn_r", 0.0, 100.0), zone_fn="stop"),
    Indicator("stop_order_ok", "network", "STOP-volgorde gerespecteerd (S ≥ T ≥ O ≥ P)",
              "Of de scores de volgorde van het STOP-principe volgen (ja/nee).", "ja/nee", True, "wijk",
              ("stop", "walk_minutes"), _GOOD, zone_fn="stop", on_card=False, in_screening=False),
    Indicator("stop_plan_active_share", "network", "STOP in het plan: straatlengte voor stappers en trappers",
              "Deel van de straten en paden die het plan aanlegt of herinricht dat voorbehouden is aan wandelen, "
              "fietsen en openbaar vervoer (paden, fietspaden, fietsstraten, autovrij) tegenover straten voor auto's. "
              "Het STOP-principe vraagt dat stappers en trappers eerst komen.", "%", True, "segment",
              ("stop", "walk_minutes"), _GOOD, zone_fn="stop_plan", on_card=False),
    Indicator("stop_plan_active_space_share", "network", "STOP in het plan: publieke ruimte voor stappers en trappers",
              "Deel van de publieke ruimte die het plan aanlegt (publiek groen, paden, fietspaden, autovrije straten) "
              "tegenover ruimte voor auto's (autostraten en parkeren).", "%", True, "cell",
              ("stop", "walk_minutes"), _GOOD, zone_fn="stop_plan", on_card=False),
    Indicator("centre_lts12_share", "network", "Inwoners die het centrum met lage fietsstress bereiken",
              "Deel van de inwoners dat het centrum per fiets bereikt over straten met LTS 1–2, met beperkte omweg.",
              "%", True, "home", ("lts", "max_detour_ratio"), _GOOD, home_col="centre_lts12"),
    Indicator("school_lts12_share", "network", "Inwoners die een school met lage fietsstress bereiken",
              "Deel van de inwoners dat een school per fiets bereikt over straten met LTS 1–2, met beperkte omweg.",
              "%", True, "home", ("lts", "max_detour_ratio"), _GOOD, home_col="school_lts12", on_card=False),
    # --- accessibility ----------------------------------------------------------------------
    Indicator("wheelchair_pass_share", "accessibility", "Looproutes die voldoen voor een rolstoel",
              "Deel van de wandelbare lengte waar breedte, helling, verharding en boordstenen volgens de gegevens "
              "voldoen.", "%", True, "segment", ("accessibility", "network_min_width_m"), _GOOD,
              seg_col="wheelchair_pass"),
    Indicator("wheelchair_unknown_share", "accessibility", "Looproutes zonder oordeel (gegevens ontbreken)",
              "Deel van de wandelbare lengte waarvoor breedte, helling of verharding niet gekend is.", "%", None,
              "segment", ("accessibility", "network_min_width_m"), Display("Greys", 0.0, 1.0), in_screening=False),
    Indicator("wheelchair_reach_bus_stop", "accessibility", "Inwoners die een bushalte bereiken met de rolstoel",
              "Deel van de inwoners dat een bushalte bereikt over looproutes die voldoen voor een rolstoel.", "%",
              True, "home", ("accessibility", "reach_bus_stop_m"), _GOOD, home_col="wheelchair_reach_bus_stop"),
    Indicator("walker_reach_park", "accessibility", "Inwoners die met rollator of kinderwagen een park bereiken",
              "Deel van de inwoners dat een park bereikt over looproutes die voldoen voor een rollator of "
              "kinderwagen.", "%", True, "home", ("accessibility", "reach_park_m"), _GOOD,
              home_col="walker_reach_park", on_card=False),
    # --- heat -------------------------------------------------------------------------------
    Indicator("heat_index_mean", "heat", "Hitte-index (gemiddeld, 0 = koel, 1 = heet)",
              "Uit schaduw, weerkaatsing (albedo) en verdamping van de bodembedekking en de koeling door grote "
              "parken (InVEST Urban Cooling-model).", "index", False, "cell", ("heat", "heat_class_breaks"),
              Display("YlOrRd", 0.0, 1.0), cell="heat_index"),
    Indicator("t_air_mean", "heat", "Geschatte luchttemperatuur op een hittedag",
              "Referentietemperatuur plus het berekende hitte-eilandeffect.", "°C", False, "cell",
              ("heat", "t_ref_c"), Display("YlOrRd", None, None), in_screening=False),
    Indicator("heat_index_p90", "heat", "Hitte-index van de heetste 10 % van de plaatsen",
              "90ste percentiel van de hitte-index over de cellen van de zone: hoe heet de heetste plekken zijn.",
              "index", False, "cell", ("heat", "heat_class_breaks"), Display("YlOrRd", 0.0, 1.0),
              zone_fn="heat_p90", on_card=False),
    Indicator("heat_c_home", "heat", "Hitte-eilandeffect aan de woning op een hittedag",
              "Hoeveel warmer de lucht aan de woning is dan op het platteland op een ontwerp-hittedag (InVEST Urban "
              "Cooling: hitte-index x maximaal hitte-eilandeffect).", "°C", False, "home", ("heat", "uhi_max_c"),
              Display("YlOrRd", 0.0, 3.0), home_col="heat_c", on_card=False),
    Indicator("residents_hot_share", "heat", "Inwoners op de heetste plekken van de stad",
              "Deel van de inwoners dat woont waar het hitte-eilandeffect bij de heetste 20 % van de stad hoort "
              "(drempel in °C vastgelegd op de toestand vóór het plan).", "%", False, "home",
              ("heat", "hot_city_quantile"), _BAD, home_col="hot"),
    Indicator("canopy_walk_share", "heat", "Boomkruinen rond de woning (3-30-300)",
              "Deel van de oppervlakte binnen wandelafstand van de woning onder bomen volgens de bodembedekkingskaart; "
              "de 3-30-300-regel vraagt 30 % (enkel gekarteerde bomen).", "%", True, "home",
              ("heat", "canopy_walk_radius_m"), Display("Greens", 0.0, 0.5), home_col="canopy_walk", on_card=False),
    # --- water ------------------------------------------------------------------------------
    Indicator("runoff_mm_mean", "water", "Afstroming bij een zware bui",
              "Gemiddelde neerslag die niet in de bodem dringt maar afstroomt bij de ontwerpbui (SCS-curvenummer).",
              "mm", False, "cell", ("water", "design_storm_depth_mm"), Display("Blues", 0.0, None), cell="runoff_mm"),
    Indicator("impervious_share", "water", "Verharde oppervlakte",
              "Deel van de wijk bebouwd of verhard (volgens de bodembedekkingskaart).", "%", False, "cell",
              ("water", "impervious_classes"), _BAD, cell="impervious"),
    Indicator("flood_prone_share", "water", "Oppervlakte overstromingsgevoelig",
              "Deel van de oppervlakte langs waterlopen of in lage, overstromingsgevoelige delen.", "%", False,
              "cell", ("water", "flood_buffer_m"), _BAD, cell="flood_prone", on_card=False),
    Indicator("residents_flood_prone_share", "water", "Inwoners in een overstromingsgevoelige zone",
              "Deel van de inwoners dat woont langs waterlopen of in lage, overstromingsgevoelige delen.", "%",
              False, "home", ("water", "flood_buffer_m"), _BAD, home_col="flood_prone"),
    Indicator("sensitive_flood_n", "water", "Gevoelige bestemmingen in een overstromingsgevoelige zone",
              "Aantal scholen, kinderopvang, zorgvoorzieningen en woonzorgcentra in een overstromingsgevoelige zone.",
              "aantal", False, "home", ("water", "flood_buffer_m"), Display("Reds", 0.0, None),
              zone_fn="sensitive_flood", wijk_agg="sum", on_card=False),
    # --- traffic ----------------------------------------------------------------------------
    Indicator("traffic_aadt_mean", "traffic", "Gemotoriseerd verkeer op de straten (gemiddeld per etmaal)",
              "Gemiddeld aantal motorvoertuigen per etmaal op de straten van de zone, gewogen naar straatlengte: uit "
              "tellingen of een standaardwaarde per wegklasse, plus de ritten die een plan toevoegt of verlegt.",
              "mvt/etmaal", False, "segment", ("traffic", "aadt_per_class"), Display("Reds", 0.0, None),
              seg_col="aadt", on_card=False),
    # --- noise ------------------------------------------------------------------------------
    Indicator("lden_mean_db", "noise", "Geluid aan de woning, dag-avond-nacht (Lden)",
              "Geluidsbelasting van weg- en spoorverkeer aan de meest blootgestelde gevel van de woning, over het hele "
              "etmaal met een toeslag voor avond en nacht (CNOSSOS-EU). De WHO raadt voor wegverkeer minder dan 53 dB aan.",
              "dB", False, "home", ("noise", "who_road_lden_db"), Display("RdYlGn_r", 40.0, 75.0, "Lden (dB)"),
              home_col="lden_db"),
    Indicator("lnight_mean_db", "noise", "Geluid aan de woning 's nachts (Lnight)",
              "Geluidsbelasting van weg- en spoorverkeer 's nachts (23-7 u) aan de meest blootgestelde gevel. De WHO raadt "
              "voor wegverkeer minder dan 45 dB aan: daarboven verstoort geluid de slaap.", "dB", False, "home",
              ("noise", "who_road_lnight_db"), Display("RdYlGn_r", 40.0, 75.0, "Lnight (dB)"), home_col="lnight_db"),
    Indicator("above_who_lden_share", "noise", "Inwoners boven de WHO-richtlijn voor geluid (Lden)",
              "Deel van de inwoners dat aan de gevel meer geluid krijgt dan de WHO-richtlijn (wegverkeer 53 dB, spoor "
              "54 dB Lden).", "%", False, "home", ("noise", "who_road_lden_db"), _BAD, home_col="above_who_lden"),
    Indicator("above_who_lnight_share", "noise", "Inwoners boven de WHO-richtlijn voor nachtgeluid (Lnight)",
              "Deel van de inwoners dat 's nachts meer geluid krijgt dan de WHO-richtlijn (wegverkeer 45 dB, spoor "
              "44 dB Lnight).", "%", False, "home", ("noise", "who_road_lnight_db"), _BAD, home_col="above_who_lnight"),
    Indicator("highly_annoyed_share", "noise", "Inwoners ernstig gehinderd door geluid",
              "Verwacht deel van de inwoners dat ernstig gehinderd is door weg- en spoorlawaai, uit de "
              "blootstelling-responscurven van de WHO (2018).", "%", False, "home", ("noise", "ha_road"),
              Display("RdYlGn_r", 0.0, 0.5), home_col="highly_annoyed_share"),
    Indicator("highly_sleep_disturbed_share", "noise", "Inwoners met ernstig verstoorde slaap door geluid",
              "Verwacht deel van de inwoners met ernstig verstoorde slaap door weg- en spoorlawaai 's nachts, uit de "
              "blootstelling-responscurven van de WHO (2018).", "%", False, "home", ("noise", "hsd_road"),
              Display("RdYlGn_r", 0.0, 0.3), home_col="highly_sleep_disturbed_share"),
    Indicator("destinations_above_who_lden", "noise", "Gevoelige bestemmingen boven de WHO-richtlijn voor geluid",
              "Aantal scholen, kinderopvang, zorgvoorzieningen, woonzorgcentra en ziekenhuizen (ook die het plan "
              "toevoegt) waar het geluid aan de gevel boven de WHO-richtlijn (Lden) ligt.", "aantal", False, "home",
              ("noise", "sensitive_categories"), Display("Reds", 0.0, None), zone_fn="sensitive_noise",
              wijk_agg="sum", on_card=False),
    # --- air --------------------------------------------------------------------------------
    Indicator("no2_mean_ugm3", "air", "Stikstofdioxide (NO2) aan de woning, jaargemiddelde",
              "Achtergrondconcentratie plus de bijdrage van het verkeer in de straten rond de woning (lijnbronmodel met "
              "straatcanyons). De WHO raadt hoogstens 10 µg/m³ aan. Licht voor nieuwe bewoners: rood boven de EU-grenswaarde 2030 "
              "(20 µg/m³) of waar het verkeer rond de woning meer dan 0,6 µg/m³ bijdraagt; oranje als alleen de achtergrond "
              "boven de WHO-advieswaarde ligt.", "µg/m³", False, "home", ("air", "who_no2_ugm3"),
              Display("RdYlGn_r", 0.0, 40.0, "NO2 (µg/m³)"), home_col="no2_ugm3"),
    Indicator("pm25_mean_ugm3", "air", "Fijnstof (PM2,5) aan de woning, jaargemiddelde",
              "Achtergrondconcentratie plus de bijdrage van het verkeer in de straten rond de woning. De WHO raadt "
              "hoogstens 5 µg/m³ aan. Licht voor nieuwe bewoners: rood boven de EU-grenswaarde 2030 (10 µg/m³) of waar het verkeer "
              "rond de woning meer dan 0,3 µg/m³ bijdraagt; oranje als alleen de achtergrond boven de WHO-advieswaarde ligt.", "µg/m³", False, "home", ("air", "who_pm25_ugm3"),
              Display("RdYlGn_r", 0.0, 40.0, "PM2,5 (µg/m³)"), home_col="pm25_ugm3"),
    Indicator("above_who_no2_share", "air", "Inwoners boven de WHO-richtlijn voor NO2",
              "Deel van de inwoners dat jaargemiddeld meer dan 10 µg/m³ NO2 inademt (WHO 2021). In Vlaanderen ligt de "
              "achtergrond meestal al boven deze richtlijn.", "%", False, "home", ("air", "who_no2_ugm3"), _BAD,
              home_col="above_who_no2"),
    Indicator("above_who_pm25_share", "air", "Inwoners boven de WHO-richtlijn voor PM2,5",
              "Deel van de inwoners dat jaargemiddeld meer dan 5 µg/m³ PM2,5 inademt (WHO 2021). In Vlaanderen ligt de "
              "achtergrond meestal al boven deze richtlijn.", "%", False, "home", ("air", "who_pm25_ugm3"), _BAD,
              home_col="above_who_pm25"),
    Indicator("destinations_above_who_no2", "air", "Gevoelige bestemmingen boven de WHO-richtlijn voor NO2",
              "Aantal scholen, kinderopvang, zorgvoorzieningen, woonzorgcentra en ziekenhuizen (ook die het plan "
              "toevoegt) waar de NO2-concentratie boven de WHO-richtlijn (10 µg/m³) ligt.", "aantal", False, "home",
              ("air", "sensitive_destinations"), Display("Reds", 0.0, None), zone_fn="sensitive_air",
              wijk_agg="sum", on_card=False),
)
"""Every indicator, once. Order is the order of tables, cards and exports."""

_BY_KEY: dict[str, Indicator] = {ind.key: ind for ind in CATALOGUE}
if len(_BY_KEY) != len(CATALOGUE):  # pragma: no cover - guards edits of this file
    raise RuntimeError("duplicate indicator key in the catalogue")


def indicator(key: str) -> Indicator:
    """The catalogue entry of ``key`` (KeyError when unknown)."""
    return _BY_KEY[key]


def by_family(family: str) -> tuple[Indicator, ...]:
    """All indicators of one family, in catalogue order."""
    return tuple(ind for ind in CATALOGUE if ind.family == family)


def families() -> tuple[str, ...]:
    """Families present in the catalogue, in catalogue order."""
    return tuple(dict.fromkeys(ind.family for ind in CATALOGUE))


def screening_indicators() -> tuple[Indicator, ...]:
    """Indicators of the screening's before/after table."""
    return tuple(ind for ind in CATALOGUE if ind.in_screening)


def card_indicators() -> tuple[Indicator, ...]:
    """Indicators on the app's wijk card and comparison chart."""
    return tuple(ind for ind in CATALOGUE if ind.on_card)
