"""Tables of ``flee_parity.py``: one block per scenario, then the summary over all of them.

Only formatting and arithmetic on finished runs; nothing here starts a process.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Protocol

SPEED_TARGET = 300.0  # Flee wall time / borderflow wall time (whole processes)
ERROR_TARGET = 1.10  # borderflow --compat 3.1 error / Flee 3.1 error
FLEE = "flee 3.1"


class Run(Protocol):
    tool: str
    label: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    error_rescaled: float
    days: int
    final_agents: float
    final_camp_sim: dict[str, float]
    final_camp_data: dict[str, float]
    note: str

    @property
    def ok(self) -> bool: ...


def bf_tool(compat: str) -> str:
    """The row label of borderflow under a compatibility profile."""
    return "borderflow" if compat == "borderflow" else f"bf --compat {compat}"


def mean_sd(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample sd (0 for a single value)."""
    if not xs:
        return float("nan"), float("nan")
    return statistics.fmean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0


def fmt_time(s: float) -> str:
    """Seconds with sensible precision for both 0.3 s and 300 s runs."""
    if s != s:
        return "-"
    return f"{s:.0f}" if s >= 100 else f"{s:.1f}" if s >= 10 else f"{s:.2f}"


def ok_runs(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if r.ok]


def mean_of(runs: Sequence[Run], attr: str) -> float:
    ok = ok_runs(runs)
    return statistics.fmean(getattr(r, attr) for r in ok) if ok else float("nan")


def tool_row(name: str, runs: Sequence[Run], skipped: str = "") -> str:
    """One line of the per-scenario table."""
    if skipped:
        return f"{name:<17} {skipped}"
    ok = ok_runs(runs)
    failed = len(runs) - len(ok)
    if not ok:
        return f"{name:<17} {len(runs):>4}  all runs failed"
    walls = [r.wall_s for r in ok]
    err_m, err_sd = mean_sd([r.error_rescaled for r in ok])
    wall = f"{fmt_time(statistics.fmean(walls))} ({fmt_time(min(walls))}-{fmt_time(max(walls))})"
    line = (
        f"{name:<17} {len(ok):>4}  {wall:>22}  {max(r.peak_rss_mb for r in ok):>9.0f}"
        f"  {err_m:>8.4f} ± {err_sd:<7.4f}  {statistics.fmean(r.final_agents for r in ok):>12,.0f}"
    )
    return line + (f"   ({failed} failed)" if failed else "")


HEADER = (
    f"{'tool':<17} {'runs':>4}  {'wall s mean (min-max)':>22}  {'peak RSS MB':>9}"
    f"  {'Error (rescaled)':>19}  {'final agents':>12}"
)


def num(x: float, width: int = 10) -> str:
    """Right-aligned count, or a dash where a tool did not run."""
    return f"{'-':>{width}}" if x != x else f"{x:>{width},.0f}"


def verdict(ok: bool) -> str:
    """Target outcome as a word that stands out when not met."""
    return "met" if ok else "NOT met"


def camp_mean(runs: Sequence[Run], camp: str) -> float:
    """Mean last-day count at one camp over runs (nan without runs)."""
    ok = ok_runs(runs)
    if not ok:
        return float("nan")
    return statistics.fmean(r.final_camp_sim.get(camp, 0.0) for r in ok)


def report(scenario: str, tools: dict[str, list[Run]], skipped: dict[str, str]) -> dict:
    """Print the block of one scenario; return its numbers for --json."""
    everything = [r for runs in tools.values() for r in runs]
    good = ok_runs(everything)
    days = sorted({r.days for r in good})
    print(f"\n=== {scenario} ({', '.join(map(str, days)) or '?'} days) ===")
    print(HEADER)
    for name, runs in tools.items():
        print(tool_row(name, runs, skipped.get(name, "" if runs else "not run")))
    camps: list[str] = []
    for r in good:
        camps += [c for c in r.final_camp_sim if c not in camps]
    if camps:
        names = [n for n in tools if ok_runs(tools[n])]
        print(f"\n{'final agents per camp (mean)':<30} {'data':>10}", end="")
        print("".join(f" {n[:14]:>14}" for n in names))
        for c in camps:
            print(f"{c:<30} {num(good[0].final_camp_data.get(c, float('nan')))}", end="")
            print("".join(f" {num(camp_mean(tools[n], c), 14)}" for n in names))
    if len(days) > 1:
        print(f"WARNING: runs cover different numbers of days: {days}")
    out: dict = {"scenario": scenario, "days": days}
    flee_wall, flee_err = (
        mean_of(tools.get(FLEE, []), "wall_s"),
        mean_of(tools.get(FLEE, []), "error_rescaled"),
    )
    for name, runs in tools.items():
        if name == FLEE or not ok_runs(runs) or flee_wall != flee_wall:
            continue
        speed, ratio = (
            flee_wall / mean_of(runs, "wall_s"),
            mean_of(runs, "error_rescaled") / flee_err,
        )
        print(f"{name}: speed ratio Flee/borderflow {speed:,.0f}x, error ratio {ratio:.3f}")
        out[name] = {"speed_ratio": speed, "error_ratio": ratio}
    for r in everything:
        if not r.ok:
            print(f"FAILED {r.tool} {r.label}: {r.note}")
    return out


