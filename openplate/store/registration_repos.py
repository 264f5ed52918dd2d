"""SQL repository for self-registration: the operator's initial access tokens (RFC 7591 §3) and
the registrations that RFC 7592 reads and replaces."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openplate.oauth.models import Client
from openplate.store.client_cache import ClientCache
from openplate.store.oauth_repos import client_from_row
from openplate.store.prepared import DbConnection
from openplate.store.tables import clients, registration_tokens, users

if TYPE_CHECKING:
    from openplate.accounts.client_metadata import ClientMetadata


@dataclass(frozen=True, slots=True)
class TokenUse:
    """An initial access token just used: whose account the new app joins (None: nobody's)."""

    token_id: int
    owner_id: int | None


@dataclass(frozen=True, slots=True)
class RegistrationTokenRecord:
    id: int
    owner: str | None  # the username of the account new apps join
    note: str | None
    uses_left: int
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class Registered:
    """An app that registered itself, as RFC 7592 reads it."""

    client: Client
    token_digest: str
    echo: dict[str, Any]
    created_at: int


class SqlRegistrations:
    def __init__(self, conn: DbConnection, cache: ClientCache) -> None:
        self._conn = conn
        self._cache = cache

    # --- initial access tokens -----------------------------------------------------------------

    async def create_token(self, *, digest: str, owner_id: int | None, note: str | None,
                           uses: int, now: int, expires_at: int) -> int:
        result = await self._conn.execute(registration_tokens.insert().values(
            digest=digest, owner_id=owner_id, note=note, uses_left=uses, created_at=now,
            expires_at=expires_at).returning(registration_tokens.c.id))
        return int(result.scalar_one())

    async def use_token(self, *, digest: str, now: int) -> TokenUse | None:
        """Count one use of the token if it is unexpired and has a use left, atomically (a burst
        of registrations with a one-use token registers one app); None otherwise."""
        row = (await self._conn.execute(
            update(registration_tokens)
            .where(registration_tokens.c.digest == digest, registration_tokens.c.uses_left > 0,
                   registration_tokens.c.expires_at > now)
            .values(uses_left=registration_tokens.c.uses_left - 1)
            .returning(registration_tokens.c.id, registration_tokens.c.owner_id))).first()
        return TokenUse(token_id=int(row.id), owner_id=row.owner_id) if row is not None else None

    async def tokens(self, *, now: int) -> list[RegistrationTokenRecord]:
        """The tokens that can still register an app, oldest first."""
        rows = await self._conn.execute(
            select(registration_tokens, users.c.username.label("owner"))
            .select_from(registration_tokens.outerjoin(
                users, users.c.id == registration_tokens.c.owner_id))
            .where(registration_tokens.c.uses_left > 0, registration_tokens.c.expires_at > now)
            .order_by(registration_tokens.c.id))
        return [RegistrationTokenRecord(id=r.id, owner=r.owner, note=r.note,
                                        uses_left=r.uses_left, created_at=r.created_at,
                                        expires_at=r.expires_at) for r in rows]

    async def revoke_token(self, *, token_id: int) -> bool:
        result = await self._conn.execute(
            delete(registration_tokens).where(registration_tokens.c.id == token_id)
            .returning(registration_tokens.c.id))
        return result.first() is not None

    # --- registrations (RFC 7592) --------------------------------------------------------------

    async def registered(self, *, client_id: str) -> Registered | None:
        """The app ``client_id`` if it registered itself and can be managed with a token."""
        row = (await self._conn.execute(select(clients).where(
            clients.c.client_id == client_id,
            clients.c.registration_token_digest.is_not(None)))).first()
        if row is None:
            return None
        echo = json.loads(row.registered_metadata) if row.registered_metadata else {}
        return Registered(client=client_from_row(row), token_digest=row.registration_token_digest,
                          echo=echo, created_at=row.created_at)

    async def replace(
        self, *, pk: int, name: str, redirect_uris: list[str], grant_types: list[str],
        id_token_alg: str | None, homepage_url: str | None, description: str | None,
        privacy_url: str | None, application_type: str, echo: dict[str, object],
        dpop_bound: bool = False, require_par: bool = False,
    ) -> None:
        """RFC 7592 §2.2: the registration's metadata, replaced as a whole."""
        await self._conn.execute(update(clients).where(clients.c.id == pk).values(
            name=name, redirect_uris=json.dumps(redirect_uris),
            grant_types=" ".join(grant_types), id_token_alg=id_token_alg,
            homepage_url=homepage_url, description=description, privacy_url=privacy_url,
            application_type=application_type, dpop_bound_access_tokens=dpop_bound,
            require_pushed_authorization_requests=require_par,
            registered_metadata=json.dumps(echo, separators=(",", ":"))))
        self._cache.clear()


    # --- client ID metadata documents ----------------------------------------------------------

    async def document_expiry(self, *, client_id: str) -> int | None:
        """When the document of the app ``client_id`` (a URL) is to be fetched again; None if
        it was never fetched."""
        row = (await self._conn.execute(select(clients.c.metadata_expires_at).where(
            clients.c.client_id == client_id, clients.c.registration == "metadata"))).first()
        return int(row.metadata_expires_at) if row is not None and row.metadata_expires_at else None

    async def save_document(self, *, client_id: str, metadata: ClientMetadata, now: int,
                            expires_at: int) -> None:
        """The app a client ID metadata document describes, made or brought up to date (one
        statement: two nodes fetching it at once end with one row)."""
        values = {
            "name": metadata.name, "redirect_uris": json.dumps(list(metadata.redirect_uris)),
            "grant_types": " ".join(metadata.grant_types), "require_pkce": True,
            "id_token_alg": metadata.id_token_alg, "homepage_url": metadata.profile.homepage_url,
            "description": metadata.profile.description,
            "privacy_url": metadata.profile.privacy_url,
            "application_type": metadata.application_type,
            "registered_metadata": json.dumps(metadata.echo, separators=(",", ":")),
            "metadata_expires_at": expires_at,
            "dpop_bound_access_tokens": metadata.dpop_bound,
            "require_pushed_authorization_requests": metadata.require_par,
            "post_logout_redirect_uris": json.dumps(list(metadata.post_logout_redirect_uris)),
            "backchannel_logout_uri": metadata.backchannel_logout_uri,
            "backchannel_logout_session_required": metadata.backchannel_logout_session_required,
        }
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(clients).values(
            client_id=client_id, owner_id=None, secret_digest=None, created_at=now,
            secret_rotated_at=now, registration="metadata", **values)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[clients.c.client_id], set_=values,
            where=clients.c.registration == "metadata"))
        self._cache.clear()
