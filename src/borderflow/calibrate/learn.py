"""``borderflow learn``: what all border episodes teach, and each episode's fit from the others.

For every episode: an ABC-SMC fit on all its observations under the hierarchy's reference
prior (its likelihood, :mod:`borderflow.calibrate.hierarchy`). Then:

* the shared prior: hyper-parameters fitted on every episode (but a ``leave_out`` one), their
  predictive distribution written as prior.toml, the default prior of any case;
* each episode's fit, leave-one-episode-out: hyper-parameters fitted on all the *other*
  episodes (all their observations), then the episode's parameters by ABC-SMC from that
  predictive prior, within the case's own range where its uncertain.toml gives one
  (:func:`borderflow.calibrate.hierarchy.combine`; its own uncertain.toml alone for
  parameters not shared), on its observations up to its origin only. Nothing the episode
  reported after its origin enters its fit, and its own data do not enter its prior twice.

An episode's random numbers come from its name and the seed, never from which other episodes
are fitted with it, so adding a case changes no other case's reference fit.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.calibrate.abc import Method, Posterior, abc_smc
from borderflow.calibrate.diagnostics import posterior_warnings
from borderflow.calibrate.hierarchy import (
    EpisodeLikelihood,
    HyperPosterior,
    SharedParam,
    combine,
    episode_likelihood,
    fit_hyper,
)
from borderflow.calibrate.problem import BorderProblem
from borderflow.ensemble.params import Distribution, Fixed, read_uncertain
from borderflow.errors import ScenarioError
from borderflow.execute import Executor

CASES_DIR = Path(__file__).resolve().parents[1] / "builtin" / "cases"


@dataclass(frozen=True)
class LearnSettings:
    """ABC and MCMC sizes; the defaults take a few minutes per episode on 2 cores.

    The ABC method is replenishment: with 9–14 parameters Beaumont's importance weights
    degenerate onto one or two of 60 particles (docs/forecasting.md, "ABC-SMC").
    """

    particles: int = 60
    generations: int = 3
    steps: int = 3000  # emcee steps of the hyper-posterior
    seed: int = 0
    method: Method = "replenish"


@dataclass(frozen=True)
class Episode:
    name: str
    problem: BorderProblem
    own: dict[str, Distribution]  # the case's uncertain.toml (empty without one)
    origin: dt.date

    @property
    def known(self) -> BorderProblem:
        """The problem with only the observations fully known by the origin."""
        return self.problem.restrict(self.origin)  # type: ignore[return-value]


def builtin_cases() -> list[Path]:
    """Every built-in border case, found by listing the folder (cases come and go)."""
    return sorted(p for p in CASES_DIR.iterdir() if (p / "scenario.toml").is_file())


def load_episode(path: Path) -> Episode:
    problem = BorderProblem.load(path)
    origin = problem.case.spec.case.origin
    if origin is None:
        raise ScenarioError("an episode needs [case] origin", file=path / "scenario.toml")
    own_path = path / "uncertain.toml"
    own = read_uncertain(own_path, problem) if own_path.exists() else {}
    return Episode(problem.name, problem, own, origin)


def _seed(settings: LearnSettings, name: str, stage: int) -> int:
    return int(np.random.SeedSequence([settings.seed, zlib.crc32(name.encode()), stage])
               .generate_state(1)[0])  # fmt: skip


def own_priors(ep: Episode, shared: dict[str, SharedParam]) -> dict[str, Distribution]:
    """The case's uncertain.toml, and the shared parameters it switches off, held as written.

    A shared value on the edge of the shared distribution's support (a word-of-mouth weight
    of 0 at Peru's visa deadline, "the rush is the deadline itself"; stranded rates of 0 at
    Necoclí, where nobody is refused) is no draw from it: the author has switched that
    mechanism off, and the episode neither takes a value from the others nor teaches them one.
    """
    from borderflow.scenario.border_io import parameter_value

    known = set(ep.problem.parameter_names())
    held: dict[str, Distribution] = {}
    for n, p in shared.items():
        if n in known and n not in ep.own:
            value = parameter_value(ep.problem.case, n)
            if not p.inside(value):
                held[n] = Fixed(dist="fixed", value=value, why="switched off in the case")
    return {**ep.own, **held}


def reference_priors(ep: Episode, shared: dict[str, SharedParam]) -> dict[str, Distribution]:
    """The episode's own priors; shared parameters: the reference prior within its own range.

    The case's range is information about this episode, as its reports are: it enters the
    episode's likelihood (the fit's weights over the reference prior alone), so the shared
    distribution learns from it and the leave-one-out fit applies it again, as it should.
    """
    known, own = set(ep.problem.parameter_names()), own_priors(ep, shared)
    ref = {n: combine(p.reference(), own.get(n)) for n, p in shared.items() if n in known}
    return {**own, **ref}


def conditional_priors(
    ep: Episode, shared: dict[str, SharedParam], hyper: HyperPosterior
) -> dict[str, Distribution]:
    """The episode's own priors; shared parameters: the others' predictive within its range."""
    known, own = set(ep.problem.parameter_names()), own_priors(ep, shared)
    learnt = {n: combine(d, own.get(n)) for n, d in hyper.priors(shared).items() if n in known}
    return {**own, **learnt}


def not_blind(ep: Episode, shared: dict[str, SharedParam]) -> list[str]:
    """Warnings: own ranges set after the origin that nothing learnt replaces in its fit."""
    return [f"{n}: the case's range was set with reports after the origin in view "
            f"(after_origin) and no other episode shares it, so the forecast from the "
            f"origin is not blind to them" for n, d in ep.own.items()
            if d.after_origin and n not in shared]  # fmt: skip


def prior_draws(priors: dict[str, Distribution], n: int, seed: int) -> Posterior:
    """An unconditioned 'posterior': ``n`` prior draws of equal weight (nothing to fit to)."""
    names = [k for k, d in priors.items() if not isinstance(d, Fixed)]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 998])))
    x = np.array([[priors[k].sample(rng) for k in names] for _ in range(n)])
    return Posterior(names, x, np.full(n, 1.0 / n), [], 0)


def fit(
    problem: BorderProblem,
    priors: dict[str, Distribution],
    settings: LearnSettings,
    seed: int,
    executor: Executor | None,
) -> Posterior:
    """ABC-SMC, or the prior itself when nothing is observed to fit to."""
    if not problem.covered():
        return prior_draws(priors, settings.particles, seed)
    return abc_smc(problem, priors, particles=settings.particles, method=settings.method,
                   generations=settings.generations, seed=seed, executor=executor)  # fmt: skip


@dataclass
class EpisodeFit:
    """An episode's leave-one-out fit: its priors, its posterior and what to warn about."""

    episode: Episode
    priors: dict[str, Distribution]
    posterior: Posterior
    hyper: HyperPosterior  # fitted on the other episodes
    warnings: list[str] = field(default_factory=list)


