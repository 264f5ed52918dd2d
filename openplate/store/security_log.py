"""The append-only security log: who signed in, failed, consented, got or lost tokens, and when.

Only ``append`` and reads exist here, and database triggers refuse UPDATE and DELETE (but for
the retention purge's own path, append_only.py). Nothing secret is ever written: no passwords,
codes, tokens or client secrets, and no Authorization header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import security_events

KINDS = (
    "signin.success", "signin.failure", "signin.throttled", "signup", "signout",
    "password.changed", "consent.granted", "consent.denied", "app.revoked",
    "token.issued", "token.refreshed", "token.failure", "token.throttled",
    "code.replayed", "refresh.reused", "client.secret_rotated", "client.deleted",
    "token.revoked", "keys.rotated",
    "account.disabled", "account.enabled", "account.deleted", "client.disabled",
    "client.enabled",
    # Second factors and passkeys (web/second_factor.py, routes/two_factor.py, routes/passkeys.py)
    "two_factor.enabled", "two_factor.disabled", "recovery_codes.renewed", "recovery_code.used",
    "second_factor.failure", "second_factor.throttled", "passkey.added", "passkey.renamed",
    "passkey.removed", "passkey.failure",
    "password.reset_requested", "password.reset", "email.change_requested", "email.verified",
    "session.ended", "session.others_ended", "profile.changed",
    # Dynamic client registration (accounts/self_registration.py)
    "client.registered", "client.registration_updated",
    # RFC 8628 device authorisations (web/routes/device.py)
    "device.allowed", "device.denied", "device.code_failure", "device.throttled",
    # OIDC Back-Channel Logout (openplate/backchannel.py): a logout token never delivered.
    "backchannel_logout.gave_up",
)


#: What happens all day long, kept for ``OPENPLATE_SECURITY_LOG_ROUTINE_RETENTION``; every
#: other kind (sign-ins, failures, reuse or replay detected, account and app changes) is kept
#: for ``OPENPLATE_SECURITY_LOG_RETENTION`` (see purge_repo.py).
ROUTINE_KINDS = ("token.issued", "token.refreshed", "token.revoked", "signout")

_INSERT = Prepared(security_events.insert())


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    id: int
    at: int
    kind: str
    user_id: int | None
    client_id: str | None
    ip: str | None
    detail: dict[str, object]

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "at": self.at, "kind": self.kind, "user_id": self.user_id,
                "client_id": self.client_id, "ip": self.ip, "detail": self.detail}


class SqlSecurityLog:
    def __init__(self, conn: DbConnection, *, ip: str | None = None) -> None:
        self._conn = conn
        self._ip = ip

    async def append(
        self, *, kind: str, now: int, user_id: int | None = None, client_id: str | None = None,
        ip: str | None = None, detail: dict[str, object] | None = None,
    ) -> None:
        assert kind in KINDS, kind
        ip = ip or self._ip
        await self._conn.execute(_INSERT, {
            "at": now, "kind": kind, "user_id": user_id, "client_id": client_id,
            "ip": ip[:64] if ip else None, "detail": json.dumps(detail or {}, sort_keys=True),
        })

    async def recent(self, *, user_id: int | None = None, limit: int = 100,
                     before: int | None = None) -> list[SecurityEvent]:
        """The newest ``limit`` events (of ``user_id``), newest first; with ``before``, only
        those older than the event of that id (the next page)."""
        query = select(security_events).order_by(security_events.c.id.desc()).limit(limit)
        if user_id is not None:
            query = query.where(security_events.c.user_id == user_id)
        if before is not None:
            query = query.where(security_events.c.id < before)
        rows = await self._conn.execute(query)
        return [
            SecurityEvent(r.id, r.at, r.kind, r.user_id, r.client_id, r.ip, json.loads(r.detail))
            for r in rows
        ]
