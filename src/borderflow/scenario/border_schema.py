"""The border-crisis scenario format: one ``scenario.toml`` plus CSV tables, all validated.

A case folder holds::

    scenario.toml     parameters (each with its source or marked as an assumption), dates,
                      file names, and the variants a user can pick from the command line
    places.csv        #loc+name, #loc+code (p-code), #country+code (ISO3), #adm1+name,
                      optional #adm1+code, #adm2+code (COD-AB p-codes, e.g. CL15, PE2301),
                      #geo+lat, #geo+lon, kind (residence | city | post | destination | shelter)
    routes.csv        from, to, distance_km, mode (bus | walk | ferry | boat | car | train),
                      source
    population.csv    residence place, share of the stock living there, source
    groups.csv        nationality (ISO3), share, documented share, family share, hazard
                      multiplier, preferred crossing weights, source
    crossings.csv     name, exit_post, entry_post, open_hour, close_hour, capacity_per_day,
                      regular_per_day, source
    policies.csv      crossing, side (entry | exit), start, end, policy, quota, detection, source,
                      optional nationalities and papers (policy selective), announced
    events.csv        start, end, kind, value, target, to, label, source, reliability, optional
                      param (kind set) and announced
    needs.csv         indicator, per_person, unit, standard
    observations.csv  date, location, indicator, low, high, source, reliability

Every number a mechanism uses comes from these files; the code holds only mechanisms. Each is
checked against the range its mechanism can take (a probability from 0 to 1, a speed above 0,
a population that fits in memory, a period of at most ten years), so that a typo is one clear
error before anything runs rather than a crash, a hang or a silent nonsense result.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

PlaceKind = Literal["residence", "city", "post", "destination", "shelter"]
Policy = Literal["open", "documented_only", "closed", "quota", "corridor", "selective"]
Side = Literal["entry", "exit"]
EventKind = Literal[
    "hazard",  # multiplies everyone's departure hazard while active (value: the factor)
    "deadline",  # countdown to ``start``: hazard × (1 + value·30/days left) until then
    "reinforcement",  # adds value to the detection of irregular crossings at ``target``
    "return_flight",  # value seats for people stranded or sheltered from crossing ``target``
    "shelter",  # people at crossing (stranded) or city (waiting) ``target`` move to shelter(s)
    "blockade",  # the approach to crossing ``target``'s exit post is blocked while active
    "set",  # sets parameter ``param`` at crossing ``target`` (blank: all) while active
    "redirect",  # share ``value`` of the people picking crossing ``target`` pick ``to`` instead
    "shelter_exit",  # a daily share of shelter ``target``'s people leave for ``to``
    "removal",  # value seats (0: everyone) take people from place ``target`` away (state flown)
    "inflow",  # value people a day join the population at risk at residence ``target``
    "crowd",  # value people are present at place ``target`` on ``start``
]
RouteMode = Literal["bus", "walk", "ferry", "boat", "car", "train"]


# Bounds: one row per person must fit in memory (10^7 people take ~1 GB), a daily loop must end.
MAX_PEOPLE = 50_000_000
MAX_DAYS = 3660  # ten years
FIRST_YEAR, LAST_YEAR = 1900, 2200
MAX_PER_DAY = 10_000_000  # people a crossing can process in a day
#: What a ``set`` event may set, and the range of its value (rates are daily probabilities).
SET_PARAMS: dict[str, tuple[float, float, str]] = {
    "return_per_day": (0.0, 1.0, "a probability, from 0 to 1"),
    "divert_per_day": (0.0, 1.0, "a probability, from 0 to 1"),
    "irregular_per_day": (0.0, 1.0, "a probability, from 0 to 1"),
    "waiting_irregular_per_day": (0.0, 1.0, "a probability, from 0 to 1"),
    "readmitted_per_day": (0.0, 1.0, "a probability, from 0 to 1"),
    "detection_base": (0.0, 1.0, "a probability, from 0 to 1"),
    "capacity_per_day": (0.0, MAX_PER_DAY, "people a day"),
    "regular_per_day": (0.0, MAX_PER_DAY, "people a day"),
    "quota": (0.0, MAX_PER_DAY, "people a day"),
}


class _Strict(BaseModel):
    # No NaN or infinity anywhere: TOML writes them as `nan` and `inf`, CSV cells as "nan".
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Span(_Strict):
    """A row active from ``start`` to ``end`` inclusive (no end: until the end of the run)."""

    start: dt.date
    end: dt.date | None = None

    @model_validator(mode="after")
    def _span(self) -> _Span:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Param(_Strict):
    """A number with where it comes from: a source, or an assumption with its reasoning."""

    value: float
    source: str | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> Param:
        if bool(self.source) == bool(self.assumption):
            raise ValueError("give exactly one of 'source' or 'assumption'")
        return self


def _within(low: float, high: float, what: str, *, above: bool = False) -> AfterValidator:
    """A Param whose value lies in ``[low, high]`` (``(low, high]`` if ``above``)."""

    def check(param: Param) -> Param:
        if not (low < param.value if above else low <= param.value) or param.value > high:
            raise ValueError(f"{param.value:g} is out of range: {what}")
        return param

    return AfterValidator(check)


Probability = Annotated[Param, _within(0.0, 1.0, "a probability, from 0 to 1")]
Share = Annotated[Param, _within(0.0, 1.0, "a share, from 0 to 1")]
Factor = Annotated[Param, _within(0.0, 1e6, "a multiplier, from 0 to 1,000,000")]
Speed = Annotated[Param, _within(0.0, 1e5, "km a day, above 0 and at most 100,000", above=True)]
Days = Annotated[Param, _within(0.0, MAX_DAYS, f"days, from 0 to {MAX_DAYS}")]
Window = Annotated[Param, _within(1.0, MAX_DAYS, f"days, from 1 to {MAX_DAYS}")]
People = Annotated[
    Param, _within(1.0, MAX_PEOPLE, f"people, from 1 to {MAX_PEOPLE:,} (one row per person)")
]


def _check_year(day: dt.date, name: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{name} {day} is not between {FIRST_YEAR} and {LAST_YEAR}")


class CaseInfo(_Strict):
    name: str
    title: str
    start: dt.date
    end: dt.date
    origin: dt.date  # forecast origin: observations exist up to this date
    description: str = ""

    @model_validator(mode="after")
    def _dates(self) -> CaseInfo:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if not self.start <= self.origin <= self.end:
            raise ValueError(f"origin {self.origin} is outside {self.start}..{self.end}")
        days = (self.end - self.start).days
        if days > MAX_DAYS:
            raise ValueError(f"{self.start}..{self.end} is {days:,} days: at most {MAX_DAYS}")
        _check_year(self.start, "start")
        _check_year(self.end, "end")
        return self


class Population(_Strict):
    stock: People  # people at risk of leaving (the irregular migrants)
    child_share_in_families: Share  # share of people in families with children who are minors


class Departure(_Strict):
    base_hazard: Probability  # daily probability of deciding to leave, before any event
    social_weight: Factor  # hazard multiplier per 1 % of the stock that left in the window
    social_window_days: Window
    preparation_days: Days  # mean days from deciding to leaving (money, tickets)
    documented_multiplier: Factor
    family_multiplier: Factor


class Travel(_Strict):
    """Speeds by road mode: bus and walking always; the others only where a route uses them."""

    bus_km_per_day: Speed
    walk_km_per_day: Speed
    ferry_km_per_day: Speed | None = None
    boat_km_per_day: Speed | None = None
    car_km_per_day: Speed | None = None
    train_km_per_day: Speed | None = None


#: The stranded people's nightly rates, in the order the night's choices are taken
#: (rules.border_kernels.NightChoice): readmitted, walk back, divert, cross irregularly.
NIGHT_RATES = ("readmitted_per_day", "return_per_day", "divert_per_day", "irregular_per_day")


class Stranded(_Strict):
    """Daily choices of a person refused at a crossing (the rest wait another day)."""

    return_per_day: Probability  # back to the last city
    divert_per_day: Probability  # to the other crossing
    irregular_per_day: Probability  # try to cross irregularly (at night)
    detection_base: Probability  # chance an irregular attempt is caught, without reinforcement
    readmitted_per_day: Probability  # of those who may re-enter the exit country, share who do


class News(_Strict):
    """How people preparing or travelling learn that their crossing is shut, and what they do.

    A crossing is shut while a ``blockade`` event holds its approach or its entry policy is
    ``closed``; people learn of it (and of its reopening) ``delay_days`` later. Each day the
    informed go home (``home_per_day``), divert (``divert_per_day``) or wait.
    """

    delay_days: Days  # whole days (a fraction is dropped)
    home_per_day: Probability
    divert_per_day: Probability

    @model_validator(mode="after")
    def _shares(self) -> News:
        total = self.home_per_day.value + self.divert_per_day.value
        if total > 1.0:
            raise ValueError(f"home_per_day + divert_per_day is {total:g}: at most 1")
        return self


class Files(_Strict):
    places: str = "places.csv"
    routes: str = "routes.csv"
    population: str = "population.csv"
    groups: str = "groups.csv"
    crossings: str = "crossings.csv"
    policies: str = "policies.csv"
    events: str = "events.csv"
    needs: str = "needs.csv"
    observations: str = "observations.csv"


def _event_value(value: float, info: ValidationInfo) -> float:
    """What ``value`` means depends on the kind of event; each has its range."""
    kind = info.data.get("kind")
    if kind in ("hazard", "deadline") and not 0 <= value <= 1e6:
        raise ValueError(f"value {value:g} is out of range: a {kind} factor, from 0 to 1,000,000")
    if kind == "reinforcement" and not 0 <= value <= 1:
        raise ValueError(f"value {value:g} is out of range: a detection probability, from 0 to 1")
    people = ("return_flight", "shelter", "removal", "inflow", "crowd")
    if kind in people and not 0 <= value <= MAX_PEOPLE:
        raise ValueError(f"value {value:g} is out of range: people, from 0 to {MAX_PEOPLE:,}")
    if kind == "shelter_exit" and not 0 <= value <= 1:
        raise ValueError(f"value {value:g} is out of range: a daily share, from 0 to 1")
    if kind == "redirect" and not 0 <= value <= 1:
        raise ValueError(f"value {value:g} is out of range: a share, from 0 to 1")
    return value


def _every_days(every_days: int | None, info: ValidationInfo) -> int | None:
    """``every_days`` repeats a removal over its period; elsewhere it would mean nothing."""
    if every_days is None:
        return None
    kind = info.data.get("kind")
    if kind != "removal":
        raise ValueError(f"every_days applies to removal events only, not {kind}")
    if info.data.get("end") is None:
        raise ValueError("every_days needs an end date (without one the removal happens once)")
    return every_days


def _check_param(param: str, info: ValidationInfo) -> str:
    """``param`` belongs to ``set`` events only, and must name a parameter they can set."""
    kind = info.data.get("kind")
    if kind is None:
        return param
    if kind != "set" and param:
        raise ValueError(f"'{param}' is only for kind 'set' (this row is '{kind}')")
    if kind == "set" and param not in SET_PARAMS:
        raise ValueError(f"kind 'set' needs param, one of {', '.join(SET_PARAMS)} (got '{param}')")
    return param


def _set_range(kind: str, param: str, value: float) -> None:
    """The value of a ``set`` row in the range of the parameter it sets."""
    if kind == "set" and param in SET_PARAMS:
        low, high, what = SET_PARAMS[param]
        if not low <= value <= high:
            raise ValueError(f"value {value:g} is out of range for {param}: {what}")


def _check_selective(text: str | None, info: ValidationInfo) -> str | None:
    """``nationalities`` and ``papers`` belong to the ``selective`` policy only."""
    policy = info.data.get("policy")
    if policy is None or text is None or text == "":
        return text
    if policy != "selective":
        raise ValueError(f"only for policy 'selective' (this row is '{policy}')")
    if info.field_name == "nationalities":
        for code in text.split(";"):
            code = code.strip()
            if code and (len(code) != 3 or not code.isascii() or not code.isupper()):
                raise ValueError(f"'{code}' is not an ISO3 code (e.g. SYR;IRQ)")
    return text


class PolicyOverride(_Strict):
    """A row of policies.csv that a variant adds (after the rows of the file)."""

    crossing: str
    side: Side
    start: dt.date
    end: dt.date | None = None
    policy: Policy
    quota: int = Field(0, ge=0, le=MAX_PER_DAY)
    detection: float = Field(0.0, ge=0.0, le=1.0)
    nationalities: str = ""
    papers: Literal["any", "documented"] | None = None
    announced: dt.date | None = None

    selective_check = field_validator("nationalities", "papers")(_check_selective)


class EventOverride(_Strict):
    start: dt.date
    end: dt.date | None = None
    kind: EventKind
    value: float
    target: str = ""
    to: str = ""
    label: str = ""
    param: str = Field("", validate_default=True)
    announced: dt.date | None = None
    every_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    value_check = field_validator("value")(_event_value)
    param_check = field_validator("param")(_check_param)
    every_days_check = field_validator("every_days")(_every_days)

    @model_validator(mode="after")
    def _value(self) -> EventOverride:
        _set_range(self.kind, self.param, self.value)
        return self


class Variant(_Strict):
    """One option of a variant dimension: policies and events it adds, labels it removes."""

    description: str = ""
    policies: tuple[PolicyOverride, ...] = ()
    events: tuple[EventOverride, ...] = ()
    drop_events: tuple[str, ...] = ()  # labels of events.csv rows this option removes
    # drop the file's policy rows, for the (crossing, side) pairs this option sets, that start
    # on or after this date
    drop_policies_from: dt.date | None = None


class Dimension(_Strict):
    default: str
    options: dict[str, Variant]

    @model_validator(mode="after")
    def _default_exists(self) -> Dimension:
        if self.default not in self.options:
            raise ValueError(f"default '{self.default}' is not one of {sorted(self.options)}")
        return self


class ScenarioFile(_Strict):
    """The whole of ``scenario.toml``."""

    case: CaseInfo
    population: Population
    departure: Departure
    travel: Travel
    stranded: Stranded
    news: News | None = None  # absent: nobody reacts to news of a shut crossing
    files: Files = Files()
    variants: dict[str, Dimension] = {}


# -- rows of the CSV tables ---------------------------------------------------------------


class PlaceRow(_Strict):
    name: str = Field(min_length=1)
    pcode: str = ""
    iso3: str = Field(pattern=r"^[A-Z]{3}$")
    adm1: str = ""
    # COD-AB p-codes of the first- and second-level divisions the place lies in (optional);
    # the exports (GeoJSON, HDX) carry them as #adm1+code and #adm2+code
    adm1_code: str = Field("", pattern=r"^([A-Z]{2}[0-9A-Z]*)?$")
    adm2_code: str = Field("", pattern=r"^([A-Z]{2}[0-9A-Z]*)?$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: PlaceKind


class RouteRow(_Strict):
    from_: str = Field(alias="from")
    to: str
    distance_km: float = Field(gt=0)
    mode: RouteMode = "bus"
    source: str = ""


class PopulationRow(_Strict):
    residence: str
    share: float = Field(ge=0, le=1)
    # optional: how the people living here pick a crossing, whatever their nationality (blank:
    # their nationality's weights); e.g. migrants already settled in a transit country
    crossing_weights: str = ""
    source: str = ""


class GroupRow(_Strict):
    """A nationality among the people at risk, with its shares and preferences."""

    iso3: str = Field(pattern=r"^[A-Z]{3}$")
    share: float = Field(ge=0, le=1)
    documented_share: float = Field(ge=0, le=1)
    family_share: float = Field(ge=0, le=1)
    hazard_multiplier: float = Field(ge=0, le=1e6)
    crossing_weights: str  # "Chacalluta-Santa Rosa:0.8;Colchane-Pisiga:0.2"
    source: str = ""


class CrossingRow(_Strict):
    name: str
    exit_post: str
    entry_post: str
    destination: str  # where people who cross head next
    open_hour: float = Field(ge=0, le=24)
    close_hour: float = Field(ge=0, le=24)
    capacity_per_day: int = Field(ge=0, le=MAX_PER_DAY)
    regular_per_day: int = Field(ge=0, le=MAX_PER_DAY)
    source: str = ""

    @model_validator(mode="after")
    def _hours(self) -> CrossingRow:
        if self.close_hour <= self.open_hour:
            raise ValueError(
                f"close_hour {self.close_hour} is not after open_hour {self.open_hour}"
            )
        return self


class PolicyRow(_Span):
    crossing: str
    side: Side
    policy: Policy
    quota: int = Field(0, ge=0, le=MAX_PER_DAY)
    detection: float = Field(0.0, ge=0, le=1)  # added to stranded.detection_base
    source: str = ""
    nationalities: str = ""  # selective: ISO3 codes admitted, ";"-separated (blank: all)
    papers: Literal["any", "documented"] | None = None  # selective: "any" when blank
    announced: dt.date | None = None  # when the decision became public

    selective_check = field_validator("nationalities", "papers")(_check_selective)


class EventRow(_Span):
    kind: EventKind
    value: float
    target: str = ""  # a crossing or place (see docs/border-model.md per kind)
    to: str = ""  # where people go (shelter, shelter_exit) or head for (crowd at a city)
    label: str = ""  # a name variants refer to
    source: str = ""
    reliability: str = ""
    param: str = Field("", validate_default=True)  # set: the parameter the row sets
    announced: dt.date | None = None  # when the decision became public
    every_days: int | None = Field(None, ge=1, le=MAX_DAYS)  # removal: repeat every N days
    value_check = field_validator("value")(_event_value)
    param_check = field_validator("param")(_check_param)
    every_days_check = field_validator("every_days")(_every_days)

    @model_validator(mode="after")
    def _value(self) -> EventRow:
        _set_range(self.kind, self.param, self.value)
        return self


class NeedRow(_Strict):
    indicator: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    per_person: float = Field(ge=0)
    unit: str
    rounding: Literal["none", "ceil"] = "none"
    standard: str = ""


class ObservationRow(_Strict):
    """An observed range: of one day's value, or of the mean or the maximum over a period.

    ``stat`` says which: ``value`` (the value on ``date``), ``mean`` or ``max`` (over ``date``
    to ``end`` inclusive) — reports often give "on average 150–200" or "a peak of about 400".
    """

    date: dt.date
    end: dt.date | None = None
    stat: Literal["value", "mean", "max"] = "value"
    location: str
    indicator: str
    low: float = Field(ge=0)
    high: float = Field(ge=0)
    source: str = ""
    reliability: str = ""

    @model_validator(mode="after")
    def _range(self) -> ObservationRow:
        if self.high < self.low:
            raise ValueError(f"high {self.high} is below low {self.low}")
        if self.stat != "value" and self.end is None:
            raise ValueError(f"stat '{self.stat}' needs an end date")
        if self.end is not None and self.end < self.date:
            raise ValueError(f"end {self.end} is before date {self.date}")
        return self
