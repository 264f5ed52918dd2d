"""The security log in plain words, for the account's security timeline (/account/security).

Every kind of event the log knows (``openplate.store.security_log.KINDS``) has a sentence here,
written to the account's owner ("You allowed Demo Mapper"); a test fails when a kind has none.
Applications are named by their current name; one deleted since is said to be so. Consecutive
failed sign-ins are told as one line with their count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openplate.store.security_log import SecurityEvent

DELETED_APP = "an application that has since been deleted"
UNKNOWN_APP = "an application"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the timeline: when (the newest event of it), what, and from where."""

    at: int
    text: str
    ip: str | None
    #: Something the user may want to look at (a failure, a token used twice...).
    alarming: bool = False
    #: The application's name as it appears in ``text`` (pages isolate it: it may be
    #: right-to-left), if the line names one.
    app: str | None = None


def _app(event: SecurityEvent, names: Mapping[str, str]) -> str:
    if event.client_id is None:
        return UNKNOWN_APP
    name = names.get(event.client_id)
    if name is not None:
        return name
    remembered = event.detail.get("name")
    if isinstance(remembered, str) and remembered:
        return f"{remembered} (since deleted)"
    return DELETED_APP


def _count(event: SecurityEvent, key: str) -> int | None:
    value = event.detail.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _browser(event: SecurityEvent) -> str:
    device = event.detail.get("device")
    return f" ({device})" if isinstance(device, str) and device else ""


def _others(event: SecurityEvent) -> str:
    count = _count(event, "count")
    if count is None:
        return "You signed out all your other browsers."
    return f"You signed out all your other browsers ({count})."


def _named(event: SecurityEvent, what: str) -> str:
    """``what`` followed by the passkey's name in quotes, when the event kept it."""
    name = event.detail.get("name")
    return f"{what} “{name}”" if isinstance(name, str) and name else what


def _recovery_used(event: SecurityEvent) -> str:
    left = _count(event, "left")
    if left is None:
        return "A recovery code was used to sign in to your account."
    return f"A recovery code was used to sign in to your account ({left} left)."


def _by_operator(event: SecurityEvent) -> bool:
    return event.detail.get("by") == "operator"


def _app_deleted(event: SecurityEvent, app: str) -> str:
    if _by_operator(event):
        return f"The people who run this site deleted your application {app}."
    if event.detail.get("by") == "registration":
        return f"Your application {app} deleted its own registration."
    return f"You deleted your application {app}."


def _signin_failed(event: SecurityEvent) -> str:
    if event.detail.get("reason") == "disabled":
        return "Someone with your password tried to sign in while your account was disabled."
    return "Someone failed to sign in to your account."


Sentence = Callable[[SecurityEvent, str], str]

