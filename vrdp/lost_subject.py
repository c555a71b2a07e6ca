"""Lost-subject search: the places that matter around where a surveillance subject was lost.

A surveillance team loses a subject at a point and a time. Which addresses and
places nearby might the subject be heading to? :func:`places_of_interest` gathers,
from the SOC marts, one row per relevant item with a point and a reason in words:

- SOC events (crimes, calls, intelligence) at their recorded point, with the
  intelligence grading (source, intelligence, handling) kept; cuckooing and
  exploitation categories are named as such;
- known addresses of people linked to SOC events as suspect, offender or
  intelligence subject (their address spell at the time; located to the H3 cell
  of the address, so the point is a cell centre, about 170 m across at resolution 9);
  victims' and witnesses' addresses are never listed;
- Clear-Hold-Build sites (polygons) and their phase;
- disruption activity (agency, type, linked OCG, outcome).

:func:`search` keeps what lies within a radius of the point and is current at the
time (events in a look-back window before it, address spells and CHB phases open
then), groups items by place and lists places nearest first, each with its reasons.
Rows carry no direct identifier: people appear only as pseudonymous ``person_key``
(perpetrator side only), addresses only as a keyed ``place_key`` and a cell centre.
Distances are metres in EPSG:27700.

>>> import pandas as pd
>>> ev = pd.DataFrame({"event_key": ["e1", "e2"], "event_type": ["intelligence", "crime"],
...     "soc_category": ["cuckooing", "drug_supply"],
...     "occurred_on": pd.to_datetime(["2025-05-01", "2025-01-01"]),
...     "latitude": [51.7521, 51.7600], "longitude": [-1.2577, -1.2577],
...     "ward_code": "W1", "grading_source": ["B", None], "grading_intelligence": ["2", None],
...     "grading_handling": ["P", None]})
>>> pois = places_of_interest(soc_events=ev)
>>> hits = search(pois, 51.7520, -1.2577, at="2025-05-10", radius_m=500, lookback_days=90)
>>> hits[["kinds", "distance_m", "items"]].values.tolist()
[['soc_intelligence', 11.0, 1]]
>>> hits["reasons"].iloc[0]
['intelligence: cuckooing on 2025-05-01, graded B2P']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "POI_COLUMNS",
    "POI_TYPES",
    "PERPETRATOR_ROLES",
    "places_of_interest",
    "search",
    "to_bng",
    "to_wgs84",
    "locator_table",
    "locate",
]

#: the columns of the places-of-interest table (one row per relevant item)
POI_COLUMNS = [
    "item_id",
    "kind",
    "place_id",
    "latitude",
    "longitude",
    "location_precision_m",
    "polygon_wkt",
    "occurred_on",
    "valid_from",
    "valid_to",
    "soc_category",
    "grading",
    "linked_person_key",
    "ward_code",
    "reason",
]
#: roles on a SOC event that put a person's address on the list (never victims)
PERPETRATOR_ROLES = ("suspect", "offender", "subject")
#: an address is located to its H3 cell (resolution 9): half the cell's width
CELL_PRECISION_M = 175.0


def to_bng(lat, lon):
    """WGS84 latitude/longitude (arrays) to British National Grid easting, northing (m).

    >>> e, n = to_bng([51.7520], [-1.2577])
    >>> round(float(e[0]), -2), round(float(n[0]), -2)
    (451300.0, 206200.0)
    """
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    e, n = t.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.atleast_1d(e), np.atleast_1d(n)


def _label(cat) -> str:
    return str(cat).replace("_", " ") if isinstance(cat, str) else "unknown category"


def _day(d) -> str:
    return "unknown date" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d")


def _grading(r) -> str | None:
    parts = [r.get(c) for c in ("grading_source", "grading_intelligence", "grading_handling")]
    parts = [str(p) for p in parts if isinstance(p, str) and p]
    return "".join(parts) or None


def _days(values: pd.Series) -> list[str]:
    """:func:`_day` of every value, formatted by pandas at once.

    ``strftime`` per value took a tenth of the export's time on the large world.
    """
    days = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
    return days.astype(object).where(days.notna(), "unknown date").tolist()


def _columns(df: pd.DataFrame, names, optional=()) -> list[list]:
    """Each named column's values, as ``to_dict("records")`` gives them (NaN, NaT, None kept).

    A column named in ``optional`` may be missing (all None); any other must be there.
    """
    return [
        [None] * len(df) if c in optional and c not in df.columns else df[c].tolist() for c in names
    ]


def _sorted_part(columns: dict) -> pd.DataFrame:
    """A part of the table from its columns, its rows in ``item_id`` order (a stable sort).

    Sorting the values before they become a frame: taking a million rows of long
    text in a new order from pandas' Arrow columns took about 5 s on the large world.
    """
    order = np.argsort(np.array(columns["item_id"], dtype=object), kind="stable")

    def reordered(values):
        if isinstance(values, list):
            return [values[i] for i in order]
        return values[order] if isinstance(values, np.ndarray) else values  # a scalar

    return pd.DataFrame({c: reordered(v) for c, v in columns.items()})


def _soc_rows(ev: pd.DataFrame) -> pd.DataFrame:
    """The SOC events' items, built column by column.

    A dict per row, for the events and the addresses, took 29 s on the large world.
    """
    ev = ev.dropna(subset=["latitude", "longitude"])
    key, etype, cat, lat, lon, ward, *grade = _columns(
        ev,
        [
            "event_key",
            "event_type",
            "soc_category",
            "latitude",
            "longitude",
            "ward_code",
            "grading_source",
            "grading_intelligence",
            "grading_handling",
        ],
        optional=("ward_code", "grading_source", "grading_intelligence", "grading_handling"),
    )
    gradings = [
        _grading(
            dict(
                zip(("grading_source", "grading_intelligence", "grading_handling"), g, strict=True)
            )
        )
        if t == "intelligence"
        else None
        for t, *g in zip(etype, *grade, strict=True)
    ]
    reasons = [
        f"{t}: {_label(c)} on {d}" + (f", graded {g}" if g else "")
        for t, c, d, g in zip(etype, cat, _days(ev["occurred_on"]), gradings, strict=True)
    ]
    return _sorted_part(
        {
            "item_id": [f"soc:{k}:{c}" for k, c in zip(key, cat, strict=True)],
            "kind": [f"soc_{t}" for t in etype],
            "place_id": [f"pt:{a:.5f},{b:.5f}" for a, b in zip(lat, lon, strict=True)],
            "latitude": lat,
            "longitude": lon,
            "location_precision_m": 0.0,
            "occurred_on": ev["occurred_on"].to_numpy(),
            "soc_category": cat,
            "grading": gradings,
            "ward_code": ward,
            "reason": reasons,
        }
    )


def _address_rows(ad: pd.DataFrame) -> pd.DataFrame:
    """Perpetrators' known addresses' items, built column by column."""
    ad = ad[ad["role"].isin(PERPETRATOR_ROLES)].dropna(subset=["latitude", "longitude"])
    place, person, role, cat, ward = _columns(
        ad,
        ["place_key", "person_key", "role", "soc_category", "ward_code"],
        optional=("ward_code",),
    )
    labels = [_label(c) for c in cat]
    last = _days(ad["last_event_on"])
    return _sorted_part(
        {
            "item_id": [
                f"addr:{p}:{k}:{c}:{d}"
                for p, k, c, d in zip(place, person, cat, _days(ad["valid_from"]), strict=True)
            ],
            "kind": "known_address",
            "place_id": [f"addr:{p}" for p in place],
            "latitude": ad["latitude"].to_numpy(),
            "longitude": ad["longitude"].to_numpy(),
            "location_precision_m": CELL_PRECISION_M,
            "occurred_on": ad["last_event_on"].to_numpy(),
            "valid_from": ad["valid_from"].to_numpy(),
            "valid_to": ad["valid_to"].to_numpy(),
            "soc_category": cat,
            "linked_person_key": person,
            "ward_code": ward,
            "reason": [
                f"known address of a person recorded as {r} in {lab} (last such event {d})"
                for r, lab, d in zip(role, labels, last, strict=True)
            ],
        }
    )


def _chb_rows(chb: pd.DataFrame) -> list[dict]:
    rows = []
    for r in chb.to_dict("records"):
        rows.append(
            {
                "item_id": f"chb:{r['site_phase_id']}",
                "kind": "chb_site",
                "place_id": f"chb:{r['site_id']}",
                "latitude": r["latitude"],
                "longitude": r["longitude"],
                "location_precision_m": 0.0,
                "polygon_wkt": r.get("polygon_wkt"),
                "valid_from": r["phase_start"],
                "valid_to": r["phase_end"],
                "ward_code": r.get("ward_code"),
                "reason": f"Clear-Hold-Build site {r['site_name']} ({r['site_id']}): "
                f"{r['phase']} phase from {_day(r['phase_start'])}"
                + (f" to {_day(r['phase_end'])}" if not pd.isna(r["phase_end"]) else ""),
            }
        )
    return rows


def _disruption_rows(d: pd.DataFrame) -> list[dict]:
    rows = []
    for r in d.dropna(subset=["latitude", "longitude"]).to_dict("records"):
        ocg = f", linked OCG {r['linked_ocg']}" if isinstance(r.get("linked_ocg"), str) else ""
        rows.append(
            {
                "item_id": f"disruption:{r['disruption_id']}",
                "kind": "disruption",
                "place_id": f"pt:{r['latitude']:.5f},{r['longitude']:.5f}",
                "latitude": r["latitude"],
                "longitude": r["longitude"],
                "location_precision_m": 0.0,
                "occurred_on": r["disrupted_on"],
                "ward_code": r.get("ward_code"),
                "reason": f"disruption: {_label(r['disruption_type'])} by {r['agency']} on "
                f"{_day(r['disrupted_on'])}{ocg} (outcome: {r['outcome']})",
            }
        )
    return rows


#: the type of each column of the places-of-interest table, whatever kinds of item it holds
POI_TYPES = {
    **dict.fromkeys(POI_COLUMNS, "str"),
    **dict.fromkeys(("latitude", "longitude", "location_precision_m"), "float64"),
    **dict.fromkeys(("occurred_on", "valid_from", "valid_to"), "datetime64[us]"),
}


def _typed(part: pd.DataFrame) -> pd.DataFrame:
    """A part of the table with every column of :data:`POI_COLUMNS`, typed as :data:`POI_TYPES`."""
    part = part.reindex(columns=POI_COLUMNS)
    return part.assign(
        **{
            c: pd.to_datetime(part[c]).astype(t) if t.startswith("datetime") else part[c].astype(t)
            for c, t in POI_TYPES.items()
        }
    )


def places_of_interest(
    soc_events: pd.DataFrame | None = None,
    addresses: pd.DataFrame | None = None,
    chb_sites: pd.DataFrame | None = None,
    disruptions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per relevant item (columns :data:`POI_COLUMNS`), from the SOC marts.

    Parameters
    ----------
    soc_events
        ``marts.fct_soc_events``: event_key, event_type, soc_category, occurred_on,
        latitude, longitude, ward_code and the three grading columns.
    addresses
        People linked to SOC events and their address spells: place_key, person_key,
        role, soc_category, last_event_on, valid_from, valid_to, latitude, longitude
        (the address cell's centre), ward_code. Rows whose role is not a perpetrator
        role (:data:`PERPETRATOR_ROLES`) are dropped here whatever the caller passes.
    chb_sites
        ``marts.dim_chb_site_phases``.
    disruptions
        ``marts.fct_disruptions``.
    """
    parts = []
    if soc_events is not None:
        parts.append(_soc_rows(soc_events))
    if addresses is not None:
        parts.append(_address_rows(addresses))
    rows = []
    if chb_sites is not None:
        rows += _chb_rows(chb_sites)
    if disruptions is not None:
        rows += _disruption_rows(disruptions)
    if rows:
        parts.append(pd.DataFrame(rows).sort_values("item_id", kind="stable"))
    # each part is in item_id order already, and parts' ids do not interleave (each
    # kind has its own prefix): in order of their first ids, the table needs no sort
    parts = sorted((_typed(p) for p in parts), key=lambda p: p["item_id"].iloc[0] if len(p) else "")
    if not parts:
        return _typed(pd.DataFrame())
    out = pd.concat(parts, ignore_index=True)
    if out["item_id"].is_monotonic_increasing:
        return out
    return out.sort_values("item_id").reset_index(drop=True)


