"""The protocol core's records: plain frozen values that cross the storage boundary."""

from __future__ import annotations

from dataclasses import dataclass

#: Seconds between two writes of a grant's "last used" time (/account/apps shows it to the
#: minute): a grant that keeps getting tokens is written once a minute, not once per token.
LAST_USED_EVERY = 60


@dataclass(frozen=True, slots=True)
class Client:
    """A registered application (RFC 6749 §2)."""

    pk: int
    client_id: str
    name: str
    #: The account it belongs to; None for an app that registered itself on an open server.
    owner_id: int | None
    redirect_uris: tuple[str, ...]
    secret_digest: str | None  # None for a public client
    require_pkce: bool = False
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    #: Errors may go back to its redirect URIs before a person has seen anything: it was
    #: registered by the operator, or someone other than its owner has allowed it (RFC 9700
    #: §4.11.2; see openplate.oauth.authorize.may_redirect_unseen).
    trusted: bool = False
    #: OIDC Dynamic Registration's ``id_token_signed_response_alg``: RS256, ES256 or EdDSA;
    #: None (clients registered before it could be chosen) follows OPENPLATE_SIGNING_ALG.
    id_token_alg: str | None = None
    #: What the consent page tells a person about the app (RFC 7591 §2's client_uri, policy_uri
    #: and a plain-text description), and the SHA-256 of its logo (None: it has none).
    homepage_url: str | None = None
    description: str | None = None
    privacy_url: str | None = None
    logo_digest: str | None = None
    #: Disabled by the operator (``openplate app disable``): it authenticates (so it may still
    #: revoke and introspect, answered ``active: false``) but gets no tokens.
    disabled: bool = False
    #: RFC 9126 §6 ``require_pushed_authorization_requests``: the app's authorisation requests
    #: must be pushed first (POST /oauth/par); a plain one is refused.
    require_pushed_authorization_requests: bool = False
    #: How it registered itself at /oauth/register (RFC 7591): "token" (with the operator's
    #: initial access token) or "open"; None: a person or the operator registered it.
    registration: str | None = None
    #: OIDC Dynamic Registration's application_type: "web" or "native".
    application_type: str = "web"
    #: RFC 9449 §5.2 ``dpop_bound_access_tokens``: every token request of this client must
    #: carry a DPoP proof (its tokens are all DPoP-bound).
    dpop_bound_access_tokens: bool = False
    #: OIDC RP-Initiated Logout §3.1 post_logout_redirect_uris: where /oauth/logout may send the
    #: browser back, each matched exactly.
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: OIDC Back-Channel Logout §2.2: where logout tokens are POSTed (None: it wants none), and
    #: whether it needs their ``sid``.
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False

    @property
    def is_public(self) -> bool:
        return self.secret_digest is None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorisation request (RFC 6749 §4.1.1), parked while the user decides."""

    client_pk: int
    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    # OpenID Connect Core §3.1.2.1
    nonce: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    login_hint: str | None = None
    #: §3.1.2.1 acr_values: the authentication context classes asked for, in order.
    acr_values: tuple[str, ...] = ()
    #: RFC 8707 resource indicators: where the tokens will be used (none: the API).
    resource: tuple[str, ...] = ()
    #: RFC 9449 §10 ``dpop_jkt``: the thumbprint of the key the code is bound to.
    dpop_jkt: str | None = None
    #: §3.1.2.1 id_token_hint: the ``sub`` of the ID token it named, once its signature is
    #: checked (openplate.oauth.oidc.hints); the signed-in user must be that user.
    hint_subject: str | None = None

    @property
    def is_openid(self) -> bool:
        return "openid" in self.scope


@dataclass(frozen=True, slots=True)
class PushedRecord:
    """A pushed authorisation request as stored (RFC 9126 §2): only its request_uri's digest is
    kept, with the parameters pushed (a JSON object, never a client secret)."""

    client_pk: int
    params: str
    expires_at: int
    used: bool


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """An authorisation code as stored (only its digest is kept)."""

    id: int
    grant_id: int
    client_pk: int
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires_at: int
    used: bool
    nonce: str | None = None
    auth_time: int | None = None
    #: How the user signed in (RFC 8176 amr values, space-separated), if known.
    amr: str | None = None
    #: RFC 8707: the resources the authorisation request named (space-separated; None: none).
    resource: str | None = None
    #: RFC 9449 §10: redeemed only with a DPoP proof of the key with this thumbprint.
    dpop_jkt: str | None = None
    #: The browser session's OIDC sid (Back-Channel Logout §2.4), if it was made in one.
    sid: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A device authorisation (RFC 8628 §3.2) as stored: its device code and user code are
    kept only as digests."""

    id: int
    client_pk: int
    scope: str
    created_at: int
    expires_at: int
    #: Seconds the device must wait between polls (§3.2; grows by 5 with each slow_down).
    interval: int
    #: "pending" until the user decides, then "allowed" or "denied".
    status: str
    #: The user who decided (None while pending).
    user_id: int | None
    #: The signed-in user who last typed the user code (only they may decide).
    claimed_by: int | None
    #: Its tokens were issued (the device code is spent).
    used: bool
    auth_time: int | None = None
    amr: str | None = None
    #: The application's client_id (read with the record; "" where an update returns it).
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class RefreshRecord:
    id: int
    grant_id: int
    client_pk: int
    user_id: int
    scope: str
    expires_at: int
    used_at: int | None  # when it was rotated; None while it is the live refresh token
    revoked: bool
    #: Its grant was revoked, or its user or its application is disabled: it is dead either way.
    grant_revoked: bool
    auth_time: int | None = None
    issued_at: int = 0
    #: The stamp of the successors its rotation minted (None if rotated before stamps existed).
    successor_stamp: str | None = None
    #: When its grant last got tokens (its ``last_used_at``; None if never written).
    grant_used_at: int | None = None
    #: The digest of the access token minted with it (None if minted before that was kept).
    access_digest: str | None = None
    #: How the user signed in, as its grant says (RFC 8176 amr values, space-separated).
    amr: str | None = None
    #: RFC 8707: the resources its grant was authorised for (space-separated; None: none named).
    resource: str | None = None
    #: RFC 9449 §5: a public client's refresh token is bound to its DPoP key (thumbprint).
    jkt: str | None = None
    #: Its grant's sid: the ID tokens of a refresh carry the same one.
    sid: str | None = None

    @property
    def used(self) -> bool:
        return self.used_at is not None


