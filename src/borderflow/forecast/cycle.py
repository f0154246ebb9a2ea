"""One forecast of the daily cycle, of a border case or a Flee scenario.

Go on from the last stored forecast, weigh the reports it did not use, run the members on from
the origin, store it all (see :mod:`borderflow.forecast.store`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.calibrate.problem import last_day
from borderflow.ensemble.runner import DRAWS, MEMBERS_DIR, member_file
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.forecast import parallel, store
from borderflow.forecast.filter import (
    Particles,
    Step,
    assimilate,
    initial_particles,
    space_of,
    systematic,
)
from borderflow.forecast.likelihood import error_sd
from borderflow.forecast.model_error import Widening
from borderflow.forecast.target import Rules, load_target, settings_of
from borderflow.results.hxl import write_csv
from borderflow.scenario.border_schema import ObservationRow


@dataclass
class ForecastResult:
    folder: Path
    origin: dt.date
    parent: Path | None = None
    new: int = 0  # reports weighed by this forecast
    used: int = 0  # reports the forecast is conditioned on, all together
    steps: list[Step] = field(default_factory=list)
    model_error: dict = field(default_factory=dict)  # ModelError.summary() (empty if stored)
    update_seconds: float = 0.0  # loading the particles and weighing the new reports
    update_cpu_seconds: float = 0.0  # the same, in this process's CPU time
    already: bool = False  # the store held this forecast: nothing was computed


def report_key(o: ObservationRow) -> str:
    """What makes a report the same report, whichever source it came from."""
    return json.dumps(
        [str(o.date), str(o.end), o.stat, o.location, o.indicator, o.low, o.high, o.reliability]
    )


def known_reports(
    own: Sequence[ObservationRow], start: dt.date, db: str | None, origin: dt.date
) -> list[ObservationRow]:
    """Reports known on the origin (their last day on or before it), from the case or a store."""
    if db is None:
        rows: Sequence[ObservationRow] = own
    else:
        from borderflow.observe.fitting import stored_observations

        rows = stored_observations(db)
    return [o for o in rows if o.date >= start and last_day(o) <= origin]


def forecast_seed(seed: int, member: int, generation: int) -> int:
    """Member ``member``'s stream from the origin on (its own, so copies differ)."""
    return int(np.random.SeedSequence([seed, member, generation, 5]).generate_state(1)[0])


def run_members(
    p: Particles,
    rules: Rules,
    folder: Path,
    last: int | None,
    on_member: Callable[[int], None] | None,
    executor: Executor | None = None,
) -> np.ndarray:
    """Resample the particles to equal weights and run each member from the origin to ``last``.

    ``last`` (a day; None: the case's end) cuts the members' series there too.
    """
    members = folder / MEMBERS_DIR
    members.mkdir(parents=True, exist_ok=True)
    parents = systematic(p.weights, np.random.Generator(np.random.PCG64([p.seed, p.generation, 6])))
    days = p.models[0].days
    end = days - 1 if last is None else min(last, days - 1)
    todo = [
        (i, p.models[k], dict(zip(p.names, map(float, p.values[k]), strict=True)),
         forecast_seed(p.seed, i, p.generation), p.day + 1, end)
        for i, k in enumerate(parents)
    ]  # fmt: skip

    def done(i: int, parquet: bytes) -> None:
        (members / member_file(i)).write_bytes(parquet)
        if on_member is not None:
            on_member(i)

    parallel.run_members(rules, todo, executor, done)
    return parents


