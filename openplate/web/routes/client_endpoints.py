"""The endpoints a client calls with its credentials: token (RFC 6749 §3.2), device
authorization (RFC 8628 §3.1), revocation (RFC 7009), introspection (RFC 7662) and pushed
authorisation requests (RFC 9126). One runner gives them all the same strict handling:
form-encoded POST bodies only, no query string, throttling of failures, one unit of work.
They are served by hot.py ahead of FastAPI (declared in hot_endpoints.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from openplate.oauth import par
from openplate.oauth.client_auth import ClientCall
from openplate.oauth.device import authorize_device
from openplate.oauth.dpop import DPoPProof
from openplate.oauth.errors import InvalidRequest, OAuthError, RequestTooLarge
from openplate.oauth.introspection import introspect
from openplate.oauth.issuance import TokenContext
from openplate.oauth.params import Params, parse_params
from openplate.oauth.revocation import revoke
from openplate.oauth.token_endpoint import token_request
from openplate.store.unit import Store
from openplate.throttling import Limit, Refused
from openplate.web import client_documents
from openplate.web.context import AppContext, now
from openplate.web.dpop import nonce_header, token_proof
from openplate.web.errors import error_reply, oauth_error_reply, throttled_reply
from openplate.web.hot import HotRequest
from openplate.web.replies import NO_STORE, Reply, json_reply

T = TypeVar("T")
BODY_LIMIT = 64 * 1024
ClientAction = Callable[[ClientCall, Store, TokenContext], Awaitable[Any]]


def _read_params(request: HotRequest) -> Params:
    content_type = request.header(b"content-type") or ""
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise InvalidRequest("The body must be application/x-www-form-urlencoded.")
    if request.query:
        raise InvalidRequest("Send parameters in the request body, not the query string.")
    if len(request.body) > BODY_LIMIT:
        raise RequestTooLarge("The request body is too large.")
    return parse_params(request.body)


COUNTED = frozenset({"invalid_client", "invalid_grant"})


async def _count_failure(
    ctx: AppContext, store: Store, ip_keys: dict[str, Limit], client_keys: dict[str, Limit], t: int
) -> int | None:
    """Count a failure on its address, then on its client; the seconds to wait if a budget was
    already spent (the failure is then answered 429, not with its error)."""
    counters = ctx.counters(store)
    for keys in (ip_keys, client_keys):
        if keys:
            taken = await counters.take(keys, now=t)
            if isinstance(taken, Refused):
                return taken.retry_after
    return None


async def _record_outcome(
    ctx: AppContext, store: Store, ip_keys: dict[str, Limit], client_keys: dict[str, Limit],
    claimed: str | None, t: int, wait: int | None, failure: OAuthError | None,
) -> int | None:
    """Count a failure and log it, or log a refusal; the seconds to wait if refused."""
    if wait is None and failure is not None and failure.error in COUNTED:
        wait = await _count_failure(ctx, store, ip_keys, client_keys, t)
        if wait is None:
            await store.events.append(
                kind="token.failure", now=t, client_id=claimed, detail={"error": failure.error})
    if wait is not None:
        await store.events.append(kind="token.throttled", now=t, client_id=claimed)
    return wait


async def commit_even_if_refused(work: Awaitable[T]) -> T | OAuthError:
    """``work``'s result, or the protocol error it raised, returned instead of raised.

    Inside a unit of work, an exception rolls back everything the block did
    (``Database.transaction``). A refusal is an answer, not a failure: returned as a value, it
    lets the block end normally, so what ``work`` wrote before refusing is committed with it:
    the grant revoked after a code replay or a refresh-token reuse, the security-log entry.
    Any other exception still leaves the block and rolls it back.
    """
    try:
        return await work
    except OAuthError as error:
        return error


async def run_client_request(
    ctx: AppContext, request: HotRequest, action: ClientAction, *, writes: bool = True,
    proof: DPoPProof | None = None,
) -> Any:
    """Read, throttle and run ``action`` in one unit of work; an error becomes its RFC reply.

    Throttling (docs/security.md, "Throttling"): an address whose budget is spent is refused
    before anything runs. A request that fails is counted on its address and on the client it
    named, atomically, *before* it is answered; a failure that finds a budget spent is answered
    429 instead of its error, so at most the budget's worth of wrong guesses per address are
    ever told apart from a right one. A client's budget never refuses a request that succeeds:
    others' wrong secrets cannot lock an application out. A request that succeeds writes no
    counter. ``writes=False`` is for an action that only reads (introspection): it runs in a
    reading unit, and a failure gets a writing unit of its own to be counted and logged in.
    """
    try:
        params = _read_params(request)
    except OAuthError as error:
        return oauth_error_reply(error)
    ip, t = request.ip, now()
    call = ClientCall(params, request.header(b"authorization"))
    ip_keys = {f"token:ip:{ip}": ctx.throttle.token_per_ip}
    claimed = call.claimed_client_id()
    client_keys = {f"token:client:{claimed[:100]}": ctx.throttle.token_per_client} if claimed else {}
    failure: OAuthError | None = None
    result: Any = None
    async with ctx.db.transaction(readonly=not writes, ip=ip) as store:
        wait = await ctx.counters(store).retry_after(ip_keys, now=t)
        if wait is None:
            outcome = await commit_even_if_refused(action(call, store,
                                                          ctx.token_context(proof)))
            if isinstance(outcome, OAuthError):
                failure = outcome
            else:
                result = outcome
        if writes:
            wait = await _record_outcome(ctx, store, ip_keys, client_keys, claimed, t, wait, failure)
    if not writes and (wait is not None or (failure is not None and failure.error in COUNTED)):
        async with ctx.db.transaction(ip=ip) as store:
            wait = await _record_outcome(ctx, store, ip_keys, client_keys, claimed, t, wait, failure)
    if wait is not None:
        return throttled_reply(wait)
    if failure is not None:
        ctx.metrics.grant_errors.labels(failure.error).inc()
        return oauth_error_reply(failure)
    return result


async def token_reply(ctx: AppContext, request: HotRequest) -> Reply:
    nonce = (nonce_header(ctx),) if request.dpop and ctx.settings.dpop_nonce_at_token else ()
    try:
        # RFC 9449 §5: the proof is checked before the unit of work (its jti is remembered on
        # every node, §11.1); the grant handlers bind the tokens to its key.
        proof = await token_proof(ctx, request.dpop, method=request.method, path=request.path)
    except OAuthError as error:
        # §8: a missing or stale nonce is "use_dpop_nonce", with the nonce to use.
        refused = oauth_error_reply(error)
        return refused._replace(headers=(*refused.headers, *nonce))
    result = await run_client_request(ctx, request, token_request, proof=proof)
    if isinstance(result, Reply):
        return result._replace(headers=(*result.headers, *nonce))
    grant_type, issued = result
    ctx.metrics.tokens.labels(grant_type).inc()
    return json_reply(issued.to_json(), headers=(*NO_STORE, *nonce))


async def device_authorization_reply(ctx: AppContext, request: HotRequest) -> Reply:
    """RFC 8628 §3.1–3.2, with the token endpoint's handling (throttled failures, one unit)."""
    result = await run_client_request(ctx, request, authorize_device)
    if isinstance(result, Reply):
        return result
    return json_reply(result.to_json())


