"""Candidate routes of Flee's route choice, enumerated once per scenario.

Flee enumerates, at every decision, the simple paths of up to ``awareness`` hops from the
agent's place (markers are passed through without using up depth and are never destinations).
The *set* of paths depends only on the graph, so we enumerate it once and store it as flat
arrays; what changes during a run (closed links, scores, occupancy) is applied by the kernel
when it weighs the candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from borderflow.engine.graph import Graph


@dataclass(frozen=True)
class Candidates:
    """Paths grouped by origin: the candidates of place o are ``by_origin[o]:by_origin[o+1]``."""

    by_origin: np.ndarray  # int32 (n_places + 1)
    link_offsets: np.ndarray  # int32 (n_paths + 1): links of path p
    links: np.ndarray  # int32
    end: np.ndarray  # int32 destination of each path
    distance: np.ndarray  # float64 total km of each path
    factor: np.ndarray  # float64 per-path score multiplier (stay_close_to_home), 1 by default

    @property
    def n_paths(self) -> int:
        return len(self.end)


def enumerate_candidates(graph: Graph, is_marker: np.ndarray, awareness: int) -> Candidates:
    """Every route Flee could propose, in Flee's depth-first order."""
    by_origin = [0]
    link_offsets = [0]
    links: list[int] = []
    ends: list[int] = []
    dists: list[float] = []

    def walk(origin_path: list[int], at: int, prior: float, step: int, via: list[int]) -> None:
        for link in range(graph.offsets[at], graph.offsets[at + 1]):
            end = int(graph.dst[link])
            if end in origin_path:
                continue
            d = prior + float(graph.length[link])
            hop_step = step
            if is_marker[end]:
                hop_step -= 1
            else:
                links.extend([*via, link])
                link_offsets.append(len(links))
                ends.append(end)
                dists.append(d)
            if awareness > hop_step:
                walk([*origin_path, end], end, d, hop_step + 1, [*via, link])

    for origin in range(graph.n_places):
        walk([origin], origin, 0.0, 1, [])
        by_origin.append(len(ends))
    return Candidates(
        by_origin=np.asarray(by_origin, dtype=np.int32),
        link_offsets=np.asarray(link_offsets, dtype=np.int32),
        links=np.asarray(links, dtype=np.int32),
        end=np.asarray(ends, dtype=np.int32),
        distance=np.asarray(dists, dtype=np.float64),
        factor=np.ones(len(ends), dtype=np.float64),
    )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a 6371 km sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def close_to_home_factors(
    cands: Candidates, lat: np.ndarray, lon: np.ndarray, power: float
) -> np.ndarray:
    """``1 / max(1, distance(origin, end)) ** power`` for every path.

    Flee measures from the agent's *current* place, as here; it also swaps latitude and
    longitude, which borderflow does not copy (see docs/flee.md).
    """
    out = np.ones(cands.n_paths, dtype=np.float64)
    for origin in range(len(cands.by_origin) - 1):
        for p in range(cands.by_origin[origin], cands.by_origin[origin + 1]):
            e = cands.end[p]
            d = haversine_km(lat[origin], lon[origin], lat[e], lon[e])
            out[p] = 1.0 / max(1.0, d) ** power
    return out
