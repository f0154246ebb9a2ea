"""The typed result of one run: what a ruleset hands to everything above the engine.

A ruleset makes a :class:`RunResult` when its run ends; runs, compare, ensembles, sensitivity,
calibration, the dashboard and the summary take results, never the model, so they do not
depend on a ruleset's internal arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from borderflow.results.headline import CrossingSummary, summarise
from borderflow.results.series import Series

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class RunResult:
    """The declared indicators of one run, with its calendar and forecast origin."""

    ruleset: str  # "border" or "flee"
    name: str  # the case's or scenario's name
    seed: int
    series: Series
    agents: int  # people simulated
    origin_day: int = 0  # first day of the forecast (0 when the origin is at or before start)
    crossings: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # the indicators of the case's needs table
    variant: Mapping[str, str] = field(default_factory=dict)
    phase_seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def start_date(self) -> dt.date:
        return self.series.start_date

    @property
    def days(self) -> int:
        return self.series.days

    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    @cached_property
    def table(self) -> pa.Table:
        """The tidy table of the run folder's series files (built once)."""
        return self.series.table()

    def summary(self) -> list[CrossingSummary]:
        """The headline figures per crossing from the forecast origin on."""
        return summarise(self.series, self.crossings, self.origin_day, self.needs)
