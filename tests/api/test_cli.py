"""The `llmobserve-server` command, run as a user runs it: a real process, a real port.

The serve test walks the README's promise: a fresh directory, `serve`, the key it
prints, then curl's flow (events, a block cap, a refused check, the right summary).
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

COMMAND = str(Path(sys.executable).with_name("llmobserve-server"))
KEY_LINE = re.compile(r"^llmo_sk_[A-Za-z0-9_-]{43}$")
STARTUP_SECONDS = 60


def clean_env(**extra: str) -> dict[str, str]:
    """The user's environment without our variables: the embedded default."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLMOBSERVE_", "EMAIL_", "SMTP_", "SENDGRID_", "CLERK_"))
    }
    env.update(extra)
    return env


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMAND, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_create_api_key_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    result = run(tmp_path, "create-api-key", "--name", "ci", "--kind", "ingest")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert KEY_LINE.match(lines[-1]), lines
    assert len(lines) > 1
    assert (tmp_path / "llmobserve.db").exists()


def test_create_api_key_refuses_an_unknown_kind(tmp_path: Path) -> None:
    result = run(tmp_path, "create-api-key", "--kind", "root")

    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_demo_loads_data_once_per_seed(tmp_path: Path) -> None:
    first = run(tmp_path, "demo", "--days", "3", "--per-day", "40", "--seed", "3")
    second = run(tmp_path, "demo", "--days", "3", "--per-day", "40", "--seed", "3")

    assert first.returncode == 0, first.stderr
    generated = int(re.search(r"(\d+) events generated", first.stdout).group(1))  # type: ignore[union-attr]
    assert f"{generated} stored" in first.stdout
    assert "caps created" in first.stdout
    assert "0 stored" in second.stdout and f"{generated} already there" in second.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`serve` in a fresh directory; yields its base URL and the first key it printed."""
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "serve", "--port", str(port), "--no-access-log"],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout or []:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        key, seen = None, []
        deadline = time.monotonic() + STARTUP_SECONDS
        while key is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1).strip()
            except queue.Empty:
                continue
            seen.append(line)
            key = line if KEY_LINE.match(line) else None
        assert key, f"serve printed no key: {seen}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, key
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_serve_answers_and_the_readme_flow_works(server: tuple[str, str]) -> None:
    base, key = server
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        cap = http.post(
            "/v1/caps",
            json={
                "name": "gpt-4o daily",
                "scope": "model",
                "scope_value": "gpt-4o",
                "period": "daily",
                "limit": "0.012",
                "enforcement": "block",
            },
        )
        assert cap.status_code == 201, cap.text
        check = {"provider": "openai", "model": "gpt-4o", "estimated_cost": "0.001"}
        assert http.post("/v1/caps/check", json=check).json()["allowed"] is True

        now = datetime.now(UTC).isoformat()
        events = [
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": now,
                "provider": "openai",
                "model": "gpt-4o",
                "customer_id": "cus_1",
                "usage": {"input_tokens": 1200, "output_tokens": 300},
            }
            for _ in range(2)
        ]
        posted = http.post("/v1/events", json={"events": events})
        assert posted.json() == {"accepted": 2, "duplicates": 0, "rejected": []}

        refused = http.post("/v1/caps/check", json=check).json()
        assert refused["allowed"] is False
        assert refused["blocking_cap"]["id"] == cap.json()["id"]
        assert refused["blocking_cap"]["spent"] == "0.012000"
        summary = http.get("/v1/spend/summary").json()
        assert (summary["totals"]["cost"], summary["totals"]["calls"]) == ("0.012000", 2)
        assert summary["breakdowns"]["customer"][0]["key"] == "cus_1"
