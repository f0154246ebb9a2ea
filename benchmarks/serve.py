"""The web server under load: `borderflow serve` with readers, writers, big uploads and runs.

Starts `borderflow serve` on 127.0.0.1 (a free port, a fresh database and data folder), creates
an admin, a viewer and a data-entry user with `borderflow users`, runs one ensemble through the
API, then for --seconds runs at once:

* 50 reader clients (GET series, bands, summary, observations);
* 5 writer clients posting batches of observations as JSON, half of each batch its own and
  half drawn from a pool every writer draws from (so uploads overlap);
* 2 large uploaders posting CSV files of close to 2 MiB (the body limit) back to back, a tenth
  of each file drawn from a pool both draw from;
* 1 runner starting single runs through the API one after another, each followed to its end.

At the end it checks that no request got an error, that every run finished ``done``, and that
the stored observations are exactly the distinct rows written: none lost, none twice. Prints
requests per second and p50/p99 latency per kind. No time is asserted; the exit status is 1 if
a check fails.

    python benchmarks/serve.py [--seconds 60] [--readers 50] [--writers 5] [--members 20]
                               [--large-uploaders 2] [--runners 1] [--db URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

CASE = "chile-peru-2025"
PUBLISHER = "Benchmark Monitoring Network"
SHARED_PLACE = "Shared post"
SHARED_DAYS = 300  # the pool every writer draws from
BATCH = 10  # rows per upload: half the writer's own, half from the shared pool
KEY = ("date", "place_name", "indicator", "source_publisher")  # what differs between rows
LARGE_ROWS = 24_000  # rows per large upload: about 1.9 MiB of CSV
LARGE_SHARED = 200  # posts in the pool both large uploaders draw a tenth of their rows from
CSV_FIELDS = ("date", "place_name", "indicator", "value_low", "value_high", "source_publisher",
              "reliability")  # fmt: skip
CSV_HEADER = (",".join(CSV_FIELDS) + "\n#date,#loc+name,#indicator+code,#indicator+num+min,"
              "#indicator+num+max,#meta+source,#meta+reliability\n")  # fmt: skip


def borderflow(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "borderflow", *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"borderflow {' '.join(args[:2])} failed: {out.stderr.strip()}")
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def row(place: str, day: int) -> dict:
    return {
        "date": (dt.date(2025, 1, 1) + dt.timedelta(days=day)).isoformat(),
        "place_name": place,
        "indicator": "stranded",
        "value_low": day % 50,
        "value_high": day % 50 + 10,
        "source_publisher": PUBLISHER,
        "reliability": "B",
    }


def key(r: dict) -> tuple:
    return tuple(r[k] for k in KEY)


def csv_body(rows: list[dict]) -> bytes:
    return (CSV_HEADER + "".join(",".join(str(r[f]) for f in CSV_FIELDS) + "\n"
                                 for r in rows)).encode()  # fmt: skip


class Recorder:
    """Latencies and errors per kind of request, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def call(self, kind: str, send) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = send()
        except httpx.HTTPError as exc:
            with self.lock:
                self.errors[kind].append(f"{type(exc).__name__}: {exc}")
            return None
        seconds = time.perf_counter() - t0
        with self.lock:
            self.latency[kind].append(seconds)
            if response.status_code >= 400:
                self.errors[kind].append(f"{response.status_code} {response.text[:200]}")
        return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--members", type=int, default=20, help="members of the ensemble")
    parser.add_argument("--large-uploaders", type=int, default=2,
                        help="clients posting ~2 MiB CSV files back to back")  # fmt: skip
    parser.add_argument("--runners", type=int, default=1,
                        help="clients starting runs one after another")  # fmt: skip
    parser.add_argument("--db", help="database URL (default: an SQLite file in a temp folder)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="borderflow-serve-"))
    db = args.db or f"sqlite:///{tmp / 'web.db'}"
    for name, role, org in (
        ("admin", "admin", "IOM"),
        ("viewer", "viewer", "UNHCR"),
        ("entry", "data-entry", PUBLISHER),
    ):
        borderflow("users", "add", name, "--role", role, "--organisation", org,
                   "--password", f"{name}-password", "--db", db)  # fmt: skip
    tokens = {
        name: borderflow("users", "token", name, "--label", "benchmark", "--db", db)
        for name in ("admin", "viewer", "entry")
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "borderflow", "serve", "--db", db, "--data", str(tmp / "data"),
         "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    ok = False
    try:
        run(args, base, tokens, server, tmp, db)
        ok = True
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"server log and database kept in {tmp}")


def run(args, base: str, tokens: dict[str, str], server, tmp: Path, db: str) -> None:
    def auth(name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}"}

    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/api/health", timeout=2).raise_for_status()
            break
        except httpx.HTTPError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {tmp / 'server.log'}") from None
            time.sleep(0.2)

    t0 = time.perf_counter()
    r = httpx.post(f"{base}/api/runs", json={"scenario": CASE, "members": args.members},
                   headers=auth("admin"))  # fmt: skip
    r.raise_for_status()
    run_id = r.json()["id"]
    while True:
        status = httpx.get(f"{base}/api/runs/{run_id}", headers=auth("viewer")).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    if status["status"] != "done":
        raise SystemExit(f"the ensemble failed: {status['message']}")
    print(f"ensemble of {args.members} members through the API: {time.perf_counter() - t0:.1f} s")

    rec = Recorder()
    stop = threading.Event()
    written: set[tuple] = set()
    added = [0]
    lock = threading.Lock()
    crossing = "Chacalluta-Santa Rosa"
    reads = [
        ("series", f"/api/runs/{run_id}/series", {"indicator": "stranded", "location": crossing}),
        ("bands", f"/api/runs/{run_id}/bands", {"indicator": "stranded", "location": crossing}),
        ("summary", f"/api/runs/{run_id}/summary", {}),
        ("observations", "/api/observations", {"place": SHARED_PLACE}),
    ]

    def reader(n: int) -> None:
        with httpx.Client(base_url=base, headers=auth("viewer"), timeout=60) as client:
            k = n
            while not stop.is_set():
                kind, path, params = reads[k % len(reads)]
                rec.call(kind, lambda: client.get(path, params=params))  # noqa: B023
                k += 1

    def writer(w: int) -> None:
        rng = random.Random(w)
        own = 0
        with httpx.Client(base_url=base, headers=auth("entry"), timeout=60) as client:
            while not stop.is_set():
                rows = [row(f"Writer {w} post", own + i) for i in range(BATCH // 2)]
                rows += [row(SHARED_PLACE, rng.randrange(SHARED_DAYS)) for _ in range(BATCH // 2)]
                own += BATCH // 2
                response = rec.call("write", lambda: client.post("/api/observations", json=rows))  # noqa: B023
                if response is not None and response.status_code == 200:
                    with lock:
                        written.update(key(r) for r in rows)
                        added[0] += response.json()["added"]

    def large_uploader(u: int) -> None:
        rng = random.Random(1000 + u)
        k = 0
        with httpx.Client(base_url=base, headers=auth("admin"), timeout=600) as client:
            while not stop.is_set():
                shared = LARGE_ROWS // 10
                rows = [row(f"Uploader {u} post {k} {i // 300}", i % 300)
                        for i in range(LARGE_ROWS - shared)]  # fmt: skip
                rows += [row(f"Pool post {rng.randrange(LARGE_SHARED)}", rng.randrange(300))
                         for _ in range(shared)]  # fmt: skip
                k += 1
                body = csv_body(rows)
                response = rec.call(
                    "large upload",
                    lambda: client.post("/api/observations", content=body,  # noqa: B023
                                        headers={"content-type": "text/csv"}),
                )  # fmt: skip
                if response is not None and response.status_code == 200:
                    with lock:
                        written.update(key(r) for r in rows)
                        added[0] += response.json()["added"]

    runs: list[dict] = []

    def runner(n: int) -> None:
        with httpx.Client(base_url=base, headers=auth("admin"), timeout=60) as client:
            seed = 100 * n
            while not stop.is_set():
                seed += 1
                body = {"scenario": CASE, "seed": seed}
                started = rec.call("run", lambda: client.post("/api/runs", json=body))  # noqa: B023
                if started is None or started.status_code != 202:
                    continue
                run_id = started.json()["id"]
                while True:  # a started run is followed to its end, even past --seconds
                    status = client.get(f"/api/runs/{run_id}").json()
                    if status["status"] in ("done", "failed"):
                        break
                    time.sleep(0.5)
                with lock:
                    runs.append(status)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
    threads += [threading.Thread(target=writer, args=(w,)) for w in range(args.writers)]
    threads += [threading.Thread(target=large_uploader, args=(u,))
                for u in range(args.large_uploaders)]  # fmt: skip
    threads += [threading.Thread(target=runner, args=(n,)) for n in range(args.runners)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    stored_keys = stored(db)
    report(args, rec, elapsed)
    missing = written - set(stored_keys)
    extra = set(stored_keys) - written
    duplicates = len(stored_keys) - len(set(stored_keys))
    errors = sum(len(e) for e in rec.errors.values())
    print(
        f"observations: {len(written)} distinct rows written, {len(stored_keys)} stored, "
        f"{added[0]} reported added; missing {len(missing)}, unexpected {len(extra)}, "
        f"duplicates {duplicates}"
    )
    failed = [r for r in runs if r["status"] != "done"]
    note = f", {len(failed)} failed, e.g. {failed[0]['message']!r}" if failed else ""
    done = len(runs) - len(failed)
    print(f"runs: {len(runs)} started and followed to their end, {done} done{note}")
    for kind, msgs in rec.errors.items():
        if msgs:
            print(f"errors ({kind}): {len(msgs)}, e.g. {msgs[0]}")
    ok = (
        not errors
        and not missing
        and not extra
        and not duplicates
        and not failed
        and added[0] == len(written) == len(stored_keys)
    )
    print("checks: " + ("OK (no errors, every run done, no loss, no duplicates)" if ok
                        else "FAILED"))  # fmt: skip
    if not ok:
        raise SystemExit(1)


def stored(db: str) -> list[tuple]:
    """The key of every stored observation, read from the database itself (hundreds of
    thousands of rows: too many to list through the API at once)."""
    from sqlalchemy import create_engine, select

    from borderflow.observe.models import Observation

    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(select(*(getattr(Observation, k) for k in KEY))).all()
    engine.dispose()
    return [(r[0].isoformat(), *r[1:]) for r in rows]


def report(args, rec: Recorder, elapsed: float) -> None:
    cpus = os.cpu_count()
    print(
        f"{elapsed:.0f} s, {args.readers} readers + {args.writers} writers + "
        f"{args.large_uploaders} large uploaders + {args.runners} runners, "
        f"server and clients on one machine ({cpus} cores)"
    )
    print(f"{'kind':<14}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    total = []
    for kind in ("series", "bands", "summary", "observations", "write", "large upload", "run"):
        lat = sorted(rec.latency[kind])
        total += lat
        print(line(kind, lat, elapsed, len(rec.errors[kind])))
    errors = sum(len(e) for e in rec.errors.values())
    print(line("all", sorted(total), elapsed, errors))


def line(kind: str, lat: list[float], elapsed: float, errors: int) -> str:
    if not lat:
        return f"{kind:<14}{0:>10}{0:>10.1f}{'-':>10}{'-':>10}{errors:>8}"
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000
    return f"{kind:<14}{len(lat):>10}{len(lat) / elapsed:>10.1f}{p50:>10.1f}{p99:>10.1f}{errors:>8}"


if __name__ == "__main__":
    main()
