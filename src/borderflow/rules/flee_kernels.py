"""Numba kernel of Flee's daily movement (decisions, route choice, travel with multi-hop days).

Agents are processed one by one in creation order, as in Flee, because an agent's choice sees
the occupancy left by those before it (the capacity ramp). An agent at rest whose daily
leave-or-stay draw fails draws, at once, the day of its next success from the geometric
distribution (``wake``): the same distribution as a Bernoulli draw every day, by the
memorylessness of the geometric law, and the agent is not touched until then. Agents in camps,
which rarely move, thus cost one integer comparison a day instead of a random draw. Each
agent's random numbers come from :func:`borderflow.engine.rng_kernels.uniform` indexed by
(day, agent, draw), so the outcome does not depend on any global generator. A run calls the
kernel compiled ahead of time (:mod:`borderflow.rules.flee_compiled`), which needs no numba at
run time; the JIT build here, cached on disk, is the fallback and what the tests compare with.

The day is one function on purpose: in numba, every call that receives arrays (even an
inlined one) pays an atomic reference-count increment and decrement per array, which would
cost more than the move itself. Only scalar helpers are factored out. The kernel releases
the GIL (``nogil``), so other threads (loading output libraries, later ensemble members) run
beside it.
"""

from __future__ import annotations

import numpy as np

from borderflow.engine.jit import njit
from borderflow.engine.rng_kernels import day_key, uniform
from borderflow.rules.flee_compiled import WAKE_NEVER, WAKE_UNDRAWN

_DECIDE = 0
_TRAVEL = 1
# Draw indices within an agent's day: pass A uses 0 (leave?) and 1 (which route? or, when it
# stays, the day of its next move); pass B continues from 2.
_PASS_B_FIRST_DRAW = 2
__all__ = ["WAKE_NEVER", "WAKE_UNDRAWN", "capacity_multiplier", "evolve_day", "geometric_wait"]


@njit(inline="always")
def geometric_wait(p: float, u: float) -> int:
    """Days from a failed draw to the next success of a daily Bernoulli(``p``) draw (>= 1).

    Inversion of the geometric law on 1, 2, ...: ``P(wait > k) = (1 - p) ** k``; ``u`` is a
    uniform draw in [0, 1). A wait past the int32 range is :data:`WAKE_NEVER`.
    """
    return wait_given_log(p, np.log1p(-p), u)


@njit(inline="always")
def wait_given_log(p: float, log_stay: float, u: float) -> int:
    """:func:`geometric_wait` with ``log_stay = log1p(-p)`` computed once per place and day."""
    if p <= 0.0:
        return WAKE_NEVER
    w = 1.0 + np.floor(np.log1p(-u) / log_stay)
    return int(w) if w < WAKE_NEVER else WAKE_NEVER


@njit(inline="always")
def capacity_multiplier(n: float, cap: float, buffer: float) -> float:
    """1 below ``buffer*cap``, 0 at ``cap`` and above, linear between; 1 when unlimited."""
    if cap < 1.0 or n <= buffer * cap:
        return 1.0
    if n >= cap:
        return 0.0
    return 1.0 - (n - buffer * cap) / (cap * (1.0 - buffer))


@njit(inline="always")
def day_tables(
    by_origin, link_offsets, links, link_open, end, distance, factor, score, capacity,
    softening, weight_softening, distance_power,
):  # fmt: skip
    """What is fixed for the whole day: open paths, stuck places, weights before capacity.

    A path's weight is ``(ws + S(e)) / (softening + d) ** distance_power`` times the live
    capacity multiplier of its end; only the multiplier changes as agents move. -1 marks a path
    with a closed link. A place is stuck when none of its paths is open. For a place none of
    whose destinations has a capacity (``live`` False), the weights are fixed all day and the
    choice is a scan of their cumulative sums ``cum``.
    """
    n_paths = len(link_offsets) - 1
    base = np.empty(n_paths, dtype=np.float64)
    for p in range(n_paths):
        ok = True
        for j in range(link_offsets[p], link_offsets[p + 1]):
            if not link_open[links[j]]:
                ok = False
                break
        if ok:
            w = weight_softening + score[end[p]] * factor[p]
            base[p] = w / (softening + distance[p]) ** distance_power
        else:
            base[p] = -1.0
    n = len(by_origin) - 1
    stuck = np.ones(n, dtype=np.bool_)
    live = np.zeros(n, dtype=np.bool_)
    cum = np.zeros(n_paths, dtype=np.float64)
    for o in range(n):
        acc = 0.0
        for p in range(by_origin[o], by_origin[o + 1]):
            if base[p] >= 0.0:
                stuck[o] = False
                acc += base[p]
                if capacity[end[p]] >= 1.0:
                    live[o] = True
            cum[p] = acc
        if acc <= 0.0:
            live[o] = True  # all weights zero: the general path handles equal shares
    return base, stuck, live, cum


