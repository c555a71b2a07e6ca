import gzip

import pandas as pd
import pytest
from support import COL_STREET, TVP_STREET

from quality.contracts.police_uk import QUARANTINE_REASONS, STREET_COLUMNS
from vrdp.errors import SourceFileError
from vrdp.ingest.police_uk import (
    find_street_files,
    missing_months,
    parse_street_file,
    parse_street_file_name,
)

HEADER = ",".join(STREET_COLUMNS)
GOOD = (
    "{id},2025-03,City of London Police,City of London Police,-0.107682,51.517786,"
    "On or near B521,E01000917,Camden 027C,Other theft,Under investigation,"
)
ID = "a" * 64


def write(tmp_path, name, body: bytes | str, gz=False):
    data = body.encode() if isinstance(body, str) else body
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("path", sorted(COL_STREET.glob("*.csv.gz")), ids=lambda p: p.name[:7])
def test_real_city_of_london_months_reconcile(path):
    parsed = parse_street_file(path)
    independent = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert parsed.rows_in == len(independent)
    assert parsed.rows_in == len(parsed.loaded) + len(parsed.quarantine) + parsed.collapsed
    assert parsed.collapsed == int(parsed.loaded["copies_in_file"].sum()) - len(parsed.loaded)
    # Every quarantined row of the real files is a police.uk "No location" row.
    no_location = (independent["Longitude"] == "") & (independent["Latitude"] == "")
    assert len(parsed.quarantine) == int(no_location.sum())
    assert set(parsed.quarantine["reason"]) <= {"no_location"}
    assert parsed.loaded["event_id"].is_unique
    assert parsed.loaded[["longitude", "latitude"]].notna().all().all()


def test_loaded_types_and_values():
    parsed = parse_street_file(TVP_STREET / "2025-01-thames-valley-street.csv.gz")
    df = parsed.loaded
    assert str(df["longitude"].dtype) == "float64"
    assert df["month"].map(lambda d: d.isoformat()).eq("2025-01-01").all()
    asb = df["crime_type"] == "Anti-social behaviour"
    assert df.loc[asb, "crime_id"].isna().all()
    assert df.loc[~asb, "crime_id"].str.fullmatch("[0-9a-f]{64}").all()
    assert df["event_id"].iloc[0] == "thames-valley:2025-01:000001"


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    rows = [
        GOOD.format(id=ID),  # 1 good
        GOOD.format(id=ID).replace("-0.107682,51.517786", ",").replace(",,,", ",,"),  # 2
        GOOD.format(id=ID).replace("-0.107682", "west"),  # 3 malformed coordinates
        GOOD.format(id=ID).replace("-0.107682,51.517786", "-0.107682,"),  # 4 half a point
        GOOD.format(id=ID).replace("-0.107682,51.517786", "151.2,-33.8"),  # 5 Sydney
        GOOD.format(id=ID).replace("2025-03,", "2025-04,"),  # 6 wrong month
        GOOD.format(id=ID).replace("Other theft", "Piracy"),  # 7 unknown crime type
        GOOD.format(id="xyz"),  # 8 malformed id
        GOOD.format(id=""),  # 9 a theft without a Crime ID
        GOOD.format(id=ID) + ",extra",  # 10 wrong field count
        GOOD.format(id=ID).replace("Other theft", "Anti-social behaviour"),  # 11 ASB with id: ok
    ]
    # Row 2 must be a genuine no-location row with the right number of fields.
    rows[1] = (
        f"{ID},2025-03,City of London Police,City of London Police,,,No Location,,,"
        "Other theft,Under investigation,"
    )
    path = write(tmp_path, "2025-03-city-of-london-street.csv", HEADER + "\n" + "\n".join(rows))
    parsed = parse_street_file(path)
    assert parsed.rows_in == 11
    assert len(parsed.loaded) + len(parsed.quarantine) == 11
    reasons = dict(zip(parsed.quarantine["row_number"], parsed.quarantine["reason"], strict=True))
    assert reasons == {
        2: "no_location",
        3: "malformed_coordinates",
        4: "malformed_coordinates",
        5: "coordinates_outside_uk",
        6: "month_mismatch",
        7: "unknown_crime_type",
        8: "malformed_crime_id",
        9: "missing_crime_id",
        10: "wrong_field_count",
    }
    assert list(parsed.loaded["row_number"]) == [1, 11]
    q = parsed.quarantine.set_index("row_number")
    assert q.loc[3, "raw_row"].split(",")[4] == "west"
    assert (q["source_file"] == path.name).all()
    assert set(q["reason"]) <= set(QUARANTINE_REASONS)


