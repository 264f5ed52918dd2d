"""Outbound requests to addresses a client registered: refused for private networks (SSRF).

Anyone with an account registers applications, and some of their URLs are fetched or posted to by
this server (a Back-Channel Logout URI; later, client metadata documents). Such a URL could name
the operator's own network: a database port, a cloud metadata service at 169.254.169.254, an
admin page on localhost. So the host is resolved here, every address it resolves to must be a
public unicast one (not private, loopback, link-local, shared, multicast, reserved or
unspecified), and the request then goes to the address that was checked (pinned), so a DNS
answer that changes between the check and the connection (DNS rebinding) cannot move it.

``OPENPLATE_ALLOW_PRIVATE_CLIENT_URLS`` (off by default) lets private, loopback and link-local
addresses through, for development and tests; multicast, reserved and unspecified ones never pass.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import certifi
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """The URL may not be requested; the message says why (for logs and the security log)."""


def address_allowed(address: Address, *, allow_private: bool) -> bool:
    """May this server connect to ``address``?"""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified:
        return False
    if address.is_loopback:  # before "reserved": ::1 lies in IPv6's reserved ::/8
        return allow_private
    if address.is_reserved:
        return False
    if address.is_link_local or address.is_private:
        return allow_private
    # 100.64.0.0/10 (shared address space) and the like: not global, not private either.
    return address.is_global or allow_private


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect (``address``) and what to say to it (``url``, ``host``)."""

    url: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """``url`` with its host replaced by the checked address (the Host header and TLS name
        keep the original host)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((parts.scheme, f"{literal}:{self.port}", parts.path or "/",
                           parts.query, ""))


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Resolve ``url``'s host and check every address it has; the first one, pinned.

    Raises ``AddressRefused`` for a URL that is not http(s), has no host, or resolves to no
    address, or to any address that ``address_allowed`` refuses.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise AddressRefused("not a valid URL") from None
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        raise AddressRefused("not an absolute http(s) URL")
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as error:
            raise AddressRefused(f"{host} cannot be resolved: {type(error).__name__}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise AddressRefused(f"{host} has no address")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not address_allowed(address, allow_private=allow_private):
            raise AddressRefused(f"{host} resolves to a non-public address ({address})")
    return Target(url, host, port, addresses[0])


@lru_cache(maxsize=4)
def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """How https answers are verified: the CAs httpx trusts by default (certifi's), and
    ``ca_file``'s too when the operator names one (OPENPLATE_CLIENT_URLS_CA_FILE); made once
    per file."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


async def post_form(target: Target, form: Mapping[str, str], *, time_limit: float,
                    ca_file: Path | None = None) -> int:
    """POST ``form`` to a checked target, connecting to its pinned address; the status code.

    Redirects are not followed and the body is never read. ``httpx.HTTPError`` (a timeout, a
    refused connection, a bad certificate) is the caller's to handle.
    """
    extensions = {"sni_hostname": target.host} if urlsplit(target.url).scheme == "https" else {}
    default_port = 443 if urlsplit(target.url).scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    async with httpx.AsyncClient(follow_redirects=False, timeout=time_limit,
                                 trust_env=False, verify=tls_context(ca_file)) as client:
        request = client.build_request(
            "POST", target.pinned_url, data=dict(form), extensions=extensions,
            headers={"host": host_header, "cache-control": "no-store"})
        response = await client.send(request, stream=True)
        await response.aclose()
        return response.status_code
