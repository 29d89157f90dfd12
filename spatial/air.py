"""Annual mean NO2 and PM2.5 at every home and every sensitive destination (background + road traffic).

The concentration at a receptor (a home point, a school, a map cell) is a background value plus the
near-road increment of every street segment within ``max_distance_m``:

1. **Emission** per segment (:func:`segment_emissions`): AADT split into light and heavy vehicles
   (``heavy_share``), times fleet-average emission factors in g per vehicle-km per speed type
   (``data/norms/air_emission_factors.csv``: the Dutch national factors for SRM1/SRM2, set 2022).
   The posted speed selects the speed type (<= 30 km/h: "stad normaal", 31-50: "stad doorstromend",
   51-90: "buitenweg", above: motorway). PM2.5 = ``pm25_per_pm10_traffic`` x PM10 (wear included).
2. **Dispersion** (:func:`line_source_increment`): each straight piece of a street is a line of point
   sources; a point source of strength Q (µg/s) gives, for an *annual mean* with all wind directions
   equally frequent at speed u (isotropic wind rose), the sector-averaged Gaussian plume of a ground
   source (Turner, D.B. 1970, Workbook of Atmospheric Dispersion Estimates, US EPA AP-26, long-term
   averages: 2.03 Q f / (sigma_z u x) for 16 wind sectors is this formula with f = 1/16)::

       C(r) = Q * sqrt(2/pi) / (2 pi r u sigma_z(r)),  sigma_z(r) = sqrt(sigma_z0^2 + (a r (1 + b r)^c)^2)

   with Briggs' urban curves for neutral stability (class D) and an initial vertical spread sigma_z0
   from vehicle-induced mixing. Integrated along a straight piece of line emission q (µg/m/s), with
   the perpendicular distance d and the angle theta seen from the receptor (l = d tan theta)::

       C = q sqrt(2/pi) / (2 pi u) * integral(theta1..theta2) sec(theta) / sigma_z(d sec theta) dtheta

   computed by Gauss-Legendre quadrature in theta (1 or 3 nodes for narrow pieces, 16 otherwise). With
   ``sigma_z = a r`` the integrand is the constant 1/(a d), so the result is exact; the tests check
   the general case against scipy.
3. **Street canyon** (:func:`street_canyons`): a street with buildings on both sides within
   ``canyon_max_half_width_m`` is a canyon of width W. A receptor at its façade (within W/2 +
   ``canyon_facade_margin_m`` of the axis) gets from that street ``max(open-road value, q / (W
   lambda u))``, the recirculation term of OSPM (Berkowicz 2000) without traffic turbulence.
4. **NO2 from NOx**: NO2 = A NOx/(NOx + B) + C NOx on total NOx (Düring et al. 2011); the background
   NOx is the inverse of that relation at the background NO2, so the NO2 increment is ozone-limited.
5. **Baseline raster** (optional, per pollutant): an official annual map replaces background +
   modelled baseline; the model then supplies only the change of ``traffic`` against
   ``reference_traffic`` (for NO2 through the same NOx relation).
6. **Judgement**: exposure classes per receptor (class 1 = at or below the WHO 2021 guideline, then
   WHO interim targets / EU 2030 limit values), residents per class, population-weighted means per wijk;
   and a light per home that separates the site from the background (:func:`site_light`): red above
   the EU 2030 limit value or where the near-road increment is above 3 % of it (Dutch NIBM rule),
   orange where only the annual mean is above WHO, green at or below WHO.
   The background is per city (:meth:`AirParams.for_area`: manifest ``air_background``).
7. **Local recompute** (``previous=``): after a plan only the street segments whose traffic, geometry or
   canyon changed are recomputed at the receptors already known; new receptors are computed in full.

Limitations (said in the result's notes where they apply): one wind speed and no preferred wind
direction; neutral stability only; a home is its building's representative point, so the façade
value of an open road is underestimated for deep buildings; the background may already hold part of
the local streets (no double-counting correction); no black carbon; emission factors are Dutch fleet
averages (set 2022), close to but not the Flemish fleet.

Every coefficient comes from ``data/norms/air.toml`` and ``data/norms/air_emission_factors.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.model.norms import Norm, load_norms, load_table
from gezondestad.model.studyarea import CRS, LandCover, StudyArea
from gezondestad.model.wijken import assign_wijk
from gezondestad.spatial.aggregate import aggregate_per_wijk, home_points
from gezondestad.spatial.raster import sample_raster_file
from gezondestad.spatial.traffic import traffic_per_segment
from pyproj import CRS as ProjCRS

logger = logging.getLogger(__name__)

POLLUTANTS: tuple[str, ...] = ("no2", "pm25")
"""Pollutants judged (NOx is modelled as the precursor of NO2)."""

TRAFFIC_COLUMNS: tuple[str, ...] = ("aadt", "heavy_share", "speed_kmh")
"""Columns of a traffic layer that the air model reads (plus a line geometry)."""

DEFAULT_BACKGROUND_SOURCE = ("projectstandaard voor Vlaanderen (data/norms/air.toml: stedelijke achtergrond 2023, "
                             "geen meting in uw stad)")
"""Dutch origin of the background when the city gives none."""

SITE_LIGHTS: tuple[str, ...] = ("groen", "oranje", "rood")
"""Air light per home (:func:`site_light`): 0 green, 1 orange, 2 red; -1 is unknown."""

_GL = {n: np.polynomial.legendre.leggauss(n) for n in (1, 3, 16)}
_PAIR_BLOCK = 1_500_000
"""Receptor-piece pairs processed at once (bounds the memory of the kernel)."""


class AirInputError(GezondeStadError):
    """Bad input for the air model (traffic, baseline raster, parameter); the message is Dutch."""


# ----------------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirParams:
    """Parameters of the air model; :meth:`AirParams.from_norms` fills them from ``data/norms``.

    Attributes
    ----------
    background_no2_ugm3, background_pm25_ugm3 : float
        Annual background concentrations (per city, :meth:`AirParams.for_area`; project default for Flanders).
    wind_speed_ms : float
        Annual mean wind speed u of the isotropic wind rose.
    sigma_z0_m, sigma_z_a, sigma_z_b, sigma_z_c : float
        Vertical spread ``sqrt(sigma_z0^2 + (a r (1 + b r)^c)^2)``.
    max_distance_m, min_distance_m : float
        Street segments beyond ``max_distance_m`` are ignored; receptors nearer than
        ``min_distance_m`` to a road axis are taken at that distance.
    quad_tiny_span_rad, quad_small_span_rad : float
        Angular spans below which 1 (midpoint) or 3 quadrature nodes are used instead of 16.
    canyon_max_half_width_m, canyon_min_side_coverage, canyon_probe_spacing_m, canyon_lambda,
    canyon_facade_margin_m : float
        Street-canyon detection and recirculation term.
    no2_nox_a, no2_nox_b, no2_nox_c : float
        NO2 = A NOx / (NOx + B) + C NOx.
    pm25_per_pm10_traffic : float
        PM2.5 share of the traffic PM10 emission.
    who_*, eu2030_* : float
        Guideline and limit values (annual means).
    site_increment_share_of_limit : float
        Near-road increment above this share of the EU 2030 limit value makes a home's air light red
        (:func:`site_light`).
    no2_class_breaks_ugm3, pm25_class_breaks_ugm3 : tuple of float
        Inclusive upper bounds of classes 1..n (class n+1 above the last).
    class_labels : tuple of str
        Dutch label per class.
    sensitive_destinations : tuple
        ``((kind, ("category:school", "subtype:hospital", ...)), ...)`` tried in order.
    emission_factors : DataFrame
        The emission-factor table (one row per speed type and vehicle class).
    norms : dict
        The :class:`Norm` entries these values came from (for the report).
    background_source : str
        Dutch: where the background values come from (project default, the city's manifest, a
        command-line option); said in the notes.
    """

    background_no2_ugm3: float
    background_pm25_ugm3: float
    wind_speed_ms: float
    sigma_z0_m: float
    sigma_z_a: float
    sigma_z_b: float
    sigma_z_c: float
    max_distance_m: float
    min_distance_m: float
    quad_tiny_span_rad: float
    quad_small_span_rad: float
    canyon_max_half_width_m: float
    canyon_min_side_coverage: float
    canyon_probe_spacing_m: float
    canyon_lambda: float
    canyon_facade_margin_m: float
    no2_nox_a: float
    no2_nox_b: float
    no2_nox_c: float
    pm25_per_pm10_traffic: float
    who_no2_ugm3: float
    who_pm25_ugm3: float
    eu2030_no2_ugm3: float
    eu2030_pm25_ugm3: float
    site_increment_share_of_limit: float
    no2_class_breaks_ugm3: tuple[float, ...]
    pm25_class_breaks_ugm3: tuple[float, ...]
    class_labels: tuple[str, ...]
    sensitive_destinations: tuple[tuple[str, tuple[str, ...]], ...]
    emission_factors: pd.DataFrame = field(repr=False, compare=False)
    norms: Mapping[str, Norm] = field(repr=False, compare=False, default_factory=dict)
    background_source: str = field(compare=False, default="")

    @classmethod
    def from_norms(cls, norms_dir: Any = None, **overrides: Any) -> AirParams:
        """Parameters from ``air.toml`` + ``air_emission_factors.csv``; keyword overrides win."""
        n = load_norms("air", norms_dir)
        scalar = [
            f.name for f in cls.__dataclass_fields__.values()  # type: ignore[attr-defined]
            if f.type == "float"
        ]
        vals: dict[str, Any] = {}
        for key in scalar:
            if key not in n:
                raise AirInputError(f"data/norms/air.toml mist de waarde '{key}'.")
            vals[key] = float(n[key].value)
        vals["no2_class_breaks_ugm3"] = tuple(float(b) for b in n["no2_class_breaks_ugm3"].value)
        vals["pm25_class_breaks_ugm3"] = tuple(float(b) for b in n["pm25_class_breaks_ugm3"].value)
        vals["class_labels"] = tuple(str(s) for s in n["class_labels"].value)
        vals["sensitive_destinations"] = tuple((k, tuple(v)) for k, v in n["sensitive_destinations"].value.items())
        vals["emission_factors"] = load_table("air_emission_factors", norms_dir)
        vals["background_source"] = DEFAULT_BACKGROUND_SOURCE
        unknown = set(overrides) - set(vals)
        if unknown:
            raise AirInputError(f"Onbekende luchtparameter(s) {sorted(unknown)}; gekend: {sorted(vals)}.")
        if {"background_no2_ugm3", "background_pm25_ugm3"} & set(overrides) and "background_source" not in overrides:
            vals["background_source"] = "opgegeven als parameter"
        vals.update(overrides)
        for k in ("no2_class_breaks_ugm3", "pm25_class_breaks_ugm3"):
            vals[k] = tuple(float(b) for b in vals[k])
        used = {k: v for k, v in n.items()}
        return cls(**vals, norms=used)

    @classmethod
    def for_area(cls, area: StudyArea, norms_dir: Any = None, **overrides: Any) -> AirParams:
        """Parameters for one city: :meth:`from_norms` with the study area's own background air.

        The manifest key ``air_background`` (from the sources TOML section ``[air_background]`` or
        written into ``manifest.json``) may hold ``no2_ugm3``, ``pm25_ugm3`` and the text keys
        ``source``, ``year``, ``station``, ``note``. Keyword overrides (e.g. the CLI's
        ``--background-no2``) win over the manifest, the manifest over ``data/norms/air.toml``.
        """
        bg = (getattr(area, "manifest", None) or {}).get("air_background")
        if bg is None:
            return cls.from_norms(norms_dir, **overrides)
        if not isinstance(bg, Mapping):
            raise AirInputError("'air_background' in het manifest van het studiegebied moet een tabel zijn "
                                "(no2_ugm3, pm25_ugm3, source); pas het bronbestand (TOML) of manifest.json aan.")
        city: dict[str, Any] = {}
        for key, field_name in (("no2_ugm3", "background_no2_ugm3"), ("pm25_ugm3", "background_pm25_ugm3")):
            if key in bg:
                try:
                    city[field_name] = float(bg[key])
                except (TypeError, ValueError):
                    raise AirInputError(f"air_background.{key} in het manifest is geen getal ({bg[key]!r}); "
                                        "geef de jaargemiddelde achtergrond in µg/m³.") from None
        if city:
            text = "; ".join(str(bg[k]) for k in ("source", "station", "year") if bg.get(k))
            if not text:
                raise AirInputError("air_background in het manifest geeft een waarde zonder bron; vul 'source' in "
                                    "(bv. 'IRCEL-CELINE RIO-IFDM 2023, jaargemiddelde').")
            city["background_source"] = f"waarde van de stad ({text})"
        if {"background_no2_ugm3", "background_pm25_ugm3"} & set(overrides) and "background_source" not in overrides:
            city_text = city.get("background_source")
            city["background_source"] = "opgegeven als parameter" + (f"; anders {city_text}" if city_text else "")
        city.update(overrides)
        return cls.from_norms(norms_dir, **city)


def _check_params(p: AirParams) -> None:
    for name in ("background_no2_ugm3", "background_pm25_ugm3"):
        v = getattr(p, name)
        if not np.isfinite(v) or v < 0:
            raise AirInputError(
                f"De achtergrondconcentratie '{name}' is ongeldig ({v}); geef een getal >= 0 in µg/m³ "
                "(in data/norms/air.toml of als parameter)."
            )
    for name in ("wind_speed_ms", "sigma_z_a", "max_distance_m", "min_distance_m", "canyon_lambda"):
        v = getattr(p, name)
        if not np.isfinite(v) or v <= 0:
            raise AirInputError(f"De luchtparameter '{name}' moet een getal > 0 zijn, niet {v}.")
    for name in ("no2_class_breaks_ugm3", "pm25_class_breaks_ugm3"):
        b = np.asarray(getattr(p, name), dtype=float)
        if b.size == 0 or np.any(np.diff(b) <= 0) or not np.all(np.isfinite(b)):
            raise AirInputError(f"De klassegrenzen '{name}' moeten stijgende getallen zijn, niet {list(b)}.")
        if len(p.class_labels) < b.size + 1:
            raise AirInputError(f"Er zijn {b.size + 1} klassen voor '{name}' maar maar {len(p.class_labels)} labels.")


# ----------------------------------------------------------------------------------------------
# emissions
# ----------------------------------------------------------------------------------------------


def _check_traffic(traffic: gpd.GeoDataFrame, what: str, crs: Any) -> gpd.GeoDataFrame:
    """``traffic`` in the working CRS, refused with a Dutch message when it cannot be used."""
    if traffic is None or not isinstance(traffic, gpd.GeoDataFrame):
        raise AirInputError(f"{what}: verwacht een laag met straatsegmenten (GeoDataFrame).")
    missing = [c for c in TRAFFIC_COLUMNS if c not in traffic.columns]
    if missing:
        raise AirInputError(f"{what}: de kolom(men) {', '.join(missing)} ontbreken; nodig zijn {', '.join(TRAFFIC_COLUMNS)}.")
    if traffic.crs is None:
        raise AirInputError(f"{what}: de laag heeft geen coördinatenstelsel (CRS); ken er een toe (bv. EPSG:31370).")
    t = traffic if ProjCRS(traffic.crs) == ProjCRS(crs) else traffic.to_crs(crs)
    ids = t["edge_id"].astype(str).to_numpy() if "edge_id" in t.columns else np.arange(len(t)).astype(str)

    def bad(mask: np.ndarray, text: str) -> None:
        if mask.any():
            ex = ", ".join(ids[mask][:5])
            raise AirInputError(
                f"{what}: {int(mask.sum())} segment(en) met {text} (bv. {ex}). Verbeter de verkeerstellingen of laat die segmenten weg."
            )

    aadt = pd.to_numeric(t["aadt"], errors="coerce").to_numpy(dtype=float)
    hs = pd.to_numeric(t["heavy_share"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(t["speed_kmh"], errors="coerce").to_numpy(dtype=float)
    bad(~np.isfinite(aadt), "onbekende etmaalintensiteit (aadt)")
    bad(aadt < 0, "een negatieve etmaalintensiteit (aadt)")
    moving = aadt > 0  # segments without motor traffic (footways, closed streets) need no speed or mix
    bad(moving & (~np.isfinite(hs) | (hs < 0) | (hs > 1)), "een aandeel vrachtverkeer buiten 0-1")
    bad(moving & (~np.isfinite(v) | (v <= 0) | (v > 200)), "een snelheid buiten 1-200 km/u")
    geom_ok = t.geometry.notna().to_numpy() & ~t.geometry.is_empty.to_numpy()
    geom_ok &= t.geometry.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    bad(~geom_ok, "een lege of niet-lijnvormige geometrie")
    return t


def segment_emissions(traffic: gpd.GeoDataFrame, params: AirParams | None = None) -> pd.DataFrame:
    """Line emission of NOx and PM2.5 per street segment.

    Parameters
    ----------
    traffic : GeoDataFrame
        One row per segment with ``aadt`` (veh/day), ``heavy_share`` (0-1) and ``speed_kmh``.
    params : AirParams, optional

    Returns
    -------
    DataFrame (index of ``traffic``) with ``speed_type``, ``nox_g_km_day``, ``pm25_g_km_day``,
    ``nox_ug_m_s`` and ``pm25_ug_m_s`` (1 g/km/day = 1/86.4 µg/m/s).
    """
    p = params or AirParams.from_norms()
    ef = p.emission_factors
    aadt = pd.to_numeric(traffic["aadt"], errors="coerce").to_numpy(dtype=float)
    hs = pd.to_numeric(traffic["heavy_share"], errors="coerce").to_numpy(dtype=float)
    v = pd.to_numeric(traffic["speed_kmh"], errors="coerce").to_numpy(dtype=float)
    n = len(traffic)
    st = np.full(n, None, dtype=object)
    nox = np.full(n, np.nan)
    pm10 = np.full(n, np.nan)
    moving = aadt > 0
    hs = np.where(moving, hs, 0.0)
    light, heavy = aadt * (1.0 - hs), aadt * hs
    nox[~moving] = 0.0
    pm10[~moving] = 0.0
    for speed_type, rows in ef.groupby("speed_type", sort=False):
        r = rows.set_index("vehicle_class")
        if not {"light", "heavy"} <= set(r.index):
            raise AirInputError(f"air_emission_factors.csv: snelheidstype '{speed_type}' mist 'light' of 'heavy'.")
        lo, hi = float(r["speed_min_kmh"].iloc[0]), float(r["speed_max_kmh"].iloc[0])
        m = moving & (v > lo) & (v <= hi)
        st[m] = speed_type
        nox[m] = light[m] * float(r.at["light", "nox_g_per_km"]) + heavy[m] * float(r.at["heavy", "nox_g_per_km"])
        pm10[m] = light[m] * float(r.at["light", "pm10_g_per_km"]) + heavy[m] * float(r.at["heavy", "pm10_g_per_km"])
    if np.isnan(nox).any():
        bad = np.unique(v[np.isnan(nox)])[:5].tolist()
        raise AirInputError(f"Geen emissiefactor voor snelheid(en) {list(bad)} km/u in air_emission_factors.csv.")
    pm25 = pm10 * p.pm25_per_pm10_traffic
    return pd.DataFrame(
        {
            "speed_type": st,
            "nox_g_km_day": nox,
            "pm25_g_km_day": pm25,
            "nox_ug_m_s": nox / 86.4,
            "pm25_ug_m_s": pm25 / 86.4,
        },
        index=traffic.index,
    )


# ----------------------------------------------------------------------------------------------
# street canyons
# ----------------------------------------------------------------------------------------------


def street_canyons(lines: Any, buildings: gpd.GeoDataFrame | gpd.GeoSeries | None, params: AirParams | None = None) -> np.ndarray:
    """Canyon width W (m) per street line, NaN where buildings do not line both sides.

    Probes perpendicular to the street every ``canyon_probe_spacing_m`` look for a building on each
    side within ``canyon_max_half_width_m`` of the axis. A street is a canyon when at least
    ``canyon_min_side_coverage`` of its probes find one on the left *and* on the right; W is the
    median, over probes that found both, of the left plus the right distance.
    """
    p = params or AirParams.from_norms()
    geoms = np.asarray(lines.values if hasattr(lines, "values") else lines, dtype=object)
    n = len(geoms)
    out = np.full(n, np.nan)
    if n == 0 or buildings is None or len(buildings) == 0:
        return out
    bgeoms = np.asarray((buildings.geometry if isinstance(buildings, gpd.GeoDataFrame) else buildings).values, dtype=object)
    bgeoms = bgeoms[~shapely.is_empty(bgeoms) & ~shapely.is_missing(bgeoms)]
    if len(bgeoms) == 0:
        return out
    merged = np.array([shapely.line_merge(g) if g.geom_type == "MultiLineString" else g for g in geoms], dtype=object)
    length = shapely.length(merged)
    ns = np.maximum(1, np.floor(length / p.canyon_probe_spacing_m).astype(np.int64))
    line_of = np.repeat(np.arange(n), ns)
    k = np.arange(ns.sum()) - np.repeat(np.cumsum(ns) - ns, ns)
    pos = (k + 0.5) / ns[line_of] * length[line_of]
    g = merged[line_of]
    pts = shapely.get_coordinates(shapely.line_interpolate_point(g, pos))
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(g, np.minimum(pos + 1.0, length[line_of])))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(g, np.maximum(pos - 1.0, 0.0)))
    tan = ahead - behind
    tl = np.hypot(tan[:, 0], tan[:, 1])
    tl[tl == 0] = 1.0
    normal = np.column_stack([-tan[:, 1], tan[:, 0]]) / tl[:, None]
    tree = shapely.STRtree(bgeoms)
    origin = shapely.points(pts)
    dist = {}
    for side in (1.0, -1.0):
        a = pts + side * normal * 0.5
        b = pts + side * normal * p.canyon_max_half_width_m
        probes = shapely.linestrings(np.stack([a, b], axis=1))
        pi, bi = tree.query(probes, predicate="intersects")
        d = np.full(len(pts), np.inf)
        if len(pi):
            hit = shapely.intersection(probes[pi], bgeoms[bi])
            np.minimum.at(d, pi, shapely.distance(origin[pi], hit))
        dist[side] = d
    left, right = dist[1.0], dist[-1.0]
    both = np.isfinite(left) & np.isfinite(right)
    df = pd.DataFrame({"line": line_of, "l": np.isfinite(left), "r": np.isfinite(right), "w": np.where(both, left + right, np.nan)})
    g2 = df.groupby("line")
    cov = g2[["l", "r"]].mean()
    width = g2["w"].median()
    is_canyon = (cov["l"] >= p.canyon_min_side_coverage) & (cov["r"] >= p.canyon_min_side_coverage) & width.notna()
    idx = cov.index[is_canyon.to_numpy()].to_numpy()
    out[idx] = np.maximum(width.loc[idx].to_numpy(), 2.0 * p.min_distance_m)
    return out


# ----------------------------------------------------------------------------------------------
# dispersion
# ----------------------------------------------------------------------------------------------


def _sigma_z(r: np.ndarray, p: AirParams) -> np.ndarray:
    briggs = p.sigma_z_a * r * (1.0 + p.sigma_z_b * r) ** p.sigma_z_c
    return np.sqrt(p.sigma_z0_m**2 + briggs**2)


def _angle_integral(d: np.ndarray, th1: np.ndarray, th2: np.ndarray, p: AirParams) -> np.ndarray:
    """``integral(th1..th2) sec(t) / sigma_z(d sec t) dt`` per pair (Gauss-Legendre)."""
    out = np.zeros(len(d))
    span = th2 - th1
    aspan = np.abs(span)
    tiny = aspan < p.quad_tiny_span_rad
    small = ~tiny & (aspan < p.quad_small_span_rad)
    large = ~tiny & ~small
    for mask, nodes in ((tiny, 1), (small, 3), (large, 16)):
        if not mask.any():
            continue
        x, w = _GL[nodes]
        half = 0.5 * span[mask]
        th = (0.5 * (th1[mask] + th2[mask]))[:, None] + half[:, None] * x[None, :]
        sec = 1.0 / np.cos(th)
        out[mask] = (sec / _sigma_z(d[mask][:, None] * sec, p)) @ w * half
    return out


def _as_xy(receptors: Any) -> np.ndarray:
    if isinstance(receptors, (gpd.GeoDataFrame, gpd.GeoSeries)):
        geoms = receptors.geometry if isinstance(receptors, gpd.GeoDataFrame) else receptors
        return shapely.get_coordinates(shapely.centroid(np.asarray(geoms.values, dtype=object)))
    xy = np.asarray(receptors, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise AirInputError("Ontvangerpunten moeten een (n, 2)-reeks x/y of een puntlaag zijn.")
    return xy


def _pieces(geoms: np.ndarray, src_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Straight pieces (start, vector, length, source index) of the lines ``geoms[src_idx]``.

    Lines are simplified with a 0.5 m tolerance first (vertices closer to a straight line than
    that change nothing at a façade, and fewer pieces mean fewer receptor-piece pairs).
    """
    lines = shapely.simplify(geoms[src_idx], 0.5)
    parts, part_of = shapely.get_parts(lines, return_index=True)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[:-1] == cidx[1:]
    a, b = coords[:-1][same], coords[1:][same]
    piece_src = src_idx[part_of[cidx[:-1][same]]]
    seg = b - a
    length = np.hypot(seg[:, 0], seg[:, 1])
    keep = length > 1e-9
    return a[keep], seg[keep], length[keep], piece_src[keep]


