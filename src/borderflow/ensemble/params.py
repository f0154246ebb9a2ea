"""Uncertain parameters: one distribution per parameter, read from a TOML file.

Each table is a parameter that :func:`borderflow.scenario.border_io.override` can set
(``section.name`` or ``event.<label>``), with its distribution and why its range is what it is::

    ["departure.base_hazard"]
    dist = "lognormal"      # uniform | normal | lognormal | truncnormal | logitnormal | fixed
    median = 4.4e-5
    sigma = 0.3
    why = "the grid's neighbours fit almost as well; ±30 % spans them"
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from borderflow.errors import ScenarioError
from borderflow.scenario.border_io import BorderCase, parameter_names
from borderflow.tomlfile import read_toml


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    why: str = Field(min_length=1)
    # The range was set with reports after the case's origin in view (fitted on all of them):
    # ``borderflow learn`` then keeps it out of the episode's forecast from its origin.
    after_origin: bool = False


class Bounded(_Dist):
    """A distribution on [low, high]."""

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Bounded:
        if self.high <= self.low:
            raise ValueError(f"high {self.high} is not above low {self.low}")
        return self


class Uniform(Bounded):
    dist: Literal["uniform"]

    def logpdf(self, x: float) -> float:
        return -math.log(self.high - self.low) if self.low <= x <= self.high else -math.inf

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


class Normal(_Dist):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.mean, self.sd))

    def logpdf(self, x: float) -> float:
        z = (x - self.mean) / self.sd
        return -0.5 * z * z - math.log(self.sd * math.sqrt(2 * math.pi))


class LogNormal(_Dist):
    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)  # standard deviation of the logarithm

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.median * np.exp(rng.normal(0.0, self.sigma)))

    def logpdf(self, x: float) -> float:
        if x <= 0:
            return -math.inf
        z = (math.log(x) - math.log(self.median)) / self.sigma
        return -0.5 * z * z - math.log(x * self.sigma * math.sqrt(2 * math.pi))

    # The normal scale the hierarchy learns on and a Restricted prior samples on.
    def normal(self) -> tuple[float, float]:
        """Mean and sd on the log scale."""
        return math.log(self.median), self.sigma

    def to_z(self, x: float) -> float:
        return math.log(x) if x > 0 else -math.inf

    def from_z(self, z: float) -> float:
        return math.exp(z)


class TruncNormal(Bounded):
    dist: Literal["truncnormal"]
    mean: float
    sd: float = Field(gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        """Rejection sampling: exact, and cheap for the ranges used here."""
        for _ in range(10_000):
            x = rng.normal(self.mean, self.sd)
            if self.low <= x <= self.high:
                return float(x)
        return float(np.clip(self.mean, self.low, self.high))

    def logpdf(self, x: float) -> float:
        """Up to a constant (the truncation mass), which ABC weights do not need."""
        if not self.low <= x <= self.high:
            return -math.inf
        z = (x - self.mean) / self.sd
        return -0.5 * z * z


class LogitNormal(Bounded):
    """Normal on the logit of the position between the bounds (what ``borderflow learn`` writes).

    The shared prior of a share or rate fitted across episodes: normal on the same scale as
    the hierarchy (:mod:`borderflow.calibrate.hierarchy`) and as ABC's particles move.
    """

    dist: Literal["logitnormal"]
    mean: float
    sd: float = Field(gt=0)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.from_z(rng.normal(self.mean, self.sd)))

    # The normal scale the hierarchy learns on and a Restricted prior samples on.
    def normal(self) -> tuple[float, float]:
        """Mean and sd on the logit scale."""
        return self.mean, self.sd

    def to_z(self, x: float) -> float:
        u = (x - self.low) / (self.high - self.low)
        if u <= 0.0 or u >= 1.0:
            return -math.inf if u <= 0.0 else math.inf
        return math.log(u) - math.log1p(-u)

    def from_z(self, z: float) -> float:
        return self.low + (self.high - self.low) * 0.5 * (1.0 + math.tanh(0.5 * z))

    def logpdf(self, x: float) -> float:
        span = self.high - self.low
        u = (x - self.low) / span
        if not 0.0 < u < 1.0:
            return -math.inf
        z = (math.log(u) - math.log1p(-u) - self.mean) / self.sd
        jac = math.log(span) + math.log(u) + math.log1p(-u)
        return -0.5 * z * z - math.log(self.sd * math.sqrt(2 * math.pi)) - jac


class Fixed(_Dist):
    dist: Literal["fixed"]
    value: float

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    def logpdf(self, x: float) -> float:
        return 0.0 if x == self.value else -math.inf


class Restricted(Bounded):
    """A learnt prior (lognormal or logit-normal) restricted to a case's own range [low, high].

    The product of the shared distribution and the case's uniform range (``borderflow learn``
    builds it; files cannot name it): the other episodes say where values lie, the author what
    this episode allows. Sampled exactly, as a truncated normal on the learnt one's scale.
    """

    dist: Literal["restricted"]
    base: LogNormal | LogitNormal

    def sample(self, rng: np.random.Generator) -> float:
        from scipy.stats import truncnorm

        b = self.base
        m, s = b.normal()
        lo, hi = (b.to_z(self.low) - m) / s, (b.to_z(self.high) - m) / s
        z = float(truncnorm.ppf(rng.uniform(), lo, hi, loc=m, scale=s))
        return min(max(b.from_z(z), self.low), self.high)

    def logpdf(self, x: float) -> float:
        """Up to a constant (the mass inside the range), which ABC weights do not need."""
        return self.base.logpdf(x) if self.low <= x <= self.high else -math.inf


Distribution = Annotated[
    Uniform | Normal | LogNormal | TruncNormal | LogitNormal | Fixed, Field(discriminator="dist")
]
_ADAPTER = TypeAdapter(dict[str, Distribution])


def _known(owner) -> tuple[set[str], str]:
    """Parameter names of a border case, or of a calibration problem (any scenario)."""
    if isinstance(owner, BorderCase):
        return set(parameter_names(owner)), owner.name
    return set(owner.parameter_names()), owner.name


#: The shared prior ``borderflow learn`` fits across episodes (see calibrate/learn.py).
SHARED_PRIOR = Path(__file__).resolve().parents[1] / "builtin" / "prior.toml"


def read_uncertain(path: Path, case) -> dict[str, Distribution]:
    """Validate a parameter file against a case or problem; errors name the parameter."""
    params = _parse(path)
    known, owner = _known(case)
    for name in params:
        if name not in known:
            raise ScenarioError(f"'{name}' is not a parameter of {owner}", file=path, column=name)
    if not params:
        raise ScenarioError("no parameters", file=path)
    return params


def with_shared_prior(
    params: dict[str, Distribution], case, shared: Path | None = SHARED_PRIOR
) -> dict[str, Distribution]:
    """``params`` completed by the shared prior for the case's parameters they do not give.

    What all past episodes teach (``borderflow learn``) is a case's default: its own
    uncertain.toml wins where it says something. A shared parameter the case does not have
    (an event label of another episode) is left out. No shared file: ``params`` as they are.
    """
    if shared is None or not shared.exists():
        return params
    known, _ = _known(case)
    extra = {n: d for n, d in _parse(shared).items() if n in known and n not in params}
    return {**params, **extra}


def _parse(path: Path) -> dict[str, Distribution]:
    """A parameter file's distributions, validated on their own (names not yet checked)."""
    raw = read_toml(path)
    try:
        params = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        tags = {"uniform", "normal", "lognormal", "truncnormal", "logitnormal", "fixed"}
        where = ".".join(str(x) for x in err["loc"] if str(x) not in tags)
        msg = err["msg"].removeprefix("Value error, ")
        raise ScenarioError(msg, file=path, column=where) from None
    return params


