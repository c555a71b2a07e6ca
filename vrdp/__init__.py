"""Pure, tested functions under the platform's assets: parsing, geography, hot spots.

Nothing in this package knows about Dagster; assets in ``assets/`` and
``serving/`` are thin wrappers that read, call these functions, write and report.
"""
