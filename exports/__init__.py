"""The export format, as a library: what the platform publishes and how it is read.

Versioned, atomic, manifest-listed exports (:mod:`exports.format`), the files
each export holds (:mod:`exports.hotspots`, :mod:`exports.persons`), the
personal-data checks run before anything is published, the loader of a
published version (:mod:`exports.snapshot`, with its H3 candidate index in
:mod:`exports.geo`) and the offline map rendered from exported data
(:mod:`exports.map`).

Dagster assets (``assets/``) call it to publish; the API (``serving/``) calls
it to read. It imports neither: see ``ARCHITECTURE.md``.
"""
