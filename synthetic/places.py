"""Points of interest calibrated to the real Oxford OSM extract.

The category mix comes from ``public_data/osm/oxford_centre_pois_2015.geojson``
(counts per OSM tag, grouped into the categories below); placement mixes
town-centre clusters with population-weighted spread.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from synthetic.geography import PUBLIC_DATA, Geography
from synthetic.io import as_object_strings, component_rng
from synthetic.names import BAR_WORDS, FAST_FOOD_WORDS, VENUE_WORDS

# category -> (OSM key, OSM values counted in the Oxford extract, extra pseudo-count,
#              share placed in town centres, police.uk map-point label or "")
# Extra pseudo-counts cover categories the small 2015 extract lacks (nightclubs,
# supermarkets, petrol stations) but which the real police.uk files reference.
CATEGORIES: dict[str, tuple[str, tuple[str, ...], float, float, str]] = {
    "pub": ("amenity", ("pub",), 0, 0.45, ""),
    "bar": ("amenity", ("bar",), 0, 0.85, ""),
    "nightclub": ("amenity", ("nightclub",), 2, 0.95, "Nightclub"),
    "fast_food": ("amenity", ("fast_food",), 0, 0.6, ""),
    "restaurant": ("amenity", ("restaurant",), 0, 0.6, ""),
    "cafe": ("amenity", ("cafe",), 0, 0.6, ""),
    "off_licence": ("shop", ("alcohol",), 0, 0.4, ""),
    "convenience": ("shop", ("convenience", "newsagent", "kiosk"), 0, 0.3, ""),
    "supermarket": ("shop", ("supermarket",), 3, 0.3, "Supermarket"),
    "shop": (
        "shop",
        (
            "clothes",
            "hairdresser",
            "charity",
            "bicycle",
            "bakery",
            "florist",
            "deli",
            "carpet",
            "kitchen",
            "dry_cleaning",
            "doityourself",
            "party",
            "fair_trade",
            "interior_decoration",
            "trade",
            "car",
        ),
        0,
        0.6,
        "Shopping Area",
    ),
    "atm": ("amenity", ("atm", "bank"), 0, 0.6, ""),
    "bus_stop": ("highway", ("bus_stop",), 0, 0.15, ""),
    "school": ("amenity", ("school", "nursery"), 0, 0.05, ""),
    "university": ("amenity", ("university",), 0, 0.8, "Further/Higher Educational Building"),
    "parking": ("amenity", ("parking",), 0, 0.4, "Parking Area"),
    "park": ("leisure", ("park", "garden", "playground"), 0, 0.15, "Park/Open Space"),
    "sports": ("leisure", ("pitch", "pavilion"), 0, 0.1, "Sports/Recreation Area"),
    "place_of_worship": ("amenity", ("place_of_worship",), 0, 0.2, ""),
    "pharmacy": ("amenity", ("pharmacy", "doctors", "dentist"), 0, 0.4, ""),
    "petrol_station": ("amenity", ("fuel",), 1, 0.1, "Petrol Station"),
    "theatre": ("amenity", ("cinema", "theatre"), 0, 0.9, "Theatre/Concert Hall"),
    "hotel": ("tourism", ("hotel",), 0, 0.6, ""),
}
# One of each per town (by size threshold): fixed infrastructure, not sampled.
FIXED = (
    ("station", 0.15, ""),
    ("police_station", 0.3, "Police Station"),
    ("hospital", 0.5, "Hospital"),
)
NTE_CATEGORIES = ("pub", "bar", "nightclub")


def oxford_mix() -> dict[str, float]:
    """Return the category shares implied by the Oxford OSM extract.

    Returns
    -------
    dict
        Category -> share (sums to 1).
    """
    path = PUBLIC_DATA / "osm" / "oxford_centre_pois_2015.geojson"
    feats = json.loads(path.read_text())["features"]
    counts = Counter(
        (f["properties"]["category_key"], f["properties"]["category_value"]) for f in feats
    )
    raw = {
        cat: extra + sum(counts.get((key, v), 0) for v in values)
        for cat, (key, values, extra, _, _) in CATEGORIES.items()
    }
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def build_pois(seed: int, geo: Geography, n_pois: int) -> pd.DataFrame:
    """Place points of interest across the force area.

    Parameters
    ----------
    seed : int
        World seed.
    geo : Geography
        LSOAs, towns, streets and addresses.
    n_pois : int
        Number of sampled POIs (fixed stations, police stations and hospitals
        are added on top).

    Returns
    -------
    pandas.DataFrame
        Columns: poi_id, category, osm_key, osm_value, name, x, y, lsoa_idx,
        street_id, police_uk_label.
    """
    rng = component_rng(seed, "places")
    mix = oxford_mix()
    cats = list(CATEGORIES)
    counts = rng.multinomial(n_pois, [mix[c] for c in cats])
    tree = shapely.STRtree(geo.polygons)
    towns = geo.towns
    tsize = towns["size"].to_numpy()
    pop = geo.lsoa["population"].to_numpy().astype(float)
    addr_lsoa = geo.addresses["lsoa_idx"].to_numpy()
    addr_order = np.argsort(addr_lsoa, kind="stable")
    addr_start = np.searchsorted(addr_lsoa[addr_order], np.arange(len(pop)))
    addr_count = np.bincount(addr_lsoa, minlength=len(pop))

    frames = []
    for cat, n in zip(cats, counts, strict=True):
        key, values, _, centre_share, label = CATEGORIES[cat]
        n_centre = rng.binomial(n, centre_share)
        # Town-centre cluster: town chosen by size, Gaussian around its centre.
        t = rng.choice(len(towns), n_centre, p=tsize / tsize.sum())
        sig = 350.0 * np.sqrt(tsize[t])
        cx = towns["x"].to_numpy()[t] + rng.normal(0, 1, n_centre) * sig
        cy = towns["y"].to_numpy()[t] + rng.normal(0, 1, n_centre) * sig
        # Spread: LSOA by population, located at a random address point there.
        ls = rng.choice(len(pop), n - n_centre, p=pop / pop.sum())
        pick = addr_order[addr_start[ls] + rng.integers(0, addr_count[ls])]
        sx = geo.addresses["x"].to_numpy()[pick] + rng.normal(0, 15, len(ls))
        sy = geo.addresses["y"].to_numpy()[pick] + rng.normal(0, 15, len(ls))
        frames.append(
            pd.DataFrame(
                {
                    "category": cat,
                    "osm_key": key,
                    "osm_value": rng.choice(values, n) if n else [],
                    "x": np.r_[cx, sx],
                    "y": np.r_[cy, sy],
                    "police_uk_label": label,
                }
            )
        )
    for cat, min_size, label in FIXED:
        sel = towns[towns["size"] >= min_size]
        frames.append(
            pd.DataFrame(
                {
                    "category": cat,
                    "osm_key": "amenity" if cat != "station" else "railway",
                    "osm_value": cat,
                    "x": sel["x"].to_numpy() + rng.normal(0, 250, len(sel)),
                    "y": sel["y"].to_numpy() + rng.normal(0, 250, len(sel)),
                    "police_uk_label": label,
                }
            )
        )
    pois = pd.concat(frames, ignore_index=True)
    # Keep only points inside the force area and attach their LSOA.
    src, dst = tree.query(
        shapely.points(pois["x"].to_numpy(), pois["y"].to_numpy()), predicate="within"
    )
    lsoa_idx = np.full(len(pois), -1)
    lsoa_idx[src] = dst
    pois["lsoa_idx"] = lsoa_idx
    pois = pois[pois["lsoa_idx"] >= 0].reset_index(drop=True)
    pois["x"] = pois["x"].round(1)
    pois["y"] = pois["y"].round(1)
    _, st = cKDTree(geo.streets[["x", "y"]].to_numpy()).query(pois[["x", "y"]].to_numpy())
    pois["street_id"] = st
    street_names = geo.streets["street_name"].to_numpy()[st]
    pois["name"] = _names(rng, pois["category"].to_numpy(), street_names)
    pois.insert(0, "poi_id", np.arange(len(pois)))
    return as_object_strings(pois)


def _names(rng: np.random.Generator, cat: np.ndarray, street: np.ndarray) -> np.ndarray:
    """Invent venue names; licensed premises and takeaways get memorable names."""
    n = len(cat)
    out = (
        pd.Series(street, dtype=object)
        + " "
        + pd.Series(cat, dtype=object).str.replace("_", " ").str.title()
    )
    pub = cat == "pub"
    out[pub] = "The " + pd.Series(rng.choice(VENUE_WORDS, n))[pub]
    bar = np.isin(cat, ("bar", "nightclub"))
    out[bar] = pd.Series(rng.choice(BAR_WORDS, n))[bar]
    ff = cat == "fast_food"
    out[ff] = pd.Series(rng.choice(FAST_FOOD_WORDS, n))[ff]
    return out.to_numpy()
