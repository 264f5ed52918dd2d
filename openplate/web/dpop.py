"""RFC 9449 at the edges: the DPoP proof of a token request or an API call, checked before the
request's unit of work (the replay ledger may write; a resource's unit only reads), and the
``DPoP-Nonce`` header.

The URL a proof must name (``htu``) is ours as the configured public URL says it
(``OPENPLATE_PUBLIC_URL``), never the Host header a client chose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openplate.oauth import bearer
from openplate.oauth.dpop import DPoPProof, check_proof, one_proof
from openplate.oauth.errors import InvalidDPoPProof, OAuthError
from openplate.web.context import AppContext, now

NONCE_HEADER = b"dpop-nonce"


def nonce_header(ctx: AppContext) -> tuple[bytes, bytes]:
    """A fresh nonce for the client's next proof (§8: "DPoP-Nonce")."""
    return NONCE_HEADER, ctx.dpop_nonces.issue(now()).encode("ascii")


def _nonce_check(ctx: AppContext, required: bool) -> Callable[[str | None], bool] | None:
    if not required:
        return None
    t = now()
    return lambda nonce: ctx.dpop_nonces.accepts(nonce, t)


async def token_proof(
    ctx: AppContext, values: Sequence[str], *, method: str, path: str
) -> DPoPProof | None:
    """The token request's proof, checked (None without a DPoP header); raises the error to
    answer (400 ``invalid_dpop_proof`` or ``use_dpop_nonce``)."""
    proof = one_proof(values)
    if proof is None:
        return None
    return await check_proof(
        proof, method=method, url=ctx.url(path), now=now(), policy=ctx.proof_policy,
        ledger=ctx.dpop_ledger, digest=ctx.digester.digest,
        nonce_ok=_nonce_check(ctx, ctx.settings.dpop_nonce_at_token))


async def resource_proof(
    ctx: AppContext, authorization: str | None, values: Sequence[str], *, method: str, path: str
) -> DPoPProof | None:
    """The proof of an API call sent with ``Authorization: DPoP`` (§7.1), checked against the
    call and its token (``ath``); None for any other call (its DPoP header, if any, is not
    looked at: a bearer token gains nothing from one). Raises the error to answer."""
    if authorization is None or authorization.lstrip()[:5].lower() != "dpop ":
        return None  # the hot path: a bearer token costs nothing more
    try:
        sent = bearer.presented(authorization)
    except OAuthError:
        return None  # a malformed header: the bearer check answers it
    proof = one_proof(values)
    if proof is None:
        raise InvalidDPoPProof("The DPoP scheme needs a DPoP header with a proof.")
    return await check_proof(
        proof, method=method, url=ctx.url(path), now=now(), policy=ctx.proof_policy,
        ledger=ctx.dpop_ledger, digest=ctx.digester.digest, access_token=sent.token,
        nonce_ok=_nonce_check(ctx, ctx.settings.dpop_nonce_at_resources))
