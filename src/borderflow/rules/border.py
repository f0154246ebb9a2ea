"""The border-crisis ruleset: who leaves, by which road, what happens at each crossing.

A :class:`BorderModel` compiles a :class:`~borderflow.scenario.border_io.BorderCase` into
arrays and runs a day as an ordered plan of phases:

1. ``calendar``: today's departure-hazard factor, and each crossing's admission policy,
   readmission, detection, return flights and moves to shelters;
2. ``depart``: decisions to leave (a daily hazard by nationality, papers and family, times
   event multipliers, a countdown to a deadline and what others did lately), preparation, the
   choice of a crossing, the start of the journey (numba);
3. ``travel``: everyone on the road advances along their path by bus or on foot (numba);
4. ``border``: each crossing processes its queue in arrival order within its opening hours and
   its daily capacity (shared with regular traffic) and admits or refuses people by the entry
   policy; people refused are *stranded* between the posts; stranded people are admitted
   when the policy lets them (corridor, quota);
5. ``night``: stranded people wait, are readmitted by the exit country, walk back, divert to
   another crossing or try an irregular crossing (caught with a chance that rises with
   reinforcement); return flights and moves to shelters happen;
6. ``record``: daily counts per place, crossing and road.

Every number comes from the case's files; the mechanisms are documented in
``docs/border-model.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from borderflow.engine.agents import Agents
from borderflow.engine.graph import Graph
from borderflow.engine.loop import Phase, Plan
from borderflow.engine.paths import PathBuilder, PathTable
from borderflow.engine.rng import Streams
from borderflow.errors import ScenarioError
from borderflow.results.run_result import RunResult
from borderflow.rules import border_kernels as K
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.rules.border_result import border_result
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


class NightChoice(IntEnum):
    """What a stranded person does tonight, in the order the probabilities are stacked."""

    READMIT = 0  # taken back by the exit country (when it readmits)
    RETURN = 1  # walks back to the last city
    DIVERT = 2  # leaves for the nearest other crossing (when readmitted there)
    IRREGULAR = 3  # tries to cross irregularly
    WAIT = 4  # stays between the posts


@dataclass(frozen=True)
class DayPolicy:
    """One crossing's rules on one day."""

    entry: str
    quota: int
    detection: float
    readmission: bool


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
        self._build_graph()
        self._build_crossings(capacity or {})
        self._build_population(scale)
        self.flow = np.zeros((self.days, self.graph.n_links), dtype=np.int32)
        self.departed = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.at_crossing = np.zeros((self.days, self.n_cross, len(C)), np.int32)
        self.sheltered = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.children_sheltered = np.zeros((self.days, len(self.places)), dtype=np.int32)
        self.decided = np.zeros(self.days, dtype=np.int64)
        self.state_counts = np.zeros((self.days, K.N_STATES), dtype=np.int64)
        self.factor = np.zeros(self.days)
        self.keys = {name: self.streams.key(name) for name in K.STREAMS}
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
        speed = np.array(
            [
                t.walk_km_per_day.value if r.mode == "walk" else t.bus_km_per_day.value
                for r in routes
            ]
        )
        self.link_speed = speed[edge]

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
        cap = np.array([capacity.get(c.name, c.capacity_per_day) for c in cs])
        self.migrant_capacity = np.maximum(0, cap - np.array([c.regular_per_day for c in cs]))
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
        self.paths: PathTable = builder.build()
        self.divert_to = np.full(self.n_cross, -1)
        self.divert_path = np.full(self.n_cross, -1)
        for k, options in enumerate(divert_options):
            reachable = [(self.paths.length(p), k2, p) for k2, p in options if p >= 0]
            if reachable:
                _, self.divert_to[k], self.divert_path[k] = min(reachable)

    def _build_population(self, scale: float) -> None:
        case, spec = self.case, self.spec
        n = round(spec.population.stock.value * scale)
        rng = self.streams.generator("population", 0)
        groups = case.groups
        self.group_iso3 = [g.iso3 for g in groups]
        g = rng.choice(len(groups), size=n, p=np.array([x.share for x in groups]))
        res_idx = np.array([self.index[r.residence] for r in case.population])
        home = res_idx[
            rng.choice(len(res_idx), size=n, p=np.array([r.share for r in case.population]))
        ]
        doc = rng.random(n) < np.array([x.documented_share for x in groups])[g]
        fam = rng.random(n) < np.array([x.family_share for x in groups])[g]
        child = fam & (rng.random(n) < spec.population.child_share_in_families.value)
        self.agents = Agents(BORDER_FIELDS, capacity=n)
        self.agents.add(
            n,
            loc=home.astype(np.int32),
            home=home.astype(np.int32),
            klass=(g * 4 + doc * 2 + fam).astype(np.int16),
            child=child,
        )
        self._set_hazard()
        cw = np.zeros((len(groups), self.n_cross))
        for gi, grp in enumerate(groups):
            weights = case.crossing_weights(grp)
            for k, name in enumerate(self.crossing_names):
                cw[gi, k] = weights.get(name, 0.0)
        self.cum_weights = np.cumsum(cw / cw.sum(axis=1, keepdims=True), axis=1)
        self.citizen = np.array(
            [[iso == self.entry_iso3[k] for k in range(self.n_cross)] for iso in self.group_iso3]
        )
        self.stock = n

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
        t = self.spec.travel
        speed = np.array(
            [
                t.walk_km_per_day.value if r.mode == "walk" else t.bus_km_per_day.value
                for r in case.routes
            ]
        )
        self.link_speed = speed[self._edge]
        self.streams = Streams(seed)
        self.keys = {name: self.streams.key(name) for name in K.STREAMS}

    # -- helpers ------------------------------------------------------------------------
    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def _draws(self, draw: K.Draw, day: int, idx: np.ndarray) -> np.ndarray:
        """Today's uniforms of ``draw`` for the people ``idx``."""
        return K.draws(self.keys[draw.stream], day, idx, draw.slot)

    @staticmethod
    def _active(start: dt.date, end: dt.date | None, date: dt.date) -> bool:
        return start <= date and (end is None or date <= end)

    def policy(self, k: int, date: dt.date) -> DayPolicy:
        """The last matching row of policies.csv (variant rows come last) wins, per side."""
        name = self.crossing_names[k]
        entry, quota, detection, readmission = "open", 0, 0.0, False
        for p in self.case.policies:
            if p.crossing != name or not self._active(p.start, p.end, date):
                continue
            if p.side == "entry":
                entry, quota, detection = p.policy, p.quota, p.detection
            else:
                readmission = p.policy != "closed"
        detection += self.spec.stranded.detection_base.value
        for e in self.case.events:
            if (
                e.kind == "reinforcement"
                and e.target == name
                and self._active(e.start, e.end, date)
            ):
                detection += e.value
        return DayPolicy(entry, quota, min(1.0, detection), readmission)

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
        # A flight leaves on its start date; a move to shelters repeats every day of its span
        # (a clearance policy), or happens once when it has no end.
        self._events_today = [
            e
            for e in self.case.events
            if (e.kind == "return_flight" and e.start == date)
            or (e.kind == "shelter" and (e.start == date or (e.end and e.start <= date <= e.end)))
        ]

    def depart(self, day: int) -> None:
        a = self.agents
        self.decided[day] = K.depart(
            day, self.keys["depart"], a.state, a.klass, a.home, a.crossing, a.path, a.pos,
            a.t_state, self.hazard, self._hazard_factor, self.spec.departure.preparation_days.value,
            self.cum_weights, self.n_cross, self.path_of, self.departed[day],
        )  # fmt: skip

    def travel(self, day: int) -> None:
        a, p = self.agents, self.paths
        before = a.state == K.TRAVELLING
        K.travel(
            day, a.state, a.loc, a.path, a.pos, a.t_state,
            p.offsets, p.links, p.cum_km, self.link_speed, self.graph.dst, self.flow[day],
        )  # fmt: skip
        arrived = before & (a.state == K.QUEUED)
        if arrived.any():
            self.at_crossing[day, :, C.ARRIVED] += np.bincount(
                a.crossing[arrived], minlength=self.n_cross
            )

    def _admit(self, k: int, idx: np.ndarray, rule: DayPolicy, quota_left: int) -> np.ndarray:
        """Which of ``idx`` (in processing order) the entry policy admits today.

        Citizens of the entry country are always admitted. ``quota`` admits documented people
        and, on top, undocumented ones up to the day's quota; ``corridor`` admits everyone, at
        most ``quota`` a day when a quota is set.
        """
        a = self.agents
        documented = (a.klass[idx] & 2) > 0
        ok = self.citizen[a.klass[idx] // 4, k].copy()
        if rule.entry == "open":
            ok[:] = True
        elif rule.entry == "documented_only":
            ok |= documented
        elif rule.entry == "quota":
            ok |= documented
            ok[np.flatnonzero(~ok)[: max(quota_left, 0)]] = True
        elif rule.entry == "corridor":
            if rule.quota > 0:
                ok[np.flatnonzero(~ok)[: max(quota_left, 0)]] = True
            else:
                ok[:] = True
        return ok

    def _cross(self, k: int, idx: np.ndarray, day: int) -> None:
        a = self.agents
        a.state[idx] = K.ONWARD
        a.path[idx] = self.onward_path[k]
        a.pos[idx] = 0.0
        a.loc[idx] = self.entry_post[k]
        a.t_state[idx] = day

    def border(self, day: int) -> None:
        a = self.agents
        for k in range(self.n_cross):
            rule = self._today[k]
            queued = np.flatnonzero((a.state == K.QUEUED) & (a.crossing == k))
            hours = 24.0 * self._draws(K.Draw.ARRIVAL_HOUR, day, queued)
            arrived_today = a.t_state[queued] == day
            # Arrivals after closing wait for the next day; earlier ones are served in order.
            ready = ~arrived_today | (hours < self.close_hour[k])
            order = np.lexsort((queued, np.where(arrived_today, hours, -1.0), a.t_state[queued]))
            order = order[ready[order]]
            served = queued[order][: int(self.migrant_capacity[k])]
            quota_left = rule.quota
            if len(served):
                before = self._admit(k, served, DayPolicy("documented_only", 0, 0, False), 0)
                ok = self._admit(k, served, rule, quota_left)
                quota_left -= int((ok & ~before).sum())
                self._cross(k, served[ok], day)
                refused = served[~ok]
                a.state[refused] = K.STRANDED
                a.loc[refused] = self.exit_post[k]
                a.t_state[refused] = day
                self.at_crossing[day, k, C.CROSSED] += int(ok.sum())
                self.at_crossing[day, k, C.REFUSED] += len(refused)
            # People stranded earlier are admitted when today's policy lets them.
            if rule.entry in ("open", "corridor", "quota"):
                waiting = np.flatnonzero(
                    (a.state == K.STRANDED) & (a.crossing == k) & (a.t_state < day)
                )
                if len(waiting):
                    ok = self._admit(k, waiting, rule, quota_left)
                    self._cross(k, waiting[ok], day)
                    self.at_crossing[day, k, C.CORRIDOR] += int(ok.sum())

    def night(self, day: int) -> None:
        a, s = self.agents, self.spec.stranded
        for k in range(self.n_cross):
            rule = self._today[k]
            stranded = np.flatnonzero((a.state == K.STRANDED) & (a.crossing == k))
            waiting = (a.state == K.QUEUED) & (a.crossing == k)
            row = self.at_crossing[day, k]
            row[C.STRANDED] = len(stranded)
            row[C.WAITING] = int(waiting.sum())
            row[C.CHILDREN_STRANDED] = int(a.child[stranded].sum() + a.child[waiting].sum())
            for e in self._events_today:
                if e.target != self.crossing_names[k]:
                    continue
                if e.kind == "shelter":
                    movers = stranded if e.value <= 0 else stranded[: int(e.value)]
                    a.state[movers] = K.SHELTERED
                    a.loc[movers] = self.index[e.to]
                    a.t_state[movers] = day
                    row[C.SHELTERED_MOVED] += len(movers)
                elif e.kind == "return_flight":
                    pool = np.flatnonzero(
                        ((a.state == K.STRANDED) | (a.state == K.SHELTERED)) & (a.crossing == k)
                    )
                    rank = np.argsort(self._draws(K.Draw.FLIGHT_SEAT, day, pool), kind="stable")
                    seats = pool[rank[: int(e.value)]]
                    a.state[seats] = K.FLOWN
                    a.t_state[seats] = day
                    row[C.FLOWN] += len(seats)
            stranded = np.flatnonzero((a.state == K.STRANDED) & (a.crossing == k))
            if not len(stranded):
                continue
            u = self._draws(K.Draw.NIGHT_CHOICE, day, stranded)
            p_read = s.readmitted_per_day.value if rule.readmission else 0.0
            p_div = s.divert_per_day.value if rule.readmission and self.divert_to[k] >= 0 else 0.0
            edges = np.cumsum([p_read, s.return_per_day.value, p_div, s.irregular_per_day.value])
            choice = np.searchsorted(edges, u, side="right")  # a NightChoice
            back = stranded[choice <= NightChoice.RETURN]
            a.state[back] = K.RETURNING
            a.path[back] = self.return_path[k]
            a.pos[back] = 0.0
            a.t_state[back] = day
            row[C.READMITTED] += int((choice == NightChoice.READMIT).sum())
            row[C.RETURNED] += int((choice == NightChoice.RETURN).sum())
            div = stranded[choice == NightChoice.DIVERT]
            a.state[div] = K.TRAVELLING
            a.crossing[div] = self.divert_to[k]
            a.path[div] = self.divert_path[k]
            a.pos[div] = 0.0
            a.t_state[div] = day
            row[C.DIVERTED] += len(div)
            tries = stranded[choice == NightChoice.IRREGULAR]
            caught = self._draws(K.Draw.CAUGHT, day, tries) < rule.detection
            self._cross(k, tries[~caught], day)
            row[C.IRREGULAR_CROSSING] += int((~caught).sum())
            row[C.IRREGULAR_DETECTED] += int(caught.sum())

    def record(self, day: int) -> None:
        a = self.agents
        self.state_counts[day] = np.bincount(a.state, minlength=K.N_STATES)
        sh = a.state == K.SHELTERED
        if sh.any():
            self.sheltered[day] = np.bincount(a.loc[sh], minlength=len(self.places))
            self.children_sheltered[day] = np.bincount(
                a.loc[sh & a.child], minlength=len(self.places)
            )

    # -- running ------------------------------------------------------------------------
    def run(self, on_day=None) -> BorderModel:
        self.plan.run(range(self.days), on_day)
        return self

    def result(self) -> RunResult:
        """What the run hands on: its declared indicators, calendar and origin."""
        return border_result(self)
