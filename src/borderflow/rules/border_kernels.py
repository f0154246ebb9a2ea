"""Numba kernels of the border-crisis ruleset: departure decisions and travel along paths.

They loop over the people a day concerns (today's deciders, the people who have left home and
are not yet in a final state), never over the whole population. Random numbers are
counter-based (:func:`borderflow.engine.rng_kernels.uniform`), so an agent's draws do not depend on
other agents, and two variants of a scenario share them (common random numbers).
"""

from __future__ import annotations

import math
from enum import Enum, IntEnum

import numpy as np

from borderflow.engine.jit import njit
from borderflow.engine.rng_kernels import day_key, uniform
from borderflow.rules.border_indicators import CrossingCount


class State(IntEnum):
    """The states a person can be in (exactly one at a time), as stored in ``agents.state``."""

    HOME = 0  # at home, not (yet) leaving
    PREPARING = 1  # decided to leave, gathering money and tickets
    TRAVELLING = 2  # on the road to a crossing's exit post
    QUEUED = 3  # at the exit post, waiting to be processed
    STRANDED = 4  # refused entry: between the two posts
    ONWARD = 5  # crossed, travelling on to the destination
    ARRIVED = 6  # reached the destination beyond the border
    RETURNING = 7  # going back to the last city
    RETURNED = 8  # back in the last city
    FLOWN = 9  # left on a return flight
    SHELTERED = 10  # moved to a shelter
    WAITING_CITY = 11  # stopped in a city on the way and waiting there (blockade, news, crowd)

    @property
    def label(self) -> str:
        """The name used in outputs (``state_<label>`` series)."""
        return self.name.lower()


N_STATES = len(State)
# The states as plain integers, for the kernels (numba reads module globals as constants).
(HOME, PREPARING, TRAVELLING, QUEUED, STRANDED, ONWARD, ARRIVED, RETURNING, RETURNED, FLOWN,
 SHELTERED, WAITING_CITY) = (int(s) for s in State)  # fmt: skip


class NightChoice(IntEnum):
    """What a stranded person does tonight, in the order the probabilities are stacked."""

    READMIT = 0  # taken back by the exit country (when it readmits)
    RETURN = 1  # walks back to the last city
    DIVERT = 2  # leaves for the nearest other crossing (when readmitted there)
    IRREGULAR = 3  # tries to cross irregularly
    WAIT = 4  # stays between the posts


class Draw(Enum):
    """Every random decision of the ruleset: the phase stream it draws from, and its slot.

    A draw is ``uniform(day_key(stream key, day), person, slot)``. Slots of one stream are
    independent streams, and a decision keeps its slot whatever other decisions are added, so
    common random numbers between variants hold decision by decision.
    """

    # A person's threshold for leaving (see rules/border_depart.py): drawn once, on THRESHOLD_DAY
    LEAVE_THRESHOLD = ("depart", 3)
    PREPARATION = ("depart", 1)  # how many days of preparation
    CROSSING_CHOICE = ("depart", 2)  # which crossing
    ARRIVAL_HOUR = ("hour", 0)  # the hour of arrival at the exit post
    NIGHT_CHOICE = ("night", 0)  # readmitted, walk back, divert, try irregularly or wait
    CAUGHT = ("night", 1)  # an irregular attempt is detected
    WAITING_IRREGULAR = ("night", 2)  # a person queued overnight leaves by an irregular way
    WAITING_CAUGHT = ("night", 3)  # that attempt is detected (they keep their place)
    FLIGHT_SEAT = ("night", 9)  # who gets a seat on a return flight
    REMOVAL = ("night", 20)  # who gets a seat on a removal bus or flight
    SHELTER_EXIT = ("night", 21)  # a sheltered person leaves the shelter tonight (first row)
    NEWS_CHOICE = ("news", 0)  # told their crossing is shut: go home, divert or wait
    REDIRECT = ("news", 1)  # a redirect event moves the person's choice to another crossing

    @property
    def stream(self) -> str:
        return self.value[0]

    @property
    def slot(self) -> int:
        return self.value[1]


STREAMS = tuple(dict.fromkeys(d.stream for d in Draw))

