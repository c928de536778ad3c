"""The names an admin action may use: tenants that exist, purposes the rule packs define, consent
channels we know. A typo is bad input, named with the closest known name — never a new tenant,
an opt-out filed under a list nobody calls from, or a consent no rule will ever count.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .audited import Invalid, required_text

if TYPE_CHECKING:
    from ..policy.book import PolicyBook
    from ..storage.facts import TenantLookup
    from ..storage.records import Tenant
    from ..storage.store import Transaction

CONSENT_CHANNELS = ("unspecified", "web", "sms", "ivr", "email", "app", "phone", "written")
"""How a consent may have been given (``unspecified`` when not said); the packs may name more
(:attr:`~dialguard.policy.pack.PurposeRule.consent_channels`)."""

TENANT_HINT = "create it with `dialguard tenants add`"


class UnknownName(Invalid):
    """A name that is none of the known ones; the message is the whole sentence (no prefix)."""

    def __init__(self, field: str, kind: str, name: str, known: Collection[str], hint: str) -> None:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        message = f"unknown {kind} {name!r}"
        if close:
            message += f"; did you mean {close[0]!r}?"
        message += f" {hint}" if close else f"; {hint}"
        self.field = field
        ValueError.__init__(self, message)


async def known_tenant(tx: Transaction, name: str, field: str = "tenant") -> Tenant:
    """The tenant ``name`` as stored; :class:`UnknownName` (with the closest name) if none."""
    return await existing_tenant(tx.tenants, name, field)


async def existing_tenant(tenants: TenantLookup, name: str, field: str = "tenant") -> Tenant:
    """:func:`known_tenant` on any :class:`~dialguard.storage.facts.TenantLookup`."""
    name = required_text(field, name)
    tenant = await tenants.get(name)
    if tenant is None:
        names = [t.name for t in await tenants.list()]
        raise UnknownName(field, "tenant", name, names, TENANT_HINT)
    return tenant


@dataclass(frozen=True)
class Vocabulary:
    """The purposes and consent channels of the loaded rule packs (every jurisdiction, overlay
    and version: a consent for a purpose any of them defines may be needed)."""

    purposes: frozenset[str]
    channels: frozenset[str]

    @classmethod
    def of(cls, book: PolicyBook) -> Vocabulary:
        purposes = {name for pack in book.every_pack for name in pack.purposes}
        channels = set(CONSENT_CHANNELS)
        for pack in book.every_pack:
            for rule in pack.purposes.values():
                channels.update(rule.consent_channels)
        return cls(frozenset(purposes), frozenset(channels))

    def purpose(self, value: str, field: str = "purpose") -> str:
        value = required_text(field, value)
        if value not in self.purposes:
            hint = f"the rule packs define {', '.join(sorted(self.purposes))}"
            raise UnknownName(field, "purpose", value, self.purposes, hint)
        return value

    def channel(self, value: str | None, field: str = "channel") -> str:
        """``value`` (``unspecified`` when not given) if it is a known channel."""
        value = (value or "").strip() or "unspecified"
        if value not in self.channels:
            hint = f"known channels: {', '.join(sorted(self.channels))}"
            raise UnknownName(field, "consent channel", value, self.channels, hint)
        return value


async def check_names(
    tenants: TenantLookup, vocabulary: Vocabulary, tenant: str, purpose: str
) -> None:
    """What a dry run (``check``, ``POST /v1/check``) names must exist: a typo is bad input,
    not a decision about a tenant nobody configured (``tenants``: the gate's, as it reads facts)."""
    vocabulary.purpose(purpose)
    await existing_tenant(tenants, tenant)
