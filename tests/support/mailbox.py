"""Reading what a test server mailed: the ``.eml`` files of its outbox folder (no SMTP server
configured), waited for as a condition."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tests.support.server import LiveServer
from tests.support.waiting import exited, wait_until

_LINK = re.compile(r"https?://[^\s/]+(/(?:password/reset|account/email/verify)/[A-Za-z0-9_\-]+)")


def folder_of(server: LiveServer) -> Path:
    return server.folder / "openplate-mail"


def read_all(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()  # type: ignore[attr-defined]
    assert isinstance(content, str)
    return content


def mail_to(server: LiveServer, address: str, *, subject: str | None = None,
            count: int = 1) -> list[EmailMessage]:
    """Wait until the server has written ``count`` messages to ``address`` (with ``subject``)."""
    folder = folder_of(server)

    def found() -> list[EmailMessage]:
        return [m for m in read_all(folder)
                if m["To"] == address and (subject is None or m["Subject"] == subject)]

    wait_until(lambda: len(found()) >= count,
               f"{count} message(s) to {address}{f' ({subject})' if subject else ''} in {folder}",
               log=server.log, gone=exited(server.process),
               seen=lambda: [(m["To"], m["Subject"]) for m in read_all(folder)][-5:])
    return found()


def link_in(message: EmailMessage) -> str:
    """The path of the one-time link a message holds."""
    found = _LINK.search(text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)
