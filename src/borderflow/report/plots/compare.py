"""``compare.png``: runs of one case (policy variants) side by side, and their differences."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from borderflow.i18n import translator
from borderflow.report.plots.common import (
    date_axis,
    date_span,
    figure,
    line_colour,
    origin_line,
    people_axis,
    save_png,
    wrap,
)
from borderflow.report.plots.data import difference, series

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase


def plot_compare(
    series_by_label: Mapping[str, pa.Table],
    case: BorderCase,
    path: Path | str,
    baseline: str,
    lang: str = "en",
) -> Path:
    """Compare runs of the same case (e.g. policy variants) and save a PNG at ``path``.

    One row per crossing: on the left, people stranded each evening in every run; on the
    right, each run minus the ``baseline`` run, day by day. ``path`` is written directly (its
    folder is created); to write it all-or-nothing with other files, call this inside an
    :class:`~borderflow.results.atomic.AtomicOutputs` writer:
    ``out.write("compare.png", lambda p: plot_compare(tables, case, p, baseline))``.
    Texts, numbers and dates in ``lang``; variant and place names as given.
    """
    T = translator(lang)
    if baseline not in series_by_label:
        raise ValueError(f"baseline '{baseline}' is not one of {sorted(series_by_label)}")
    path = Path(path)
    names = [c.name for c in case.crossings]
    labels = [baseline] + [k for k in series_by_label if k != baseline]
    colour = {label: line_colour(i) for i, label in enumerate(labels)}
    fig = figure(13, 1.0 + 3.3 * max(len(names), 1))
    axes = fig.subplots(max(len(names), 1), 2, sharex=True, squeeze=False)
    base = series_by_label[baseline]
    run_dates = date_span(base)
    for row, name in enumerate(names):
        left, right = axes[row]
        for label in labels:
            dates, values = series(series_by_label[label], "stranded", name)
            is_base = label == baseline
            left.plot(
                dates,
                values,
                color=colour[label],
                linewidth=3.0 if is_base else 1.6,
                label=T("{label} (baseline)", label=label) if is_base else label,
                zorder=2 if is_base else 3,  # variants stay visible where they equal it
            )
            if not is_base:  # the baseline's own difference is the zero line
                dates, diff = difference(series_by_label[label], base, "stranded", name)
                right.plot(dates, diff, color=colour[label], linewidth=1.6, zorder=3)
        left.set_title(T("{crossing}: people stranded each night", crossing=name), fontsize=11)
        right.set_title(
            T("{crossing}: difference from '{baseline}'", crossing=name, baseline=baseline),
            fontsize=11,
        )
        people_axis(left, T("People stranded (evening count)"), lang=lang)
        right.axhline(0, color=colour[baseline], linewidth=2.0, zorder=2)  # the baseline
        people_axis(right, T("People (run − baseline)"), signed=True, lang=lang)
        for ax in (left, right):
            date_axis(ax, run_dates, lang)
            origin_line(ax, case.spec.case.origin, label=row == 0, lang=lang)
            if row < len(names) - 1:
                ax.set_xlabel("")
                ax.tick_params(labelbottom=True)
    handles, texts = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        texts,
        loc="outside lower center",
        ncol=min(len(labels), 5),
        fontsize=10,
        title=T("Runs compared"),
        title_fontsize=10,
        frameon=False,
    )
    title = T(
        "Variants compared: people stranded at each crossing — {title}",
        title=case.spec.case.title,
    )
    note = T(
        "(case {case}; above zero on the right = more people stranded than baseline)",
        case=case.name,
    )
    fig.suptitle(wrap(title, 120) + "\n" + note, fontsize=12)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(fig, path)
    return path
