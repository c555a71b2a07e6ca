import json
from datetime import UTC, datetime

import pytest

from serving.exports import ExportFile, publish_export, read_manifest
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
    from serving.exports import ExportRejected

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
