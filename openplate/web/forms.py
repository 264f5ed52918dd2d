"""Reading HTML form posts strictly: bounded, UTF-8, URL-encoded, each field once."""

from __future__ import annotations

from starlette.requests import Request

from openplate.oauth.errors import InvalidRequest
from openplate.oauth.params import Params, parse_params

MAX_FORM_BYTES = 64 * 1024


class BadForm(Exception):
    """A form post we cannot read; the message is for a person."""


async def read_form(request: Request, *, max_bytes: int = MAX_FORM_BYTES) -> Params:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadForm("Forms must be sent as application/x-www-form-urlencoded.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BadForm("The form is too large.")
    try:
        params = parse_params(bytes(body))
    except InvalidRequest as error:
        raise BadForm(error.description) from None
    if params.duplicated:
        raise BadForm("A form field was sent more than once.")
    return params