def test_non_utf8_bytes_quarantine_only_their_row(tmp_path):
    good = GOOD.format(id=ID).encode()
    bad = good.replace(b"On or near B521", b"On or near Caf\xe9 Street")
    body = HEADER.encode() + b"\n" + good + b"\n" + bad + b"\n" + good + b"\n"
    path = write(tmp_path, "2025-03-city-of-london-street.csv.gz", body, gz=True)
    parsed = parse_street_file(path)
    assert parsed.rows_in == 3
    # rows 1 and 3 are the same crime sent twice: one loaded row, two copies
    assert list(parsed.loaded["row_number"]) == [1] and parsed.collapsed == 1
    assert parsed.loaded["copies_in_file"].tolist() == [2]
    (row,) = parsed.quarantine.itertuples()
    assert row.reason == "invalid_utf8"
    assert row.row_number == 2 and row.line_number == 3
    assert "Caf\\xe9 Street" in row.raw_row


def test_missing_column_is_a_clear_error_naming_file_and_column(tmp_path):
    header = HEADER.replace(",Latitude", "")
    row = GOOD.format(id=ID).replace(",51.517786", "")
    path = write(tmp_path, "2025-03-city-of-london-street.csv", f"{header}\n{row}\n")
    with pytest.raises(SourceFileError) as err:
        parse_street_file(path)
    assert str(path) in str(err.value)
    assert "missing ['Latitude']" in str(err.value)


@pytest.mark.parametrize(
    ("name", "body", "gz", "message"),
    [
        ("2025-03-city-of-london-street.csv", "", False, "is empty"),
        ("2025-03-city-of-london-street.csv.gz", b"not gzip", False, "not a valid gzip"),
        ("2025-13-city-of-london-street.csv", HEADER, False, "impossible month"),
        ("street-2025-03.csv", HEADER, False, "file name is not"),
        ("2025-03-city-of-london-street.csv", HEADER + '\n"unclosed,\n', False, "line 2"),
    ],
)
def test_unreadable_files_raise_with_file_name(tmp_path, name, body, gz, message):
    path = write(tmp_path, name, body, gz=gz)
    with pytest.raises(SourceFileError, match=message) as err:
        parse_street_file(path)
    assert str(path) in str(err.value)


def test_header_only_file_loads_nothing(tmp_path):
    path = write(tmp_path, "2025-03-city-of-london-street.csv", HEADER + "\n")
    parsed = parse_street_file(path)
    assert (parsed.rows_in, len(parsed.loaded), len(parsed.quarantine)) == (0, 0, 0)


def test_file_names_and_missing_months(tmp_path):
    assert parse_street_file_name("2025-07-thames-valley-street.csv.gz").force == "thames-valley"
    for m in ("2025-06", "2025-08"):
        write(tmp_path, f"{m}-thames-valley-street.csv", HEADER)
    write(tmp_path, "2025-06-city-of-london-street.csv", HEADER)
    write(tmp_path, "notes.txt", "ignored")
    found = find_street_files(tmp_path, "thames-valley")
    assert sorted(found) == ["2025-06", "2025-08"]
    assert missing_months(set(found)) == ["2025-07"]
    assert missing_months({"2024-11", "2025-02"}) == ["2024-12", "2025-01"]
    write(tmp_path, "2025-06-thames-valley-street.csv.gz", HEADER, gz=True)
    with pytest.raises(SourceFileError, match="a second file for 2025-06"):
        find_street_files(tmp_path, "thames-valley")


def test_shipped_thames_valley_2025_release_has_july_missing():
    months = {m for m in find_street_files(TVP_STREET, "thames-valley") if m.startswith("2025")}
    assert len(months) == 11
    assert missing_months(months) == ["2025-07"]
