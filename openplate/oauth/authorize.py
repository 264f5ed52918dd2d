"""RFC 6749 §4.1.1–§4.1.2: the authorisation endpoint, as a straight sequence of named checks.

Two phases: ``validate_request`` checks and returns a typed request that the web layer parks while
our own pages handle sign-in and consent; ``approve`` / ``deny`` then answer the client.
``check_request`` is the one sequence of checks, shared with the pushed authorisation request
endpoint (RFC 9126 §2.1, openplate/oauth/par.py), which answers its errors as JSON instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from openplate.oauth import pkce
from openplate.oauth.dpop import is_thumbprint
from openplate.oauth.errors import (
    AccessDenied,
    InvalidClientId,
    InvalidRedirectUri,
    InvalidRequest,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.params import Params
from openplate.oauth.ports import ClientStore, OAuthStore
from openplate.oauth.redirect_uris import find_match
from openplate.oauth.resources import Resources, requested
from openplate.oauth.scopes import DEFAULT_SCOPES, format_scope, requested_scope
from openplate.oauth.tokens import AUTHORIZATION_CODE_PREFIX, Digester


class ErrorRedirect(Exception):
    """A redirectable error (RFC 6749 §4.1.2.1): sent back to the verified redirect URI."""

    def __init__(
        self, error: OAuthError, redirect_uri: str, state: str | None, issuer: str,
        client: Client,
    ) -> None:
        super().__init__(error.description)
        self.error = error
        self.client = client
        self.redirect_uri = redirect_uri
        self.state = state
        self.issuer = issuer

    @property
    def location(self) -> str:
        return redirect_location(self.redirect_uri, _error_params(self.error), self.state,
                                 self.issuer)


def _error_params(error: OAuthError) -> dict[str, str]:
    return {"error": error.error, "error_description": error.description}


def redirect_location(
    redirect_uri: str, params: dict[str, str], state: str | None, issuer: str
) -> str:
    """Add response parameters to the redirect URI's query, keeping any query it already has.

    RFC 9207 §2: "the authorization server MUST ... include the iss parameter" in every
    authorisation response, errors included, so a client can tell its servers apart (mix-up).
    """
    values = dict(params)
    if state is not None:
        values["state"] = state
    values["iss"] = issuer
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(values)


async def identify_client(params: Params, clients: ClientStore) -> Client:
    """The registered, enabled client the request names; a fatal error (a page) otherwise."""
    if "client_id" in params.duplicated:
        raise InvalidClientId("client_id must not be sent more than once.")
    client_id = params.get("client_id")
    if client_id is None:
        raise InvalidClientId("The request has no client_id.")
    client = await clients.by_client_id(client_id)
    if client is None:
        raise InvalidClientId("No application is registered with this client_id.")
    if client.disabled:
        raise InvalidClientId("This application is disabled: it cannot ask for access to "
                              "accounts at the moment.")
    return client


def _redirect_uri(params: Params, client: Client) -> str:
    if "redirect_uri" in params.duplicated:
        raise InvalidRedirectUri("redirect_uri must not be sent more than once.")
    requested = params.get("redirect_uri")
    if requested is None:
        raise InvalidRedirectUri("The request has no redirect_uri.")
    if find_match(requested, client.redirect_uris) is None:
        raise InvalidRedirectUri("The redirect_uri is not registered for this application.")
    return requested


def _response_type(params: Params, client: Client) -> None:
    response_type = params.get("response_type")
    if response_type is None:
        raise InvalidRequest("response_type is required.")
    if response_type != "code":
        raise UnsupportedResponseType("Only response_type=code is supported.")
    # §4.1.2.1 unauthorized_client: "The client is not authorized to request an authorization
    # code using this method."
    if "authorization_code" not in client.grant_types:
        raise UnauthorizedClient("This application may not use the authorization code grant.")


def _pushed_if_required(client: Client, *, pushed: bool, required_everywhere: bool) -> None:
    """RFC 9126 §6 (and §5 for the server-wide setting): "the authorization server MUST accept
    authorization request parameters only via PAR" when the client (or the server) requires it."""
    if not pushed and (required_everywhere or client.require_pushed_authorization_requests):
        raise InvalidRequest("This application must push its authorisation requests first "
                             "(POST /oauth/par) and send only client_id and request_uri here.")


