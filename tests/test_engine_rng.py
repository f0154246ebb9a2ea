"""Unit tests of the engine's random streams (engine/rng.py, engine/rng_kernels.py).

The counter-based draw ``uniform(day_key(key, day), agent, k)`` is what every kernel uses; these
tests check that it is the documented SplitMix64 construction bit for bit (so no silent float
promotion of uint64 arithmetic), that it is a pure function of its arguments, and that its
output looks uniform and independent across agents, draws, days and phases.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from borderflow.engine.jit import njit
from borderflow.engine.rng import Streams
from borderflow.engine.rng_kernels import _mix, choice, day_key, uniform

N = 100_000
M64 = (1 << 64) - 1
uint64s = st.integers(min_value=0, max_value=M64)


def ref_mix(z: int) -> int:
    """SplitMix64's finaliser in plain Python integers (the reference for ``_mix``)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def ref_day_key(key: int, day: int) -> int:
    return ref_mix(ref_mix(key ^ ((day * 0x9E3779B97F4A7C15) & M64)))


def ref_uniform(dkey: int, agent: int, k: int) -> float:
    z = ref_mix((dkey + agent * 0xD1B54A32D192ED03 + k * 0x8CB92BA72F3D8DD7) & M64)
    return (z >> 11) / 2.0**53


