"""Early warning of emerging problems in weekly counts (ward x SOC category).

Detectors from the public health surveillance literature, each a pure function of
one count series returning a :class:`~vrdp.early_warning.detectors.Detection`
(expected count, upper bound, score and alarm per week, with its parameters):

- :func:`ears_c1`, :func:`ears_c2`, :func:`ears_c3` (CDC EARS; Hutwagner et al. 2003),
- :func:`ewma` (Poisson EWMA chart),
- :func:`poisson_cusum` (Lucas 1985),
- :func:`farrington` (Farrington et al. 1996, quasi-Poisson GLM with a trend term
  when significant and a minimum-count guard).

:func:`run_detectors` applies them to a ward x category x week panel and
:func:`alarm_rows` turns alarms into rows with the events that drove them.
"""

from vrdp.early_warning.detectors import (
    DEFAULT_DETECTOR,
    DETECTORS,
    Detection,
    ears_c1,
    ears_c2,
    ears_c3,
    ewma,
    farrington,
    poisson_cusum,
)
from vrdp.early_warning.panel import alarm_rows, run_detectors

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "Detection",
    "alarm_rows",
    "ears_c1",
    "ears_c2",
    "ears_c3",
    "ewma",
    "farrington",
    "poisson_cusum",
    "run_detectors",
]
