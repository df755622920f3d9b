"""What every `fazhi-ie` subcommand shares: the one-line error and early output checks."""
from __future__ import annotations

import sys
from pathlib import Path


class CliError(Exception):
    """An error worth one line to the user."""


def err(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"fazhi-ie: {message}", file=sys.stderr)


def check_output_path(path: str | None, what: str = "output") -> None:
    """Refuse, before any work is done, an output file that cannot be written: its folder is missing,
    or it is a directory."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise CliError(f"{target}: the {what} path is a directory; give a file name")
    if not target.parent.exists():
        raise CliError(f"{target}: the {what} file's directory {target.parent} does not exist")
