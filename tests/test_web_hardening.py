"""The web API as an attacker and a careless user probe it (issue 14).

Bad JSON values and deep nesting are a 422 on every JSON endpoint, never a 500; credentials are
never echoed; failed logins back off; usernames are case-insensitive; CSV exports never hold a
formula; corrections keep their history in the audit log and the API; a run survives a busy
database. Runs on SQLite and, when the test server is up, PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import test_observe
import test_web_api
from borderflow.web.accounts import UserExistsError, add_user
from borderflow.web.db import writing
from borderflow.web.models import Run, User
from borderflow.web.schemas import UserIn
from test_web_api import ORG, obs_json

url = test_observe.url  # the fixtures: an SQLite file or a PostgreSQL database, and an app on it
api = test_web_api.api

# Every endpoint that reads a JSON body, with a valid body to spoil and who may call it.
JSON_ENDPOINTS = [
    ("/api/login", {"username": "admin", "password": "admin-password"}, None),
    ("/api/runs", {"scenario": "chile-peru-2025", "members": 0}, "admin"),
    (
        "/api/users",
        {"username": "zed", "password": "a long password", "role": "viewer", "organisation": "X"},
        "admin",
    ),
    ("/api/users/viewer/tokens", {"label": "x"}, "admin"),
    ("/api/observations", obs_json(1), "entry"),
]
# JSON texts Python's json module reads but no JSON value can hold
BAD_VALUES = ["NaN", "Infinity", "-Infinity", "1e309", '"\\ud800"', '"a\\udfff"']


def spoil(body, value: str) -> str:
    """``body`` as JSON text with its last scalar replaced by ``value``."""
    text = json.dumps(body)
    inner = body[0] if isinstance(body, list) else body
    last = list(inner)[-1]
    return text.replace(f'"{last}": {json.dumps(inner[last])}', f'"{last}": {value}', 1)


def post(on: test_web_api.Api, path: str, text: str | bytes, who: str | None):
    headers = {"content-type": "application/json", **(on.h(who) if who else {})}
    with TestClient(on.app, raise_server_exceptions=False) as client:
        return client.post(path, content=text, headers=headers)


# -- defects 1 and 2 -----------------------------------------------------------------------------
@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_json_values_are_422_on_every_json_endpoint(api, value):
    before = api.counts()
    for path, body, who in JSON_ENDPOINTS:
        r = post(api, path, spoil(body, value), who)
        assert r.status_code == 422, (path, value, r.status_code, r.text)
        assert "detail" in r.json() and "internal error" not in r.text
    assert api.counts() == before


def test_deeply_nested_json_is_422_and_changes_nothing(api):
    before = api.counts()
    deep = "[" * 100_000 + "]" * 100_000
    for path, _body, who in JSON_ENDPOINTS:
        r = post(api, path, deep, who)
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        assert "nested too deeply" in r.text
    # nesting the parser accepts but that is too deep to echo back in full
    shallow = json.dumps({"scenario": json.loads("[" * 500 + "]" * 500)})
    r = post(api, "/api/runs", shallow, "admin")
    assert r.status_code == 422 and len(r.content) < 10_000
    assert api.counts() == before


@pytest.mark.slow
def test_a_bad_value_keeps_the_connection_of_a_real_server(tmp_path):
    """The 500 used to drop the keep-alive connection; a 422 keeps it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'web.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "borderflow", "serve", "--db", db, "--data", str(tmp_path / "d"),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            try:
                conn.request("GET", "/api/health")
                assert conn.getresponse().read() == b'{"status":"ok"}'
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                conn.close()
                time.sleep(0.2)
        body = b'{"username":"adm","password":NaN}'
        conn.request("POST", "/api/login", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 422 and response.getheader("connection") != "close"
        response.read()
        conn.request("GET", "/api/health")  # the same connection
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- credentials ---------------------------------------------------------------------------------
def test_credentials_are_never_echoed(api):
    secret = "s3cret-token-value"
    for path in ("/api/me", "/api/runs", "/api/health"):
        r = api.client.get(f"{path}?token={secret}", headers=api.h("viewer"))
        assert r.status_code == 422 and secret not in r.text
        assert "Authorization: Bearer <token>" in r.text
    long_password = "p" * 300 + "-my-password"
    r = api.client.post("/api/login", json={"username": "viewer", "password": long_password})
    assert r.status_code == 422 and long_password not in r.text and "(hidden)" in r.text
    r = api.client.post("/api/login", json={"username": "viewer", "password": 5, "token": secret})
    assert r.status_code == 422 and secret not in r.text
    r = api.client.post("/api/users", json={"username": "x y", "password": "hunter2hunter2",
                        "role": "viewer", "organisation": "X"}, headers=api.h("admin"))  # fmt: skip
    assert r.status_code == 422 and "hunter2" not in r.text


# -- login back-off ------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_logins_back_off_per_user(api):
    clock = Clock()
    api.app.state.login_throttle.clock = clock
    c = api.client
    answers = [c.post("/api/login", json={"username": "viewer", "password": f"guess {k}"})
               for k in range(30)]  # fmt: skip
    codes = [r.status_code for r in answers]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    assert int(answers[5].headers["retry-after"]) >= 1
    right = {"username": "VIEWER", "password": "viewer-password"}  # any case: the same account
    r = c.post("/api/login", json=right)
    assert r.status_code == 429 and "try again" in r.json()["detail"]
    clock.now += int(r.headers["retry-after"])
    assert c.post("/api/login", json=right).status_code == 200
    # each failure after the free ones doubles the wait
    wrong = {"username": "analyst", "password": "no"}
    for _ in range(5):
        assert c.post("/api/login", json=wrong).status_code == 401
    waits = []
    for _ in range(8):  # refused, wait, fail again, refused for twice as long...
        r = c.post("/api/login", json=wrong)
        if r.status_code == 429:
            waits.append(int(r.headers["retry-after"]))
            clock.now += waits[-1]
    assert waits == [1, 2, 4, 8]
    # another user is not held up by them
    r = c.post("/api/login", json={"username": "admin", "password": "admin-password"})
    assert r.status_code == 200


def test_failed_logins_back_off_per_address(api):
    api.app.state.login_throttle.clock = Clock()
    c = api.client
    codes = [c.post("/api/login", json={"username": f"user{k}", "password": "x"}).status_code
             for k in range(25)]  # fmt: skip
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}


