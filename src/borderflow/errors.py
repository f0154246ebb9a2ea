"""One error type for every problem a user can fix in their input.

The CLI turns it into a single line and exit status 2; nothing else in the code base needs to
know how errors are shown.
"""

from __future__ import annotations

from pathlib import Path


class ScenarioError(Exception):
    """A problem in a scenario or settings file, located as precisely as we can."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.message = message
        super().__init__(self.describe())

    def describe(self) -> str:
        """`file, row N, column 'c': message`, leaving out whatever is unknown."""
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message
