"""Time of one forecast update of a Chile–Peru case (issue 13's target: under 10 s, 200 particles).

An update is what the daily cycle does when a day's reports arrive: load the previous
forecast's particles, run them one day on, weigh them by the new reports, resample and move
them when the effective sample size falls. Running the members on from the origin (the
forecast itself) and storing the particles are timed apart. `resampled` counts the steps that
resampled (each followed by a move: with --move mcmc, every particle rerun from day 0). Runs
of several days (the first forecast's run from day 0, the members, an MCMC move's reruns) go to
a process pool of --workers (default all cores; 0: all in this process, which needs less
memory: each worker holds copies of the states it runs); the daily update's one-day run stays
in the process (sending the states would cost more). Nothing is asserted.

    python benchmarks/forecast_update.py [--case chile-peru-2023] [--particles 200]
        [--first 2023-05-07] [--second 2023-05-08] [--seed 0] [--workers N] [--horizon 7]
        [--move jitter|mcmc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def main() -> None:
    from borderflow.forecast.cycle import ForecastSpec, forecast
    from borderflow.forecast.store import PARTICLES
    from borderflow.scenario.locate import resolve_scenario

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="chile-peru-2023")
    parser.add_argument("--particles", type=int, default=200)
    parser.add_argument("--first", default="2023-05-07")
    parser.add_argument("--second", default="2023-05-08")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="0: all in this process")
    parser.add_argument("--horizon", type=int, default=None, help="default: to the case's end")
    parser.add_argument("--move", default=None, help="jitter or mcmc (default: the case's)")
    args = parser.parse_args()
    from borderflow.execute import pool_executor

    executor = None if args.workers == 0 else pool_executor(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        spec = ForecastSpec(
            resolve_scenario(args.case), Path(tmp), args.particles, args.seed,
            horizon=args.horizon, executor=executor, move=args.move,
        )  # fmt: skip
        rows = []
        for origin in (args.first, args.second):
            t0 = time.perf_counter()
            r = forecast(spec, dt.date.fromisoformat(origin))
            total = time.perf_counter() - t0
            size = (r.folder / PARTICLES).stat().st_size / 1e6
            moved = sum(s.resampled for s in r.steps)  # resamplings, each followed by a move
            rows.append((origin, r.parent.name if r.parent else "day 0", r.new, moved,
                         r.update_seconds, r.update_cpu_seconds, total - r.update_seconds,
                         size))  # fmt: skip
    where = "one process" if executor is None else f"a pool of {executor.workers} workers"
    move = args.move or "the case's default move"
    print(f"{args.case}: {args.particles} particles, {where}, {move}")
    header = (
        f"{'origin':>11} {'from':>18} {'new reports':>11} {'resampled':>9} {'update s':>9} "
        f"{'CPU s':>6} {'members+store s':>15} {'particles MB':>12}"
    )
    print(header)
    print("-" * len(header))
    for origin, parent, new, moved, upd, cpu, rest, size in rows:
        print(
            f"{origin:>11} {parent:>18} {new:>11} {moved:>9} {upd:>9.2f} {cpu:>6.2f} "
            f"{rest:>15.2f} {size:>12.1f}"
        )
    wall, cpu = rows[-1][4] / 10.0, rows[-1][5] / 10.0
    print(f"one update / target 10 s: {wall:.2f} (in CPU time: {cpu:.2f})")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
