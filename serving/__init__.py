"""Serving: the read API for apps and BI tools (``serving.api``).

It reads published exports through :mod:`exports` and never imports an asset;
the assets that publish those exports live in ``assets/exports``.
"""
