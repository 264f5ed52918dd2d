"""OpenID Connect Core §3.1.2.3-§3.1.2.4: what an authorisation request needs from the user next.

A validated ``AuthorizationRequest``, its ``Client`` and a ``VisitorSnapshot`` (who the browser
is signed in as, when and how, what they allowed this app before, what they did for this very
request) go through ``STEPS``, a table of named checks in the order the spec reads. The first
check that needs the user decides; if none does, the code is issued. ``prompt=none`` is the one
rule applied to every step: "The Authorization Server MUST NOT display any authentication or
consent user interface pages", so a step that would interact becomes the step's own error.

Everything a decision depends on comes from the server (the session and the parked request), so
nothing a browser puts in a URL can change it. The web layer adapts HTTP to ``decide`` and
renders the pages; it makes no decision of its own. Later steps (a device code) are added as
rows of ``STEPS``; a pushed request (RFC 9126) needs none: once read, it is decided as any other.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from openplate.oauth.acr import MFA, wants_mfa
from openplate.oauth.errors import ConsentRequired, InteractionRequired, LoginRequired, OAuthError
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.oidc.claims import subject


@dataclass(frozen=True, slots=True)
class Authentication:
    """How the browser's user signed in: who, when (``auth_time``), with what (RFC 8176 ``amr``)."""

    user_id: int
    auth_time: int
    methods: tuple[str, ...] = ("pwd",)


@dataclass(frozen=True, slots=True)
class VisitorSnapshot:
    """What the server knows about the browser when a request is decided."""

    now: int
    #: None when nobody is signed in in this browser.
    authentication: Authentication | None = None
    #: The user signed in (again) in this browser after this request was parked: it satisfies
    #: prompt=login and max_age, whatever the clock says.
    signed_in_for_request: bool = False
    #: The scopes this user allowed this app before (remembered consent), if any.
    remembered_scope: frozenset[str] | None = None
    #: The user pressed Allow on this request's consent page.
    consent_given: bool = False
    #: The signed-in user has a second factor (a TOTP authenticator or a passkey).
    has_second_factor: bool = False
    #: The signed-in user's e-mail address is verified (None: nobody is signed in).
    email_verified: bool | None = None
    #: The server's policy (OPENPLATE_REQUIRE_VERIFIED_EMAIL): apps only for verified addresses.
    verified_email_required: bool = False


@dataclass(frozen=True, slots=True)
class SignIn:
    """Send the browser to the sign-in page; ``fresh``: even though someone is signed in."""

    step: str
    fresh: bool


@dataclass(frozen=True, slots=True)
class AskSecondFactor:
    """Send the browser to the second-factor page: the user is signed in with a password only."""

    step: str


@dataclass(frozen=True, slots=True)
class AskConsent:
    """Show the consent page."""

    step: str


@dataclass(frozen=True, slots=True)
class VerifyEmail:
    """Ask the user to verify their e-mail address (the page offers the link again)."""

    step: str


@dataclass(frozen=True, slots=True)
class IssueCode:
    """Every step passed: issue the code for this user."""

    authentication: Authentication


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer the client with a wire error (redirected, with state and iss)."""

    step: str
    error: OAuthError


Interaction = SignIn | AskSecondFactor | AskConsent | VerifyEmail
Decision = SignIn | AskSecondFactor | AskConsent | VerifyEmail | IssueCode | Refuse
Check = Callable[[AuthorizationRequest, Client, VisitorSnapshot], Interaction | None]


@dataclass(frozen=True, slots=True)
class Step:
    """One named check, and the error a ``prompt=none`` request gets instead of its page."""

    name: str
    check: Check
    silent_error: Callable[[str], OAuthError]
    when: str  # for the table in docs/architecture.md


def _login_required(request: AuthorizationRequest, client: Client,
                    visitor: VisitorSnapshot) -> Interaction | None:
    return SignIn("login required", fresh=False) if visitor.authentication is None else None


def _hinted_user(request: AuthorizationRequest, client: Client,
                 visitor: VisitorSnapshot) -> Interaction | None:
    """§3.1.2.1 id_token_hint: "If the End-User identified by the ID Token is logged in or is
    logged in by the request, then the Authorization Server returns a positive response;
    otherwise, it SHOULD return an error, such as login_required." Someone else signed in here
    is asked to sign in (as whom they choose); a sign-in made for this request settles it."""
    assert visitor.authentication is not None  # the login-required step comes first
    if (request.hint_subject is None or visitor.signed_in_for_request
            or subject(visitor.authentication.user_id) == request.hint_subject):
        return None
    return SignIn("id_token_hint", fresh=True)


def _prompt_login(request: AuthorizationRequest, client: Client,
                  visitor: VisitorSnapshot) -> Interaction | None:
    """§3.1.2.1 prompt=login: "The Authorization Server SHOULD prompt the End-User for
    reauthentication." Only a sign-in made for this request counts."""
    if "login" in request.prompt and not visitor.signed_in_for_request:
        return SignIn("prompt=login", fresh=True)
    return None


