r"""Strict JSON in, safe JSON out.

Python's ``json`` reads more than JSON: ``NaN`` and ``Infinity``, numbers that overflow to
infinity (``1e309``), lone UTF-16 surrogates (``"\ud800"``, not Unicode text), and nesting as
deep as the interpreter's stack. Each of these used to reach a handler that could not write it
back (a 500 while echoing the value in a 422) or could not even read it (``RecursionError``).
Request bodies are read here instead, and refused as the bad input they are (422); and the
validation errors that echo a request's values are made writable first, without echoing any
credential.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request

# Names whose values are never echoed back: a password or a token in an error body ends up
# in logs, browser histories and screenshots.
CREDENTIALS = frozenset(
    {"password", "token", "access_token", "api_key", "apikey", "secret", "authorization"}
)
HIDDEN = "(hidden)"
ECHO_DEPTH = 8  # containers nested deeper than this are not echoed
ECHO_LENGTH = 500  # nor strings longer than this


class BadJSONError(ValueError):
    """The body is not RFC 8259 JSON of Unicode text; the message says why, in one line."""


def _constant(name: str) -> Any:
    raise BadJSONError(f"{name} is not a JSON number")


def parse_json(body: bytes | str) -> Any:
    """The JSON value of ``body``, or BadJSONError.

    One extra pass (the C encoder, a few ms for the 2 MiB limit) finds what the decoder lets
    through: numbers that overflowed to infinity and lone surrogates.
    """
    try:
        data = json.loads(body, parse_constant=_constant)
    except RecursionError:
        raise BadJSONError("nested too deeply") from None
    except UnicodeDecodeError:
        raise BadJSONError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadJSONError(f"not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise BadJSONError(str(exc).split(";")[0]) from None
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except RecursionError:
        raise BadJSONError("nested too deeply") from None
    except UnicodeEncodeError:
        raise BadJSONError("a string holds a lone surrogate (\\ud800-\\udfff): not text") from None
    except ValueError:
        raise BadJSONError("a number is out of range (larger than about 1.8e308)") from None
    return data


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`parse_json`.

    FastAPI answers a ``json.JSONDecodeError`` raised here with its usual 422 (``json_invalid``)
    before any validation, which is where every bad body belongs.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = parse_json(body)
            except BadJSONError as exc:
                raise json.JSONDecodeError(str(exc), "", 0) from None
        return self._json


def _writable(value: Any, depth: int = 0) -> Any:
    """``value`` as something JSON can hold: finite numbers, Unicode text, shallow nesting."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return text if len(text) <= ECHO_LENGTH else text[:ECHO_LENGTH] + "…"
    if isinstance(value, bytes):
        return _writable(value.decode("utf-8", "backslashreplace"), depth)
    if isinstance(value, dict | list | tuple):
        if depth >= ECHO_DEPTH:
            return "…"
        if isinstance(value, dict):
            return {
                str(_writable(k, depth)): HIDDEN
                if str(k).lower() in CREDENTIALS
                else _writable(v, depth + 1)
                for k, v in value.items()
            }
        return [_writable(v, depth + 1) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _writable(str(value), depth)


def _names_a_credential(loc: Any) -> bool:
    return any(isinstance(part, str) and part.lower() in CREDENTIALS for part in loc or ())


def safe_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as FastAPI lists them, made writable, credentials hidden.

    (FastAPI's own handler passes them to ``jsonable_encoder`` and then fails to write a NaN
    or a surrogate, or recurses through a deeply nested input.)
    """
    out = []
    for error in errors:
        error = dict(error)
        if "input" in error and _names_a_credential(error.get("loc")):
            error["input"] = HIDDEN
        out.append(_writable(error))
    return out
