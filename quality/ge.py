"""Run a contract's expectations on a loaded batch with great-expectations.

great-expectations is the platform's data-quality library; it is called
directly (the dagster-ge integration only offers op factories) and imported
lazily because its import costs seconds. Each call uses an ephemeral context:
nothing is written to disk and no usage statistics are sent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from quality.contracts.base import Expectation

__all__ = ["ExpectationOutcome", "ValidationSummary", "validate_frame"]


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
    # GX cannot compare pandas' nullable string/boolean extension types reliably;
    # give it plain objects with None for missing values.
    plain = df.astype(object).where(df.notna(), None)
    result = validation.run(batch_parameters={"dataframe": plain}, result_format="BASIC")
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
