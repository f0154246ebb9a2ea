"""Run an ensemble: members written one file each, resumable, summarised as quantile bands.

A member is fully determined by the root seed and its index: its parameter draws come from
``SeedSequence([seed, index, 0])`` and its simulation seed from ``SeedSequence([seed, index, 1])``.
So a member computes the same numbers on any executor and at any time, which is what makes
resuming exact: members whose file exists are done (files appear atomically), the others are
run, and the bands are computed from the files alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from borderflow.ensemble.params import Distribution, draw, load_params
from borderflow.errors import ScenarioError
from borderflow.execute import Executor, Job, pool_executor
from borderflow.results.atomic import atomic_outputs
from borderflow.results.hxl import write_csv
from borderflow.scenario.border_io import BorderCase, override, read_border_case

if TYPE_CHECKING:
    from borderflow.forecast.model_error import Widening

MEMBERS_DIR = "members"
MANIFEST = "ensemble.json"
BANDS = "bands.parquet"
FAN = "fan.png"
DRAWS = "draws.csv"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
QUANTILE_COLUMNS = ("q05", "q25", "q50", "q75", "q95")


def member_file(index: int) -> str:
    return f"member-{index:05d}.parquet"


@dataclass(frozen=True)
class EnsembleSpec:
    """Everything that decides an ensemble's numbers (stored in its manifest)."""

    case_dir: str
    variant: dict[str, str]
    capacity: dict[str, int]
    seed: int
    members: int
    params_file: str
    params_digest: str
    known_at_origin: bool = False  # rows announced after the origin dropped

    def manifest(self) -> dict:
        """The settings that decide the numbers (the flag only when set: older ones stay valid)."""
        out = {k: v for k, v in self.__dict__.items() if k != "members"}
        if not self.known_at_origin:
            del out["known_at_origin"]
        return out


def member_draw(params: dict[str, Distribution], seed: int, index: int) -> tuple[int, dict]:
    """The simulation seed and parameter values of member ``index``."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, index, 0])))
    values = draw(params, rng)
    sim_seed = int(np.random.SeedSequence([seed, index, 1]).generate_state(1)[0])
    return sim_seed, values


# -- work done in a worker (see borderflow.execute) ---------------------------------------
@dataclass(frozen=True)
class MemberContext:
    """What a worker holds for an ensemble: the compiled case, sent once per worker."""

    case: BorderCase
    params: dict[str, Distribution]
    spec: EnsembleSpec


def run_member(ctx: MemberContext, index: int) -> tuple[int, bytes]:
    """Run member ``index``; return its series as Parquet bytes.

    The caller writes the file, so workers need no shared file system (a remote Dask cluster
    works as well as a local pool).
    """
    import io

    import pyarrow.parquet as pq

    from borderflow.rules.border import simulate_once

    sim_seed, values = member_draw(ctx.params, ctx.spec.seed, index)
    result = simulate_once(override(ctx.case, values), sim_seed, capacity=ctx.spec.capacity)
    buffer = io.BytesIO()
    pq.write_table(result.table, buffer, compression="zstd")
    return index, buffer.getvalue()


MEMBER_JOB = Job(MemberContext, run_member)


# -- the ensemble ------------------------------------------------------------------------------
@dataclass
class EnsembleResult:
    folder: Path
    members: int
    ran: list[int] = field(default_factory=list)  # indices computed in this call
    files: list[Path] = field(default_factory=list)


def prepare(
    case_dir: Path,
    params_file: Path,
    *,
    members: int,
    seed: int = 0,
    variant: dict[str, str] | None = None,
    capacity: dict[str, int] | None = None,
    known_at_origin: bool = False,
) -> tuple[BorderCase, dict[str, Distribution], EnsembleSpec]:
    if members < 1:
        raise ScenarioError(f"--members {members} must be at least 1")
    case = read_border_case(case_dir, variant, known_at_origin=known_at_origin)
    params = load_params(params_file, case)
    spec = EnsembleSpec(
        case_dir=str(Path(case_dir).resolve()),
        variant=case.variant,
        capacity=dict(capacity or {}),
        seed=seed,
        members=members,
        params_file=str(params_file),
        params_digest=hashlib.sha256(params_file.read_bytes()).hexdigest(),
        known_at_origin=known_at_origin,
    )
    return case, params, spec


def _check_manifest(folder: Path, spec: EnsembleSpec) -> None:
    path = folder / MANIFEST
    if not path.exists():
        return
    stored = json.loads(path.read_text())
    mine = spec.manifest()
    differ = [k for k in mine if stored.get(k) != mine[k]]
    if differ:
        raise ScenarioError(
            f"the folder holds a different ensemble ({', '.join(differ)} differ); "
            "use another --out or remove it",
            file=path,
        )


def run_ensemble(
    case_dir: Path,
    params_file: Path,
    out_dir: Path,
    *,
    members: int,
    seed: int = 0,
    variant: dict[str, str] | None = None,
    capacity: dict[str, int] | None = None,
    known_at_origin: bool = False,
    executor: Executor | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_member: Callable[[int], None] | None = None,
    lang: str = "en",
) -> EnsembleResult:
    """Run the members not yet on disk, then (re)write the draws, the bands and fan.png.

    ``lang``: the language of fan.png (the chart alone: the data files are the same).
    """
    case, params, spec = prepare(
        case_dir, params_file, members=members, seed=seed, variant=variant, capacity=capacity,
        known_at_origin=known_at_origin,
    )  # fmt: skip
    _check_manifest(out_dir, spec)
    folder = out_dir / MEMBERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp"):  # left by a killed run; the member reruns
        stale.unlink(missing_ok=True)
    with atomic_outputs(out_dir) as out:
        out.write(MANIFEST, lambda p: p.write_text(json.dumps(spec.manifest(), indent=2)))
    todo = [i for i in range(members) if not (folder / member_file(i)).exists()]
    if on_start is not None:
        on_start(members, members - len(todo))
    ran: list[int] = []

    def done(i: int, data: bytes) -> None:
        with atomic_outputs(folder) as out:  # each member is safe on disk as soon as it is done
            out.write(member_file(i), lambda p: p.write_bytes(data))
        ran.append(i)
        if on_member is not None:
            on_member(i)

    if todo:
        (executor or pool_executor()).run(MEMBER_JOB, (case, params, spec), todo, done)
    files = write_summary(out_dir, params, spec, lang)
    return EnsembleResult(out_dir, members, sorted(ran), files)


def aligned(tables: Sequence) -> tuple[Any, np.ndarray]:
    """Members' series on common rows: (a table of the rows, values of shape members × rows).

    Members usually have the same rows; they differ when one used a road another did not
    (roads without flow are left out of a series), and then a missing row means zero.
    """
    import pyarrow as pa

    def keys(t) -> list[tuple]:
        cols = [t.column(c).cast(pa.string()) if c != "day" else t.column(c)
                for c in ("day", "location", "indicator")]  # fmt: skip
        return list(zip(*(c.to_pylist() for c in cols), strict=True))

    first = tables[0]
    rows_of = lambda t: t.select(["day", "location", "indicator"])  # noqa: E731
    if all(rows_of(t).equals(rows_of(first)) for t in tables[1:]):  # the usual case, in C
        return first, np.stack([t.column("value").to_numpy() for t in tables])
    index: dict[tuple, int] = {}
    rows = []
    for t in tables:
        for k, row in zip(keys(t), range(t.num_rows), strict=True):
            if k not in index:
                index[k] = len(rows)
                rows.append((t, row))
    values = np.zeros((len(tables), len(rows)))
    for m, t in enumerate(tables):
        v = t.column("value").to_numpy()
        values[m, [index[k] for k in keys(t)]] = v
    picks = pa.concat_tables([src.slice(row, 1) for src, row in rows])
    return picks.combine_chunks(), values


def member_tables(out_dir: Path, members: int) -> list:
    """The members' series tables, from their files in ``out_dir/members``."""
    from borderflow.results.series import read_parquet

    return [read_parquet(out_dir / MEMBERS_DIR / member_file(i)) for i in range(members)]


