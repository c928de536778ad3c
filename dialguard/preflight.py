"""What ``serve`` checks before it listens, and warns about rather than refuses: files holding
personal data or secrets that others may read, and traffic that would cross a network in clear.

FastAGI and the ESL outbound socket have no TLS in Asterisk or FreeSWITCH: every call's numbers
and verdict cross the wire in clear, so they belong on loopback or a private link. The admin
API (``api.tls_cert_file``) and AMI (``recording.ami_tls``) have TLS and need it beyond loopback.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import socket
from pathlib import Path

from .config import Settings
from .dncindex.journal import journal_path
from .filemodes import GROUP_READABLE, PRIVATE, wider_than
from .storage.engine import sqlite_file

log = logging.getLogger("dialguard.app")

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
        addresses = [ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found]
    if all(address.is_loopback for address in addresses):
        return Reach.LOOPBACK
    if any(address.is_unspecified or address.is_global for address in addresses):
        return Reach.PUBLIC
    return Reach.PRIVATE


def protected_files(settings: Settings) -> list[tuple[Path, int]]:
    """The files ``serve`` uses that hold personal data or secrets, with the widest mode each
    may have. Vault files are not listed: they are only ever written 0600 (and walking a vault
    at every start would take too long)."""
    private = [
        Path(settings.dsr.hash_key_file),
        Path(settings.audit.signing_key_file),
        Path(settings.audit.checkpoint_file),
        Path(settings.recording.keyring_file),
    ]
    if settings.api.tls_key_file:
        private.append(Path(settings.api.tls_key_file))
    database = sqlite_file(settings.database.url) if settings.is_sqlite else None
    if database is not None:
        private += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    group = []
    for raw in filter(None, (part.strip() for part in settings.policy.national_dnc.split(","))):
        group += [Path(raw), journal_path(Path(raw))]
    return [(path, PRIVATE) for path in private] + [(path, GROUP_READABLE) for path in group]


def warn_about_file_modes(settings: Settings) -> None:
    """Files created by dialguard get their modes right; older ones, or ones copied in, may not."""
    for path, allowed in protected_files(settings):
        mode = wider_than(path, allowed)
        if mode is not None:
            log.warning(
                "a file holding personal data or a secret is readable by more than its owner "
                f"(chmod {allowed:o} it)",
                extra={"fields": {"path": str(path), "mode": f"{mode:o}"}},
            )


def warn_about_cleartext(settings: Settings) -> None:
    """Say at start what will cross a network in clear: FastAGI or ESL on a public address (the
    PBXs have no TLS for them), AMI or the admin API beyond loopback without TLS."""
    for name, section in (("FastAGI", settings.agi), ("ESL", settings.esl)):
        if section.enabled and reach(section.host) is Reach.PUBLIC:
            log.warning(
                f"{name} listens on a public address and has no TLS: every call's numbers and "
                "verdict cross the network in clear; keep it on loopback or a private link",
                extra={"fields": {"host": section.host, "port": section.port}},
            )
    recording = settings.recording
    ami_in_clear = recording.enabled and recording.ami_secret and not recording.ami_tls
    if ami_in_clear and reach(recording.ami_host) is not Reach.LOOPBACK:
        log.warning(
            "the AMI connection to Asterisk is not encrypted: its login and every call's events "
            "cross the network in clear; set recording.ami_tls (Asterisk's TLS manager port)",
            extra={"fields": {"host": recording.ami_host, "port": recording.ami_port}},
        )
    api = settings.api
    if api.enabled and not api.tls_cert_file and reach(api.host) is not Reach.LOOPBACK:
        log.warning(
            "the admin API serves plain HTTP beyond loopback: tokens and personal data cross "
            "the network in clear; set api.tls_cert_file and api.tls_key_file",
            extra={"fields": {"host": api.host, "port": api.port}},
        )
