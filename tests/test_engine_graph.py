"""Unit tests of the place graph (engine/graph.py) and the road paths (engine/paths.py).

A hand-made five-place graph pins the CSR layout link by link; random small graphs check
``shortest_links`` against Floyd–Warshall written here.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import borderflow.engine.paths as paths_mod
from borderflow.engine.graph import Graph
from borderflow.engine.paths import PathBuilder, shortest_links

#   A --10-- B
#    \       |
#     50     20
#      \     |
#       `--- C --5-- D --7-- E      (and, in NAMES_F, an isolated place F)
# Edges deliberately not in source order, so the CSR sort shows.
NAMES = ("A", "B", "C", "D", "E")
NAMES_F = (*NAMES, "F")
EDGES = [(2, 3, 5.0), (0, 1, 10.0), (1, 2, 20.0), (0, 2, 50.0), (4, 3, 7.0)]


def build(names=NAMES, edges=EDGES) -> tuple[Graph, np.ndarray]:
    a, b, km = (np.array(c) for c in zip(*edges, strict=True)) if edges else ([], [], [])
    return Graph.from_edges(
        tuple(names), np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), np.asarray(km)
    )


def floyd_warshall(n: int, edges: list[tuple[int, int, float]]) -> np.ndarray:
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)
    for a, b, km in edges:
        d[a, b] = min(d[a, b], km)
        d[b, a] = min(d[b, a], km)
    for k, i, j in itertools.product(range(n), repeat=3):
        d[i, j] = min(d[i, j], d[i, k] + d[k, j])
    return d


@st.composite
def small_graphs(draw) -> tuple[int, list[tuple[int, int, float]]]:
    """Up to 7 places and 12 edges; parallel edges, self-loops and zero lengths allowed."""
    n = draw(st.integers(1, 7))
    edge = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.integers(0, 30))
    edges = draw(st.lists(edge, max_size=12))
    return n, [(a, b, float(km)) for a, b, km in edges]


def test_csr_of_hand_made_graph():
    g, edge = build()
    assert g.n_places == 5
    assert g.n_links == 10
    assert g.offsets.tolist() == [0, 2, 4, 7, 9, 10]
    # out-links of each place in input-edge order (stable sort), a→b of an edge before b→a
    assert g.src.tolist() == [0, 0, 1, 1, 2, 2, 2, 3, 3, 4]
    assert g.dst.tolist() == [1, 2, 0, 2, 3, 1, 0, 2, 4, 3]
    assert edge.tolist() == [1, 3, 1, 2, 0, 2, 3, 0, 4, 4]
    assert g.length.tolist() == [10, 50, 10, 20, 5, 20, 50, 5, 7, 7]
    assert g.link_open.all()
    assert g.offsets.dtype == g.src.dtype == g.dst.dtype == np.int32
    assert g.length.dtype == np.float64


def test_links_between_and_touching():
    g, _ = build()
    assert g.links_between(2, 3).tolist() == [4]
    assert g.links_between(3, 2).tolist() == [7]
    assert g.links_between(0, 4).tolist() == []
    assert sorted(g.links_touching(3).tolist()) == [4, 7, 8, 9]


def test_isolated_place_has_empty_link_range():
    g, _ = build(NAMES_F)
    assert g.offsets.tolist() == [0, 2, 4, 7, 9, 10, 10]
    assert g.links_touching(5).tolist() == []


@settings(deadline=None)  # the machine may be busy; no timing is tested
@given(small_graphs())
def test_csr_invariants_on_random_graphs(graph):
    n, edges = graph
    g, edge = build([f"p{i}" for i in range(n)], edges)
    assert g.n_links == 2 * len(edges)
    assert g.offsets[0] == 0 and g.offsets[-1] == g.n_links
    assert (np.diff(g.offsets) >= 0).all()
    for i in range(n):
        lo, hi = g.offsets[i], g.offsets[i + 1]
        assert (g.src[lo:hi] == i).all()
        assert (np.diff(edge[lo:hi]) >= 0).all()  # input order kept within a place
    for link, e in enumerate(edge):
        a, b, km = edges[e]
        assert (g.src[link], g.dst[link]) in {(a, b), (b, a)}
        assert g.length[link] == km
    # every edge appears exactly twice, once each way
    assert sorted(edge.tolist()) == sorted(list(range(len(edges))) * 2)


def test_shortest_path_on_hand_made_graph():
    g, _ = build()
    # A→D: A-B-C-D is 35 km, A-C-D is 55 km
    assert shortest_links(g, 0, 3) == [0, 3, 4]
    assert shortest_links(g, 0, 4) == [0, 3, 4, 8]
    assert shortest_links(g, 4, 0) == [9, 7, 5, 2]  # the same road backwards
    assert shortest_links(g, 2, 2) == []


def test_unreachable_place_gives_none():
    g, _ = build(NAMES_F)
    assert shortest_links(g, 0, 5) is None
    assert shortest_links(g, 5, 0) is None


def test_tie_gives_one_of_the_shortest_paths():
    # A-B-D and A-C-D are both 10 km; either is acceptable, and always the same one
    g, _ = build(("A", "B", "C", "D"), [(0, 1, 4.0), (1, 3, 6.0), (0, 2, 5.0), (2, 3, 5.0)])
    path = shortest_links(g, 0, 3)
    assert path in ([0, 3], [1, 5])
    assert float(g.length[path].sum()) == 10.0
    assert shortest_links(g, 0, 3) == path


@settings(deadline=None, max_examples=200)
@given(small_graphs(), st.data())
def test_shortest_links_matches_floyd_warshall(graph, data):
    n, edges = graph
    g, _ = build([f"p{i}" for i in range(n)], edges)
    s, t = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    best = floyd_warshall(n, edges)[s, t]
    path = shortest_links(g, s, t)
    if np.isinf(best):
        assert path is None
        return
    assert path is not None
    here = s
    for link in path:  # a connected walk from s to t
        assert g.src[link] == here
        here = int(g.dst[link])
    assert here == t
    assert float(g.length[np.asarray(path, dtype=np.int64)].sum()) == best


def test_path_builder_computes_each_pair_once(monkeypatch):
    calls = []

    def counting(graph, source, target):
        calls.append((source, target))
        return shortest_links(graph, source, target)

    monkeypatch.setattr(paths_mod, "shortest_links", counting)
    g, _ = build(NAMES_F)
    pb = PathBuilder(g)
    ad = pb.add(0, 3)
    assert pb.add(0, 3) == ad
    da = pb.add(3, 0)
    assert da != ad  # the other direction is a different path
    assert pb.add(0, 5) == -1  # unreachable: no path stored
    assert pb.add(0, 5) == -1
    cc = pb.add(2, 2)
    assert sorted(calls) == [(0, 3), (0, 5), (3, 0)]  # (2, 2) needs no search
    table = pb.build()
    assert table.n_paths == 3
    assert (ad, da, cc) == (0, 1, 2)
    assert table.offsets.tolist() == [0, 3, 6, 6]
    assert table.links.tolist() == [0, 3, 4, 7, 5, 2]
    assert table.cum_km.tolist() == [10, 30, 35, 5, 25, 35]
    assert table.start.tolist() == [0, 3, 2]
    assert table.end.tolist() == [3, 0, 2]
    assert [table.length(p) for p in range(3)] == [35.0, 35.0, 0.0]


def test_empty_path_table():
    table = PathBuilder(build()[0]).build()
    assert table.n_paths == 0
    assert table.offsets.tolist() == [0]
    assert len(table.links) == len(table.cum_km) == 0


@settings(deadline=None)  # the machine may be busy; no timing is tested
@given(small_graphs(), st.data())
def test_path_table_lengths_match_floyd_warshall(graph, data):
    n, edges = graph
    g, _ = build([f"p{i}" for i in range(n)], edges)
    best = floyd_warshall(n, edges)
    pairs = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))))
    pb = PathBuilder(g)
    ids = [pb.add(s, t) for s, t in pairs]
    table = pb.build()
    assert table.n_paths == len({p for p in ids if p >= 0})
    for (s, t), p in zip(pairs, ids, strict=True):
        if np.isinf(best[s, t]):
            assert p == -1
            continue
        assert (table.start[p], table.end[p]) == (s, t)
        assert table.length(p) == best[s, t]
        lo, hi = table.offsets[p], table.offsets[p + 1]
        assert (np.diff(table.cum_km[lo:hi]) >= 0).all()
