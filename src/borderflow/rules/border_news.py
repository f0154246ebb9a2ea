"""Blockades of the approach to a crossing, news of shut crossings, and people waiting in cities.

A ``blockade`` event stops the travellers heading for a crossing at the last city (or home
region) on their path before its exit post: the travel kernel holds them there in
``WAITING_CITY`` until the blockade ends. With a ``[news]`` section, people preparing or
travelling towards a crossing that is *shut* (blockaded, or its entry policy ``closed``) learn
of it ``delay_days`` later, and each day they go home, divert to the next crossing of their
nationality's weights that they do not know to be shut, or wait: preparers keep preparing,
travellers stop at the next city on their path. They resume when they learn that it reopened
(after the same delay). See ``docs/border-model.md``.

Everything here is built only for cases that use a blockade or ``[news]``; other cases run the
ruleset exactly as before (no draw, no array, no path more).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from borderflow.engine.jit import njit
from borderflow.engine.paths import PathBuilder
from borderflow.engine.rng_kernels import day_key, uniform
from borderflow.rules import border_kernels as K
from borderflow.rules.border_rules_by_date import shut_on

if TYPE_CHECKING:
    from borderflow.rules.border import BorderModel

# Kernel constants (numba reads module globals as constants).
(PREPARING, TRAVELLING, RETURNED, WAITING_CITY) = (
    K.PREPARING, K.TRAVELLING, K.RETURNED, K.WAITING_CITY
)  # fmt: skip
NEWS_CHOICE = K.Draw.NEWS_CHOICE.slot
#: The places people can stop and wait at.
STOPPABLE = ("city", "residence")
#: Daily counts of the reactions to news (``News.counts`` columns), written as ALL series.
NEWS_COUNTS = ("news_home", "news_diverted", "news_resumed")


def uses_news(model: BorderModel) -> bool:
    """Whether the case has a blockade or a ``[news]`` section (else nothing here is built)."""
    return model.spec.news is not None or any(e.kind == "blockade" for e in model.case.events)


@njit(nogil=True)
def next_stop(x, lo, hi, links, cum_km, dst, stoppable):
    """Index (into ``links``) a traveller at ``x`` km stops at: after the next city ahead.

    ``lo``/``hi`` bound the path's links; the stop is ``m + 1`` for the first link ``m`` not yet
    finished whose end is a city (the path's last link, ending at the exit post, excluded), or
    the current index when the traveller stands at a city (or at home, at the start). -1: no
    city ahead.
    """
    j = lo
    while j < hi and cum_km[j] <= x:
        j += 1
    if j == lo and x <= 0.0:
        return lo
    if j > lo and cum_km[j - 1] == x and stoppable[dst[links[j - 1]]]:
        return j
    for m in range(j, hi - 1):
        if stoppable[dst[links[m]]]:
            return m + 1
    return -1


@njit(nogil=True)
def last_stops(offsets, links, src, dst, stoppable):
    """For each path, the index just after its last city before the end (-1: none).

    A path whose only city is its start (a residence) stops at its start (index ``lo``).
    """
    n = len(offsets) - 1
    out = np.full(n, -1, dtype=np.int64)
    for p in range(n):
        lo, hi = offsets[p], offsets[p + 1]
        if hi <= lo:
            continue
        if stoppable[src[links[lo]]]:
            out[p] = lo
        for m in range(lo, hi - 1):
            if stoppable[dst[links[m]]]:
                out[p] = m + 1
    return out


@njit(nogil=True)
def _divert_choice(k, g, order, known_shut, paths_from):
    """Where nationality ``g`` diverts from crossing ``k``; -1 when nowhere.

    The first crossing of ``order[g]`` other than ``k``, not known to be shut and reachable
    (``paths_from[crossing] >= 0``: the paths from where the person is).
    """
    for c in order[g]:
        if c < 0:
            break
        if c != k and not known_shut[c] and paths_from[c] >= 0:
            return c
    return -1


@njit(nogil=True)
def news_day(
    day, key, live, state, crossing, path, pos, loc, t_state, klass, home,
    blocked, known_shut, p_home, p_divert, order, choice_row, path_of, city_path,
    offsets, links, cum_km, dst, stoppable, hold, pending, counts,
):  # fmt: skip
    """Today's reactions of the ``live`` people to blockades and news (before departures).

    People waiting in a city with a pending diversion set off for it; waiting people whose
    crossing is neither blockaded nor known to be shut resume their journey; people bound for a
    crossing known to be shut (``known_shut``) draw: home (``p_home``: state returned), divert
    (``p_divert``: the first crossing of their ``order`` row, by nationality or by a residence's
    own weights, ``choice_row``, open as far as they know) or
    wait (preparers keep preparing, travellers stop at the next city: ``hold``; travellers past
    the last city go on). ``counts`` adds [went home, diverted, resumed].
    """
    dkey = day_key(key, day)
    for i in live:
        s = state[i]
        if s != WAITING_CITY and s != PREPARING and s != TRAVELLING:
            hold[i] = -1  # moved on by another mechanism (a shelter, say): nothing held
            pending[i] = -1
            continue
        k = crossing[i]
        stop = -1
        if s == WAITING_CITY and pending[i] >= 0:
            _reroute(i, pending[i], day, state, crossing, path, pos, t_state, loc, city_path)
            hold[i] = -1
            pending[i] = -1
            counts[1] += 1
            continue
        if not known_shut[k]:
            if s == WAITING_CITY and not blocked[k]:
                state[i] = TRAVELLING
                t_state[i] = day
                hold[i] = -1
                counts[2] += 1
            elif s == TRAVELLING and pending[i] < 0:
                hold[i] = -1
            continue
        if s == TRAVELLING:
            if pending[i] >= 0:
                continue  # on the way to the city where they turn off
            p = path[i]
            stop = next_stop(pos[i], offsets[p], offsets[p + 1], links, cum_km, dst, stoppable)
            if stop < 0:
                continue  # past the last city: they go on to the post
        u = uniform(dkey, i, NEWS_CHOICE)
        if u < p_home:
            state[i] = RETURNED
            t_state[i] = day
            loc[i] = home[i]
            counts[0] += 1
            continue
        g = K.weights_row(klass[i], choice_row[home[i]])
        if s == PREPARING:
            c = -1
            if u < p_home + p_divert:
                c = _divert_choice(k, g, order, known_shut, path_of[home[i]])
            if c >= 0:
                crossing[i] = c
                path[i] = path_of[home[i], c]
                counts[1] += 1
            elif t_state[i] <= day:
                t_state[i] = day + 1  # still preparing: sets off the day after it reopens
        elif s == WAITING_CITY:
            c = -1
            if u < p_home + p_divert:
                c = _divert_choice(k, g, order, known_shut, city_path[loc[i]])
            if c >= 0:
                _reroute(i, c, day, state, crossing, path, pos, t_state, loc, city_path)
                hold[i] = -1
                counts[1] += 1
        else:
            hold[i] = stop
            if u < p_home + p_divert:
                # they turn off at the next city (where they stand when the stop is here)
                p = path[i]
                city = dst[links[stop - 1]] if stop > offsets[p] else loc[i]
                pending[i] = _divert_choice(k, g, order, known_shut, city_path[city])


@njit(nogil=True)
def _reroute(i, c, day, state, crossing, path, pos, t_state, loc, city_path):
    """Person ``i``, waiting at a city, sets off for crossing ``c`` from there."""
    crossing[i] = c
    path[i] = city_path[loc[i], c]
    pos[i] = 0.0
    state[i] = TRAVELLING
    t_state[i] = day


class News:
    """The blockade and news state of one run: paths from cities, holds, pending diversions."""

    def __init__(self, model: BorderModel, builder: PathBuilder) -> None:
        """Add the paths from every city to every exit post (before ``builder.build()``)."""
        self.model = model
        kinds = model.kind
        self.stoppable = np.array([kd in STOPPABLE for kd in kinds])
        cities = np.flatnonzero(self.stoppable)
        self.city_path = np.full((len(kinds), model.n_cross), -1, dtype=np.int32)
        for c in cities:
            for k in range(model.n_cross):
                self.city_path[c, k] = builder.add(int(c), int(model.exit_post[k]))
        self.blocked = np.zeros(model.n_cross, dtype=np.bool_)
        self.known_shut = np.zeros(model.n_cross, dtype=np.bool_)

    def start(self) -> None:
        """What needs the built paths and the population (called once both exist)."""
        m = self.model
        g, paths = m.graph, m.paths
        self.last_stop = last_stops(paths.offsets, paths.links, g.src, g.dst, self.stoppable)
        n = len(m.arrays.state)  # everyone, newcomers included (rules/border_inflow.py)
        self.hold = np.full(n, -1, dtype=np.int64)  # link index to stop at (-1: none)
        self.pending = np.full(n, -1, dtype=np.int8)  # crossing to turn off to at the stop
        self.counts = np.zeros((m.days, len(NEWS_COUNTS)), dtype=np.int64)
        self.waiting = np.zeros((m.days, len(m.places)), dtype=np.int32)  # per city, evening
        self.children_waiting = np.zeros_like(self.waiting)
        # Each weights row's crossings (nationalities, then residences that give their own) by
        # decreasing weight (weight 0 left out; -1 pads).
        weights = np.diff(m.cum_weights, axis=1, prepend=0.0)
        self.order = np.full(weights.shape, -1, dtype=np.int64)
        for grp, row in enumerate(weights):
            ranked = [k for k in np.argsort(-row, kind="stable") if row[k] > 0]
            self.order[grp, : len(ranked)] = ranked

    def day(self, day: int, date: dt.date) -> None:
        """Today's blockades and news, and everyone's reaction (calendar phase)."""
        m = self.model
        case, news = m.case, m.spec.news
        self.blocked[:] = [
            any(
                e.kind == "blockade" and e.target == name and m._active(e.start, e.end, date)
                for e in case.events
            )
            for name in m.crossing_names
        ]
        if news is not None:
            heard = date - dt.timedelta(days=int(news.delay_days.value))
            self.known_shut[:] = [shut_on(case, name, heard) for name in m.crossing_names]
            p_home, p_divert = news.home_per_day.value, news.divert_per_day.value
        else:
            p_home = p_divert = 0.0
        a, p = m.arrays, m.paths
        news_day(
            day, m.keys[K.Draw.NEWS_CHOICE.stream], m.live, a.state, a.crossing, a.path, a.pos,
            a.loc, a.t_state, a.klass, a.home, self.blocked, self.known_shut, p_home, p_divert,
            self.order, m.choice_row, m.path_of, self.city_path, p.offsets, p.links, p.cum_km,
            m.graph.dst, self.stoppable, self.hold, self.pending, self.counts[day],
        )  # fmt: skip

    def record(self, day: int) -> None:
        """The evening count of people (and children) waiting in each city (record phase)."""
        m = self.model
        a = m.arrays
        waiting = m.live[a.state[m.live] == WAITING_CITY]
        self.waiting[day] = np.bincount(a.loc[waiting], minlength=len(m.places))
        children = waiting[a.child[waiting]]
        self.children_waiting[day] = np.bincount(a.loc[children], minlength=len(m.places))
