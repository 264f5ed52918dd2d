"""RFC 7591 §2 and OpenID Connect Dynamic Client Registration 1.0 §2: client metadata, checked.

What a client sends to /oauth/register (or in its RFC 7592 update) becomes a ``ClientMetadata``
here, or an error naming the field. The same rules as the /applications pages apply to the
name, the redirect URIs and the homepage and privacy-policy URLs (accounts/applications.py);
what only self-registration has (``application_type``, authentication methods, response types)
is checked here. RFC 7591 §2: "The authorization server MUST ignore any client metadata sent by
the client that it does not understand"; what we understand but do not offer is refused, so a
client never believes it has something it has not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from openplate.accounts.applications import (
    ID_TOKEN_ALGS,
    MAX_REDIRECT_URIS,
    AppProfile,
    InvalidApplication,
    check_backchannel_logout_uri,
    check_description,
    check_homepage,
    check_name,
    check_post_logout_redirect_uris,
    check_privacy_url,
)
from openplate.oauth.device import DEVICE_GRANT
from openplate.oauth.redirect_uris import (
    RedirectUriInvalid,
    is_loopback,
    is_private_use,
    validate_for_registration,
)

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
#: The grants a self-registered app may ask for (client_credentials only with an owner: its
#: tokens speak for the owner's account).
SELF_REGISTERED_GRANTS = ("authorization_code", "refresh_token", "client_credentials",
                          DEVICE_GRANT)
APPLICATION_TYPES = ("web", "native")
MAX_CONTACTS = 5
MAX_SHORT_TEXT = 100
#: Metadata we understand but do not offer: registering it would promise what we do not do.
UNSUPPORTED = {
    "jwks": "Client keys (jwks) are not supported: use a client secret or no authentication "
            "with PKCE.",
    "jwks_uri": "Client keys (jwks_uri) are not supported: use a client secret or no "
                "authentication with PKCE.",
    "id_token_encrypted_response_alg": "Encrypted ID tokens are not supported.",
    "id_token_encrypted_response_enc": "Encrypted ID tokens are not supported.",
    "userinfo_signed_response_alg": "Signed UserInfo answers are not supported: UserInfo "
                                    "answers plain JSON.",
    "userinfo_encrypted_response_alg": "Encrypted UserInfo answers are not supported.",
    "userinfo_encrypted_response_enc": "Encrypted UserInfo answers are not supported.",
    "request_object_encryption_alg": "Request objects are not supported.",
    "request_object_encryption_enc": "Request objects are not supported.",
    "tls_client_certificate_bound_access_tokens": "Certificate-bound tokens (RFC 8705) are not "
                                                  "supported.",
    "authorization_signed_response_alg": "JWT-secured authorisation responses are not "
                                         "supported.",
}
#: What the server does not understand, or ignores, and so does not give back.
RESERVED_IN_REQUESTS = ("registration_access_token", "registration_client_uri",
                        "client_secret_expires_at", "client_id_issued_at")


class InvalidClientMetadata(ValueError):
    """RFC 7591 §3.2.2: ``error`` is invalid_client_metadata or invalid_redirect_uri; the
    message names the field."""

    def __init__(self, message: str, *, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Checked metadata: what decides things here, and what is only given back (``echo``)."""

    name: str
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    auth_method: str
    application_type: str
    id_token_alg: str | None
    profile: AppProfile
    #: Given back to the client as registered; decides nothing here.
    echo: dict[str, object] = field(default_factory=dict)
    #: RFC 9449 §5.2: every token request of the client must carry a DPoP proof.
    dpop_bound: bool = False
    #: RFC 9126 §6: its authorisation requests must be pushed first.
    require_par: bool = False
    #: OIDC RP-Initiated Logout §3.1 and Back-Channel Logout §2.2.
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False

    @property
    def public(self) -> bool:
        return self.auth_method == "none"


def _text(doc: Mapping[str, object], name: str, *, limit: int) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidClientMetadata(f"{name} must be a string.")
    if len(value) > limit:
        raise InvalidClientMetadata(f"{name} must be at most {limit} characters.")
    return value


def _strings(doc: Mapping[str, object], name: str, *, limit: int) -> list[str] | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClientMetadata(f"{name} must be an array of strings.")
    if len(value) > limit:
        raise InvalidClientMetadata(f"{name} may hold at most {limit} values.")
    return list(dict.fromkeys(value))


