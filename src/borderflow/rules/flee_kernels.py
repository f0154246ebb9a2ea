"""Numba kernel of Flee's daily movement (decisions, route choice, travel with multi-hop days).

Agents are processed one by one in creation order, as in Flee, because an agent's choice sees
the occupancy left by those before it (the capacity ramp). Each agent's random numbers come
from :func:`borderflow.engine.rng.uniform` indexed by (day, agent, draw), so the outcome does
not depend on any global generator. Compilation is cached on disk (``cache=True``).

The day is one function on purpose: in numba, every call that receives arrays (even an
inlined one) pays an atomic reference-count increment and decrement per array, which would
cost more than the move itself. Only scalar helpers are factored out.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from borderflow.engine.rng import day_key, uniform

_DECIDE = 0
_TRAVEL = 1
# Draw indices within an agent's day: pass A uses 0 (leave?) and 1 (which route?); pass B
# continues from 2.
_PASS_B_FIRST_DRAW = 2


@nb.njit(cache=True, error_model="numpy", inline="always")
def capacity_multiplier(n: float, cap: float, buffer: float) -> float:
    """1 below ``buffer*cap``, 0 at ``cap`` and above, linear between; 1 when unlimited."""
    if cap < 1.0 or n <= buffer * cap:
        return 1.0
    if n >= cap:
        return 0.0
    return 1.0 - (n - buffer * cap) / (cap * (1.0 - buffer))


@nb.njit(cache=True, error_model="numpy")
def open_paths(by_origin, link_offsets, links, link_open):
    """Which candidate paths are open today, and which places have none open."""
    n_paths = len(link_offsets) - 1
    ok = np.ones(n_paths, dtype=np.bool_)
    for p in range(n_paths):
        for j in range(link_offsets[p], link_offsets[p + 1]):
            if not link_open[links[j]]:
                ok[p] = False
                break
    n = len(by_origin) - 1
    stuck = np.ones(n, dtype=np.bool_)
    for o in range(n):
        for p in range(by_origin[o], by_origin[o + 1]):
            if ok[p]:
                stuck[o] = False
                break
    return ok, stuck


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

    In pass A every agent at a place rolls its move chance and may enter a link; in pass B
    every traveller advances and, on arriving with less than a day's distance covered, decides
    again at the new place. ``count`` (agents at each place) is kept current throughout.
    """
    dkey = day_key(key, day)
    path_ok, stuck = open_paths(by_origin, link_offsets, links, link_open)
    for pass_b in (False, True):
        for i in range(n_agents):
            if pass_b:
                if link[i] < 0:
                    continue
                state = _TRAVEL
                draw = _PASS_B_FIRST_DRAW
            else:
                if link[i] >= 0:
                    continue
                state = _DECIDE
                draw = 0
            moved = 0.0
            sp = speed
            while True:
                if state == _DECIDE:
                    here = loc[i]
                    mc = 1.0 if route[i] >= 0 else movechance[here]
                    u = uniform(dkey, i, draw)
                    draw += 1
                    if u >= mc or (route[i] < 0 and stuck[here]):
                        break
                    if route[i] < 0:
                        # Choose among today's open candidate paths, weighted as Flee does.
                        first, last = by_origin[here], by_origin[here + 1]
                        total = 0.0
                        top = 0.0
                        n_valid = 0
                        for p in range(first, last):
                            if not path_ok[p]:
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
                    full = capacity_multiplier(count[final], capacity[final], buffer) < 0.5
                    if is_camp[final] and full:
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


@nb.njit(cache=True)
def count_at_places(n_agents, loc, link, n_places):
    """Agents at each place (travellers excluded)."""
    out = np.zeros(n_places, dtype=np.int64)
    for i in range(n_agents):
        if link[i] < 0:
            out[loc[i]] += 1
    return out
