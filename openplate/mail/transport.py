"""Where mail goes: an SMTP server (stdlib ``smtplib``, run in a worker thread), or a folder of
``.eml`` files when no server is configured.

Why ``smtplib`` in a thread rather than ``aiosmtplib``: the worker sends one message at a time,
in the background, so a thread costs nothing the event loop would notice; the standard library
has STARTTLS, implicit TLS and AUTH, and no dependency is added to the server for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from openplate.mail.smtp_url import SmtpServer

log = logging.getLogger("openplate.mail")


class SendFailed(Exception):
    """This attempt failed; the message is tried again later. The text never holds a password."""


class Transport(Protocol):
    def describe(self) -> str: ...

    async def send(self, message: EmailMessage, *, message_id: int) -> None:
        """Deliver ``message`` or raise ``SendFailed``."""


class FolderTransport:
    """Each message becomes ``<id>.eml`` in ``folder`` (mode 0600: it holds one-time links),
    written whole or not at all; its path is logged, never its content."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"the folder {self.folder}"

    async def send(self, message: EmailMessage, *, message_id: int) -> None:
        try:
            path = await asyncio.to_thread(self._write, message, message_id)
        except OSError as error:
            raise SendFailed(f"cannot write to {self.folder}: {error.strerror or error}") from None
        log.info("mail written to %s", path,
                 extra={"fields": {"mail_id": message_id, "path": str(path)}})

    def _write(self, message: EmailMessage, message_id: int) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{message_id:08d}.eml"
        partial = path.with_suffix(".eml.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes())
        os.replace(partial, path)
        return path


class SmtpTransport:
    """One connection per message: mail is rare, and no idle connection can go stale."""

    def __init__(self, server: SmtpServer, *, timeout: float, ca_file: Path | None = None) -> None:
        self.server = server
        self.timeout = timeout
        self.ca_file = ca_file

    def describe(self) -> str:
        return self.server.describe()

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    async def send(self, message: EmailMessage, *, message_id: int) -> None:
        try:
            await asyncio.to_thread(self._send, message)
        except SendFailed:
            raise
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode("utf-8", "replace") if isinstance(
                error.smtp_error, bytes) else str(error.smtp_error)
            raise SendFailed(f"{self._where()}: {error.smtp_code} {' '.join(text.split())}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"{self._where()}: {type(error).__name__}: "
                             f"{' '.join(str(error).split()) or 'no detail'}") from None
        log.info("mail sent", extra={"fields": {"mail_id": message_id}})

    def _where(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def _send(self, message: EmailMessage) -> None:
        server = self.server
        client: smtplib.SMTP
        if server.security == "tls":
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                      context=self.tls_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if server.security == "starttls":
                if not client.has_extn("starttls"):
                    raise SendFailed(f"{self._where()} does not offer STARTTLS, which "
                                     "OPENPLATE_SMTP_URL requires; nothing was sent")
                client.starttls(context=self.tls_context())
                client.ehlo()
            if server.username is not None and server.password is not None:
                client.login(server.username, server.password)
            client.send_message(message)


def transport_for(*, smtp_url: str | None, folder: Path, timeout: float,
                  ca_file: Path | None) -> Transport:
    from openplate.mail.smtp_url import parse_smtp_url

    if smtp_url is None:
        return FolderTransport(folder)
    return SmtpTransport(parse_smtp_url(smtp_url), timeout=timeout, ca_file=ca_file)
