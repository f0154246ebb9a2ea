"""Numba kernels of Flee's daily movement (decisions, route choice, travel with multi-hop days).

Agents are processed one by one in creation order, as in Flee, because an agent's choice sees
the occupancy left by those before it (the capacity ramp). Each agent's random numbers come
from :func:`borderflow.engine.rng.uniform` indexed by (day, agent, draw), so the outcome does
not depend on any global generator. Compilation is cached on disk (``cache=True``). The
helpers are inlined into the day kernel: a numba call with many array arguments pays reference
counting on each of them, which would dominate the cost of a move.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from borderflow.engine.rng import day_key, uniform

# Draw indices within an agent's day: pass A uses 0 (leave?) and 1 (which route?); pass B
# continues from 2. The leave-or-stay test is inlined in both passes: most agents stay, and
# their cost must be one draw, not a call.
_PASS_B_FIRST_DRAW = 2


@nb.njit(cache=True, error_model="numpy", inline="always")
def capacity_multiplier(n: float, cap: float, buffer: float) -> float:
    """1 below ``buffer*cap``, 0 at ``cap`` and above, linear between; 1 when unlimited."""
    if cap < 1.0 or n <= buffer * cap:
        return 1.0
    if n >= cap:
        return 0.0
    return 1.0 - (n - buffer * cap) / (cap * (1.0 - buffer))


@nb.njit(cache=True, error_model="numpy", inline="always")
def choose_route(
    origin, u, count, score, capacity, link_open,
    by_origin, link_offsets, links, end, distance, factor,
    buffer, softening, weight_softening, distance_power, weight_power, pruning, scratch,
):  # fmt: skip
    """Pick one candidate path from ``origin`` with Flee's weights; -1 if none is open."""
    first, last = by_origin[origin], by_origin[origin + 1]
    n_valid = 0
    total = 0.0
    top = 0.0
    for p in range(first, last):
        ok = True
        for j in range(link_offsets[p], link_offsets[p + 1]):
            if not link_open[links[j]]:
                ok = False
                break
        if not ok:
            scratch[p - first] = -1.0
            continue
        e = end[p]
        c = capacity_multiplier(count[e], capacity[e], buffer)
        w = weight_softening + score[e] * factor[p]
        if distance_power == 1.0:
            w = w / (softening + distance[p]) * c
        else:
            w = w / (softening + distance[p]) ** distance_power * c
        if weight_power != 1.0:
            w = w**weight_power
        scratch[p - first] = w
        n_valid += 1
        total += w
        if w > top:
            top = w
    if n_valid == 0:
        return -1
    if pruning > 1.001:
        total = 0.0
        for k in range(last - first):
            if scratch[k] >= 0.0 and scratch[k] < top / pruning:
                scratch[k] = 0.0
            if scratch[k] > 0.0:
                total += scratch[k]
    if total <= 0.0:
        pick = int(u * n_valid)
        for k in range(last - first):
            if scratch[k] >= 0.0:
                if pick == 0:
                    return first + k
                pick -= 1
        return -1
    target = u * total
    acc = 0.0
    chosen = -1
    for k in range(last - first):
        w = scratch[k]
        if w > 0.0:
            acc += w
            chosen = first + k
            if target < acc:
                return chosen
    return chosen


@nb.njit(cache=True, error_model="numpy")
def _stuck_places(by_origin, link_offsets, links, link_open):
    """True for each place none of whose candidate routes is open today."""
    n = len(by_origin) - 1
    stuck = np.ones(n, dtype=np.bool_)
    for o in range(n):
        for p in range(by_origin[o], by_origin[o + 1]):
            ok = True
            for j in range(link_offsets[p], link_offsets[p + 1]):
                if not link_open[links[j]]:
                    ok = False
                    break
            if ok:
                stuck[o] = False
                break
    return stuck


