"""Parameters of the network family (green access, cycling stress, STOP), checked on load.

:class:`NetworkParams` bundles :class:`~gezondestad.spatial.green.GreenParams`,
:class:`LtsParams` (``data/norms/lts.toml``) and :class:`StopParams` (``data/norms/stop.toml``).
:func:`spatial.indicators.network_indicators` reads the green values from it; the cycling and
STOP functions still read their files through ``params.norms_dir`` (same folder), so the checks
here guard those files too and :meth:`NetworkParams.norms_used` lists every norm of the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gezondestad.model.params import Params, nested, norm, pairs, strs
from gezondestad.spatial.green import GreenParams


def _lts(key: str) -> int:
    return norm(key, "LTS", kind=int, min_value=1, max_value=4)  # type: ignore[no-any-return]


def _weight(key: str) -> float:
    return norm(key, "weight", min_value=0.0, max_value=1.0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class LtsParams(Params):
    """Level of Traffic Stress rules (``data/norms/lts.toml``, used by :mod:`spatial.cycling`)."""

    FAMILY: ClassVar[str] = "lts"
    speed_band1_max_kmh: float = norm("speed_band1_max_kmh", "km/h", min_value=0.0)
    speed_band2_max_kmh: float = norm("speed_band2_max_kmh", "km/h", min_value=0.0)
    local_highway_classes: tuple[str, ...] = norm("local_highway_classes", "OSM highway values", kind=strs)
    mixed_lts_band1_local: int = _lts("mixed_lts_band1_local")
    mixed_lts_band1_other: int = _lts("mixed_lts_band1_other")
    mixed_lts_band1_multilane: int = _lts("mixed_lts_band1_multilane")
    mixed_lts_band2_local: int = _lts("mixed_lts_band2_local")
    mixed_lts_band2_other: int = _lts("mixed_lts_band2_other")
    multilane_min_lanes: float = norm("multilane_min_lanes", "lanes (both directions)", min_value=1.0)
    bike_lane_lts_band2: int = _lts("bike_lane_lts_band2")
    bike_lane_lts_multilane: int = _lts("bike_lane_lts_multilane")
    bike_lane_lts_fast: int = _lts("bike_lane_lts_fast")
    separated_lts: int = _lts("separated_lts")
    living_street_lts: int = _lts("living_street_lts")
    fietsstraat_lts_local: int = _lts("fietsstraat_lts_local")
    fietsstraat_lts_through: int = _lts("fietsstraat_lts_through")
    track_lts: int = _lts("track_lts")
    default_maxspeed_kmh: tuple[tuple[str, float], ...] = norm("default_maxspeed_kmh", "km/h per OSM highway class", kind=pairs, min_value=0.0)
    default_maxspeed_fallback_kmh: float = norm("default_maxspeed_fallback_kmh", "km/h", min_value=0.0)
    implicit_maxspeed_kmh: tuple[tuple[str, float], ...] = norm("implicit_maxspeed_kmh", "km/h per implicit OSM maxspeed value", kind=pairs, min_value=0.0)
    default_lanes: tuple[tuple[str, float], ...] = norm("default_lanes", "lanes (both directions) per OSM highway class", kind=pairs, min_value=1.0)
    default_lanes_fallback: float = norm("default_lanes_fallback", "lanes (both directions)", min_value=1.0)
    home_max_snap_m: float = norm("home_max_snap_m", "m", min_value=0.0)
    max_detour_ratio: float = norm("max_detour_ratio", "ratio", min_value=1.0)
    low_stress_max_lts: int = _lts("low_stress_max_lts")
    centre_max_snap_m: float = norm("centre_max_snap_m", "m", min_value=0.0)
    low_stress_circuity: float = norm("low_stress_circuity", "ratio (network distance / crow-fly distance)", min_value=1.0)
    low_stress_budget_floor_m: float = norm("low_stress_budget_floor_m", "m", min_value=0.0)
    crossing_stress_speed_kmh: float = norm("crossing_stress_speed_kmh", "km/h", min_value=0.0)
    crossing_stress_speed_multilane_kmh: float = norm("crossing_stress_speed_multilane_kmh", "km/h", min_value=0.0)
    crossing_stress_multilane_min_lanes: float = norm("crossing_stress_multilane_min_lanes", "lanes (both directions)", min_value=1.0)
    crossing_stress_any_speed_lanes: float = norm("crossing_stress_any_speed_lanes", "lanes (both directions)", min_value=1.0)


@dataclass(frozen=True)
class StopParams(Params):
    """STOP-principle weights and thresholds (``data/norms/stop.toml``, used by :mod:`spatial.stop`)."""

    FAMILY: ClassVar[str] = "stop"
    walk_speed_m_s: float = norm("walk_speed_m_s", "m/s", min_value=0.1, max_value=3.0)
    walk_minutes: float = norm("walk_minutes", "min", min_value=0.0)
    s_destination_categories: tuple[tuple[str, tuple[str, ...]], ...] = norm(
        "s_destination_categories", "pois.category values per daily destination", kind=pairs
    )
    s_destination_weights: tuple[tuple[str, float], ...] = norm("s_destination_weights", "weight (sum 1)", kind=pairs, min_value=0.0, max_value=1.0)
    o_bus_distance_m: float = norm("o_bus_distance_m", "m", min_value=0.0)
    o_train_distance_m: float = norm("o_train_distance_m", "m", min_value=0.0)
    o_bus_categories: tuple[str, ...] = norm("o_bus_categories", "pois.category values", kind=strs)
    o_train_categories: tuple[str, ...] = norm("o_train_categories", "pois.category values", kind=strs)
    o_weight_bus: float = _weight("o_weight_bus")
    o_weight_train: float = _weight("o_weight_train")
    t_weight_centre: float = _weight("t_weight_centre")
    t_weight_school: float = _weight("t_weight_school")
    t_weight_length: float = _weight("t_weight_length")
    p_speed_above_kmh: float = norm("p_speed_above_kmh", "km/h", min_value=0.0)
    p_parking_share_full: float = norm("p_parking_share_full", "share of polygon area", min_value=0.0, max_value=1.0)
    p_weight_speed: float = _weight("p_weight_speed")
    p_weight_parking: float = _weight("p_weight_parking")
    polygon_grid_spacing_m: float = norm("polygon_grid_spacing_m", "m", min_value=1.0)
    o_bus_min_departures_per_hour: float = norm("o_bus_min_departures_per_hour", None, min_value=0.0)


@dataclass(frozen=True)
class NetworkParams(Params):
    """Everything :func:`spatial.indicators.network_indicators` reads: green, LTS and STOP norms."""

    FAMILY: ClassVar[str] = "network"
    green: GreenParams = nested(GreenParams)
    lts: LtsParams = nested(LtsParams)
    stop: StopParams = nested(StopParams)
