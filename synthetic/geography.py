"""Real Thames Valley geography: LSOAs, towns, streets and address points.

LSOA 2021 polygons, 2011 census populations and IMD 2019 deciles are real;
streets, address points and postcodes are simulated inside the real polygons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from synthetic.io import as_object_strings, component_rng
from synthetic.names import STREET_STEMS, STREET_SUFFIXES

PUBLIC_DATA = Path(__file__).resolve().parents[1] / "public_data"
BOUNDARIES = PUBLIC_DATA / "boundaries" / "thames_valley"
REFERENCE = PUBLIC_DATA / "reference"

# Town centres of the force area: name, lat, lon, relative size, postcode districts.
# Sizes steer where the night-time economy and dense street grids go.
TOWNS: tuple[tuple[str, float, float, float, str], ...] = (
    ("Oxford", 51.7520, -1.2577, 1.0, "OX1 OX2 OX3 OX4"),
    ("Reading", 51.4543, -0.9781, 1.0, "RG1 RG2 RG4 RG30 RG31"),
    ("Milton Keynes", 52.0406, -0.7594, 1.0, "MK9 MK6 MK10 MK13"),
    ("Slough", 51.5105, -0.5950, 0.8, "SL1 SL2 SL3"),
    ("High Wycombe", 51.6286, -0.7482, 0.7, "HP11 HP12 HP13"),
    ("Aylesbury", 51.8168, -0.8124, 0.6, "HP19 HP20 HP21"),
    ("Maidenhead", 51.5218, -0.7177, 0.5, "SL6"),
    ("Bracknell", 51.4154, -0.7536, 0.5, "RG12 RG42"),
    ("Banbury", 52.0629, -1.3398, 0.5, "OX16 OX17"),
    ("Newbury", 51.4014, -1.3231, 0.5, "RG14"),
    ("Windsor", 51.4839, -0.6044, 0.45, "SL4"),
    ("Bicester", 51.8985, -1.1536, 0.4, "OX26"),
    ("Abingdon", 51.6708, -1.2880, 0.35, "OX14"),
    ("Witney", 51.7856, -1.4857, 0.35, "OX28"),
    ("Didcot", 51.6080, -1.2448, 0.35, "OX11"),
    ("Wokingham", 51.4112, -0.8339, 0.35, "RG40 RG41"),
    ("Bletchley", 51.9947, -0.7336, 0.3, "MK2 MK3"),
    ("Henley-on-Thames", 51.5357, -0.9034, 0.25, "RG9"),
    ("Marlow", 51.5710, -0.7749, 0.25, "SL7"),
    ("Amersham", 51.6744, -0.6077, 0.25, "HP6 HP7"),
    ("Thame", 51.7476, -0.9745, 0.2, "OX9"),
    ("Chesham", 51.7054, -0.6116, 0.2, "HP5"),
    ("Beaconsfield", 51.6111, -0.6439, 0.2, "HP9"),
    ("Wantage", 51.5880, -1.4260, 0.2, "OX12"),
    ("Thatcham", 51.4048, -1.2606, 0.2, "RG18 RG19"),
    ("Earley", 51.4369, -0.9330, 0.2, "RG6"),
    ("Woodley", 51.4521, -0.9030, 0.2, "RG5"),
    ("Buckingham", 51.9995, -0.9873, 0.15, "MK18"),
    ("Wallingford", 51.5996, -1.1249, 0.15, "OX10"),
    ("Chipping Norton", 51.9416, -1.5453, 0.15, "OX7"),
    ("Carterton", 51.7594, -1.5946, 0.15, "OX18"),
    ("Kidlington", 51.8234, -1.2896, 0.15, "OX5"),
    ("Wolverton", 52.0614, -0.8104, 0.15, "MK12"),
    ("Burnham", 51.5376, -0.6542, 0.15, "SL1"),
    ("Sandhurst", 51.3470, -0.8040, 0.1, "GU47"),
    ("Princes Risborough", 51.7239, -0.8339, 0.1, "HP27"),
    ("Hungerford", 51.4145, -1.5153, 0.1, "RG17"),
)

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
_TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))


def to_bng(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat to British National Grid metres (vectorised)."""
    return _TO_BNG.transform(np.asarray(lon, float), np.asarray(lat, float))


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project British National Grid metres to WGS84 lon/lat (vectorised)."""
    return _TO_WGS.transform(np.asarray(x, float), np.asarray(y, float))


@dataclass
class Geography:
    """Geography of the simulated world.

    Attributes
    ----------
    lsoa : pandas.DataFrame
        One row per LSOA 2021: code, name, LAD, population, IMD decile, centroid
        (BNG), area, nearest town index.
    polygons : numpy.ndarray of shapely.Polygon
        LSOA polygons in BNG, aligned with ``lsoa``.
    towns : pandas.DataFrame
        Town centres (BNG), size and postcode districts.
    streets : pandas.DataFrame
        Simulated streets: id, LSOA, name, centre point (BNG), postcode, town.
    addresses : pandas.DataFrame
        Simulated address points: id, LSOA, street, house number, BNG x/y.
    """

    lsoa: pd.DataFrame
    polygons: np.ndarray
    towns: pd.DataFrame
    streets: pd.DataFrame
    addresses: pd.DataFrame

    def town_boost(self, x: np.ndarray, y: np.ndarray, sigma_m: float = 600.0) -> np.ndarray:
        """Return a town-centre density kernel at points (0 far from towns, ~size at centres).

        Parameters
        ----------
        x, y : numpy.ndarray
            BNG coordinates.
        sigma_m : float
            Kernel scale for a size-1 town; smaller towns get tighter kernels.
        """
        tx = self.towns["x"].to_numpy()
        ty = self.towns["y"].to_numpy()
        size = self.towns["size"].to_numpy()
        sig = sigma_m * np.sqrt(size)
        out = np.zeros(len(x))
        for i in range(len(tx)):  # loop over ~40 towns, vectorised over points
            d2 = (x - tx[i]) ** 2 + (y - ty[i]) ** 2
            out += size[i] * np.exp(-d2 / (2 * sig[i] ** 2))
        return out


def load_lsoas() -> tuple[pd.DataFrame, np.ndarray]:
    """Load LSOA 2021 polygons with population and IMD decile.

    Populations come from the 2011 census: LSOAs whose code is unchanged keep
    their population; new 2021 LSOAs take an equal share of the nearest 2011
    LSOA (by centroid), so splits do not double-count people. IMD deciles map
    the same way.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        LSOA attributes sorted by code, and BNG polygons in the same order.
    """
    gdf = gpd.read_file(BOUNDARIES / "thames_valley_lsoa21.geojson")
    gdf = gdf.sort_values("LSOA21CD").reset_index(drop=True).to_crs(27700)
    cent = pd.read_csv(BOUNDARIES / "thames_valley_lsoa_centroids.csv")
    pop = pd.read_csv(REFERENCE / "census_2011_lsoa_population_thames_valley.csv")
    imd = pd.read_csv(
        REFERENCE / "imd2019_lsoa11_england.csv.gz", usecols=["lsoa_code", "IMD_decile"]
    )
    lads = pd.read_csv(BOUNDARIES / "thames_valley_local_authorities.csv")

    c11 = cent[cent["in_2011"] == 1].merge(
        pop[["lsoa11cd", "all_usual_residents"]], left_on="LSOACD", right_on="lsoa11cd"
    )
    cx11, cy11 = to_bng(c11["longitude"].to_numpy(), c11["latitude"].to_numpy())
    pts = shapely.centroid(gdf.geometry.values)
    x = shapely.get_x(pts)
    y = shapely.get_y(pts)
    code_to_11 = {c: i for i, c in enumerate(c11["LSOACD"])}
    _, nearest = cKDTree(np.c_[cx11, cy11]).query(np.c_[x, y])
    parent = np.array([code_to_11.get(c, n) for c, n in zip(gdf["LSOA21CD"], nearest, strict=True)])
    children = np.bincount(parent, minlength=len(c11))
    population = c11["all_usual_residents"].to_numpy()[parent] / children[parent]
    imd_map = dict(zip(imd["lsoa_code"], imd["IMD_decile"], strict=True))
    imd_dec = np.array([imd_map.get(c, 5) for c in c11["LSOACD"]])[parent]
    lad_names = dict(zip(lads["LADCD"], lads["LADNM"], strict=True))

    lsoa = pd.DataFrame(
        {
            "lsoa_idx": np.arange(len(gdf)),
            "lsoa_code": gdf["LSOA21CD"].to_numpy(),
            "lsoa_name": gdf["LSOA21NM"].to_numpy(),
            "lad_code": gdf["LADCD_ACTIVE"].to_numpy(),
            "lad_name": gdf["LADCD_ACTIVE"].map(lad_names).to_numpy(),
            "population": np.round(population).astype(int),
            "imd_decile": imd_dec.astype(int),
            "x": x,
            "y": y,
            "area_m2": shapely.area(gdf.geometry.values),
        }
    )
    return lsoa, np.asarray(gdf.geometry.values)


def load_towns() -> pd.DataFrame:
    """Return town centres with BNG coordinates."""
    t = pd.DataFrame(list(TOWNS), columns=["town", "lat", "lon", "size", "districts"])
    t["x"], t["y"] = to_bng(t["lon"].to_numpy(), t["lat"].to_numpy())
    return t


def sample_in_polygon(
    rng: np.random.Generator, poly: shapely.Polygon, n: int, n_clusters: int, sigma: float
) -> np.ndarray:
    """Sample ``n`` points inside a polygon, clustered around a few settlement centres.

    Rural LSOAs are large but people live in villages, so points are drawn from
    Gaussian clusters whose centres are themselves uniform in the polygon.

    Returns
    -------
    numpy.ndarray, shape (n, 2)
    """
    minx, miny, maxx, maxy = poly.bounds
    centres = _uniform_in(rng, poly, n_clusters, (minx, miny, maxx, maxy))
    out = np.empty((0, 2))
    for _ in range(8):
        k = max(2 * (n - len(out)), 16)
        c = centres[rng.integers(0, len(centres), k)]
        cand = c + rng.normal(0, sigma, size=(k, 2))
        inside = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out = np.vstack([out, cand[inside]])
        if len(out) >= n:
            return out[:n]
    # Very thin polygons: top up uniformly.
    return np.vstack([out, _uniform_in(rng, poly, n - len(out), (minx, miny, maxx, maxy))])[:n]


def _uniform_in(rng: np.random.Generator, poly, n: int, bounds) -> np.ndarray:
    minx, miny, maxx, maxy = bounds
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(4 * (n - len(out)), 32)
        cand = np.c_[rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)]
        out = np.vstack([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def build_geography(seed: int, addresses_per_lsoa: int) -> Geography:
    """Build LSOAs, towns, streets and address points.

    Parameters
    ----------
    seed : int
        World seed.
    addresses_per_lsoa : int
        Mean address points per LSOA (scaled by the LSOA population).

    Returns
    -------
    Geography
    """
    rng = component_rng(seed, "geography")
    lsoa, polys = load_lsoas()
    towns = load_towns()
    _, town_idx = cKDTree(towns[["x", "y"]].to_numpy()).query(lsoa[["x", "y"]].to_numpy())
    lsoa["town_idx"] = town_idx
    pop = lsoa["population"].to_numpy()
    n_addr = np.maximum(4, np.round(addresses_per_lsoa * pop / pop.mean())).astype(int)

    addr_xy, addr_lsoa, addr_street, st_rows = [], [], [], []
    street_id = 0
    for i, poly in enumerate(polys):  # one iteration per LSOA (1,485), vectorised inside
        area = lsoa.at[i, "area_m2"]
        n_cl = int(min(5, 1 + area // 2e6))
        sigma = float(min(300.0, max(60.0, np.sqrt(area) / 5)))
        pts = sample_in_polygon(rng, poly, int(n_addr[i]), n_cl, sigma)
        n_st = max(2, int(np.ceil(n_addr[i] / 12)))
        st = pts[rng.choice(len(pts), size=min(n_st, len(pts)), replace=False)]
        d2 = ((pts[:, None, :] - st[None, :, :]) ** 2).sum(-1)
        nearest = d2.argmin(1)
        addr_xy.append(pts)
        addr_lsoa.append(np.full(len(pts), i))
        addr_street.append(nearest + street_id)
        st_rows.append(np.c_[np.full(len(st), i), st])
        street_id += len(st)

    st_arr = np.vstack(st_rows)
    n_streets = len(st_arr)
    stem = rng.choice(STREET_STEMS, n_streets)
    suffix = rng.choice(STREET_SUFFIXES, n_streets)
    streets = pd.DataFrame(
        {
            "street_id": np.arange(n_streets),
            "lsoa_idx": st_arr[:, 0].astype(int),
            "street_name": pd.Series(stem, dtype=object) + " " + pd.Series(suffix, dtype=object),
            "x": np.round(st_arr[:, 1], 1),
            "y": np.round(st_arr[:, 2], 1),
        }
    )
    s_town = lsoa["town_idx"].to_numpy()[streets["lsoa_idx"].to_numpy()]
    streets["town"] = towns["town"].to_numpy()[s_town]
    streets["postcode"] = _postcodes(rng, towns["districts"].to_numpy()[s_town])

    xy = np.vstack(addr_xy)
    addresses = pd.DataFrame(
        {
            "address_id": np.arange(len(xy)),
            "lsoa_idx": np.concatenate(addr_lsoa),
            "street_id": np.concatenate(addr_street),
            "x": np.round(xy[:, 0], 1),
            "y": np.round(xy[:, 1], 1),
        }
    )
    # House numbers run along each street in order of distance from its centre.
    sx = streets["x"].to_numpy()[addresses["street_id"]]
    sy = streets["y"].to_numpy()[addresses["street_id"]]
    dist = np.hypot(addresses["x"] - sx, addresses["y"] - sy)
    order = np.lexsort((dist, addresses["street_id"]))
    rank = np.empty(len(order), dtype=int)
    grp = addresses["street_id"].to_numpy()[order]
    first = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    pos = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    rank[order] = pos
    addresses["house_number"] = rank + 1
    for df in (lsoa, towns, streets, addresses):
        as_object_strings(df)
    return Geography(lsoa, polys, towns, streets, addresses)


def _postcodes(rng: np.random.Generator, districts: np.ndarray) -> np.ndarray:
    """Draw a plausible postcode per street from its town's postcode districts."""
    n = len(districts)
    outward = np.array([rng.choice(d.split()) for d in districts], dtype=object)
    digit = rng.integers(1, 10, n).astype(str)
    l1 = rng.choice(INWARD_LETTERS, n)
    l2 = rng.choice(INWARD_LETTERS, n)
    return outward + " " + digit.astype(object) + l1.astype(object) + l2.astype(object)
