"""The tidy daily table every run produces: one row per (day, place, indicator).

Column names live here, once. pyarrow is imported only where a table is built, read or
written, so that a run pays its import time only when it writes files. Parquet keeps types (day
as int32, date as date32, location and indicator dictionary-encoded), which makes a million-row
table a few hundred kilobytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

COLUMNS = ("day", "date", "location", "indicator", "value")
#: A road's location name in the series is "From>To".
FLOW_SEPARATOR = ">"


def schema() -> pa.Schema:
    """The typed columns of every series table."""
    import pyarrow as pa

    return pa.schema(
        [
            ("day", pa.int32()),
            ("date", pa.date32()),
            ("location", pa.dictionary(pa.int32(), pa.string())),
            ("indicator", pa.dictionary(pa.int32(), pa.string())),
            ("value", pa.float64()),
        ]
    )


class Series:
    """A run's declared indicators: (days × places) blocks of one indicator each.

    The typed form every result travels in (a run's result, a member read back from its file);
    :meth:`table` gives the tidy table the files hold, :meth:`from_table` reads one back.
    """

    def __init__(self, start_date: dt.date, days: int) -> None:
        self.start_date = start_date
        self.days = days
        self._blocks: list[tuple[str, Sequence[str], np.ndarray]] = []
        self._index: dict[str, int] = {}

    def add(self, indicator: str, places: Sequence[str], values: np.ndarray) -> None:
        """``values`` has shape (days, len(places))."""
        values = np.asarray(values, dtype=np.float64).reshape(self.days, len(places))
        self._index[indicator] = len(self._blocks)
        self._blocks.append((indicator, list(places), values))

    def indicators(self) -> list[str]:
        return [indicator for indicator, _, _ in self._blocks]

    def places(self, indicator: str) -> list[str]:
        """The places an indicator is counted at (none when the run does not count it)."""
        k = self._index.get(indicator)
        return [] if k is None else list(self._blocks[k][1])

    def block(self, indicator: str) -> np.ndarray | None:
        """The (days × places) values of an indicator, in the order of :meth:`places`."""
        k = self._index.get(indicator)
        return None if k is None else self._blocks[k][2]

    def values(self, indicator: str, location: str) -> np.ndarray | None:
        """The daily values of an indicator at one place, or None when it is not counted."""
        k = self._index.get(indicator)
        if k is None:
            return None
        _, places, values = self._blocks[k]
        return values[:, places.index(location)] if location in places else None

    @classmethod
    def from_table(cls, table: pa.Table) -> Series:
        """The blocks of a tidy table (a run's or a member's file, a band's column)."""
        if table.num_rows == 0:
            return cls(dt.date(1970, 1, 1), 0)
        day = table.column("day").to_numpy()
        days = int(day.max()) + 1
        start = table.column("date")[int(np.argmin(day))].as_py() - dt.timedelta(int(day.min()))
        out = cls(start, days)
        ind = table.column("indicator").to_numpy(zero_copy_only=False)
        loc = table.column("location").to_numpy(zero_copy_only=False)
        value = table.column("value").to_numpy()
        for indicator in dict.fromkeys(ind):
            rows = np.flatnonzero(ind == indicator)
            places = list(dict.fromkeys(loc[rows]))
            col = {p: j for j, p in enumerate(places)}
            block = np.zeros((days, len(places)))
            block[day[rows], [col[p] for p in loc[rows]]] = value[rows]
            out.add(str(indicator), places, block)
        return out

    def table(self) -> pa.Table:
        import pyarrow as pa

        typed = schema()
        parts = []
        for indicator, places, values in self._blocks:
            n = len(places)
            day = np.repeat(np.arange(self.days, dtype=np.int32), n)
            loc_idx = np.tile(np.arange(n, dtype=np.int32), self.days)
            parts.append(
                pa.table(
                    {
                        "day": _array(day, pa.int32()),
                        "date": _array(day + np.int32(_epoch_days(self.start_date)), pa.date32()),
                        "location": pa.DictionaryArray.from_arrays(
                            _array(loc_idx, pa.int32()), _strings(places)
                        ),
                        "indicator": pa.DictionaryArray.from_arrays(
                            _array(np.zeros(len(day), np.int32), pa.int32()), _strings([indicator])
                        ),
                        "value": _array(values.ravel(), pa.float64()),
                    },
                    schema=typed,
                )
            )
        if not parts:
            return typed.empty_table()
        return pa.concat_tables(parts, promote_options="permissive").unify_dictionaries()


def _array(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A fixed-width Arrow array over ``values``' memory (its dtype must match ``kind``).

    Not ``pa.array``: that imports pandas (0.7 s, more than a short run takes) to ask whether
    its argument is a pandas object.
    """
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _strings(items: Sequence[str]) -> pa.Array:
    """An Arrow string array, built as :func:`_array` is (no pandas)."""
    import pyarrow as pa

    data = [s.encode() for s in items]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(data), buffers)


def _epoch_days(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")


def read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(path)


#: The HXL hashtag row written under the header of every long-format CSV.
HXL_TAGS = {
    "date": "#date",
    "location": "#loc+name",
    "indicator": "#indicator+code",
    "value": "#indicator+value+num",
}


def write_hxl_csv(table: pa.Table, path: Path) -> None:
    """``date,location,indicator,value`` with an HXL hashtag row under the header.

    Whole numbers are written without a decimal point; others with up to 6 significant digits.
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        hxl_csv(table, handle)


def number_text(value: float) -> str:
    """A series value as CSV text: whole numbers without a decimal point, else 6 digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def hxl_csv(table: pa.Table, handle: TextIO) -> None:
    """The text of :func:`write_hxl_csv`, to any open text stream (a file, a web response)."""
    from borderflow.results.hxl import write_rows

    cols = ["date", "location", "indicator", "value"]
    data = table.select(cols).to_pydict()
    rows = (
        [date.isoformat(), loc, ind, number_text(value)]
        for date, loc, ind, value in zip(*(data[c] for c in cols), strict=True)
    )
    write_rows(handle, {c: HXL_TAGS[c] for c in cols}, rows)
