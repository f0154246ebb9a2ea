"""The run summary and the fan show what a case's reports count, not only people stranded.

summary.json lists, beside the per-crossing figures, each quantity the case's observations
name (sums of places and indicators, cumulative totals) and every shelter's count, computed
as ``borderflow score`` computes a report's model value; the terminal shows them translated.
"""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console

from border_factory import write_case
from borderflow.observe.quantity import quantity_series
from borderflow.report.summary import print_border_summary
from borderflow.results.observed import observed_quantities, quantity_bands
from borderflow.results.series import Series, read_parquet
from borderflow.runs import run_border
from borderflow.scenario.border_io import read_border_case

CLOSED_A = [("A", "entry", "2025-01-01", "", "closed", 0, 1.0)]
OBS = (
    "date,location,indicator,low,high,source,reliability\n"
    "2025-01-12,A,stranded,0,100,test,B\n"
    "2025-01-20,A+B,cum_refused+cum_readmitted,0,9000,test,B\n"
)


def _case(tmp_path):
    root = write_case(
        tmp_path / "case", stock=3000, hazard=0.02, end="2025-02-10", origin="2025-01-15",
        policies=CLOSED_A,
        events=[("2025-01-10", "2025-02-10", "shelter", 0, "A", "S", "fill")],
    )  # fmt: skip
    (root / "observations.csv").write_text(OBS)
    return root


def test_summary_json_lists_observed_quantities_and_every_shelter(tmp_path):
    root = _case(tmp_path)
    case = read_border_case(root)
    # stranded at one crossing is in the crossing table already; the shelter no report names
    # is added
    assert observed_quantities(case) == [("A+B", "cum_refused+cum_readmitted"), ("S", "sheltered")]
    run = run_border(root, seed=2, out_dir=tmp_path / "run", plots=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    observed = json.loads((tmp_path / "run" / "observed.json").read_text())
    assert [c["crossing"] for c in summary] == ["A", "B"]
    series = Series.from_table(read_parquet(tmp_path / "run" / "series.parquet"))
    origin = case.origin_day
    for row in observed:
        daily = quantity_series(series, row["location"], row["indicator"])
        assert row["peak"] == round(daily[origin:].max()) and row["at_end"] == round(daily[-1])
    sheltered = next(r for r in observed if r["indicator"] == "sheltered")
    assert sheltered["peak"] > 0  # the shelter is filled from the crossing
    console = Console(record=True, width=200)
    print_border_summary(console, run, "es")
    text = console.export_text()
    assert "lo que cuentan los informes del caso" in text and "personas en albergues" in text
    assert "personas a las que se negó la entrada, total" in text


def test_quantity_bands_are_quantiles_of_the_members_sums(tmp_path):
    root = _case(tmp_path)
    members = []
    for seed in range(3):
        run_border(root, seed=seed, out_dir=tmp_path / f"m{seed}", plots=False)
        members.append(Series.from_table(read_parquet(tmp_path / f"m{seed}" / "series.parquet")))
    key = ("A+B", "cum_refused+cum_readmitted")
    bands = quantity_bands(members, [key], (0.0, 0.5, 1.0))
    sums = np.array([quantity_series(m, *key) for m in members], dtype=float)
    np.testing.assert_array_equal(bands[key][1], np.median(sums, axis=0))
    np.testing.assert_array_equal(bands[key][2], sums.max(axis=0))
