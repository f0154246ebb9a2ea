"""Events that move people between places: shelters, leaving shelters, removals; road speeds.

A ``shelter`` event moves people stranded at a crossing, or waiting in a city, into one
shelter or several (``"Shelter A:0.6;Shelter B:0.4"``: the movers are split by those shares,
rounded so that they add up). A ``shelter_exit`` lets a daily share of a shelter's people
leave: to a city (they stay there, ``returned``), to a crossing (they travel to its exit post
and queue), ``home`` (``returned`` at home) or ``onward`` (out of the system beyond the border,
``arrived``). A ``removal`` takes people away from any place, by bus or flight, up to its seats
(0: everyone there), once or every ``every_days`` days over its period; they end ``flown``.

Mechanisms are documented in ``docs/border-model.md``; what each event may name is checked
when the case is read (:mod:`borderflow.scenario.border_places`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from borderflow.engine.paths import PathBuilder
from borderflow.errors import ScenarioError
from borderflow.results.series import Series
from borderflow.rules import border_kernels as K
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.scenario.border_places import EXIT_HOME, EXIT_ONWARD, split_shelters
from borderflow.scenario.border_schema import EventRow, Travel

if TYPE_CHECKING:
    from borderflow.rules.border import BorderModel
    from borderflow.scenario.border_schema import RouteRow


def link_speeds(travel: Travel, routes: tuple[RouteRow, ...]) -> np.ndarray:
    """Each route's speed in km a day, by its mode (checked to have one when read)."""
    return np.array([getattr(travel, f"{r.mode}_km_per_day").value for r in routes])


class Tally:
    """Daily counts of the optional mechanisms' indicators, by location.

    Only indicators a case's events declare are written, so a case without these events keeps
    its outputs byte for byte.
    """

    def __init__(self, days: int) -> None:
        self.days = days
        self.data: dict[str, dict[str, np.ndarray]] = {}

    def declare(self, indicator: str, location: str) -> None:
        self.data.setdefault(indicator, {}).setdefault(location, np.zeros(self.days, np.int64))

    def add(self, indicator: str, location: str, day: int, n: int) -> None:
        self.data[indicator][location][day] += n

    def write(self, series: Series) -> None:
        for indicator, by_place in self.data.items():
            series.add(indicator, list(by_place), np.column_stack(list(by_place.values())))


def occurs(e: EventRow, date: dt.date) -> bool:
    """Whether an event moving people acts on ``date``.

    A flight leaves on its start date; a move to shelters happens once on its start without an
    end, daily from start to end with one (a clearance policy); a removal once on its start
    without an end, every ``every_days`` days (default 1) from start to end with one; people
    leave shelters daily from start to end (no end: to the end of the run).
    """
    if date < e.start:
        return False
    if e.kind == "return_flight":
        return date == e.start
    if e.kind in ("shelter", "removal"):
        if e.end is None:
            return date == e.start
        every = e.every_days or 1
        return date <= e.end and (date - e.start).days % every == 0
    if e.kind == "shelter_exit":
        return e.end is None or date <= e.end
    return False


