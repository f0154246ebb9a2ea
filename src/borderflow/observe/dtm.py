"""Flow-monitoring counts as IOM's Displacement Tracking Matrix (DTM) publishes them.

DTM's flow monitoring datasets count people passing a flow monitoring point (FMP), one row
per date, point, direction, nationality and, where given, sex and age group. Columns are
found by their HXL hashtag when the file has a hashtag row, else by their header (DTM's
English headers; case and spacing ignored):

=================  =====================================  ==========================
field              hashtags                               headers
=================  =====================================  ==========================
date (required)    ``#date``                              Date, Survey Date, ...
point (required)   ``#loc+name``                          Flow Monitoring Point, FMP
point code         ``#loc+code``                          FMP Code, Point Code
direction          ``#meta+direction``, ``#direction``     Direction, Flow Direction
nationality        ``#country+code+nationality`` (ISO3)   Nationality
sex                ``#group+sex``, ``#meta+sex``           Sex, Gender
age                ``#group+age``, ``#meta+age``           Age, Age Group
count (required)   ``#affected+total``, ``+num``          Count, Individuals, Total
=================  =====================================  ==========================

Counts disaggregated by sex and age in columns of their own, as HXL tags them
(``#affected+f+adults``, ``#affected+m+children``, ``#affected+f+age18_59``, ...), become
one count each, with that sex and age; a total column (``#affected+total``, ``+num``) becomes
a count with no sex or age.

Each point is mapped to one of the case's crossings: by an explicit ``point=crossing``
mapping, or when the point is named as the crossing or one of its posts. A count becomes an
observation of indicator ``flow_monitored`` at that crossing (the point's code kept as the
place code), so the store's rules apply: a file with an unmapped point or any bad row is
rejected whole, every bad row listed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError
from borderflow.observe.store import ImportRejectedError, ObservationIn, RowError, duplicates

INDICATOR = "flow_monitored"
SOURCE = "IOM Displacement Tracking Matrix (flow monitoring)"

# field → (hashtags, most specific first; header names, lower case)
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "date": (("#date",), ("date", "survey date", "reporting date", "observation date")),
    "point": (
        ("#loc+name",),
        ("flow monitoring point", "fmp", "fmp name", "point", "flow monitoring point name"),
    ),
    "point_code": (("#loc+code",), ("fmp code", "point code", "fmp pcode", "fmp id")),
    "direction": (("#meta+direction", "#direction"), ("direction", "flow direction")),
    "nationality": (
        ("#country+code+nationality", "#country+nationality", "#country+code"),
        ("nationality", "nationality iso3", "country of origin"),
    ),
    "sex": (("#group+sex", "#meta+sex"), ("sex", "gender")),
    "age": (("#group+age", "#meta+age"), ("age", "age group", "age range")),
    "count": (
        ("#affected+total", "#affected+num", "#indicator+num", "#indicator+value+num"),
        ("count", "individuals", "total", "total individuals", "number of individuals"),
    ),
}
_REQUIRED = ("date", "point", "count")


_AGES = ("infants", "children", "adolescents", "adults", "elderly")


@dataclass(frozen=True)
class DtmRow:
    """One count of a file: its line, its cells by field, and the count's column."""

    line: int
    cells: dict[str, str]
    count_field: str = "count"


def _disaggregation(tag: str) -> str | None:
    """``#affected+f+adults`` → ``"f adults"``; None unless a count by sex and/or age."""
    hashtag, *attrs = tag.strip().lower().split("+")
    if hashtag != "#affected":
        return None
    sex = next((a for a in attrs if a in ("m", "f")), "")
    age = next((a for a in attrs if a in _AGES or re.fullmatch(r"age[0-9]+(_[0-9]+|plus)?", a)), "")
    return " ".join(x for x in (sex, age) if x) or None


def _tag_matches(tag: str, pattern: str) -> bool:
    """``#loc+name+fmp`` matches ``#loc+name``: same hashtag, at least the pattern's attributes."""
    have, want = tag.lower().split("+"), pattern.split("+")
    return have[0] == want[0] and set(want[1:]) <= set(have[1:])


def _locate_columns(
    path: Path, header: Sequence[str], tags: Sequence[str] | None, wide: Mapping[int, str]
) -> dict[str, int]:
    """Column index of each field found; a missing required one is an error naming it.

    ``wide`` columns (counts by sex and age) are left out, and stand in for a total count.
    """
    found: dict[str, int] = {}
    for field, (hashtags, names) in _COLUMNS.items():
        if tags is not None:  # the most specific hashtag first, in any column
            candidates = [
                k
                for p in hashtags
                for k, tag in enumerate(tags)
                if tag.strip().startswith("#") and _tag_matches(tag.strip(), p)
            ]
        else:
            candidates = [k for k, h in enumerate(header) if " ".join(h.lower().split()) in names]
        free = [k for k in candidates if k not in found.values() and k not in wide]
        if free:
            found[field] = free[0]
    missing = [f for f in _REQUIRED if f not in found and not (f == "count" and wide)]
    if missing:
        raise ScenarioError(
            f"no column for {', '.join(missing)} (a DTM flow-monitoring file needs date, "
            "flow monitoring point and count)",
            file=path,
        )
    return found