def _application_type(doc: Mapping[str, object], uris: list[str]) -> str:
    """OIDC Registration §2: "web" by default. A client that leaves it out but lists only
    loopback or private-use redirect URIs is a native app (many do, MCP clients among them)."""
    kind = _text(doc, "application_type", limit=16)
    if kind is None:
        native = bool(uris) and all(is_loopback(u) or is_private_use(u) for u in uris)
        return "native" if native else "web"
    if kind not in APPLICATION_TYPES:
        raise InvalidClientMetadata("application_type must be web or native.")
    return kind


def _redirect_uris(uris: list[str], kind: str) -> tuple[str, ...]:
    """OIDC Registration §2: "Web Clients using the OAuth Implicit Grant Type MUST only register
    URLs using the https scheme as redirect_uris; they MUST NOT use localhost as the hostname.
    Native Clients MUST only register redirect_uris using custom URI schemes or loopback URLs
    using the http scheme". We hold every web client to https, and let native ones use https too
    (claimed URLs, RFC 8252 §7.2)."""
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidClientMetadata(
            f"redirect_uris may hold at most {MAX_REDIRECT_URIS} URIs.",
            error="invalid_redirect_uri")
    for uri in uris:
        try:
            validate_for_registration(uri, private_use=kind == "native")
        except RedirectUriInvalid as problem:
            raise InvalidClientMetadata(f"redirect_uris: {uri[:200]}: {problem}",
                                        error="invalid_redirect_uri") from None
        if kind == "web" and (is_loopback(uri) or not uri.startswith("https://")):
            raise InvalidClientMetadata(
                f"redirect_uris: {uri[:200]}: a web application's redirect URIs use https and "
                "not a loopback host; register as application_type native for those.",
                error="invalid_redirect_uri")
    return tuple(uris)


def _grants(doc: Mapping[str, object], *, auth_method: str,
            has_owner: bool) -> tuple[str, ...]:
    grants = _strings(doc, "grant_types", limit=8) or ["authorization_code"]
    responses = _strings(doc, "response_types", limit=8)
    if responses is None:  # RFC 7591 §2: "code" by default, for a client of the code grant
        responses = ["code"] if "authorization_code" in grants else []
    unknown = [g for g in grants if g not in SELF_REGISTERED_GRANTS]
    if unknown:
        raise InvalidClientMetadata(f"grant_types: '{unknown[0][:60]}' is not offered here; "
                                    f"choose from {', '.join(SELF_REGISTERED_GRANTS)}.")
    if any(r != "code" for r in responses):
        raise InvalidClientMetadata("response_types: only code is offered here.")
    # RFC 7591 §2.1: the two lists must agree.
    if ("authorization_code" in grants) != ("code" in responses):
        raise InvalidClientMetadata("response_types code and the authorization_code grant go "
                                    "together.")
    if "refresh_token" in grants and not {"authorization_code", DEVICE_GRANT} & set(grants):
        raise InvalidClientMetadata("grant_types: refresh_token needs authorization_code or the "
                                    "device grant.")
    if "client_credentials" in grants:
        if auth_method == "none":
            raise InvalidClientMetadata("grant_types: a client without a secret cannot use "
                                        "client_credentials.")
        if not has_owner:
            raise InvalidClientMetadata(
                "grant_types: client_credentials needs a registration token that names the "
                "account the app acts for.")
    return tuple(g for g in SELF_REGISTERED_GRANTS if g in grants)


def _profile(doc: Mapping[str, object]) -> AppProfile:
    try:
        return AppProfile(
            homepage_url=check_homepage(_text(doc, "client_uri", limit=2000), required=False),
            description=check_description(_text(doc, "description", limit=2000)),
            privacy_url=check_privacy_url(_text(doc, "policy_uri", limit=2000)),
        )
    except InvalidApplication as problem:
        field_name = {"homepage": "client_uri", "privacy_url": "policy_uri"}.get(
            problem.field or "", problem.field or "")
        raise InvalidClientMetadata(f"{field_name}: {problem}") from None


def _flag(doc: Mapping[str, object], name: str) -> bool:
    value = doc.get(name, False)
    if not isinstance(value, bool):
        raise InvalidClientMetadata(f"{name} must be true or false.")
    return value


def _echo(doc: Mapping[str, object], auth_method: str) -> dict[str, object]:
    echo: dict[str, object] = {"token_endpoint_auth_method": auth_method}
    contacts = _strings(doc, "contacts", limit=MAX_CONTACTS)
    if contacts:
        if any(len(c) > 254 or "@" not in c for c in contacts):
            raise InvalidClientMetadata("contacts must be e-mail addresses.")
        echo["contacts"] = contacts
    for name in ("software_id", "software_version"):
        value = _text(doc, name, limit=MAX_SHORT_TEXT)
        if value:
            echo[name] = value
    return echo


