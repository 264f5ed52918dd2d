"""Registering and managing OAuth applications: the rules the pages and the CLI share."""

from __future__ import annotations

import unicodedata

from openplate.oauth.models import Client
from openplate.oauth.oidc.jws import ALGORITHMS
from openplate.oauth.redirect_uris import RedirectUriInvalid, validate_for_registration
from openplate.oauth.tokens import CLIENT_SECRET_PREFIX, Digester, new_client_id, new_secret
from openplate.store.unit import Store

MAX_REDIRECT_URIS = 20
MAX_NAME_CHARS = 100
CONFIDENTIAL_GRANTS = ("authorization_code", "refresh_token")
ALL_GRANTS = ("authorization_code", "refresh_token", "client_credentials")
#: What a client may register as id_token_signed_response_alg (RS256 first: OIDC's default).
ID_TOKEN_ALGS = ALGORITHMS


class InvalidApplication(ValueError):
    """Bad application input; the message is for a person."""


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidApplication("Enter a client name.")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidApplication(f"A client name has at most {MAX_NAME_CHARS} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InvalidApplication("A client name must not contain control characters.")
    return name


def check_redirect_uris(uris: list[str], *, require_one: bool) -> list[str]:
    """Validate each URI; keep their order, drop repeats."""
    seen: dict[str, None] = {}
    for uri in uris:
        try:
            seen.setdefault(validate_for_registration(uri), None)
        except RedirectUriInvalid as error:
            raise InvalidApplication(f"{uri[:200]}: {error}") from None
    if require_one and not seen:
        raise InvalidApplication("Enter at least one redirect URI.")
    if len(seen) > MAX_REDIRECT_URIS:
        raise InvalidApplication(f"An application may have at most {MAX_REDIRECT_URIS} redirect URIs.")
    return list(seen)


def check_grant_types(grant_types: list[str], *, public: bool) -> list[str]:
    """The grants an app may use, in a stable order; a public client cannot act for itself."""
    unknown = [g for g in grant_types if g not in ALL_GRANTS]
    if unknown:
        raise InvalidApplication(f"Unknown grant type '{unknown[0][:40]}'.")
    if not grant_types:
        raise InvalidApplication("An application needs at least one grant type.")
    if public and "client_credentials" in grant_types:
        raise InvalidApplication("A public client cannot use client_credentials: it has no secret.")
    if "refresh_token" in grant_types and "authorization_code" not in grant_types:
        raise InvalidApplication("refresh_token only makes sense with authorization_code.")
    return [g for g in ALL_GRANTS if g in grant_types]


def check_id_token_alg(alg: str) -> str:
    """An ID-token signing algorithm the server offers (exactly as spelt)."""
    if alg not in ID_TOKEN_ALGS:
        raise InvalidApplication(
            f"ID token signature: choose {', '.join(ID_TOKEN_ALGS[:-1])} or {ID_TOKEN_ALGS[-1]}.")
    return alg


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def register(
    store: Store, digester: Digester, *, owner_id: int, name: str, redirect_uris: list[str],
    public: bool, now: int, grant_types: list[str] | None = None, by_operator: bool = False,
    id_token_alg: str | None = None,
) -> tuple[Client, str | None]:
    """Create an application; return it with its client secret (None for a public client).

    The secret is returned once, here; only its keyed digest is stored. An app the operator
    registers (``by_operator``) is trusted for automatic error redirects from the start.
    ``id_token_alg`` is its ID tokens' signature algorithm (the pages and the CLI pass
    OPENPLATE_SIGNING_ALG unless one was chosen; None stores none, which follows that setting).
    """
    name = check_name(name)
    uris = check_redirect_uris(redirect_uris, require_one=False)
    grants = check_grant_types(grant_types or list(CONFIDENTIAL_GRANTS), public=public)
    alg = check_id_token_alg(id_token_alg) if id_token_alg is not None else None
    secret = None if public else new_secret(CLIENT_SECRET_PREFIX, stamped=False)
    client = await store.applications.create(
        client_id=new_client_id(), owner_id=owner_id, name=name,
        secret_digest=digester.digest(secret) if secret else None, redirect_uris=uris,
        grant_types=grants, require_pkce=public, now=now, trusted=by_operator,
        id_token_alg=alg,
    )
    return client, secret


async def rotate_secret(store: Store, digester: Digester, client: Client, *, now: int) -> str:
    """Give a confidential client a new secret; the old one, and its refresh tokens, stop working."""
    if client.is_public:
        raise InvalidApplication("A public client has no secret to rotate.")
    secret = new_secret(CLIENT_SECRET_PREFIX, stamped=False)
    await store.applications.set_secret(pk=client.pk, secret_digest=digester.digest(secret), now=now)
    return secret
