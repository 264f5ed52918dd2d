"""RFC 6749 §2.3.1 and §3.2.1: authenticating the client at the token endpoint.

"The client MUST NOT use more than one authentication method in each request."
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote

from openplate.oauth.errors import InvalidClient, InvalidRequest
from openplate.oauth.models import Client
from openplate.oauth.params import Params
from openplate.oauth.ports import ClientStore
from openplate.oauth.tokens import Digester


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str | None
    method: str  # "client_secret_basic", "client_secret_post" or "none"


def _basic(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidClient("Malformed HTTP Basic credentials.") from None
    user, sep, password = decoded.partition(":")
    if not sep or not user:
        raise InvalidClient("Malformed HTTP Basic credentials.")
    # RFC 6749 §2.3.1: both halves are form-urlencoded before Basic encoding.
    return unquote(user.replace("+", " ")), unquote(password.replace("+", " "))


def read_credentials(params: Params, authorization: str | None) -> ClientCredentials:
    """Find the one set of client credentials in a token-endpoint request."""
    body_id, body_secret = params.get("client_id"), params.get("client_secret")
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            if body_secret is not None:
                raise InvalidRequest("Use one client authentication method, not two.")
            client_id, secret = _basic(value.strip())
            if body_id is not None and body_id != client_id:
                raise InvalidRequest("client_id in the body differs from the Basic credentials.")
            return ClientCredentials(client_id, secret, "client_secret_basic")
    if body_id is None:
        raise InvalidClient("Client authentication is required (client_id and client_secret).")
    if body_secret is None:
        return ClientCredentials(body_id, None, "none")
    return ClientCredentials(body_id, body_secret, "client_secret_post")


class ClientCall:
    """A request to an endpoint that authenticates its client: its parameters and
    Authorization header, with the credentials read from them once and kept."""

    __slots__ = ("params", "authorization", "_credentials")

    def __init__(self, params: Params, authorization: str | None) -> None:
        self.params = params
        self.authorization = authorization
        self._credentials: ClientCredentials | None = None

    def credentials(self) -> ClientCredentials:
        """``read_credentials`` of the request (its error, raised each time it is asked)."""
        if self._credentials is None:
            self._credentials = read_credentials(self.params, self.authorization)
        return self._credentials

    def claimed_client_id(self) -> str | None:
        """The client_id the request claims (body or Basic), unverified: for throttling only."""
        try:
            return self.credentials().client_id
        except (InvalidClient, InvalidRequest):
            return self.params.get("client_id")


_DUMMY_DIGEST = "0" * 64


async def authenticate(
    credentials: ClientCredentials, clients: ClientStore, digester: Digester
) -> Client:
    """Return the authenticated client, or raise ``invalid_client`` without saying which part failed."""
    client = await clients.by_client_id(credentials.client_id)
    if client is None:
        digester.matches(credentials.client_secret or "", _DUMMY_DIGEST)  # same work either way
        raise InvalidClient("Client authentication failed.", detail="unknown client_id")
    if client.secret_digest is None:
        if credentials.client_secret is not None:
            raise InvalidClient("Client authentication failed.", detail="public client sent a secret")
        return client
    if credentials.client_secret is None:
        raise InvalidClient("Client authentication failed.", detail="confidential client, no secret")
    if not digester.matches(credentials.client_secret, client.secret_digest):
        raise InvalidClient("Client authentication failed.", detail="wrong client_secret")
    return client


async def client_and_token(
    call: ClientCall, clients: ClientStore, digester: Digester, *, secret_required: bool = False
) -> tuple[Client, str]:
    """RFC 7009 §2.1 / RFC 7662 §2.1: an authenticated client and the ``token`` it asks about.

    ``secret_required`` refuses a client that only names itself (a public client, method
    ``none``): RFC 7662 §2.1 "the endpoint MUST also require some form of authorization".
    """
    params = call.params
    params.reject_duplicates()
    credentials = call.credentials()
    if secret_required and credentials.client_secret is None:
        raise InvalidClient("This endpoint requires client authentication with a client_secret.",
                            detail="no client_secret")
    client = await authenticate(credentials, clients, digester)
    token = params.get("token")
    if token is None:
        raise InvalidRequest("token is required.")
    return client, token
