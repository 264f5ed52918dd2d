"""SQL repository for a developer's own applications (the /applications pages and the CLI)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.oauth.models import Client
from openplate.store.client_cache import ClientCache
from openplate.store.oauth_repos import client_from_row
from openplate.store.prepared import DbConnection
from openplate.store.tables import client_logos, clients, refresh_tokens

if TYPE_CHECKING:
    from openplate.accounts.applications import AppProfile


@dataclass(frozen=True, slots=True)
class SelfRegistration:
    """How an app registered itself (RFC 7591): "token" or "open", the digest of its RFC 7592
    registration access token, its application_type and the metadata only given back."""

    kind: str
    token_digest: str
    application_type: str
    echo: dict[str, object]

    def columns(self) -> dict[str, object]:
        return {"registration": self.kind, "registration_token_digest": self.token_digest,
                "application_type": self.application_type,
                "registered_metadata": json.dumps(self.echo, separators=(",", ":"))}


@dataclass(frozen=True, slots=True)
class StoredLogo:
    """An app's logo as served: the PNG and its SHA-256 (hex)."""

    png: bytes
    digest: str


class SqlApplications:
    def __init__(self, conn: DbConnection, cache: ClientCache) -> None:
        self._conn = conn
        self._cache = cache

    def _changed(self) -> None:
        """A client row changed: this process forgets every cached client at once."""
        self._cache.clear()

    async def create(
        self, *, client_id: str, owner_id: int | None, name: str, secret_digest: str | None,
        redirect_uris: list[str], grant_types: list[str], require_pkce: bool, now: int,
        trusted: bool = False,
        id_token_alg: str | None = None, profile: AppProfile | None = None,
        require_pushed_authorization_requests: bool = False,
        registration: SelfRegistration | None = None,
        dpop_bound_access_tokens: bool = False,
    ) -> Client:
        """A new application; ``registration`` for one that registered itself (RFC 7591)."""
        result = await self._conn.execute(
            clients.insert()
            .values(
                client_id=client_id, owner_id=owner_id, name=name, secret_digest=secret_digest,
                redirect_uris=json.dumps(redirect_uris), require_pkce=require_pkce,
                grant_types=" ".join(grant_types), created_at=now, secret_rotated_at=now,
                trusted_at=now if trusted else None,
                id_token_alg=id_token_alg, dpop_bound_access_tokens=dpop_bound_access_tokens,
                require_pushed_authorization_requests=require_pushed_authorization_requests,
                homepage_url=profile.homepage_url if profile else None,
                description=profile.description if profile else None,
                privacy_url=profile.privacy_url if profile else None,
                **(registration.columns() if registration else {}),
            )
            .returning(clients)
        )
        return client_from_row(result.one())

    async def owned_by(self, *, owner_id: int) -> list[Client]:
        rows = await self._conn.execute(
            select(clients).where(clients.c.owner_id == owner_id).order_by(clients.c.id)
        )
        return [client_from_row(row) for row in rows]

    async def owned(self, *, owner_id: int, client_id: str) -> Client | None:
        """The application ``client_id`` if, and only if, ``owner_id`` owns it."""
        row = (
            await self._conn.execute(
                select(clients).where(
                    clients.c.client_id == client_id, clients.c.owner_id == owner_id
                )
            )
        ).first()
        return client_from_row(row) if row is not None else None

    async def update(
        self, *, pk: int, name: str, redirect_uris: list[str], require_pkce: bool,
        grant_types: list[str], id_token_alg: str | None = None,
        dpop_bound_access_tokens: bool | None = None,
        require_pushed_authorization_requests: bool | None = None,
    ) -> None:
        """Save the settings; ``id_token_alg``, ``dpop_bound_access_tokens`` or
        ``require_pushed_authorization_requests`` None leaves what is stored as it is."""
        values: dict[str, object] = {
            "name": name, "redirect_uris": json.dumps(redirect_uris), "require_pkce": require_pkce,
            "grant_types": " ".join(grant_types)}
        if require_pushed_authorization_requests is not None:
            values["require_pushed_authorization_requests"] = require_pushed_authorization_requests
        if id_token_alg is not None:
            values["id_token_alg"] = id_token_alg
        if dpop_bound_access_tokens is not None:
            values["dpop_bound_access_tokens"] = dpop_bound_access_tokens
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(**values))
        self._changed()

    async def set_logout(self, *, pk: int, post_logout_redirect_uris: list[str],
                         backchannel_logout_uri: str | None,
                         backchannel_logout_session_required: bool) -> None:
        """Save the logout settings (RP-Initiated Logout §3.1, Back-Channel Logout §2.2),
        checked by accounts/applications.py."""
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(
            post_logout_redirect_uris=json.dumps(post_logout_redirect_uris),
            backchannel_logout_uri=backchannel_logout_uri,
            backchannel_logout_session_required=backchannel_logout_session_required))
        self._changed()

    async def set_profile(self, *, pk: int, profile: AppProfile) -> None:
        """Save the homepage, description and privacy-policy URL (None clears one)."""
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(
            homepage_url=profile.homepage_url, description=profile.description,
            privacy_url=profile.privacy_url))
        self._changed()

    async def set_logo(self, *, pk: int, png: bytes, digest: str, now: int) -> None:
        """Give the app this logo (checked by accounts/app_logos.py), replacing any it had."""
        # One statement (ON CONFLICT, the same shape in both dialects): two uploads at once for
        # the same app on PostgreSQL end with one of them, never a duplicate-key error.
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(client_logos).values(client_pk=pk, png=png, digest=digest,
                                                updated_at=now)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[client_logos.c.client_pk],
            set_={"png": statement.excluded.png, "digest": statement.excluded.digest,
                  "updated_at": statement.excluded.updated_at}))
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(
            logo_digest=digest))
        self._changed()

    async def remove_logo(self, *, pk: int) -> bool:
        """Forget the app's logo; False if it had none."""
        removed = await self._conn.execute(
            delete(client_logos).where(client_logos.c.client_pk == pk)
            .returning(client_logos.c.client_pk))
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(
            logo_digest=None))
        self._changed()
        return removed.first() is not None

    async def logo(self, *, client_id: str) -> StoredLogo | None:
        """The logo of the app ``client_id``, if it has one (anyone may see it)."""
        row = (await self._conn.execute(
            select(client_logos.c.png, client_logos.c.digest)
            .join(clients, clients.c.id == client_logos.c.client_pk)
            .where(clients.c.client_id == client_id)
        )).first()
        return StoredLogo(png=bytes(row.png), digest=row.digest) if row is not None else None

    async def set_secret(self, *, pk: int, secret_digest: str, now: int) -> None:
        """Replace the secret's digest and revoke the refresh tokens issued under the old one."""
        await self._conn.execute(
            update(clients)
            .where(clients.c.id == pk)
            .values(secret_digest=secret_digest, secret_rotated_at=now)
        )
        self._changed()
        await self._conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.client_pk == pk, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def trust(self, *, pk: int, now: int) -> None:
        """Trust the app for automatic error redirects from now on (no-op if it already is)."""
        result = await self._conn.execute(
            update(clients).where(clients.c.id == pk, clients.c.trusted_at.is_(None))
            .values(trusted_at=now).returning(clients.c.id)
        )
        if result.first() is not None:
            self._changed()

    async def delete(self, *, pk: int) -> None:
        await self._conn.execute(delete(clients).where(clients.c.id == pk))
        self._changed()

    async def names_of(self, client_ids: Iterable[str]) -> dict[str, str]:
        """The name of each of ``client_ids`` still registered (deleted ones are left out)."""
        wanted = sorted(set(client_ids))
        if not wanted:
            return {}
        rows = await self._conn.execute(
            select(clients.c.client_id, clients.c.name).where(clients.c.client_id.in_(wanted)))
        return {row.client_id: row.name for row in rows}
