"""Flee's default run as a borderflow ruleset.

The model compiles a :class:`~borderflow.scenario.flee_io.FleeScenario` into arrays and runs
Flee's day as an ordered plan of phases:

1. ``conflicts``: onsets and ends from conflicts.csv (0 ↔ positive transitions only);
2. ``spawn``: data-driven spawning with refugee debt, at conflict zones weighted by population;
3. ``closures``: closures.csv actions for the day;
4. ``move``: scores, move chances and the movement kernel (decide, choose route, travel);
5. ``record``: agents at each place after the day's movement.

Every choice made where Flee's behaviour is a quirk is listed in ``docs/flee.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from borderflow.engine.agents import Agents
from borderflow.engine.graph import Graph
from borderflow.engine.loop import Phase, Plan
from borderflow.engine.rng import Streams
from borderflow.errors import ScenarioError
from borderflow.results.flee_out import CampSeries
from borderflow.results.run_result import RunResult
from borderflow.results.series import Series
from borderflow.rules import flee_compiled as K
from borderflow.rules.flee_routes import Candidates, close_to_home_factors, enumerate_candidates
from borderflow.scenario.flee_io import FleeScenario
from borderflow.scenario.flee_settings import FleeSettings

EPS = 1e-6
FLEE_FIELDS = {
    "link": (np.dtype(np.int32), -1),  # directed link being travelled, -1 if at a place
    "progress": (np.dtype(np.float32), 0.0),  # km done on the link
    "route": (np.dtype(np.int32), -1),  # candidate path being followed, -1 if none
    "route_pos": (np.dtype(np.int8), 0),  # next link of that path
    "hops": (np.dtype(np.int32), 0),  # links completed
    "wake": (np.dtype(np.int32), K.WAKE_UNDRAWN),  # day of the next move (flee_compiled)
}


@dataclass(frozen=True)
class SpawnSchedule:
    """Flee's data-driven spawning, computed ahead: it depends only on the data."""

    increment: np.ndarray  # D(t)
    new: np.ndarray  # agents spawned on day t
    debt: np.ndarray  # refugee debt after day t
    raw: np.ndarray  # cumulative D up to t ("raw UNHCR refugee count")
    camp_data: np.ndarray  # (days, camps) int data_c(t)


def spawn_schedule(
    scenario: FleeScenario, settings: FleeSettings, camps: list[str], days: int
) -> SpawnSchedule:
    """D(t), new(t), debt(t) and refugees_raw(t) exactly as Flee's default driver."""
    rules = settings.spawn_rules
    series = {s.name: s for s in scenario.series}
    daily = np.stack([s.daily(days) for s in scenario.series])  # (series, days)
    if rules.empty_camps_on_day0:
        daily[1:] -= daily[1:, :1]
    if rules.sum_from_camps:
        d = np.diff(daily[1:], axis=1).sum(axis=0)
        d0 = int(daily[:, 0].sum())
    else:
        total = daily[0]
        d = np.diff(total)
        d0 = int(total[0])
    increment = np.concatenate([[d0], d]).astype(np.int64)
    new = np.zeros(days, dtype=np.int64)
    debt = np.zeros(days, dtype=np.int64)
    owed = 0
    for t in range(days):
        n = int(increment[t]) - owed
        if rules.insert_day0 and t == 0:
            n = 0
        if n < 0:
            owed, n = -n, 0
        elif owed > 0:
            owed = 0
        new[t], debt[t] = n, owed
    camp_data = (
        np.stack([series[c].daily(days) for c in camps], axis=1)
        if camps
        else np.zeros((days, 0), dtype=np.int64)
    )
    if rules.empty_camps_on_day0 and camps:
        camp_data = camp_data - camp_data[:1]
    return SpawnSchedule(increment, new, debt, np.cumsum(increment), camp_data)


