"""The demo's defaults: the one place the platform names the demo force.

``make run`` with no settings runs the demo: the real data.police.uk months of
the demo force shipped in ``public_data/`` and the simulated multi-agency world
built on that force's geography. Everything else in the platform takes the
force from configuration (``VRDP_POLICE_UK_FORCE``) and cuts its boundaries from
the national pack, so no other module names a force; a test checks that.
"""

from __future__ import annotations

__all__ = [
    "DEMO_FORCE",
    "LSOA11_BOUNDARIES",
    "OXFORD_STREET_DIR",
    "OXFORD_STREET_FORCE",
    "DEMO_LSOA11_POPULATION",
    "DEMO_BOUNDARY_FILES",
]

#: data.police.uk slug of the demo force: the default of ``VRDP_POLICE_UK_FORCE``.
DEMO_FORCE = "thames-valley"

#: LSOA 2011 polygons shipped for a force (relative to ``public_data/``). Older
#: data.police.uk files name 2011 LSOAs; the national pack holds 2021 ones only,
#: so a force without an entry here gets no ``lsoa11_code``.
LSOA11_BOUNDARIES = {DEMO_FORCE: "boundaries/thames_valley/thames_valley_lsoa11.geojson"}

#: The real-data risk terrain demo (central Oxford): its street crime folder and force.
OXFORD_STREET_DIR = "police_uk/thames_valley/street"
OXFORD_STREET_FORCE = DEMO_FORCE

#: Census 2011 residents per LSOA 2011 of the demo area (the residents exposure
#: of the risk terrain demos), relative to ``public_data/``.
DEMO_LSOA11_POPULATION = "reference/census_2011_lsoa_population_thames_valley.csv"

#: The simulated world's area box in BNG metres (the demo force's outline plus
#: 2 km, as :func:`vrdp.force_area.outline_box` gives it, rounded out to the km),
#: for benchmarks and tests that load its deliveries without the geography assets.
DEMO_WORLD_BOX_BNG = {"e_min": 417_000, "e_max": 508_000, "n_min": 156_000, "n_max": 259_000}

#: The demo force's own boundary files (relative to ``public_data/``), from which
#: the needs pack's population seed is built (``python -m vrdp.needs.reference``).
DEMO_BOUNDARY_FILES = {
    "lsoa21": "boundaries/thames_valley/thames_valley_lsoa21.geojson",
    "wards": "boundaries/thames_valley/thames_valley_wards_2025.geojson",
    "lsoa_centroids": "boundaries/thames_valley/thames_valley_lsoa_centroids.csv",
}
