"""The ``borderflow`` command on bad input: exit status 2, one line on stderr, nothing written.

Each case runs the real CLI in a subprocess (about half a second each, with ``--days 5``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "500", "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """Exit status 2 and exactly one non-empty line on stderr, without a traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].strip()
    assert lines[0].startswith("error: ")
    return lines[0]


def nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())


def test_good_run_writes_and_validates(tmp_path: Path) -> None:
    """The baseline the error cases are measured against: a run that does write its folder."""
    out = tmp_path / "run"
    proc = cli("run", "mali", "--days", "5", "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["out.csv", "run.json", "series.parquet"]
    proc = cli("validate", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Error (rescaled)" in proc.stdout


# (scenario, file under the scenario, line, 0-based cell, new value, column, message phrase)
CORRUPTIONS = [
    ("mali", "input_csv/routes.csv", 3, 1, "Atlantis", "name2", "unknown location 'Atlantis'"),
    ("mali", "input_csv/routes.csv", 2, 2, "-4", "distance", "must be positive"),
    ("mali", "input_csv/locations.csv", 5, 5, "volcano", "location_type", "unknown location type"),
    ("burundi", "source_data/tan-nduta.csv", 3, 0, "2015-13-08", "date", "is not a date"),
    ("mali", "input_csv/registration_corrections.csv", 3, 1, "2012-12-22", "date", "not a data"),
]


@pytest.mark.parametrize(
    ("scenario", "rel", "row", "col", "value", "column", "phrase"),
    CORRUPTIONS,
    ids=[f"{c[0]}-{Path(c[1]).stem}-{c[5]}" for c in CORRUPTIONS],
)
def test_corrupt_scenario_one_line(
    flee_copy: Callable[[str], Path],
    csv_edit,
    tmp_path: Path,
    scenario: str,
    rel: str,
    row: int,
    col: int,
    value: str,
    column: str,
    phrase: str,
) -> None:
    root = flee_copy(scenario)
    path = root / rel
    csv_edit.set_cell(path, row, col, value)
    out = tmp_path / "out"
    line = one_error_line(cli("run", root, "--days", "5", "--out", out, cwd=tmp_path))
    assert str(path) in line
    assert f"row {row}" in line
    assert f"column '{column}'" in line
    assert phrase in line
    nothing_written(out)


def test_missing_file_one_line(flee_copy: Callable[[str], Path], tmp_path: Path) -> None:
    root = flee_copy("mali")
    path = root / "input_csv" / "routes.csv"
    path.unlink()
    out = tmp_path / "out"
    line = one_error_line(cli("run", root, "--days", "5", "--out", out, cwd=tmp_path))
    assert f"{path}: file not found" in line
    nothing_written(out)


def test_existing_out_dir_left_empty(flee_copy: Callable[[str], Path], csv_edit, tmp_path):
    root = flee_copy("mali")
    csv_edit.keep_lines(root / "input_csv" / "conflicts.csv", 3)
    out = tmp_path / "out"
    out.mkdir()
    line = one_error_line(cli("run", root, "--out", out, cwd=tmp_path))
    assert "conflicts.csv" in line and "has 2 day rows but the run needs 300" in line
    nothing_written(out)


def test_unknown_scenario_name(tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = one_error_line(cli("run", "atlantis", "--days", "5", "--out", out, cwd=tmp_path))
    assert "atlantis" in line and "not a built-in case" in line
    nothing_written(out)


SETTINGS = [
    ("bad-yaml", "move_rules:\n  max_move_speed: [1, 2\n", "not valid YAML", "row 3"),
    ("unknown-key", "move_rules:\n  max_mov_speed: 3\n", "move_rules.max_mov_speed", "Extra"),
    ("negative", "move_rules:\n  max_move_speed: -1\n", "move_rules.max_move_speed", "greater"),
    (
        "unsupported",
        "move_rules: {avoid_short_stints: true}\n",
        "move_rules.avoid_short_stints",
        "not supported",
    ),
]


@pytest.mark.parametrize(
    ("text", "key", "phrase"), [s[1:] for s in SETTINGS], ids=[s[0] for s in SETTINGS]
)
def test_bad_settings(tmp_path: Path, text: str, key: str, phrase: str) -> None:
    settings = tmp_path / "simsetting.yml"
    settings.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    proc = cli("run", "mali", "--days", "5", "--out", out, "--settings", settings, cwd=tmp_path)
    line = one_error_line(proc)
    assert str(settings) in line
    assert key in line
    assert phrase in line
    nothing_written(out)


def test_days_zero_rejected(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = cli("run", "mali", "--days", "0", "--out", out, cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "--days" in proc.stderr
    nothing_written(out)


def test_validate_without_out_csv(tmp_path: Path) -> None:
    folder = tmp_path / "empty-run"
    folder.mkdir()
    line = one_error_line(cli("validate", folder, cwd=tmp_path))
    assert str(folder / "out.csv") in line
    assert "file not found" in line


def test_settings_not_utf8(tmp_path: Path) -> None:
    settings = tmp_path / "simsetting.yml"
    settings.write_bytes("# réglages\nmove_rules:\n  max_move_speed: 300\n".encode("latin-1"))
    out = tmp_path / "out"
    proc = cli("run", "mali", "--days", "5", "--out", out, "--settings", settings, cwd=tmp_path)
    nothing_written(out)
    line = one_error_line(proc)
    assert str(settings) in line


def test_settings_is_a_directory(tmp_path: Path) -> None:
    settings = tmp_path / "settings"
    settings.mkdir()
    out = tmp_path / "out"
    proc = cli("run", "mali", "--days", "5", "--out", out, "--settings", settings, cwd=tmp_path)
    nothing_written(out)
    line = one_error_line(proc)
    assert str(settings) in line


def test_validate_out_csv_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "out.csv").write_bytes(b"Day,Date,A sim\n\xe9\n")
    line = one_error_line(cli("validate", folder, cwd=tmp_path))
    assert str(folder / "out.csv") in line
