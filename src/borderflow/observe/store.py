"""The observation store: embedded SQLite by default, PostgreSQL when given a URL.

Imports are all-or-nothing: every row of a file is validated first, and a file with any bad
row is rejected whole, with every bad row listed (row, field, reason). A good file is inserted
in one transaction, skipping observations already stored (same natural key), so importing a
file twice adds nothing and concurrent importers of overlapping files neither lose nor
duplicate anything; a crash mid-import leaves the store as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.orm import Session

from borderflow.errors import ScenarioError
from borderflow.observe.models import NATURAL_KEY, Observation
from borderflow.results.hxl import write_csv

DEFAULT_URL = "sqlite:///borderflow.db"
BATCH = 500

# HXL hashtags (with attributes) → fields. The first matching tag wins; order matters.
HXL_FIELDS: tuple[tuple[str, str], ...] = (
    ("#date+end", "end_date"),
    ("#date+reported", "source_date"),
    ("#date", "date"),
    ("#meta+stat", "stat"),
    ("#loc+name", "place_name"),
    ("#loc+code", "place_code"),
    ("#adm1+code", "place_code"),
    ("#indicator+code", "indicator"),
    ("#indicator+name", "indicator"),
    ("#meta+direction", "direction"),
    ("#country+code", "nationality"),
    ("#meta+sexage", "sex_age"),
    ("#indicator+num+min", "value_low"),
    ("#indicator+num+max", "value_high"),
    ("#indicator+value+num", "value"),
    ("#meta+url", "source_url"),
    ("#meta+source", "source_publisher"),
    ("#meta+reliability", "reliability"),
    ("#meta+coverage", "coverage"),
)
EXPORT_TAGS = {
    "date": "#date+start",
    "end_date": "#date+end",
    "stat": "#meta+stat",
    "place_name": "#loc+name",
    "place_code": "#loc+code",
    "indicator": "#indicator+code",
    "direction": "#meta+direction",
    "nationality": "#country+code",
    "sex_age": "#meta+sexage",
    "value_low": "#indicator+num+min",
    "value_high": "#indicator+num+max",
    "source_publisher": "#meta+source",
    "source_url": "#meta+url",
    "source_date": "#date+reported",
    "reliability": "#meta+reliability",
    "coverage": "#meta+coverage",
}


def _iso_date(value: Any) -> dt.date:
    """A ``YYYY-MM-DD`` string (or a date object from code) as a date, nothing else.

    Pydantic's lax parsing would read ``0`` or ``"0"`` as 1970-01-01 (a Unix time), silently
    storing a wrong date from a bad cell; an observation's dates must be written out.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
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

    @property
    def already_stored(self) -> int:
        return self.rows - self.added


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
                cur.execute("PRAGMA busy_timeout=60000")  # concurrent writers wait their turn
                cur.close()

        try:
            _migrate(self.engine)
        except Exception as exc:
            raise ScenarioError(
                f"cannot open the observation store ({exc})", file=self.url
            ) from None

    # -- import -----------------------------------------------------------------------------
    def read_file(self, path: Path) -> list[ObservationIn]:
        """Validate every row of an HXL CSV; raise ImportRejectedError listing every bad one."""
        import hxl

        try:
            source = hxl.data(str(path), hxl.InputOptions(allow_local=True))
            columns = list(source.columns)
            rows = [list(r.values) for r in source]
        except FileNotFoundError:
            raise ScenarioError("file not found", file=path) from None
        except Exception as exc:
            raise ScenarioError(f"not an HXL-tagged CSV ({exc})", file=path) from None
        fields = [_field_of(col) for col in columns]
        first = _first_data_line(path)
        out, errors = [], []
        for k, cells in enumerate(rows):
            line = first + k
            record = {
                f: v for f, v in zip(fields, cells, strict=False) if f and v not in (None, "")
            }
            try:
                out.append(ObservationIn.model_validate(record))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(x) for x in err["loc"]) or "(row)"
                    errors.append(RowError(line, field, err["msg"].removeprefix("Value error, ")))
        if errors:
            raise ImportRejectedError(path, errors)
        if not out:
            raise ScenarioError("no observations (is there an HXL hashtag row?)", file=path)
        return out

    def import_file(self, path: Path) -> ImportReport:
        return self.insert(self.read_file(path))

    def import_flee(self, scenario_dir: Path) -> ImportReport:
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
        return self.insert(rows)

    def insert(
        self,
        rows: list[ObservationIn],
        *,
        also: Callable[[Connection, ImportReport], None] | None = None,
    ) -> ImportReport:
        """One transaction; rows already stored (same natural key) are skipped.

        ``also`` runs inside that transaction once the rows are in, with its report: what it
        writes (the web app's audit row) commits with them or not at all, so an exception in
        it, or a crash, leaves neither the rows nor its own writes.
        """
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        # A fixed order (the natural key) makes concurrent importers take row locks in the same
        # order, so overlapping files wait for each other instead of deadlocking.
        rows = sorted(rows, key=lambda r: tuple(str(getattr(r, k)) for k in NATURAL_KEY))
        added = 0
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front
            for start in range(0, len(rows), BATCH):
                batch = [r.record() for r in rows[start : start + BATCH]]
                stmt = (
                    insert(Observation)
                    .values(batch)
                    .on_conflict_do_nothing(index_elements=list(NATURAL_KEY))
                    .returning(Observation.id)
                )
                added += len(conn.execute(stmt).all())  # the rows actually inserted
                _fault("import", start + len(batch))
            report = ImportReport(len(rows), added)
            if also is not None:
                also(conn, report)
        return report

    # -- reading ----------------------------------------------------------------------------
    def query(
        self,
        place: str | None = None,
        indicator: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[Observation]:
        stmt = select(Observation)
        if place:
            stmt = stmt.where(Observation.place_name == place)
        if indicator:
            stmt = stmt.where(Observation.indicator == indicator)
        if since:
            stmt = stmt.where(Observation.end_date >= since)
        if until:
            stmt = stmt.where(Observation.date <= until)
        stmt = stmt.order_by(*(getattr(Observation, k) for k in NATURAL_KEY))
        with Session(self.engine) as session:
            return list(session.scalars(stmt))

    def export_csv(self, rows: Iterable[Observation], path: Path) -> int:
        """HXL-tagged CSV that :meth:`import_file` reads back to the same observations."""
        rows = list(rows)

        def cell(v):
            if isinstance(v, dt.date):
                return v.isoformat()
            if isinstance(v, float):
                return repr(v)
            return "" if v is None else v

        write_csv(path, EXPORT_TAGS, ([cell(getattr(r, c)) for c in EXPORT_TAGS] for r in rows))
        return len(rows)


def _field_of(column) -> str | None:
    """The field a column feeds, by its hashtag and attributes (None: ignored column)."""
    if not column.tag:
        return None
    attrs = set(column.attributes)
    for pattern, field in HXL_FIELDS:
        tag, *want = pattern.split("+")
        if column.tag == tag and set(want) <= attrs:
            return field
    return None


def _first_data_line(path: Path) -> int:
    """1-based line of the first data row: the line after the HXL hashtag row."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for n, cells in enumerate(csv.reader(handle), start=1):
            hashtags = all(c.strip().startswith("#") or not c.strip() for c in cells)
            if cells and hashtags and any(c.strip() for c in cells):
                return n + 1
    return 2