def _logout(doc: Mapping[str, object], *, allow_private: bool
            ) -> tuple[tuple[str, ...], str | None, bool]:
    uris = _strings(doc, "post_logout_redirect_uris", limit=MAX_REDIRECT_URIS + 1) or []
    backchannel = _text(doc, "backchannel_logout_uri", limit=2000)
    try:
        checked = check_post_logout_redirect_uris(uris)
        uri = check_backchannel_logout_uri(backchannel, allow_private=allow_private)
    except InvalidApplication as problem:
        raise InvalidClientMetadata(f"{problem.field}: {problem}") from None
    return tuple(checked), uri, _flag(doc, "backchannel_logout_session_required")


def check_metadata(doc: Mapping[str, object], *, has_owner: bool,
                   allow_private: bool = False) -> ClientMetadata:
    """The client's metadata, checked; ``has_owner``: its registration names an account;
    ``allow_private``: OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS (for a back-channel logout URI)."""
    for name, why in UNSUPPORTED.items():
        if doc.get(name) is not None:
            raise InvalidClientMetadata(f"{name}: {why}")
    if doc.get("subject_type") not in (None, "public"):
        raise InvalidClientMetadata("subject_type: only public subject identifiers are offered.")
    auth_method = _text(doc, "token_endpoint_auth_method", limit=40) or "client_secret_basic"
    if auth_method not in AUTH_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method: choose {', '.join(AUTH_METHODS)}.")
    uris = _strings(doc, "redirect_uris", limit=MAX_REDIRECT_URIS + 1) or []
    kind = _application_type(doc, uris)
    grants = _grants(doc, auth_method=auth_method, has_owner=has_owner)
    if "authorization_code" in grants and not uris:
        raise InvalidClientMetadata("redirect_uris: register at least one redirect URI.",
                                    error="invalid_redirect_uri")
    alg = _text(doc, "id_token_signed_response_alg", limit=16)
    if alg is not None and alg not in ID_TOKEN_ALGS:
        raise InvalidClientMetadata(
            f"id_token_signed_response_alg: choose {', '.join(ID_TOKEN_ALGS)}.")
    logout_uris, backchannel, session_required = _logout(doc, allow_private=allow_private)
    raw_name = _text(doc, "client_name", limit=1000)
    try:
        name = check_name(raw_name) if raw_name is not None else _default_name(uris)
    except InvalidApplication as problem:
        raise InvalidClientMetadata(f"client_name: {problem}") from None
    return ClientMetadata(
        name=name, redirect_uris=_redirect_uris(uris, kind), grant_types=grants,
        auth_method=auth_method, application_type=kind, id_token_alg=alg,
        profile=_profile(doc), echo=_echo(doc, auth_method),
        dpop_bound=_flag(doc, "dpop_bound_access_tokens"),
        require_par=_flag(doc, "require_pushed_authorization_requests"),
        post_logout_redirect_uris=logout_uris, backchannel_logout_uri=backchannel,
        backchannel_logout_session_required=session_required,
    )


def _default_name(uris: list[str]) -> str:
    """A name for an app that gave none: where it sends people back to."""
    host = urlsplit(uris[0]).hostname if uris else None
    return f"An app at {host}"[:100] if host else "An unnamed app"


def describe(metadata: ClientMetadata) -> dict[str, object]:
    """The metadata as RFC 7591 §3.2.1 gives it back (what was registered, nothing more)."""
    body: dict[str, object] = {
        "client_name": metadata.name,
        "redirect_uris": list(metadata.redirect_uris),
        "grant_types": list(metadata.grant_types),
        "response_types": ["code"] if "authorization_code" in metadata.grant_types else [],
        "application_type": metadata.application_type,
        **metadata.echo,
    }
    if metadata.id_token_alg is not None:
        body["id_token_signed_response_alg"] = metadata.id_token_alg
    if metadata.dpop_bound:
        body["dpop_bound_access_tokens"] = True
    if metadata.require_par:
        body["require_pushed_authorization_requests"] = True
    if metadata.post_logout_redirect_uris:
        body["post_logout_redirect_uris"] = list(metadata.post_logout_redirect_uris)
    if metadata.backchannel_logout_uri:
        body["backchannel_logout_uri"] = metadata.backchannel_logout_uri
        body["backchannel_logout_session_required"] = (
            metadata.backchannel_logout_session_required)
    if metadata.profile.homepage_url:
        body["client_uri"] = metadata.profile.homepage_url
    if metadata.profile.privacy_url:
        body["policy_uri"] = metadata.profile.privacy_url
    if metadata.profile.description:
        body["description"] = metadata.profile.description
    return body
