"""The Flee movement kernel as a run calls it: compiled ahead of time, and its constants.

The kernel itself is :func:`borderflow.rules.flee_kernels.evolve_day`; :func:`evolve_day`
here hands back its ahead-of-time build (:mod:`borderflow.engine.aot`), so that a Flee run
imports neither numba nor the kernel module. The ``wake`` constants live here for the same
reason: the model sets them without importing the kernel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from borderflow.engine import aot

#: ``wake`` of an agent that needs a leave-or-stay draw today (a new agent, one that has just
#: come to rest, or one at a place whose move chance changed).
WAKE_UNDRAWN = -1
#: ``wake`` of a traveller, and of an agent at a place it can never leave (move chance 0).
WAKE_NEVER = 2**31 - 1

_I4, _F4, _I1 = "int32[::1]", "float32[::1]", "int8[::1]"
_F8, _I8, _B = "float64[::1]", "int64[::1]", "boolean[::1]"
#: The argument types :class:`borderflow.rules.flee.FleeModel` passes, in order.
EVOLVE_DAY_SIGNATURE = "void({})".format(", ".join([
    "int64", "uint64", "int64",  # day, key, agents
    _I4, _I4, _F4, _I4, _I1, _I4, _I4,  # loc, link, progress, route, route_pos, hops, wake
    _I4, _I4, _F8, _F8, _F8, _B,  # src, dst, length, link_speed, link_walk, link_open
    _I8, _F8, _F8, _F8, _B,  # count, movechance, score, capacity, is_camp
    _I4, _I4, _I4, _I4, _F8, _F8,  # by_origin, link_offsets, links, end, distance, factor
    "float64", "float64", "boolean", "float64", "float64",  # speed .. softening
    "float64", "float64", "float64", "float64",  # weight_softening .. pruning
    "boolean", _F8,  # route_moves, scratch
]))  # fmt: skip


@functools.cache
def evolve_day() -> Callable[..., Any]:
    """The day's movement kernel, compiled ahead of time (numba's JIT where it cannot be)."""
    return aot.compiled("borderflow.rules.flee_kernels", "evolve_day", EVOLVE_DAY_SIGNATURE)
