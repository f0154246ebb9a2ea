"""Write small synthetic Flee scenarios to disk, so tests go through the real readers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

START = dt.date(2020, 1, 1)


def write_scenario(
    root: Path,
    *,
    locations: list[tuple[str, str, int]],
    routes: list[tuple[str, str, float]],
    camp_series: dict[str, list[tuple[int, int]]],
    days: int,
    conflicts: dict[str, list[float]] | None = None,
    closures: list[tuple[str, str, str, int, int]] | None = None,
    countries: dict[str, str] | None = None,
    settings: str | None = None,
) -> Path:
    """A scenario folder from (name, type, population/capacity) rows and (day, count) series.

    The total series is the sum of the camp series; conflict columns default to the initial
    state of each conflict zone held for the whole run.
    """
    inputs, source = root / "input_csv", root / "source_data"
    inputs.mkdir(parents=True)
    source.mkdir()
    countries = countries or {}
    lines = ["#name,region,country,lat,lon,location_type,conflict_date,population"]
    for i, (name, kind, size) in enumerate(locations):
        country = countries.get(name, "Home")
        lines.append(f"{name},r,{country},{i * 0.1},{i * 0.2},{kind},0,{size}")
    (inputs / "locations.csv").write_text("\n".join(lines) + "\n")
    rows = ["#name1,name2,distance,forced_redirection"] + [f"{a},{b},{d},0" for a, b, d in routes]
    (inputs / "routes.csv").write_text("\n".join(rows) + "\n")
    rows = ["#closure_type,name1,name2,closure_start,closure_end"]
    rows += [f"{k},{a},{b},{s},{e}" for k, a, b, s, e in closures or []]
    (inputs / "closures.csv").write_text("\n".join(rows) + "\n")
    if conflicts is None:
        conflicts = {n: [1.0] * days for n, kind, _ in locations if "conflict" in kind}
    names = list(conflicts)
    rows = ["#Day," + ",".join(names)]
    rows += [f"{t}," + ",".join(str(conflicts[n][t]) for n in names) for t in range(days)]
    (inputs / "conflicts.csv").write_text("\n".join(rows) + "\n")
    (inputs / "sim_period.csv").write_text(f"StartDate,{START.isoformat()}\nLength,{days}\n")
    layout = ["total,total.csv"]
    totals: dict[int, int] = {}
    for camp, points in camp_series.items():
        file = f"{camp.lower()}.csv"
        layout.append(f"{camp},{file}")
        body = ["Date,count"] + [
            f"{(START + dt.timedelta(days=d)).isoformat()},{v}" for d, v in points
        ]
        (source / file).write_text("\n".join(body) + "\n")
        for d, v in points:
            totals[d] = totals.get(d, 0) + v
    body = ["Date,count"] + [
        f"{(START + dt.timedelta(days=d)).isoformat()},{v}" for d, v in sorted(totals.items())
    ]
    (source / "total.csv").write_text("\n".join(body) + "\n")
    (source / "data_layout.csv").write_text("\n".join(layout) + "\n")
    if settings is not None:
        (root / "simsetting.yml").write_text(settings)
    return root
