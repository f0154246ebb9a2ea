"""What a border-crisis run reports: its declared indicators as a :class:`RunResult`.

Indicators are declared in :mod:`borderflow.rules.border_indicators`: per crossing (location =
the crossing's name) the :class:`~borderflow.rules.border_indicators.CrossingCount` series; per
home region ``departed``; per shelter ``sheltered``; per road (location ``From>To``) ``flow``;
the needs of the people stranded, waiting or sheltered at each place: ``people``, ``children``
and one indicator per row of the case's needs table (Sphere standards); ``decided`` and the
evening count of each :class:`~borderflow.rules.border_kernels.State`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from borderflow.results.run_result import RunResult
from borderflow.results.series import FLOW_SEPARATOR, Series
from borderflow.rules.border_indicators import OUTPUT_COUNTS
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.rules.border_kernels import State
from borderflow.rules.border_news import NEWS_COUNTS

if TYPE_CHECKING:
    from borderflow.rules.border import BorderModel


def needs_table(model: BorderModel) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Places with people in need, and their people and children per day."""
    names = list(model.crossing_names)
    people = model.at_crossing[:, :, C.STRANDED] + model.at_crossing[:, :, C.WAITING]
    children = model.at_crossing[:, :, C.CHILDREN_STRANDED]
    shelters = [i for i, k in enumerate(model.kind) if k == "shelter"]
    names += [model.places[i] for i in shelters]
    people = np.hstack([people, model.sheltered[:, shelters]])
    children = np.hstack([children, model.children_sheltered[:, shelters]])
    cities = waiting_cities(model)
    if len(cities):  # people waiting in a city (blockade, news) need the same
        names += [model.places[i] for i in cities]
        people = np.hstack([people, model.news.waiting[:, cities]])
        children = np.hstack([children, model.news.children_waiting[:, cities]])
    return names, people, children


def waiting_cities(model: BorderModel) -> np.ndarray:
    """The places where someone waited at some point (none without blockades or news)."""
    if model.news is None:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(model.news.waiting.any(axis=0))


def need_values(model: BorderModel, people: np.ndarray) -> dict[str, np.ndarray]:
    """Each need of the case's table for ``people`` (any shape)."""
    out = {}
    for row in model.case.needs:
        value = people * row.per_person
        out[row.indicator] = np.ceil(value) if row.rounding == "ceil" else value
    return out


def border_series(model: BorderModel) -> Series:
    """Every declared indicator of a finished run, in the order of the run folder's files."""
    b = Series(model.start_date, model.days)
    for count in OUTPUT_COUNTS:
        b.add(count.label, model.crossing_names, model.at_crossing[:, :, count])
    residences = [i for i, k in enumerate(model.kind) if k == "residence"]
    b.add("departed", [model.places[i] for i in residences], model.departed[:, residences])
    shelters = [i for i, k in enumerate(model.kind) if k == "shelter"]
    if shelters:
        b.add("sheltered", [model.places[i] for i in shelters], model.sheltered[:, shelters])
    cities = waiting_cities(model)
    if len(cities):
        b.add("waiting_city", [model.places[i] for i in cities], model.news.waiting[:, cities])
    model.tally.write(b)  # inflow, crowds, shelter moves and exits, removals: when used
    used = np.flatnonzero(model.flow.sum(axis=0) > 0)
    g = model.graph
    roads = [f"{g.names[g.src[lk]]}{FLOW_SEPARATOR}{g.names[g.dst[lk]]}" for lk in used]
    b.add("flow", roads, model.flow[:, used])
    names, people, children = needs_table(model)
    b.add("people", names, people)
    b.add("children", names, children)
    for indicator, values in need_values(model, people).items():
        if indicator != "people":
            b.add(indicator, names, values)
    b.add("decided", ["ALL"], model.decided)
    if model.news is not None:
        for j, label in enumerate(NEWS_COUNTS):
            if model.news.counts[:, j].any():
                b.add(label, ["ALL"], model.news.counts[:, j])
    for state in State:
        # States that only the optional mechanisms reach are written when they are reached,
        # so a case in the original format keeps its outputs byte for byte.
        if state >= State.WAITING_CITY and not model.state_counts[:, state].any():
            continue
        b.add(f"state_{state.label}", ["ALL"], model.state_counts[:, state])
    return b


def border_result(model: BorderModel) -> RunResult:
    """The result of a finished run: its series, the origin, the crossings and the needs."""
    origin = (model.spec.case.origin - model.start_date).days
    return RunResult(
        ruleset="border",
        name=model.case.name,
        seed=model.streams.seed,
        series=border_series(model),
        agents=len(model.agents),
        origin_day=max(origin, 0),
        crossings=tuple(model.crossing_names),
        needs=tuple(row.indicator for row in model.case.needs),
        variant=dict(model.case.variant),
        phase_seconds=dict(model.plan.seconds),
    )
