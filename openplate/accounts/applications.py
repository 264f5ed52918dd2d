"""Registering and managing OAuth applications: the rules the pages and the CLI share."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from openplate.net_guard import address_allowed
from openplate.oauth.device import DEVICE_GRANT
from openplate.oauth.models import Client
from openplate.oauth.oidc.jws import ALGORITHMS
from openplate.oauth.redirect_uris import (
    MAX_URI_CHARS,
    RedirectUriInvalid,
    validate_for_registration,
)
from openplate.oauth.tokens import CLIENT_SECRET_PREFIX, Digester, new_client_id, new_secret
from openplate.store.unit import Store

if TYPE_CHECKING:
    from openplate.accounts.app_logos import CheckedLogo

MAX_REDIRECT_URIS = 20
MAX_NAME_CHARS = 100
MAX_URL_CHARS = 500
MAX_DESCRIPTION_CHARS = 300
#: Hosts an http (not https) homepage or privacy-policy URL may name: a developer's own machine.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
CONFIDENTIAL_GRANTS = ("authorization_code", "refresh_token")
#: The device authorization grant (RFC 8628) is opted into per application.
ALL_GRANTS = ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT)
#: What a client may register as id_token_signed_response_alg (RS256 first: OIDC's default).
ID_TOKEN_ALGS = ALGORITHMS
_SAFE_URI = re.compile(r"[!-~]+", re.ASCII)  # printable ASCII, no spaces or controls


class InvalidApplication(ValueError):
    """Bad application input; the message is for a person and names the field (``field``: the
    form field's name, for the page to put the message beside it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class AppProfile:
    """What the consent page tells a person about an app, beside its name (RFC 7591's
    client_uri, policy_uri and a description); every part already checked."""

    homepage_url: str | None = None
    description: str | None = None
    privacy_url: str | None = None


def _has_control(text: str, *, allow_newlines: bool = False) -> bool:
    for c in text:
        if allow_newlines and c == "\n":
            continue
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
            return True
    return False


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidApplication("Enter a client name.", "name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidApplication(f"A client name has at most {MAX_NAME_CHARS} characters.", "name")
    if _has_control(name):
        raise InvalidApplication("A client name must not contain control characters.", "name")
    return name


def _check_web_url(text: str, *, label: str, field: str) -> str:
    """An absolute https URL, or http for the developer's own machine; nothing else."""
    url = text.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidApplication(f"{label}: a URL has at most {MAX_URL_CHARS} characters.", field)
    if any(c.isspace() for c in url) or _has_control(url) or not url.isascii():
        raise InvalidApplication(
            f"{label}: the URL must not contain spaces or control characters (percent-encode "
            "any other character).", field)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidApplication(f"{label}: this is not a valid URL.", field) from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidApplication(
            f"{label}: enter an absolute URL starting with https://, such as "
            "https://example.com/.", field)
    if parts.username is not None or parts.password is not None:
        raise InvalidApplication(f"{label}: the URL must not contain a user name or password.",
                                 field)
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise InvalidApplication(
            f"{label}: use https (http is allowed only for localhost).", field)
    return url


def check_homepage(text: str | None, *, required: bool) -> str | None:
    """The app's homepage (shown on the consent page); ``required`` for a new app."""
    if not text or not text.strip():
        if required:
            raise InvalidApplication(
                "Homepage: enter the address of the application's homepage, starting with "
                "https://.", "homepage")
        return None
    return _check_web_url(text, label="Homepage", field="homepage")


def check_privacy_url(text: str | None) -> str | None:
    """The app's privacy policy (optional)."""
    if not text or not text.strip():
        return None
    return _check_web_url(text, label="Privacy policy", field="privacy_url")


def check_description(text: str | None) -> str | None:
    """What the app does, in plain text (optional): at most MAX_DESCRIPTION_CHARS, line breaks
    kept as typed (CRLF made LF), no other control characters."""
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return None
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidApplication(
            f"Description: at most {MAX_DESCRIPTION_CHARS} characters (this one has "
            f"{len(text)}).", "description")
    if _has_control(text, allow_newlines=True):
        raise InvalidApplication("Description: plain text only, without control characters.",
                                 "description")
    return text


def check_profile(*, homepage: str | None, description: str | None, privacy_url: str | None,
                  require_homepage: bool) -> AppProfile:
    """The form's (or the CLI's) homepage, description and privacy-policy URL, checked."""
    return AppProfile(
        homepage_url=check_homepage(homepage, required=require_homepage),
        description=check_description(description),
        privacy_url=check_privacy_url(privacy_url),
    )


def check_redirect_uris(uris: list[str], *, require_one: bool) -> list[str]:
    """Validate each URI; keep their order, drop repeats."""
    seen: dict[str, None] = {}
    for uri in uris:
        try:
            seen.setdefault(validate_for_registration(uri), None)
        except RedirectUriInvalid as error:
            raise InvalidApplication(f"{uri[:200]}: {error}", "redirect_uris") from None
    if require_one and not seen:
        raise InvalidApplication("Enter at least one redirect URI.", "redirect_uris")
    if len(seen) > MAX_REDIRECT_URIS:
        raise InvalidApplication(
            f"An application may have at most {MAX_REDIRECT_URIS} redirect URIs.", "redirect_uris")
    return list(seen)


def check_post_logout_redirect_uris(uris: list[str]) -> list[str]:
    """OIDC RP-Initiated Logout §3.1 post_logout_redirect_uris: the rules of redirect URIs
    (absolute https, or http for a loopback host; no fragment, no wildcard), repeats dropped."""
    seen: dict[str, None] = {}
    for uri in uris:
        try:
            seen.setdefault(validate_for_registration(uri), None)
        except RedirectUriInvalid as error:
            message = str(error).replace("A redirect URI", "A sign-out return URI")
            raise InvalidApplication(f"{uri[:200]}: {message}",
                                     "post_logout_redirect_uris") from None
    if len(seen) > MAX_REDIRECT_URIS:
        raise InvalidApplication(
            f"An application may have at most {MAX_REDIRECT_URIS} sign-out return URIs.",
            "post_logout_redirect_uris")
    return list(seen)


def check_backchannel_logout_uri(uri: str | None, *, allow_private: bool) -> str | None:
    """OIDC Back-Channel Logout §2.2 backchannel_logout_uri: an absolute https URL (http only
    for a loopback host, and only where the operator allows private client URLs); "MAY contain
    port, path, and query parameter components ... MUST NOT include a fragment component".
    Empty: none. A host written as an address must be a public one (openplate/net_guard.py
    checks again, resolved, at every delivery)."""
    uri = (uri or "").strip()
    if not uri:
        return None
    field = "backchannel_logout_uri"
    label = "Back-channel logout URI"
    if len(uri) > MAX_URI_CHARS:
        raise InvalidApplication(f"{label}: at most {MAX_URI_CHARS} characters.", field)
    if not _SAFE_URI.fullmatch(uri):
        raise InvalidApplication(f"{label}: no spaces or non-ASCII characters.", field)
    if "#" in uri:
        raise InvalidApplication(f"{label}: no fragment (#).", field)
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InvalidApplication(f"{label}: enter an absolute https:// URL.", field) from None
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise InvalidApplication(f"{label}: enter an absolute https:// URL, without a user name.",
                                 field)
    if port is not None and not 0 < port < 65536:
        raise InvalidApplication(f"{label}: the port must be between 1 and 65535.", field)
    if parts.scheme == "http" and not (allow_private and host in LOOPBACK_HOSTS):
        raise InvalidApplication(f"{label}: use https." + (
            " (http is allowed only for localhost.)" if allow_private else ""), field)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if host == "localhost" or literal is not None:
        if literal is None or not address_allowed(literal, allow_private=allow_private):
            raise InvalidApplication(
                f"{label}: this server does not send requests to a private or local address.",
                field)
    return uri


def check_grant_types(grant_types: list[str], *, public: bool) -> list[str]:
    """The grants an app may use, in a stable order; a public client cannot act for itself."""
    unknown = [g for g in grant_types if g not in ALL_GRANTS]
    if unknown:
        raise InvalidApplication(f"Unknown grant type '{unknown[0][:40]}'.")
    if not grant_types:
        raise InvalidApplication("An application needs at least one grant type.")
    if public and "client_credentials" in grant_types:
        raise InvalidApplication("A public client cannot use client_credentials: it has no secret.")
    if "refresh_token" in grant_types and not ({"authorization_code", DEVICE_GRANT}
                                               & set(grant_types)):
        raise InvalidApplication(
            "refresh_token only makes sense with authorization_code or the device grant.")
    return [g for g in ALL_GRANTS if g in grant_types]


def check_id_token_alg(alg: str) -> str:
    """An ID-token signing algorithm the server offers (exactly as spelt)."""
    if alg not in ID_TOKEN_ALGS:
        raise InvalidApplication(
            f"ID token signature: choose {', '.join(ID_TOKEN_ALGS[:-1])} or {ID_TOKEN_ALGS[-1]}.",
            "id_token_alg")
    return alg


def split_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def register(
    store: Store, digester: Digester, *, owner_id: int, name: str, redirect_uris: list[str],
    public: bool, now: int, grant_types: list[str] | None = None, by_operator: bool = False,
    id_token_alg: str | None = None, profile: AppProfile | None = None,
    logo: CheckedLogo | None = None, require_pushed_authorization_requests: bool = False,
) -> tuple[Client, str | None]:
    """Create an application; return it with its client secret (None for a public client).

    The secret is returned once, here; only its keyed digest is stored. An app the operator
    registers (``by_operator``) is trusted for automatic error redirects from the start.
    ``id_token_alg`` is its ID tokens' signature algorithm (the pages and the CLI pass
    OPENPLATE_SIGNING_ALG unless one was chosen; None stores none, which follows that setting).
    ``profile`` and ``logo`` come checked (``check_profile``, ``app_logos.check_logo``).
    ``require_pushed_authorization_requests``: RFC 9126 §6, its requests must be pushed first.
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
        id_token_alg=alg, profile=profile or AppProfile(),
        require_pushed_authorization_requests=require_pushed_authorization_requests,
    )
    if logo is not None:
        await store.applications.set_logo(pk=client.pk, png=logo.png, digest=logo.digest, now=now)
        client = replace(client, logo_digest=logo.digest)
    return client, secret


async def rotate_secret(store: Store, digester: Digester, client: Client, *, now: int) -> str:
    """Give a confidential client a new secret; the old one, and its refresh tokens, stop working."""
    if client.is_public:
        raise InvalidApplication("A public client has no secret to rotate.")
    secret = new_secret(CLIENT_SECRET_PREFIX, stamped=False)
    await store.applications.set_secret(pk=client.pk, secret_digest=digester.digest(secret), now=now)
    return secret
