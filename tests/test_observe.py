"""The observation store on SQLite: idempotent, all-or-nothing, crash-safe, concurrent, HXL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from borderflow.observe.models import Observation
from borderflow.observe.store import ImportRejectedError, Store
from borderflow.scenario.border_io import read_border_case

HEADER = (
    "date,location,indicator,low,high,source,reliability\n"
    "#date,#loc+name,#indicator+code,#indicator+num+min,#indicator+num+max,#meta+source,"
    "#meta+reliability\n"
)


def rows_file(path: Path, days: range, place: str = "Chacalluta", source: str = "test") -> Path:
    start = dt.date(2025, 11, 1)
    lines = [
        f"{start + dt.timedelta(days=d)},{place},stranded,{d},{d + 10},{source},B" for d in days
    ]
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def big_file(path: Path, n: int) -> Path:
    lines = [f"2025-01-01,Place {i},stranded,{i},{i},test,B" for i in range(n)]
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh, empty store: an SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'obs.db'}"
        return
    base = os.environ.get("BORDERFLOW_TEST_PG")
    if not base:
        pytest.skip("no PostgreSQL server: `make test` starts one (scripts/postgres-for-tests.sh)")
    from sqlalchemy import create_engine

    name = "bf_" + uuid.uuid4().hex[:12]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.dispose()


def count(url: str) -> int:
    return len(Store(url).query())


def test_import_twice_adds_nothing(tmp_path, url):
    f = rows_file(tmp_path / "a.csv", range(1, 11))
    store = Store(url)
    first = store.import_file(f)
    second = store.import_file(f)
    assert (first.rows, first.added) == (10, 10)
    assert (second.rows, second.added, second.already_stored) == (10, 0, 10)
    assert count(url) == 10


def test_a_file_with_bad_rows_is_rejected_whole_with_every_row_named(tmp_path, url):
    f = tmp_path / "bad.csv"
    f.write_text(
        HEADER
        + "2025-11-01,Chacalluta,stranded,10,20,test,B\n"
        + "2025-13-01,Chacalluta,stranded,10,20,test,B\n"  # line 4: bad date
        + "2025-11-03,Chacalluta,stranded,30,20,test,B\n"  # line 5: high below low
        + "2025-11-04,,stranded,10,20,test,B\n"  # line 6: no place
        + "2025-11-05,Chacalluta,Stranded!,10,20,test,E\n"  # line 7: indicator and grade
    )
    with pytest.raises(ImportRejectedError) as info:
        Store(url).import_file(f)
    found = {(e.row, e.field) for e in info.value.errors}
    assert (4, "date") in found
    assert (5, "(row)") in found and "below low" in str(info.value.errors)
    assert (6, "place_name") in found
    assert (7, "indicator") in found and (7, "reliability") in found
    assert 3 not in {e.row for e in info.value.errors}
    assert count(url) == 0  # nothing of the file was stored


def test_a_date_that_is_a_number_is_rejected_naming_row_and_field(tmp_path, url):
    f = tmp_path / "zero.csv"
    f.write_text(
        HEADER
        + "2025-11-01,Chacalluta,stranded,10,20,test,B\n"
        + "0,Chacalluta,stranded,10,20,test,B\n"  # line 4: lax parsing reads 1970-01-01
    )
    with pytest.raises(ImportRejectedError) as info:
        Store(url).import_file(f)
    assert [(e.row, e.field, e.reason) for e in info.value.errors] == [
        (4, "date", "not a date (YYYY-MM-DD)")
    ]
    assert count(url) == 0
    dates = tmp_path / "dates.csv"  # the other date columns too
    dates.write_text(
        "date,end,reported,location,indicator,value,source\n"
        "#date,#date+end,#date+reported,#loc+name,#indicator+code,#indicator+value+num,"
        "#meta+source\n"
        "2025-11-01,0,2025-11-02,Chacalluta,stranded,10,test\n"
        "2025-11-01,2025-11-03,1.5,Chacalluta,stranded,10,test\n"
    )
    with pytest.raises(ImportRejectedError) as info:
        Store(url).import_file(dates)
    assert [(e.row, e.field) for e in info.value.errors] == [(3, "end_date"), (4, "source_date")]
    assert count(url) == 0


def test_what_insert_also_writes_commits_with_the_rows_or_not_at_all(tmp_path, url):
    store = Store(url)
    rows = store.read_file(rows_file(tmp_path / "a.csv", range(1, 6)))
    seen = []

    def fails(conn, report):
        inside = conn.execute(select(func.count()).select_from(Observation)).scalar()
        seen.append((report.rows, report.added, inside, len(store.query())))
        raise RuntimeError("audit failed")

    with pytest.raises(RuntimeError, match="audit failed"):
        store.insert(rows, also=fails)
    assert seen == [(5, 5, 5, 0)]  # after the rows went in, before they were committed
    assert count(url) == 0
    report = store.insert(rows, also=lambda conn, report: seen.append(report))
    assert seen[-1] == report and (report.rows, report.added) == (5, 5)
    assert count(url) == 5


def test_cli_lists_every_bad_row_and_exits_2(tmp_path, url):
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + "2025-11-01,X,stranded,-1,2,test,B\n2025-11-02,X,stranded,1,2,,B\n")
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "obs", "import", str(f), "--db", url],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert res.returncode == 2
    assert "row 3, field 'value_low'" in res.stderr
    assert "row 4, field 'source_publisher'" in res.stderr
    assert "Traceback" not in res.stderr


@pytest.mark.slow
def test_a_crash_mid_import_leaves_the_store_as_before(tmp_path, url):
    Store(url).import_file(rows_file(tmp_path / "a.csv", range(1, 6)))
    f = big_file(tmp_path / "big.csv", 3000)
    res = subprocess.run(
        [sys.executable, "-m", "borderflow", "obs", "import", str(f), "--db", url],
        capture_output=True,
        text=True,
        env={**os.environ, "BORDERFLOW_CRASH_AT": "import:1500"},
    )
    assert res.returncode == -9  # killed after 1,500 of 3,000 rows were inserted
    assert count(url) == 5
    Store(url).import_file(f)  # the same file imports cleanly afterwards
    assert count(url) == 3005


@pytest.mark.slow
def test_concurrent_importers_of_overlapping_files(tmp_path, url):
    Store(url)  # create the schema once
    files = [rows_file(tmp_path / f"f{k}.csv", range(1 + 3 * k, 13 + 3 * k)) for k in range(8)]

    def run(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "borderflow", "obs", "import", str(path), "--db", url],
            capture_output=True,
            text=True,
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, files))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    days = sorted((o.date - dt.date(2025, 11, 1)).days for o in Store(url).query())
    assert days == list(range(1, 12 + 3 * 7 + 1))  # every day once: none lost, none doubled


def test_hxl_round_trip(tmp_path, url):
    case = Path(__file__).parents[1] / "src/borderflow/builtin/cases/chile-peru-2023"
    store = Store(url)
    store.import_file(case / "observations.csv")
    out = tmp_path / "export.csv"
    store.export_csv(store.query(), out)
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    report = other.import_file(out)
    assert report.added == len(read_border_case(case).observations) == 8

    def key(o):
        return (o.date, o.end_date, o.stat, o.place_name, o.indicator, o.value_low, o.value_high,
                o.source_publisher, o.reliability)  # fmt: skip

    assert sorted(map(key, other.query())) == sorted(map(key, store.query()))
    assert out.read_text().splitlines()[1].startswith("#date+start,#date+end,#meta+stat")


def test_flee_camp_series_become_observations(url):
    from borderflow.scenario.flee_io import read_flee_scenario
    from borderflow.scenario.locate import builtin_root

    mali = builtin_root() / "flee" / "mali"
    expected = sum(len(s.days) for s in read_flee_scenario(mali).series[1:])
    store = Store(url)
    first, again = store.import_flee(mali), store.import_flee(mali)
    assert (first.added, again.added) == (expected, 0)
    mentao = store.query(place="Mentao", indicator="refugees_in_camp")
    assert mentao and all(o.value_low == o.value_high for o in mentao)
    assert {o.place_name for o in store.query()} == {
        s.name for s in read_flee_scenario(mali).series[1:]
    }
