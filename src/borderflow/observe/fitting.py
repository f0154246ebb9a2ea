"""Stored observations as the rows a calibration fits to (for the CLI and the web app alike)."""

from __future__ import annotations

import datetime as dt

from borderflow.observe.models import Observation
from borderflow.scenario.border_schema import ObservationRow


def as_observation_row(r: Observation) -> ObservationRow:
    """A stored observation as a case's observation row (one day: no end date)."""
    return ObservationRow(
        date=r.date,
        end=r.end_date if r.end_date != r.date else None,
        stat=r.stat,
        location=r.place_name,
        indicator=r.indicator,
        low=r.value_low,
        high=r.value_high,
        reliability=r.reliability,
    )


def stored_observations(
    db: str | None,
    *,
    place: str | None = None,
    indicator: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[ObservationRow]:
    """The observations of the store at ``db`` that match the filters, oldest first."""
    from borderflow.observe.store import Store

    stored = Store(db).query(place=place, indicator=indicator, since=since, until=until)
    return [as_observation_row(r) for r in stored]
