"""Run a scenario and hand back its result (the services behind the CLI and the web app).

Each service returns data (a :class:`~borderflow.results.run_result.RunResult` inside a small
record of what was run); given an ``out_dir`` it passes that data to the output stage,
:mod:`borderflow.report.run_folder`, which alone writes files.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from borderflow.errors import ScenarioError
from borderflow.report.run_folder import (
    COMPARE_CSV,
    COMPARE_PNG,
    OUT_CSV,
    RUN_JSON,
    SERIES_CSV,
    SERIES_PARQUET,
    SUMMARY_JSON,
)
from borderflow.results.headline import FIGURES, CrossingSummary
from borderflow.results.metrics import scores
from borderflow.results.run_result import RunResult

if TYPE_CHECKING:
    from borderflow.results.flee_out import CampSeries
    from borderflow.scenario.border_io import BorderCase

__all__ = [
    "COMPARE_CSV", "COMPARE_PNG", "OUT_CSV", "RUN_JSON", "SERIES_CSV", "SERIES_PARQUET",
    "SUMMARY_JSON", "BorderRun", "Comparison", "FleeRun", "compare_border", "run_border",
    "run_flee", "variant_label",
]  # fmt: skip
_SERIES_MODULE = "borderflow.results.series"


def preload(module: str) -> None:
    """Import ``module`` in the background.

    The engine's kernels release the GIL, so a library needed only for writing the outputs
    (pyarrow) loads while the simulation runs, instead of adding its import time to each run.
    """
    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


@dataclass
class FleeRun:
    """What a finished Flee run reports back."""

    result: RunResult
    camps: CampSeries
    scores: dict[str, float]
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return self.result.days


def run_flee(
    scenario_dir: Path,
    *,
    seed: int = 0,
    days: int | None = None,
    settings_path: Path | None = None,
    compatibility: str | None = None,
    out_dir: Path | None = None,
    on_start: Callable[[int], None] | None = None,
    on_day: Callable[[int], None] | None = None,
) -> FleeRun:
    """Read, validate, run and (if ``out_dir``) write out.csv, series.parquet and run.json."""
    from borderflow.rules.flee import FleeModel
    from borderflow.scenario.flee_io import read_flee_scenario
    from borderflow.scenario.flee_settings import load_flee_settings

    t0 = time.perf_counter()
    settings = load_flee_settings(settings_path, compatibility)
    scenario = read_flee_scenario(
        scenario_dir,
        days=days,
        hasten=settings.optimisations.hasten,
        compatibility=settings.compatibility,
    )
    model = FleeModel(scenario, settings, seed)
    if on_start is not None:
        on_start(model.days)
    if out_dir is not None:
        preload(_SERIES_MODULE)
    model.run(on_day)
    camps = model.camp_series()
    run = FleeRun(model.result(), camps, scores(camps), warnings=scenario.warnings)
    if out_dir is not None:
        from borderflow.report.run_folder import write_flee_run

        meta = {
            "scenario": scenario.name,
            "scenario_path": str(scenario_dir),
            "ruleset": "flee",
            "seed": seed,
            "days": model.days,
            "start_date": model.start_date.isoformat(),
            "settings": settings.model_dump(),
            "agents": run.result.agents,
            "scores": run.scores,
        }
        run.files = write_flee_run(run.result, camps, meta, out_dir)
    run.seconds = time.perf_counter() - t0
    return run


@dataclass
class BorderRun:
    """What a finished border-crisis run reports back: the case that was run, and its result."""

    case: BorderCase
    result: RunResult
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def days(self) -> int:
        return self.result.days

    @property
    def summary(self) -> list[CrossingSummary]:
        return self.result.summary()


def run_border(
    case_dir: Path,
    *,
    seed: int = 0,
    variant: dict[str, str] | None = None,
    capacity: dict[str, int] | None = None,
    known_at_origin: bool = False,
    scale: float = 1.0,
    out_dir: Path | None = None,
    plots: bool = True,
    lang: str = "en",
    on_start: Callable[[int], None] | None = None,
    on_day: Callable[[int], None] | None = None,
) -> BorderRun:
    """Run a border case and (if ``out_dir``) write its run folder; charts in ``lang``.

    ``known_at_origin`` drops the rows announced after the origin (``borderflow.scenario.
    announced``); run.json records it only when set, so other runs keep their bytes.
    """
    from borderflow.rules.border import BorderModel
    from borderflow.scenario.border_io import read_border_case

    t0 = time.perf_counter()
    case = read_border_case(case_dir, variant, known_at_origin=known_at_origin)
    model = BorderModel(case, seed, scale=scale, capacity=capacity)
    if on_start is not None:
        on_start(model.days)
    if out_dir is not None:
        preload(_SERIES_MODULE)
    model.run(on_day)
    run = BorderRun(case, model.result())
    if out_dir is not None:
        from borderflow.report.run_folder import write_border_run

        meta = {
            "case": case.name,
            "case_path": str(case_dir),
            "ruleset": "border",
            "seed": seed,
            "variant": case.variant,
            "capacity": capacity or {},
            "scale": scale,
            "start_date": model.start_date.isoformat(),
            "origin": case.spec.case.origin.isoformat(),
            "days": model.days,
            "agents": run.result.agents,
        }
        if known_at_origin:
            meta["known_at_origin"] = True
        run.files = write_border_run(run.result, case, meta, out_dir, plots, lang)
    run.seconds = time.perf_counter() - t0
    return run


@dataclass
class Comparison:
    """Variants of one case run on the same random numbers, and their differences."""

    case: str
    labels: list[str]
    runs: list[BorderRun]
    rows: list[tuple[str, str, list[float]]]  # (metric, crossing, value per variant)
    files: list[Path] = field(default_factory=list)


def variant_label(choice: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(choice.items())) or "default"


def compare_border(
    case_dir: Path,
    choices: list[dict[str, str]],
    *,
    seed: int = 0,
    capacity: dict[str, int] | None = None,
    out_dir: Path | None = None,
    on_run: Callable[[int, int], None] | None = None,
    lang: str = "en",
) -> Comparison:
    """Run each variant with the same seed (common random numbers); the first is the baseline.

    ``lang``: the language of compare.png (compare.csv keeps its English figure names).

    Because every draw is indexed by (seed, day, person), two variants differ only where their
    policies make people's situations differ, so the differences are due to the policies, not
    to chance.
    """
    if len(choices) < 2:
        raise ScenarioError("compare needs at least two variants (the first is the baseline)")
    runs = []
    for i, choice in enumerate(choices):
        runs.append(run_border(case_dir, seed=seed, variant=choice, capacity=capacity))
        if on_run is not None:
            on_run(i + 1, len(choices))
    labels = [variant_label(choice) for choice in choices]
    summaries = [r.summary for r in runs]
    rows = []
    for key, label, _, _ in FIGURES:
        for k, s in enumerate(summaries[0]):
            rows.append((label, s.crossing, [float(getattr(r[k], key)) for r in summaries]))
    for k, s in enumerate(summaries[0]):
        rows.append(
            (
                "people in need at the peak",
                s.crossing,
                [r[k].needs_at_peak["people"] for r in summaries],
            )
        )
    result = Comparison(runs[0].result.name, labels, runs, rows)
    if out_dir is not None:
        from borderflow.report.run_folder import write_comparison

        results = [r.result for r in runs]
        result.files = write_comparison(rows, labels, results, runs[0].case, out_dir, lang)
    return result
