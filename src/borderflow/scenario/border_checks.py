"""Mistakes a case folder must not get away with: each one clear error before anything runs.

These checks sit beside the schema (:mod:`.border_schema`) rather than in it: they compare
names across files (an observation's indicator and place, a variant's dropped label), or read
the raw text before the schema does (a date written with a time, a misspelt key in
``scenario.toml``, names typed in two Unicode forms). Every error names file, row and field, and
suggests the nearest known name ("did you mean") where there is one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from borderflow.errors import ScenarioError
from borderflow.observe.quantity import ALL, STOCKS, indicator_terms, location_parts

if TYPE_CHECKING:
    from borderflow.scenario.border_io import BorderCase

#: Event kinds that happen on one day only: an end date would be ignored.
NO_END = {
    "deadline": "a deadline is a day (the countdown runs to its start)",
    "return_flight": "a return flight leaves once, on its start; for repeated flights use kind "
    "'removal' with an end and every_days",
    "crowd": "a crowd is the people present on its start day",
}
#: Policies that use the quota column (any other ignores it).
QUOTA_POLICIES = ("quota", "corridor", "selective")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_WITH_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest known name, or nothing."""
    close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- raw text ---------------------------------------------------------------------------------
def normalise_tree(value: Any) -> Any:
    """Every string of a parsed TOML document (keys included) in Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {unicodedata.normalize("NFC", k): normalise_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_tree(v) for v in value]
    return value


def check_date_cell(text: str, file: Path, row: int, column: str) -> None:
    """A date cell must be a day: ``2025-11-28``, not ``2025-11-28T10:00``."""
    if _DATE_WITH_TIME.match(text) or (_DATE.match(text) and not _DATE.fullmatch(text)):
        raise ScenarioError(
            f"'{text}' is not a date: use YYYY-MM-DD (no time)", file=file, row=row, column=column
        )


def date_fields(model: type[BaseModel]) -> set[str]:
    """The names (and aliases) of a row model's date fields."""
    out = set()
    for name, f in model.model_fields.items():
        if dt.date in (f.annotation, *typing.get_args(f.annotation)):
            out.add(f.alias or name)
    return out