def line_source_increment(
    receptors: Any,
    lines: Any,
    emission_ug_m_s: np.ndarray,
    params: AirParams | None = None,
    canyon_width_m: np.ndarray | None = None,
) -> np.ndarray:
    """Annual-mean concentration increment (µg/m³) at each receptor from line sources.

    Parameters
    ----------
    receptors : (n, 2) array of x/y, or a GeoDataFrame/GeoSeries of points (metric CRS)
    lines : sequence of LineString/MultiLineString (same CRS), one per source
    emission_ug_m_s : array (m,) or (m, k)
        Line emission per source in µg per metre per second; k pollutants at once.
    params : AirParams, optional
    canyon_width_m : array (m,), optional
        Street-canyon width per source (NaN = open road); see :func:`street_canyons`.

    Returns
    -------
    ndarray (n,) or (n, k): the summed increment of all sources within ``max_distance_m``.
    """
    p = params or AirParams.from_norms()
    xy = _as_xy(receptors)
    geoms = np.asarray(lines.values if hasattr(lines, "values") else lines, dtype=object)
    em = np.asarray(emission_ug_m_s, dtype=float)
    one_d = em.ndim == 1
    em2 = em[:, None] if one_d else em
    if em2.shape[0] != len(geoms):
        raise AirInputError(f"Er zijn {len(geoms)} lijnbronnen maar {em2.shape[0]} emissiewaarden.")
    if not np.all(np.isfinite(em2)) or np.any(em2 < 0):
        raise AirInputError("De emissie van een of meer lijnbronnen is onbekend (NaN) of negatief.")
    k = em2.shape[1]
    out = np.zeros((len(xy), k))
    canyon = np.full(len(geoms), np.nan) if canyon_width_m is None else np.asarray(canyon_width_m, dtype=float)
    active = (em2.sum(axis=1) > 0) & ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    if len(xy) == 0 or not active.any():
        return out[:, 0] if one_d else out
    a, seg, length, piece_src = _pieces(geoms, np.flatnonzero(active))
    unit = seg / length[:, None]
    const = np.sqrt(2.0 / np.pi) / (2.0 * np.pi * p.wind_speed_ms)

    def local(ri: np.ndarray, pj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Along-piece coordinate s and signed perpendicular offset of each receptor-piece pair."""
        rel = xy[ri] - a[pj]
        return rel[:, 0] * unit[pj, 0] + rel[:, 1] * unit[pj, 1], rel[:, 0] * unit[pj, 1] - rel[:, 1] * unit[pj, 0]

    def kernel(s: np.ndarray, nperp: np.ndarray, lp: np.ndarray) -> np.ndarray:
        """Increment per unit line emission (µg/m³ per µg/m/s) of each pair."""
        d = np.maximum(np.abs(nperp), p.min_distance_m)
        return const * _angle_integral(d, np.arctan2(-s, d), np.arctan2(lp - s, d), p)

    tree = shapely.STRtree(shapely.linestrings(np.stack([a, a + seg], axis=1)))
    pts = shapely.points(xy)
    bx0, by0 = np.minimum(a, a + seg).min(axis=0)
    bx1, by1 = np.maximum(a, a + seg).max(axis=0)
    bbox_m2 = max((bx1 - bx0 + 2 * p.max_distance_m) * (by1 - by0 + 2 * p.max_distance_m), 1.0)
    est_pairs = max(1.0, len(a) * min(1.0, np.pi * p.max_distance_m**2 / bbox_m2))
    step = max(1, int(_PAIR_BLOCK // est_pairs))
    R = p.max_distance_m
    n_pairs = 0
    for start in range(0, len(xy), step):
        sl = xy[start : start + step]
        # envelope query (fast), then the exact distance to the piece filters the corners out
        ri, pj = tree.query(shapely.box(sl[:, 0] - R, sl[:, 1] - R, sl[:, 0] + R, sl[:, 1] + R))
        if len(ri) == 0:
            continue
        ri = ri + start
        s, nperp = local(ri, pj)
        lp = length[pj]
        near = np.hypot(nperp, s - np.clip(s, 0.0, lp)) <= R
        ri, pj = ri[near], pj[near]
        kern = kernel(s[near], nperp[near], lp[near])
        n_pairs += len(ri)
        for j in range(k):
            out[:, j] += np.bincount(ri, weights=kern * em2[piece_src[pj], j], minlength=len(xy))

    logger.debug("line_source_increment: %d receptors, %d pieces, %d pairs", len(xy), len(a), n_pairs)
    # street canyons: a façade receptor gets max(open-road value, recirculation q / (W lambda u)) from that street
    is_c = np.isfinite(canyon) & active
    if is_c.any():
        c_idx = np.flatnonzero(is_c)
        reach = canyon[c_idx] / 2.0 + p.canyon_facade_margin_m
        ctree = shapely.STRtree(geoms[c_idx])
        ri, cj = ctree.query(pts, predicate="dwithin", distance=float(reach.max()))
        if len(ri):
            ok = shapely.distance(pts[ri], geoms[c_idx][cj]) <= reach[cj]
            ri, src = ri[ok], c_idx[cj[ok]]
        if len(ri):
            # every piece of each (receptor, canyon street) pair: the open-road value of that street
            order = np.argsort(piece_src, kind="stable")
            first = np.searchsorted(piece_src[order], src, side="left")
            count = np.searchsorted(piece_src[order], src, side="right") - first
            pair = np.repeat(np.arange(len(ri)), count)
            pj = order[np.repeat(first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))]
            s, nperp = local(ri[pair], pj)
            kern = kernel(s, nperp, length[pj])
            open_road = np.bincount(pair, weights=kern, minlength=len(ri))
            box = 1.0 / (canyon[src] * p.canyon_lambda * p.wind_speed_ms)
            extra = np.maximum(box - open_road, 0.0)
            for j in range(k):
                out[:, j] += np.bincount(ri, weights=extra * em2[src, j], minlength=len(xy))
    return out[:, 0] if one_d else out


# ----------------------------------------------------------------------------------------------
# NO2 from NOx, classes
# ----------------------------------------------------------------------------------------------


def no2_from_nox(nox_ugm3: np.ndarray, params: AirParams) -> np.ndarray:
    """Annual mean NO2 from total NOx (both µg/m³): ``A NOx / (NOx + B) + C NOx`` (Düring et al. 2011)."""
    n = np.maximum(np.asarray(nox_ugm3, dtype=float), 0.0)
    return params.no2_nox_a * n / (n + params.no2_nox_b) + params.no2_nox_c * n


def nox_from_no2(no2_ugm3: np.ndarray, params: AirParams) -> np.ndarray:
    """Inverse of :func:`no2_from_nox` (the positive root of C N^2 + (A + C B - NO2) N - NO2 B = 0)."""
    y = np.maximum(np.asarray(no2_ugm3, dtype=float), 0.0)
    A, B, C = params.no2_nox_a, params.no2_nox_b, params.no2_nox_c
    if C == 0:
        return np.where(y < A, B * y / np.maximum(A - y, 1e-12), np.inf)
    q = A + C * B - y
    return (-q + np.sqrt(q * q + 4.0 * C * y * B)) / (2.0 * C)


def exposure_class(values: np.ndarray, breaks: tuple[float, ...]) -> np.ndarray:
    """Class 1..len(breaks)+1 (upper bounds inclusive), 0 where the value is unknown."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    return np.where(ok, np.searchsorted(np.asarray(breaks, dtype=float), np.where(ok, v, 0.0), side="left") + 1, 0).astype(np.int8)


def site_increment_limit(pollutant: str, params: AirParams) -> float:
    """Near-road increment (µg/m³) above which a home stands where local traffic matters.

    ``site_increment_share_of_limit`` x the EU 2030 annual limit value (3 % after the Dutch NIBM
    rule: 0,6 µg/m³ NO2, 0,3 µg/m³ PM2.5).
    """
    return float(params.site_increment_share_of_limit) * float(getattr(params, f"eu2030_{pollutant}_ugm3"))


def site_light(total_ugm3: np.ndarray, increment_ugm3: np.ndarray, pollutant: str, params: AirParams) -> np.ndarray:
    """Air light per home that tells the site and the plan apart from the regional background.

    ``2`` (red) when the annual mean is above the EU 2030 limit value or the near-road increment is
    above :func:`site_increment_limit`; ``1`` (orange) when neither but the annual mean is above the
    WHO 2021 guideline (the background does it); ``0`` (green) at or below the WHO guideline; ``-1``
    where the value is unknown. Rule and sources: ``data/norms/air.toml`` ``site_increment_share_of_limit``.
    """
    if pollutant not in POLLUTANTS:
        raise AirInputError(f"Onbekende stof '{pollutant}'; gekend: {', '.join(POLLUTANTS)}.")
    v = np.asarray(total_ugm3, dtype=float)
    inc = np.asarray(increment_ugm3, dtype=float)
    who = float(getattr(params, f"who_{pollutant}_ugm3"))
    eu = float(getattr(params, f"eu2030_{pollutant}_ugm3"))
    ok = np.isfinite(v) & np.isfinite(inc)
    red = (v > eu + 1e-9) | (inc > site_increment_limit(pollutant, params) + 1e-9)
    out = np.where(red, 2, np.where(v > who + 1e-9, 1, 0))
    return np.where(ok, out, -1).astype(np.int8)


def background_above_who(pollutant: str, params: AirParams) -> bool:
    """Whether the background alone is above the WHO 2021 guideline (then every home is at least orange)."""
    return float(getattr(params, f"background_{pollutant}_ugm3")) > float(getattr(params, f"who_{pollutant}_ugm3")) + 1e-9


# ----------------------------------------------------------------------------------------------
# receptors
# ----------------------------------------------------------------------------------------------


def sensitive_destinations(pois: gpd.GeoDataFrame, params: AirParams | None = None) -> gpd.GeoDataFrame:
    """POIs that are sensitive destinations, with their ``kind`` (childcare, hospital, care_home, school, healthcare).

    Returns a GeoDataFrame with ``poi_id``, ``kind``, ``name``, ``category``, ``subtype`` and a point
    geometry (the representative point of polygons).
    """
    p = params or AirParams.from_norms()
    cols = ["poi_id", "kind", "name", "category", "subtype"]
    if pois is None or len(pois) == 0:
        return gpd.GeoDataFrame({c: pd.Series(dtype="object") for c in cols}, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)
    cat = pois["category"].astype("object").fillna("").astype(str).str.lower().to_numpy() if "category" in pois else np.full(len(pois), "")
    sub = pois["subtype"].astype("object").fillna("").astype(str).str.lower().to_numpy() if "subtype" in pois else np.full(len(pois), "")
    kind = np.full(len(pois), None, dtype=object)
    unset = np.ones(len(pois), dtype=bool)  # no kind yet: the first matching rule wins
    for k, rules in p.sensitive_destinations:
        for rule in rules:
            field_name, _, value = rule.partition(":")
            arr = cat if field_name == "category" else sub
            m = unset & (arr == value.lower())
            kind[m] = k
            unset &= ~m
    keep = ~unset
    sel = pois[keep]
    geom = sel.geometry.representative_point() if len(sel) else sel.geometry
    return gpd.GeoDataFrame(
        {
            "poi_id": sel["poi_id"].to_numpy() if "poi_id" in sel else np.arange(len(sel)),
            "kind": kind[keep],
            "name": sel["name"].to_numpy() if "name" in sel else None,
            "category": cat[keep],
            "subtype": sub[keep],
        },
        geometry=np.asarray(geom.values, dtype=object),
        crs=pois.crs,
    )


def _grid_for(area: StudyArea, traffic: gpd.GeoDataFrame, res: float) -> tuple[LandCover, np.ndarray]:
    """A north-up grid over the boundary (or wijken / traffic) and a mask of cells inside it."""
    if area.has("boundary"):
        shape = shapely.union_all(area.boundary.geometry.values)
    elif area.has("wijken"):
        shape = shapely.union_all(area.wijken.geometry.values)
    else:
        shape = shapely.box(*traffic.total_bounds)
    x0, y0, x1, y1 = shape.bounds
    x0, y0 = np.floor(x0 / res) * res, np.floor(y0 / res) * res
    w, h = int(np.ceil((x1 - x0) / res)), int(np.ceil((y1 - y0) / res))
    transform = Affine(res, 0.0, x0, 0.0, -res, y0 + h * res)
    cx = x0 + (np.arange(w) + 0.5) * res
    cy = y0 + h * res - (np.arange(h) + 0.5) * res
    gx, gy = np.meshgrid(cx, cy)
    shapely.prepare(shape)
    mask = shapely.contains_xy(shape, gx, gy)
    return LandCover(mask.astype(np.uint8), transform, float(res)), np.column_stack([gx[mask], gy[mask]])


def _sample_raster(path: Any, xy: np.ndarray, crs: Any, what: str) -> np.ndarray:
    """Band 1 of a concentration raster at the points ``xy`` (given in ``crs``); NaN outside or on nodata."""
    out = sample_raster_file(path, xy, crs, what, AirInputError)
    if np.nanmin(out) < 0:
        raise AirInputError(f"{what}: {path} bevat negatieve concentraties ({np.nanmin(out):.3g}); is dit wel een jaargemiddelde in µg/m³?")
    return out


# ----------------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AirResult:
    """Output of :func:`air_exposure`.

    Attributes
    ----------
    homes : GeoDataFrame
        :func:`spatial.aggregate.home_points` plus ``no2_ugm3``, ``pm25_ugm3``, ``nox_increment_ugm3``,
        ``no2_increment_ugm3``, ``pm25_increment_ugm3``, ``no2_class``, ``pm25_class`` (1..5, 0 = onbekend),
        ``canyon`` (façade of a street canyon).
    destinations : GeoDataFrame
        Sensitive destinations (:func:`sensitive_destinations`) with the same value columns and ``wijk_code``.
    per_wijk : DataFrame
        wijk_code, wijk_naam, residents, homes, no2_mean_ugm3, pm25_mean_ugm3 (population-weighted),
        residents_no2_class_1..n, residents_pm25_class_1..n, residents_above_who_no2 / _pm25,
        residents_above_eu2030_no2 / _pm25 (NaN when residents are unknown), homes_above_* (counts),
        destinations, destinations_above_who_no2 / _pm25, destinations_above_eu2030_no2 / _pm25,
        destinations_no2_class_1..n, destinations_pm25_class_1..n.
    per_class : DataFrame
        pollutant, class, label, upper bound, residents, homes, destinations (whole area).
    grid : LandCover or None
        The map grid (``classes`` = 1 inside the area) when a grid was asked.
    cells : dict of str to ndarray or None
        ``no2_ugm3``, ``pm25_ugm3``, ``nox_increment_ugm3``, ``pm25_increment_ugm3`` per cell (NaN outside the area).
    notes : list of str
        Dutch caveats (which baseline was used, defaults, missing data).
    norms_used : dict of str to Norm
        Every coefficient of ``data/norms/air.toml`` used.
    baseline : dict
        Per pollutant ``"model"`` or ``"raster:<path>"``.
    segments : GeoDataFrame
        Per street segment: edge_id, speed_type, emissions, canyon width and geometry.
    params : AirParams
    canyon_buildings : GeoSeries or None
        The building footprints the street canyons were derived from (for a local recompute).
    """

    homes: gpd.GeoDataFrame
    destinations: gpd.GeoDataFrame
    per_wijk: pd.DataFrame
    per_class: pd.DataFrame
    grid: LandCover | None
    cells: dict[str, np.ndarray] | None
    notes: list[str]
    norms_used: dict[str, Norm]
    baseline: dict[str, str]
    segments: gpd.GeoDataFrame
    params: AirParams = field(repr=False)
    canyon_buildings: gpd.GeoSeries | None = field(repr=False, default=None)

    def bands(self) -> dict[str, np.ndarray]:
        """Named rasters for export: NO2 and PM2.5 (empty without a grid)."""
        return {k: v for k, v in (self.cells or {}).items() if k in ("no2_ugm3", "pm25_ugm3")}


def _raster_paths(baseline_raster: Any) -> dict[str, Path]:
    if baseline_raster is None:
        return {}
    if isinstance(baseline_raster, Mapping):
        unknown = set(baseline_raster) - set(POLLUTANTS)
        if unknown:
            raise AirInputError(f"Onbekende polluent(en) {sorted(unknown)} voor een basisraster; gebruik 'no2' of 'pm25'.")
        return {k: Path(v) for k, v in baseline_raster.items() if v is not None}
    return {"no2": Path(baseline_raster)}


def _canyon_flags(xy: np.ndarray, lines: np.ndarray, width: np.ndarray, p: AirParams) -> np.ndarray:
    """True for receptors at the façade of a canyon street (within W/2 + margin of its axis)."""
    can = np.zeros(len(xy), dtype=bool)
    ok_w = np.isfinite(width)
    cl, cw = lines[ok_w], width[ok_w]
    if len(cl) and len(xy):
        tree = shapely.STRtree(cl)
        ri, cj = tree.query(shapely.points(xy), predicate="dwithin", distance=float(cw.max()) / 2 + p.canyon_facade_margin_m)
        if len(ri):
            d = shapely.distance(shapely.points(xy[ri]), cl[cj])
            can[ri[d <= cw[cj] / 2 + p.canyon_facade_margin_m]] = True
    return can


def _segment_table(traffic: gpd.GeoDataFrame, em: pd.DataFrame, width: np.ndarray) -> gpd.GeoDataFrame:
    seg = em.copy()
    seg["canyon_width_m"] = width
    seg.insert(0, "edge_id", traffic["edge_id"].to_numpy() if "edge_id" in traffic.columns else np.arange(len(traffic)))
    return gpd.GeoDataFrame(seg, geometry=np.asarray(traffic.geometry.values, dtype=object), crs=traffic.crs)


def _model_increments(area: StudyArea, traffic: gpd.GeoDataFrame, xy: np.ndarray, p: AirParams) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame]:
    """(increments (n, 2) of NOx and PM2.5, canyon flag per receptor, per-segment table)."""
    em = segment_emissions(traffic, p)
    lines = np.asarray(traffic.geometry.values, dtype=object)
    width = street_canyons(lines, area.buildings if area.has("buildings") else None, p)
    inc = line_source_increment(xy, lines, em[["nox_ug_m_s", "pm25_ug_m_s"]].to_numpy(), p, canyon_width_m=width)
    return inc, _canyon_flags(xy, lines, width, p), _segment_table(traffic, em, width)


