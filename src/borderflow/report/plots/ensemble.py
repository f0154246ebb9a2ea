"""The charts of ensembles: fans of members' bands, variants' effects, Sobol' indices.

They draw results handed in (a bands table, a comparison, Sobol' indices); they import
nothing of :mod:`borderflow.ensemble`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.i18n import N_, fmt_number, translator
from borderflow.report.plots.common import (
    date_axis,
    figure,
    line_colour,
    number_ticks,
    origin_line,
    people_axis,
    save_png,
    wrap,
)
from borderflow.report.plots.data import band_series, crossings, observed_ranges
from borderflow.results.headline import ALL_CROSSINGS

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase

# -- fan.png -------------------------------------------------------------------------------


FAN_PANELS = (
    (
        "stranded",
        N_("People stranded (evening count)"),
        N_("{crossing}: people stranded (evening count)"),
    ),
    ("crossed", N_("People crossing a day"), N_("{crossing}: people crossing a day")),
)


def plot_fan(
    bands: pa.Table,
    case: BorderCase,
    path: Path,
    members: int,
    lang: str = "en",
    observed: Mapping[tuple[str, str], np.ndarray] | None = None,
) -> None:
    """Fan charts per crossing (stranded, daily crossings), then of each reported quantity.

    ``observed``: (place, indicator) → quantiles by day of what the case's reports name.
    Median and 50/90 % bands over members, with the reported ranges overlaid.
    """
    T = translator(lang)
    names = crossings(bands, case)
    extra = list((observed or {}).items())
    rows = len(names) + (len(extra) + 1) // 2
    fig = figure(13, 3.6 * rows)
    axes = fig.subplots(rows, 2, squeeze=False)
    for i, name in enumerate(names):
        colour = line_colour(i)
        for j, (indicator, label, title) in enumerate(FAN_PANELS):
            ax = axes[i][j]
            b = band_series(bands, indicator, name)
            ax.fill_between(b["dates"], b["q05"], b["q95"], color=colour, alpha=0.18, lw=0,
                            label=T("90 % of members"))  # fmt: skip
            ax.fill_between(b["dates"], b["q25"], b["q75"], color=colour, alpha=0.35, lw=0,
                            label=T("50 % of members"))  # fmt: skip
            ax.plot(b["dates"], b["q50"], color=colour, linewidth=2, label=T("median"))
            if indicator == "stranded":
                obs = observed_ranges(case, "stranded", name)
                if obs:
                    x = np.array([np.datetime64(o[0], "D") for o in obs])
                    ax.vlines(x, [o[1] for o in obs], [o[2] for o in obs], color="black",
                              linewidth=2, label=T("reported range"))  # fmt: skip
            origin_line(ax, case.spec.case.origin, label=(i == 0 and j == 0), lang=lang)
            date_axis(ax, b["dates"], lang)
            people_axis(ax, T(label), lang=lang)
            ax.set_title(T(title, crossing=name), fontsize=11)
            if i == 0:
                ax.legend(loc="upper right", frameon=False, fontsize=8)
    for n, ((place, indicator), q) in enumerate(extra):
        ax = axes[len(names) + n // 2][n % 2]
        _observed_panel(ax, case, place, indicator, q, line_colour(len(names) + n), lang)
    if len(extra) % 2:
        axes[-1][1].set_axis_off()
    title = T("{title} (case {case})", title=case.spec.case.title, case=case.name)
    text = T(
        "{title}: ensemble of {members} members (median, 50 % and 90 % bands)",
        title=title,
        members=members,
    )
    fig.suptitle(wrap(text, 130), fontsize=12)
    save_png(fig, path)


def _observed_panel(ax, case: BorderCase, place: str, indicator: str, q: np.ndarray,
                    colour: str, lang: str) -> None:  # fmt: skip
    """One observed quantity's fan (``q``: rows q05, q25, q50, q75, q95) and its reports."""
    from borderflow.results.observed import indicator_label, location_label

    T = translator(lang)
    dates = np.datetime64(case.spec.case.start, "D") + np.arange(q.shape[1])
    ax.fill_between(dates, q[0], q[4], color=colour, alpha=0.18, lw=0, label=T("90 % of members"))
    ax.fill_between(dates, q[1], q[3], color=colour, alpha=0.35, lw=0, label=T("50 % of members"))
    ax.plot(dates, q[2], color=colour, linewidth=2, label=T("median"))
    obs = observed_ranges(case, indicator, place)
    if obs:
        x = np.array([np.datetime64(o[0], "D") for o in obs])
        ax.vlines(x, [o[1] for o in obs], [o[2] for o in obs], color="black", linewidth=2,
                  label=T("reported range"))  # fmt: skip
    origin_line(ax, case.spec.case.origin, label=False, lang=lang)
    date_axis(ax, dates, lang)
    label = indicator_label(indicator, T)
    people_axis(ax, wrap(label[:1].upper() + label[1:], 40), lang=lang)
    where = location_label(place, T)
    ax.set_title(wrap(T("{place}: {indicator}", place=where, indicator=label), 70), fontsize=11)
    ax.legend(loc="upper right", frameon=False, fontsize=8)


