"""The charts of calibration: backtests against what followed, posterior-predictive fans.

They draw what the calibrate service hands over: :func:`plot_backtest` gets the predictive
bands with the error model already applied (:mod:`borderflow.calibrate.backtest_chart`), so
no plotting module imports calibration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.i18n import fmt_date, fmt_number, translator
from borderflow.report.plots.common import (
    date_axis,
    figure,
    indicator_name,
    line_colour,
    origin_line,
    people_axis,
    save_png,
    wrap,
)

BACKTEST_ROWS = 4  # series shown (those with the most scored points)


@dataclass(frozen=True)
class Mark:
    """A reported figure on a chart: a dot for one count on one day, else a box."""

    first: np.datetime64  # first day
    last: np.datetime64  # last day (the same for a count of one day)
    low: float
    high: float


@dataclass(frozen=True)
class BacktestPanel:
    """One series around one forecast origin, as backtest.png draws it."""

    location: str
    indicator: str
    origin: dt.date
    dates: np.ndarray  # datetime64[D], one horizon before the origin to the forecast's end
    bands: np.ndarray | None  # (5, days): 5, 25, 50, 75, 95 % of the predictive draws
    known: list[Mark]  # observations known at the origin
    scored: list[Mark]  # observations the forecast was scored on
    persistence: float | None  # the persistence forecast of the scored observations


def plot_backtest(
    name: str, columns: Sequence[Sequence[BacktestPanel]], path: Path, lang: str = "en"
) -> None:
    """Forecast against observed, one column per origin, one row per observed series.

    Each panel spans one horizon before and after its origin: the predictive 50 % and 90 %
    bands (members with the error model), their median, the observations known at the origin
    (grey) and those it was scored on (black), and persistence (dotted). Texts in ``lang``.
    """
    T = translator(lang)
    ncol = len(columns)
    nrow = max((len(c) for c in columns), default=0)
    fig = figure(max(4.2 * ncol, 7), 3.0 * max(nrow, 1))
    axes = fig.subplots(max(nrow, 1), max(ncol, 1), squeeze=False)
    for c, panels in enumerate(columns):
        for row, panel in enumerate(panels):
            _backtest_panel(axes[row][c], panel, lang, legend=row == 0 and c == 0)
    title = T("{name}: backtest, forecast vs observed at {n} origin(s)", name=name, n=ncol)
    fig.suptitle(wrap(title), fontsize=11)
    save_png(fig, path)


def _backtest_panel(ax, panel: BacktestPanel, lang: str, *, legend: bool) -> None:
    import matplotlib.dates as mdates

    T = translator(lang)
    dates, q = panel.dates, panel.bands
    if q is not None:
        ax.fill_between(dates, q[0], q[4], color=line_colour(0), alpha=0.18, lw=0,
                        label=T("90 % interval"))  # fmt: skip
        ax.fill_between(dates, q[1], q[3], color=line_colour(0), alpha=0.35, lw=0,
                        label=T("50 % interval"))  # fmt: skip
        ax.plot(dates, q[2], color=line_colour(0), linewidth=1.8, label=T("median"))
    for marks, colour, label in (
        (panel.known, "#999999", T("known at the origin")),
        (panel.scored, "black", T("scored")),
    ):
        for k, m in enumerate(marks):
            if m.low == m.high and m.first == m.last:
                ax.plot([m.first], [m.low], "o", color=colour, markersize=3.5,
                        label=label if k == 0 else None)  # fmt: skip
            else:
                ax.add_patch(_period_box(m.first, m.last, m.low, m.high, colour))
                if k == 0:
                    ax.plot([], [], "s", color=colour, label=label)
    if panel.persistence is not None:
        ax.axhline(panel.persistence, color="#555555", linestyle=":", linewidth=1,
                   label=T("persistence"))  # fmt: skip
    origin_line(ax, panel.origin, label=False, lang=lang)
    date_axis(ax, dates, lang)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
    people_axis(ax, indicator_name(panel.indicator, lang), lang=lang)
    title = T("{place} — origin {date}", place=panel.location, date=fmt_date(panel.origin, lang))
    ax.set_title(wrap(title, 45), fontsize=9)
    if legend:
        ax.legend(loc="best", frameon=True, framealpha=0.85, fontsize=7)


def _period_box(x0, x1, low: float, high: float, colour: str):
    import matplotlib.dates as mdates
    from matplotlib.patches import Rectangle

    a, b = mdates.date2num(x0), mdates.date2num(x1 + np.timedelta64(1, "D"))
    return Rectangle((a, low), b - a, max(high - low, 0.5), facecolor="none",
                     edgecolor=colour, linewidth=1.3)  # fmt: skip


def plot_camp_fan(runs, problem, members: int, path: Path, lang: str = "en") -> None:
    """Posterior-predictive bands of each observed camp with its observed counts, in ``lang``."""
    T = translator(lang)
    keys = runs.keys
    ncol = 2 if len(keys) > 1 else 1
    nrow = (len(keys) + ncol - 1) // ncol
    fig = figure(6.5 * ncol, 2.8 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    day0 = np.datetime64(problem.start, "D")
    dates = day0 + np.arange(runs.values.shape[1]).astype("timedelta64[D]")
    q = np.quantile(runs.values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    for j, (loc, ind) in enumerate(keys):
        ax = axes[j // ncol][j % ncol]
        ax.fill_between(dates, q[0, :, j], q[4, :, j], color=line_colour(0), alpha=0.18, lw=0,
                        label=T("90 % of members"))  # fmt: skip
        ax.fill_between(dates, q[1, :, j], q[3, :, j], color=line_colour(0), alpha=0.35, lw=0,
                        label=T("50 % of members"))  # fmt: skip
        ax.plot(dates, q[2, :, j], color=line_colour(0), linewidth=1.8, label=T("median"))
        pts = [o for o in problem.observations if (o.location, o.indicator) == (loc, ind)]
        ax.plot([np.datetime64(o.date, "D") for o in pts], [o.low for o in pts], "o",
                color="black", markersize=3, label=T("observed"))  # fmt: skip
        date_axis(ax, dates, lang)
        people_axis(ax, indicator_name(ind, lang), lang=lang)
        ax.set_title(loc, fontsize=10)
        if j == 0:
            ax.legend(loc="upper left", frameon=False, fontsize=7)
    for j in range(len(keys), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    title = T(
        "{name}: posterior-predictive ensemble of {members} members",
        name=problem.name,
        members=fmt_number(members, lang),
    )
    fig.suptitle(title, fontsize=11)
    save_png(fig, path)
