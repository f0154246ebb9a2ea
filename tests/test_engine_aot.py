"""The Flee kernel compiled ahead of time (engine/aot.py) against numba's JIT build of it.

The run path uses the ahead-of-time extension, so that it need not import numba; it must give
the very numbers the JIT kernel gives, on every code path the settings can switch on, and
fall back to the JIT, with one warning, where the extension cannot be built.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from borderflow.engine import aot
from borderflow.rules import flee_compiled, flee_kernels
from borderflow.rules.flee import FleeModel
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.flee_settings import load_flee_settings
from borderflow.scenario.locate import builtin_root

# awareness 3 with pruning and a weight power takes the general route choice; walking and
# a pop-scaled move chance take the travel and redraw branches
WIDE_SETTINGS = """move_rules:
  awareness_level: 3
  weight_power: 1.5
  pruning_threshold: 4.0
  start_on_foot: true
  max_walk_speed: 35.0
  movechance_pop_scale_factor: 0.1
"""


def _history(path: Path, days: int, settings: Path | None, compat: str | None) -> np.ndarray:
    s = load_flee_settings(settings, compat)
    scenario = read_flee_scenario(
        path, days=days, hasten=s.optimisations.hasten, compatibility=s.compatibility
    )
    m = FleeModel(scenario, s, seed=3).run()
    return np.concatenate([m.history, m.travelling[:, None], m.n_agents[:, None]], axis=1)


@pytest.mark.parametrize(
    ("name", "days", "wide", "compat"),
    [("mali", 300, False, None), ("burundi", 120, False, "3.1"), ("mali", 80, True, "head")],
)
def test_ahead_of_time_kernel_gives_the_jit_kernels_numbers(
    tmp_path, monkeypatch, name, days, wide, compat
):
    settings = None
    if wide:
        settings = tmp_path / "simsetting.yml"
        settings.write_text(WIDE_SETTINGS)
    path = builtin_root() / "flee" / name
    kernel = flee_compiled.evolve_day()
    assert not hasattr(kernel, "py_func"), "the run path should get the compiled extension"
    ahead = _history(path, days, settings, compat)
    monkeypatch.setattr(flee_compiled, "evolve_day", lambda: flee_kernels.evolve_day)
    jit = _history(path, days, settings, compat)
    assert ahead.sum() > 0
    np.testing.assert_array_equal(ahead, jit)


def test_a_kernel_that_cannot_be_built_runs_through_the_jit(tmp_path, monkeypatch):
    """One warning naming the marker file; later calls neither retry nor warn."""
    monkeypatch.setattr(aot, "cache_dir", lambda: tmp_path)
    calls = []

    def no_compiler(*args: object) -> None:
        calls.append(args)
        raise OSError("no C compiler")

    monkeypatch.setattr(aot, "_build", no_compiler)
    sig = flee_compiled.EVOLVE_DAY_SIGNATURE
    with pytest.warns(RuntimeWarning, match="could not be compiled ahead of time"):
        kernel = aot.compiled("borderflow.rules.flee_kernels", "evolve_day", sig)
    assert kernel is flee_kernels.evolve_day
    marker = aot.extension_path("borderflow.rules.flee_kernels", "evolve_day")
    assert "no C compiler" in marker.with_suffix(".failed").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert aot.compiled("borderflow.rules.flee_kernels", "evolve_day", sig) is kernel
    assert len(calls) == 1


def test_an_extension_that_does_not_load_runs_through_the_jit(tmp_path, monkeypatch):
    """A damaged file in the cache is not fatal: the JIT runs the kernel, after one warning."""
    monkeypatch.setattr(aot, "cache_dir", lambda: tmp_path)
    path = aot.extension_path("borderflow.rules.flee_kernels", "evolve_day")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    sig = flee_compiled.EVOLVE_DAY_SIGNATURE
    with pytest.warns(RuntimeWarning, match="could not be compiled ahead of time"):
        kernel = aot.compiled("borderflow.rules.flee_kernels", "evolve_day", sig)
    assert kernel is flee_kernels.evolve_day
    assert path.with_suffix(".failed").exists()
