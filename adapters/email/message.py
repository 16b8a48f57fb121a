"""The email on the wire: one MIME builder for every mailer, and the alert's stable identity.

An `OutgoingEmail` may name the alert it announces. Every mailer derives
the Message-ID from that alert id, so the email of a resent alert (after a worker crash)
carries the Message-ID of the first try and receivers can recognise the duplicate.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from application.ports import OutgoingEmail

ALERT_ID_HEADER = "X-LLMObserve-Alert-Id"
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def alert_id_of(email: OutgoingEmail) -> str | None:
    return email.alert_id or None


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "llmobserve.localhost"


def message_id_for(alert_id: str, sender: str) -> str:
    """<alrt_...@llmobserve.example.com>: the same alert always gets the same Message-ID."""
    return f"<{_SAFE_ID.sub('-', alert_id)}.alert@{sender_domain(sender)}>"


def build_mime(email: OutgoingEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    alert_id = alert_id_of(email)
    if alert_id is not None:
        message["Message-ID"] = message_id_for(alert_id, sender)
        message[ALERT_ID_HEADER] = alert_id
    else:
        message["Message-ID"] = make_msgid(domain=sender_domain(sender))
    # RFC 3834: an automatic notice; out-of-office responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message
