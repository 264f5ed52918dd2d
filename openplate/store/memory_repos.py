"""The in-memory repositories of the protocol core's ports, with the SQL repositories'
semantics (oauth_repos.py, security_log.py); the contract suite in tests/contract/ holds them to it."""

from __future__ import annotations

import json
from dataclasses import replace

from openplate.oauth.models import (
    AccessPrincipal,
    Client,
    CodeRecord,
    PushedRecord,
    RefreshRecord,
    UserProfile,
)
from openplate.store.client_grants import ClientGrants
from openplate.store.memory_tables import CodeRow, GrantRow, PushedRow, Table, TokenRow, Unit
from openplate.store.security_log import KINDS, SecurityEvent


def _holder_disabled(unit: Unit, grant: GrantRow) -> bool:
    """The grant's user or application is disabled: its tokens are dead, as in SQL."""
    user = unit.tables.users.get(grant.user_id)
    client = unit.tables.clients.get(grant.client_pk)
    return ((user is not None and user.disabled_at is not None)
            or (client is not None and client.client.disabled))


class MemoryClients:
    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def by_client_id(self, client_id: str) -> Client | None:
        row = self._unit.tables.clients.find(client_id)
        return row.client if row is not None else None


class MemoryUsers:
    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def profile(self, user_id: int) -> UserProfile | None:
        row = self._unit.tables.users.get(user_id)
        return row.profile if row is not None else None


class MemoryGrants:
    def __init__(self, unit: Unit, client_grants: ClientGrants) -> None:
        self._unit = unit
        self._client_grants = client_grants

    async def create(
        self, *, user_id: int, client_pk: int, scope: str, now: int, auth_time: int | None = None,
        used: bool = False, for_client: bool = False, amr: str | None = None,
        resource: str | None = None,
        sid: str | None = None,
    ) -> int:
        grants = self._unit.tables.grants
        grant = GrantRow(id=grants.next_id(), user_id=user_id, client_pk=client_pk, scope=scope,
                         created_at=now, auth_time=auth_time, last_used_at=now if used else None,
                         for_client=for_client, amr=amr, resource=resource, sid=sid)
        self._unit.insert(grants, grant)
        return grant.id

    async def touch(self, *, grant_id: int, now: int) -> None:
        grants = self._unit.tables.grants
        grant = grants.get(grant_id)
        if grant is not None:
            self._unit.update(grants, replace(grant, last_used_at=now))

    async def revoke(self, *, grant_id: int, now: int) -> None:
        grants = self._unit.tables.grants
        grant = grants.get(grant_id)
        if grant is not None and grant.revoked_at is None:
            self._unit.update(grants, replace(grant, revoked_at=now))

    async def for_client(self, *, user_id: int, client_pk: int, scope: str, now: int) -> int:
        async def is_live(grant_id: int, created_at: int) -> bool:
            grant = self._unit.tables.grants.get(grant_id)
            return (grant is not None and grant.revoked_at is None
                    and (grant.client_pk, grant.user_id, grant.scope, grant.created_at)
                    == (client_pk, user_id, scope, created_at))

        return await self._client_grants.grant_for(
            (client_pk, user_id, scope), now=now, is_live=is_live,
            create=lambda: self.create(user_id=user_id, client_pk=client_pk, scope=scope, now=now,
                                       used=True, for_client=True),
            touch=lambda grant_id: self.touch(grant_id=grant_id, now=now))


class MemoryCodes:
    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def create(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, redirect_uri: str,
        scope: str, code_challenge: str | None, nonce: str | None, auth_time: int | None,
        now: int, expires_at: int, amr: str | None = None, resource: str | None = None,
        dpop_jkt: str | None = None, sid: str | None = None,
    ) -> None:
        codes = self._unit.tables.codes
        self._unit.insert(codes, CodeRow(
            id=codes.next_id(), digest=digest, grant_id=grant_id, client_pk=client_pk,
            user_id=user_id, redirect_uri=redirect_uri, scope=scope, code_challenge=code_challenge,
            nonce=nonce, auth_time=auth_time, created_at=now, expires_at=expires_at, amr=amr,
            resource=resource, dpop_jkt=dpop_jkt, sid=sid,
        ))

    async def consume(self, *, digest: str, now: int) -> CodeRecord | None:
        codes = self._unit.tables.codes
        code = codes.find(digest)
        if code is None or code.used_at is not None:
            return None
        grant = self._unit.tables.grants.get(code.grant_id)
        if grant is None or grant.revoked_at is not None or _holder_disabled(self._unit, grant):
            return None
        self._unit.update(codes, replace(code, used_at=now))
        return code.record(used=False)

    async def find(self, *, digest: str) -> CodeRecord | None:
        code = self._unit.tables.codes.find(digest)
        return code.record(used=code.used_at is not None) if code is not None else None


