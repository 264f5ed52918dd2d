"""What the site mails, each as a plain-text and an HTML body, links built from the public URL."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True, slots=True)
class Letter:
    """One message to queue: ``kind`` names it in `openplate mail list` (never its content)."""

    kind: str
    recipient: str
    subject: str
    text: str
    html: str


def _html(paragraphs: list[str], *, link: tuple[str, str] | None = None) -> str:
    """A small, self-contained HTML body; every value in it is escaped."""
    parts = [f"<p>{escape(p)}</p>" for p in paragraphs]
    if link is not None:
        label, url = link
        parts.insert(1, f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p>'
                        f"<p>{escape(url)}</p>")
    body = "\n".join(parts)
    return ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"></head>'
            f'<body style="font-family: sans-serif; line-height: 1.5">\n{body}\n</body></html>\n')


def _text(paragraphs: list[str], *, link: str | None = None) -> str:
    lines = list(paragraphs)
    if link is not None:
        lines.insert(1, link)
    return "\n\n".join(lines) + "\n"


def letter(kind: str, *, to: str, subject: str, paragraphs: list[str],
           link: tuple[str, str] | None = None) -> Letter:
    """A letter whose first paragraph is followed by ``link`` (its label and URL), if any."""
    return Letter(kind, to, subject, _text(paragraphs, link=link[1] if link else None),
                  _html(paragraphs, link=link))


def password_reset(*, to: str, username: str, url: str, minutes: int) -> Letter:
    return letter("password.reset", to=to, subject="Reset your Openplate password", paragraphs=[
        f"Someone asked to reset the password of the Openplate account {username}. "
        "To choose a new password, open this link:",
        f"The link works once, for {minutes} minutes.",
        "If you did not ask for this, ignore this message: your password stays as it is.",
    ], link=("Choose a new password", url))


def verify_email(*, to: str, username: str, url: str, hours: int) -> Letter:
    return letter("email.verify", to=to, subject="Confirm your e-mail address for Openplate",
                  paragraphs=[
        f"Open this link to confirm that {to} is the e-mail address of the Openplate account "
        f"{username}:",
        f"The link works once, for {hours} hours.",
        "If you did not sign up or change your address on Openplate, ignore this message.",
    ], link=("Confirm this address", url))


def account_changed(*, to: str, username: str, what: str, when: str, security_url: str) -> Letter:
    """"Your account changed" (``what``: "Your password was changed."): the user may not have
    done it themselves, so the message says where to look and what to do."""
    return letter("account.changed", to=to, subject="Your Openplate account changed", paragraphs=[
        f"{what} (account {username}, {when}).",
        "If this was you, there is nothing to do. If it was not, reset your password at once "
        "and look at your account's security log:",
    ], link=("Your security log", security_url))
