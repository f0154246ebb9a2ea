"""What every command-line entry shares: the two consoles, bad input as exit 2, the --db option.

Both the ``borderflow`` command (:mod:`borderflow.cli`) and the web app's commands
(:mod:`borderflow.web.commands`) use these, so neither imports the other.
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from borderflow.errors import ScenarioError

out = Console()
err = Console(stderr=True)


def fail(exc: ScenarioError) -> NoReturn:
    """Bad input: one line on stderr naming file, row and field, and exit status 2."""
    err.print(f"[bold red]error:[/] {exc.describe()}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def db_option(help_end: str):
    """The ``--db`` option, its help ending in ``help_end`` (each command group says why)."""
    return Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $BORDERFLOW_DB, else sqlite:///borderflow.db here)"
            + help_end,
        ),
    ]
