"""The hot endpoints, declared once: path, method, handler and OpenAPI description.

Both faces of these endpoints come from ``HOT_ENDPOINTS`` and nothing else: ``HotRoutes``
(hot.py) serves them straight from ASGI, ahead of FastAPI, and ``describe`` writes their
operations into the app's OpenAPI document (``/openapi.json``, rendered at ``/docs``), next to
the operations of FastAPI's own routes. FastAPI has no route for these paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openplate.web.hot import HotEndpoint
from openplate.web.routes import api, client_endpoints, oidc, resource_metadata

_JSON_200: dict[str, Any] = {
    "200": {"description": "Successful Response", "content": {"application/json": {"schema": {}}}}
}
_CLIENT_ERRORS: dict[str, Any] = {
    "400": {"description": "RFC 6749 §5.2 error."},
    "401": {"description": "invalid_client."},
    "429": {"description": "Too many failures; see Retry-After."},
}
_BEARER_ERRORS: dict[str, Any] = {
    "400": {"description": "Malformed Authorization header (RFC 6750 invalid_request)."},
    "401": {"description": "Missing, invalid, expired or revoked access token."},
    "403": {"description": "The token lacks the needed scope (insufficient_scope)."},
}
#: The access-token header (RFC 6750 §2.1), as FastAPI's ``APIKeyHeader`` describes it for /maps.
BEARER_SCHEME = "APIKeyHeader"
_BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]
_FORM = "application/x-www-form-urlencoded"


def _form(*names: str, required: bool = True,
          descriptions: Mapping[str, str] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name in names:
        properties[name] = {"type": "string"}
        if descriptions and name in descriptions:
            properties[name]["description"] = descriptions[name]
    return {"required": required,
            "content": {_FORM: {"schema": {"type": "object", "properties": properties}}}}


def _operation(operation_id: str, summary: str, tag: str, responses: dict[str, Any],
               **more: Any) -> dict[str, Any]:
    return {"tags": [tag], "summary": summary, "operationId": operation_id,
            "responses": responses, **more}


_CLIENT_FORM = ("token", "token_type_hint", "client_id", "client_secret")
_USERINFO = "Claims about the signed-in user (OIDC Core §5.3)"

HOT_ENDPOINTS: tuple[HotEndpoint, ...] = (
    HotEndpoint("POST", "/oauth/token", client_endpoints.token_reply, _operation(
        "token_endpoint_oauth_token_post",
        "Exchange a code, a refresh token or client credentials for tokens", "oauth",
        {**_JSON_200, **_CLIENT_ERRORS},
        requestBody=_form("grant_type", "code", "redirect_uri", "client_id", "client_secret",
                          "refresh_token", "scope", "code_verifier", "response_type",
                          "device_code", "resource"))),
    HotEndpoint("POST", "/oauth/device_authorization", client_endpoints.device_authorization_reply,
                _operation(
        "device_authorization_endpoint_oauth_device_authorization_post",
        "Start the device authorization grant (RFC 8628 §3.1): a device code to poll the token "
        "endpoint with, and a user code for the user to type at verification_uri",
        "oauth", {**_JSON_200, **_CLIENT_ERRORS},
        requestBody=_form("client_id", "client_secret", "scope", descriptions={
            "scope": "Space-separated scopes (default: account maps); add openid for an ID token.",
        }))),
    HotEndpoint("POST", "/oauth/par", client_endpoints.par_reply, _operation(
        "pushed_authorization_request_endpoint_oauth_par_post",
        "Push an authorisation request; get a request_uri for /oauth/auth (RFC 9126)", "oauth",
        {"201": {"description": "Created: request_uri and expires_in (RFC 9126 §2.2).",
                 "content": {"application/json": {"schema": {
                     "type": "object", "required": ["request_uri", "expires_in"],
                     "properties": {"request_uri": {"type": "string"},
                                    "expires_in": {"type": "integer"}}}}}},
         **_CLIENT_ERRORS, "413": {"description": "The request body is too large."}},
        requestBody=_form("client_id", "client_secret", "response_type", "redirect_uri",
                          "scope", "state", "code_challenge", "code_challenge_method", "nonce",
                          "prompt", "max_age", "login_hint", "acr_values", "resource",
                          descriptions={
                              "client_id": "The client, authenticated as at /oauth/token "
                                           "(HTTP Basic, or client_id and client_secret).",
                          }))),
    HotEndpoint("POST", "/oauth/revoke", client_endpoints.revocation_reply, _operation(
        "revocation_endpoint_oauth_revoke_post", "Revoke an access or refresh token (RFC 7009)",
        "oauth", {**_JSON_200, **_CLIENT_ERRORS}, requestBody=_form(*_CLIENT_FORM))),
    HotEndpoint("POST", "/oauth/introspect", client_endpoints.introspection_reply, _operation(
        "introspection_endpoint_oauth_introspect_post", "Describe a token (RFC 7662)", "oauth",
        {**_JSON_200, **_CLIENT_ERRORS}, requestBody=_form(*_CLIENT_FORM))),
    HotEndpoint("GET", "/.well-known/oauth-authorization-server", oidc.metadata_reply, _operation(
        "oauth_metadata__well_known_oauth_authorization_server_get", "RFC 8414 metadata", "oidc",
        _JSON_200)),
    HotEndpoint("GET", "/.well-known/openid-configuration", oidc.metadata_reply, _operation(
        "openid_configuration__well_known_openid_configuration_get", "OpenID Connect Discovery",
        "oidc", _JSON_200)),
    HotEndpoint("GET", resource_metadata.API_PATH, resource_metadata.api_metadata_reply,
                _operation("protected_resource_metadata_api",
                           "RFC 9728 metadata of the API", "oidc", _JSON_200)),
    HotEndpoint("GET", resource_metadata.MCP_METADATA_PATH, resource_metadata.mcp_metadata_reply,
                _operation("protected_resource_metadata_mcp",
                           "RFC 9728 metadata of the MCP endpoint", "oidc", _JSON_200)),
    HotEndpoint("GET", "/oauth/jwks", oidc.jwks_reply, _operation(
        "jwks_oauth_jwks_get", "The public signing keys (RFC 7517)", "oidc",
        {"200": {"description": "The JWK set.", "content": {"application/jwk-set+json": {}}}})),
    HotEndpoint("GET", "/oauth/userinfo", oidc.userinfo_reply, _operation(
        "userinfo_get_oauth_userinfo_get", _USERINFO, "oidc", {**_JSON_200, **_BEARER_ERRORS},
        security=_BEARER)),
    HotEndpoint("POST", "/oauth/userinfo", oidc.userinfo_reply, _operation(
        "userinfo_post_oauth_userinfo_post", _USERINFO, "oidc", {**_JSON_200, **_BEARER_ERRORS},
        security=_BEARER, requestBody=_form("access_token", required=False, descriptions={
            "access_token": "The access token, instead of the Authorization header "
                            "(RFC 6750 §2.2; never both)."}))),
    HotEndpoint("GET", "/users/me", api.users_me_reply, _operation(
        "users_me_users_me_get", "The signed-in user (scope: account)", "api", {
            "200": {"description": "Successful Response", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Me"}}}},
            **_BEARER_ERRORS}, security=_BEARER)),
)


def describe(document: dict[str, Any], endpoints: tuple[HotEndpoint, ...] = HOT_ENDPOINTS) -> None:
    """Write the operations of ``endpoints`` into an OpenAPI ``document``, with the schemas and
    the security scheme they refer to."""
    paths = document.setdefault("paths", {})
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = dict(endpoint.operation)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Me"] = api.Me.model_json_schema(
        ref_template="#/components/schemas/{model}")
    components.setdefault("securitySchemes", {})[BEARER_SCHEME] = {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": api.authorization_header.model.description,
    }
