"""Reading a CSV file whose every problem is reported as a ScenarioError naming the file.

All readers (Flee's files, border cases, run outputs) go through :func:`csv_rows`, so a missing,
unreadable, non-UTF-8 or malformed file gets the same one-line message everywhere.
"""

from __future__ import annotations

import csv
from pathlib import Path

from borderflow.errors import ScenarioError


def csv_rows(path: Path, missing: str = "file not found") -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row; a leading byte-order mark is ignored."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            return [(reader.line_num, cells) for cells in reader if any(c.strip() for c in cells)]
    except FileNotFoundError:
        raise ScenarioError(missing, file=path) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except csv.Error as exc:
        raise ScenarioError(f"not valid CSV ({exc})", file=path) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=path) from None
