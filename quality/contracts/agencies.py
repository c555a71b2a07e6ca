"""Contracts for every agency's landing datasets.

Police RMS, CAD and intelligence; children's social care; probation; NHS;
points of interest and the address and street gazetteers; the patrol app's
activity log and officers' GPS.
Field lists follow the partner specifications summarised in
``public_data/specs/partner_data_field_specs.md`` (ISTV/ISB 1594, the DfE
Children in Need census, MoJ Data First / nDelius) and the force's RMS and CAD
extracts. Code lists come from those specifications; the Home Office offence
codes from ``public_data/reference``. Built by a function (reads one CSV), so
importing this module does no work.
"""

from __future__ import annotations

import csv
from functools import cache

from config.settings import REPO_ROOT
from quality.contracts.base import LSOA_CODE_PATTERN, Contract, Field, OrderRule
from quality.contracts.police_uk import CRIME_TYPES

__all__ = ["agency_contracts", "home_office_offence_codes", "POLICE_UK_CRIME_TYPE_CODES"]

#: Community sources (StreetSafe-style reports, voluntary-sector referrals): code lists.
STREETSAFE_CATEGORIES = (
    "Feeling unsafe",
    "Poor street lighting",
    "Being followed",
    "Verbal harassment",
    "Intimidating groups",
    "Drug dealing or use",
    "Isolated or hidden area",
    "Other",
)
VOLUNTARY_ORGANISATIONS = (
    "Youth outreach",
    "Hospital youth work",
    "Mentoring",
    "Sports diversion",
    "Family support",
)
VOLUNTARY_REASONS = (
    "Victim of violence",
    "Exploitation concern",
    "Weapon carrying concern",
    "Missing episodes",
    "School exclusion",
    "Peer conflict",
)
VOLUNTARY_SOURCES = ("Self", "Parent or carer", "School", "Police", "A&E", "Social care")

NAME = {"type": "str", "personal": True}
SEX = ("M", "F", "U")

#: CAD classifies calls with the police.uk categories (one list, in the police.uk contract).
POLICE_UK_CRIME_TYPE_CODES = tuple(sorted(CRIME_TYPES))
NON_CRIME_INCIDENTS = (
    "Concern for welfare",
    "Road traffic collision",
    "Suspicious circumstances",
    "Missing person",
    "Alarm activation",
    "Highway disruption",
    "Domestic incident",
    "Sudden death",
    "Animals",
    "Lost/found property",
)
ED_SITES = (
    "RTH08",
    "RHW01",
    "RD816",
    "RDU50",
    "RXQ50",
    "RXQ02",
    "RTH05",
    "RDU52",
    "RDU53",
    "RHW06",
)
POI_CATEGORIES = (
    "pub",
    "bar",
    "nightclub",
    "fast_food",
    "restaurant",
    "cafe",
    "off_licence",
    "convenience",
    "supermarket",
    "shop",
    "atm",
    "bus_stop",
    "school",
    "university",
    "parking",
    "park",
    "sports",
    "place_of_worship",
    "pharmacy",
    "petrol_station",
    "theatre",
    "hotel",
    "station",
    "police_station",
    "hospital",
)


@cache
def home_office_offence_codes() -> tuple[str, ...]:
    """Home Office offence codes from the shipped classification table."""
    path = (
        REPO_ROOT
        / "public_data"
        / "reference"
        / "home_office_offence_codes_to_police_uk_category.csv"
    )
    with open(path, newline="") as f:
        return tuple(sorted({row["offence_code"] for row in csv.DictReader(f)}))


def _person(*, dob_required: bool = False) -> tuple[Field, ...]:
    return (
        Field("forename", **NAME),
        Field("surname", required=True, **NAME),
        Field("dob", "date", required=dob_required, not_future=True, personal=True),
        Field("sex", codes=SEX),
        Field("address_line", personal=True),
        Field("postcode", personal=True),
    )


#: The point every place table (POIs, addresses, streets) is delivered with.
PLACE_POINT: tuple[Field, ...] = (
    Field("easting", "float"),
    Field("northing", "float"),
    Field("longitude", "float"),
    Field("latitude", "float"),
    Field("lsoa_code", pattern=LSOA_CODE_PATTERN),
)


