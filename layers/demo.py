"""A small synthetic Flemish town ("Demostad"), generated deterministically.

It exists so that the app and the tests run offline on a fresh machine. It is *synthetic*: the
manifest says so and the app shows a banner. It holds everything the indicators need a case
for: four wijken split by a river (the "Demerdijle") with three bridges, a 70 km/h ring road
with a separated cycle track, a 50 km/h through road, zone-30 residential streets, a
fietsstraat, parks of several sizes (pocket park 0.3 ha, buurtpark ~0.9 ha, stadspark ~4 ha,
a 12 ha wood) and a private green, steps and a steep ramp down to the river, crossings with
raised and lowered kerbs, bus stops, a railway station on a two-track railway line, a kleuterschool on the ring, and a ~12 ha brownfield next to the
station ("Stationsveld") where a plan can be screened.

Coordinates are Belgian Lambert 72 (EPSG:31370) around (160 000, 190 000); the town is made up.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from gezondestad.layers.studyarea import (
    is_study_area_dir,
    load_study_area,
    save_study_area,
)
from gezondestad.model.paths import user_cache_dir
from gezondestad.model.studyarea import CRS, StudyArea, ThemeInfo
from shapely.geometry import LineString, Point, Polygon, box

X0, Y0 = 160_000.0, 190_000.0
WIDTH_M, HEIGHT_M = 1950.0, 1500.0
BLOCK_M = 150.0
RIVER_WIDTH_M = 30.0
DEMO_DIR = user_cache_dir() / "demo"
DEMO_VERSION = "3"
BROWNFIELD = (1355.0, 905.0, 1795.0, 1195.0)  # local x0, y0, x1, y1 of the "Stationsveld" (~12.8 ha)
SEED = 20261124


def _river_line() -> LineString:
    xs = np.linspace(-50, WIDTH_M + 50, 200)
    ys = 750.0 + 35.0 * np.sin(2 * np.pi * xs / 900.0)
    return LineString(np.c_[X0 + xs, Y0 + ys])


def _street(coords: list[tuple[float, float]], **tags: object) -> dict:
    return {"geometry": LineString([(X0 + x, Y0 + y) for x, y in coords]), **tags}


def _rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _horizontal_tags(x: float, y: float) -> dict[str, object]:
    """OSM tags of the horizontal street edge starting at (x, y) (demo coordinates)."""
    tags: dict[str, object] = {"highway": "residential", "maxspeed": "30", "sidewalk": "both", "lit": "yes"}
    if y == 0.0:
        tags = {"highway": "primary", "maxspeed": "70", "lanes": "2", "cycleway": "track", "sidewalk": "separate", "lit": "yes", "name": "Zuidelijke Ring"}
    elif y == HEIGHT_M:
        tags = {"highway": "secondary", "maxspeed": "50", "lanes": "2", "sidewalk": "both", "lit": "yes", "name": "Noorderlaan"}
    elif y == 300.0:
        tags = {"highway": "tertiary", "maxspeed": "50", "lanes": "2", "sidewalk": "both", "name": "Dorpsstraat"}
    elif y >= 900 and x < 1050:
        tags.update(surface="sett", smoothness="intermediate", name=f"Centrumstraat {int(y)}")
    elif x >= 1050 and y < 750:
        # south-east residential streets: tags left out on purpose (data-quality case)
        tags = {"highway": "residential"}
    else:
        tags["name"] = f"Straat {int(y)}"
    return tags


def _vertical_tags(x: float, y: float) -> dict[str, object]:
    """OSM tags of the vertical street edge starting at (x, y) (demo coordinates)."""
    tags: dict[str, object] = {"highway": "residential", "maxspeed": "30", "sidewalk": "both"}
    if x == WIDTH_M:
        tags = {"highway": "primary", "maxspeed": "70", "lanes": "2", "cycleway": "track", "sidewalk": "separate", "name": "Oostelijke Ring"}
    elif x == 600.0 and y >= 900:
        tags = {"highway": "residential", "cyclestreet": "yes", "maxspeed": "30", "sidewalk": "both", "name": "Fietsstraat Demerlaan"}
    elif x >= 1050 and y < 750:
        tags = {"highway": "residential"}
    return tags


def _grid_streets() -> list[dict]:
    """The street grid: horizontal edges (none along the river), then vertical edges
    (bridges at three columns and the ring, dead ends down to the bank elsewhere)."""
    xs = np.arange(0.0, WIDTH_M + 1, BLOCK_M)  # 0..1950, 14 lines
    ys = np.arange(0.0, HEIGHT_M + 1, BLOCK_M)  # 0..1500, 11 lines
    river = _river_line().buffer(RIVER_WIDTH_M / 2 + 5)
    bridges = {300.0, 900.0, 1500.0}
    rows: list[dict] = []
    # horizontal streets, one edge per block side
    for y in ys:
        if y == 750.0:  # the river runs here
            continue
        for x in xs[:-1]:
            rows.append(_street([(x, y), (x + BLOCK_M, y)], **_horizontal_tags(x, y)))
    # vertical streets
    for x in xs:
        for y in ys[:-1]:
            seg = LineString([(X0 + x, Y0 + y), (X0 + x, Y0 + y + BLOCK_M)])
            tags = _vertical_tags(x, y)
            if seg.intersects(river):
                if x not in bridges and x != WIDTH_M:
                    # dead ends down to the bank: keep the part outside the river buffer
                    for part in getattr(seg.difference(river), "geoms", [seg.difference(river)]):
                        if part.length > 5:
                            rows.append({"geometry": part, **tags})
                    continue
                tags = dict(tags, bridge="yes")
            rows.append({"geometry": seg, **tags})
    return rows


def _streets() -> list[dict]:
    rows = _grid_streets()
    # riverside promenade (north bank), steps and a steep ramp down to it
    rl = _river_line()
    north = shapely.offset_curve(rl, 30.0).intersection(_rect(0, 0, WIDTH_M, HEIGHT_M))
    rows.append({"geometry": north, "highway": "footway", "surface": "asphalt", "width": "2.5", "name": "Dijlepad", "lit": "no"})
    # steps from the Centrum street at y=900 down to the promenade at x=450
    ncoords = shapely.get_coordinates(north)
    pn = Point(ncoords[np.argmin(np.hypot(ncoords[:, 0] - X0 - 450, ncoords[:, 1] - Y0 - 900))])
    rows.append({"geometry": LineString([(X0 + 450, Y0 + 900), (pn.x, pn.y)]), "highway": "steps", "incline": "down", "name": "Trappen Dijlepad"})
    # a steep ramp from y=900 at x=750 (10 %)
    pr = Point(ncoords[np.argmin(np.hypot(ncoords[:, 0] - X0 - 750, ncoords[:, 1] - Y0 - 900))])
    rows.append({"geometry": LineString([(X0 + 750, Y0 + 900), (pr.x, pr.y)]), "highway": "footway", "incline": "10%", "surface": "asphalt", "width": "1.5", "name": "Helling Dijlepad"})
    # crossings over the ring road with kerbs (raised without tactile paving, lowered with)
    rows.append(_street([(450, 0), (450, -20)], highway="footway", footway="crossing", crossing="marked", kerb="raised", tactile_paving="no"))
    rows.append(_street([(1200, 0), (1200, -20)], highway="footway", footway="crossing", crossing="traffic_signals", kerb="lowered", tactile_paving="yes"))
    rows.append(_street([(0, -20), (WIDTH_M, -20)], highway="footway", surface="paving_stones", width="1.8", name="Ringpad"))
    # paths through the stadspark (x 150..450, y 450..600 area) and the wood
    rows.append(_street([(150, 525), (450, 525)], highway="footway", surface="compacted", name="Parkpad"))
    rows.append(_street([(300, 450), (300, 525)], highway="footway", surface="compacted"))
    rows.append(_street([(1650, 150), (1800, 150)], highway="path", surface="ground", name="Boswegel"))
    rows.append(_street([(1725, 75), (1725, 150)], highway="path", surface="ground", smoothness="bad"))
    # cycle path across the brownfield edge to the station
    # the brownfield has no streets inside it, only a cycle path across to the station side
    bf = _rect(*BROWNFIELD)
    rows = [r for r in rows if not bf.contains(r["geometry"].interpolate(0.5, normalized=True))]
    rows.append(_street([(1350, 1050), (1800, 1050)], highway="cycleway", surface="asphalt", segregated="no", name="Stationsfietspad"))
    return rows


def _parks() -> list[dict]:
    return [
        {"geometry": _rect(165, 915, 220, 970), "kind": "park", "name": "Pleintje Kapelstraat", "public": True},  # 0.30 ha
        {"geometry": _rect(622.5, 1177.5, 727.5, 1272.5), "kind": "park", "name": "Begijnhofpark", "public": True},  # ~1.0 ha
        {"geometry": _rect(155, 455, 445, 595), "kind": "park", "name": "Stadspark Demerbeemd", "public": True},  # ~4.06 ha
        {"geometry": _rect(1555, 5, 1945, 295), "kind": "wood", "name": "Zuidbos", "public": True},  # ~11.3 ha
        {"geometry": _rect(905, 155, 995, 245), "kind": "garden", "name": "Kloostertuin (privé)", "public": False},  # 0.81 ha private
        {"geometry": _rect(1205, 455, 1245, 495), "kind": "playground", "name": "Speelplein Zuid", "public": True},  # 0.16 ha
        {"geometry": _rect(160, 460, 300, 520), "kind": "wood", "name": "Bomengroep stadspark", "public": True},  # trees inside the park
    ]


def _buildings(exclude: shapely.Geometry, rng: np.random.Generator) -> gpd.GeoDataFrame:
    rows = []
    depth = 12.0
    front = 18.0
    setback = 6.0
    for bx in np.arange(0.0, WIDTH_M, BLOCK_M):
        for by in np.arange(0.0, HEIGHT_M, BLOCK_M):
            centrum = by >= 900 and bx < 1050
            levels = 4 if centrum else (3 if by >= 750 else 2)
            x0, y0, x1, y1 = bx + setback, by + setback, bx + BLOCK_M - setback, by + BLOCK_M - setback
            # four sides of a perimeter block: buildings with `front` frontage and `depth` depth
            n = int((x1 - x0) // front)
            for i in range(n):
                xa = x0 + i * front
                rows.append((_rect(xa, y0, xa + front - 0.5, y0 + depth), levels))
                rows.append((_rect(xa, y1 - depth, xa + front - 0.5, y1), levels))
            m = int((y1 - y0 - 2 * depth) // front)
            for j in range(m):
                ya = y0 + depth + j * front
                rows.append((_rect(x0, ya, x0 + depth, ya + front - 0.5), levels))
                rows.append((_rect(x1 - depth, ya, x1, ya + front - 0.5), levels))
    geoms = [g for g, _ in rows]
    levels = np.array([lv for _, lv in rows])
    gdf = gpd.GeoDataFrame({"levels": levels}, geometry=geoms, crs=CRS)
    gdf = gdf[~gdf.intersects(exclude)].reset_index(drop=True)
    # deterministic mix of uses: mostly residential, some shops in the centre
    u = rng.random(len(gdf))
    cy = gdf.geometry.centroid.y - Y0
    cx = gdf.geometry.centroid.x - X0
    use = np.where(u < 0.04, "commercial", "residential")
    use = np.where((cy >= 900) & (cx < 1050) & (u < 0.15), "retail", use)
    gdf["use"] = use
    return gdf


def _pois() -> list[dict]:
    P = lambda x, y: Point(X0 + x, Y0 + y)  # noqa: E731
    rows = []
    # bus stops along the ring, the through road and the Noorderlaan
    for x in (150, 600, 1050, 1500):
        rows.append({"geometry": P(x + 20, 8), "category": "bus_stop", "name": f"Ring {x}"})
    for x in (300, 900, 1500):
        rows.append({"geometry": P(x + 40, 308), "category": "bus_stop", "name": f"Dorpsstraat {x}"})
    for x in (300, 750, 1200, 1650):
        rows.append({"geometry": P(x + 30, HEIGHT_M - 8), "category": "bus_stop", "name": f"Noorderlaan {x}"})
    rows.append({"geometry": P(1950 - 8, 1150), "category": "train_station", "name": "Station Demostad"})
    rows.append({"geometry": P(1950 - 8, 1080), "category": "bus_stop", "name": "Station (bus)"})
    rows += [
        {"geometry": P(375, 1050 + 3), "category": "school", "name": "Basisschool De Linde"},
        {"geometry": P(825, 300 + 3), "category": "school", "name": "Basisschool Zuid"},
        {"geometry": P(1275, 900 + 3), "category": "school", "name": "Secundaire school Noord"},
        {"geometry": P(675, 12), "category": "school", "name": "Kleuterschool De Ring"},  # on the 70 km/h ring (noise/air case)
        {"geometry": P(525, 1200 + 3), "category": "supermarket", "name": "Supermarkt Centrum"},
        {"geometry": P(1425, 300 + 3), "category": "supermarket", "name": "Supermarkt Zuid"},
        {"geometry": P(225, 1350 + 3), "category": "gp", "name": "Huisartsenpraktijk Noord"},
        {"geometry": P(975, 300 + 3), "category": "gp", "name": "Wijkgezondheidscentrum"},
        {"geometry": P(675, 1050 + 3), "category": "pharmacy", "name": "Apotheek Markt"},
        {"geometry": P(1125, 150 + 3), "category": "pharmacy", "name": "Apotheek Zuid"},
        {"geometry": P(600 + 3, 1000), "category": "toilet", "name": "Openbaar toilet Markt", "wheelchair": "yes"},
        {"geometry": P(300, 530), "category": "toilet", "name": "Toilet stadspark", "wheelchair": "no"},
        {"geometry": P(1050 + 3, 450), "category": "sports", "name": "Sporthal Zuid"},
        {"geometry": P(1225, 450 + 3), "category": "playground", "name": "Speelplein Zuid"},
    ]
    for i, x in enumerate((225, 375, 525, 675, 825, 975)):
        rows.append({"geometry": P(x, 1200 - 3), "category": "shop", "name": f"Winkel {i + 1}"})
    for i, x in enumerate(np.arange(100, 1900, 150)):
        rows.append({"geometry": P(float(x), -20 + 1.5), "category": "bench", "name": None})
    for x in (180, 240, 380, 420):
        rows.append({"geometry": P(x, 525 + 1.5), "category": "bench", "name": None})
    return rows


def build_demo_area() -> StudyArea:
    """Generate Demostad in memory (deterministic: same output on every machine)."""
    from gezondestad.model.landcover import rasterize_landcover
    from gezondestad.model.population import estimate_building_residents

    rng = np.random.default_rng(SEED)
    boundary_poly = _rect(0 - 30, 0 - 30, WIDTH_M + 30, HEIGHT_M + 30)
    boundary = gpd.GeoDataFrame({"name": ["Demostad (synthetisch)"]}, geometry=[boundary_poly], crs=CRS)
    river_line = _river_line().intersection(boundary_poly)
    river_poly = river_line.buffer(RIVER_WIDTH_M / 2)
    water = gpd.GeoDataFrame(
        [
            {"kind": "river", "name": "Demerdijle", "width": str(RIVER_WIDTH_M), "geometry": river_line},
            {"kind": "river_area", "name": "Demerdijle", "width": None, "geometry": river_poly},
            {"kind": "pond", "name": "Parkvijver", "width": None, "geometry": _rect(350, 540, 420, 585)},
        ],
        crs=CRS,
    )
    water["water_id"] = np.arange(len(water))
    # wijken: split by the river and x = 1050
    north = shapely.Polygon(list(boundary_poly.exterior.coords)).difference(
        shapely.Polygon(np.r_[np.asarray(river_line.coords), [[X0 + WIDTH_M + 30, Y0 - 30], [X0 - 30, Y0 - 30]]])
    )
    south = boundary_poly.difference(north)
    west = _rect(-30, -30, 1050, HEIGHT_M + 30)
    east = _rect(1050, -30, WIDTH_M + 30, HEIGHT_M + 30)
    wijken = gpd.GeoDataFrame(
        {
            "wijk_code": ["DEMO01", "DEMO02", "DEMO03", "DEMO04"],
            "wijk_naam": ["Centrum", "Stationswijk", "Demerbeemden", "Zuidrand"],
        },
        geometry=[north.intersection(west), north.intersection(east), south.intersection(west), south.intersection(east)],
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(_parks(), crs=CRS)
    parks["area_m2"] = parks.area.round(1)
    parks["green_id"] = np.arange(len(parks))
    parks["tree_cover"] = np.where(parks["kind"] == "wood", 1.0, np.nan)
    brownfield = _rect(*BROWNFIELD)
    landuse = gpd.GeoDataFrame(
        [
            {"kind": "brownfield", "name": "Stationsveld (braakliggend)", "geometry": brownfield},
            {"kind": "railway", "name": "Spoorlijn", "geometry": _rect(1900, -30, 1935, HEIGHT_M + 30)},
            {"kind": "parking", "name": "Parking Station", "geometry": _rect(1805, 1005, 1895, 1095)},
        ],
        crs=CRS,
    )
    landuse["landuse_id"] = np.arange(len(landuse))
    streets = gpd.GeoDataFrame(_streets(), crs=CRS)
    # two tracks of the railway line through the station, inside the railway strip
    railways = gpd.GeoDataFrame(
        {"railway_id": [0, 1], "kind": ["rail", "rail"], "name": ["Spoorlijn Demostad", "Spoorlijn Demostad"], "tracks": [1, 1], "maxspeed": ["80", "80"]},
        geometry=[LineString([(X0 + x, Y0 - 30), (X0 + x, Y0 + HEIGHT_M + 30)]) for x in (1911.0, 1924.0)],
        crs=CRS,
    )
    exclude = shapely.union_all(
        [river_line.buffer(RIVER_WIDTH_M / 2 + 10), *parks.geometry, brownfield, *landuse.geometry]
    )
    buildings = _buildings(exclude, rng)
    buildings["building_id"] = np.arange(len(buildings))
    buildings["residents"] = estimate_building_residents(buildings)
    wijken["residents"] = [
        float(buildings.loc[buildings.centroid.within(w), "residents"].sum()) for w in wijken.geometry
    ]
    pois = gpd.GeoDataFrame(_pois(), crs=CRS)
    pois["poi_id"] = np.arange(len(pois))
    from gezondestad.layers.osm_tags import finalize_streets, node_at_intersections

    streets = finalize_streets(node_at_intersections(streets))
    src = "Synthetisch gegenereerd door layers.demo (deterministisch, seed %d)" % SEED
    info = {
        t: ThemeInfo(status="present", source=src, date="synthetisch", count=0).to_dict()
        for t in ("boundary", "wijken", "buildings", "streets", "green", "pois", "water", "landuse", "railways")
    }
    info["buildings"]["note"] = "Bewoners geschat uit vloeroppervlak (data/norms/population.toml)."
    area = StudyArea(
        name="Demostad",
        themes={
            "boundary": boundary,
            "wijken": wijken,
            "buildings": buildings,
            "streets": streets,
            "green": parks,
            "pois": pois,
            "water": water,
            "landuse": landuse,
            "railways": railways,
        },
        manifest={"synthetic": True, "themes": info, "demo_version": DEMO_VERSION, "source": src},
    )
    area.landcover = rasterize_landcover(
        boundary,
        buildings=buildings,
        streets=streets,
        green=parks,
        water=water,
        bare=landuse[landuse["kind"].isin(["brownfield", "construction", "railway"])],
        paved=landuse[landuse["kind"] == "parking"],
        resolution_m=10.0,
    )
    return area


def demo_area_dir(directory: str | Path | None = None, rebuild: bool = False) -> Path:
    """Folder of the prepared demo area, generating it first when absent or outdated."""
    d = Path(directory) if directory else DEMO_DIR
    if not rebuild and is_study_area_dir(d):
        m = load_manifest_version(d)
        if m == DEMO_VERSION:
            return d
    save_study_area(build_demo_area(), d)
    return d


def load_manifest_version(d: Path) -> str | None:
    import json

    try:
        return json.loads((d / "manifest.json").read_text(encoding="utf-8")).get("demo_version")
    except (OSError, ValueError):
        return None


def load_demo_area(directory: str | Path | None = None) -> StudyArea:
    """The demo study area, from its cache folder (generated on first use)."""
    return load_study_area(demo_area_dir(directory))


__all__ = ["build_demo_area", "demo_area_dir", "load_demo_area", "DEMO_DIR"]
_ = pd  # pandas is used by callers through GeoDataFrames
