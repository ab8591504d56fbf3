"""SSRF protection for feeds that chat admins add: only public addresses are ever connected.

A URL typed into a chat must not make the bot fetch from its own network: loopback, private
(RFC 1918, unique-local), link-local (cloud metadata at 169.254.169.254), multicast,
reserved, unspecified or shared (CGNAT) addresses. The check sits where it cannot be
dodged: in the socket factory of the guarded session's connector, which sees the address
aiohttp is about to connect to *after* DNS resolution, for an IP literal as for a name, for
the first request and for every redirect (each hop opens its own connection). A DNS answer
that changes between a check and the connect (rebinding) does not help either, because the
check is on the connect.

The operator's sources file (and the CLI) is trusted and uses the ordinary session.

Exceptions::

    BlockedAddressError(OSError)  raised inside the connector; aiohttp turns it into a
                                  ClientConnectorError, which bot.feeds reports as FetchError
    UnsafeURLError(ValueError)    `check_url` refused a URL (message meant for the admin)
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Policy = Callable[[IPAddress], str | None]


class BlockedAddressError(OSError):
    """The connector refused an address that is not public."""


class UnsafeURLError(ValueError):
    """A URL an admin gave cannot be fetched safely; the message says why."""


def forbidden_reason(address: IPAddress) -> str | None:
    """Why connecting to `address` is refused, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return forbidden_reason(address.ipv4_mapped)
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
    )
    for matched, reason in checks:
        if matched:
            return reason
    if not address.is_global:
        return "not a public address"
    return None


def _socket_factory(policy: Policy) -> Callable[[Any], socket.socket]:
    def factory(addr_info: Any) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        host = str(sockaddr[0]).split("%", 1)[0]
        reason = policy(ipaddress.ip_address(host))
        if reason is not None:
            # errno + strerror: aiohttp shows strerror in the ClientConnectorError it raises.
            raise BlockedAddressError(errno.EACCES, f"refused to connect to {host}: {reason}")
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def guarded_session(
    *, policy: Policy = forbidden_reason, resolver: aiohttp.abc.AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """A ClientSession that connects only to addresses `policy` allows (None = allowed).

    `resolver` is for tests (a fixed name → address table); production uses aiohttp's.
    """
    connector = aiohttp.TCPConnector(socket_factory=_socket_factory(policy), resolver=resolver)
    return aiohttp.ClientSession(connector=connector)


async def check_url(url: str, *, policy: Policy = forbidden_reason) -> str:
    """Refuse at once what the guarded session would refuse at fetch time; return the URL.

    Gives the admin an answer in the chat instead of a failing source later. The guarded
    session still checks every connection, so this is a courtesy, not the protection.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeURLError("give an http:// or https:// feed URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURLError("the port in that URL is not a number") from None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError:
        raise UnsafeURLError(f"{parts.hostname} does not resolve") from None
    for *_rest, sockaddr in infos:
        host = str(sockaddr[0]).split("%", 1)[0]
        reason = policy(ipaddress.ip_address(host))
        if reason is not None:
            raise UnsafeURLError(f"{parts.hostname} resolves to {host}, {reason}")
    return url.strip()
