"""Every text of every chart goes through the translator: a string drawn as is fails here.

The charts are drawn with a marking catalog in which every message translates to ``⟦message⟧``;
each text on the canvas (titles, labels, legends, notes, ticks) must then carry the mark, or be
a number or date, or a name that stays as given (places, crossings, countries' codes, variants,
parameters). test_i18n checks that every marked message has its Spanish translation.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import numpy as np
import pytest

import borderflow.i18n
from border_factory import write_case
from borderflow.results.series import read_parquet
from borderflow.runs import run_border
from borderflow.scenario.border_io import read_border_case

LANG = "es"  # numbers, dates and month names in Spanish; messages marked
VARIANTS = ("default", "hazard=high")
PARAMETERS = ("departure_hazard", "capacity_scale")


class _Marked:
    """A catalog in which every message is "translated" to itself between marks."""

    def get(self, message: str, _default: str | None = None) -> str:
        return f"⟦{message}⟧"


@pytest.fixture
def marked(monkeypatch):
    monkeypatch.setattr(borderflow.i18n, "catalog", lambda lang: _Marked())


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("charts")
    case_dir = write_case(root / "case", stock=800, hazard=0.03, end="2025-01-20",
                          origin="2025-01-08")  # fmt: skip
    run_border(case_dir, seed=1, out_dir=root / "run", plots=False)
    return read_parquet(root / "run" / "series.parquet"), read_border_case(case_dir)


def _months() -> set[str]:
    from babel.dates import get_month_names

    names = set()
    for width in ("abbreviated", "wide"):
        names |= {m.strip(".").lower() for m in get_month_names(width, locale=LANG).values()}
    return names


def untranslated(fig, names: set[str]) -> list[str]:
    """The texts drawn on ``fig`` that are neither marked, nor numbers or dates, nor names."""
    from matplotlib.text import Text

    fig.canvas.draw()
    months = _months()
    bad = []
    for t in fig.findobj(Text):
        text = t.get_text().strip()
        if not text or not t.get_visible() or (t.axes is not None and not t.axes.get_visible()):
            continue
        if "⟦" in text or set(text.split(" → ")) <= names:  # a name, or a road "A → B"
            continue
        words = [w.strip(".,:;()[]%°+-−–").lower() for w in text.split()]
        if all(not w or w.isdigit() or w in months or re.fullmatch(r"[\d.,]+", w) for w in words):
            continue
        bad.append(text)
    return bad


def _names(case) -> set[str]:
    names = {p.name for p in case.places} | {c.name for c in case.crossings}
    return names | {p.iso3 for p in case.places} | set(VARIANTS) | set(PARAMETERS)


def _capture(monkeypatch, *modules) -> list:
    """The figures the modules' charts save, instead of their PNG files."""
    figures: list = []
    for module in modules:
        monkeypatch.setattr(module, "save_png", lambda fig, path: figures.append(fig))
    return figures


def test_the_run_charts_and_the_map(marked, small_run):
    from borderflow.report.plots.network import plot_map
    from borderflow.report.plots.run import plot_flows, plot_stranded

    table, case = small_run
    for draw in (plot_stranded, plot_flows, plot_map):
        assert untranslated(draw(table, case, LANG), _names(case)) == [], draw.__name__


def test_compare_and_the_ensemble_fan(marked, small_run, monkeypatch, tmp_path):
    import pyarrow as pa

    from borderflow.report.plots import compare, ensemble

    table, case = small_run
    drawn = _capture(monkeypatch, compare, ensemble)
    compare.plot_compare(dict.fromkeys(VARIANTS, table), case, tmp_path / "c.png", "default", LANG)
    bands = table
    for q in ("q05", "q25", "q50", "q75", "q95"):
        bands = bands.append_column(q, pa.array(table.column("value").to_numpy(), pa.float64()))
    days = len(set(table.column("day").to_pylist()))
    q = np.sort(np.random.default_rng(0).uniform(0, 50, (5, days)), axis=0)
    observed = {("S", "sheltered"): q, ("ALL", "cum_refused+readmitted"): q}
    ensemble.plot_fan(bands, case, tmp_path / "fan.png", 3, LANG, observed)
    assert len(drawn) == 2
    for fig in drawn:
        assert untranslated(fig, _names(case)) == []


