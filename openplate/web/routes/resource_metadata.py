"""RFC 9728: OAuth 2.0 Protected Resource Metadata for Openplate's two resources, the API and
the MCP endpoint (hot endpoints, declared in hot_endpoints.py; each document built once).

A client that knows nothing but a resource's URL calls it, gets a 401 whose ``WWW-Authenticate``
names ``resource_metadata`` (RFC 9728 §5.1), reads the document there, and finds the
authorisation server to get a token from, and the scopes to ask for.
"""

from __future__ import annotations

import json
from functools import lru_cache

from openplate.oauth.resources import MCP_PATH, METADATA_PATH, Resources
from openplate.web.context import AppContext
from openplate.web.hot import HotRequest
from openplate.web.replies import Reply
from openplate.web.routes.oidc import METADATA_HEADERS

API_PATH = METADATA_PATH
MCP_METADATA_PATH = METADATA_PATH + MCP_PATH
#: What each resource's tokens may carry (see oauth/scopes.py).
API_SCOPES = ("account", "maps", "openid", "profile", "email")
MCP_SCOPES = ("maps", "account")


def document(resources: Resources, issuer: str, resource: str) -> dict[str, object]:
    """RFC 9728 §2: "resource" is the identifier the metadata URL was made from (§3.3)."""
    mcp = resource == resources.mcp
    body: dict[str, object] = {
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": list(MCP_SCOPES if mcp else API_SCOPES),
        "bearer_methods_supported": ["header"],
        "resource_name": "Openplate mind-map library (MCP)" if mcp else "Openplate API",
    }
    if not mcp:
        body["resource_documentation"] = issuer + "/docs"
    return body


@lru_cache(maxsize=8)
def _document_bytes(resources: Resources, issuer: str, resource: str) -> bytes:
    return json.dumps(document(resources, issuer, resource), separators=(",", ":")).encode()


async def api_metadata_reply(ctx: AppContext, _request: HotRequest) -> Reply:
    body = _document_bytes(ctx.resources, ctx.settings.base_url, ctx.resources.api)
    return Reply(200, body, METADATA_HEADERS)


async def mcp_metadata_reply(ctx: AppContext, _request: HotRequest) -> Reply:
    body = _document_bytes(ctx.resources, ctx.settings.base_url, ctx.resources.mcp)
    return Reply(200, body, METADATA_HEADERS)
