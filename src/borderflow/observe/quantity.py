"""The model's value of an observation's quantity: one function for fit, calibrate, forecast, score.

An observation names an indicator and a location, and both may be compound:

* indicator: a sum of terms with ``+`` (``crossed+corridor+irregular_crossing``); the alias
  ``entered`` is everyone who entered, whatever the way (those three); a term with the prefix
  ``cum_`` is its cumulative total from the case start (``cum_crossed``, ``cum_entered``);
* location: a place or crossing, ``ALL`` (every place the indicator is counted at; for
  ``decided`` and ``state_*`` the run's own ``ALL``), or a sum of places with ``+``.

Names are compared after Unicode NFC normalisation, so ``Necoclí`` typed with a combining
accent is the same place. A plain indicator at a plain place is exactly the run's series (the
same array), so cases that use none of this keep their numbers byte for byte.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from borderflow.results.series import Series
    from borderflow.scenario.border_schema import ObservationRow

ALL = "ALL"
CUMULATIVE = "cum_"
#: Aliases an observation may name, and the indicators they sum.
ALIASES: dict[str, tuple[str, ...]] = {"entered": ("crossed", "corridor", "irregular_crossing")}
#: Evening counts of people present: their cumulative total would be person-days, not people.
STOCKS = frozenset({"stranded", "waiting", "sheltered", "people", "children", "children_stranded"})
#: Indicators a run writes only when their mechanism acts (rules/border_indicators.INDICATORS):
#: a run without their series counted zero of them.
WRITTEN_WHEN_USED = frozenset({
    "waiting_city", "news_home", "news_diverted", "news_resumed", "inflow", "crowd",
    "moved_in", "exited", "removed",
})  # fmt: skip


def nfc(text: str) -> str:
    """``text`` in Unicode NFC, stripped: the form every name is compared in."""
    return unicodedata.normalize("NFC", text).strip()


@dataclass(frozen=True)
class Term:
    """One indicator of a sum, and whether it is taken as a cumulative total."""

    indicator: str
    cumulative: bool = False


def indicator_terms(indicator: str) -> list[Term]:
    """The terms of an observation's indicator, aliases expanded (empty parts dropped)."""
    out: list[Term] = []
    for part in nfc(indicator).split("+"):
        name = part.strip()
        if not name:
            continue
        cumulative = name.startswith(CUMULATIVE)
        base = name.removeprefix(CUMULATIVE) if cumulative else name
        out += [Term(b, cumulative) for b in ALIASES.get(base, (base,))]
    return out


def location_parts(location: str, known: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """The places an observation's location sums (``ALL`` stays as it is).

    A name in ``known`` is one place even if it holds a ``+``.
    """
    name = nfc(location)
    if name in known or name == ALL:
        return [name]
    return [p.strip() for p in name.split("+") if p.strip()]


def _places(series: Series, indicator: str, location: str) -> list[str] | None:
    counted = series.places(indicator)
    if location in counted:
        return [location]
    if location == ALL:
        return counted or None
    parts = location_parts(location, frozenset(counted))
    if len(parts) > 1 and all(p in counted for p in parts):
        return parts
    return None


def _term_series(series: Series, term: Term, location: str) -> np.ndarray | None:
    places = _places(series, term.indicator, nfc(location))
    if places is None:
        optional = term.indicator in WRITTEN_WHEN_USED or term.indicator.startswith("state_")
        if optional and series.block(term.indicator) is None:
            return np.zeros(series.days)  # the mechanism never acted in this run
        return None
    cols = [series.values(term.indicator, p) for p in places]
    total = cols[0] if len(cols) == 1 else np.sum(cols, axis=0)
    return np.cumsum(total) if term.cumulative else total


def quantity_series(series: Series, location: str, indicator: str) -> np.ndarray | None:
    """The run's daily values of an observation's quantity, or None if the run has none.

    The one definition of "what the model says about a report", used by the fit, calibration,
    the forecast filter and ``borderflow score``.
    """
    plain = series.values(indicator, location)
    if plain is not None:
        return plain  # the common case, untouched
    terms = indicator_terms(indicator)
    if not terms:
        return None
    parts = [_term_series(series, t, location) for t in terms]
    if any(p is None for p in parts):
        return None
    return parts[0] if len(parts) == 1 else np.sum(parts, axis=0)


def quantity_key(o: ObservationRow) -> tuple:
    """What a report is about: its quantity (names normalised), statistic and period."""
    terms = tuple(sorted((t.indicator, t.cumulative) for t in indicator_terms(o.indicator)))
    places = tuple(sorted(location_parts(o.location)))
    return (places, terms, o.stat, o.date, o.end or o.date)


def reliability_weights(rows: Sequence[ObservationRow]) -> list[float]:
    """Each report's weight when several report the same quantity (1.0 when alone).

    Reports of one quantity and period share the weight of as many reports, in proportion to
    their precision 1/σ² (σ: their grade's error sd, ``forecast/observation_error.toml``): an
    official count outweighs a rumour of the same crowd instead of being averaged with it.
    Reports of equal grade keep weight 1 exactly, so cases without conflicts keep their fit.
    """
    from borderflow.forecast.likelihood import error_sd

    groups: dict[tuple, list[int]] = {}
    for i, o in enumerate(rows):
        groups.setdefault(quantity_key(o), []).append(i)
    out = [1.0] * len(rows)
    for members in groups.values():
        sds = [error_sd(rows[i]) for i in members]
        if len(set(sds)) <= 1:
            continue
        precision = [1.0 / (s * s) for s in sds]
        total = sum(precision)
        for i, p in zip(members, precision, strict=True):
            out[i] = len(members) * p / total
    return out
