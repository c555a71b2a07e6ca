"""Daily patrol tasking, trial randomisation (an immutable audit record) and briefings."""

from vrdp.tasking.briefing import briefing
from vrdp.tasking.randomise import (
    AllocationLockedError,
    allocation_digest,
    amend_allocation,
    balance_table,
    randomise,
)
from vrdp.tasking.tasking import daily_tasking

__all__ = [
    "AllocationLockedError",
    "allocation_digest",
    "amend_allocation",
    "balance_table",
    "briefing",
    "daily_tasking",
    "randomise",
]
