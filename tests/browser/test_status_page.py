"""The staff status page in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
driven by Selenium): sign in through the form, read the page, replay a dead message.

The real application runs under uvicorn in a thread on a free 127.0.0.1 port, over a SQLite
ledger seeded through the ledger's API (tests/browser/status_seed.py) and a fake clock at the
seed's NOW. Every number the test checks on the page is read from the ledger by the test itself.
A full-page screenshot is written to the test's temporary folder as status.png.

Waits are bounded (WebDriverWait); nothing sleeps a fixed time. Selenium never downloads a driver
or a browser: both paths are given and SE_OFFLINE is set. Without Chromium the tests skip, except
under CI (CI=true), where `.ci/run` installs it and a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from dependency_injector import providers
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.shared.ledger_records import InboxMessage, InboxStatus
from entrypoints.http import create_app
from tests.browser.status_seed import (
    AB,
    ALMA_MESSAGE,
    HOSTILE,
    MEMBERS,
    NOW,
    PATRON_SECRET,
    Expected,
    Seeded,
    expected,
    seed,
)
from tests.integration.http.support import (
    ADMIN_TOKEN,
    database_url,
    example_conf,
    make_container,
)
from tests.integration.ledger.support import FakeClock

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 20.0
"""Seconds any one wait may take: generous for a loaded CI machine, short of hanging."""
START_DEADLINE = 20.0


def _browser_or_skip() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if not missing:
        return
    reason = f"{' and '.join(missing)} missing (Debian packages chromium, chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: .ci/run installs them, so CI must have them")
    pytest.skip(reason)


# ---- the service -------------------------------------------------------------------------------


@dataclass
class Served:
    """The running service: its URL, its ledger's URL, and the seeded ids."""

    url: str
    ledger_url: str
    seeded: Seeded
    clock: FakeClock

    def ledger_read(self, work: Any) -> Any:
        """Run `work(ledger)` on a ledger of its own over the same database, in a new loop."""

        async def run() -> Any:
            ledger = SqlLedger.from_url(self.ledger_url, self.clock)
            try:
                return await work(ledger)
            finally:
                await ledger.close()

        return asyncio.run(run())

    def expected(self) -> Expected:
        return self.ledger_read(expected)

    def message(self, message_id: int) -> InboxMessage:
        async def get(ledger: SqlLedger) -> InboxMessage:
            async with ledger.unit_of_work() as uow:
                message = await uow.inbox.get(message_id)
            assert message is not None
            return message

        return self.ledger_read(get)


class _ServerThread:
    """uvicorn serving the app on an already bound socket, in a thread of its own."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="status-page-server"
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + START_DEADLINE
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the service did not start (see the log above)")
            self.thread.join(0.05)  # a bounded wait on the thread, not a sleep

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(START_DEADLINE)
        self.sock.close()
        assert not self.thread.is_alive(), "the service did not stop"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """The real app under uvicorn over a seeded SQLite ledger, its clock at NOW."""
    _browser_or_skip()
    url = database_url(tmp_path)
    clock = FakeClock(NOW)

    async def prepare() -> Seeded:
        await upgrade(url)
        ledger = SqlLedger.from_url(url, clock)
        try:
            return await seed(ledger, clock)
        finally:
            await ledger.close()

    seeded = asyncio.run(prepare())
    container = make_container(
        tmp_path, example_conf(tmp_path), {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    container.clock.override(providers.Object(clock))
    app = create_app(container, run_worker=False)  # a replayed message stays pending to be seen
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _ServerThread(app, sock)
    server.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", url, seeded, clock)
    finally:
        server.stop()


# ---- the browser -------------------------------------------------------------------------------


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium through chromedriver, both Debian's; nothing downloaded."""
    _browser_or_skip()
    profile = tmp_path / "chromium-profile"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--window-size=1280,1000",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = ChromeService(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT)


def sign_in(driver: WebDriver, served: Served, token: str) -> None:
    driver.get(f"{served.url}/status")
    field = wait(driver).until(ec.visibility_of_element_located((By.ID, "token")))
    label = driver.find_element(By.CSS_SELECTOR, "label[for=token]")
    assert label.text == "Admin token"
    field.clear()
    field.send_keys(token)
    driver.execute_script("window.almabridgeSignIn = 'before';")
    driver.find_element(By.CSS_SELECTOR, "form.login-form button[type=submit]").click()
    wait(driver).until(answered_the_form)