# -- compare.png of ensembles: each variant's effect over members ------------------------


def figure_name(figure: str, crossing: str, lang: str) -> str:
    """A headline figure's label and its crossing (or all crossings), in ``lang``."""
    T = translator(lang)
    where = T(ALL_CROSSINGS) if crossing == ALL_CROSSINGS else crossing
    return T("{figure}, {crossing}", figure=T(figure), crossing=where)


def _signed(value: float, lang: str) -> str:
    return ("+" if value > 0 else "") + fmt_number(value, lang)


def plot_effects(result, path: Path, lang: str = "en") -> None:
    """Each variant's effect against the baseline: median and 90 % interval, per figure."""
    T = translator(lang)
    keys = list(result.values)
    variants = result.labels[1:]
    fig = figure(11, 0.55 * len(keys) * max(len(variants), 1) + 1.8)
    ax = fig.add_subplot()
    y = 0
    ticks, labels, ends = [], [], [0.0]
    for key in keys:
        for k, label in enumerate(variants, start=1):
            mid, lo, hi = result.interval(key, k, diff=True)
            scale = max(abs(result.interval(key, 0, diff=False)[0]), 1.0)
            colour = line_colour(k)
            ax.plot([lo / scale * 100, hi / scale * 100], [y, y], color=colour, linewidth=3)
            ax.plot([mid / scale * 100], [y], "o", color=colour)
            ends += [lo / scale * 100, hi / scale * 100]
            ax.annotate(
                T(
                    "{mid} [{low} to {high}]",
                    mid=_signed(mid, lang),
                    low=_signed(lo, lang),
                    high=_signed(hi, lang),
                ),
                xy=(hi / scale * 100, y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
            ticks.append(y)
            labels.append(f"{figure_name(key[0], key[1], lang)}: {label}")
            y -= 1
        y -= 0.5
    ax.axvline(0, color="#333333", linewidth=1)
    span = max(max(ends) - min(ends), 1.0)  # room on the right for the labels in people
    ax.set_xlim(min(ends) - 0.05 * span, max(ends) + 0.45 * span)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel(
        T("Change from the baseline ({baseline}), % of the baseline's median",
          baseline=result.labels[0])
    )  # fmt: skip
    number_ticks(ax.xaxis, lang)
    ax.grid(True, axis="x", color="#dddddd")
    title = T(
        "{case}: effect of each variant, member by member over {members} members"
        " (dot: median; bar: 90 % interval; labels in people)",
        case=result.case,
        members=result.members,
    )
    fig.suptitle(wrap(title, 120), fontsize=11)
    save_png(fig, path)


# -- sobol.png -------------------------------------------------------------------------------


def plot_sobol(result, path: Path, lang: str = "en") -> None:
    """Sobol' indices per headline output: total (ST) and first-order (S1) bars, ranked.

    An output is named "<figure label>, <crossing>" (sensitivity's OUTPUTS), shown in ``lang``.
    """
    T = translator(lang)
    outputs = list(result.indices)
    fig = figure(13, 2.2 + 0.35 * len(result.names) * ((len(outputs) + 1) // 2))
    axes = fig.subplots((len(outputs) + 1) // 2, 2, squeeze=False).ravel()
    for ax, output in zip(axes, outputs, strict=False):
        ind = result.indices[output]
        order = np.argsort(ind["ST"])
        yy = np.arange(len(order))
        names = [result.names[j] for j in order]
        ax.barh(yy + 0.2, ind["ST"][order], height=0.4, xerr=ind["ST_conf"][order],
                color="#1f5fa8", label=T("total (ST)"))  # fmt: skip
        ax.barh(yy - 0.2, ind["S1"][order], height=0.4, xerr=ind["S1_conf"][order],
                color="#9dc3e6", label=T("first order (S1)"))  # fmt: skip
        ax.set_yticks(yy, names, fontsize=8)
        ax.set_xlim(left=min(0.0, float(np.min(ind["S1"])) - 0.05))
        figure_label, _, crossing = output.rpartition(", ")
        ax.set_title(figure_name(figure_label, crossing, lang), fontsize=11)
        ax.set_xlabel(T("share of the output's variance"))
        number_ticks(ax.xaxis, lang)
        ax.grid(True, axis="x", color="#dddddd")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    fig.suptitle(
        T(
            "{case}: what drives the forecast (Sobol' indices, {runs} runs; bars: 95 % confidence)",
            case=result.case,
            runs=fmt_number(result.runs, lang),
        ),
        fontsize=12,
    )
    save_png(fig, path)