def _receptor_keys(xy: np.ndarray) -> pd.MultiIndex:
    """Receptors are the same receptor when they lie on the same centimetre."""
    q = np.round(np.asarray(xy, dtype=float) * 100.0).astype(np.int64)
    return pd.MultiIndex.from_arrays([q[:, 0], q[:, 1]]) if len(q) else pd.MultiIndex.from_arrays([[], []])


def _local_increments(
    area: StudyArea, traffic: gpd.GeoDataFrame, xy: np.ndarray, p: AirParams, previous: AirResult, prev_xy: np.ndarray, prev_inc: np.ndarray
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame, str] | None:
    """Increments reusing ``previous``: only changed segments are recomputed at known receptors.

    Returns None when the previous result cannot be reused (no unique ``edge_id``).
    """
    ps = previous.segments
    if "edge_id" not in traffic.columns or not traffic["edge_id"].is_unique or not ps["edge_id"].is_unique:
        return None
    em = segment_emissions(traffic, p)
    lines = np.asarray(traffic.geometry.values, dtype=object)
    ids = traffic["edge_id"].to_numpy()
    pos = pd.Index(ps["edge_id"].to_numpy()).get_indexer(ids)
    common = pos >= 0
    prev_geom = np.asarray(ps.geometry.values, dtype=object)
    same_geom = np.zeros(len(ids), dtype=bool)
    same_geom[common] = shapely.equals_exact(lines[common], prev_geom[pos[common]], tolerance=0.01)
    width = np.full(len(ids), np.nan)
    width[same_geom] = ps["canyon_width_m"].to_numpy()[pos[same_geom]]
    need = ~same_geom
    after_b = np.asarray(area.buildings.geometry.values, dtype=object) if area.has("buildings") else np.zeros(0, dtype=object)
    before_b = np.asarray(previous.canyon_buildings.values, dtype=object) if previous.canyon_buildings is not None else np.zeros(0, dtype=object)
    wa, wb = shapely.to_wkb(after_b), shapely.to_wkb(before_b)
    sa, sb = set(wa.tolist()), set(wb.tolist())  # hashing, not np.isin (quadratic on object arrays)
    new_a = np.fromiter((w not in sb for w in wa.tolist()), dtype=bool, count=len(wa))
    gone_b = np.fromiter((w not in sa for w in wb.tolist()), dtype=bool, count=len(wb))
    changed_b = np.concatenate([after_b[new_a], before_b[gone_b]])
    if len(changed_b):
        hit = shapely.STRtree(lines).query(changed_b, predicate="dwithin", distance=p.canyon_max_half_width_m + 1.0)[1]
        need[np.unique(hit)] = True
    if need.any():
        width[need] = street_canyons(lines[need], area.buildings if area.has("buildings") else None, p)
    e_after = em[["nox_ug_m_s", "pm25_ug_m_s"]].to_numpy()
    e_prev = ps[["nox_ug_m_s", "pm25_ug_m_s"]].to_numpy()
    w_prev = ps["canyon_width_m"].to_numpy()
    changed = ~same_geom.copy()
    idx = np.flatnonzero(same_geom)
    j = pos[idx]
    same_w = (width[idx] == w_prev[j]) | (np.isnan(width[idx]) & np.isnan(w_prev[j]))
    changed[idx] = np.any(e_after[idx] != e_prev[j], axis=1) | ~same_w
    gone = np.ones(len(ps), dtype=bool)
    gone[pos[common & ~changed]] = False  # previous rows that are unchanged stay

    inc = np.zeros((len(xy), 2))
    match = np.full(len(xy), -1)
    if len(prev_xy):
        # receptors on the same centimetre (a home and a destination in one building) have the same
        # increment: match against the first of them (get_indexer needs unique keys)
        pk = _receptor_keys(prev_xy)
        first = np.flatnonzero(~pk.duplicated())
        m = pk[first].get_indexer(_receptor_keys(xy))
        match = np.where(m >= 0, first[np.maximum(m, 0)], -1)
    known = match >= 0
    if known.any():
        inc[known] = prev_inc[match[known]]
        if changed.any():
            inc[known] += line_source_increment(xy[known], lines[changed], e_after[changed], p, canyon_width_m=width[changed])
        if gone.any():
            inc[known] -= line_source_increment(xy[known], prev_geom[gone], e_prev[gone], p, canyon_width_m=w_prev[gone])
    if (~known).any():
        inc[~known] = line_source_increment(xy[~known], lines, e_after, p, canyon_width_m=width)
    note = (
        f"Lokale herberekening: {fmt_number(int(changed.sum()))} gewijzigde en {fmt_number(int(len(ps) - common.sum()))} "
        f"verdwenen straatsegmenten, {fmt_number(int((~known).sum()))} nieuwe ontvangpunten; de rest komt uit de vorige berekening."
    )
    return inc, _canyon_flags(xy, lines, width, p), _segment_table(traffic, em, width), note


