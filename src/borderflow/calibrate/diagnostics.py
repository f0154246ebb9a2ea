"""Warnings about a fitted posterior that should not be trusted as it stands.

Two failures are common with few observations and few particles, and both pass silently:

* the posterior *degenerates*: one particle holds most of the weight, so the "posterior" is
  one point and its intervals say nothing (effective sample size below ``MIN_ESS_SHARE`` of
  the particles, or a particle above ``MAX_WEIGHT``). Identical particles count as one, with
  their weights summed: replenishment ABC gives every particle the same weight, and its
  failure is many copies of a few particles, which the weights alone would never show;
* a fitted value sits on the *edge* of its range (within ``EDGE_SHARE`` of it): the data push
  against the prior, and the range, not the data, decides the value.
"""

from __future__ import annotations

import math

from borderflow.calibrate.abc import Posterior
from borderflow.ensemble.params import Bounded, Distribution, LogitNormal, LogNormal

MIN_ESS_SHARE = 0.05
MAX_WEIGHT = 0.5
EDGE_SHARE = 0.02


Scale = str  # "x" (as is), "log" or "logit" (of the position between the bounds)


def value_range(d: Distribution) -> tuple[float, float, Scale] | None:
    """A prior's range on its scale: its bounds, or ±3 sd of a lognormal or logit-normal.

    A learnt share on 0–1 (logit-normal) centred on 0.01 is not "on the edge" of 0–1: its
    range is where its distribution puts nearly all its mass, on the scale it is fitted on.
    """
    if isinstance(d, LogitNormal):
        return d.mean - 3 * d.sd, d.mean + 3 * d.sd, "logit"
    if isinstance(d, Bounded):
        return d.low, d.high, "x"
    if isinstance(d, LogNormal):
        m = math.log(d.median)
        return m - 3 * d.sigma, m + 3 * d.sigma, "log"
    return None


def posterior_warnings(post: Posterior, priors: dict[str, Distribution]) -> list[str]:
    """Degeneracy and edge warnings, one line each (none: nothing to warn about)."""
    out = []
    n = len(post.weights)
    ess = post.effective_size()
    top = post.top_weight()
    if ess < MIN_ESS_SHARE * n or top > MAX_WEIGHT:
        out.append(
            f"the posterior degenerates: effective sample size {ess:.1f} of {n} particles "
            f"({post.distinct()} distinct), one particle holds {top:.0%} of the weight; its "
            "intervals are not to be trusted (more particles, or fewer generations)"
        )
    median = post.quantiles(0.5)[0]
    for j, name in enumerate(post.names):
        span = value_range(priors[name]) if name in priors else None
        if span is None:
            continue
        low, high, scale = span
        v = _to_scale(float(median[j]), priors[name], scale)
        edge = EDGE_SHARE * (high - low)
        if v <= low + edge or v >= high - edge:
            side = "low" if v <= low + edge else "high"
            out.append(
                f"{name}: fitted value {median[j]:.4g} sits on the {side} edge of its range "
                f"({_show(low, priors[name], scale)}–{_show(high, priors[name], scale)}): "
                "the range, not the data, decides it"
            )
    return out


def _to_scale(x: float, d: Distribution, scale: Scale) -> float:
    if scale == "log":
        return math.log(x) if x > 0 else -math.inf
    if scale == "logit":
        u = min(max((x - d.low) / (d.high - d.low), 1e-12), 1 - 1e-12)
        return math.log(u) - math.log1p(-u)
    return x


def _show(v: float, d: Distribution, scale: Scale) -> str:
    if scale == "log":
        return f"{math.exp(v):.4g}"
    if scale == "logit":
        return f"{d.low + (d.high - d.low) / (1 + math.exp(-v)):.4g}"
    return f"{v:.4g}"
