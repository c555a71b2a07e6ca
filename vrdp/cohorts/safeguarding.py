"""Safeguarding opportunities: people known to several agencies, listed by versioned rules.

Rules are YAML (``vrdp/cohorts/rules/safeguarding_rules_v<N>.yaml``): each has an
``id``, the ``text`` a practitioner reads, and ``all`` conditions:

- ``event``: the person has events matching ``role`` (list), ``source`` (list of
  source systems), ``violence`` (bool), ``child`` (bool: under 18 at the event),
  ``within_days`` of the as-of date, at least ``min_count`` times (default 1);
- ``known_to``: an agency (police, social_care, probation, nhs);
- ``flag``: a true boolean column of ``marts.dim_persons``.

A person is listed when known to ``min_agencies`` or more agencies, with any event
in the last ``recent_days``, and meeting one rule or more; the list names every
rule they meet, in words. The as-of date is the latest event in the data, never
the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vrdp.keys import isin

__all__ = [
    "EVENT_COLUMNS",
    "RULES_DIR",
    "RuleSet",
    "load_rules",
    "list_rule_versions",
    "safeguarding_opportunities",
    "REVIEW_STATUSES",
    "validate_review",
    "current_reviews",
]

RULES_DIR = Path(__file__).resolve().parent / "rules"
#: The person-event columns :func:`safeguarding_opportunities` reads.
EVENT_COLUMNS = (
    "person_key",
    "event_key",
    "occurred_on",
    "role",
    "source_system",
    "is_violence",
    "is_child_at_event",
)
_CONDITIONS = {"event", "known_to", "flag"}
_EVENT_KEYS = {"role", "source", "violence", "child", "within_days", "min_count"}


@dataclass(frozen=True)
class RuleSet:
    """One version of the rules."""

    version: int
    min_agencies: int
    recent_days: int
    rules: tuple[dict, ...]
    path: str

    def listing(self) -> list[dict]:
        """The rules as practitioners read them: id, words, version."""
        return [{"id": r["id"], "text": r["text"], "version": self.version} for r in self.rules]


def list_rule_versions(rules_dir: Path = RULES_DIR) -> list[int]:
    """Versions of the rules shipped, oldest first."""
    out = []
    for p in rules_dir.glob("safeguarding_rules_v*.yaml"):
        out.append(int(p.stem.rsplit("_v", 1)[1]))
    return sorted(out)


def load_rules(version: int | None = None, rules_dir: Path = RULES_DIR) -> RuleSet:
    """Read and check one version of the rules (the newest by default).

    Raises
    ------
    ValueError
        For a rule without id or text, an unknown condition or event key, or a
        file whose ``version`` differs from its name.
    """
    import yaml

    versions = list_rule_versions(rules_dir)
    if not versions:
        raise ValueError(f"no safeguarding rules in {rules_dir}")
    v = versions[-1] if version is None else version
    path = rules_dir / f"safeguarding_rules_v{v}.yaml"
    doc = yaml.safe_load(path.read_text())
    if doc.get("version") != v:
        raise ValueError(f"{path.name}: version {doc.get('version')!r} differs from its name")
    seen = set()
    for r in doc["rules"]:
        if not r.get("id") or not r.get("text") or not r.get("all"):
            raise ValueError(f"{path.name}: every rule needs id, text and all: {r}")
        if r["id"] in seen:
            raise ValueError(f"{path.name}: rule id {r['id']!r} twice")
        seen.add(r["id"])
        for cond in r["all"]:
            (kind,) = cond.keys()
            if kind not in _CONDITIONS:
                raise ValueError(f"{path.name}: rule {r['id']}: unknown condition {kind!r}")
            if kind == "event" and set(cond["event"]) - _EVENT_KEYS:
                bad = set(cond["event"]) - _EVENT_KEYS
                raise ValueError(f"{path.name}: rule {r['id']}: unknown event keys {bad}")
    return RuleSet(
        v, int(doc["min_agencies"]), int(doc["recent_days"]), tuple(doc["rules"]), str(path)
    )


def _event_hits(events: pd.DataFrame, cond: dict, as_of: pd.Timestamp) -> pd.Series:
    """Person keys meeting an ``event`` condition (a boolean per person key)."""
    sel = pd.Series(True, index=events.index)
    if "role" in cond:
        sel &= events["role"].isin(cond["role"])
    if "source" in cond:
        sel &= events["source_system"].isin(cond["source"])
    if "violence" in cond:
        sel &= events["is_violence"].fillna(False).astype(bool) == bool(cond["violence"])
    if "child" in cond:
        sel &= events["is_child_at_event"].fillna(False).astype(bool) == bool(cond["child"])
    if "within_days" in cond:
        start = as_of - pd.Timedelta(days=int(cond["within_days"]))
        sel &= (events["occurred_on"] > start) & (events["occurred_on"] <= as_of)
    n = events.loc[sel].groupby("person_key")["event_key"].nunique()
    return n >= int(cond.get("min_count", 1))


def safeguarding_opportunities(
    persons: pd.DataFrame,
    person_events: pd.DataFrame,
    rules: RuleSet,
    *,
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """People known to several agencies with a recent event, and the rules that list them.

    Parameters
    ----------
    persons : pandas.DataFrame
        ``marts.dim_persons`` (``person_key``, ``agency_count``, ``agencies_known_to``,
        ``is_known_to_<agency>`` and any flag a rule names).
    person_events : pandas.DataFrame
        One row per person, event and role: ``person_key``, ``event_key``, ``role``,
        ``source_system``, ``occurred_on``, ``is_violence``, ``is_child_at_event``
    rules : RuleSet
    as_of : date-like, optional
        Default: the latest ``occurred_on``.

    Returns
    -------
    pandas.DataFrame
        One row per listed person: ``person_key``, ``agencies_known_to``,
        ``agency_count``, ``last_event_on``, ``rule_ids`` ("|"-joined),
        ``reasons`` (the rules' words, "; "-joined), ``rules_version``, ``as_of``.
    """
    cols = ["person_key", "agencies_known_to", "agency_count", "last_event_on"]
    cols += ["rule_ids", "reasons", "rules_version", "as_of"]
    ev = person_events.copy()
    ev["occurred_on"] = pd.to_datetime(ev["occurred_on"])
    if ev.empty:
        return pd.DataFrame(columns=cols)
    end = pd.Timestamp(as_of) if as_of is not None else ev["occurred_on"].max()
    ev = ev[ev["occurred_on"] <= end]
    recent = ev[ev["occurred_on"] > end - pd.Timedelta(days=rules.recent_days)]
    last = ev.groupby("person_key")["occurred_on"].max()
    base = persons[
        (persons["agency_count"] >= rules.min_agencies)
        & isin(persons["person_key"], recent["person_key"])
    ].set_index("person_key")
    matched: dict[str, list[str]] = {}
    for rule in rules.rules:
        ok = pd.Series(True, index=base.index)
        for cond in rule["all"]:
            ((kind, arg),) = cond.items()
            if kind == "event":
                hit = _event_hits(ev, arg, end)
                ok &= hit.reindex(base.index, fill_value=False)
            elif kind == "known_to":
                ok &= base[f"is_known_to_{arg}"].fillna(False).astype(bool)
            else:
                ok &= base[arg].fillna(False).astype(bool)
        for k in base.index[ok]:
            matched.setdefault(k, []).append(rule["id"])
    text = {r["id"]: r["text"] for r in rules.rules}
    rows = [
        {
            "person_key": k,
            "agencies_known_to": base.at[k, "agencies_known_to"],
            "agency_count": int(base.at[k, "agency_count"]),
            "last_event_on": last[k].date(),
            "rule_ids": "|".join(ids),
            "reasons": "; ".join(text[i] for i in ids),
            "rules_version": rules.version,
            "as_of": end.date(),
        }
        for k, ids in sorted(matched.items())
    ]
    return pd.DataFrame(rows, columns=cols)


#: What a reviewer can record; "no_action" needs a reason.
REVIEW_STATUSES = ("seen", "action_taken", "no_action")


def validate_review(decision: dict) -> list[str]:
    """Problems with a review decision (empty when valid).

    >>> validate_review({"person_key": "k", "status": "no_action", "reason": ""})
    ['no_action needs a reason']
    >>> validate_review({"person_key": "k", "status": "seen"})
    []
    """
    out = []
    if not decision.get("person_key"):
        out.append("person_key is required")
    status = decision.get("status")
    if status not in REVIEW_STATUSES:
        out.append(f"status must be one of {', '.join(REVIEW_STATUSES)}")
    reason = (decision.get("reason") or "").strip()
    if status == "no_action" and len(reason) < 5:
        out.append("no_action needs a reason")
    return out


def current_reviews(decisions: list[dict]) -> dict[str, dict]:
    """The latest decision per person (decisions in the order they were recorded).

    >>> current_reviews([{"person_key": "a", "status": "seen"},
    ...                  {"person_key": "a", "status": "action_taken"}])["a"]["status"]
    'action_taken'
    """
    out: dict[str, dict] = {}
    for d in decisions:
        if d.get("person_key"):
            out[d["person_key"]] = d
    return out
