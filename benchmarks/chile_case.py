"""Engine time of the built-in Chile–Peru 2025 case, at full and at 10× population, one core.

Every irregular migrant of the case's stock is an agent (336,984), simulated over the whole
case (29 Oct 2025 to 31 Mar 2026, which contains the forecast window 28 Nov 2025 to 31 Mar
2026). Reported: engine time (``model.run()``: all phases, excluding reading the files and
building the population), the time of each phase, set-up time, and agent-days per second.
Targets (issue 3): under 5 s at full size, under 30 s at 10×. Since issue 11 a day costs what
moves (departures by threshold, the other phases over the people who left home), so engine
time grows with the people who leave, not with the population. Nothing is asserted.

    python benchmarks/chile_case.py [--scales 1 10] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def main() -> None:
    from borderflow.rules.border import BorderModel
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", default="chile-peru-2025")
    args = parser.parse_args()

    case = read_border_case(resolve_scenario(args.case))
    warm = BorderModel(case, args.seed, scale=0.01)
    warm.run()  # loads the compiled kernels from the cache
    print(f"{case.name}: {case.spec.case.start} to {case.spec.case.end}, one core")
    header = f"{'agents':>12} {'set-up s':>9} {'engine s':>9} {'M agent-days/s':>15}  phases (ms)"
    print(header)
    print("-" * len(header))
    for scale in args.scales:
        t0 = time.perf_counter()
        model = BorderModel(case, args.seed, scale=scale)
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.run()
        engine = time.perf_counter() - t0
        agent_days = len(model.agents) * model.days
        phases = ", ".join(f"{k} {1000 * v:.1f}" for k, v in model.plan.seconds.items())
        print(
            f"{len(model.agents):>12,} {setup:>9.3f} {engine:>9.3f} "
            f"{agent_days / engine / 1e6:>15.1f}  {phases}"
        )


if __name__ == "__main__":
    main()
