"""Simulated multi-agency world.

See ``synthetic/README.md``; command line: ``python -m synthetic.world``.
"""
