"""Reading a run folder for the API: series, bands, needs and summary, as JSON rows or HXL CSV.

A run's folder never changes once the run is done, so tables are cached by path and
modification time. An ensemble's "series" is its median band (q50); its summary.json, written
when it finishes, holds the median band's figures and each figure's 5-95 % range over members.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from borderflow.ensemble.runner import BANDS, MEMBERS_DIR, QUANTILE_COLUMNS, member_file
from borderflow.report.run_folder import SERIES_PARQUET, SUMMARY_JSON
from borderflow.results.headline import FIGURES, figures, summarise
from borderflow.results.hxl import write_rows
from borderflow.results.series import HXL_TAGS, hxl_csv
from borderflow.scenario.border_io import BorderCase

KEYS = ("date", "location", "indicator")
BAND_COLUMNS = (*QUANTILE_COLUMNS, "mean")
BAND_TAGS = {**{k: HXL_TAGS[k] for k in KEYS}, **{c: f"#indicator+num+{c}" for c in BAND_COLUMNS}}
NEED_TAGS = {"people": "#affected+num", "children": "#affected+children+num"}


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int) -> pa.Table:
    table = pq.read_table(path)
    # Plain strings and ISO dates once, so that every request only filters and serialises.
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if name in ("location", "indicator"):
            col = col.cast(pa.string())
        cols[name] = col
    return pa.table(cols)


def read_table(path: Path) -> pa.Table:
    return _read(str(path), path.stat().st_mtime_ns)


def _filter(table: pa.Table, indicator: str | None, location: str | None) -> pa.Table:
    if indicator:
        table = table.filter(pc.equal(table.column("indicator"), indicator))
    if location:
        table = table.filter(pc.equal(table.column("location"), location))
    return table


def series(folder: Path, ensemble: bool, indicator: str | None, location: str | None) -> pa.Table:
    """``date, location, indicator, value``: the run's series, or an ensemble's q50 band."""
    if ensemble:
        bands = _filter(read_table(folder / BANDS), indicator, location)
        return bands.select(list(KEYS)).append_column("value", bands.column("q50"))
    table = _filter(read_table(folder / SERIES_PARQUET), indicator, location)
    return table.select([*KEYS, "value"])


def bands(folder: Path, indicator: str | None, location: str | None) -> pa.Table:
    table = _filter(read_table(folder / BANDS), indicator, location)
    return table.select([*KEYS, *BAND_COLUMNS])


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    return [
        {n: _clean(v) for n, v in zip(names, values, strict=True)}
        for values in zip(*columns, strict=True)
    ]


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, allow_nan=False, separators=(",", ":")).encode()


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.6g}"
    return str(value)


def csv_bytes(records: Iterable[dict[str, Any]], tags: dict[str, str]) -> bytes:
    """Header, HXL hashtag row, then the records' values in the order of ``tags``."""
    buffer = io.StringIO()
    write_rows(buffer, tags, ([_num(_clean(r.get(k))) for k in tags] for r in records))
    return buffer.getvalue().encode()


def series_csv(table: pa.Table) -> bytes:
    """The same file ``borderflow run`` writes as series.csv (HXL row included)."""
    buffer = io.StringIO()
    hxl_csv(table, buffer)
    return buffer.getvalue().encode()


def summary(folder: Path) -> list[dict[str, Any]]:
    """The per-crossing records of summary.json."""
    return json.loads((folder / SUMMARY_JSON).read_text())


def need_indicators(case: BorderCase) -> list[str]:
    head = ["people", "children"]
    return head + [n.indicator for n in case.needs if n.indicator not in head]


def needs(folder: Path, ensemble: bool, indicators: Sequence[str]) -> list[dict[str, Any]]:
    """One row per day and place with people in need: people, children and each need."""
    table = series(folder, ensemble, None, None)
    table = table.filter(pc.is_in(table.column("indicator"), pa.array(list(indicators))))
    data = table.to_pydict()
    out: dict[tuple, dict[str, Any]] = {}
    for date, loc, ind, value in zip(*(data[k] for k in (*KEYS, "value")), strict=True):
        row = out.setdefault((date, loc), {"date": date, "location": loc})
        row[ind] = value
    ordered = [out[k] for k in sorted(out)]
    return [{k: _clean(row.get(k)) for k in ("date", "location", *indicators)} for row in ordered]


def needs_tags(indicators: Sequence[str]) -> dict[str, str]:
    tags = {"date": HXL_TAGS["date"], "location": HXL_TAGS["location"]}
    tags.update({i: NEED_TAGS.get(i, f"#indicator+num+{i}") for i in indicators})
    return tags


def ensemble_summary(folder: Path, case: BorderCase, members: int) -> list[dict[str, Any]]:
    """Headline figures of an ensemble per crossing, from the forecast origin on.

    The figures are those of the median band (q50), the curve the dashboard draws; the spread
    of each figure over the members is given as its 5-95 % range (``members_90``).
    """
    from borderflow.results.series import Series, read_parquet

    band = read_table(folder / BANDS)
    median = Series.from_table(band.select(["day", *KEYS]).append_column("value", band["q50"]))
    crossings = [c.name for c in case.crossings]
    since = case.origin_day
    mid = figures(median, crossings, since)
    per_member = [
        figures(Series.from_table(read_parquet(folder / MEMBERS_DIR / member_file(i))),
                crossings, since)
        for i in range(members)
    ]  # fmt: skip
    wanted = need_indicators(case)
    out = []
    for s in summarise(median, crossings, since, wanted):
        row: dict[str, Any] = {"crossing": s.crossing}
        row.update({key: mid[(label, s.crossing)] for key, label, _, _ in FIGURES})
        row.update(
            peak_date=s.peak_date,
            days_with_stranded=s.days_with_stranded,
            needs_at_peak={i: _clean(s.needs_at_peak.get(i)) for i in wanted},
            members_90={
                key: [
                    float(q)
                    for q in np.quantile([m[(label, s.crossing)] for m in per_member], [0.05, 0.95])
                ]
                for key, label, _, _ in FIGURES
            },
        )
        out.append(row)
    return out


def differences(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``b - a`` per crossing present in both, for every figure and need at the peak."""
    figures = ("peak_stranded", "person_days_stranded", "days_with_stranded", "crossed",
               "refused", "irregular")  # fmt: skip
    by_crossing = {row["crossing"]: row for row in a}
    out = []
    for row in b:
        base = by_crossing.get(row["crossing"])
        if base is None:
            continue
        diff: dict[str, Any] = {"crossing": row["crossing"]}
        for f in figures:
            diff[f] = float(row[f]) - float(base[f])
        needs_b, needs_a = row.get("needs_at_peak", {}), base.get("needs_at_peak", {})
        diff["needs_at_peak"] = {
            k: (needs_b[k] - needs_a[k])
            if needs_b.get(k) is not None and needs_a.get(k) is not None
            else None
            for k in needs_b
        }
        out.append(diff)
    return out
