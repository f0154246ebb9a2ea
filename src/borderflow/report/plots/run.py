"""The pictures of a border run's folder: ``stranded.png``, ``flows.png`` and ``map.png``.

:func:`write_plots` draws all three (the map is :mod:`borderflow.report.plots.network`'s).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.i18n import translator
from borderflow.report.plots.common import (
    case_title,
    date_axis,
    date_span,
    figure,
    line_colour,
    origin_line,
    people_axis,
    wrap,
    write_png,
)
from borderflow.report.plots.data import (
    crossings,
    observed_periods,
    observed_ranges,
    series,
    top_roads,
)
from borderflow.report.plots.network import plot_map
from borderflow.results.series import FLOW_SEPARATOR

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.results.atomic import AtomicOutputs
    from borderflow.scenario.border_io import BorderCase

STRANDED_PNG = "stranded.png"
FLOWS_PNG = "flows.png"
MAP_PNG = "map.png"


def _draw_periods(ax, periods, colour: str) -> bool:
    """Shade each reported period's range (mean: filled box; peak: hatched box)."""
    from matplotlib.patches import Rectangle

    for start, end, stat, low, high in periods:
        x0 = np.datetime64(start, "D")
        width = (np.datetime64(end, "D") + 1 - x0).astype(int)
        ax.add_patch(
            Rectangle(
                (x0, low),
                np.timedelta64(int(width), "D"),
                high - low,
                facecolor=colour if stat == "mean" else "none",
                edgecolor=colour,
                hatch=None if stat == "mean" else "///",
                alpha=0.25 if stat == "mean" else 0.6,
                zorder=2,
            )
        )
    return bool(periods)


# -- stranded.png --------------------------------------------------------------------------


def plot_stranded(table: pa.Table, case: BorderCase, lang: str = "en"):
    """People stranded each evening per crossing, with reported ranges and the origin."""
    T = translator(lang)
    fig = figure(11, 6)
    ax = fig.add_subplot()
    has_obs = has_periods = False
    for i, name in enumerate(crossings(table, case)):
        dates, values = series(table, "stranded", name)
        colour = line_colour(i)
        ax.plot(
            dates, values, color=colour, linewidth=2, label=T("{crossing}: model", crossing=name)
        )
        obs = observed_ranges(case, "stranded", name)
        if obs:
            has_obs = True
            x = np.array([np.datetime64(o[0], "D") for o in obs])
            low = np.array([o[1] for o in obs])
            high = np.array([o[2] for o in obs])
            ax.vlines(x, low, high, color=colour, linewidth=2.2, alpha=0.5, zorder=3)
            for y in (low, high):
                ax.scatter(x, y, marker="_", s=40, color=colour, alpha=0.8, zorder=3)
            label = T("{crossing}: reported range", crossing=name)
            ax.plot([], [], color=colour, linewidth=2.2, alpha=0.5, label=label)
        if _draw_periods(ax, observed_periods(case, "stranded", name), colour):
            has_obs = has_periods = True
            label = T(
                "{crossing}: reported mean (box) / peak (hatched) over a period", crossing=name
            )
            ax.plot([], [], color=colour, linewidth=6, alpha=0.25, label=label)
    origin_line(ax, case.spec.case.origin, lang=lang)
    date_axis(ax, date_span(table), lang)
    people_axis(ax, T("People stranded at the border (count each evening)"), lang=lang)
    ax.set_title(T("People stranded between the border posts each night"), fontsize=13)
    fig.suptitle(case_title(case, lang), fontsize=11, color="#444444")
    # inside the chart, over the quiet weeks after the crisis: the chart keeps its full width
    ax.legend(loc="center right", fontsize=8, framealpha=0.85, edgecolor="none")
    note = T("Lines: the model's count of people stranded each evening.")
    if has_obs:
        note += " " + T(
            "Vertical bars: range reported by the press or authorities (low to high)."
            " Left of the dashed line (forecast origin) the model is checked against these"
            " reports; right of it, it forecasts."
        )
    else:
        note += " " + T("Right of the dashed line (forecast origin) the model forecasts.")
    if has_periods:
        note += " " + T(
            "Boxes: a reported mean (filled) or peak (hatched) over the period they span."
        )
    fig.text(0.01, 0.01, wrap(note, 150), fontsize=8.5, color="#555555", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.08, 1, 0.92))
    return fig


# -- flows.png -----------------------------------------------------------------------------


def plot_flows(table: pa.Table, case: BorderCase, lang: str = "en"):
    """Daily people on the busiest roads, and daily crossings and refusals per crossing."""
    T = translator(lang)
    fig = figure(11, 8.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1))
    roads = top_roads(table)
    for i, (a, b) in enumerate(roads):
        dates, values = series(table, "flow", f"{a}{FLOW_SEPARATOR}{b}")
        top.plot(dates, values, color=line_colour(i), linewidth=1.6, label=f"{a} → {b}")
    if not roads:
        top.text(0.5, 0.5, T("no travel on any road"), transform=top.transAxes, ha="center")
    top.set_title(
        T("Busiest roads: people arriving at the end of the road each day (top {n})", n=len(roads))
    )
    people_axis(top, T("People per day"), lang=lang)
    top.legend(loc="upper right", ncols=2, fontsize=8, framealpha=0.85, edgecolor="none")
    for i, name in enumerate(crossings(table, case)):
        colour = line_colour(i)
        dates, crossed = series(table, "crossed", name)
        label = T("{crossing}: crossed", crossing=name)
        bottom.plot(dates, crossed, color=colour, linewidth=1.8, label=label)
        dates, refused = series(table, "refused", name)
        label = T("{crossing}: refused", crossing=name)
        bottom.plot(dates, refused, color=colour, linewidth=1.6, linestyle=":", label=label)
    bottom.set_title(T("Border crossings: people let through and people turned back each day"))
    people_axis(bottom, T("People per day"), lang=lang)
    bottom.legend(loc="upper right", ncols=2, fontsize=8, framealpha=0.85, edgecolor="none")
    run_dates = date_span(table)
    for ax in (top, bottom):
        date_axis(ax, run_dates, lang)
        origin_line(ax, case.spec.case.origin, lang=lang)
    top.set_xlabel("")
    top.tick_params(labelbottom=True)
    fig.suptitle(case_title(case, lang), fontsize=11, color="#444444")
    return fig


# -- the run folder ------------------------------------------------------------------------


def write_plots(
    table: pa.Table, case: BorderCase, out: AtomicOutputs, lang: str = "en"
) -> list[Path]:
    """Write ``stranded.png``, ``flows.png`` and ``map.png`` of a run, in ``lang``, via ``out``."""
    figures = (
        (STRANDED_PNG, plot_stranded(table, case, lang)),
        (FLOWS_PNG, plot_flows(table, case, lang)),
        (MAP_PNG, plot_map(table, case, lang)),
    )
    return [write_png(fig, name, out) for name, fig in figures]