def _distances(pois: pd.DataFrame, lat: float, lon: float) -> np.ndarray:
    e0, n0 = to_bng([lat], [lon])
    e, n = to_bng(pois["latitude"].to_numpy(), pois["longitude"].to_numpy())
    d = np.hypot(e - e0[0], n - n0[0])
    poly = pois["polygon_wkt"].notna().to_numpy()
    if poly.any():  # a CHB site: distance to its outline (0 inside)
        import shapely
        from shapely.ops import transform

        from_wgs = _to_bng_transform()
        here = shapely.Point(e0[0], n0[0])
        for i in np.flatnonzero(poly):
            shape = transform(from_wgs, shapely.from_wkt(pois["polygon_wkt"].iloc[i]))
            d[i] = shape.distance(here)
    return d


def _to_bng_transform():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform


def search(
    pois: pd.DataFrame,
    lat: float,
    lon: float,
    *,
    at,
    radius_m: float = 500.0,
    lookback_days: int = 365,
) -> pd.DataFrame:
    """Places within ``radius_m`` of (``lat``, ``lon``) relevant at time ``at``, nearest first.

    Events (SOC events, disruptions) count when they happened in the ``lookback_days``
    before ``at`` (up to ``at``); address spells and CHB phases when open at ``at``
    or closed within the look-back. One row per place: ``place_id``, ``kinds``,
    ``latitude``, ``longitude``, ``distance_m`` (to the point, or to a CHB outline),
    ``location_precision_m``, ``items``, ``last_activity_on``, ``best_grading``,
    ``soc_categories``, ``linked_person_keys`` (perpetrator side, pseudonymous) and
    ``reasons`` (most recent first).
    """
    cols = ["place_id", "kinds", "latitude", "longitude", "distance_m", "location_precision_m"]
    cols += ["items", "last_activity_on", "best_grading", "soc_categories"]
    cols += ["linked_person_keys", "reasons"]
    at = pd.Timestamp(at)
    if at.tzinfo is not None:
        at = at.tz_convert("UTC").tz_localize(None)
    start = at - pd.Timedelta(days=lookback_days)
    if pois.empty:
        return pd.DataFrame(columns=cols)
    d = _distances(pois, lat, lon)
    p = pois.assign(distance_m=d)[d <= radius_m]
    is_event = p["occurred_on"].notna() & p["valid_from"].isna()
    event_ok = (p["occurred_on"] >= start) & (p["occurred_on"] <= at)
    spell_ok = (p["valid_from"].isna() | (p["valid_from"] <= at)) & (
        p["valid_to"].isna() | (p["valid_to"] > start)
    )
    linked_ok = p["occurred_on"].isna() | (p["occurred_on"] <= at)
    p = p[np.where(is_event, event_ok, spell_ok & linked_ok)]
    if p.empty:
        return pd.DataFrame(columns=cols)
    when = p["occurred_on"].fillna(p["valid_from"])
    p = p.assign(_when=when).sort_values(["_when", "item_id"], ascending=[False, True])
    rows = []
    for place, g in p.groupby("place_id", sort=False):
        grades = sorted(x for x in g["grading"].dropna())
        rows.append(
            {
                "place_id": place,
                "kinds": "|".join(sorted(g["kind"].unique())),
                "latitude": float(g["latitude"].iloc[0]),
                "longitude": float(g["longitude"].iloc[0]),
                "distance_m": round(float(g["distance_m"].min()), 0),
                "location_precision_m": float(g["location_precision_m"].max()),
                "items": len(g),
                "last_activity_on": _day(g["_when"].max()),
                "best_grading": grades[0] if grades else None,
                "soc_categories": sorted(g["soc_category"].dropna().unique().tolist()),
                "linked_person_keys": sorted(g["linked_person_key"].dropna().unique().tolist()),
                "reasons": list(dict.fromkeys(g["reason"]))[:20],
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["distance_m", "items", "place_id"], ascending=[True, False, True])


def _norm_postcode(text: str) -> str:
    return "".join(ch for ch in str(text).upper() if ch.isalnum())


def to_wgs84(easting, northing):
    """British National Grid easting, northing (m) to WGS84 latitude, longitude (arrays)."""
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = t.transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.atleast_1d(lat), np.atleast_1d(lon)


def locator_table(places: pd.DataFrame, postcodes: pd.DataFrame) -> pd.DataFrame:
    """Names a search can start from: streets and places (gazetteer) and postcode centroids.

    ``places``: the gazetteer's entries (``key``, ``name``, ``kind`` street or poi,
    ``town``, ``easting_m``, ``northing_m``); ``postcodes``: postcode, latitude,
    longitude (one row per address cell; averaged here). Returns ``kind`` (street,
    poi or postcode), ``key`` (normalised), ``label``, ``latitude``, ``longitude``.

    >>> st = pd.DataFrame({"key": ["HIGH STREET"], "name": ["High Street"], "kind": ["street"],
    ...     "town": ["Oxford"], "easting_m": [451300.0], "northing_m": [206200.0]})
    >>> pc = pd.DataFrame({"postcode": ["OX1 1AA", "ox1 1aa"], "latitude": [51.0, 51.2],
    ...     "longitude": [-1.0, -1.2]})
    >>> t = locator_table(st, pc)
    >>> t[["kind", "key", "label"]].values.tolist()
    [['postcode', 'OX11AA', 'OX11AA'], ['street', 'HIGH STREET', 'High Street, Oxford']]
    >>> round(float(t["latitude"].iloc[0]), 3), round(float(t["latitude"].iloc[1]), 2)
    (51.1, 51.75)
    """
    g = places[places["kind"].isin(["street", "poi"])].dropna(subset=["easting_m", "northing_m"])
    lat, lon = to_wgs84(g["easting_m"].to_numpy(), g["northing_m"].to_numpy())
    town = g["town"].fillna("").astype(str)
    s = g.assign(
        latitude=lat if len(g) else [],
        longitude=lon if len(g) else [],
        label=(g["name"].astype(str) + ", " + town).str.rstrip(", "),
    )
    p = postcodes.assign(key=postcodes["postcode"].map(_norm_postcode))
    p = (
        p.groupby("key", as_index=False)[["latitude", "longitude"]]
        .mean()
        .assign(kind="postcode", label=lambda x: x["key"])
    )
    cols = ["kind", "key", "label", "latitude", "longitude"]
    out = pd.concat([s[cols], p[cols]], ignore_index=True)
    return out.sort_values(["kind", "key", "label"]).reset_index(drop=True)


def locate(locator: pd.DataFrame, *, postcode: str | None = None, street: str | None = None):
    """The point a postcode or street names (latitude, longitude, label), or None.

    A street named in several towns is resolved by a town after a comma
    ("High Street, Oxford"), else the first is taken.

    >>> loc = pd.DataFrame({"kind": ["street", "street"], "key": ["HIGH STREET"] * 2,
    ...     "label": ["High Street, Oxford", "High Street, Banbury"],
    ...     "latitude": [51.75, 52.06], "longitude": [-1.25, -1.34]})
    >>> locate(loc, street="high st, banbury")
    (52.06, -1.34, 'High Street, Banbury')
    """
    from vrdp.ingest.gazetteer import normalise_place

    if postcode:
        hit = locator[
            (locator["kind"] == "postcode") & (locator["key"] == _norm_postcode(postcode))
        ]
    elif street:
        name, _, town = street.partition(",")
        key = normalise_place(name)
        hit = locator[locator["kind"].isin(["street", "poi"]) & (locator["key"] == key)]
        hit = hit.sort_values("kind", ascending=False)  # a street before a place of that name
        if town.strip() and len(hit) > 1:
            want = town.strip().upper()
            same = hit[hit["label"].str.upper().str.endswith(want)]
            hit = same if len(same) else hit
    else:
        return None
    if hit.empty:
        return None
    r = hit.iloc[0]
    lat, lon = float(r["latitude"]), float(r["longitude"])
    if math.isnan(lat) or math.isnan(lon):
        return None
    return lat, lon, str(r["label"])
