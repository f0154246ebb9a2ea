"""Plots of a border run: the PNGs are written, and the numbers they draw are the model's."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from border_factory import write_case
from borderflow.report.plots import data
from borderflow.report.plots.compare import plot_compare
from borderflow.report.plots.run import FLOWS_PNG, MAP_PNG, STRANDED_PNG
from borderflow.results.series import read_parquet
from borderflow.rules.border import BorderModel
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.runs import run_border
from borderflow.scenario.border_io import read_border_case

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OBSERVATIONS = [("2025-01-05", "A", "stranded", 10, 40), ("2025-01-10", "A", "stranded", 30, 60)]


def _case(root: Path, entry_policy: str) -> Path:
    """People stranded at A (Peru-like 'documented_only' entry), some returning to C."""
    path = write_case(
        root,
        stock=1500,
        hazard=0.02,
        end="2025-01-20",
        origin="2025-01-08",
        policies=[("A", "entry", "2025-01-01", "", entry_policy, 0, 0.5)],
        stranded={"return_per_day": 0.1, "irregular_per_day": 0.1},
        groups=[("NAT", 0.8, 0.3, 0.4, "A:0.8;B:0.2"), ("AAA", 0.2, 0.0, 0.2, "A:1")],
    )
    rows = [f"{d},{loc},{ind},{lo},{hi},test,B" for d, loc, ind, lo, hi in OBSERVATIONS]
    with (path / "observations.csv").open("a") as handle:
        handle.write("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("plots")
    case_dir = _case(root / "case", "documented_only")
    out = root / "run"
    run_border(case_dir, seed=5, out_dir=out, plots=True)
    table = read_parquet(out / "series.parquet")
    return _model(case_dir), table, read_border_case(case_dir), out


def _model(case_dir: Path, seed: int = 5) -> BorderModel:
    """The same run as the fixture's, kept as a model to compare the files with its arrays."""
    return BorderModel(read_border_case(case_dir), seed).run()


def _check_png(path: Path) -> None:
    from PIL import Image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as img:
        img.load()
        assert img.width > 600 and img.height > 400
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 20  # a drawing, not a blank page


@pytest.mark.slow
def test_run_folder_gets_the_three_pictures(run):
    _result, _table, _case, out = run
    for name in (STRANDED_PNG, FLOWS_PNG, MAP_PNG):
        _check_png(out / name)
    assert not list(out.glob(".*.tmp")), "temporary files left behind"


@pytest.mark.slow
def test_series_are_the_models_counts(run):
    model, table, case, _out = run
    assert model.at_crossing[:, 0, C.STRANDED].max() > 0, "nobody stranded"
    for k, name in enumerate(case.crossings):
        for indicator in ("stranded", "crossed", "refused"):
            dates, values = data.series(table, indicator, name.name)
            np.testing.assert_array_equal(values, model.at_crossing[:, k, C[indicator.upper()]])
    dates, _ = data.series(table, "stranded", "A")
    expected = np.datetime64(dt.date(2025, 1, 1), "D") + np.arange(model.days)
    np.testing.assert_array_equal(dates, expected)
    assert data.series(table, "stranded", "nowhere")[1].size == 0
    peaks = data.peak_stranded(table, case)
    assert peaks == {
        name: float(model.at_crossing[:, k, C.STRANDED].max())
        for k, name in enumerate(model.crossing_names)
    }


@pytest.mark.slow
def test_road_totals_and_top_roads(run):
    model, table, _case, _out = run
    g = model.graph
    expected = {
        (g.names[g.src[lk]], g.names[g.dst[lk]]): float(model.flow[:, lk].sum())
        for lk in range(g.n_links)
        if model.flow[:, lk].sum() > 0
    }
    totals = data.road_totals(table)
    assert totals == expected
    assert totals[("XA", "C")] > 0, "no one returned from the post: the test case changed"

    ranked = sorted(expected, key=lambda road: -expected[road])
    top = data.top_roads(table, 3)
    assert [expected[r] for r in top] == [expected[r] for r in ranked[:3]]
    assert min(expected[r] for r in top) >= max(expected[r] for r in ranked[3:])
    assert len(data.top_roads(table, 100)) == len(expected)

    both_ways = data.segment_totals(table)
    assert both_ways[("C", "XA")] == totals[("C", "XA")] + totals[("XA", "C")]
    assert sum(both_ways.values()) == pytest.approx(sum(totals.values()))


@pytest.mark.slow
def test_observed_ranges_come_from_the_case(run):
    _result, _table, case, _out = run
    got = data.observed_ranges(case, "stranded", "A")
    assert got == [(dt.date.fromisoformat(d), lo, hi) for d, _, _, lo, hi in OBSERVATIONS]
    assert data.observed_ranges(case, "stranded", "B") == []


@pytest.mark.slow
def test_compare_writes_a_picture_of_differences(run, tmp_path):
    model, table, case, _out = run
    open_run = run_border(_case(tmp_path / "open", "open"), seed=5)
    open_table = open_run.result.table
    base = model.at_crossing[:, 0, C.STRANDED]
    other = open_run.result.series.values("stranded", "A")
    assert not np.array_equal(base, other), "the two policies should differ"

    dates, diff = data.difference(open_table, table, "stranded", "A")
    assert len(dates) == model.days
    np.testing.assert_array_equal(diff, other - base)

    path = plot_compare(
        {"documented only": table, "open": open_table},
        case,
        tmp_path / "out" / "compare.png",
        baseline="documented only",
    )
    assert path == tmp_path / "out" / "compare.png"
    _check_png(path)
    with pytest.raises(ValueError, match="baseline"):
        plot_compare({"open": open_table}, case, tmp_path / "x.png", baseline="closed")


def test_importing_the_plotting_modules_does_not_load_matplotlib():
    modules = [p.stem for p in Path(data.__file__).parent.glob("*.py") if p.stem != "__init__"]
    assert len(modules) >= 7
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('borderflow.report.plots.' + m)\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
