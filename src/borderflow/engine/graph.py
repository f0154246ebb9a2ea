"""The place graph as arrays: directed links in CSR order (out-links of a place are contiguous)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Graph:
    """Places and directed links; ``link_open`` is the only part that changes during a run."""

    names: tuple[str, ...]
    offsets: np.ndarray  # int32 (n_places + 1): out-links of place i are offsets[i]:offsets[i+1]
    src: np.ndarray  # int32 (n_links)
    dst: np.ndarray  # int32 (n_links)
    length: np.ndarray  # float64 km
    link_open: np.ndarray  # bool, mutable

    @property
    def n_places(self) -> int:
        return len(self.names)

    @property
    def n_links(self) -> int:
        return len(self.src)

    @classmethod
    def from_edges(
        cls, names: tuple[str, ...], a: np.ndarray, b: np.ndarray, length: np.ndarray
    ) -> tuple[Graph, np.ndarray]:
        """Build from undirected edges: each gives two directed links, a→b then b→a.

        Returns the graph and, for each directed link, the index of the edge it came from (so
        that per-edge attributes can be laid out in link order).
        """
        n = len(names)
        src = np.column_stack([a, b]).ravel().astype(np.int32)
        dst = np.column_stack([b, a]).ravel().astype(np.int32)
        edge = np.repeat(np.arange(len(a)), 2)
        order = np.argsort(src, kind="stable")
        src, dst, edge = src[order], dst[order], edge[order]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.add.at(offsets, src + 1, 1)
        offsets = np.cumsum(offsets, dtype=np.int32)
        graph = cls(
            names=names,
            offsets=offsets,
            src=src,
            dst=dst,
            length=np.asarray(length, dtype=np.float64)[edge],
            link_open=np.ones(len(src), dtype=np.bool_),
        )
        return graph, edge

    def links_between(self, i: int, j: int) -> np.ndarray:
        """Indices of the directed links i→j."""
        out = np.arange(self.offsets[i], self.offsets[i + 1])
        return out[self.dst[out] == j]

    def links_touching(self, i: int) -> np.ndarray:
        """Every directed link into or out of place i."""
        return np.flatnonzero((self.src == i) | (self.dst == i))
