"""Evaluation of hot spot patrol trials: ITT table, effects, displacement, power, ROI."""

from vrdp.evaluation.displacement import displacement_counts, wdd, wdq
from vrdp.evaluation.effects import difference_in_differences, harm_rate_ratio, nb_irr
from vrdp.evaluation.itt import events_to_unit_days, itt_table
from vrdp.evaluation.power import (
    power_count_outcome,
    return_on_investment,
    sample_size_count_outcome,
)

__all__ = [
    "difference_in_differences",
    "displacement_counts",
    "events_to_unit_days",
    "harm_rate_ratio",
    "itt_table",
    "nb_irr",
    "power_count_outcome",
    "return_on_investment",
    "sample_size_count_outcome",
    "wdd",
    "wdq",
]
