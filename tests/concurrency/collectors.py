"""Real collector processes (`llmobserve-server serve`) on loopback ports, for tests
that need several processes on one PostgreSQL and one Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def cli() -> list[str]:
    installed = shutil.which("llmobserve-server", path=str(Path(sys.executable).parent))
    if installed:
        return [installed]
    return [sys.executable, "-c", "from entrypoints.cli import main; main()"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(env: Mapping[str, str], *args: str) -> str:
    """Run one CLI command to completion; its stdout, or an error with its output."""
    done = subprocess.run(
        [*cli(), *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`llmobserve-server {' '.join(args)}` failed ({done.returncode}):\n"
            f"{done.stdout}\n{done.stderr}"
        )
    return done.stdout


@dataclass
class Collector:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start_collector(env: Mapping[str, str], log_dir: Path) -> Collector:
    port = free_port()
    log_path = log_dir / f"collector-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*cli(), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
            env=dict(env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    collector = Collector(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"collector on port {port} exited:\n{collector.log_tail()}")
        try:
            if httpx.get(f"{collector.base_url}/healthz", timeout=2).status_code < 500:
                return collector
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    collector.stop()
    raise RuntimeError(f"collector on port {port} did not answer:\n{collector.log_tail()}")


def base_env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLMOBSERVE_")}
    env.update(values)
    env.setdefault("LLMOBSERVE_LOG_LEVEL", "warning")
    return env
