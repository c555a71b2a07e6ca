"""The lawful-basis inventory and the retention register, loaded from versioned YAML.

The registers are data under ``governance/`` at the repository root
(``lawful_basis.yaml``, ``retention.yaml``); these pure functions load and
check them, answer "may this source be loaded" and "on what bases does this
output rest", and render them as a transparency page.

>>> reg = load_register()
>>> require_source(reg, "police.nominals").retention
'police_nominal'
>>> try:
...     require_source(reg, "police.gang_matrix")
... except UnregisteredSourceError as exc:
...     print(str(exc)[:70])
source 'police.gang_matrix' has no entry in the lawful-basis register
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import REPO_ROOT

__all__ = [
    "GOVERNANCE_DIR",
    "LawfulBasis",
    "RetentionRule",
    "Register",
    "UnregisteredSourceError",
    "RegisterError",
    "load_register",
    "require_source",
    "refuse_unregistered",
    "bases_for",
    "render_markdown",
    "render_html",
]

GOVERNANCE_DIR = REPO_ROOT / "governance"
_BASIS_FIELDS = ("owner", "basis", "condition", "sharing", "dsa", "roles", "retention")


class UnregisteredSourceError(LookupError):
    """A source with no entry in the lawful-basis register (never loaded)."""


class RegisterError(ValueError):
    """A register file that is incomplete or inconsistent; the message says where."""


@dataclass(frozen=True)
class RetentionRule:
    """How long one data class is kept, from which clock, and what happens then."""

    name: str
    data_class: str
    group: str
    period_days: int
    clock: str
    action: str  # "delete" or "review"


@dataclass(frozen=True)
class LawfulBasis:
    """One source's entry in the lawful-basis inventory."""

    source: str
    owner: str
    basis: str
    condition: str
    sharing: str
    dsa: str
    roles: tuple[str, ...]
    retention: str
    restricted: bool = False
    exclusions: str | None = None

    def summary(self) -> dict:
        """The fields an export manifest or an API response carries."""
        out = {
            "source": self.source,
            "owner": self.owner,
            "basis": self.basis,
            "condition": self.condition,
            "dsa": self.dsa,
        }
        if self.exclusions:
            out["exclusions"] = self.exclusions
        return out


@dataclass(frozen=True)
class Register:
    """Both registers, with their versions."""

    version: int
    updated: str
    controller_contact: str
    sources: dict[str, LawfulBasis]
    outputs: dict[str, tuple[str, ...]]
    retention_version: int
    rules: dict[str, RetentionRule]
    derived: dict[str, str] = field(default_factory=dict)
    path: Path = GOVERNANCE_DIR


def _rules(doc: dict, where: Path) -> dict[str, RetentionRule]:
    rules = {}
    for name, r in (doc.get("rules") or {}).items():
        missing = [
            k for k in ("data_class", "group", "period_days", "clock", "action") if k not in r
        ]
        if missing:
            raise RegisterError(f"{where}: rule {name!r} lacks {', '.join(missing)}")
        if r["action"] not in ("delete", "review"):
            raise RegisterError(f"{where}: rule {name!r} action must be delete or review")
        rules[name] = RetentionRule(
            name, r["data_class"], r["group"], int(r["period_days"]), r["clock"], r["action"]
        )
    return rules


def load_register(folder: str | Path = GOVERNANCE_DIR) -> Register:
    """Read and check ``lawful_basis.yaml`` and ``retention.yaml`` in ``folder``.

    Raises
    ------
    RegisterError
        When an entry lacks a field, names an unknown retention rule, or an
        output names an unregistered source.
    """
    import yaml

    folder = Path(folder)
    basis_path, retention_path = folder / "lawful_basis.yaml", folder / "retention.yaml"
    doc = yaml.safe_load(basis_path.read_text()) or {}
    ret = yaml.safe_load(retention_path.read_text()) or {}
    rules = _rules(ret, retention_path)
    sources = {}
    for name, e in (doc.get("sources") or {}).items():
        missing = [k for k in _BASIS_FIELDS if not e.get(k)]
        if missing:
            raise RegisterError(f"{basis_path}: source {name!r} lacks {', '.join(missing)}")
        if e["retention"] not in rules:
            raise RegisterError(
                f"{basis_path}: source {name!r} names retention rule {e['retention']!r}, "
                f"not in {retention_path.name}"
            )
        sources[name] = LawfulBasis(
            name,
            e["owner"],
            e["basis"],
            e["condition"],
            e["sharing"],
            e["dsa"],
            tuple(e["roles"]),
            e["retention"],
            bool(e.get("restricted", False)),
            e.get("exclusions"),
        )
    outputs = {k: tuple(v) for k, v in (doc.get("outputs") or {}).items()}
    for out, used in outputs.items():
        unknown = [s for s in used if s not in sources]
        if unknown:
            raise RegisterError(f"{basis_path}: output {out!r} uses unregistered {unknown}")
    derived = dict(ret.get("derived") or {})
    for table, rule in derived.items():
        if rule not in rules:
            raise RegisterError(f"{retention_path}: {table!r} names unknown rule {rule!r}")
    return Register(
        int(doc.get("version", 0)),
        str(doc.get("updated", "")),
        str(doc.get("controller_contact", "")),
        sources,
        outputs,
        int(ret.get("version", 0)),
        rules,
        derived,
        folder,
    )


