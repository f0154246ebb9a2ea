"""Hypothesis strategies for hostile input: JSON bodies and scenario, case and CSV files.

Each starts from something valid and spoils it, so that the input gets past the first checks
and reaches deep into the code: a request body with one value replaced by ``NaN``, ``1e309``,
a lone surrogate, a NUL or a huge number, or buried in deep nesting; a file with a cell
replaced, a line dropped, doubled or truncated, stray bytes, blank lines.

``BORDERFLOW_FUZZ=N`` (default 1) multiplies every fuzz test's number of examples, for a longer
campaign than the test suite's.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

SCALE = max(1, int(os.environ.get("BORDERFLOW_FUZZ", "1")))


def fuzz_settings(examples: int) -> settings:
    """Deterministic (the same examples on every run, as CI needs), no deadline."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


# JSON texts that Python's json module reads but that are no JSON value, or barely one
NASTY_JSON = [
    "NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1e-400", "-0", "1" * 5000,
    "9" * 400, "123456789012345678901234567890", "-1", "0", "2147483648", "1.5",
    '"\\ud800"', '"x\\udfff"', '"\\udc00\\ud800"', '"\\u0000"', '"a\\u0000b"', '"\\u001b[31m"',
    '""', '" "', '"=cmd|\' /C calc\'!A0"', '"../../../etc/passwd"', '"9999-12-31"',
    '"0001-01-01"', '"2025-02-30"', '"' + "x" * 5000 + '"', "null", "true", "false", "[]",
    "{}", '{"$ne": null}', '["a", 1]', "[" * 300 + "]" * 300,
]  # fmt: skip
# cells of a CSV or values of a TOML file that a careless user or an attacker might write
NASTY_CELLS = [
    "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "1e12", "-1", "-0.5", "0", "2.0",
    "99999999999999999999", "1e-400", "", " ", "\x00", "a\x00b", "\x1b[31m", "=1+1",
    "+cmd", "@SUM(A1)", '"', '""', "'", ",", ";", "\t", "9999-12-31", "0001-01-01",
    "2025-02-30", "2025-13-01", "../../../etc/passwd", "#loc+name", "x" * 5000, "ñandú",
    "\u202e", "\ufeff", "true", "[]", "{}",
]  # fmt: skip
NASTY_TOML = [
    "nan", "inf", "-inf", "1e309", "-1", "0", "1e12", "2.0", "99999999999999999999",
    '"text"', "true", "[]", "{}", "9999-12-31", "0001-01-01", "", "= =",
]  # fmt: skip


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """The paths (keys and indices) to every leaf of a JSON value, and to every container."""
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _leaves(v, (*path, i))
    return out


MARK = "\u0001spoiled\u0001"


def _with(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _with(v, rest, new) if k == head else v for k, v in value.items()}
    return [_with(v, rest, new) if i == head else v for i, v in enumerate(value)]


@st.composite
def spoiled_json(draw: st.DrawFn, body: Any) -> bytes:
    """``body`` as JSON text with a part replaced by a nasty literal, wrapped, or cut."""
    how = draw(st.sampled_from(["replace", "replace", "replace", "add", "wrap", "cut", "whole"]))
    literal = draw(st.sampled_from(NASTY_JSON))
    if how == "whole":
        return literal.encode()
    if how == "wrap":
        depth = draw(st.sampled_from([2, 50, 500, 990, 5000, 100_000]))
        return ("[" * depth + json.dumps(body) + "]" * depth).encode()
    if how == "cut":
        text = json.dumps(body)
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))].encode()
    paths = _leaves(body)
    path = draw(st.sampled_from(paths))
    if how == "add" and isinstance(body, dict):
        key = draw(st.sampled_from(["extra", "token", "password", "\u0000", "id", "__proto__"]))
        spoiled: Any = {**body, key: MARK}
    else:
        spoiled = _with(body, path, MARK)
    return json.dumps(spoiled).replace(json.dumps(MARK), literal, 1).encode("utf-8")


@st.composite
def spoiled_lines(draw: st.DrawFn, text: str, cells: list[str] | None = None) -> bytes:
    """A text file (CSV or TOML) with one to three lines spoiled; may end up not UTF-8."""
    lines = text.split("\n")
    cells = cells or NASTY_CELLS
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        n = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["cell", "cell", "cell", "drop", "double", "blank", "cut",
                                    "bytes", "swap", "commas"]))  # fmt: skip
        if how == "cell":
            parts = lines[n].split(",") if "," in lines[n] else lines[n].split("=", 1)
            k = draw(st.integers(0, len(parts) - 1))
            joiner = "," if "," in lines[n] else "="
            parts[k] = (" " if joiner == "=" and k else "") + draw(st.sampled_from(cells))
            lines[n] = joiner.join(parts)
        elif how == "drop":
            del lines[n]
        elif how == "double":
            lines.insert(n, lines[n])
        elif how == "blank":
            lines.insert(n, draw(st.sampled_from(["", "   ", ",,,,", "\r"])))
        elif how == "cut":
            lines[n] = lines[n][: draw(st.integers(0, len(lines[n])))]
            del lines[n + 1 :]
        elif how == "swap":
            m = draw(st.integers(0, len(lines) - 1))
            lines[n], lines[m] = lines[m], lines[n]
        elif how == "commas":
            lines[n] += "," * draw(st.integers(1, 5))
        else:
            junk = draw(st.binary(min_size=1, max_size=8))
            head = "\n".join(lines[:n]).encode("utf-8", "surrogatepass")
            tail = "\n".join(lines[n:]).encode("utf-8", "surrogatepass")
            return head + junk + tail
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def spoiled_toml(draw: st.DrawFn, text: str) -> bytes:
    """A TOML file with one value (``key = value``) replaced, or its lines spoiled."""
    import re

    values = list(re.finditer(r"(=\s*)([^,}\n\[{\"][^,}\n]*)", text))
    if not values or draw(st.booleans()) is False:
        return draw(spoiled_lines(text, NASTY_TOML))
    match = draw(st.sampled_from(values))
    new = draw(st.sampled_from(NASTY_TOML))
    return (text[: match.start(2)] + new + text[match.end(2) :]).encode()
