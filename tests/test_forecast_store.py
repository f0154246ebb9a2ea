"""Stored particles are small and exact: thresholds drawn again, states as differences."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from borderflow.errors import ScenarioError
from borderflow.forecast import store
from borderflow.forecast.filter import advance, initial
from borderflow.rules.border_depart import Departures
from borderflow.scenario.border_io import read_border_case
from test_forecast import START, synthetic_case


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64)


def _departures() -> Departures:
    """A population with people held, joining later, a retune, and days decided."""
    rng = np.random.default_rng(3)
    klass = rng.integers(0, 8, 60_000).astype(np.int16)
    d = Departures(np.uint64(11), klass, np.full(8, 0.004))
    d.hold(np.arange(50_000, 60_000))
    for _ in range(5):
        d.today(1.5)
    d.join(50_000, 4_000)
    d.today(2.0)
    d.retune(np.uint64(12), np.full(8, 0.02))
    d.today(1.0)
    d.join(54_000, 3_000)  # after the retune: an epoch of its own
    d.today(3.0)
    return d


def test_departure_thresholds_drawn_again_are_the_same_bits():
    assert "e" not in _departures().__getstate__()
    for how in (lambda d: pickle.loads(pickle.dumps(d)), copy.deepcopy):
        d = _departures()
        other = how(d)
        assert np.array_equal(_bits(other.e), _bits(d.e))
        assert np.array_equal(other.sorted_idx, d.sorted_idx)
        assert np.array_equal(other.ptr, d.ptr) and np.array_equal(other.cum, d.cum)
        assert np.isinf(other.e[57_000:]).all()  # still held
        for x in (d, other):
            x.join(57_000, 3_000)
        for factor in (1.0, 4.0, 0.5):
            assert np.array_equal(other.today(factor), d.today(factor))
        assert np.array_equal(_bits(other.e), _bits(d.e))


@pytest.mark.slow
def test_stored_particles_are_small_and_the_same(tmp_path):
    case_dir = synthetic_case(tmp_path / "case")
    case = read_border_case(case_dir)
    from borderflow.ensemble.params import read_uncertain

    p = initial(case, read_uncertain(case_dir / "uncertain.toml", case), particles=12, seed=3)
    advance(p, 10)
    path = tmp_path / store.PARTICLES
    store.save_particles(p, path)
    whole = sum(len(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL)) for m in p.models)
    assert path.stat().st_size < 0.2 * whole
    q = store.load_particles(path)
    assert np.array_equal(q.values, p.values) and q.streams == p.streams
    for a, b in zip(p.models, q.models, strict=True):
        assert np.array_equal(_bits(a.departures.e), _bits(b.departures.e))
        for name in ("state", "loc", "path", "pos", "klass"):
            assert np.array_equal(getattr(a.arrays, name), getattr(b.arrays, name))
        assert np.shares_memory(b.arrays.state, b.agents._data["state"])  # views, as built
    advance(p, 20)
    advance(q, 20)
    for a, b in zip(p.models, q.models, strict=True):
        assert np.array_equal(a.at_crossing, b.at_crossing)
        assert np.array_equal(a.arrays.state, b.arrays.state)
    assert START  # the synthetic case's start (imported with it)


def test_particles_of_an_earlier_version_are_a_clear_error(tmp_path):
    old = tmp_path / store.PARTICLES
    old.write_bytes((12).to_bytes(8, "little") + b"\x28\xb5\x2f\xfd not particles")
    with pytest.raises(ScenarioError, match="earlier version of borderflow, or damaged"):
        store.load_particles(old)
