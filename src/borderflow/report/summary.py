"""The terminal summary of a border-crisis run: what a committee member asks first.

One column per crossing and one row per figure, so that it stays readable in a narrow terminal.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from borderflow.results.border_out import fmt_need

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


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_border_summary(console: Console, result) -> None:
    """Headline figures per crossing from the forecast origin on, and needs at the peak."""
    model = result.model
    origin = model.date(max(result.origin_day, 0)).isoformat()
    variant = ", ".join(f"{k}={v}" for k, v in sorted(result.variant.items())) or "default"
    table = Table(title=f"{result.case}, seed {result.seed}, from {origin}", caption=variant)
    table.add_column("")
    for s in result.summary:
        table.add_column(s.crossing, justify="right")
    for key, label in FIGURES:
        table.add_row(label, *(_cell(getattr(s, key)) for s in result.summary))
    keys = list(result.summary[0].needs_at_peak) if result.summary else []
    table.add_section()
    table.add_row("[bold]needs at the peak[/]", *("" for _ in result.summary))
    for k in keys:
        table.add_row(
            NEED_LABELS.get(k, k), *(fmt_need(s.needs_at_peak[k]) for s in result.summary)
        )
    console.print(table)
    console.print(
        f"{len(model.agents):,} people at risk simulated over {result.days} days "
        f"in {result.seconds:.2f} s",
        highlight=False,
    )
