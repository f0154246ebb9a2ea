"""Flee 3.1 reference run, printed as Flee's out.csv on stdout.

Run it with the Python of a venv that has flee==3.1 installed (see
``flee_parity.py``), never with borderflow's own venv::

    python flee_reference_driver.py <scenario_dir> <days|0> [simsetting.yml] [--seed N] > out.csv

``<scenario_dir>`` holds ``input_csv/`` and ``source_data/``. ``days = 0`` takes
the length from the period file. Without a settings file an empty one is used,
so every setting keeps Flee 3.1's code default (that is how the reference figures
were made).

Why a driver of our own: the wheel on PyPI ships only the ``flee`` package, not
the run script of its era, and the scenarios carry ``sim_period.csv`` while 3.1
expects ``conflict_period.csv``. This script performs the same steps as the
3.1-era ``runscripts/run.py`` against 3.1's API: settings, conflicts, locations,
routes, closures, validation data with registration corrections, day-0 camp
insertion, then per day conflict update, data-driven spawning (3.1 default: the
*total* series), spawn-weight refresh, closures, ``evolve`` and one out.csv row.

Flee writes diagnostics to stderr, and a few stray ``print`` calls to stdout;
stdout is pointed at stderr while Flee runs so that only out.csv reaches it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

# Columns that follow the per-camp triples, in 3.1's order.
TAIL_COLUMNS = (
    "Total error,refugees in camps (UNHCR),total refugees (simulation),"
    "raw UNHCR refugee count,refugees in camps (simulation),refugee_debt"
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Positional interface mirrors Flee's own run script."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario_dir", type=Path, help="folder with input_csv/ and source_data/")
    p.add_argument("days", type=int, help="days to simulate; 0 = length from the period file")
    p.add_argument("settings", type=Path, nargs="?", help="simsetting.yml (default: empty)")
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed Python's and numpy's global RNGs (Flee itself never seeds)",
    )
    return p.parse_args(argv)


def prepare_workdir(scenario: Path, workdir: Path, settings: Path | None) -> tuple[Path, Path]:
    """Copy the inputs into a scratch dir that 3.1 can read as-is.

    3.1 reads ``conflict_period.csv``; a scenario with only ``sim_period.csv``
    (same rows) gets a copy under the old name. Running inside the scratch dir
    also keeps Flee's cwd-relative look-ups (``input_csv/demographics_*.csv``)
    and any log files away from the scenario folder.
    """
    src = scenario / "input_csv"
    dst = workdir / "input_csv"
    shutil.copytree(src, dst)
    period = dst / "conflict_period.csv"
    if not period.exists():
        sim_period = dst / "sim_period.csv"
        if not sim_period.exists():
            raise SystemExit(f"{src}: neither conflict_period.csv nor sim_period.csv")
        shutil.copyfile(sim_period, period)
    if settings is None:
        settings = workdir / "simsetting.yml"
        settings.write_text("")  # empty file = all code defaults
    return dst, settings


def fmt(x: object) -> str:
    """Python's str(), as Flee's ``%s`` formatting does (numpy scalars as plain)."""
    if hasattr(x, "item"):
        x = x.item()  # type: ignore[union-attr]
    return str(x)


def run(args: argparse.Namespace, out: TextIO) -> None:
    """Flee 3.1 default run; one out.csv row per day to ``out``."""
    import numpy as np
    from flee import InputGeography, flee, spawning
    from flee.datamanager import handle_refugee_data, read_period
    from flee.SimulationSettings import SimulationSettings

    if args.seed is not None:
        import random

        random.seed(args.seed)
        np.random.seed(args.seed % 2**32)

    scenario = args.scenario_dir.resolve()
    validation_dir = scenario / "source_data"
    settings = args.settings.resolve() if args.settings else None

    with tempfile.TemporaryDirectory(prefix="flee31-") as tmp:
        workdir = Path(tmp)
        input_dir, settings = prepare_workdir(scenario, workdir, settings)
        os.chdir(workdir)

        period = str(input_dir / "conflict_period.csv")
        start_date, end_time = read_period.read_conflict_period(period)
        if args.days > 0:
            end_time = args.days

        SimulationSettings.ReadFromYML(str(settings))
        conflicts_csv = str(input_dir / "conflicts.csv")
        SimulationSettings.ConflictInputFile = conflicts_csv

        e = flee.Ecosystem()
        ig = InputGeography.InputGeography()
        ig.ReadConflictInputCSV(conflicts_csv)
        ig.ReadLocationsFromCSV(str(input_dir / "locations.csv"))
        ig.ReadLinksFromCSV(str(input_dir / "routes.csv"))
        ig.ReadClosuresFromCSV(str(input_dir / "closures.csv"))
        e, lm = ig.StoreInputGeographyInEcosystem(e)
        if SimulationSettings.spawn_rules.get("read_from_agents_csv_file"):
            ig.ReadAgentsFromCSV(e, str(input_dir / "agents.csv"))

        d = handle_refugee_data.RefugeeTable(
            csvformat="generic",
            data_directory=str(validation_dir),
            start_date=start_date,
            data_layout="data_layout.csv",
            population_scaledown_factor=SimulationSettings.optimisations[
                "PopulationScaleDownFactor"
            ],
        )
        d.ReadL1Corrections(str(input_dir / "registration_corrections.csv"))

        camp_names = e.get_camp_names()
        header = "Day,Date,"
        for name in camp_names:
            # Day-0 camp populations become agents (insert_day0, default on).
            spawning.add_initial_refugees(e, d, lm[name])
            header += f"{name} sim,{name} data,{name} error,"
        header += TAIL_COLUMNS
        idp_totals = SimulationSettings.log_levels.get("idp_totals", 0) > 0
        if idp_totals:
            header += ",total IDPs"
        print(header, file=out, flush=True)

        start = dt.datetime.strptime(start_date, "%Y-%m-%d")
        camps = [lm[name] for name in camp_names]
        for t in range(end_time):
            ig.AddNewConflictZones(e, t)
            # 3.1's default SumFromCamps=False: daily arrivals follow the total series.
            _new, refugees_raw, refugee_debt = spawning.spawn_daily_displaced(e, t, d)
            spawning.refresh_spawn_weights(e)
            e.enact_border_closures(t)
            e.evolve()

            data = [d.get_field(name, t) for name in camp_names]
            sims = [c.numAgents for c in camps]
            rel = [
                0.0 if v < 0.00001 else round(abs(s / v - 1.0), 4)
                for s, v in zip(sims, data, strict=True)
            ]
            absd = [round(abs(float(s) - float(v)), 4) for s, v in zip(sims, data, strict=True)]

            # The 3.1-era script dates row t as start + t (head prints start + t + 1).
            row = [str(t), (start + dt.timedelta(days=t)).strftime("%Y-%m-%d")]
            for s, v, r in zip(sims, data, rel, strict=True):
                row += [fmt(s), fmt(v), fmt(r)]
            in_camps = sum(sims)
            if refugees_raw > 0:
                row += [
                    fmt(float(np.sum(absd)) / float(refugees_raw)),
                    fmt(int(sum(data))),
                    fmt(e.numAgents()),
                    fmt(refugees_raw),
                    fmt(in_camps),
                    fmt(refugee_debt),
                ]
            else:
                row += ["0.0", "0", fmt(e.numAgents()), "0", fmt(in_camps), "0"]
            if idp_totals:
                row.append(fmt(e.numIDPs()))
            print(",".join(row), file=out, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Keep stdout for out.csv only; Flee's chatter goes to stderr."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        run(args, out)
    finally:
        sys.stdout = out
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
