"""What every chart shares: a bare figure, PNG output, date and people axes, line colours.

Everything is drawn offline with matplotlib's Agg canvas on a bare ``Figure`` (no pyplot state,
no tile servers, no map downloads); matplotlib is imported only when a picture is drawn, so
importing a plotting module is cheap.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from borderflow.i18n import N_, fmt_date, fmt_number, translator

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.results.atomic import AtomicOutputs
    from borderflow.scenario.border_io import BorderCase

DPI = 120

_LINE_COLOURS = (
    "#0b5fa5", "#d1495b", "#2a9d3f", "#7b4fa0", "#e08a00",
    "#5c4033", "#c2418f", "#1497a8", "#8f8f00", "#555555",
)  # fmt: skip


def figure(width: float, height: float, layout: str | None = "constrained"):
    """A bare matplotlib figure on an Agg canvas: no pyplot state shared between charts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: Path) -> None:
    """Write ``fig`` as a PNG without the matplotlib version in it, so the bytes are stable."""
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})


def write_png(fig, name: str, out: AtomicOutputs) -> Path:
    """Write ``fig`` as ``name`` through an all-or-nothing writer."""
    return out.write(name, lambda p: save_png(fig, p))


def wrap(text: str, width: int = 95) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


#: Chart labels of the observed indicators (others show their code).
INDICATOR_NAMES = {
    "stranded": N_("people stranded"),
    "crossed": N_("people crossing"),
    "refused": N_("people refused entry"),
    "arrived": N_("people arriving"),
    "sheltered": N_("people sheltered"),
    "irregular_crossing": N_("irregular crossings"),
    "refugees_in_camp": N_("refugees in the camp"),
}


def indicator_name(indicator: str, lang: str) -> str:
    """How a chart names an observed indicator, in ``lang``."""
    if indicator in INDICATOR_NAMES:
        return translator(lang)(INDICATOR_NAMES[indicator])
    return indicator.replace("_", " ")


def case_title(case: BorderCase, lang: str = "en") -> str:
    T = translator(lang)
    return wrap(T("{title} (case {case})", title=case.spec.case.title, case=case.name))


def _years(dates: Sequence[Any]) -> str:
    years = sorted({np.datetime64(d, "Y").astype(int) + 1970 for d in dates})
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def date_axis(ax, dates: Sequence[Any], lang: str = "en") -> None:
    """Day and month ticks (month names in ``lang``), the years in the axis label."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    T = translator(lang)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    if lang == "en":
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    else:
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _pos: fmt_date(mdates.num2date(v).date(), lang, "dd MMM"))
        )
    years = _years(dates)
    ax.set_xlabel(T("Date ({years})", years=years) if years else T("Date"))
    ax.grid(True, color="#dddddd", linewidth=0.7)
    ax.set_axisbelow(True)


def origin_line(ax, origin: dt.date, *, label: bool = True, lang: str = "en") -> None:
    x = np.datetime64(origin, "D")
    ax.axvline(x, color="#333333", linestyle="--", linewidth=1.2, zorder=1)
    if label:
        ax.annotate(
            translator(lang)("forecast origin"),
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=9,
            color="#333333",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def people_axis(ax, label: str, *, signed: bool = False, lang: str = "en") -> None:
    """Whole-number ticks with thousands separators, at least 4 people tall (after plotting).

    ``signed``: the values may be negative (differences); else the axis starts at 0.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_ylabel(label)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    if lang == "en":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v + 0.0:,.0f}"))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(v + 0.0, lang)))
    lo, hi = ax.get_ylim()
    if signed:
        if hi - lo < 4:
            mid = (lo + hi) / 2
            ax.set_ylim(mid - 2, mid + 2)
    else:
        ax.set_ylim(0, max(hi, 4))


def number_ticks(axis, lang: str) -> None:
    """Tick labels with the language's decimal sign (-17,5 in Spanish); English keeps its own."""
    from babel.numbers import format_decimal
    from matplotlib.ticker import FuncFormatter

    if lang != "en":
        axis.set_major_formatter(
            FuncFormatter(lambda v, _p: format_decimal(round(v, 6), locale=lang))
        )


def date_span(table: pa.Table) -> np.ndarray:
    """Every day from the first to the last date of a series table."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return np.array([], dtype="datetime64[D]")
    lo, hi = pc.min_max(table["date"]).values()
    return np.arange(
        np.datetime64(lo.as_py(), "D"), np.datetime64(hi.as_py(), "D") + 1, dtype="datetime64[D]"
    )


def line_colour(i: int) -> str:
    return _LINE_COLOURS[i % len(_LINE_COLOURS)]
