"""The interaction pipeline (openplate/oauth/interaction.py), decided without a server: a table of
cases over prompt, max_age, the sign-in's age, remembered consent and client type, then the
rules that must hold for every combination."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from openplate.oauth.errors import ConsentRequired, LoginRequired
from openplate.oauth.interaction import (
    STEPS,
    AskConsent,
    AskSecondFactor,
    Authentication,
    CorruptParkedRequest,
    Decision,
    IssueCode,
    Refuse,
    SignIn,
    VisitorSnapshot,
    decide,
    deserialise,
    serialise,
)
from openplate.oauth.models import AuthorizationRequest, Client

NOW = 1_800_000_000
USER = 7
CONFIDENTIAL = Client(pk=1, client_id="opc_app", name="Mind Mapper", owner_id=2,
                      redirect_uris=("https://app.example/cb",), secret_digest="d" * 64)
PUBLIC = replace(CONFIDENTIAL, secret_digest=None)


def _request(prompt: str = "", max_age: int | None = None,
             scope: tuple[str, ...] = ("account", "maps")) -> AuthorizationRequest:
    return AuthorizationRequest(
        client_pk=1, client_id="opc_app", redirect_uri="https://app.example/cb", scope=scope,
        state="s", prompt=tuple(prompt.split()), max_age=max_age,
    )


def _visitor(signed_in_ago: int | None, *, remembered: str | None = None, fresh: bool = False,
             allowed: bool = False) -> VisitorSnapshot:
    return VisitorSnapshot(
        now=NOW,
        authentication=(Authentication(USER, NOW - signed_in_ago)
                        if signed_in_ago is not None else None),
        signed_in_for_request=fresh,
        remembered_scope=frozenset(remembered.split()) if remembered is not None else None,
        consent_given=allowed,
    )


def _shape(decision: Decision) -> str:
    """A decision in a word, with the step and, for a refusal, the wire error."""
    if isinstance(decision, SignIn):
        return f"sign in again ({decision.step})" if decision.fresh else "sign in"
    if isinstance(decision, AskConsent):
        return "ask consent"
    if isinstance(decision, Refuse):
        return f"refuse {decision.error.error} ({decision.step})"
    return "issue code"


HOUR = 3600
CASES = [
    # (what, request, client, visitor, expected)
    ("signed out", _request(), CONFIDENTIAL, _visitor(None), "sign in"),
    ("signed out, prompt=none", _request("none"), CONFIDENTIAL, _visitor(None),
     "refuse login_required (login required)"),
    ("signed in, nothing remembered", _request(), CONFIDENTIAL, _visitor(10), "ask consent"),
    ("signed in, consent remembered", _request(), CONFIDENTIAL,
     _visitor(10, remembered="account maps"), "issue code"),
    ("remembered consent narrower than asked", _request(), CONFIDENTIAL,
     _visitor(10, remembered="account"), "ask consent"),
    ("remembered consent wider than asked", _request(scope=("maps",)), CONFIDENTIAL,
     _visitor(10, remembered="account maps openid"), "issue code"),
    ("public client never remembered", _request(), PUBLIC,
     _visitor(10, remembered="account maps"), "ask consent"),
    ("public client, allowed on the page", _request(), PUBLIC, _visitor(10, allowed=True),
     "issue code"),
    ("prompt=consent asks despite memory", _request("consent"), CONFIDENTIAL,
     _visitor(10, remembered="account maps"), "ask consent"),
    ("prompt=consent, allowed on the page", _request("consent"), CONFIDENTIAL,
     _visitor(10, remembered="account maps", allowed=True), "issue code"),
    ("prompt=none, consent remembered", _request("none"), CONFIDENTIAL,
     _visitor(10, remembered="account maps"), "issue code"),
    ("prompt=none, no consent", _request("none"), CONFIDENTIAL, _visitor(10),
     "refuse consent_required (consent)"),
    ("prompt=none, public client", _request("none"), PUBLIC,
     _visitor(10, remembered="account maps"), "refuse consent_required (consent)"),
    ("prompt=login, signed in long ago", _request("login"), CONFIDENTIAL,
     _visitor(HOUR, remembered="account maps"), "sign in again (prompt=login)"),
    ("prompt=login, signed in a second ago but not for this request", _request("login"),
     CONFIDENTIAL, _visitor(1, remembered="account maps"), "sign in again (prompt=login)"),
    ("prompt=login, signed in for this request", _request("login"), CONFIDENTIAL,
     _visitor(1, remembered="account maps", fresh=True), "issue code"),
    ("prompt=login signed out", _request("login"), CONFIDENTIAL, _visitor(None), "sign in"),
    ("prompt=login consent, signed in for it", _request("login consent"), CONFIDENTIAL,
     _visitor(1, remembered="account maps", fresh=True), "ask consent"),
    ("max_age not reached", _request(max_age=HOUR), CONFIDENTIAL,
     _visitor(HOUR - 1, remembered="account maps"), "issue code"),
    ("max_age reached exactly", _request(max_age=HOUR), CONFIDENTIAL,
     _visitor(HOUR, remembered="account maps"), "issue code"),
    ("max_age passed", _request(max_age=HOUR), CONFIDENTIAL,
     _visitor(HOUR + 1, remembered="account maps"), "sign in again (max_age)"),
    ("max_age passed, signed in for this request", _request(max_age=60), CONFIDENTIAL,
     _visitor(HOUR, remembered="account maps", fresh=True), "issue code"),
    ("max_age=0 is always a new sign-in", _request(max_age=0), CONFIDENTIAL,
     _visitor(0, remembered="account maps"), "sign in again (max_age)"),
    ("max_age=0, signed in for this request", _request(max_age=0), CONFIDENTIAL,
     _visitor(0, remembered="account maps", fresh=True), "issue code"),
    ("max_age passed, prompt=none", _request("none", max_age=60), CONFIDENTIAL,
     _visitor(HOUR, remembered="account maps"), "refuse login_required (max_age)"),
    ("max_age fine, prompt=none, no consent", _request("none", max_age=HOUR), CONFIDENTIAL,
     _visitor(60), "refuse consent_required (consent)"),
]


@pytest.mark.parametrize(("request_", "client", "visitor", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_decision_table(request_: AuthorizationRequest, client: Client, visitor: VisitorSnapshot,
                        expected: str) -> None:
    assert _shape(decide(request_, client, visitor)) == expected


PROMPTS = ("", "none", "login", "consent", "login consent")
MAX_AGES = (None, 0, 60, HOUR)
SIGNED_IN_AGO = (None, 0, 30, 2 * HOUR)
REMEMBERED = (None, "account", "account maps")


def _all_combinations() -> list[tuple[AuthorizationRequest, Client, VisitorSnapshot]]:
    combos = []
    for prompt, max_age, ago, remembered, fresh, allowed, client in itertools.product(
        PROMPTS, MAX_AGES, SIGNED_IN_AGO, REMEMBERED, (False, True), (False, True),
        (CONFIDENTIAL, PUBLIC),
    ):
        if ago is None and (fresh or allowed or remembered):
            continue  # a signed-out browser has no sign-in, consent or memory of its own
        combos.append((_request(prompt, max_age), client,
                       _visitor(ago, remembered=remembered, fresh=fresh, allowed=allowed)))
    return combos


def test_rules_that_hold_for_every_combination() -> None:
    combos = _all_combinations()
    assert len(combos) > 1000
    for request, client, visitor in combos:
        decision = decide(request, client, visitor)
        where = (request.prompt, request.max_age, visitor, client.is_public)
        if "none" in request.prompt:  # never a page
            assert not isinstance(decision, (SignIn, AskConsent)), where
        if isinstance(decision, Refuse):
            assert "none" in request.prompt, where
            assert isinstance(decision.error, (LoginRequired, ConsentRequired)), where
        if visitor.authentication is None:
            assert not isinstance(decision, IssueCode), where
            continue
        if not isinstance(decision, IssueCode):
            continue
        assert decision.authentication == visitor.authentication
        if "login" in request.prompt or request.max_age == 0:
            assert visitor.signed_in_for_request, where
        if request.max_age is not None and not visitor.signed_in_for_request:
            assert NOW - visitor.authentication.auth_time <= request.max_age, where
        if client.is_public or "consent" in request.prompt:
            assert visitor.consent_given, where
        if not visitor.consent_given:
            remembered = visitor.remembered_scope
            assert remembered is not None and set(request.scope) <= remembered, where


def test_every_step_has_a_name_and_says_when_it_applies() -> None:
    names = [step.name for step in STEPS]
    assert names == ["login required", "id_token_hint", "prompt=login", "max_age", "acr_values",
                     "verified e-mail", "consent"]
    for step in STEPS:
        assert step.when and step.silent_error(step.name).error in (
            "login_required", "interaction_required", "consent_required")


def test_a_parked_request_reads_back_the_same() -> None:
    request = replace(_request("login consent", max_age=30, scope=("openid", "maps")),
                      nonce="n-0S6", code_challenge="c" * 43, code_challenge_method="S256",
                      login_hint="ann@example.org")
    assert deserialise(serialise(request)) == request
    # RFC 9449 §10 dpop_jkt is kept; unused, it is left out, as a release before DPoP wrote it.
    bound = replace(request, dpop_jkt="j" * 43)
    assert deserialise(serialise(bound)) == bound
    assert "dpop_jkt" not in serialise(request)


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"client_pk": 1}', "not json",
                                  '{"client_pk":1,"client_id":"x","redirect_uri":"u","scope":[],'
                                  '"unknown_field":1}'])
def test_a_corrupt_parked_request_is_refused(text: str) -> None:
    with pytest.raises(CorruptParkedRequest):
        deserialise(text)


def test_the_architecture_document_shows_this_table() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    for number, step in enumerate(STEPS, 1):
        error = step.silent_error(step.name).error
        assert f"| {number} | {step.name} | {step.when} |" in text, step.name
        assert f"| `{error}` |" in text


MFA_ACR = "urn:openplate:acr:mfa"
PWD_ACR = "urn:openplate:acr:pwd"


def _acr_request(acr: str, prompt: str = "") -> AuthorizationRequest:
    return replace(_request(prompt), acr_values=tuple(acr.split()))


def _mfa_visitor(methods: tuple[str, ...], *, enrolled: bool, fresh: bool = False) -> VisitorSnapshot:
    return VisitorSnapshot(now=NOW, authentication=Authentication(USER, NOW - 10, methods),
                           signed_in_for_request=fresh, remembered_scope=frozenset(["account", "maps"]),
                           has_second_factor=enrolled)


SECOND_FACTOR_CASES = [
    ("mfa asked, password only, enrolled", _acr_request(MFA_ACR), ("pwd",), True,
     "ask second factor (acr_values)"),
    ("mfa asked after pwd, password only, enrolled", _acr_request(f"{PWD_ACR} {MFA_ACR}"),
     ("pwd",), True, "ask second factor (acr_values)"),
    ("mfa asked, password only, nothing enrolled", _acr_request(MFA_ACR), ("pwd",), False,
     "issue code"),
    ("mfa asked, signed in with a second factor", _acr_request(MFA_ACR), ("pwd", "otp", "mfa"),
     True, "issue code"),
    ("mfa asked, signed in with a passkey", _acr_request(MFA_ACR), ("hwk", "user", "mfa"), True,
     "issue code"),
    ("pwd asked, password only, enrolled", _acr_request(PWD_ACR), ("pwd",), True, "issue code"),
    ("unknown acr asked", _acr_request("urn:other:gold"), ("pwd",), True, "issue code"),
    ("no acr asked", _acr_request(""), ("pwd",), True, "issue code"),
    ("mfa asked with prompt=none", _acr_request(MFA_ACR, "none"), ("pwd",), True,
     "refuse login_required (acr_values)"),
]


@pytest.mark.parametrize(("request_", "methods", "enrolled", "expected"),
                         [case[1:] for case in SECOND_FACTOR_CASES],
                         ids=[case[0] for case in SECOND_FACTOR_CASES])
def test_acr_values_asks_for_the_second_factor(request_: AuthorizationRequest,
                                               methods: tuple[str, ...], enrolled: bool,
                                               expected: str) -> None:
    decision = decide(request_, CONFIDENTIAL, _mfa_visitor(methods, enrolled=enrolled))
    if isinstance(decision, AskSecondFactor):
        assert expected == f"ask second factor ({decision.step})"
    else:
        assert _shape(decision) == expected


def test_the_second_factor_comes_after_a_fresh_sign_in_and_before_consent() -> None:
    """prompt=login is asked first; a sign-in for the request with the password only still
    needs the second factor; with it, consent is next."""
    login = _acr_request(MFA_ACR, "login consent")
    assert _shape(decide(login, CONFIDENTIAL, _mfa_visitor(("pwd",), enrolled=True))) == \
        "sign in again (prompt=login)"
    fresh = _mfa_visitor(("pwd",), enrolled=True, fresh=True)
    assert isinstance(decide(login, CONFIDENTIAL, fresh), AskSecondFactor)
    both = _mfa_visitor(("pwd", "otp", "mfa"), enrolled=True, fresh=True)
    assert _shape(decide(login, CONFIDENTIAL, both)) == "ask consent"


def test_acr_values_read_back_from_a_parked_request() -> None:
    request = _acr_request(f"{MFA_ACR} {PWD_ACR}")
    assert deserialise(serialise(request)) == request


# --- id_token_hint (OIDC Core §3.1.2.1): the hint's user must be the one signed in -------------

HINT_CASES = [
    # (what, hint's sub, prompt, visitor, expected)
    ("the hinted user is signed in", str(USER), "", _visitor(60, remembered="account maps"),
     "issue code"),
    ("someone else is signed in: ask them to sign in", "8", "", _visitor(60, remembered="account maps"),
     "sign in again (id_token_hint)"),
    ("someone else, prompt=none: login_required, never a code for them", "8", "none",
     _visitor(60, remembered="account maps"), "refuse login_required (id_token_hint)"),
    ("someone else, who signed in for this request: the person chose", "8", "",
     _visitor(1, remembered="account maps", fresh=True), "issue code"),
    ("nobody signed in: sign in first", "8", "", _visitor(None), "sign in"),
]


@pytest.mark.parametrize(("hint", "prompt", "visitor", "expected"),
                         [case[1:] for case in HINT_CASES], ids=[case[0] for case in HINT_CASES])
def test_id_token_hint_is_compared_with_the_signed_in_user(
        hint: str, prompt: str, visitor: VisitorSnapshot, expected: str) -> None:
    request = replace(_request(prompt), hint_subject=hint)
    assert _shape(decide(request, CONFIDENTIAL, visitor)) == expected


def test_the_hint_subject_is_parked_with_the_request() -> None:
    request = replace(_request("none"), hint_subject="42")
    assert deserialise(serialise(request)).hint_subject == "42"
