"""RFC 7591 §3 and RFC 7592 §2: applications that register themselves, and manage their
registration with a registration access token.

The web layer (web/routes/registration.py) reads the request and decides who may register; this
module checks the metadata (accounts/client_metadata.py), stores the app, and says what the client
is told. Client secrets and registration access tokens are returned once and stored only as keyed
digests, like every other secret here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from openplate.accounts.applications import AppProfile
from openplate.accounts.client_metadata import (
    RESERVED_IN_REQUESTS,
    ClientMetadata,
    InvalidClientMetadata,
    check_metadata,
    describe,
)
from openplate.oauth.models import Client
from openplate.oauth.tokens import (
    CLIENT_SECRET_PREFIX,
    REGISTRATION_TOKEN_PREFIX,
    Digester,
    new_client_id,
    new_secret,
)
from openplate.store.app_repos import SelfRegistration
from openplate.store.registration_repos import Registered
from openplate.store.unit import Store

#: RFC 7591 §3: how a client registered itself ("token": with an initial access token).
KINDS = ("token", "open")


@dataclass(frozen=True, slots=True)
class NewRegistration:
    """A registration just made: the app, and the secrets its client is shown once."""

    client: Client
    metadata: ClientMetadata
    client_secret: str | None
    registration_token: str


async def _save_logout(store: Store, pk: int, metadata: ClientMetadata) -> None:
    await store.applications.set_logout(
        pk=pk, post_logout_redirect_uris=list(metadata.post_logout_redirect_uris),
        backchannel_logout_uri=metadata.backchannel_logout_uri,
        backchannel_logout_session_required=metadata.backchannel_logout_session_required)


def registration_uri(base_url: str, client_id: str) -> str:
    """RFC 7592 §1: where the client reads, replaces and deletes its registration."""
    return f"{base_url}/oauth/register/{client_id}"


async def register_client(
    store: Store, digester: Digester, doc: Mapping[str, object], *, owner_id: int | None,
    kind: str, now: int, allow_private: bool = False,
) -> NewRegistration:
    """RFC 7591 §3.1: check the metadata and register the app; raise InvalidClientMetadata."""
    assert kind in KINDS
    metadata = check_metadata(doc, has_owner=owner_id is not None, allow_private=allow_private)
    secret = None if metadata.public else new_secret(CLIENT_SECRET_PREFIX, stamped=False)
    token = new_secret(REGISTRATION_TOKEN_PREFIX, stamped=False)
    client = await store.applications.create(
        client_id=new_client_id(), owner_id=owner_id, name=metadata.name,
        secret_digest=digester.digest(secret) if secret else None,
        redirect_uris=list(metadata.redirect_uris), grant_types=list(metadata.grant_types),
        require_pkce=metadata.public, now=now, id_token_alg=metadata.id_token_alg,
        profile=metadata.profile, dpop_bound_access_tokens=metadata.dpop_bound,
        require_pushed_authorization_requests=metadata.require_par,
        registration=SelfRegistration(kind=kind, token_digest=digester.digest(token),
                                      application_type=metadata.application_type,
                                      echo=metadata.echo),
    )
    await _save_logout(store, client.pk, metadata)
    client = replace(client, post_logout_redirect_uris=metadata.post_logout_redirect_uris,
                     backchannel_logout_uri=metadata.backchannel_logout_uri,
                     backchannel_logout_session_required=(
                         metadata.backchannel_logout_session_required))
    await store.events.append(kind="client.registered", now=now, user_id=owner_id,
                              client_id=client.client_id,
                              detail={"name": client.name, "registration": kind})
    return NewRegistration(client=client, metadata=metadata, client_secret=secret,
                           registration_token=token)


def answer(client: Client, metadata: ClientMetadata, *, base_url: str, issued_at: int,
           client_secret: str | None = None,
           registration_token: str | None = None) -> dict[str, object]:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the client information response."""
    body: dict[str, object] = {"client_id": client.client_id, "client_id_issued_at": issued_at}
    if client_secret is not None:
        body["client_secret"] = client_secret
    if not client.is_public:
        body["client_secret_expires_at"] = 0  # it does not expire
    if registration_token is not None:
        body["registration_access_token"] = registration_token
    body["registration_client_uri"] = registration_uri(base_url, client.client_id)
    body.update(describe(metadata))
    return body


def stored_metadata(registered: Registered) -> ClientMetadata:
    """What a stored registration says, in the shape ``describe`` gives back."""
    client = registered.client
    echo = dict(registered.echo)
    echo.setdefault("token_endpoint_auth_method",
                    "none" if client.is_public else "client_secret_basic")
    return ClientMetadata(
        name=client.name, redirect_uris=client.redirect_uris, grant_types=client.grant_types,
        auth_method=str(echo["token_endpoint_auth_method"]),
        application_type=client.application_type, id_token_alg=client.id_token_alg,
        profile=AppProfile(homepage_url=client.homepage_url, description=client.description,
                           privacy_url=client.privacy_url),
        echo=echo, dpop_bound=client.dpop_bound_access_tokens,
        require_par=client.require_pushed_authorization_requests,
        post_logout_redirect_uris=client.post_logout_redirect_uris,
        backchannel_logout_uri=client.backchannel_logout_uri,
        backchannel_logout_session_required=client.backchannel_logout_session_required,
    )


def token_matches(digester: Digester, registered: Registered, token: str) -> bool:
    return digester.matches(token, registered.token_digest)


async def replace_registration(
    store: Store, digester: Digester, registered: Registered, doc: Mapping[str, Any], *,
    now: int, allow_private: bool = False,
) -> ClientMetadata:
    """RFC 7592 §2.2: replace the whole registration with ``doc``; raise InvalidClientMetadata.

    "The client MUST include its client_id field in the request, and it MUST be the same as its
    currently issued client identifier." "If the client includes the client_secret field in the
    request, the value of this field MUST match the currently issued client secret for that
    client." A client cannot become public or confidential by an update: that would need a
    secret it never got, or leave one that still works.
    """
    client = registered.client
    if doc.get("client_id") != client.client_id:
        raise InvalidClientMetadata("client_id must be sent, and be this app's client_id.")
    for name in RESERVED_IN_REQUESTS:
        if name in doc:
            raise InvalidClientMetadata(f"{name} must not be sent in an update.")
    secret = doc.get("client_secret")
    if secret is not None:
        if (not isinstance(secret, str) or client.secret_digest is None
                or not hmac.compare_digest(digester.digest(secret), client.secret_digest)):
            raise InvalidClientMetadata("client_secret is not this app's client secret.")
    metadata = check_metadata(doc, has_owner=client.owner_id is not None,
                              allow_private=allow_private)
    if metadata.public != client.is_public:
        raise InvalidClientMetadata(
            "token_endpoint_auth_method: an app cannot change between none and a client "
            "secret; register a new app instead.")
    await store.registrations.replace(
        pk=client.pk, name=metadata.name, redirect_uris=list(metadata.redirect_uris),
        grant_types=list(metadata.grant_types), id_token_alg=metadata.id_token_alg,
        homepage_url=metadata.profile.homepage_url, description=metadata.profile.description,
        privacy_url=metadata.profile.privacy_url, application_type=metadata.application_type,
        echo=metadata.echo, dpop_bound=metadata.dpop_bound, require_par=metadata.require_par,
    )
    await _save_logout(store, client.pk, metadata)
    await store.events.append(kind="client.registration_updated", now=now,
                              user_id=client.owner_id, client_id=client.client_id,
                              detail={"name": metadata.name})
    return metadata
