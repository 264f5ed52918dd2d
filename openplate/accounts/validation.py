"""What a valid username, e-mail address and password look like."""

from __future__ import annotations

import re

from openplate.accounts.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS

USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{2,39}", re.ASCII)
# Deliberately simple: one @, a dot in the domain, no spaces or angle brackets.
EMAIL = re.compile(r"[^@\s<>\"'\x00-\x1f]{1,64}@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+", re.ASCII)


class InvalidAccountInput(ValueError):
    """Bad sign-up input; ``field`` names the form field, the message is for a person."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise InvalidAccountInput(
            "username",
            "A username is 3 to 40 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit.",
        )
    return username


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise InvalidAccountInput("email", "Enter a valid e-mail address.")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidAccountInput(
            "password", f"A password needs at least {MIN_PASSWORD_CHARS} characters."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidAccountInput(
            "password", f"A password may have at most {MAX_PASSWORD_CHARS} characters."
        )
    if "\x00" in password:
        raise InvalidAccountInput("password", "A password must not contain NUL characters.")
    return password
