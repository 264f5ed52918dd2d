"""What a valid display name looks like: the name an account shows instead of its username.

Any script, emoji included, from 1 to ``MAX_DISPLAY_NAME`` characters (after Unicode NFC
normalisation and trimming the ends); no control characters, no line breaks, no invisible
formatting characters (a right-to-left override could make a name read as something else), no
private-use or unassigned code points, and no runs of spaces. An empty name removes it.
"""

from __future__ import annotations

import unicodedata

from openplate.accounts.validation import InvalidAccountInput

MAX_DISPLAY_NAME = 64
FIELD = "display_name"
#: Format characters that emoji sequences need: the zero-width joiner (👩‍💻).
_ALLOWED_FORMAT = {"\u200d"}
#: Unicode general categories never allowed: controls, format, surrogates, private use,
#: unassigned, line and paragraph separators.
_REFUSED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def check_display_name(value: str) -> str | None:
    """The name to keep (None: remove it), or ``InvalidAccountInput`` naming the field."""
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        return None
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidAccountInput(
            FIELD, f"A display name may have at most {MAX_DISPLAY_NAME} characters.")
    for char in name:
        category = unicodedata.category(char)
        if category in _REFUSED and char not in _ALLOWED_FORMAT:
            raise InvalidAccountInput(
                FIELD, "A display name cannot contain line breaks, control or invisible "
                       f"formatting characters (found U+{ord(char):04X}).")
        if category == "Zs" and char != " ":
            raise InvalidAccountInput(
                FIELD, "A display name may use only ordinary spaces between words.")
    if "  " in name:
        raise InvalidAccountInput(FIELD, "A display name cannot have two spaces in a row.")
    return name