def require_source(register: Register, source: str) -> LawfulBasis:
    """The entry of ``source``, or :class:`UnregisteredSourceError` naming it."""
    try:
        return register.sources[source]
    except KeyError:
        raise UnregisteredSourceError(
            f"source {source!r} has no entry in the lawful-basis register "
            f"(governance/lawful_basis.yaml, version {register.version}): record its owner, "
            "lawful basis and condition, data-sharing agreement, roles and retention rule "
            "before loading it"
        ) from None


def refuse_unregistered(source: str, folder: str | Path | None = None) -> LawfulBasis:
    """What a source asset calls before loading: the entry, or a clear refusal.

    Reads the register now, from ``folder`` or ``VRDP_GOVERNANCE_DIR`` (a new
    entry takes effect on the next run, no restart).
    """
    if folder is None:
        from config.settings import settings

        folder = settings().governance_dir
    return require_source(load_register(folder), source)


def bases_for(register: Register, output: str) -> dict:
    """What an output's manifest or API response says about its lawful bases.

    >>> b = bases_for(load_register(), "persons_safeguarding")
    >>> b["register_version"] >= 1, [s["source"] for s in b["sources"]][:2]
    (True, ['police.nominals', 'police.occurrence_nominals'])
    """
    if output not in register.outputs:
        raise UnregisteredSourceError(f"output {output!r} is not in the lawful-basis register")
    return {
        "register_version": register.version,
        "sources": [register.sources[s].summary() for s in register.outputs[output]],
    }


def _rows(register: Register) -> list[dict]:
    rows = []
    for s in sorted(register.sources.values(), key=lambda s: s.source):
        rule = register.rules[s.retention]
        rows.append(
            {
                "Source": s.source,
                "Owner": s.owner,
                "Lawful basis": s.basis,
                "Condition": s.condition,
                "Shared under": s.sharing,
                "Agreement": s.dsa,
                "Who may see records": ", ".join(s.roles),
                "Kept": f"{rule.period_days} days from {rule.clock}, then {rule.action} "
                f"({rule.group})",
                "Personal data restricted": "yes" if s.restricted else "no",
                "Exclusions": s.exclusions or "",
            }
        )
    return rows


_INTRO = (
    "This page lists every source of data the violence reduction data platform "
    "loads: who owns it, the law that allows its use, the agreement under which it "
    "is shared, who may see individual records, and how long it is kept. Outputs "
    "shared with partners show counts only, and counts under 5 are suppressed."
)


def render_markdown(register: Register) -> str:
    """The transparency page as Markdown (one table row per source)."""
    rows = _rows(register)
    cols = list(rows[0]) if rows else []
    out = [
        "# What data we use and why",
        "",
        _INTRO,
        "",
        f"Lawful-basis register version {register.version} ({register.updated}); "
        f"retention register version {register.retention_version}. "
        f"Questions: {register.controller_contact}.",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for r in rows:
        out.append("| " + " | ".join(str(r[c]).replace("|", "/") for c in cols) + " |")
    out += ["", "## Retention rules", "", "| Rule | Data | Group | Days | Clock | Then |"]
    out.append("|---|---|---|---|---|---|")
    for r in register.rules.values():
        out.append(
            f"| {r.name} | {r.data_class} | {r.group} | {r.period_days} | {r.clock} | {r.action} |"
        )
    return "\n".join(out) + "\n"


def render_html(register: Register) -> str:
    """The transparency page as a self-contained HTML document (no scripts)."""
    rows = _rows(register)
    cols = list(rows[0]) if rows else []
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(r[c]))}</td>" for c in cols) + "</tr>" for r in rows
    )
    rules = "".join(
        f"<tr><td>{e(r.name)}</td><td>{e(r.data_class)}</td><td>{e(r.group)}</td>"
        f"<td>{r.period_days}</td><td>{e(r.clock)}</td><td>{e(r.action)}</td></tr>"
        for r in register.rules.values()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>What data we use and why</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em;"
        "vertical-align:top;font-size:.9em}th{background:#eee}</style></head><body>"
        f"<h1>What data we use and why</h1><p>{e(_INTRO)}</p>"
        f"<p>Lawful-basis register version {register.version} ({e(register.updated)}); "
        f"retention register version {register.retention_version}. "
        f"Questions: {e(register.controller_contact)}.</p>"
        f'<table id="sources"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        '<h2>Retention rules</h2><table id="retention"><thead><tr><th>Rule</th><th>Data</th>'
        "<th>Group</th><th>Days</th><th>Clock</th><th>Then</th></tr></thead>"
        f"<tbody>{rules}</tbody></table></body></html>\n"
    )
