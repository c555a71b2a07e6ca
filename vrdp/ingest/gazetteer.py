"""A gazetteer of places, and free location text geocoded against it with a score.

A&E receptionists type where an assault happened as free text ("outside Meadow
Row", "tiger tiger", "The Crown banbury", "friends house"). This module turns
such text into a point when it names a place the platform knows, and says how
sure it is.

The gazetteer
    Built only from what the lake holds (:func:`build_gazetteer`):
    - points of interest (``places/pois``: name, street, point), kind ``poi``;
    - streets and towns from the location text of police occurrences and CAD
      incidents, which come with a grid reference ("13 Gladstone Crescent,
      Slough, SL2 7BU"; "The Red Lion, Hungerford Way, Reading"): each street
      of a town is placed at the median of its points, kind ``street``;
    - streets of POIs that no police record names, at the median of their POIs.
    POIs get their town from the police texts that name them (of places with
    the same name and street in several towns, each takes the town whose
    naming records lie nearest it), else from the nearest street entry of the
    same name.

Matching (:meth:`Gazetteer.geocode`)
    1. Normalise: upper case, punctuation dropped, a leading article and
       prepositions ("outside", "nr", "opposite", ...) removed, common street
       abbreviations expanded ("RD" -> "ROAD"); "outside Meadow Row" -> "MEADOW ROW".
    2. Vague answers ("home", "friends house", "unknown", "?", blank; see
       :data:`VAGUE`) are not places: the row is kept, unlocated, with null
       ``geocode_kind`` and ``geocode_score``.
    3. A trailing town name is split off and used as a filter.
    4. Exact match on the normalised name (score 1.0), else fuzzy match among
       names with the same first letter and a similar length, scored with
       :class:`difflib.SequenceMatcher` (0..1). A fuzzy match is accepted at
       :data:`MATCH_THRESHOLD` (0.85) or above.
    5. A name held by several places (many pubs are called "The Crown") is
       resolved by the town when given; else the attendance's emergency
       department is placed (the median of its unambiguous matches in the same
       batch, moved to the nearest hospital POI), the places whose nearest
       department it is are kept (patients go to their nearest A&E), and the
       one nearest the department is chosen. The score is then the similarity
       divided by the number of places chosen among: the chance of the right
       place if each were equally likely. ``geocode_score >= MATCH_THRESHOLD``
       therefore marks confident points; lower scores are best guesses.
    A text whose best similarity is below the threshold keeps that score (0.0
    when no known name is even close) but gets no point (``is_located`` false).
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np
import pandas as pd

__all__ = [
    "MATCH_THRESHOLD",
    "VAGUE",
    "normalise_place",
    "parse_police_location",
    "build_gazetteer",
    "vocabulary_digest",
    "Gazetteer",
    "GeocodeResult",
    "geocode_summary",
    "geocode_accuracy",
]

#: Lowest fuzzy similarity accepted as a match (SequenceMatcher ratio, 0..1).
#: At 0.85 one typo in a name of seven or more letters still matches, while
#: distinct names sharing a word ("THE CROWN" / "THE CROWN INN") do not collide
#: with short names.
MATCH_THRESHOLD = 0.85

#: Unambiguous matches a group (A&E site) needs before it is placed.
MIN_GROUP_MATCHES = 3

#: Non-answers and private places: never geocoded.
VAGUE = frozenset(
    {
        "",
        "HOME",
        "AT HOME",
        "OWN HOME",
        "MY HOME",
        "HIS HOME",
        "HER HOME",
        "PARTNERS HOUSE",
        "PARTNERS HOME",
        "FRIENDS HOUSE",
        "FRIENDS HOME",
        "A FRIENDS HOUSE",
        "UNKNOWN",
        "NK",
        "N K",
        "NOT KNOWN",
        "NOT STATED",
        "NONE",
        "DECLINED",
        "REFUSED",
    }
)

_PREFIXES = (
    "OUTSIDE",
    "NR",
    "NEAR",
    "OPPOSITE",
    "OPP",
    "BY",
    "AT",
    "BEHIND",
    "IN",
    "ON",
    "INSIDE",
    "AROUND",
    "AREA OF",
    "THE",
)
_PREFIX_RE = re.compile(r"^(?:(?:" + "|".join(_PREFIXES) + r")\s+)+")

#: Street-type abbreviations a clerk may type, expanded before matching.
ABBREVIATIONS = {
    "RD": "ROAD",
    "ST": "STREET",
    "AVE": "AVENUE",
    "AV": "AVENUE",
    "LN": "LANE",
    "CL": "CLOSE",
    "CRES": "CRESCENT",
    "DR": "DRIVE",
    "GRN": "GREEN",
    "GDNS": "GARDENS",
    "PL": "PLACE",
    "SQ": "SQUARE",
    "TER": "TERRACE",
    "TERR": "TERRACE",
    "CT": "COURT",
    "PK": "PARK",
    "RW": "ROW",
    "WY": "WAY",
}

_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$")
_HOUSE_NUMBER = re.compile(r"^(?:FLAT\s+\w+\s+)?\d+[A-Z]?\s+")


def normalise_place(text: str | None) -> str:
    """Upper case, no punctuation, no leading article or preposition, abbreviations expanded.

    >>> normalise_place("outside Meadow Row")
    'MEADOW ROW'
    >>> normalise_place("nr THE CROWN"), normalise_place("partner's house")
    ('CROWN', 'PARTNERS HOUSE')
    >>> normalise_place("Green Rd."), normalise_place("  ?  ")
    ('GREEN ROAD', '')
    """
    if not isinstance(text, str):
        return ""
    t = text.upper().replace("&", " AND ")
    t = re.sub(r"['\u2019`]", "", t)
    t = re.sub(r"[^A-Z0-9 ]+", " ", t)
    t = " ".join(t.split())
    t = _PREFIX_RE.sub("", t)
    words = t.split()
    if len(words) > 1:
        words = [*words[:-1], ABBREVIATIONS.get(words[-1], words[-1])]
    return " ".join(words)


def parse_police_location(text: str | None) -> tuple[str | None, str | None, str | None]:
    """(place name, street, town) from a police location text.

    >>> parse_police_location("13 Gladstone Crescent, Slough, SL2 7BU")
    (None, 'Gladstone Crescent', 'Slough')
    >>> parse_police_location("The Red Lion, Hungerford Way, Reading")
    ('The Red Lion', 'Hungerford Way', 'Reading')
    >>> parse_police_location("Chapel Close, Maidenhead")
    (None, 'Chapel Close', 'Maidenhead')
    >>> parse_police_location("somewhere")
    (None, None, None)
    """
    if not isinstance(text, str):
        return None, None, None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts and _POSTCODE.match(parts[-1].upper()):
        parts = parts[:-1]
    if len(parts) == 2:
        street = _HOUSE_NUMBER.sub("", parts[0].upper())
        return None, parts[0][len(parts[0]) - len(street) :] or None, parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return None, None, None


_ALPHABET = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")}


def _char_counts(key: str) -> np.ndarray:
    """Counts of each character of a normalised name (A-Z, 0-9, space)."""
    return np.bincount(
        [_ALPHABET.get(c, len(_ALPHABET)) for c in key], minlength=len(_ALPHABET) + 1
    ).astype(np.int16)


@dataclass(frozen=True)
class GeocodeResult:
    """Per-text outcome (aligned with the input)."""

    kind: pd.Series  # 'poi', 'street' or None
    match: pd.Series  # the matched gazetteer name, or None
    score: pd.Series  # 0..1; NaN for vague or blank text
    easting_m: pd.Series
    northing_m: pd.Series


@dataclass
class Gazetteer:
    """Places by normalised name; build with :func:`build_gazetteer`.

    ``entries`` has ``key``, ``name``, ``kind``, ``town`` (normalised or None),
    ``easting_m``, ``northing_m`` and ``support`` (points behind the entry).
    """

    entries: pd.DataFrame
    threshold: float = MATCH_THRESHOLD
    _by_key: dict = field(default_factory=dict, init=False, repr=False)
    _blocks: dict = field(default_factory=dict, init=False, repr=False)
    _towns: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.entries = self.entries.reset_index(drop=True)
        e = self.entries
        self._kind = e["kind"].astype(object).to_numpy()
        self._town = e["town"].astype(object).where(e["town"].notna(), None).to_numpy()
        self._name = e["name"].astype(object).to_numpy()
        self._e = e["easting_m"].to_numpy(float)
        self._n = e["northing_m"].to_numpy(float)
        self._memo = {}
        category = e["category"] if "category" in e else pd.Series(None, index=e.index)
        self._hospitals = np.flatnonzero(category.astype(object).to_numpy() == "hospital")
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, k in enumerate(self.entries["key"].tolist()):
            by_key[k].append(i)
        self._by_key = dict(by_key)
        blocks: dict[str, list[str]] = defaultdict(list)
        for k in self._by_key:
            blocks[k[:1]].append(k)
        # Per first letter: names, lengths and character counts, so the fuzzy
        # search computes difflib's quick_ratio upper bound for a whole block at once.
        self._blocks = {
            letter: (
                names,
                np.array([len(k) for k in names]),
                np.stack([_char_counts(k) for k in names]),
            )
            for letter, names in blocks.items()
        }
        towns = {t for t in self.entries["town"].dropna().tolist() if t}
        self._towns = sorted(towns, key=len, reverse=True)

    @property
    def summary(self) -> dict:
        """Entry counts by kind, for metadata."""
        counts = self.entries["kind"].value_counts().to_dict()
        return {
            "entries": len(self.entries),
            "names": len(self._by_key),
            **{f"{k}_entries": int(v) for k, v in sorted(counts.items())},
        }

    def _split_town(self, key: str) -> tuple[str, str | None]:
        for town in self._towns:
            if key.endswith(" " + town) and len(key) > len(town) + 1:
                return key[: -len(town) - 1].strip(), town
        return key, None

    def _candidates(self, key: str) -> tuple[list[int], float]:
        """Entries whose name matches ``key`` exactly (1.0) or best fuzzily.

        Fuzzy: among names with the same first letter and a length within 3,
        the highest :class:`difflib.SequenceMatcher` ratio (ties: the smaller
        name). Only names whose ``quick_ratio`` (an upper bound of the ratio)
        reaches the threshold can be accepted, so only those are scored, best
        bound first, stopping early; a text none of them matches gets the best
        ratio among them (0.0 when no name could have matched).
        """
        if key in self._by_key:
            return self._by_key[key], 1.0
        block = self._blocks.get(key[:1])
        if block is None or not key:
            return [], 0.0
        names, lengths, counts = block
        near = np.flatnonzero(np.abs(lengths - len(key)) <= 3)
        if not len(near):
            return [], 0.0
        shared = np.minimum(counts[near], _char_counts(key)).sum(axis=1)
        quick = 2.0 * shared / (lengths[near] + len(key))
        best, best_score = None, 0.0
        sm = SequenceMatcher(autojunk=False)
        sm.set_seq2(key)
        for j in np.argsort(-quick, kind="stable"):
            if quick[j] < max(best_score, self.threshold):
                break
            cand = names[near[j]]
            sm.set_seq1(cand)
            r = sm.ratio()
            if r > best_score or (r == best_score and best is not None and cand < best):
                best, best_score = cand, r
        if best is None:
            return [], 0.0
        return self._by_key[best], best_score

    def _match_text(self, key: str, prefer: str | None):
        """(entry ids, similarity, town) for one normalised text (memoised)."""
        memo = self._memo.get((key, prefer))
        if memo is None:
            memo = self._memo[(key, prefer)] = self._match_text_uncached(key, prefer)
        return memo

    def _match_text_uncached(self, key: str, prefer: str | None):
        ids, score = self._candidates(key)
        base, town = self._split_town(key)
        if town is not None and score < 1.0:
            ids2, score2 = self._candidates(base)
            if score2 >= score:
                ids, score = ids2, score2
            else:
                town = None
        elif town is not None and score == 1.0:
            town = None  # the whole text is a name (a street may end like a town)
        if town is not None:
            in_town = [i for i in ids if self._town[i] == town]
            ids = in_town or ids
        if prefer and len(ids) > 1:
            preferred = [i for i in ids if self._kind[i] == prefer]
            ids = preferred or ids
        return ids, score, town

    def _group_centres(self, matched: list, group_list: list) -> dict:
        """Where each group (A&E site) is.

        The median point of its unambiguous matches, moved to the nearest
        hospital of the gazetteer when it has any.

        Groups with fewer than :data:`MIN_GROUP_MATCHES` such matches get no centre.
        """
        e, no = self._e, self._n
        pts: dict = defaultdict(list)
        for m, g in zip(matched, group_list, strict=True):
            if g is not None and m and len(m[0]) == 1 and m[1] >= self.threshold:
                pts[g].append(m[0][0])
        hospitals = self._hospitals
        centres = {}
        for g, v in sorted(pts.items()):
            if len(v) < MIN_GROUP_MATCHES:
                continue
            x, y = float(np.median(e[v])), float(np.median(no[v]))
            if len(hospitals):
                d = (e[hospitals] - x) ** 2 + (no[hospitals] - y) ** 2
                h = hospitals[int(np.argmin(d))]
                x, y = float(e[h]), float(no[h])
            centres[g] = (x, y)
        return centres

    def _resolve(self, ids: list[int], group, centres: dict) -> tuple[int, int]:
        """Pick one of several places sharing a name; also say among how many.

        Returns the chosen entry and the number of places it was chosen from
        (those in the group's catchment, or all when no catchment is known).
        """
        if group not in centres:
            return ids[0], len(ids)
        e, no = self._e[ids], self._n[ids]
        names = sorted(centres)
        cx = np.array([centres[k][0] for k in names])
        cy = np.array([centres[k][1] for k in names])
        # Patients go to their nearest emergency department: keep the places
        # whose nearest department is this one, then take the nearest of them.
        nearest = np.argmin((e[:, None] - cx) ** 2 + (no[:, None] - cy) ** 2, axis=1)
        mine = nearest == names.index(group)
        x, y = centres[group]
        d = (e - x) ** 2 + (no - y) ** 2
        if mine.any():
            d = np.where(mine, d, np.inf)
        return ids[int(np.argmin(d))], max(int(mine.sum()), 1)

    def geocode(
        self,
        texts: pd.Series,
        *,
        groups: pd.Series | None = None,
        prefer: pd.Series | None = None,
    ) -> GeocodeResult:
        """Geocode each text; see the module docstring for the rules.

        Parameters
        ----------
        texts
            Free location text.
        groups
            Optional group per row (the A&E site code) whose unambiguous matches
            locate the group, to resolve ambiguous names to the nearest place.
        prefer
            Optional preferred kind per row (``poi`` or ``street``), used only
            when a name is both.
        """
        n = len(texts)
        keys = [normalise_place(t) for t in texts.tolist()]
        prefer_list = prefer.tolist() if prefer is not None else [None] * n
        cache: dict = {}
        matched: list = []
        for key, pref in zip(keys, prefer_list, strict=True):
            if key in VAGUE or key.isdigit():
                matched.append(None)
                continue
            ck = (key, pref)
            if ck not in cache:
                cache[ck] = self._match_text(key, pref)
            matched.append(cache[ck])

        e, no = self._e, self._n
        group_list = groups.tolist() if groups is not None else [None] * n
        centres = self._group_centres(matched, group_list)

        kind = np.full(n, None, dtype=object)
        name = np.full(n, None, dtype=object)
        score = np.full(n, np.nan)
        east = np.full(n, np.nan)
        north = np.full(n, np.nan)
        kinds, names = self._kind, self._name
        for r, (m, g) in enumerate(zip(matched, group_list, strict=True)):
            if m is None:
                continue
            ids, s, _ = m
            score[r] = s
            if not ids or s < self.threshold:
                continue
            pick = ids[0]
            if len(ids) > 1:
                pick, among = self._resolve(ids, g, centres)
                score[r] = s / among
            kind[r], name[r] = kinds[pick], names[pick]
            east[r], north[r] = e[pick], no[pick]
        idx = texts.index
        return GeocodeResult(
            pd.Series(pd.array(kind, dtype="string"), index=idx),
            pd.Series(pd.array(name, dtype="string"), index=idx),
            pd.Series(score, index=idx),
            pd.Series(east, index=idx),
            pd.Series(north, index=idx),
        )

    def geocode_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """ISTV rows with ``geocode_*`` columns and the matched point (WGS84 and BNG).

        Uses ``location_text``, ``site_code`` (to resolve ambiguous names) and
        ``location_type_code`` (street ``02`` prefers streets; pub, shop,
        school and station codes prefer POIs).
        """
        from vrdp.coords import normalise_coordinates

        prefer = None
        if "location_type_code" in df:
            prefer = df["location_type_code"].map(
                {"02": "street", "03": "poi", "04": "poi", "05": "poi", "06": "poi"}
            )
        groups = df.get("site_code")
        res = self.geocode(df["location_text"], groups=groups, prefer=prefer)
        pts = normalise_coordinates(
            res.easting_m.to_numpy(), res.northing_m.to_numpy(), system="bng", area=None
        )
        out = df.copy()
        out["easting_m"] = pts["easting_m"].to_numpy()
        out["northing_m"] = pts["northing_m"].to_numpy()
        out["longitude"] = pts["longitude"].to_numpy()
        out["latitude"] = pts["latitude"].to_numpy()
        # the string arrays themselves: a numpy copy is an object array, which
        # Parquet stores with Arrow's null type when nothing in the delivery matched
        out["geocode_kind"] = res.kind.array
        out["geocode_match"] = res.match.array
        out["geocode_score"] = res.score.round(4).to_numpy()
        return out


def _median_points(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return (
        df.groupby(by, dropna=False, sort=True)
        .agg(
            easting_m=("easting_m", "median"),
            northing_m=("northing_m", "median"),
            support=("easting_m", "size"),
            name=("name", "first"),
        )
        .reset_index()
    )


def vocabulary_digest(entries: pd.DataFrame) -> str:
    """sha256 of a gazetteer's vocabulary: each entry's kind, key, town and category.

    Points and support counts are left out. Deliveries already geocoded are
    geocoded again when the vocabulary changes (a place or street added or
    dropped: text that did not match may match now), not when a street's median
    point moves because more police records name it, which happens with every
    day of calls and would otherwise re-geocode years of A&E history each day
    (new deliveries always use the current gazetteer).

    >>> e = pd.DataFrame({"kind": ["street"], "key": ["HIGH STREET"], "town": ["OXFORD"],
    ...                   "category": [None], "easting_m": [451300.0], "northing_m": [206200.0]})
    >>> vocabulary_digest(e) == vocabulary_digest(e.assign(easting_m=451310.0))
    True
    >>> vocabulary_digest(e) == vocabulary_digest(pd.concat([e, e.assign(key="MILL LANE")]))
    False
    """
    import hashlib

    cols = ["kind", "key", "town", "category"]
    rows = sorted("\x1f".join(map(str, r)) for r in entries[cols].itertuples(index=False))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def build_gazetteer(
    pois: pd.DataFrame, police_locations: pd.DataFrame, *, threshold: float = MATCH_THRESHOLD
) -> Gazetteer:
    """Build the gazetteer from POIs and located police location texts.

    Parameters
    ----------
    pois
        ``name``, ``street``, ``easting_m``, ``northing_m`` (the POI lake table).
    police_locations
        ``location_text``, ``easting_m``, ``northing_m`` of occurrences and CAD
        incidents (rows without a point are ignored).
    threshold
        Fuzzy acceptance threshold for the returned gazetteer.

    Returns
    -------
    Gazetteer
        Deterministic for the same inputs (entries sorted by kind, key, town,
        easting, northing).
    """
    cols = ["key", "name", "kind", "category", "town", "easting_m", "northing_m", "support"]
    pl = police_locations.dropna(subset=["easting_m", "northing_m"])
    # Addresses repeat: parse and normalise each distinct text once.
    codes, distinct = pd.factorize(pl["location_text"], use_na_sentinel=True)
    parsed = pd.DataFrame(
        [parse_police_location(t) for t in distinct], columns=["place", "street", "town"]
    )
    parsed["town_key"] = parsed["town"].map(normalise_place, na_action="ignore")
    parsed["street_key"] = parsed["street"].map(normalise_place, na_action="ignore")
    parsed["key"] = parsed["place"].map(normalise_place, na_action="ignore")
    ok = codes >= 0
    texts = parsed.iloc[codes[ok]].reset_index(drop=True)
    texts["easting_m"] = pl["easting_m"].to_numpy(float)[ok]
    texts["northing_m"] = pl["northing_m"].to_numpy(float)[ok]
    texts = texts.dropna(subset=["street", "town"])
    texts["name"] = texts["street"]
    streets = _median_points(texts, ["street_key", "town_key"])
    streets = streets.rename(columns={"street_key": "key", "town_key": "town"})
    streets["kind"] = "street"
    streets["category"] = None

    p = pois.dropna(subset=["easting_m", "northing_m"]).copy()
    if "category" not in p:
        p["category"] = None
    p = p[p["name"].notna() & (p["name"].astype(str).str.strip() != "")]
    p["key"] = p["name"].map(normalise_place)
    p["street_key"] = p["street"].map(normalise_place)
    # Town of a POI: from the police texts naming it on its street, else the
    # nearest street entry of the same street name. Places of one name on a street
    # of one name exist in several towns (a "Mill View Shop" on "Mill View" in two
    # towns): each takes the town whose naming records lie nearest it (their median
    # point; ties: more records, then the town's name). Taking the town most
    # records give, for all of them, put all but one in the wrong town, and flipped
    # them whenever a day's records changed the majority (the vocabulary changed, and
    # every A&E delivery was geocoded again).
    named = texts.dropna(subset=["place"])
    groups = (
        named.groupby(["key", "street_key", "town_key"])
        .agg(n=("easting_m", "size"), gx=("easting_m", "median"), gy=("northing_m", "median"))
        .reset_index()
    )
    cand = (
        p[["key", "street_key", "easting_m", "northing_m"]]
        .reset_index(drop=True)
        .rename_axis("poi")
        .reset_index()
        .merge(groups, on=["key", "street_key"])
    )
    cand["d2"] = (cand["gx"] - cand["easting_m"]) ** 2 + (cand["gy"] - cand["northing_m"]) ** 2
    cand = cand.sort_values(["poi", "d2", "n", "town_key"], ascending=[1, 1, 0, 1])
    chosen = cand.drop_duplicates("poi").set_index("poi")
    text_town = chosen["town_key"].reindex(range(len(p)))
    text_town = text_town.astype(object).where(text_town.notna(), None).to_numpy()
    text_n = chosen["n"].reindex(range(len(p))).fillna(0).to_numpy(int)
    by_street: dict[str, pd.DataFrame] = {k: g for k, g in streets.groupby("key")}
    towns = []
    for town, (sk, x, y) in zip(
        text_town, p[["street_key", "easting_m", "northing_m"]].itertuples(index=False), strict=True
    ):
        if town is None and sk in by_street:
            g = by_street[sk]
            d = (g["easting_m"].to_numpy() - x) ** 2 + (g["northing_m"].to_numpy() - y) ** 2
            town = g["town"].to_numpy()[int(np.argmin(d))]
        towns.append(town)
    p["town"] = towns
    # Support of a POI: police records naming it in its town, plus one for the POI itself.
    p["support"] = 1 + text_n
    poi_entries = p.assign(kind="poi")[cols]

    # Streets known only from POIs.
    known = set(zip(streets["key"], streets["town"], strict=True))
    ps = p[p["street_key"] != ""].copy()
    ps["name"] = ps["street"]
    unknown = np.array(
        [(k, t) not in known for k, t in zip(ps["street_key"], ps["town"], strict=True)],
        dtype=bool,
    )
    ps = ps.loc[unknown]
    extra = _median_points(ps, ["street_key", "town"]).rename(columns={"street_key": "key"})
    extra["kind"] = "street"
    extra["category"] = None

    entries = pd.concat([poi_entries, streets[cols], extra[cols]], ignore_index=True)
    entries = entries[entries["key"] != ""]
    entries["town"] = entries["town"].where(entries["town"].notna(), None)
    entries = entries.sort_values(
        ["kind", "key", "town", "easting_m", "northing_m"], na_position="last", kind="mergesort"
    ).reset_index(drop=True)
    return Gazetteer(entries, threshold=threshold)


def geocode_summary(df: pd.DataFrame, threshold: float = MATCH_THRESHOLD) -> dict:
    """Match rate and counts of geocoded rows, for asset metadata.

    ``match_rate`` is located rows over rows whose text names a place (not
    blank, not vague); ``confident_rate`` counts located rows scoring at least
    ``threshold`` (unambiguous matches) over the same base.
    """
    keys = df["location_text"].map(normalise_place)
    named = ~(keys.isin(VAGUE) | keys.str.isdigit())
    located = df["geocode_kind"].notna()
    confident = located & (df["geocode_score"] >= threshold)
    base = int(named.sum())
    return {
        "geocode_rows": len(df),
        "geocode_rows_vague_or_blank": int((~named).sum()),
        "geocode_rows_located": int(located.sum()),
        "geocode_rows_confident": int(confident.sum()),
        "geocode_match_rate": round(int(located.sum()) / base, 4) if base else 0.0,
        "geocode_confident_rate": round(int(confident.sum()) / base, 4) if base else 0.0,
        "geocode_threshold": threshold,
    }


@functools.lru_cache(maxsize=1)
def _attendance_truth(records_path, events_path, *, stamps) -> pd.DataFrame:
    """A&E attendances' true points (record_id, easting, northing), read once per process.

    Every A&E delivery's load measures its accuracy against it: read and filtered
    again for each, the truth of the large world took about a third of the loads'
    time. ``stamps`` (the files' modification times) key the cache.
    """
    records = pd.read_parquet(
        records_path,
        columns=["record_id", "event_id"],
        filters=[("dataset", "==", "istv_assaults")],
    )
    events = pd.read_parquet(events_path, columns=["event_id", "easting", "northing"])
    return records.merge(events, on="event_id").drop_duplicates("record_id")


def geocode_accuracy(
    df: pd.DataFrame, truth_dir, *, within_m: float = 250.0, threshold: float = MATCH_THRESHOLD
) -> dict:
    """Share of located rows within ``within_m`` of the simulated world's true place.

    Evaluation only: reads ``event_records.parquet`` (record id -> event) and
    ``events.parquet`` (the event's point) of the world's truth; nothing
    geocoded depends on it.
    """
    from pathlib import Path

    files = [Path(truth_dir) / n for n in ("event_records.parquet", "events.parquet")]
    truth = _attendance_truth(*files, stamps=tuple(f.stat().st_mtime_ns for f in files))
    got = df[df["geocode_kind"].notna()].merge(
        truth, left_on="attendance_ref", right_on="record_id", how="inner"
    )
    if got.empty:
        return {"geocode_truth_rows": 0}
    err = np.hypot(got["easting_m"] - got["easting"], got["northing_m"] - got["northing"])
    confident = got["geocode_score"] >= threshold
    out = {
        "geocode_truth_rows": len(got),
        f"geocode_within_{int(within_m)}m": round(float((err <= within_m).mean()), 4),
        "geocode_median_error_m": round(float(err.median()), 1),
    }
    if confident.any():
        out[f"geocode_confident_within_{int(within_m)}m"] = round(
            float((err[confident] <= within_m).mean()), 4
        )
    return out
