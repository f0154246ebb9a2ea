"""Observation ingest: rows per second into SQLite and PostgreSQL, and a run beside big uploads.

Part 1, for 10,000 and 100,000 rows (``--rows``), on SQLite and (with ``--pg URL`` or
``$BORDERFLOW_TEST_PG``) PostgreSQL, each on a fresh database:

* ``store``: ``Store.import_file`` in this process (reading, validating, writing);
* ``CLI import``: the ``borderflow obs import`` command, start-up included (the time of a
  one-row import into the same store is printed, and the rate without it);
* ``API upload``: ``POST /api/observations`` to ``borderflow serve``, in uploads of at most
  2 MiB (the body limit), one after another; the slowest upload is printed.

Every file is one transaction. This machine may be shared, so beside wall time the table gives
the CPU seconds borderflow's own process spent (this process, the command, the server; not
PostgreSQL's) and the rows per CPU second, which the load of other programs hardly changes.
Part 2, the probe of issue 14's defect 3: two clients upload
2 MiB files back to back while a run goes through the API; the run must finish (``done``) and
every row must be stored once. No time is asserted; the exit status is 1 if a check fails.

    python benchmarks/ingest.py [--rows 10000 100000] [--pg URL] [--uploads 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from borderflow.observe.store import Store

HEADER = (
    "date,location,code,indicator,low,high,source,reliability,coverage\n"
    "#date,#loc+name,#loc+code,#indicator+code,#indicator+num+min,#indicator+num+max,"
    "#meta+source,#meta+reliability,#meta+coverage\n"
)
PUBLISHER = "Benchmark Monitoring Network"
MAX_BODY = 2 * 1024 * 1024


def rows_text(start: int, n: int, tag: str = "") -> str:
    day0 = dt.date(2020, 1, 1)
    return "".join(
        f"{day0 + dt.timedelta(days=i % 1500)},Post {tag}{i // 1500},PE{i % 97:03d},stranded,"
        f"{i % 500},{i % 500 + 20},{PUBLISHER},B,counted at the line\n"
        for i in range(start, start + n)
    )


def write_file(path: Path, n: int, tag: str = "") -> Path:
    path.write_text(HEADER + rows_text(0, n, tag))
    return path


def chunks(n: int, tag: str = "") -> list[bytes]:
    """``n`` rows as CSV bodies of at most 2 MiB each."""
    per_row = len(rows_text(0, 1000, tag)) / 1000
    size = int((MAX_BODY - len(HEADER) - 4096) / (per_row * 1.02))
    return [(HEADER + rows_text(s, min(size, n - s), tag)).encode() for s in range(0, n, size)]


class Databases:
    """Fresh databases: SQLite files in a folder, or new databases on a PostgreSQL server."""

    def __init__(self, tmp: Path, pg: str | None) -> None:
        self.tmp, self.pg, self.made = tmp, pg, []

    def fresh(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{uuid.uuid4().hex[:8]}.db'}"
        from sqlalchemy import create_engine

        name = "bf_ingest_" + uuid.uuid4().hex[:8]
        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        self.made.append(name)
        return self.pg.rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        if not self.made:
            return
        from sqlalchemy import create_engine

        admin = create_engine(self.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def borderflow(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "borderflow", *args], capture_output=True, text=True, check=False
    )
    if check and out.returncode != 0:
        raise SystemExit(f"borderflow {' '.join(args[:2])} failed: {out.stderr.strip()}")
    return out


class Server:
    """``borderflow serve`` on a free port with an admin token, until closed."""

    def __init__(self, db: str, tmp: Path) -> None:
        borderflow("users", "add", "bench", "--role", "admin", "--organisation", PUBLISHER,
                   "--password", "bench-password", "--db", db)  # fmt: skip
        self.token = borderflow("users", "token", "bench", "--db", db).stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.log = (tmp / f"server-{port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "borderflow", "serve", "--db", db, "--data",
             str(tmp / f"data-{port}"), "--port", str(port), "--workers", "1"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.base}/api/health", timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {self.log.name}") from None
                time.sleep(0.2)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=600,
                            headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def upload(client: httpx.Client, body: bytes) -> tuple[float, dict]:
    t0 = time.perf_counter()
    r = client.post("/api/observations", content=body, headers={"content-type": "text/csv"})
    seconds = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"upload refused: {r.status_code} {r.text[:300]}")
    return seconds, r.json()


def measure(kind: str, n: int, dbs: Databases, tmp: Path) -> list[str]:
    path = write_file(tmp / f"rows-{n}.csv", n)
    lines = []
    store = Store(dbs.fresh(kind))
    t0, cpu = time.perf_counter(), time.process_time()
    report = store.import_file(path)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
    store.engine.dispose()
    assert report.added == n, report
    lines.append(line(kind, "store", n, seconds, cpu, ""))
    db = dbs.fresh(kind)
    startup, startup_cpu = startup_seconds(db, tmp)
    t0, cpu = time.perf_counter(), children_cpu()
    out = borderflow("obs", "import", str(path), "--db", db).stdout
    seconds, cpu = time.perf_counter() - t0, children_cpu() - cpu
    assert f"{n} added" in out, out

    def rate(total: float, fixed: float) -> str:  # "-" when noise swamps the difference
        return f"{n / (total - fixed):,.0f}" if total > 1.2 * fixed else "-"

    note = (f"start-up {startup:.2f} s, {startup_cpu:.2f} CPU s; without it: "
            f"{rate(seconds, startup)} rows/s, {rate(cpu, startup_cpu)} rows/CPU s")  # fmt: skip
    lines.append(line(kind, "CLI import", n, seconds, cpu, note))
    server = Server(dbs.fresh(kind), tmp)
    try:
        bodies = chunks(n)
        with server.client() as client:
            t0, cpu = time.perf_counter(), process_cpu(server.proc.pid)
            answers = [upload(client, b) for b in bodies]
            seconds, cpu = time.perf_counter() - t0, process_cpu(server.proc.pid) - cpu
        assert sum(a["added"] for _, a in answers) == n, answers
        slowest = max(t for t, _ in answers)
        biggest = max(len(b) for b in bodies) / 2**20
        note = f"{len(bodies)} x <= {biggest:.2f} MiB, slowest {slowest:.2f} s"
        lines.append(line(kind, "API upload", n, seconds, cpu, note))
    finally:
        server.close()
    return lines


def line(kind: str, path: str, n: int, seconds: float, cpu: float, note: str) -> str:
    return (f"{kind:<11}{path:<11}{n:>8,}{seconds:>8.2f}{n / seconds:>9,.0f}{cpu:>7.2f}"
            f"{n / max(cpu, 1e-9):>12,.0f}  {note}")  # fmt: skip


def startup_seconds(db: str, tmp: Path) -> tuple[float, float]:
    """Wall and CPU time of a one-row `borderflow obs import` into the (migrated) store."""
    one = write_file(tmp / "startup.csv", 1, "start-up ")
    borderflow("obs", "import", str(one), "--db", db)  # creates and migrates the store
    times = []
    for _ in range(3):
        t0, cpu = time.perf_counter(), children_cpu()
        borderflow("obs", "import", str(one), "--db", db)
        times.append((time.perf_counter() - t0, children_cpu() - cpu))
    return min(times)


def probe(kind: str, dbs: Databases, tmp: Path, uploads: int) -> bool:
    """Two clients upload 2 MiB files back to back while a run goes: does the run finish?"""
    server = Server(dbs.fresh(kind), tmp)
    ok = True
    try:
        bodies = {w: [chunks(40_000, f"w{w}u{u}-")[0] for u in range(uploads)] for w in (1, 2)}
        results: dict[int, list[tuple[float, dict]]] = {1: [], 2: []}

        def uploader(w: int) -> None:
            with server.client() as client:
                for body in bodies[w]:
                    results[w].append(upload(client, body))

        with server.client() as client:
            threads = [threading.Thread(target=uploader, args=(w,)) for w in (1, 2)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            run = client.post("/api/runs", json={"scenario": "chile-peru-2025"}).json()
            status = {"status": "queued"}
            while status["status"] in ("queued", "running"):
                time.sleep(0.2)
                status = client.get(f"/api/runs/{run['id']}").json()
            run_s = time.perf_counter() - t0
            for t in threads:
                t.join()
            total_s = time.perf_counter() - t0
            stored = len(client.get("/api/observations").json())
        sent = sum(b.count(b"\n") - 2 for w in bodies for b in bodies[w])
        times = [s for w in results for s, _ in results[w]]
        print(f"{kind}: {2 * uploads} uploads of {max(map(len, bodies[1])) / 2**20:.2f} MiB "
              f"from 2 clients at once, each answered in {min(times):.2f}-{max(times):.2f} s; "
              f"a run beside them: {status['status']} after {run_s:.1f} s "
              f"{'(' + status['message'] + ')' if status['message'] else ''}; "
              f"all done in {total_s:.1f} s; rows sent {sent:,}, stored {stored:,}")  # fmt: skip
        ok = status["status"] == "done" and stored == sent
    finally:
        server.close()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pg", default=os.environ.get("BORDERFLOW_TEST_PG"),
                        help="a PostgreSQL URL to create databases on")  # fmt: skip
    parser.add_argument("--uploads", type=int, default=3, help="uploads per client in the probe")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    tmp = Path(tempfile.mkdtemp(prefix="borderflow-ingest-"))
    dbs = Databases(tmp, args.pg)
    ok = True
    try:
        load = os.getloadavg()[0]
        print(f"{os.cpu_count()} cores, load average {load:.1f} at the start")
        print("CPU: of borderflow's process (not PostgreSQL's); start-up: of a one-row "
              "`obs import`\n")  # fmt: skip
        print(f"{'database':<11}{'path':<11}{'rows':>8}{'wall s':>8}{'rows/s':>9}{'CPU s':>7}"
              f"{'rows/CPU s':>12}")  # fmt: skip
        for kind in kinds:
            for n in args.rows:
                for text in measure(kind, n, dbs, tmp):
                    print(text, flush=True)
        if not args.pg:
            print("postgresql: skipped (give --pg URL; scripts/postgres-for-tests.sh start)")
        print("\nprobe (issue 14, defect 3): large uploads and a run at once")
        for kind in kinds:
            ok &= probe(kind, dbs, tmp, args.uploads)
    finally:
        dbs.drop()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs and databases kept in {tmp}")
    print("checks: " + ("OK (every run done, every row stored once)" if ok else "FAILED"))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
