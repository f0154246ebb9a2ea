"""The offline dashboard in a real browser: Debian's Chromium driven by Playwright.

The server is the real one (``borderflow serve``) in a subprocess on a free port, with its own
SQLite file and data folder; its users are added with ``borderflow users add``. The browser is
the executable named by ``$BORDERFLOW_TEST_CHROMIUM`` (``make test`` sets it from
``scripts/chromium-for-tests.sh``); without it the browser tests are skipped, saying so.
Screenshots of every scenario go to ``test-artifacts/screenshots/``.

The first tests need no browser: the dashboard fetches nothing from outside the server.
"""

from __future__ import annotations

import contextlib
import html.parser
import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow  # drives a browser against a live server

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "borderflow" / "web" / "static"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PAGES = ["index.html", "situation.html", "map.html", "compare.html", "upload.html", "sources.html"]
CROSSINGS = ["Chacalluta-Santa Rosa", "Colchane-Pisiga"]
PASSWORD = "correct horse battery"
USERS = {  # name: (role, organisation)
    "ana": ("analyst", "Borderflow analysts"),
    "eve": ("data-entry", "Red Cross Arica"),
    "vic": ("viewer", "Regional government"),
    "ada": ("admin", "Borderflow admins"),
}
MEMBERS = "4"  # small ensembles keep the whole file fast on two cores

CHROMIUM = os.environ.get("BORDERFLOW_TEST_CHROMIUM", "")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM,
    reason="browser tests skipped: BORDERFLOW_TEST_CHROMIUM is not set (run `make test`, or set "
    "it to a Chromium executable, e.g. the path printed by scripts/chromium-for-tests.sh)",
)

HEADER = (
    "date,end_date,stat,place_name,indicator,value_low,value_high,source_publisher,reliability\n"
    "#date+start,#date+end,#meta+stat,#loc+name,#indicator+code,#indicator+num+min,"
    "#indicator+num+max,#meta+source,#meta+reliability\n"
)


# -- no browser needed -------------------------------------------------------------------------
def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file())


def test_every_page_of_the_contract_is_there() -> None:
    for page in PAGES:
        assert (STATIC / page).is_file(), page
    assert (STATIC / "app.js").is_file()


def test_the_dashboard_fetches_nothing_from_outside_the_server() -> None:
    """No URL with a scheme or a protocol-relative host: everything works with the network off."""
    files = static_files()
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(https?|wss?|ftp):", text, re.I), f"{path.name} names a URL"
        assert not re.search(r"""(src|href|action)\s*=\s*["']//""", text, re.I), path.name
        assert not re.search(r"""(import\s*\(?\s*|from\s+)["']//""", text), path.name
        assert "@import" not in text and "fonts.googleapis" not in text, path.name
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            assert url.startswith(("data:", "/", "./")) or "://" not in url, (path.name, url)