# -- case-insensitive usernames ------------------------------------------------------------------
def test_usernames_are_case_insensitive(api):
    c, admin = api.client, api.h("admin")
    new = {"username": "Lucia", "password": "a long password", "role": "viewer",
           "organisation": "X"}  # fmt: skip
    assert c.post("/api/users", json=new, headers=admin).status_code == 201
    for other in ("lucia", "LUCIA", "lUcIa"):
        r = c.post("/api/users", json={**new, "username": other}, headers=admin)
        assert r.status_code == 409, (other, r.text)
    with pytest.raises(UserExistsError):
        add_user(api.app.state.store.engine, UserIn(**{**new, "username": "LuCiA"}), by="test")
    r = c.post("/api/login", json={"username": "LUCIA", "password": "a long password"})
    assert r.status_code == 200 and r.json()["username"] == "Lucia"  # kept as first written
    assert c.post("/api/users/lucia/tokens", json={}, headers=admin).status_code == 201
    with Session(api.app.state.store.engine) as s:
        assert s.scalar(select(func.count()).select_from(User).where(User.named("LUCIA"))) == 1


# -- CSV exports and blank lines -----------------------------------------------------------------
def test_csv_export_neutralises_formulas_and_keeps_the_stored_value(api):
    rows = obs_json(3)
    rows[0]["place_name"] = '=HYPERLINK("http://evil.example","x")'
    rows[1]["coverage"] = "+cmd|' /C calc'!A0"
    rows[2]["source_url"] = "@SUM(1+1)"
    assert (
        api.client.post("/api/observations", json=rows, headers=api.h("admin")).status_code == 200
    )
    stored = api.client.get("/api/observations", headers=api.h("viewer")).json()
    assert {r["place_name"] for r in stored} >= {rows[0]["place_name"]}  # JSON: as stored
    text = api.client.get("/api/observations?format=csv", headers=api.h("viewer")).text
    assert "'=HYPERLINK" in text and "'+cmd" in text and "'@SUM" in text
    for line in text.splitlines()[2:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(","))
    again = api.client.post("/api/observations", content=text.encode(),
                            headers={**api.h("admin"), "content-type": "text/csv"})  # fmt: skip
    assert again.json() == {"added": 0, "revised": 0, "already_stored": 3}


def test_a_trailing_blank_line_is_ignored(api):
    body = f"{test_observe.HEADER}2025-11-01,Chacalluta,stranded,1,2,{ORG},B\n\n"
    r = api.client.post("/api/observations", content=body.encode(),
                        headers={**api.h("entry"), "content-type": "text/csv"})  # fmt: skip
    assert r.status_code == 200 and r.json()["added"] == 1, r.text


