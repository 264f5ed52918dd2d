"""Openplate settings: one frozen object, loaded once by the CLI and passed down."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_FILE = "openplate.db"
SECRET_KEY_FILE = "openplate-secret.key"
#: A key file with a shorter key in it is not used (see ``read_key``).
MIN_SECRET_KEY_LENGTH = 32
#: What ``database_url`` may name: SQLite (a file, or ``sqlite://`` in memory) or PostgreSQL.
_DATABASE_URL = re.compile(r"sqlite(\+aiosqlite)?://(/.+)?|(postgresql(\+asyncpg)?|postgres)://.*",
                           re.DOTALL)


def check_database_url(url: str) -> str:
    """A URL the engines here can open (store/engine.py); the message never repeats the URL,
    which may carry a password."""
    if not _DATABASE_URL.fullmatch(url):
        raise ValueError("unsupported database URL: use sqlite:///PATH or postgresql://USER@HOST/DB")
    if url.startswith("postgres"):
        try:
            urlsplit(url).port  # noqa: B018 - raises on a port that is not 0-65535
        except ValueError:
            raise ValueError("the database URL's port is not a number from 1 to 65535") from None
    return url


def check_public_url(url: str) -> str:
    """An absolute http(s) URL with a host and no query, fragment or user name: the issuer and
    the base of every link the server sends."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("must be an absolute http(s) URL with a valid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise ValueError("must be an absolute http(s) URL, such as https://id.example.com")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("must not have a query or fragment")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    if any(ch.isspace() for ch in url):
        raise ValueError("must not contain spaces")
    return url


def check_mail_from(value: str) -> str:
    """An address mail can come from: ``openplate@example.com`` or ``Openplate <openplate@example.com>``."""
    from email.headerregistry import Address
    from email.utils import parseaddr

    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch in value for ch in "\r\n"):
        raise ValueError("must be an e-mail address, such as Openplate <openplate@example.com>")
    try:
        Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        raise ValueError("must be an e-mail address, such as Openplate <openplate@example.com>") from None
    return value


def _check_smtp_url(url: str) -> str:
    from openplate.mail.smtp_url import check_smtp_url

    return check_smtp_url(url)


def _check_ca_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError("no such file")
    return path


DatabaseUrl = Annotated[str, AfterValidator(check_database_url)]
SmtpUrl = Annotated[str, AfterValidator(_check_smtp_url)]
MailFrom = Annotated[str, AfterValidator(check_mail_from)]
CaFile = Annotated[Path, AfterValidator(_check_ca_file)]
PublicUrl = Annotated[str, AfterValidator(check_public_url)]


