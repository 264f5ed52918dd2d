"""Reading HTML form posts strictly: bounded, UTF-8, URL-encoded, each field once."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import Message

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


@dataclass(frozen=True, slots=True)
class UploadForm:
    """A form that may carry files: its text fields (each once, as ``read_form`` reads them) and
    the bytes of each non-empty file part, by field name."""

    params: Params
    files: dict[str, bytes]


class FormTooLarge(BadForm):
    """The body passed its bound: refused before the rest of it was read."""


async def read_upload_form(
    request: Request, *, max_bytes: int, file_fields: tuple[str, ...], max_fields: int = 16,
) -> UploadForm:
    """A ``multipart/form-data`` post (an ``application/x-www-form-urlencoded`` one is read as
    ``read_form`` does, with no files). The body is refused with ``FormTooLarge`` as soon as it
    passes ``max_bytes`` (by its Content-Length before reading anything, else while streaming);
    only then is it parsed, with at most one part per file field and ``max_fields`` fields."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge("The form is too large.")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return UploadForm(await read_form(request), {})
    if content_type != "multipart/form-data":
        raise BadForm("Forms must be sent as multipart/form-data.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLarge("The form is too large.")
    if not body:
        raise BadForm("The form is empty.")
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        parsed = await Request(request.scope, replay).form(
            max_files=len(file_fields), max_fields=max_fields, max_part_size=MAX_FORM_BYTES)
    except Exception:  # noqa: BLE001 - any parse failure of the multipart body is the sender's
        raise BadForm("The form could not be read.") from None
    try:
        values: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for name, value in parsed.multi_items():
            if name in values or name in files or len(parsed.getlist(name)) > 1:
                raise BadForm("A form field was sent more than once.")
            if isinstance(value, str):
                if "\x00" in value:
                    raise BadForm("Form fields must not contain NUL characters.")
                if value:
                    values[name] = value
            elif name in file_fields:
                data = await value.read()
                if data:
                    files[name] = data
            else:
                raise BadForm(f"Unexpected file in the field '{name[:40]}'.")
    finally:
        await parsed.close()
    if not values and not files:  # every form of ours carries at least its CSRF token
        raise BadForm("The form is empty.")
    return UploadForm(Params(values=values), files)
