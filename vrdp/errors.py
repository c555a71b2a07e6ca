"""Errors that name the file and the problem, so an operator can act on them."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SourceFileError"]


class SourceFileError(ValueError):
    """A landing file that cannot be parsed at all (as opposed to a bad row).

    Parameters
    ----------
    path
        The offending file.
    problem
        What is wrong, in words an operator understands.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