def answered_the_form(driver: WebDriver) -> bool:
    """Whether the form's answer replaced the page: the mark set on the old document is gone.

    Not `staleness_of` on the old `<html>`: while Chromium swaps the documents, asking about the
    old node may fail with "Node with given id does not belong to the document" instead of a
    stale reference (CI, 2026-12-06); asking the page itself fails only while there is none.
    """
    try:
        return driver.execute_script("return window.almabridgeSignIn === undefined;") is True
    except WebDriverException:
        return False  # between the two documents: ask again


def text_of(element: WebElement) -> str:
    """An element's text whether or not it is displayed (a closed <details> hides its table)."""
    return " ".join((element.get_attribute("textContent") or "").split())


# ---- tests -------------------------------------------------------------------------------------


def test_a_wrong_token_is_refused_by_the_form(
    browser: WebDriver, served: Served, tmp_path: Path
) -> None:
    sign_in(browser, served, "not-the-token")
    error = wait(browser).until(ec.visibility_of_element_located((By.ID, "login-error")))
    assert error.get_attribute("role") == "alert"
    assert "not the admin token" in error.text
    assert browser.find_element(By.ID, "token").get_attribute("aria-invalid") == "true"
    assert browser.get_cookies() == []
    assert browser.find_elements(By.ID, "activity-chart") == []
    _screenshot(browser, tmp_path / "login.png", at_least=5_000)