def _destinations(area: StudyArea, p: AirParams, crs: Any) -> gpd.GeoDataFrame:
    """Sensitive destinations in ``crs`` with their ``wijk_code`` and ``wijk_naam``."""
    dest = sensitive_destinations(area.pois, p)
    if len(dest) and dest.crs is not None and ProjCRS(dest.crs) != ProjCRS(crs):
        dest = dest.to_crs(crs)
    if len(dest):
        wk = assign_wijk(dest, area.wijken)
        dest["wijk_code"] = wk["wijk_code"].to_numpy()
        dest["wijk_naam"] = wk["wijk_naam"].to_numpy()
    else:
        dest["wijk_code"] = pd.Series(dtype="object")
        dest["wijk_naam"] = pd.Series(dtype="object")
    return dest


def _points_xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(np.asarray(gdf.geometry.values, dtype=object)).reshape(-1, 2)


def _map_grid(area: StudyArea, traffic: gpd.GeoDataFrame, grid_resolution_m: float | None) -> tuple[LandCover | None, np.ndarray]:
    """The map grid and its cell centres inside the area (none when no cell size is asked)."""
    if grid_resolution_m is None:
        return None, np.zeros((0, 2))
    if not np.isfinite(grid_resolution_m) or grid_resolution_m <= 0:
        raise AirInputError(f"De celgrootte van de kaart moet > 0 m zijn, niet {grid_resolution_m}.")
    return _grid_for(area, traffic, float(grid_resolution_m))


