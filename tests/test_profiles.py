import geopandas as gpd
import shapely
from gezondestad.spatial.profiles import cyclable_mask, walkable_mask


def test_walk_and_bike_masks_by_hand():
    tags = [
        {"highway": "residential"},
        {"highway": "motorway"},
        {"highway": "footway"},
        {"highway": "footway", "bicycle": "yes"},
        {"highway": "steps"},
        {"highway": "cycleway"},
        {"highway": "service", "access": "private"},
        {"highway": "primary", "foot": "no"},
        {"highway": "trunk"},
        {"highway": "trunk", "sidewalk": "both"},
    ]
    g = gpd.GeoDataFrame(tags, geometry=[shapely.LineString([(0, i), (1, i)]) for i in range(len(tags))], crs=31370)
    assert list(walkable_mask(g)) == [True, False, True, True, True, True, False, False, False, True]
    assert list(cyclable_mask(g)) == [True, False, False, True, False, True, False, True, False, False]