def _place_contract(name: str, fields: tuple[Field, ...], key: str) -> Contract:
    """A place table's contract: its fields, keyed, located by its BNG point (required)."""
    return Contract(
        name,
        fields,
        key=key,
        coordinates=("easting", "northing"),
        coordinate_system="bng",
        location_required=True,
    )


@cache
def agency_contracts() -> dict[str, Contract]:
    """Every agency dataset's contract, keyed by ``<agency>.<dataset>``."""
    offences = home_office_offence_codes()
    contracts = [
        _place_contract(
            "places.pois",
            (
                Field("poi_id", required=True),
                Field("category", required=True, codes=POI_CATEGORIES),
                Field("osm_key"),
                Field("osm_value"),
                Field("name"),
                *PLACE_POINT,
                Field("street"),
                Field("postcode"),
            ),
            "poi_id",
        ),
        # Reference gazetteers (AddressBase-style addresses, a street gazetteer): the
        # candidate places besides the POIs. An address without a name is not personal
        # data on its own; address_line still stays out of every mart.
        _place_contract(
            "places.addresses",
            (
                Field("uprn", required=True, pattern=r"\d{1,12}"),
                Field("address_line", required=True),
                Field("town"),
                Field("postcode"),
                # AddressBase classification: primary letter, then secondary letter,
                # tertiary digits and quaternary letters (RD, RD04, CR08, ...).
                Field(
                    "classification_code",
                    required=True,
                    pattern=r"[CLMOPRUXZ]([A-Z]([0-9]{2}[A-Z]{0,2})?)?",
                ),
                *PLACE_POINT,
            ),
            "uprn",
        ),
        _place_contract(
            "places.streets",
            (
                Field("usrn", required=True, pattern=r"\d{1,8}"),
                Field("street_name", required=True),
                Field("town"),
                Field("postcode"),
                *PLACE_POINT,
            ),
            "usrn",
        ),
        Contract(
            "police.occurrences",
            (
                Field("occurrence_ref", required=True, pattern=r"\d{12}"),
                Field("recorded_at", "datetime", required=True, not_future=True),
                Field("committed_from", "datetime", required=True, not_future=True),
                Field("committed_to", "datetime", not_future=True),
                Field("offence_code", required=True, codes=offences),
                Field("offence_description"),
                Field("easting", "str"),
                Field("northing", "str"),
                Field("location_text"),
                Field("domestic_abuse_flag", "bool"),
                Field("outcome"),
            ),
            key="occurrence_ref",
            coordinates=("easting", "northing"),
            coordinate_system="bng",
            order_rules=(
                OrderRule(
                    "committed_from", "committed_to", "the offence window ends before it starts"
                ),
                OrderRule("committed_from", "recorded_at", "recorded before it was committed"),
            ),
        ),
        Contract(
            "police.nominals",
            (
                Field("nominal_id", required=True, pattern=r"N\d{9}"),
                Field("created_at", "datetime", required=True, not_future=True),
                Field("surname", required=True, personal=True),
                Field("forename", personal=True),
                Field("middle_names", personal=True),
                Field("dob", "date", not_future=True, personal=True),
                Field("sex", codes=SEX),
                Field("pnc_id", personal=True),
                Field("ethnicity_ic", codes=("IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9")),
                Field("address_line", personal=True),
                Field("town"),
                Field("postcode", personal=True),
            ),
            key="nominal_id",
        ),
        Contract(
            "police.occurrence_nominals",
            (
                Field("link_id", required=True),
                Field("occurrence_ref", required=True, pattern=r"\d{12}"),
                Field("nominal_id", required=True, pattern=r"N\d{9}"),
                Field("role", required=True, codes=("victim", "suspect", "offender", "witness")),
                Field("linked_at", "datetime", required=True, not_future=True),
            ),
            key="link_id",
        ),
        Contract(
            "police.cad_incidents",
            (
                Field("incident_ref", required=True, pattern=r"\d{8}-\d{5}"),
                Field("call_received_at", "datetime", required=True, not_future=True),
                Field(
                    "call_source", codes=("999", "101", "Online", "Alarm company", "Other agency")
                ),
                Field(
                    "opening_classification",
                    required=True,
                    codes=POLICE_UK_CRIME_TYPE_CODES + NON_CRIME_INCIDENTS,
                ),
                Field(
                    "grade",
                    required=True,
                    codes=(
                        "1 Emergency",
                        "2 Priority",
                        "3 Scheduled",
                        "4 Resolution without deployment",
                    ),
                ),
                Field("easting", "str"),
                Field("northing", "str"),
                Field("location_text"),
                Field("first_arrival_at", "datetime", not_future=True),
                Field("closed_at", "datetime", not_future=True),
                Field(
                    "closing_classification",
                    codes=("Crime recorded", "ASB - no crime", "No crime - advice given"),
                ),
                Field("linked_occurrence_ref", pattern=r"\d{12}"),
            ),
            key="incident_ref",
            coordinates=("easting", "northing"),
            coordinate_system="bng",
            order_rules=(
                OrderRule("call_received_at", "first_arrival_at", "arrived before the call"),
                OrderRule("call_received_at", "closed_at", "closed before the call was received"),
            ),
        ),
        Contract(
            "police.intelligence",
            (
                Field("log_id", required=True),
                Field("created_at", "datetime", required=True, not_future=True),
                Field("grading", required=True),
                Field("soc_categories"),
                Field("subjects", personal=True),
                Field("locations"),
                Field("text", personal=True),
            ),
            key="log_id",
        ),
        Contract(
            "social_care.cin_referrals",
            (
                Field("referral_id", required=True),
                Field(
                    "la_code",
                    required=True,
                    codes=("867", "869", "870", "871", "868", "872", "826", "825", "931"),
                ),
                Field("la_child_id", required=True),
                Field("upn", personal=True, pattern=r"[A-Z]\d{11}[A-Z0-9]"),
                Field("upn_unknown_reason"),
                *_person(dob_required=True),
                Field("referral_date", "date", required=True, not_future=True),
                Field("referral_source", codes=("1A", "2A", "3A", "3E", "4", "5A", "6", "8", "10")),
                Field("primary_need_code", codes=tuple(f"N{i}" for i in range(1, 10))),
                Field("assessment_factors"),
                Field("referral_nfa", "bool"),
                Field("cin_closure_date", "date", not_future=True),
            ),
            key="referral_id",
            order_rules=(
                # unborn children are referred (the CIN census records them), but
                # not more than a pregnancy before birth
                OrderRule(
                    "dob",
                    "referral_date",
                    "referred more than 280 days before the child's birth",
                    slack_days=280,
                ),
                OrderRule("referral_date", "cin_closure_date", "closed before the referral"),
            ),
        ),
        Contract(
            "probation.cases",
            (
                Field("event_id", required=True),
                Field("crn", required=True, pattern=r"[A-Z]\d{6}"),
                Field("pnc_id", personal=True),
                Field("forename", personal=True),
                Field("surname", required=True, personal=True),
                Field("aliases", personal=True),
                Field("dob", "date", required=True, not_future=True, personal=True),
                Field("sex", codes=SEX),
                Field("address_line", personal=True),
                Field("postcode", personal=True),
                Field("offence_code", codes=offences),
                Field("offence_description"),
                Field(
                    "sentence_type",
                    required=True,
                    codes=(
                        "Community order",
                        "Suspended sentence order",
                        "Custodial sentence with licence",
                        "Post-sentence supervision",
                    ),
                ),
                Field("sentence_date", "date", required=True, not_future=True),
                Field("sentence_length_months", "int", min=0, max=600),
                Field("requirements"),
                Field("rosh_level", codes=("Low", "Medium", "High", "Very high")),
                Field("tier", pattern=r"[A-D][0-3]"),
                Field("ogrs3_score", "int", min=0, max=100),
                Field("mappa_category", codes=("1", "2", "3")),
                Field("iom_flag", "bool"),
            ),
            key="event_id",
            order_rules=(OrderRule("dob", "sentence_date", "sentenced before birth"),),
        ),
        Contract(
            "nhs.istv_assaults",
            (
                Field("attendance_ref", required=True),
                Field("site_code", required=True, codes=ED_SITES),
                Field("period_start", "date", required=True),
                Field("period_end", "date", required=True),
                Field("arrival_dt", "datetime", not_future=True),
                Field("assault_dt", "datetime", required=True, not_future=True),
                Field(
                    "assault_method_code", required=True, codes=("01", "02", "03", "04", "05", "06")
                ),
                Field("assault_method_other"),
                Field(
                    "location_type_code",
                    required=True,
                    codes=("01", "02", "03", "04", "05", "06", "07"),
                ),
                Field("location_text"),
            ),
            key="attendance_ref",
            # Not assault_dt <= arrival_dt: ISTV records the assault to the hour, so a
            # patient arriving at 07:54 after an assault "at 08:00" is ordinary data.
            order_rules=(
                OrderRule("period_start", "period_end", "the period ends before it starts"),
            ),
        ),
        Contract(
            "nhs.safeguarding",
            (
                Field("referral_id", required=True),
                Field("nhs_number", personal=True, pattern=r"\d{10}"),
                *_person(dob_required=True),
                Field("referral_date", "date", required=True, not_future=True),
                Field(
                    "concern_category",
                    required=True,
                    codes=(
                        "Domestic abuse",
                        "Serious violence",
                        "Child sexual exploitation",
                        "Child criminal exploitation",
                        "Neglect",
                        "Self-harm",
                        "Mental health crisis",
                    ),
                ),
                Field("site_code", codes=ED_SITES),
            ),
            key="referral_id",
            # No "referral after birth" rule: NHS safeguarding takes pre-birth referrals
            # (an unborn child at risk, dob the expected date).
        ),
        Contract(
            "patrol.gps",
            (
                Field("ts", "datetime", required=True, not_future=True),
                Field("officer_id", required=True),
                Field("device_id", required=True),
                Field("lat", "str"),
                Field("lon", "str"),
                Field("accuracy_m", "float", min=0, max=10_000),
                Field("speed_mps", "float", min=0, max=100),
                Field("mode", codes=("foot", "vehicle")),
            ),
            coordinates=("lon", "lat"),
            coordinate_system="wgs84",
            location_required=True,
        ),
        Contract(
            "patrol.activity",
            (
                Field("activity_id", required=True),
                Field("ts", "datetime", required=True, not_future=True),
                Field("officer_id", required=True),
                Field("device_id", required=True),
                Field(
                    "event",
                    required=True,
                    codes=(
                        "login",
                        "shift_start",
                        "hotspot_arrive",
                        "hotspot_depart",
                        "stop_search",
                        "incident_attend",
                        "engagement",
                        "arrest",
                        "intelligence_submitted",
                        "community_contact",
                        "problem_solving",
                        "other",
                        "shift_end",
                        "logout",
                    ),
                ),
                Field("unit_id"),
                Field("hotspot_id"),
                Field("mode", codes=("foot", "vehicle")),
                Field("lat", "str"),
                Field("lon", "str"),
            ),
            key="activity_id",
            coordinates=("lon", "lat"),
            coordinate_system="wgs84",
        ),
        # The teams reference: a force's neighbourhood teams (the wards each covers, its
        # base station and shift pattern) and which officer is on which team.
        Contract(
            "patrol.teams",
            (
                Field("team_id", required=True, pattern=r"[A-Za-z0-9_-]{1,20}"),
                Field("team_name", required=True),
                Field("wards", required=True, pattern=WARD_LIST),
                Field("base_station", required=True),
                Field("base_easting", "float", required=True, min=0, max=700_000),
                Field("base_northing", "float", required=True, min=0, max=1_300_000),
                Field("shift_pattern", required=True, pattern=SHIFT_PATTERN),
            ),
            key="team_id",
        ),
        Contract(
            "patrol.team_officers",
            (
                Field("officer_id", required=True),
                Field("team_id", required=True, pattern=r"[A-Za-z0-9_-]{1,20}"),
            ),
            key="officer_id",
        ),
        *_soc_contracts(),
        # Community sources. A public report's pin is its location: without a usable
        # point it is quarantined. Free text may name people, so it is personal.
        Contract(
            "community.streetsafe_reports",
            (
                Field("report_id", required=True, pattern=r"SS\d{7}"),
                Field("submitted_at", "datetime", required=True, not_future=True),
                Field("longitude", "str"),
                Field("latitude", "str"),
                Field("category", required=True, codes=STREETSAFE_CATEGORIES),
                Field("free_text", personal=True),
            ),
            key="report_id",
            coordinates=("longitude", "latitude"),
            coordinate_system="wgs84",
            location_required=True,
        ),
        Contract(
            "community.voluntary_referrals",
            (
                Field("referral_id", required=True, pattern=r"VR\d{6}"),
                Field("organisation", required=True, codes=VOLUNTARY_ORGANISATIONS),
                Field("referral_date", "date", required=True, not_future=True),
                Field("referral_source", codes=VOLUNTARY_SOURCES),
                Field("reason", required=True, codes=VOLUNTARY_REASONS),
                Field("forename", personal=True),
                Field("surname", required=True, personal=True),
                Field("dob", "date", not_future=True, personal=True),
                Field("postcode", personal=True),
                Field("location_text"),
                Field("consent_to_share", "bool"),
            ),
            key="referral_id",
        ),
    ]
    return {c.source: c for c in contracts}


