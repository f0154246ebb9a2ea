"""What the commands share: options defined once, argument parsing, executors, progress.

The consoles and the bad-input handling (a :class:`~borderflow.errors.ScenarioError` becomes
one line on stderr and exit status 2) are :mod:`borderflow.console`'s, shared with the web
app's commands.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from borderflow.console import db_option, err
from borderflow.errors import ScenarioError

DEFAULT_SCENARIO = "chile-peru-2025"
LangOption = Annotated[
    str,
    typer.Option(
        "--lang",
        envvar="BORDERFLOW_LANG",
        help="Language of the summary and charts: en or es (set BORDERFLOW_LANG to keep it).",
    ),
]


class Compat(StrEnum):
    """Which Flee the flee ruleset behaves like (see docs/flee.md)."""

    borderflow = "borderflow"
    head = "head"
    v31 = "3.1"


class AbcMethod(StrEnum):
    """How ABC-SMC moves on from generation 0 (see docs/forecasting.md, "ABC-SMC")."""

    beaumont = "beaumont"  # importance weights (Beaumont et al. 2009)
    replenish = "replenish"  # equal weights, MCMC moves (Drovandi & Pettitt 2011)


# Options shared by several commands, defined once.
MethodOption = Annotated[
    AbcMethod,
    typer.Option(help="beaumont: importance weights; replenish: equal weights, MCMC moves."),
]
VariantOption = Annotated[
    list[str] | None,
    typer.Option(
        "--variant",
        "-v",
        help="Pick a variant option, e.g. -v peru_policy=corridor (see `borderflow info CASE`).",
    ),
]
KnownAtOriginOption = Annotated[
    bool,
    typer.Option(
        "--known-at-origin",
        help="Drop the policy and event rows announced after the case's origin (the inputs a "
        "forecaster on the origin day had).",
    ),
]
CapacityOption = Annotated[
    list[str] | None,
    typer.Option(help="Processing capacity per day of a crossing, e.g. 'CROSSING=8000'."),
]
ParamsOption = Annotated[
    Path | None,
    typer.Option(
        help="Uncertain parameters (default: the case's uncertain.toml, completed for a border "
        "case by the shared prior that `borderflow learn` wrote; ensembles draw from the "
        "case's posterior.csv when it has one)."
    ),
]
WorkersOption = Annotated[
    int | None, typer.Option(min=1, help="Local processes (default: all cores).")
]
SchedulerOption = Annotated[
    str | None, typer.Option(help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786.")
]
DaskLocalOption = Annotated[
    int | None, typer.Option(min=1, help="Run on a local Dask cluster of N workers.")
]
ObsOption = Annotated[
    str | None,
    typer.Option(
        help="Fit to stored observations matching 'place=…,indicator=…,since=…,until=…' "
        "(see --db); default: the scenario's own (a case's observations.csv, a Flee "
        "scenario's camp series)."
    ),
]
CompatOption = Annotated[
    Compat | None,
    typer.Option(help="Flee scenarios: behave like this Flee (default: borderflow's rules)."),
]
DbOption = db_option("; e.g. postgresql+psycopg://user@host/borderflow.")
PlaceOption = Annotated[str | None, typer.Option(help="Only this place.")]
IndicatorOption = Annotated[str | None, typer.Option(help="Only this indicator.")]
SinceOption = Annotated[str | None, typer.Option(help="Only observations up to/after this date.")]


class LazyProgress:
    """A rich progress bar that appears only once a run has taken more than a second."""

    def __init__(self, label: str, delay: float = 1.0, unit: str = "days") -> None:
        self.label, self.delay, self.unit = label, delay, unit
        self.total = 0
        self.t0 = time.perf_counter()
        self.progress = None
        self.task = None

    def start(self, total: int) -> None:
        self.total = total
        self.t0 = time.perf_counter()

    def advance(self, day: int) -> None:
        if self.progress is None:
            if time.perf_counter() - self.t0 < self.delay:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=self.total)
        self.progress.update(self.task, completed=day + 1)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.4f}"


def pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """``["a=b", ...]`` as a dict; a malformed item is a usage error naming it.

    Both sides in Unicode NFC, as the case's names are (a crossing typed with a combining
    accent is the same crossing).
    """
    from borderflow.observe.quantity import nfc

    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ScenarioError(f"{what} '{item}' is not NAME=VALUE")
        out[nfc(key)] = nfc(value)
    return out


def capacities(values: list[str] | None) -> dict[str, int]:
    """``--capacity CROSSING=N`` options as a dict of whole, non-negative numbers."""
    out = {}
    for key, value in pairs(values, "--capacity").items():
        try:
            number = int(value)
        except ValueError:
            raise ScenarioError(f"--capacity {key}={value}: not a whole number") from None
        if number < 0:
            raise ScenarioError(f"--capacity {key}={value}: must not be negative")
        out[key] = number
    return out


def obs_filters(
    place: str | None, indicator: str | None, since: str | None, until: str | None
) -> dict:
    """The observation store's query filters, dates parsed (a bad one names its option)."""

    def day(text: str | None, name: str) -> dt.date | None:
        if text is None:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise ScenarioError(f"--{name} '{text}' is not a date (YYYY-MM-DD)") from None

    return {"place": place, "indicator": indicator, "since": day(since, "since"),
            "until": day(until, "until")}  # fmt: skip
