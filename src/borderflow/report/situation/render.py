"""The situation report as a PDF (matplotlib's PDF backend, offline) or a self-contained HTML.

Page 1: the title, the headline figures with their 90 % ranges and the fan chart of people
stranded per crossing with the reported counts; page 2: needs, the policy comparison (if any),
what changed since the last report, and the sources and assumptions. The PDF carries no
creation date and the HTML embeds its chart, so the same folder and day give the same bytes.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap

import numpy as np

from borderflow.i18n import fmt_date
from borderflow.report.plots.common import figure, line_colour, people_axis
from borderflow.report.situation.content import ReportText, Section
from borderflow.report.situation.data import SituationData

A4 = (8.27, 11.69)
PDF_METADATA = {"Creator": None, "Producer": None, "CreationDate": None}


def draw_fans(fig, rect: tuple[float, float, float, float], data: SituationData, text: ReportText):
    """One small chart per crossing inside ``rect`` (figure fraction), side by side."""
    from matplotlib.ticker import FuncFormatter

    x0, y0, w, h = rect
    n = max(1, len(data.crossings))
    gap = 0.06
    width = (w - gap * (n - 1)) / n
    for i, name in enumerate(data.crossings):
        fan = data.fans[name]
        ax = fig.add_axes((x0 + i * (width + gap), y0, width, h))
        colour = line_colour(i)
        ax.fill_between(fan.dates, fan.q05, fan.q95, color=colour, alpha=0.2, linewidth=0)
        ax.plot(fan.dates, fan.q50, color=colour, linewidth=1.6)
        for day, low, high in fan.reported:
            ax.vlines(np.datetime64(day, "D"), low, high, color="#222222", linewidth=2)
        ax.axvline(np.datetime64(data.origin, "D"), color="#333333", linestyle="--", linewidth=1)
        ax.set_title(name, fontsize=9)
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _p: fmt_date(_as_date(v), text.lang, "d MMM"))
        )
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(_month_locator())
        people_axis(ax, text.people_label if i == 0 else "")
        ax.yaxis.label.set_size(8)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        if i == 0:
            ax.plot([], [], color=colour, label=text.legend[0])
            ax.fill_between([], [], [], color=colour, alpha=0.2, label=text.legend[1])
            ax.vlines([], [], [], color="#222222", label=text.legend[2])
            ax.legend(loc="upper right", fontsize=7, frameon=False)


def _month_locator():
    import matplotlib.dates as mdates

    return mdates.AutoDateLocator(minticks=3, maxticks=6)


def _as_date(value: float):
    import matplotlib.dates as mdates

    return mdates.num2date(value).date()


def _table(fig, top: float, section: Section, height_per_row: float = 0.022) -> float:
    """Draw a section's table from ``top`` down; return the y below it."""
    if not section.rows:
        return top
    height = height_per_row * len(section.rows)
    ax = fig.add_axes((0.06, top - height, 0.88, height))
    ax.axis("off")
    widths, size = _column_widths(fig, section.rows, 0.88 * fig.get_figwidth() * 72)
    table = ax.table(cellText=section.rows, colWidths=widths, loc="upper left", bbox=(0, 0, 1, 1))
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_text_props(ha="left" if col == 0 else "right")
        cell.PAD = 0.02
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#eef2f7")
    return top - height


def _column_widths(fig, rows: list[list[str]], room: float) -> tuple[list[float], float]:
    """Each column's share of the table and the font size, so that no cell overflows its column.

    Widths are measured as drawn (Spanish labels run longer than English ones); when the
    columns at 7.5 pt are wider than ``room`` (points), the font shrinks to fit (down to 6 pt),
    and whatever room is left is shared out in proportion.
    """
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()

    def width(text: str, bold: bool) -> float:
        font = FontProperties(size=7.5, weight="bold" if bold else "normal")
        return renderer.get_text_width_height_descent(text, font, ismath=False)[0] * 72 / fig.dpi

    pad = 8.0  # points around a cell's text (the table's PAD on both sides, and a margin)
    need = [
        max(width(row[i], r == 0) for r, row in enumerate(rows)) + pad for i in range(len(rows[0]))
    ]
    size = max(6.0, min(7.5, 7.5 * room / sum(need)))
    return [n / sum(need) for n in need], size


def _section(fig, top: float, section: Section, wrap: int = 120) -> float:
    fig.text(0.06, top, section.heading, fontsize=11, weight="bold", va="top")
    y = _table(fig, top - 0.025, section)
    for note in section.notes:
        lines = textwrap.wrap(note, wrap) or [""]
        if y - 0.0135 * len(lines) < 0.03:
            break  # no room left on the page: the rest is in `borderflow info`
        y -= 0.006
        fig.text(0.06, y, "\n".join(lines), fontsize=7.5, va="top", color="#333333")
        y -= 0.0135 * len(lines)
    return y - 0.02


def pdf_bytes(data: SituationData, text: ReportText) -> bytes:
    """Two A4 pages; the sources section moves on to a third only if it cannot fit."""
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata=PDF_METADATA) as pdf:
        page = figure(*A4, layout=None)
        page.text(0.06, 0.96, textwrap.fill(text.title, 60), fontsize=15, weight="bold", va="top")
        page.text(0.06, 0.89, textwrap.fill(text.subtitle, 120), fontsize=8, va="top")
        y = _section(page, 0.83, text.sections[0])
        page.text(0.06, y, text.fan_title, fontsize=11, weight="bold", va="top")
        bottom = 0.09
        draw_fans(page, (0.1, bottom, 0.84, max(0.2, y - 0.05 - bottom)), data, text)
        page.text(0.06, 0.03, textwrap.fill(text.fan_note, 130), fontsize=7.5, color="#333333")
        pdf.savefig(page)
        page = figure(*A4, layout=None)
        y = 0.96
        for section in text.sections[1:]:
            if y < 0.25:
                pdf.savefig(page)
                page, y = figure(*A4, layout=None), 0.96
            y = _section(page, y, section)
        pdf.savefig(page)
    return buffer.getvalue()


def _fan_png(data: SituationData, text: ReportText) -> str:
    fig = figure(9, 3.6, layout=None)
    draw_fans(fig, (0.08, 0.14, 0.88, 0.74), data, text)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, facecolor="white", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _html_section(section: Section) -> str:
    parts = [f"<h2>{html.escape(section.heading)}</h2>"]
    if section.rows:
        head, *body = section.rows
        parts.append("<table><thead><tr>")
        parts += [f"<th>{html.escape(c)}</th>" for c in head]
        parts.append("</tr></thead><tbody>")
        for row in body:
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</tbody></table>")
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in section.notes]
    return "\n".join(parts)


STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em}"
    "td:not(:first-child){text-align:right}th{background:#eef2f7}.note{color:#444;font-size:.9em}"
    "img{max-width:100%}@media print{body{margin:0}}"
)


def html_text(data: SituationData, text: ReportText) -> str:
    """One self-contained page (the chart embedded as a PNG), printable."""
    body = [
        f"<h1>{html.escape(text.title)}</h1>",
        f"<p>{html.escape(text.subtitle)}</p>",
        _html_section(text.sections[0]),
        f"<h2>{html.escape(text.fan_title)}</h2>",
        f"<img alt='{html.escape(text.fan_title)}'"
        f" src='data:image/png;base64,{_fan_png(data, text)}'>",
        f"<p class='note'>{html.escape(text.fan_note)}</p>",
        *(_html_section(s) for s in text.sections[1:]),
    ]
    return (
        f"<!doctype html>\n<html lang='{text.lang}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(text.title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