def _reused_increments(
    area: StudyArea, traffic: gpd.GeoDataFrame, xy: np.ndarray, p: AirParams, previous: AirResult,
    grid: LandCover | None, cell_xy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame, str] | None:
    """:func:`_local_increments` against ``previous`` (its homes, destinations and, on the same
    grid, its cells); None when it cannot be reused."""
    if previous.params != p:
        raise AirInputError("De vorige luchtberekening gebruikte andere parameters; een lokale herberekening kan niet.")
    prev_parts = [previous.homes, previous.destinations]
    prev_xy = [_points_xy(g) for g in prev_parts]
    prev_inc = [g[["nox_increment_ugm3", "pm25_increment_ugm3"]].to_numpy(dtype=float).reshape(-1, 2) for g in prev_parts]
    if grid is not None and previous.grid is not None and previous.grid.shape == grid.shape \
            and previous.grid.transform == grid.transform and np.array_equal(previous.grid.classes, grid.classes):
        m = previous.grid.classes.astype(bool)
        prev_xy.append(cell_xy)
        prev_inc.append(np.column_stack([previous.cells["nox_increment_ugm3"][m], previous.cells["pm25_increment_ugm3"][m]]))
    return _local_increments(area, traffic, xy, p, previous, np.vstack(prev_xy), np.vstack(prev_inc))


