"""What every rule sees: the frozen :class:`RuleContext` (attempt, facts, ``now``, the selected
pack), the :class:`Rule` shape, and the consent lookups several rules share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .filings import InForce, Standing, in_force
from .model import CallAttempt, ConsentRecord, Facts, Reason, RegisteredNumber
from .pack import RulePack


@dataclass(frozen=True, slots=True)
class RuleContext:
    attempt: CallAttempt
    facts: Facts
    now: datetime
    pack: RulePack

    def own_registration(self) -> RegisteredNumber | None:
        """The calling tenant's filing of the caller in force at ``now`` (active, effective,
        not expired), if any."""
        found = self.caller_standing()
        return found.version if found.standing is Standing.IN_FORCE else None

    def caller_standing(self) -> InForce:
        return in_force(self.facts.caller_registrations, self.attempt.tenant, self.now)

    def callee_zones(self) -> tuple[str, ...]:
        return self.facts.callee_time_zones or self.pack.default_time_zones


class Rule(Protocol):
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]: ...


def holds(consent: ConsentRecord, now: datetime) -> bool:
    """Given by ``now``, and neither expired nor revoked at ``now``."""
    return (
        consent.given_at <= now
        and (consent.expires_at is None or now < consent.expires_at)
        and (consent.revoked_at is None or now < consent.revoked_at)
    )


def consents_holding(ctx: RuleContext, channels: frozenset[str]) -> list[ConsentRecord]:
    """This callee's consents to this tenant for this purpose that hold at ``now``, on one of
    ``channels`` (empty: any channel)."""
    return [
        c
        for c in ctx.facts.consents
        if c.tenant == ctx.attempt.tenant
        and c.purpose == ctx.attempt.purpose
        and (not channels or c.channel in channels)
        and holds(c, ctx.now)
    ]


def valid_consent(ctx: RuleContext) -> ConsentRecord | None:
    """The newest consent for this callee, tenant and purpose that holds at ``now`` on a channel
    the pack accepts for the purpose."""
    rule = ctx.pack.purposes.get(ctx.attempt.purpose)
    channels = rule.consent_channels if rule is not None else frozenset()
    return max(consents_holding(ctx, channels), key=lambda c: c.given_at, default=None)
