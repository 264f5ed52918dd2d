"""OpenID Connect RP-Initiated Logout 1.0 §2-§3: validating a request to the end-session endpoint
and the redirect that ends it.

Nothing here redirects to a URI that is not registered for the client exactly: "The OP MUST NOT
perform post-logout redirection if the post_logout_redirect_uri value supplied does not exactly
match one of the previously registered post_logout_redirect_uris values" (§3). A request the
endpoint cannot honour raises ``InvalidRequest`` and the web layer shows a page (never a
redirect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from openplate.oauth.errors import InvalidRequest
from openplate.oauth.models import Client
from openplate.oauth.oidc.hints import Hint, HintInvalid, verify_hint
from openplate.oauth.params import Params
from openplate.oauth.ports import ClientStore

#: The parameters read (§2); any other (ui_locales, ...) is ignored.
PARAMETERS = ("id_token_hint", "logout_hint", "client_id", "post_logout_redirect_uri", "state",
              "ui_locales")
MAX_STATE_CHARS = 2000
MAX_LOGOUT_HINT_CHARS = 254
MAX_CLIENT_ID_CHARS = 200


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """A validated end-session request: who asks (``client``, if known), whose session the
    hint names (``hint``), and where to go afterwards (a registered URI, or None)."""

    client: Client | None
    hint: Hint | None
    post_logout_redirect_uri: str | None
    state: str | None
    logout_hint: str | None = None

    def form_fields(self, id_token_hint: str | None) -> dict[str, str]:
        """What the confirmation form carries back, to be validated again when posted."""
        fields = {"id_token_hint": id_token_hint, "client_id":
                  self.client.client_id if self.client else None,
                  "post_logout_redirect_uri": self.post_logout_redirect_uri, "state": self.state,
                  "logout_hint": self.logout_hint}
        return {name: value for name, value in fields.items() if value is not None}


def _bounded(params: Params, name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is not None and len(value) > limit:
        raise InvalidRequest(f"{name} must be at most {limit} characters.")
    return value


async def validate_logout(
    params: Params, clients: ClientStore, *, keys: Iterable[Mapping[str, Any]], issuer: str
) -> LogoutRequest:
    """Check an end-session request; raise ``InvalidRequest`` with a message for a person."""
    params.reject_duplicates(PARAMETERS)
    hint: Hint | None = None
    token = params.get("id_token_hint")
    if token is not None:
        try:
            hint = verify_hint(token, keys=keys, issuer=issuer)
        except HintInvalid as error:
            raise InvalidRequest(str(error)) from None
    client_id = _bounded(params, "client_id", MAX_CLIENT_ID_CHARS)
    # §2: "When both client_id and id_token_hint are present, the OP MUST verify that the Client
    # Identifier matches the one used when issuing the ID Token."
    if hint is not None and client_id is not None and client_id != hint.client_id:
        raise InvalidRequest("client_id does not match the application the id_token_hint "
                             "was issued to.")
    wanted = client_id if client_id is not None else (hint.client_id if hint else None)
    client = await clients.by_client_id(wanted) if wanted else None
    if wanted is not None and client is None:
        raise InvalidRequest("The application that asks to sign you out is not registered here.")
    redirect_uri = _bounded(params, "post_logout_redirect_uri", 2000)
    if redirect_uri is not None:
        if client is None:
            # §3: "the OP MUST NOT perform post-logout redirection unless ... client_id or
            # id_token_hint" identifies whose registration to check it against.
            raise InvalidRequest("post_logout_redirect_uri needs client_id or id_token_hint.")
        if redirect_uri not in client.post_logout_redirect_uris:
            raise InvalidRequest("post_logout_redirect_uri is not registered for this "
                                 "application.")
        if client.disabled:
            raise InvalidRequest("This application is disabled.")
    return LogoutRequest(
        client=client, hint=hint, post_logout_redirect_uri=redirect_uri,
        state=_bounded(params, "state", MAX_STATE_CHARS),
        logout_hint=_bounded(params, "logout_hint", MAX_LOGOUT_HINT_CHARS),
    )


def return_location(request: LogoutRequest) -> str | None:
    """§3: where the browser goes after signing out: the registered URI, its own query kept,
    with ``state`` added if the request had one ("the OP passes this value to the RP using the
    state parameter when redirecting"); None: show our own page."""
    uri = request.post_logout_redirect_uri
    if uri is None:
        return None
    if request.state is None:
        return uri
    # Appended to the URI as registered (no fragment may be registered), its query untouched.
    separator = "" if uri.endswith(("?", "&")) else "&" if urlsplit(uri).query else "?"
    return uri + separator + urlencode({"state": request.state})
