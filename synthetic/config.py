"""Scale presets and world parameters.

Every tunable number of the simulated world lives here so that ``truth/world.json``
can record the exact parameters used for a run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

FORCE_NAME = "Thames Valley Police"
FORCE_CODE = "43"  # Home Office force number used as the prefix of occurrence numbers


@dataclass(frozen=True)
class Scale:
    """Size of a simulated world.

    Attributes
    ----------
    name : str
        Preset name (``small``, ``medium`` or ``large``).
    population : int
        Number of simulated residents.
    addresses_per_lsoa : int
        Address points generated inside each LSOA polygon.
    pois : int
        Points of interest across the force area (before the fixed stations,
        police stations and hospitals).
    events : int
        Expected number of crime and ASB events over the whole period, before
        near-repeat offspring.
    officers : int
        Officers taking part in the patrol trial.
    trial_units : int
        Hot spot cells randomised daily in the patrol trial.
    persistent_hotspots, emerging_hotspots : int
        Planted hot spot cells.
    intel_per_month : int
        Intelligence logs per month.
    """

    name: str
    population: int
    addresses_per_lsoa: int
    pois: int
    events: int
    officers: int
    trial_units: int
    persistent_hotspots: int
    emerging_hotspots: int
    intel_per_month: int


SCALES: dict[str, Scale] = {
    "small": Scale("small", 20_000, 12, 2_500, 10_000, 3, 10, 6, 4, 40),
    "medium": Scale("medium", 120_000, 40, 12_000, 60_000, 8, 24, 12, 8, 300),
    "large": Scale("large", 900_000, 160, 30_000, 1_200_000, 30, 60, 30, 20, 3_000),
}


@dataclass(frozen=True)
class WorldConfig:
    """Parameters of one simulated world.

    Attributes
    ----------
    seed : int
        Root seed; every component derives its own generator from it.
    scale : Scale
        Size preset.
    end_month : str
        Last month of the simulated period (``YYYY-MM``).
    months : int
        Length of the period in months.
    trial_days : int
        Length of the patrol trial, ending on the last day of the period.
    fault_rate : float
        Share of rows in agency extracts that receive a planted data fault.
    trial_irr : float
        True incident rate ratio of patrol on treated place-days.
    """

    seed: int
    scale: Scale
    end_month: str = "2025-12"
    months: int = 24
    trial_days: int = 90
    fault_rate: float = 0.01
    trial_irr: float = 0.70
    # Probability that a violence event reaches the police (the rest are only
    # seen by A&E, which is the point of the Cardiff model).
    violence_reported: float = 0.80
    # Share of police.uk rows published without a location ("No location").
    police_uk_no_location: float = 0.025
    near_repeat: dict[str, float] = field(
        default_factory=lambda: {
            "Burglary": 0.25,
            "Vehicle crime": 0.12,
            "Criminal damage and arson": 0.08,
            "Violence and sexual offences": 0.05,
        }
    )

    @property
    def start(self) -> np.datetime64:
        """First day of the period."""
        end = np.datetime64(self.end_month, "M")
        return (end - (self.months - 1)).astype("datetime64[D]")

    @property
    def end(self) -> np.datetime64:
        """Last day of the period (inclusive)."""
        return (np.datetime64(self.end_month, "M") + 1).astype("datetime64[D]") - 1

    @property
    def trial_start(self) -> np.datetime64:
        """First day of the patrol trial."""
        return self.end - (self.trial_days - 1)

    def to_json(self) -> dict:
        """Return the parameters as a JSON-serialisable dictionary."""
        out = dataclasses.asdict(self)
        out["start"] = str(self.start)
        out["end"] = str(self.end)
        out["trial_start"] = str(self.trial_start)
        return out


# Crime-type mix from the real 2025 Thames Valley street files (Jan-Jun 2025).
CRIME_TYPE_SHARES: dict[str, float] = {
    "Violence and sexual offences": 0.3814,
    "Anti-social behaviour": 0.1097,
    "Shoplifting": 0.1052,
    "Public order": 0.0776,
    "Other theft": 0.0748,
    "Criminal damage and arson": 0.0726,
    "Vehicle crime": 0.0551,
    "Burglary": 0.0327,
    "Drugs": 0.0310,
    "Other crime": 0.0196,
    "Bicycle theft": 0.0140,
    "Robbery": 0.0096,
    "Theft from the person": 0.0094,
    "Possession of weapons": 0.0071,
}
CRIME_TYPES: list[str] = list(CRIME_TYPE_SHARES)
