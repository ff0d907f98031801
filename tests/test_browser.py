"""A real browser against the real `trainer serve`: a manager assigns, a rep practises and is scored, the
manager sees the result. Screenshots land in test-artifacts/ for a human to look at.

Needs Debian's chromium at /usr/bin/chromium (`scripts/test` installs it); TRAINER_SKIP_BROWSER=1
skips it visibly.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.app_fixtures import PASSWORD
from tests.conftest import ROOT, cli, script

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

if os.environ.get("TRAINER_SKIP_BROWSER"):
    pytest.skip("TRAINER_SKIP_BROWSER is set", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`trainer serve` in its own process, with a manager and a rep added through `trainer users add`."""
    assert CHROMIUM.exists(), "install Debian's chromium (`apt-get install chromium`), as scripts/test does"
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'trainer.db'}"
    for name, role in (("maya", "manager"), ("ravi", "rep")):
        added = cli("users", "add", name, "--role", role, "--team", "east", "--password-stdin",
                    "--database-url", url, stdin=PASSWORD)  # fmt: skip
        assert added.returncode == 0, added.stderr
    port = free_port()
    env = {**os.environ, "TRAINER_DATA_DIR": str(folder / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "trainer", "serve", "--port", str(port), "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )
    started = time.monotonic()
    line = proc.stdout.readline() if proc.stdout else ""
    ready = time.monotonic() - started
    assert f"http://127.0.0.1:{port}/" in line, line
    print(f"\n`trainer serve` printed its URL after {ready:.1f}s")
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--disable-background-networking", "--disable-component-update", "--no-first-run"],
        )
        yield chromium
        chromium.close()


def open_page(browser, url: str, outside: list[str]) -> Page:
    """A fresh context (own cookies); any request leaving this machine is recorded and blocked."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})

    def guard(route):
        if route.request.url.startswith(url.rstrip("/")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    return page


def sign_in(page: Page, name: str) -> None:
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORD)
    page.get_by_role("button", name="Login").click()
    expect(page.locator("#header .who")).to_contain_text(name)


def pick(page: Page, field: str, option: str) -> None:
    page.locator(f"{field} input").click()
    page.get_by_role("option", name=option).click()


def test_assign_practise_score_and_review_in_a_real_browser(server, browser):
    outside: list[str] = []
    title = "Twenty minutes before the budget review"

    manager = open_page(browser, server, outside)
    expect(manager.get_by_role("button", name="Login")).to_be_visible()
    manager.screenshot(path=ARTIFACTS / "01-login.png")
    sign_in(manager, "maya")
    manager.get_by_role("tab", name="Assign").click()
    pick(manager, "#assign-scenario", title)
    pick(manager, "#assign-reps", "ravi")
    manager.locator("#assign-due textarea, #assign-due input").first.fill("2031-06-30")
    manager.click("#assign-go")
    expect(manager.locator(".notice")).to_contain_text(f"Assigned {title} to ravi")
    manager.screenshot(path=ARTIFACTS / "02-manager-assign.png", full_page=True)

    rep = open_page(browser, server, outside)
    sign_in(rep, "ravi")
    expect(rep.get_by_role("tab", name="Team")).to_have_count(0)  # no manager tabs for a rep
    assigned_first = re.compile(r"★ Twenty minutes.*due 2031-06-30.*pass 70")
    expect(rep.locator("#scenario input")).to_have_value(assigned_first)
    expect(rep.locator("#persona-card")).to_contain_text("Renata Okafor")
    rep.click("#start")
    expect(rep.locator("#chat").get_by_role("paragraph").first).to_be_visible()  # the persona opens
    box = rep.locator("#message textarea")
    expect(box).to_have_attribute("placeholder", "Ask your first question…")  # the session is live
    for n, line in enumerate(script("vp_budget_review", "discovery")[:3], start=1):
        box.fill(line)
        expect(box).to_have_value(line)
        rep.click("#send")
        expect(rep.locator("#chat .chips")).to_have_count(n)  # a live chip on every turn sent
    expect(box).to_have_attribute("placeholder", "Ask your next question…")
    expect(rep.locator("#mood")).to_contain_text("Mood")
    rep.wait_for_timeout(600)  # let the side panels settle before the picture (not an assertion)
    rep.screenshot(path=ARTIFACTS / "03-rep-chat.png", full_page=True)
    rep.click("#end")
    card = rep.locator("#scorecard")
    expect(card).to_contain_text("Pass mark 70")
    expect(card).to_contain_text("Customer focus")
    expect(rep.get_by_role("button", name="Download JSON")).to_be_visible()
    overall = card.locator(".num").inner_text()
    card.scroll_into_view_if_needed()
    rep.screenshot(path=ARTIFACTS / "04-rep-scorecard.png", full_page=True)
    rep.get_by_role("tab", name="My sessions").click()
    expect(rep.locator("table.table")).to_contain_text(title)
    rep.screenshot(path=ARTIFACTS / "05-rep-history.png", full_page=True)

    manager.get_by_role("tab", name="Team").click()
    status = manager.locator("#team-status")
    expect(status).to_contain_text("ravi")
    row = status.locator("tr", has_text=title)
    expect(row).to_contain_text(overall)  # the rep's score, on the manager's dashboard
    expect(manager.locator("#team-scores")).to_contain_text(overall)
    expect(manager.locator("#team-heatmap .weakest")).to_have_count(1)
    manager.screenshot(path=ARTIFACTS / "06-manager-dashboard.png", full_page=True)

    assert outside == [], f"the page tried to reach the internet: {outside[:3]}"
