"""A calibration end to end: fit, posterior, and the posterior-predictive check of the fit.

The service behind ``borderflow calibrate`` (and any other front end): it writes the output
folder and returns what a front end shows; it prints nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from borderflow.calibrate import predictive as pp
from borderflow.calibrate.abc import Method, Posterior, abc_smc, write_posterior
from borderflow.calibrate.diagnostics import posterior_warnings
from borderflow.calibrate.problem import BorderProblem, Problem
from borderflow.ensemble.params import Distribution
from borderflow.ensemble.runner import run_ensemble
from borderflow.execute import Executor
from borderflow.results.atomic import atomic_outputs

OPENINGS_CSV = "closures-opened.csv"
FIT_CSV = "fit.csv"


@dataclass
class Calibration:
    """What a calibration found, and the files it wrote."""

    problem: Problem
    posterior: Posterior
    fit: list[pp.FitRow]  # each observation against the predictive members (none: no members)
    files: list[Path]
    warnings: list[str]  # a degenerate posterior, values on the edge of their range


def calibrate(
    problem: Problem,
    priors: dict[str, Distribution],
    out_dir: Path,
    *,
    particles: int,
    generations: int,
    seed: int,
    predictive: int,
    executor: Executor,
    method: Method = "beaumont",
    on_generation: Callable[[int, float, int], None] | None = None,
    lang: str = "en",
) -> Calibration:
    """ABC-SMC, then ``predictive`` posterior-predictive members (0: none) into ``out_dir``.

    Writes posterior.csv and its companions, closures-opened.csv when the fit opened camps
    the scenario kept closed, and with members fit.csv and predictive/ (its chart in ``lang``).
    """
    post = abc_smc(problem, priors, particles=particles, generations=generations, seed=seed,
                   executor=executor, on_generation=on_generation, method=method)  # fmt: skip
    files = write_posterior(post, out_dir)
    if problem.openings:
        with atomic_outputs(out_dir) as o:
            o.write(OPENINGS_CSV, problem.write_openings)
        files.append(out_dir / OPENINGS_CSV)
    fit: list[pp.FitRow] = []
    if predictive:
        fit, written = posterior_predictive(
            problem,
            post,
            priors,
            out_dir,
            members=predictive,
            seed=seed,
            executor=executor,
            lang=lang,
        )
        files += written
    return Calibration(problem, post, fit, files, posterior_warnings(post, priors))


def posterior_predictive(
    problem: Problem,
    post: Posterior,
    priors: dict[str, Distribution],
    out_dir: Path,
    *,
    members: int,
    seed: int,
    executor: Executor,
    lang: str = "en",
) -> tuple[list[pp.FitRow], list[Path]]:
    """Members drawn from the posterior: fit.csv, and predictive/ (the kind's own outputs).

    A border case gets the full ensemble outputs (bands.parquet, fan.png); a Flee scenario
    the camp bands (bands.csv) and their fan chart, from members that run its whole period
    and also give the fit.
    """
    sampler = pp.posterior_sampler(post, priors)
    flee = not isinstance(problem, BorderProblem)
    until = problem.days - 1 if flee else problem.until()
    runs = pp.observed_runs(problem, sampler, members=members, until=until, seed=seed,
                            executor=executor)  # fmt: skip
    fit = pp.fit_rows(problem.covered(), runs)
    pp.write_fit(fit, out_dir / FIT_CSV)
    files = [out_dir / FIT_CSV]
    if flee:
        files += pp.write_flee_predictive(problem, runs, out_dir / "predictive", lang)
    else:
        run_ensemble(problem.path, out_dir / "posterior.csv", out_dir / "predictive",
                     members=members, seed=seed, executor=executor, lang=lang)  # fmt: skip
        files.append(out_dir / "predictive")
    return fit, files
