"""Machine-readable schemas of the landing files (mirrored in ``synthetic/README.md``).

Types: ``str``, ``int``, ``float``, ``date`` (``YYYY-MM-DD``), ``datetime``
(``YYYY-MM-DDTHH:MM:SS``, no zone), ``bool`` (``true``/``false``), ``code``
(value from a documented code list). Empty text means missing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One landing dataset.

    Attributes
    ----------
    agency, dataset : str
        ``landing/<agency>/<dataset>``.
    pattern : str
        Glob of its files below ``landing/<agency>/<dataset>``.
    fmt : str
        ``csv``, ``jsonl`` or ``parquet``.
    key : str
        Record id column (unique except for planted duplicate rows).
    columns : tuple of (name, type)
    """

    agency: str
    dataset: str
    pattern: str
    fmt: str
    key: str
    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        """Column names in file order."""
        return [c for c, _ in self.columns]


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "places",
        "pois",
        "*/pois.csv",
        "csv",
        "poi_id",
        (
            ("poi_id", "str"),
            ("category", "code"),
            ("osm_key", "str"),
            ("osm_value", "str"),
            ("name", "str"),
            ("easting", "float"),
            ("northing", "float"),
            ("longitude", "float"),
            ("latitude", "float"),
            ("lsoa_code", "str"),
            ("street", "str"),
            ("postcode", "str"),
        ),
    ),
    Dataset(
        "places",
        "addresses",
        "*/addresses.csv",
        "csv",
        "uprn",
        (
            ("uprn", "str"),
            ("address_line", "str"),
            ("town", "str"),
            ("postcode", "str"),
            ("classification_code", "code"),
            ("easting", "float"),
            ("northing", "float"),
            ("longitude", "float"),
            ("latitude", "float"),
            ("lsoa_code", "str"),
        ),
    ),
    Dataset(
        "places",
        "streets",
        "*/streets.csv",
        "csv",
        "usrn",
        (
            ("usrn", "str"),
            ("street_name", "str"),
            ("town", "str"),
            ("postcode", "str"),
            ("easting", "float"),
            ("northing", "float"),
            ("longitude", "float"),
            ("latitude", "float"),
            ("lsoa_code", "str"),
        ),
    ),
    Dataset(
        "police",
        "occurrences",
        "*/occurrences_*.csv",
        "csv",
        "occurrence_ref",
        (
            ("occurrence_ref", "str"),
            ("recorded_at", "datetime"),
            ("committed_from", "datetime"),
            ("committed_to", "datetime"),
            ("offence_code", "code"),
            ("offence_description", "str"),
            ("easting", "int"),
            ("northing", "int"),
            ("location_text", "str"),
            ("domestic_abuse_flag", "bool"),
            ("outcome", "code"),
        ),
    ),
    Dataset(
        "police",
        "nominals",
        "*/nominals_*.csv",
        "csv",
        "nominal_id",
        (
            ("nominal_id", "str"),
            ("created_at", "datetime"),
            ("surname", "str"),
            ("forename", "str"),
            ("middle_names", "str"),
            ("dob", "date"),
            ("sex", "code"),
            ("pnc_id", "str"),
            ("ethnicity_ic", "code"),
            ("address_line", "str"),
            ("town", "str"),
            ("postcode", "str"),
        ),
    ),
    Dataset(
        "police",
        "occurrence_nominals",
        "*/occurrence_nominals_*.csv",
        "csv",
        "link_id",
        (
            ("link_id", "str"),
            ("occurrence_ref", "str"),
            ("nominal_id", "str"),
            ("role", "code"),
            ("linked_at", "datetime"),
        ),
    ),
    Dataset(
        "police",
        "cad_incidents",
        "*/cad_incidents_*.csv",
        "csv",
        "incident_ref",
        (
            ("incident_ref", "str"),
            ("call_received_at", "datetime"),
            ("call_source", "code"),
            ("opening_classification", "code"),
            ("grade", "code"),
            ("easting", "int"),
            ("northing", "int"),
            ("location_text", "str"),
            ("first_arrival_at", "datetime"),
            ("closed_at", "datetime"),
            ("closing_classification", "code"),
            ("linked_occurrence_ref", "str"),
        ),
    ),
    Dataset(
        "police",
        "intelligence",
        "*/intelligence_*.jsonl",
        "jsonl",
        "log_id",
        (
            ("log_id", "str"),
            ("created_at", "datetime"),
            ("grading", "object"),
            ("soc_categories", "list"),
            ("subjects", "list"),
            ("locations", "list"),
            ("text", "str"),
        ),
    ),
    Dataset(
        "police_uk",
        "street",
        "*-thames-valley-street.csv",
        "csv",
        "Crime ID",
        (
            ("Crime ID", "str"),
            ("Month", "str"),
            ("Reported by", "str"),
            ("Falls within", "str"),
            ("Longitude", "float"),
            ("Latitude", "float"),
            ("Location", "str"),
            ("LSOA code", "str"),
            ("LSOA name", "str"),
            ("Crime type", "code"),
            ("Last outcome category", "code"),
            ("Context", "str"),
        ),
    ),
    Dataset(
        "police_uk",
        "stop_and_search",
        "*-thames-valley-stop-and-search.csv",
        "csv",
        "",
        (
            ("Type", "code"),
            ("Date", "str"),
            ("Part of a policing operation", "str"),
            ("Policing operation", "str"),
            ("Latitude", "float"),
            ("Longitude", "float"),
            ("Gender", "code"),
            ("Age range", "code"),
            ("Self-defined ethnicity", "str"),
            ("Officer-defined ethnicity", "code"),
            ("Legislation", "str"),
            ("Object of search", "code"),
            ("Outcome", "code"),
            ("Outcome linked to object of search", "str"),
            ("Removal of more than just outer clothing", "str"),
        ),
    ),
    Dataset(
        "social_care",
        "cin_referrals",
        "*/cin_referrals_*.csv",
        "csv",
        "referral_id",
        (
            ("referral_id", "str"),
            ("la_code", "code"),
            ("la_child_id", "str"),
            ("upn", "str"),
            ("upn_unknown_reason", "code"),
            ("forename", "str"),
            ("surname", "str"),
            ("dob", "date"),
            ("sex", "code"),
            ("address_line", "str"),
            ("postcode", "str"),
            ("referral_date", "date"),
            ("referral_source", "code"),
            ("primary_need_code", "code"),
            ("assessment_factors", "str"),
            ("referral_nfa", "bool"),
            ("cin_closure_date", "date"),
        ),
    ),
    Dataset(
        "probation",
        "cases",
        "*/probation_cases_*.csv",
        "csv",
        "event_id",
        (
            ("event_id", "str"),
            ("crn", "str"),
            ("pnc_id", "str"),
            ("forename", "str"),
            ("surname", "str"),
            ("aliases", "str"),
            ("dob", "date"),
            ("sex", "code"),
            ("address_line", "str"),
            ("postcode", "str"),
            ("offence_code", "code"),
            ("offence_description", "str"),
            ("sentence_type", "code"),
            ("sentence_date", "date"),
            ("sentence_length_months", "int"),
            ("requirements", "str"),
            ("rosh_level", "code"),
            ("tier", "code"),
            ("ogrs3_score", "int"),
            ("mappa_category", "code"),
            ("iom_flag", "bool"),
        ),
    ),
    Dataset(
        "nhs",
        "istv_assaults",
        "*/istv_*_*.csv",
        "csv",
        "attendance_ref",
        (
            ("attendance_ref", "str"),
            ("site_code", "code"),
            ("period_start", "date"),
            ("period_end", "date"),
            ("arrival_dt", "datetime"),
            ("assault_dt", "datetime"),
            ("assault_method_code", "code"),
            ("assault_method_other", "str"),
            ("location_type_code", "code"),
            ("location_text", "str"),
        ),
    ),
    Dataset(
        "nhs",
        "safeguarding",
        "*/safeguarding_*.csv",
        "csv",
        "referral_id",
        (
            ("referral_id", "str"),
            ("nhs_number", "str"),
            ("forename", "str"),
            ("surname", "str"),
            ("dob", "date"),
            ("sex", "code"),
            ("address_line", "str"),
            ("postcode", "str"),
            ("referral_date", "date"),
            ("concern_category", "code"),
            ("site_code", "code"),
        ),
    ),
    Dataset(
        "patrol",
        "trial_units",
        "*/trial_units.csv",
        "csv",
        "unit_id",
        (
            ("unit_id", "str"),
            ("h3_cell", "str"),
            ("centre_easting", "float"),
            ("centre_northing", "float"),
        ),
    ),
    Dataset(
        "patrol",
        "trial_allocation",
        "*/trial_allocation.csv",
        "csv",
        "",
        (("unit_id", "str"), ("h3_cell", "str"), ("date", "date"), ("arm", "code")),
    ),
    Dataset(
        "patrol",
        "gps",
        "*/gps_pings.parquet",
        "parquet",
        "",
        (
            ("ts", "timestamp[ms]"),
            ("officer_id", "str"),
            ("device_id", "str"),
            ("lat", "float"),
            ("lon", "float"),
            ("accuracy_m", "float"),
            ("speed_mps", "float"),
            ("mode", "code"),
        ),
    ),
    Dataset(
        "patrol",
        "activity",
        "*/activity.jsonl",
        "jsonl",
        "activity_id",
        (
            ("activity_id", "str"),
            ("ts", "datetime"),
            ("officer_id", "str"),
            ("device_id", "str"),
            ("event", "code"),
            ("unit_id", "str"),
            ("lat", "float"),
            ("lon", "float"),
        ),
    ),
)