def band_table(
    out_dir: Path, members: int, tables: list | None = None, widening: Widening | None = None
):
    """Quantile bands and mean over the members (``tables``, or their files in ``out_dir``).

    ``widening``: a forecast's model error, drawn about the members after its last report.
    """
    import pyarrow as pa

    tables = tables if tables is not None else member_tables(out_dir, members)
    first, values = aligned(tables)
    if widening is None:
        bands, mean = np.quantile(values, QUANTILES, axis=0), values.mean(axis=0)
    else:
        bands, mean = widening.bands(values, first.column("day").to_numpy(), QUANTILES)
    cols = {name: first.column(name) for name in ("day", "date", "location", "indicator")}
    cols.update({q: pa.array(bands[k]) for k, q in enumerate(QUANTILE_COLUMNS)})
    cols["mean"] = pa.array(mean)
    return pa.table(cols)


def observed_bands(tables: list, case: BorderCase, widening: Widening | None = None) -> dict:
    """Quantile bands over the members of each reported quantity the fan's rows lack.

    Sums, cumulative totals, shelters, …: what the crossing rows (stranded, crossed) do not draw.
    """
    from borderflow.results.observed import IN_FAN_ROWS, observed_quantities, quantity_bands
    from borderflow.results.series import Series

    quantities = observed_quantities(case, IN_FAN_ROWS)
    if not quantities:
        return {}
    series = [Series.from_table(t) for t in tables]
    return quantity_bands(series, quantities, QUANTILES, widening)


def write_bands(
    out_dir: Path,
    case: BorderCase,
    members: int,
    extra: dict[str, Callable[[Path], None]],
    lang: str = "en",
    widening: Widening | None = None,
) -> list[Path]:
    """bands.parquet and fan.png (in ``lang``) from the members' files, with ``extra``, at once.

    ``widening``: a forecast's model error (:mod:`borderflow.forecast.model_error`).
    """
    from borderflow.report.plots.ensemble import plot_fan
    from borderflow.results.series import write_parquet

    tables = member_tables(out_dir, members)  # read once, for the bands and the fan's extras
    band = band_table(out_dir, members, tables, widening)
    observed = observed_bands(tables, case, widening)
    with atomic_outputs(out_dir) as out:
        out.write(BANDS, lambda p: write_parquet(band, p))
        for name, writer in extra.items():
            out.write(name, writer)
        out.write(FAN, lambda p: plot_fan(band, case, p, members, lang, observed))
    return [out_dir / BANDS, *(out_dir / name for name in extra), out_dir / FAN]


def write_summary(
    out_dir: Path, params: dict[str, Distribution], spec: EnsembleSpec, lang: str = "en"
) -> list[Path]:
    """Draws of every member (CSV) and quantile bands over members (Parquet)."""

    def write_draws(path: Path) -> None:
        names = list(params)
        tags = {"member": "#meta+member", "seed": "#meta+seed"}
        tags.update({n: f"#meta+param+{n}" for n in names})

        def rows():
            for i in range(spec.members):
                sim_seed, vals = member_draw(params, spec.seed, i)
                yield [i, sim_seed, *(repr(vals[n]) for n in names)]

        write_csv(path, tags, rows())

    case = read_border_case(spec.case_dir, spec.variant, known_at_origin=spec.known_at_origin)
    return write_bands(out_dir, case, spec.members, {DRAWS: write_draws}, lang)
