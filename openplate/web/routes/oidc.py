"""Discovery (RFC 8414, OpenID Connect Discovery 1.0), the JWKS, and the UserInfo endpoint."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.oauth.oidc.claims import user_claims
from openplate.oauth.scopes import SCOPES
from openplate.settings import Settings
from openplate.web.context import context_of
from openplate.web.errors import error_json
from openplate.web.routes.api import BEARER_RESPONSES, Authorization, check_bearer

router = APIRouter(tags=["oidc"])

METADATA_CACHE = {"Cache-Control": "public, max-age=300"}


def metadata(settings: Settings) -> dict[str, Any]:
    """What this server really supports, and nothing it does not."""
    base = settings.base_url
    client_auth = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": base,
        "authorization_endpoint": base + "/oauth/auth",
        "token_endpoint": base + "/oauth/token",
        "userinfo_endpoint": base + "/oauth/userinfo",
        "jwks_uri": base + "/oauth/jwks",
        "revocation_endpoint": base + "/oauth/revoke",
        "introspection_endpoint": base + "/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_methods_supported": client_auth,
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [settings.signing_alg],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
                             "preferred_username", "name", "email", "email_verified"],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "service_documentation": base + "/docs",
    }


def metadata_json(settings: Settings) -> bytes:
    return json.dumps(metadata(settings), separators=(",", ":")).encode()


def _cached_json(body: bytes) -> Response:
    return Response(body, media_type="application/json", headers=METADATA_CACHE)


@router.get("/.well-known/oauth-authorization-server", summary="RFC 8414 metadata")
async def oauth_metadata(request: Request) -> Response:
    return _cached_json(context_of(request).metadata_json)


@router.get("/.well-known/openid-configuration", summary="OpenID Connect Discovery")
async def openid_configuration(request: Request) -> Response:
    return _cached_json(context_of(request).metadata_json)


@router.get("/oauth/jwks", summary="The public signing keys (RFC 7517)", response_class=Response,
            responses={200: {"content": {"application/jwk-set+json": {}},
                             "description": "The JWK set."}})
async def jwks(request: Request) -> Response:
    ring = context_of(request).keys.ring
    if ring is None:
        return error_json(503, "temporarily_unavailable", "Signing keys are not loaded yet.")
    return Response(ring.jwks_json, media_type="application/jwk-set+json", headers=METADATA_CACHE)


async def _userinfo(request: Request, authorization: str | None) -> Response:
    ctx = context_of(request)
    async with ctx.db.transaction(readonly=True) as store:
        principal = await check_bearer(ctx, store, authorization, scope="openid")
        profile = await store.users.profile(principal.user_id)
    if profile is None:
        return error_json(401, "invalid_token", "The account no longer exists.")
    return JSONResponse(user_claims(profile, principal.scope.split()),
                        headers={"Cache-Control": "no-store"})


@router.get("/oauth/userinfo", summary="Claims about the signed-in user (OIDC Core §5.3)",
            responses=BEARER_RESPONSES)
async def userinfo_get(request: Request, authorization: Authorization) -> Response:
    return await _userinfo(request, authorization)


@router.post("/oauth/userinfo", summary="Claims about the signed-in user (OIDC Core §5.3)",
             responses=BEARER_RESPONSES)
async def userinfo_post(request: Request, authorization: Authorization) -> Response:
    return await _userinfo(request, authorization)


async def userinfo_direct(request: Request) -> Response:
    """/oauth/userinfo without FastAPI's per-request dependency machinery."""
    return await _userinfo(request, request.headers.get("authorization"))
