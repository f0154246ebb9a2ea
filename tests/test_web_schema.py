"""Schemathesis against the whole API: thousands of generated requests (about 3,300, well under
two minutes on two cores), none answered by a 5xx, every response as the OpenAPI schema says.

Every request carries an admin token, so every operation is reached (the role checks have their
own tests in test_web_api.py); Schemathesis also tries them without it. Nothing is excluded:
``POST /api/runs`` is kept and stays cheap, because the app executes one run at a time on one
process, and Schemathesis' ASGI client ends the app's lifespan after its requests, which stops
what it queued (marked interrupted). The result endpoints are fuzzed on a run and an ensemble
finished beforehand (ids 1 and 2).

A second pass sends every operation with a JSON body (the POSTs) Schemathesis' bodies spoiled
by :func:`strategies.spoiled_json` (``NaN``, infinities, huge numbers, lone surrogates, NUL,
deep nesting): none may get a 5xx either.

The app is built when the module is imported, because Schemathesis needs the schema to
generate the tests (its fixture-based loader does not work with this pytest).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

from borderflow.web.accounts import add_token, add_user
from borderflow.web.app import create_app
from borderflow.web.db import reading, writing
from borderflow.web.models import Run
from borderflow.web.schemas import UserIn
from strategies import spoiled_json

# ~21 operations, each: its examples and coverage cases, then this many generated requests
pytestmark = pytest.mark.slow  # fuzzes every API operation

EXAMPLES_PER_OPERATION = 120
SPOILED_PER_OPERATION = 60  # the 5 operations with a JSON body, spoiled

TMP = Path(tempfile.mkdtemp(prefix="borderflow-schema-"))
APP = create_app(f"sqlite:///{TMP / 'web.db'}", TMP / "data", workers=1, job_threads=1)
add_user(APP.state.store.engine, UserIn(username="root", password="root-password", role="admin",
                                        organisation="IOM"), by="test")  # fmt: skip
TOKEN = add_token(APP.state.store.engine, "root", "schemathesis", by="test")[1]
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)
spoiled = schemathesis.openapi.from_asgi("/api/openapi.json", APP).include(method="POST")


@spoiled.hook
def flatmap_body(context, body):
    """A JSON body as raw JSON text with a part spoiled (Schemathesis sends bytes as they are)."""
    return spoiled_json(body) if isinstance(body, dict | list) else st.just(body)


@atexit.register
def _cleanup() -> None:  # also when the module is collected but its test deselected
    APP.state.jobs.shutdown()
    APP.state.store.engine.dispose()
    shutil.rmtree(TMP, ignore_errors=True)


@spoiled.auth()
@schema.auth()
class AdminToken:
    """Every generated request carries the admin's token (Schemathesis still tries without)."""

    def get(self, case, context):
        return TOKEN

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


CALLS: dict[str, int] = {}
SPOILED_CALLS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _finished_runs_and_thoroughness():
    """A finished run (id 1) and ensemble (id 2), so that result endpoints serve real data."""
    with writing(APP.state.store.engine) as session:
        for members in (0, 3):
            run = Run(scenario="chile-peru-2025", members=members, created_by="root")
            session.add(run)
            session.flush()
            run.folder = APP.state.jobs.folder_name(run.id)
    APP.state.jobs.start()  # loading the schema ran (and may have ended) the app's lifespan
    for run_id in (1, 2):
        APP.state.jobs.execute(run_id)
    with reading(APP.state.store.engine) as session:
        assert [r.status for r in session.scalars(select(Run).order_by(Run.id))] == ["done"] * 2
    yield
    operations = len(list(schema.get_all_operations()))
    total = sum(CALLS.values())
    print(f"\nschemathesis: {total} requests over {len(CALLS)} of {operations} operations")
    if SPOILED_CALLS:
        print(f"schemathesis, spoiled JSON bodies: {sum(SPOILED_CALLS.values())} requests over "
              f"{len(SPOILED_CALLS)} operations, 0 server errors")  # fmt: skip
    if len(CALLS) == operations:  # the whole module ran: make sure it was thorough
        assert total >= 2000 and min(CALLS.values()) >= 10, CALLS


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_request_gets_a_server_error(case):
    label = case.operation.label
    CALLS[label] = CALLS.get(label, 0) + 1
    # Every check but "valid data is accepted": the schema cannot say that a range's high is
    # not below its low, that a CSV body must hold HXL rows, or which variants a case has, so
    # schema-valid requests are rightly refused with 4xx.
    response = case.call_and_validate(
        excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
    assert response.status_code < 500, (case.method, case.path, response.text)


@spoiled.parametrize()
@settings(
    max_examples=SPOILED_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_spoiled_json_bodies_get_no_server_error(case):
    label = case.operation.label
    SPOILED_CALLS[label] = SPOILED_CALLS.get(label, 0) + 1
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, case.body, response.text)
    assert isinstance(response.json(), dict | list)
