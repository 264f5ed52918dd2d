"""RFC 8707: resource indicators, and the audience they give an access token.

Openplate protects two resources: its API (``/users/me``, ``/maps``, UserInfo; identified by
``OPENPLATE_API_AUDIENCE``, the public URL by default) and the MCP endpoint (``<public URL>/mcp``).
A token asked for without ``resource`` is for the API, as tokens always were. A token asked for a
resource is for that resource only: a token an AI assistant got for ``/mcp`` does not open the API,
and one for the API does not open ``/mcp``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from openplate.oauth.errors import InvalidTarget
from openplate.oauth.params import Params

MAX_RESOURCES = 4
#: RFC 9728 §3: "/.well-known/oauth-protected-resource" is inserted between the host and the
#: path of a resource identifier to find its metadata.
METADATA_PATH = "/.well-known/oauth-protected-resource"
MCP_PATH = "/mcp"


@dataclass(frozen=True, slots=True)
class Resources:
    """The resources this server issues tokens for: ``api`` (the default audience) and the
    others (the MCP endpoint)."""

    api: str
    others: tuple[str, ...] = ()

    #: The public URL the metadata documents are served under.
    base_url: str = ""

    @classmethod
    def of(cls, *, api: str, base_url: str) -> Resources:
        mcp = base_url + MCP_PATH
        return cls(api=api, others=(mcp,) if mcp != api else (), base_url=base_url)

    @property
    def mcp(self) -> str:
        return self.base_url + MCP_PATH

    def metadata_url(self, resource: str) -> str:
        """RFC 9728 §3.1: where the metadata of one of our resources is. The API's is at the
        site's root (its identifier is the site, or OPENPLATE_API_AUDIENCE), the MCP
        endpoint's under its path."""
        suffix = MCP_PATH if resource == self.mcp else ""
        return self.base_url + METADATA_PATH + suffix

    @property
    def known(self) -> tuple[str, ...]:
        return (self.api, *self.others)

    def audience(self, resource: str | None) -> tuple[str, ...]:
        """What a token stored with ``resource`` (space-separated; None: none asked) is for."""
        return tuple(resource.split()) if resource else (self.api,)

    def allows(self, resource: str | None, wanted: str) -> bool:
        """Whether a token stored with ``resource`` may be used at ``wanted``."""
        return wanted in self.audience(resource)


def requested(params: Params, resources: Resources) -> tuple[str, ...]:
    """RFC 8707 §2: each ``resource`` value "MUST be an absolute URI ... MUST NOT include a
    fragment component"; one we do not serve is ``invalid_target``."""
    values = params.get_all("resource")
    if len(values) > MAX_RESOURCES:
        raise InvalidTarget(f"At most {MAX_RESOURCES} resource values may be sent.")
    for value in values:
        parts = urlsplit(value)
        if not parts.scheme or not parts.netloc or parts.fragment or "#" in value:
            raise InvalidTarget("resource must be an absolute URI without a fragment.")
        if value not in resources.known:
            raise InvalidTarget("This server issues no tokens for that resource; it knows "
                                + " and ".join(resources.known) + ".")
    return values


def narrowed(asked: tuple[str, ...], granted: str | None) -> str | None:
    """RFC 8707 §2.2: the token request's resources, which must be among those the grant was
    for (when it named any); none asked: the grant's. Returns what the token is stored with."""
    if not asked:
        return granted
    if granted:
        outside = [r for r in asked if r not in granted.split()]
        if outside:
            raise InvalidTarget("The resource was not part of the authorisation request.")
    return " ".join(asked)