def _no_request_objects(params: Params) -> None:
    """OIDC Core §6: request objects are not supported; say so with the errors of §3.1.2.6."""
    if "request" in params:
        raise RequestNotSupported("Request objects (the request parameter) are not supported.")
    if "request_uri" in params:
        raise RequestUriNotSupported("The request_uri parameter is not supported.")


PROMPTS = ("none", "login", "consent")
MAX_NONCE_CHARS = 512


def _prompt(params: Params) -> tuple[str, ...]:
    """OIDC Core §3.1.2.1: space-delimited prompt values; "none" stands alone."""
    values = tuple(dict.fromkeys((params.get("prompt") or "").split()))
    if any(v not in PROMPTS for v in values):
        raise InvalidRequest("prompt may hold only none, login and consent.")
    if "none" in values and len(values) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values.")
    return values


def _max_age(params: Params) -> int | None:
    raw = params.get("max_age")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 10:
        raise InvalidRequest("max_age must be a whole number of seconds.")
    return int(raw)


def _acr_values(params: Params) -> tuple[str, ...]:
    """§3.1.2.1 acr_values: space-separated; values we do not offer are kept but mean nothing
    (the claim is voluntary)."""
    raw = params.get("acr_values") or ""
    if len(raw) > 512:
        raise InvalidRequest("acr_values must be at most 512 characters.")
    return tuple(dict.fromkeys(raw.split()))


def _nonce(params: Params) -> str | None:
    nonce = params.get("nonce")
    if nonce is not None and len(nonce) > MAX_NONCE_CHARS:
        raise InvalidRequest(f"nonce must be at most {MAX_NONCE_CHARS} characters.")
    return nonce


def _dpop_jkt(params: Params) -> str | None:
    """RFC 9449 §10: ``dpop_jkt``, "the JWK SHA-256 Thumbprint ... of the proof-of-possession
    key"; the code will be redeemed only with a DPoP proof of that key."""
    value = params.get("dpop_jkt")
    if value is not None and not is_thumbprint(value):
        raise InvalidRequest("dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url "
                             "characters).")
    return value


def _pkce(params: Params, client: Client) -> tuple[str, str] | None:
    challenge = pkce.check_challenge(
        params.get("code_challenge"), params.get("code_challenge_method")
    )
    if challenge is None and (client.is_public or client.require_pkce):
        raise InvalidRequest("This application must use PKCE (code_challenge with S256).")
    return challenge


LoadPushed = Callable[[Params, Client], Awaitable[Params]]


async def validate_request(
    params: Params, clients: ClientStore, *, issuer: str, resources: Resources | None = None,
    load_pushed: LoadPushed | None = None, require_pushed: bool = False,
) -> AuthorizationRequest:
    """Check an authorisation request; raise a fatal error (a page) or an ``ErrorRedirect``.

    With ``load_pushed`` (RFC 9126 §4), a ``request_uri`` this server issued stands for the
    request pushed under it: ``load_pushed`` reads it once, and only its parameters are used.
    ``require_pushed``: the server refuses every request that was not pushed (OPENPLATE_REQUIRE_PAR).
    """
    client = await identify_client(params, clients)
    if load_pushed is not None and is_pushed_reference(params.get("request_uri")):
        return check_request(await load_pushed(params, client), client, issuer=issuer,
                             resources=resources, pushed=True)
    return check_request(params, client, issuer=issuer, resources=resources,
                         require_pushed=require_pushed)


#: RFC 9126 §2.2: the request_uri of a pushed request is a URN of this form.
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def is_pushed_reference(request_uri: str | None) -> bool:
    """A request_uri of our own form (any other is a request object by reference, which OIDC
    Core §6.2 defines and we do not support: request_uri_not_supported, as before PAR)."""
    return request_uri is not None and request_uri.startswith(REQUEST_URI_PREFIX)


