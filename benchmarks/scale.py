"""Scaling of the flee ruleset on a generated scenario: 10^5, 10^6, 10^7 agents on one core.

The scenario is written in Flee's file format and read by the real readers, so the benchmark
runs exactly the code a user runs: a random geometric graph of towns, conflict zones and
camps, with camp series that grow linearly for the first ``--spawn-days`` days (data-driven
spawning then creates the agents) and stay flat afterwards.

Each size runs in its own process (so peak memory is that size's alone), after a warm-up run
that loads numba's compiled kernels from the cache. Reported per size:

* engine time (``model.run()``, excluding reading and set-up),
* agent-steps per second (Σ over days of the agents alive that day, over engine time),
* nanoseconds per agent-step,
* peak memory per agent: (peak RSS of the process − peak RSS of the same process at 10^3
  agents) / agents.

Targets (issue 2): ≥ 20 million agent-steps/s at 10^7, ≤ 100 bytes per agent, and cost per
agent-step flat within 2× from 10^5 to 10^7. Nothing is asserted: it prints a table.

    python benchmarks/scale.py [--sizes 100000 1000000 10000000] [--days 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# One core, whatever the libraries would like.
for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def write_synthetic(root: Path, agents: int, days: int, spawn_days: int, seed: int = 7) -> Path:
    """A Flee-format scenario of 300 places whose camp data add up to ``agents``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_places, n_conflict, n_camp = 300, 30, 30
    xy = rng.uniform(0, 1500, size=(n_places, 2))  # km on a plane
    kinds = ["conflict_zone"] * n_conflict + ["camp"] * n_camp
    kinds += ["town"] * (n_places - len(kinds))
    names = [f"P{i:03d}" for i in range(n_places)]
    inputs, source = root / "input_csv", root / "source_data"
    inputs.mkdir(parents=True)
    source.mkdir()
    rows = ["#name,region,country,lat,lon,location_type,conflict_date,population"]
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        country = "Abroad" if kind == "camp" else "Home"
        size = agents if kind == "camp" else int(rng.integers(5_000, 500_000))
        rows.append(f"{name},R,{country},{xy[i, 1]:.4f},{xy[i, 0]:.4f},{kind},0,{size}")
    (inputs / "locations.csv").write_text("\n".join(rows) + "\n")
    # Connect each place to its 3 nearest neighbours (undirected, de-duplicated).
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    edges = set()
    for i in range(n_places):
        for j in np.argsort(d[i])[1:4]:
            edges.add((min(i, int(j)), max(i, int(j))))
    rows = ["#name1,name2,distance,forced_redirection"]
    rows += [f"{names[a]},{names[b]},{max(d[a, b], 5.0):.1f},0" for a, b in sorted(edges)]
    (inputs / "routes.csv").write_text("\n".join(rows) + "\n")
    (inputs / "closures.csv").write_text("#closure_type,name1,name2,closure_start,closure_end\n")
    header = "#Day," + ",".join(names[:n_conflict])
    body = [f"{t}," + ",".join(["1"] * n_conflict) for t in range(days)]
    (inputs / "conflicts.csv").write_text("\n".join([header, *body]) + "\n")
    (inputs / "sim_period.csv").write_text(f"StartDate,2020-01-01\nLength,{days}\n")
    start = dt.date(2020, 1, 1)
    share = rng.dirichlet(np.ones(n_camp))
    final = np.floor(share * agents).astype(int)
    final[0] += agents - final.sum()
    layout = ["total,total.csv"]
    for k in range(n_camp):
        name = names[n_conflict + k]
        file = f"{name}.csv"
        layout.append(f"{name},{file}")
        points = [(start, 0), (start + dt.timedelta(days=spawn_days), int(final[k]))]
        (source / file).write_text(
            "Date,count\n" + "".join(f"{day.isoformat()},{v}\n" for day, v in points)
        )
    (source / "total.csv").write_text(
        f"Date,count\n{start.isoformat()},0\n"
        f"{(start + dt.timedelta(days=spawn_days)).isoformat()},{agents}\n"
    )
    (source / "data_layout.csv").write_text("\n".join(layout) + "\n")
    return root


def measure(agents: int, days: int, spawn_days: int) -> dict[str, float]:
    """Run one size in this process and report engine time, agent-steps and peak RSS."""
    import resource
    import time

    from borderflow.rules.flee import FleeModel
    from borderflow.scenario.flee_io import read_flee_scenario
    from borderflow.scenario.flee_settings import FleeSettings

    with tempfile.TemporaryDirectory() as tmp:
        path = write_synthetic(Path(tmp) / "synthetic", agents, days, spawn_days)
        warm = FleeModel(read_flee_scenario(path, days=2), FleeSettings(), seed=1)
        warm.run()  # loads the cached kernels
        del warm
        scenario = read_flee_scenario(path)
        model = FleeModel(scenario, FleeSettings(), seed=1)
        t0 = time.perf_counter()
        model.run()
        seconds = time.perf_counter() - t0
    steps = float(model.n_agents.sum())
    return {
        "agents": len(model.agents),
        "seconds": seconds,
        "agent_steps": steps,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0,
        "bytes_per_agent_arrays": model.agents.nbytes_per_agent(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--spawn-days", type=int, default=10)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.days, args.spawn_days)))
        return

    def child(n: int) -> dict[str, float]:
        cmd = [sys.executable, __file__, "--child", str(n), "--days", str(args.days)]
        cmd += ["--spawn-days", str(args.spawn_days)]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(res.stdout.strip().splitlines()[-1])

    base = child(1_000)
    print(
        f"one core, {args.days} days, spawning over {args.spawn_days} days; baseline RSS "
        f"{base['peak_rss_bytes'] / 2**20:.0f} MiB at 10^3 agents"
    )
    header = (
        f"{'agents':>12} {'engine s':>9} {'agent-steps':>14} {'M steps/s':>10} "
        f"{'ns/step':>8} {'bytes/agent':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for n in args.sizes:
        r = child(n)
        rate = r["agent_steps"] / r["seconds"]
        per_agent = (r["peak_rss_bytes"] - base["peak_rss_bytes"]) / r["agents"]
        rows.append((n, 1e9 / rate))
        print(
            f"{r['agents']:>12,} {r['seconds']:>9.2f} {r['agent_steps']:>14,.0f} "
            f"{rate / 1e6:>10.1f} {1e9 / rate:>8.2f} {per_agent:>12.1f}"
        )
    ns = [x[1] for x in rows]
    print(f"cost per agent-step, max/min over sizes: {max(ns) / min(ns):.2f}x")
    print(f"agent arrays: {base['bytes_per_agent_arrays']:.0f} bytes per agent")


if __name__ == "__main__":
    main()
