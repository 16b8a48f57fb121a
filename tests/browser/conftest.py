"""A real collector in a subprocess and Debian's Chromium driven by Playwright.

The collector is `llmobserve-server serve` on a free loopback port, in a temporary
working directory (so its embedded SQLite file is fresh). Chromium is the system one
(`/usr/bin/chromium`, or LLMOBSERVE_CHROMIUM): Playwright's own download is not used.
A missing Chromium fails the tests; it never skips them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_command() -> list[str]:
    script = Path(sys.executable).parent / "llmobserve-server"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from entrypoints.cli import main; main()"]


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The collector's base URL; its log is printed if it fails to start."""
    workdir = tmp_path_factory.mktemp("collector")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LLMOBSERVE_", "CLERK_", "SMTP_", "SENDGRID_", "EMAIL_"))
    }
    env.update(
        LLMOBSERVE_DASHBOARD_URL=base,
        LLMOBSERVE_MAIL_FILE=str(workdir / "mail.log"),
        PYTHONUNBUFFERED="1",
    )
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*_server_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the collector exited:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the collector did not start:\n{log_path.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    executable = os.environ.get("LLMOBSERVE_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(
            f"Chromium not found at {executable}: apt-get install chromium, "
            "or set LLMOBSERVE_CHROMIUM"
        )
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