def test_staff_sign_in_read_the_ledgers_numbers_and_replay_a_dead_message(
    browser: WebDriver, served: Served, tmp_path: Path
) -> None:
    sign_in(browser, served, ADMIN_TOKEN)
    heading = wait(browser).until(ec.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == "almabridge status"
    (cookie,) = browser.get_cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert ADMIN_TOKEN not in cookie["value"]

    # The chart is drawn (by status.js under the page's CSP) with the table's numbers.
    canvas = browser.find_element(By.ID, "activity-chart")
    wait(browser).until(lambda _: canvas.get_attribute("data-rendered") == "true")
    drawn = browser.execute_script(
        "const chart = Chart.getChart(document.getElementById('activity-chart'));"
        "return chart.data.datasets.map(set => set.data);"
    )
    want = served.expected()
    assert drawn == [list(want.items_per_day.values()), list(want.requests_per_day.values())]
    assert canvas.size["width"] > 600
    assert canvas.size["height"] > 200

    _assert_numbers(browser, want)
    _assert_no_script_ran(browser)
    _screenshot(browser, tmp_path / "status.png")
    _assert_keyboard_focus_is_visible(browser)
    _assert_text_contrast(browser)

    # The data table is collapsed until asked for, and then shows the same numbers.
    table = browser.find_element(By.ID, "activity-table")
    assert not table.is_displayed()
    browser.find_element(By.CSS_SELECTOR, "#activity-details summary").click()
    wait(browser).until(ec.visibility_of(table))
    total = table.find_element(By.CSS_SELECTOR, "tfoot td[data-column=items]")
    assert total.text == str(want.items_total)

    # Replay the first dead message: the ledger has it pending again and the page says so.
    target = served.seeded.dead[0]
    assert served.message(target).status is InboxStatus.DEAD
    button = browser.find_element(By.ID, f"replay-{target}")
    assert text_of(button) == f"Replay message {target}"
    button.click()
    flash = wait(browser).until(
        ec.text_to_be_present_in_element((By.ID, "flash"), f"Message {target} queued for replay")
    )
    assert flash
    assert browser.find_element(By.ID, "flash").get_attribute("aria-live") == "polite"
    message = served.message(target)
    assert (message.status, message.attempts) == (InboxStatus.PENDING, 0)
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.dead-message")
    assert [int(row.get_attribute("data-message") or 0) for row in rows] == [
        m for m in want.dead if m != target
    ]
    _assert_console_is_clean(browser)


# ---- checks ------------------------------------------------------------------------------------


def _assert_numbers(driver: WebDriver, want: Expected) -> None:
    """Every number on the page against the ledger's own answers."""
    activity = driver.find_element(By.ID, "activity")
    assert activity.find_element(By.CSS_SELECTOR, "[data-total=items]").text == str(
        want.items_total
    )
    assert activity.find_element(By.CSS_SELECTOR, "[data-total=requests]").text == str(
        want.requests_total
    )
    days = driver.find_elements(By.CSS_SELECTOR, "#activity-table tbody tr")
    assert {
        row.get_attribute("data-day"): int(
            text_of(row.find_element(By.CSS_SELECTOR, "td[data-column=items]"))
        )
        for row in days
    } == want.items_per_day
    assert {
        row.get_attribute("data-day"): int(
            text_of(row.find_element(By.CSS_SELECTOR, "td[data-column=requests]"))
        )
        for row in days
    } == want.requests_per_day
    assert want.items_total > 0
    assert want.requests_total > 0

    for code in MEMBERS:
        article = driver.find_element(By.CSS_SELECTOR, f"article[data-institution='{code}']")
        assert article.find_element(By.TAG_NAME, "h3").text == code
        totals = {
            element.get_attribute("data-total"): element.text
            for element in article.find_elements(By.CSS_SELECTOR, "dd[data-total]")
        }
        assert totals == {
            "items": str(want.items_by_institution[code]),
            "requests": str(want.requests_by_institution[code]),
            "failures": str(len(want.failures[code])),
            "waiting": str(len(want.waiting[code])),
        }
        messages = [
            cell.text for cell in article.find_elements(By.CSS_SELECTOR, "tr.failure td.message")
        ]
        assert messages == [event.message for event in want.failures[code]]
        waiting = [
            cell.text for cell in article.find_elements(By.CSS_SELECTOR, "tr.waiting-request th")
        ]
        assert waiting == want.waiting[code]
        run = want.last_items_sync[code]
        items_row = article.find_element(By.CSS_SELECTOR, "tr[data-sync=items]")
        if run is None:
            assert "No run recorded" in items_row.text
        else:
            counts = {
                li.get_attribute("data-count"): int(li.find_element(By.TAG_NAME, "strong").text)
                for li in items_row.find_elements(By.CSS_SELECTOR, "li[data-count]")
            }
            assert counts == run.details["counts"]
            assert items_row.find_element(By.CSS_SELECTOR, "[data-files]").text == str(
                len(run.details["files"])  # type: ignore[arg-type]
            )
        # rule W6, rule W7: the last 7 days' requests and items by webhook and by file.
        arrivals = want.arrivals[code]
        assert article.find_element(By.CSS_SELECTOR, "p.arrivals").text == (
            f"Last 7 days: requests {arrivals['requests']['webhook']} by webhook, "
            f"{arrivals['requests']['file']} by file; items {arrivals['items']['webhook']} by "
            f"webhook, {arrivals['items']['file']} by file."
        )
    ab = driver.find_element(By.CSS_SELECTOR, f"article[data-institution='{AB}']")
    assert ALMA_MESSAGE in ab.text
    assert HOSTILE in ab.text  # shown as text, not run (see _assert_no_script_ran)
    dead = [
        int(row.get_attribute("data-message") or 0)
        for row in driver.find_elements(By.CSS_SELECTOR, "tr.dead-message")
    ]
    assert dead == want.dead
    assert PATRON_SECRET not in driver.page_source
    assert ADMIN_TOKEN not in driver.page_source


def _assert_no_script_ran(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (the property raises when no alert is open)


def _assert_keyboard_focus_is_visible(driver: WebDriver) -> None:
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link"
    assert focused.is_displayed()
    outline = driver.execute_script(
        "const s = getComputedStyle(document.activeElement);"
        "return [s.outlineStyle, parseFloat(s.outlineWidth)];"
    )
    assert outline[0] == "solid"
    assert outline[1] >= 2


CONTRAST = (Path(__file__).parent / "contrast.js").read_text()
"""Returns every visible text whose contrast with its background is under 4.5:1."""


def _assert_text_contrast(driver: WebDriver) -> None:
    """Every visible text against its effective background: at least 4.5:1 (WCAG AA)."""
    assert driver.execute_script(CONTRAST) == []
    # The check itself catches a pale text (#999 on white is 2.8:1).
    driver.execute_script(
        "const p = document.createElement('p'); p.id = 'pale'; p.textContent = 'pale';"
        "p.style.color = '#999999'; document.getElementById('main').append(p);"
    )
    assert driver.execute_script(CONTRAST) == [["P", "", "2.85"]]
    driver.execute_script("document.getElementById('pale').remove()")


def _screenshot(driver: WebDriver, path: Path, *, at_least: int = 20_000) -> None:
    """The whole page, not just the window (Chromium's DevTools capture beyond the viewport)."""
    assert isinstance(driver, webdriver.Chrome)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > at_least


def _assert_console_is_clean(driver: WebDriver) -> None:
    """No script error and no Content-Security-Policy violation in the browser's console."""
    problems = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE"
        # The first visit's login form comes with its 401, which Chromium logs; that is expected.
        and "status of 401" not in entry["message"]
    ]
    assert problems == []
