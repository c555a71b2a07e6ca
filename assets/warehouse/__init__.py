"""The dbt warehouse as assets."""
