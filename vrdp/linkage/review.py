r"""Clerical review of person linkage: the uncertain band, reviewers' decisions, their effect.

Pairs whose match probability falls in an uncertain band (``ReviewBand``) are
written to a review queue with the evidence a reviewer needs (both records'
names, dates of birth, postcodes and identifiers), so the queue belongs to the
restricted ``identity`` schema, never to the marts.

Reviewers record decisions in a CSV file (``<data root>/linkage/review/decisions.csv``
by default; restricted, like the queue), one decision per line::

    record_uid_l,record_uid_r,decision,reviewer,reason,decided_at
    police:nominals:N1,nhs:safeguarding:SG3,match,J. Smith,same NHS no.,2026-11-23T09:15:00Z
    police:nominals:N1,police:nominals:N9,non-match,J. Smith,twins,2026-11-23T09:20:00Z

* ``record_uid_l``, ``record_uid_r``: the two records (``<agency>:<dataset>:<record id>``,
  as in the queue; order does not matter; they must differ);
* ``decision``: ``match`` or ``non-match``;
* ``reviewer``, ``reason``: who decided and why (neither may be empty);
* ``decided_at``: ISO 8601 date and time (a time zone is optional; UTC is assumed).

The file is append-only in spirit: to change a decision, add a later line for
the same pair; the line with the latest ``decided_at`` wins (on a tie, the later
line). On the next linkage run, decisions override the model before clustering:
a ``match`` adds the pair as a link, a ``non-match`` removes the pair's link and
keeps the two records in different persons even when other links would join
them (:func:`constrained_clusters`). Every decision is logged with what it did.
Append a decision from the command line with::

    python -m vrdp.linkage.review add --left police:nominals:N00000012 \
        --right nhs:safeguarding:SG00000345 --decision match \
        --reviewer "J. Smith" --reason "same NHS number on file"
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.keys import positions

__all__ = [
    "DECISION_COLUMNS",
    "DECISIONS",
    "ReviewBand",
    "DecisionFileError",
    "no_decisions",
    "decisions_path",
    "read_decisions",
    "latest_decisions",
    "append_decision",
    "apply_decisions",
    "constrained_clusters",
    "review_queue",
    "main",
]

DECISION_COLUMNS = ("record_uid_l", "record_uid_r", "decision", "reviewer", "reason", "decided_at")
DECISIONS = ("match", "non-match")
#: Columns of the log of applied decisions (no reason text: it may name people).
APPLIED_COLUMNS = (
    "record_uid_l",
    "record_uid_r",
    "decision",
    "reviewer",
    "decided_at",
    "line",
    "model_probability",
    "model_linked",
    "together_after",
    "status",
)


@dataclass(frozen=True)
class ReviewBand:
    """Match probabilities ``lower <= p < upper`` go to clerical review.

    >>> ReviewBand(0.5, 0.99).contains(pd.Series([0.4, 0.5, 0.98, 0.99])).tolist()
    [False, True, True, False]
    """

    lower: float = 0.8
    upper: float = 0.95

    def __post_init__(self):
        if not 0.0 <= self.lower <= self.upper <= 1.0:
            raise ValueError(f"review band needs 0 <= lower <= upper <= 1, got {self}")

    def contains(self, p: pd.Series) -> pd.Series:
        """Whether each probability is in the band."""
        return (p >= self.lower) & (p < self.upper)


class DecisionFileError(ValueError):
    """The decisions file cannot be used; the message names the file, lines and problems."""


def decisions_path(data_root: Path) -> Path:
    """Default decisions file: ``<data root>/linkage/review/decisions.csv``."""
    return Path(data_root) / "linkage" / "review" / "decisions.csv"


def no_decisions() -> pd.DataFrame:
    """An empty decisions table with the columns :func:`read_decisions` returns."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in DECISION_COLUMNS})
    df["decided_at"] = pd.Series(dtype="datetime64[us, UTC]")
    return df.assign(line=pd.Series(dtype="int64"))


