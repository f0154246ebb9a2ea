"""Which assumptions drive the forecast: Sobol' indices of the headline outputs (SALib).

The uncertain parameters (the same file as ensembles) are sampled with Saltelli's scheme,
``N × (D + 2)`` runs for ``D`` varying parameters; every run uses the same simulation seed, so
the outputs vary only with the parameters (common random numbers), as Sobol' analysis assumes.
First-order indices (S1) say how much of an output's variance a parameter explains alone;
total indices (ST) include its interactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.ensemble.params import Distribution, Fixed, LogNormal, Normal, TruncNormal, Uniform
from borderflow.errors import ScenarioError
from borderflow.execute import Executor, Job, pool_executor
from borderflow.results.atomic import atomic_outputs
from borderflow.results.headline import ALL_CROSSINGS, LABELS, figures
from borderflow.results.hxl import write_csv
from borderflow.scenario.border_io import BorderCase, override

if TYPE_CHECKING:
    from borderflow.results.run_result import RunResult

#: The headline figures analysed, each over all crossings (see borderflow.results.headline).
OUTPUT_FIGURES = ("peak_stranded", "person_days_stranded", "crossed", "irregular")
OUTPUTS = tuple(f"{LABELS[key]}, {ALL_CROSSINGS}" for key in OUTPUT_FIGURES)
SOBOL_CSV = "sobol.csv"
SOBOL_PNG = "sobol.png"


def salib_problem(params: dict[str, Distribution]) -> dict:
    """SALib's problem definition for the parameters that vary (fixed ones are left out)."""
    names, bounds, dists = [], [], []
    for name, d in params.items():
        if isinstance(d, Fixed):
            continue
        names.append(name)
        if isinstance(d, Uniform):
            dists.append("unif")
            bounds.append([d.low, d.high])
        elif isinstance(d, Normal):
            dists.append("norm")
            bounds.append([d.mean, d.sd])
        elif isinstance(d, LogNormal):
            dists.append("lognorm")
            bounds.append([float(np.log(d.median)), d.sigma])
        elif isinstance(d, TruncNormal):
            dists.append("truncnorm")
            bounds.append([d.low, d.high, d.mean, d.sd])
    if len(names) < 2:
        raise ScenarioError("sensitivity needs at least two parameters that vary")
    return {"num_vars": len(names), "names": names, "bounds": bounds, "dists": dists}


def headline_outputs(result: RunResult) -> dict[str, float]:
    """The headline figures of :data:`OUTPUTS` from the forecast origin on."""
    values = figures(result.series, [ALL_CROSSINGS], result.origin_day)
    return {
        name: values[(LABELS[key], ALL_CROSSINGS)]
        for key, name in zip(OUTPUT_FIGURES, OUTPUTS, strict=True)
    }


@dataclass(frozen=True)
class SampleContext:
    """What a worker holds for a Sobol' analysis: the case and the seed every run shares."""

    case: BorderCase
    seed: int


def _evaluate(ctx: SampleContext, item: tuple[int, dict[str, float]]) -> tuple[int, list[float]]:
    """The headline outputs of sample point ``item`` = (its row, its parameter values)."""
    from borderflow.rules.border import simulate_once

    row, values = item
    out = headline_outputs(simulate_once(override(ctx.case, values), ctx.seed))
    return row, [out[k] for k in OUTPUTS]


SAMPLE_JOB = Job(SampleContext, _evaluate)


@dataclass
class SobolResult:
    case: str
    names: list[str]
    runs: int
    indices: dict[str, dict[str, np.ndarray]]  # output -> S1, S1_conf, ST, ST_conf
    files: list[Path]


def sobol(
    case: BorderCase,
    params: dict[str, Distribution],
    out_dir: Path,
    *,
    n: int = 32,
    seed: int = 0,
    executor: Executor | None = None,
    on_run: Callable[[int, int], None] | None = None,
    lang: str = "en",
) -> SobolResult:
    """Sample, run (on ``executor``, default a process pool) and analyse; write the files.

    ``lang``: the language of sobol.png (sobol.csv keeps the English output names).
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if n < 2 or n & (n - 1):
        raise ScenarioError(f"--n {n} must be a power of two (Sobol' sequences need it)")
    problem = salib_problem(params)
    fixed = {k: d.value for k, d in params.items() if isinstance(d, Fixed)}
    x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    points = [dict(zip(problem["names"], row.tolist(), strict=True)) | fixed for row in x]
    y = np.zeros((len(points), len(OUTPUTS)))
    finished = [0]

    def done(row: int, outputs: list[float]) -> None:
        y[row] = outputs
        finished[0] += 1
        if on_run is not None:
            on_run(finished[0], len(points))

    (executor or pool_executor()).run(SAMPLE_JOB, (case, seed), list(enumerate(points)), done)
    indices = {}
    for k, output in enumerate(OUTPUTS):
        # SALib seeds its bootstrap only for a truthy seed: seed 0 would leave the confidence
        # intervals to NumPy's global generator, different on every run.
        res = analyze.analyze(problem, y[:, k], calc_second_order=False, seed=seed + 1)
        indices[output] = {key: np.asarray(res[key]) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    result = SobolResult(case.name, problem["names"], len(points), indices, [])

    tags = {"output": "#indicator+name", "parameter": "#meta+param", "S1": "#indicator+s1",
            "S1_conf": "#indicator+s1+conf", "ST": "#indicator+st",
            "ST_conf": "#indicator+st+conf"}  # fmt: skip

    def table():
        keys = ("S1", "S1_conf", "ST", "ST_conf")
        for output, ind in indices.items():
            for j in np.argsort(-ind["ST"]):
                yield [output, problem["names"][j], *(f"{ind[key][j]:.4f}" for key in keys)]

    from borderflow.report.plots.ensemble import plot_sobol

    with atomic_outputs(out_dir) as out:
        out.write(SOBOL_CSV, lambda p: write_csv(p, tags, table()))
        out.write(SOBOL_PNG, lambda p: plot_sobol(result, p, lang))
    result.files = [out_dir / SOBOL_CSV, out_dir / SOBOL_PNG]
    return result
