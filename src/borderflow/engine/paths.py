"""Shortest road paths between places, stored flat so kernels can walk them.

Border-crisis travellers follow a fixed road path (home → exit post, entry post → onward
destination, one crossing → another) rather than choosing a neighbour each day, so the paths
are computed once with Dijkstra over the CSR graph and laid out as arrays: the links of path
``p`` are ``links[offsets[p]:offsets[p+1]]`` and ``cum_km`` holds the distance travelled at the
end of each of them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from borderflow.engine.graph import Graph


def shortest_links(graph: Graph, source: int, target: int) -> list[int] | None:
    """Links of a shortest path from ``source`` to ``target`` (None if unreachable)."""
    dist = {source: 0.0}
    via: dict[int, int] = {}
    heap = [(0.0, source)]
    while heap:
        d, node = heapq.heappop(heap)
        if node == target:
            break
        if d > dist.get(node, np.inf):
            continue
        for link in range(graph.offsets[node], graph.offsets[node + 1]):
            nxt = int(graph.dst[link])
            nd = d + float(graph.length[link])
            if nd < dist.get(nxt, np.inf):
                dist[nxt] = nd
                via[nxt] = link
                heapq.heappush(heap, (nd, nxt))
    if target not in dist:
        return None
    out = []
    node = target
    while node != source:
        link = via[node]
        out.append(link)
        node = int(graph.src[link])
    return out[::-1]


@dataclass(frozen=True)
class PathTable:
    """Paths as flat arrays (see the module docstring)."""

    offsets: np.ndarray  # int32 (n_paths + 1)
    links: np.ndarray  # int32
    cum_km: np.ndarray  # float64, distance at the end of each link of its path
    start: np.ndarray  # int32 first place of each path
    end: np.ndarray  # int32 last place of each path

    @property
    def n_paths(self) -> int:
        return len(self.start)

    def length(self, p: int) -> float:
        lo, hi = self.offsets[p], self.offsets[p + 1]
        return float(self.cum_km[hi - 1]) if hi > lo else 0.0


class PathBuilder:
    """Collects (source, target) pairs, computing each path once."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._ids: dict[tuple[int, int], int] = {}
        self._paths: list[list[int]] = []
        self._ends: list[tuple[int, int]] = []

    def add(self, source: int, target: int) -> int:
        """Id of the path source → target; -1 if target cannot be reached."""
        key = (source, target)
        if key not in self._ids:
            links = [] if source == target else shortest_links(self.graph, source, target)
            if links is None:
                self._ids[key] = -1
            else:
                self._ids[key] = len(self._paths)
                self._paths.append(links)
                self._ends.append(key)
        return self._ids[key]

    def build(self) -> PathTable:
        offsets = np.zeros(len(self._paths) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(p) for p in self._paths])
        links = np.array([lk for p in self._paths for lk in p], dtype=np.int32)
        cum = np.concatenate(
            [np.cumsum(self.graph.length[np.asarray(p, dtype=np.int64)]) for p in self._paths]
            or [np.zeros(0)]
        )
        return PathTable(
            offsets=offsets,
            links=links,
            cum_km=cum.astype(np.float64),
            start=np.array([s for s, _ in self._ends], dtype=np.int32),
            end=np.array([t for _, t in self._ends], dtype=np.int32),
        )