class PlaceEvents:
    """The day's shelter moves, shelter exits and removals of one :class:`BorderModel`."""

    def __init__(self, model: BorderModel, builder: PathBuilder) -> None:
        """Resolve each event's places and add the roads it needs (before ``builder`` builds)."""
        self.model = model
        self.tally = model.tally
        self.crossing_of = {name: k for k, name in enumerate(model.crossing_names)}
        self.split: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.paths: dict[tuple[int, int], int] = {}
        self._elsewhere: list[tuple[EventRow, int]] = []
        # moved_in is written for every shelter once any move is not the original crossing-to-
        # one-shelter kind (a split, from a city, or a shelter_exit to another shelter), so a
        # shelter filled from its crossing still has its series next to one filled by a transfer.
        extended = any(
            (e.kind == "shelter" and (e.target not in self.crossing_of or ":" in e.to))
            or (e.kind == "shelter_exit" and self._is_shelter(e.to))
            for e in model.case.events
        )
        for e in model.case.events:
            self._prepare(e, builder, extended)
        self.exit_slot = exit_slots(model.case.events)

    def _is_shelter(self, name: str) -> bool:
        m = self.model
        return (
            name in m.index and name not in self.crossing_of and m.kind[m.index[name]] == "shelter"
        )

    def _place(self, name: str) -> int:
        if name not in self.model.index:  # checked when read; a case edited in code may not be
            raise ScenarioError(f"event names unknown place '{name}'", file="scenario.toml")
        return self.model.index[name]

    def _prepare(self, e: EventRow, builder: PathBuilder, extended: bool) -> None:
        tally = self.tally
        if e.kind in ("shelter", "shelter_exit", "removal", "crowd") and (
            e.target not in self.crossing_of
        ):
            self._place(e.target)
        if e.kind == "shelter" and e.to not in self.split:
            parts = split_shelters(e.to)
            self.split[e.to] = (
                np.array([self._place(n) for n, _ in parts]),
                np.array([s for _, s in parts]),
            )
            if extended:
                for n, _ in parts:
                    tally.declare("moved_in", n)
        elif e.kind == "shelter_exit":
            tally.declare("exited", e.target)
            if self._is_shelter(e.to):
                tally.declare("moved_in", e.to)
            if e.to in self.crossing_of:
                self.path(builder, self._place(e.target), self.crossing_of[e.to])
        elif e.kind == "removal":
            tally.declare("removed", e.target)
        elif (
            e.kind == "crowd"
            and e.target not in self.crossing_of
            and self.model.kind[self._place(e.target)] == "city"
        ):
            if e.to not in self.crossing_of:
                raise ScenarioError(f"crowd at '{e.target}' heads for unknown crossing '{e.to}'")
            self.path(builder, self._place(e.target), self.crossing_of[e.to])

    def path(self, builder: PathBuilder, source: int, k: int) -> int:
        """The road path from place ``source`` to crossing ``k``'s exit post."""
        key = (source, k)
        if key not in self.paths:
            post = int(self.model.exit_post[k])
            self.paths[key] = builder.add(source, post)
            if self.paths[key] < 0:
                m = self.model
                raise ScenarioError(
                    f"no road from '{m.places[source]}' to '{m.places[post]}'",
                    file=m.case.path / m.spec.files.routes,
                )
        return self.paths[key]

    def today(self, date: dt.date) -> list[EventRow]:
        """The events acting at a crossing tonight; the others are kept for :meth:`night`."""
        rows = [(e, slot) for e, slot in zip(self.model.case.events, self.exit_slot, strict=True)]
        events = [(e, slot) for e, slot in rows if occurs(e, date)]
        self._elsewhere = [(e, slot) for e, slot in events if e.target not in self.crossing_of]
        return [e for e, _ in events if e.target in self.crossing_of]

    # -- at a crossing --------------------------------------------------------------------
    def at_crossing(self, e: EventRow, k: int, here: np.ndarray, day: int) -> None:
        """A move to shelters, a flight or a removal from crossing ``k`` (``here``: its people)."""
        m = self.model
        a = m.arrays
        row = m.at_crossing[day, k]
        if e.kind == "shelter":
            stranded = here[a.state[here] == K.STRANDED]
            movers = stranded if e.value <= 0 else stranded[: int(e.value)]
            self._shelter(e, movers, day)
            row[C.SHELTERED_MOVED] += len(movers)
        elif e.kind == "return_flight":
            pool = here[(a.state[here] == K.STRANDED) | (a.state[here] == K.SHELTERED)]
            seats = self._seats(pool, int(e.value), K.Draw.FLIGHT_SEAT, day)
            a.state[seats] = K.FLOWN
            a.t_state[seats] = day
            row[C.FLOWN] += len(seats)
        elif e.kind == "removal":
            self._remove(e, here[a.state[here] == K.STRANDED], day)

    def _seats(self, pool: np.ndarray, seats: int, draw: K.Draw, day: int) -> np.ndarray:
        """``seats`` people of ``pool`` taken at random (a lottery of the day's draws)."""
        rank = np.argsort(self.model._draws(draw, day, pool), kind="stable")
        return pool[rank[:seats]]

    def _shelter(self, e: EventRow, movers: np.ndarray, day: int) -> None:
        """Move ``movers`` (in order) into the event's shelters, split by their shares."""
        a = self.model.arrays
        shelters, shares = self.split[e.to]
        # Largest remainders: the counts add up to the movers and follow the shares.
        exact = shares * len(movers)
        counts = np.floor(exact).astype(np.int64)
        short = len(movers) - int(counts.sum())
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
        a.state[movers] = K.SHELTERED
        a.t_state[movers] = day
        a.loc[movers] = np.repeat(shelters, counts)
        for place, n in zip(shelters, counts, strict=True):
            if "moved_in" in self.tally.data:
                self.tally.add("moved_in", self.model.places[place], day, int(n))

    def _remove(self, e: EventRow, pool: np.ndarray, day: int) -> None:
        """Up to the event's seats (0: everyone) of ``pool`` leave on a bus or flight."""
        a = self.model.arrays
        seats = pool if e.value <= 0 else self._seats(pool, int(e.value), K.Draw.REMOVAL, day)
        # People who reached a final state before today were counted there: move the count.
        final = self.model.final_counts
        earlier = seats[K.FINAL[a.state[seats]] & (a.t_state[seats] < day)]
        np.subtract.at(final, a.state[earlier].astype(np.int64), 1)
        final[K.FLOWN] += len(earlier)
        a.state[seats] = K.FLOWN
        a.t_state[seats] = day
        self.tally.add("removed", e.target, day, len(seats))

    # -- at cities, shelters and destinations ---------------------------------------------
    def night(self, day: int) -> None:
        """Tonight's events at places other than crossings, in the order of events.csv."""
        m = self.model
        a, live = m.arrays, m.live
        for e, slot in self._elsewhere:
            place = m.index[e.target]
            here = live[a.loc[live] == place]
            if e.kind == "shelter":
                waiting = here[a.state[here] == K.WAITING_CITY]
                self._shelter(e, waiting if e.value <= 0 else waiting[: int(e.value)], day)
            elif e.kind == "shelter_exit":
                self._exit(e, here, day, slot)
            elif e.kind == "removal":
                self._remove(e, self._removable(place, here), day)

    def _removable(self, place: int, here: np.ndarray) -> np.ndarray:
        """Who a removal can take from ``place`` (``here``: the live people there).

        In a shelter its people; in a city the people waiting there and those who came back
        to it; at a destination those who arrived (a state people otherwise never leave, so
        everyone is scanned: a removal is a rare event).
        """
        a = self.model.arrays
        state = a.state[here]
        if self.model.kind[place] == "shelter":
            return here[state == K.SHELTERED]
        settled = K.RETURNED if self.model.kind[place] == "city" else K.ARRIVED
        pool = here[(state == K.WAITING_CITY) | (state == settled)]
        earlier = np.flatnonzero((a.state == settled) & (a.loc == place))
        return np.union1d(pool, earlier)

    def _exit(self, e: EventRow, here: np.ndarray, day: int, slot: int) -> None:
        """A daily share of shelter ``e.target``'s people (not those moved in today) leave.

        ``slot`` is the row's own draw (:func:`exit_slots`).
        """
        m = self.model
        a = m.arrays
        pool = here[(a.state[here] == K.SHELTERED) & (a.t_state[here] < day)]
        u = K.draws(m.keys[K.Draw.SHELTER_EXIT.stream], day, pool, slot)
        leavers = pool[u < e.value]
        a.t_state[leavers] = day
        self.tally.add("exited", e.target, day, len(leavers))
        if e.to == EXIT_ONWARD:
            a.state[leavers] = K.ARRIVED
        elif e.to == EXIT_HOME:
            a.state[leavers] = K.RETURNED
            a.loc[leavers] = a.home[leavers]
        elif e.to in self.crossing_of:
            k = self.crossing_of[e.to]
            if m.news is not None:  # a stop or a turn-off planned on an earlier journey is void
                m.news.hold[leavers] = -1
                m.news.pending[leavers] = -1
            a.state[leavers] = K.TRAVELLING
            a.crossing[leavers] = k
            a.path[leavers] = self.paths[(m.index[e.target], k)]
            a.pos[leavers] = 0.0
        elif m.kind[m.index[e.to]] == "shelter":  # moved to another shelter (Tijuana 2018)
            a.loc[leavers] = m.index[e.to]
            self.tally.add("moved_in", e.to, day, len(leavers))
        else:
            a.state[leavers] = K.RETURNED
            a.loc[leavers] = m.index[e.to]


def exit_slots(events: Sequence[EventRow]) -> tuple[int, ...]:
    """The draw slot of each event row, by position (-1: not a ``shelter_exit``).

    The first ``shelter_exit`` row from a shelter keeps ``SHELTER_EXIT``'s slot, each further
    one from the same shelter its own, so rows act in order, each on the people still there.
    Positions, not the rows themselves, key it: a retuned case has new rows, same positions.
    """
    seen: dict[str, int] = {}
    slots = []
    for e in events:
        n = seen.get(e.target, 0)
        if e.kind == "shelter_exit":
            seen[e.target] = n + 1
        slot = K.Draw.SHELTER_EXIT.slot if n == 0 else K.SHELTER_EXIT_MORE + n
        slots.append(slot if e.kind == "shelter_exit" else -1)
    return tuple(slots)
