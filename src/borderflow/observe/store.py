"""The observation store: embedded SQLite by default, PostgreSQL when given a URL.

Imports are all-or-nothing: every row of a file is validated first, and a file with any bad
row is rejected whole, with every bad row listed (row, field, reason). A good file is written
in one transaction (in bulk: :mod:`.ingest`): observations already stored with the same value
are skipped, so importing a file twice adds nothing; one stored with another value (same
natural key: a corrected count) takes the new value, and the old one is kept with who recorded
it and when (:meth:`Store.history`). Concurrent importers of overlapping files neither lose nor
duplicate anything; a crash mid-import leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import gc
import operator
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.orm import Session

from borderflow.errors import ScenarioError
from borderflow.observe import hxlcsv, ingest
from borderflow.observe.hxlcsv import EXPORT_TAGS, HISTORY_TAGS, HXL_FIELDS
from borderflow.observe.models import (
    CONTENT,
    NATURAL_KEY,
    Observation,
    ObservationRevision,
    utcnow,
)

__all__ = ["EXPORT_TAGS", "HISTORY_TAGS", "HXL_FIELDS", "ImportRejectedError", "ImportReport",
           "IsoDate", "ObservationIn", "RowError", "Store"]  # fmt: skip

DEFAULT_URL = "sqlite:///borderflow.db"
CLI_USER = "(cli)"  # who recorded what the command line imports
BUSY_TIMEOUT_MS = 60_000
AUDITED_REVISIONS = 1000  # corrections listed one by one in an upload's audit row


def _iso_date(value: Any) -> dt.date:
    """A ``YYYY-MM-DD`` string (or a date object from code) as a date, nothing else.

    Pydantic's lax parsing would read ``0`` or ``"0"`` as 1970-01-01 (a Unix time), silently
    storing a wrong date from a bad cell; an observation's dates must be written out.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        # (date.fromisoformat alone would also take 20251101 and week dates like 2025-W44-6)
        if len(text) == 10 and text[4] == text[7] == "-":
            year, month, day = text[:4], text[5:7], text[8:]
            if year.isdigit() and month.isdigit() and day.isdigit() and text.isascii():
                try:
                    return dt.date(int(year), int(month), int(day))
                except ValueError:
                    pass  # e.g. month 13: the same error as any other non-date
    raise ValueError("not a date (YYYY-MM-DD)")


# A calendar date written YYYY-MM-DD, in CSV, JSON and queries alike.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class ObservationIn(BaseModel):
    """One row of an import, validated."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    date: IsoDate
    end_date: IsoDate | None = None
    stat: Literal["value", "mean", "max"] = "value"
    place_name: str = Field(min_length=1, max_length=200)
    place_code: str = Field("", max_length=40)
    indicator: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)
    direction: str = Field("", max_length=40)
    nationality: str = Field("", pattern=r"^([A-Z]{3})?$")
    sex_age: str = Field("", max_length=40)
    value: float | None = Field(None, ge=0)
    value_low: float | None = Field(None, ge=0)
    value_high: float | None = Field(None, ge=0)
    source_publisher: str = Field(min_length=1, max_length=300)
    source_url: str = Field("", max_length=500)
    source_date: IsoDate | None = None
    reliability: Literal["", "A", "B", "C", "D"] = ""
    coverage: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _values(self) -> ObservationIn:
        if self.value is not None:
            if self.value_low is not None or self.value_high is not None:
                raise ValueError("give a value or a low/high range, not both")
            self.value_low = self.value_high = self.value
        if self.value_low is None or self.value_high is None:
            raise ValueError("needs a value, or both low and high")
        if self.value_high < self.value_low:
            raise ValueError(f"high {self.value_high} is below low {self.value_low}")
        if self.end_date is None:
            self.end_date = self.date
        if self.end_date < self.date:
            raise ValueError(f"end date {self.end_date} is before {self.date}")
        return self

    def record(self) -> dict:
        data = self.model_dump(exclude={"value"})
        return data

    def content(self) -> tuple:
        """Natural key then value, in ``CONTENT`` order (what the store writes)."""
        return _CONTENT_OF(self)


_CONTENT_OF = operator.attrgetter(*CONTENT)


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def describe(self) -> str:
        return f"row {self.row}, field '{self.field}': {self.reason}"


class ImportRejectedError(Exception):
    """A file with bad rows: nothing of it was stored."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.path, self.errors = path, errors
        super().__init__(f"{path}: {len(errors)} bad row(s); nothing imported")


@dataclass(frozen=True)
class ImportReport:
    rows: int
    added: int
    revised: int = 0
    revisions: tuple[ingest.Revision, ...] = field(default=(), repr=False)

    @property
    def already_stored(self) -> int:
        return self.rows - self.added - self.revised

    def audit_detail(self) -> dict[str, Any]:
        """Counts and, for the first corrections, the old and the new value of each."""
        detail: dict[str, Any] = {
            "rows": self.rows,
            "added": self.added,
            "revised": self.revised,
            "already_stored": self.already_stored,
        }
        if self.revisions:
            detail["revisions"] = [r.as_json() for r in self.revisions[:AUDITED_REVISIONS]]
            if self.revised > AUDITED_REVISIONS:
                detail["revisions_not_listed"] = self.revised - AUDITED_REVISIONS
        return detail


