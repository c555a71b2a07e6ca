"""The platform's single Dagster code location and its settings."""
