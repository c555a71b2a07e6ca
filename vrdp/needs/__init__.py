"""Area-level need: community report context, rates with confidence intervals, suppression.

Population-level only: functions here take counts and places, never people.
"""
