"""What ``serve`` checks before it listens, and warns about rather than refuses: files holding
personal data or secrets that others may read, traffic that would cross a network in clear,
number filings overdue or expiring, and data stored outside a pack's region.

FastAGI and the ESL outbound socket have no TLS in Asterisk or FreeSWITCH: every call's numbers
and verdict cross the wire in clear, so they belong on loopback or a private link. The admin
API (``api.tls_cert_file``) and AMI (``recording.ami_tls``) have TLS and need it beyond loopback.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from .config import Settings
from .dnc.index.journal import journal_path
from .files.modes import GROUP_READABLE, PRIVATE, wider_than
from .ops.numbers import expiring, overdue_changes
from .policy.calendar import HolidayCalendar
from .storage.connection import sqlite_file
from .storage.store import Store

log = logging.getLogger("dialguard.app")

EXPIRY_NOTICE = timedelta(days=30)
"""How far ahead ``serve`` warns about filings that expire."""

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


async def warn_about_filings(store: Store, calendar: HolidayCalendar, now: datetime) -> None:
    """Changes to filed numbers not reported to the regulator within 10 working days, and
    filings that expire within 30 days: said at start (``numbers overdue``/``expiring``)."""
    late = await overdue_changes(store, calendar, now)
    for item in late:
        change = item.change
        log.warning(
            "a change to a filed access number was not reported to the regulator within 10 "
            "working days (dialguard numbers overdue; numbers report once it is)",
            extra={
                "fields": {
                    "change": change.change_id,
                    "number": change.terms.number,
                    "tenant": change.terms.tenant,
                    "deadline": item.deadline.isoformat(),
                    "reported_on": item.reported_on.isoformat() if item.reported_on else None,
                }
            },
        )
    for reg in await expiring(store, now, EXPIRY_NOTICE):
        log.warning(
            "an access number's filing expires soon or has expired: calls presenting it are "
            "denied (callerid.filing_expired) once it has; renew it (dialguard numbers add)",
            extra={
                "fields": {
                    "number": reg.number,
                    "tenant": reg.tenant,
                    "expires_on": str(reg.expires_on),
                }
            },
        )


def warn_about_residency(
    settings: Settings, data_regions: Mapping[str, str], tenant_regions: Mapping[str, str]
) -> None:
    """Packs that keep their calls' data in a region (CN: ``cn``, EU: ``eu``) deny calls of
    tenants whose recordings, or of a gate whose decisions, are stored elsewhere
    (``data.residency``): one warning per tenant mapped away from a pack's region, and one
    when ``database.region`` is declared and differs from a pack's."""
    database = settings.database.region
    away = sorted(pack for pack, region in data_regions.items() if database and region != database)
    if away:
        log.warning(
            "the decision database is declared in another region than rule packs require: "
            "every call under them is denied (data.residency); deploy a gate per region",
            extra={"fields": {"packs": ",".join(away), "database.region": database}},
        )
    for tenant, stored in sorted(tenant_regions.items()):
        packs = sorted(pack for pack, region in data_regions.items() if region != stored)
        if packs:
            log.warning(
                "a tenant's recordings are stored outside the region rule packs require: its "
                "calls under them are denied (data.residency)",
                extra={"fields": {"tenant": tenant, "region": stored, "packs": ",".join(packs)}},
            )