def _on_official_maps(
    area: StudyArea, reference_traffic: gpd.GeoDataFrame | None, xy: np.ndarray, p: AirParams, rasters: dict[str, Path],
    bases: dict[str, np.ndarray], inc: np.ndarray, conc: dict[str, np.ndarray], n_points: int, notes: list[str],
) -> dict[str, str]:
    """Replace background + modelled traffic in ``conc`` by the official maps plus the modelled
    change against ``reference_traffic``; returns the baseline per pollutant (``model`` or
    ``raster:<path>``) and appends the Dutch notes."""
    baseline = {"no2": "model", "pm25": "model"}
    if not rasters:
        return baseline
    if reference_traffic is not None:
        ref_inc, _, _ = _model_increments(area, reference_traffic, xy, p)
    else:
        ref_inc = inc
        notes.append("Basisraster zonder referentieverkeer: de kaart geeft de toestand zelf weer; het model voegt geen wijziging toe.")
    for pol, path in rasters.items():
        base = bases[pol]
        label = "NO2" if pol == "no2" else "PM2,5"
        missing = ~np.isfinite(base[:n_points])
        if missing.any():
            notes.append(
                f"{fmt_number(int(missing.sum()))} woningen/bestemmingen liggen buiten het basisraster {label} of op nodata: "
                "hun waarde is onbekend."
            )
        if pol == "no2":
            no2 = no2_from_nox(nox_from_no2(base, p) + inc[:, 0] - ref_inc[:, 0], p)
            conc["no2"] = np.where(np.isfinite(base), no2, np.nan)
        else:
            conc["pm25"] = np.where(np.isfinite(base), np.maximum(base + inc[:, 1] - ref_inc[:, 1], 0.0), np.nan)
        baseline[pol] = f"raster:{path}"
        notes.append(f"{label}: officiële kaart {path.name} als basis; het model levert alleen de wijziging door het plan.")
    return baseline


