"""A hierarchical model of behavioural parameters shared across border episodes.

Episode e's value of a shared parameter j, on its transformed scale z (log, or logit of the
position between its bounds), is drawn from N(mu_j, tau_j²). The hyper-parameters are fitted
in two stages, since the border model has no likelihood:

1. each episode's ABC-SMC posterior under a broad *reference* prior π0 (the hyper-prior's
   predictive), which is its likelihood up to a constant: L_e(z) ∝ p(z | y_e) / π0(z);
2. the hyper-posterior p(mu, tau | y) ∝ p(mu, tau) Π_e ∫ L_e(z) N(z; mu, tau²) dz, each
   integral estimated from the episode's weighted particles divided by π0 and smoothed by a
   Gaussian kernel of bandwidth h (so N(z_k; mu, tau² + h²)), sampled with emcee.

This reuses each episode's simulations for every hyper-parameter value (Lunn et al. 2013,
"Fully Bayesian hierarchical modelling in two stages"); docs/forecasting.md says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from borderflow.calibrate.abc import Posterior, Space
from borderflow.ensemble.params import (
    Distribution,
    LogitNormal,
    LogNormal,
    Restricted,
    Uniform,
)
from borderflow.errors import ScenarioError
from borderflow.tomlfile import read_toml

HIERARCHY = Path(__file__).resolve().parents[1] / "builtin" / "hierarchy.toml"


class SharedParam(BaseModel):
    """One shared parameter: its transform, range and hyper-priors (hierarchy.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = ""
    transform: Literal["log", "logit"]
    low: float
    high: float
    mu: tuple[float, float]  # mean and sd of mu's normal hyper-prior
    tau: float = Field(gt=0)  # scale of tau's half-normal hyper-prior
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> SharedParam:
        if self.high <= self.low:
            raise ValueError(f"high {self.high} is not above low {self.low}")
        if self.transform == "log" and self.low <= 0:
            raise ValueError("a log parameter needs low > 0")
        if self.mu[1] <= 0:
            raise ValueError("mu's sd must be > 0")
        return self

    def distribution(self, mean: float, sd: float, why: str) -> Distribution:
        """Normal(mean, sd) on the transformed scale, as a parameter distribution."""
        if self.transform == "log":
            return LogNormal(dist="lognormal", median=math.exp(mean), sigma=sd, why=why)
        return LogitNormal(dist="logitnormal", low=self.low, high=self.high, mean=mean, sd=sd,
                           why=why)  # fmt: skip

    def inside(self, x: float) -> bool:
        """Whether ``x`` lies inside the open support of the shared distribution."""
        return x > 0 if self.transform == "log" else self.low < x < self.high

    def reference(self) -> Distribution:
        """The per-episode fits' prior: the hyper-prior's predictive, N(m, s² + tau²)."""
        sd = math.hypot(self.mu[1], self.tau)
        return self.distribution(self.mu[0], sd, f"reference prior of the hierarchy: {self.why}")


def combine(learnt: Distribution, own: Distribution | None) -> Distribution:
    """An episode's prior of a shared parameter: the learnt distribution times its own range.

    Why both: the shared distribution says where episodes' values lie; the case's own
    uncertain.toml what its author knew of *this* episode at its origin (Ceuta's night attempts
    are a swim around a breakwater, 0.01–0.1 a day, where other crowds try most nights). As
    independent information about the episode's value their densities multiply: a uniform
    range restricts the learnt one; two normals on the same scale pool by precision. An own
    range set with the reports after the origin in view (``after_origin``) is not used, and a
    fixed value or another family is the case's own, as before.
    """
    if own is None or own.after_origin:
        return learnt
    if isinstance(own, Uniform) and isinstance(learnt, LogNormal | LogitNormal):
        low, high = (0.0, own.high) if isinstance(learnt, LogNormal) else (learnt.low, learnt.high)
        low, high = max(low, own.low), min(high, own.high)
        if not low < high:
            raise ScenarioError(f"the case's range [{own.low:g}, {own.high:g}] lies outside the "
                                f"learnt one ({learnt.why})")  # fmt: skip
        why = f"{learnt.why}; within the case's own range [{own.low:g}, {own.high:g}]: {own.why}"
        return Restricted(dist="restricted", low=low, high=high, base=learnt, why=why)
    same_logit = (isinstance(own, LogitNormal) and isinstance(learnt, LogitNormal)
                  and (own.low, own.high) == (learnt.low, learnt.high))  # fmt: skip
    if same_logit or (isinstance(own, LogNormal) and isinstance(learnt, LogNormal)):
        (m1, s1), (m2, s2) = learnt.normal(), own.normal()
        var = 1.0 / (s1**-2 + s2**-2)
        mean = var * (m1 / s1**2 + m2 / s2**2)
        why = f"{learnt.why}; pooled with the case's own: {own.why}"
        if isinstance(learnt, LogNormal):
            return LogNormal(dist="lognormal", median=math.exp(mean), sigma=math.sqrt(var),
                             why=why)  # fmt: skip
        return learnt.model_copy(update={"mean": mean, "sd": math.sqrt(var), "why": why})
    return own  # a fixed value, or a family that does not pool: the case's own, as before


def read_hierarchy(path: Path = HIERARCHY) -> dict[str, SharedParam]:
    """The shared parameters, in the file's order; errors name the file and parameter."""
    raw = read_toml(path)
    out = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ScenarioError("expected a table per parameter", file=path, column=name)
        try:
            out[name] = SharedParam(name=name, **table)
        except ValidationError as exc:
            e = exc.errors()[0]
            where = ".".join([name, *(str(x) for x in e["loc"])])
            raise ScenarioError(e["msg"].removeprefix("Value error, "), file=path,
                                column=where) from None  # fmt: skip
    if not out:
        raise ScenarioError("no parameters", file=path)
    return out


@dataclass(frozen=True)
class EpisodeLikelihood:
    """One episode's ABC posterior over the shared parameters, as a likelihood of z.

    ``columns``: which shared parameters the episode has (others are absent: no information);
    ``z`` (particles × columns) and ``log_w``: log weight − log π0(z), normalised.
    """

    name: str
    columns: np.ndarray  # indices into the shared parameters
    z: np.ndarray
    log_w: np.ndarray
    h2: np.ndarray  # squared kernel bandwidth per column


def episode_likelihood(
    name: str, post: Posterior, shared: dict[str, SharedParam]
) -> EpisodeLikelihood:
    """An episode's likelihood from its ABC posterior under the reference priors."""
    names = list(shared)
    cols = [j for j, n in enumerate(names) if n in post.names]
    if not cols:
        raise ScenarioError(f"{name}: none of the shared parameters was fitted")
    refs = [shared[names[j]].reference() for j in cols]
    space = Space(refs)
    x = post.particles[:, [post.names.index(names[j]) for j in cols]]
    z = space.to_z(x)
    w = np.asarray(post.weights, dtype=float)
    log_prior = np.array([space.log_prior(row) for row in z])
    with np.errstate(divide="ignore"):
        log_w = np.log(w) - log_prior
    log_w -= np.logaddexp.reduce(log_w)
    # Silverman's rule per column, with the effective sample size (copies count once)
    n_eff = post.effective_size()
    var = np.atleast_1d(np.cov(z, rowvar=False, aweights=w)).reshape(len(cols), -1).diagonal()
    d = len(cols)
    h2 = np.maximum(var, 1e-12) * (4.0 / ((d + 2) * n_eff)) ** (2.0 / (d + 4))
    return EpisodeLikelihood(name, np.array(cols), z, log_w, h2)


@dataclass
class HyperPosterior:
    """Draws of (mu, tau) for each shared parameter, shape (draws, parameters)."""

    names: list[str]
    mu: np.ndarray
    tau: np.ndarray
    episodes: list[str]

    def predictive(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and sd of a new episode's z: the moments of the mixture of N(mu, tau²)."""
        mean = self.mu.mean(axis=0)
        var = (self.tau**2).mean(axis=0) + self.mu.var(axis=0)
        return mean, np.sqrt(var)

    def interval(self, q: float = 0.9) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Central ``q`` intervals of mu and tau: (mu_lo, mu_hi, tau_lo, tau_hi)."""
        a = (1 - q) / 2
        mu = np.quantile(self.mu, [a, 1 - a], axis=0)
        tau = np.quantile(self.tau, [a, 1 - a], axis=0)
        return mu[0], mu[1], tau[0], tau[1]

    def priors(self, shared: dict[str, SharedParam]) -> dict[str, Distribution]:
        """A new episode's prior of each shared parameter (normal on its scale)."""
        mean, sd = self.predictive()
        mu_lo, mu_hi, tau_lo, tau_hi = self.interval()
        out = {}
        for j, n in enumerate(self.names):
            why = (f"learnt from {', '.join(self.episodes) or 'no episode'}: mu 90 % "
                   f"[{mu_lo[j]:.3g}, {mu_hi[j]:.3g}], tau 90 % [{tau_lo[j]:.3g}, "
                   f"{tau_hi[j]:.3g}] ({shared[n].transform} scale)")  # fmt: skip
            out[n] = shared[n].distribution(float(mean[j]), float(sd[j]), why)
        return out


@dataclass(frozen=True)
class _Pooled:
    """Every episode's particles in one array (absent columns masked), for fast evaluation."""

    z: np.ndarray  # particles × parameters (0 where absent)
    h2: np.ndarray  # particles × parameters (1 where absent)
    mask: np.ndarray  # particles × parameters: the episode has the parameter
    log_w: np.ndarray  # particles
    starts: np.ndarray  # first particle of each episode
    sizes: np.ndarray  # particles of each episode

    @classmethod
    def of(cls, eps: list[EpisodeLikelihood], d: int) -> _Pooled:
        n = sum(len(e.z) for e in eps)
        z, h2, mask = np.zeros((n, d)), np.ones((n, d)), np.zeros((n, d), dtype=bool)
        log_w, starts, at = np.empty(n), [], 0
        for e in eps:
            k = len(e.z)
            z[at : at + k, e.columns], h2[at : at + k, e.columns] = e.z, e.h2
            mask[at : at + k, e.columns] = True
            log_w[at : at + k] = e.log_w
            starts.append(at)
            at += k
        sizes = np.array([len(e.z) for e in eps], dtype=int)
        return cls(z, h2, mask, log_w, np.array(starts, dtype=int), sizes)


def _log_hyper(theta: np.ndarray, pool: _Pooled, m0, s0, t0) -> np.ndarray:
    """Log hyper-posterior of (mu, log tau) for each walker (rows), with log tau's Jacobian.

    Each episode's term is log Σ_k w_k/π0(z_k) N(z_k; mu, tau² + h²), over its particles.
    """
    d = len(m0)
    mu, log_tau = theta[:, :d], theta[:, d:]
    tau2 = np.exp(2 * np.clip(log_tau, -20, 20))
    lp = np.sum(-0.5 * ((mu - m0) / s0) ** 2 - 0.5 * tau2 / t0**2 + log_tau, axis=1)
    if len(pool.starts):
        var = tau2[:, None, :] + pool.h2[None]  # walkers × particles × parameters
        r = pool.z[None] - mu[:, None, :]
        ll = -0.5 * np.sum(pool.mask * (r * r / var + np.log(2 * np.pi * var)), axis=2)
        a = pool.log_w + ll  # walkers × particles
        top = np.maximum.reduceat(a, pool.starts, axis=1)
        top = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            total = np.add.reduceat(np.exp(a - np.repeat(top, pool.sizes, axis=1)),
                                    pool.starts, axis=1)  # fmt: skip
            lp = lp + np.sum(np.log(total) + top, axis=1)
    return np.where(np.any(np.abs(log_tau) > 20, axis=1), -np.inf, lp)


def fit_hyper(
    episodes: list[EpisodeLikelihood],
    shared: dict[str, SharedParam],
    *,
    seed: int = 0,
    steps: int = 3000,
    walkers: int | None = None,
) -> HyperPosterior:
    """Sample the hyper-posterior with emcee (affine-invariant ensemble; seeded)."""
    import emcee

    names = list(shared)
    d = len(names)
    m0 = np.array([shared[n].mu[0] for n in names])
    s0 = np.array([shared[n].mu[1] for n in names])
    t0 = np.array([shared[n].tau for n in names])
    nw = walkers or max(4 * d, 32)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 31])))
    start = np.hstack([m0 + 0.1 * s0 * rng.standard_normal((nw, d)),
                       np.log(t0 * 0.5) + 0.1 * rng.standard_normal((nw, d))])  # fmt: skip
    pool = _Pooled.of(episodes, d)
    sampler = emcee.EnsembleSampler(nw, 2 * d, _log_hyper, args=(pool, m0, s0, t0),
                                    vectorize=True)  # fmt: skip
    sampler.random_state = np.random.RandomState(seed).get_state()
    sampler.run_mcmc(start, steps, progress=False)
    chain = sampler.get_chain(discard=steps // 2, thin=5, flat=True)
    return HyperPosterior(names, chain[:, :d], np.exp(chain[:, d:]), [e.name for e in episodes])


def write_prior(path: Path, priors: dict[str, Distribution], header: list[str]) -> None:
    """prior.toml: the uncertain.toml format, one table per shared parameter; atomic."""
    from borderflow.results.atomic import atomic_outputs

    def fmt(v: float) -> str:
        return repr(float(v))

    lines = [f"# {h}" if h else "#" for h in header]
    for name, d in priors.items():
        lines += ["", f'["{name}"]', f'dist = "{d.dist}"']
        if isinstance(d, LogNormal):
            lines += [f"median = {fmt(d.median)}", f"sigma = {fmt(d.sigma)}"]
        else:
            lines += [f"low = {fmt(d.low)}", f"high = {fmt(d.high)}", f"mean = {fmt(d.mean)}",
                      f"sd = {fmt(d.sd)}"]  # fmt: skip
        lines.append(f"why = {_toml_string(d.why)}")
    text = "\n".join(lines) + "\n"
    with atomic_outputs(path.parent) as out:
        out.write(path.name, lambda p: p.write_text(text, encoding="utf-8"))


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
