"""Each crossing's rules on one day: entry policy, rates, capacity and quota by date.

Rules come from three places, read in this order (the later wins):

1. ``scenario.toml`` (``[stranded]`` rates, ``detection_base``) and crossings.csv
   (``capacity_per_day``, ``regular_per_day``, or ``--capacity``);
2. the last active row of policies.csv per side (the entry policy, its quota and detection,
   ``selective``'s nationalities and papers; whether the exit country readmits);
3. active ``set`` events (events.csv): a parameter at one crossing or, with a blank target, at
   every crossing; of several active rows the later in the file wins. A ``set`` of ``quota``
   replaces the policy row's quota. ``waiting_irregular_per_day`` (people queued going round
   the post) exists only as a ``set`` parameter: 0 where no row is active.

``reinforcement`` events add to the detection; ``redirect`` events move a share of the people
choosing one crossing to another when they decide to leave (:func:`redirect`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from borderflow.scenario.border_io import BorderCase, policy_nationalities
from borderflow.scenario.border_schema import NIGHT_RATES, EventRow, PolicyRow

RATES = NIGHT_RATES


@dataclass(frozen=True)
class DayPolicy:
    """One crossing's rules on one day."""

    entry: str
    quota: int
    detection: float
    readmission: bool
    capacity: int = 0  # people a day the post processes besides regular traffic
    rates: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # in RATES order
    nationalities: tuple[str, ...] = ()  # selective: admitted nationalities (empty: all)
    papers: str = "any"  # selective: "documented" admits only people with papers
    waiting_irregular: float = 0.0  # nightly chance a person queued goes round the post


def _active(e: EventRow | PolicyRow, date: dt.date) -> bool:
    return e.start <= date and (e.end is None or date <= e.end)


def set_values(case: BorderCase, crossing: str, date: dt.date) -> dict[str, float]:
    """The parameters active ``set`` events give ``crossing`` on ``date`` (later rows win)."""
    out: dict[str, float] = {}
    for e in case.events:
        if e.kind == "set" and e.target in ("", crossing) and _active(e, date):
            out[e.param] = e.value
    return out


def day_policy(
    case: BorderCase, crossing: str, date: dt.date, capacity: int, regular: int
) -> DayPolicy:
    """The last matching row of policies.csv (variant rows come last) wins, per side.

    ``capacity`` and ``regular`` are the crossing's own (crossings.csv or ``--capacity``).
    """
    entry, quota, detection, readmission = "open", 0, 0.0, False
    nationalities: tuple[str, ...] = ()
    papers = "any"
    for p in case.policies:
        if p.crossing != crossing or not _active(p, date):
            continue
        if p.side == "entry":
            entry, quota, detection = p.policy, p.quota, p.detection
            nationalities, papers = policy_nationalities(p), p.papers or "any"
        else:
            readmission = p.policy != "closed"
    sets = set_values(case, crossing, date)
    s = case.spec.stranded
    detection += sets.get("detection_base", s.detection_base.value)
    for e in case.events:
        if e.kind == "reinforcement" and e.target == crossing and _active(e, date):
            detection += e.value
    rates = tuple(sets.get(r, getattr(s, r).value) for r in RATES)
    capacity = int(sets.get("capacity_per_day", capacity))
    regular = int(sets.get("regular_per_day", regular))
    return DayPolicy(
        entry,
        int(sets.get("quota", quota)),
        min(1.0, detection),
        readmission,
        max(0, capacity - regular),
        rates,  # type: ignore[arg-type]
        nationalities,
        papers,
        sets.get("waiting_irregular_per_day", 0.0),
    )


def shut_on(case: BorderCase, crossing: str, date: dt.date) -> bool:
    """Whether ``crossing`` is shut on ``date``: a blockade holds it or its entry is closed."""
    for e in case.events:
        if e.kind == "blockade" and e.target == crossing and _active(e, date):
            return True
    entry = "open"
    for p in case.policies:
        if p.crossing == crossing and p.side == "entry" and _active(p, date):
            entry = p.policy
    return entry == "closed"


def redirect(
    case: BorderCase,
    date: dt.date,
    names: tuple[str, ...],
    people: np.ndarray,
    uniforms: Callable[[np.ndarray], np.ndarray],
    crossing: np.ndarray,
    path: np.ndarray,
    home: np.ndarray,
    path_of: np.ndarray,
) -> None:
    """Today's deciders ``people`` who picked a redirected crossing pick its target instead.

    Each active ``redirect`` row from crossing A takes the next ``value`` of A's choosers by
    their uniform (``uniforms(people)``, drawn only on days a redirect is active; rows stack in
    file order, up to everyone).
    """
    rows = [e for e in case.events if e.kind == "redirect" and _active(e, date)]
    if not rows or not len(people):
        return
    u = uniforms(people)
    picked = crossing[people].copy()
    low = np.zeros(len(people))
    for e in rows:
        a, b = names.index(e.target), names.index(e.to)
        mine = picked == a
        hit = mine & (u >= low) & (u < low + e.value)
        who = people[hit]
        crossing[who] = b
        path[who] = path_of[home[who], b]
        low[mine] += e.value