# The n-th further shelter_exit row from one shelter (n >= 1) draws slot SHELTER_EXIT_MORE + n
# of the night stream, so that each row takes its own share of the people still there; with
# one draw for all rows a second row took only people the first row's value had not already
# covered (a 0.01 row after a 0.03 row took nobody).
SHELTER_EXIT_MORE = 1000
# Slots the kernels use, as plain integers (numba reads module globals as constants).
LEAVE_THRESHOLD, PREPARATION, CROSSING_CHOICE = (
    Draw.LEAVE_THRESHOLD.slot, Draw.PREPARATION.slot, Draw.CROSSING_CHOICE.slot
)  # fmt: skip
NIGHT_CHOICE, CAUGHT = Draw.NIGHT_CHOICE.slot, Draw.CAUGHT.slot
WAITING_IRREGULAR, WAITING_CAUGHT = Draw.WAITING_IRREGULAR.slot, Draw.WAITING_CAUGHT.slot
assert Draw.NIGHT_CHOICE.stream == Draw.CAUGHT.stream  # stranded_night takes one key
assert Draw.WAITING_IRREGULAR.stream == Draw.WAITING_CAUGHT.stream  # so does waiting_night
#: Entry policies (policies.csv) as the codes :func:`admit` takes.
ENTRY = {"open": 0, "documented_only": 1, "quota": 2, "corridor": 3, "closed": 4, "selective": 5}
OPEN, DOCUMENTED_ONLY, QUOTA, CORRIDOR, SELECTIVE = (
    ENTRY["open"], ENTRY["documented_only"], ENTRY["quota"], ENTRY["corridor"],
    ENTRY["selective"],
)  # fmt: skip
READMIT, RETURN, DIVERT, IRREGULAR = (
    int(NightChoice.READMIT), int(NightChoice.RETURN), int(NightChoice.DIVERT),
    int(NightChoice.IRREGULAR),
)  # fmt: skip
(N_READMITTED, N_RETURNED, N_DIVERTED, N_IRREGULAR_CROSSING, N_IRREGULAR_DETECTED,
 N_STRANDED, N_WAITING, N_CHILDREN_STRANDED) = (
    int(CrossingCount.READMITTED), int(CrossingCount.RETURNED), int(CrossingCount.DIVERTED),
    int(CrossingCount.IRREGULAR_CROSSING), int(CrossingCount.IRREGULAR_DETECTED),
    int(CrossingCount.STRANDED), int(CrossingCount.WAITING), int(CrossingCount.CHILDREN_STRANDED),
)  # fmt: skip
#: The day key of the leaving thresholds: one draw per person for the whole run.
THRESHOLD_DAY = 0
#: States nobody leaves again (people in them are dropped from the live set).
FINAL = np.zeros(N_STATES, dtype=np.bool_)
FINAL[[State.ARRIVED, State.RETURNED, State.FLOWN]] = True


@njit(nogil=True)
def passed(sorted_u, sorted_idx, bounds, ptr, g, out):
    """Advance each class's pointer past the thresholds below ``g[class]``; return how many.

    ``sorted_u[bounds[c]:bounds[c+1]]`` are class ``c``'s thresholds in increasing order and
    ``ptr[c]`` the first not yet passed; the people passed today are written to ``out``.
    """
    n = 0
    for c in range(len(ptr)):
        j = ptr[c]
        end = bounds[c + 1]
        while j < end and sorted_u[j] < g[c]:
            out[n] = sorted_idx[j]
            n += 1
            j += 1
        ptr[c] = j
    return n


@njit(nogil=True)
def weights_row(klass, own_row):
    """The row of crossing weights a person picks by.

    Their residence's own (``own_row`` >= 0, from population.csv) or their nationality's.
    """
    return own_row if own_row >= 0 else klass // 4


@njit(nogil=True)
def depart(
    day, key, deciders, live, state, klass, home, crossing, path, pos, t_state,
    prep_mean, cum_weights, choice_row, n_crossings, path_of, departed,
):  # fmt: skip
    """Prepare today's ``deciders``; start the journeys of the ``live`` people who are ready.

    A decided person prepares for a geometric number of days with mean ``prep_mean``, picks a
    crossing with the cumulative weights of its row (:func:`weights_row`), and gets the road
    path from home to it; ``live`` must already hold the deciders, so those with no preparation
    set off today. ``departed[place]`` counts journeys starting today.
    """
    dkey = day_key(key, day)
    q = 1.0 / prep_mean if prep_mean > 1.0 else 1.0
    for i in deciders:
        wait = 0
        if q < 1.0:
            wait = int(math.log(1.0 - uniform(dkey, i, PREPARATION)) / math.log(1.0 - q))
        t_state[i] = day + wait
        state[i] = PREPARING
        u = uniform(dkey, i, CROSSING_CHOICE)
        g = weights_row(klass[i], choice_row[home[i]])
        c = 0
        while c < n_crossings - 1 and u >= cum_weights[g, c]:
            c += 1
        crossing[i] = c
        path[i] = path_of[home[i], c]
        pos[i] = 0.0
    for i in live:
        if state[i] == PREPARING and t_state[i] <= day:
            state[i] = TRAVELLING
            t_state[i] = day
            departed[home[i]] += 1


