"""Run a Flee scenario end to end and write its run folder (the service behind the CLI)."""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from borderflow.errors import ScenarioError
from borderflow.results.atomic import atomic_outputs
from borderflow.results.flee_out import CampSeries, write_out_csv
from borderflow.results.metrics import scores
from borderflow.rules.flee import FleeModel
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.flee_settings import load_flee_settings

OUT_CSV = "out.csv"
SERIES_PARQUET = "series.parquet"
RUN_JSON = "run.json"
_SERIES_MODULE = "borderflow.results.series"


def preload(module: str) -> None:
    """Import ``module`` in the background.

    The engine's kernels release the GIL, so a library needed only for writing the outputs
    (pyarrow) loads while the simulation runs, instead of adding its import time to each run.
    """
    threading.Thread(target=importlib.import_module, args=(module,), daemon=True).start()


@dataclass
class FleeRun:
    """What a finished run reports back."""

    scenario: str
    seed: int
    days: int
    camps: CampSeries
    scores: dict[str, float]
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def camp_series(model: FleeModel) -> CampSeries:
    s = model.schedule
    return CampSeries(
        start_date=model.start_date,
        camps=tuple(model.camps),
        sim=model.history[:, model.camp_idx],
        data=s.camp_data,
        n_agents=model.n_agents,
        raw=s.raw,
        debt=s.debt,
        date_offset=0 if model.settings.flee31 else 1,
    )


def series_table(model: FleeModel, camps: CampSeries):
    from borderflow.results.series import SeriesBuilder

    b = SeriesBuilder(model.start_date, model.days)
    b.add("present", model.graph.names, model.history)
    b.add("observed", camps.camps, camps.data)
    b.add("travelling", ["ALL"], model.travelling)
    b.add("agents", ["ALL"], model.n_agents)
    b.add("spawned", ["ALL"], model.schedule.new)
    b.add("refugee_debt", ["ALL"], model.schedule.debt)
    return b


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
    t0 = time.perf_counter()
    settings = load_flee_settings(settings_path, compatibility)
    scenario = read_flee_scenario(scenario_dir, days=days, hasten=settings.optimisations.hasten)
    model = FleeModel(scenario, settings, seed)
    if on_start is not None:
        on_start(model.days)
    if out_dir is not None:
        preload(_SERIES_MODULE)
    model.run(on_day)
    camps = camp_series(model)
    result = FleeRun(
        scenario=scenario.name,
        seed=seed,
        days=model.days,
        camps=camps,
        scores=scores(camps),
        phase_seconds=dict(model.plan.seconds),
        warnings=scenario.warnings,
    )
    if out_dir is not None:
        meta = {
            "scenario": scenario.name,
            "scenario_path": str(scenario_dir),
            "ruleset": "flee",
            "seed": seed,
            "days": model.days,
            "start_date": model.start_date.isoformat(),
            "settings": settings.model_dump(),
            "agents": len(model.agents),
            "scores": result.scores,
        }
        from borderflow.results.series import write_parquet

        with atomic_outputs(out_dir) as out:
            out.write(OUT_CSV, lambda p: write_out_csv(camps, p))
            out.write(
                SERIES_PARQUET, lambda p: write_parquet(series_table(model, camps).table(), p)
            )
            out.write(RUN_JSON, lambda p: p.write_text(json.dumps(meta, indent=2, default=str)))
        result.files = [out_dir / OUT_CSV, out_dir / SERIES_PARQUET, out_dir / RUN_JSON]
    result.seconds = time.perf_counter() - t0
    return result


SERIES_CSV = "series.csv"
SUMMARY_JSON = "summary.json"


@dataclass
class BorderRun:
    """What a finished border-crisis run reports back."""

    case: str
    seed: int
    variant: dict[str, str]
    days: int
    origin_day: int
    model: object  # the BorderModel, for plots and comparisons
    summary: list
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(default_factory=dict)


