"""Shared fixtures: writable copies of the built-in Flee scenarios, and CSV editing helpers.

Row numbers used by the helpers are 1-based line numbers in the file, the same numbering that
:class:`borderflow.errors.ScenarioError` reports.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from borderflow.scenario.locate import builtin_root


def builtin_flee(name: str) -> Path:
    """The read-only built-in copy of a Flee scenario (``mali`` or ``burundi``)."""
    path = builtin_root() / "flee" / name
    assert path.is_dir(), f"built-in scenario {name!r} missing at {path}"
    return path


class CsvEdit:
    """Rewrite single lines or cells of a CSV file in place (line numbers are 1-based)."""

    @staticmethod
    def lines(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8-sig").splitlines()

    @staticmethod
    def _write(path: Path, lines: list[str]) -> None:
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    @classmethod
    def cells(cls, path: Path, row: int) -> list[str]:
        """The parsed cells of line ``row``."""
        return next(csv.reader([cls.lines(path)[row - 1]]))

    @classmethod
    def set_line(cls, path: Path, row: int, text: str) -> None:
        """Replace line ``row`` by ``text``."""
        lines = cls.lines(path)
        assert 1 <= row <= len(lines), f"{path.name} has {len(lines)} lines, not {row}"
        lines[row - 1] = text
        cls._write(path, lines)

    @classmethod
    def set_cell(cls, path: Path, row: int, col: int, value: str) -> str:
        """Replace cell ``col`` (0-based) of line ``row``; returns the old value."""
        cells = cls.cells(path, row)
        assert col < len(cells), f"{path.name} line {row} has {len(cells)} cells"
        old, cells[col] = cells[col], value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="").writerow(cells)
        cls.set_line(path, row, buf.getvalue())
        return old

    @classmethod
    def delete_line(cls, path: Path, row: int) -> str:
        """Remove line ``row``; returns it."""
        lines = cls.lines(path)
        gone = lines.pop(row - 1)
        cls._write(path, lines)
        return gone

    @classmethod
    def insert_line(cls, path: Path, row: int, text: str) -> None:
        """Insert ``text`` so that it becomes line ``row``."""
        lines = cls.lines(path)
        lines.insert(row - 1, text)
        cls._write(path, lines)

    @classmethod
    def append_line(cls, path: Path, text: str) -> int:
        """Add ``text`` as a new last line; returns its line number."""
        lines = cls.lines(path)
        lines.append(text)
        cls._write(path, lines)
        return len(lines)

    @classmethod
    def keep_lines(cls, path: Path, n: int) -> None:
        """Truncate the file to its first ``n`` lines."""
        cls._write(path, cls.lines(path)[:n])

    @classmethod
    def find_row(cls, path: Path, first_cell: str) -> int:
        """The line number of the first line whose first cell is ``first_cell``."""
        for row, line in enumerate(cls.lines(path), start=1):
            cells = next(csv.reader([line]), [])
            if cells and cells[0].strip() == first_cell:
                return row
        raise AssertionError(f"no line starting with {first_cell!r} in {path}")


@pytest.fixture
def flee_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Factory: ``flee_copy("mali")`` copies a built-in scenario under tmp_path, returns it."""

    def make(name: str = "mali") -> Path:
        target = tmp_path / "scenarios" / name
        shutil.copytree(builtin_flee(name), target)
        return target

    return make


@pytest.fixture
def csv_edit() -> type[CsvEdit]:
    """The :class:`CsvEdit` helpers, for rewriting one line or cell of a copied CSV."""
    return CsvEdit