@njit(nogil=True)
def travel(
    day, live, state, loc, path, pos, t_state, crossing,
    offsets, links, cum_km, link_speed, dst, flow, arrived, blocked, last_stop, hold,
):  # fmt: skip
    """Advance everyone on the road (among ``live``) by one day along their path, link by link.

    A link's speed is km per day (bus or walking); the day's time is spent link after link.
    ``flow[link]`` counts people who finished a link today. Arrivals change state: at an exit
    post travellers queue (counted in ``arrived[crossing]``); onward travellers arrive; people
    returning are back in the city. ``t_state`` records the day of the new state.

    Travellers stop short and wait in a city (``WAITING_CITY``) at their ``hold`` (an index
    into ``links``; -1: none; ``hold`` may be empty) or, when their crossing is ``blocked``
    (may be empty), at their path's ``last_stop``; a stop they have passed is ignored.
    """
    for i in live:
        s = state[i]
        if s != TRAVELLING and s != ONWARD and s != RETURNING:
            continue
        p = path[i]
        lo, hi = offsets[p], offsets[p + 1]
        time_left = 1.0
        x = pos[i]
        j = lo
        while j < hi and cum_km[j] <= x:
            j += 1
        stop = hi
        if s == TRAVELLING:
            h = hold[i] if len(hold) > 0 else -1
            if h < 0 and len(blocked) > 0 and blocked[crossing[i]]:
                h = last_stop[p]
            if h >= j:
                stop = h
        while j < stop and time_left > 0.0:
            lk = links[j]
            need = (cum_km[j] - x) / link_speed[lk]
            if need <= time_left:
                time_left -= need
                x = cum_km[j]
                flow[lk] += 1
                loc[i] = dst[lk]
                j += 1
            else:
                x += link_speed[lk] * time_left
                time_left = 0.0
        pos[i] = x
        if stop < hi and j >= stop:
            state[i] = WAITING_CITY
            t_state[i] = day
        elif j >= hi:
            t_state[i] = day
            if s == TRAVELLING:
                state[i] = QUEUED
                arrived[crossing[i]] += 1
            elif s == ONWARD:
                state[i] = ARRIVED
            else:
                state[i] = RETURNED


@njit(nogil=True)
def admit(
    day, people, entry, quota, quota_left, citizen, klass, strand_refused,
    state, loc, path, pos, t_state, onward_path, entry_post, exit_post,
    allowed, need_papers, limit,
):  # fmt: skip
    """Admit or refuse ``people``, in processing order, by one crossing's entry policy.

    Citizens of the entry country (``citizen[nationality]``) are always admitted. ``open``
    admits everyone; ``documented_only`` people with papers; ``quota`` people with papers and,
    on top, the first others up to ``quota_left``; ``corridor`` everyone, or the first
    ``quota_left`` non-citizens when a ``quota`` is set; ``closed`` nobody else. Admitted people
    cross onward from the entry post; refused ones are stranded between the posts when
    ``strand_refused`` (on arrival) and stay as they are otherwise (stranded earlier). Returns
    how many were admitted and the quota left: less one for each admitted person who has
    neither citizenship nor papers.

    ``selective`` admits the nationalities ``allowed[nationality]`` (with papers when
    ``need_papers``), at most ``quota_left`` non-citizens when ``quota`` is set (0: no cap);
    its quota left drops by one for each admitted non-citizen. At most ``limit`` people are
    admitted (``limit < 0``: no limit); processing stops there, the rest stay as they are.
    """
    free = max(quota_left, 0)
    admitted = 0
    for i in people:
        if admitted == limit:
            break
        nat = klass[i] // 4
        entitled = citizen[nat] or (klass[i] & 2) > 0
        ok = citizen[nat]
        if entry == OPEN:
            ok = True
        elif entry in (DOCUMENTED_ONLY, QUOTA):
            ok = entitled
        elif entry == CORRIDOR and quota <= 0:
            ok = True
        elif entry == SELECTIVE and not ok:
            ok = allowed[nat] and (not need_papers or (klass[i] & 2) > 0)
            if ok and quota > 0:
                ok = free > 0
                free -= 1
            entitled = False  # every admitted non-citizen counts against the cap
        if not ok and free > 0 and entry in (QUOTA, CORRIDOR):
            ok = True
            free -= 1
        if ok:
            admitted += 1
            if not entitled:
                quota_left -= 1
            state[i] = ONWARD
            path[i] = onward_path
            pos[i] = 0.0
            loc[i] = entry_post
            t_state[i] = day
        elif strand_refused:
            state[i] = STRANDED
            loc[i] = exit_post
            t_state[i] = day
    return admitted, quota_left


