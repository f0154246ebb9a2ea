"""Flee's validation data (``source_data/``): dated count series, read the way Flee reads them.

Flee keeps each file's rows in file order and interpolates by scanning them in that order, so a
row that repeats or goes back to an earlier date bends the curve instead of stopping the run.
Real scenarios have such rows (FabFlee's nigeria2016, ukraine2022, mali2017_adm1); borderflow
keeps the file order too, gets the same numbers, and says what it did in one warning per row.
``docs/flee.md`` lists every such decision.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError
from borderflow.scenario.confine import inside

#: Flee skips a series file's first row when its first cell is one of these (or empty).
SERIES_HEADERS = ("Date", "DateTime")


def where(file: Path, row: int | None = None, column: str | None = None) -> str:
    """The ``file, row N, column 'c'`` prefix of a warning, as errors are located."""
    parts = [str(file)]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


@dataclass(frozen=True)
class Series:
    """A dated count series as day offsets from the start date, in file order.

    Sorted, duplicate-free days are the usual case; :meth:`interpolate` also gives Flee's
    numbers when they are not.
    """

    name: str
    days: np.ndarray  # int64, file order
    values: np.ndarray  # float64

    def exact(self, t: np.ndarray) -> np.ndarray:
        """Flee's full interpolation at days ``t``, before truncation (float64).

        At or before the first row: its value. Otherwise the first row ``i`` (in file order,
        from the second) whose day is after ``t`` gives a straight line from row ``i - 1`` to
        row ``i``; with no such row, the last row's value.
        """
        days, values = self.days, self.values
        t = np.asarray(t, dtype=np.int64)
        out = np.full(t.shape, values[-1], dtype=np.float64)
        if len(days) > 1:
            later = t[..., None] < days[None, 1:]
            found = later.any(axis=-1)
            i = np.argmax(later, axis=-1) + 1
            d0, d1, v0, v1 = days[i - 1], days[i], values[i - 1], values[i]
            # Where a row is found, t >= days[i - 1] and t < days[i], so d1 > d0.
            with np.errstate(divide="ignore", invalid="ignore"):
                line = v0 + (v1 - v0) * ((t - d0) / (d1 - d0))
            out = np.where(found, line, out)
        return np.where(t <= days[0], values[0], out)

    def interpolate(self, t: np.ndarray) -> np.ndarray:
        """Flee's value at days ``t`` (int64): :meth:`exact`, truncated toward zero."""
        return np.trunc(self.exact(t)).astype(np.int64)

    def at(self, day: int) -> int:
        """The value on one day (see :meth:`interpolate`)."""
        return int(self.interpolate(np.array([day]))[0])

    def daily(self, n_days: int) -> np.ndarray:
        """Values for days 0..n_days-1 (int64)."""
        return self.interpolate(np.arange(n_days))

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """One (day, value) per distinct date, sorted: the value Flee uses on that day.

        For a sorted file without repeated dates these are the rows themselves.
        """
        days = np.unique(self.days)
        return days, self.exact(days)


def number_cell(text: str, *, path: Path, row: int, column: str, integer: bool = False) -> float:
    value = text.strip()
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ScenarioError(f"'{text}' is not {kind}", file=path, row=row, column=column) from None
    if not math.isfinite(number):
        raise ScenarioError(f"'{text}' is not finite", file=path, row=row, column=column)
    return number