@nb.njit(cache=True, error_model="numpy")
def evolve_day(
    day, key, n_agents,
    loc, link, progress, route, route_pos, hops,
    src, dst, length, link_speed, link_walk, link_open,
    count, movechance, score, capacity, is_camp,
    by_origin, link_offsets, links, end, distance, factor,
    speed, walk_speed, start_on_foot, buffer, softening, weight_softening,
    distance_power, weight_power, pruning, scratch,
):  # fmt: skip
    """One day of Flee's ``Ecosystem.evolve``: pass A (decide, enter a link), pass B (travel).

    ``count`` (agents at each place, not on links) is kept current as agents leave and arrive.
    """
    dkey = day_key(key, day)
    # A place whose candidate routes are all closed keeps everyone who rolls to leave it;
    # knowing that up front spares a route search per agent per day (Flee pays it).
    stuck = _stuck_places(by_origin, link_offsets, links, link_open)
    # Pass A: every agent at a place rolls its move chance and may enter a link.
    for i in range(n_agents):
        if link[i] >= 0:
            continue
        mc = 1.0 if route[i] >= 0 else movechance[loc[i]]
        if uniform(dkey, i, 0) >= mc or (route[i] < 0 and stuck[loc[i]]):
            continue
        _plan_and_step(
            i, 1, dkey, loc, link, progress, route, route_pos, link_open, count,
            movechance, score, capacity, is_camp, by_origin, link_offsets, links, end,
            distance, factor, buffer, softening, weight_softening, distance_power,
            weight_power, pruning, scratch,
        )  # fmt: skip
    # Pass B: every traveller advances; on arrival with budget left it decides again.
    for i in range(n_agents):
        if link[i] < 0:
            continue
        draw = _PASS_B_FIRST_DRAW
        moved = 0.0
        while True:
            lk = link[i]
            sp = link_speed[lk] if link_speed[lk] > 0.0 else speed
            if start_on_foot and hops[i] == 0:
                sp = walk_speed
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
            mc = 1.0 if route[i] >= 0 else movechance[loc[i]]
            u = uniform(dkey, i, draw)
            draw += 1
            if u >= mc or (route[i] < 0 and stuck[loc[i]]):
                break
            entered, draw = _plan_and_step(
                i, draw, dkey, loc, link, progress, route, route_pos, link_open, count,
                movechance, score, capacity, is_camp, by_origin, link_offsets, links, end,
                distance, factor, buffer, softening, weight_softening, distance_power,
                weight_power, pruning, scratch,
            )  # fmt: skip
            if not entered:
                break


@nb.njit(cache=True, error_model="numpy", inline="always")
def _plan_and_step(
    i, draw, dkey, loc, link, progress, route, route_pos, link_open, count,
    movechance, score, capacity, is_camp, by_origin, link_offsets, links, end,
    distance, factor, buffer, softening, weight_softening, distance_power,
    weight_power, pruning, scratch,
):  # fmt: skip
    """For an agent that decided to move: choose a route if it has none, take its next step."""
    here = loc[i]
    if route[i] < 0:
        u2 = uniform(dkey, i, draw)
        draw += 1
        p = choose_route(
            here, u2, count, score, capacity, link_open, by_origin, link_offsets, links, end,
            distance, factor, buffer, softening, weight_softening, distance_power,
            weight_power, pruning, scratch,
        )  # fmt: skip
        if p < 0:
            return False, draw
        route[i] = p
        route_pos[i] = 0
    p = route[i]
    j = link_offsets[p] + route_pos[i]
    lk = links[j]
    if not link_open[lk]:
        route[i] = -1
        return False, draw
    final = end[p]
    if is_camp[final] and capacity_multiplier(count[final], capacity[final], buffer) < 0.5:
        route[i] = -1
        return False, draw
    count[here] -= 1
    link[i] = lk
    progress[i] = 0.0
    if j + 1 >= link_offsets[p + 1]:
        route[i] = -1
    else:
        route_pos[i] += 1
    return True, draw


@nb.njit(cache=True, error_model="numpy")
def count_at_places(n_agents, loc, link, n_places):
    """Agents at each place (travellers excluded)."""
    out = np.zeros(n_places, dtype=np.int64)
    for i in range(n_agents):
        if link[i] < 0:
            out[loc[i]] += 1
    return out
