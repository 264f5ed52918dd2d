"""A queued message as an RFC 5322 message, with plain-text and HTML alternatives."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from openplate.store.mail_repos import OutboxMessage


def mime_message(message: OutboxMessage, *, sender: str, domain: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(datetime.fromtimestamp(message.created_at, UTC))
    # The same Message-ID on every attempt, so a receiver can tell a repeat from a new message.
    mail["Message-ID"] = f"<openplate.{message.id}.{message.created_at}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text_body or "")
    if message.html_body:
        mail.add_alternative(message.html_body, subtype="html")
    return mail
