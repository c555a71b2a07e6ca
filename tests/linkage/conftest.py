"""Fixtures of the linkage tests. Their helpers live in ``linkage_records.py``:
test modules import them by that unique name, since ``conftest`` is ambiguous
when several test folders have one."""

from linkage_records import model_dir, records, trained_model_dir  # noqa: F401  (pytest fixtures)