def duplicates(rows: Sequence[ObservationIn], lines: Sequence[int]) -> list[RowError]:
    """Rows that repeat an earlier row's observation with another value (which is right?)."""
    return _conflicts([r.content() for r in rows], lines)


def _conflicts(contents: Sequence[tuple], lines: Sequence[int]) -> list[RowError]:
    first: dict[tuple, tuple[int, tuple]] = {}
    errors = []
    nk = len(NATURAL_KEY)
    for content, line in zip(contents, lines, strict=True):
        seen = first.setdefault(content[:nk], (line, content))
        if seen[1] != content:
            reason = f"the same observation as row {seen[0]}, with another value"
            errors.append(RowError(line, "(row)", reason))
    return errors


ROWS = TypeAdapter(list[ObservationIn])


def row_errors(exc: ValidationError, lines: Sequence[int]) -> list[RowError]:
    """The errors of validating a list of rows, each at the line of its row."""
    errors = []
    for err in exc.errors():
        index, *loc = err["loc"]
        name = ".".join(str(x) for x in loc) or "(row)"
        errors.append(RowError(lines[index], name, err["msg"].removeprefix("Value error, ")))
    return errors


def validate(
    numbered: Sequence[tuple[int, dict[str, Any]]],
) -> tuple[list[ObservationIn], list[int]]:
    """Validated rows and their line numbers; ImportRejectedError listing every bad row."""
    lines = [line for line, _ in numbered]
    try:  # one call for the whole list: a tenth faster than one per row
        rows = ROWS.validate_python([record for _, record in numbered])
    except ValidationError as exc:
        raise ImportRejectedError(Path("(upload)"), row_errors(exc, lines)) from None
    errors = duplicates(rows, lines)
    if errors:
        raise ImportRejectedError(Path("(upload)"), errors)
    return rows, lines


