"""Sample size and power for count outcomes, and return on investment of patrol.

Two-arm comparison of event rates with a log rate ratio Wald test. With mean
``mu0`` events per unit-period in control, ``mu1 = irr * mu0`` on treatment and
NB2 dispersion ``k`` (variance ``mu + k mu^2``; ``k = 0`` is Poisson), the variance
of the log of an arm's mean over ``n`` unit-periods is ``(1/mu + k) / n``, so the
units per arm needed are (Signorini 1991; Zhu & Lakkis 2014, method 1)::

    n = (z_{1-a/2} + z_{1-b})^2 * (1/mu0 + 1/mu1 + 2k) / ln(irr)^2

For a daily-randomised design the "units" are unit-days per arm.
"""

from __future__ import annotations

import math

from scipy import stats

__all__ = ["sample_size_count_outcome", "power_count_outcome", "return_on_investment"]


def sample_size_count_outcome(
    mu_control: float,
    irr: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    dispersion: float = 0.0,
) -> int:
    """Units (or unit-days) per arm to detect ``irr`` with the given power.

    >>> sample_size_count_outcome(1.0, 0.7, alpha=0.05, power=0.8)   # Poisson
    150
    >>> sample_size_count_outcome(1.0, 0.7, dispersion=0.5) > 150
    True
    """
    if not (irr > 0 and irr != 1 and mu_control > 0):
        raise ValueError("need mu_control > 0 and irr > 0, irr != 1")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    var1 = 1 / mu_control + 1 / (irr * mu_control) + 2 * dispersion
    return math.ceil(z**2 * var1 / math.log(irr) ** 2)


def power_count_outcome(
    n_per_arm: float, mu_control: float, irr: float, *, alpha: float = 0.05, dispersion: float = 0.0
) -> float:
    """Power of the two-sided Wald test of the log rate ratio with ``n_per_arm`` units.

    >>> round(power_count_outcome(150, 1.0, 0.7), 3)
    0.8
    """
    var1 = 1 / mu_control + 1 / (irr * mu_control) + 2 * dispersion
    se = math.sqrt(var1 / n_per_arm)
    zc = stats.norm.ppf(1 - alpha / 2)
    d = abs(math.log(irr)) / se
    return float(stats.norm.cdf(d - zc) + stats.norm.cdf(-d - zc))


def return_on_investment(
    *,
    patrol_hours: float,
    cost_per_patrol_hour: float,
    treated_crimes: float,
    irr: float,
    harm_cost_per_crime: float,
    irr_ci: tuple[float, float] | None = None,
) -> dict:
    """Return on investment of patrol: crimes prevented valued at a harm cost.

    Crimes prevented on patrol days are ``treated_crimes * (1/irr - 1)`` (the
    counterfactual without patrol minus what was observed).

    Parameters
    ----------
    patrol_hours
        Patrol hours delivered (e.g. sum of ``dosage_minutes`` / 60, plus travel if costed).
    cost_per_patrol_hour
        Fully loaded cost of one officer hour.
    treated_crimes
        Crimes observed on patrol unit-days.
    irr
        Estimated incident rate ratio (and optionally its CI for a range).
    harm_cost_per_crime
        Cost of one crime (e.g. Home Office unit cost, or CCHI days times a day cost).

    Returns
    -------
    dict
        ``cost``, ``crimes_prevented``, ``benefit``, ``net_benefit``, ``roi``
        (net benefit / cost), ``benefit_cost_ratio``, and ``roi_low``/``roi_high``
        from ``irr_ci`` when given.

    Examples
    --------
    >>> r = return_on_investment(patrol_hours=100, cost_per_patrol_hour=50,
    ...     treated_crimes=70, irr=0.7, harm_cost_per_crime=1000)
    >>> r["crimes_prevented"], r["cost"], r["benefit"], r["roi"]
    (30.0, 5000.0, 30000.0, 5.0)
    """
    cost = float(patrol_hours * cost_per_patrol_hour)

    def prevented(r: float) -> float:
        return float(round(treated_crimes * (1.0 / r - 1.0), 10))

    cp = prevented(irr)
    benefit = cp * harm_cost_per_crime
    out = {
        "cost": cost,
        "crimes_prevented": cp,
        "benefit": float(benefit),
        "net_benefit": float(benefit - cost),
        "roi": float((benefit - cost) / cost) if cost > 0 else float("nan"),
        "benefit_cost_ratio": float(benefit / cost) if cost > 0 else float("nan"),
    }
    if irr_ci is not None and cost > 0:
        lo, hi = sorted(irr_ci)
        out["roi_low"] = float((prevented(hi) * harm_cost_per_crime - cost) / cost)
        out["roi_high"] = float((prevented(lo) * harm_cost_per_crime - cost) / cost)
    return out
