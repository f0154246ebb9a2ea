"""Decisions known only after a case's forecast origin (the ``announced`` column).

An episode is authored from reports, so its files may hold policy rows and events that were
decided (and made public) after the day the forecast is made from. Such a row carries the date
it became public in ``announced``; when that is after ``[case] origin`` the row is *known after
the origin*. Runs use these rows as dated known inputs by default; ``--known-at-origin`` drops
them, giving the inputs a forecaster on the origin day could have used. ``borderflow check``
lists them with :func:`known_after_origin`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from borderflow.scenario.border_schema import EventRow, PolicyRow

if TYPE_CHECKING:
    from borderflow.scenario.border_io import BorderCase

TABLES = ("policies", "events")


@dataclass(frozen=True)
class LateRow:
    """A policy or event row announced after the origin, and where it was written."""

    table: str  # "policies" or "events"
    file: Path  # the CSV, or scenario.toml for a row a variant adds
    row: int | None  # the CSV's line number; None for a variant's row
    announced: str  # YYYY-MM-DD
    row_data: PolicyRow | EventRow

    def describe(self) -> str:
        """One line for a listing: where, what and when it became public."""
        r = self.row_data
        where = f"{self.file.name}" + (f":{self.row}" if self.row is not None else "")
        if isinstance(r, PolicyRow):
            what = f"{r.crossing} {r.side} {r.policy} from {r.start}"
        else:
            what = f"{r.kind} {r.label or r.target or ''} from {r.start}".replace("  ", " ")
        return f"{where}: {what}, announced {self.announced}"


def _late(case: BorderCase, row: PolicyRow | EventRow) -> bool:
    return row.announced is not None and row.announced > case.spec.case.origin


def known_after_origin(case: BorderCase) -> list[LateRow]:
    """Rows of policies.csv and events.csv (and the chosen variant's) announced after the origin.

    Rows past the file's own (those a variant adds) are attributed to ``scenario.toml``.
    """
    out = []
    for table in TABLES:
        rows = getattr(case, table)
        lines = case.lines.get(table, ())
        for i, row in enumerate(rows):
            if not _late(case, row):
                continue
            if i < len(lines):
                file, line = case.path / getattr(case.spec.files, table), lines[i]
            else:
                file, line = case.path / "scenario.toml", None
            assert row.announced is not None
            out.append(LateRow(table, file, line, row.announced.isoformat(), row))
    return out


def at_origin(case: BorderCase) -> BorderCase:
    """The case without the rows known after its origin (what was known on the origin day).

    Line numbers of the rows kept stay with them, so errors still point at the right rows.
    """
    changes: dict[str, object] = {}
    lines = dict(case.lines)
    for table in TABLES:
        rows = getattr(case, table)
        file_lines = case.lines.get(table, ())
        keep = [i for i, row in enumerate(rows) if not _late(case, row)]
        changes[table] = tuple(rows[i] for i in keep)
        lines[table] = tuple(file_lines[i] for i in keep if i < len(file_lines))
    return replace(case, lines=lines, **changes)