class _Collector:
    """How many imports run now, and whether the collector was on before the first."""

    lock = threading.Lock()
    imports = 0
    was_on = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a large import runs (threads share it).

    An import makes a few objects per row and no reference cycles, yet every 700 new objects
    set off a collection that scans them all again: a quarter of an import's time. The
    collector is back on (if it was on) once the last import under way ends.
    """
    with _Collector.lock:
        if _Collector.imports == 0:
            _Collector.was_on = gc.isenabled()
            gc.disable()
        _Collector.imports += 1
    try:
        yield
    finally:
        with _Collector.lock:
            _Collector.imports -= 1
            if _Collector.imports == 0 and _Collector.was_on:
                gc.enable()


def _fault(point: str, count: int) -> None:
    """Test hook: ``BORDERFLOW_CRASH_AT=point:N`` kills the process at that point (SIGKILL)."""
    spec = os.environ.get("BORDERFLOW_CRASH_AT", "")
    if spec.startswith(point + ":") and count >= int(spec.split(":", 1)[1]):
        os.kill(os.getpid(), signal.SIGKILL)


def _migrate(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("borderflow.observe") / "migrations")
    )
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class Store:
    """A handle on one observation database (created and migrated on first use)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or os.environ.get("BORDERFLOW_DB") or DEFAULT_URL
        try:
            self.engine = create_engine(self.url)
        except Exception as exc:
            raise ScenarioError(f"not a database URL ({exc})", file=self.url) from None
        if self.engine.dialect.name == "sqlite":

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(conn, _record) -> None:
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # writers wait their turn
                cur.execute("PRAGMA temp_store=MEMORY")  # an import's staging table
                cur.execute("PRAGMA cache_size=-32768")  # 32 MiB: large imports touch many pages
                cur.close()

        try:
            _migrate(self.engine)
        except Exception as exc:
            raise ScenarioError(
                f"cannot open the observation store ({exc})", file=self.url
            ) from None

    # -- import -----------------------------------------------------------------------------
    def read_numbered(self, path: Path) -> tuple[list[ObservationIn], list[int]]:
        """Every row of an HXL CSV, validated, with its line in the file.

        ImportRejectedError lists every bad row (and every row that repeats an earlier one's
        observation with another value); ScenarioError when the file cannot be read at all.
        """
        with paused_gc():
            return self._validated(hxlcsv.read_path(path), path)

    def read_upload(self, text: str, name: str) -> tuple[list[ObservationIn], list[int]]:
        """:meth:`read_numbered` of a CSV held in memory (an upload), errors naming ``name``."""
        with paused_gc():
            return self._validated(hxlcsv.read_text(text, name), Path(name))

    @staticmethod
    def _validated(
        numbered: list[tuple[int, dict[str, Any]]], path: Path
    ) -> tuple[list[ObservationIn], list[int]]:
        try:
            rows, lines = validate(numbered)
        except ImportRejectedError as exc:
            raise ImportRejectedError(path, exc.errors) from None
        if not rows:
            raise ScenarioError("no observations (is there an HXL hashtag row?)", file=path)
        return rows, lines

    def read_file(self, path: Path) -> list[ObservationIn]:
        """Validate every row of an HXL CSV; raise ImportRejectedError listing every bad one."""
        return self.read_numbered(path)[0]

    def import_file(self, path: Path, by: str = CLI_USER) -> ImportReport:
        return self.insert(self.read_file(path), by=by)

    def import_flee(self, scenario_dir: Path, by: str = CLI_USER) -> ImportReport:
        """A Flee scenario's camp series (UNHCR registrations) as observations.

        Each dated point of each camp's series becomes a ``refugees_in_camp`` count, after
        Flee's registration corrections, as Flee's validation uses them.
        """
        from borderflow.scenario.flee_io import camp_observations, read_flee_scenario

        sc = read_flee_scenario(scenario_dir)
        rows = [
            ObservationIn(
                date=o.date,
                place_name=o.location,
                indicator=o.indicator,
                value=o.low,
                source_publisher=f"UNHCR, via the Flee scenario '{sc.name}'",
                reliability="A",
                coverage="registered refugees in the camp (Flee's source_data, with "
                "its registration corrections)",
            )
            for o in camp_observations(sc)
        ]
        return self.insert(rows, by=by)

    def insert(
        self,
        rows: Sequence[ObservationIn],
        *,
        by: str = CLI_USER,
        also: Callable[[Connection, ImportReport], None] | None = None,
    ) -> ImportReport:
        """One transaction: new observations added, changed values revised, the rest skipped.

        ``by`` is who records them (a username, or ``(cli)``). ``also`` runs inside that
        transaction once the rows are in, with its report: what it writes (the web app's
        audit row) commits with them or not at all, so an exception in it, or a crash, leaves
        neither the rows nor its own writes.
        """
        # One row per observation, in a fixed order (the natural key): concurrent importers
        # then take row locks in the same order and wait for each other instead of deadlocking.
        nk, unique = len(NATURAL_KEY), {}
        for n, row in enumerate(rows, start=1):
            content = row.content()
            if unique.setdefault(content[:nk], content) != content:
                raise ScenarioError(f"item {n}: the same observation as before, another value")
        content = [unique[k] for k in sorted(unique)]
        with paused_gc(), self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front
            added, revisions = ingest.write(conn, content, by, utcnow())
            _fault("import", added)
            report = ImportReport(len(rows), added, len(revisions), tuple(revisions))
            if also is not None:
                also(conn, report)
        return report

    # -- reading ----------------------------------------------------------------------------
    def _filtered(self, stmt: Any, place, indicator, since, until) -> Any:
        if place:
            stmt = stmt.where(Observation.place_name == place)
        if indicator:
            stmt = stmt.where(Observation.indicator == indicator)
        if since:
            stmt = stmt.where(Observation.end_date >= since)
        if until:
            stmt = stmt.where(Observation.date <= until)
        return stmt.order_by(*(getattr(Observation, k) for k in NATURAL_KEY))

    def query(
        self,
        place: str | None = None,
        indicator: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Observation]:
        """The current value of every matching observation, in natural-key order."""
        stmt = self._filtered(select(Observation), place, indicator, since, until)
        with Session(self.engine) as session:
            return list(session.scalars(stmt))

    def history(
        self,
        place: str | None = None,
        indicator: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[dict[str, Any]]:
        """Every version of every matching observation, oldest first within each.

        A record has the observation's fields (its ``id`` is the observation's), who
        recorded that version and when, whether it is ``current``, and, for a replaced
        version, who replaced it and when.
        """
        current = self.query(place, indicator, since, until)
        stmt = self._filtered(
            select(ObservationRevision, Observation).join(
                Observation, ObservationRevision.observation_id == Observation.id
            ),
            place, indicator, since, until,
        ).order_by(ObservationRevision.id)  # fmt: skip
        with Session(self.engine) as session:
            old = session.execute(stmt).all()
        versions: dict[int, list[dict[str, Any]]] = {o.id: [] for o in current}
        for rev, obs in old:
            record = {c: getattr(obs, c) for c in ("id", *NATURAL_KEY)}
            for c in (*CONTENT[len(NATURAL_KEY) :], "recorded_at", "recorded_by",
                      "replaced_at", "replaced_by"):  # fmt: skip
                record[c] = getattr(rev, c)
            versions[obs.id].append({**record, "current": False})
        for o in current:
            record = {c: getattr(o, c) for c in ("id", *CONTENT, "recorded_at", "recorded_by")}
            versions[o.id].append(
                {**record, "current": True, "replaced_at": None, "replaced_by": None}
            )
        return [v for o in current for v in versions[o.id]]

    def export_csv(
        self, rows: Iterable[Observation | dict[str, Any]], path: Path, history: bool = False
    ) -> int:
        """HXL-tagged CSV that :meth:`import_file` reads back to the same observations.

        ``history``: the records of :meth:`history`, with who recorded each version, when,
        and whether it is current.
        """
        tags = {**EXPORT_TAGS, **HISTORY_TAGS} if history else EXPORT_TAGS
        records = hxlcsv.columns(list(rows), tags)
        hxlcsv.write_path(path, tags, records)
        return len(records)
