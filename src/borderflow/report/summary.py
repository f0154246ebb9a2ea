"""The terminal summary of a border-crisis run: what a committee member asks first."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from borderflow.results.border_out import fmt_need

NEED_LABELS = {
    "people": "people",
    "children": "children",
    "shelter_m2": "shelter m²",
    "water_l": "water l/day",
    "food_kcal": "food kcal/day",
    "latrines": "latrines",
}


def print_border_summary(console: Console, result) -> None:
    """Headline figures per crossing from the forecast origin on, and needs at the peak."""
    model = result.model
    origin = model.date(max(result.origin_day, 0)).isoformat()
    variant = ", ".join(f"{k}={v}" for k, v in sorted(result.variant.items())) or "default"
    title = f"{result.case} ({variant}), seed {result.seed}: from {origin}"
    table = Table(title=title)
    table.add_column("crossing", no_wrap=True)
    for col in ("peak", "date", "days", "person-days", "crossed", "refused", "irregular"):
        table.add_column(col, justify="left" if col == "date" else "right", no_wrap=True)
    table.caption = (
        "peak: most people stranded between the posts on one evening; days: days with anyone "
        "stranded; irregular: irregular crossings that succeeded"
    )
    for s in result.summary:
        table.add_row(
            s.crossing,
            f"{s.peak_stranded:,}",
            s.peak_date,
            f"{s.days_with_stranded:,}",
            f"{s.person_days_stranded:,}",
            f"{s.crossed:,}",
            f"{s.refused:,}",
            f"{s.irregular:,}",
        )
    console.print(table)
    needs = Table(title="needs at the peak (people stranded or waiting at the crossing)")
    needs.add_column("crossing", no_wrap=True)
    keys = list(result.summary[0].needs_at_peak) if result.summary else []
    for k in keys:
        needs.add_column(NEED_LABELS.get(k, k), justify="right")
    for s in result.summary:
        needs.add_row(s.crossing, *(fmt_need(s.needs_at_peak[k]) for k in keys))
    console.print(needs)
    console.print(
        f"{len(model.agents):,} people at risk simulated over {result.days} days "
        f"in {result.seconds:.2f} s",
        highlight=False,
    )
