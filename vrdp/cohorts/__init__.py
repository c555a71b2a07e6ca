"""Person-level partnership work: safeguarding opportunities, timelines, early-intervention cohorts.

Restricted: everything here is for the safeguarding role. Victimisation and
offending are always kept apart (never one score).
"""
