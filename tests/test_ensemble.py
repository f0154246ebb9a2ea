"""Ensembles: reproducible members, exact bands, exact resumption after a kill, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from borderflow.ensemble.params import read_uncertain
from borderflow.ensemble.runner import (
    BANDS,
    MEMBERS_DIR,
    QUANTILE_COLUMNS,
    QUANTILES,
    member_draw,
    member_file,
    run_ensemble,
)
from borderflow.errors import ScenarioError
from borderflow.execute import serial_executor
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.locate import resolve_scenario

CASE = resolve_scenario("chile-peru-2025")
PARAMS = CASE / "uncertain.toml"


def small(tmp_path: Path, name: str, members: int = 3, seed: int = 4) -> Path:
    out = tmp_path / name
    run_ensemble(CASE, PARAMS, out, members=members, seed=seed, executor=serial_executor())
    return out


@pytest.mark.slow
def test_members_are_reproducible_and_independent(tmp_path):
    params = read_uncertain(PARAMS, read_border_case(CASE))
    a = member_draw(params, 7, 3)
    assert a == member_draw(params, 7, 3)
    assert a != member_draw(params, 7, 4)
    assert a != member_draw(params, 8, 3)
    one, two = small(tmp_path, "one"), small(tmp_path, "two")
    for i in range(3):
        f = member_file(i)
        assert (one / MEMBERS_DIR / f).read_bytes() == (two / MEMBERS_DIR / f).read_bytes()
    # members differ from one another
    v0 = pq.read_table(one / MEMBERS_DIR / member_file(0)).column("value").to_numpy()
    v1 = pq.read_table(one / MEMBERS_DIR / member_file(1)).column("value").to_numpy()
    assert not np.array_equal(v0, v1)


@pytest.mark.slow
def test_bands_are_numpy_quantiles_of_the_stored_members(tmp_path):
    out = small(tmp_path, "e", members=4)
    values = np.stack(
        [
            pq.read_table(out / MEMBERS_DIR / member_file(i)).column("value").to_numpy()
            for i in range(4)
        ]
    )
    bands = pq.read_table(out / BANDS)
    for q, col in zip(QUANTILES, QUANTILE_COLUMNS, strict=True):
        np.testing.assert_array_equal(bands.column(col).to_numpy(), np.quantile(values, q, axis=0))
    assert bands.num_rows == values.shape[1]
    lines = (out / "draws.csv").read_text().splitlines()
    assert len(lines) == 2 + 4 and lines[1].startswith("#meta+member")


@pytest.mark.slow
def test_pool_gives_the_same_numbers_as_serial(tmp_path):
    from borderflow.execute import pool_executor

    serial = small(tmp_path, "serial", members=3)
    pooled = tmp_path / "pool"
    run_ensemble(CASE, PARAMS, pooled, members=3, seed=4, executor=pool_executor(2))
    for name in [f"{MEMBERS_DIR}/{member_file(i)}" for i in range(3)] + [BANDS, "draws.csv"]:
        assert (serial / name).read_bytes() == (pooled / name).read_bytes(), name


@pytest.mark.slow
def test_resumed_after_kill_equals_uninterrupted(tmp_path):
    members = 8
    cmd = [
        sys.executable, "-m", "borderflow", "ensemble", "chile-peru-2025",
        "--members", str(members), "--seed", "11", "--workers", "1",
    ]  # fmt: skip
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [*cmd, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    folder = killed / MEMBERS_DIR
    while time.time() < deadline:
        if folder.is_dir() and len(list(folder.glob("member-*.parquet"))) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(folder.glob("member-*.parquet")))
    assert 2 <= finished < members, "the kill should land midway"
    assert not (killed / BANDS).exists()
    res = subprocess.run([*cmd, "--out", str(killed)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert f"{finished} of {members} members already done" in res.stderr
    whole = tmp_path / "whole"
    res = subprocess.run([*cmd, "--out", str(whole)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (whole / MEMBERS_DIR).iterdir())
    assert names == sorted(p.name for p in (killed / MEMBERS_DIR).iterdir())
    assert len(names) == members  # no leftovers, nothing counted twice
    for name in [f"{MEMBERS_DIR}/{n}" for n in names] + [BANDS, "draws.csv"]:
        assert (whole / name).read_bytes() == (killed / name).read_bytes(), name


@pytest.mark.parametrize(
    ("text", "column", "phrase"),
    [
        ('["nope.x"]\ndist = "fixed"\nvalue = 1\nwhy = "w"\n', "nope.x", "not a parameter"),
        (
            '["departure.base_hazard"]\ndist = "lognormal"\nmedian = 1e-4\nsigma = -1\nwhy = "w"\n',
            "departure.base_hazard.sigma",
            "greater than 0",
        ),
        (
            '["departure.base_hazard"]\ndist = "uniform"\nlow = 2\nhigh = 1\nwhy = "w"\n',
            "departure.base_hazard",
            "not above low",
        ),
        (
            '["departure.base_hazard"]\ndist = "fixed"\nvalue = 1\n',
            "departure.base_hazard.why",
            "required",
        ),
        ('["departure.base_hazard"]\ndist = "beta"\nwhy = "w"\n', "departure.base_hazard", "dist"),
    ],
)
def test_malformed_parameter_file_names_the_parameter(tmp_path, text, column, phrase):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        read_uncertain(path, read_border_case(CASE))
    assert info.value.column == column
    assert phrase in info.value.describe()


@pytest.mark.slow
def test_a_folder_of_another_ensemble_is_refused(tmp_path):
    out = small(tmp_path, "e", members=2, seed=1)
    with pytest.raises(ScenarioError, match="different ensemble"):
        run_ensemble(CASE, PARAMS, out, members=2, seed=2, executor=serial_executor())


@pytest.mark.slow
def test_local_dask_cluster_gives_the_same_numbers(tmp_path):
    from borderflow.execute import dask_executor

    serial = small(tmp_path, "serial", members=3)
    dask = tmp_path / "dask"
    run_ensemble(CASE, PARAMS, dask, members=3, seed=4, executor=dask_executor(local_workers=2))
    for name in [f"{MEMBERS_DIR}/{member_file(i)}" for i in range(3)] + [BANDS, "draws.csv"]:
        assert (serial / name).read_bytes() == (dask / name).read_bytes(), name


def sobol_case(tmp_path: Path):
    """A synthetic case and its three uncertain parameters."""
    from border_factory import write_case

    root = write_case(
        tmp_path / "case",
        stock=3000,
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.5)],
        groups=[("NAT", 1.0, 0.5, 0.0, "A:1")],
        stranded={"irregular_per_day": 0.3},
    )
    (root / "uncertain.toml").write_text(
        '["departure.base_hazard"]\ndist = "uniform"\nlow = 0.002\nhigh = 0.02\nwhy = "t"\n'
        # readmission never opens in this case, so nobody can divert: no effect at all
        '["stranded.divert_per_day"]\ndist = "uniform"\nlow = 0.0\nhigh = 0.5\nwhy = "t"\n'
        '["stranded.irregular_per_day"]\ndist = "uniform"\nlow = 0.1\nhigh = 0.6\nwhy = "t"\n'
    )
    case = read_border_case(root)
    return case, read_uncertain(root / "uncertain.toml", case)


@pytest.mark.slow
def test_sobol_ranks_what_matters(tmp_path):
    """On a synthetic case, departures drive crossings; an option nobody can take does not."""
    from borderflow.ensemble.sensitivity import sobol
    from borderflow.execute import pool_executor

    case, params = sobol_case(tmp_path)
    res = sobol(case, params, tmp_path / "out", n=16, seed=1, executor=pool_executor(2))
    crossings = res.indices["crossed regularly, all crossings"]
    names = res.names
    assert res.runs == 16 * (3 + 2)
    assert crossings["ST"][names.index("departure.base_hazard")] > 0.5
    assert abs(crossings["ST"][names.index("stranded.divert_per_day")]) < 1e-9
    rows = (tmp_path / "out" / "sobol.csv").read_text().splitlines()
    assert rows[0].startswith("output,parameter,S1") and len(rows) == 2 + 4 * 3
    assert (tmp_path / "out" / "sobol.png").stat().st_size > 0


@pytest.mark.slow
def test_sobol_gives_the_same_indices_on_every_executor(tmp_path):
    from borderflow.ensemble.sensitivity import sobol
    from borderflow.execute import dask_executor, pool_executor

    case, params = sobol_case(tmp_path)
    executors = {"serial": serial_executor(), "pool": pool_executor(2),
                 "dask": dask_executor(local_workers=2)}  # fmt: skip
    runs = {
        name: sobol(case, params, tmp_path / name, n=4, seed=0, executor=executor)
        for name, executor in executors.items()
    }
    first = runs["serial"]
    assert first.runs == 4 * (3 + 2)
    for name in ("pool", "dask"):
        for output, ind in first.indices.items():
            for key, values in ind.items():
                np.testing.assert_array_equal(values, runs[name].indices[output][key])
        csv = (tmp_path / name / "sobol.csv").read_bytes()
        assert csv == (tmp_path / "serial" / "sobol.csv").read_bytes(), name


@pytest.mark.slow
def test_ensemble_comparison_is_paired(tmp_path):
    from borderflow.ensemble.compare import compare_ensembles

    res = compare_ensembles(
        CASE,
        [{"peru_policy": "documented_only"}, {"peru_policy": "corridor"}],
        ["documented_only", "corridor"],
        PARAMS,
        tmp_path / "cmp",
        members=4,
        seed=2,
        executor=serial_executor(),
    )
    key = ("peak stranded", "Chacalluta-Santa Rosa")
    base, corridor = res.values[key]
    assert (corridor == 0).all() and (base > 0).all()  # the corridor empties the line
    mid, _lo, hi = res.interval(key, 1, diff=True)
    assert hi < 0 and mid == pytest.approx(-np.median(base))
    # the baseline members are the members of a plain ensemble with the same seed
    plain = tmp_path / "plain"
    run_ensemble(CASE, PARAMS, plain, members=4, seed=2, variant={"peru_policy": "documented_only"},
                 executor=serial_executor())  # fmt: skip
    for i in range(4):
        f = f"{MEMBERS_DIR}/{member_file(i)}"
        assert (plain / f).read_bytes() == (tmp_path / "cmp" / "variant-0" / f).read_bytes()


@pytest.mark.slow
def test_existing_dask_cluster_by_address(tmp_path):
    """--scheduler tcp://…: a cluster started outside borderflow gives the same numbers."""
    import dask
    from distributed import LocalCluster

    from borderflow.execute import dask_executor

    serial = small(tmp_path, "serial", members=2)
    environ = {"OMP_NUM_THREADS": 1}
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
    ):
        remote = tmp_path / "remote"
        run_ensemble(
            CASE, PARAMS, remote, members=2, seed=4,
            executor=dask_executor(scheduler=cluster.scheduler_address),
        )  # fmt: skip
    for name in [f"{MEMBERS_DIR}/{member_file(i)}" for i in range(2)] + [BANDS]:
        assert (serial / name).read_bytes() == (remote / name).read_bytes(), name


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "ensemble", "--members", "2",
         "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "e")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2
    assert "Dask scheduler" in res.stderr and "Traceback" not in res.stderr


def test_bands_align_members_that_used_different_roads():
    """A member's series leaves out roads it did not use; a missing row means zero."""
    import datetime as dt

    from borderflow.ensemble.runner import aligned
    from borderflow.results.series import Series

    def member(roads: dict[str, float]):
        b = Series(dt.date(2025, 1, 1), 2)
        b.add("stranded", ["A"], np.array([[1.0], [2.0]]))
        b.add("flow", list(roads), np.array([list(roads.values())] * 2))
        return b.table()

    rows, values = aligned([member({"X>Y": 5.0}), member({"X>Y": 1.0, "X>Z": 3.0})])
    cols = [rows.column("day"), rows.column("location").cast("string"),
            rows.column("indicator").cast("string")]  # fmt: skip
    keys = list(zip(*(c.to_pylist() for c in cols), strict=True))
    assert len(keys) == len(set(keys)) == 2 + 2 + 2
    z = [i for i, k in enumerate(keys) if k[1] == "X>Z"]
    np.testing.assert_array_equal(values[:, z], [[0.0, 0.0], [3.0, 3.0]])
    same = member({"X>Y": 5.0})
    rows2, values2 = aligned([same, same])
    assert rows2.num_rows == same.num_rows and values2.shape == (2, same.num_rows)
