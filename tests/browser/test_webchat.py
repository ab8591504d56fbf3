"""The sandbox's web chat in a real headless Chromium, driven by selenium and chromium-driver.

`newsbot sandbox` runs as a subprocess, as a newcomer starts it; the browser opens the page,
subscribes to a topic through the inline keyboard, sees the push arrive live, and switches to
the group chat. A screenshot is saved under the test's tmp_path (webchat.png).

Debian's `chromium` and `chromium-driver` are needed: without them the test is skipped
locally and fails under CI=true (.ci/run installs them).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import child_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
)


def _require_browser() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if not missing:
        return
    message = f"the browser test needs {', '.join(missing)}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI must run it: .ci/run installs chromium and chromium-driver)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`newsbot sandbox` on a free port, publishing a story every second."""
    port = _free_port()
    env = child_env()
    env.update({"NEWSBOT_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    out_path, err_path = tmp_path / "sandbox.out", tmp_path / "sandbox.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "sandbox", "--publish-every", "1"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=err,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 30
            while url not in out_path.read_text(encoding="utf-8"):
                assert process.poll() is None, err_path.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "the sandbox did not announce its URL"
                time.sleep(0.1)
            yield url
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_AVOID_STATS", "true")  # selenium must not phone home
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def test_subscribe_push_and_buttons_in_chromium(
    sandbox_url: str, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    driver = browser
    wait = WebDriverWait(driver, 20)
    driver.get(sandbox_url)
    wait.until(lambda d: "@newsbot_sandbox_bot" in d.find_element(By.ID, "chat-status").text)
    chats = [
        e.get_attribute("data-chat-id") for e in driver.find_elements(By.CSS_SELECTOR, ".chat-item")
    ]
    assert chats == ["1001", "1002", "1003", "-4001"]

    composer = driver.find_element(By.ID, "composer-input")
    composer.send_keys("/subscribe", Keys.ENTER)
    ukraine = wait.until(
        lambda d: next(
            (
                b
                for b in d.find_elements(By.CSS_SELECTOR, ".from-bot .inline-button")
                if b.text == "Ukraine"
            ),
            None,
        )
    )
    ukraine.click()
    toast = driver.find_element(By.ID, "toast")
    wait.until(lambda d: toast.is_displayed() and toast.text == "Following Ukraine")
    wait.until(
        lambda d: any(
            b.text == "✓ Ukraine" for b in d.find_elements(By.CSS_SELECTOR, ".inline-button")
        )
    )

    # The push: a new bot bubble with a bold headline and the source linked.
    def push_link(d: WebDriver) -> object:
        links = d.find_elements(By.CSS_SELECTOR, ".from-bot .text b ~ a, .from-bot .text a")
        return next(
            (a for a in links if (a.get_attribute("href") or "").startswith("https://")), None
        )

    link = WebDriverWait(driver, 40).until(push_link)
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in (link.get_attribute("rel") or "")
    bubble = link.find_element(By.XPATH, "./ancestor::div[contains(@class, 'bubble')]")
    assert bubble.find_element(By.TAG_NAME, "b").text.strip()

    # What a user types is shown as text, never as markup.
    composer.send_keys("<b>not bold</b>", Keys.ENTER)
    mine = wait.until(
        lambda d: next(
            (
                t
                for t in d.find_elements(By.CSS_SELECTOR, ".from-user .text")
                if "<b>not bold</b>" in t.text
            ),
            None,
        )
    )
    assert mine.find_elements(By.TAG_NAME, "b") == []
    driver.save_screenshot(str(tmp_path / "webchat.png"))

    # The selector switches to the group; the bot answers there.
    driver.find_element(By.CSS_SELECTOR, '.chat-item[data-chat-id="-4001"]').click()
    wait.until(lambda d: d.find_element(By.ID, "chat-title").text == "Newsroom group")
    driver.find_element(By.ID, "composer-input").send_keys("/start", Keys.ENTER)
    wait.until(
        lambda d: any(
            "/subscribe" in t.text for t in d.find_elements(By.CSS_SELECTOR, ".from-bot .text")
        )
    )
    # "/topics" in the bot's text is clickable, as in Telegram: it sends the command.
    topics = next(
        c
        for c in driver.find_elements(By.CSS_SELECTOR, ".from-bot .command")
        if c.text == "/topics"
    )
    topics.click()
    wait.until(
        lambda d: any(
            t.text.startswith("/topics")
            for t in d.find_elements(By.CSS_SELECTOR, ".from-user .text")
        )
    )
    driver.save_screenshot(str(tmp_path / "webchat-group.png"))
    assert (tmp_path / "webchat.png").stat().st_size > 10_000