def _draws_writer(p: Particles, parents: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        tags = {"member": "#meta+member", "particle": "#meta+particle", "seed": "#meta+seed"}
        tags.update({n: f"#meta+param+{n}" for n in p.names})
        rows = (
            [i, int(k), forecast_seed(p.seed, i, p.generation), *map(repr, map(float, p.values[k]))]
            for i, k in enumerate(parents)
        )
        write_csv(path, tags, rows)

    return write


def _assimilated_writer(steps: list[Step], start: dt.date) -> Callable[[Path], None]:
    tags = {
        "step": "#meta+step",
        "assimilated": "#date+assimilated",
        "date": "#date+start",
        "end": "#date+end",
        "stat": "#meta+stat",
        "location": "#loc+name",
        "indicator": "#indicator+code",
        "low": "#indicator+num+min",
        "high": "#indicator+num+max",
        "reliability": "#meta+reliability",
        "error_sd": "#meta+error+sd",
        "simulated_median": "#indicator+num+simulated+median",
        "ess": "#meta+ess",
        "resampled": "#meta+resampled",
    }

    def rows():
        for s in steps:
            when = start + dt.timedelta(days=s.day)
            for o, med in zip(s.observations, s.medians, strict=True):
                yield [
                    s.generation, when, o.date, o.end or "", o.stat, o.location, o.indicator,
                    o.low, o.high, o.reliability, error_sd(o), round(med, 3), round(s.ess, 3),
                    int(s.resampled),
                ]  # fmt: skip

    return lambda path: write_csv(path, tags, rows())


@dataclass(frozen=True)
class ForecastSpec:
    """What decides a forecast's numbers, besides its origin and reports."""

    case_dir: Path
    out_dir: Path
    members: int = 200
    seed: int = 0
    params_file: Path | None = None
    db: str | None = None
    variant: dict[str, str] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=dict)
    horizon: int | None = None  # days the members run after the origin (None: to the end)
    known_at_origin: bool = False  # drop the rows announced after the case's origin
    move: str | None = None  # rejuvenation: jitter or mcmc (None: the ruleset's default)
    executor: Executor | None = field(default=None, compare=False)  # None: in this process


def _origin_day(start: dt.date, end: dt.date, origin: dt.date) -> int:
    if not start <= origin < end:
        raise ScenarioError(f"--origin {origin} must lie from {start} to the day before {end}")
    return (origin - start).days


def forecast(
    spec: ForecastSpec,
    origin: dt.date | None = None,
    *,
    refit: bool = False,
    on_step: Callable[[Step], None] | None = None,
    on_member: Callable[[int], None] | None = None,
) -> ForecastResult:
    """The forecast from ``origin`` (default: the case's), stored in ``spec.out_dir``.

    Goes on from the last stored forecast with an earlier origin and weighs only the reports
    it did not use; ``refit`` starts from the parameters' distribution on day 0 instead.
    """
    target = load_target(spec)
    origin = origin or target.origin
    day = _origin_day(target.start, target.end, origin)
    move = spec.move or target.move
    if move not in ("jitter", "mcmc"):
        raise ScenarioError(f"--move {move!r}: choose jitter or mcmc")
    settings = settings_of(spec, target, move)
    out = spec.out_dir
    out.mkdir(parents=True, exist_ok=True)
    store.clean(out)
    folder = store.folder_of(out, origin)
    if folder.exists():
        if refit:
            raise ScenarioError("a forecast for this origin is already stored", file=folder)
        m = store.manifest(folder)
        return ForecastResult(folder, origin, used=len(m["reports"]), already=True)
    known = known_reports(target.own_reports(), target.start, spec.db, origin)
    t0, c0 = time.perf_counter(), time.process_time()
    parent = None if refit else store.latest_before(out, settings, origin)
    if parent is None:
        p = initial_particles(target.rules, target.params, spec.members, spec.seed, spec.capacity)
    else:
        p = store.load_particles(parent / store.PARTICLES)
    seen = {report_key(o) for o in p.used}
    new = [o for o in known if report_key(o) not in seen]
    space = space_of(p.names, target.priors)
    steps = assimilate(p, target.rules, space, new, day, on_step, spec.executor, move)
    update = (time.perf_counter() - t0, time.process_time() - c0)
    tmp = out / f".{folder.name}"
    tmp.mkdir()
    store.save_particles(p, tmp / store.PARTICLES)
    last = None if spec.horizon is None else day + spec.horizon
    parents = run_members(p, target.rules, tmp, last, on_member, spec.executor)
    extra = {
        DRAWS: _draws_writer(p, parents),
        store.ASSIMILATED: _assimilated_writer(steps, target.start),
    }
    error = p.model_error  # set by assimilate, which every forecast runs
    assert error is not None
    target.write(tmp, spec.members, extra, Widening(error, (p.seed, p.generation, 8)))
    summary = error.summary(target.start)
    manifest = {
        "settings": settings,
        "origin": origin.isoformat(),
        "parent": parent.name if parent else None,
        "generation": p.generation,
        "new_reports": len(new),
        "model_error": summary,
        "reports": [report_key(o) for o in p.used],
    }
    (tmp / store.MANIFEST).write_text(json.dumps(manifest, indent=2))
    store.publish(tmp, folder)
    parallel.discard(p.models)  # stored: free them now, before the next forecast loads its own
    return ForecastResult(folder, origin, parent, len(new), len(p.used), steps, summary, *update)
