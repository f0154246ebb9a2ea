"""Observations as HXL-tagged CSV: which hashtag feeds which field, reading and writing.

Reading finds the hashtag row by libhxl's rule (the first of the first 25 rows in which at
least half the non-empty cells are hashtags, with the same hashtag syntax) and reads the data
rows with the standard ``csv`` module, so each row keeps its line number in the file. That is
all of libhxl an import needs, and doing it here saves importing libhxl (0.2 s, more than
reading 10,000 rows) and its row objects (5 µs a row); tests/test_fuzz.py checks the rule
against libhxl's. (Hashtags are ASCII, as HXL writes them; libhxl would also transliterate an
accented ``#fecha+fín``.) Blank rows are skipped, wherever they are.

Writing guards against formula injection (OWASP, "CSV Injection"): a text cell starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a formula by a
spreadsheet, so it is written with a leading apostrophe. The stored value is unchanged, and
reading removes that apostrophe again, so an export imports back to the same observations.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from borderflow.errors import ScenarioError

# HXL hashtags (with attributes) → fields. The first matching tag wins; order matters.
HXL_FIELDS: tuple[tuple[str, str], ...] = (
    ("#date+end", "end_date"),
    ("#date+reported", "source_date"),
    ("#date", "date"),
    ("#meta+stat", "stat"),
    ("#loc+name", "place_name"),
    ("#loc+code", "place_code"),
    ("#adm1+code", "place_code"),
    ("#indicator+code", "indicator"),
    ("#indicator+name", "indicator"),
    ("#meta+direction", "direction"),
    ("#country+code", "nationality"),
    ("#meta+sexage", "sex_age"),
    ("#indicator+num+min", "value_low"),
    ("#indicator+num+max", "value_high"),
    ("#indicator+value+num", "value"),
    ("#meta+url", "source_url"),
    ("#meta+source", "source_publisher"),
    ("#meta+reliability", "reliability"),
    ("#meta+coverage", "coverage"),
)
EXPORT_TAGS = {
    "date": "#date+start",
    "end_date": "#date+end",
    "stat": "#meta+stat",
    "place_name": "#loc+name",
    "place_code": "#loc+code",
    "indicator": "#indicator+code",
    "direction": "#meta+direction",
    "nationality": "#country+code",
    "sex_age": "#meta+sexage",
    "value_low": "#indicator+num+min",
    "value_high": "#indicator+num+max",
    "source_publisher": "#meta+source",
    "source_url": "#meta+url",
    "source_date": "#date+reported",
    "reliability": "#meta+reliability",
    "coverage": "#meta+coverage",
}
# The columns a history export adds: which version each row is (none feeds an import field).
HISTORY_TAGS = {
    "current": "#meta+current",
    "recorded_at": "#meta+recorded+time",
    "recorded_by": "#meta+recorded+by",
    "replaced_at": "#meta+replaced+time",
    "replaced_by": "#meta+replaced+by",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TAG_ROWS = 25  # libhxl looks this far for the hashtag row
# libhxl's hxl.model.Column.PATTERN, on a cell lower-cased with its whitespace collapsed
HASHTAG = re.compile(r"^\s*(#[a-z][_0-9a-z]*)((?:\s*\+[a-z][_0-9a-z]*)*)\s*$")


def neutral(text: str) -> str:
    """``text`` as a spreadsheet shows it rather than runs it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """The inverse of :func:`neutral` (a cell the export guarded)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _field_of(tag: str, attrs: set[str]) -> str | None:
    """The field a column feeds, by its hashtag and attributes (None: ignored)."""
    for pattern, field in HXL_FIELDS:
        want, *wanted = pattern.split("+")
        if tag == want and set(wanted) <= attrs:
            return field
    return None


def _fields(cells: list[str]) -> list[str | None] | None:
    """The field of each column if ``cells`` is a hashtag row, else None (libhxl's rule)."""
    fields: list[str | None] = []
    filled = tags = 0
    for cell in cells:
        text = " ".join(cell.split()).lower()
        match = HASHTAG.match(text) if text else None
        filled += bool(text)
        tags += match is not None
        if match is None:
            fields.append(None)
            continue
        attrs = set(re.split(r"\s*\+", match[2].strip().strip("+"))) - {""}
        fields.append(_field_of(match[1], attrs))
    return fields if filled and tags >= filled / 2 else None


def _hashtag_row(rows: Iterator[tuple[int, list[str]]]) -> list[str | None]:
    """The fields of the columns, from the first hashtag row (consumed with what precedes it)."""
    for n, (_line, cells) in enumerate(rows):
        fields = _fields(cells)
        if fields is not None:
            return fields
        if n + 1 >= TAG_ROWS:
            break
    raise ScenarioError("no HXL hashtag row in the first 25 rows (e.g. #date,#loc+name,...)")


def _numbered(handle: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every non-blank row."""
    reader = csv.reader(handle)
    line = 0
    for cells in reader:
        first, line = line + 1, reader.line_num
        if "".join(cells).strip():
            yield first, cells


def read_records(handle: TextIO) -> list[tuple[int, dict[str, str]]]:
    """(line, {field: text}) of every data row; empty cells and untagged columns left out."""
    rows = _numbered(handle)
    fields = _hashtag_row(rows)
    used = [(k, f) for k, f in enumerate(fields) if f]
    out = []
    for line, cells in rows:
        n = len(cells)
        record = {f: cells[k] for k, f in used if k < n and cells[k] != ""}
        for f, v in record.items():
            if v[0] == "'":
                record[f] = restore(v)
        out.append((line, record))
    return out


def read_path(path: Path) -> list[tuple[int, dict[str, str]]]:
    """:func:`read_records` of a file; every problem is a ScenarioError naming it."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return read_records(handle)
    except ScenarioError as exc:
        raise ScenarioError(exc.message, file=path) from None
    except FileNotFoundError:
        raise ScenarioError("file not found", file=path) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except csv.Error as exc:
        raise ScenarioError(f"not valid CSV ({exc})", file=path) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=path) from None


def read_text(text: str, name: str) -> list[tuple[int, dict[str, str]]]:
    """:func:`read_records` of text already in memory (an upload), errors naming ``name``."""
    try:
        return read_records(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    except ScenarioError as exc:
        raise ScenarioError(exc.message, file=name) from None
    except csv.Error as exc:
        raise ScenarioError(f"not valid CSV ({exc})", file=name) from None


def cell(value: Any) -> Any:
    """A value as the export writes it: ISO dates, exact floats, guarded text."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutral(value) if isinstance(value, str) else value


def write_rows(
    handle: TextIO, tags: Mapping[str, str], records: Iterable[Mapping[str, Any]]
) -> None:
    """Header, hashtag row, then one row per record (a mapping of the tags' fields)."""
    from borderflow.results.hxl import write_rows as write_table

    write_table(handle, tags, ([cell(r[c]) for c in tags] for r in records))


def write_path(path: Path, tags: Mapping[str, str], records: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_rows(handle, tags, records)


def columns(records: Sequence[Any], names: Iterable[str]) -> list[dict[str, Any]]:
    """ORM rows as mappings of ``names`` (dicts pass through)."""
    names = list(names)
    return [r if isinstance(r, dict) else {c: getattr(r, c) for c in names} for r in records]
