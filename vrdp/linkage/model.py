"""The Splink model of person linkage across agencies: blocking rules and comparisons.

Built by functions (Splink is imported inside them), so importing this module is cheap.
"""

from __future__ import annotations

__all__ = [
    "LINK_COLUMNS",
    "PREDICTION_BLOCKING_RULES",
    "TRAINING_BLOCKING_RULES",
    "DETERMINISTIC_RULES",
    "splink_settings",
]

#: Columns of ``int_person_records_unioned`` the model reads (``record_uid`` is the id).
LINK_COLUMNS = (
    "record_uid",
    "agency",
    "forename",
    "surname",
    "date_of_birth",
    "postcode",
    "pnc_id",
    "nhs_number",
    "upn",
    "crn",
)

#: Pairs are scored only when one of these holds (an OR of the rules). Each rule
#: keeps blocks small as the records grow (names repeat, so no rule is a bare
#: name): identifiers; exact date of birth; postcode with a forename initial or
#: the surname (a date of birth missing or wrong); one name exactly with the
#: other's first three letters and either the year or the day and month of
#: birth (a typo late in a name, and one in the date); one name exactly with
#: the other's initial in the same postcode district (nicknames, variants,
#: moves within a district).
#:
#: The name-and-three-letters rules used to stand without a date: on the large
#: world's 1.29 million person records they made 118 of 192 million pairs, most
#: of them people who share a common name and nothing else. With the year or the
#: day and month of birth required as well, the same saved model scores 79
#: million pairs there in 108 s instead of 221 s, and against the world's truth
#: precision rises from 0.9913 to 0.9954 with recall 0.9794 both times (F1
#: 0.9853 to 0.9874): the pairs left out were mostly false matches. The change
#: was chosen on the medium world (1.32 to 0.84 million pairs, F1 0.9857 to
#: 0.9865) and checked on the large one.
PREDICTION_BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("pnc_id",),
    ("nhs_number",),
    ("upn",),
    ("crn",),
    ("date_of_birth",),
    ("postcode", "substr(forename, 1, 1)"),
    ("postcode", "surname"),
    ("surname", "substr(forename, 1, 3)", "year(date_of_birth)"),
    ("forename", "substr(surname, 1, 3)", "year(date_of_birth)"),
    ("surname", "substr(forename, 1, 3)", "month(date_of_birth)", "day(date_of_birth)"),
    ("forename", "substr(surname, 1, 3)", "month(date_of_birth)", "day(date_of_birth)"),
    ("surname", "substr(forename, 1, 1)", "split_part(postcode, ' ', 1)"),
    ("forename", "substr(surname, 1, 1)", "split_part(postcode, ' ', 1)"),
)

#: EM sessions: each fixes some columns so the others' m can be estimated.
TRAINING_BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("date_of_birth",),
    ("surname", "forename"),
    ("postcode",),
)

#: Near-certain matches, used to estimate the prior match probability.
DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("pnc_id",),
    ("nhs_number",),
    ("upn",),
    ("forename", "surname", "date_of_birth"),
)


def _block(columns: tuple[str, ...]):
    from splink import block_on

    return block_on(*columns)


def splink_settings():
    """Splink settings: dedupe across all agencies' records in one table.

    Names are compared with Jaro-Winkler levels and term-frequency adjustment (a match
    on a rare surname counts for more); date of birth with exact, one-character
    (typos, swapped day and month) and year levels; postcode down to sector and
    district; PNC, NHS number, UPN and CRN exactly.
    """
    import splink.comparison_library as cl
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_uid",
        blocking_rules_to_generate_predictions=[_block(r) for r in PREDICTION_BLOCKING_RULES],
        comparisons=[
            cl.NameComparison("forename").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=False),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("pnc_id"),
            cl.ExactMatch("nhs_number"),
            cl.ExactMatch("upn"),
            cl.ExactMatch("crn"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["agency"],
    )
