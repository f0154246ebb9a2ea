"""The terminal summary of a border-crisis run: what a committee member asks first.

One column per crossing and one row per figure, so that it stays readable in a narrow terminal.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from borderflow.runs import BorderRun

FIGURES = (
    ("peak_stranded", "peak stranded (evening count)"),
    ("peak_date", "date of the peak"),
    ("days_with_stranded", "days with people stranded"),
    ("person_days_stranded", "person-days stranded"),
    ("crossed", "crossed regularly"),
    ("refused", "refused entry"),
    ("irregular", "crossed irregularly"),
)
NEED_LABELS = {
    "people": "people (stranded or waiting)",
    "children": "of whom children",
    "shelter_m2": "covered shelter, m²",
    "water_l": "water, litres a day",
    "food_kcal": "food, kcal a day",
    "latrines": "latrines",
}


def fmt_need(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "n/a"


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_border_summary(console: Console, run: BorderRun) -> None:
    """Headline figures per crossing from the forecast origin on, and needs at the peak."""
    result = run.result
    summary = result.summary()
    origin = result.date(result.origin_day).isoformat()
    variant = ", ".join(f"{k}={v}" for k, v in sorted(result.variant.items())) or "default"
    table = Table(title=f"{result.name}, seed {result.seed}, from {origin}", caption=variant)
    table.add_column("")
    for s in summary:
        table.add_column(s.crossing, justify="right")
    for key, label in FIGURES:
        table.add_row(label, *(_cell(getattr(s, key)) for s in summary))
    keys = list(summary[0].needs_at_peak) if summary else []
    table.add_section()
    table.add_row("[bold]needs at the peak[/]", *("" for _ in summary))
    for k in keys:
        table.add_row(NEED_LABELS.get(k, k), *(fmt_need(s.needs_at_peak[k]) for s in summary))
    console.print(table)
    console.print(
        f"{result.agents:,} people at risk simulated over {result.days} days "
        f"in {run.seconds:.2f} s",
        highlight=False,
    )