def test_effects_and_sobol_charts(marked, small_run, monkeypatch, tmp_path):
    from borderflow.ensemble.compare import EnsembleComparison
    from borderflow.ensemble.sensitivity import SobolResult
    from borderflow.report.plots import ensemble
    from borderflow.results.headline import ALL_CROSSINGS, LABELS

    _table, case = small_run
    drawn = _capture(monkeypatch, ensemble)
    rng = np.random.default_rng(0)
    crossing = case.crossings[0].name
    values = {
        (LABELS["peak_stranded"], ALL_CROSSINGS): [rng.normal(900, 50, 20) for _ in VARIANTS],
        (LABELS["crossed"], crossing): [rng.normal(4000, 90, 20) for _ in VARIANTS],
    }
    ensemble.plot_effects(EnsembleComparison(case.name, list(VARIANTS), 20, values, []),
                          tmp_path / "e.png", LANG)  # fmt: skip
    index = {"S1": np.array([0.6, 0.2]), "S1_conf": np.array([0.05, 0.04]),
             "ST": np.array([0.7, 0.3]), "ST_conf": np.array([0.05, 0.05])}  # fmt: skip
    outputs = {f"{LABELS[k]}, {ALL_CROSSINGS}": index for k in ("peak_stranded", "crossed")}
    ensemble.plot_sobol(SobolResult(case.name, list(PARAMETERS), 64, outputs, []),
                        tmp_path / "s.png", LANG)  # fmt: skip
    assert len(drawn) == 2
    for fig in drawn:
        assert untranslated(fig, _names(case)) == []


def test_calibration_charts(marked, monkeypatch, tmp_path):
    from borderflow.report.plots import calibration
    from borderflow.report.plots.calibration import BacktestPanel, Mark

    drawn = _capture(monkeypatch, calibration)
    day0 = np.datetime64("2025-03-01", "D")
    dates = day0 + np.arange(30).astype("timedelta64[D]")
    bands = np.stack([np.linspace(10, 40, 30) * f for f in (0.6, 0.8, 1.0, 1.2, 1.4)])
    panel = BacktestPanel(
        "Camp A", "refugees_in_camp", dt.date(2025, 3, 15), dates, bands,
        known=[Mark(day0 + 3, day0 + 3, 12.0, 12.0)],
        scored=[Mark(day0 + 20, day0 + 24, 25.0, 31.0)], persistence=20.0,
    )  # fmt: skip
    calibration.plot_backtest("flee-case", [[panel]], tmp_path / "b.png", LANG)
    runs = SimpleNamespace(keys=[("Camp A", "refugees_in_camp")],
                           values=np.linspace(1, 50, 6 * 30).reshape(6, 30, 1))  # fmt: skip
    observed = [
        SimpleNamespace(
            location="Camp A", indicator="refugees_in_camp", date=dt.date(2025, 3, d), low=10.0 + d
        )
        for d in (5, 12)
    ]
    problem = SimpleNamespace(name="flee-case", start=dt.date(2025, 3, 1), observations=observed)
    calibration.plot_camp_fan(runs, problem, 6, tmp_path / "f.png", LANG)
    assert len(drawn) == 2
    for fig in drawn:
        assert untranslated(fig, {"Camp A"}) == []


def test_a_string_drawn_as_is_is_caught(marked, small_run):
    """The check itself: an English title put on a chart without the translator fails it."""
    from borderflow.report.plots.run import plot_stranded

    table, case = small_run
    fig = plot_stranded(table, case, LANG)
    fig.axes[0].set_title("People stranded")
    assert untranslated(fig, _names(case)) == ["People stranded"]


def test_the_score_chart(marked, small_run):
    from borderflow.calibrate.outcomes import Scored, plot_scores
    from borderflow.scenario.border_schema import ObservationRow

    _, case = small_run
    reports = [
        ObservationRow(date=dt.date(2025, 1, 10), location="A", indicator="stranded", low=5,
                       high=9),
        ObservationRow(date=dt.date(2025, 1, 11), end=dt.date(2025, 1, 14), stat="mean",
                       location="A", indicator="crossed", low=1, high=3),
    ]  # fmt: skip
    scored = [Scored(o, np.array([2.0, 4.0, 7.0])) for o in reports]
    fig = plot_scores(scored, "⟦title⟧", LANG)
    assert untranslated(fig, _names(case)) == []
