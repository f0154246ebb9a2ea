"""Side-by-side benchmark: Flee 3.1 (reference) against borderflow.

Usage (from anywhere; paths are resolved against the repository root)::

    python benchmarks/flee_parity.py [--scenarios mali burundi] [--seeds 3]
        [--flee-runs 2] [--days N] [--jobs 1] [--compat 3.1|head]

Both tools run as whole processes on the project's copy of each scenario
(``src/borderflow/builtin/flee/<name>``),
so wall time and peak RSS include start-up, input parsing and output writing,
which is what a user waits for. Flee runs in its own venv
(``benchmarks/.flee-venv``, created on first use with flee 3.1 and the pinned
minimal dependencies a serial run imports) through
``flee_reference_driver.py``; borderflow runs as
``.venv/bin/borderflow run <scenario dir> --seed S --compat 3.1 --out DIR [--days N]``:
``--compat 3.1`` makes borderflow follow the release it is compared with (3.1 spawns from the
total series, see docs/flee.md); ``--compat head`` compares Flee's current rules instead.
One untimed borderflow run first fills numba's compilation cache (a one-off per install).
Peak RSS is per process (``os.wait4``), so it stays right with ``--jobs 2``;
wall times of Flee runs sharing the 2 cores are a little longer than solo.

Accuracy is "Error (rescaled)" (the validation score FabFlee reports),
computed from each out.csv. The script only reports; it asserts nothing, so
it is safe to run on a loaded machine. Flee runs are slow (minutes each):
``--jobs`` runs several at once, ``--days N`` runs a short prefix.
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

SPEED_TARGET = 100.0  # Flee wall time / borderflow wall time
ERROR_TARGET = 1.10  # borderflow error / Flee error

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
) -> tuple[int, float, float]:
    """Run ``cmd``; return (exit code, wall seconds, peak RSS in MB).

    ``os.wait4`` gives the rusage of exactly this child (and its reaped
    descendants), so peak RSS stays per run even when runs overlap, unlike
    ``getrusage(RUSAGE_CHILDREN)``.
    """
    with open(stderr, "wb") as err, open(stdout or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, wall, usage.ru_maxrss / 1024.0  # Linux: KiB


def tail(path: Path, n: int = 15) -> str:
    """Last lines of a (possibly huge) log, for failure reports."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - 4000))
            return "\n".join(f.read().decode(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def finish(
    res: RunResult, rc: int, wall: float, rss: float, out_csv: Path, err: Path, score: Scorer
) -> RunResult:
    """Fill a result from the process outcome and its out.csv."""
    res.returncode, res.wall_s, res.peak_rss_mb, res.out_csv = rc, wall, rss, str(out_csv)
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
    res = RunResult("flee 3.1", scenario, f"run {idx}")
    rundir = work / scenario / f"flee-{idx}"
    rundir.mkdir(parents=True, exist_ok=True)
    out_csv, err = rundir / "out.csv", rundir / "stderr.log"
    cmd = [str(py), str(DRIVER), scenario_path(scenario), str(days)]
    if settings is not None:
        cmd.append(str(settings))
    rc, wall, rss = timed_process(cmd, out_csv, err, REPO, flee_env())
    return finish(res, rc, wall, rss, out_csv, err, score)


def run_borderflow(
    scenario: str, seed: int, days: int, work: Path, score: Scorer, compat: str = "3.1"
) -> RunResult:
    """One borderflow run of the whole CLI process."""
    res = RunResult("borderflow", scenario, f"seed {seed}")
    rundir = work / scenario / f"borderflow-{seed}"
    rundir.mkdir(parents=True, exist_ok=True)
    err = rundir / "stderr.log"
    cmd = [
        str(BORDERFLOW),
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
    rc, wall, rss = timed_process(cmd, rundir / "stdout.log", err, REPO)
    return finish(res, rc, wall, rss, rundir / "out.csv", err, score)


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


# ----------------------------------------------------------------------------- report


def mean_sd(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample sd (0 for a single value)."""
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0


def fmt_time(s: float) -> str:
    """Seconds with sensible precision for both 0.3 s and 300 s runs."""
    return f"{s:.0f}" if s >= 100 else f"{s:.1f}" if s >= 10 else f"{s:.2f}"


def tool_row(name: str, runs: Sequence[RunResult], skipped: str = "") -> str:
    """One line of the per-scenario table."""
    if skipped:
        return f"{name:<12} {skipped}"
    ok = [r for r in runs if r.ok]
    failed = len(runs) - len(ok)
    if not ok:
        return f"{name:<12} {len(runs):>4}  all runs failed"
    walls = [r.wall_s for r in ok]
    err_m, err_sd = mean_sd([r.error_rescaled for r in ok])
    wall = f"{fmt_time(statistics.fmean(walls))} ({fmt_time(min(walls))}-{fmt_time(max(walls))})"
    line = (
        f"{name:<12} {len(ok):>4}  {wall:>22}  {max(r.peak_rss_mb for r in ok):>9.0f}"
        f"  {err_m:>8.4f} ± {err_sd:<7.4f}  {statistics.fmean(r.final_agents for r in ok):>12,.0f}"
    )
    return line + (f"   ({failed} failed)" if failed else "")


HEADER = (
    f"{'tool':<12} {'runs':>4}  {'wall s mean (min-max)':>22}  {'peak RSS MB':>9}"
    f"  {'Error (rescaled)':>19}  {'final agents':>12}"
)


def num(x: float) -> str:
    """Right-aligned count, or a dash where a tool did not run."""
    return f"{'-':>10}" if x != x else f"{x:>10,.0f}"


def verdict(ok: bool) -> str:
    """Target outcome as a word that stands out when not met."""
    return "met" if ok else "NOT met"


def camp_mean(runs: Sequence[RunResult], camp: str) -> float:
    """Mean last-day count at one camp over runs (nan without runs)."""
    if not runs:
        return float("nan")
    return statistics.fmean(r.final_camp_sim.get(camp, 0.0) for r in runs)


def describe(r: RunResult) -> str:
    """One progress line per finished run."""
    head = f"{r.tool} {r.scenario} {r.label}: {r.wall_s:.2f} s"
    return f"{head}, error {r.error_rescaled:.4f} {r.note[:200]}"


def report(
    scenario: str, flee: list[RunResult], bf: list[RunResult], bf_skip: str, days_arg: int
) -> dict:
    """Print the table for one scenario; return the numbers for --json."""
    fok = [r for r in flee if r.ok]
    bok = [r for r in bf if r.ok]
    days = {r.days for r in fok + bok}
    print(f"\n=== {scenario} ({', '.join(map(str, sorted(days))) or '?'} days) ===")
    print(HEADER)
    if flee or not bf_skip:
        print(tool_row("flee 3.1", flee, "" if flee else "not run (--flee-runs 0)"))
    print(tool_row("borderflow", bf, bf_skip or ("" if bf else "not run (--seeds 0)")))

    camps: list[str] = []
    for r in fok + bok:
        camps += [c for c in r.final_camp_sim if c not in camps]
    if camps:
        ref = (fok + bok)[0]
        print(f"\n{'final agents per camp (mean)':<30} {'data':>10}", end="")
        print(f" {'flee 3.1':>10} {'borderflow':>10}")
        for c in camps:
            data = ref.final_camp_data.get(c, float("nan"))
            f, b = camp_mean(fok, c), camp_mean(bok, c)
            print(f"{c:<30} {num(data)} {num(f)} {num(b)}")

    out: dict = {"scenario": scenario, "days": sorted(days)}
    if len(days) > 1:
        print(f"WARNING: runs cover different numbers of days: {sorted(days)}")
    if fok and bok:
        speed = statistics.fmean(r.wall_s for r in fok) / statistics.fmean(r.wall_s for r in bok)
        err_b = statistics.fmean(r.error_rescaled for r in bok)
        ratio = err_b / statistics.fmean(r.error_rescaled for r in fok)
        met = {"speed": speed >= SPEED_TARGET, "error": ratio <= ERROR_TARGET}
        print(f"\nspeed ratio Flee/borderflow: {speed:,.1f}x", end="")
        print(f"  (target >= {SPEED_TARGET:.0f}x: {verdict(met['speed'])})")
        print(f"error ratio borderflow/Flee: {ratio:.3f}", end="")
        print(f"   (target <= {ERROR_TARGET:.2f}: {verdict(met['error'])})")
        if days_arg > 0:
            print("(prefix run via --days: targets are indicative only)")
        out.update(speed_ratio=speed, error_ratio=ratio, targets_met=met)
    for r in flee + bf:
        if not r.ok:
            print(f"FAILED {r.tool} {r.label}: {r.note}")
    return out


# ----------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """CLI; defaults give a full comparison on both scenarios."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", nargs="+", default=["mali", "burundi"])
    p.add_argument(
        "--seeds", type=int, default=3, help="borderflow runs (seeds 1..N); 0 skips borderflow"
    )
    p.add_argument(
        "--flee-runs", type=int, default=2, help="Flee runs (unseeded, as Flee is); 0 skips Flee"
    )
    p.add_argument(
        "--days", type=int, default=0, help="simulate only the first N days (0 = full period)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="Flee runs at once (default 1: runs sharing the 2 cores are slower than alone)",
    )
    p.add_argument(
        "--compat",
        choices=["3.1", "head"],
        default="3.1",
        help="borderflow's Flee compatibility profile (default: the 3.1 it is compared with)",
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
        "--work-dir",
        type=Path,
        help="keep every run's out.csv and logs here (default: temp, deleted)",
    )
    p.add_argument("--json", type=Path, help="also write all results as JSON")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run borderflow serially (clean timings), then Flee in a pool of --jobs."""
    args = parse_args(argv)
    try:
        for name in args.scenarios:
            log(f"{name}: {scenario_path(name)}")
    except FileNotFoundError as exc:
        log(str(exc))
        return 2
    score, score_name = load_scorer()
    settings = args.flee_settings.resolve() if args.flee_settings else None
    flee_py: Path | None = None
    if args.flee_runs > 0:
        flee_py = args.flee_python or ensure_flee_venv()
    bf_skip = ""
    if args.seeds > 0 and not os.access(BORDERFLOW, os.X_OK):
        bf_skip = f"SKIPPED: no borderflow CLI at {BORDERFLOW.relative_to(REPO)}"
        log(bf_skip)

    tmp = None
    if args.work_dir:
        work = args.work_dir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="flee-parity-")
        work = Path(tmp)

    bf: dict[str, list[RunResult]] = {s: [] for s in args.scenarios}
    fl: dict[str, list[RunResult]] = {s: [] for s in args.scenarios}
    try:
        if not bf_skip:
            warm = run_borderflow(args.scenarios[0], 0, 5, work / "warm-up", score, args.compat)
            log(f"warm-up (fills the compilation cache, not counted): {describe(warm)}")
            for s in args.scenarios:
                for seed in range(1, args.seeds + 1):
                    r = run_borderflow(s, seed, args.days, work, score, args.compat)
                    log(describe(r))
                    bf[s].append(r)
        if flee_py is not None:
            with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                futs = {
                    pool.submit(run_flee, flee_py, s, i, args.days, settings, work, score): s
                    for s in args.scenarios
                    for i in range(1, args.flee_runs + 1)
                }
                for fut in cf.as_completed(futs):
                    r = fut.result()
                    log(describe(r))
                    fl[futs[fut]].append(r)

        print(f"Flee 3.1 vs borderflow (--compat {args.compat}); Error (rescaled) by {score_name}")
        print(f"Flee runs {args.jobs} at a time; borderflow runs one at a time")
        if args.jobs > 1 and args.flee_runs > 1:
            print("note: Flee runs sharing the cores run slower than alone; use --jobs 1")
            print("      for a speed ratio of record")
        summary = [
            report(s, sorted(fl[s], key=lambda r: r.label), bf[s], bf_skip, args.days)
            for s in args.scenarios
        ]
        if args.json:
            runs = [asdict(r) for s in args.scenarios for r in fl[s] + bf[s]]
            args.json.write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    failed = any(not r.ok for s in args.scenarios for r in fl[s] + bf[s])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