#: Clear-Hold-Build phases, in order.
CHB_PHASES = ("clear", "hold", "build")
#: APMIS-like disruption code lists.
DISRUPTION_AGENCIES = (
    "Home force",
    "Local authority",
    "British Transport Police",
    "National Crime Agency",
    "HMRC",
    "Housing provider",
)
DISRUPTION_TYPES = (
    "Arrest",
    "Drugs warrant",
    "Cash seizure",
    "Closure order",
    "Cuckooing safeguarding visit",
    "Weapons sweep",
    "Vehicle seizure",
)
DISRUPTION_OUTCOMES = ("Major", "Moderate", "Minor")
WARD_CODE = r"[EW]05\d{6}"
#: A teams reference's wards: ward codes separated by ``;``.
WARD_LIST = rf"{WARD_CODE}(;{WARD_CODE})*"
#: A shift pattern: ``<name> HH:MM-HH:MM`` shifts separated by ``; ``.
SHIFT_PATTERN = r"[a-z]+ \d\d:\d\d-\d\d:\d\d(; [a-z]+ \d\d:\d\d-\d\d:\d\d)*"


def _soc_contracts() -> tuple[Contract, ...]:
    """The SOC unit's deliveries: the CHB site register and APMIS-like disruptions."""
    return (
        Contract(
            "soc.chb_sites",
            (
                Field("site_phase_id", required=True, pattern=r"CHB\d{2,}-(clear|hold|build)"),
                Field("site_id", required=True, pattern=r"CHB\d{2,}"),
                Field("site_name", required=True),
                Field("ward_codes", required=True, pattern=rf"{WARD_CODE}(\|{WARD_CODE})*"),
                Field("phase", required=True, codes=CHB_PHASES),
                Field("phase_start", "datetime", required=True),
                Field("phase_end", "datetime", required=True),
                # a role, not a name: the register is read by every officer
                Field("lead", required=True),
                Field("easting", "str"),
                Field("northing", "str"),
                Field("polygon_wkt"),
            ),
            key="site_phase_id",
            coordinates=("easting", "northing"),
            coordinate_system="bng",
        ),
        Contract(
            "soc.disruptions",
            (
                Field("disruption_id", required=True, pattern=r"DIS\d{6,}"),
                Field("disrupted_on", "date", required=True, not_future=True),
                Field("ward_code", pattern=WARD_CODE),
                Field("easting", "str"),
                Field("northing", "str"),
                Field("location_text"),
                Field("agency", required=True, codes=DISRUPTION_AGENCIES),
                Field("disruption_type", required=True, codes=DISRUPTION_TYPES),
                Field("linked_ocg"),
                Field("outcome", codes=DISRUPTION_OUTCOMES),
            ),
            key="disruption_id",
            coordinates=("easting", "northing"),
            coordinate_system="bng",
        ),
    )