@njit
def _draws(dkeys: np.ndarray, agents: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """``uniform`` inlined into a kernel, as the rulesets use it, over parallel arrays."""
    out = np.empty(len(agents))
    for i in range(len(agents)):
        out[i] = uniform(dkeys[i], agents[i], ks[i])
    return out


@njit
def _day_keys(key: np.uint64, days: np.ndarray) -> np.ndarray:
    out = np.empty(len(days), dtype=np.uint64)
    for i in range(len(days)):
        out[i] = day_key(key, days[i])
    return out


def draws(dkey: int | np.ndarray, agents: np.ndarray, ks: np.ndarray | int) -> np.ndarray:
    agents = np.asarray(agents, dtype=np.int64)
    dkeys = np.broadcast_to(np.asarray(dkey, dtype=np.uint64), agents.shape).copy()
    ks = np.broadcast_to(np.asarray(ks, dtype=np.int64), agents.shape).copy()
    return _draws(dkeys, agents, ks)


KEY = Streams(20250301).key("move")
DKEY = np.uint64(day_key(KEY, 17))  # numba hands a uint64 back as a Python int


def test_mix_is_splitmix64():
    # SplitMix64 seeded with 0 first outputs mix(golden gamma) = 0xE220A8397B1DCDAF.
    assert int(_mix(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF


@settings(deadline=None)  # the first call compiles the kernels
@given(key=uint64s, day=st.integers(0, 100_000), agent=st.integers(0, 2**31 - 1))
def test_draw_matches_the_documented_construction(key, day, agent):
    dk = np.uint64(day_key(np.uint64(key), day))
    assert int(dk) == ref_day_key(key, day)
    for k in (0, 1, 7):
        u = uniform(dk, agent, k)
        assert u == ref_uniform(ref_day_key(key, day), agent, k)
        assert 0.0 <= u < 1.0


def test_inlined_kernel_draws_equal_python_calls():
    agents = np.arange(50)
    ks = np.arange(50) % 3
    inside = draws(DKEY, agents, ks)
    outside = [uniform(DKEY, int(a), int(k)) for a, k in zip(agents, ks, strict=True)]
    assert inside.tolist() == outside


def test_draw_is_pure_and_independent_of_other_agents():
    agents = np.arange(1000)
    first = draws(DKEY, agents, 2)
    order = np.random.default_rng(0).permutation(1000)
    shuffled = draws(DKEY, agents[order], 2)
    assert np.array_equal(shuffled, first[order])  # processing order does not matter
    lone = draws(DKEY, np.array([417]), 2)  # agent 417 alone, no one else drawing
    assert lone[0] == first[417]
    assert np.array_equal(draws(DKEY, agents, 2), first)  # same args, same values


def test_draws_stay_below_one_for_extreme_keys():
    for key in (0, 1, M64, 1 << 63):
        u = draws(np.uint64(key), np.arange(10_000), 0)
        assert u.min() >= 0.0
        assert u.max() < 1.0


@pytest.mark.parametrize(
    "axis",
    ["agent", "k", "day"],
)
def test_draws_are_uniform(axis):
    idx = np.arange(N)
    if axis == "agent":
        u = draws(DKEY, idx, 0)
    elif axis == "k":
        u = draws(DKEY, np.full(N, 12345), idx)
    else:
        u = draws(_day_keys(KEY, idx), np.full(N, 12345), 0)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    counts = np.bincount((u * 100).astype(np.int64), minlength=100)
    assert stats.chisquare(counts).pvalue > 1e-3


def _pair(axis: str) -> tuple[np.ndarray, np.ndarray]:
    agents = np.arange(N)
    if axis == "k":
        return draws(DKEY, agents, 0), draws(DKEY, agents, 1)
    if axis == "day":
        return draws(day_key(KEY, 0), agents, 0), draws(day_key(KEY, 1), agents, 0)
    if axis == "agent":
        u = draws(DKEY, np.arange(N + 1), 0)
        return u[:-1], u[1:]
    other = Streams(20250301).key("spawn")
    return draws(DKEY, agents, 0), draws(day_key(other, 17), agents, 0)


@pytest.mark.parametrize("axis", ["k", "day", "agent", "phase"])
def test_neighbouring_draws_are_uncorrelated(axis):
    x, y = _pair(axis)
    assert not np.array_equal(x, y)
    assert stats.pearsonr(x, y).pvalue > 1e-3
    # joint independence, not only zero correlation: pairs fill a 20 x 20 grid evenly
    grid = np.bincount((x * 20).astype(np.int64) * 20 + (y * 20).astype(np.int64), minlength=400)
    assert stats.chisquare(grid).pvalue > 1e-3


def test_day_keys_differ_day_to_day():
    keys = _day_keys(KEY, np.arange(N))
    assert len(np.unique(keys)) == N


def test_streams_reproducible_per_seed():
    a, b = Streams(7), Streams(7)
    assert a.key("move") == b.key("move")
    assert isinstance(a.key("move"), np.uint64)
    assert np.array_equal(a.generator("spawn", 3).random(5), b.generator("spawn", 3).random(5))
    # a generator is fresh each call: asking twice gives the same numbers again
    assert np.array_equal(a.generator("spawn", 3).random(5), a.generator("spawn", 3).random(5))


def test_streams_differ_by_seed_phase_and_day():
    s = Streams(7)
    keys = {int(s.key(p)) for p in ("move", "spawn", "cross", "return")}
    keys.add(int(Streams(8).key("move")))
    assert len(keys) == 5
    first = [
        s.generator("spawn", 3).random(),
        s.generator("spawn", 4).random(),
        s.generator("move", 3).random(),
        Streams(8).generator("spawn", 3).random(),
    ]
    assert len(set(first)) == 4


def test_negative_seed_refused():
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1)
    assert Streams(0).seed == 0


@pytest.mark.parametrize(
    "p",
    [[0.3, 0.2, 0.2, 0.1, 0.1, 0.1], [1.0], [0.0, 0.5, 0.0, 0.5], [1 / 15] * 15, [0.7, 0.3, 0.0]],
)
def test_choice_is_numpys_choice_bit_for_bit(p):
    mine, numpys = Streams(3).generator("population", 0), Streams(3).generator("population", 0)
    got = choice(mine, np.array(p), 50_000)
    want = numpys.choice(len(p), size=50_000, p=np.array(p))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert mine.random() == numpys.random()  # the generators are left in the same state
