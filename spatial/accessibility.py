"""Accessibility of the walking network per profile: wheelchair, walker/pram, blind/partially sighted.

Every walkable street edge gets a verdict per profile from its OSM tags, with three values kept
strictly apart: ``pass``, ``fail`` and ``unknown`` (the tags do not tell). Unknown is never
counted as passable. The verdict of an edge is the worst of its criteria (fail > unknown >
pass); the ``reason_<profile>`` column names the criterion that decided.

Criteria (all limits in ``data/norms/accessibility.toml``):

wheelchair and walker/pram
    * ``steps``: highway=steps fails.
    * ``wheelchair``: wheelchair=no fails (both profiles); wheelchair=yes/designated turns the
      *unknowns* of an edge into a pass (a mapper checked it), never a fail.
    * ``kerb``: on crossings (footway=crossing, highway=crossing or a crossing tag) and on any
      edge with a kerb tag: raised fails, lowered/flush passes, rolled passes for the walker
      and is unknown for the wheelchair; a crossing without kerb tag is unknown.
    * ``incline``: a number in %, ° or as a fraction is compared with the GSV art. 19 ramp
      limit for the height difference it makes over the edge (slope x length); "up"/"down"
      without a number is unknown; no incline tag is assumed flat (Flanders) and counted.
    * ``surface``: a smoothness tag decides when present (intermediate or better passes, bad or
      worse fails); otherwise the surface class (good / bad / walker-only lists); no surface on
      a road with a sidewalk tag, or on a crossing, is assumed paved and counted; no surface on
      a path, or on a road without sidewalk tag, is unknown.
    * ``width``: only footways/paths/steps (on roads `width` is the carriageway): narrower than
      ``network_min_width_m`` fails; untagged is assumed wide enough and counted.

blind / partially sighted
    * ``tactile``: crossings and steps need tactile_paving=yes (no fails, untagged unknown).
    * ``guidance``: a road with sidewalk=no and a speed limit above ``road_max_speed_blind_kmh``
      fails (no kerb line to follow, mixed with fast traffic); a road without sidewalk tag is
      unknown unless it is a living street / pedestrian street; footways and paths pass.

Per wijk (:func:`accessibility_indicators`): share of walkable length that passes / is unknown /
fails per profile, and the population-weighted share of residents who reach their nearest bus
stop, public toilet (wheelchair profile: wheelchair=yes toilets only), pharmacy and public park
over passable segments within the distance of the norms, plus the same share if every unknown
segment turned out passable (the upper bound), and the walkable-network baseline.

Missing links: see :func:`missing_links` (component heuristic, top candidates verified with
shortest paths).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.norms import NormError
from gezondestad.model.params import Params, floats, nested, norm, strs
from gezondestad.model.studyarea import DEFAULT_CRS, StudyArea
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points
from gezondestad.spatial.green import GreenParams, park_access_points, public_green_spaces
from gezondestad.spatial.network import (
    Network,
    NetworkError,
    build_network,
    build_router,
    component_labels,
    router_nearest,
    snap_points,
)
from gezondestad.spatial.profiles import walkable_mask

PROFILES: tuple[str, ...] = ("wheelchair", "walker", "blind")
"""Profiles: wheelchair user, person with a walker or pram, blind or partially sighted person."""

PROFILE_NL: dict[str, str] = {"wheelchair": "rolstoel", "walker": "rollator/kinderwagen", "blind": "blind/slechtziend"}

TARGETS: tuple[str, ...] = ("bus_stop", "toilet", "pharmacy", "park")
"""Destinations of the reach indicators."""

PASS, UNKNOWN, FAIL = 0, 1, 2
_CODE_TO_VERDICT = np.array(["pass", "unknown", "fail"], dtype=object)

_PATH_CLASSES = {"footway", "path", "pedestrian", "steps", "cycleway", "bridleway", "corridor", "track"}
_CALM_ROADS = {"living_street", "pedestrian", "service", "track"}
_SIDEWALK_ABSENT = {"no", "none"}


class AccessibilityError(GezondeStadError):
    """The accessibility indicators cannot be computed from this input."""


logger = logging.getLogger(__name__)


def _m(key: str) -> float:
    return norm(key, "m", min_value=0.0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AccessibilityParams(Params):
    """Network accessibility rules (``data/norms/accessibility.toml``; park size from ``green.toml``)."""

    FAMILY: ClassVar[str] = "accessibility"
    ok_kerbs: tuple[str, ...] = norm("ok_kerbs", "OSM kerb", kind=strs)
    bad_kerbs: tuple[str, ...] = norm("bad_kerbs", "OSM kerb", kind=strs)
    walker_ok_kerbs: tuple[str, ...] = norm("walker_ok_kerbs", "OSM kerb", kind=strs)
    ramp_rise_bands_cm: tuple[float, ...] = norm("ramp_rise_bands_cm", "cm", kind=floats, min_value=0.0)
    ramp_max_slope_pct: tuple[float, ...] = norm("ramp_max_slope_pct", "%", kind=floats, min_value=0.0, max_value=100.0)
    network_good_surfaces: tuple[str, ...] = norm("network_good_surfaces", "OSM surface", kind=strs)
    network_bad_surfaces: tuple[str, ...] = norm("network_bad_surfaces", "OSM surface", kind=strs)
    walker_extra_surfaces: tuple[str, ...] = norm("walker_extra_surfaces", "OSM surface", kind=strs)
    good_smoothness: tuple[str, ...] = norm("good_smoothness", "OSM smoothness", kind=strs)
    bad_smoothness: tuple[str, ...] = norm("bad_smoothness", "OSM smoothness", kind=strs)
    network_min_width_m: float = _m("network_min_width_m")
    road_max_speed_blind_kmh: float = norm("road_max_speed_blind_kmh", "km/h", min_value=0.0)
    snap_max_m: float = _m("snap_max_m")
    reach_bus_stop_m: float = _m("reach_bus_stop_m")
    reach_toilet_m: float = _m("reach_toilet_m")
    reach_pharmacy_m: float = _m("reach_pharmacy_m")
    reach_park_m: float = _m("reach_park_m")
    missing_link_max_length_m: float = _m("missing_link_max_length_m")
    missing_link_exact_top_k: int = norm("missing_link_exact_top_k", "segments", kind=int, min_value=0)
    green: GreenParams = nested(GreenParams)

    def reach_m(self, target: str) -> float:
        """Walking distance (m) within which ``target`` (one of :data:`TARGETS`) counts as reached."""
        return float(getattr(self, f"reach_{target}_m"))

    def __post_init__(self) -> None:
        if len(self.ramp_max_slope_pct) != len(self.ramp_rise_bands_cm) + 1:
            raise NormError(
                "accessibility.toml: 'ramp_max_slope_pct' moet één waarde meer hebben dan 'ramp_rise_bands_cm' "
                f"({len(self.ramp_max_slope_pct)} tegenover {len(self.ramp_rise_bands_cm)})."
            )


def _params(params: AccessibilityParams | None, norms_dir: str | None) -> AccessibilityParams:
    return params if params is not None else AccessibilityParams.from_norms(norms_dir)


# --------------------------------------------------------------------------------------------
# tag parsing
# --------------------------------------------------------------------------------------------


def _col(streets: pd.DataFrame, name: str) -> np.ndarray:
    if name not in streets:
        return np.full(len(streets), "", dtype=object)
    return streets[name].astype("object").fillna("").astype(str).str.strip().str.lower().to_numpy()


_NUM = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(%|°|deg|degrees)?\s*$")


def parse_incline_pct(value: str | None) -> float | None:
    """Absolute slope in percent from an OSM incline value, or None when it holds no number.

    ``"10%"`` -> 10, ``"-8 %"`` -> 8, ``"5°"`` -> 8.75, ``"0.05"`` -> 5 (a bare fraction below 1
    is read as a ratio, a bare number >= 1 as percent), ``"up"``/``"down"`` -> None.
    """
    if value is None:
        return None
    s = str(value).strip().lower()
    if not s:
        return None
    m = _NUM.match(s)
    if not m:
        return None
    x = abs(float(m.group(1).replace(",", ".")))
    unit = m.group(2)
    if unit in ("°", "deg", "degrees"):
        return float(np.tan(np.radians(x)) * 100.0)
    if unit == "%":
        return x
    return x * 100.0 if x < 1.0 else x


def parse_width_m(value: str | None) -> float | None:
    """Width in metres from an OSM width value (``"1.5"``, ``"1,5 m"``, ``"150 cm"``), else None."""
    if value is None:
        return None
    s = str(value).strip().lower().replace(",", ".")
    m = re.match(r"^([-+]?\d+(?:\.\d+)?)\s*(m|cm|mm)?$", s)
    if not m:
        return None
    x = float(m.group(1))
    return {None: x, "m": x, "cm": x / 100.0, "mm": x / 1000.0}[m.group(2)]


def _parse_speed(v: np.ndarray) -> np.ndarray:
    out = np.full(len(v), np.nan)
    for i, s in enumerate(v):
        m = re.match(r"^(\d+(?:\.\d+)?)", s)
        if m:
            out[i] = float(m.group(1)) * (1.609 if "mph" in s else 1.0)
        elif s in ("walk", "be:zone30", "be:living_street"):
            out[i] = 30.0 if s == "be:zone30" else 20.0
    return out


# --------------------------------------------------------------------------------------------
# per-segment verdicts
# --------------------------------------------------------------------------------------------


def _ramp_limit_pct(rise_cm: np.ndarray, p: AccessibilityParams) -> np.ndarray:
    bands = np.asarray(p.ramp_rise_bands_cm, dtype=float)
    limits = np.asarray(p.ramp_max_slope_pct, dtype=float)
    return limits[np.searchsorted(bands, np.abs(rise_cm), side="left")]


@dataclass
class _Criteria:
    codes: dict[str, np.ndarray]
    assumed: dict[str, np.ndarray] = field(default_factory=dict)


def _criteria(streets: gpd.GeoDataFrame, norms: AccessibilityParams) -> tuple[dict[str, _Criteria], dict[str, np.ndarray]]:
    n = len(streets)
    hw, kerb, incline = _col(streets, "highway"), _col(streets, "kerb"), _col(streets, "incline")
    surface, smooth, width = _col(streets, "surface"), _col(streets, "smoothness"), _col(streets, "width")
    sidewalk, tactile, crossing = _col(streets, "sidewalk"), _col(streets, "tactile_paving"), _col(streets, "crossing")
    footway, wheelchair, maxspeed = _col(streets, "footway"), _col(streets, "wheelchair"), _col(streets, "maxspeed")
    length = (
        pd.to_numeric(streets["length_m"], errors="coerce").to_numpy(dtype=float)
        if "length_m" in streets
        else shapely.length(streets.geometry.values)
    )
    length = np.where(np.isfinite(length), length, shapely.length(streets.geometry.values))

    cyc = _col(streets, "cycleway")
    is_crossing = (footway == "crossing") | (cyc == "crossing") | (hw == "crossing") | ((crossing != "") & (crossing != "no"))
    is_path = np.isin(hw, list(_PATH_CLASSES))
    is_steps = hw == "steps"

    # level: steps
    steps = np.where(is_steps, FAIL, PASS)
    # kerb
    ok_k, bad_k, walker_k = set(norms.ok_kerbs), set(norms.bad_kerbs), set(norms.walker_ok_kerbs)
    kerb_w = np.full(n, PASS)
    kerb_w[(kerb != "") & ~np.isin(kerb, list(ok_k))] = UNKNOWN
    kerb_w[np.isin(kerb, list(bad_k))] = FAIL
    kerb_w[is_crossing & (kerb == "")] = UNKNOWN
    kerb_r = kerb_w.copy()
    kerb_r[np.isin(kerb, list(walker_k))] = PASS
    # incline
    pct = np.array([parse_incline_pct(x) if x else None for x in incline], dtype=object)
    has_num = np.array([p is not None for p in pct])
    slope = np.array([p if p is not None else 0.0 for p in pct], dtype=float)
    rise_cm = slope * length  # slope[%]/100 * length[m] * 100 cm
    limit = _ramp_limit_pct(rise_cm, norms)
    inc = np.full(n, PASS)
    inc[(incline != "") & ~has_num & ~is_steps] = UNKNOWN
    inc[has_num & (slope > limit)] = FAIL
    assumed_flat = (incline == "") & ~is_steps
    # surface
    good_s, bad_s, walker_s = set(norms.network_good_surfaces), set(norms.network_bad_surfaces), set(norms.walker_extra_surfaces)
    good_m, bad_m = set(norms.good_smoothness), set(norms.bad_smoothness)
    sw_tag = sidewalk != ""
    assumed_paved = (surface == "") & (smooth == "") & ((~is_path & sw_tag) | is_crossing)
    surf_w = np.full(n, UNKNOWN)
    surf_w[np.isin(surface, list(good_s))] = PASS
    surf_w[np.isin(surface, list(bad_s))] = FAIL
    surf_w[assumed_paved] = PASS
    surf_r = surf_w.copy()
    surf_r[np.isin(surface, list(walker_s))] = PASS
    has_sm = smooth != ""
    for arr in (surf_w, surf_r):
        arr[has_sm] = UNKNOWN
        arr[np.isin(smooth, list(good_m))] = PASS
        arr[np.isin(smooth, list(bad_m))] = FAIL
    # width (paths only)
    wmin = norms.network_min_width_m
    wv = np.array([parse_width_m(x) if x else None for x in width], dtype=object)
    wid = np.full(n, PASS)
    parsed = np.array([x is not None for x in wv])
    wnum = np.array([x if x is not None else np.inf for x in wv], dtype=float)
    wid[is_path & (width != "") & ~parsed] = UNKNOWN
    wid[is_path & parsed & (wnum < wmin)] = FAIL
    assumed_width = is_path & (width == "")
    # wheelchair tag
    wc_no = wheelchair == "no"
    wc_yes = np.isin(wheelchair, ["yes", "designated"])
    wct = np.where(wc_no, FAIL, PASS)

    # blind
    tac = np.full(n, PASS)
    needs_tac = is_crossing | is_steps
    tac[needs_tac] = UNKNOWN
    tac[needs_tac & (tactile == "yes")] = PASS
    tac[needs_tac & np.isin(tactile, ["no", "incorrect"])] = FAIL
    speed = _parse_speed(maxspeed)
    vmax = norms.road_max_speed_blind_kmh
    road = ~is_path & ~is_crossing
    guid = np.full(n, PASS)
    guid[road & ~sw_tag & ~np.isin(hw, list(_CALM_ROADS))] = UNKNOWN
    no_sw = road & np.isin(sidewalk, list(_SIDEWALK_ABSENT)) & ~np.isin(hw, list(_CALM_ROADS))
    guid[no_sw & ~np.isfinite(speed)] = UNKNOWN
    guid[no_sw & np.isfinite(speed) & (speed <= vmax)] = PASS
    guid[no_sw & np.isfinite(speed) & (speed > vmax)] = FAIL

    crit = {
        "wheelchair": _Criteria({"steps": steps, "wheelchair": wct, "kerb": kerb_w, "incline": inc, "surface": surf_w, "width": wid}),
        "walker": _Criteria({"steps": steps, "wheelchair": wct, "kerb": kerb_r, "incline": inc, "surface": surf_r, "width": wid}),
        "blind": _Criteria({"tactile": tac, "guidance": guid}),
    }
    for p in ("wheelchair", "walker"):
        c = crit[p].codes
        for k in ("kerb", "incline", "surface", "width"):
            c[k] = np.where(wc_yes & (c[k] == UNKNOWN), PASS, c[k])
    assumed = {"assumed_flat": assumed_flat, "assumed_paved": assumed_paved, "assumed_width": assumed_width}
    return crit, assumed


def segment_accessibility(streets: gpd.GeoDataFrame, norms_dir: str | None = None, *, params: AccessibilityParams | None = None) -> gpd.GeoDataFrame:
    """Per walkable segment a verdict per profile (``pass`` / ``fail`` / ``unknown``) from OSM tags.

    Parameters
    ----------
    streets : GeoDataFrame
        The ``streets`` theme (in the area's metric CRS) with the OSM tag columns of
        :data:`gezondestad.layers.studyarea.STREET_TAGS` (absent columns count as untagged).
    norms_dir : path, optional
        Folder with ``accessibility.toml``.

    Returns
    -------
    GeoDataFrame
        The walkable edges only, with ``edge_id``, ``highway``, ``length_m``, ``is_crossing``,
        per profile ``verdict_<p>`` and ``reason_<p>`` (criterion that decided, "" on pass),
        ``assumed_flat`` / ``assumed_paved`` / ``assumed_width`` (a default was assumed), and a
        ``row`` column with the position of the edge in ``streets``.
    """
    if streets is None or len(streets) == 0:
        raise AccessibilityError("Het studiegebied heeft geen straten: de toegankelijkheid kan niet berekend worden.")
    if streets.crs is not None and not streets.crs.is_projected:
        raise AccessibilityError(f"De straten liggen in {streets.crs.to_string()} (graden); zet ze eerst om naar het metrische CRS van het studiegebied.")
    walk = walkable_mask(streets)
    s = streets[walk]
    crit, assumed = _criteria(s, _params(params, norms_dir))
    length = (
        pd.to_numeric(s["length_m"], errors="coerce").to_numpy(dtype=float) if "length_m" in s else shapely.length(s.geometry.values)
    )
    fw, hw, cr, cy = _col(s, "footway"), _col(s, "highway"), _col(s, "crossing"), _col(s, "cycleway")
    out = gpd.GeoDataFrame(
        {
            "edge_id": s["edge_id"].to_numpy() if "edge_id" in s else np.flatnonzero(walk),
            "row": np.flatnonzero(walk),
            "highway": s["highway"].to_numpy() if "highway" in s else None,
            "name": s["name"].to_numpy() if "name" in s else None,
            "length_m": np.round(np.where(np.isfinite(length), length, shapely.length(s.geometry.values)), 2),
            "is_crossing": (fw == "crossing") | (cy == "crossing") | (hw == "crossing") | ((cr != "") & (cr != "no")),
        },
        geometry=s.geometry.values,
        crs=streets.crs,
    )
    for p in PROFILES:
        names = list(crit[p].codes)
        stack = np.vstack([crit[p].codes[k] for k in names])
        worst = stack.max(axis=0)
        first = np.argmax(stack == worst[None, :], axis=0)
        out[f"verdict_{p}"] = _CODE_TO_VERDICT[worst]
        out[f"reason_{p}"] = np.where(worst == PASS, "", np.asarray(names, dtype=object)[first])
    for k, v in assumed.items():
        out[k] = v
    return out


# --------------------------------------------------------------------------------------------
# reach and per-wijk indicators
# --------------------------------------------------------------------------------------------


def _targets(area: StudyArea, walk_net: Network, norms: AccessibilityParams) -> tuple[gpd.GeoSeries, np.ndarray, np.ndarray]:
    """Pool of target points, their category, and a flag for wheelchair-accessible toilets."""
    pts, cats, wc = [], [], []
    pois = area.pois
    if len(pois):
        cat = pois["category"].astype("object").fillna("").astype(str).to_numpy()
        wheel = pois["wheelchair"].astype("object").fillna("").astype(str).str.lower().to_numpy() if "wheelchair" in pois else np.full(len(pois), "")
        geoms = shapely.point_on_surface(pois.geometry.values)
        for name, cats_in in (("bus_stop", ("bus_stop", "tram_stop")), ("toilet", ("toilet",)), ("pharmacy", ("pharmacy",))):
            m = np.isin(cat, cats_in) & ~shapely.is_missing(geoms)
            pts.extend(geoms[m])
            cats.extend([name] * int(m.sum()))
            wc.extend(list(np.isin(wheel[m], ["yes", "designated"])))
    if len(area.green):
        spaces = public_green_spaces(area.green, norms.green)
        spaces = spaces[spaces["area_ha"] >= norms.green.who_min_area_ha].reset_index(drop=True)
        if len(spaces):
            ap, _ = park_access_points(spaces, walk_net, norms.green)
            pts.extend(ap.geometry.values)
            cats.extend(["park"] * len(ap))
            wc.extend([True] * len(ap))
    return gpd.GeoSeries(pts, crs=area.crs), np.asarray(cats, dtype=object), np.asarray(wc, dtype=bool)


def _subnet(full: Network, row_mask: np.ndarray) -> Network:
    """The edges of ``full`` whose source row is in ``row_mask`` (same node ids).

    Same result as ``build_network(streets, row_mask)`` without noding all lines again: the
    missing-links search builds dozens of variants of one network.
    """
    keep = np.asarray(row_mask, dtype=bool)[full.edge_source]
    if not keep.any():
        raise NetworkError("Geen enkel straatsegment voldoet aan de selectie: het netwerk is leeg.")
    return Network(full.node_xy, full.edge_u[keep], full.edge_v[keep], full.edge_length_m[keep], full.edge_geometry[keep], full.edge_source[keep])


def _reach(
    full: Network, mask: np.ndarray, homes: gpd.GeoDataFrame, targets: gpd.GeoSeries, tcat: np.ndarray,
    tsel: dict[str, np.ndarray], norms: AccessibilityParams,
) -> dict[str, np.ndarray]:
    """Per target category: bool per home, reached within its distance over the ``mask`` rows of ``full``."""
    snap = norms.snap_max_m
    out = {t: np.zeros(len(homes), dtype=bool) for t in TARGETS}
    if not np.any(mask) or len(homes) == 0 or len(targets) == 0:
        return out
    try:
        net = _subnet(full, mask)
    except NetworkError:
        return out
    router = build_router(net, homes.geometry, targets, max_snap_m=snap)
    for t in TARGETS:
        sel = tsel.get(t, tcat == t)
        if not sel.any():
            continue
        res = router_nearest(router, sel, max_dist_m=norms.reach_m(t))
        out[t] = np.isfinite(res.distance_m)
    return out


def _notes(area: StudyArea, seg: gpd.GeoDataFrame, profiles: tuple[str, ...]) -> list[str]:
    """Dutch data-quality notes: destinations that are missing, network length without data."""
    notes = []
    if not area.has("pois"):
        notes.append("Geen POI's (voorzieningen): het bereik van bushalte, toilet en apotheek is onbekend, niet nul.")
    if not area.has("green"):
        notes.append("Geen gegevens over groen: het bereik van een park is onbekend, niet nul.")
    total = float(seg["length_m"].sum())
    if total > 0 and "wheelchair" in profiles:
        unknown = float(seg.loc[seg["verdict_wheelchair"].to_numpy() == "unknown", "length_m"].sum()) / total
        if unknown > 0:
            notes.append(
                f"{fmt_number(100 * unknown, 0)} % van de wandelbare lengte mist gegevens (breedte, helling, verharding, "
                "boordstenen) voor een oordeel voor de rolstoel: die stukken tellen als onbekend."
            )
    return notes + area.norms_notes()


def _add_length_shares(per_wijk: pd.DataFrame, seg: gpd.GeoDataFrame, profiles: tuple[str, ...]) -> None:
    """Per wijk, in place: share of walkable length per verdict and per assumed default, counts and km."""
    L = seg["length_m"].to_numpy(dtype=float)
    codes = seg["wijk_code"].astype("object").to_numpy()
    df = pd.DataFrame({"wijk_code": codes, "L": L})
    cols = {}
    for p in profiles:
        v = seg[f"verdict_{p}"].to_numpy()
        for verdict in ("pass", "unknown", "fail"):
            cols[f"{p}_{verdict}_share"] = np.where(v == verdict, L, 0.0)
    for k in ("assumed_flat", "assumed_paved", "assumed_width"):
        cols[f"{k}_share"] = np.where(seg[k].to_numpy(dtype=bool), L, 0.0)
    df = df.assign(**cols)
    g = df.groupby("wijk_code").sum(numeric_only=True)
    tot = per_wijk["wijk_code"].map(g["L"])
    for c in cols:
        per_wijk[c] = (per_wijk["wijk_code"].map(g[c]) / tot.where(tot > 0)).to_numpy(dtype=float)
    per_wijk["n_segments"] = per_wijk["wijk_code"].map(df.groupby("wijk_code").size()).fillna(0).astype(int).to_numpy()
    for k in ("assumed_flat", "assumed_paved", "assumed_width"):
        cnt = pd.Series(seg[k].to_numpy(dtype=int)).groupby(codes).sum()
        per_wijk[f"n_{k}"] = per_wijk["wijk_code"].map(cnt).fillna(0).astype(int).to_numpy()
    per_wijk["network_km"] = (tot.fillna(0.0) / 1000.0).round(3).to_numpy()


@dataclass
class AccessibilityResult:
    """Output of :func:`accessibility_indicators`.

    Attributes
    ----------
    segments : GeoDataFrame
        :func:`segment_accessibility` plus ``wijk_code``.
    per_wijk : DataFrame
        One row per wijk: residents, homes; per profile ``<p>_pass_share``, ``<p>_unknown_share``,
        ``<p>_fail_share`` (of walkable length), ``<p>_reach_<target>`` (share of residents over
        passable segments) and ``<p>_reach_<target>_max`` (if unknown segments passed);
        ``walk_reach_<target>`` (all walkable segments); ``assumed_flat_share``,
        ``assumed_paved_share``, ``assumed_width_share`` (share of walkable length where a
        default was assumed), ``n_assumed_flat`` / ``n_assumed_paved`` / ``n_assumed_width``
        (number of segments), ``n_segments`` and ``network_km``.
    missing_links : GeoDataFrame
        See :func:`missing_links`.
    homes : GeoDataFrame
        Homes with the reach flags per profile and target.
    params : AccessibilityParams or None
        The parameters of the run (:meth:`AccessibilityParams.norms_used` lists its norms).
    notes : list of str
        Data-quality remarks in Dutch (missing destinations, share of the network without data).
    """

    segments: gpd.GeoDataFrame
    per_wijk: pd.DataFrame
    missing_links: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    params: AccessibilityParams | None = None
    notes: list[str] = field(default_factory=list)


def accessibility_indicators(
    area: StudyArea,
    homes: gpd.GeoDataFrame | None = None,
    profiles: tuple[str, ...] = PROFILES,
    with_missing_links: bool = True,
    norms_dir: str | None = None,
    *,
    params: AccessibilityParams | None = None,
) -> AccessibilityResult:
    """Per-segment verdicts, per-wijk shares and reach, and missing links for a study area.

    Parameters
    ----------
    area : StudyArea
        Needs ``streets``; ``pois`` and ``green`` give the destinations, ``wijken`` the
        aggregation.
    homes : GeoDataFrame, optional
        Output of :func:`spatial.aggregate.home_points` (computed when None).
    profiles : tuple of str
        Subset of :data:`PROFILES`.
    with_missing_links : bool
        Compute the missing-links layer (the slowest part).
    norms_dir : path, optional
        Norms folder (default ``data/norms``); ignored when ``params`` is given.
    params : AccessibilityParams, optional
        Checked parameters (default ``AccessibilityParams.from_norms(norms_dir)``).
    """
    area.require("streets")
    bad = [p for p in profiles if p not in PROFILES]
    if bad:
        raise AccessibilityError(f"Onbekend(e) profiel(en) {', '.join(bad)}; kies uit {', '.join(PROFILES)}.")
    norms = _params(params, norms_dir)
    streets = area.streets
    seg = segment_accessibility(streets, params=norms)
    mid = gpd.GeoSeries(shapely.line_interpolate_point(seg.geometry.values, 0.5, normalized=True), crs=area.crs)
    seg["wijk_code"] = assign_wijk(mid, area.wijken)["wijk_code"].to_numpy() if len(area.wijken) else None
    homes = home_points(area) if homes is None else homes.copy()
    walk = walkable_mask(streets)
    full = build_network(streets)
    walk_net = _subnet(full, walk)
    targets, tcat, twc = _targets(area, walk_net, norms)

    values: dict[str, np.ndarray] = {}
    base = _reach(full, walk, homes, targets, tcat, {}, norms)
    for t in TARGETS:
        values[f"walk_reach_{t}"] = base[t]
    n_rows = len(streets)
    for p in profiles:
        tsel = {"toilet": (tcat == "toilet") & twc} if p == "wheelchair" else {}
        v = seg[f"verdict_{p}"].to_numpy()
        m_pass = np.zeros(n_rows, dtype=bool)
        m_pass[seg["row"].to_numpy()[v == "pass"]] = True
        m_max = np.zeros(n_rows, dtype=bool)
        m_max[seg["row"].to_numpy()[v != "fail"]] = True
        r = _reach(full, m_pass, homes, targets, tcat, tsel, norms)
        rmax = _reach(full, m_max, homes, targets, tcat, tsel, norms)
        for t in TARGETS:
            values[f"{p}_reach_{t}"] = r[t]
            values[f"{p}_reach_{t}_max"] = rmax[t]
    for k, arr in values.items():
        homes[k] = arr

    per_wijk = aggregate_per_wijk(homes, values, area.wijken) if len(area.wijken) else pd.DataFrame()
    if len(area.wijken):
        _add_length_shares(per_wijk, seg, profiles)
    links = (
        missing_links(streets, seg, homes, targets, tcat, twc, profiles, norms, full)
        if with_missing_links
        else _empty_links(area.crs)
    )
    return AccessibilityResult(seg, per_wijk, links, homes, norms, _notes(area, seg, profiles))


# --------------------------------------------------------------------------------------------
# missing links
# --------------------------------------------------------------------------------------------


def _empty_links(crs: object = None) -> gpd.GeoDataFrame:
    crs = crs or DEFAULT_CRS
    return gpd.GeoDataFrame(
        {c: [] for c in ("profile", "edge_id", "highway", "name", "length_m", "reason", "heuristic_gain", "gain_residents", "gain_pairs", "rank")},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def missing_links(
    streets: gpd.GeoDataFrame,
    seg: gpd.GeoDataFrame,
    homes: gpd.GeoDataFrame,
    targets: gpd.GeoSeries,
    tcat: np.ndarray,
    twc: np.ndarray,
    profiles: tuple[str, ...],
    norms: AccessibilityParams,
    full: Network | None = None,
) -> gpd.GeoDataFrame:
    """Short failing segments whose repair would let the most residents reach a destination.

    Heuristic (kept fast, documented so a planner can judge it):

    1. Candidates: segments that *fail* for the profile and are at most
       ``missing_link_max_length_m`` long (unknown segments are not candidates: survey them
       first).
    2. Components of the passable network are labelled once. A home belongs to the component of
       the passable edge it snaps to; so does each destination. For a candidate joining
       components A and B, the *heuristic gain* is the number of residents in A who do not yet
       reach a destination type that B holds, plus the same from B to A, summed over the four
       destination types (0 when A = B: repairs inside a component only shorten routes).
    3. The ``missing_link_exact_top_k`` best candidates by heuristic gain are verified exactly:
       the network is rebuilt with the segment made passable and the reach of every home
       recomputed (when fewer candidates have a positive heuristic gain, the others fill the K
       evaluations, shortest first, to catch shortcuts inside a component);
       ``gain_residents`` is the number of residents who newly reach at least one
       destination type, ``gain_pairs`` the sum over types. The ranking uses the exact gain.

    Returns
    -------
    GeoDataFrame with ``profile``, ``edge_id``, ``highway``, ``name``, ``length_m``, ``reason``,
    ``heuristic_gain``, ``gain_residents``, ``gain_pairs``, ``rank`` (1 = best per profile).
    """
    max_len = norms.missing_link_max_length_m
    top_k = norms.missing_link_exact_top_k
    snap = norms.snap_max_m
    res = pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    if res.sum() == 0:
        res = np.ones(len(homes))
    out = []
    rows = seg["row"].to_numpy()
    full_net = build_network(streets) if full is None else full  # all edges; node ids shared by every subset
    for p in profiles:
        v = seg[f"verdict_{p}"].to_numpy()
        cand = np.flatnonzero((v == "fail") & (seg["length_m"].to_numpy(dtype=float) <= max_len))
        if len(cand) == 0:
            continue
        m_pass = np.zeros(len(streets), dtype=bool)
        m_pass[rows[v == "pass"]] = True
        if not m_pass.any():
            continue
        tsel = {"toilet": (tcat == "toilet") & twc} if p == "wheelchair" else {}
        net = _subnet(full_net, m_pass)
        labels = component_labels(net)
        sh = snap_points(net, homes.geometry, snap)
        hcomp = np.where(sh.ok, labels[net.edge_u[np.maximum(sh.edge, 0)]], -1)
        st = snap_points(net, targets, snap)
        tcomp = np.where(st.ok, labels[net.edge_u[np.maximum(st.edge, 0)]], -1)
        reach_now = {t: homes[f"{p}_reach_{t}"].to_numpy(dtype=bool) if f"{p}_reach_{t}" in homes else np.zeros(len(homes), bool) for t in TARGETS}
        # residents per (component, type) not reaching; components holding each type
        n_lab = labels.max() + 1
        lack = {}
        has = {}
        for t in TARGETS:
            sel = tsel.get(t, tcat == t)
            w = np.where((hcomp >= 0) & ~reach_now[t], res, 0.0)
            lack[t] = np.bincount(np.maximum(hcomp, 0), weights=w, minlength=n_lab)
            h = np.zeros(n_lab, dtype=bool)
            h[tcomp[sel & (tcomp >= 0)]] = True
            has[t] = h
        # end nodes of candidates in the all-street node numbering
        pos_in_full = np.full(len(streets), -1, dtype=np.int64)
        pos_in_full[full_net.edge_source] = np.arange(full_net.n_edges)
        ce = pos_in_full[rows[cand]]
        okc = ce >= 0
        cand, ce = cand[okc], ce[okc]
        cu = labels[full_net.edge_u[ce]]
        cv = labels[full_net.edge_v[ce]]
        heur = np.zeros(len(cand))
        for t in TARGETS:
            heur += np.where(cu != cv, lack[t][cu] * has[t][cv] + lack[t][cv] * has[t][cu], 0.0)
        # best heuristic first; candidates inside one component (heuristic 0) can still bring
        # destinations within the distance limit (a shortcut): they fill the remaining exact
        # evaluations, shortest segment first.
        order = np.lexsort((seg["length_m"].to_numpy(dtype=float)[cand], -heur))
        exact_r = np.full(len(cand), np.nan)
        exact_p = np.full(len(cand), np.nan)
        for j in order[:top_k]:
            m2 = m_pass.copy()
            m2[rows[cand[j]]] = True
            r2 = _reach(full_net, m2, homes, targets, tcat, tsel, norms)
            new_any = np.zeros(len(homes), dtype=bool)
            pairs = 0.0
            for t in TARGETS:
                gained = r2[t] & ~reach_now[t]
                new_any |= gained
                pairs += float(res[gained].sum())
            exact_r[j] = float(res[new_any].sum())
            exact_p[j] = pairs
        df = seg.iloc[cand][["edge_id", "highway", "name", "length_m", "geometry"]].copy()
        df.insert(0, "profile", p)
        df["reason"] = seg[f"reason_{p}"].to_numpy()[cand]
        df["heuristic_gain"] = np.round(heur, 1)
        df["gain_residents"] = np.round(exact_r, 1)
        df["gain_pairs"] = np.round(exact_p, 1)
        # keep verified gains, and unverified candidates with a positive heuristic (beyond the top K)
        df = df[(df["gain_residents"] > 0) | (df["gain_residents"].isna() & (df["heuristic_gain"] > 0))]
        df = df.sort_values(["gain_residents", "heuristic_gain"], ascending=[False, False], na_position="last")
        df["rank"] = np.arange(1, len(df) + 1)
        out.append(df)
    if not out:
        return _empty_links(streets.crs)
    return gpd.GeoDataFrame(pd.concat(out, ignore_index=True), geometry="geometry", crs=streets.crs)


__all__ = [
    "PROFILES", "TARGETS", "AccessibilityError", "AccessibilityParams", "AccessibilityResult", "accessibility_indicators", "missing_links",
    "parse_incline_pct", "parse_width_m", "segment_accessibility",
]
