"""``borderflow learn``: the shared prior of all border episodes, and each one's fit from it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from borderflow.cli.common import (
    AbcMethod,
    DaskLocalOption,
    MethodOption,
    SchedulerOption,
    WorkersOption,
)
from borderflow.console import err, fail, out
from borderflow.errors import ScenarioError

if TYPE_CHECKING:
    from borderflow.calibrate.learn import Learnt


def learn(
    cases: Annotated[
        list[str] | None,
        typer.Option("--cases", help="A case (name or folder); repeat. Default: every built-in."),
    ] = None,
    leave_out: Annotated[
        str | None,
        typer.Option(help="Fit the shared prior without this case; fit only this case from it."),
    ] = None,
    particles: Annotated[int, typer.Option(min=10, help="ABC particles per episode fit.")] = 60,
    generations: Annotated[int, typer.Option(min=1, help="ABC-SMC generations.")] = 3,
    method: MethodOption = AbcMethod.replenish,
    steps: Annotated[int, typer.Option(min=100, help="emcee steps (hyper-parameters).")] = 3000,
    seed: Annotated[int, typer.Option(min=0, help="Root seed.")] = 0,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="The shared prior (default: the built-in prior.toml)."),
    ] = None,
    fits: Annotated[
        bool,
        typer.Option(help="Write each fitted case's posterior.csv into its folder."),
    ] = True,
    hierarchy: Annotated[
        Path | None, typer.Option(help="Shared parameters (default: the built-in hierarchy.toml).")
    ] = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    dask_local: DaskLocalOption = None,
) -> None:
    """Fit the behavioural parameters shared across episodes; write the shared prior.

    Each episode is fitted by ABC-SMC on all its observations; hyper-parameters (mean and sd of
    each shared parameter over episodes) are fitted on all of them and written as the default
    prior of every case. Each case is then fitted leave-one-out: from the other episodes'
    prior, on its own observations up to its origin (its posterior.csv, which ensembles and
    forecasts draw from). About 3 minutes per episode with the defaults on 2 cores.
    """
    from borderflow.calibrate.hierarchy import HIERARCHY, read_hierarchy
    from borderflow.calibrate.learn import LearnSettings, builtin_cases
    from borderflow.calibrate.learn import learn as run_learn
    from borderflow.ensemble.params import SHARED_PRIOR
    from borderflow.execute import choose_executor
    from borderflow.scenario.locate import resolve_scenario, scenario_kind

    t0 = time.perf_counter()

    def say(msg: str) -> None:
        err.print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", highlight=False)

    try:
        paths = [resolve_scenario(c) for c in cases] if cases else builtin_cases()
        for p in paths:
            if scenario_kind(p) != "border":
                raise ScenarioError("learning needs border cases (scenario.toml)", file=p)
        shared = read_hierarchy(hierarchy or HIERARCHY)
        settings = LearnSettings(particles, generations, steps, seed, method.value)
        result = run_learn(paths, shared, settings, leave_out=leave_out,
                           executor=choose_executor(workers, scheduler, dask_local),
                           say=say)  # fmt: skip
        target = out_path or SHARED_PRIOR
        command = _command(cases, leave_out, settings)
        written = _write(result, target, command, fits)
    except ScenarioError as exc:
        fail(exc)
    _print(result)
    out.print(f"wrote {', '.join(str(p) for p in written)}", highlight=False)


def _command(cases: list[str] | None, leave_out: str | None, s) -> str:
    parts = ["borderflow learn", *(f"--cases {c}" for c in cases or [])]
    if leave_out:
        parts.append(f"--leave-out {leave_out}")
    parts.append(f"--particles {s.particles} --generations {s.generations} --steps {s.steps} "
                 f"--seed {s.seed} --method {s.method}")  # fmt: skip
    return " ".join(parts)


def _write(result: Learnt, target: Path, command: str, fits: bool) -> list[Path]:
    from borderflow.calibrate.abc import write_posterior
    from borderflow.calibrate.hierarchy import write_prior

    episodes = ", ".join(result.hyper.episodes) or "none"
    header = [
        "The shared prior of the behavioural parameters, learnt across border episodes: each",
        "case's default for a parameter its uncertain.toml does not give (docs/forecasting.md,",
        '"Learning across episodes"). Written by `borderflow learn`; do not edit by hand.',
        f"Made with: {command}",
        f"Episodes: {episodes}",
    ]
    write_prior(target, result.hyper.priors(result.shared), header)
    written = [target]
    if fits:
        for f in result.fits.values():
            written += write_posterior(f.posterior, f.episode.problem.path)
    return written


def _print(result: Learnt) -> None:
    from rich.table import Table

    priors = result.hyper.priors(result.shared)
    table = Table(title=f"shared prior from {len(result.hyper.episodes)} episodes")
    for col in ("parameter", "5 %", "median", "95 %"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, d in priors.items():
        q = [_quantile(d, z) for z in (-1.645, 0.0, 1.645)]
        table.add_row(name, *(f"{v:.4g}" for v in q))
    out.print(table)
    for name, f in result.fits.items():
        q = f.posterior.quantiles([0.05, 0.5, 0.95])
        t = Table(title=f"{name}: fit from the other episodes, observations up to "
                  f"{f.episode.origin} ({f.posterior.describe()})")  # fmt: skip
        for col in ("parameter", "5 %", "median", "95 %"):
            t.add_column(col, justify="left" if col == "parameter" else "right")
        for j, n in enumerate(f.posterior.names):
            t.add_row(n, *(f"{q[i, j]:.4g}" for i in range(3)))
        out.print(t)
        for w in f.warnings:
            err.print(f"[yellow]warning:[/] {name}: {w}", highlight=False, soft_wrap=True)
    for name, ws in result.warnings.items():
        for w in ws:
            err.print(f"[yellow]warning:[/] {name} (reference fit): {w}", highlight=False,
                      soft_wrap=True)  # fmt: skip


def _quantile(d, z: float) -> float:
    """A quantile of a learnt prior (normal on its scale) at standard normal ``z``."""
    import math

    from borderflow.ensemble.params import LogNormal

    if isinstance(d, LogNormal):
        return d.median * math.exp(d.sigma * z)
    u = 1.0 / (1.0 + math.exp(-(d.mean + d.sd * z)))
    return d.low + (d.high - d.low) * u
