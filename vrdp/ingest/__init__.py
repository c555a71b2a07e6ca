"""Parsers that turn landing files into typed rows plus quarantined rows."""