def date_cell(text: str, *, path: Path, row: int, column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ScenarioError(
            f"'{text}' is not a date (YYYY-MM-DD)", file=path, row=row, column=column
        ) from None


def _order_warning(path: Path, back: list[tuple[int, dt.date, str]]) -> str:
    """One warning for the rows of a file whose date is not after every earlier row's."""
    row, date, what = back[0]
    more = f" (and {len(back) - 1} more row(s) after it)" if len(back) > 1 else ""
    return (
        f"{where(path, row, 'date')}: date {date} {what}{more}; rows kept in file order and "
        "interpolated through as Flee does, so the series bends back there instead of stopping"
    )


def read_series_file(
    path: Path, start: dt.date, hasten: int, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(day offsets, counts / hasten) of one ``date,count`` file, in file order."""
    days: list[int] = []
    values: list[float] = []
    seen: dict[dt.date, int] = {}
    latest: tuple[dt.date, int] | None = None
    back: list[tuple[int, dt.date, str]] = []  # rows dated at or before an earlier row
    for n, (row, cells) in enumerate(csv_rows(path)):
        first = cells[0].strip()
        if first.startswith("#") or (n == 0 and first in (*SERIES_HEADERS, "")):
            continue
        if len(cells) < 2 or not cells[1].strip():
            continue
        date = date_cell(first, path=path, row=row, column="date")
        count = number_cell(cells[1], path=path, row=row, column="count", integer=True)
        if count < 0:
            raise ScenarioError(f"{int(count)} is negative", file=path, row=row, column="count")
        if latest is not None and date <= latest[0]:
            what = (
                f"repeats row {seen[date]}"
                if date in seen
                else f"is earlier than {latest[0]} on row {latest[1]}"
            )
            back.append((row, date, what))
        else:
            latest = (date, row)
        seen.setdefault(date, row)
        days.append((date - start).days)
        values.append(count / hasten)
    if not days:
        raise ScenarioError("no dated counts", file=path)
    if back:
        warnings.append(_order_warning(path, back))
    return np.asarray(days, dtype=np.int64), np.asarray(values, dtype=np.float64)


def merge_series(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """Add a second file to a series the way Flee's ``AddCSVTables`` does.

    Walking the second file's rows: rows of the first dated before one are emitted with the
    second file's previous count added; a row on a first-file date adds the two; a row between
    first-file dates adds the next first-file count. First-file rows after the second file's
    last date are dropped. Returns the merged rows and how many first-file rows were dropped.
    Flee fails when the second file's first row is dated after the first's; so does this
    (ValueError), and the caller says which files.
    """
    d1, v1 = first
    d2, v2 = second
    if d2[0] > d1[0]:
        raise ValueError("the added file starts after the series")
    out_d: list[int] = []
    out_v: list[float] = []
    kept: set[int] = set()  # first-file rows whose date reaches the output
    k, last = 0, len(d1) - 1
    carried = 0.0
    for day, value in zip(d2.tolist(), v2.tolist(), strict=True):
        while day > d1[k]:
            out_d.append(int(d1[k]))
            out_v.append(carried + float(v1[k]))
            kept.add(k)
            if k == last:
                break
            k += 1
        if day == d1[k]:
            out_d.append(day)
            out_v.append(value + float(v1[k]))
            kept.add(k)
            k = min(k + 1, last)
            carried = value
        elif day < d1[k]:
            out_d.append(day)
            out_v.append(value + float(v1[k]))
            carried = value
    dropped = len(d1) - len(kept)
    merged = (np.asarray(out_d, dtype=np.int64), np.asarray(out_v, dtype=np.float64))
    return merged, dropped


def _layout_series(
    source: Path, layout: Path, row: int, files: list[str], start: dt.date, hasten: int,
    warnings: list[str],
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One data_layout row's files, read and merged in order."""
    merged: tuple[np.ndarray, np.ndarray] | None = None
    for file in files:
        target = inside(source.parent, source / file, named_in=layout, row=row, column="file")
        if not target.is_file():
            raise ScenarioError(
                f"names '{file}', which does not exist", file=layout, row=row, column="file"
            )
        table = read_series_file(target, start, hasten, warnings)
        if merged is None:
            merged = table
            continue
        if table[0][0] > merged[0][0]:
            raise ScenarioError(
                f"'{file}' starts on {start + dt.timedelta(days=int(table[0][0]))}, after the "
                f"files before it ({start + dt.timedelta(days=int(merged[0][0]))}); Flee's "
                "merge of a camp's files fails on that, so it is refused: give "
                f"'{file}' a row on that first date",
                file=layout,
                row=row,
                column="file",
            )
        merged, dropped = merge_series(merged, table)
        if dropped:
            warnings.append(
                f"{where(layout, row, 'file')}: {dropped} row(s) of the files before '{file}' "
                f"are dated after its last row; Flee's merge drops them, and so does borderflow"
            )
    if merged is None:
        raise ScenarioError("names no file", file=layout, row=row, column="file")
    return merged


def read_validation(
    source: Path,
    start: dt.date,
    names: set[str],
    camps: set[str],
    hasten: int,
    warnings: list[str],
) -> tuple[Series, ...]:
    """``data_layout.csv``: the first row is the total, then one series per camp.

    A row naming no location is read, as Flee reads it: it is compared with no camp, but its
    increments count in the daily arrivals when they are summed from the camps.
    """
    layout = inside(source.parent, source / "data_layout.csv")
    out: list[Series] = []
    for row, cells in csv_rows(layout):
        cells = [c.strip() for c in cells]
        if cells[0].startswith("#") or len(cells) < 2:
            continue
        name, files = cells[0], [c for c in cells[1:] if c]
        if out and name not in names:
            warnings.append(
                f"{where(layout, row, 'name')}: '{name}' is not a location in locations.csv; "
                "its series is read but compared with no camp (as Flee does: it still counts "
                "in the daily arrivals when they are summed from the camp series)"
            )
        days, values = _layout_series(source, layout, row, files, start, hasten, warnings)
        out.append(Series(name, days, values))
    if not out:
        raise ScenarioError("no series (the first row must be the total)", file=layout)
    have = {s.name for s in out[1:]}
    missing = [c for c in sorted(camps) if c not in have]
    if missing:
        raise ScenarioError(f"no series for camp(s) {', '.join(missing)}", file=layout)
    return tuple(out)


def apply_registration_corrections(
    path: Path, series: tuple[Series, ...], start: dt.date, warnings: list[str]
) -> tuple[Series, ...]:
    """Rescale a camp's counts before a re-registration date (UNHCR level-2 corrections).

    As in Flee, every row of the series on that date (after the first row) rescales the rows
    before it, in file order; a date on no such row stops Flee, and is refused here.
    """
    if not path.exists():
        return series
    by_name = {s.name: i for i, s in enumerate(series)}
    out = list(series)
    for row, cells in csv_rows(path):
        if len(cells) < 2:
            continue
        name = cells[0].strip()
        if name not in by_name:
            raise ScenarioError(
                f"no validation series named '{name}'", file=path, row=row, column="camp"
            )
        date = date_cell(cells[1], path=path, row=row, column="date")
        offset = (date - start).days
        if offset < 0:
            continue
        s = out[by_name[name]]
        hits = [int(i) for i in np.flatnonzero(s.days == offset) if i > 0]
        if not hits:
            raise ScenarioError(
                f"{date} is not a data point after the first in '{name}''s series",
                file=path,
                row=row,
                column="date",
            )
        if len(hits) > 1:
            warnings.append(
                f"{where(path, row, 'date')}: {date} is on {len(hits)} rows of '{name}''s "
                "series; the correction is applied at each, in file order, as Flee does"
            )
        values = s.values.copy()
        for i in hits:
            if values[i - 1] == 0:
                raise ScenarioError(
                    f"the point before {date} in '{name}''s series is 0", file=path, row=row
                )
            values[:i] *= values[i] / values[i - 1]
        out[by_name[name]] = Series(s.name, s.days, values)
    return tuple(out)
