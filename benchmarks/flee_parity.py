"""Side-by-side benchmark: Flee 3.1 (reference) against borderflow.

Usage (from anywhere; paths are resolved against the repository root)::

    python benchmarks/flee_parity.py [--scenarios mali burundi | all] [--seeds 3]
        [--flee-runs 2] [--days N | NAME=N ...] [--jobs 1]
        [--compat borderflow 3.1 [head]] [--borderflow PATH]

``--scenarios all`` takes every scenario the project carries (Flee's Mali and Burundi and
FabFlee's seven); ``--days venezuela2022=80`` runs a prefix of one scenario (the summary marks
it). Flee's current code is not released, so only Flee 3.1 is run.

Both tools run as whole processes on the project's copy of each scenario
(``src/borderflow/builtin/flee/<name>``),
so wall time and peak RSS include start-up, input parsing and output writing,
which is what a user waits for. Flee runs in its own venv
(``benchmarks/.flee-venv``, created on first use with flee 3.1 and the pinned
minimal dependencies a serial run imports) through
``flee_reference_driver.py``; borderflow runs as
``.venv/bin/borderflow run <scenario dir> --seed S --compat C --out DIR [--days N]`` for each
profile C of ``--compat``: ``borderflow`` (its default rules), ``3.1`` (follow the release it
is compared with, see docs/flee.md) and, on request, ``head`` (Flee's current rules).
One untimed borderflow run first fills numba's compilation cache (a one-off per install).
Peak RSS is per process (``os.wait4``), so it stays right with ``--jobs 2``;
wall times of Flee runs sharing the 2 cores are a little longer than solo.

Accuracy is "Error (rescaled)" (the validation score FabFlee reports),
computed from each out.csv. The script only reports; it asserts nothing, so
it is safe to run on a loaded machine. Flee runs are slow (minutes each):
``--jobs`` runs several at once, ``--days`` runs a short prefix. The last table (the
summary) is the one docs/flee.md quotes.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from parity_report import FLEE, bf_tool, cpu_table, report, summary

REPO = Path(__file__).resolve().parent.parent
DRIVER = REPO / "benchmarks" / "flee_reference_driver.py"
FLEE_VENV = REPO / "benchmarks" / ".flee-venv"
BORDERFLOW = REPO / ".venv" / "bin" / "borderflow"
# The project's own copies of the scenarios, relative to REPO, first match wins.
# Never the shared reference folder: the benchmark must run from a clone alone.
SCENARIO_ROOTS = ("src/borderflow/builtin/flee",)

# Flee 3.1 declares mpi4py, muscle3, matplotlib, seaborn, networkx and pytest,
# but a serial run imports only numpy, pandas, PyYAML and beartype (moving.py
# imports beartype.typing unconditionally). Installing this closure with
# --no-deps keeps the venv small and reproducible; versions are 2023-era
# releases that 3.1 (Aug 2023) was used with.
FLEE_PINS: tuple[str, ...] = (
    "flee==3.1",
    "numpy==1.26.4",
    "pandas==2.1.4",
    "python-dateutil==2.8.2",
    "pytz==2023.3.post1",
    "tzdata==2023.3",
    "six==1.16.0",
    "PyYAML==6.0.1",
    "beartype==0.16.4",
)
PIN_STAMP = "borderflow-pins.txt"

Scorer = Callable[[Path], dict]


# ----------------------------------------------------------------------------- setup


def ensure_flee_venv(venv: Path = FLEE_VENV) -> Path:
    """Create or repair the Flee venv; return its python.

    A stamp file records the pins it was built with, so a changed pin list
    rebuilds it instead of silently benchmarking another version.
    """
    py = venv / "bin" / "python"
    stamp = venv / PIN_STAMP
    want = "\n".join(FLEE_PINS) + "\n"
    if py.exists() and stamp.exists() and stamp.read_text() == want:
        return py
    log(f"creating Flee venv at {venv} ...")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(py), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", *FLEE_PINS], check=True)
    subprocess.run(
        [str(py), "-c", "from flee import flee, spawning, InputGeography"],
        check=True,
        env=flee_env(),
    )
    stamp.write_text(want)
    return py


def flee_env() -> dict[str, str]:
    """Flee's optional beartype checks cost ~10%; make sure they are off."""
    env = os.environ.copy()
    env.pop("FLEE_TYPE_CHECK", None)
    return env


