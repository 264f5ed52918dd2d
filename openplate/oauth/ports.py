"""The storage the protocol core needs: one small async Protocol per aggregate.

Implementations never commit on their own: the caller owns the unit of work (one per request).
"""

from __future__ import annotations

from typing import Protocol

from openplate.oauth.models import (
    AccessPrincipal,
    Client,
    CodeRecord,
    DeviceRecord,
    PushedRecord,
    RefreshRecord,
    UserProfile,
)


class ClientStore(Protocol):
    async def by_client_id(self, client_id: str) -> Client | None: ...


class GrantStore(Protocol):
    async def create(
        self, *, user_id: int, client_pk: int, scope: str, now: int, auth_time: int | None = None,
        used: bool = False, for_client: bool = False, amr: str | None = None,
        resource: str | None = None,
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
        resource: str | None = None,
        dpop_jkt: str | None = None,
        sid: str | None = None,
    ) -> None: ...

    async def consume(self, *, digest: str, now: int) -> CodeRecord | None:
        """Mark the code used if it was unused and its grant is not revoked, atomically; return
        it as it was, else None."""
        ...

    async def find(self, *, digest: str) -> CodeRecord | None: ...


class PushedRequestStore(Protocol):
    """RFC 9126: pushed authorisation requests, by the keyed digest of their request_uri."""

    async def create(
        self, *, digest: str, client_pk: int, params: str, now: int, expires_at: int,
    ) -> None: ...

    async def consume(self, *, digest: str, client_pk: int, now: int) -> str | None:
        """Mark the request used if it is this client's, unused and unexpired, atomically;
        return its parameters (the JSON text pushed), else None."""
        ...

    async def find(self, *, digest: str) -> PushedRecord | None: ...


class DeviceCodeStore(Protocol):
    """RFC 8628: device authorisations, found by the digest of their device or user code."""

    async def create(
        self, *, device_digest: str, user_digest: str, client_pk: int, scope: str, now: int,
        expires_at: int, interval: int,
    ) -> int: ...

    async def user_code_live(self, *, user_digest: str, now: int) -> bool:
        """Some unexpired device authorisation has this user code (new ones must not)."""
        ...

    async def by_device_code(self, *, digest: str) -> DeviceRecord | None: ...

    async def by_user_code(self, *, user_digest: str) -> DeviceRecord | None:
        """The newest device authorisation with this user code (only one is ever live)."""
        ...

    async def by_id(self, *, device_id: int) -> DeviceRecord | None: ...

    async def pace(self, *, device_id: int, now: int) -> int | None:
        """One poll, atomically: None if the last poll that went on was at least the interval
        ago (this one is noted as such); else the interval grown by 5 seconds (slow_down)."""
        ...

    async def claim(self, *, device_id: int, user_id: int) -> None:
        """The signed-in ``user_id`` typed this device authorisation's user code."""
        ...

    async def decide(
        self, *, device_id: int, user_id: int, allow: bool, now: int, auth_time: int | None,
        amr: str | None,
    ) -> bool:
        """Allow or deny, atomically, if it is still pending and unexpired and ``user_id``
        claimed it; True if this call decided it."""
        ...

    async def consume(self, *, device_id: int, now: int) -> DeviceRecord | None:
        """Mark an allowed device code used if it was unused and its user and application are
        not disabled, atomically; return it as it was, else None."""
        ...


class TokenStore(Protocol):
    async def create_access(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, resource: str | None = None, jkt: str | None = None,
    ) -> None:
        """A new access token; ``resource``: the RFC 8707 resources it is for (None: the API);
        ``jkt``: the DPoP key it is bound to (RFC 9449), None: bearer."""
        ...

    async def create_refresh(
        self, *, digest: str, grant_id: int, client_pk: int, user_id: int, scope: str,
        now: int, expires_at: int, access_digest: str | None = None, jkt: str | None = None,
    ) -> None:
        """A new refresh token; ``access_digest`` is the access token minted with it; ``jkt``
        the DPoP key it is bound to (a public client's, RFC 9449 §5)."""
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
        (same grant, client, user, scope, DPoP key, issue and expiry times); nothing if it is stored
        already. For a JWT re-signed with another key."""
        ...


class ProofLedger(Protocol):
    """RFC 9449 §11.1: the DPoP proofs seen, shared by every node (Redis, else a table)."""

    async def first_use(self, *, key: str, expires_at: int, now: int) -> bool:
        """Remember ``key`` until ``expires_at``; True if no live entry had it, atomically (of
        any number of concurrent calls with one key, on any node, one gets True)."""
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
    def pushed_requests(self) -> PushedRequestStore: ...

    @property
    def device_codes(self) -> DeviceCodeStore: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def users(self) -> UserDirectory: ...
