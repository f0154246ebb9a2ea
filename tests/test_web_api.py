"""The web API (docs/api.md): every endpoint and role, refusals that change nothing, uploads
with exactly the CLI's rules, runs and ensembles through to their results, users and tokens.

Store-backed tests run on SQLite and, when the test PostgreSQL server is up, on PostgreSQL
(the ``url`` fixture of test_observe).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import test_observe
from borderflow.ensemble.params import default_params_file
from borderflow.ensemble.runner import BANDS, run_ensemble
from borderflow.execute import serial_executor
from borderflow.observe.models import Observation
from borderflow.observe.store import EXPORT_TAGS
from borderflow.runs import run_border
from borderflow.scenario.locate import resolve_scenario
from borderflow.web import api_observations, catalogue
from borderflow.web.accounts import add_token, add_user
from borderflow.web.app import create_app, plotly_js, swagger_ui_dir
from borderflow.web.models import AuditLog, Run, Token, User
from borderflow.web.schemas import UserIn

url = test_observe.url  # the same fixture: an SQLite file, or a fresh PostgreSQL database
rows_file = test_observe.rows_file

CASE = "chile-peru-2025"
ORG = "Defensoría del Pueblo"
OTHER_ORG = "Cruz Roja"
# name: (role, organisation)
PEOPLE = {
    "admin": ("admin", "IOM"),
    "analyst": ("analyst", "IOM"),
    "viewer": ("viewer", "UNHCR"),
    "entry": ("data-entry", ORG),
    "other_entry": ("data-entry", OTHER_ORG),
}
SERIES_HXL = "#date,#loc+name,#indicator+code,#indicator+value+num"


@dataclass
class Api:
    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    data_dir: Path

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def counts(self) -> dict[str, int]:
        with Session(self.app.state.store.engine) as s:
            return {
                table.__name__: s.scalar(select(func.count()).select_from(table))
                for table in (Observation, User, Token, Run, AuditLog)
            }

    def audit(self) -> list[AuditLog]:
        with Session(self.app.state.store.engine) as s:
            return list(s.scalars(select(AuditLog).order_by(AuditLog.id)))


def make_app(db: str, data_dir: Path, **kwargs) -> tuple[FastAPI, dict[str, str]]:
    app = create_app(db, data_dir, workers=2, **kwargs)
    tokens = {}
    for name, (role, org) in PEOPLE.items():
        new = UserIn(username=name, password=f"{name}-password", role=role, organisation=org)
        add_user(app.state.store.engine, new, by="test")
        tokens[name] = add_token(app.state.store.engine, name, "test", by="test")[1]
    return app, tokens


@pytest.fixture
def api(url, tmp_path):
    app, tokens = make_app(url, tmp_path / "data")
    with TestClient(app) as client:
        yield Api(app, client, tokens, tmp_path / "data")
    app.state.store.engine.dispose()


def obs_json(n: int, publisher: str = ORG, place: str = "Chacalluta") -> list[dict]:
    start = dt.date(2025, 11, 1)
    return [
        {
            "date": (start + dt.timedelta(days=d)).isoformat(),
            "place_name": place,
            "indicator": "stranded",
            "value_low": d,
            "value_high": d + 5,
            "source_publisher": publisher,
            "reliability": "B",
        }
        for d in range(n)
    ]


def wait_done(api: Api, run_id: int, timeout: float = 240) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = api.client.get(f"/api/runs/{run_id}", headers=api.h("viewer")).json()
        assert 0 <= run["progress"] <= 1
        if run["status"] in ("done", "failed"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['status']} after {timeout} s")


# -- open endpoints, tokens ------------------------------------------------------------------
def test_health_schema_and_dashboard_need_no_token(api):
    c = api.client
    assert c.get("/api/health").json() == {"status": "ok"}
    schema = c.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/runs/{run_id}/series" in schema.json()["paths"]
    page = c.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    js = c.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and js.content == plotly_js().read_bytes()
    assert c.get("/api/no-such-thing").status_code == 404


def test_the_docs_page_loads_swagger_ui_from_the_server_itself(api):
    c = api.client
    page = c.get("/api/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"https?://", page.text, re.IGNORECASE)  # no CDN: works offline
    assets = re.findall(r'(?:href|src)="([^"]+)"', page.text)
    assert len(assets) == 3 and "'/api/openapi.json'" in page.text
    for url in assets:
        served = c.get(url)
        assert served.status_code == 200
        assert served.content == (swagger_ui_dir() / url.rsplit("/", 1)[1]).read_bytes()
    assert c.get("/static/vendor/swagger-ui/core.py").status_code == 404
    assert "/api/docs" not in c.get("/api/openapi.json").json()["paths"]


# method, path, body for the JSON (or CSV) body, roles allowed (beside admin)
ENDPOINTS = [
    ("GET", "/api/me", None, "all"),
    ("GET", "/api/scenarios", None, "all"),
    ("GET", f"/api/scenarios/{CASE}", None, "all"),
    ("GET", f"/api/scenarios/{CASE}/sources", None, "all"),
    ("GET", f"/api/scenarios/{CASE}/observations", None, "all"),
    ("GET", "/api/runs", None, "all"),
    ("GET", "/api/runs/1", None, "all"),
    ("GET", "/api/runs/1/series", None, "all"),
    ("GET", "/api/runs/1/bands", None, "all"),
    ("GET", "/api/runs/1/summary", None, "all"),
    ("GET", "/api/runs/1/needs", None, "all"),
    ("GET", "/api/runs/1/report", None, "all"),
    ("GET", "/api/compare?a=1&b=2", None, "all"),
    ("GET", "/api/observations", None, "all"),
    ("POST", "/api/runs", {"scenario": CASE, "members": 0}, {"analyst"}),
    ("POST", "/api/observations", obs_json(3), {"entry"}),
    ("GET", "/api/users", None, set()),
    ("POST", "/api/users", "new-user", set()),
    ("POST", "/api/users/viewer/tokens", {"label": "x"}, set()),
    ("DELETE", "/api/tokens/TOKEN", None, set()),
    ("GET", "/api/audit", None, set()),
]


def _call(api: Api, method: str, path: str, body, headers: dict, n: int = 0):
    if body == "new-user":
        body = {"username": f"new{n}", "password": "a long password", "role": "viewer",
                "organisation": "X"}  # fmt: skip
    if "TOKEN" in path:
        spare = add_token(api.app.state.store.engine, "viewer", "spare", by="test")[0]
        path = path.replace("TOKEN", str(spare))
    return api.client.request(method, path, json=body, headers=headers)


def test_missing_unknown_and_malformed_tokens_are_401_and_change_nothing(api):
    before = api.counts()
    for method, path, body, _ in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            r = _call(api, method, path, body, headers)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.headers["www-authenticate"] == "Bearer"
            assert set(r.json()) == {"detail"}
    after = api.counts()
    spare_tokens = sum(1 for m, p, *_ in ENDPOINTS if "TOKEN" in p) * 3
    assert after == {**before, "Token": before["Token"] + spare_tokens,
                     "AuditLog": before["AuditLog"] + spare_tokens}  # fmt: skip


def test_every_role_allowed_and_refused(api):
    """403 for a role without the right (and nothing changes); allowed roles get through.

    Each accepted write adds exactly one audit row.
    """
    n = 0
    for method, path, body, allowed in ENDPOINTS:
        for who, (role, _org) in PEOPLE.items():
            ok = allowed == "all" or role == "admin" or who in allowed
            n += 1
            before = api.counts()
            r = _call(api, method, path, body, api.h(who), n)
            after = api.counts()
            if "TOKEN" in path:  # the spare token the call made
                before["Token"] += 1
                before["AuditLog"] += 1
            if not ok:
                assert r.status_code == 403, (method, path, who, r.text)
                assert after == before, (method, path, who)
                continue
            assert r.status_code not in (401, 403), (method, path, who, r.text)
            if method == "GET":
                assert r.status_code in (200, 404), (method, path, who, r.text)
                assert after == before
            else:
                assert r.status_code in (200, 201, 202), (method, path, who, r.text)
                assert after["AuditLog"] == before["AuditLog"] + 1, (method, path, who)


def test_login_me_expiry_and_revocation(api):
    c = api.client
    before = api.counts()
    for wrong in ({"username": "viewer", "password": "wrong!"}, {"username": "x", "password": "y"}):
        assert c.post("/api/login", json=wrong).status_code == 401
    r = c.post("/api/login", json={"username": "entry", "password": "entry-password"})
    assert r.status_code == 200
    body = r.json()
    assert (body["username"], body["role"], body["organisation"]) == ("entry", "data-entry", ORG)
    session = {"Authorization": f"Bearer {body['token']}"}
    assert c.get("/api/me", headers=session).json() == {
        "username": "entry",
        "role": "data-entry",
        "organisation": ORG,
    }
    after = api.counts()
    assert after["AuditLog"] == before["AuditLog"]  # a login is not audited
    assert after["Token"] == before["Token"] + 1
    with Session(api.app.state.store.engine) as s:
        token = s.scalars(select(Token).order_by(Token.id.desc())).first()
        assert token.label == "session"
        hours = (token.expires_at - token.created_at).total_seconds() / 3600
        assert hours == pytest.approx(12)
        assert body["token"] not in {token.token_hash}  # only the hash is stored
        s.execute(
            update(Token)
            .where(Token.id == token.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        s.commit()
    r = c.get("/api/me", headers=session)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_users_tokens_and_revocation_by_admin(api):
    c, admin = api.client, api.h("admin")
    new = {"username": "lucia", "password": "a long password", "role": "analyst",
           "organisation": "OIM Perú"}  # fmt: skip
    r = c.post("/api/users", json=new, headers=admin)
    assert r.status_code == 201 and r.json()["username"] == "lucia"
    assert c.post("/api/users", json=new, headers=admin).status_code == 409
    assert c.post("/api/users", json={**new, "username": "x2", "role": "boss"},
                  headers=admin).status_code == 422  # fmt: skip
    assert c.post("/api/users", json={**new, "username": "x3", "password": "short"},
                  headers=admin).status_code == 422  # fmt: skip
    users = {u["username"]: u for u in c.get("/api/users", headers=admin).json()}
    assert users["lucia"]["role"] == "analyst" and "password" not in json.dumps(users)
    assert set(users) == set(PEOPLE) | {"lucia"}
    r = c.post("/api/users/lucia/tokens", json={"label": "laptop"}, headers=admin)
    assert r.status_code == 201
    token_id, token = r.json()["id"], r.json()["token"]
    assert len(token) >= 43  # 32 random bytes
    lucia = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=lucia).json()["username"] == "lucia"
    assert c.post("/api/users/nobody/tokens", json={}, headers=admin).status_code == 404
    r = c.delete(f"/api/tokens/{token_id}", headers=admin)
    assert r.json() == {"id": token_id, "revoked": True}
    r = c.get("/api/me", headers=lucia)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert c.delete("/api/tokens/999999", headers=admin).status_code == 404
    log = c.get("/api/audit?limit=3", headers=admin).json()
    assert [e["action"] for e in log] == ["token.revoke", "token.add", "user.add"]
    assert [e["target"] for e in log] == [str(token_id), "lucia", "lucia"]
    assert {e["username"] for e in log} == {"admin"}
    assert log[1]["detail"] == {"id": token_id, "label": "laptop"}
    at = dt.datetime.fromisoformat(log[0]["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - at).total_seconds()) < 60


# -- observations --------------------------------------------------------------------------
def test_csv_upload_is_idempotent_and_audited_once_per_upload(api, tmp_path):
    c = api.client
    f = rows_file(tmp_path / "a.csv", range(1, 11), source=ORG)
    before = api.counts()
    csv_headers = {**api.h("entry"), "content-type": "text/csv"}
    first = c.post("/api/observations", content=f.read_bytes(), headers=csv_headers)
    second = c.post("/api/observations", content=f.read_bytes(), headers=csv_headers)
    assert first.json() == {"added": 10, "revised": 0, "already_stored": 0}
    assert second.json() == {"added": 0, "revised": 0, "already_stored": 10}
    after = api.counts()
    assert after["Observation"] == before["Observation"] + 10
    assert after["AuditLog"] == before["AuditLog"] + 2
    entries = api.audit()[-2:]
    assert [(e.username, e.action) for e in entries] == [("entry", "observations.add")] * 2
    assert entries[0].detail["added"] == 10 and entries[1].detail["added"] == 0
    # a multipart file upload goes through the same reader
    g = rows_file(tmp_path / "b.csv", range(5, 15), source=ORG)
    r = c.post("/api/observations", files={"file": ("b.csv", g.read_bytes(), "text/csv")},
               headers=api.h("entry"))  # fmt: skip
    assert r.json() == {"added": 4, "revised": 0, "already_stored": 6}
    # JSON and CSV reads; the CSV is `obs export`'s file and imports back to nothing new
    rows = c.get("/api/observations?place=Chacalluta&indicator=stranded",
                 headers=api.h("viewer")).json()  # fmt: skip
    assert len(rows) == 14 and rows[0]["date"] == "2025-11-02"
    assert rows[0]["value_low"] == 1 and rows[0]["value_high"] == 11
    since = c.get("/api/observations?since=2025-11-10&until=2025-11-12", headers=api.h("viewer"))
    assert [r["date"] for r in since.json()] == ["2025-11-10", "2025-11-11", "2025-11-12"]
    assert c.get("/api/observations?place=Nowhere", headers=api.h("viewer")).json() == []
    exported = c.get("/api/observations?format=csv", headers=api.h("viewer"))
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[1] == ",".join(EXPORT_TAGS.values()) and len(lines) == 2 + 14
    again = c.post("/api/observations", content=exported.content,
                   headers={**api.h("admin"), "content-type": "text/csv"})  # fmt: skip
    assert again.json() == {"added": 0, "revised": 0, "already_stored": 14}


def test_an_upload_and_its_audit_row_are_stored_together_or_not_at_all(api, monkeypatch):
    c = api.client
    before = api.counts()
    r = c.post("/api/observations", json=obs_json(4), headers=api.h("entry"))
    assert r.json() == {"added": 4, "revised": 0, "already_stored": 0}
    after = api.counts()
    assert after["Observation"] == before["Observation"] + 4
    assert after["AuditLog"] == before["AuditLog"] + 1  # exactly one audit row
    [entry] = api.audit()[-1:]
    assert (entry.username, entry.action, entry.target) == ("entry", "observations.add",
                                                            "observations")  # fmt: skip
    assert entry.detail == {
        "rows": 4,
        "added": 4,
        "revised": 0,
        "already_stored": 0,
        "format": "json",
    }

    def failing_audit(*args, **kwargs):
        raise RuntimeError("the audit log is unwritable")

    monkeypatch.setattr(api_observations, "audit", failing_audit)
    before = api.counts()
    with TestClient(api.app, raise_server_exceptions=False) as quiet:
        new_rows = obs_json(3, place="Colchane")
        r = quiet.post("/api/observations", json=new_rows, headers=api.h("entry"))
        assert r.status_code == 500 and r.json() == {"detail": "internal error"}
        f = f"{test_observe.HEADER}2025-11-01,Colchane,stranded,1,2,{ORG},B\n"
        r = quiet.post("/api/observations", content=f.encode(),
                       headers={**api.h("entry"), "content-type": "text/csv"})  # fmt: skip
        assert r.status_code == 500
    assert api.counts() == before  # no observation of either upload, no audit row
    assert api.client.get("/api/observations?place=Colchane", headers=api.h("viewer")).json() == []


def test_dates_must_be_written_yyyy_mm_dd(api):
    """Not a number read as a Unix time (lax parsing would store 0 as 1970-01-01)."""
    before = api.counts()
    for bad in (0, "0", "2025-11-1", "20251101", "2025-02-30"):
        rows = obs_json(2)
        rows[1]["date"] = bad
        rows[0]["source_date"] = bad
        r = api.client.post("/api/observations", json=rows, headers=api.h("entry"))
        assert r.status_code == 422, bad
        errors = [(e["row"], e["field"], e["reason"]) for e in r.json()["detail"]["errors"]]
        assert errors == [(1, "source_date", "not a date (YYYY-MM-DD)"),
                          (2, "date", "not a date (YYYY-MM-DD)")], bad  # fmt: skip
    csv = f"{test_observe.HEADER}0,Chacalluta,stranded,10,20,{ORG},B\n"
    r = api.client.post("/api/observations", content=csv.encode(),
                        headers={**api.h("entry"), "content-type": "text/csv"})  # fmt: skip
    assert r.json()["detail"]["errors"] == [
        {"row": 3, "field": "date", "reason": "not a date (YYYY-MM-DD)"}
    ]
    assert api.counts() == before
    bad_query = api.client.get("/api/observations?since=0", headers=api.h("viewer"))
    assert bad_query.status_code == 422


def test_a_csv_with_one_bad_row_is_rejected_whole_naming_row_and_field(api):
    good = f"2025-11-01,Chacalluta,stranded,10,20,{ORG},B\n"
    as_csv = {**api.h("entry"), "content-type": "text/csv"}
    before = api.counts()
    one_bad = test_observe.HEADER + good + f"2025-13-01,Chacalluta,stranded,10,20,{ORG},B\n"
    r = api.client.post("/api/observations", content=one_bad.encode(), headers=as_csv)
    assert r.status_code == 422
    [error] = r.json()["detail"]["errors"]
    assert (error["row"], error["field"]) == (4, "date")  # line 4 of the file, the date
    assert api.counts() == before  # nothing stored (not even line 3), nothing audited
    two_bad = one_bad + f"2025-11-03,Chacalluta,stranded,30,20,{ORG},B\n"  # high below low
    r = api.client.post("/api/observations", content=two_bad.encode(), headers=as_csv)
    errors = r.json()["detail"]["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [(4, "date"), (5, "(row)")]
    assert "below low" in errors[-1]["reason"]
    assert api.counts() == before
    # a JSON list: the row is the item's position (1-based)
    bad = obs_json(3)
    bad[1]["indicator"] = "Not An Indicator"
    r = api.client.post("/api/observations", json=bad, headers=api.h("entry"))
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["detail"]["errors"]] == [(2, "indicator")]
    for body, kind in ((b"\x00\x01", "text/csv"), (b"no hashtags\n1\n", "text/csv"),
                       (b"{not json", "application/json"), (b"[]", "application/json"),
                       (b'{"a": 1}', "application/json")):  # fmt: skip
        r = api.client.post("/api/observations", content=body,
                            headers={**api.h("entry"), "content-type": kind})  # fmt: skip
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]["errors"][0]["row"] is None
    r = api.client.post("/api/observations", content=b"<x/>",
                        headers={**api.h("entry"), "content-type": "application/xml"})  # fmt: skip
    assert r.status_code == 415
    assert api.counts() == before


def test_data_entry_adds_only_its_own_organisations_rows(api, tmp_path):
    c = api.client
    before = api.counts()
    mine = c.post("/api/observations", json=obs_json(3), headers=api.h("entry"))
    assert mine.json() == {"added": 3, "revised": 0, "already_stored": 0}
    before = api.counts()
    theirs = c.post("/api/observations", json=obs_json(3), headers=api.h("other_entry"))
    assert theirs.status_code == 403 and ORG in theirs.json()["detail"]
    mixed = obs_json(2, publisher=OTHER_ORG, place="Colchane") + obs_json(1)
    r = c.post("/api/observations", json=mixed, headers=api.h("other_entry"))
    assert r.status_code == 403
    f = rows_file(tmp_path / "a.csv", range(1, 4), source=ORG)
    r = c.post("/api/observations", content=f.read_bytes(),
               headers={**api.h("other_entry"), "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["detail"]["errors"]} == {
        (3, "source_publisher"), (4, "source_publisher"), (5, "source_publisher")
    }  # fmt: skip
    assert api.counts() == before
    # an admin may add anyone's rows
    r = c.post("/api/observations", json=obs_json(2, publisher=OTHER_ORG), headers=api.h("admin"))
    assert r.json() == {"added": 2, "revised": 0, "already_stored": 0}


def test_a_body_over_the_limit_is_413_and_stores_nothing(api):
    before = api.counts()
    big = b"x" * (2 * 1024 * 1024 + 1)
    r = api.client.post("/api/observations", content=big,
                        headers={**api.h("entry"), "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 413 and "detail" in r.json()
    as_json = {**api.h("analyst"), "content-type": "application/json"}
    body = b"[" + b" " * (2 * 1024 * 1024) + b"]"
    r = api.client.post("/api/runs", content=body, headers=as_json)
    assert r.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield from [b"x" * (1024 * 1024)] * 3

    r = api.client.post("/api/observations", content=chunks(),
                        headers={**api.h("entry"), "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 413 and "detail" in r.json()
    assert api.counts() == before


def test_validation_errors_are_json_422_and_crashes_are_a_bare_500(api, monkeypatch, caplog):
    c = api.client
    r = c.post("/api/runs", json={"scenario": 5, "members": -1}, headers=api.h("analyst"))
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    for body in (
        {"scenario": "mali"},  # a Flee scenario
        {"scenario": "atlantis"},
        {"scenario": CASE, "members": 1},
        {"scenario": CASE, "variant": {"peru_policy": "open_borders"}},
        {"scenario": CASE, "capacity": {"Chacaluta": 100}},
        {"scenario": CASE, "seed": 2**40},
    ):
        before = api.counts()
        r = c.post("/api/runs", json=body, headers=api.h("analyst"))
        assert r.status_code == 422, (body, r.text)
        assert api.counts() == before
    assert c.get("/api/scenarios/atlantis", headers=api.h("viewer")).status_code == 404
    assert c.get("/api/runs/0", headers=api.h("viewer")).status_code == 422

    def boom(name):
        raise RuntimeError("secret detail /etc/somewhere")

    monkeypatch.setattr(catalogue, "sources", boom)
    with (
        TestClient(api.app, raise_server_exceptions=False) as quiet,
        caplog.at_level(logging.ERROR, logger="borderflow.web"),
    ):
        r = quiet.get(f"/api/scenarios/{CASE}/sources", headers=api.h("viewer"))
    assert r.status_code == 500 and r.json() == {"detail": "internal error"}
    assert "secret" not in r.text and "Traceback" not in r.text
    assert "secret detail" in caplog.text  # the traceback stays in the server log


# -- runs and results ------------------------------------------------------------------------
def test_scenarios_sources_and_case_observations(api):
    c, h = api.client, api.h("viewer")
    listed = {s["name"]: s for s in c.get("/api/scenarios", headers=h).json()}
    assert set(listed) == {"chile-peru-2025", "chile-peru-2023", "pazarkule-2020", "ceuta-2021",
                           "tijuana-2018", "necocli-2021", "peru-visa-2019", "colchane-2021",
                           "mali", "burundi",
                           "mali2017_adm1", "nigeria2016", "nigeria2022_adm2", "ssudan2016",
                           "tigray2020", "ukraine2022", "venezuela2022"}  # fmt: skip
    chile = listed[CASE]
    assert chile["kind"] == "border" and "Chacalluta-Santa Rosa" in chile["crossings"]
    policy = chile["variants"]["peru_policy"]
    assert policy["default"] in policy["options"] and len(policy["options"]) >= 2
    assert listed["mali"]["kind"] == "flee"
    one = c.get(f"/api/scenarios/{CASE}", headers=h).json()
    assert {"Chacalluta", "Arica"} <= {p["name"] for p in one["places"]}
    assert {"from", "to", "km", "mode"} == set(one["routes"][0])
    sources = c.get(f"/api/scenarios/{CASE}/sources", headers=h).json()
    by_name = {s["parameter"]: s for s in sources}
    stock = by_name["population.stock"]
    assert stock["value"] == 336984 and "reportediario.cl" in stock["source"]
    assert by_name["departure.social_weight"]["assumption"]
    assert all((s["source"] or s["assumption"]) for s in sources)  # every number has a provenance
    obs = c.get(f"/api/scenarios/{CASE}/observations", headers=h).json()
    case_rows = (resolve_scenario(CASE) / "observations.csv").read_text().splitlines()[2:]
    assert len(obs) == len([r for r in case_rows if r.strip()])
    assert obs[0]["indicator"] == "stranded" and obs[0]["low"] <= obs[0]["high"]


@pytest.mark.slow
def test_a_run_and_an_ensemble_reach_done_and_serve_their_results(api, tmp_path):
    c, h = api.client, api.h("viewer")
    r = c.post("/api/runs", json={"scenario": CASE, "seed": 5}, headers=api.h("analyst"))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    single = r.json()["id"]
    r = c.post("/api/runs", json={"scenario": CASE, "seed": 4, "members": 3},
               headers=api.h("admin"))  # fmt: skip
    ens = r.json()["id"]
    assert [run["id"] for run in c.get("/api/runs", headers=h).json()] == [ens, single]
    for run_id, who in ((single, "analyst"), (ens, "admin")):
        run = wait_done(api, run_id)
        assert run["status"] == "done", run["message"]
        assert run["progress"] == 1 and run["message"] == "" and run["created_by"] == who
        assert dt.datetime.fromisoformat(run["finished_at"]) >= dt.datetime.fromisoformat(
            run["created_at"]
        )

    # the single run's series is exactly `borderflow run`'s series.csv (the case's fit, if any)
    cli = run_border(resolve_scenario(CASE), seed=5, out_dir=tmp_path / "cli", plots=False,
                     fitted=True)  # fmt: skip
    r = c.get(f"/api/runs/{single}/series?format=csv", headers=h)
    assert r.content == (tmp_path / "cli" / "series.csv").read_bytes()
    assert r.text.splitlines()[1] == SERIES_HXL
    rows = c.get(f"/api/runs/{single}/series?indicator=stranded&location=Chacalluta-Santa Rosa",
                 headers=h).json()  # fmt: skip
    assert len(rows) == cli.days and {r["indicator"] for r in rows} == {"stranded"}
    summary = c.get(f"/api/runs/{single}/summary", headers=h).json()
    assert summary == json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert c.get(f"/api/runs/{single}/bands", headers=h).status_code == 404

    # the ensemble: bands as `borderflow ensemble` computes them (from the case's fit, if any);
    # series = median band
    local = tmp_path / "ens"
    run_ensemble(resolve_scenario(CASE), default_params_file(resolve_scenario(CASE)), local,
                 members=3, seed=4, executor=serial_executor())  # fmt: skip
    expected = pq.read_table(local / BANDS)
    bands = c.get(f"/api/runs/{ens}/bands?indicator=stranded", headers=h).json()
    want = expected.filter(pc.equal(expected.column("indicator").cast("string"), "stranded"))
    assert [b["q95"] for b in bands] == want.column("q95").to_pylist()
    assert [b["q50"] for b in bands] == want.column("q50").to_pylist()
    series = c.get(f"/api/runs/{ens}/series?indicator=stranded", headers=h).json()
    assert [s["value"] for s in series] == [b["q50"] for b in bands]
    lines = c.get(f"/api/runs/{ens}/bands?format=csv", headers=h).text.splitlines()
    assert lines[1] == ("#date,#loc+name,#indicator+code,#indicator+num+q05,#indicator+num+q25,"
                        "#indicator+num+q50,#indicator+num+q75,#indicator+num+q95,"
                        "#indicator+num+mean")  # fmt: skip
    assert len(lines) == 2 + expected.num_rows
    lines = c.get(f"/api/runs/{ens}/series?format=csv", headers=h).text.splitlines()
    assert lines[1] == SERIES_HXL and len(lines) == 2 + expected.num_rows
    ens_summary = c.get(f"/api/runs/{ens}/summary", headers=h).json()
    first = ens_summary[0]
    lo, hi = first["members_90"]["peak_stranded"]
    assert lo <= hi and first["needs_at_peak"]["people"] >= first["peak_stranded"]

    for run_id in (single, ens):
        needs = c.get(f"/api/runs/{run_id}/needs", headers=h).json()
        row = max(needs, key=lambda r: r["people"])
        assert row["water_l"] == pytest.approx(15 * row["people"])  # Sphere: 15 l a day
        assert row["shelter_m2"] == pytest.approx(3.5 * row["people"])
        lines = c.get(f"/api/runs/{run_id}/needs?format=csv", headers=h).text.splitlines()
        assert lines[0] == "date,location,people,children,shelter_m2,water_l,food_kcal,latrines"
        assert lines[1].startswith("#date,#loc+name,#affected+num,")
        assert len(lines) == 2 + len(needs)

    cmp = c.get(f"/api/compare?a={single}&b={ens}", headers=h).json()
    assert cmp["a"]["run"]["id"] == single and cmp["b"]["summary"] == ens_summary
    d = cmp["differences"][0]
    assert d["peak_stranded"] == ens_summary[0]["peak_stranded"] - summary[0]["peak_stranded"]
    assert d["crossed"] == ens_summary[0]["crossed"] - summary[0]["crossed"]

    # the situation report, as `borderflow report` writes it, in the language asked for
    r = c.get(f"/api/runs/{ens}/report?lang=es&format=pdf", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert (
        f'filename="run-{ens}-situation-report-{CASE}-es.pdf"' in r.headers["content-disposition"]
    )
    r = c.get(f"/api/runs/{single}/report?format=html", headers=h)
    assert r.headers["content-type"].startswith("text/html")
    assert "Situation report" in r.text and "A single run: one trajectory" in r.text
    assert c.get(f"/api/runs/{ens}/report?lang=fr", headers=h).status_code == 422


def test_results_of_unknown_or_unfinished_runs(api):
    c, h = api.client, api.h("viewer")
    assert c.get("/api/runs/4242", headers=h).status_code == 404
    assert c.get("/api/runs/4242/summary", headers=h).status_code == 404
    with Session(api.app.state.store.engine) as s:
        s.add(Run(scenario=CASE, variant={}, capacity={}, seed=0, members=0, status="failed",
                  progress=0.3, message="boom", created_by="x", folder="nowhere"))  # fmt: skip
        s.commit()
    run_id = c.get("/api/runs", headers=h).json()[0]["id"]
    r = c.get(f"/api/runs/{run_id}/series", headers=h)
    assert r.status_code == 409 and "failed" in r.json()["detail"]
    assert c.get(f"/api/compare?a={run_id}&b={run_id}", headers=h).status_code == 409
    assert c.get(f"/api/runs/{run_id}/report", headers=h).status_code == 409


def test_the_language_catalogs_need_no_token(api):
    r = api.client.get("/api/i18n/es")
    assert r.status_code == 200
    assert r.json()["messages"]["Log out"] == "Cerrar sesión"
    assert r.json()["decimal"] == ","
    assert api.client.get("/api/i18n/en").json()["messages"] == {}
    assert api.client.get("/api/i18n/fr").status_code == 422


@pytest.mark.slow
def test_stopping_the_server_stops_a_running_ensemble_and_marks_it(url, tmp_path):
    app, tokens = make_app(url, tmp_path / "data", job_threads=1)  # the second run waits
    analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
    with TestClient(app) as client:
        r = client.post("/api/runs", json={"scenario": CASE, "members": 500}, headers=analyst)
        run_id = r.json()["id"]
        queued = client.post("/api/runs", json={"scenario": CASE}, headers=analyst).json()["id"]
        deadline = time.monotonic() + 120
        while client.get(f"/api/runs/{run_id}", headers=analyst).json()["progress"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 60  # a batch of members, not 500 of them
    with Session(app.state.store.engine) as s:
        for rid in (run_id, queued):
            run = s.get(Run, rid)
            assert run.status == "failed" and "interrupted" in run.message, rid
            assert run.finished_at is not None
    app.state.store.engine.dispose()


def test_runs_left_unfinished_by_a_dead_server_are_marked_failed(url, tmp_path):
    app, _tokens = make_app(url, tmp_path / "data")
    with Session(app.state.store.engine) as s:
        for status in ("queued", "running", "done"):
            s.add(Run(scenario=CASE, variant={}, capacity={}, seed=0, members=0, status=status,
                      progress=0.5, message="", created_by="x", folder="f"))  # fmt: skip
        s.commit()
    app.state.store.engine.dispose()
    again = create_app(url, tmp_path / "data")
    with Session(again.state.store.engine) as s:
        runs = {r.id: r for r in s.scalars(select(Run).order_by(Run.id))}
    assert [r.status for r in runs.values()] == ["failed", "failed", "done"]
    assert all("interrupted" in r.message for r in list(runs.values())[:2])
    again.state.store.engine.dispose()


def test_migration_0002_adds_the_web_tables_to_an_existing_store_and_back(url, tmp_path):
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    from borderflow.observe.store import Store

    engine = create_engine(url)

    def migrate(how, target: str) -> None:
        cfg = Config()
        cfg.set_main_option(
            "script_location", str(resources.files("borderflow.observe") / "migrations")
        )
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            how(cfg, target)

    web_tables = {"web_user", "web_token", "web_run", "audit_log"}
    migrate(command.upgrade, "0001")  # a store as the CLI left it before the web app
    assert not web_tables & set(inspect(engine).get_table_names())
    store = Store(url)  # opening it migrates to the head
    store.import_file(rows_file(tmp_path / "a.csv", range(3)))
    assert web_tables <= set(inspect(engine).get_table_names())
    migrate(command.downgrade, "0001")
    assert not web_tables & set(inspect(engine).get_table_names())
    with engine.connect() as conn:  # the observations are untouched
        assert conn.exec_driver_sql("SELECT count(*) FROM observation").scalar() == 3
    engine.dispose()
    store.engine.dispose()


# -- the command line --------------------------------------------------------------------------
def borderflow(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *args],
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, "COLUMNS": "300"},
        timeout=120,
        start_new_session=True,  # no terminal: a hidden prompt reads stdin
    )


@pytest.mark.slow
def test_users_commands_add_token_list_and_bad_input(url, tmp_path):
    r = borderflow("users", "add", "ana", "--role", "admin", "--organisation", "IOM",
                   "--password", "correct horse", "--db", url)  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = borderflow("users", "add", "beto", "--role", "viewer", "--organisation", "UNHCR",
                   "--db", url, input="a secret pw\na secret pw\n")  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = borderflow("users", "token", "ana", "--label", "laptop", "--db", url)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert len(token) >= 43 and "\n" not in token
    listed = borderflow("users", "list", "--db", url)
    assert "ana" in listed.stdout and "beto" in listed.stdout and "data-entry" not in listed.stdout
    for args in (
        ("users", "add", "ana", "--role", "admin", "--organisation", "IOM", "--password", "x" * 9),
        ("users", "add", "cleo", "--role", "boss", "--organisation", "IOM", "--password", "x" * 9),
        ("users", "add", "cleo", "--role", "admin", "--organisation", "IOM", "--password", "x"),
        ("users", "token", "nobody"),
    ):
        r = borderflow(*args, "--db", url)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("error:") and len(r.stderr.strip().splitlines()) == 1
        assert "Traceback" not in r.stderr
    app = create_app(url, tmp_path / "data")
    with TestClient(app) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"username": "ana", "role": "admin", "organisation": "IOM"}
        log = client.get("/api/audit", headers={"Authorization": f"Bearer {token}"}).json()
        assert [(e["action"], e["username"]) for e in log] == [
            ("token.add", "(cli)"), ("user.add", "(cli)"), ("user.add", "(cli)")
        ]  # fmt: skip
    app.state.store.engine.dispose()


@pytest.mark.slow
def test_serve_starts_the_server(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'web.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "borderflow", "serve", "--db", db, "--data", str(tmp_path / "d"),
         "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert r.json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/runs").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