def check_request(
    params: Params, client: Client, *, issuer: str, resources: Resources | None = None,
    pushed: bool = False, require_pushed: bool = False,
) -> AuthorizationRequest:
    """The one sequence of checks of an authorisation request of ``client``, in the order the
    spec reads; ``pushed``: it came through POST /oauth/par (now or when it was pushed)."""
    redirect_uri = _redirect_uri(params, client)
    state = params.get("state") if "state" not in params.duplicated else None
    try:
        params.reject_duplicates()
        _response_type(params, client)
        _no_request_objects(params)
        _pushed_if_required(client, pushed=pushed, required_everywhere=require_pushed)
        scope = requested_scope(params.get("scope")) or DEFAULT_SCOPES
        challenge = _pkce(params, client)
        prompt, max_age, nonce = _prompt(params), _max_age(params), _nonce(params)
        acr_values = _acr_values(params)
        resource = requested(params, resources or Resources(api=issuer))
        dpop_jkt = _dpop_jkt(params)
    except OAuthError as error:
        raise ErrorRedirect(error, redirect_uri, state, issuer, client) from None
    login_hint = params.get("login_hint")
    return AuthorizationRequest(
        client_pk=client.pk,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        state=state,
        code_challenge=challenge[0] if challenge else None,
        code_challenge_method=challenge[1] if challenge else None,
        nonce=nonce,
        prompt=prompt,
        max_age=max_age,
        login_hint=login_hint[:254] if login_hint else None,
        acr_values=acr_values,
        resource=resource,
        dpop_jkt=dpop_jkt,
    )


async def approve(
    request: AuthorizationRequest,
    *,
    user_id: int,
    auth_time: int | None,
    amr: tuple[str, ...] = (),
    store: OAuthStore,
    digester: Digester,
    now: int,
    code_ttl: int,
    issuer: str,
    sid: str | None = None,
) -> str:
    """Issue a one-time code for an approved request; return where to send the browser.

    ``sid``: the OIDC sid of the browser session it is approved in (the ID tokens carry it; the
    client hears when that session ends, Back-Channel Logout)."""
    scope = format_scope(request.scope)
    resource = " ".join(request.resource) or None
    grant_id = await store.grants.create(
        user_id=user_id, client_pk=request.client_pk, scope=scope, now=now, auth_time=auth_time,
        amr=" ".join(amr) or None, resource=resource, sid=sid,
    )
    code = digester.mint(AUTHORIZATION_CODE_PREFIX)
    await store.codes.create(
        digest=digester.digest(code),
        grant_id=grant_id,
        client_pk=request.client_pk,
        user_id=user_id,
        redirect_uri=request.redirect_uri,
        scope=scope,
        code_challenge=request.code_challenge,
        nonce=request.nonce,
        auth_time=auth_time,
        amr=" ".join(amr) or None,
        sid=sid,
        now=now,
        expires_at=now + code_ttl,
        resource=resource,
        dpop_jkt=request.dpop_jkt,
    )
    return redirect_location(request.redirect_uri, {"code": code}, request.state, issuer)


def may_redirect_unseen(client: Client, *, user_id: int | None, remembered: bool) -> bool:
    """RFC 9700 §4.11.2: "the authorization server MAY only automatically redirect the user agent
    if it trusts the redirection URI. If the URI is not trusted, the authorization server MAY
    inform the user and rely on the user to make the correct decision."

    Anyone with an account can register an app and any https redirect URI, so a registered URI
    alone is not trusted: an error found before a person has seen anything (a malformed request,
    prompt=none) goes back at once only if the operator registered the app or someone other than
    its owner allowed it (``Client.trusted``), or the signed-in user is its owner or allowed it
    before. Otherwise our page names the app and the host, and the person decides.
    """
    if client.trusted:
        return True
    return user_id is not None and (user_id == client.owner_id or remembered)


def refuse(request: AuthorizationRequest, error: OAuthError, *, issuer: str) -> str:
    """Where to send the browser with an error for a validated request (Deny, prompt=none …)."""
    return redirect_location(request.redirect_uri, _error_params(error), request.state, issuer)


def deny(request: AuthorizationRequest, *, issuer: str) -> str:
    """Where to send the browser when the user clicks Deny."""
    return refuse(request, AccessDenied("The user denied the request."), issuer=issuer)
