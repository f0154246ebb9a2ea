"""``borderflow check``: everything wrong or doubtful in a case folder, without running it.

Loading a case stops at its first error; an author filling in a new case wants the whole list.
So each file is read on its own (every file's first error is listed), the cross-file checks run
once all files read, and a case that loads is then searched for what is legal but likely a
mistake (warnings): placeholders left from ``borderflow new-case``, observations the model
cannot produce, one-off events whose text says they last, night choices that sum above 1, rows
made public after the forecast origin, uncertain.toml's ranges set after it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from borderflow.errors import ScenarioError
from borderflow.scenario.border_checks import Vocabulary, check_toml, normalise_tree
from borderflow.scenario.border_schema import NIGHT_RATES
from borderflow.scenario.case_columns import PARAM_HELP

PLACEHOLDER = "TODO"
#: Words in an event's label or source that say it lasts (a period), not a one-off.
_SPAN_WORDS = re.compile(
    r"\b(daily|per day|a day|each day|every day|every \w+ days?|until|through(out)?|"
    r"for \d+ (days|weeks)|weeks?|months?|diari[oa]s?|cada d[ií]a|por d[ií]a|al d[ií]a|"
    r"hasta)\b|/day",
    re.IGNORECASE,
)
#: Kinds that happen once, on start, when they have no end (with one, they repeat).
ONCE_WITHOUT_END = ("shelter", "removal")


@dataclass(frozen=True)
class Finding:
    """One problem (``error``: the case cannot run) or doubt (``warning``) in a case."""

    level: str
    where: str
    message: str

    @classmethod
    def of(cls, level: str, exc: ScenarioError) -> Finding:
        where = exc.describe().removesuffix(exc.message).removesuffix(": ")
        return cls(level, where, exc.message)


def _placeholder(text: str | None) -> bool:
    return bool(text) and text.strip().upper().startswith(PLACEHOLDER)


def _param_findings(raw: dict[str, Any], toml: Path) -> list[Finding]:
    """scenario.toml parameters with no source or assumption, or a placeholder for one."""
    out = []
    for key in ("title", "description"):
        text = raw.get("case", {}).get(key) if isinstance(raw.get("case"), dict) else None
        if isinstance(text, str) and _placeholder(text):
            out.append(Finding("error", f"{toml}, column 'case.{key}'", f"fill it in ({text})"))
    for section, block in raw.items():
        if not isinstance(block, dict) or section in ("case", "files", "variants"):
            continue
        for key, param in block.items():
            if not isinstance(param, dict) or "value" not in param:
                continue
            why = param.get("source") or param.get("assumption")
            where = f"{toml}, column '{section}.{key}'"
            if not why:
                out.append(Finding("error", where, "has neither a source nor an assumption"))
            elif _placeholder(why):
                meaning = PARAM_HELP.get(f"{section}.{key}")
                what = f" ({meaning})" if meaning else ""
                message = f"still a placeholder: give the source or assumption of its value{what}"
                out.append(Finding("error", where, message))
    return out


def _read_toml(root: Path) -> tuple[dict[str, Any] | None, list[Finding]]:
    toml = root / "scenario.toml"
    try:
        raw = normalise_tree(tomllib.loads(toml.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None, [Finding("error", str(toml), "file not found")]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [Finding("error", str(toml), f"not valid TOML ({exc})")]
    from borderflow.scenario.border_schema import ScenarioFile

    found = _param_findings(raw, toml)
    try:
        check_toml(raw, ScenarioFile, toml)
    except ScenarioError as exc:
        found.append(Finding.of("error", exc))
    return raw, found


def _table_findings(root: Path, raw: dict[str, Any] | None) -> list[Finding]:
    """Each table's first error, and tables a case cannot do without that have no rows."""
    from borderflow.scenario.border_io import TABLE_MODELS, read_table
    from borderflow.scenario.border_schema import Files

    try:
        files = Files.model_validate((raw or {}).get("files", {}))
    except ValueError:
        files = Files()
    out = []
    for table, model in TABLE_MODELS.items():
        path = root / getattr(files, table)
        try:
            rows, _ = read_table(path, model)
        except ScenarioError as exc:
            out.append(Finding.of("error", exc))
            continue
        if not rows and table not in ("policies", "events", "observations"):
            out.append(Finding("error", str(path), "has no rows yet: fill in at least one"))
    return out


def lint_case(root: Path) -> tuple[list[Finding], Any]:
    """Every finding of the case folder ``root``, and the case (None when it cannot load)."""
    from borderflow.scenario.border_io import read_border_case

    raw, found = _read_toml(root)
    found += _table_findings(root, raw)
    if any(f.level == "error" for f in found):
        return found, None
    try:
        case = read_border_case(root)
    except ScenarioError as exc:
        return [*found, Finding.of("error", exc)], None
    return found + warnings(case), case


# -- warnings of a case that loads --------------------------------------------------------------
def warnings(case) -> list[Finding]:
    """What is legal in ``case`` but likely a mistake, or worth knowing before a run."""
    return [
        *_source_warnings(case),
        *_night_warnings(case),
        *_once_warnings(case),
        *_observation_warnings(case),
        *_announced_warnings(case),
        *_uncertain_findings(case),
    ]


def _uncertain_findings(case) -> list[Finding]:
    """uncertain.toml's first error, and its ranges set with the reports after the origin."""
    from borderflow.ensemble.params import read_uncertain

    path = Path(case.path) / "uncertain.toml"
    if not path.exists():
        return []
    try:
        params = read_uncertain(path, case)
    except ScenarioError as exc:
        return [Finding.of("error", exc)]
    return [
        Finding("warning", f"{path}, parameter '{name}'", (
            "its range was set with the reports after the origin in view (after_origin): "
            "`borderflow learn` keeps it out of the episode's forecast from the origin"
        ))
        for name, d in params.items() if d.after_origin
    ]  # fmt: skip