# -- corrections ---------------------------------------------------------------------------------
def test_a_correction_replaces_the_value_and_keeps_the_old_one_with_who_and_when(api):
    c = api.client
    rows = obs_json(2)
    assert c.post("/api/observations", json=rows, headers=api.h("entry")).json()["added"] == 2
    rows[1]["value_low"], rows[1]["value_high"] = 40, 55
    r = c.post("/api/observations", json=rows, headers=api.h("admin"))
    assert r.json() == {"added": 0, "revised": 1, "already_stored": 1}
    current = c.get("/api/observations", headers=api.h("viewer")).json()
    assert [(o["value_low"], o["recorded_by"], o["current"]) for o in current] == [
        (0, "entry", True), (40, "admin", True)
    ]  # fmt: skip
    history = c.get("/api/observations?history=true", headers=api.h("viewer")).json()
    seen = [(o["value_low"], o["current"], o["recorded_by"], o["replaced_by"]) for o in history]
    assert seen == [(0, True, "entry", None), (1, False, "entry", "admin"),
                    (40, True, "admin", None)]  # fmt: skip
    csv_history = c.get("/api/observations?history=true&format=csv", headers=api.h("viewer"))
    assert csv_history.text.splitlines()[1].endswith("#meta+replaced+by")
    [entry] = api.audit()[-1:]
    assert entry.detail["revised"] == 1 and entry.username == "admin"
    [revision] = entry.detail["revisions"]
    assert (revision["old"]["value_low"], revision["new"]["value_low"]) == (1, 40)
    assert revision["old"]["recorded_by"] == "entry" and revision["date"] == rows[1]["date"]


def test_one_upload_giving_an_observation_two_values_is_rejected(api):
    rows = obs_json(2)
    rows.append({**rows[0], "value_high": 99})
    before = api.counts()
    r = api.client.post("/api/observations", json=rows, headers=api.h("entry"))
    assert r.status_code == 422
    [error] = r.json()["detail"]["errors"]
    assert error["row"] == 3 and "as row 1" in error["reason"]
    assert api.counts() == before


# -- defect 3: a run while the database is busy --------------------------------------------------
@pytest.mark.slow
def test_a_run_finishes_while_uploads_hold_the_write_lock(tmp_path, caplog):
    """A background run retries a write the database refuses as busy instead of failing."""
    db = tmp_path / "web.db"
    app, _tokens = test_web_api.make_app(f"sqlite:///{db}", tmp_path / "data", job_threads=1)
    engine = app.state.store.engine

    @event.listens_for(engine, "connect")
    def impatient(conn, _record) -> None:  # give up at once instead of after 60 s
        conn.execute("PRAGMA busy_timeout=20")

    engine.dispose()
    with writing(engine) as session:
        run = Run(scenario="chile-peru-2023", members=0, created_by="test")
        session.add(run)
        session.flush()
        run.folder, run_id = app.state.jobs.folder_name(run.id), run.id
    done = threading.Event()

    def hold_the_lock() -> None:  # like an upload's transaction, again and again
        holder = sqlite3.connect(db, timeout=30)
        while not done.is_set():
            holder.execute("BEGIN IMMEDIATE")
            time.sleep(0.2)
            holder.rollback()
            time.sleep(0.1)
        holder.close()

    locker = threading.Thread(target=hold_the_lock)
    locker.start()
    time.sleep(0.1)
    try:
        with caplog.at_level(logging.INFO, logger="borderflow.web"):
            app.state.jobs.execute(run_id)
    finally:
        done.set()
        locker.join()
    with Session(engine) as s:
        run = s.get(Run, run_id)
        assert (run.status, run.message, run.progress) == ("done", "", 1.0)
    assert "database busy" in caplog.text  # the lock was met, and waited out
    engine.dispose()


# -- found by fuzzing ----------------------------------------------------------------------------
def test_an_upload_pydantic_cannot_parse_is_rejected_whole(api):
    """Nesting Python's parser takes but pydantic's refuses, and a 5,000-digit number."""
    before = api.counts()
    item = json.dumps(obs_json(1)[0])
    for body in ("[" + "[" * 300 + "]" * 300 + "]", item[:-1] + ', "x": ' + "[" * 300 + "]" * 300
                 + "}", "[" + "1" * 5000 + "]"):  # fmt: skip
        r = post(api, "/api/observations", body, "entry")
        assert r.status_code == 422, (body[:20], r.status_code, r.text[:300])
        assert r.json()["detail"]["errors"][0]["row"] is None
    assert api.counts() == before


def test_a_nul_character_in_a_json_upload_is_refused_naming_row_and_field(api):
    rows = obs_json(2)
    rows[1]["coverage"] = "partial\u0000count"
    before = api.counts()
    r = api.client.post("/api/observations", json=rows, headers=api.h("entry"))
    assert r.status_code == 422
    assert r.json()["detail"]["errors"] == [
        {"row": 2, "field": "coverage", "reason": "contains a NUL character"}
    ]
    assert api.counts() == before