@njit(nogil=True)
def evolve_day(
    day, key, n_agents,
    loc, link, progress, route, route_pos, hops, wake,
    src, dst, length, link_speed, link_walk, link_open,
    count, movechance, score, capacity, is_camp,
    by_origin, link_offsets, links, end, distance, factor,
    speed, walk_speed, start_on_foot, buffer, softening, weight_softening,
    distance_power, weight_power, pruning, route_moves, scratch,
):  # fmt: skip
    """One day of Flee's ``Ecosystem.evolve``: pass A (decide, enter a link), pass B (travel).

    In pass A every agent at a place rolls its move chance and may enter a link; in pass B
    every traveller advances and, on arriving with less than a day's distance covered, decides
    again at the new place. ``count`` (agents at each place) is kept current throughout.
    ``route_moves``: an agent with a planned route moves for sure (Flee's current rule).
    ``wake``: per agent, the day of its next move when already drawn, :data:`WAKE_UNDRAWN`
    when today's leave-or-stay draw is still to take, :data:`WAKE_NEVER` while travelling; the
    caller resets it to :data:`WAKE_UNDRAWN` at places whose move chance changed.
    """
    dkey = day_key(key, day)
    base, stuck, live, cum = day_tables(
        by_origin, link_offsets, links, link_open, end, distance, factor, score, capacity,
        softening, weight_softening, distance_power,
    )  # fmt: skip
    fixed_shape = weight_power == 1.0 and pruning <= 1.001
    # Pass A's leave-or-stay draws do not depend on what other agents do, so they are taken
    # first: a branch-free scan lists the agents due today (drawn to move today, or undrawn),
    # the undrawn ones draw, and those that stay draw the day of their next move. The
    # sequential pass then visits only the movers, in agent order.
    # A failed draw's wait needs log1p(-chance) of the agent's place: once per place, not
    # once per failure (the same number, so the same waits).
    log_stay = np.log1p(-movechance)
    movers = np.empty(n_agents, dtype=np.int32)
    n_due = 0
    for i in range(n_agents):
        movers[n_due] = i
        n_due += wake[i] <= day
    n_movers = 0
    for v in range(n_due):
        i = movers[v]
        if wake[i] == WAKE_UNDRAWN:
            mc = 1.0 if route_moves and route[i] >= 0 else movechance[loc[i]]
            if uniform(dkey, i, 0) >= mc:  # mc < 1: the agent's place's chance
                w = wait_given_log(mc, log_stay[loc[i]], uniform(dkey, i, 1))
                wake[i] = day + w if w < WAKE_NEVER - day else WAKE_NEVER
                continue
        movers[n_movers] = i  # n_movers <= v: the list is compacted in place
        n_movers += 1
    for pass_b in (False, True):
        if pass_b:  # the travellers, listed the same branch-free way (reusing the buffer)
            n_movers = 0
            for i in range(n_agents):
                movers[n_movers] = i
                n_movers += link[i] >= 0
        for v in range(n_movers):
            i = movers[v]
            if pass_b:
                state = _TRAVEL
                draw = _PASS_B_FIRST_DRAW
            else:
                state = _DECIDE
                draw = 1
            decided = not pass_b
            waiting = False  # set when a failed draw has drawn the day of the next move
            moved = 0.0
            sp = speed
            while True:
                if state == _DECIDE:
                    here = loc[i]
                    mc = 1.0 if route_moves and route[i] >= 0 else movechance[here]
                    if decided:  # pass A settled the leave-or-stay draw up front
                        decided = False
                    elif mc < 1.0:  # a certain move needs no draw
                        u = uniform(dkey, i, draw)
                        draw += 1
                        if u >= mc:  # mc < 1: the place's chance
                            w = wait_given_log(mc, log_stay[here], uniform(dkey, i, draw))
                            wake[i] = day + w if w < WAKE_NEVER - day else WAKE_NEVER
                            waiting = True
                            break
                    if route[i] < 0 and stuck[here]:
                        break
                    if route[i] < 0 and fixed_shape and not live[here]:
                        first, last = by_origin[here], by_origin[here + 1]
                        target = uniform(dkey, i, draw) * cum[last - 1]
                        draw += 1
                        chosen = last - 1
                        for p in range(first, last):
                            if target < cum[p]:
                                chosen = p
                                break
                        route[i] = chosen
                        route_pos[i] = 0
                    elif route[i] < 0:
                        # Choose among today's open candidate paths, weighted as Flee does.
                        first, last = by_origin[here], by_origin[here + 1]
                        total = 0.0
                        top = 0.0
                        n_valid = 0
                        for p in range(first, last):
                            w = base[p]
                            if w < 0.0:
                                scratch[p - first] = -1.0
                                continue
                            e = end[p]
                            if capacity[e] >= 1.0:
                                w *= capacity_multiplier(count[e], capacity[e], buffer)
                            if weight_power != 1.0:
                                w = w**weight_power
                            scratch[p - first] = w
                            total += w
                            n_valid += 1
                            if w > top:
                                top = w
                        if pruning > 1.001:
                            total = 0.0
                            for k in range(last - first):
                                if 0.0 <= scratch[k] < top / pruning:
                                    scratch[k] = 0.0
                                if scratch[k] > 0.0:
                                    total += scratch[k]
                        u = uniform(dkey, i, draw)
                        draw += 1
                        chosen = -1
                        if total > 0.0:
                            target = u * total
                            acc = 0.0
                            for k in range(last - first):
                                if scratch[k] > 0.0:
                                    acc += scratch[k]
                                    chosen = first + k
                                    if target < acc:
                                        break
                        else:  # every weight is zero: equal shares
                            pick = int(u * n_valid)
                            for k in range(last - first):
                                if scratch[k] >= 0.0:
                                    if pick == 0:
                                        chosen = first + k
                                        break
                                    pick -= 1
                        route[i] = chosen
                        route_pos[i] = 0
                    # Take the next step of the route.
                    p = route[i]
                    j = link_offsets[p] + route_pos[i]
                    lk = links[j]
                    if not link_open[lk]:
                        route[i] = -1
                        break
                    final = end[p]
                    if is_camp[final] and (
                        capacity_multiplier(count[final], capacity[final], buffer) < 0.5
                    ):
                        route[i] = -1  # the camp is over 95 % full: drop the plan
                        break
                    count[here] -= 1
                    link[i] = lk
                    progress[i] = 0.0
                    if j + 1 >= link_offsets[p + 1]:
                        route[i] = -1
                    else:
                        route_pos[i] += 1
                    if not pass_b:
                        break
                    state = _TRAVEL
                else:
                    lk = link[i]
                    sp = link_speed[lk] if link_speed[lk] > 0.0 else speed
                    if start_on_foot and hops[i] == 0:
                        sp = walk_speed
                    if link_walk[lk] > 0.0:  # Flee draws even at 0; a counter-based draw need not
                        u = uniform(dkey, i, draw)
                        draw += 1
                        if u < link_walk[lk]:
                            sp = walk_speed
                    progress[i] += sp
                    moved += sp
                    if progress[i] <= length[lk]:
                        break
                    hops[i] += 1
                    moved += length[lk] - progress[i]
                    progress[i] = 0.0
                    link[i] = -1
                    if not link_open[lk]:
                        # The link closed under the traveller: back to its start, plan dropped.
                        loc[i] = src[lk]
                        count[src[lk]] += 1
                        route[i] = -1
                        break
                    loc[i] = dst[lk]
                    count[dst[lk]] += 1
                    if moved >= sp:
                        break
                    state = _DECIDE
            if link[i] >= 0:
                wake[i] = WAKE_NEVER
            elif not waiting:  # came to rest, or could not leave: draws again tomorrow
                wake[i] = WAKE_UNDRAWN
