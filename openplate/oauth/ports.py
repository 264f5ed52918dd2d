"""The storage the protocol core needs: one small async Protocol per aggregate.

Implementations never commit on their own: the caller owns the unit of work (one per request).
"""

from __future__ import annotations

from typing import Protocol

from openplate.oauth.models import (
    AccessPrincipal,
    Client,
    CodeRecord,
    RefreshRecord,
    UserProfile,
)


class ClientStore(Protocol):
    async def by_client_id(self, client_id: str) -> Client | None: ...


class GrantStore(Protocol):
    async def create(
        self, *, user_id: int, client_pk: int, scope: str, now: int, auth_time: int | None = None,
        used: bool = False, for_client: bool = False, amr: str | None = None,
        sid: str | None = None,
    ) -> int:
        """A new grant; ``used`` when tokens are minted for it at once (no separate touch);
        ``for_client`` for a client's own (client-credentials) grant; ``amr``: how the user
        signed in (RFC 8176 values, space-separated), for its ID tokens; ``sid``: the OIDC sid
        of the browser session it was granted in."""
        ...

    async def touch(self, *, grant_id: int, now: int) -> None: ...

    async def revoke(self, *, grant_id: int, now: int) -> None: ...

    async def for_client(self, *, user_id: int, client_pk: int, scope: str, now: int) -> int:
        """The live grant that this client's client-credentials tokens for ``scope`` hang on,
        made on first use (``for_client``) and reused after (see openplate.store.client_grants)."""
        ...


class CodeStore(Protocol):
    async def create(
        self,
        *,
        digest: str,
        grant_id: int,
        client_pk: int,
        user_id: int,
        redirect_uri: str,
        scope: str,
        code_challenge: str | None,
        nonce: str | None,
        auth_time: int | None,
        now: int,
        expires_at: int,
        amr: str | None = None,
        sid: str | None = None,
    ) -> None: ...

    async def consume(self, *, digest: str, now: int) -> CodeRecord | None:
        """Mark the code used if it was unused and its grant is not revoked, atomically; return
        it as it was, else None."""
        ...

    async def find(self, *, digest: str) -> CodeRecord | None: ...


class TokenStore(Protocol):
    async def create_access(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int,
    ) -> None: ...

    async def create_refresh(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, access_digest: str | None = None,
    ) -> None:
        """A new refresh token; ``access_digest`` is the access token minted with it."""
        ...

    async def find_refresh(self, *, digest: str) -> RefreshRecord | None: ...

    async def use_refresh(
        self, *, refresh_id: int, now: int, successor_stamp: str | None
    ) -> bool:
        """Mark a refresh token used if it was unused, atomically, with the stamp of the
        successors it gets; True if this call did it."""
        ...

    async def find_access(self, *, digest: str, now: int) -> AccessPrincipal | None:
        """A live access token: unexpired, unrevoked, of an unrevoked grant; with its user."""
        ...

    async def revoke_access(self, *, token_id: int, now: int) -> None: ...

    async def copy_access(self, *, source_digest: str, digest: str) -> None:
        """Store ``digest`` as another form of the access token stored as ``source_digest``
        (same grant, client, user, scope, issue and expiry times); nothing if it is stored
        already. For a JWT re-signed with another key."""
        ...


class UserDirectory(Protocol):
    async def profile(self, user_id: int) -> UserProfile | None: ...


class EventLog(Protocol):
    """The append-only security log; never given a secret."""

    async def append(
        self, *, kind: str, now: int, user_id: int | None = None, client_id: str | None = None,
        ip: str | None = None, detail: dict[str, object] | None = None,
    ) -> None: ...


class OAuthStore(Protocol):
    """The repositories of one unit of work."""

    @property
    def clients(self) -> ClientStore: ...

    @property
    def grants(self) -> GrantStore: ...

    @property
    def codes(self) -> CodeStore: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def users(self) -> UserDirectory: ...
