"""The browser app in a real browser, offline: Debian's chromium (driven by Playwright) against the app started
as `commsim ui` starts it, on a free loopback port, with a small stored comparison and sweep. The pages of stored
comparisons and sweeps run on SQLite and on a real PostgreSQL server (whose URL carries a password no page shows);
the rest on SQLite. One test opens the app beyond loopback with its token link.

Every request the page makes to anywhere but the app's own address is blocked and recorded, and the server's
fallback for front-end files it does not have points at a closed loopback port, so a file that would have come
from the internet fails the test instead of being fetched. Screenshots of each page are saved as PNG in the
tests' temporary directories.
"""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from commsim.cli.ui import server_command, server_env
from commsim.ui.serve import new_token
from test_ui_components import ARMS, SECRET, fill_store, with_password

pytestmark = pytest.mark.browser  # the browser tier: Debian's chromium through Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DEAD_CDN = "http://127.0.0.1:9/"  # closed: a front-end file missing locally fails here, never goes out
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The app's server process, its address and its log."""

    def __init__(self, url: str, process: subprocess.Popen, log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_app(workdir: Path, db: str, host: str = "127.0.0.1", token: str | None = None) -> Iterator[Server]:
    """The app's server as `commsim ui` starts it, on a free port, reached through 127.0.0.1; stopped at the end."""
    port = free_port()
    log = workdir / f"server-{port}.log"
    env = server_env(db, token=token) | {"SOLARA_ASSETS_CDN": DEAD_CDN, "MPLBACKEND": "Agg"}
    with log.open("w") as sink:
        process = subprocess.Popen(
            server_command(host, port), env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=workdir
        )
    url = f"http://127.0.0.1:{port}/"
    running = Server(url, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the app's server stopped on start:\n{running.log_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except urllib.error.HTTPError:  # it answers (403 without the token)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the app did not answer in {START_TIMEOUT_S} s:\n{running.log_text()[-3000:]}")
                time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Could not load URL" not in running.log_text(), "the server wanted a front-end file it does not have"


@pytest.fixture(scope="module")
def filled_sqlite(tmp_path_factory) -> tuple[Path, str]:
    workdir = tmp_path_factory.mktemp("ui-browser")
    db = f"sqlite:///{workdir / 'ui.db'}"
    fill_store(db, workdir)
    return workdir, db


@pytest.fixture(scope="module")
def server(filled_sqlite) -> Iterator[Server]:
    """The app on a free loopback port with a filled SQLite database."""
    with running_app(*filled_sqlite) as running:
        yield running


@pytest.fixture(scope="module")
def pg_app(pg_server, tmp_path_factory) -> Iterator[Server]:
    """The app on a filled PostgreSQL database whose URL carries a password."""
    workdir = tmp_path_factory.mktemp("ui-browser-pg")
    name = pg_server.create_database()
    db = with_password(pg_server.url(name))
    fill_store(db, workdir)
    try:
        with running_app(workdir, db) as running:
            yield running
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def stored_server(request) -> Server:
    """The pages of stored comparisons and sweeps run on both databases."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "pg_app")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def app_page(browser, server: Server) -> Iterator:
    """A fresh page that can reach only the app: anything else is blocked and recorded, as are failed responses
    and script errors; the test fails if any occurred."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    outside: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    served: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(server.url):
            served.append(url)
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    tab.route("**/*", route)

    def check(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    tab.on("response", check)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.served = served
    yield tab
    context.close()
    assert outside == [], f"the page asked for addresses outside the app: {outside}"
    assert failed == [], f"requests failed: {failed}"
    assert errors == [], f"script errors: {errors}"


@pytest.fixture
def page(browser, server: Server):
    with app_page(browser, server) as tab:
        yield tab


@pytest.fixture
def stored_page(browser, stored_server: Server):
    with app_page(browser, stored_server) as tab:
        yield tab


def open_app(page, server: Server, path: str = "") -> None:
    page.goto(server.url + path)
    page.locator(".commsim-tab-live").wait_for()


def month(page) -> str:
    return page.locator(".commsim-status").get_attribute("data-month")


def mcpr_points(page) -> list[str]:
    line = page.locator('svg[data-chart="mcpr"] polyline[data-series="mCPR"]')
    return (line.get_attribute("points") or "").split()


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the vuetify select labelled `label`."""
    page.locator(".v-select", has_text=label).locator(".v-select__slot").click()
    page.locator(".menuable__content__active").get_by_text(option, exact=False).first.click()


def test_live_page_offline_slider_step_and_charts(page, server: Server, tmp_path):
    open_app(page, server)
    page.locator(".commsim-step").wait_for()
    assert month(page) == "0"
    assert len(mcpr_points(page)) == 1
    assert page.locator(".commsim-map img, img.commsim-map").count() == 1
    assert any("/_solara/cdn/" in url for url in page.served), "front-end files come from the app itself"
    page.screenshot(path=tmp_path / "live-start.png", full_page=True)

    thumb = page.locator(".commsim-slider-training .v-slider__thumb-container")
    thumb.focus()
    page.keyboard.press("ArrowRight")  # the slider moves one step: 50% -> 55%, the district is rebuilt
    command = page.locator("pre.commsim-command")
    command.filter(has_text="--set groups.training_coverage=0.55").wait_for()
    assert command.inner_text() == "commsim run hrh2030_groups --set groups.training_coverage=0.55"
    assert month(page) == "0"

    page.locator(".commsim-step").click()
    page.locator('.commsim-status[data-month="1"]').wait_for()
    page.locator('svg[data-chart="mcpr"][data-month="1"]').wait_for()
    assert len(mcpr_points(page)) == 2  # the chart grew by the new month
    assert page.locator('svg[data-chart="mcpr"] polyline[data-series="mCPR, before"]').count() == 1
    page.locator(".commsim-step").click()
    page.locator('.commsim-status[data-month="2"]').wait_for()
    page.screenshot(path=tmp_path / "live-month-2.png", full_page=True)
    assert (tmp_path / "live-month-2.png").read_bytes()[:4] == b"\x89PNG"


def test_live_page_bad_input_shows_a_message_and_keeps_working(page, server: Server, tmp_path):
    open_app(page, server)
    page.locator(".commsim-step").click()
    page.locator('.commsim-status[data-month="1"]').wait_for()
    for typed, shown in (("0", "(got 0)"), ("many", "(got 'many')")):
        field = page.get_by_label("Households")
        field.fill(typed)
        field.press("Enter")
        message = f"households: must be a whole number from 100 to 1,000,000 {shown}"
        page.locator(".commsim-error", has_text=message).wait_for()
        assert month(page) == "1"  # the run is untouched
    page.screenshot(path=tmp_path / "live-bad-input.png", full_page=True)
    page.locator(".commsim-step").click()  # and still steps
    page.locator('.commsim-status[data-month="2"]').wait_for()


def test_compare_page_shows_stored_runs(stored_page, stored_server: Server, tmp_path):
    page = stored_page
    open_app(page, stored_server)
    page.locator(".commsim-tab-compare").click()
    page.get_by_text("Stored comparisons").wait_for()
    choose(page, "Load a stored comparison", "baseline vs hrh2030_groups vs donor_exit")
    table = page.locator("table.commsim-table-summary")
    table.wait_for()
    assert [row.get_attribute("data-scenario") for row in table.locator("tr[data-scenario]").all()] == list(ARMS)
    assert table.locator("td[data-column='cost_per_additional_user_year']").count() == 3
    outcomes = page.locator("table.commsim-table-outcomes")
    assert outcomes.locator("td[data-column='unintended_averted']").count() == 3
    assert (
        outcomes.locator("td[data-scenario='baseline'][data-column='unintended_averted']").inner_text() == "(baseline)"
    )
    costs = page.locator("table.commsim-table-costs")
    assert costs.locator("td[data-column='incremental_cost_commodities']").count() == 3
    page.locator("img.commsim-mcpr-bands, .commsim-mcpr-bands img").first.wait_for()
    with page.expect_download() as download:
        page.get_by_text("Download summary.csv").click()
    saved = tmp_path / "summary.csv"
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("scenario,reps,mcpr,") and [line.split(",")[0] for line in lines[1:]] == list(ARMS)
    with page.expect_download() as download:
        page.get_by_text("Download report.html").click()
    report = download.value.path().read_text(encoding="utf-8")
    assert "<table" in report and "data:image/png;base64," in report and "https://" not in report
    assert SECRET not in report and SECRET not in page.content()
    page.screenshot(path=tmp_path / "compare.png", full_page=True)


def test_compare_page_runs_a_comparison_with_progress(page, server: Server, tmp_path):
    """Runs go to worker processes started by the app's server, and are stored as they finish."""
    open_app(page, server, "compare")
    page.get_by_text("Run a comparison").wait_for()
    for label, value in (("Replicates", "2"), ("Households", "600"), ("Months", "6"), ("First seed", "7")):
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
    page.locator(".commsim-run").click()
    page.locator(".commsim-progress", has_text="of 6 runs done").wait_for()
    page.screenshot(path=tmp_path / "compare-running.png", full_page=True)
    page.locator(".commsim-success", has_text="6 runs stored as comparison").wait_for(timeout=120_000)
    table = page.locator("table.commsim-summary")
    assert [row.get_attribute("data-scenario") for row in table.locator("tr[data-scenario]").all()] == list(ARMS)
    assert table.locator("td[data-column='reps']").first.inner_text() == "2"
    page.screenshot(path=tmp_path / "compare-ran.png", full_page=True)


def test_sweeps_page_shows_heatmap_sensitivity_and_runs(stored_page, stored_server: Server, tmp_path):
    page = stored_page
    open_app(page, stored_server, "sweeps")
    page.get_by_text("Stored sweeps").wait_for()
    choose(page, "Sweep", "tiny_grid")
    for image in ("heatmap", "sensitivity", "effects"):
        page.locator(f"img.commsim-{image}, .commsim-{image} img").first.wait_for()
    page.get_by_text("all 12 planned runs stored").wait_for()
    assert page.locator("table tbody tr").count() == 6  # one row per design point
    assert SECRET not in page.content()
    page.screenshot(path=tmp_path / "sweeps.png", full_page=True)


def test_the_token_link_opens_a_working_app_beyond_loopback(browser, filled_sqlite, tmp_path):
    """Listening on 0.0.0.0 (reached here through 127.0.0.1 only): the link with the token opens the app, the
    address bar loses the token, and the page's own requests (files, websocket) pass on the cookie."""
    workdir, db = filled_sqlite
    token = new_token()
    with running_app(workdir, db, host="0.0.0.0", token=token) as app, app_page(browser, app) as page:
        page.goto(app.url + f"?token={token}")
        page.locator(".commsim-step").click()
        page.locator('.commsim-status[data-month="1"]').wait_for()
        assert page.url == app.url and "token" not in page.url
        page.screenshot(path=tmp_path / "token-live.png", full_page=True)
