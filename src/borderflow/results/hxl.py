"""CSV with an HXL hashtag row under the header: how every table borderflow writes travels.

The columns are one mapping, name → hashtag, so a header and its tags cannot drift apart.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO


def write_rows(handle: TextIO, tags: Mapping[str, str], rows: Iterable[Sequence[object]]) -> None:
    """The header (the keys of ``tags``), the HXL row (its values), then ``rows``."""
    w = csv.writer(handle, lineterminator="\n")
    w.writerow(list(tags))
    w.writerow(list(tags.values()))
    w.writerows(rows)


def write_csv(path: Path, tags: Mapping[str, str], rows: Iterable[Sequence[object]]) -> None:
    """:func:`write_rows` into a UTF-8 file at ``path``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_rows(handle, tags, rows)