class PosteriorSampler:
    """Draws whole particles of a calibration posterior (by weight), keeping their correlations.

    Read from a ``posterior.csv`` written by ``borderflow calibrate``; an ensemble run with it
    is the posterior-predictive ensemble.
    """

    def __init__(self, names: list[str], particles: np.ndarray, weights: np.ndarray) -> None:
        self.names = list(names)
        self.particles = np.asarray(particles, dtype=float)
        self.weights = np.asarray(weights, dtype=float) / np.sum(weights)

    def __iter__(self):
        return iter(self.names)

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        k = int(rng.choice(len(self.weights), p=self.weights))
        return dict(zip(self.names, map(float, self.particles[k]), strict=True))

    def medians(self) -> dict[str, float]:
        """Each parameter's weighted median (a single run's values from a fit)."""
        out = {}
        for j, name in enumerate(self.names):
            order = np.argsort(self.particles[:, j], kind="stable")
            cum = np.cumsum(self.weights[order])
            out[name] = float(self.particles[order[np.searchsorted(cum, 0.5 * cum[-1])], j])
        return out


#: A case's fitted posterior (``borderflow learn`` or ``calibrate``), in its folder.
POSTERIOR = "posterior.csv"


def default_params_file(case_dir: Path) -> Path:
    """What an ensemble draws from by default: the case's fit if it has one, else its priors.

    A fit's particles are drawn whole, so members keep the correlations the data impose
    (a higher departure hazard with a higher return rate) instead of independent priors that
    can contradict the reports before the origin.
    """
    fitted = case_dir / POSTERIOR
    return fitted if fitted.exists() else case_dir / "uncertain.toml"


def read_posterior(path: Path, case) -> PosteriorSampler:
    """A posterior.csv (header, HXL row, one particle per row, weight last)."""
    from borderflow.csvfile import csv_rows

    rows = csv_rows(path)
    if len(rows) < 3:
        raise ScenarioError("no particles", file=path)
    header = [h.strip() for h in rows[0][1]]
    if header[-1] != "weight":
        raise ScenarioError("the last column must be 'weight'", file=path, row=rows[0][0])
    names = header[:-1]
    known, owner = _known(case)
    for name in names:
        if name not in known:
            raise ScenarioError(f"'{name}' is not a parameter of {owner}", file=path, column=name)
    body = rows[2:] if rows[1][1][0].startswith("#") else rows[1:]
    try:
        values = np.array([[float(c) for c in cells] for _, cells in body])
    except ValueError as exc:
        raise ScenarioError(f"not a number ({exc})", file=path) from None
    if values.shape[1] != len(header) or (values[:, -1] < 0).any() or values[:, -1].sum() <= 0:
        raise ScenarioError("each row needs one value per parameter and a weight >= 0", file=path)
    return PosteriorSampler(names, values[:, :-1], values[:, -1])


def load_params(path: Path, case: BorderCase):
    """Priors from a TOML file, or a calibration posterior from a CSV file."""
    if path.suffix.lower() == ".csv":
        return read_posterior(path, case)
    return read_uncertain(path, case)


def draw(params, rng: np.random.Generator) -> dict[str, float]:
    """One value per parameter, in the file's order (so draws are reproducible)."""
    if isinstance(params, PosteriorSampler):
        return params.draw(rng)
    return {name: d.sample(rng) for name, d in params.items()}
