"""MCP 2025-11-25 (and 2026-07-28) Streamable HTTP: the mind-map library as an MCP server at /mcp.

``auth`` checks the access token of every request and answers RFC 6750 §3 refusals;
``server`` builds the official SDK's low-level ``Server`` with stateless Streamable HTTP and
JSON answers; ``tools`` declares the tools and reads their arguments; ``library`` runs each
tool on the library's own services, as the token's user; ``resources`` serves each map as a
resource. See docs/mcp.md.
"""

from __future__ import annotations

from openplate.web.mcp_server.auth import McpEndpoint, challenge
from openplate.web.mcp_server.server import McpService

__all__ = ["McpEndpoint", "McpService", "challenge"]
