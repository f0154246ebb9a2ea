"""The numbers the charts draw, read from series and band tables and from a case.

Each chart draws these very numbers, so tests check them rather than pixels. Pure data: no
matplotlib here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from borderflow.results.series import FLOW_SEPARATOR

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase

TOP_ROADS = 6  # roads drawn in flows.png


def select(table: pa.Table, indicator: str, location: str | None = None) -> pa.Table:
    """The rows of one indicator (at one location, if given)."""
    import pyarrow.compute as pc

    mask = pc.equal(table["indicator"].cast("string"), indicator)
    if location is not None:
        mask = pc.and_(mask, pc.equal(table["location"].cast("string"), location))
    return table.filter(mask)


def series(table: pa.Table, indicator: str, location: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates (``datetime64[D]``) and values of one indicator at one location, by day.

    Both arrays are empty when the table has no such rows.
    """
    rows = select(table, indicator, location).sort_by("day")
    dates = rows["date"].to_numpy().astype("datetime64[D]")
    values = rows["value"].to_numpy().astype(float)
    return dates, values


def locations(table: pa.Table, indicator: str) -> list[str]:
    """The locations that carry ``indicator``, in the order they first appear in the table."""
    seen = select(table, indicator)["location"].cast("string").to_pylist()
    return list(dict.fromkeys(seen))


def crossings(table: pa.Table, case: BorderCase | None = None) -> list[str]:
    """Crossing names: the case's order if given, else those with a ``stranded`` series."""
    if case is not None:
        return [c.name for c in case.crossings]
    return locations(table, "stranded")


def split_road(location: str) -> tuple[str, str]:
    """``"From>To"`` → ``("From", "To")``."""
    src, sep, dst = location.partition(FLOW_SEPARATOR)
    if not sep:
        raise ValueError(f"'{location}' is not a road (expected 'From{FLOW_SEPARATOR}To')")
    return src, dst


def road_totals(table: pa.Table) -> dict[tuple[str, str], float]:
    """Total people who completed each directed road over the whole run."""
    rows = select(table, "flow")
    if rows.num_rows == 0:
        return {}
    import pyarrow as pa

    plain = pa.table({"location": rows["location"].cast(pa.string()), "value": rows["value"]})
    grouped = plain.group_by("location").aggregate([("value", "sum")])
    return {
        split_road(loc): float(total)
        for loc, total in zip(
            grouped["location"].to_pylist(), grouped["value_sum"].to_pylist(), strict=True
        )
    }


def segment_totals(table: pa.Table) -> dict[tuple[str, str], float]:
    """Road totals with both directions summed, keyed by the two place names sorted."""
    out: dict[tuple[str, str], float] = {}
    for (a, b), total in road_totals(table).items():
        key = (a, b) if a <= b else (b, a)
        out[key] = out.get(key, 0.0) + total
    return out


def top_roads(table: pa.Table, n: int = TOP_ROADS) -> list[tuple[str, str]]:
    """The ``n`` directed roads with the largest total flow, largest first (ties by name)."""
    totals = road_totals(table)
    ranked = sorted((t for t in totals.items() if t[1] > 0), key=lambda t: (-t[1], t[0]))
    return [road for road, _ in ranked[:n]]


def peak_stranded(table: pa.Table, case: BorderCase | None = None) -> dict[str, float]:
    """The largest evening count of people stranded at each crossing over the run."""
    out = {}
    for name in crossings(table, case):
        _, values = series(table, "stranded", name)
        out[name] = float(values.max()) if len(values) else 0.0
    return out


def observed_ranges(
    case: BorderCase, indicator: str, location: str
) -> list[tuple[dt.date, float, float]]:
    """The case's reported (date, low, high) of single days, for one indicator and place."""
    rows = [
        (o.date, o.low, o.high)
        for o in case.observations
        if o.indicator == indicator and o.location == location and o.stat == "value"
    ]
    return sorted(rows)


def observed_periods(
    case: BorderCase, indicator: str, location: str
) -> list[tuple[dt.date, dt.date, str, float, float]]:
    """Reported means or peaks over a period: (start, end, stat, low, high), by start."""
    rows = [
        (o.date, o.end or o.date, o.stat, o.low, o.high)
        for o in case.observations
        if o.indicator == indicator and o.location == location and o.stat != "value"
    ]
    return sorted(rows)


def difference(
    table: pa.Table, baseline: pa.Table, indicator: str, location: str
) -> tuple[np.ndarray, np.ndarray]:
    """Day-by-day ``table − baseline`` of one series, on the dates both tables share."""
    d1, v1 = series(table, indicator, location)
    d0, v0 = series(baseline, indicator, location)
    common, i1, i0 = np.intersect1d(d1, d0, assume_unique=True, return_indices=True)
    return common, v1[i1] - v0[i0]


def band_series(bands: pa.Table, indicator: str, location: str) -> dict[str, np.ndarray]:
    """Dates and the quantile columns of one indicator at one place, in day order."""
    rows = select(bands, indicator, location)
    order = np.argsort(rows.column("day").to_numpy())
    out = {"dates": np.array(rows.column("date").to_pylist(), dtype="datetime64[D]")[order]}
    for col in ("q05", "q25", "q50", "q75", "q95"):
        out[col] = rows.column(col).to_numpy()[order]
    return out
