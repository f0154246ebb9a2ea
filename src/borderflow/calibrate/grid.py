"""Fit a border case's uncertain parameters to its observations by an exhaustive grid.

The grid is data (``fit.toml`` next to ``scenario.toml``)::

    [fit]
    seeds = [0, 1]              # each point is scored on these seeds (mean loss)
    indicators = ["stranded"]   # which observation rows are used

    [grid]
    "departure.base_hazard" = [3e-5, 4.4e-5, 6e-5]
    "event.militarisation_announced" = [2.0, 4.0, 6.0]

Each observation is a range [low, high]; a simulated value inside it costs nothing, outside it
costs its relative distance to the range, squared. Runs stop at the last observed date, so a
point costs a fraction of a full run. The best point is what the case's scenario.toml should
hold; ``borderflow fit`` prints the ranked table and the values to copy.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from borderflow.calibrate.problem import Simulation, range_loss
from borderflow.errors import ScenarioError
from borderflow.results.run_result import RunResult
from borderflow.rules.border import simulate_once
from borderflow.scenario.border_io import (
    BorderCase,
    override,
    parameter_names,
    parameter_value,
    read_border_case,
)
from borderflow.scenario.border_schema import ObservationRow
from borderflow.tomlfile import read_toml


class FitSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seeds: list[int] = Field(default=[0], min_length=1)
    indicators: list[str] = ["stranded"]


class FitFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fit: FitSettings = FitSettings()
    grid: dict[str, list[float]]


@dataclass(frozen=True)
class GridPoint:
    values: dict[str, float]
    loss: float
    inside: int  # observations whose range holds the simulated value (mean over seeds)
    total: int


def read_fit_file(path: Path, case: BorderCase) -> FitFile:
    raw = read_toml(path)
    try:
        spec = FitFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ScenarioError(err["msg"], file=path, column=".".join(map(str, err["loc"]))) from None
    known = set(parameter_names(case))
    for name, values in spec.grid.items():
        if name not in known:
            raise ScenarioError(f"unknown parameter '{name}'", file=path, column=f"grid.{name}")
        if not values:
            raise ScenarioError("no candidate values", file=path, column=f"grid.{name}")
    return spec


def simulated(result: RunResult, o: ObservationRow) -> float | None:
    """A run's figure for an observation row (None if the run does not cover it)."""
    return Simulation(result).value(o)


def observation_loss(
    result: RunResult, case: BorderCase, indicators: list[str]
) -> tuple[float, int, int]:
    """Squared relative distance of the simulation to each observed range it covers."""
    sim = Simulation(result)
    pairs = [
        (o, v)
        for o in case.observations
        if o.indicator in indicators and (v := sim.value(o)) is not None
    ]
    return range_loss(pairs)


def run_grid(
    case: BorderCase,
    fit: FitFile,
    on_point: Callable[[int, int], None] | None = None,
) -> list[GridPoint]:
    """Score every point of the grid; best first."""
    names = list(fit.grid)
    dated = [o.end or o.date for o in case.observations if o.indicator in fit.fit.indicators]
    if not dated:
        raise ScenarioError(
            f"no observations with indicator(s) {', '.join(fit.fit.indicators)} to fit to",
            file=case.path / case.spec.files.observations,
        )
    until = min(max(dated), case.spec.case.end)
    points = list(itertools.product(*(fit.grid[n] for n in names)))
    out = []
    for i, combo in enumerate(points):
        values = dict(zip(names, combo, strict=True))
        variant = override(case, values)
        scores = []
        for seed in fit.fit.seeds:
            result = simulate_once(variant, seed, until=until)
            scores.append(observation_loss(result, variant, fit.fit.indicators))
        loss = float(np.mean([s[0] for s in scores]))
        inside = round(float(np.mean([s[1] for s in scores])))
        out.append(GridPoint(values, loss, inside, scores[0][2]))
        if on_point is not None:
            on_point(i + 1, len(points))
    return sorted(out, key=lambda p: p.loss)


def fit_case(
    case_dir: Path, fit_path: Path | None = None, on_point: Callable[[int, int], None] | None = None
) -> tuple[BorderCase, FitFile, list[GridPoint]]:
    case = read_border_case(case_dir)
    path = fit_path or case.path / "fit.toml"
    fit = read_fit_file(path, case)
    return case, fit, run_grid(case, fit, on_point)


def current_values(case: BorderCase, names: list[str]) -> dict[str, float]:
    return {n: parameter_value(case, n) for n in names}
