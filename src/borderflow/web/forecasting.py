"""The forecast cycle on the server: which origin the next step takes, and that step as a job.

Each border scenario has a forecast store in ``DATA/forecasts/<scenario>/``
(:mod:`borderflow.forecast.store`), fed by the observation store: the reports of the case's
places (crossings, places, roads) that users uploaded. The next step of the cycle goes on from
the latest stored forecast and weighs only the reports it has not used; its origin is the last
day of the newest report, or the day after the latest forecast's origin when the new reports
are late ones (their period ended before it). Steps of one scenario never run at once: they
share a store, and the second finds what the first wrote.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from borderflow.calibrate.problem import last_day
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.scenario.border_io import BorderCase
from borderflow.scenario.border_schema import ObservationRow

UPDATE_ON_UPLOAD = "forecast_update_on_upload"  # the setting's key in web_setting
MEMBERS = 50  # particles of a scenario's first forecast on the server, unless asked otherwise
HORIZON = 14  # days its members run after the origin
_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


class NothingNewError(ScenarioError):
    """The latest forecast already weighs every stored report of the case."""


def store_dir(data_dir: Path, name: str) -> Path:
    return data_dir / "forecasts" / name


def locations(case: BorderCase) -> set[str]:
    """The places whose reports the case's model can weigh (its places, crossings and roads)."""
    from borderflow.results.series import FLOW_SEPARATOR

    names = {p.name for p in case.places} | {x.name for x in case.crossings}
    return names | {f"{r.from_}{FLOW_SEPARATOR}{r.to}" for r in case.routes}


def case_reports(case: BorderCase, rows: list[ObservationRow]) -> list[ObservationRow]:
    """The reports of the case's places within its period (a store holds every case's)."""
    places = locations(case)
    start, end = case.spec.case.start, case.spec.case.end
    return [o for o in rows if o.location in places and o.date >= start and last_day(o) < end]


def latest_manifest(out: Path) -> dict | None:
    from borderflow.forecast.store import manifest, stored

    folders = stored(out)
    return manifest(folders[-1]) if folders else None


def pending(reports: list[ObservationRow], latest: dict | None) -> list[ObservationRow]:
    """The reports the latest forecast did not weigh: what arrived since."""
    from borderflow.forecast.cycle import report_key

    used = set(latest["reports"]) if latest else set()
    return [o for o in reports if report_key(o) not in used]


def next_origin(case: BorderCase, reports: list[ObservationRow], latest: dict | None) -> dt.date:
    """The origin of the cycle's next step (see the module's docstring)."""
    new = pending(reports, latest)
    if latest is not None and not new:
        raise NothingNewError("the latest forecast already weighs every stored report")
    newest = max((last_day(o) for o in new), default=case.spec.case.origin)
    if latest is not None:
        newest = max(newest, dt.date.fromisoformat(latest["origin"]) + dt.timedelta(days=1))
    if newest >= case.spec.case.end:
        raise ScenarioError(f"the case ends on {case.spec.case.end}: no forecast after it")
    return newest


@dataclass(frozen=True)
class Update:
    """What a forecast job asks: the scenario, and for a first forecast its members and seed."""

    scenario: str
    members: int = MEMBERS
    seed: int = 0


def _lock(out: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(out.resolve(), threading.Lock())


def run_update(
    job: Update,
    data_dir: Path,
    db_url: str,
    tick: Callable[[float], None],
    executor: Executor | None = None,
) -> str:
    """Make the scenario's next forecast from the reports in the store; returns what it did.

    Progress: the assimilation's days are the first half, the members the second.
    """
    from borderflow.forecast.cycle import ForecastSpec, forecast
    from borderflow.observe.fitting import stored_observations
    from borderflow.web import catalogue

    case = catalogue.border_case(job.scenario)
    out = store_dir(data_dir, job.scenario)
    with _lock(out):
        latest = latest_manifest(out)
        try:
            origin = next_origin(case, case_reports(case, stored_observations(db_url)), latest)
        except NothingNewError as exc:
            return exc.message
        kept = latest["settings"] if latest else {}
        spec = ForecastSpec(
            catalogue.path_of(job.scenario),
            out,
            members=kept.get("members", job.members),
            seed=kept.get("seed", job.seed),
            db=db_url,
            horizon=kept.get("horizon", HORIZON) if latest else HORIZON,
            # a cycle stored without the key used the jitter (the earlier default): keep it
            move=kept.get("move", "jitter") if latest else None,
            executor=executor,
        )
        day = max((origin - case.spec.case.start).days, 1)
        result = forecast(
            spec,
            origin,
            on_step=lambda s: tick(0.5 * min(s.day / day, 1.0)),
            on_member=lambda i: tick(0.5 + 0.5 * (i + 1) / spec.members),
        )
    start = f"went on from {result.parent.name}" if result.parent else "started from day 0"
    weighed = f"weighed {result.new} new reports ({result.used} in all)"
    return f"forecast from {origin}: {weighed}, {start}"
