"""The border-crisis ruleset: who leaves, by which road, what happens at each crossing.

A :class:`BorderModel` compiles a :class:`~borderflow.scenario.border_io.BorderCase` into
arrays and runs a day as an ordered plan of phases:

1. ``calendar``: today's departure-hazard factor, and each crossing's admission policy,
   readmission, detection, return flights and moves to shelters;
2. ``depart``: decisions to leave (a daily hazard by nationality, papers and family, times
   event multipliers, a countdown to a deadline and what others did lately, passing each
   person's threshold: :mod:`borderflow.rules.border_depart`), preparation, the choice of a
   crossing, the start of the journey (numba);
3. ``travel``: everyone on the road advances along their path by bus or on foot (numba);
4. ``border``: each crossing processes its queue in arrival order within its opening hours and
   its daily capacity (shared with regular traffic) and admits or refuses people by the entry
   policy; people refused are *stranded* between the posts; stranded people are admitted
   when the policy lets them (corridor, quota);
5. ``night``: stranded people wait, are readmitted by the exit country, walk back, divert to
   another crossing or try an irregular crossing (caught with a chance that rises with
   reinforcement); where a ``set`` event allows it, people queued try one too; return flights
   and moves to shelters happen;
6. ``record``: daily counts per place, crossing and road.

A day costs what moves: the phases after ``depart`` touch only the *live* people (left home,
not yet arrived, returned or flown), kept as a sorted index set, so that they see people in
the same order as a scan of everyone would; the evening's state counts come from it and from
counters of the final states.

Every number comes from the case's files; the mechanisms are documented in
``docs/border-model.md``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from borderflow.engine.agents import Agents
from borderflow.engine.graph import Graph
from borderflow.engine.loop import Phase, Plan
from borderflow.engine.paths import PathBuilder, PathTable
from borderflow.engine.rng import Streams
from borderflow.engine.rng_kernels import choice
from borderflow.errors import ScenarioError
from borderflow.results.run_result import RunResult
from borderflow.rules import border_kernels as K
from borderflow.rules.border_depart import Departures
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.rules.border_inflow import Newcomers
from borderflow.rules.border_news import News, uses_news
from borderflow.rules.border_places import PlaceEvents, Tally, link_speeds
from borderflow.rules.border_result import border_result
from borderflow.rules.border_rules_by_date import DayPolicy, day_policy, redirect
from borderflow.scenario.border_io import BorderCase

BORDER_FIELDS = {
    "state": (np.dtype(np.int8), K.HOME),
    "klass": (np.dtype(np.int16), 0),  # nationality * 4 + documented * 2 + family
    "child": (np.dtype(np.bool_), False),
    "crossing": (np.dtype(np.int8), -1),
    "path": (np.dtype(np.int32), -1),
    "pos": (np.dtype(np.float32), 0.0),  # km along the path
    "t_state": (np.dtype(np.int16), 0),  # day the current state began
}


__all__ = ["BORDER_FIELDS", "BorderModel", "DayPolicy", "simulate_once"]
NO_HOLD = (np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.int64))  # no blockade, no news


class BorderModel:
    """State and phases of one border-crisis run."""

    def __init__(
        self,
        case: BorderCase,
        seed: int = 0,
        *,
        scale: float = 1.0,
        capacity: dict[str, int] | None = None,
        start: dt.date | None = None,
        until: dt.date | None = None,
    ) -> None:
        self.case = case
        self.spec = case.spec
        self.streams = Streams(seed)
        self.start_date = start or self.spec.case.start
        self.days = ((until or self.spec.case.end) - self.start_date).days + 1
        if self.days <= 0:
            raise ScenarioError(f"start {self.start_date} is after the case's end")
        self.places = tuple(p.name for p in case.places)
        self.index = case.place_index
        self.kind = np.array([p.kind for p in case.places])
        self.keys = {name: self.streams.key(name) for name in K.STREAMS}
        self.tally = Tally(self.days)  # indicators of the optional mechanisms, when used
        self._build_graph()
        self._build_crossings(capacity or {})
        self._build_population(scale)
        if self.news is not None:
            self.news.start()
        self.flow = np.zeros((self.days, self.graph.n_links), dtype=np.int32)
        self.departed = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.at_crossing = np.zeros((self.days, self.n_cross, len(C)), np.int32)
        self.sheltered = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.children_sheltered = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.decided = np.zeros(self.days, dtype=np.int64)
        self.state_counts = np.zeros((self.days, K.N_STATES), dtype=np.int64)
        self.factor = np.zeros(self.days)
        # People who left home and are not in a final state (sorted), and the final counts.
        self.live = np.zeros(0, dtype=np.int64)
        self.final_counts = np.zeros(K.N_STATES, dtype=np.int64)
        self._today: list[DayPolicy] = []
        self._events_today: list = []
        self._hazard_factor = 1.0
        self.plan = Plan(
            [
                Phase("calendar", self.calendar, "policies, detection and events of the day"),
                Phase("depart", self.depart, "decisions to leave and journeys starting"),
                Phase("travel", self.travel, "everyone on the road moves on"),
                Phase("border", self.border, "queues, admission, refusal, corridors"),
                Phase("night", self.night, "what stranded people do; flights; shelters"),
                Phase("record", self.record, "daily counts"),
            ]
        )

    # -- set-up -------------------------------------------------------------------------
    def _build_graph(self) -> None:
        t = self.spec.travel
        routes = self.case.routes
        a = np.array([self.index[r.from_] for r in routes], dtype=np.int32)
        b = np.array([self.index[r.to] for r in routes], dtype=np.int32)
        km = np.array([r.distance_km for r in routes])
        self.graph, edge = Graph.from_edges(self.places, a, b, km)
        self._edge = edge
        self.link_speed = link_speeds(t, routes)[edge]

    def _build_crossings(self, capacity: dict[str, int]) -> None:
        cs = self.case.crossings
        self.crossing_names = tuple(c.name for c in cs)
        unknown = [n for n in capacity if n not in self.crossing_names]
        if unknown:
            raise ScenarioError(
                f"--capacity names unknown crossing '{unknown[0]}' "
                f"(choose from {', '.join(self.crossing_names)})"
            )
        self.n_cross = len(cs)
        self.exit_post = np.array([self.index[c.exit_post] for c in cs])
        self.entry_post = np.array([self.index[c.entry_post] for c in cs])
        self.entry_iso3 = [self.case.places[self.index[c.entry_post]].iso3 for c in cs]
        self.open_hour = np.array([c.open_hour for c in cs])
        self.close_hour = np.array([c.close_hour for c in cs])
        self.base_capacity = [capacity.get(c.name, c.capacity_per_day) for c in cs]
        self.base_regular = [c.regular_per_day for c in cs]
        g = self.graph
        builder = PathBuilder(g)
        self.return_place = np.empty(self.n_cross, dtype=np.int64)
        for k, c in enumerate(cs):
            post = self.exit_post[k]
            near = [
                (g.length[lk], int(g.dst[lk]))
                for lk in range(g.offsets[post], g.offsets[post + 1])
                if self.kind[g.dst[lk]] in ("city", "residence")
            ]
            if not near:
                raise ScenarioError(
                    f"crossing '{c.name}': its exit post has no road to a city to return to",
                    file=self.case.path / self.spec.files.routes,
                )
            self.return_place[k] = min(near)[1]
        residences = [i for i, kd in enumerate(self.kind) if kd == "residence"]
        self.path_of = np.full((len(self.places), self.n_cross), -1, dtype=np.int32)
        for r in residences:
            for k in range(self.n_cross):
                p = builder.add(r, int(self.exit_post[k]))
                if p < 0:
                    raise ScenarioError(
                        f"no road from '{self.places[r]}' to '{self.places[self.exit_post[k]]}'",
                        file=self.case.path / self.spec.files.routes,
                    )
                self.path_of[r, k] = p
        self.onward_path = np.array(
            [
                builder.add(int(self.entry_post[k]), self.index[c.destination])
                for k, c in enumerate(cs)
            ]
        )
        self.return_path = np.array(
            [
                builder.add(int(self.exit_post[k]), int(self.return_place[k]))
                for k in range(self.n_cross)
            ]
        )
        # Diverting goes to the nearest other crossing (by road); -1 when there is none.
        divert_options = [
            [
                (k2, builder.add(int(self.exit_post[k]), int(self.exit_post[k2])))
                for k2 in range(self.n_cross)
                if k2 != k
            ]
            for k in range(self.n_cross)
        ]
        for name, arr in (("onward", self.onward_path), ("return", self.return_path)):
            if (arr < 0).any():
                k = int(np.flatnonzero(arr < 0)[0])
                raise ScenarioError(
                    f"crossing '{cs[k].name}': no road for the {name} journey",
                    file=self.case.path / self.spec.files.routes,
                )
        self._build_optional(builder)
        self.paths: PathTable = builder.build()
        self.divert_to = np.full(self.n_cross, -1)
        self.divert_path = np.full(self.n_cross, -1)
        for k, options in enumerate(divert_options):
            reachable = [(self.paths.length(p), k2, p) for k2, p in options if p >= 0]
            if reachable:
                _, self.divert_to[k], self.divert_path[k] = min(reachable)

    def _build_optional(self, builder: PathBuilder) -> None:
        """The optional mechanisms' state, with the roads they need (before the paths build)."""
        self.news = News(self, builder) if uses_news(self) else None  # blockades and news
        self.place_events = PlaceEvents(self, builder)  # shelters, exits, removals

    def _build_population(self, scale: float) -> None:
        case, spec = self.case, self.spec
        n = round(spec.population.stock.value * scale)
        rng = self.streams.generator("population", 0)
        groups = case.groups
        self.group_iso3 = [g.iso3 for g in groups]
        g = choice(rng, np.array([x.share for x in groups]), n)
        res_idx = np.array([self.index[r.residence] for r in case.population])
        home = res_idx[choice(rng, np.array([r.share for r in case.population]), n)]
        doc = rng.random(n) < np.array([x.documented_share for x in groups])[g]
        fam = rng.random(n) < np.array([x.family_share for x in groups])[g]
        child = fam & (rng.random(n) < spec.population.child_share_in_families.value)
        self.newcomers = Newcomers(self, n, scale)
        self.agents = Agents(BORDER_FIELDS, capacity=n + self.newcomers.total)
        self.agents.add(
            n,
            loc=home.astype(np.int32),
            home=home.astype(np.int32),
            klass=(g * 4 + doc * 2 + fam).astype(np.int16),
            child=child,
        )
        self.newcomers.add_agents(self.agents)
        self._set_hazard()
        # One row of crossing weights per nationality, then one per residence that gives its own
        # (population.csv); choice_row[place] picks the row of the people living there (-1:
        # their nationality's).
        own = [(r.residence, w) for r in case.population if (w := case.crossing_weights(r))]
        rows = [*(case.crossing_weights(g) for g in groups), *(w for _, w in own)]
        cw = np.array([[w.get(name, 0.0) for name in self.crossing_names] for w in rows])
        self.cum_weights = np.cumsum(cw / cw.sum(axis=1, keepdims=True), axis=1)
        self.choice_row = np.full(len(self.places), -1, dtype=np.int64)
        for j, (residence, _) in enumerate(own):
            self.choice_row[self.index[residence]] = len(groups) + j
        # citizen_of[crossing, nationality]: citizens of the entry country always enter
        self.citizen_of = np.array(
            [[iso == self.entry_iso3[k] for iso in self.group_iso3] for k in range(self.n_cross)]
        )
        self.stock = n  # people at risk so far: grows as newcomers join
        self.arrays = self.agents.views()  # newcomers are allocated with the stock
        self.departures = Departures(self.keys["depart"], self.arrays.klass, self.hazard)
        self.newcomers.hold()

    def __getstate__(self) -> dict:
        # ``arrays`` are views of the agents' arrays: pickled, they would be a second copy
        return {k: v for k, v in self.__dict__.items() if k != "arrays"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "choice_row" not in state:  # a state stored before residences had own weights
            self.choice_row = np.full(len(self.places), -1, dtype=np.int64)
        self.arrays = self.agents.views()  # views again, as when built (a copy, a stored state)
        self.departures.klass = self.arrays.klass

    def _set_hazard(self) -> None:
        """Daily departure hazard per class (nationality, papers, family) from the parameters."""
        d, groups = self.spec.departure, self.case.groups
        mult = np.array([x.hazard_multiplier for x in groups])
        self.hazard = np.zeros(4 * len(groups))
        for gi in range(len(groups)):
            for bits in range(4):
                h = d.base_hazard.value * mult[gi]
                h *= d.documented_multiplier.value if bits & 2 else 1.0
                h *= d.family_multiplier.value if bits & 1 else 1.0
                self.hazard[gi * 4 + bits] = h

    def retune(self, case: BorderCase, seed: int) -> None:
        """Go on from today's state with other parameter values and another random stream.

        A particle filter resamples states and moves their parameters (data assimilation,
        :mod:`borderflow.forecast`); copies of one state must then differ in their future.
        ``case`` must be this model's case with only parameter values changed (see
        :func:`~borderflow.scenario.border_io.override`): places, roads, crossings and the
        population stay as built. Parameters read day by day (events, stranded people's
        choices, preparation) follow ``case`` at once; derived arrays are recomputed here.
        """
        self.case, self.spec = case, case.spec
        self._set_hazard()
        self.link_speed = link_speeds(self.spec.travel, case.routes)[self._edge]
        self.streams = Streams(seed)
        self.keys = {name: self.streams.key(name) for name in K.STREAMS}
        self.departures.retune(self.keys["depart"], self.hazard)

    # -- helpers ------------------------------------------------------------------------
    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def _draws(self, draw: K.Draw, day: int, idx: np.ndarray) -> np.ndarray:
        """Today's uniforms of ``draw`` for the people ``idx``."""
        return K.draws(self.keys[draw.stream], day, idx, draw.slot)

    def _by_crossing(self) -> list[np.ndarray]:
        """The live people bound for each crossing, in index order (as a scan of everyone)."""
        live = self.live
        here = self.arrays.crossing[live]
        return [live[here == k] for k in range(self.n_cross)]

    @staticmethod
    def _active(start: dt.date, end: dt.date | None, date: dt.date) -> bool:
        return start <= date and (end is None or date <= end)

    def policy(self, k: int, date: dt.date) -> DayPolicy:
        """Crossing ``k``'s rules on ``date`` (:func:`border_rules_by_date.day_policy`)."""
        name = self.crossing_names[k]
        return day_policy(self.case, name, date, self.base_capacity[k], self.base_regular[k])

    # -- phases -------------------------------------------------------------------------
    def calendar(self, day: int) -> None:
        date = self.date(day)
        factor = 1.0
        for e in self.case.events:
            if e.kind == "hazard" and self._active(e.start, e.end, date):
                factor *= e.value
            elif e.kind == "deadline" and date < e.start:
                days_left = (e.start - date).days
                factor *= 1.0 + e.value * 30.0 / max(days_left, 1)
        d = self.spec.departure
        window = int(d.social_window_days.value)
        recent = self.decided[max(0, day - window) : day].sum()
        factor *= 1.0 + d.social_weight.value * 100.0 * recent / max(self.stock, 1)
        self._hazard_factor = factor
        self.factor[day] = factor
        self._today = [self.policy(k, date) for k in range(self.n_cross)]
        if self.news is not None:
            self.news.day(day, date)
        self._events_today = self.place_events.today(date)  # flights, shelters, removals

    def depart(self, day: int) -> None:
        a = self.arrays
        self.newcomers.activate(day)
        deciders = self.departures.today(self._hazard_factor)
        self.decided[day] = len(deciders)
        if len(deciders):
            self.live = np.insert(self.live, np.searchsorted(self.live, deciders), deciders)
        K.depart(
            day, self.keys["depart"], deciders, self.live, a.state, a.klass, a.home, a.crossing,
            a.path, a.pos, a.t_state, self.spec.departure.preparation_days.value,
            self.cum_weights, self.choice_row, self.n_cross, self.path_of, self.departed[day],
        )  # fmt: skip
        redirect(
            self.case, self.date(day), self.crossing_names, deciders,
            lambda people: self._draws(K.Draw.REDIRECT, day, people), a.crossing, a.path,
            a.home, self.path_of,
        )  # fmt: skip

    def travel(self, day: int) -> None:
        a, p = self.arrays, self.paths
        arrived = np.zeros(self.n_cross, dtype=np.int32)
        n = self.news
        blocked, last_stop = (n.blocked, n.last_stop) if n is not None else NO_HOLD
        K.travel(
            day, self.live, a.state, a.loc, a.path, a.pos, a.t_state, a.crossing,
            p.offsets, p.links, p.cum_km, self.link_speed, self.graph.dst, self.flow[day], arrived,
            blocked, last_stop, n.hold if n is not None else NO_HOLD[1],
        )  # fmt: skip
        self.at_crossing[day, :, C.ARRIVED] += arrived

    def _admit(
        self, k: int, people: np.ndarray, rule: DayPolicy, quota_left: int, day: int, *,
        arriving: bool, limit: int = -1,
    ) -> tuple[int, int]:  # fmt: skip
        """Crossing ``k`` admits ``people`` in order, at most ``limit`` (< 0: no limit)."""
        a = self.arrays
        names = rule.nationalities
        allowed = np.array([not names or iso in names for iso in self.group_iso3])
        return K.admit(
            day, people, K.ENTRY[rule.entry], rule.quota, quota_left, self.citizen_of[k],
            a.klass, arriving, a.state, a.loc, a.path, a.pos, a.t_state,
            self.onward_path[k], self.entry_post[k], self.exit_post[k],
            allowed, rule.papers == "documented", limit,
        )  # fmt: skip

    def border(self, day: int) -> None:
        a = self.arrays
        for k, here in enumerate(self._by_crossing()):
            rule = self._today[k]
            row = self.at_crossing[day, k]
            queued = here[a.state[here] == K.QUEUED]
            quota_left, room = rule.quota, rule.capacity
            if len(queued):
                served = self._queue_order(k, queued, day)
                ok, quota_left = self._admit(k, served, rule, quota_left, day, arriving=True)
                row[C.CROSSED] += ok
                row[C.REFUSED] += len(served) - ok
                room -= ok
            # People stranded earlier are admitted when today's policy lets them, in order of
            # arrival, as far as the day's migrant capacity left after the arrivals allows.
            if rule.entry in ("open", "corridor", "quota", "selective") and room > 0:
                waiting = here[(a.state[here] == K.STRANDED) & (a.t_state[here] < day)]
                if len(waiting):
                    waiting = waiting[np.argsort(a.t_state[waiting], kind="stable")]
                    ok, _ = self._admit(
                        k, waiting, rule, quota_left, day, arriving=False, limit=room
                    )
                    row[C.CORRIDOR] += ok

    def _queue_order(self, k: int, queued: np.ndarray, day: int) -> np.ndarray:
        """Who crossing ``k`` serves today, in order, at most its migrant capacity.

        People waiting overnight come first, then today's arrivals by hour; arrivals after
        closing wait for the next day. While the entry is ``closed`` nobody is processed, so
        everyone ready is refused at once (at Pazarkule in 2020 tens of thousands stood at a
        shut gate: they were stranded at the line, not queued for a post's capacity).
        """
        t_state = self.arrays.t_state[queued]
        hours = 24.0 * self._draws(K.Draw.ARRIVAL_HOUR, day, queued)
        arrived_today = t_state == day
        ready = ~arrived_today | (hours < self.close_hour[k])
        order = np.lexsort((queued, np.where(arrived_today, hours, -1.0), t_state))
        order = order[ready[order]]
        if self._today[k].entry == "closed":
            return queued[order]  # a shut gate turns everyone away: refusing takes no slot
        return queued[order][: self._today[k].capacity]

    def night(self, day: int) -> None:
        a = self.arrays
        night_key = self.keys[K.Draw.NIGHT_CHOICE.stream]  # NIGHT_CHOICE and CAUGHT share it
        for k, here in enumerate(self._by_crossing()):
            if not len(here):
                continue  # nobody stranded, waiting or sheltered from here: nothing to do
            rule = self._today[k]
            row = self.at_crossing[day, k]
            K.evening(here, a.state, a.child, row)
            for e in self._events_today:
                if e.target == self.crossing_names[k]:
                    self.place_events.at_crossing(e, k, here, day)
            K.stranded_night(
                day, night_key, here, self._night_edges(k, rule), rule.detection, a.state, a.loc,
                a.crossing, a.path, a.pos, a.t_state, self.return_path[k], self.divert_to[k],
                self.divert_path[k], self.onward_path[k], self.entry_post[k], row,
            )  # fmt: skip
            if rule.waiting_irregular > 0:  # a set event lets people queued go round the post
                K.waiting_night(
                    day, night_key, here, rule.waiting_irregular, rule.detection, a.state,
                    a.loc, a.path, a.pos, a.t_state, self.onward_path[k], self.entry_post[k], row,
                )  # fmt: skip
        self.place_events.night(day)  # shelters, shelter exits and removals at other places

    def _night_edges(self, k: int, rule: DayPolicy) -> np.ndarray:
        """Cumulative probabilities of the night's choices, in NightChoice order."""
        readmitted, back, divert, irregular = rule.rates
        p_read = readmitted if rule.readmission else 0.0
        p_div = divert if rule.readmission and self.divert_to[k] >= 0 else 0.0
        return np.cumsum([p_read, back, p_div, irregular])

    def record(self, day: int) -> None:
        """Count the evening's states; people who reached a final state leave the live set."""
        a = self.arrays
        counts = self.state_counts[day]
        n = K.record(
            self.live, a.state, a.loc, a.child, self.final_counts, counts,
            self.sheltered[day], self.children_sheltered[day],
        )  # fmt: skip
        self.live = self.live[:n]
        if self.news is not None:
            self.news.record(day)
        counts[K.FINAL] = self.final_counts[K.FINAL]
        counts[K.HOME] = self.stock - counts.sum()

    # -- running ------------------------------------------------------------------------
    def run(self, on_day=None) -> BorderModel:
        self.plan.run(range(self.days), on_day)
        return self

    def close(self) -> None:
        """Free the run's state now (a finished one-shot run, a particle the filter drops).

        A model is a reference cycle (its plan holds its bound methods; news, places and
        newcomers hold the model), so without this its agent arrays (~250 MB for 4 million
        people) wait for Python's cyclic collector, which runs by counts of objects, not bytes.
        A worker running one-shot simulations (ABC particles, ensemble members) then held
        dozens of dead models at once, 24 GB in one learn. Emptying the model's attributes
        removes every edge out of it, so reference counting frees the lot when the caller
        drops it.
        """
        self.__dict__.clear()

    def __enter__(self) -> BorderModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def result(self) -> RunResult:
        """What the run hands on: its declared indicators, calendar and origin."""
        return border_result(self)


def simulate_once(case: BorderCase, seed: int = 0, **options) -> RunResult:
    """One run's result, its model freed at once (:meth:`BorderModel.close`).

    For code that runs many simulations in one process and keeps only their results.
    ``options`` are :class:`BorderModel`'s (``scale``, ``capacity``, ``start``, ``until``).
    """
    with BorderModel(case, seed, **options) as model:
        return model.run().result()