def inner_model(annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """How a field holds models: ('model', M), ('dict', M), ('seq', M), or None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return inner_model(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    args = typing.get_args(annotation)
    if origin is dict and len(args) == 2:
        inner = inner_model(args[1])
        return ("dict", inner[1]) if inner and inner[0] == "model" else None
    if origin in (tuple, list) and args:
        inner = inner_model(args[0])
        return ("seq", inner[1]) if inner and inner[0] == "model" else None
    if origin in (typing.Union, types.UnionType):
        for a in args:
            if (inner := inner_model(a)) is not None:
                return inner
    return None


def is_param_section(model: type[BaseModel]) -> bool:
    """Whether every field of a section is a parameter (a value with its provenance)."""
    from borderflow.scenario.border_schema import Param

    return bool(model.model_fields) and all(
        (inner := inner_model(f.annotation)) is not None and inner[1] is Param
        for f in model.model_fields.values()
    )


def check_toml(raw: Any, model: type[BaseModel], file: Path, where: str = "") -> None:
    """Unknown keys of ``scenario.toml`` (a misspelt section or parameter), and dates with times.

    Walks the document along the schema, so sections other helpers add are known at once.
    """
    if isinstance(raw, dt.datetime | dt.time):
        raise ScenarioError(
            f"{raw.isoformat()} is not a date: use YYYY-MM-DD (no time)", file=file, column=where
        )
    if not isinstance(raw, dict):
        return
    fields = model.model_fields
    for key, value in raw.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            what = "section" if not where else "parameter" if is_param_section(model) else "key"
            raise ScenarioError(
                f"unknown {what} '{key}'{did_you_mean(key, fields)}", file=file, column=path
            )
        if isinstance(value, dt.datetime | dt.time):
            check_toml(value, model, file, path)
        inner = inner_model(fields[key].annotation)
        if inner is None:
            continue
        how, sub = inner
        if how == "model":
            check_toml(value, sub, file, path)
        elif how == "dict" and isinstance(value, dict):
            for k, v in value.items():
                check_toml(v, sub, file, f"{path}.{k}")
        elif how == "seq" and isinstance(value, list):
            for i, v in enumerate(value):
                check_toml(v, sub, file, f"{path}[{i}]")


# -- across files -----------------------------------------------------------------------------
def validate_case(case: BorderCase) -> None:
    """The cross-file checks of a loaded case (called by ``read_border_case``)."""
    _check_events(case)
    _check_policies(case)
    _check_variants(case)
    vocabulary = Vocabulary.of(case)
    for i, o in enumerate(case.observations):
        problem = vocabulary.problem(o.location, o.indicator)
        if problem is not None:
            column, message = problem
            raise ScenarioError(message, **case.where("observations", i, column))


def _check_events(case: BorderCase) -> None:
    for i, e in enumerate(case.events):
        if e.end is not None and e.kind in NO_END:
            raise ScenarioError(
                f"kind '{e.kind}' has no end date: {NO_END[e.kind]}",
                **case.where("events", i, "end"),
            )


def _quota_error(policy: str, quota: int, side: str = "entry") -> str | None:
    if quota > 0 and side == "exit":
        return f"quota {quota} on the exit side is ignored: only entry policies use a quota"
    if quota > 0 and policy not in QUOTA_POLICIES:
        return (
            f"quota {quota} is ignored by policy '{policy}': only "
            f"{' and '.join(repr(p) for p in QUOTA_POLICIES)} use it (leave it blank or 0)"
        )
    return None


def _check_policies(case: BorderCase) -> None:
    for i, p in enumerate(case.policies):
        if (message := _quota_error(p.policy, p.quota, p.side)) is not None:
            raise ScenarioError(message, **case.where("policies", i, "quota"))


def _check_variants(case: BorderCase) -> None:
    toml = case.path / "scenario.toml"
    for dim, spec in case.spec.variants.items():
        for name, option in spec.options.items():
            where = f"variants.{dim}.options.{name}"
            for label in option.drop_events:
                if label not in case.event_labels:
                    raise ScenarioError(
                        f"drops unknown event label '{label}'"
                        f"{did_you_mean(label, case.event_labels)}",
                        file=toml,
                        column=f"{where}.drop_events",
                    )
            for j, p in enumerate(option.policies):
                if (message := _quota_error(p.policy, p.quota, p.side)) is not None:
                    raise ScenarioError(message, file=toml, column=f"{where}.policies[{j}].quota")
            for j, e in enumerate(option.events):
                if e.end is not None and e.kind in NO_END:
                    raise ScenarioError(
                        f"kind '{e.kind}' has no end date: {NO_END[e.kind]}",
                        file=toml,
                        column=f"{where}.events[{j}].end",
                    )


_WHERE_KINDS = {
    "crossing": ("crossing",),
    "home region": ("residence",),
    "shelter": ("shelter",),
    "road From>To": ("road",),
    "crossing, shelter": ("crossing", "shelter"),
    "crossing, shelter, city": ("crossing", "shelter", "city"),
    "ALL": ("ALL",),
    # the place-and-people mechanisms' indicators (rules/border_places.py, border_inflow.py)
    "crossing, exit post, city, shelter": ("crossing", "post", "city", "shelter"),
    "crossing, city, shelter, destination": ("crossing", "city", "shelter", "destination"),
}
_KIND_WORDS = {"crossing": "crossings", "residence": "home regions", "shelter": "shelters",
               "road": "roads (From>To)", "ALL": "ALL", "post": "exit posts",
               "city": "cities", "destination": "destinations"}  # fmt: skip


class Vocabulary:
    """Which indicators a run of this case counts, and at which locations."""

    def __init__(self, kind_of: dict[str, str], where: dict[str, tuple[str, ...] | None]) -> None:
        self.kind_of = kind_of  # location name -> crossing | residence | shelter | road | ...
        self.where = where  # indicator -> the location kinds it is counted at (None: any)

    @classmethod
    def of(cls, case: BorderCase) -> Vocabulary:
        from borderflow.results.series import FLOW_SEPARATOR
        from borderflow.rules.border_indicators import INDICATORS

        kind_of = {p.name: p.kind for p in case.places}
        for r in case.routes:
            kind_of[f"{r.from_}{FLOW_SEPARATOR}{r.to}"] = "road"
            kind_of[f"{r.to}{FLOW_SEPARATOR}{r.from_}"] = "road"
        kind_of |= {c.name: "crossing" for c in case.crossings}
        where = {name: _WHERE_KINDS.get(w) for name, (w, _) in INDICATORS.items()}
        where.pop("state_<state>", None)
        # needs are counted wherever people are (cities: people waiting there, SPEC-12)
        where |= {n.indicator: ("crossing", "shelter", "city") for n in case.needs}
        return cls(kind_of, where)

    def known(self, indicator: str) -> bool:
        return indicator in self.where or re.fullmatch(r"state_[a-z_]+", indicator) is not None

    def kinds(self, indicator: str) -> tuple[str, ...] | None:
        return ("ALL",) if indicator.startswith("state_") else self.where.get(indicator)

    def problem(self, location: str, indicator: str) -> tuple[str, str] | None:
        """(column, message) of what is wrong with an observation's quantity, or None."""
        terms = indicator_terms(indicator)
        if not terms:
            return "indicator", "no indicator given"
        for t in terms:
            if not self.known(t.indicator):
                hint = did_you_mean(t.indicator, [*self.where, "entered"])
                return "indicator", f"unknown indicator '{t.indicator}'{hint}"
            if t.cumulative and (t.indicator in STOCKS or self.kinds(t.indicator) == ("ALL",)):
                return "indicator", (
                    f"'cum_{t.indicator}': {t.indicator} is a count of people present each "
                    "evening; its cumulative total would be person-days"
                )
        parts = location_parts(location, frozenset(self.kind_of))
        for part in parts:
            if part != ALL and part not in self.kind_of:
                hint = did_you_mean(part, [*self.kind_of, ALL])
                return "location", f"unknown place or crossing '{part}'{hint}"
        for t in terms:
            kinds = self.kinds(t.indicator)
            for part in parts:
                kind = "ALL" if part == ALL else self.kind_of[part]
                if kinds is None or kind in kinds or (part == ALL and "ALL" not in kinds):
                    continue
                at = " or ".join(_KIND_WORDS.get(k, k) for k in kinds)
                name = "ALL" if part == ALL else f"{kind} '{part}'"
                return "location", f"'{t.indicator}' is counted at {at}, not at {name}"
        return None
