"""The observation table (SQLAlchemy). Migrations in ``migrations/`` create and change it.

Only aggregated counts are stored: no row can describe a person. Optional parts of the natural
key are empty strings, not NULL, because NULLs never compare equal in a unique constraint and
the same observation imported twice must collide.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Integer, String, UniqueConstraint
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


class Base(DeclarativeBase):
    pass


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