class FleeModel:
    """State and phases of one Flee-ruleset run."""

    def __init__(self, scenario: FleeScenario, settings: FleeSettings, seed: int) -> None:
        self.scenario = scenario
        self.settings = settings
        self.streams = Streams(seed)
        self.days = scenario.length
        self.start_date = scenario.start_date
        self._build_places()
        self._build_roads()
        n, names = len(scenario.locations), self._names
        self.location_weight = np.ones(n)
        for name, w in settings.location_weights.items():
            if name not in self.index:
                raise ScenarioError(
                    f"location_weights names '{name}', which is not a location of the scenario",
                    file=scenario.path / "input_csv" / "locations.csv",
                )
            self.location_weight[self.index[name]] = w
        self.camps = [names[i] for i in np.flatnonzero(self.is_camp)]
        self.camp_idx = np.flatnonzero(self.is_camp)
        self.schedule = spawn_schedule(scenario, settings, self.camps, self.days)
        columns, self.conflict_table = list(scenario.conflict_names), scenario.conflicts
        if settings.rules.respelled_conflicts and scenario.respelled:
            columns += [location for _, location in scenario.respelled]
            self.conflict_table = np.hstack([scenario.conflicts, scenario.respelled_conflicts])
        self.conflict_cols = np.array([self.index[c] for c in columns], dtype=np.int64)

        expected = int(self.schedule.new.sum() + self.schedule.camp_data[0].sum()) + int(
            self.initial_idps.sum()
        )
        self.agents = Agents(FLEE_FIELDS, capacity=max(expected, 1024))
        self.count = np.zeros(n, dtype=np.int64)
        self.history = np.zeros((self.days, n), dtype=np.int64)
        self.travelling = np.zeros(self.days, dtype=np.int64)
        self.n_agents = np.zeros(self.days, dtype=np.int64)
        self.key = self.streams.key("move")
        self._chance_before: np.ndarray | None = None  # yesterday's move chances
        self._insert_day0()
        self.plan = Plan(
            [
                Phase("conflicts", self.update_conflicts, "onsets and ends from conflicts.csv"),
                Phase("spawn", self.spawn, "data-driven spawning with refugee debt"),
                Phase("closures", self.apply_closures, "closures.csv actions for the day"),
                Phase("move", self.move, "decide, choose route, travel (numba)"),
                Phase("record", self.record, "agents at each place after moving"),
            ]
        )

    # -- set-up ---------------------------------------------------------------------------
    def _build_places(self) -> None:
        """Places as arrays: kinds, populations, capacities, conflicts and move chances."""
        settings, scenario = self.settings, self.scenario
        m, hasten = settings.move_rules, settings.optimisations.hasten
        locs = scenario.locations
        n = len(locs)
        names = tuple(loc.name for loc in locs)
        self._names = names
        self.index = {name: i for i, name in enumerate(names)}
        kinds = [loc.kind for loc in locs]
        self.is_camp = np.array(["camp" in k for k in kinds])
        self.is_idpcamp = np.array(["camp" in k and "idp" in k for k in kinds])
        self.is_marker = np.array(["marker" in k and "camp" not in k for k in kinds])
        self.country = np.array([loc.country for loc in locs])
        self.foreign = self.country != locs[0].country
        self.pop = np.array(
            [0 if c else loc.size // hasten for loc, c in zip(locs, self.is_camp, strict=True)],
            dtype=np.float64,
        )
        self.capacity = np.array(
            [loc.size // hasten if c else -1 for loc, c in zip(locs, self.is_camp, strict=True)],
            dtype=np.float64,
        )
        self.capacity_per_day = np.array(
            [int(loc.attrs.get("capacity_per_day") or 0) for loc in locs], dtype=np.float64
        )
        self.initial_idps = np.array(
            [int(loc.attrs.get("initial_idps") or 0) for loc in locs], dtype=np.int64
        )
        if not settings.rules.camp_attributes:  # neither attribute exists in Flee 3.1
            self.capacity_per_day[:] = 0
            self.initial_idps[:] = 0
        # Conflict state: intensity > 0 means an active conflict zone.
        self.conflict = np.zeros(n, dtype=np.float64)
        self.conflict_since = np.zeros(n, dtype=np.int64)
        self.movechance = np.empty(n, dtype=np.float64)
        for i, loc in enumerate(locs):
            k = loc.kind
            if "camp" in k:
                self.movechance[i] = m.idpcamp_movechance if "idp" in k else m.camp_movechance
            elif "conflict" in k and (loc.conflict_date or 0) <= 0:
                self.movechance[i] = m.conflict_movechance
                self.conflict[i] = float(loc.attrs.get("conflict_intensity") or 1.0)
                self.conflict_since[i] = loc.conflict_date or 0
            elif "forward" in k or "marker" in k:
                self.movechance[i] = 1.0
            else:  # town, default, flood_zone, or a conflict row that starts later as a town
                self.movechance[i] = m.default_movechance
        low = (self.movechance < 0.005) & ~self.is_camp
        self.is_camp |= low  # Flee re-tags such places as camps
        self.is_camp_now = self.is_camp.copy()

    def _build_roads(self) -> None:
        """The road graph, link speeds and the route candidates of each place."""
        settings, scenario = self.settings, self.scenario
        m, locs, n, names = (
            settings.move_rules,
            scenario.locations,
            len(scenario.locations),
            self._names,
        )
        a = np.array([self.index[r.a] for r in scenario.routes], dtype=np.int32)
        b = np.array([self.index[r.b] for r in scenario.routes], dtype=np.int32)
        dist = np.array([r.distance for r in scenario.routes])
        self.graph, edge = Graph.from_edges(names, a, b, dist)
        speed = np.array([float(r.attrs.get("max_move_speed") or 0) for r in scenario.routes])
        walk = np.array([float(r.attrs.get("walk_probability") or 0) for r in scenario.routes])
        self.link_speed = speed[edge]
        self.link_walk = walk[edge]

        self.cands: Candidates = enumerate_candidates(
            self.graph, self.is_marker, settings.awareness
        )
        if m.stay_close_to_home:
            lat = np.array([loc.lat for loc in locs])
            lon = np.array([loc.lon for loc in locs])
            factor = close_to_home_factors(self.cands, lat, lon, m.home_distance_power)
            self.cands = Candidates(**{**self.cands.__dict__, "factor": factor})
        widest = int(np.max(np.diff(self.cands.by_origin))) if n else 0
        self.scratch = np.zeros(max(widest, 1), dtype=np.float64)

    def _insert_day0(self) -> None:
        """Day-0 camp populations (and initial_idps) become agents in their camps."""
        rules = self.settings.spawn_rules
        if rules.empty_camps_on_day0:
            return
        per_place = self.initial_idps.copy()
        per_place[~self.is_camp] = 0
        if rules.insert_day0:
            per_place[self.camp_idx] += self.schedule.camp_data[0]
        self._add_agents(np.repeat(np.arange(len(per_place)), per_place))

    def _add_agents(self, places: np.ndarray) -> None:
        if len(places) == 0:
            return
        self.agents.add(len(places), loc=places, home=places)
        self.count += np.bincount(places, minlength=len(self.count))

    def set_counts(self, day: int, counts: dict[str, int]) -> None:
        """Make the named places hold exactly these numbers of agents (not travelling).

        A forecast from an origin starts from what was observed there: agents are added at a
        place, as new arrivals, or drawn at random and removed. Flee has no such step; it is
        how borderflow's backtest and skill benchmark start a forecast from the known state.
        """
        rng = self.streams.generator("assimilate", day)
        a = self.agents
        drop = np.zeros(len(a), dtype=bool)
        add = []
        for name, target in counts.items():
            i = self.index[name]
            here = np.flatnonzero((a.loc == i) & (a.link < 0))
            if target > len(here):
                add.append(np.full(int(target) - len(here), i, dtype=np.int32))
            elif target < len(here):
                drop[rng.choice(here, size=len(here) - int(target), replace=False)] = True
        if drop.any():
            self.count -= np.bincount(a.loc[drop], minlength=len(self.count))
            a.keep(~drop)
        for places in add:
            self._add_agents(places)

    # -- phases ---------------------------------------------------------------------------
    def update_conflicts(self, day: int) -> None:
        """0 ↔ positive transitions of conflicts.csv start and end conflicts."""
        table = self.conflict_table
        m = self.settings.move_rules
        now = table[day]
        before = table[day - 1] if day > 0 else np.zeros_like(now)
        onset = (now > EPS) & ((before < EPS) if day > 0 else True)
        was = (before >= EPS) if self.settings.rules.conflict_end_from_any else (before == 1.0)
        end = (now < EPS) & was & (day > 0)
        for col in np.flatnonzero(onset):
            i = self.conflict_cols[col]
            self.conflict[i] = now[col]
            self.conflict_since[i] = day
            self.movechance[i] = m.conflict_movechance
        for col in np.flatnonzero(end):
            i = self.conflict_cols[col]
            self.conflict[i] = -1.0
            self.movechance[i] = m.default_movechance

    def _decay(self, day: int) -> np.ndarray:
        rules = self.settings.spawn_rules
        if not rules.conflict_spawn_decay:
            return np.ones_like(self.conflict)
        steps = np.asarray(rules.conflict_spawn_decay)
        k = (day - self.conflict_since) // rules.conflict_spawn_decay_interval
        return steps[np.clip(k, 0, len(steps) - 1)]

    def spawn(self, day: int) -> None:
        """New agents at conflict zones, split multinomially by population × intensity."""
        new = int(self.schedule.new[day])
        if new == 0:
            return
        active = self.conflict > 0
        weight = np.where(active, self.pop * self.conflict * self._decay(day), 0.0)
        if not self.settings.spawn_rules.conflict_zone_spawning_only:
            weight = np.where(active, weight, 0.0)
        total = weight.sum()
        if total <= 0:
            raise ScenarioError(
                f"day {day} ({self.date(day)}): {new} people to spawn but no active conflict zone "
                "with a population",
                file=self.scenario.path / "input_csv" / "conflicts.csv",
            )
        rng = self.streams.generator("spawn", day)
        places = rng.choice(len(weight), size=new, p=weight / total).astype(np.int32)
        self._add_agents(places)

    def apply_closures(self, day: int) -> None:
        """Close then reopen, in file order, the closures that start or end today."""
        m = self.settings.move_rules
        for c in self.scenario.closures:
            for action, when in (("close", c.start), ("open", c.end)):
                if when != day:
                    continue
                opened = action == "open"
                if c.kind == "country":
                    a = self.country[self.graph.src]
                    b = self.country[self.graph.dst]
                    sel = ((a == c.name1) & (b == c.name2)) | ((a == c.name2) & (b == c.name1))
                    self.graph.link_open[sel] = opened
                elif c.kind == "location":
                    self.graph.link_open[self.graph.links_touching(self.index[c.name1])] = opened
                elif c.kind == "link":
                    i, j = self.index[c.name1], self.index[c.name2]
                    for lk in (self.graph.links_between(i, j), self.graph.links_between(j, i)):
                        self.graph.link_open[lk] = opened
                elif c.kind in ("camp", "idpcamp"):
                    i = self.index[c.name1]
                    if opened:
                        self.is_camp_now[i] = True
                        idp = c.kind == "idpcamp"
                        self.movechance[i] = m.idpcamp_movechance if idp else m.camp_movechance
                    else:
                        self.is_camp_now[i] = False
                        self.conflict[i] = -1.0
                        self.movechance[i] = m.default_movechance
                # remove_forced_redirection: the flag has no effect on movement (docs/flee.md)

    def scores(self, day: int) -> np.ndarray:
        """Flee's location attractiveness, recomputed every day."""
        m = self.settings.move_rules
        score = self.location_weight.copy()
        score[self.foreign] *= m.foreign_weight
        score[self.is_camp_now] *= m.camp_weight
        active = self.conflict > 0
        score[active] *= m.conflict_weight ** (self._decay(day)[active] * self.conflict[active])
        if m.use_pop_for_loc_weight:
            towns = ~self.is_camp_now
            score[towns] *= np.maximum(1.0, self.pop[towns]) ** m.pop_power_for_loc_weight
        return score

    def move(self, day: int) -> None:
        """Scores, capacities and move chances for today, then the movement kernel."""
        m = self.settings.move_rules
        rules = self.settings.rules
        if day == 0 and self.settings.spawn_rules.insert_day0 and rules.day0_capacity_cut:
            day0 = np.zeros_like(self.capacity)
            day0[self.camp_idx] = self.schedule.camp_data[0]
            has_cap = self.capacity > 0
            self.capacity[has_cap] -= day0[has_cap]
        self.capacity += self.capacity_per_day
        chance = self.movechance
        if m.movechance_pop_scale_factor != 0.0:
            size = np.maximum(np.maximum(self.pop, self.capacity), 1.0)
            chance = chance * (size / m.movechance_pop_base) ** m.movechance_pop_scale_factor
        a, g, c = self.agents, self.graph, self.cands
        self._redraw_where_changed(chance)
        cap = self.capacity * m.capacity_scaling
        K.evolve_day()(
            day, self.key, len(a),
            a.loc, a.link, a.progress, a.route, a.route_pos, a.hops, a.wake,
            g.src, g.dst, g.length, self.link_speed, self.link_walk, g.link_open,
            self.count, chance, self.scores(day), cap, self.is_camp_now,
            c.by_origin, c.link_offsets, c.links, c.end, c.distance, c.factor,
            m.max_move_speed, m.max_walk_speed, m.start_on_foot, m.capacity_buffer,
            m.softening, m.weight_softening, m.distance_power, m.weight_power,
            m.pruning_threshold, rules.planned_route_moves, self.scratch,
        )  # fmt: skip

    def _redraw_where_changed(self, chance: np.ndarray) -> None:
        """Agents at rest where the move chance changed since yesterday draw again today.

        A drawn day of the next move (``wake``) assumes the chance it was drawn with; the
        geometric law forgets the past, so a fresh draw from today on is exact.
        """
        before = self._chance_before
        self._chance_before = chance.copy()
        if before is None:
            return
        changed = chance != before
        if changed.any():
            a = self.agents
            a.wake[changed[a.loc] & (a.link < 0)] = K.WAKE_UNDRAWN

    def record(self, day: int) -> None:
        self.history[day] = self.count
        self.n_agents[day] = len(self.agents)
        self.travelling[day] = len(self.agents) - int(self.count.sum())

    # -- running --------------------------------------------------------------------------
    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def run(self, on_day=None, until: int | None = None) -> FleeModel:
        """Run every day, or days 0..``until`` (later rows of the history stay zero)."""
        last = self.days - 1 if until is None else min(until, self.days - 1)
        self.plan.run(range(last + 1), on_day)
        return self

    def camp_series(self) -> CampSeries:
        """The camps' daily counts next to their data, as Flee's out.csv and its error need."""
        s = self.schedule
        return CampSeries(
            start_date=self.start_date,
            camps=tuple(self.camps),
            sim=self.history[:, self.camp_idx],
            data=s.camp_data,
            n_agents=self.n_agents,
            raw=s.raw,
            debt=s.debt,
            date_offset=0 if self.settings.flee31 else 1,
        )

    def result(self) -> RunResult:
        """What the run hands on: people present at every place per day, next to the data.

        ``present`` counts everyone at a place after the day's moves (a camp's count is what
        Flee compares with the camp's data, ``observed``).
        """
        s = self.schedule
        series = Series(self.start_date, self.days)
        series.add("present", self.graph.names, self.history)
        series.add("observed", self.camps, s.camp_data)
        series.add("travelling", ["ALL"], self.travelling)
        series.add("agents", ["ALL"], self.n_agents)
        series.add("spawned", ["ALL"], s.new)
        series.add("refugee_debt", ["ALL"], s.debt)
        return RunResult(
            ruleset="flee",
            name=self.scenario.name,
            seed=self.streams.seed,
            series=series,
            agents=len(self.agents),
            phase_seconds=dict(self.plan.seconds),
        )
