"""Bounded JSON calls to the authorisation server: no redirects, no unbounded bodies."""

from __future__ import annotations

import json
from typing import Any

import httpx

from openplate.resource_server.errors import ValidationUnavailableError

MAX_BODY_BYTES = 256 * 1024


async def fetch_json(
    client: httpx.AsyncClient, method: str, url: str, *, what: str, **kwargs: Any
) -> tuple[int, object]:
    """``(status, parsed JSON or None)``; ValidationUnavailableError when nothing usable came back."""
    try:
        async with client.stream(method, url, follow_redirects=False, **kwargs) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise ValidationUnavailableError(f"The {what} answer is too large.")
    except httpx.HTTPError as error:
        raise ValidationUnavailableError(
            f"The {what} could not be reached ({type(error).__name__}).") from None
    try:
        return response.status_code, json.loads(bytes(body))
    except ValueError:
        return response.status_code, None
