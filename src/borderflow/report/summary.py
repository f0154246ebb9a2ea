"""The terminal summary of a border-crisis run: what a committee member asks first.

One column per crossing and one row per figure, so that it stays readable in a narrow terminal.
Labels come from the gettext catalog and numbers and dates follow the chosen language; the
crossings keep the case's names.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from borderflow.i18n import N_, fmt_date, fmt_number, translator

if TYPE_CHECKING:
    from borderflow.runs import BorderRun

FIGURES = (
    ("peak_stranded", N_("peak stranded (evening count)")),
    ("peak_date", N_("date of the peak")),
    ("days_with_stranded", N_("days with people stranded")),
    ("person_days_stranded", N_("person-days stranded")),
    ("crossed", N_("crossed regularly")),
    ("refused", N_("refused entry")),
    ("irregular", N_("crossed irregularly")),
)
NEED_LABELS = {
    "people": N_("people (stranded or waiting)"),
    "children": N_("of whom children"),
    "shelter_m2": N_("covered shelter, m²"),
    "water_l": N_("water, litres a day"),
    "food_kcal": N_("food, kcal a day"),
    "latrines": N_("latrines"),
}


def fmt_need(value: float, lang: str = "en") -> str:
    return fmt_number(value, lang)


def _cell(value: object, lang: str) -> str:
    if isinstance(value, int):
        return fmt_number(value, lang)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return fmt_date(dt.date.fromisoformat(value), lang)
    return str(value)


def print_border_summary(console: Console, run: BorderRun, lang: str = "en") -> None:
    """Headline figures per crossing from the forecast origin on, and needs at the peak."""
    T = translator(lang)
    result = run.result
    summary = result.summary()
    origin = fmt_date(result.date(result.origin_day), lang)
    variant = ", ".join(f"{k}={v}" for k, v in sorted(result.variant.items())) or T("default")
    title = T(
        "{case}, seed {seed}, from {origin}", case=result.name, seed=result.seed, origin=origin
    )
    table = Table(title=title, caption=variant)
    table.add_column("")
    for s in summary:
        table.add_column(s.crossing, justify="right")
    for key, label in FIGURES:
        table.add_row(T(label), *(_cell(getattr(s, key), lang) for s in summary))
    keys = list(summary[0].needs_at_peak) if summary else []
    table.add_section()
    heading = T("needs at the peak")
    table.add_row(f"[bold]{heading}[/]", *("" for _ in summary))
    for k in keys:
        label = T(NEED_LABELS[k]) if k in NEED_LABELS else k
        table.add_row(label, *(fmt_need(s.needs_at_peak[k], lang) for s in summary))
    console.print(table)
    _print_observed(console, run, lang)
    line = T(
        "{agents} people at risk simulated over {days} days in {seconds} s",
        agents=fmt_number(result.agents, lang),
        days=result.days,
        seconds=fmt_number(run.seconds, lang, 2),
    )
    console.print(line, highlight=False)


def _print_observed(console: Console, run: BorderRun, lang: str) -> None:
    """The quantities the case's reports name (and every shelter), from the origin on."""
    from borderflow.results.observed import (
        indicator_label,
        location_label,
        observed_quantities,
        summarise_observed,
    )

    result = run.result
    rows = summarise_observed(result.series, observed_quantities(run.case), result.origin_day)
    if not rows:
        return
    T = translator(lang)
    table = Table(title=T("what the case's reports count, from the origin"))
    for heading in (T("indicator"), T("place"), T("peak"), T("date of the peak"), T("last day")):
        table.add_column(heading, justify="left" if not table.columns else "right")
    table.columns[1].justify = "left"
    for o in rows:
        table.add_row(
            indicator_label(o.indicator, T),
            location_label(o.location, T),
            fmt_number(o.peak, lang),
            _cell(o.peak_date, lang),
            fmt_number(o.at_end, lang),
        )
    console.print(table)
