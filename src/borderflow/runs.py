"""Run a Flee scenario end to end and write its run folder (the service behind the CLI)."""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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
        # pyarrow loads while the movement kernel runs without the GIL: its import time is
        # hidden instead of added to every run.
        threading.Thread(
            target=importlib.import_module, args=(_SERIES_MODULE,), daemon=True
        ).start()
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
