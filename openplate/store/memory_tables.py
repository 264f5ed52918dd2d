"""The in-memory store's tables: frozen rows by id (and by digest), and the unit of work that
journals every change so that a failing unit can undo its own (see memory.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from openplate.oauth.models import Client, CodeRecord, DeviceRecord, UserProfile
from openplate.store.security_log import SecurityEvent


class DuplicateRow(Exception):
    """A row with this id or digest exists already (SQL's unique constraint)."""


class Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=Row)


class Table(Generic[R]):
    """Rows by id, and by a unique key (a digest) when the rows have one."""

    def __init__(self, key: Callable[[R], str] | None = None) -> None:
        self.rows: dict[int, R] = {}
        self._key = key
        self._index: dict[str, int] = {}
        self._last_id = 0

    def next_id(self) -> int:
        """A new id; like a PostgreSQL sequence, never handed out twice, even after a rollback."""
        self._last_id += 1
        return self._last_id

    def get(self, row_id: int) -> R | None:
        return self.rows.get(row_id)

    def find(self, key: str) -> R | None:
        row_id = self._index.get(key)
        return self.rows[row_id] if row_id is not None else None

    def add(self, row: R) -> None:
        key = self._key(row) if self._key is not None else None
        if row.id in self.rows or (key is not None and key in self._index):
            raise DuplicateRow(f"{type(row).__name__} {row.id} exists already")
        self.rows[row.id] = row
        if key is not None:
            self._index[key] = row.id
        self._last_id = max(self._last_id, row.id)

    def remove(self, row: R) -> None:
        del self.rows[row.id]
        if self._key is not None:
            del self._index[self._key(row)]

    def put(self, row: R) -> R:
        """Replace the row with the same id (its key unchanged); return the old one."""
        old = self.rows[row.id]
        self.rows[row.id] = row
        return old


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    user_id: int
    client_pk: int
    scope: str
    created_at: int
    auth_time: int | None
    last_used_at: int | None
    revoked_at: int | None = None
    for_client: bool = False
    amr: str | None = None
    resource: str | None = None
    sid: str | None = None


@dataclass(frozen=True, slots=True)
class CodeRow:
    id: int
    digest: str
    grant_id: int
    client_pk: int
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    nonce: str | None
    auth_time: int | None
    created_at: int
    expires_at: int
    used_at: int | None = None
    amr: str | None = None
    resource: str | None = None
    dpop_jkt: str | None = None
    sid: str | None = None

    def record(self, *, used: bool) -> CodeRecord:
        return CodeRecord(
            id=self.id, grant_id=self.grant_id, client_pk=self.client_pk, user_id=self.user_id,
            redirect_uri=self.redirect_uri, scope=self.scope, code_challenge=self.code_challenge,
            expires_at=self.expires_at, used=used, nonce=self.nonce, auth_time=self.auth_time,
            amr=self.amr, resource=self.resource, dpop_jkt=self.dpop_jkt, sid=self.sid,
        )


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An access or a refresh token (access tokens never get ``used_at`` or a stamp)."""

    id: int
    digest: str
    grant_id: int
    client_pk: int
    user_id: int
    scope: str
    created_at: int
    expires_at: int
    used_at: int | None = None
    revoked_at: int | None = None
    successor_stamp: str | None = None
    access_digest: str | None = None  # refresh tokens: the access token minted with it
    resource: str | None = None  # access tokens: RFC 8707, what it is for (None: the API)
    jkt: str | None = None  # the DPoP key it is bound to (RFC 9449)


@dataclass(frozen=True, slots=True)
class PushedRow:
    """A pushed authorisation request (RFC 9126), by the digest of its request_uri."""

    id: int
    digest: str
    client_pk: int
    params: str
    created_at: int
    expires_at: int
    used_at: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device authorisation (RFC 8628), as the ``device_codes`` table holds it."""

    id: int
    device_digest: str
    user_digest: str
    client_pk: int
    scope: str
    created_at: int
    expires_at: int
    poll_interval: int
    last_polled_at: int | None = None
    status: str = "pending"
    claimed_by: int | None = None
    user_id: int | None = None
    decided_at: int | None = None
    auth_time: int | None = None
    amr: str | None = None
    used_at: int | None = None

    def record(self, client_id: str = "") -> DeviceRecord:
        return DeviceRecord(
            id=self.id, client_pk=self.client_pk, scope=self.scope, created_at=self.created_at,
            expires_at=self.expires_at, interval=self.poll_interval, status=self.status,
            user_id=self.user_id, claimed_by=self.claimed_by, used=self.used_at is not None,
            auth_time=self.auth_time, amr=self.amr, client_id=client_id,
        )


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    profile: UserProfile
    disabled_at: int | None = None


@dataclass(frozen=True, slots=True)
class ClientRow:
    id: int
    client: Client


def _digest_of(row: CodeRow | TokenRow | PushedRow) -> str:
    return row.digest


class Tables:
    def __init__(self) -> None:
        self.users: Table[UserRow] = Table()
        self.clients: Table[ClientRow] = Table(lambda row: row.client.client_id)
        self.grants: Table[GrantRow] = Table()
        self.codes: Table[CodeRow] = Table(_digest_of)
        self.access: Table[TokenRow] = Table(_digest_of)
        self.refresh: Table[TokenRow] = Table(_digest_of)
        self.devices: Table[DeviceRow] = Table(lambda row: row.device_digest)
        self.events: Table[SecurityEvent] = Table()
        self.pushed: Table[PushedRow] = Table(_digest_of)


class Unit:
    """One unit of work: the tables while it is open, and the steps that undo its changes."""

    def __init__(self, tables: Tables, ip: str | None) -> None:
        self._tables = tables
        self.ip = ip
        self.open = True
        self._undo: list[Callable[[], object]] = []

    @property
    def tables(self) -> Tables:
        self._check_open()
        return self._tables

    def _check_open(self) -> None:
        if not self.open:
            raise RuntimeError("This unit of work has ended; open another with db.transaction().")

    def insert(self, table: Table[R], row: R) -> None:
        self._check_open()
        table.add(row)
        self._undo.append(lambda: table.remove(row))

    def update(self, table: Table[R], row: R) -> None:
        self._check_open()
        old = table.put(row)
        self._undo.append(lambda: table.put(old))

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()
