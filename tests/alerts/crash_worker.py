"""One dispatcher run in its own process, on a SQLite file, for the kill -9 test.

    python -m tests.alerts.crash_worker DATABASE_URL SMTP_PORT NOW_ISO

The clock is fixed to NOW_ISO so the test can place each run before or after the
in-flight window of an interrupted attempt without waiting minutes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from adapters.email.config import SmtpSecurity
from adapters.email.render import AlertEmailRenderer
from adapters.email.smtp import SmtpMailer
from adapters.sql.database import SqlUnitOfWorkFactory, make_engine
from application.dispatch_alerts import DispatchAlerts
from tests.alerts.support import SENDER


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


async def main(url: str, port: int, now: datetime) -> None:
    engine = make_engine(url)
    try:
        dispatch = DispatchAlerts(
            SqlUnitOfWorkFactory(engine),
            SmtpMailer("127.0.0.1", port, SENDER, SmtpSecurity.NONE, timeout_seconds=60),
            AlertEmailRenderer(),
            FixedClock(now),
        )
        report = await dispatch()
        print(json.dumps({"sent": report.sent, "failed": report.failed}), flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])))