@njit(nogil=True)
def stranded_night(
    day, key, people, edges, detection, state, loc, crossing, path, pos, t_state,
    return_path, divert_to, divert_path, onward_path, entry_post, row,
):  # fmt: skip
    """What each stranded person among ``people`` (one crossing's) does tonight.

    ``edges`` are the cumulative probabilities of the choices in their order; the choice is the
    number of edges at or below the person's draw. Readmitted people and those walking back
    return to the last city (``return_path``); diverting people travel to ``divert_to``; an
    irregular attempt is caught with probability ``detection`` (the person stays stranded) or
    crosses onward. ``row`` is the crossing's counts of the day (:class:`CrossingCount`).
    """
    dkey = day_key(key, day)
    for i in people:
        if state[i] != STRANDED:
            continue
        u = uniform(dkey, i, NIGHT_CHOICE)
        choice = 0
        for e in edges:
            choice += e <= u
        if choice <= RETURN:
            state[i] = RETURNING
            path[i] = return_path
            row[N_READMITTED if choice == READMIT else N_RETURNED] += 1
        elif choice == DIVERT:
            state[i] = TRAVELLING
            crossing[i] = divert_to
            path[i] = divert_path
            row[N_DIVERTED] += 1
        elif choice == IRREGULAR:
            if uniform(dkey, i, CAUGHT) < detection:
                row[N_IRREGULAR_DETECTED] += 1
            else:
                go_round(i, day, state, loc, path, pos, t_state, onward_path, entry_post, row)
            continue
        else:
            continue
        pos[i] = 0.0
        t_state[i] = day


@njit(nogil=True)
def go_round(i, day, state, loc, path, pos, t_state, onward_path, entry_post, row):
    """Person ``i`` gets past the post by an irregular way: on from the entry post, counted."""
    state[i] = ONWARD
    path[i] = onward_path
    loc[i] = entry_post
    pos[i] = 0.0
    t_state[i] = day
    row[N_IRREGULAR_CROSSING] += 1


@njit(nogil=True)
def waiting_night(
    day, key, people, rate, detection, state, loc, path, pos, t_state, onward_path, entry_post,
    row,
):  # fmt: skip
    """Who of one crossing's ``people`` queued overnight goes round the post tonight.

    Each tries, with chance ``rate``, a way across other than the post (a smuggler's boat, a
    path round it). Caught with probability ``detection``: they stay queued and keep their
    place (their ``t_state``); otherwise they go on from the entry post as an irregular
    crossing.
    """
    dkey = day_key(key, day)
    for i in people:
        if state[i] != QUEUED or uniform(dkey, i, WAITING_IRREGULAR) >= rate:
            continue
        if uniform(dkey, i, WAITING_CAUGHT) < detection:
            row[N_IRREGULAR_DETECTED] += 1
        else:
            go_round(i, day, state, loc, path, pos, t_state, onward_path, entry_post, row)


@njit(nogil=True)
def evening(people, state, child, row):
    """Count one crossing's ``people`` stranded and waiting tonight, and the children among them."""
    stranded = waiting = children = 0
    for i in people:
        if state[i] == STRANDED:
            stranded += 1
        elif state[i] == QUEUED:
            waiting += 1
        else:
            continue
        children += child[i]
    row[N_STRANDED] = stranded
    row[N_WAITING] = waiting
    row[N_CHILDREN_STRANDED] = children


@njit(nogil=True)
def record(live, state, loc, child, final_counts, counts, sheltered, children_sheltered):
    """Count the evening's states of the ``live`` people and those in shelters, per place.

    People in a final state are added to ``final_counts`` and dropped: ``live`` is compacted in
    place and the number kept is returned.
    """
    n = 0
    for i in live:
        s = state[i]
        if FINAL[s]:
            final_counts[s] += 1
            continue
        counts[s] += 1
        if s == SHELTERED:
            sheltered[loc[i]] += 1
            children_sheltered[loc[i]] += child[i]
        live[n] = i
        n += 1
    return n


@njit(nogil=True)
def draws(key, day, idx, k):
    """Counter-based uniforms for the agents ``idx`` (draw index ``k``)."""
    dkey = day_key(key, day)
    out = np.empty(len(idx), dtype=np.float64)
    for j in range(len(idx)):
        out[j] = uniform(dkey, idx[j], k)
    return out