def _run_notes(
    area: StudyArea, p: AirParams, baseline: dict[str, str], seg: gpd.GeoDataFrame, home_canyon: np.ndarray,
    homes: gpd.GeoDataFrame, traffic: gpd.GeoDataFrame,
) -> list[str]:
    """Dutch caveats of a run: background, street canyons, residents, black carbon, traffic sources."""
    notes: list[str] = []
    for pol in POLLUTANTS:
        if baseline[pol] == "model":
            bg = p.background_no2_ugm3 if pol == "no2" else p.background_pm25_ugm3
            notes.append(
                f"{'NO2' if pol == 'no2' else 'PM2,5'}: achtergrond {fmt_number(bg, 1)} µg/m³ ({p.background_source or DEFAULT_BACKGROUND_SOURCE}) "
                f"plus de bijdrage van het verkeer binnen {fmt_number(p.max_distance_m)} m."
                + ("" if p.background_source and p.background_source != DEFAULT_BACKGROUND_SOURCE else
                   " Vervang de achtergrond door de RIO-IFDM-waarde van uw stad (air_background in het bronbestand) of geef een officiële kaart.")
            )
    if not area.has("buildings"):
        notes.append("Geen gebouwen: straatcanyons zijn niet herkend en woningen zijn geschat langs de straten.")
    else:
        n_can = int(np.isfinite(seg["canyon_width_m"]).sum())
        notes.append(
            f"{fmt_number(n_can)} van {fmt_number(len(seg))} straatsegmenten zijn straatcanyons (gebouwen aan beide kanten); "
            f"{fmt_number(int(home_canyon.sum()))} woningen liggen aan zo'n straat."
        )
    if pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).sum() <= 0:
        notes.append("Inwonersaantallen zijn onbekend: aantallen per klasse staan als woningen, niet als inwoners.")
    notes.append("Zwarte koolstof (roet) is niet berekend: er is geen bronvaste emissiefactor in de normen.")
    notes.extend(str(n) for n in (traffic.attrs.get("notes") or []))
    if "traffic_source" in traffic.columns:
        src = traffic["traffic_source"].astype("object").fillna("onbekend").value_counts()
        notes.append("Verkeer per segment: " + ", ".join(f"{k} {v}" for k, v in src.items()) + ".")
    return notes


