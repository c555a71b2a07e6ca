"""Governance as code: restricted files, lawful bases, retention, disparity, model cards."""
