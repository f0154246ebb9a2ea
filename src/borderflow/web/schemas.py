"""Request and response bodies of the API (docs/api.md), as pydantic models.

Text fields refuse control characters and numbers are bounded so that no input can reach the
database in a form it rejects (PostgreSQL refuses NUL characters and 64-bit ids): bad input is
a 422, never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from borderflow.web.models import ROLES

# No control characters (tabs and newlines included): names, labels, organisations.
PLAIN = r"^[^\x00-\x1f\x7f]*$"
USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
MAX_ID = 2**31 - 1  # ids and seeds fit a 32-bit INTEGER column on every database
MAX_MEMBERS = 1000
MAX_CAPACITY = 10_000_000

Role = Literal["viewer", "analyst", "data-entry", "admin"]
assert set(get_args(Role)) == set(ROLES)
Plain = Annotated[str, StringConstraints(pattern=PLAIN)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=USERNAME)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Organisation = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=PLAIN)
]
Label = Annotated[str, StringConstraints(max_length=100, pattern=PLAIN)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PLAIN)]


class ErrorOut(BaseModel):
    """Every error: ``detail`` is a message, or a structure (validation, rejected rows)."""

    detail: Any


class _In(BaseModel):
    """A request body: no unknown fields, no coercion (``false`` is not 0, ``"1"`` not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- session -----------------------------------------------------------------------------------
class LoginIn(_In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PLAIN)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Me(BaseModel):
    username: str
    role: Role
    organisation: str


class LoginOut(Me):
    token: str


class Health(BaseModel):
    status: Literal["ok"]


# -- scenarios ---------------------------------------------------------------------------------
class Dimension(BaseModel):
    default: str
    options: dict[str, str]  # option -> description


class Scenario(BaseModel):
    name: str
    kind: Literal["border", "flee"]
    title: str
    start: dt.date
    end: dt.date
    origin: dt.date
    crossings: list[str]
    variants: dict[str, Dimension]


class Place(BaseModel):
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    adm1_code: str = ""  # COD-AB p-codes where the case gives them (#adm1+code, #adm2+code)
    adm2_code: str = ""


class Route(BaseModel):
    model_config = ConfigDict(validate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    km: float
    mode: str


class ScenarioDetail(Scenario):
    places: list[Place]
    routes: list[Route]


class Source(BaseModel):
    parameter: str
    value: float | None
    source: str | None
    assumption: str | None


class CaseObservation(BaseModel):
    """A row of a case's own observations.csv."""

    date: dt.date
    end: dt.date | None
    stat: str
    location: str
    indicator: str
    low: float
    high: float
    source: str
    reliability: str


# -- runs and results --------------------------------------------------------------------------
RUN_EXAMPLES = [
    {"scenario": "chile-peru-2025", "variant": {"peru_policy": "quota"},
     "capacity": {"Chacalluta-Santa Rosa": 9000}, "seed": 1, "members": 0},
    {"scenario": "chile-peru-2025", "seed": 2, "members": 3},
]  # fmt: skip


class RunIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": RUN_EXAMPLES})

    scenario: Key
    variant: dict[Key, Key] = Field(default_factory=dict, max_length=50)
    capacity: dict[Key, Annotated[int, Field(ge=0, le=MAX_CAPACITY)]] = Field(
        default_factory=dict, max_length=50
    )
    seed: int = Field(0, ge=0, le=MAX_ID)
    members: int = Field(0, ge=0, le=MAX_MEMBERS, description="0: one run; 2 or more: an ensemble.")


class RunAccepted(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]


class RunOut(BaseModel):
    id: int
    kind: Literal["run", "forecast"] = Field(
        "run", description="run: a run or ensemble; forecast: a step of the forecast cycle."
    )
    scenario: str
    variant: dict[str, str]
    capacity: dict[str, int]
    seed: int
    members: int
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    message: str
    created_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class SeriesRow(BaseModel):
    date: dt.date
    location: str
    indicator: str
    value: float | None


class BandRow(BaseModel):
    date: dt.date
    location: str
    indicator: str
    q05: float | None
    q25: float | None
    q50: float | None
    q75: float | None
    q95: float | None
    mean: float | None


class ForecastOut(BaseModel):
    """A stored forecast: its origin, the forecast it went on from and the reports it used."""

    origin: dt.date
    parent: dt.date | None  # origin of the forecast it went on from; None: from day 0
    new_reports: int  # reports weighed by this forecast
    reports: int  # reports it is conditioned on, all together
    generation: int  # assimilation steps since day 0
    members: int
    seed: int
    # the model's error on its own forecasts, in the bands after the last report (log scale);
    # None for a forecast stored before it was measured
    error_variance_per_day: float | None = None


class ForecastUpdateIn(_In):
    """The next step of a scenario's forecast cycle; members and seed count for its first."""

    members: int = Field(50, ge=2, le=MAX_MEMBERS, description="Particles of a first forecast.")
    seed: int = Field(0, ge=0, le=MAX_ID)


class PendingRow(BaseModel):
    """A stored report of the case's places that the latest forecast has not weighed."""

    date: dt.date
    end_date: dt.date
    stat: str
    place_name: str
    indicator: str
    value_low: float
    value_high: float
    reliability: str


class ForecastSettingsIn(_In):
    update_on_upload: bool = Field(
        description="An upload of observations queues the next forecast of each scenario whose "
        "places it reports."
    )


class ForecastSettingsOut(ForecastSettingsIn):
    updated_by: str | None
    updated_at: dt.datetime | None


class AssimilatedRow(BaseModel):
    """One report a forecast weighed: when, what, its error, the ESS after its step."""

    step: int
    assimilated: dt.date
    date: dt.date
    end: dt.date | None
    stat: str
    location: str
    indicator: str
    low: float
    high: float
    reliability: str
    error_sd: float
    simulated_median: float
    ess: float
    resampled: bool

    @field_validator("end", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return None if value == "" else value


class CrossingSummary(BaseModel):
    """Headline figures of one crossing from the forecast origin on.

    For an ensemble: figures of the median band (q50), and ``members_90`` holding each
    figure's 5-95 % range over the members.
    """

    model_config = ConfigDict(extra="allow")

    crossing: str
    peak_stranded: float
    peak_date: dt.date
    days_with_stranded: int
    person_days_stranded: float
    crossed: float
    refused: float
    irregular: float
    needs_at_peak: dict[str, float | None]


class NeedsRow(BaseModel):
    """People and needs at one place on one day; one column per need of the case."""

    model_config = ConfigDict(extra="allow")

    date: dt.date
    location: str
    people: float | None
    children: float | None


class CompareSide(BaseModel):
    run: RunOut
    summary: list[CrossingSummary]


class Difference(BaseModel):
    """``b`` minus ``a`` for one crossing."""

    crossing: str
    peak_stranded: float
    person_days_stranded: float
    days_with_stranded: float
    crossed: float
    refused: float
    irregular: float
    needs_at_peak: dict[str, float | None]


class Comparison(BaseModel):
    a: CompareSide
    b: CompareSide
    differences: list[Difference]


# -- observations ------------------------------------------------------------------------------
class ObservationOut(BaseModel):
    """A stored observation; with ``?history=true`` also each value a correction replaced."""

    id: int
    date: dt.date
    end_date: dt.date
    stat: str
    place_name: str
    place_code: str
    indicator: str
    direction: str
    nationality: str
    sex_age: str
    value_low: float
    value_high: float
    source_publisher: str
    source_url: str
    source_date: dt.date | None
    reliability: str
    coverage: str
    current: bool = Field(description="False for a value a correction replaced.")
    recorded_at: dt.datetime | None = Field(description="When this value was stored (UTC).")
    recorded_by: str = Field(description="Who stored it: a user, or '(cli)'.")
    replaced_at: dt.datetime | None
    replaced_by: str | None


class ImportResult(BaseModel):
    added: int = Field(description="New observations.")
    revised: int = Field(description="Stored observations given another value (corrections).")
    already_stored: int = Field(description="Rows stored before with the same value.")
    forecast_jobs: list[int] | None = Field(
        None,
        description="Forecast updates the upload queued (present when an admin set uploads to "
        "queue them, and it queued some).",
    )


class RowProblem(BaseModel):
    row: int | None
    field: str
    reason: str


# -- users, tokens, audit ----------------------------------------------------------------------
class UserIn(_In):
    username: Username
    password: Password
    role: Role
    organisation: Organisation


class UserOut(BaseModel):
    username: str
    role: Role
    organisation: str
    created_at: dt.datetime


class TokenIn(_In):
    label: Label = ""


class TokenOut(BaseModel):
    id: int
    token: str


class Revoked(BaseModel):
    id: int
    revoked: bool


class AuditRow(BaseModel):
    id: int
    at: dt.datetime
    username: str
    action: str
    target: str
    detail: dict[str, Any]