class MemoryTokens:
    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def create_access(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, resource: str | None = None, jkt: str | None = None,
    ) -> None:
        self._create(self._unit.tables.access, digest=digest, grant_id=grant_id,
                     client_pk=client_pk, user_id=user_id, scope=scope, now=now,
                     expires_at=expires_at, resource=resource, jkt=jkt)

    async def create_refresh(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, access_digest: str | None = None, jkt: str | None = None,
    ) -> None:
        self._create(self._unit.tables.refresh, digest=digest, grant_id=grant_id,
                     client_pk=client_pk, user_id=user_id, scope=scope, now=now,
                     expires_at=expires_at, access_digest=access_digest, jkt=jkt)

    def _create(
        self, table: Table[TokenRow], *, digest: str, grant_id: int, client_pk: int, user_id: int,
        scope: str, now: int, expires_at: int, access_digest: str | None = None,
        resource: str | None = None,
        jkt: str | None = None,
    ) -> None:
        self._unit.insert(table, TokenRow(
            id=table.next_id(), digest=digest, grant_id=grant_id, client_pk=client_pk,
            user_id=user_id, scope=scope, created_at=now, expires_at=expires_at,
            access_digest=access_digest, resource=resource, jkt=jkt,
        ))

    async def copy_access(self, *, source_digest: str, digest: str) -> None:
        access = self._unit.tables.access
        source = access.find(source_digest)
        if source is None or access.find(digest) is not None:
            return
        self._unit.insert(access, replace(source, id=access.next_id(), digest=digest))

    async def find_refresh(self, *, digest: str) -> RefreshRecord | None:
        tables = self._unit.tables
        token = tables.refresh.find(digest)
        grant = tables.grants.get(token.grant_id) if token is not None else None
        if token is None or grant is None:
            return None
        return RefreshRecord(
            id=token.id, grant_id=token.grant_id, client_pk=token.client_pk,
            user_id=token.user_id, scope=token.scope, expires_at=token.expires_at,
            used_at=token.used_at, revoked=token.revoked_at is not None,
            grant_revoked=grant.revoked_at is not None or _holder_disabled(self._unit, grant),
            auth_time=grant.auth_time,
            issued_at=token.created_at, successor_stamp=token.successor_stamp,
            grant_used_at=grant.last_used_at, access_digest=token.access_digest, amr=grant.amr,
            resource=grant.resource, jkt=token.jkt, sid=grant.sid,
        )

    async def use_refresh(
        self, *, refresh_id: int, now: int, successor_stamp: str | None
    ) -> bool:
        refresh = self._unit.tables.refresh
        token = refresh.get(refresh_id)
        if token is None or token.used_at is not None:
            return False
        self._unit.update(refresh, replace(token, used_at=now, successor_stamp=successor_stamp))
        return True

    async def find_access(self, *, digest: str, now: int) -> AccessPrincipal | None:
        tables = self._unit.tables
        token = tables.access.find(digest)
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        grant = tables.grants.get(token.grant_id)
        user = tables.users.get(token.user_id)
        if (grant is None or grant.revoked_at is not None or user is None
                or _holder_disabled(self._unit, grant)):
            return None
        return AccessPrincipal(
            token_id=token.id, grant_id=token.grant_id, user_id=token.user_id,
            client_pk=token.client_pk, scope=token.scope, expires_at=token.expires_at,
            issued_at=token.created_at, user=user.profile, for_client=grant.for_client,
            resource=token.resource, jkt=token.jkt,
        )

    async def revoke_access(self, *, token_id: int, now: int) -> None:
        access = self._unit.tables.access
        token = access.get(token_id)
        if token is not None and token.revoked_at is None:
            self._unit.update(access, replace(token, revoked_at=now))


class MemoryPushedRequests:
    """RFC 9126 pushed requests: consumed once, by their own client, before they expire."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def create(
        self, *, digest: str, client_pk: int, params: str, now: int, expires_at: int,
    ) -> None:
        pushed = self._unit.tables.pushed
        self._unit.insert(pushed, PushedRow(
            id=pushed.next_id(), digest=digest, client_pk=client_pk, params=params,
            created_at=now, expires_at=expires_at))

    async def consume(self, *, digest: str, client_pk: int, now: int) -> str | None:
        pushed = self._unit.tables.pushed
        row = pushed.find(digest)
        if (row is None or row.client_pk != client_pk or row.used_at is not None
                or row.expires_at <= now):
            return None
        self._unit.update(pushed, replace(row, used_at=now))
        return row.params

    async def find(self, *, digest: str) -> PushedRecord | None:
        row = self._unit.tables.pushed.find(digest)
        if row is None:
            return None
        return PushedRecord(client_pk=row.client_pk, params=row.params,
                            expires_at=row.expires_at, used=row.used_at is not None)


class MemorySecurityLog:
    """The append-only security log, readable as ``SqlSecurityLog`` is."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def append(
        self, *, kind: str, now: int, user_id: int | None = None, client_id: str | None = None,
        ip: str | None = None, detail: dict[str, object] | None = None,
    ) -> None:
        assert kind in KINDS, kind
        ip = ip or self._unit.ip
        events = self._unit.tables.events
        # Through JSON, as the SQL log stores it: what cannot be stored fails here too.
        stored = json.loads(json.dumps(detail or {}, sort_keys=True))
        self._unit.insert(events, SecurityEvent(
            events.next_id(), now, kind, user_id, client_id, ip[:64] if ip else None, stored))

    async def recent(self, *, user_id: int | None = None, limit: int = 100,
                     before: int | None = None) -> list[SecurityEvent]:
        rows = sorted(self._unit.tables.events.rows.values(), key=lambda e: e.id, reverse=True)
        return [e for e in rows if (user_id is None or e.user_id == user_id)
                and (before is None or e.id < before)][:limit]
