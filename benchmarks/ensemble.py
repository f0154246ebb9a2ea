"""A 200-member ensemble of chile-peru-2025 on this machine: local process pool against a local
Dask cluster with the same number of workers, same seed, in one run.

Reported: wall time of each (whole ensemble: members, draws and bands), the CPU time of this
process and the workers it waited for (the pool's; Dask's nannies may not all be counted),
members per second, the Dask/pool ratio, whether the two gave byte-identical members, and the
load average before and after (on a shared machine, wall time follows the load; CPU time much
less). Targets: 200 members under 20 s on 2 cores (issue 11; 60 s in issue 4); Dask at most
20 % slower. Nothing is asserted.

    python benchmarks/ensemble.py [--members 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    from borderflow.ensemble.runner import MEMBERS_DIR, member_file, run_ensemble
    from borderflow.execute import dask_executor, pool_executor
    from borderflow.scenario.locate import resolve_scenario

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--case", default="chile-peru-2025")
    args = parser.parse_args()
    case = resolve_scenario(args.case)
    params = case / "uncertain.toml"
    times, cpu = {}, {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for name, executor in (
            ("process pool", pool_executor(args.workers)),
            ("dask local", dask_executor(local_workers=args.workers)),
        ):
            t0, c0 = time.perf_counter(), cpu_seconds()
            run_ensemble(
                case, params, Path(tmp) / name, members=args.members, seed=0, executor=executor
            )
            times[name], cpu[name] = time.perf_counter() - t0, cpu_seconds() - c0
        same = all(
            (Path(tmp) / "process pool" / MEMBERS_DIR / member_file(i)).read_bytes()
            == (Path(tmp) / "dask local" / MEMBERS_DIR / member_file(i)).read_bytes()
            for i in range(args.members)
        )
    before, after = (" ".join(f"{a:.1f}" for a in load) for load in (load_before, os.getloadavg()))
    print(f"{args.case}: {args.members} members, {args.workers} workers, {os.cpu_count()} cores")
    print(f"load average (1, 5, 15 min): {before} before, {after} after")
    print(f"{'executor':<14} {'wall s':>8} {'CPU s':>8} {'members/s':>10}")
    for name, seconds in times.items():
        print(f"{name:<14} {seconds:>8.1f} {cpu[name]:>8.1f} {args.members / seconds:>10.2f}")
    ratio = times["dask local"] / times["process pool"]
    print(f"dask / pool wall time: {ratio:.2f}  (target <= 1.20)")
    print(f"pool under 20 s: {'yes' if times['process pool'] < 20 else 'no'}")
    print(f"byte-identical members on both executors: {'yes' if same else 'NO'}")


def cpu_seconds() -> float:
    """User and system time of this process and of the children it has waited for."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


if __name__ == "__main__":
    main()