def run_border(
    case_dir: Path,
    *,
    seed: int = 0,
    variant: dict[str, str] | None = None,
    capacity: dict[str, int] | None = None,
    scale: float = 1.0,
    out_dir: Path | None = None,
    plots: bool = True,
    on_start: Callable[[int], None] | None = None,
    on_day: Callable[[int], None] | None = None,
) -> BorderRun:
    """Read a border case, run it, and (if ``out_dir``) write its run folder."""
    from borderflow.results.border_out import border_series, summarise
    from borderflow.rules.border import BorderModel
    from borderflow.scenario.border_io import read_border_case

    t0 = time.perf_counter()
    case = read_border_case(case_dir, variant)
    model = BorderModel(case, seed, scale=scale, capacity=capacity)
    if on_start is not None:
        on_start(model.days)
    if out_dir is not None:
        preload(_SERIES_MODULE)
    model.run(on_day)
    origin_day = (case.spec.case.origin - model.start_date).days
    summary = summarise(model, since=max(origin_day, 0))
    result = BorderRun(
        case=case.name,
        seed=seed,
        variant=case.variant,
        days=model.days,
        origin_day=origin_day,
        model=model,
        summary=summary,
        phase_seconds=dict(model.plan.seconds),
    )
    if out_dir is not None:
        from borderflow.results.series import write_hxl_csv, write_parquet

        table = border_series(model).table()
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
            "agents": len(model.agents),
        }
        summary_json = [s.__dict__ for s in summary]
        with atomic_outputs(out_dir) as out:
            out.write(SERIES_CSV, lambda p: write_hxl_csv(table, p))
            out.write(SERIES_PARQUET, lambda p: write_parquet(table, p))
            out.write(SUMMARY_JSON, lambda p: p.write_text(json.dumps(summary_json, indent=2)))
            out.write(RUN_JSON, lambda p: p.write_text(json.dumps(meta, indent=2)))
            if plots:
                from borderflow.report.plots.run import write_plots

                write_plots(table, case, out)
        result.files = sorted(out_dir.glob("*"))
    result.seconds = time.perf_counter() - t0
    return result


COMPARE_CSV = "compare.csv"
COMPARE_PNG = "compare.png"
COMPARE_METRICS = (
    ("peak_stranded", "peak stranded"),
    ("person_days_stranded", "person-days stranded"),
    ("crossed", "crossed regularly"),
    ("refused", "refused entry"),
    ("irregular", "crossed irregularly"),
)


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
) -> Comparison:
    """Run each variant with the same seed (common random numbers); the first is the baseline.

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
    rows = []
    for key, name in COMPARE_METRICS:
        for k, s in enumerate(runs[0].summary):
            rows.append((name, s.crossing, [float(getattr(r.summary[k], key)) for r in runs]))
    for k, s in enumerate(runs[0].summary):
        rows.append(
            (
                "people in need at the peak",
                s.crossing,
                [r.summary[k].needs_at_peak["people"] for r in runs],
            )
        )
    result = Comparison(runs[0].case, labels, runs, rows)
    if out_dir is not None:
        from borderflow.report.plots.compare import plot_compare
        from borderflow.results.border_out import border_series
        from borderflow.results.hxl import write_csv

        tags = {"metric": "#indicator+name", "crossing": "#loc+name",
                "variant": "#meta+variant", "value": "#indicator+num",
                "difference": "#indicator+num+diff"}  # fmt: skip
        table = [
            [metric, crossing, label, f"{v:g}", f"{v - values[0]:g}"]
            for metric, crossing, values in rows
            for label, v in zip(labels, values, strict=True)
        ]

        tables = {
            label: border_series(r.model).table() for label, r in zip(labels, runs, strict=True)
        }
        case = runs[0].model.case
        with atomic_outputs(out_dir) as out:
            out.write(COMPARE_CSV, lambda p: write_csv(p, tags, table))
            out.write(COMPARE_PNG, lambda p: plot_compare(tables, case, p, labels[0]))
        result.files = [out_dir / COMPARE_CSV, out_dir / COMPARE_PNG]
    return result
