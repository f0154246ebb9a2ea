"""The border-case commands as a user runs them: run (the main job), compare, info, fit."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "COLUMNS": "200"}


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
    )


@pytest.mark.slow
def test_main_job_runs_the_chile_peru_case_by_default(tmp_path):
    res = cli("run", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    folder = tmp_path / "results" / "chile-peru-2025-seed0"
    for name in ("series.csv", "series.parquet", "summary.json", "stranded.png", "map.png"):
        assert (folder / name).stat().st_size > 0
    assert "peak stranded" in res.stdout
    assert "Chacalluta-Santa Rosa" in res.stdout
    assert "water, litres a day" in res.stdout


@pytest.mark.slow
def test_compare_documented_only_with_corridor(tmp_path):
    out = tmp_path / "cmp"
    res = cli(
        "compare",
        "chile-peru-2025",
        "peru_policy=documented_only",
        "peru_policy=corridor",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader((out / "compare.csv").open()))[1:]  # skip the HXL row
    peak = {
        r["variant"]: float(r["value"])
        for r in rows
        if r["metric"] == "peak stranded" and r["crossing"] == "Chacalluta-Santa Rosa"
    }
    assert peak["peru_policy=corridor"] < peak["peru_policy=documented_only"]
    diff = [float(r["difference"]) for r in rows if r["variant"] == "peru_policy=documented_only"]
    assert diff and all(d == 0 for d in diff)  # the baseline's differences are zero
    assert (out / "compare.png").stat().st_size > 0


def test_info_lists_variants_and_provenance():
    res = cli("info", "chile-peru-2025")
    assert res.returncode == 0, res.stderr
    assert "peru_policy" in res.stdout and "chile_readmission" in res.stdout
    assert "departure.base_hazard" in res.stdout
    assert "assumption:" in res.stdout and "source:" in res.stdout


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("run", "chile-peru-2025", "-v", "peru_policy=open_arms"), "unknown option 'open_arms'"),
        (("run", "chile-peru-2025", "-v", "policy"), "is not NAME=VALUE"),
        (("run", "chile-peru-2025", "--capacity", "Nowhere=10"), "unknown crossing 'Nowhere'"),
        (("run", "chile-peru-2025", "--capacity", "Colchane-Pisiga=-4"), "must not be negative"),
        (("compare", "chile-peru-2025", "default"), "at least two variants"),
        (("fit", "mali"), "needs a border case"),
    ],
)
def test_bad_requests_get_one_clear_line(tmp_path, args, phrase):
    res = cli(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert phrase in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.csv"))