#: kind: (sentence given the event and the application's name, alarming?)
SENTENCES: dict[str, tuple[Sentence, bool]] = {
    "signin.success": (lambda e, app: "You signed in.", False),
    "signin.failure": (lambda e, app: _signin_failed(e), True),
    "signin.throttled": (lambda e, app: "Sign-ins to your account were paused after too many "
                                        "failed attempts.", True),
    "signup": (lambda e, app: "You created your account.", False),
    "signout": (lambda e, app: "You signed out.", False),
    "password.changed": (lambda e, app: "You changed your password.", False),
    "consent.granted": (lambda e, app: f"You allowed {app}.", False),
    "consent.denied": (lambda e, app: f"You refused {app}.", False),
    "app.revoked": (lambda e, app: f"You took back the access you gave {app}.", False),
    "token.issued": (lambda e, app: f"{app} got access to your account.", False),
    "token.refreshed": (lambda e, app: f"{app} renewed its access to your account.", False),
    "token.failure": (lambda e, app: f"{app} failed to get a token.", True),
    "token.throttled": (lambda e, app: f"{app} was stopped after too many failed token "
                                       "requests.", True),
    "code.replayed": (lambda e, app: f"{app}'s sign-in code was used twice; we ended its "
                                     "access.", True),
    "refresh.reused": (lambda e, app: f"{app}'s refresh token was used twice; we ended its "
                                      "access.", True),
    "client.secret_rotated": (lambda e, app: f"You made a new secret for your application "
                                             f"{app}.", False),
    "client.deleted": (_app_deleted, False),
    "client.registered": (lambda e, app: f"The application {app} registered itself for your "
                                         "account with a registration token.", False),
    "client.registration_updated": (lambda e, app: f"The application {app} changed its own "
                                                   "registration.", False),
    "token.revoked": (lambda e, app: f"{app} gave up a token for your account.", False),
    "keys.rotated": (lambda e, app: "The server's signing keys were replaced.", False),
    "session.ended": (lambda e, app: f"You signed out another browser{_browser(e)}.", False),
    "session.others_ended": (lambda e, app: _others(e), False),
    "profile.changed": (lambda e, app: "You changed your display name.", False),
    "device.allowed": (lambda e, app: f"You connected a device to {app} with a code.", False),
    "device.denied": (lambda e, app: f"You refused a device's request for {app}.", False),
    "device.code_failure": (lambda e, app: "A device code typed while signed in to your "
                                           "account was wrong or expired.", True),
    "device.throttled": (lambda e, app: "Device codes typed in your account were paused after "
                                        "too many wrong ones.", True),
    "backchannel_logout.gave_up": (lambda e, app: f"{app} could not be told that you signed "
                                                  "out.", False),
    "account.disabled": (lambda e, app: "The people who run this site disabled your account.",
                         True),
    "account.enabled": (lambda e, app: "The people who run this site enabled your account "
                                       "again.", False),
    "account.deleted": (lambda e, app: "Your account was deleted.", True),
    "client.disabled": (lambda e, app: f"The people who run this site disabled your "
                                       f"application {app}.", True),
    "client.enabled": (lambda e, app: f"The people who run this site enabled your application "
                                      f"{app} again.", False),
    "two_factor.enabled": (lambda e, app: "You turned on two-factor sign-in.", False),
    "two_factor.disabled": (lambda e, app: "You turned off two-factor sign-in.", True),
    "recovery_codes.renewed": (lambda e, app: "You made new recovery codes; the old ones no "
                                              "longer work.", False),
    "recovery_code.used": (lambda e, app: _recovery_used(e), True),
    "second_factor.failure": (lambda e, app: "Someone gave your password but a wrong second-"
                                             "factor code.", True),
    "second_factor.throttled": (lambda e, app: "Second-factor codes for your account were "
                                               "paused after too many wrong ones.", True),
    "passkey.added": (lambda e, app: _named(e, "You added the passkey") + ".", False),
    "passkey.renamed": (lambda e, app: _named(e, "You renamed a passkey to") + ".", False),
    "passkey.removed": (lambda e, app: _named(e, "You removed the passkey") + ".", False),
    "passkey.failure": (lambda e, app: "A passkey failed to sign in to your account.", True),
    "password.reset_requested": (lambda e, app: "A link to reset your password was sent to your "
                                                "e-mail address.", True),
    "password.reset": (lambda e, app: "Your password was reset with a link sent by e-mail.",
                       False),
    "email.change_requested": (lambda e, app: "You asked to change your e-mail address; a link "
                                              "was sent to the new one.", False),
    "email.verified": (lambda e, app: "You confirmed your e-mail address.", False),
}


def first_uppercase(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(event: SecurityEvent, names: Mapping[str, str]) -> tuple[str, bool]:
    """The event in words, and whether it is one to look at."""
    entry = SENTENCES.get(event.kind)
    if entry is None:  # a kind written by a newer version of Openplate
        return f"Something happened on your account ({event.kind}).", False
    words, alarming = entry
    text = words(event, _app(event, names))
    if text.startswith((DELETED_APP, UNKNOWN_APP)):  # never change an application's own name
        text = first_uppercase(text)
    return text, alarming


def lines(events: Sequence[SecurityEvent], names: Mapping[str, str]) -> list[Line]:
    """The events (newest first) as lines; a run of failed sign-ins becomes one line."""
    out: list[Line] = []
    index = 0
    while index < len(events):
        event = events[index]
        run = 1
        if event.kind == "signin.failure":
            while index + run < len(events) and events[index + run].kind == "signin.failure":
                run += 1
        if run > 1:
            out.append(Line(event.at, f"Someone failed to sign in to your account {run} times.",
                            event.ip, alarming=True))
        else:
            text, alarming = sentence(event, names)
            app = _app(event, names) if event.client_id is not None else None
            if app is not None and app not in text:
                app = first_uppercase(app) if first_uppercase(app) in text else None
            out.append(Line(event.at, text, event.ip, alarming, app))
        index += run
    return out