def summary(
    scenarios: Sequence[str], runs: dict[str, dict[str, list[Run]]], prefixes: dict[str, int]
) -> dict:
    """The table over all scenarios, and the issue's four targets."""
    seen = list(dict.fromkeys(t for s in scenarios for t in runs[s]))
    bfs = [t for t in seen if t != FLEE]
    tools = ([FLEE] if FLEE in seen else []) + bfs
    print("\n=== summary: whole-process wall time (mean of runs) and Error (rescaled) ===")
    head = f"{'scenario':<17} {'days':>6} {'agents':>11} {'Flee s':>7}"
    head += "".join(f" {t[-10:] + ' s':>12} {'ratio':>6}" for t in bfs)
    head += f"  {'Flee error':>15}" + "".join(f"  {t[-10:] + ' error':>17}" for t in bfs)
    print(head)
    means: dict[str, list[float]] = {t: [] for t in tools}
    met = {"runs": True, "error": True, "speed": True}
    for s in scenarios:
        r = runs[s]
        good = ok_runs([x for t in tools for x in r.get(t, [])])
        days = max((x.days for x in good), default=0)
        mark = "*" if s in prefixes else " "
        flee_wall = mean_of(r.get(FLEE, []), "wall_s")
        line = f"{s:<17} {days:>5}{mark} {num(mean_of(r.get(FLEE, []), 'final_agents'), 11)}"
        line += f" {fmt_time(flee_wall):>7}"
        for t in bfs:
            wall = mean_of(r.get(t, []), "wall_s")
            speed = flee_wall / wall
            line += (
                f" {fmt_time(wall):>12} {speed:>5.0f}x"
                if speed == speed
                else f" {fmt_time(wall):>12} {'-':>6}"
            )
            met["speed"] &= speed >= SPEED_TARGET if speed == speed else True
            met["runs"] &= bool(r.get(t)) and all(x.ok for x in r.get(t, []))
        for t in tools:
            m, sd = mean_sd([x.error_rescaled for x in ok_runs(r.get(t, []))])
            means[t].append(m)
            w = 15 if t == FLEE else 17
            line += f"  {f'{m:.4f} ± {sd:.4f}' if m == m else '-':>{w}}"
        v31 = bf_tool("3.1")
        if v31 in r and FLEE in r and ok_runs(r[FLEE]):
            met["error"] &= mean_of(r[v31], "error_rescaled") <= ERROR_TARGET * mean_of(
                r[FLEE], "error_rescaled"
            )
        print(line)
    complete = [i for i in range(len(scenarios)) if all(means[t][i] == means[t][i] for t in tools)]
    avg = {
        t: statistics.fmean(means[t][i] for i in complete) if complete else float("nan")
        for t in tools
    }
    print(
        f"{f'mean ({len(complete)})':<17} {'':>6} {'':>11} {'':>7}" + " " * (19 * len(bfs)), end=""
    )
    print("".join(f"  {avg[t]:>{15 if t == FLEE else 17}.4f}" for t in tools))
    if len(complete) < len(scenarios):
        print(f"(mean over the {len(complete)} scenarios that every tool ran)")
    if prefixes:
        print(
            "* a prefix of the period (--days): "
            + ", ".join(f"{s} {d} days" for s, d in prefixes.items())
        )
    default, v31 = bf_tool("borderflow"), bf_tool("3.1")
    lines = [("borderflow runs every scenario Flee runs", met["runs"])]
    if v31 in tools and FLEE in tools:
        lines.append(
            (
                f"--compat 3.1 error within +{ERROR_TARGET - 1:.0%} of Flee 3.1's (or lower), each",
                met["error"],
            )
        )
    if default in tools and v31 in tools:
        better = avg[default] <= avg[v31]
        lines.append(("default rules no worse than --compat 3.1 on the mean", better))
    if FLEE in tools:
        lines.append(
            (
                f"whole-process wall time >= {SPEED_TARGET:.0f}x lower than Flee 3.1's, each",
                met["speed"],
            )
        )
    for text, ok in lines:
        print(f"target: {text}: {verdict(ok)}")
    return {"means": avg, "targets": dict(lines)}


def cpu_table(scenarios: Sequence[str], runs: dict[str, dict[str, list[Run]]]) -> None:
    """Whole-process CPU seconds (user + system) of each tool: a shared machine's load
    lengthens wall times, hardly CPU times. Runs saved before CPU time was kept show "-"."""
    seen = list(dict.fromkeys(t for s in scenarios for t in runs[s]))
    print("\n=== whole-process CPU time, user + system (mean of runs) ===")
    print(f"{'scenario':<17}" + "".join(f" {t[-12:] + ' CPU s':>18}" for t in seen))
    for s in scenarios:
        cells = [mean_of(runs[s].get(t, []), "cpu_s") for t in seen]
        print(f"{s:<17}" + "".join(f" {fmt_time(c):>18}" for c in cells))
