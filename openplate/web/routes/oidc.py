"""Discovery (RFC 8414, OpenID Connect Discovery 1.0), the JWKS, and the UserInfo endpoint:
hot endpoints (declared in hot_endpoints.py)."""

from __future__ import annotations

import json
from typing import Any

from openplate.oauth import bearer
from openplate.oauth.acr import ACR_VALUES_SUPPORTED
from openplate.oauth.device import DEVICE_GRANT
from openplate.oauth.dpop import DPOP_ALGORITHMS
from openplate.oauth.errors import OAuthError
from openplate.oauth.oidc.claims import user_claims
from openplate.oauth.oidc.jws import ALGORITHMS
from openplate.oauth.params import parse_params
from openplate.oauth.scopes import SCOPES
from openplate.settings import Settings
from openplate.web.context import AppContext
from openplate.web.errors import error_reply
from openplate.web.hot import HotRequest
from openplate.web.replies import Reply, json_reply
from openplate.web.routes.api import (
    BearerRejected,
    check_bearer,
    read_credentials,
    success_headers,
)

METADATA_CACHE = ((b"cache-control", b"public, max-age=300"),)
METADATA_HEADERS = ((b"content-type", b"application/json"), *METADATA_CACHE)
JWKS_HEADERS = ((b"content-type", b"application/jwk-set+json"), *METADATA_CACHE)


def metadata(settings: Settings) -> dict[str, Any]:
    """What this server really supports, and nothing it does not."""
    base = settings.base_url
    client_auth = ["client_secret_basic", "client_secret_post", "none"]
    document: dict[str, Any] = {
        "issuer": base,
        "authorization_endpoint": base + "/oauth/auth",
        "token_endpoint": base + "/oauth/token",
        "userinfo_endpoint": base + "/oauth/userinfo",
        "jwks_uri": base + "/oauth/jwks",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        # RFC 9126 §5. A request_uri from it works at /oauth/auth whatever
        # request_uri_parameter_supported says: that one is about request objects fetched by
        # reference (OIDC Core §6.2), which we do not support.
        "pushed_authorization_request_endpoint": base + "/oauth/par",
        "require_pushed_authorization_requests": settings.require_par,
        # RFC 8628 §4
        "device_authorization_endpoint": base + "/oauth/device_authorization",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
                                  DEVICE_GRANT],
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        # RFC 7662 §2.1: introspection needs an authenticated client, so never "none".
        "introspection_endpoint_auth_methods_supported": client_auth[:2],
        "code_challenge_methods_supported": ["S256"],
        # RFC 9449 §5.1: the algorithms of DPoP proofs accepted, here and on the API.
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "subject_types_supported": ["public"],
        # Every client may register any of these (RS256 always: OIDC Core §15.1).
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
                             "amr", "acr", "sid", "preferred_username", "name", "email",
                             "email_verified"],
        # OIDC Discovery §3: our two levels (openplate/oauth/acr.py), asked for with acr_values.
        "acr_values_supported": list(ACR_VALUES_SUPPORTED),
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "service_documentation": base + "/docs",
        # OIDC RP-Initiated Logout §2.1 and Back-Channel Logout §2.1 (openplate/web/routes/
        # logout.py, openplate/backchannel.py); no front-channel (iframe) logout.
        "end_session_endpoint": base + "/oauth/logout",
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
    if settings.registration != "off":  # RFC 8414 §2 / OIDC Discovery §3
        document["registration_endpoint"] = base + "/oauth/register"
    if settings.client_id_metadata_documents:
        document["client_id_metadata_document_supported"] = True
    return document


def metadata_json(settings: Settings) -> bytes:
    return json.dumps(metadata(settings), separators=(",", ":")).encode()


async def metadata_reply(ctx: AppContext, _request: HotRequest) -> Reply:
    return Reply(200, ctx.metadata_json, METADATA_HEADERS)


async def jwks_reply(ctx: AppContext, _request: HotRequest) -> Reply:
    ring = ctx.keys.ring
    if ring is None:
        return error_reply(503, "temporarily_unavailable", "Signing keys are not loaded yet.")
    return Reply(200, ring.jwks_json, JWKS_HEADERS)


FORM_TYPE = "application/x-www-form-urlencoded"


def userinfo_authorization(request: HotRequest) -> str | None:
    """The token's Authorization header, or what a form body's ``access_token`` stands for.

    RFC 6750 §2.2: only in a POST whose single-part body is ``application/x-www-form-urlencoded``
    (a multipart or JSON body is not read for a token), and never beside the header.
    """
    authorization = request.header(b"authorization")
    content_type = (request.header(b"content-type") or "").split(";", 1)[0].strip().lower()
    if request.method != "POST" or content_type != FORM_TYPE or not request.body:
        return authorization
    try:
        return bearer.authorization_with_body(authorization, parse_params(request.body))
    except OAuthError as error:
        raise BearerRejected(error, token_sent=True) from None


async def userinfo_reply(ctx: AppContext, request: HotRequest) -> Reply:
    credentials = await read_credentials(ctx, userinfo_authorization(request), request.dpop,
                                         method=request.method, path=request.path)
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, credentials, scope="openid", user_only=True)
    profile = principal.user
    if profile is None:
        return error_reply(401, "invalid_token", "The account no longer exists.")
    return json_reply(user_claims(profile, principal.scope.split()),
                      headers=success_headers(ctx, credentials))
