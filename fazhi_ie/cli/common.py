"""What every `fazhi-ie` subcommand shares: the one-line error and early output checks."""
from __future__ import annotations

import sys


class CliError(Exception):
    """An error worth one line to the user."""


def err(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"fazhi-ie: {message}", file=sys.stderr)


def check_output_path(path: str | None, what: str = "output") -> None:
    """Refuse, before any work is done, an output file that cannot be written: its folder is missing,
    or it is a directory."""
    from ..io.sources import output_path_problem

    problem = output_path_problem(path, what) if path else None
    if problem:
        raise CliError(problem)
