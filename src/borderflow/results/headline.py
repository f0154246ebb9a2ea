"""The headline figures of a border run, defined once for every consumer.

The run summary, ``compare`` (single runs and ensembles), sensitivity, the dashboard and the
API all read these figures through :func:`figures` and :func:`summarise`, from a run's
:class:`~borderflow.results.series.Series` (a run's result, a member's file, an ensemble's
median band). Each figure is counted from the forecast origin on, per crossing; the total over
all crossings (:data:`ALL_CROSSINGS`) is the same figure of the crossings' summed daily series,
so its peak is the peak of the sum, not the sum of the peaks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from borderflow.i18n import N_
from borderflow.results.series import Series

#: (key, label, indicator, how it is aggregated over the days from the origin on); the labels
#: are English in the files and translated where they are shown (charts).
FIGURES = (
    ("peak_stranded", N_("peak stranded"), "stranded", "max"),
    ("person_days_stranded", N_("person-days stranded"), "stranded", "sum"),
    ("crossed", N_("crossed regularly"), "crossed", "sum"),
    ("refused", N_("refused entry"), "refused", "sum"),
    ("irregular", N_("crossed irregularly"), "irregular_crossing", "sum"),
)
LABELS = {key: label for key, label, _, _ in FIGURES}
ALL_CROSSINGS = N_("all crossings")


def _daily(series: Series, indicator: str, crossing: str) -> np.ndarray:
    """The daily series of one crossing, or the sum over crossings for :data:`ALL_CROSSINGS`."""
    if crossing == ALL_CROSSINGS:
        block = series.block(indicator)
        return np.zeros(series.days) if block is None else block.sum(axis=1)
    values = series.values(indicator, crossing)
    return np.zeros(series.days) if values is None else values


def figures(series: Series, crossings: Sequence[str], since: int) -> dict[tuple[str, str], float]:
    """Every figure of :data:`FIGURES` per crossing, keyed by (label, crossing)."""
    out = {}
    for _key, label, indicator, how in FIGURES:
        for crossing in crossings:
            later = _daily(series, indicator, crossing)[since:]
            if how == "max":
                out[(label, crossing)] = float(later.max()) if len(later) else 0.0
            else:
                out[(label, crossing)] = float(later.sum())
    return out


@dataclass(frozen=True)
class CrossingSummary:
    """What a committee member asks first about one crossing, from the origin on."""

    crossing: str
    peak_stranded: int
    peak_date: str
    days_with_stranded: int
    person_days_stranded: int
    crossed: int
    refused: int
    irregular: int
    needs_at_peak: dict[str, float]


def summarise(
    series: Series, crossings: Sequence[str], since: int, needs: Sequence[str] = ()
) -> list[CrossingSummary]:
    """Headline figures per crossing, and the needs (``needs`` indicators) on the peak day."""
    values = figures(series, crossings, since)
    out = []
    for crossing in crossings:
        stranded = _daily(series, "stranded", crossing)[since:]
        day = since + (int(np.argmax(stranded)) if len(stranded) else 0)
        at_peak = {}
        for indicator in ("people", "children", *needs):
            daily = series.values(indicator, crossing)
            if daily is not None and day < len(daily):
                at_peak[indicator] = float(daily[day])
        out.append(
            CrossingSummary(
                crossing=crossing,
                peak_date=(series.start_date + dt.timedelta(days=day)).isoformat(),
                days_with_stranded=int((stranded > 0).sum()),
                needs_at_peak=at_peak,
                **{key: int(values[(label, crossing)]) for key, label, _, _ in FIGURES},
            )
        )
    return out
