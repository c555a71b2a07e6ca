"""Run a contract's expectations on a loaded batch with great-expectations.

great-expectations is the platform's data-quality library; it is called
directly (the dagster-ge integration only offers op factories) and imported
lazily because its import costs seconds. Each call uses an ephemeral context:
nothing is written to disk and no usage statistics are sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from quality.contracts.base import Expectation

__all__ = ["ExpectationOutcome", "ValidationSummary", "validate_frame", "validate_frames"]


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result."""

    type: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None


@dataclass(frozen=True)
class ValidationSummary:
    """A suite's result, flattened for Dagster metadata."""

    success: bool
    evaluated: int
    failed: int
    outcomes: tuple[ExpectationOutcome, ...]

    def as_metadata(self) -> dict:
        """Figures and a per-expectation table for an asset check's metadata."""
        return {
            "expectations_evaluated": self.evaluated,
            "expectations_failed": self.failed,
            "results": [
                {
                    "expectation": o.type,
                    "column": o.column,
                    "success": o.success,
                    "unexpected_count": o.unexpected_count,
                }
                for o in self.outcomes
            ],
        }


def validate_frame(
    df: pd.DataFrame, expectations: list[Expectation], name: str
) -> ValidationSummary:
    """Validate ``df`` against ``expectations`` in an ephemeral GX context.

    Parameters
    ----------
    df
        The loaded batch.
    expectations
        From :meth:`quality.contracts.base.Contract.expectations` (or hand-written).
    name
        Suite name, e.g. the source name.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas(f"{name}_source")
        .add_dataframe_asset(f"{name}_batch")
        .add_batch_definition_whole_dataframe(f"{name}_whole")
    )
    suite = gx.ExpectationSuite(name=f"{name}_contract")
    for e in expectations:
        suite.add_expectation(getattr(gx.expectations, e.type)(**e.kwargs))
    suite = context.suites.add(suite)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{name}_validation", data=batch_definition, suite=suite)
    )
    result = validation.run(
        batch_parameters={"dataframe": _plain(df, _columns_read(expectations))},
        result_format="BASIC",
    )
    outcomes = tuple(
        ExpectationOutcome(
            type=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=r.result.get("unexpected_count"),
            unexpected_percent=r.result.get("unexpected_percent"),
        )
        for r in result.results
    )
    return ValidationSummary(
        success=bool(result.success),
        evaluated=len(outcomes),
        failed=sum(not o.success for o in outcomes),
        outcomes=outcomes,
    )


def _columns_read(expectations: list[Expectation]) -> set[str]:
    """The columns whose values the expectations read.

    Every ``column...`` argument (``column``, ``column_list``, ``column_A`` ...)
    but ``column_set``, which lists the table's column names.

    >>> from quality.contracts.base import Expectation
    >>> sorted(_columns_read([Expectation("ExpectColumnValuesToNotBeNull", {"column": "a"}),
    ...     Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["b", "c"]}),
    ...     Expectation("ExpectTableColumnsToMatchSet", {"column_set": ["a", "b", "c", "d"]})]))
    ['a', 'b', 'c']
    """
    read: set[str] = set()
    for e in expectations:
        for name, value in e.kwargs.items():
            if name.startswith("column") and name != "column_set":
                read.update([value] if isinstance(value, str) else value)
    return read


def _plain(df: pd.DataFrame, read: set[str] | None = None) -> pd.DataFrame:
    """``df`` as GX compares it reliably.

    GX cannot compare pandas' string, boolean and nullable extension types
    reliably: those of the columns whose values an expectation reads (``read``;
    None: every column) become plain objects with None for missing values.
    NumPy numeric and datetime columns are kept (GX reads NaN and NaT as missing);
    converting them too made validation about twice as slow on GPS deliveries.
    The other columns are passed as they are (GX reads only their names), and no
    column is copied that is not converted: a new frame of every column took 2.4
    of the 4 s this took on 50 of the large world's GPS days.
    """
    out = df.copy(deep=False)
    for c, s in df.items():
        if (read is None or c in read) and not (
            isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiumM"
        ):
            out[c] = s.astype(object).where(s.notna(), None)
    return out


#: Expectations decided row by row (or by the columns' names), so that one suite
#: passing on a stack of batches with the same columns means it passes on each.
_ROW_WISE = frozenset(
    {
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeInSet",
        "ExpectColumnValuesToBeBetween",
        "ExpectTableColumnsToMatchSet",
        "ExpectCompoundColumnsToBeUnique",  # made per batch with the ``by`` column
    }
)


def validate_frames(
    frames: Mapping[str, pd.DataFrame],
    expectations: list[Expectation],
    name: str,
    *,
    by: str,
) -> dict[str, ValidationSummary]:
    """Each frame's :func:`validate_frame` result, in one GX validation when that is exact.

    A range run validates many deliveries of one source; each GX validation has
    a fixed cost of about a tenth of a second. When every frame has the same
    columns and dtypes, carries its own key in column ``by``, and every
    expectation is decided row by row (no ``mostly``), the suite runs once on the
    stacked frames, with compound uniqueness taken within each frame (``by``
    added to its columns). If that passes, every frame passes with no unexpected
    value, which is its result; if it fails, each frame is validated on its own,
    so a failing delivery's figures are its own.

    >>> from quality.contracts.base import Expectation
    >>> frames = {d: pd.DataFrame({"delivery": [d, d], "ref": ["a", "b"]}) for d in "xy"}
    >>> unique = [Expectation("ExpectCompoundColumnsToBeUnique", {"column_list": ["ref"]})]
    >>> {d: s.success for d, s in validate_frames(frames, unique, "doc", by="delivery").items()}
    {'x': True, 'y': True}
    """
    first = next(iter(frames.values()), None)
    batchable = (
        len(frames) > 1
        and all(e.type in _ROW_WISE and "mostly" not in e.kwargs for e in expectations)
        and all(
            by in f.columns
            and list(f.columns) == list(first.columns)
            and list(f.dtypes) == list(first.dtypes)
            for f in frames.values()
        )
    )
    if batchable:
        stacked = [
            Expectation(e.type, {**e.kwargs, "column_list": [by, *e.kwargs["column_list"]]})
            if e.type == "ExpectCompoundColumnsToBeUnique"
            else e
            for e in expectations
        ]
        summary = validate_frame(pd.concat(frames.values(), ignore_index=True), stacked, name)
        if summary.success:
            each = replace(
                summary,
                outcomes=tuple(
                    replace(
                        o,
                        unexpected_count=None if o.unexpected_count is None else 0,
                        unexpected_percent=None if o.unexpected_percent is None else 0.0,
                    )
                    for o in summary.outcomes
                ),
            )
            return {k: each for k in frames}
    return {k: validate_frame(f, expectations, name) for k, f in frames.items()}
