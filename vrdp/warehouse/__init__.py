"""Helpers for people who query the warehouse (analysts)."""
