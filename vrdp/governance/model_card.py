"""Model cards: what each model output is, what it used, how well it does, its limits.

Every model output (hot spot forecast, risk terrain model, person linkage,
and any early-warning or cohort model) gets a card written beside it by the
asset that makes it: ``<output>.model_card.json`` (machine-readable) and
``<output>.model_card.md`` (for people). A card names its inputs, the fields
it deliberately leaves out (personal data, protected characteristics), its
parameters and seed, training window, accuracy figures with how they were
measured, known limits and an owner who answers for it.

>>> import tempfile
>>> out = Path(tempfile.mkdtemp()) / "forecast.parquet"
>>> card = ModelCard("hot spot forecast", inputs=["street crimes"], owner="VRU analysts",
...     excluded_fields=["names", "ethnicity"], parameters={"bandwidth_m": 400},
...     training_window="2025-01..2025-06", accuracy={"pai_at_5pct": 7.1},
...     known_limits=["recorded crime only"])
>>> paths = write_model_card(card, out)
>>> [p.name for p in paths]
['forecast.model_card.json', 'forecast.model_card.md']
>>> read_model_card(out)["owner"]
'VRU analysts'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "ModelCard",
    "write_model_card",
    "read_model_card",
    "render_model_card",
    "card_paths",
    "REQUIRED",
]

#: fields a card must fill in (a card missing one is refused)
REQUIRED = ("name", "inputs", "excluded_fields", "parameters", "known_limits", "owner")


@dataclass
class ModelCard:
    """One model output's card. ``accuracy`` holds figures with self-explaining keys."""

    name: str
    inputs: list[str]
    owner: str
    excluded_fields: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    training_window: str = "not applicable"
    accuracy: dict = field(default_factory=dict)
    accuracy_method: str = ""
    known_limits: list[str] = field(default_factory=list)
    intended_use: str = ""
    not_for: str = "decisions about an individual person on the model's output alone"

    def check(self) -> None:
        """Raise ``ValueError`` naming any required field left empty."""
        empty = [k for k in REQUIRED if not getattr(self, k)]
        if empty:
            raise ValueError(f"model card {self.name!r} lacks {', '.join(empty)}")


def card_paths(output: str | Path) -> tuple[Path, Path]:
    """The card files beside an output (a file or a folder)."""
    output = Path(output)
    stem = output.name if output.is_dir() else output.stem
    return (
        output.with_name(f"{stem}.model_card.json"),
        output.with_name(f"{stem}.model_card.md"),
    )


def _md(card: ModelCard, output: Path) -> str:
    lines = [f"# Model card: {card.name}", "", f"Output: `{output.name}`", ""]
    if card.intended_use:
        lines += [f"**Intended use.** {card.intended_use}", ""]
    lines += [f"**Not for.** {card.not_for}", "", f"**Owner.** {card.owner}", ""]
    lines += ["## Inputs", "", *(f"- {i}" for i in card.inputs), ""]
    lines += ["## Fields left out", "", *(f"- {i}" for i in card.excluded_fields), ""]
    lines += ["## Parameters", ""]
    lines += [f"- `{k}`: {v}" for k, v in card.parameters.items()] + [""]
    lines += [f"**Training window.** {card.training_window}", "", "## Accuracy", ""]
    lines += [f"- `{k}`: {v}" for k, v in card.accuracy.items()] or ["- not measured"]
    if card.accuracy_method:
        lines += ["", card.accuracy_method]
    lines += ["", "## Known limits", "", *(f"- {i}" for i in card.known_limits), ""]
    return "\n".join(lines)


def render_model_card(card: ModelCard, output: str | Path) -> tuple[str, str]:
    """The card's JSON and Markdown text for ``output`` (for cards published in an export).

    >>> js, md = render_model_card(ModelCard("m", ["x"], "me", ["names"], {"k": 1},
    ...     known_limits=["small"]), "out.parquet")
    >>> json.loads(js)["owner"], md.splitlines()[0]
    ('me', '# Model card: m')
    """
    card.check()
    text = json.dumps(asdict(card), indent=1, sort_keys=True, default=str) + "\n"
    return text, _md(card, Path(output))


def write_model_card(card: ModelCard, output: str | Path) -> tuple[Path, Path]:
    """Write the card beside ``output`` (JSON and Markdown); returns both paths."""
    output = Path(output)
    text, page = render_model_card(card, output)
    js, md = card_paths(output)
    js.parent.mkdir(parents=True, exist_ok=True)
    js.write_text(text)
    md.write_text(page)
    return js, md


def read_model_card(output: str | Path) -> dict:
    """The JSON card beside ``output``."""
    return json.loads(card_paths(output)[0].read_text())
