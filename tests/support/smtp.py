"""A real SMTP server for tests: aiosmtpd on a loopback port, plain, STARTTLS or implicit TLS,
with or without AUTH, and a private CA (made here with ``cryptography``) that signed its
certificate. It can be stopped and started again on the same port (an outage)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.server import free_port

Kind = Literal["plain", "starttls", "tls"]
#: The password has characters a URL must escape (smtplib sends ASCII passwords only).
USER, PASSWORD = "mailer", "s3cret/smtp@pass:word"


def make_ca_and_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 and localhost it signed: the CA's
    PEM (what OPENPLATE_SMTP_CA_FILE names), the server's certificate and key."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Openplate test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "smtp.pem", folder / "smtp.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


@dataclass
class Inbox:
    """What the server accepted, as parsed messages, with who logged in to send each."""

    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            self.logins.append(session.auth_data.login.decode() if session.authenticated
                               and isinstance(session.auth_data, LoginPassword) else None)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and \
        data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=data)


class SmtpServer:
    """``start``/``stop`` as often as a test likes, always on ``port``."""

    def __init__(self, kind: Kind, folder: Path, *, auth: bool) -> None:
        self.kind, self.auth, self.port = kind, auth, free_port()
        self.inbox = Inbox()
        self.ca, cert, key = make_ca_and_cert(folder)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = {"plain": "smtp", "starttls": "smtp+starttls", "tls": "smtps"}[self.kind]
        credentials = f"{USER}:{quote(PASSWORD, safe='')}@" if self.auth else ""
        if self.auth and self.kind == "starttls":
            scheme = "smtp"  # credentials on smtp:// mean STARTTLS
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"

    def start(self) -> None:
        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port}
        if self.kind == "starttls":
            options.update(tls_context=self.context, require_starttls=True)
        if self.kind == "tls":
            options.update(ssl_context=self.context)
        if self.auth:
            # aiosmtpd knows only STARTTLS as TLS (on implicit TLS the whole session is): there
            # it offers AUTH without requiring it, and the tests check who logged in.
            starttls = self.kind == "starttls"
            options.update(authenticator=_authenticate, auth_required=starttls,
                           auth_require_tls=starttls)
        self._controller = Controller(self.inbox, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