def _file_rows(case, table: str) -> list[tuple[int, object]]:
    """The rows of a table that come from its file (a variant's rows follow them)."""
    rows = getattr(case, table)
    return list(enumerate(rows[: len(case.lines.get(table, ()))]))


def _at(case, table: str, i: int, column: str) -> str:
    w = case.where(table, i, column)
    return f"{w['file']}, row {w['row']}, column '{w['column']}'"


def _source_warnings(case) -> list[Finding]:
    out = []
    for table in ("routes", "population", "groups", "crossings", "policies", "events"):
        for i, row in _file_rows(case, table):
            if not row.source.strip():
                out.append(Finding("warning", _at(case, table, i, "source"), "no source given"))
            elif _placeholder(row.source):
                out.append(
                    Finding("warning", _at(case, table, i, "source"), "placeholder: fill it in")
                )
    for i, o in enumerate(case.observations):
        if not o.source.strip() or _placeholder(o.source):
            out.append(Finding("warning", _at(case, "observations", i, "source"),
                               "no source given (outlet, date, reliability)"))  # fmt: skip
    return out


def _night_message(names: tuple[str, ...], values: list[float], nights: str) -> str | None:
    """The warning for night-choice rates above 1 in total, with what they act as."""
    if sum(values) <= 1.0 + 1e-12:
        return None
    left, effective = 1.0, []
    for name, v in zip(names, values, strict=True):
        effective.append(f"{name} {min(v, left):g}")
        left = max(0.0, left - v)
    return (
        f"{' + '.join(names)} = {sum(values):g} > 1 {nights}: the choices are taken in that "
        "order (readmit, return, divert, irregular), so they act as " + ", ".join(effective)
    )


def _night_warnings(case) -> list[Finding]:
    """Night choices summing above 1: they are taken in order, so the last ones are cut short.

    Readmission and diversion only happen on nights the exit country readmits (an exit row of
    policies.csv or a variant that is not ``closed``); other nights only return and irregular.
    Besides ``[stranded]``, each crossing is checked with the highest rate its ``set`` events
    may give each choice.
    """
    from borderflow.scenario.case_reach import all_rows

    policies, events = all_rows(case, "policies"), all_rows(case, "events")
    s = case.spec.stranded
    out = []
    toml = f"{case.path / 'scenario.toml'}, column 'stranded'"
    readmits = any(p.side == "exit" and p.policy != "closed" for p in policies)
    names = NIGHT_RATES if readmits else ("return_per_day", "irregular_per_day")
    nights = "on nights the exit country readmits" if readmits else "every night"
    base = [getattr(s, name).value for name in names]
    if (message := _night_message(names, base, nights)) is not None:
        out.append(Finding("warning", toml, f"stranded: {message}"))
    for c in case.crossings:
        sets = [e for e in events if e.kind == "set" and e.target in ("", c.name)]
        if not sets:
            continue
        readmits = any(
            p.crossing == c.name and p.side == "exit" and p.policy != "closed" for p in policies
        )
        names = NIGHT_RATES if readmits else ("return_per_day", "irregular_per_day")
        top = [max([getattr(s, n).value] + [e.value for e in sets if e.param == n]) for n in names]
        if top == [getattr(s, n).value for n in names]:
            continue  # no set event raises a rate: the warning above says it all
        nights = "on some nights, with its set events,"
        if (message := _night_message(names, top, nights)) is not None:
            out.append(Finding("warning", f"events.csv: crossing '{c.name}'", message))
    return out


def _once_warnings(case) -> list[Finding]:
    out = []
    for i, e in _file_rows(case, "events"):
        if e.kind not in ONCE_WITHOUT_END or e.end is not None:
            continue
        hit = _SPAN_WORDS.search(f"{e.label.replace('_', ' ')} {e.source}")
        if hit:
            out.append(Finding("warning", _at(case, "events", i, "end"), (
                f"'{e.kind}' without an end happens once, on {e.start}, but its label or "
                f"source says '{hit.group(0)}': give an end date to repeat it over a period"
            )))  # fmt: skip
    return out


def _announced_warnings(case) -> list[Finding]:
    from borderflow.scenario.announced import known_after_origin

    origin = case.spec.case.origin
    out = []
    for late in known_after_origin(case):
        where = f"{late.file}" + (f", row {late.row}" if late.row is not None else "")
        out.append(Finding("warning", f"{where}, column 'announced'", (
            f"known after the origin ({late.announced} > {origin}): used as a dated input; "
            "`--known-at-origin` drops it"
        )))  # fmt: skip
    return out


def _observation_warnings(case) -> list[Finding]:
    from borderflow.scenario.case_reach import unreachable

    vocabulary = Vocabulary.of(case)
    c = case.spec.case
    out = []
    for i, o in enumerate(case.observations):
        last = o.end or o.date
        if o.date < c.start or last > c.end:
            what = f"outside the case's {c.start}..{c.end}: never fitted or scored"
            out.append(Finding("warning", _at(case, "observations", i, "date"), what))
        if o.low > 0 and (why := unreachable(case, vocabulary, o)) is not None:
            out.append(Finding("warning", _at(case, "observations", i, "indicator"),
                               f"the model cannot produce this count: {why}"))  # fmt: skip
    return out
