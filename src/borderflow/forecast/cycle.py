"""One forecast of the daily cycle.

Go on from the last stored forecast, weigh the reports it did not use, run the members on from
the origin, store it all (see :mod:`borderflow.forecast.store`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.calibrate.problem import last_day
from borderflow.ensemble.params import load_params, read_uncertain
from borderflow.ensemble.runner import DRAWS, MEMBERS_DIR, member_file, write_bands
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.forecast import store
from borderflow.forecast.filter import (
    Particles,
    Step,
    assimilate,
    initial,
    space_of,
    systematic,
)
from borderflow.forecast.likelihood import error_sd
from borderflow.results.hxl import write_csv
from borderflow.scenario.border_io import BorderCase, read_border_case
from borderflow.scenario.border_schema import ObservationRow

POSTERIOR = "posterior.csv"


@dataclass
class ForecastResult:
    folder: Path
    origin: dt.date
    parent: Path | None = None
    new: int = 0  # reports weighed by this forecast
    used: int = 0  # reports the forecast is conditioned on, all together
    steps: list[Step] = field(default_factory=list)
    update_seconds: float = 0.0  # loading the particles and weighing the new reports
    update_cpu_seconds: float = 0.0  # the same, in this process's CPU time
    already: bool = False  # the store held this forecast: nothing was computed


def default_params(case_dir: Path) -> Path:
    """The case's posterior (from ``borderflow calibrate``) when it has one, else its priors."""
    posterior = case_dir / POSTERIOR
    return posterior if posterior.exists() else case_dir / "uncertain.toml"


def report_key(o: ObservationRow) -> str:
    """What makes a report the same report, whichever source it came from."""
    return json.dumps(
        [str(o.date), str(o.end), o.stat, o.location, o.indicator, o.low, o.high, o.reliability]
    )


def known_reports(case: BorderCase, db: str | None, origin: dt.date) -> list[ObservationRow]:
    """Reports known on the origin (their last day on or before it), from the case or a store."""
    if db is None:
        rows: Sequence[ObservationRow] = case.observations
    else:
        from borderflow.observe.fitting import stored_observations

        rows = stored_observations(db)
    start = case.spec.case.start
    return [o for o in rows if o.date >= start and last_day(o) <= origin]


def forecast_seed(seed: int, member: int, generation: int) -> int:
    """Member ``member``'s stream from the origin on (its own, so copies differ)."""
    return int(np.random.SeedSequence([seed, member, generation, 5]).generate_state(1)[0])


def run_members(
    p: Particles,
    case: BorderCase,
    folder: Path,
    last: int | None,
    on_member: Callable[[int], None] | None,
    executor: Executor | None = None,
) -> np.ndarray:
    """Resample the particles to equal weights and run each member from the origin to ``last``.

    ``last`` (a day; None: the case's end) cuts the members' series there too.
    """
    from borderflow.forecast import parallel

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

    parallel.run_members(case, todo, executor, done)
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
    move: str = "jitter"  # how parameters are rejuvenated after a resampling (or "mcmc")
    executor: Executor | None = field(default=None, compare=False)  # None: in this process

    def settings(self, case: BorderCase, params_file: Path) -> dict:
        extra = {} if self.move == "jitter" else {"move": self.move}  # stores before the option
        return extra | {
            "case_dir": str(self.case_dir.resolve()),
            "variant": case.variant,
            "capacity": self.capacity,
            "seed": self.seed,
            "members": self.members,
            "horizon": self.horizon,
            "params_file": str(params_file),
            "params_digest": hashlib.sha256(params_file.read_bytes()).hexdigest(),
        }


def _origin_day(case: BorderCase, origin: dt.date) -> int:
    start, end = case.spec.case.start, case.spec.case.end
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
    case = read_border_case(spec.case_dir, spec.variant or None)
    origin = origin or case.spec.case.origin
    day = _origin_day(case, origin)
    params_file = spec.params_file or default_params(spec.case_dir)
    params = load_params(params_file, case)
    priors_file = spec.case_dir / "uncertain.toml"
    priors = read_uncertain(priors_file, case) if priors_file.exists() else {}
    settings = spec.settings(case, params_file)
    out = spec.out_dir
    out.mkdir(parents=True, exist_ok=True)
    store.clean(out)
    folder = store.folder_of(out, origin)
    if folder.exists():
        if refit:
            raise ScenarioError("a forecast for this origin is already stored", file=folder)
        m = store.manifest(folder)
        return ForecastResult(folder, origin, used=len(m["reports"]), already=True)
    known = known_reports(case, spec.db, origin)
    t0, c0 = time.perf_counter(), time.process_time()
    parent = None if refit else store.latest_before(out, settings, origin)
    if parent is None:
        p = initial(case, params, particles=spec.members, seed=spec.seed, capacity=spec.capacity)
    else:
        p = store.load_particles(parent / store.PARTICLES)
    seen = {report_key(o) for o in p.used}
    new = [o for o in known if report_key(o) not in seen]
    space = space_of(p.names, priors)
    steps = assimilate(p, case, space, new, day, on_step, spec.executor, spec.move)
    update = (time.perf_counter() - t0, time.process_time() - c0)
    tmp = out / f".{folder.name}"
    tmp.mkdir()
    store.save_particles(p, tmp / store.PARTICLES)
    last = None if spec.horizon is None else day + spec.horizon
    parents = run_members(p, case, tmp, last, on_member, spec.executor)
    write_bands(
        tmp,
        case,
        spec.members,
        {
            DRAWS: _draws_writer(p, parents),
            store.ASSIMILATED: _assimilated_writer(steps, case.spec.case.start),
        },
    )
    manifest = {
        "settings": settings,
        "origin": origin.isoformat(),
        "parent": parent.name if parent else None,
        "generation": p.generation,
        "new_reports": len(new),
        "reports": [report_key(o) for o in p.used],
    }
    (tmp / store.MANIFEST).write_text(json.dumps(manifest, indent=2))
    store.publish(tmp, folder)
    return ForecastResult(folder, origin, parent, len(new), len(p.used), steps, *update)
