"""Flee's ``out.csv``: one row per day with per-camp simulation, data and error columns.

Written so that Flee's own post-processing tools read it unchanged; read back by
``borderflow validate``. The ``Date`` column is StartDate + day + 1, as Flee prints it: the row
holds the state at the end of day ``t``, i.e. at the start of the next date.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError

TAIL = (
    "Total error",
    "refugees in camps (UNHCR)",
    "total refugees (simulation)",
    "raw UNHCR refugee count",
    "refugees in camps (simulation)",
    "refugee_debt",
)


@dataclass(frozen=True)
class CampSeries:
    """Per-day camp counts of a run next to the data, and the run's totals."""

    start_date: dt.date
    camps: tuple[str, ...]
    sim: np.ndarray  # (days, camps) agents in each camp after the day's movement
    data: np.ndarray  # (days, camps) observed counts (interpolated, truncated)
    n_agents: np.ndarray  # (days,)
    raw: np.ndarray  # (days,) cumulative daily increments of the data
    debt: np.ndarray  # (days,)
    date_offset: int = 1  # out.csv's Date is StartDate + t + offset (Flee 3.1 prints + 0)

    @property
    def days(self) -> int:
        return len(self.n_agents)


def _camp_error(sim: float, data: float) -> float:
    return 0.0 if data < 1e-5 else round(abs(sim / data - 1.0), 4)


def write_out_csv(series: CampSeries, path: Path) -> None:
    """Flee's column layout, numbers formatted with Python's ``str`` as Flee does."""
    header = ["Day", "Date"]
    for c in series.camps:
        header += [f"{c} sim", f"{c} data", f"{c} error"]
    header += list(TAIL)
    with path.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(header)
        for t in range(series.days):
            sim = [int(x) for x in series.sim[t]]
            data = [int(x) for x in series.data[t]]
            row: list[object] = [
                t,
                (series.start_date + dt.timedelta(days=t + series.date_offset)).isoformat(),
            ]
            for s, d in zip(sim, data, strict=True):
                row += [s, d, _camp_error(s, d)]
            raw = int(series.raw[t])
            if raw > 0:
                total_abs = sum(round(abs(s - d), 4) for s, d in zip(sim, data, strict=True))
                row += [
                    float(total_abs) / raw,
                    int(sum(data)),
                    int(series.n_agents[t]),
                    raw,
                    int(sum(sim)),
                    int(series.debt[t]),
                ]
            else:
                row += [0.0, 0, int(series.n_agents[t]), 0, int(sum(sim)), 0]
            w.writerow(row)


def read_out_csv(path: Path) -> CampSeries:
    """Parse an out.csv written by borderflow or by Flee (any camp set, Flee's column names)."""
    rows = [cells for _, cells in csv_rows(path, "file not found (is this a run folder?)")]
    if len(rows) < 2:
        raise ScenarioError("no data rows", file=path)
    header = [h.strip() for h in rows[0]]
    col = {h: j for j, h in enumerate(header)}
    for name in ("Day", *TAIL[1:]):
        if name not in col:
            raise ScenarioError(f"missing column '{name}'", file=path, row=1)
    camps = tuple(h[: -len(" sim")] for h in header if h.endswith(" sim") and h != "Day")
    camps = tuple(c for c in camps if f"{c} data" in col)

    def number(r: int, cells: list[str], name: str) -> float:
        try:
            return float(cells[col[name]])
        except (ValueError, IndexError):
            raise ScenarioError("not a number", file=path, row=r, column=name) from None

    body = rows[1:]
    sim = np.zeros((len(body), len(camps)))
    data = np.zeros((len(body), len(camps)))
    tail = np.zeros((len(body), 4))
    for t, cells in enumerate(body):
        r = t + 2
        for k, c in enumerate(camps):
            sim[t, k] = number(r, cells, f"{c} sim")
            data[t, k] = number(r, cells, f"{c} data")
        tail[t] = [number(r, cells, n) for n in (TAIL[2], TAIL[3], TAIL[5], "Day")]
    start = dt.date(1970, 1, 1)
    if "Date" in col:
        with contextlib.suppress(ValueError, IndexError):
            start = dt.date.fromisoformat(body[0][col["Date"]]) - dt.timedelta(days=1)
    return CampSeries(start, camps, sim, data, tail[:, 0], tail[:, 1], tail[:, 2])
