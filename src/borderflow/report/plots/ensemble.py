"""The charts of ensembles: fans of members' bands, variants' effects, Sobol' indices.

They draw results handed in (a bands table, a comparison, Sobol' indices); they import
nothing of :mod:`borderflow.ensemble`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from borderflow.report.plots.common import (
    case_title,
    date_axis,
    figure,
    line_colour,
    origin_line,
    people_axis,
    save_png,
)
from borderflow.report.plots.data import band_series, crossings, observed_ranges

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase

# -- fan.png -------------------------------------------------------------------------------


def plot_fan(bands: pa.Table, case: BorderCase, path: Path, members: int) -> None:
    """Fan charts of stranded people and daily crossings per crossing.

    Median and 50/90 % bands over members, with the reported ranges overlaid.
    """
    names = crossings(bands, case)
    fig = figure(13, 3.6 * len(names))
    axes = fig.subplots(len(names), 2, squeeze=False)
    for i, name in enumerate(names):
        colour = line_colour(i)
        for j, (indicator, label) in enumerate(
            (("stranded", "People stranded (evening count)"), ("crossed", "People crossing a day"))
        ):
            ax = axes[i][j]
            b = band_series(bands, indicator, name)
            ax.fill_between(b["dates"], b["q05"], b["q95"], color=colour, alpha=0.18, lw=0,
                            label="90 % of members")  # fmt: skip
            ax.fill_between(b["dates"], b["q25"], b["q75"], color=colour, alpha=0.35, lw=0,
                            label="50 % of members")  # fmt: skip
            ax.plot(b["dates"], b["q50"], color=colour, linewidth=2, label="median")
            if indicator == "stranded":
                obs = observed_ranges(case, "stranded", name)
                if obs:
                    x = np.array([np.datetime64(o[0], "D") for o in obs])
                    ax.vlines(x, [o[1] for o in obs], [o[2] for o in obs], color="black",
                              linewidth=2, label="reported range")  # fmt: skip
            origin_line(ax, case.spec.case.origin, label=(i == 0 and j == 0))
            date_axis(ax, b["dates"])
            people_axis(ax, label)
            ax.set_title(f"{name}: {label.lower()}", fontsize=11)
            if i == 0:
                ax.legend(loc="upper right", frameon=False, fontsize=8)
    fig.suptitle(
        f"{case_title(case)}: ensemble of {members} members (median, 50 % and 90 % bands)",
        fontsize=12,
    )
    save_png(fig, path)


# -- compare.png of ensembles: each variant's effect over members ------------------------


def plot_effects(result, path: Path) -> None:
    """Each variant's effect against the baseline: median and 90 % interval, per figure."""
    keys = list(result.values)
    variants = result.labels[1:]
    fig = figure(11, 0.55 * len(keys) * max(len(variants), 1) + 1.8)
    ax = fig.add_subplot()
    y = 0
    ticks, labels = [], []
    for key in keys:
        for k, label in enumerate(variants, start=1):
            mid, lo, hi = result.interval(key, k, diff=True)
            scale = max(abs(result.interval(key, 0, diff=False)[0]), 1.0)
            colour = line_colour(k)
            ax.plot([lo / scale * 100, hi / scale * 100], [y, y], color=colour, linewidth=3)
            ax.plot([mid / scale * 100], [y], "o", color=colour)
            ax.annotate(
                f"{mid:+,.0f} [{lo:+,.0f} to {hi:+,.0f}]",
                xy=(hi / scale * 100, y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
            ticks.append(y)
            labels.append(f"{key[0]}, {key[1]}: {label}")
            y -= 1
        y -= 0.5
    ax.axvline(0, color="#333333", linewidth=1)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel(f"Change from the baseline ({result.labels[0]}), % of the baseline's median")
    ax.grid(True, axis="x", color="#dddddd")
    ax.set_title(
        f"{result.case}: effect of each variant, member by member over {result.members} members "
        "(dot: median; bar: 90 % interval; labels in people)",
        fontsize=11,
    )
    save_png(fig, path)


# -- sobol.png -------------------------------------------------------------------------------


def plot_sobol(result, path: Path) -> None:
    """Sobol' indices per headline output: total (ST) and first-order (S1) bars, ranked."""
    outputs = list(result.indices)
    fig = figure(13, 2.2 + 0.35 * len(result.names) * ((len(outputs) + 1) // 2))
    axes = fig.subplots((len(outputs) + 1) // 2, 2, squeeze=False).ravel()
    for ax, output in zip(axes, outputs, strict=False):
        ind = result.indices[output]
        order = np.argsort(ind["ST"])
        yy = np.arange(len(order))
        names = [result.names[j] for j in order]
        ax.barh(yy + 0.2, ind["ST"][order], height=0.4, xerr=ind["ST_conf"][order],
                color="#1f5fa8", label="total (ST)")  # fmt: skip
        ax.barh(yy - 0.2, ind["S1"][order], height=0.4, xerr=ind["S1_conf"][order],
                color="#9dc3e6", label="first order (S1)")  # fmt: skip
        ax.set_yticks(yy, names, fontsize=8)
        ax.set_xlim(left=min(0.0, float(np.min(ind["S1"])) - 0.05))
        ax.set_title(output, fontsize=11)
        ax.set_xlabel("share of the output's variance")
        ax.grid(True, axis="x", color="#dddddd")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.case}: what drives the forecast (Sobol' indices, {result.runs} runs; "
        "bars: 95 % confidence)",
        fontsize=12,
    )
    save_png(fig, path)
