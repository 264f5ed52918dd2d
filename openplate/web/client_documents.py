"""OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, which the
MCP specification recommends): a ``client_id`` that is an https URL names a JSON document, served
there by the client, that describes it. We fetch it, check it, and keep it as an app of its own
(``registration = "metadata"``) until it is due again; the authorisation endpoint then treats it
like any other public client (PKCE required, exact redirect URIs).

Fetching a URL that anyone may name is guarded: the host must resolve to public addresses only
(openplate/net_guard.py; ``OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS`` for development), the address
checked is the one connected to, redirects are not followed, and the answer is bounded in time
and size.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from openplate.accounts.client_metadata import ClientMetadata, InvalidClientMetadata, check_metadata
from openplate.net_guard import AddressRefused, resolve, tls_context
from openplate.web.context import AppContext

log = logging.getLogger("openplate.client_documents")

MAX_DOCUMENT_BYTES = 16 * 1024
MAX_URL_CHARS = 1000
FETCH_SECONDS = 5.0
#: How long a document is kept: its Cache-Control max-age, within these bounds (seconds).
MIN_KEEP, DEFAULT_KEEP, MAX_KEEP = 300, 3600, 86_400
#: Members a client ID metadata document must never hold: it is public, so no secrets.
FORBIDDEN = ("client_secret", "client_secret_expires_at", "registration_access_token")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,10})\s*(?:,|$)", re.IGNORECASE)


class CannotUseDocument(Exception):
    """The client's document could not be fetched or is not acceptable; the message says why,
    for the person on the error page."""


def is_document_client_id(client_id: str | None) -> bool:
    """A client_id that names a document (an http(s) URL), not one we issued (``opc_…``)."""
    return client_id is not None and client_id.startswith(("https://", "http://"))


def check_url(client_id: str, *, allow_private: bool) -> None:
    """The draft's §3: "Client identifier URLs MUST have an "https" scheme, MUST contain a path
    component, MUST NOT contain single-dot or double-dot path segments, MAY contain a query
    string component, MUST NOT contain a fragment component and MUST NOT contain a username or
    password component." (http only for a loopback host, when the operator allows private
    addresses, for development.)"""
    if len(client_id) > MAX_URL_CHARS or not client_id.isascii() or any(
            c.isspace() or ord(c) < 0x21 for c in client_id):
        raise CannotUseDocument("The client ID is not a usable URL.")
    try:
        parts = urlsplit(client_id)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise CannotUseDocument("The client ID is not a valid URL.") from None
    loopback_http = (parts.scheme == "http" and allow_private
                     and parts.hostname in ("localhost", "127.0.0.1", "::1"))
    if parts.scheme != "https" and not loopback_http:
        raise CannotUseDocument("A client ID that is a URL must use https.")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise CannotUseDocument("The client ID URL must name a host and no user or password.")
    if "#" in client_id:
        raise CannotUseDocument("The client ID URL must not have a fragment.")
    segments = parts.path.split("/")
    if parts.path in ("", "/") or any(s in (".", "..") for s in segments):
        raise CannotUseDocument("The client ID URL must have a path, without . or .. segments.")


def keep_for(cache_control: str | None) -> int:
    """How long to keep a document: its max-age, between MIN_KEEP and MAX_KEEP."""
    if cache_control and "no-store" in cache_control.lower():
        return MIN_KEEP
    found = _MAX_AGE.search(cache_control or "")
    age = int(found.group(1)) if found else DEFAULT_KEEP
    return max(MIN_KEEP, min(MAX_KEEP, age))


def check_document(client_id: str, document: object, *,
                   allow_private: bool = False) -> ClientMetadata:
    """The document as client metadata (RFC 7591 §2 rules, accounts/client_metadata.py), or
    CannotUseDocument. §4.1: "the client_id property in the metadata document MUST match the
    URL of the document"; a client authenticating with a shared secret cannot use one."""
    if not isinstance(document, Mapping):
        raise CannotUseDocument("The client's document is not a JSON object.")
    if document.get("client_id") != client_id:
        raise CannotUseDocument("The client's document names another client_id.")
    for name in FORBIDDEN:
        if name in document:
            raise CannotUseDocument(f"The client's document must not hold {name}.")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise CannotUseDocument("Only clients without a secret (token_endpoint_auth_method "
                                "none) may use a client ID metadata document here.")
    grants = document.get("grant_types")
    if isinstance(grants, list) and "client_credentials" in grants:
        raise CannotUseDocument("A client ID metadata document cannot use client_credentials.")
    try:
        return check_metadata({**document, "token_endpoint_auth_method": "none"},
                              has_owner=False, allow_private=allow_private)
    except InvalidClientMetadata as problem:
        raise CannotUseDocument(f"The client's document is not acceptable: {problem}") from None


