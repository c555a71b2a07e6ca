import json
from datetime import UTC, datetime

import pytest

from exports.format import ExportFile, publish_export, read_manifest
from vrdp.lake import sha256_file

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def text_file(name, content, rows):
    return ExportFile(name, rows, lambda p: p.write_text(content))


def test_identical_content_reuses_the_version(tmp_path):
    files = [text_file("a.csv", "x\n1\n", 1), text_file("b.csv", "y\n", 0)]
    first = publish_export(tmp_path, files, as_of="2025-12", parameters={"k": 1}, now=NOW)
    again = publish_export(tmp_path, files, as_of="2025-12", parameters={"k": 1})
    assert first.created and not again.created
    assert first.version == again.version and first.version.startswith("2025-12-")
    assert again.manifest["generated_at"] == "2026-01-01T00:00:00+00:00"
    assert sorted(p.name for p in tmp_path.iterdir()) == [first.version, "latest"]


def test_manifest_lists_rows_and_hashes_and_latest_switches(tmp_path):
    v1 = publish_export(tmp_path, [text_file("a.csv", "x\n1\n", 1)], as_of="2025-11", parameters={})
    v2 = publish_export(tmp_path, [text_file("a.csv", "x\n2\n", 1)], as_of="2025-12", parameters={})
    assert v1.version != v2.version
    latest = tmp_path / "latest"
    assert latest.resolve() == v2.path
    manifest = read_manifest(latest)
    (entry,) = manifest["files"]
    assert entry == {
        "name": "a.csv",
        "rows": 1,
        "bytes": 4,
        "sha256": sha256_file(v2.path / "a.csv"),
    }
    assert json.loads((v1.path / "manifest.json").read_text())["version"] == v1.version


def test_parameters_are_part_of_the_version(tmp_path):
    files = [text_file("a.csv", "x\n", 0)]
    a = publish_export(tmp_path, files, as_of="2025-12", parameters={"top_n": 10})
    b = publish_export(tmp_path, files, as_of="2025-12", parameters={"top_n": 20})
    assert a.version != b.version


def test_a_failing_writer_publishes_nothing(tmp_path):
    good = publish_export(tmp_path, [text_file("a.csv", "x\n", 0)], as_of="2025-11", parameters={})

    def boom(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish_export(
            tmp_path,
            [text_file("a.csv", "z\n", 0), ExportFile("b.csv", 1, boom)],
            as_of="2025-12",
            parameters={},
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.version, "latest"]
    assert (tmp_path / "latest").resolve() == good.path


def test_bad_file_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unique plain names"):
        publish_export(tmp_path, [text_file("manifest.json", "", 0)], as_of="x", parameters={})
    with pytest.raises(ValueError, match="unique plain names"):
        publish_export(
            tmp_path, [text_file("a", "", 0), text_file("a", "", 0)], as_of="x", parameters={}
        )


def test_a_failing_pre_publication_check_publishes_nothing(tmp_path):
    from exports.format import ExportRejected

    good = publish_export(tmp_path, [text_file("a.csv", "x\n", 0)], as_of="2025-11", parameters={})

    def no_surnames(folder):
        text = (folder / "a.csv").read_text()
        return ["a.csv: column 'surname'"] if "surname" in text else []

    with pytest.raises(ExportRejected, match="1 finding"):
        publish_export(
            tmp_path,
            [text_file("a.csv", "surname\nSMITH\n", 1)],
            as_of="2025-12",
            parameters={},
            check=no_surnames,
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == [good.version, "latest"]
    clean = publish_export(
        tmp_path,
        [text_file("a.csv", "x\n2\n", 1)],
        as_of="2025-12",
        parameters={},
        check=no_surnames,
    )
    assert clean.created and (tmp_path / "latest").resolve() == clean.path


def hotspot_ranked(**extra):
    import h3
    import pandas as pd

    from exports.hotspots import EXPORT_COLUMNS

    cells = [h3.latlng_to_cell(51.75 + i / 100, -1.25, 9) for i in range(3)]
    df = pd.DataFrame({c: [None] * 3 for c in EXPORT_COLUMNS})
    df["rank"] = [1, 2, 3]
    df["h3_cell"] = cells
    df["h3_resolution"] = 9
    df["harm_days"] = [30.0, 20.0, 10.0]
    df["events"] = [3.0, 2.0, 1.0]
    df["main_crime_types"] = "Violence and sexual offences"
    df["ward_code"] = "E05000000"
    df["ward_name"] = ["Carfax & Jericho", "Holywell", "St Mary's"]
    df["lsoa21_code"] = "E01028522"
    df["latitude"] = [h3.cell_to_latlng(c)[0] for c in cells]
    df["longitude"] = [h3.cell_to_latlng(c)[1] for c in cells]
    df["window_start"] = pd.Timestamp("2025-10-01")
    df["window_end"] = pd.Timestamp("2025-12-31")
    df["exclude_police_generated"] = True
    for k, v in extra.items():
        df[k] = v
    return df


def test_hotspot_export_is_published_when_clean_and_blocked_on_personal_data(tmp_path):
    from exports.format import ExportRejected
    from exports.hotspots import hotspot_export_files, hotspot_export_findings

    clean = publish_export(
        tmp_path,
        hotspot_export_files(hotspot_ranked()),
        as_of="2025-12",
        parameters={},
        check=hotspot_export_findings,
    )
    assert clean.created  # ward names are place names, not personal data
    leaky = hotspot_ranked(main_crime_types="Robbery; suspect PNC 12/3456789A at OX1 1AA")
    with pytest.raises(ExportRejected) as err:
        publish_export(
            tmp_path,
            hotspot_export_files(leaky),
            as_of="2025-12",
            parameters={},
            check=hotspot_export_findings,
        )
    kinds = " ".join(err.value.findings)
    assert "pnc_id" in kinds and "postcode" in kinds
    assert {f.split(".")[0] for f in err.value.findings} == {"top_harm_cells"}
    assert {f.split(":")[0].rsplit(".", 1)[0] for f in err.value.findings} >= {
        "top_harm_cells.parquet",
        "top_harm_cells.csv",
        "top_harm_cells.geojson",
    }
    assert (tmp_path / "latest").resolve() == clean.path  # nothing published
