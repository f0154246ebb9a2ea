"""What a forecast is of: a border case or a Flee scenario, behind one interface.

The filter needs two things of a ruleset (:class:`BorderRules`, :class:`FleeRules`): a particle
built with given parameter values and stream, and a particle given another stream (and, for a
border model, other parameter values) from today on. The cycle needs, of a target
(:class:`BorderTarget`, :class:`FleeTarget`): its period and default origin, its parameters,
its reports (its own files or a store), the settings that decide its numbers, and the files a
forecast of it writes.

A Flee model's parameters (move rules, location weights) are fixed when it is built, so a Flee
particle's parameters move only by a Metropolis–Hastings step that reruns it from day 0
(``--move mcmc``, the default for Flee scenarios); copies otherwise differ by their streams.
Flee's camp series (``source_data/``) are its reports: the people registered in each camp on a
day, with no reliability grade (the default error, :mod:`borderflow.forecast.likelihood`).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderflow.calibrate.problem import last_day
from borderflow.errors import ScenarioError
from borderflow.scenario.border_schema import ObservationRow

if TYPE_CHECKING:
    from borderflow.forecast.model_error import Widening

POSTERIOR = "posterior.csv"


@dataclasses.dataclass
class BorderRules:
    """Border particles: copies of one compiled model (built once per process), retuned."""

    case: Any  # BorderCase
    seed: int
    capacity: dict[str, int] | None = None
    _template: Any = dataclasses.field(default=None, repr=False, compare=False)

    def build(self, values: dict[str, float], seed: int):
        from borderflow.rules.border import BorderModel

        if self._template is None:
            self._template = BorderModel(self.case, self.seed, capacity=self.capacity)
        model = copy.deepcopy(self._template)
        self.retune(model, values, seed)
        return model

    def retune(self, model, values: dict[str, float], seed: int) -> None:
        from borderflow.scenario.border_io import override

        model.retune(override(self.case, values), seed)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_template": None}  # rebuilt where needed (a worker)


@dataclasses.dataclass
class FleeRules:
    """Flee particles: each built with its parameters; only its stream changes mid-run."""

    problem: Any  # FleeProblem

    def build(self, values: dict[str, float], seed: int):
        from borderflow.rules.flee import FleeModel

        model = FleeModel(self.problem.opened_scenario, self.problem.settings_with(values), seed)
        model.tuned = dict(values)
        return model

    def retune(self, model, values: dict[str, float], seed: int) -> None:
        from borderflow.engine.rng import Streams

        if dict(values) != model.tuned:
            raise ScenarioError(
                "a Flee model's parameters are set when it is built: Flee forecasts take "
                "--move mcmc"
            )
        model.streams = Streams(seed)
        model.key = model.streams.key("move")


Rules = BorderRules | FleeRules  # build(values, seed), retune(model, values, seed)


def default_params(folder: Path) -> Path:
    """The posterior (from ``borderflow calibrate``) when there is one, else the priors."""
    posterior = folder / POSTERIOR
    return posterior if posterior.exists() else folder / "uncertain.toml"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class BorderTarget:
    kind = "border"
    # the default rejuvenation: in the replay of all eight episodes the jitter's intervals
    # were too narrow where reports come often (Colchane, Perú 2019); the MCMC step covered
    # more reports at the same CRPS (docs/forecasting.md), and one update stays under 10 s
    move = "mcmc"

    def __init__(self, spec: Any) -> None:
        from borderflow.ensemble.params import load_params, read_uncertain, with_shared_prior
        from borderflow.scenario.border_io import read_border_case

        self.case = case = read_border_case(
            spec.case_dir, spec.variant or None, known_at_origin=spec.known_at_origin
        )
        self.start, self.end = case.spec.case.start, case.spec.case.end
        self.origin = case.spec.case.origin
        self.params_file = spec.params_file or default_params(spec.case_dir)
        self.params = load_params(self.params_file, case)
        priors = spec.case_dir / "uncertain.toml"
        own = read_uncertain(priors, case) if priors.exists() else {}
        # a fit's shared parameters (borderflow learn) move on their learnt scale, as in the
        # fit: without it a share such as divert_per_day moved in its own units and could
        # leave [0, 1]
        self.priors = with_shared_prior(own, case)
        self.rules = BorderRules(case, spec.seed, spec.capacity)
        self.variant = case.variant

    def own_reports(self) -> Sequence[ObservationRow]:
        return self.case.observations

    def write(
        self,
        tmp: Path,
        members: int,
        extra: dict[str, Callable[[Path], None]],
        widening: Widening | None = None,
    ) -> None:
        from borderflow.ensemble.runner import write_bands

        write_bands(tmp, self.case, members, extra, widening=widening)


class FleeTarget:
    kind = "flee"
    move = "mcmc"

    def __init__(self, spec: Any) -> None:
        from borderflow.calibrate.problem import FleeProblem
        from borderflow.ensemble.params import load_params, read_uncertain

        if spec.variant or spec.capacity or spec.known_at_origin:
            raise ScenarioError(
                "--variant, --capacity and --known-at-origin are options of border cases"
            )
        self.problem = p = FleeProblem.load(spec.case_dir)
        self.start, self.end = p.start, p.start + dt.timedelta(days=p.days)
        self.origin = self._half_way()
        self.params_file = spec.params_file or default_params(spec.case_dir)
        self.params = load_params(self.params_file, p)
        self.priors = read_uncertain(p.priors_path(), p) if p.priors_path().exists() else {}
        self.rules = FleeRules(p)
        self.variant: dict[str, str] = {}

    def _half_way(self) -> dt.date:
        """The default origin: the last camp count in the first half of the period.

        As the skill benchmark, which forecasts the second half.
        """
        middle = self.start + dt.timedelta(days=self.problem.days // 2)
        counted = [last_day(o) for o in self.problem.observations if last_day(o) <= middle]
        return max(counted, default=self.start)

    def own_reports(self) -> Sequence[ObservationRow]:
        return self.problem.observations

    def write(
        self,
        tmp: Path,
        members: int,
        extra: dict[str, Callable[[Path], None]],
        widening: Widening | None = None,
    ) -> None:
        from borderflow.ensemble.runner import BANDS, band_table
        from borderflow.results.atomic import atomic_outputs
        from borderflow.results.series import write_parquet

        band = band_table(tmp, members, widening=widening)
        with atomic_outputs(tmp) as out:
            out.write(BANDS, lambda path: write_parquet(band, path))
            for name, writer in extra.items():
                out.write(name, writer)


def load_target(spec: Any) -> BorderTarget | FleeTarget:
    from borderflow.scenario.locate import scenario_kind

    return BorderTarget(spec) if scenario_kind(spec.case_dir) == "border" else FleeTarget(spec)


def settings_of(spec: Any, target: BorderTarget | FleeTarget, move: str) -> dict:
    """What decides a forecast's numbers besides its origin and reports (a store's key)."""
    extra = {} if move == "jitter" else {"move": move}  # stores made before the option
    if spec.known_at_origin:
        extra["known_at_origin"] = True
    return extra | {
        "case_dir": str(spec.case_dir.resolve()),
        "variant": target.variant,
        "capacity": spec.capacity,
        "seed": spec.seed,
        "members": spec.members,
        "horizon": spec.horizon,
        "params_file": str(target.params_file),
        "params_digest": _digest(target.params_file),
    }