class _Markup(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[str] = []
        self.scripts: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "html":
            self.lang = str(a.get("lang") or "")
        if tag == "label" and a.get("for"):
            self.label_for.add(str(a["for"]))
        if tag in ("input", "select", "textarea"):
            self.controls.append((tag, a))
        if tag in ("h1", "h2"):
            self.headings.append(tag)
        if tag == "script" and a.get("src"):
            self.scripts.append(str(a["src"]))


@pytest.mark.parametrize("page", PAGES)
def test_pages_have_headings_labels_and_local_scripts(page: str) -> None:
    markup = _Markup()
    markup.feed((STATIC / page).read_text(encoding="utf-8"))
    assert markup.lang == "en"
    assert "h1" in markup.headings, f"{page} has no <h1>"
    for tag, attrs in markup.controls:
        if attrs.get("type") in ("hidden", "submit", "button"):
            continue
        assert attrs.get("id") in markup.label_for or attrs.get("aria-label"), (page, tag, attrs)
    assert "nav" in markup.ids and "messages" in markup.ids, page
    for src in markup.scripts:
        assert src == "/static/vendor/plotly.min.js" or (STATIC / src).is_file(), (page, src)


def test_the_static_files_are_shipped_in_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "web/static/**/*" in pyproject["tool"]["setuptools"]["package-data"]["borderflow"]


# -- the server --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def borderflow(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("web")
    db = f"sqlite:///{tmp / 'x.db'}"
    for name, (role, organisation) in USERS.items():
        done = borderflow(
            "users", "add", name, "--role", role, "--organisation", organisation,
            "--password", PASSWORD, "--db", db,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log = (tmp / "server.log").open("w")
    env = {**os.environ, "BORDERFLOW_DB": db}
    proc = subprocess.Popen(
        [sys.executable, "-m", "borderflow", "serve", "--db", db, "--data", str(tmp / "data"),
         "--port", str(port), "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"borderflow serve exited: {(tmp / 'server.log').read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/api/health", timeout=2).json() == {"status": "ok"}:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"no /api/health in 60 s: {(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def token(base: str, user: str) -> str:
    r = httpx.post(base + "/api/login", json={"username": user, "password": PASSWORD})
    r.raise_for_status()
    return r.json()["token"]


def api_get(base: str, user: str, path: str):
    r = httpx.get(base + path, headers={"Authorization": f"Bearer {token(base, user)}"})
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="module")
def seeded_run(server: str) -> int:
    """A finished ensemble of the built-in case, started through the API."""
    headers = {"Authorization": f"Bearer {token(server, 'ana')}"}
    body = {"scenario": "chile-peru-2025", "members": int(MEMBERS), "seed": 0}
    r = httpx.post(server + "/api/runs", json=body, headers=headers)
    assert r.status_code == 202, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 120
    while True:
        run = httpx.get(f"{server}/api/runs/{run_id}", headers=headers).json()
        if run["status"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    assert run["status"] == "done", run
    return run_id


# -- the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"BORDERFLOW_TEST_CHROMIUM={CHROMIUM} is not a file"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def page(browser, server: str) -> Iterator:
    """A fresh browser tab (empty sessionStorage) that may reach nothing but the server."""
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    context.set_default_timeout(20_000)
    outside: list[str] = []

    def offline(route) -> None:
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", offline)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not outside, f"the dashboard asked for something outside the server: {outside}"


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(pg, base: str, user: str) -> None:
    pg.goto(base + "/")
    pg.get_by_label("User name").fill(user)
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Log in").click()
    pg.wait_for_url(re.compile(r"/situation\.html"))


def expect_state(pg, selector: str, state: str, timeout: float = 30_000) -> None:
    from playwright.sync_api import expect

    expect(pg.locator(selector)).to_have_attribute("data-state", state, timeout=timeout)


def charts(pg, testid: str) -> list[dict]:
    """What plotly drew in each chart: its location, and per trace kind, name and points."""
    return pg.evaluate(
        """(testid) => [...document.querySelectorAll(`[data-testid=${testid}]`)].map((d) => ({
            location: d.dataset.location,
            observed: Number(d.dataset.observed ?? -1),
            rendered: d.querySelectorAll('.scatterlayer .trace').length,
            traces: (d.data || []).map((t) => ({
                kind: t.meta && t.meta.kind, indicator: t.meta && t.meta.indicator, name: t.name,
                x: Array.from(t.x || []), y: Array.from(t.y || []),
            })),
        }))""",
        testid,
    )


def csv_file(name: str, rows: str) -> dict:
    return {"name": name, "mimeType": "text/csv", "buffer": (HEADER + rows).encode()}


def upload(pg, base: str, name: str, rows: str) -> None:
    if not pg.url.endswith("/upload.html"):
        pg.goto(base + "/upload.html")
        expect_state(pg, "main", "ready")
    pg.get_by_label(re.compile(r"^CSV file")).set_input_files(csv_file(name, rows))
    pg.get_by_role("button", name="Upload").click()


# -- scenarios ---------------------------------------------------------------------------------
@needs_chromium
def test_log_in_see_who_and_log_out(server: str, page) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/situation.html")
    page.wait_for_url(re.compile(r"/index\.html\?next=situation\.html"))
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("message-error")).to_contain_text("Wrong user name or password")
    shot(page, "login-refused")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/situation\.html"))
    expect(page.get_by_test_id("nav-user")).to_contain_text("ana")
    expect(page.get_by_test_id("nav-role")).to_have_text("analyst")
    assert page.evaluate("sessionStorage.getItem('borderflow.token')")
    shot(page, "logged-in")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/index\.html"))
    expect(page.get_by_test_id("message-ok")).to_contain_text("logged out")
    assert page.evaluate("sessionStorage.getItem('borderflow.token')") is None


@needs_chromium
def test_an_expired_session_goes_back_to_login(server: str, page) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/")
    page.evaluate(
        """() => { sessionStorage.setItem('borderflow.token', 'no-such-token');
        sessionStorage.setItem('borderflow.user', '{"username": "ana", "role": "analyst"}'); }"""
    )
    page.goto(server + "/map.html")
    page.wait_for_url(re.compile(r"/index\.html\?next=map\.html&reason=expired"))
    expect(page.get_by_test_id("message-info")).to_contain_text("session has ended")


@needs_chromium
def test_situation_page_draws_the_forecast(server: str, seeded_run: int, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "vic")
    expect_state(page, "main", "ready")
    expect(page.get_by_test_id("run-select")).to_have_value(str(seeded_run))
    expect(page.get_by_test_id("run-form")).to_be_hidden()  # a viewer cannot start runs

    stranded = charts(page, "chart-stranded")
    assert [c["location"] for c in stranded] == CROSSINGS
    for chart in stranded:
        kinds = [t["kind"] for t in chart["traces"]]
        assert kinds.count("band") == 2 and "median" in kinds, kinds
        median = next(t for t in chart["traces"] if t["kind"] == "median")
        assert len(median["x"]) > 100 and max(median["y"]) > 0
        assert chart["rendered"] >= 5  # plotly drew the bands and the median
    assert max(next(t for t in stranded[0]["traces"] if t["kind"] == "median")["y"]) > 50

    flows = charts(page, "chart-crossings")
    assert [c["location"] for c in flows] == CROSSINGS
    for chart in flows:
        by = {t["indicator"]: t for t in chart["traces"]}
        assert set(by) == {"crossed", "refused", "irregular_crossing"}
        assert all(len(t["x"]) > 100 for t in by.values())
        assert sum(by["refused"]["y"]) > 0 and chart["rendered"] == 3

    table = page.get_by_test_id("needs-table")
    for crossing in CROSSINGS:
        expect(
            table.locator(f"tr[data-figure=peak_stranded] td[data-crossing='{crossing}']")
        ).to_have_text(re.compile(r"^\d[\d,.]*( \(.+\))?$"))
    expect(table.locator("tr[data-figure='needs_at_peak.water_l']")).to_be_visible()
    shot(page, "situation")

    with page.expect_download() as info:
        page.get_by_test_id("download-stranded").first.click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("date,location,indicator") and lines[1].startswith("#date")
    assert len(lines) > 100


@needs_chromium
def test_upload_with_a_bad_row_is_rejected_naming_the_row(server: str, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "eve")
    rows = (
        "2025-12-10,,value,Chacalluta-Santa Rosa,stranded,80,120,Red Cross Arica,B\n"
        "2025-12-11,,value,Chacalluta-Santa Rosa,stranded,300,200,Red Cross Arica,B\n"
        "2025-12-12,,value,Chacalluta-Santa Rosa,stranded,90,110,Red Cross Arica,B\n"
    )
    upload(page, server, "bad-row.csv", rows)
    expect_state(page, "main", "rejected")
    expect(page.get_by_test_id("upload-summary")).to_contain_text("rejected")
    errors = page.get_by_test_id("upload-errors").locator("tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_have_attribute("data-row", "4")  # line 4: header, hashtags, row 1
    expect(errors.first).to_contain_text("below")
    shot(page, "upload-rejected")
    stored = api_get(server, "eve", "/api/observations?indicator=stranded&since=2025-12-10")
    assert [o for o in stored if o["date"] in ("2025-12-10", "2025-12-12")] == []


@needs_chromium
def test_a_good_upload_adds_points_to_the_chart(server: str, seeded_run: int, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "eve")
    expect_state(page, "main", "ready")
    before = charts(page, "chart-stranded")[0]["observed"]
    rows = (
        "2025-12-03,,value,Chacalluta-Santa Rosa,stranded,120,180,Red Cross Arica,B\n"
        "2025-12-04,2025-12-07,mean,Chacalluta-Santa Rosa,stranded,60,90,Red Cross Arica,C\n"
    )
    upload(page, server, "good.csv", rows)
    expect_state(page, "main", "done")
    summary = page.get_by_test_id("upload-summary")
    expect(summary).to_contain_text("2 rows added, 0 already stored")
    shot(page, "upload-accepted")
    upload(page, server, "good.csv", rows)  # the same file again adds nothing
    expect(summary).to_contain_text("0 rows added, 2 already stored")

    page.get_by_test_id("nav-situation").click()
    expect_state(page, "main", "ready")
    chart = charts(page, "chart-stranded")[0]
    assert chart["location"] == CROSSINGS[0] and chart["observed"] == before + 2
    points = [t for t in chart["traces"] if t["kind"] == "observed"]
    assert points and "2025-12-03" in points[0]["x"]
    assert 150 in points[0]["y"]  # the middle of the reported 120-180
    periods = [t for t in chart["traces"] if t["kind"] == "observed-period"]
    assert any("2025-12-07" in t["x"] and 90 in t["y"] for t in periods)
    shot(page, "situation-with-observations")


@needs_chromium
def test_a_viewer_cannot_upload_and_is_told_why(server: str, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "vic")
    upload(page, server, "viewer.csv", "2025-12-20,,value,Colchane-Pisiga,stranded,5,9,X,B\n")
    expect(page.get_by_test_id("message-error")).to_contain_text(
        "Not allowed for your role (viewer)"
    )
    expect(page.get_by_test_id("upload-result")).to_be_hidden()
    shot(page, "upload-forbidden")


@needs_chromium
def test_start_a_run_and_watch_it_finish(server: str, seeded_run: int, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "ana")
    expect_state(page, "main", "ready")
    form = page.get_by_test_id("run-form")
    form.get_by_label("peru policy").select_option("corridor")
    form.get_by_label("Ensemble members").fill(MEMBERS)
    form.get_by_label("Seed").fill("7")
    form.get_by_role("button", name="Start the forecast").click()
    expect(page.get_by_test_id("run-progress")).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_contain_text("Run #")
    shot(page, "run-started")
    expect_state(page, "#run-form", "done", timeout=90_000)
    run_id = form.get_attribute("data-run-id")
    assert run_id and int(run_id) != seeded_run
    expect(page.get_by_test_id("run-status")).to_contain_text(f"Run #{run_id} is done")
    expect_state(page, "main", "ready")
    expect(page.get_by_test_id("run-select")).to_have_value(run_id)
    expect(page.get_by_test_id("run-info")).to_contain_text("peru_policy=corridor")
    assert all(c["rendered"] >= 5 for c in charts(page, "chart-stranded"))
    run = api_get(server, "ana", f"/api/runs/{run_id}")
    assert run["status"] == "done" and run["seed"] == 7 and run["members"] == int(MEMBERS)
    assert run["variant"]["peru_policy"] == "corridor"
    shot(page, "run-finished")


@needs_chromium
def test_compare_two_variants_on_the_same_seed(server: str, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "ana")
    page.get_by_test_id("nav-compare").click()
    expect_state(page, "main", "ready")
    form = page.get_by_test_id("start-form")
    form.get_by_label("Ensemble members").fill(MEMBERS)
    form.get_by_label("Seed").fill("3")
    form.get_by_test_id("variant-b-peru_policy").select_option("closed")
    form.get_by_role("button", name="Run both and compare").click()
    expect_state(page, "#start-form", "done", timeout=90_000)
    expect_state(page, "main", "ready")

    drawn = charts(page, "chart-compare")
    assert [c["location"] for c in drawn] == CROSSINGS
    for chart in drawn:
        names = [t["name"] for t in chart["traces"] if t["kind"] == "median"]
        assert len(names) == 2 and names[0].startswith("A #") and names[1].startswith("B #")
        assert chart["rendered"] == 6
    table = page.get_by_test_id("diff-table")
    for crossing in CROSSINGS:
        row = table.locator(f"tr[data-crossing='{crossing}'][data-figure=peak_stranded]")
        expect(row.locator("td").last).to_have_text(re.compile(r"^[+-]?\d[\d,.]*$"))
    a, b = (page.get_by_test_id(t).input_value() for t in ("run-a", "run-b"))
    runs = {r["id"]: r for r in api_get(server, "ana", "/api/runs")}
    ra, rb = runs[int(a)], runs[int(b)]
    assert ra["seed"] == rb["seed"] == 3
    policies = (ra["variant"]["peru_policy"], rb["variant"]["peru_policy"])
    assert policies == ("documented_only", "closed")
    diffs = api_get(server, "ana", f"/api/compare?a={a}&b={b}")
    assert json.dumps(diffs)  # the table above is drawn from this
    shot(page, "compare")


@needs_chromium
def test_map_and_sources(server: str, seeded_run: int, page) -> None:
    from playwright.sync_api import expect

    login(page, server, "vic")
    page.get_by_test_id("nav-map").click()
    expect_state(page, "main", "ready")
    routes = api_get(server, "vic", "/api/scenarios/chile-peru-2025")["routes"]
    drawn = charts(page, "map-chart")[0]["traces"]
    assert len([t for t in drawn if t["kind"] == "route"]) == len(routes)
    stranded = [t for t in drawn if t["kind"] == "stranded"]
    assert len(stranded) == 1 and len(stranded[0]["x"]) == len(CROSSINGS)
    # the world under the graph, drawn from the app's own GeoJSON (outside requests blocked)
    world = {t["name"]: t for t in drawn if t["kind"] == "boundary"}
    assert {"land", "lakes", "country border", "first-level region"} == set(world)
    assert len(world["country border"]["x"]) > 100 and len(world["first-level region"]["x"]) > 100
    shot(page, "map")  # on the day with the most people stranded
    peak_day = page.get_by_test_id("map-day-label").inner_text()
    sizes = page.evaluate("() => document.getElementById('map-chart').data.at(-1).marker.size")
    page.get_by_label("Day", exact=True).fill("0")
    expect(page.get_by_test_id("map-day-label")).not_to_have_text(peak_day)
    after = page.evaluate("() => document.getElementById('map-chart').data.at(-1).marker.size")
    assert max(after) < max(sizes)  # fewer people stranded on the first day than at the peak

    page.get_by_test_id("nav-sources").click()
    expect_state(page, "main", "ready")
    count = page.get_by_test_id("sources-count")
    total = int(count.get_attribute("data-total") or 0)
    assert total > 10
    page.get_by_role("searchbox", name=re.compile(r"^Search")).fill("hazard")
    expect(count).to_contain_text(f"of {total} numbers match")
    shown = int(count.get_attribute("data-shown") or 0)
    assert 0 < shown < total
    rows = page.get_by_test_id("sources-table").locator("tbody tr")
    expect(rows).to_have_count(shown)
    expect(rows.first.locator("mark").first).to_have_text(re.compile("hazard", re.I))
    shot(page, "sources")


@needs_chromium
def test_the_dashboard_in_spanish_and_its_situation_report(
    server: str, seeded_run: int, page
) -> None:
    from playwright.sync_api import expect

    login(page, server, "vic")
    # the seeded ensemble, whatever other tests have run since
    page.goto(server + f"/situation.html?scenario=chile-peru-2025&run={seeded_run}")
    expect_state(page, "main", "ready")
    expect(page.get_by_test_id("nav-situation")).to_have_text("Situation")
    page.get_by_test_id("lang-select").select_option("es")  # reloads the page in Spanish
    expect(page.locator("h1")).to_have_text("Situación")
    expect_state(page, "main", "ready")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("#stranded-heading")).to_have_text(
        "Personas varadas en cada paso fronterizo"
    )
    expect(page.locator("#needs-heading")).to_have_text("Necesidades en el máximo")
    expect(page.get_by_test_id("nav-situation")).to_have_text("Situación")
    expect(page.get_by_test_id("logout")).to_have_text("Cerrar sesión")
    expect(page.get_by_test_id("run-info")).to_contain_text(
        f"Simulación n.º {seeded_run}: conjunto"
    )
    for crossing in CROSSINGS:  # place names stay as in the case
        expect(
            page.locator(f"[data-testid=chart-stranded][data-location='{crossing}']")
        ).to_be_visible()
    shot(page, "situation-es")

    with page.expect_download() as info:
        page.get_by_test_id("download-report-pdf").click()
    assert info.value.suggested_filename == f"run-{seeded_run}-situation-report-es.pdf"
    pdf = Path(info.value.path()).read_bytes()
    reports = ROOT / "test-artifacts" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "dashboard-situation-report-es.pdf").write_bytes(pdf)
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (a test dependency) missing")
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[0].get_textpage().get_text_range().split())
    assert "Informe de situación" in text and "Cifras principales" in text
    assert "Mediana de 4 miembros del conjunto" in text
    assert all(crossing in text for crossing in CROSSINGS)

    page.goto(server + "/map.html")  # the choice is remembered on every page
    expect(page.get_by_test_id("nav-situation")).to_have_text("Situación")
    expect(page.get_by_test_id("lang-select")).to_have_value("es")
    expect_state(page, "main", "ready")
    expect(page.locator("h1")).to_have_text("Mapa de rutas")
    expect(page).to_have_title("Mapa · borderflow")
    expect(page.locator("#map-heading")).to_have_text("Rutas, flujos y personas varadas")
    expect(page.get_by_test_id("map-chart")).to_have_attribute(
        "aria-label", "Mapa de la red de rutas"
    )
    expect(page.get_by_test_id("map-view").locator("option").first).to_have_text(
        "Alrededor de los pasos fronterizos"
    )
    drawn = charts(page, "map-chart")[0]["traces"]
    world = {t["name"] for t in drawn if t["kind"] == "boundary"}
    assert world == {"tierra", "lagos", "frontera internacional", "región de primer nivel"}
    stranded = [t for t in drawn if t["kind"] == "stranded"]
    assert stranded and stranded[0]["name"] == "varados"
    # the day in Spanish (e.g. "18 dic 2025"), not the ISO date
    expect(page.get_by_test_id("map-day-label")).to_have_text(re.compile(r"^\d{1,2} \w+\.? \d{4}$"))
    shot(page, "map-es")
    page.goto(server + "/compare.html")
    expect(page.locator("h1")).to_have_text("Comparar dos simulaciones")
    expect_state(page, "main", "ready")
    page.goto(server + "/sources.html")
    expect(page.locator("h1")).to_have_text("Fuentes y supuestos")
    expect_state(page, "main", "ready")
    expect(page.get_by_test_id("sources-count")).to_contain_text("cifras")
    page.get_by_test_id("logout").click()  # the login page speaks Spanish too
    expect(page.get_by_role("button", name="Iniciar sesión")).to_be_visible()
    expect(page.get_by_test_id("lang-select")).to_have_value("es")
    shot(page, "login-es")
    page.get_by_label("Nombre de usuario").fill("vic")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    page.wait_for_url(re.compile(r"/sources\.html"))  # back where the user logged out
    page.goto(server + "/situation.html")
    expect_state(page, "main", "ready")
    page.get_by_test_id("lang-select").select_option("en")
    expect(page.locator("h1")).to_have_text("Situation")
    expect_state(page, "main", "ready")
    expect(page.get_by_test_id("download-report-pdf")).to_have_text(
        "Download the situation report (PDF)"
    )
    shot(page, "situation-en")


def switch_user(pg, base: str, user: str) -> None:
    pg.get_by_test_id("logout").click()
    pg.wait_for_url(re.compile(r"/index\.html"))
    login(pg, base, user)


def forecast_charts(pg) -> list[dict]:
    return pg.evaluate(
        """() => [...document.querySelectorAll('[data-testid=chart-forecast]')].map((d) => ({
            location: d.dataset.location, origin: d.dataset.origin,
            pending: Number(d.dataset.pending),
            kinds: (d.data || []).map((t) => t.meta && t.meta.kind),
            dates: (d.data || []).filter((t) => t.meta && t.meta.kind === "median")
                .flatMap((t) => Array.from(t.x)),
        }))"""
    )


def press_update(pg) -> None:
    from playwright.sync_api import expect

    pg.get_by_test_id("forecast-update").click()
    expect(pg.get_by_test_id("forecast-progress")).to_be_visible()
    expect(pg.get_by_test_id("forecast-section")).to_have_attribute(
        "data-job", "done", timeout=240_000
    )
    expect_state(pg, "#forecast-section", "ready")


@needs_chromium
def test_upload_counts_press_update_and_see_the_updated_forecast(server: str, page) -> None:
    from playwright.sync_api import expect

    row = "{},,value,Colchane-Pisiga,stranded,{},{},Red Cross Arica,B\n"
    login(page, server, "eve")
    upload(
        page,
        server,
        "first.csv",
        row.format("2026-01-08", 30, 50) + row.format("2026-01-10", 40, 60),
    )
    expect_state(page, "main", "done")
    page.goto(server + "/situation.html?scenario=chile-peru-2025")
    expect(page.get_by_test_id("forecast-update")).to_be_hidden()  # data entry cannot update
    switch_user(page, server, "ana")
    page.goto(server + "/situation.html?scenario=chile-peru-2025")
    section = page.get_by_test_id("forecast-section")
    expect_state(page, "#forecast-section", "empty")
    pending = page.get_by_test_id("forecast-pending-table")
    expect(pending.locator("tr[data-date='2026-01-10']")).to_be_visible()
    page.get_by_test_id("forecast-members").fill(MEMBERS)
    press_update(page)
    expect(section).to_have_attribute("data-origin", "2026-01-10")
    first = forecast_charts(page)
    assert [c["location"] for c in first] == CROSSINGS
    for chart in first:
        assert chart["origin"] == "2026-01-10" and chart["pending"] == 0
        assert chart["kinds"].count("band") == 2 and "median" in chart["kinds"], chart["kinds"]
        assert max(chart["dates"]) == "2026-01-24"  # 14 days on from the origin
    expect(page.get_by_test_id("forecast-info")).to_contain_text("(4 members)")
    shot(page, "forecast-first")

    switch_user(page, server, "eve")
    upload(page, server, "later.csv", row.format("2026-01-14", 70, 90))
    expect_state(page, "main", "done")
    switch_user(page, server, "ana")
    page.goto(server + "/situation.html?scenario=chile-peru-2025")
    expect_state(page, "#forecast-section", "ready")
    expect(pending.locator("tbody tr")).to_have_count(1)
    colchane = next(c for c in forecast_charts(page) if c["location"] == "Colchane-Pisiga")
    assert colchane["pending"] == 1 and "pending" in colchane["kinds"]
    shot(page, "forecast-counts-arrived")
    expect(page.get_by_test_id("forecast-members")).to_be_hidden()  # kept from the first
    press_update(page)
    expect(section).to_have_attribute("data-origin", "2026-01-14")
    expect(section).to_have_attribute("data-forecasts", "2")
    expect(page.get_by_test_id("forecast-status")).to_contain_text("weighed 1 new reports")
    for chart in forecast_charts(page):
        assert chart["origin"] == "2026-01-14" and chart["pending"] == 0
        assert chart["kinds"].count("earlier-forecast") == 1  # the first, as a faint line
        assert max(chart["dates"]) == "2026-01-28"
    expect(page.get_by_test_id("forecast-admin")).to_be_hidden()  # an analyst's page
    shot(page, "forecast-updated")
    listed = api_get(server, "ana", "/api/forecasts/chile-peru-2025")
    assert [(f["origin"], f["parent"]) for f in listed] == [
        ("2026-01-10", None), ("2026-01-14", "2026-01-10")
    ]  # fmt: skip

    switch_user(page, server, "ada")
    page.goto(server + "/situation.html?scenario=chile-peru-2025")
    auto = page.get_by_test_id("forecast-auto")
    expect(auto).not_to_be_checked()
    auto.check()
    expect(page.get_by_test_id("forecast-admin")).to_have_attribute("data-saved", "true")
    assert api_get(server, "vic", "/api/forecast-settings")["update_on_upload"] is True
    auto.uncheck()
    expect(page.get_by_test_id("forecast-admin")).to_have_attribute("data-saved", "false")
