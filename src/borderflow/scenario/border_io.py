"""Read and validate a border-crisis case folder (``scenario.toml`` + CSV tables).

Each CSV may carry an HXL hashtag row under its header (it is recognised and skipped). Every
problem becomes a :class:`~borderflow.errors.ScenarioError` naming the file, the row (1-based
line number) and the field, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from borderflow.csvfile import csv_rows
from borderflow.errors import ScenarioError
from borderflow.observe.quantity import nfc
from borderflow.scenario.border_checks import (
    check_date_cell,
    check_toml,
    date_fields,
    did_you_mean,
    normalise_tree,
    validate_case,
)
from borderflow.scenario.border_places import Where, check_modes, check_place_events
from borderflow.scenario.border_schema import (
    CrossingRow,
    EventRow,
    GroupRow,
    NeedRow,
    ObservationRow,
    Param,
    PlaceRow,
    PolicyRow,
    PopulationRow,
    RouteRow,
    ScenarioFile,
)
from borderflow.scenario.confine import inside
from borderflow.tomlfile import read_toml

Row = TypeVar("Row", bound=BaseModel)
#: The tables of a case folder and the model of their rows, in the order they are read.
TABLE_MODELS: dict[str, type[BaseModel]] = {
    "places": PlaceRow,
    "routes": RouteRow,
    "population": PopulationRow,
    "groups": GroupRow,
    "crossings": CrossingRow,
    "policies": PolicyRow,
    "events": EventRow,
    "needs": NeedRow,
    "observations": ObservationRow,
}
SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class BorderCase:
    """A validated case with one option chosen for each variant dimension."""

    path: Path
    spec: ScenarioFile
    places: tuple[PlaceRow, ...]
    routes: tuple[RouteRow, ...]
    population: tuple[PopulationRow, ...]
    groups: tuple[GroupRow, ...]
    crossings: tuple[CrossingRow, ...]
    policies: tuple[PolicyRow, ...]
    events: tuple[EventRow, ...]
    needs: tuple[NeedRow, ...]
    observations: tuple[ObservationRow, ...]
    variant: dict[str, str] = field(default_factory=dict)
    lines: dict[str, tuple[int, ...]] = field(default_factory=dict)  # table → line numbers
    # every event label of the case, whatever the variant (a variant may drop some)
    event_labels: frozenset[str] = frozenset()

    def where(self, table: str, index: int, column: str) -> dict[str, Any]:
        """File, row and column of row ``index`` of a table, for a ScenarioError."""
        file = getattr(self.spec.files, table)
        return {"file": self.path / file, "row": self.lines[table][index], "column": column}

    @property
    def name(self) -> str:
        return self.spec.case.name

    @property
    def origin_day(self) -> int:
        """The day (from the start) the forecast begins; 0 when the origin is at the start."""
        return max((self.spec.case.origin - self.spec.case.start).days, 0)

    @property
    def place_index(self) -> dict[str, int]:
        return {p.name: i for i, p in enumerate(self.places)}

    def crossing_weights(self, row: GroupRow | PopulationRow) -> dict[str, float]:
        """A nationality's (or a residence's own, {} where it gives none) crossing weights."""
        return _parse_weights(row.crossing_weights) if row.crossing_weights.strip() else {}


def _check_weights(
    case: BorderCase, table: str, row: int, text: str, crossing_names: set[str]
) -> None:
    """``text`` must be 'crossing:weight;...' over known crossings, with a positive sum."""
    try:
        weights = _parse_weights(text)
    except ValueError:
        weights = {}
    bad = [n for n in weights if n not in crossing_names]
    if not weights or bad or sum(weights.values()) <= 0:
        what = (
            f"unknown crossing '{bad[0]}'{did_you_mean(bad[0], crossing_names)}"
            if bad
            else "needs 'crossing:weight;...' > 0"
        )
        raise ScenarioError(what, **case.where(table, row, "crossing_weights"))


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"]) or "(row)"
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if value is not None and not isinstance(value, dict):
        msg = f"{msg} (got '{value}')"
    return where, msg


def read_table(path: Path, model: type[Row]) -> tuple[tuple[Row, ...], tuple[int, ...]]:
    """Rows of a CSV as validated models, and their line numbers.

    An HXL hashtag row under the header is recognised and skipped.
    """
    rows = csv_rows(path)
    if not rows:
        raise ScenarioError("empty file: needs a header row", file=path)
    header = [h.strip() for h in rows[0][1]]
    fields = set(model.model_fields) | {
        f.alias for f in model.model_fields.values() if f.alias is not None
    }
    unknown = [h for h in header if h not in fields]
    if unknown:
        raise ScenarioError(
            f"unknown column(s) {', '.join(unknown)}; expected {', '.join(sorted(fields))}",
            file=path,
            row=rows[0][0],
        )
    body = rows[1:]
    if body and all(c.strip().startswith("#") or not c.strip() for c in body[0][1]):
        body = body[1:]  # the HXL hashtag row
    dates = date_fields(model)
    out = []
    lines = []
    for line, cells in body:
        if cells and cells[0].lstrip().startswith("#"):
            continue  # a comment (e.g. the example row of `borderflow new-case`)
        if len(cells) > len(header):
            raise ScenarioError(
                f"has {len(cells)} cells for {len(header)} columns", file=path, row=line
            )
        record: dict[str, Any] = {
            h: nfc(c) for h, c in zip(header, cells, strict=False) if c.strip() != ""
        }
        for h in dates & record.keys():
            check_date_cell(record[h], path, line, h)
        try:
            out.append(model.model_validate(record))
        except ValidationError as exc:
            where, msg = _first_error(exc)
            raise ScenarioError(msg, file=path, row=line, column=where) from None
        lines.append(line)
    return tuple(out), tuple(lines)


def _parse_weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, _, value = part.rpartition(":")
        out[name.strip()] = float(value)
    return out


def _check_shares(path: Path, rows: tuple[Any, ...], attr: str = "share") -> None:
    total = sum(getattr(r, attr) for r in rows)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ScenarioError(f"shares sum to {total:.6f}, not 1", file=path, column=attr)


def _validate(case: BorderCase) -> None:
    root, f = case.path, case.spec.files
    places = case.place_index
    kinds = {p.name: p.kind for p in case.places}
    seen: dict[str, int] = {}
    for i, p in enumerate(case.places):
        if p.name in seen:
            raise ScenarioError(
                f"duplicate place '{p.name}'",
                **case.where("places", i, "name"),
            )
        seen[p.name] = i

    def need(name: str, table: str, i: int, column: str, kind: str | None = None) -> None:
        if name not in places:
            raise ScenarioError(
                f"unknown place '{name}'{did_you_mean(name, places)}",
                **case.where(table, i, column),
            )
        if kind is not None and kinds[name] != kind:
            raise ScenarioError(
                f"'{name}' is a {kinds[name]}, not a {kind}", **case.where(table, i, column)
            )

    for i, r in enumerate(case.routes):
        need(r.from_, "routes", i, "from")
        need(r.to, "routes", i, "to")
        if r.from_ == r.to:
            where = case.where("routes", i, "to")
            raise ScenarioError(f"route from '{r.from_}' to itself", **where)
    check_modes(case)
    for i, r in enumerate(case.population):
        need(r.residence, "population", i, "residence", "residence")
    _check_shares(root / f.population, case.population)
    _check_shares(root / f.groups, case.groups)
    crossing_names = {c.name for c in case.crossings}
    for i, c in enumerate(case.crossings):
        need(c.exit_post, "crossings", i, "exit_post", "post")
        need(c.entry_post, "crossings", i, "entry_post", "post")
        need(c.destination, "crossings", i, "destination", "destination")
    if not case.crossings:
        raise ScenarioError("no crossings", file=root / f.crossings)
    for i, g in enumerate(case.groups):
        _check_weights(case, "groups", i, g.crossing_weights, crossing_names)
    for i, r in enumerate(case.population):
        if r.crossing_weights.strip():  # optional: a residence's own crossing choice
            _check_weights(case, "population", i, r.crossing_weights, crossing_names)
    nationalities = {g.iso3 for g in case.groups}
    for i, p in enumerate(case.policies):
        if p.crossing not in crossing_names:
            raise ScenarioError(
                f"unknown crossing '{p.crossing}'{did_you_mean(p.crossing, crossing_names)}",
                **case.where("policies", i, "crossing"),
            )
        unknown = [c for c in policy_nationalities(p) if c not in nationalities]
        if unknown:
            raise ScenarioError(
                f"nationality '{unknown[0]}' is not in {f.groups}",
                **case.where("policies", i, "nationalities"),
            )
    for i, e in enumerate(case.events):
        _validate_event(case, i, e, crossing_names)
    check_place_events(case)  # shelters, shelter exits, removals, inflow and crowds
    validate_case(case)  # observations' quantities, variants' labels, quotas, end dates


#: Event kinds whose ``target`` must be a crossing (``set`` may also leave it blank: all); the
#: places of the people-moving kinds are checked in :mod:`borderflow.scenario.border_places`.
CROSSING_TARGET = ("reinforcement", "return_flight", "blockade", "redirect")


def _event_problem(e: EventRow, crossings: set[str]) -> tuple[str, str] | None:
    """The column and message of what is wrong with the crossings an event names, if any."""
    named = e.kind in CROSSING_TARGET or (e.kind == "set" and e.target)
    if named and e.target not in crossings:
        return "target", f"unknown crossing '{e.target}'{did_you_mean(e.target, crossings)}"
    if e.kind == "redirect":
        if e.to not in crossings:
            return "to", f"unknown crossing '{e.to}'{did_you_mean(e.to, crossings)}"
        if e.to == e.target:
            return "to", f"redirect from '{e.target}' to itself"
    return None


def _validate_event(case: BorderCase, i: int, e: EventRow, crossings: set[str]) -> None:
    """The crossings an event names exist (and a redirect leads somewhere else)."""
    problem = _event_problem(e, crossings)
    if problem is not None:
        column, message = problem
        raise ScenarioError(message, **case.where("events", i, column))


def policy_nationalities(p: PolicyRow) -> tuple[str, ...]:
    """The ISO3 codes a ``selective`` row admits (empty: every nationality)."""
    return tuple(c.strip() for c in p.nationalities.split(";") if c.strip())


def _variant_event(case: BorderCase, dim: str, option: str) -> Where:
    """Where a variant's event is, for an error: scenario.toml and the event's key."""
    key = f"variants.{dim}.options.{option}.events"
    file = case.path / "scenario.toml"
    return lambda i, column: {"file": file, "column": f"{key}.{i}.{column}"}


def apply_variant(case: BorderCase, choice: dict[str, str]) -> BorderCase:
    """Pick one option per dimension (the default where not given), as scenario edits."""
    dims = case.spec.variants
    unknown = [d for d in choice if d not in dims]
    if unknown:
        raise ScenarioError(
            f"unknown variant '{unknown[0]}' (choose from {', '.join(sorted(dims)) or 'none'})",
            file=case.path / "scenario.toml",
        )
    policies, events = list(case.policies), list(case.events)
    picked = {}
    for name, dim in dims.items():
        option = choice.get(name, dim.default)
        if option not in dim.options:
            raise ScenarioError(
                f"variant {name}: unknown option '{option}' "
                f"(choose from {', '.join(sorted(dim.options))})",
                file=case.path / "scenario.toml",
                column=f"variants.{name}",
            )
        picked[name] = option
        v = dim.options[option]
        check_place_events(case, v.events, _variant_event(case, name, option))
        if v.drop_policies_from is not None:
            # Only the (crossing, side) pairs the option sets are replaced.
            touched = {(p.crossing, p.side) for p in v.policies}
            policies = [
                p
                for p in policies
                if not ((p.crossing, p.side) in touched and p.start >= v.drop_policies_from)
            ]
        policies += [PolicyRow(**p.model_dump()) for p in v.policies]
        events = [e for e in events if e.label not in v.drop_events]
        added = [EventRow(**e.model_dump()) for e in v.events]
        crossings = {c.name for c in case.crossings}
        for j, e in enumerate(added):
            problem = _event_problem(e, crossings)
            if problem is not None:
                raise ScenarioError(
                    problem[1],
                    file=case.path / "scenario.toml",
                    column=f"variants.{name}.options.{option}.events.{j}.{problem[0]}",
                )
        events += added
    return replace(case, policies=tuple(policies), events=tuple(events), variant=picked)


def read_border_case(
    path: str | Path, variant: dict[str, str] | None = None, *, known_at_origin: bool = False
) -> BorderCase:
    """Read ``scenario.toml`` and its tables, validate them together, apply a variant.

    ``known_at_origin`` drops the policy and event rows announced after the case's origin
    (:mod:`borderflow.scenario.announced`).
    """
    root = Path(path)
    toml_path = inside(root, root / "scenario.toml") if root.is_dir() else root
    root = toml_path.parent
    raw = read_toml(toml_path)
    raw = normalise_tree(raw)
    check_toml(raw, ScenarioFile, toml_path)
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        where, msg = _first_error(exc)
        raise ScenarioError(msg, file=toml_path, column=where) from None
    tables, lines = {}, {}
    for table, model in TABLE_MODELS.items():
        name = getattr(spec.files, table)
        path = inside(root, root / name, named_in=toml_path, column=f"files.{table}")
        tables[table], lines[table] = read_table(path, model)
    labels = {e.label for e in tables["events"] if e.label}
    for dim in spec.variants.values():
        for option in dim.options.values():
            labels |= {e.label for e in option.events if e.label}
    case = BorderCase(path=root, spec=spec, lines=lines, event_labels=frozenset(labels), **tables)
    _validate(case)
    case = apply_variant(case, variant or {})
    if known_at_origin:
        from borderflow.scenario.announced import at_origin

        case = at_origin(case)
    return case


PARAM_SECTIONS = ("population", "departure", "travel", "stranded")
OPTIONAL_SECTIONS = ("news",)  # parameters of these only where the case has the section


def _sections(case: BorderCase) -> tuple[str, ...]:
    """The parameter sections this case has (the optional ones only when it sets them)."""
    extra = tuple(s for s in OPTIONAL_SECTIONS if getattr(case.spec, s) is not None)
    return PARAM_SECTIONS + extra


def _given(block: BaseModel) -> list[tuple[str, Param]]:
    """The parameters of a section the case gives (an optional one left out is no parameter)."""
    return [
        (key, getattr(block, key))
        for key in type(block).model_fields
        if getattr(block, key) is not None
    ]


def parameter_names(case: BorderCase) -> list[str]:
    """Every number :func:`override` can set: ``section.name`` and ``event.<label>``."""
    names = [
        f"{section}.{name}"
        for section in _sections(case)
        for name, _ in _given(getattr(case.spec, section))
    ]
    names += sorted(f"event.{label}" for label in case.event_labels)
    return names


@dataclass(frozen=True)
class ParameterSource:
    """One scenario.toml parameter with its provenance: a source, or else an assumption."""

    parameter: str  # section.name
    value: float
    source: str | None
    assumption: str | None


def parameter_sources(case: BorderCase) -> list[ParameterSource]:
    """Every scenario.toml parameter (section by section) with its source or assumption.

    One list for ``borderflow info`` and the web API's sources, so the two never disagree.
    """
    out = []
    for section in _sections(case):
        for key, p in _given(getattr(case.spec, section)):
            out.append(ParameterSource(f"{section}.{key}", p.value, p.source, p.assumption))
    return out


def parameter_value(case: BorderCase, name: str) -> float:
    section, _, key = name.partition(".")
    if section == "event":
        if key not in case.event_labels:
            hint = did_you_mean(key, case.event_labels)
            raise ScenarioError(f"no event labelled '{key}'{hint}", column=name)
        values = [e.value for e in case.events if e.label == key]
        return values[0] if values else float("nan")  # dropped by this variant
    if section not in _sections(case) or key not in dict(_given(getattr(case.spec, section))):
        hint = did_you_mean(name, parameter_names(case))
        raise ScenarioError(f"unknown parameter '{name}'{hint}", column=name)
    return getattr(getattr(case.spec, section), key).value


def override(case: BorderCase, values: dict[str, float]) -> BorderCase:
    """A copy of ``case`` with parameters set (``section.name`` or ``event.<label>``).

    This is how fitting, ensembles and calibration vary a case without editing its files. An
    event the chosen variant has dropped is left out (setting it changes nothing).
    """
    spec, events = case.spec, list(case.events)
    for name, value in values.items():
        parameter_value(case, name)  # validates the name
        section, _, key = name.partition(".")
        if section == "event":
            events = [
                e.model_copy(update={"value": value}) if e.label == key else e for e in events
            ]
            continue
        block = getattr(spec, section)
        param = getattr(block, key).model_copy(update={"value": float(value)})
        spec = spec.model_copy(update={section: block.model_copy(update={key: param})})
    return replace(case, spec=spec, events=tuple(events))
