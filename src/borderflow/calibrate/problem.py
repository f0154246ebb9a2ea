"""What calibration and backtesting need from a model, for border cases and Flee scenarios alike.

A :class:`Problem` knows its parameter names, its observations (ranges, possibly over periods)
and how to simulate with some parameters set: a :class:`Simulation` gives a daily series per
(place, indicator), from which :func:`figure` takes the value, mean or maximum an observation
reports. ABC-SMC and the backtest only talk to this interface, so both work on either model.

The distance to the observations differs by kind, on purpose: reports at a border post are
ranges ("150–200 on average"), scored by how far the simulation falls outside them; a Flee
scenario's camp series are counts, scored by Flee's own averaged relative difference (simulated
camps rescaled to the observed total), the measure its validation uses.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.errors import ScenarioError
from borderflow.observe.quantity import quantity_series, reliability_weights
from borderflow.results.run_result import RunResult
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.flee_io import CAMP_INDICATOR, Closure, camp_observations


def last_day(o: ObservationRow) -> dt.date:
    return o.end or o.date


def figure(daily: np.ndarray, start: dt.date, o: ObservationRow) -> float | None:
    """The simulated counterpart of one observation (None if the run does not cover it)."""
    first = (o.date - start).days
    last = (last_day(o) - start).days
    if first < 0 or last >= len(daily):
        return None
    values = daily[first : last + 1]
    if o.stat == "mean":
        return float(values.mean())
    if o.stat == "max":
        return float(values.max())
    return float(values[0])


def range_loss(pairs: Iterable[tuple[ObservationRow, float]]) -> tuple[float, int, int]:
    """Squared relative distance of each simulated value to its observed range (0 inside).

    Several reports of the same quantity are weighed by their reliability grade
    (:func:`~borderflow.forecast.likelihood.reliability_weights`). Returns (loss, observations
    inside their range, observations scored).
    """
    pairs = list(pairs)
    weights = reliability_weights([o for o, _ in pairs])
    loss, inside, total = 0.0, 0, 0
    for (o, v), weight in zip(pairs, weights, strict=True):
        below = max(0.0, o.low - v) / max(o.low, 1.0)
        above = max(0.0, v - o.high) / max(o.high, 1.0)
        loss += weight * (below**2 + above**2)  # x 1.0 is exact: lone reports unchanged
        inside += int(o.low <= v <= o.high)
        total += 1
    return loss, inside, total


class Simulation:
    """A run seen from its observations: the simulated counterpart of each reported figure."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.start = result.start_date

    def daily(self, location: str, indicator: str) -> np.ndarray | None:
        """The simulated daily series, or None if the run has no such figure.

        Sums of indicators or places, ``ALL`` and ``cum_`` totals are read as
        :func:`~borderflow.observe.quantity.quantity_series` reads them.
        """
        return quantity_series(self.result.series, location, indicator)

    def value(self, o: ObservationRow) -> float | None:
        series = self.daily(o.location, o.indicator)
        return None if series is None else figure(series, self.start, o)


