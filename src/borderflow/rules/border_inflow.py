"""People who join a run after it starts: ``inflow`` and ``crowd`` events.

An inflow brings new people at risk day by day; a crowd is people already at a place on a date.
The number of each is known when the case is read, so they are allocated with the stock, after
it (the stock's rows, and so its random draws, do not change), and *activated* on their day:
until then they are in no state and in no count. They draw nationality, papers, family and a
home like the stock (from their own stream). People of an inflow are held by the departure
thresholds (:mod:`borderflow.rules.border_depart`) and join them on their day; a crowd is put
straight into its state: stranded at a crossing, queued at a crossing's exit post, setting off
from a city towards crossing ``to``, or sheltered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from borderflow.engine.agents import Agents
from borderflow.engine.rng_kernels import choice
from borderflow.errors import ScenarioError
from borderflow.rules import border_kernels as K
from borderflow.scenario.border_schema import MAX_PEOPLE, EventRow

if TYPE_CHECKING:
    from borderflow.rules.border import BorderModel


@dataclass(frozen=True)
class Batch:
    """People of one event activated on one day: rows ``first`` to ``first + n``."""

    day: int
    first: int
    n: int
    event: EventRow


def _per_day(e: EventRow, model: BorderModel, scale: float) -> list[tuple[int, int]]:
    """(day, people) of an inflow or a crowd within the run; earlier ones come on day 0.

    An inflow's daily figure is rounded cumulatively, so its days add up to value × days.
    """
    if e.kind == "crowd":
        days = [(e.start - model.start_date).days]
        counts = [int(np.floor(e.value * scale + 0.5))]
    else:
        assert e.end is not None  # checked when the case is read
        span = (e.end - e.start).days + 1
        cum = np.floor(e.value * scale * np.arange(span + 1) + 0.5)  # halves round up
        days = [(e.start - model.start_date).days + d for d in range(span)]
        counts = [int(c) for c in np.diff(cum)]
    out: dict[int, int] = {}
    for d, n in zip(days, counts, strict=True):
        if d < model.days and n > 0:
            out[max(d, 0)] = out.get(max(d, 0), 0) + n
    return sorted(out.items())


class Newcomers:
    """The inflow and crowd people of a :class:`BorderModel`: their rows and their days."""

    def __init__(self, model: BorderModel, stock: int, scale: float) -> None:
        self.model = model
        batches = [
            (day, i, n, e)
            for i, e in enumerate(model.case.events)
            if e.kind in ("inflow", "crowd")
            for day, n in _per_day(e, model, scale)
        ]
        self.batches: list[Batch] = []
        self.on_day: dict[int, list[Batch]] = {}
        first = stock
        for day, _, n, e in sorted(batches, key=lambda b: (b[0], b[1])):
            self.batches.append(Batch(day, first, n, e))
            self.on_day.setdefault(day, []).append(self.batches[-1])
            first += n
        self.total = first - stock
        if first > MAX_PEOPLE:
            raise ScenarioError(
                f"stock, inflow and crowds add up to {first:,} people: at most {MAX_PEOPLE:,}",
                file=model.case.path / model.spec.files.events,
                column="value",
            )
        for e in model.case.events:
            if e.kind == "inflow":  # counted by home region (ALL sums them)
                for r in [e.target] if e.target else [r.residence for r in model.case.population]:
                    model.tally.declare("inflow", r)
            elif e.kind == "crowd":
                model.tally.declare("crowd", e.target)

    def add_agents(self, agents: Agents) -> None:
        """Append the newcomers' rows: nationality, papers, family, child and home drawn."""
        m, n = self.model, self.total
        if not n:
            return
        rng = m.streams.generator("population", 1)
        groups, population = m.case.groups, m.case.population
        g = choice(rng, np.array([x.share for x in groups]), n)
        res_idx = np.array([m.index[r.residence] for r in population])
        home = res_idx[choice(rng, np.array([r.share for r in population]), n)]
        doc = rng.random(n) < np.array([x.documented_share for x in groups])[g]
        fam = rng.random(n) < np.array([x.family_share for x in groups])[g]
        child = fam & (rng.random(n) < m.spec.population.child_share_in_families.value)
        stock = len(agents)
        for b in self.batches:  # an inflow into one residence lives there
            if b.event.kind == "inflow" and b.event.target:
                home[b.first - stock : b.first - stock + b.n] = m.index[b.event.target]
        agents.add(
            n,
            loc=home.astype(np.int32),
            home=home.astype(np.int32),
            klass=(g * 4 + doc * 2 + fam).astype(np.int16),
            child=child,
        )

    def hold(self) -> None:
        """Keep newcomers out of the departures: an inflow until its day, a crowd for good."""
        for b in self.batches:
            self.model.departures.hold(np.arange(b.first, b.first + b.n))

    def activate(self, day: int) -> None:
        """Today's newcomers join: before today's decisions, so they may decide today."""
        m = self.model
        for b in self.on_day.get(day, ()):
            idx = np.arange(b.first, b.first + b.n, dtype=np.int64)
            m.stock += b.n
            if b.event.kind == "inflow":
                m.departures.join(b.first, b.n)  # with the stream of m.keys["depart"]
                homes, counts = np.unique(m.arrays.home[idx], return_counts=True)
                for home, n in zip(homes, counts, strict=True):
                    m.tally.add("inflow", m.places[home], day, int(n))
            else:
                self._place_crowd(b.event, idx, day)
                m.live = np.union1d(m.live, idx)
                m.tally.add("crowd", b.event.target, day, b.n)

    def _place_crowd(self, e: EventRow, idx: np.ndarray, day: int) -> None:
        """Put a crowd in its state at its place (present since before today)."""
        m = self.model
        a = m.arrays
        a.t_state[idx] = day - 1
        a.pos[idx] = 0.0
        crossings = {name: k for k, name in enumerate(m.crossing_names)}
        posts = {m.places[p]: k for k, p in enumerate(m.exit_post)}
        if e.target in crossings or e.target in posts:
            k = crossings.get(e.target, posts.get(e.target))
            a.state[idx] = K.STRANDED if e.target in crossings else K.QUEUED
            a.crossing[idx] = k
            a.loc[idx] = m.exit_post[k]
            return
        place = m.index[e.target]
        a.loc[idx] = place
        if m.kind[place] == "shelter":
            a.state[idx] = K.SHELTERED
            return
        k = crossings[e.to]
        a.state[idx] = K.TRAVELLING
        a.t_state[idx] = day
        a.crossing[idx] = k
        a.path[idx] = m.place_events.paths[(place, k)]