async def revocation_reply(ctx: AppContext, request: HotRequest) -> Reply:
    result = await run_client_request(ctx, request, revoke)
    if isinstance(result, Reply):
        return result
    return Reply(200, b"", NO_STORE)


async def introspection_reply(ctx: AppContext, request: HotRequest) -> Reply:
    result = await run_client_request(ctx, request, introspect, writes=False)
    if isinstance(result, Reply):
        return result
    return json_reply(result)


async def _document_client(ctx: AppContext, request: HotRequest) -> Reply | None:
    """A client known by its client ID metadata document pushes before it is ever seen at
    /oauth/auth: fetch its document first (web/client_documents.py). A problem is
    ``invalid_client`` (RFC 6749 §5.2), never a 500."""
    try:
        client_id = parse_params(request.body).get("client_id") if request.body else None
    except OAuthError:
        return None  # the request's own reading answers it
    if not client_documents.is_document_client_id(client_id):
        return None
    assert client_id is not None
    try:
        await client_documents.ensure_client(ctx, client_id)
    except client_documents.CannotUseDocument as problem:
        return error_reply(401, "invalid_client", str(problem))
    return None


async def par_reply(ctx: AppContext, request: HotRequest) -> Reply:
    """RFC 9126 §2.2: "the authorization server ... returns a response with HTTP status code
    201", the request_uri and its lifetime. Errors are §2.3's JSON, like the token endpoint's."""
    ttl = ctx.settings.par_ttl
    refused = await _document_client(ctx, request)
    if refused is not None:
        return refused

    async def action(call: ClientCall, store: Store, context: TokenContext) -> par.Pushed:
        return await par.push(call, store, context, ttl=ttl)

    result = await run_client_request(ctx, request, action)
    if isinstance(result, Reply):
        return result
    return json_reply(result.to_json(), status=201)
