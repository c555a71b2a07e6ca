"""Naive local wall-clock times from landing files to UTC, with the clock changes handled.

GPS and app activity files carry local time without a zone. Durations and
overlaps are computed in UTC (a 12-minute visit across the October fall-back
hour is 12 minutes, not 72); dates and reports use the local wall clock.

Europe/London has two awkward hours a year:

* **October fall-back** (last Sunday, 02:00 BST -> 01:00 GMT): wall-clock times
  from 01:00:00 to 01:59:59 happen twice. A device writes its records in the
  order it makes them, so within one device (``groups``) a record is the second
  pass (GMT) once an earlier record of the same device showed a later wall-clock
  time (the clock went back); before that it is the first pass (BST). A device
  whose records show no backward step (e.g. it logged only during one of the two
  hours) is read as the first pass, and the count of such records is reported.
* **March gap** (last Sunday, 01:00 GMT -> 02:00 BST): wall-clock times from
  01:00:00 to 01:59:59 never happen. A record in the gap comes from a clock that
  had not yet moved forward, so it is read with the offset before the change
  (GMT): 01:30 is 01:30 UTC, i.e. 02:30 BST. A continuous track stays continuous.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["LONDON", "ClockReport", "local_to_utc", "utc_to_local"]

LONDON = "Europe/London"


@dataclass(frozen=True)
class ClockReport:
    """What :func:`local_to_utc` had to decide.

    Attributes
    ----------
    rows : int
        Timestamps read (not null).
    ambiguous : int
        Wall-clock times in a fall-back hour.
    ambiguous_second_pass : int
        Of those, read as the second pass (standard time) because the device's
        clock was seen to go back.
    ambiguous_assumed_first : int
        Ambiguous times of devices whose clock was never seen to go back: read as
        the first pass (summer time), an assumption.
    nonexistent : int
        Wall-clock times in a spring-forward gap, read with the offset before it.
    already_zoned : bool
        The input carried a zone and was only converted to UTC.
    """

    rows: int
    ambiguous: int
    ambiguous_second_pass: int
    ambiguous_assumed_first: int
    nonexistent: int
    already_zoned: bool

    def as_dict(self) -> dict:
        """Plain dict (for run metadata)."""
        return asdict(self)


def local_to_utc(
    ts: pd.Series,
    tz: str = LONDON,
    *,
    groups: pd.Series | None = None,
) -> tuple[pd.Series, ClockReport]:
    """Read naive local wall-clock times as ``tz`` and return them in UTC.

    Parameters
    ----------
    ts
        Timestamps (naive local wall clock, or strings). Tz-aware input is only
        converted to UTC.
    tz
        IANA zone of the wall clock (``Europe/London`` by default).
    groups
        The device or officer of each row, aligned with ``ts``; rows must be in
        the order the device wrote them (file order). Without groups the whole
        series is one device.

    Returns
    -------
    utc : pandas.Series
        Tz-aware UTC timestamps, same index as ``ts`` (NaT stays NaT).
    report : ClockReport
        Counts of ambiguous and nonexistent wall-clock times and how each was read.

    Examples
    --------
    One device through the October 2025 fall-back: 01:30 twice, then 01:10 again.

    >>> t = pd.Series(pd.to_datetime(["2025-10-26 00:50", "2025-10-26 01:30",
    ...                               "2025-10-26 01:10", "2025-10-26 01:40"]))
    >>> utc, rep = local_to_utc(t)
    >>> utc.dt.strftime("%H:%M").tolist(), rep.ambiguous, rep.ambiguous_second_pass
    (['23:50', '00:30', '01:10', '01:40'], 3, 2)

    The March 2025 gap: 01:30 never happens on the wall clock; it is read as GMT.

    >>> utc, rep = local_to_utc(pd.Series(pd.to_datetime(["2025-03-30 01:30"])))
    >>> str(utc.iloc[0]), rep.nonexistent
    ('2025-03-30 01:30:00+00:00', 1)
    """
    t = pd.Series(pd.to_datetime(ts), index=getattr(ts, "index", None))
    rows = int(t.notna().sum())
    if t.dt.tz is not None:
        return t.dt.tz_convert("UTC"), ClockReport(rows, 0, 0, 0, 0, True)
    n = len(t)
    as_dst = t.dt.tz_localize(tz, ambiguous=np.ones(n, bool), nonexistent="NaT")
    as_std = t.dt.tz_localize(tz, ambiguous=np.zeros(n, bool), nonexistent="NaT")
    nonexistent = (t.notna() & as_dst.isna()).to_numpy()
    ambiguous = (as_dst.notna() & (as_dst != as_std)).to_numpy()
    second = np.zeros(n, bool)
    if ambiguous.any():
        g = (
            pd.Series(np.zeros(n, int), index=t.index)
            if groups is None
            else pd.Series(pd.factorize(pd.Series(groups).to_numpy())[0], index=t.index)
        )
        # The clock has gone back once a row shows an earlier wall-clock time than
        # one the device showed before it, in the same fall-back night; from then on
        # that night's ambiguous times are the second pass.
        naive = t.astype("int64").where(t.notna())
        night = t.dt.normalize().astype("int64").to_numpy()
        key = [g.to_numpy(), night]
        before = naive.groupby(key).cummax().groupby(key).shift(1)
        back = pd.Series(ambiguous & (before > naive).to_numpy(), index=t.index)
        second = ambiguous & (back.astype(int).groupby(key).cumsum() > 0).to_numpy()
    # Summer time unless the device's clock was seen to go back; gap times read as GMT.
    resolved = t.dt.tz_localize(
        tz, ambiguous=~second, nonexistent=pd.Timedelta(hours=1)
    ).dt.tz_convert("UTC")
    report = ClockReport(
        rows=rows,
        ambiguous=int(ambiguous.sum()),
        ambiguous_second_pass=int(second.sum()),
        ambiguous_assumed_first=int((ambiguous & ~second).sum()),
        nonexistent=int(nonexistent.sum()),
        already_zoned=False,
    )
    return resolved, report


def utc_to_local(ts: pd.Series, tz: str = LONDON) -> pd.Series:
    """UTC (or any zone) timestamps as tz-aware local times, for reports.

    >>> utc_to_local(pd.Series(pd.to_datetime(["2025-07-01 12:00"], utc=True))).astype(str).tolist()
    ['2025-07-01 13:00:00+01:00']
    """
    t = pd.Series(pd.to_datetime(ts), index=getattr(ts, "index", None))
    if t.dt.tz is None:
        t = t.dt.tz_localize("UTC")
    return t.dt.tz_convert(tz)
