"""Fuzzing: hostile request bodies and corrupted files never get a traceback or a 5xx.

Every JSON endpoint gets valid bodies spoiled with ``NaN``, infinities, huge numbers, lone
surrogates, NUL characters and deep nesting (:mod:`strategies`); the observation upload gets
corrupted CSV files; the readers of observation files, border cases and Flee scenarios get
copies of valid files with cells replaced, lines dropped, doubled or cut, stray bytes and blank
lines. The API must answer each with a status below 500 and a JSON body, and a reader must
either read the file or raise the one error the command line turns into one line and exit 2.

Examples are deterministic (the same on every run); ``BORDERFLOW_FUZZ=20`` tries twenty times
as many, drawn afresh. The number of cases tried is printed at the end of the module.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from border_factory import write_case
from borderflow.errors import ScenarioError
from borderflow.observe.store import ImportRejectedError, Store
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.locate import builtin_root
from borderflow.web.accounts import add_token, add_user
from borderflow.web.app import create_app
from borderflow.web.schemas import UserIn
from strategies import fuzz_settings, spoiled_json, spoiled_lines, spoiled_toml
from test_observe import HEADER

pytestmark = pytest.mark.slow  # fuzzing: a few thousand cases
CASES: Counter[str] = Counter()
OBSERVATIONS = HEADER + "".join(
    f"2025-11-{d:02d},Chacalluta,stranded,{d},{d + 5},IOM,B\n" for d in range(1, 6)
)
JSON_BODIES = {
    "/api/login": {"username": "root", "password": "root-password"},
    "/api/runs": {"scenario": "chile-peru-2025", "variant": {"peru_policy": "quota"},
                  "capacity": {"Chacalluta-Santa Rosa": 9000}, "seed": 1, "members": 0},
    "/api/users": {"username": "zed", "password": "a long password", "role": "viewer",
                   "organisation": "X"},
    "/api/users/root/tokens": {"label": "laptop"},
    "/api/observations": [{"date": "2025-11-01", "end_date": "2025-11-02", "stat": "mean",
                           "place_name": "Chacalluta", "indicator": "stranded",
                           "value_low": 1.5, "value_high": 3, "source_publisher": "IOM",
                           "source_date": "2025-11-03", "reliability": "B"}],
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if CASES:
        tried = ", ".join(f"{name} {n}" for name, n in sorted(CASES.items()))
        print(f"\nfuzz: {sum(CASES.values())} cases ({tried}), 0 failures")


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """An app whose runs are queued but never executed (their requests are what is fuzzed)."""
    tmp = tmp_path_factory.mktemp("fuzz-web")
    app = create_app(f"sqlite:///{tmp / 'web.db'}", tmp / "data", workers=1, job_threads=1)
    app.state.jobs.submit = lambda run_id: None
    user = UserIn(username="root", password="root-password", role="admin", organisation="IOM")
    add_user(app.state.store.engine, user, by="test")
    token = add_token(app.state.store.engine, "root", "fuzz", by="test")[1]
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client
    app.state.store.engine.dispose()


def answered(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert isinstance(response.json(), dict | list)


@pytest.mark.parametrize("path", list(JSON_BODIES))
@given(data=st.data())
@fuzz_settings(150)
def test_spoiled_json_bodies_never_get_a_server_error(web, path, data):
    body = data.draw(spoiled_json(JSON_BODIES[path]), label="body")
    answered(web.post(path, content=body, headers={"content-type": "application/json"}))
    CASES["api json"] += 1


@given(data=st.data())
@fuzz_settings(200)
def test_corrupted_csv_uploads_never_get_a_server_error(web, data):
    body = data.draw(spoiled_lines(OBSERVATIONS), label="csv")
    kind = data.draw(st.sampled_from(["text/csv", "multipart"]))
    if kind == "multipart":
        response = web.post("/api/observations", files={"file": ("f.csv", body, "text/csv")})
    else:
        response = web.post("/api/observations", content=body, headers={"content-type": kind})
    answered(response)
    CASES["api csv"] += 1


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('fuzz-store') / 'obs.db'}")
    yield store
    store.engine.dispose()


@given(data=st.data())
@fuzz_settings(200)
def test_the_observation_reader_reads_or_names_the_problem(store, data):
    body = data.draw(spoiled_lines(OBSERVATIONS), label="csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "obs.csv"
        path.write_bytes(body)
        try:
            store.import_file(path)  # stored, corrected, or refused naming file and rows
        except (ScenarioError, ImportRejectedError) as exc:
            assert str(exc).startswith(str(path)), exc
    CASES["observation files"] += 1


BORDER_FILES = ["scenario.toml", "places.csv", "routes.csv", "population.csv", "groups.csv",
                "crossings.csv", "policies.csv", "events.csv", "needs.csv"]  # fmt: skip


@pytest.fixture(scope="module")
def border_case(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-case") / "case"
    return write_case(
        root,
        policies=[("A", "entry", "2025-01-05", "2025-01-12", "quota", 50, 0.3)],
        events=[("2025-01-03", "2025-01-09", "hazard", 2.0, "", "", "h"),
                ("2025-01-10", "", "shelter", 0, "A", "S", "s"),
                ("2025-01-11", "", "return_flight", 20, "A", "", "f")],
    )  # fmt: skip


@given(data=st.data())
@fuzz_settings(300)
def test_the_border_case_reader_reads_or_names_the_problem(border_case, data):
    name = data.draw(st.sampled_from(BORDER_FILES), label="file")
    text = (border_case / name).read_text()
    spoil = spoiled_toml(text) if name.endswith(".toml") else spoiled_lines(text)
    body = data.draw(spoil, label="content")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "case"
        shutil.copytree(border_case, root)
        (root / name).write_bytes(body)
        try:
            read_border_case(root)
        except ScenarioError as exc:
            assert exc.file is not None or exc.column is not None, exc
    CASES["border cases"] += 1


MALI = builtin_root() / "flee" / "mali"
FLEE_FILES = sorted(str(p.relative_to(MALI)) for p in MALI.rglob("*.csv"))


@given(data=st.data())
@fuzz_settings(200)
def test_the_flee_reader_reads_or_names_the_problem(data):
    name = data.draw(st.sampled_from(FLEE_FILES), label="file")
    body = data.draw(spoiled_lines((MALI / name).read_text()), label="content")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mali"
        shutil.copytree(MALI, root)
        (root / name).write_bytes(body)
        try:
            read_flee_scenario(root)
        except ScenarioError as exc:
            assert exc.file is not None, exc
    CASES["flee scenarios"] += 1


HASHTAG_CELLS = ["#date", "#loc+name", "#indicator +num+ min", " #Meta+Source ", "#date+end",
                 "#adm1+code", "#country+code", "date", "Low", "", " ", "#", "#1x", "#a-b",
                 "#indicator+value+num", "#meta+stat", "x#y", "#loc +name +code"]  # fmt: skip


ASCII = st.text(st.characters(max_codepoint=127), max_size=12)


@given(cells=st.lists(st.sampled_from(HASHTAG_CELLS) | ASCII, max_size=8))
@fuzz_settings(300)
def test_the_hashtag_row_rule_is_libhxls(cells):
    """observe/hxlcsv.py finds hashtag rows and reads their tags as libhxl does.

    (For hashtags in ASCII, as HXL writes them: libhxl also transliterates ``#á`` to ``#a``.)
    """
    import hxl.model

    from borderflow.observe import hxlcsv

    columns = hxl.model.Column.parse_list(cells)
    ours = hxlcsv._fields(cells)
    assert (ours is None) == (columns is None)
    if columns is not None:
        theirs = [hxlcsv._field_of(c.tag, set(c.attributes)) if c.tag else None for c in columns]
        assert ours == theirs
    CASES["hashtag rows"] += 1
