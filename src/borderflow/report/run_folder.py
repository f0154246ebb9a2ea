"""The output stage of single runs: a run's or a comparison's files, written all or nothing.

The services in :mod:`borderflow.runs` return data (results); this module alone turns them
into the run folder's files: Flee's ``out.csv``, the series as Parquet and HXL CSV, the summary
and run descriptions as JSON, the plots, and a comparison's HXL table and chart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderflow.results.atomic import atomic_outputs

if TYPE_CHECKING:
    from borderflow.results.flee_out import CampSeries
    from borderflow.results.run_result import RunResult
    from borderflow.scenario.border_io import BorderCase

OUT_CSV = "out.csv"
SERIES_CSV = "series.csv"
SERIES_PARQUET = "series.parquet"
SUMMARY_JSON = "summary.json"
OBSERVED_JSON = "observed.json"
RUN_JSON = "run.json"
COMPARE_CSV = "compare.csv"
COMPARE_PNG = "compare.png"


def _json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, indent=2, **kwargs)


def write_flee_run(
    result: RunResult, camps: CampSeries, meta: Mapping[str, Any], out_dir: Path
) -> list[Path]:
    """Flee's out.csv, the series as Parquet and the run's description."""
    from borderflow.results.flee_out import write_out_csv
    from borderflow.results.series import write_parquet

    with atomic_outputs(out_dir) as out:
        out.write(OUT_CSV, lambda p: write_out_csv(camps, p))
        out.write(SERIES_PARQUET, lambda p: write_parquet(result.table, p))
        out.write(RUN_JSON, lambda p: p.write_text(_json(meta, default=str)))
    return [out_dir / OUT_CSV, out_dir / SERIES_PARQUET, out_dir / RUN_JSON]


def write_border_run(
    result: RunResult,
    case: BorderCase,
    meta: Mapping[str, Any],
    out_dir: Path,
    plots: bool,
    lang: str = "en",
) -> list[Path]:
    """The series (HXL CSV and Parquet), the summary, the run's description and the plots."""
    from borderflow.results.observed import observed_quantities, summarise_observed
    from borderflow.results.series import write_hxl_csv, write_parquet

    table = result.table
    observed = summarise_observed(result.series, observed_quantities(case), result.origin_day)
    summary_json = [s.__dict__ for s in result.summary()]
    observed_json = [o.__dict__ for o in observed]
    with atomic_outputs(out_dir) as out:
        out.write(SERIES_CSV, lambda p: write_hxl_csv(table, p))
        out.write(SERIES_PARQUET, lambda p: write_parquet(table, p))
        out.write(SUMMARY_JSON, lambda p: p.write_text(_json(summary_json)))
        out.write(OBSERVED_JSON, lambda p: p.write_text(_json(observed_json)))
        out.write(RUN_JSON, lambda p: p.write_text(_json(meta)))
        if plots:
            from borderflow.report.plots.run import write_plots

            write_plots(table, case, out, lang)
    return sorted(out_dir.glob("*"))


def write_comparison(
    rows: Sequence[tuple[str, str, list[float]]],
    labels: Sequence[str],
    results: Sequence[RunResult],
    case: BorderCase,
    out_dir: Path,
    lang: str = "en",
) -> list[Path]:
    """compare.csv (every figure of every variant, with its difference from the baseline).

    And compare.png, in ``lang``.
    """
    from borderflow.report.plots.compare import plot_compare
    from borderflow.results.hxl import write_csv

    tags = {"metric": "#indicator+name", "crossing": "#loc+name",
            "variant": "#meta+variant", "value": "#indicator+num",
            "difference": "#indicator+num+diff"}  # fmt: skip
    table = [
        [metric, crossing, label, f"{v:g}", f"{v - values[0]:g}"]
        for metric, crossing, values in rows
        for label, v in zip(labels, values, strict=True)
    ]
    tables = {label: r.table for label, r in zip(labels, results, strict=True)}
    with atomic_outputs(out_dir) as out:
        out.write(COMPARE_CSV, lambda p: write_csv(p, tags, table))
        out.write(COMPARE_PNG, lambda p: plot_compare(tables, case, p, labels[0], lang))
    return [out_dir / COMPARE_CSV, out_dir / COMPARE_PNG]
