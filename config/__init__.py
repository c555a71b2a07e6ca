"""The floor of the platform: settings, shared Dagster resources and pools.

Nothing here imports any other package of the platform; every other package
may import it. See ``ARCHITECTURE.md``.
"""