async def fetch(client_id: str, *, allow_private: bool,
                ca_file: Path | None = None) -> tuple[object, int]:
    """GET the document through the address guard: its JSON and how long to keep it."""
    try:
        target = await resolve(client_id, allow_private=allow_private)
    except AddressRefused as refused:
        raise CannotUseDocument(f"The client's document cannot be fetched: {refused}.") from None
    scheme = urlsplit(client_id).scheme
    extensions = {"sni_hostname": target.host} if scheme == "https" else {}
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != (443 if scheme == "https" else 80):
        host_header += f":{target.port}"
    try:
        async with httpx.AsyncClient(follow_redirects=False, timeout=FETCH_SECONDS,
                                     trust_env=False, verify=tls_context(ca_file)) as client:
            request = client.build_request(
                "GET", target.pinned_url, extensions=extensions,
                headers={"host": host_header, "accept": "application/json"})
            response = await client.send(request, stream=True)
            try:
                body = await _bounded(response)
            finally:
                await response.aclose()
    except httpx.HTTPError as error:
        raise CannotUseDocument("The client's document could not be fetched "
                                f"({type(error).__name__}).") from None
    if response.status_code != 200:
        raise CannotUseDocument(f"The client's document answered {response.status_code}, not "
                                "200 (redirects are not followed).")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise CannotUseDocument("The client's document is not JSON.") from None
    return document, keep_for(response.headers.get("cache-control"))


async def _bounded(response: httpx.Response) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        raise CannotUseDocument("The client's document is too large (at most 16 KiB).")
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise CannotUseDocument("The client's document is too large (at most 16 KiB).")
    return bytes(body)


_locks: dict[str, asyncio.Lock] = {}


async def ensure_client(ctx: AppContext, client_id: str) -> None:
    """Make sure the app of a document client_id is known and fresh: fetched at most once per
    keeping time per process (concurrent requests for one client wait for one fetch)."""
    settings = ctx.settings
    if not settings.client_id_metadata_documents:
        raise CannotUseDocument("This server does not accept client ID metadata documents; the "
                                "app must be registered first.")
    check_url(client_id, allow_private=settings.allow_private_client_urls)
    lock = _locks.setdefault(client_id, asyncio.Lock())
    if len(_locks) > 10_000:  # bounded: forget the others' locks (they are only a courtesy)
        _locks.clear()
        _locks[client_id] = lock
    async with lock:
        now = int(time.time())
        async with ctx.db.transaction(readonly=True) as store:
            due = await store.registrations.document_expiry(client_id=client_id)
        if due is not None and due > now:
            return
        document, keep = await fetch(client_id, allow_private=settings.allow_private_client_urls,
                                     ca_file=settings.client_urls_ca_file)
        metadata = check_document(client_id, document,
                                  allow_private=settings.allow_private_client_urls)
        async with ctx.db.transaction() as store:
            await store.registrations.save_document(client_id=client_id, metadata=metadata,
                                                    now=now, expires_at=now + keep)
        log.info("client ID metadata document fetched",
                 extra={"fields": {"client_id": client_id, "keep": keep}})