class Settings(BaseSettings):
    """Everything a deployment can change. Environment variables use the ``OPENPLATE_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="OPENPLATE_", frozen=True, extra="ignore")

    database_url: DatabaseUrl = f"sqlite:///{DEFAULT_DATABASE_FILE}"
    public_url: PublicUrl | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Key for the keyed digests of client secrets, tokens, codes and session ids.
    # When unset, a random key is created once in ``openplate-secret.key`` beside the database.
    secret_key: str | None = Field(default=None, repr=False)
    access_token_ttl: int = Field(default=3600, ge=60, le=86_400)
    refresh_token_ttl: int = Field(default=60 * 86_400, ge=3600)
    code_ttl: int = Field(default=60, ge=10, le=600)
    # RFC 8628: a device code's lifetime (expires_in) and the seconds between its polls.
    device_code_ttl: int = Field(default=600, ge=60, le=1800)
    device_poll_interval: int = Field(default=5, ge=1, le=60)
    session_ttl: int = Field(default=14 * 86_400, ge=300)
    auth_request_ttl: int = Field(default=1800, ge=60)
    # RFC 9126: seconds a pushed authorisation request's request_uri can be used (once).
    par_ttl: int = Field(default=60, ge=10, le=600)
    # RFC 9126 §5: every authorisation request must be pushed first (POST /oauth/par).
    require_par: bool = False
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # The map's content document (content.json, content.xml or the .mm file) once unpacked:
    # parsing costs memory and CPU in proportion, so it is bounded well below the upload cap.
    max_map_document_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # How many uploads are parsed at once per process; the rest wait their turn.
    upload_parse_concurrency: int = Field(default=2, ge=1, le=64)
    # Signing algorithm of ID tokens and JWT access tokens: RS256, ES256 or EdDSA.
    signing_alg: Literal["RS256", "ES256", "EdDSA"] = "RS256"
    # How often each process reloads the signing keys, so a rotation made elsewhere (the CLI,
    # another node) is picked up.
    key_reload_interval: int = Field(default=60, ge=1, le=3600)
    # "opaque" access tokens (the default), or RFC 9068 "jwt" for APIs that validate locally.
    access_token_format: Literal["opaque", "jwt"] = "opaque"
    # The "aud" of JWT access tokens and introspection answers; defaults to the public URL.
    api_audience: str | None = None
    # A rotated refresh token presented again within this many seconds gets the same successor.
    refresh_grace: int = Field(default=10, ge=0, le=120)
    # New tokens, codes and session ids begin with their minting time (see oauth/tokens.py). Turn
    # off only while rolling out over nodes of a release that predates stamps (docs/deploy.md).
    stamped_secrets: bool = True
    # Brute-force throttling: attempts allowed per key and window before answering 429
    # (docs/security.md, "Throttling"). A sign-in attempt counts from before its password is
    # checked and is given back if the password was right; a known device has its own budget
    # as large as the per-account one.
    signin_failures_per_account: int = Field(default=10, ge=1)  # per 15 minutes
    signin_failures_per_ip: int = Field(default=30, ge=1)  # per 5 minutes
    token_failures_per_client: int = Field(default=60, ge=1)  # per minute
    token_failures_per_ip: int = Field(default=120, ge=1)  # per minute
    signups_per_ip: int = Field(default=20, ge=1)  # sign-up attempts per hour
    # User codes typed on /device (RFC 8628 §5.1), counted before the lookup.
    device_codes_per_user: int = Field(default=10, ge=1)  # per 15 minutes
    device_codes_per_ip: int = Field(default=30, ge=1)  # per 5 minutes
    # Mailed one-time links (password resets, e-mail verifications), per hour.
    link_mails_per_account: int = Field(default=3, ge=1)  # per account (or name typed)
    link_mails_per_ip: int = Field(default=20, ge=1)  # per client address
    # Authorising an application needs a verified e-mail address (docs/accounts.md).
    require_verified_email: bool = False
    # How long a SQLite writer waits for the lock before the request fails with 503.
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # Scale-out: shared rate-limit counters in Redis (falling back to the database if it fails).
    #: PostgreSQL connections kept open per process (as many again may open under bursts).
    db_pool_size: int = Field(default=32, ge=1, le=1000)
    # Time limits, in seconds, on every call to PostgreSQL and Redis: a database that stops
    # answering (frozen, not stopped) costs a request at most about this long, then a 503.
    db_connect_timeout: float = Field(default=5.0, gt=0, le=300)  # opening a connection
    db_pool_timeout: float = Field(default=5.0, gt=0, le=300)  # waiting for a pooled connection
    db_statement_timeout: float = Field(default=5.0, gt=0, le=3600)  # each statement and COMMIT
    redis_url: str | None = None
    redis_prefix: str = "openplate:"
    redis_timeout: float = Field(default=0.5, gt=0, le=60)  # connecting, and each command
    # An idle HTTP keep-alive connection is closed after this many seconds. Behind a load
    # balancer, make it longer than the balancer's own idle timeout (docs/deploy.md).
    keepalive_timeout: int = Field(default=5, ge=1, le=3600)
    # /readyz answers within this, whatever the database and Redis do.
    readyz_timeout: float = Field(default=2.0, gt=0, le=60)
    # Housekeeping: delete expired codes, tokens, sessions and parked requests every N seconds
    # in each process (0 turns the periodic task off; `openplate purge` still works).
    purge_interval: int = Field(default=3600, ge=0)
    purge_batch: int = Field(default=1000, ge=1, le=100_000)
    # How long the purge keeps the security log (seconds): routine events (tokens issued,
    # refreshed and revoked, sign-outs), and every other kind (sign-ins, failures, reuse
    # detected, password changes, ...) at least as long.
    security_log_routine_retention: int = Field(default=30 * 86_400, ge=60)
    security_log_retention: int = Field(default=365 * 86_400, ge=60)
    # A rotated refresh token is kept this long after its rotation (at least the grace window),
    # so that presenting it again is recognised as reuse and ends its grant; then it is purged.
    refresh_reuse_window: int = Field(default=7 * 86_400, ge=0)
    # DPoP (RFC 9449; docs/dpop.md): how old a proof may be (its iat, in seconds) and how far
    # ahead of our clock; how long a server nonce lasts (each is accepted for one to two of
    # these); and whether proofs must carry our nonce at the token endpoint and on the API.
    dpop_proof_max_age: int = Field(default=60, ge=5, le=600)
    dpop_clock_skew: int = Field(default=5, ge=0, le=300)
    dpop_nonce_lifetime: int = Field(default=300, ge=10, le=86_400)
    dpop_nonce_at_token: bool = True
    dpop_nonce_at_resources: bool = False
    # Trust X-Forwarded-For/-Proto from these proxy addresses (comma-separated), e.g. "127.0.0.1".
    forwarded_allow_ips: str | None = None
    sql_echo: bool = False
    # Mail (docs/accounts.md, "E-mail"). No SMTP URL: mail is written to the folder
    # openplate-mail/ beside the SQLite file instead (one .eml per message).
    smtp_url: SmtpUrl | None = Field(default=None, repr=False)
    # The From address; defaults to Openplate <openplate@HOST of the public URL>.
    mail_from: MailFrom | None = None
    # A CA bundle (PEM) to trust for the SMTP server's certificate, e.g. a private CA.
    smtp_ca_file: CaFile | None = None
    smtp_timeout: float = Field(default=30.0, gt=0, le=600)  # connecting, and each command
    # How long `openplate purge` keeps sent mail in the queue (its bodies are blanked once sent).
    mail_retention: int = Field(default=7 * 86_400, ge=0)
    # Dynamic client registration at /oauth/register (RFC 7591; docs/registration.md): "off",
    # "token" (each registration needs an initial access token from
    # `openplate app registration-token`) or "open" (anyone may register an app).
    registration: Literal["off", "token", "open"] = "off"
    # Client ID metadata documents: a client_id that is an https URL is fetched and used as the
    # app's registration (docs/registration.md). Off by default.
    client_id_metadata_documents: bool = False
    # Open registration: apps registered per client address per hour.
    registrations_per_ip: int = Field(default=10, ge=1)
    # Open registration: an app that registered itself and has had no grant made or used for
    # this many seconds is deleted by the purge.
    registration_unused_retention: int = Field(default=30 * 86_400, ge=3600)
    # How often the mail worker looks for due messages (it is woken at once for this process's).
    mail_poll_interval: float = Field(default=10.0, gt=0, le=3600)
    # URLs that applications register and this server then requests (Back-Channel Logout URIs)
    # may name private, loopback and link-local addresses: for development and tests only
    # (openplate/net_guard.py; docs/logout.md). Off, such a URL is refused when registered and
    # when requested.
    allow_private_client_urls: bool = False
    # A CA bundle (PEM) trusted, besides the system's, for https requests to URLs that apps
    # register (client ID metadata documents, back-channel logout URIs): a private CA.
    client_urls_ca_file: CaFile | None = None
    # Back-Channel Logout delivery: the time limit of one POST, and how long a logout token is
    # retried (with backoff) before it is given up (and the security log says so).
    backchannel_logout_timeout: float = Field(default=5.0, gt=0, le=60)
    backchannel_logout_give_up: int = Field(default=3600, ge=10, le=7 * 86_400)

    @field_validator("security_log_retention")
    @classmethod
    def _security_events_kept_longer(cls, value: int, info: ValidationInfo) -> int:
        routine = info.data.get("security_log_routine_retention")
        if routine is not None and value < routine:
            raise ValueError(f"must be at least security_log_routine_retention ({routine})")
        return value

    @field_validator("refresh_reuse_window")
    @classmethod
    def _reuse_window_covers_grace(cls, value: int, info: ValidationInfo) -> int:
        grace = info.data.get("refresh_grace")
        if grace is not None and value < grace:
            raise ValueError(f"must be at least refresh_grace ({grace})")
        return value

    @property
    def base_url(self) -> str:
        """The externally visible base URL, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def mail_sender(self) -> str:
        """The From header of every message."""
        if self.mail_from:
            return self.mail_from
        host = urlsplit(self.base_url).hostname or "localhost"
        return f"Openplate <openplate@{host}>"

    @property
    def mail_folder(self) -> Path:
        """Where mail goes when no SMTP server is set: beside the SQLite file, else here."""
        db = self.sqlite_path
        return (db.parent if db is not None else Path.cwd()) / "openplate-mail"

    @property
    def audience(self) -> str:
        return self.api_audience or self.base_url

    @property
    def key_retention(self) -> int:
        """How long a retired signing key stays published: past every token it signed."""
        return max(self.access_token_ttl, 3600) + 300

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file behind ``database_url``, or None for another engine or memory."""
        url = self.database_url
        for prefix in ("sqlite+aiosqlite:///", "sqlite:///"):
            if url.startswith(prefix):
                path = url[len(prefix):].split("?", 1)[0]
                return None if path in ("", ":memory:") else Path(path)
        return None

    @property
    def key_file(self) -> Path:
        """Where the instance key is kept when ``secret_key`` is unset: beside the SQLite file,
        else in the current folder."""
        db = self.sqlite_path
        return (db.parent if db is not None else Path.cwd()) / SECRET_KEY_FILE

    def with_secret_key(self) -> Settings:
        """Return settings whose secret key is set, creating the key file on first use."""
        if self.secret_key:
            return self
        return self.model_copy(update={"secret_key": load_or_create_key(self.key_file)})


def read_key(path: Path) -> str | None:
    """The instance key in ``path``, or None if there is none there; never creates one."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return key if len(key) >= MIN_SECRET_KEY_LENGTH else None


def load_or_create_key(path: Path) -> str:
    """Read the instance key from ``path``, creating it (mode 0600) if it does not exist yet."""
    key = read_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
