"""Benchmarks: each runnable as ``python -m bench.<name>``, figures in ``bench/results/``."""