def read_dtm_rows(path: Path) -> list[DtmRow]:
    """The file's counts as field → cell, with their line numbers (a wide row gives several)."""
    rows = csv_rows(path)
    if not rows:
        raise ScenarioError("empty file", file=path)
    header = rows[0][1]
    body = rows[1:]
    tags = None
    if body and all(c.strip().startswith("#") or not c.strip() for c in body[0][1]):
        tags, body = body[0][1], body[1:]
    wide = {k: label for k, t in enumerate(tags or []) if (label := _disaggregation(t))}
    columns = _locate_columns(path, header, tags, wide)
    if not body:
        raise ScenarioError("no data rows", file=path)
    out = []
    for line, cells in body:
        base = {f: cells[k].strip() for f, k in columns.items() if k < len(cells)}
        counts = [
            DtmRow(line, base | {"count": cells[k].strip(), "sexage": label}, f"count ({tags[k]})")
            for k, label in wide.items()
            if tags is not None and k < len(cells) and cells[k].strip()
        ]
        if base.get("count") or not counts:
            counts.insert(0, DtmRow(line, base))
        out += counts
    return out


def point_map(case_crossings: Sequence, explicit: Mapping[str, str]) -> dict[str, str]:
    """Point name (lower case) → crossing: the crossings and posts by name, then ``explicit``."""
    names = {c.name for c in case_crossings}
    out: dict[str, str] = {}
    for c in case_crossings:
        for alias in (c.name, c.exit_post, c.entry_post):
            out[alias.lower()] = c.name
    for point, crossing in explicit.items():
        if crossing not in names:
            raise ScenarioError(
                f"'{crossing}' is not a crossing of the case ({', '.join(sorted(names))})",
                file="--point",
            )
        out[point.strip().lower()] = crossing
    return out


def _sex_age(cells: Mapping[str, str]) -> str:
    if cells.get("sexage"):
        return cells["sexage"]
    sex = cells.get("sex", "").strip().lower()
    sex = {"male": "m", "female": "f", "men": "m", "women": "f"}.get(sex, sex)
    if sex in ("total", "all"):
        sex = ""
    age = cells.get("age", "").strip()
    age = "" if age.lower() in ("total", "all") else age
    return " ".join(x for x in (sex, age) if x)


def _count(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"not a number (got '{text}')") from None
    if value != int(value):
        raise ValueError(f"a count of people must be a whole number (got {text})")
    return value


def to_observations(
    path: Path, rows: Sequence[DtmRow], points: Mapping[str, str], source: str, reliability: str
) -> list[ObservationIn]:
    """Validated observations; raise ImportRejectedError listing every unmapped point or bad row."""
    out, lines, errors = [], [], []
    for row in rows:
        point = row.cells.get("point", "")
        crossing = points.get(point.lower())
        if crossing is None:
            known = ", ".join(sorted(points))
            errors.append(
                RowError(
                    row.line,
                    "point",
                    f"flow monitoring point '{point}' is not mapped to a crossing of the case "
                    f"(known: {known}; add --point '{point}=CROSSING')",
                )
            )
            continue
        try:
            value = _count(row.cells.get("count", ""))
        except ValueError as exc:
            errors.append(RowError(row.line, row.count_field, str(exc)))
            continue
        record = {
            "date": row.cells.get("date", ""),
            "place_name": crossing,
            "place_code": row.cells.get("point_code", ""),
            "indicator": INDICATOR,
            "direction": row.cells.get("direction", "").lower(),
            "nationality": row.cells.get("nationality", "").upper(),
            "sex_age": _sex_age(row.cells),
            "value": value,
            "source_publisher": source,
            "reliability": reliability,
            "coverage": f"flow monitoring point {point}",
        }
        try:
            out.append(ObservationIn.model_validate(record))
            lines.append(row.line)
        except ValidationError as exc:
            for e in exc.errors():
                field = ".".join(str(x) for x in e["loc"]) or "(row)"
                errors.append(RowError(row.line, field, e["msg"].removeprefix("Value error, ")))
    errors += duplicates(out, lines)  # one count given two values: which is right?
    if errors:
        raise ImportRejectedError(path, sorted(errors, key=lambda e: e.row))
    return out
