"""The embedded default: each email is logged and appended to a local mbox file.

The file is a standard mbox (`mutt -f llmobserve-mail.log`, or Python's `mailbox.mbox`),
so a developer can read exactly what a real mailer would have sent.
"""

from __future__ import annotations

import asyncio
import logging
import mailbox
from email.message import EmailMessage
from pathlib import Path

from adapters.email.message import build_mime
from application.ports import Mailer, OutgoingEmail

log = logging.getLogger("llmobserve.mail")


class ConsoleMailer(Mailer):
    def __init__(self, sender: str, path: str | Path | None = "./llmobserve-mail.log") -> None:
        self._sender = sender
        self._path = Path(path) if path is not None else None

    async def send(self, email: OutgoingEmail) -> None:
        message = build_mime(email, self._sender)
        log.info(
            "email (console mailer: written, not delivered) to=%s subject=%s\n%s",
            ", ".join(email.to),
            email.subject,
            email.text,
        )
        if self._path is not None:
            await asyncio.to_thread(self._append, message)

    def _append(self, message: EmailMessage) -> None:
        assert self._path is not None
        self._path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(self._path)
        box.lock()  # several workers may append to the same file
        try:
            box.add(message)
            box.flush()
        finally:
            box.unlock()
            box.close()