@dataclass(frozen=True)
class Problem(ABC):
    """A model, its observations and its parameter space."""

    name: str
    path: Path
    start: dt.date
    days: int
    observations: tuple[ObservationRow, ...]

    @abstractmethod
    def parameter_names(self) -> list[str]: ...

    @abstractmethod
    def simulate(
        self, values: dict[str, float], seed: int, until: int, origin: int | None = None
    ) -> Simulation:
        """Run days 0..``until`` with ``values`` set.

        With an ``origin`` (a day), a forecast starts from the state this problem's
        observations give on that day, where the model can take it (Flee camps: their counts).
        """

    @abstractmethod
    def distance(self, sim: Simulation) -> float:
        """How far a simulation lies from the observations (0 = a perfect fit)."""

    def priors_path(self) -> Path:
        return self.path / "uncertain.toml"

    def until(self) -> int:
        """The last day any observation needs."""
        if not self.observations:
            raise ScenarioError("no observations to fit to", file=self.path)
        last = max(last_day(o) for o in self.observations)
        return min((last - self.start).days, self.days - 1)

    def with_observations(self, rows: Sequence[ObservationRow]) -> Problem:
        return dataclasses.replace(self, observations=tuple(rows))

    def restrict(self, until: dt.date) -> Problem:
        """Only the observations fully known by ``until`` (their last day on or before it)."""
        return self.with_observations([o for o in self.observations if last_day(o) <= until])

    def covered(self) -> list[ObservationRow]:
        """Observations inside the simulated period (others can be neither fitted nor scored)."""
        end = self.start + dt.timedelta(days=self.days - 1)
        return [o for o in self.observations if o.date >= self.start and last_day(o) <= end]

    @property
    def openings(self) -> tuple[Closure, ...]:
        """Closures the fit adds to the scenario from the observations (none by default)."""
        return ()

    def write_openings(self, path: Path) -> None:
        """The openings as rows of Flee's closures.csv, to add to a scenario that repeats a fit."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle, lineterminator="\n")
            w.writerow(["#closure_type", "name1", "name2", "closure_start", "closure_end"])
            for c in self.openings:
                w.writerow([c.kind, c.name1, c.name2, c.start, c.end])


# -- border cases -----------------------------------------------------------------------------
@dataclass(frozen=True)
class BorderProblem(Problem):
    case: object = None  # BorderCase

    @classmethod
    def load(cls, path: Path) -> BorderProblem:
        from borderflow.scenario.border_io import read_border_case

        return cls.from_case(read_border_case(path))

    @classmethod
    def from_case(cls, case) -> BorderProblem:
        days = (case.spec.case.end - case.spec.case.start).days + 1
        return cls(case.name, case.path, case.spec.case.start, days, case.observations, case=case)

    def parameter_names(self) -> list[str]:
        from borderflow.scenario.border_io import parameter_names

        return parameter_names(self.case)

    def simulate(
        self, values: dict[str, float], seed: int, until: int, origin: int | None = None
    ) -> Simulation:
        """A border run; ``origin`` changes nothing.

        Reports are ranges of a few figures at the posts, not a state to start from, and the
        case's known inputs already run up to the origin.
        """
        from borderflow.rules.border import simulate_once
        from borderflow.scenario.border_io import override

        case = override(self.case, values) if values else self.case
        end = self.start + dt.timedelta(days=until)
        return Simulation(simulate_once(case, seed, until=end))

    def distance(self, sim: Simulation) -> float:
        pairs = [(o, v) for o in self.observations if (v := sim.value(o)) is not None]
        loss, _, total = range_loss(pairs)
        return math.sqrt(loss / max(total, 1))


# -- Flee scenarios ---------------------------------------------------------------------------
FLEE_FLOAT_RULES = (
    "camp_weight",
    "conflict_weight",
    "foreign_weight",
    "conflict_movechance",
    "default_movechance",
    "camp_movechance",
    "idpcamp_movechance",
    "max_move_speed",
    "softening",
    "weight_softening",
    "distance_power",
    "weight_power",
)


class FleeSimulation(Simulation):
    """Camp counts are the people present at a camp (Flee's observed series)."""

    def daily(self, location: str, indicator: str) -> np.ndarray | None:
        if indicator != CAMP_INDICATOR:
            return None
        return self.result.series.values("present", location)


@dataclass(frozen=True)
class FleeProblem(Problem):
    scenario: object = None  # FleeScenario
    settings: object = None  # FleeSettings

    @classmethod
    def load(
        cls, path: Path, settings_path: Path | None = None, compatibility: str | None = None
    ) -> FleeProblem:
        from borderflow.scenario.flee_io import read_flee_scenario
        from borderflow.scenario.flee_settings import load_flee_settings

        settings = load_flee_settings(settings_path, compatibility)
        sc = read_flee_scenario(
            path, hasten=settings.optimisations.hasten, compatibility=settings.compatibility
        )
        rows = tuple(camp_observations(sc))
        return cls(sc.name, sc.path, sc.start_date, sc.length, rows, scenario=sc, settings=settings)

    def parameter_names(self) -> list[str]:
        names = [f"move_rules.{k}" for k in FLEE_FLOAT_RULES]
        return names + [f"location_weights.{loc.name}" for loc in self.scenario.locations]

    def settings_with(self, values: dict[str, float]):
        """Flee settings with ``move_rules.*`` and ``location_weights.*`` values set."""
        rules, weights = {}, dict(self.settings.location_weights)
        known = set(self.parameter_names())
        for name, value in values.items():
            if name not in known:
                raise ScenarioError(f"'{name}' is not a parameter of {self.name}", column=name)
            section, _, key = name.partition(".")
            if section == "move_rules":
                rules[key] = float(value)
            else:
                weights[key] = float(value)
        move = self.settings.move_rules.model_copy(update=rules)
        return self.settings.model_copy(update={"move_rules": move, "location_weights": weights})

    def simulate(
        self, values: dict[str, float], seed: int, until: int, origin: int | None = None
    ) -> FleeSimulation:
        from borderflow.engine.loop import Phase
        from borderflow.rules.flee import FleeModel

        model = FleeModel(self.opened_scenario, self.settings_with(values), seed)
        if origin is not None:
            counts = self.origin_counts(origin)

            def assimilate(day: int) -> None:
                if day == origin:
                    model.set_counts(day, counts)

            model.plan.insert(
                Phase("assimilate", assimilate, "camp counts observed at the origin"),
                before="record",
            )
        return FleeSimulation(model.run(until=until).result())

    @functools.cached_property
    def openings(self) -> tuple[Closure, ...]:
        """Flee ``camp`` closures holding each camp observed empty closed until it opened.

        Flee's rules fill every camp from day 0. A camp that opened later (Nduta reopened in
        October 2015, five months into Burundi's period) then fills too early, and a fit can
        only answer by making it unattractive, a weight that is wrong from the day it opens.
        So a camp observed empty is a town until the day it opened (:func:`opening_day`).
        Only this problem's observations count, a fit's, never the future's. Camps the
        scenario's own closures.csv opens or closes are left as it says.
        """
        own = {c.name1 for c in self.scenario.closures if c.kind in ("camp", "idpcamp")}
        out = []
        for camp, kind in self.camp_kinds.items():
            pts = [(d, 0.5 * (low + high)) for d, low, high in self.camp_counts.get(camp, [])]
            day = opening_day(pts)
            if camp not in own and day is not None and day > 1:
                out.append(Closure(kind, camp, "", 0, day, 0))
        return tuple(out)

    @functools.cached_property
    def opened_scenario(self):
        """The scenario with :attr:`openings` added to its closures."""
        if not self.openings:
            return self.scenario
        closures = (*self.scenario.closures, *self.openings)
        return dataclasses.replace(self.scenario, closures=closures)

    @functools.cached_property
    def camp_kinds(self) -> dict[str, str]:
        """Each camp's kind (``camp`` or ``idpcamp``), which is also its closure's type."""
        kinds = ("camp", "idpcamp")
        return {loc.name: loc.kind for loc in self.scenario.locations if loc.kind in kinds}

    @functools.cached_property
    def camp_counts(self) -> dict[str, list[tuple[int, float, float]]]:
        """Each observed camp's counts as (day, low, high), in day order."""
        out: dict[str, list[tuple[int, float, float]]] = {}
        for o in self.observations:
            if o.indicator == CAMP_INDICATOR:
                out.setdefault(o.location, []).append(((o.date - self.start).days, o.low, o.high))
        return {camp: sorted(out[camp]) for camp in sorted(out)}

    def origin_counts(self, day: int) -> dict[str, int]:
        """Each observed camp's count on ``day``: its last observation on or before it."""
        out = {}
        for camp, pts in self.camp_counts.items():
            known = [low for d, low, _ in pts if d <= day]
            if known:
                out[camp] = round(known[-1])
        return out

    @functools.cached_property
    def observed_matrix(self) -> tuple[list[str], range, np.ndarray]:
        """Observed camps, the days they span, and each camp's interpolated daily counts.

        Only this problem's points are interpolated, so a fit on the first half never sees
        the second half's counts. Computed once: every simulation's distance uses it.
        """
        series = self.camp_counts
        if not series:
            return [], range(0), np.zeros((0, 0))
        first = min(pts[0][0] for pts in series.values())
        last = max(pts[-1][0] for pts in series.values())
        days = range(max(first, 0), min(last, self.days - 1) + 1)
        t = np.arange(days.start, days.stop)
        cols = [np.interp(t, [p[0] for p in pts], [p[1] for p in pts]) for pts in series.values()]
        return list(series), days, np.column_stack(cols)

    def distance(self, sim: Simulation) -> float:
        from borderflow.results.metrics import averaged_relative_difference, rescaled

        camps, days, data = self.observed_matrix
        if not camps:
            return 0.0
        columns = [sim.daily(c, CAMP_INDICATOR) for c in camps]
        if any(c is None for c in columns):
            missing = camps[[c is None for c in columns].index(True)]
            raise ScenarioError(f"'{missing}' is not a location of {self.name}", file=self.path)
        simulated = np.column_stack([c[days.start : days.stop] for c in columns]).astype(float)
        return averaged_relative_difference(rescaled(simulated, data), data)


def opening_day(points: Sequence[tuple[int, float]]) -> int | None:
    """The day a camp opened, from its (day, count) points in order; None if open throughout.

    Only a camp first observed at 0 opened later. It opened after its last zero count. Flee's
    series put a 0 on the start date whether or not the camp was open, so the first positive
    count dates the opening better: extending the growth between the first two positive counts
    back to zero (Nduta: 1,771 then 1,848 a day later, so about 23 days before). With fewer
    than two positive counts, or no growth between them, the day after the last zero.
    """
    if not points or points[0][1] > 0:
        return None
    zeros = [d for d, v in points if v <= 0]
    positive = [(d, v) for d, v in points if v > 0 and d > zeros[0]]
    after = max(d for d in zeros if not positive or d < positive[0][0]) + 1
    if len(positive) < 2:
        return after
    (d1, v1), (d2, v2) = positive[:2]
    if v2 <= v1:
        return after
    return max(after, d1 - math.ceil(v1 / ((v2 - v1) / (d2 - d1))))


def load_problem(
    path: Path, *, settings_path: Path | None = None, compatibility: str | None = None
) -> Problem:
    from borderflow.scenario.locate import scenario_kind

    if scenario_kind(path) == "border":
        return BorderProblem.load(path)
    return FleeProblem.load(path, settings_path, compatibility)
