"""The quantities a case's reports are about, summarised from the forecast origin on.

Episodes are observed through more than the people stranded at a crossing: people sheltered,
people who entered, returns, removals, sums over places and cumulative totals. The run summary
(summary.json, the terminal) and the ensemble's fan show each quantity the case observes, and
every shelter's count, so that what a committee reads is what reporters counted. The model's
value of a quantity is :func:`borderflow.observe.quantity.quantity_series`, the definition the
fit and ``borderflow score`` use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from borderflow.i18n import N_, Translator
from borderflow.observe.quantity import ALL, CUMULATIVE, location_parts, nfc, quantity_series

if TYPE_CHECKING:
    from borderflow.forecast.model_error import Widening
    from borderflow.results.series import Series
    from borderflow.scenario.border_io import BorderCase

#: What the crossing table already shows for a single crossing (not repeated below it).
IN_CROSSING_TABLE = frozenset({"stranded"})
#: What the fan's crossing rows already draw.
IN_FAN_ROWS = frozenset({"stranded", "crossed"})

INDICATOR_LABELS = {
    "sheltered": N_("people sheltered"),
    "stranded": N_("people stranded"),
    "waiting": N_("people waiting at the post"),
    "crossed": N_("people crossing regularly"),
    "corridor": N_("people admitted by a corridor or quota"),
    "irregular_crossing": N_("irregular crossings"),
    "irregular_detected": N_("irregular attempts stopped"),
    "entered": N_("people who entered"),
    "refused": N_("people refused entry"),
    "readmitted": N_("people readmitted"),
    "returned": N_("people who went back"),
    "diverted": N_("people who tried another crossing"),
    "flown": N_("people flown home"),
    "sheltered_moved": N_("people moved to shelters"),
    "arrived": N_("people arriving at the post"),
    "departed": N_("people who set off"),
    "people": N_("people in need"),
    "children": N_("children in need"),
    "removed": N_("people taken away"),
    "moved_in": N_("people moved in"),
    "exited": N_("people who left the shelter"),
    "waiting_city": N_("people waiting in the city"),
    "decided": N_("people who decided to leave"),
}


@dataclass(frozen=True)
class ObservedSummary:
    """One observed quantity from the origin on: its peak, the peak's date, the last value."""

    location: str
    indicator: str
    peak: int
    peak_date: str
    at_end: int


def observed_quantities(
    case: BorderCase, shown: frozenset[str] = IN_CROSSING_TABLE
) -> list[tuple[str, str]]:
    """(location, indicator) of each quantity the case's reports name, in file order.

    Then ``sheltered`` at each shelter an event names and no report does; without ``shown`` at a
    single crossing (the crossing table or rows already give them).
    """
    crossings = {nfc(c.name) for c in case.crossings}
    out: list[tuple[str, str]] = []
    for o in case.observations:
        key = (nfc(o.location), o.indicator)
        if not (key[0] in crossings and key[1] in shown) and key not in out:
            out.append(key)
    counted = {p for loc, ind in out if ind == "sheltered" for p in location_parts(loc)}
    named = _named_by_events(case)
    for place in case.places:
        name = nfc(place.name)
        if place.kind == "shelter" and name in named and name not in counted:
            out.append((name, "sheltered"))
    return out


def _named_by_events(case: BorderCase) -> set[str]:
    """Places the case's events (of the chosen variant) name.

    A shelter no event fills or empties holds nobody; a row of zeros would only hide the others.
    """
    names = set()
    for e in case.events:
        names.add(nfc(e.target or ""))
        for part in (e.to or "").split(";"):
            names.add(nfc(part.rpartition(":")[0] or part))
    return names


def summarise_observed(
    series: Series, quantities: Sequence[tuple[str, str]], since: int
) -> list[ObservedSummary]:
    """Peak from day ``since`` on, its date and the last day's value of each quantity.

    Quantities the run cannot produce are left out.
    """
    out = []
    for location, indicator in quantities:
        daily = quantity_series(series, location, indicator)
        if daily is None or since >= len(daily):
            continue
        day = since + int(np.argmax(daily[since:]))
        out.append(
            ObservedSummary(
                location=location,
                indicator=indicator,
                peak=round(float(daily[day])),
                peak_date=(series.start_date + dt.timedelta(days=day)).isoformat(),
                at_end=round(float(daily[-1])),
            )
        )
    return out


def quantity_bands(
    members: Sequence[Series],
    quantities: Sequence[tuple[str, str]],
    quantiles: Sequence[float],
    widening: Widening | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Per quantity, its quantiles over the members by day (rows: ``quantiles``).

    Quantiles of a sum are taken over the members' sums, not summed from each term's bands.
    ``widening`` (a forecast's :class:`~borderflow.forecast.model_error.Widening`) draws the
    model's error about them.
    """
    out = {}
    for key in quantities:
        values = [quantity_series(m, *key) for m in members]
        if values and all(v is not None for v in values):
            table = np.array(values, dtype=float)
            if widening is None:
                out[key] = np.quantile(table, quantiles, axis=0)
            else:
                out[key] = widening.bands(table, np.arange(table.shape[1]), quantiles)[0]
    return out


def indicator_label(indicator: str, T: Translator) -> str:
    """An observation's indicator in words: sums with " + ", totals marked.

    Codes of needs and states stay as written.
    """
    words = []
    for part in nfc(indicator).split("+"):
        base = part.strip().removeprefix(CUMULATIVE)
        name = INDICATOR_LABELS.get(base)
        text = T(name) if name else base
        words.append(text if base == part.strip() else T("{indicator}, total", indicator=text))
    return " + ".join(words)


def location_label(location: str, T: Translator) -> str:
    """Place names stay as given; ``ALL`` (every place the indicator is counted at) in words."""
    return T("all places") if location == ALL else location