def log(msg: str) -> None:
    """Progress goes to stderr so the report on stdout stays clean."""
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- runs


@dataclass
class RunResult:
    """One whole-process run and what its out.csv says."""

    tool: str
    scenario: str
    label: str
    returncode: int = -1
    wall_s: float = float("nan")
    cpu_s: float = float("nan")  # user + system CPU seconds of the process
    peak_rss_mb: float = float("nan")
    out_csv: str = ""
    error_rescaled: float = float("nan")
    error_normal: float = float("nan")
    days: int = 0
    final_agents: float = float("nan")
    final_camp_sim: dict[str, float] = field(default_factory=dict)
    final_camp_data: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.note


def timed_process(
    cmd: Sequence[str],
    stdout: Path | None,
    stderr: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
) -> tuple[int, float, float, float]:
    """Run ``cmd``; return (exit code, wall seconds, peak RSS in MB, CPU seconds).

    ``os.wait4`` gives the rusage of exactly this child (and its reaped
    descendants), so peak RSS and CPU time stay per run even when runs overlap,
    unlike ``getrusage(RUSAGE_CHILDREN)``. CPU time (user + system) hardly
    depends on what else the machine runs, where wall time does.
    """
    with open(stderr, "wb") as err, open(stdout or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return proc.returncode, wall, usage.ru_maxrss / 1024.0, cpu  # Linux: ru_maxrss in KiB


def tail(path: Path, n: int = 15) -> str:
    """Last lines of a (possibly huge) log, for failure reports."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 4000))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def finish(
    res: RunResult,
    outcome: tuple[int, float, float, float],
    out_csv: Path,
    err: Path,
    score: Scorer,
) -> RunResult:
    """Fill a result from the process outcome (as :func:`timed_process`) and its out.csv."""
    rc, res.wall_s, res.peak_rss_mb, res.cpu_s = outcome
    res.returncode, res.out_csv = rc, str(out_csv)
    if rc != 0:
        res.note = f"exit {rc}: {tail(err)}"
        return res
    if not out_csv.exists():
        res.note = f"no out.csv at {out_csv}"
        return res
    try:
        summary = summarise_out_csv(out_csv)
        scores = score(out_csv)
    except Exception as exc:  # a broken out.csv is a result to report
        res.note = f"unreadable out.csv: {exc!r}"
        return res
    res.days = summary["days"]
    res.final_agents = summary["final_agents"]
    res.final_camp_sim = summary["camp_sim"]
    res.final_camp_data = summary["camp_data"]
    res.error_rescaled = float(scores["error_rescaled"])
    res.error_normal = float(scores.get("error_normal", float("nan")))
    return res


def all_scenarios() -> list[str]:
    """Every scenario the project carries: Flee's (mali, burundi) first, then FabFlee's."""
    names = sorted(
        p.parent.name for root in SCENARIO_ROOTS for p in (REPO / root).glob("*/input_csv")
    )
    first = [n for n in ("mali", "burundi") if n in names]
    return first + [n for n in names if n not in first]


def parse_days(items: Sequence[str]) -> tuple[int, dict[str, int]]:
    """``--days``: a number for every scenario, and/or NAME=N for one."""
    default, per = 0, {}
    for item in items:
        name, sep, value = item.rpartition("=")
        if not value.isdigit():
            raise SystemExit(f"--days {item}: expected N or NAME=N")
        if sep:
            per[name] = int(value)
        else:
            default = int(value)
    return default, per


def scenario_path(name: str) -> str:
    """Repo-relative folder of a scenario (both tools get the same one)."""
    for root in SCENARIO_ROOTS:
        if (REPO / root / name / "input_csv").is_dir():
            return f"{root}/{name}"
    raise FileNotFoundError(f"scenario {name!r} not under {' or '.join(SCENARIO_ROOTS)}")


def run_flee(
    py: Path, scenario: str, idx: int, days: int, settings: Path | None, work: Path, score: Scorer
) -> RunResult:
    """One Flee 3.1 default run through the reference driver."""
    res = RunResult(FLEE, scenario, f"run {idx}")
    rundir = work / scenario / f"flee-{idx}"
    rundir.mkdir(parents=True, exist_ok=True)
    out_csv, err = rundir / "out.csv", rundir / "stderr.log"
    cmd = [str(py), str(DRIVER), scenario_path(scenario), str(days)]
    if settings is not None:
        cmd.append(str(settings))
    outcome = timed_process(cmd, out_csv, err, REPO, flee_env())
    return finish(res, outcome, out_csv, err, score)


def run_borderflow(
    scenario: str,
    seed: int,
    days: int,
    work: Path,
    score: Scorer,
    compat: str = "3.1",
    exe: Path = BORDERFLOW,
) -> RunResult:
    """One borderflow run of the whole CLI process."""
    res = RunResult(bf_tool(compat), scenario, f"seed {seed}")
    rundir = work / scenario / f"borderflow-{compat}-{seed}"
    rundir.mkdir(parents=True, exist_ok=True)
    err = rundir / "stderr.log"
    cmd = [
        str(exe),
        "run",
        scenario_path(scenario),
        "--seed",
        str(seed),
        "--compat",
        compat,
        "--out",
        str(rundir),
    ]
    if days > 0:
        cmd += ["--days", str(days)]
    outcome = timed_process(cmd, rundir / "stdout.log", err, REPO)
    return finish(res, outcome, rundir / "out.csv", err, score)


# ----------------------------------------------------------------------------- metrics


def read_out_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a Flee-format out.csv."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def camp_names(header: Sequence[str]) -> list[str]:
    """Camps are the ``<name> sim`` columns, in file order."""
    return [h[: -len(" sim")] for h in header if h.endswith(" sim")]


def summarise_out_csv(path: Path) -> dict:
    """Days run, final agent count and last-day per-camp sim/data."""
    header, rows = read_out_csv(path)
    if not rows:
        raise ValueError("no data rows")
    last = rows[-1]
    camps = camp_names(header)
    return {
        "days": len(rows),
        "final_agents": float(last["total refugees (simulation)"]),
        "camp_sim": {c: float(last[f"{c} sim"]) for c in camps},
        "camp_data": {c: float(last[f"{c} data"]) for c in camps},
    }


def fallback_validation_scores(path: Path) -> dict:
    """Error (rescaled) / (normal) as Flee's extract-validation-results.py defines them.

    Per day: rescale each camp's sim by U/S (UNHCR camp total over simulated
    camp total), sum round(|sim' - data|, 4) over camps, divide by max(U, 1);
    then average over days. Used only when borderflow's own implementation
    cannot be imported.
    """
    header, rows = read_out_csv(path)
    camps = camp_names(header)
    resc: list[float] = []
    norm: list[float] = []
    for r in rows:
        u = float(r["refugees in camps (UNHCR)"])
        s = float(r["refugees in camps (simulation)"])
        er = en = 0.0
        for c in camps:
            sim, data = float(r[f"{c} sim"]), float(r[f"{c} data"])
            er += round(abs((sim * u / s if s > 0 else 0.0) - data), 4)
            en += round(abs(sim - data), 4)
        resc.append(er / max(u, 1.0))
        norm.append(en / max(u, 1.0))
    return {"error_rescaled": statistics.fmean(resc), "error_normal": statistics.fmean(norm)}


def load_scorer() -> tuple[Scorer, str]:
    """Prefer borderflow's metric so both tools are scored by the project's code."""
    for extra in (None, REPO / "src"):
        if extra is not None:
            sys.path.insert(0, str(extra))
        try:
            from borderflow.results.metrics import validation_scores  # type: ignore[import-not-found]

            return validation_scores, "borderflow.results.metrics.validation_scores"
        except Exception:  # any import failure: use the fallback
            if extra is not None:
                sys.path.remove(str(extra))
    return fallback_validation_scores, "benchmark fallback (spec section 2.11)"


# ----------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI; defaults give a full comparison on Mali and Burundi."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--scenarios", nargs="+", default=["mali", "burundi"], help="names, or 'all' (carried)"
    )
    p.add_argument(
        "--seeds", type=int, default=3, help="borderflow runs (seeds 1..N); 0 skips borderflow"
    )
    p.add_argument(
        "--flee-runs", type=int, default=2, help="Flee runs (unseeded, as Flee is); 0 skips Flee"
    )
    p.add_argument(
        "--days",
        nargs="+",
        default=["0"],
        help="simulate a prefix: N (every scenario) and/or NAME=N (one); 0 = full period",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="Flee runs at once (default 1: runs sharing the 2 cores are slower than alone)",
    )
    p.add_argument(
        "--compat",
        nargs="+",
        choices=["borderflow", "3.1", "head"],
        default=["borderflow", "3.1"],
        help="borderflow's rule profiles to run (default: its default rules and Flee 3.1's)",
    )
    p.add_argument(
        "--flee-settings",
        type=Path,
        help="simsetting.yml for Flee (default: empty = code defaults)",
    )
    p.add_argument(
        "--flee-python",
        type=Path,
        help="use this interpreter (with flee 3.1) instead of the managed venv",
    )
    p.add_argument(
        "--borderflow",
        type=Path,
        default=BORDERFLOW,
        help=f"the borderflow command (default: {BORDERFLOW.relative_to(REPO)})",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        help="keep every run's out.csv and logs here (default: temp, deleted)",
    )
    p.add_argument("--json", type=Path, help="also write all results as JSON")
    p.add_argument(
        "--report",
        type=Path,
        nargs="+",
        help="run nothing: print the tables of earlier --json files (a later file's scenarios "
        "replace an earlier one's)",
    )
    return p.parse_args(argv)


def load_runs(files: Sequence[Path]) -> dict[str, dict[str, list[RunResult]]]:
    """Runs saved by --json, by scenario and tool; later files replace earlier scenarios."""
    runs: dict[str, dict[str, list[RunResult]]] = {}
    for file in files:
        fresh: dict[str, dict[str, list[RunResult]]] = {}
        for d in json.loads(file.read_text())["runs"]:
            r = RunResult(**d)
            fresh.setdefault(r.scenario, {}).setdefault(r.tool, []).append(r)
        runs.update(fresh)
    return runs


def period_length(name: str) -> int:
    """Days in a scenario's period file (0 if unreadable), to tell a prefix from a full run."""
    inputs = REPO / scenario_path(name) / "input_csv"
    for file in ("sim_period.csv", "conflict_period.csv"):
        if (inputs / file).exists():
            with open(inputs / file, newline="") as f:
                for row in csv.reader(f):
                    if len(row) > 1 and row[0].strip().lower() == "length":
                        return int(row[1])
    return 0


def print_tables(runs: dict[str, dict[str, list[RunResult]]], json_out: Path | None) -> None:
    """One block per scenario, then the summary; optionally all of it as JSON."""
    blocks = [report(s, runs[s], {}) for s in runs]
    prefixes = {}
    for s, tools in runs.items():
        days = max((r.days for rs in tools.values() for r in rs if r.ok), default=0)
        if 0 < days < period_length(s):
            prefixes[s] = days
    total = summary(list(runs), runs, prefixes)
    cpu_table(list(runs), runs)
    if json_out:
        flat = [asdict(r) for tools in runs.values() for rs in tools.values() for r in rs]
        json_out.write_text(
            json.dumps({"scenarios": blocks, "summary": total, "runs": flat}, indent=2)
        )


def run_all(args: argparse.Namespace, work: Path, score: Scorer, days: dict[str, int]) -> dict:
    """borderflow serially (clean timings), then Flee in a pool of --jobs; runs by scenario."""
    runs: dict[str, dict[str, list[RunResult]]] = {s: {} for s in args.scenarios}
    flee_py = (args.flee_python or ensure_flee_venv()) if args.flee_runs > 0 else None
    settings = args.flee_settings.resolve() if args.flee_settings else None
    if args.seeds > 0:
        warm = run_borderflow(
            args.scenarios[0], 0, 5, work / "warm-up", score, args.compat[0], args.borderflow
        )
        log(f"warm-up (fills the compilation cache, not counted): {describe(warm)}")
        for s in args.scenarios:
            for compat in args.compat:
                for seed in range(1, args.seeds + 1):
                    r = run_borderflow(s, seed, days[s], work, score, compat, args.borderflow)
                    log(describe(r))
                    runs[s].setdefault(r.tool, []).append(r)
    if flee_py is not None:
        with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futs = {
                pool.submit(run_flee, flee_py, s, i, days[s], settings, work, score): s
                for s in args.scenarios
                for i in range(1, args.flee_runs + 1)
            }
            for fut in cf.as_completed(futs):
                r = fut.result()
                log(describe(r))
                runs[futs[fut]].setdefault(FLEE, []).append(r)
    return runs


def describe(r: RunResult) -> str:
    """One progress line per finished run."""
    head = f"{r.tool} {r.scenario} {r.label}: {r.wall_s:.2f} s ({r.cpu_s:.2f} s CPU)"
    return f"{head}, error {r.error_rescaled:.4f} {r.note[:200]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run, then print one block per scenario and the summary."""
    args = parse_args(argv)
    if args.report:
        runs = load_runs(args.report)
        print(f"Flee 3.1 against borderflow: the runs saved in {', '.join(map(str, args.report))}")
        print_tables(runs, args.json)
        return 0
    if args.scenarios == ["all"]:
        args.scenarios = all_scenarios()
    default_days, per_days = parse_days(args.days)
    days = {s: per_days.get(s, default_days) for s in args.scenarios}
    try:
        for name in args.scenarios:
            log(f"{name}: {scenario_path(name)} ({days[name] or 'all'} days)")
    except FileNotFoundError as exc:
        log(str(exc))
        return 2
    if args.seeds > 0 and not os.access(args.borderflow, os.X_OK):
        log(f"no borderflow command at {args.borderflow} (see --borderflow)")
        return 2
    score, score_name = load_scorer()
    tmp = None
    if args.work_dir:
        work = args.work_dir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="flee-parity-")
        work = Path(tmp)
    try:
        runs = run_all(args, work, score, days)
        print(f"Flee 3.1 against borderflow ({', '.join(map(bf_tool, args.compat))})")
        print(f"Error (rescaled) by {score_name}; borderflow: seeds 1..{args.seeds}")
        print(f"Flee runs {args.jobs} at a time; borderflow runs one at a time")
        print("Flee's current code (head) is not run: it is not released (PyPI's newest is 3.1)")
        if args.jobs > 1 and args.flee_runs > 1:
            print("note: Flee runs sharing the cores run slower than alone; use --jobs 1")
            print("      for a speed ratio of record")
        print_tables(runs, args.json)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = any(not r.ok for s in args.scenarios for rs in runs[s].values() for r in rs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
