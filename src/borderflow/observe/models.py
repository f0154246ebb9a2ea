"""The observation tables (SQLAlchemy). Migrations in ``migrations/`` create and change them.

Only aggregated counts are stored: no row can describe a person. Optional parts of the natural
key are empty strings, not NULL, because NULLs never compare equal in a unique constraint and
the same observation imported twice must collide.

An observation is its natural key (what was counted, where, when, by whom) and its value (the
count or range, and how reliable it is). ``observation`` holds the current value of each; a
correction (the same key with another value) replaces it there and moves the value it replaces
to ``observation_revision``, with who recorded it and when, and who replaced it and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NATURAL_KEY = (
    "date",
    "end_date",
    "stat",
    "place_name",
    "place_code",
    "indicator",
    "direction",
    "nationality",
    "sex_age",
    "source_publisher",
    "source_url",
)
# What a correction may change: the value, and what is said about it.
VALUE_FIELDS = ("value_low", "value_high", "source_date", "reliability", "coverage")
CONTENT = NATURAL_KEY + VALUE_FIELDS


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (SQLite keeps no zone), always read back as an aware UTC time."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give times in UTC with a zone")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Observation(Base):
    __tablename__ = "observation"
    __table_args__ = (UniqueConstraint(*NATURAL_KEY, name="uq_observation_natural_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(Date, nullable=False)  # = date for one day
    stat: Mapped[str] = mapped_column(String(8), nullable=False)  # value | mean | max
    place_name: Mapped[str] = mapped_column(String(200), nullable=False)
    place_code: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    indicator: Mapped[str] = mapped_column(String(80), nullable=False)
    direction: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    nationality: Mapped[str] = mapped_column(String(3), nullable=False, default="")
    sex_age: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    value_low: Mapped[float] = mapped_column(Float, nullable=False)
    value_high: Mapped[float] = mapped_column(Float, nullable=False)
    source_publisher: Mapped[str] = mapped_column(String(300), nullable=False)
    source_url: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    source_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reliability: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    coverage: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # Who stored the current value, and when (unknown for rows stored before migration 0003).
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class ObservationRevision(Base):
    """A value an observation had before a correction replaced it."""

    __tablename__ = "observation_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("observation.id", ondelete="CASCADE"), nullable=False, index=True
    )
    value_low: Mapped[float] = mapped_column(Float, nullable=False)
    value_high: Mapped[float] = mapped_column(Float, nullable=False)
    source_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reliability: Mapped[str] = mapped_column(String(2), nullable=False, default="")
    coverage: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    replaced_by: Mapped[str] = mapped_column(String(64), nullable=False)
