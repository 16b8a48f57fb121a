"""A dispatcher process killed with SIGKILL in the middle of an SMTP send, then restarted.

The SMTP server hangs on DATA for the first message, the test kills the worker there,
and a fresh worker process takes over on the same SQLite file. Two cases:
- not accepted: the server had not answered 250 when the client died, so (as RFC 5321
  asks) it did not take the message: after the restart exactly one message is delivered;
- ack lost: the server had taken the message and only its 250 never arrived: the restart
  sends it again, with the same Message-ID, which is the one thing a mailbox needs to drop
  the copy. This is the residual duplicate docs/alerts.md describes.
Either way: nothing lost, nothing delivered under two Message-IDs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.email.message import message_id_for
from adapters.sql.database import SqlUnitOfWorkFactory, make_engine, migrate
from application.dispatch_alerts import IN_FLIGHT, IN_FLIGHT_MARK
from domain.alerts import AlertStatus
from tests.alerts.servers import start_smtp
from tests.alerts.support import SENDER, START, a_cap, an_alert, seed, stored

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class HangsOnFirstData:
    def __init__(self, ack_lost: bool) -> None:
        self.ack_lost = ack_lost
        self.transmissions: list[bytes] = []
        self.delivered: list[bytes] = []
        self.hanging = threading.Event()
        self.client_gone = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.transmissions.append(content)
        if len(self.transmissions) == 1:
            if self.ack_lost:
                self.delivered.append(content)  # queued; only the 250 will never arrive
            self.hanging.set()
            try:
                await asyncio.Event().wait()  # aiosmtpd cancels this when the client dies
            finally:
                self.client_gone.set()
        self.delivered.append(content)
        return "250 2.0.0 queued"


def run_worker(url: str, port: int, now: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.alerts.crash_worker", url, str(port), now],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(worker: subprocess.Popen[str]) -> dict[str, int]:
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    report: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize("ack_lost", [False, True], ids=["not-accepted", "ack-lost"])
async def test_a_worker_killed_mid_send_loses_nothing_and_duplicates_no_message_id(
    tmp_path: Path, ack_lost: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'alerts.db'}"
    migrate(url)
    engine = make_engine(url)
    uow = SqlUnitOfWorkFactory(engine)
    alert = an_alert()
    await seed(uow, caps=[a_cap()], alerts=[alert])
    server = HangsOnFirstData(ack_lost)
    controller = start_smtp(server)
    try:
        first = run_worker(url, controller.port, START.isoformat())
        assert await asyncio.to_thread(server.hanging.wait, 60), "the worker never sent DATA"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert await asyncio.to_thread(server.client_gone.wait, 10)

        interrupted = await stored(uow, alert)
        assert interrupted.status is AlertStatus.PENDING and interrupted.attempts == 1
        assert interrupted.last_error is not None
        assert interrupted.last_error.startswith(IN_FLIGHT_MARK)

        # A worker that starts while the killed one might still have been sending waits.
        early = finish(run_worker(url, controller.port, (START + timedelta(minutes=1)).isoformat()))
        assert early == {"sent": 0, "failed": 0}

        later = START + IN_FLIGHT + timedelta(seconds=1)
        restarted = finish(run_worker(url, controller.port, later.isoformat()))
        assert restarted == {"sent": 1, "failed": 0}
    finally:
        controller.stop()

    done = await stored(uow, alert)
    await engine.dispose()
    assert (done.status, done.attempts, done.last_error) == (AlertStatus.SENT, 2, None)
    ids = {message_from_bytes(m, policy=policy.default)["Message-ID"] for m in server.delivered}
    assert ids == {message_id_for(alert.id, SENDER)}  # one Message-ID, whatever happened
    assert len(server.transmissions) == 2
    assert len(server.delivered) == (2 if ack_lost else 1)
