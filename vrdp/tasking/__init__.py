"""Daily patrol tasking, trial randomisation (an immutable audit record) and briefings."""

from vrdp.tasking.briefing import briefing, risk_factors_at
from vrdp.tasking.cohort import choose_cohort, matched_pair_blocks, risk_weighted_draw
from vrdp.tasking.places import place_names
from vrdp.tasking.randomise import (
    AllocationLockedError,
    allocation_digest,
    amend_allocation,
    balance_table,
    randomise,
)
from vrdp.tasking.tasking import daily_tasking
from vrdp.tasking.teams import assign_teams, parse_shift_pattern, shift_for_windows

__all__ = [
    "AllocationLockedError",
    "allocation_digest",
    "assign_teams",
    "amend_allocation",
    "balance_table",
    "briefing",
    "choose_cohort",
    "daily_tasking",
    "matched_pair_blocks",
    "parse_shift_pattern",
    "place_names",
    "randomise",
    "risk_weighted_draw",
    "risk_factors_at",
    "shift_for_windows",
]
