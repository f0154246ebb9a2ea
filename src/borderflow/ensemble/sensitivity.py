"""Which assumptions drive the forecast: Sobol' indices of the headline outputs (SALib).

The uncertain parameters (the same file as ensembles) are sampled with Saltelli's scheme,
``N × (D + 2)`` runs for ``D`` varying parameters; every run uses the same simulation seed, so
the outputs vary only with the parameters (common random numbers), as Sobol' analysis assumes.
First-order indices (S1) say how much of an output's variance a parameter explains alone;
total indices (ST) include its interactions.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.ensemble.params import Distribution, Fixed, LogNormal, Normal, TruncNormal, Uniform
from borderflow.errors import ScenarioError
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


_CASE: dict = {}


def _init(case: BorderCase, seed: int) -> None:
    _CASE.update(case=case, seed=seed)


def _evaluate(values: dict[str, float]) -> list[float]:
    from borderflow.rules.border import BorderModel

    model = BorderModel(override(_CASE["case"], values), _CASE["seed"]).run()
    out = headline_outputs(model.result())
    return [out[k] for k in OUTPUTS]


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
    workers: int | None = None,
    on_run: Callable[[int, int], None] | None = None,
) -> SobolResult:
    """Sample, run (in a process pool) and analyse; write sobol.csv and sobol.png."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if n < 2 or n & (n - 1):
        raise ScenarioError(f"--n {n} must be a power of two (Sobol' sequences need it)")
    problem = salib_problem(params)
    fixed = {k: d.value for k, d in params.items() if isinstance(d, Fixed)}
    x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    points = [dict(zip(problem["names"], row.tolist(), strict=True)) | fixed for row in x]
    y = np.zeros((len(points), len(OUTPUTS)))
    with cf.ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, initializer=_init, initargs=(case, seed)
    ) as pool:
        futures = {pool.submit(_evaluate, p): i for i, p in enumerate(points)}
        for done, fut in enumerate(cf.as_completed(futures), start=1):
            y[futures[fut]] = fut.result()
            if on_run is not None:
                on_run(done, len(points))
    indices = {}
    for k, output in enumerate(OUTPUTS):
        res = analyze.analyze(problem, y[:, k], calc_second_order=False, seed=seed)
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

    from borderflow.report.plots import plot_sobol

    with atomic_outputs(out_dir) as out:
        out.write(SOBOL_CSV, lambda p: write_csv(p, tags, table()))
        out.write(SOBOL_PNG, lambda p: plot_sobol(result, p))
    result.files = [out_dir / SOBOL_CSV, out_dir / SOBOL_PNG]
    return result