@dataclass
class Learnt:
    shared: dict[str, SharedParam]
    hyper: HyperPosterior  # on every episode but the left-out one
    fits: dict[str, EpisodeFit]
    references: dict[str, Posterior]
    warnings: dict[str, list[str]]  # reference fits' warnings, by episode


def learn(
    paths: Sequence[Path],
    shared: dict[str, SharedParam],
    settings: LearnSettings,
    *,
    leave_out: str | None = None,
    executor: Executor | None = None,
    say: Callable[[str], None] | None = None,
) -> Learnt:
    """Reference fits, the shared hyper-posterior, and leave-one-out fits (see the module)."""
    report = say or (lambda _m: None)
    episodes = [load_episode(p) for p in paths]
    names = [e.name for e in episodes]
    if len(set(names)) != len(names):
        raise ScenarioError("two cases have the same name: " + ", ".join(names))
    if leave_out is not None and leave_out not in names:
        raise ScenarioError(f"--leave-out '{leave_out}' is not one of the cases: {names}")
    refs, likes, warns = {}, {}, {}
    for ep in episodes:
        if ep.name == leave_out:
            continue  # none of its data enters: only its fit up to the origin, below
        if not ep.problem.covered():
            report(f"{ep.name}: no observations in its period, so nothing to learn from it")
            continue
        report(f"{ep.name}: reference fit on {len(ep.problem.covered())} observations")
        priors = reference_priors(ep, shared)
        refs[ep.name] = fit(ep.problem, priors, settings, _seed(settings, ep.name, 0), executor)
        warns[ep.name] = posterior_warnings(refs[ep.name], priors)
        likes[ep.name] = episode_likelihood(ep.name, refs[ep.name], shared)
    report(f"hyper-parameters on {len(likes)} episodes")
    hyper = fit_hyper(list(likes.values()), shared, seed=settings.seed, steps=settings.steps)
    targets = [e for e in episodes if leave_out is None or e.name == leave_out]
    fits = {}
    for ep in targets:
        fits[ep.name] = loo_fit(ep, likes, shared, settings, executor, report)
    return Learnt(shared, hyper, fits, refs, warns)


def loo_fit(
    ep: Episode,
    likes: dict[str, EpisodeLikelihood],
    shared: dict[str, SharedParam],
    settings: LearnSettings,
    executor: Executor | None,
    report: Callable[[str], None],
) -> EpisodeFit:
    """Hyper-parameters on the other episodes, then this one's fit up to its origin."""
    others = [lk for n, lk in likes.items() if n != ep.name]
    hyper = fit_hyper(others, shared, seed=settings.seed, steps=settings.steps)
    priors = conditional_priors(ep, shared, hyper)
    known = ep.known
    report(f"{ep.name}: fit from the other episodes' prior on {len(known.covered())} "
           f"observations up to {ep.origin}")  # fmt: skip
    post = fit(known, priors, settings, _seed(settings, ep.name, 1), executor)
    return EpisodeFit(ep, priors, post, hyper,
                      not_blind(ep, shared) + posterior_warnings(post, priors))  # fmt: skip
