"""RFC 6750 bearer tokens and RFC 9449 DPoP-bound tokens on the JSON API's routes: the header,
the check, the refusal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader
from starlette.requests import Request

from openplate.oauth import bearer
from openplate.oauth.dpop import DPoPProof
from openplate.oauth.errors import OAuthError
from openplate.oauth.models import AccessPrincipal
from openplate.store.unit import Store
from openplate.web.context import AppContext, context_of, now
from openplate.web.dpop import nonce_header, resource_proof
from openplate.web.errors import bearer_error_reply
from openplate.web.replies import Refusal

authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Bearer <access token>` (RFC 6750), `DPoP <access token>` with a `DPoP` proof "
                "header (RFC 9449), or the bare token as the original clients sent.",
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What an API call sent to be let in: its Authorization header and, for the DPoP scheme,
    its proof, checked before the call's unit of work (or why it was refused)."""

    authorization: str | None
    proof: DPoPProof | None = None
    refusal: OAuthError | None = None

    @property
    def sent(self) -> bool:
        return bool(self.authorization and self.authorization.strip())

    @property
    def dpop_scheme(self) -> bool:
        return (self.authorization or "").lstrip()[:5].lower() == "dpop "


async def read_credentials(
    ctx: AppContext, authorization: str | None, dpop: Sequence[str], *, method: str, path: str
) -> Credentials:
    """The call's credentials, its DPoP proof checked (RFC 9449 §4.3, with ``ath``) when it uses
    the DPoP scheme; a bearer call pays nothing for it."""
    try:
        proof = await resource_proof(ctx, authorization, dpop, method=method, path=path)
    except OAuthError as error:
        return Credentials(authorization, refusal=error)
    return Credentials(authorization, proof)


async def _credentials(
    request: Request, authorization: Annotated[str | None, Depends(authorization_header)]
) -> Credentials:
    return await read_credentials(context_of(request), authorization,
                                  request.headers.getlist("dpop"), method=request.method,
                                  path=request.url.path)


Authorization = Annotated[Credentials, Depends(_credentials)]


class BearerRejected(Refusal):
    """The API call's token was missing, bad or too narrow; answered per RFC 6750 §3 and
    RFC 9449 §7.1 (a ``DPoP-Nonce`` with ``use_dpop_nonce``), with RFC 9728's
    ``resource_metadata``."""

    def __init__(self, error: OAuthError, *, token_sent: bool, dpop_scheme: bool = False,
                 nonce: tuple[bytes, bytes] | None = None,
                 resource_metadata: str | None = None) -> None:
        super().__init__(bearer_error_reply(error, token_sent=token_sent, dpop_scheme=dpop_scheme,
                                            nonce=nonce, resource_metadata=resource_metadata))


def _rejected(ctx: AppContext, error: OAuthError, credentials: Credentials,
              resource: str) -> BearerRejected:
    nonce = nonce_header(ctx) if error.error == "use_dpop_nonce" else None
    return BearerRejected(error, token_sent=credentials.sent,
                          dpop_scheme=credentials.dpop_scheme, nonce=nonce,
                          resource_metadata=ctx.resource_metadata_url(resource))


async def check_bearer(
    ctx: AppContext, store: Store, credentials: Credentials, *, scope: str,
    user_only: bool = False, resource: str | None = None,
) -> AccessPrincipal:
    """The token's principal, inside the caller's transaction; BearerRejected otherwise.
    ``user_only`` refuses a client's own (client-credentials) token; ``resource`` is the
    resource being called (RFC 8707; the API unless named)."""
    called = resource or ctx.resources.api
    if credentials.refusal is not None:
        raise _rejected(ctx, credentials.refusal, credentials, called)
    try:
        return await bearer.authenticate(
            credentials.authorization, store.tokens, ctx.digester, now=now(), scope=scope,
            user_only=user_only, proof=credentials.proof, resource=called,
            resources=ctx.resources,
        )
    except OAuthError as error:
        raise _rejected(ctx, error, credentials, called) from None


async def optional_bearer(
    ctx: AppContext, store: Store, credentials: Credentials, *, scope: str,
) -> AccessPrincipal | None:
    """For calls that need no token: None when none is sent; a token that is sent must be
    good and carry ``scope`` (else BearerRejected, as ``check_bearer``)."""
    if not credentials.sent:
        return None
    return await check_bearer(ctx, store, credentials, scope=scope)