def _with_values(gdf: gpd.GeoDataFrame, values: dict[str, np.ndarray], canyon: np.ndarray, sl: slice, p: AirParams) -> gpd.GeoDataFrame:
    """``gdf`` with the concentrations, increments, classes and canyon flag of its receptors ``sl``."""
    gdf = gdf.copy()
    for name in ("no2_ugm3", "pm25_ugm3", "nox_increment_ugm3", "no2_increment_ugm3", "pm25_increment_ugm3"):
        gdf[name] = values[name][sl]
    gdf["no2_class"] = exposure_class(values["no2_ugm3"][sl], p.no2_class_breaks_ugm3)
    gdf["pm25_class"] = exposure_class(values["pm25_ugm3"][sl], p.pm25_class_breaks_ugm3)
    gdf["canyon"] = canyon[sl]
    cols = [c for c in gdf.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(gdf[cols], geometry="geometry", crs=gdf.crs)


def _cells(grid: LandCover | None, values: dict[str, np.ndarray], start: int) -> dict[str, np.ndarray] | None:
    """The map rasters (NaN outside the area) from the receptor values from ``start`` on."""
    if grid is None:
        return None
    cells = {}
    mask = grid.classes.astype(bool)
    for name in ("no2_ugm3", "pm25_ugm3", "nox_increment_ugm3", "pm25_increment_ugm3"):
        a = np.full(grid.shape, np.nan)
        a[mask] = values[name][start:]
        cells[name] = a
    return cells


def air_exposure(
    area: StudyArea,
    traffic: gpd.GeoDataFrame | None = None,
    params: AirParams | None = None,
    baseline_raster: Any = None,
    reference_traffic: gpd.GeoDataFrame | None = None,
    grid_resolution_m: float | None = None,
    previous: AirResult | None = None,
    homes: gpd.GeoDataFrame | None = None,
) -> AirResult:
    """Annual mean NO2 and PM2.5 at every home and sensitive destination (see module docstring).

    Parameters
    ----------
    area : StudyArea
        Needs buildings or streets (for homes); buildings also give street canyons; pois give the
        sensitive destinations; wijken the per-wijk table.
    traffic : GeoDataFrame, optional
        Traffic per street segment (``aadt``, ``heavy_share``, ``speed_kmh``, line geometry), e.g.
        from :func:`spatial.traffic.traffic_per_segment`; computed from ``area`` when omitted.
    params : AirParams, optional
        Defaults to :meth:`AirParams.for_area`: ``data/norms/air.toml`` with the city's own background
        (manifest ``air_background``) when it gives one; the notes say which background was used.
    baseline_raster : path or dict, optional
        An official annual-mean map (GeoTIFF, any CRS) of NO2 (a path) or ``{"no2": path, "pm25": path}``.
        Its value at each receptor replaces background + modelled traffic; the model then adds only the
        change of ``traffic`` against ``reference_traffic`` (zero when no reference is given).
    reference_traffic : GeoDataFrame, optional
        The traffic the baseline raster shows (the situation before a plan).
    grid_resolution_m : float, optional
        When given, also a map grid of this cell size (e.g. 20 m) over the study area.
    previous : AirResult, optional
        A result for the same city before a change (same parameters; segments keyed by ``edge_id``).
        Then only the street segments whose traffic, geometry or canyon changed are recomputed at
        the receptors already known (a plan's local recompute); new homes, destinations and cells are
        computed in full. The result equals a full computation up to rounding.
    homes : GeoDataFrame, optional
        The home points to compute (default :func:`spatial.aggregate.home_points` of ``area``); the
        screening passes its own homes (the baseline's homes plus a plan's new ones).

    Returns
    -------
    AirResult

    Raises
    ------
    AirInputError
        Bad traffic (unknown/negative flows, speeds out of range), a baseline raster that is missing,
        has no CRS or does not overlap the area, or a bad parameter. Nothing is written.
    """
    p = params or AirParams.for_area(area)
    _check_params(p)
    crs = getattr(area, "crs", None) or CRS
    notes: list[str] = []
    if traffic is None:
        traffic = traffic_per_segment(area)
    traffic = _check_traffic(traffic, "Verkeerslaag", crs)
    if reference_traffic is not None:
        reference_traffic = _check_traffic(reference_traffic, "Referentieverkeer", crs)
    rasters = _raster_paths(baseline_raster)

    homes = home_points(area) if homes is None else homes.reset_index(drop=True)
    dest = _destinations(area, p, crs)
    grid, cell_xy = _map_grid(area, traffic, grid_resolution_m)
    parts = [_points_xy(homes), _points_xy(dest), cell_xy]
    xy = np.vstack(parts)
    n_h, n_d = len(parts[0]), len(parts[1])

    # official maps first: a missing or non-overlapping raster is refused before the model runs
    bases = {pol: _sample_raster(path, xy, crs, f"Basisraster {pol.upper()}") for pol, path in rasters.items()}

    local = None
    if previous is not None:
        local = _reused_increments(area, traffic, xy, p, previous, grid, cell_xy)
        if local is None:
            notes.append("Lokale herberekening niet mogelijk (geen unieke edge_id per segment): alles is opnieuw berekend.")
    if local is not None:
        inc, canyon, seg, local_note = local
        notes.append(local_note)
    else:
        inc, canyon, seg = _model_increments(area, traffic, xy, p)
    nox_inc, pm_inc = inc[:, 0], inc[:, 1]
    nox_bg = float(nox_from_no2(np.array([p.background_no2_ugm3]), p)[0])
    conc = {"no2": no2_from_nox(nox_bg + nox_inc, p), "pm25": p.background_pm25_ugm3 + pm_inc}
    no2_inc = conc["no2"] - p.background_no2_ugm3
    if not (np.isfinite(conc["no2"]).all() and np.isfinite(conc["pm25"]).all()):
        raise AirInputError("De berekende concentratie is onbekend (NaN) voor sommige punten; controleer verkeer en parameters.")
    baseline = _on_official_maps(area, reference_traffic, xy, p, rasters, bases, inc, conc, n_h + n_d, notes)
    notes += _run_notes(area, p, baseline, seg, canyon[:n_h], homes, traffic)

    values = {"no2_ugm3": conc["no2"], "pm25_ugm3": conc["pm25"], "nox_increment_ugm3": nox_inc,
              "no2_increment_ugm3": no2_inc, "pm25_increment_ugm3": pm_inc}
    homes_out = _with_values(homes, values, canyon, slice(0, n_h), p)
    dest_out = _with_values(dest, values, canyon, slice(n_h, n_h + n_d), p)
    per_wijk = _per_wijk(homes_out, dest_out, area, p)
    per_class = _per_class(homes_out, dest_out, p)
    return AirResult(
        homes=homes_out,
        destinations=dest_out,
        per_wijk=per_wijk,
        per_class=per_class,
        grid=grid,
        cells=_cells(grid, values, n_h + n_d),
        notes=notes,
        norms_used=dict(p.norms),
        baseline=baseline,
        segments=seg,
        params=p,
        canyon_buildings=area.buildings.geometry if area.has("buildings") else None,
    )


def _per_wijk(homes: gpd.GeoDataFrame, dest: gpd.GeoDataFrame, area: StudyArea, p: AirParams) -> pd.DataFrame:
    if not area.has("wijken"):
        return pd.DataFrame(columns=["wijk_code", "wijk_naam", "residents", "homes", "no2_mean_ugm3", "pm25_mean_ugm3"])
    values: dict[str, np.ndarray] = {"no2_mean_ugm3": homes["no2_ugm3"].to_numpy(), "pm25_mean_ugm3": homes["pm25_ugm3"].to_numpy()}
    how = {"no2_mean_ugm3": "mean", "pm25_mean_ugm3": "mean"}
    lim = {"no2": (p.who_no2_ugm3, p.eu2030_no2_ugm3), "pm25": (p.who_pm25_ugm3, p.eu2030_pm25_ugm3)}
    for pol in POLLUTANTS:
        cls = homes[f"{pol}_class"].to_numpy()
        nb = len(getattr(p, f"{pol}_class_breaks_ugm3")) + 1
        for c in range(1, nb + 1):
            values[f"residents_{pol}_class_{c}"] = (cls == c).astype(float)
            how[f"residents_{pol}_class_{c}"] = "sum"
        v = homes[f"{pol}_ugm3"].to_numpy()
        for name, limit in (("who", lim[pol][0]), ("eu2030", lim[pol][1])):
            above = np.where(np.isfinite(v), v > limit, np.nan).astype(float)
            values[f"residents_above_{name}_{pol}"] = above
            values[f"homes_above_{name}_{pol}"] = above
            how[f"residents_above_{name}_{pol}"] = "sum"
            how[f"homes_above_{name}_{pol}"] = "count"
    per = aggregate_per_wijk(homes, values, area.wijken, how=how)
    if pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).sum() <= 0:
        # aggregate_per_wijk weighs homes equally when nobody is counted: those are homes, not residents
        for c in per.columns:
            if c == "residents" or c.startswith("residents_"):
                per[c] = np.nan
    codes = per["wijk_code"].astype("object")
    dcode = dest["wijk_code"].astype("object") if len(dest) else pd.Series(dtype="object")
    per["destinations"] = codes.map(dcode.value_counts()).fillna(0).astype(int).to_numpy()
    for pol in POLLUTANTS:
        for name, limit in (("who", lim[pol][0]), ("eu2030", lim[pol][1])):
            above = dcode[(dest[f"{pol}_ugm3"] > limit).to_numpy()] if len(dest) else dcode
            per[f"destinations_above_{name}_{pol}"] = codes.map(above.value_counts()).fillna(0).astype(int).to_numpy()
        for c in range(1, len(getattr(p, f"{pol}_class_breaks_ugm3")) + 2):
            in_c = dcode[(dest[f"{pol}_class"] == c).to_numpy()] if len(dest) else dcode
            per[f"destinations_{pol}_class_{c}"] = codes.map(in_c.value_counts()).fillna(0).astype(int).to_numpy()
    return per


def _per_class(homes: gpd.GeoDataFrame, dest: gpd.GeoDataFrame, p: AirParams) -> pd.DataFrame:
    rows = []
    res = pd.to_numeric(homes["residents"], errors="coerce").fillna(0.0).to_numpy()
    if res.sum() <= 0:
        res = np.full(len(res), np.nan)  # residents unknown: "onbekend", never 0
    for pol in POLLUTANTS:
        breaks = getattr(p, f"{pol}_class_breaks_ugm3")
        hc = homes[f"{pol}_class"].to_numpy()
        dc = dest[f"{pol}_class"].to_numpy() if len(dest) else np.zeros(0)
        for c in range(len(breaks) + 2):
            rows.append(
                {
                    "pollutant": pol,
                    "class": c,
                    "label": "onbekend" if c == 0 else p.class_labels[c - 1],
                    "upper_ugm3": breaks[c - 1] if 1 <= c <= len(breaks) else (np.inf if c else np.nan),
                    "residents": float(res[hc == c].sum()) if np.isfinite(res).all() else np.nan,
                    "homes": int((hc == c).sum()),
                    "destinations": int((dc == c).sum()),
                }
            )
    return pd.DataFrame(rows)