def _max_age(request: AuthorizationRequest, client: Client,
             visitor: VisitorSnapshot) -> Interaction | None:
    """§3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST attempt to
    actively re-authenticate the End-User." max_age=0 asks for a sign-in every time."""
    if request.max_age is None or visitor.signed_in_for_request:
        return None
    assert visitor.authentication is not None  # the login-required step comes first
    elapsed = visitor.now - visitor.authentication.auth_time
    if request.max_age == 0 or elapsed > request.max_age:
        return SignIn("max_age", fresh=True)
    return None


def _second_factor(request: AuthorizationRequest, client: Client,
                   visitor: VisitorSnapshot) -> Interaction | None:
    """§3.1.2.1 acr_values: "Requested Authentication Context Class Reference values ... in
    order of preference". Asked for the multi-factor level by a user who has a second factor,
    and signed in with the password only, we ask for the second factor. A user with none goes on
    (the claim is voluntary) and the ID token's acr says what was reached."""
    assert visitor.authentication is not None  # the login-required step comes first
    if (wants_mfa(request.acr_values) and visitor.has_second_factor
            and MFA not in visitor.authentication.methods):
        return AskSecondFactor("acr_values")
    return None


def _verified_email(request: AuthorizationRequest, client: Client,
                    visitor: VisitorSnapshot) -> Interaction | None:
    """The server's own rule (OPENPLATE_REQUIRE_VERIFIED_EMAIL): no app is authorised for an
    account whose e-mail address is not verified."""
    if visitor.verified_email_required and not visitor.email_verified:
        return VerifyEmail("verified e-mail")
    return None


def _consent(request: AuthorizationRequest, client: Client,
             visitor: VisitorSnapshot) -> Interaction | None:
    """Ask unless the user allowed this request, or allowed these scopes to this app before.

    RFC 6749 §10.2: a public client cannot prove who it is, so it never gets consent remembered
    from an earlier request; prompt=consent asks again whatever was remembered.
    """
    if visitor.consent_given:
        return None
    remembered = visitor.remembered_scope
    if (
        not client.is_public
        and "consent" not in request.prompt
        and remembered is not None
        and set(request.scope) <= remembered
    ):
        return None
    return AskConsent("consent")


STEPS: tuple[Step, ...] = (
    Step("login required", _login_required,
         lambda _: LoginRequired("The user is not signed in."),
         "nobody is signed in in this browser"),
    Step("id_token_hint", _hinted_user,
         lambda _: LoginRequired("The signed-in user is not the one id_token_hint names."),
         "id_token_hint names another user than the one signed in, who has not signed in "
         "since the request arrived"),
    Step("prompt=login", _prompt_login,
         lambda _: LoginRequired("The user must sign in again."),
         "prompt=login, and the user has not signed in since the request arrived"),
    Step("max_age", _max_age,
         lambda _: LoginRequired("The user's sign-in is older than max_age."),
         "the sign-in is older than max_age (max_age=0: always), and the user has not signed in "
         "since the request arrived"),
    Step("acr_values", _second_factor,
         lambda _: LoginRequired("The request asks for a second factor."),
         "acr_values asks for urn:openplate:acr:mfa, the user has a second factor and signed "
         "in with the password only"),
    Step("verified e-mail", _verified_email,
         lambda _: InteractionRequired("The user must verify their e-mail address."),
         "the server requires a verified e-mail address (OPENPLATE_REQUIRE_VERIFIED_EMAIL), and "
         "the user's is not verified"),
    Step("consent", _consent,
         lambda _: ConsentRequired("The user has not allowed this app these scopes."),
         "the user has not pressed Allow for this request, and (public client, prompt=consent, "
         "or scopes beyond those allowed before)"),
)


def decide(request: AuthorizationRequest, client: Client, visitor: VisitorSnapshot) -> Decision:
    """The one decision for this request and this browser, from the first step that needs the user."""
    for step in STEPS:
        needed = step.check(request, client, visitor)
        if needed is None:
            continue
        if "none" in request.prompt:
            return Refuse(step.name, step.silent_error(step.name))
        return needed
    assert visitor.authentication is not None  # the login-required step passed
    return IssueCode(visitor.authentication)


# The parked request, as the server keeps it while the user signs in and decides. Serialised here
# and nowhere else, so what is parked is always read back the same way.

class CorruptParkedRequest(ValueError):
    """A parked request that cannot be read back (written by an incompatible release)."""


def serialise(request: AuthorizationRequest) -> str:
    fields = asdict(request)
    if fields["dpop_jkt"] is None:
        # Left out when unused, so that a node of the release before DPoP, during a rolling
        # upgrade, still reads what this one parked (it knows no such field).
        del fields["dpop_jkt"]
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


_TUPLES = ("scope", "prompt", "acr_values", "resource")


def deserialise(text: str) -> AuthorizationRequest:
    try:
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise TypeError("not an object")
        for name in _TUPLES:
            fields[name] = tuple(fields.get(name) or ())
        return AuthorizationRequest(**fields)
    except (TypeError, ValueError) as error:
        raise CorruptParkedRequest(str(error)) from None
