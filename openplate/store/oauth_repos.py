"""SQL repositories for the protocol core's aggregates: clients, grants, codes and tokens."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, bindparam, select, text, update

from openplate.oauth.models import (
    AccessPrincipal,
    Client,
    CodeRecord,
    RefreshRecord,
    UserProfile,
)
from openplate.store.client_cache import ClientCache
from openplate.store.client_grants import ClientGrants
from openplate.store.prepared import DbConnection, Prepared
from openplate.store.tables import (
    access_tokens,
    authorization_codes,
    clients,
    grants,
    refresh_tokens,
    users,
)

# Hot statements are built once, with bind parameters, so each call only binds values; as
# ``Prepared`` they run on the SQLite driver directly (see prepared.py).
_CLIENT_BY_ID = Prepared(select(clients).where(clients.c.client_id == bindparam("cid")))
_GRANT_INSERT = Prepared(grants.insert().returning(grants.c.id))
_GRANT_TOUCH = Prepared(
    update(grants).where(grants.c.id == bindparam("gid")).values(last_used_at=bindparam("at"))
)
# The whole identity, not only the id: SQLite may give a deleted row's id to the next new row.
_GRANT_LIVE = Prepared(
    select(grants.c.id).where(
        grants.c.id == bindparam("gid"), grants.c.client_pk == bindparam("cpk"),
        grants.c.user_id == bindparam("uid"), grants.c.scope == bindparam("scope"),
        grants.c.created_at == bindparam("created"), grants.c.revoked_at.is_(None),
    )
)
_ACCESS_INSERT = Prepared(access_tokens.insert())
_REFRESH_INSERT = Prepared(refresh_tokens.insert())
_CODE_INSERT = Prepared(authorization_codes.insert())


_CODE_COLUMNS = (
    authorization_codes.c.id,
    authorization_codes.c.grant_id,
    authorization_codes.c.client_pk,
    authorization_codes.c.user_id,
    authorization_codes.c.redirect_uri,
    authorization_codes.c.scope,
    authorization_codes.c.code_challenge,
    authorization_codes.c.expires_at,
    authorization_codes.c.nonce,
    authorization_codes.c.auth_time,
    authorization_codes.c.amr,
    authorization_codes.c.resource,
    authorization_codes.c.dpop_jkt,
    authorization_codes.c.sid,
)
# A code whose grant was revoked meanwhile (a new password, the app revoked), or whose user or
# application was disabled, is not consumed: its tokens would be born dead.
_CODE_CONSUME = Prepared(
    update(authorization_codes)
    .where(authorization_codes.c.digest == bindparam("d"), authorization_codes.c.used_at.is_(None),
           select(grants.c.id).where(grants.c.id == authorization_codes.c.grant_id,
                                     grants.c.revoked_at.is_(None),
                                     users.c.id == grants.c.user_id, users.c.disabled_at.is_(None),
                                     clients.c.id == grants.c.client_pk,
                                     clients.c.disabled_at.is_(None)).exists())
    .values(used_at=bindparam("at"))
    .returning(*_CODE_COLUMNS)
)
_REFRESH_BY_DIGEST = Prepared(
    select(refresh_tokens, grants.c.revoked_at.label("grant_revoked_at"),
           grants.c.auth_time.label("auth_time"), grants.c.last_used_at.label("grant_used_at"),
           grants.c.amr.label("amr"), grants.c.resource.label("grant_resource"),
           grants.c.sid.label("sid"),
           users.c.disabled_at.label("user_disabled_at"),
           clients.c.disabled_at.label("client_disabled_at"))
    .join(grants, grants.c.id == refresh_tokens.c.grant_id)
    .join(users, users.c.id == grants.c.user_id)
    .join(clients, clients.c.id == grants.c.client_pk)
    .where(refresh_tokens.c.digest == bindparam("d"))
)
_REFRESH_USE = Prepared(
    update(refresh_tokens)
    .where(refresh_tokens.c.id == bindparam("rid"), refresh_tokens.c.used_at.is_(None))
    .values(used_at=bindparam("at"), successor_stamp=bindparam("stamp"))
    .returning(refresh_tokens.c.id)
)
# The bearer check of every API call, UserInfo and introspection: one statement. A disabled user
# or application is read here, by primary key, in the same statement (no cache on any node to go
# stale), so disabling takes effect on every node with the next request. Disabling also revokes
# the grants (openplate/accounts/lifecycle.py), so enabling does not bring these tokens back;
# the join is what holds against a token minted on another node in the very moment of disabling.
_LIVE_ACCESS = Prepared(
    select(access_tokens.c.id, access_tokens.c.grant_id, access_tokens.c.user_id,
           access_tokens.c.client_pk, access_tokens.c.scope, access_tokens.c.expires_at,
           access_tokens.c.created_at, access_tokens.c.jkt, users.c.username, users.c.email,
           users.c.created_at.label("member_since"), users.c.email_verified_at,
           users.c.display_name,
           grants.c.for_client, access_tokens.c.resource)
    .join(grants, grants.c.id == access_tokens.c.grant_id)
    .join(users, users.c.id == access_tokens.c.user_id)
    .join(clients, clients.c.id == access_tokens.c.client_pk)
    .where(
        and_(
            access_tokens.c.digest == bindparam("d"),
            access_tokens.c.revoked_at.is_(None),
            access_tokens.c.expires_at > bindparam("now"),
            grants.c.revoked_at.is_(None),
            users.c.disabled_at.is_(None),
            clients.c.disabled_at.is_(None),
        )
    )
)


# SQLite and PostgreSQL share this syntax (SQLite wants the WHERE that the SELECT has anyway).
_ACCESS_COPY = text(
    "INSERT INTO access_tokens (digest, grant_id, client_pk, user_id, scope, created_at,"
    " expires_at, resource, jkt) SELECT :new, grant_id, client_pk, user_id, scope, created_at,"
    " expires_at, resource, jkt"
    " FROM access_tokens WHERE digest = :old ON CONFLICT (digest) DO NOTHING"
)


def client_from_row(row: Any) -> Client:
    return Client(
        pk=row.id,
        client_id=row.client_id,
        name=row.name,
        owner_id=row.owner_id,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        secret_digest=row.secret_digest,
        require_pkce=bool(row.require_pkce),
        grant_types=tuple(row.grant_types.split()),
        trusted=row.trusted_at is not None,
        id_token_alg=row.id_token_alg,
        homepage_url=row.homepage_url,
        description=row.description,
        privacy_url=row.privacy_url,
        logo_digest=row.logo_digest,
        disabled=row.disabled_at is not None,
        require_pushed_authorization_requests=bool(row.require_pushed_authorization_requests),
        registration=row.registration,
        application_type=row.application_type or "web",
        dpop_bound_access_tokens=bool(row.dpop_bound_access_tokens),
        post_logout_redirect_uris=tuple(json.loads(row.post_logout_redirect_uris or "[]")),
        backchannel_logout_uri=row.backchannel_logout_uri,
        backchannel_logout_session_required=bool(row.backchannel_logout_session_required),
    )


class SqlClients:
    def __init__(self, conn: DbConnection, cache: ClientCache) -> None:
        self._conn = conn
        self._cache = cache

    async def by_client_id(self, client_id: str) -> Client | None:
        client = self._cache.get(client_id)
        if client is not None:
            return client
        row = (await self._conn.execute(_CLIENT_BY_ID, {"cid": client_id})).first()
        if row is None:
            return None
        client = client_from_row(row)
        self._cache.put(client)
        return client


class SqlGrants:
    def __init__(self, conn: DbConnection, client_grants: ClientGrants) -> None:
        self._conn = conn
        self._client_grants = client_grants

    async def create(
        self, *, user_id: int, client_pk: int, scope: str, now: int, auth_time: int | None = None,
        used: bool = False, for_client: bool = False, amr: str | None = None,
        resource: str | None = None,
        sid: str | None = None,
    ) -> int:
        result = await self._conn.execute(_GRANT_INSERT, {
            "user_id": user_id, "client_pk": client_pk, "scope": scope, "created_at": now,
            "auth_time": auth_time, "last_used_at": now if used else None,
            "for_client": for_client, "amr": amr, "resource": resource, "sid": sid,
        })
        return int(result.scalar_one())

    async def touch(self, *, grant_id: int, now: int) -> None:
        """Record that the grant just got tokens (shown as "last used" on /account/apps)."""
        await self._conn.execute(_GRANT_TOUCH, {"gid": grant_id, "at": now})

    async def for_client(self, *, user_id: int, client_pk: int, scope: str, now: int) -> int:
        async def is_live(grant_id: int, created_at: int) -> bool:
            live = await self._conn.execute(_GRANT_LIVE, {
                "gid": grant_id, "cpk": client_pk, "uid": user_id, "scope": scope,
                "created": created_at})
            return live.first() is not None

        return await self._client_grants.grant_for(
            (client_pk, user_id, scope), now=now, is_live=is_live,
            create=lambda: self.create(user_id=user_id, client_pk=client_pk, scope=scope, now=now,
                                       used=True, for_client=True),
            touch=lambda grant_id: self.touch(grant_id=grant_id, now=now))

    async def revoke(self, *, grant_id: int, now: int) -> None:
        await self._conn.execute(
            update(grants)
            .where(grants.c.id == grant_id, grants.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )




def _code(row: Any, *, used: bool) -> CodeRecord:
    return CodeRecord(
        id=row.id, grant_id=row.grant_id, client_pk=row.client_pk, user_id=row.user_id,
        redirect_uri=row.redirect_uri, scope=row.scope, code_challenge=row.code_challenge,
        expires_at=row.expires_at, used=used, nonce=row.nonce, auth_time=row.auth_time,
        amr=row.amr, resource=row.resource, dpop_jkt=row.dpop_jkt, sid=row.sid,
    )


class SqlCodes:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, redirect_uri: str,
        scope: str, code_challenge: str | None, nonce: str | None, auth_time: int | None,
        now: int, expires_at: int, amr: str | None = None, resource: str | None = None,
        dpop_jkt: str | None = None, sid: str | None = None,
    ) -> None:
        await self._conn.execute(_CODE_INSERT, {
            "digest": digest, "grant_id": grant_id, "client_pk": client_pk, "user_id": user_id,
            "redirect_uri": redirect_uri, "scope": scope, "code_challenge": code_challenge,
            "nonce": nonce, "auth_time": auth_time, "created_at": now, "expires_at": expires_at,
            "used_at": None, "amr": amr, "resource": resource, "dpop_jkt": dpop_jkt, "sid": sid,
        })

    async def consume(self, *, digest: str, now: int) -> CodeRecord | None:
        # One statement: of any number of concurrent redemptions, exactly one sees a row.
        row = (await self._conn.execute(_CODE_CONSUME, {"d": digest, "at": now})).first()
        return _code(row, used=False) if row is not None else None

    async def find(self, *, digest: str) -> CodeRecord | None:
        row = (
            await self._conn.execute(
                select(*_CODE_COLUMNS, authorization_codes.c.used_at).where(
                    authorization_codes.c.digest == digest
                )
            )
        ).first()
        return _code(row, used=row.used_at is not None) if row is not None else None


class SqlTokens:
    def __init__(self, conn: DbConnection) -> None:
        self._conn = conn

    async def create_access(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, resource: str | None = None, jkt: str | None = None,
    ) -> None:
        await self._conn.execute(_ACCESS_INSERT, {
            "digest": digest, "grant_id": grant_id, "client_pk": client_pk, "user_id": user_id,
            "scope": scope, "created_at": now, "expires_at": expires_at, "revoked_at": None,
            "resource": resource, "jkt": jkt,
        })

    async def create_refresh(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, access_digest: str | None = None, jkt: str | None = None,
    ) -> None:
        await self._conn.execute(_REFRESH_INSERT, {
            "digest": digest, "grant_id": grant_id, "client_pk": client_pk, "user_id": user_id,
            "scope": scope, "created_at": now, "expires_at": expires_at, "used_at": None,
            "revoked_at": None, "access_digest": access_digest, "jkt": jkt,
        })

    async def find_refresh(self, *, digest: str) -> RefreshRecord | None:
        row = (await self._conn.execute(_REFRESH_BY_DIGEST, {"d": digest})).first()
        if row is None:
            return None
        return RefreshRecord(
            id=row.id, grant_id=row.grant_id, client_pk=row.client_pk, user_id=row.user_id,
            scope=row.scope, expires_at=row.expires_at, used_at=row.used_at,
            revoked=row.revoked_at is not None,
            grant_revoked=(row.grant_revoked_at is not None or row.user_disabled_at is not None
                           or row.client_disabled_at is not None),
            auth_time=row.auth_time, issued_at=row.created_at, successor_stamp=row.successor_stamp,
            grant_used_at=row.grant_used_at, access_digest=row.access_digest, amr=row.amr,
            resource=row.grant_resource, jkt=row.jkt, sid=row.sid,
        )

    async def use_refresh(
        self, *, refresh_id: int, now: int, successor_stamp: str | None
    ) -> bool:
        result = await self._conn.execute(
            _REFRESH_USE, {"rid": refresh_id, "at": now, "stamp": successor_stamp})
        return result.first() is not None

    async def find_access(self, *, digest: str, now: int) -> AccessPrincipal | None:
        row = (await self._conn.execute(_LIVE_ACCESS, {"d": digest, "now": now})).first()
        if row is None:
            return None
        return AccessPrincipal(
            token_id=row.id, grant_id=row.grant_id, user_id=row.user_id,
            client_pk=row.client_pk, scope=row.scope, expires_at=row.expires_at,
            issued_at=row.created_at,
            user=UserProfile(row.user_id, row.username, row.email, row.member_since,
                             row.email_verified_at is not None,
                             display_name=row.display_name),
            for_client=bool(row.for_client), resource=row.resource, jkt=row.jkt,
        )

    async def copy_access(self, *, source_digest: str, digest: str) -> None:
        # One statement, and a no-op when the copy is there already (two racing retries).
        await self._conn.execute(_ACCESS_COPY, {"new": digest, "old": source_digest})

    async def revoke_access(self, *, token_id: int, now: int) -> None:
        await self._conn.execute(
            update(access_tokens)
            .where(access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
