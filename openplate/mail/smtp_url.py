"""The SMTP server to send through, read from ``OPENPLATE_SMTP_URL``.

- ``smtp://host:25`` with no credentials: plain SMTP, for a relay on the same host or network.
- ``smtp://user:pass@host:587``: STARTTLS, required (credentials never cross plain text: if the
  server does not offer STARTTLS, nothing is sent and the message is tried again later).
- ``smtp+starttls://host:587``: STARTTLS without credentials.
- ``smtps://user:pass@host:465``: implicit TLS (credentials optional).

The password is kept out of every ``repr``, error message and log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

Security = Literal["plain", "starttls", "tls"]
_DEFAULT_PORTS = {"plain": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """Where mail goes, for logs: never the password."""
        who = f"{self.username}@" if self.username else ""
        return f"{self.security} smtp {who}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server ``url`` names; ValueError (whose message never repeats the URL) otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ValueError("use smtp://HOST:25, smtp://USER:PASSWORD@HOST:587 (STARTTLS) "
                         "or smtps://USER:PASSWORD@HOST:465 (TLS)")
    if not parts.hostname:
        raise ValueError("the SMTP URL has no host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("the SMTP URL must not have a path, query or fragment")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None):
        raise ValueError("the SMTP URL needs both a user name and a password, or neither")
    security: Security
    if scheme == "smtps":
        security = "tls"
    elif scheme == "smtp+starttls" or username is not None:
        security = "starttls"  # credentials are only ever sent inside TLS
    else:
        security = "plain"
    if port == 0:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535")
    return SmtpServer(host=parts.hostname, port=port or _DEFAULT_PORTS[security],
                      security=security, username=username, password=password)


def check_smtp_url(url: str) -> str:
    parse_smtp_url(url)
    return url
