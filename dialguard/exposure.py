"""Who can reach a listening address, for ``serve``'s warnings about traffic in clear.

FastAGI and the ESL outbound socket have no TLS in Asterisk or FreeSWITCH: every call's numbers
and verdict cross the wire in clear, so they belong on loopback or a private link. The admin
API has TLS (``api.tls_cert_file``) and needs it on anything but loopback.
"""

from __future__ import annotations

import enum
import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Reach(enum.StrEnum):
    LOOPBACK = "loopback"
    PRIVATE = "private"
    """Private, link-local or shared address space: reachable only inside some network."""
    PUBLIC = "public"
    """A global address, every interface (``0.0.0.0``, ``::``), or a name that did not resolve."""


def reach(host: str) -> Reach:
    """How far a listener bound to ``host`` can be reached (a host name is resolved)."""
    if host in ("", "*"):
        return Reach.PUBLIC
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except OSError:
            return Reach.PUBLIC
        addresses = [ipaddress.ip_address(entry[4][0]) for entry in found]
    if all(address.is_loopback for address in addresses):
        return Reach.LOOPBACK
    if any(address.is_unspecified or address.is_global for address in addresses):
        return Reach.PUBLIC
    return Reach.PRIVATE
