"""Structured logs: one JSON object a line, with the request id, and never a secret.

Every field of every record is masked before it is written: the message with its arguments, the
exception text, the stack and each extra field (nested ones too). Masked is anything shaped like a
credential, wherever it appears and whatever it is called:

- our prefixed secrets (``opat_…``, ``oprt_…``, ``opac_…``, ``opcs_…``, ``opss_…``, and the
  mailed links' ``oppr_…`` and ``opev_…``, and device codes' ``opdc_…``), prefix kept;
- a JWT or any JWS/JWE in compact form (``eyJ…`` then dot-separated base64url);
- any other run of 24 or more base64url characters that mixes upper case, lower case and
  digits (a random secret), and any run of 32 or more hexadecimal digits (a hex key or digest).

Client ids (``opc_…``) are public and stay; names, paths and words stay readable too: they lack
the mix or the length (request ids are 16 hex digits, key ids 16 characters).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>opat|oprt|opac|opcs|opss|oppr|opev|opdc)_[A-Za-z0-9_\-]+"
    r"|(?<![A-Za-z0-9_\-])(?P<public>opc_[A-Za-z0-9_\-]+)"
    r"|(?P<jws>eyJ[A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]*){1,4})"
    r"|(?<![A-Za-z0-9_\-])(?P<run>[A-Za-z0-9_\-]{24,})"
)
_HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")
#: Every shape above is at least this long (our secrets are 48 characters or more), so shorter
#: text (most fields of an access-log line) is returned at once: the log is on every request.
_SHORTEST = 24
#: A cheap first look for longer text: no run this long, nothing to mask.
_CANDIDATE = re.compile(r"[A-Za-z0-9_\-.]{24}")
MASK = "[redacted]"


def _mask(match: re.Match[str]) -> str:
    prefix = match.group("prefix")
    if prefix is not None:
        return f"{prefix}_{MASK}"
    if match.group("jws") is not None:
        return MASK
    public = match.group("public")
    if public is not None:  # a client id: public, and what an operator looks for
        return public
    run = match.group("run")
    mixed = (any(c.isupper() for c in run) and any(c.islower() for c in run)
             and any(c.isdigit() for c in run))
    if mixed or _HEX_RUN.search(run):
        return MASK
    return run


def redact(text: str) -> str:
    """``text`` with everything shaped like a credential masked (see the module docstring)."""
    if len(text) < _SHORTEST or _CANDIDATE.search(text) is None:
        return text
    return _SHAPES.sub(_mask, text)


def scrub(value: Any) -> Any:
    """``redact`` over a log field: strings, and the strings inside lists and mappings."""
    if isinstance(value, str):
        return redact(value) if len(value) >= _SHORTEST else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():  # scrub(extra), without a call per plain value
                if type(value) is str:
                    entry[key] = value if len(value) < _SHORTEST else redact(value)
                elif value is None or type(value) in (int, float, bool):
                    entry[key] = value
                else:
                    entry[key] = scrub(value)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=lambda value: redact(str(value)))


def configure(level: str = "info") -> None:
    """Send every logger (ours and uvicorn's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # The MCP SDK logs each stateless request's transport at info ("Terminating session:
    # None"): the access log already has a line per request, so only its warnings are kept.
    for name in ("mcp.server.streamable_http", "mcp.server.streamable_http_manager"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
