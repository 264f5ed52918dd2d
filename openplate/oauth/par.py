"""RFC 9126: pushed authorisation requests: push one (§2.1), answer it (§2.2), use it once (§4).

A client posts the parameters of its authorisation request straight to POST /oauth/par,
authenticated as at the token endpoint; they are checked by the authorisation endpoint's own
sequence (``authorize.check_request``) and kept server-side, under the keyed digest of a random
``request_uri``. The browser then carries only ``client_id`` and that ``request_uri`` to
/oauth/auth, where the request is read once and only its parameters count.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from openplate.oauth import authorize
from openplate.oauth.client_auth import ClientCall, authenticate
from openplate.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidRequestUri,
    MalformedPushedUse,
)
from openplate.oauth.issuance import TokenContext
from openplate.oauth.models import Client
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore, PushedRequestStore
from openplate.oauth.tokens import Digester

REQUEST_URI_PREFIX = authorize.REQUEST_URI_PREFIX
#: 256 random bits (RFC 9126 §2.2 and §7.1: the request_uri must be hard to guess).
RANDOM_BYTES = 32
_REQUEST_URI = re.compile(re.escape(REQUEST_URI_PREFIX) + r"[A-Za-z0-9_\-]{43}")
#: Parameters of the push that are the client's credentials, not part of the request: never kept.
_CREDENTIALS = ("client_secret",)


@dataclass(frozen=True, slots=True)
class Pushed:
    """RFC 9126 §2.2: the answer to a push (HTTP 201)."""

    request_uri: str
    expires_in: int

    def to_json(self) -> dict[str, object]:
        return {"request_uri": self.request_uri, "expires_in": self.expires_in}


def request_uri_digest(digester: Digester, request_uri: str) -> str:
    """What is stored and looked up for a request_uri: its keyed digest, never the value."""
    return digester.digest(request_uri)


async def push(call: ClientCall, store: OAuthStore, ctx: TokenContext, *, ttl: int) -> Pushed:
    """§2.1: authenticate the client, check its request as /oauth/auth would, and keep it.

    "The authorization server MUST process the request as follows: 1. Authenticate the client
    in the same way as at the token endpoint ... 2. Reject the request if the request_uri
    authorization request parameter is provided. 3. Validate the pushed request as it would an
    authorization request sent to the authorization endpoint." Every error is answered as JSON
    (§2.3), never a redirect: nobody is looking at a browser here.
    """
    params = call.params
    params.reject_duplicates()
    client = await authenticate(call.credentials(), store.clients, ctx.digester)
    if client.disabled:  # after the secret was checked: only its holder learns this
        raise InvalidClient("This application is disabled.", detail="disabled application")
    if "request_uri" in params:
        raise InvalidRequest("A pushed request must not contain request_uri (RFC 9126 §2.1).")
    values = {name: value for name, value in params.values.items() if name not in _CREDENTIALS}
    values["client_id"] = client.client_id  # with HTTP Basic, the body may leave it out
    pushed = Params(values, repeated=params.repeated)
    try:
        authorize.check_request(pushed, client, issuer=ctx.issuer,
                                resources=ctx.known_resources, pushed=True)
    except authorize.ErrorRedirect as refusal:
        raise refusal.error from None
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(RANDOM_BYTES)
    await store.pushed_requests.create(
        digest=request_uri_digest(ctx.digester, request_uri), client_pk=client.pk,
        params=_stored(pushed), now=ctx.now, expires_at=ctx.now + ttl,
    )
    return Pushed(request_uri, ttl)


async def load(params: Params, client: Client, *, store: PushedRequestStore, digester: Digester,
               now: int) -> Params:
    """§4: the parameters pushed under ``request_uri``, used up by this very call.

    Only the parameters that were pushed are used: anything sent beside client_id and
    request_uri is ignored (the rule of RFC 9126 §4, which leaves no room for merging). The
    request_uri must have been pushed by the client named by client_id: another app's is
    unknown here, and is not used up by the attempt. "An expired request_uri MUST be rejected
    as invalid", and one already used is refused the same way (one use, §4's SHOULD).
    """
    if params.duplicated.intersection(("request_uri", "client_id")):
        raise MalformedPushedUse("request_uri must not be sent more than once.")
    if "request" in params:
        raise MalformedPushedUse("Send either request or request_uri, not both.")
    request_uri = params.get("request_uri") or ""
    if _REQUEST_URI.fullmatch(request_uri) is None:
        raise InvalidRequestUri("The request_uri is not one this server issued.")
    digest = request_uri_digest(digester, request_uri)
    pushed = await store.consume(digest=digest, client_pk=client.pk, now=now)
    if pushed is None:
        raise InvalidRequestUri(await _why_unusable(store, digest, client, now))
    return _read(pushed)


def _stored(params: Params) -> str:
    """The pushed parameters as a JSON object: a string each, or the list of every value of a
    REPEATABLE parameter (RFC 8707 ``resource``)."""
    stored: dict[str, str | list[str]] = dict(params.values)
    for name, values in (params.repeated or {}).items():
        stored[name] = list(values)
    return json.dumps(stored, separators=(",", ":"), sort_keys=True)


def _read(text: str) -> Params:
    fields = json.loads(text)
    if not isinstance(fields, dict):  # written by ``_stored``; never another shape
        raise InvalidRequestUri("The pushed request can no longer be read: push it again.")
    values: dict[str, str] = {}
    repeated: dict[str, tuple[str, ...]] = {}
    for name, value in fields.items():
        if isinstance(value, list):
            repeated[str(name)] = tuple(str(v) for v in value)
            values[str(name)] = str(value[0])
        else:
            values[str(name)] = str(value)
    return Params(values, repeated=repeated or None)


async def _why_unusable(store: PushedRequestStore, digest: str, client: Client, now: int) -> str:
    """Which of unknown, used or expired, for the page (another app's request_uri is unknown)."""
    record = await store.find(digest=digest)
    if record is None or record.client_pk != client.pk:
        return "The request_uri is unknown to this application: push the request again."
    if record.used:
        return "The request_uri was already used: push the request again."
    return "The request_uri expired: push the request again."