@dataclass(frozen=True, slots=True)
class AccessPrincipal:
    """Who an access token speaks for (RFC 6750), as the API sees it."""

    token_id: int
    grant_id: int
    user_id: int
    client_pk: int
    scope: str
    expires_at: int
    issued_at: int = 0
    #: The token's user, read with the token (one statement for the bearer check and the
    #: answer of /users/me, userinfo and introspection).
    user: UserProfile | None = None
    #: A client-credentials token: it speaks for the client itself. ``user_id`` is the client's
    #: owner (whose account its uploads go to), but no user granted it: it is not a user's token.
    for_client: bool = False
    #: RFC 8707: the resources it is for (space-separated); None: the API, as tokens always were.
    resource: str | None = None
    #: RFC 9449: the thumbprint of the DPoP key the token is bound to; None for a bearer token.
    jkt: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """A token response (RFC 6749 §5.1) in the shape the Biggerplate documentation fixes."""

    access_token: str
    expires: int
    expires_in: int
    refresh_token: str | None
    scope: str
    id_token: str | None = None
    #: RFC 9449 §5: "DPoP" for a DPoP-bound access token.
    token_type: str = "Bearer"  # noqa: S105 - a token type, not a secret

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires": self.expires,
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        body["scope"] = self.scope
        if self.id_token is not None:
            body["id_token"] = self.id_token
        return body


@dataclass(frozen=True, slots=True)
class UserProfile:
    """What the core may say about a user in claims (OIDC Core §5.1)."""

    id: int
    username: str
    email: str
    created_at: int  # when the account was made (the API's MemberSince)
    #: The address was shown to be the user's (a verification link was used for it).
    email_verified: bool = False
    #: The name the user chose to show; None: the username stands in for it.
    display_name: str | None = None
