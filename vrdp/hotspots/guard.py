"""Feedback-loop guard: keep police-generated offences out of hot spot selection.

Offences found mostly by police activity (drugs, possession of weapons; the
``is_police_generated`` flag of the ``police_uk_crime_types`` seed) measure
where police looked, not where harm happened. Selecting hot spots on them
sends patrols back to where patrols already were. They are excluded by
default, and the choice is returned as a record to store with the output.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["apply_feedback_guard"]


def apply_feedback_guard(
    events: pd.DataFrame,
    crime_types: pd.DataFrame,
    *,
    exclude_police_generated: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Drop police-generated offences (by default) and say what was done.

    Parameters
    ----------
    events
        Events with a ``crime_type`` column.
    crime_types
        The seed: ``crime_type``, ``is_police_generated``.
    exclude_police_generated
        Set ``False`` to keep them (the record then says so).

    Returns
    -------
    kept, record
        ``record`` has ``exclude_police_generated``, ``police_generated_crime_types``
        (sorted), ``events_in``, ``events_excluded``.

    Examples
    --------
    >>> ev = pd.DataFrame({"crime_type": ["Drugs", "Robbery", "Possession of weapons"]})
    >>> seed = pd.DataFrame({"crime_type": ["Drugs", "Robbery", "Possession of weapons"],
    ...                      "is_police_generated": [True, False, True]})
    >>> kept, rec = apply_feedback_guard(ev, seed)
    >>> kept["crime_type"].tolist(), rec["events_excluded"]
    (['Robbery'], 2)
    """
    flag = crime_types["is_police_generated"]
    if not pd.api.types.is_bool_dtype(flag):
        flag = flag.astype(str).str.strip().str.lower().isin(["true", "1", "t", "yes"])
    generated = sorted(crime_types.loc[flag.astype(bool).to_numpy(), "crime_type"])
    is_gen = events["crime_type"].isin(generated)
    kept = events[~is_gen] if exclude_police_generated else events
    record = {
        "exclude_police_generated": bool(exclude_police_generated),
        "police_generated_crime_types": generated,
        "events_in": len(events),
        "events_excluded": int(is_gen.sum()) if exclude_police_generated else 0,
    }
    return kept, record