def _parse_time(text: str) -> pd.Timestamp | None:
    try:
        ts = pd.Timestamp(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except ValueError:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def read_decisions(path: Path) -> pd.DataFrame:
    """Read and validate the decisions file.

    Parameters
    ----------
    path
        The CSV file. A missing or empty file means no decisions.

    Returns
    -------
    pandas.DataFrame
        :data:`DECISION_COLUMNS` plus ``line`` (the line number in the file),
        with each pair ordered so ``record_uid_l < record_uid_r`` and
        ``decided_at`` as UTC timestamps.

    Raises
    ------
    DecisionFileError
        Naming the file and, for each bad line, its number and every problem:
        missing columns, an unknown decision, an empty field, a record paired
        with itself, a time that is not ISO 8601.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return no_decisions()
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DecisionFileError(f"{path}: not a readable CSV file: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in DECISION_COLUMNS if c not in raw.columns]
    if missing:
        raise DecisionFileError(
            f"{path}: missing column(s) {', '.join(missing)}; the header must be "
            f"{','.join(DECISION_COLUMNS)}"
        )
    raw = raw[list(DECISION_COLUMNS)].apply(lambda s: s.str.strip())
    problems: list[str] = []
    times: list[pd.Timestamp | None] = []
    for i, row in enumerate(raw.itertuples(index=False), start=2):  # line 1 is the header
        bad = [f"{c} is empty" for c in DECISION_COLUMNS if not getattr(row, c)]
        if row.decision and row.decision not in DECISIONS:
            bad.append(f"decision {row.decision!r} is not one of {', '.join(DECISIONS)}")
        if row.record_uid_l and row.record_uid_l == row.record_uid_r:
            bad.append(f"record {row.record_uid_l!r} is paired with itself")
        ts = _parse_time(row.decided_at) if row.decided_at else None
        if row.decided_at and ts is None:
            bad.append(f"decided_at {row.decided_at!r} is not an ISO 8601 date and time")
        times.append(ts)
        problems.extend(f"line {i}: {p}" for p in bad)
    if problems:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise DecisionFileError(f"{path}: {len(problems)} problem(s): {shown}{more}")
    if raw.empty:
        return no_decisions()
    left = raw[["record_uid_l", "record_uid_r"]].min(axis=1)
    right = raw[["record_uid_l", "record_uid_r"]].max(axis=1)
    out = raw.assign(
        record_uid_l=left,
        record_uid_r=right,
        decided_at=pd.to_datetime(pd.Series(times, dtype=object), utc=True),
        line=range(2, len(raw) + 2),
    )
    return out.reset_index(drop=True)


def latest_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """One decision per pair: the latest ``decided_at`` (on a tie, the later line).

    >>> d = pd.DataFrame({"record_uid_l": ["a", "a"], "record_uid_r": ["b", "b"],
    ...     "decision": ["match", "non-match"], "line": [2, 3],
    ...     "decided_at": pd.to_datetime(["2026-01-02", "2026-01-01"], utc=True)})
    >>> latest_decisions(d)["decision"].tolist()
    ['match']
    """
    if decisions.empty:
        return decisions
    ordered = decisions.sort_values(["decided_at", "line"], kind="mergesort")
    last = ordered.drop_duplicates(["record_uid_l", "record_uid_r"], keep="last")
    return last.sort_values(["record_uid_l", "record_uid_r"]).reset_index(drop=True)


def append_decision(
    path: Path,
    left: str,
    right: str,
    decision: str,
    reviewer: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Validate one decision and append it to the file (writing the header if new).

    Returns the row written. Raises :class:`DecisionFileError` for a bad decision,
    before anything is written.
    """
    row = {
        "record_uid_l": left.strip(),
        "record_uid_r": right.strip(),
        "decision": decision.strip(),
        "reviewer": reviewer.strip(),
        "reason": reason.strip(),
        "decided_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    bad = [f"{c} is empty" for c, v in row.items() if not v]
    if row["decision"] and row["decision"] not in DECISIONS:
        bad.append(f"decision {row['decision']!r} is not one of {', '.join(DECISIONS)}")
    if row["record_uid_l"] and row["record_uid_l"] == row["record_uid_r"]:
        bad.append("a record cannot be paired with itself")
    if bad:
        raise DecisionFileError(f"{path}: decision not recorded: {'; '.join(bad)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with path.open("a", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(DECISION_COLUMNS), lineterminator="\n")
        if new:
            w.writeheader()
        w.writerow(row)
    return row


def _pair_index(df: pd.DataFrame) -> pd.MultiIndex:
    left = df[["record_uid_l", "record_uid_r"]].min(axis=1)
    right = df[["record_uid_l", "record_uid_r"]].max(axis=1)
    return pd.MultiIndex.from_arrays([left, right])


def _pairs_among(frame: pd.DataFrame, pairs: pd.DataFrame) -> pd.Series:
    """Whether each row of ``frame`` is one of ``pairs`` (either order), as a boolean Series.

    Only rows whose ids both appear among ``pairs`` are compared as pairs: on the
    scored pairs of a large world (millions) with a few decisions, that is a few rows.
    """
    ids = pd.concat([pairs["record_uid_l"], pairs["record_uid_r"]])
    maybe = frame["record_uid_l"].isin(ids) & frame["record_uid_r"].isin(ids)
    hit = pd.Series(False, index=frame.index)
    if maybe.any():
        hit[maybe] = _pair_index(frame[maybe]).isin(_pair_index(pairs))
    return hit


def apply_decisions(
    edges: pd.DataFrame,
    decisions: pd.DataFrame,
    record_uids: pd.Series,
    threshold: float,
    uids: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Override the model's links with reviewers' decisions (before clustering).

    Parameters
    ----------
    edges
        Scored pairs: ``record_uid_l``, ``record_uid_r``, ``match_probability``.
    decisions
        Validated decisions (:func:`read_decisions`); the latest per pair is used.
    record_uids
        The records of this run: decisions naming other records are skipped.
    threshold
        Match probability at or above which the model links a pair.
    uids
        When given, ``edges`` name records by their position in this array of
        text ids (:func:`vrdp.linkage.run.link_records`'s integer ids) and so do
        the ``links`` and ``cannot_link`` returned; decisions name records by
        text either way, and ``applied`` keeps their text.

    Returns
    -------
    (links, cannot_link, applied)
        ``links``: the pairs to cluster (``record_uid_l``, ``record_uid_r``,
        ``match_probability``, ``forced``): the model's links at ``threshold``
        without the non-match pairs, plus the match pairs (probability 1, forced);
        ``cannot_link``: the non-match pairs; ``applied``: one row per decision
        with the model's probability (NaN when the pair was not scored), whether
        the model linked it and a ``status`` (``applied`` or
        ``skipped: record not in this run``). ``together_after`` is filled by
        :func:`constrained_clusters`'s caller.
    """
    cols = ["record_uid_l", "record_uid_r", "match_probability"]
    links = edges.loc[edges["match_probability"] >= threshold, cols]
    dec = latest_decisions(decisions)
    if dec.empty:
        empty = pd.DataFrame(columns=["record_uid_l", "record_uid_r"])
        applied = pd.DataFrame({c: pd.Series(dtype=object) for c in APPLIED_COLUMNS})
        return links.assign(forced=False), empty, applied
    known = set(record_uids.astype(str))
    present = dec["record_uid_l"].isin(known) & dec["record_uid_r"].isin(known)
    ids = dec
    if uids is not None:  # the decisions' records as the edges name them
        ids = dec.assign(
            record_uid_l=positions(dec["record_uid_l"], uids),
            record_uid_r=positions(dec["record_uid_r"], uids),
        )
        present &= ids["record_uid_l"].ge(0) & ids["record_uid_r"].ge(0)
    scored = edges[_pairs_among(edges, ids)]
    prob = pd.Series(scored["match_probability"].to_numpy(), index=_pair_index(scored))
    prob = prob[~prob.index.duplicated()]
    model_p = prob.reindex(_pair_index(ids)).to_numpy()
    applied = dec.assign(
        model_probability=model_p,
        model_linked=pd.Series(model_p >= threshold, index=dec.index),
        together_after=pd.NA,
        status=present.map({True: "applied", False: "skipped: record not in this run"}),
    )[list(APPLIED_COLUMNS)]
    live = ids[present]
    split = live[live["decision"] == "non-match"]
    join = live[live["decision"] == "match"]
    links = links[~_pairs_among(links, split)].assign(forced=False)
    forced = join[["record_uid_l", "record_uid_r"]].assign(match_probability=1.0, forced=True)
    links = pd.concat([forced, links], ignore_index=True)
    return (
        links,
        split[["record_uid_l", "record_uid_r"]].reset_index(drop=True),
        applied.reset_index(drop=True),
    )


class _Components:
    """Union-find that refuses a union joining two records that cannot link."""

    def __init__(self, cannot: dict[str, set[str]]):
        self.parent: dict[str, str] = {}
        self.members: dict[str, set[str]] = {}
        self.cannot = cannot

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        self.members.setdefault(x, {x})
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        small, big = sorted((ra, rb), key=lambda r: len(self.members[r]))
        big_members = self.members[big]
        if any(self.cannot.get(m, set()) & big_members for m in self.members[small]):
            return False
        self.parent[small] = big
        big_members |= self.members.pop(small)
        return True


def constrained_clusters(
    clusters: pd.DataFrame, links: pd.DataFrame, cannot_link: pd.DataFrame
) -> pd.DataFrame:
    """Split clusters that hold a non-match pair; other clusters are unchanged.

    Within an affected cluster, links are added strongest first (forced links,
    then by match probability; ties by record ids, so the result is
    deterministic), skipping any link that would put a non-match pair in one
    person. The parts are named by their smallest ``record_uid``.

    Parameters
    ----------
    clusters
        ``record_uid``, ``cluster_id`` from connected components over ``links``.
    links, cannot_link
        From :func:`apply_decisions`.

    Examples
    --------
    >>> cl = pd.DataFrame({"record_uid": list("abc"), "cluster_id": ["a"] * 3})
    >>> links = pd.DataFrame({"record_uid_l": ["a", "b"], "record_uid_r": ["b", "c"],
    ...     "match_probability": [0.99, 0.95], "forced": [False, False]})
    >>> nope = pd.DataFrame({"record_uid_l": ["a"], "record_uid_r": ["c"]})
    >>> constrained_clusters(cl, links, nope)["cluster_id"].tolist()
    ['a', 'a', 'c']
    """
    if cannot_link.empty:
        return clusters
    cid = clusters.set_index("record_uid")["cluster_id"]
    pairs = cannot_link[
        cannot_link["record_uid_l"].isin(cid.index) & cannot_link["record_uid_r"].isin(cid.index)
    ]
    same = (
        cid.reindex(pairs["record_uid_l"]).to_numpy()
        == cid.reindex(pairs["record_uid_r"]).to_numpy()
    )
    affected = set(cid.reindex(pairs.loc[same, "record_uid_l"]).tolist())
    if not affected:
        return clusters
    cannot: dict[str, set[str]] = {}
    for a, b in pairs[["record_uid_l", "record_uid_r"]].itertuples(index=False):
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)
    out = clusters.copy()
    inside = clusters["cluster_id"].isin(affected)
    members = clusters.loc[inside, "record_uid"]
    sub = links[links["record_uid_l"].isin(members) & links["record_uid_r"].isin(members)]
    sub = sub.sort_values(
        ["forced", "match_probability", "record_uid_l", "record_uid_r"],
        ascending=[False, False, True, True],
        kind="mergesort",
    )
    comps = _Components(cannot)
    for uid in members:
        comps.find(uid)
    for a, b in sub[["record_uid_l", "record_uid_r"]].itertuples(index=False):
        comps.union(a, b)
    name = {root: min(m) for root, m in comps.members.items()}
    out.loc[inside, "cluster_id"] = [name[comps.find(u)] for u in members]
    return out


def review_queue(
    edges: pd.DataFrame,
    records: pd.DataFrame,
    band: ReviewBand,
    threshold: float,
    decisions: pd.DataFrame,
    clusters: pd.DataFrame,
    evidence_columns: tuple[str, ...],
) -> pd.DataFrame:
    """Undecided pairs in the uncertain band, with both records' evidence side by side.

    Holds direct identifiers: write it only to the restricted ``identity`` schema.

    Returns
    -------
    pandas.DataFrame
        ``record_uid_l``, ``record_uid_r``, ``match_probability``, ``match_weight``
        (when scored), ``model_linked`` (at ``threshold``), ``linked_now`` (same
        person after clustering), then ``<column>_l`` and ``<column>_r`` for each
        evidence column; strongest pairs first.
    """
    in_band = edges[band.contains(edges["match_probability"])].copy()
    left = in_band[["record_uid_l", "record_uid_r"]].min(axis=1)
    right = in_band[["record_uid_l", "record_uid_r"]].max(axis=1)
    in_band["record_uid_l"], in_band["record_uid_r"] = left, right
    if not decisions.empty:
        decided = pd.MultiIndex.from_arrays([decisions["record_uid_l"], decisions["record_uid_r"]])
        in_band = in_band[~_pair_index(in_band).isin(decided)]
    keep = ["record_uid_l", "record_uid_r", "match_probability"] + (
        ["match_weight"] if "match_weight" in in_band else []
    )
    queue = in_band[keep].assign(model_linked=in_band["match_probability"] >= threshold)
    cid = clusters.set_index("record_uid")["cluster_id"]
    left, right = cid.reindex(queue["record_uid_l"]), cid.reindex(queue["record_uid_r"])
    queue["linked_now"] = left.to_numpy() == right.to_numpy()
    ev = records[["record_uid", *evidence_columns]].drop_duplicates("record_uid")
    for side in ("l", "r"):
        queue = queue.merge(
            ev.rename(columns={c: f"{c}_{side}" for c in ev.columns}),
            on=f"record_uid_{side}",
            how="left",
        )
    queue = queue.sort_values(
        ["match_probability", "record_uid_l", "record_uid_r"], ascending=[False, True, True]
    )
    return queue.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``add`` a decision, or ``check`` the decisions file."""
    parser = argparse.ArgumentParser(prog="python -m vrdp.linkage.review", description=__doc__)
    parser.add_argument("--file", type=Path, help="decisions file (default: under the data root)")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="append a decision")
    add.add_argument("--left", required=True)
    add.add_argument("--right", required=True)
    add.add_argument("--decision", required=True, choices=DECISIONS)
    add.add_argument("--reviewer", required=True)
    add.add_argument("--reason", required=True)
    sub.add_parser("check", help="validate the decisions file and count its decisions")
    args = parser.parse_args(argv)
    if args.file is None:
        from config.settings import settings

        args.file = decisions_path(settings().data_root)
    try:
        if args.command == "add":
            row = append_decision(
                args.file, args.left, args.right, args.decision, args.reviewer, args.reason
            )
            print(
                f"recorded in {args.file}: {row['decision']} {row['record_uid_l']} "
                f"{row['record_uid_r']} at {row['decided_at']}"
            )
        else:
            d = read_decisions(args.file)
            print(f"{args.file}: {len(d)} line(s), {len(latest_decisions(d))} pair(s), valid")
    except DecisionFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
