"""The rules. Each is a small object whose ``evaluate(ctx)`` returns the reasons it objects with
(empty when the call passes it). No rule reads the clock or the database: everything it may look
at is in the frozen :class:`RuleContext`.

The rules that time alone can satisfy (quiet hours, holidays, frequency windows, a consent not yet
valid) also answer ``lifts_at(ctx)``: the earliest instant after ``ctx.now`` at which they stop
objecting with the same facts, or None when waiting will not do (:mod:`.next_allowed`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .context import Rule, RuleContext, holds, valid_consent
from .filings import FILING_ZONE, Standing, in_force
from .model import VERSTAT_FAILED, Presentation, Reason
from .safeguards import ContactRestriction, DataResidency, ScriptApproved, SmsConfirmation


class CalleeValid:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.facts.callee is None:
            return (Reason("callee.invalid", f"callee {ctx.attempt.callee!r} is not valid"),)
        return ()


class CallerIdHidden:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.attempt.presentation is Presentation.RESTRICTED:
            return (Reason("callerid.hidden", "caller ID presentation is restricted"),)
        return ()


class CallerIdValid:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.facts.caller is None:
            return (Reason("callerid.invalid", f"caller ID {ctx.attempt.caller!r} is not valid"),)
        return ()


class CallerIdRegistered:
    """The presented number must be filed for the calling tenant, and that filing active, in
    effect and unexpired at the call's instant; a number another tenant holds is named so."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.facts.caller is None:
            return ()
        found = ctx.caller_standing()
        tenant = ctx.attempt.tenant
        if found.standing is Standing.IN_FORCE:
            return ()
        if found.standing is Standing.NOT_YET_EFFECTIVE and found.version is not None:
            since = found.version.effective_from
            when = f"{since.astimezone(FILING_ZONE):%Y-%m-%d %H:%M} Beijing time" if since else "?"
            return (Reason("callerid.not_yet_effective", f"caller ID filing takes effect {when}"),)
        if found.standing is Standing.EXPIRED and found.version is not None:
            return (
                Reason(
                    "callerid.filing_expired",
                    f"caller ID filing expired at the end of {found.version.expires_on} "
                    "(Beijing time); renew it",
                ),
            )
        holders = sorted({r.tenant for r in ctx.facts.caller_registrations if r.tenant != tenant})
        if found.standing is Standing.NONE and holders:
            return (
                Reason(
                    "callerid.other_tenant",
                    f"caller ID is registered to another tenant, not to {tenant!r}",
                ),
            )
        return (
            Reason(
                "callerid.unregistered",
                f"caller ID is not in the number registry (tenant {tenant!r})",
            ),
        )


class CallerIdOutboundEnabled:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        reg = ctx.own_registration()
        if reg is not None and not reg.outbound_enabled:
            return (Reason("callerid.outbound_disabled", "caller ID is not filed for outbound"),)
        return ()


class PurposeFiled:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        reg = ctx.own_registration()
        purpose = ctx.attempt.purpose
        if reg is not None and purpose not in reg.purposes:
            filed = ", ".join(sorted(reg.purposes)) or "nothing"
            return (
                Reason(
                    "purpose.not_filed",
                    f"caller ID is filed for {filed}, not for {purpose!r}",
                ),
            )
        return ()


class PurposeAllowed:
    """The pack must know the purpose and allow it from this type of number."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        purpose = ctx.attempt.purpose
        rule = ctx.pack.purposes.get(purpose)
        if rule is None:
            return (
                Reason(
                    "purpose.forbidden",
                    f"purpose {purpose!r} is not a lawful outbound purpose in pack {ctx.pack.name}",
                ),
            )
        if rule.forbidden:
            return (
                Reason(
                    "purpose.forbidden",
                    f"{purpose} calls are forbidden by policy {ctx.pack.policy_version}",
                ),
            )
        reg = ctx.own_registration()
        if reg is not None and reg.number_type not in rule.number_types:
            return (
                Reason(
                    "purpose.forbidden",
                    f"{purpose} calls are not allowed from a {reg.number_type} number",
                ),
            )
        return ()


class CalleeNotOnDnc:
    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if not ctx.facts.dnc:
            return ()
        scopes = ", ".join(sorted({entry.scope.value for entry in ctx.facts.dnc}))
        return (Reason("callee.dnc", f"callee is on the do-not-call list ({scopes})"),)


def _in_quiet_hours(local: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


class QuietHours:
    """Outside quiet hours in every zone the callee may be in."""

    def lifts_at(self, ctx: RuleContext) -> datetime | None:
        """The end of the quiet hours the callee is in now, in the zone where it ends last."""
        pack = ctx.pack
        ends = []
        for zone in ctx.callee_zones():
            tz = ZoneInfo(zone)
            local = ctx.now.astimezone(tz)
            if not _in_quiet_hours(local.time(), pack.quiet_start, pack.quiet_end):
                continue
            day = local.date()
            if pack.quiet_start > pack.quiet_end and local.time() >= pack.quiet_start:
                day += timedelta(days=1)  # quiet hours across midnight: they end tomorrow
            ends.append(_local_instant(day, pack.quiet_end, tz))
        return max(ends, default=None)

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        pack = ctx.pack
        for zone in ctx.callee_zones():
            local = ctx.now.astimezone(ZoneInfo(zone))
            if _in_quiet_hours(local.time(), pack.quiet_start, pack.quiet_end):
                window = f"{pack.quiet_start:%H:%M}-{pack.quiet_end:%H:%M}"
                return (
                    Reason(
                        "time.quiet_hours",
                        f"callee local time {local:%H:%M} ({zone}) is within quiet hours {window}",
                    ),
                )
        return ()


class Holidays:
    """Statutory holiday periods are blocked all day in the callee's local date."""

    MAX_PERIOD_DAYS = 60
    """Longer than any statutory holiday period: a longer run of holidays is bad data."""

    def lifts_at(self, ctx: RuleContext) -> datetime | None:
        """The start of the first day after the holiday period, in the zone where it comes last;
        None when the calendar lacks the year (importing it lifts that, not time)."""
        calendar = ctx.pack.calendar
        starts = []
        for zone in ctx.callee_zones():
            tz = ZoneInfo(zone)
            day = ctx.now.astimezone(tz).date()
            if not calendar.covers(day):
                if ctx.pack.deny_when_calendar_missing:
                    return None
                continue
            if calendar.holiday_name(day) is None:
                continue
            for _ in range(self.MAX_PERIOD_DAYS):
                day += timedelta(days=1)
                if not calendar.covers(day) or calendar.holiday_name(day) is None:
                    break
            else:
                return None
            starts.append(_local_instant(day, time(0), tz))
        return max(starts, default=None)

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        calendar = ctx.pack.calendar
        for zone in ctx.callee_zones():
            day = ctx.now.astimezone(ZoneInfo(zone)).date()
            if not calendar.covers(day):
                if ctx.pack.deny_when_calendar_missing:
                    return (
                        Reason(
                            "time.calendar_missing",
                            f"the holiday calendar has no data for {day.year}; "
                            "import the official calendar",
                        ),
                    )
                continue
            name = calendar.holiday_name(day)
            if name is not None:
                return (Reason("time.holiday", f"{day} is in the {name} holiday period ({zone})"),)
        return ()


class Frequency:
    """Layered rolling windows over earlier allowed attempts to this callee by this tenant."""

    def lifts_at(self, ctx: RuleContext) -> datetime | None:
        """When enough attempts have left every exceeded window: an attempt at ``a`` stops
        counting in a window ``w`` at ``a + w``."""
        lifts = []
        for window in ctx.pack.frequency:
            since = ctx.now - window.window
            inside = sorted(at for at in ctx.facts.recent_attempts if since < at <= ctx.now)
            excess = len(inside) - window.max_attempts
            if excess >= 0:
                lifts.append(inside[excess] + window.window)
        return max(lifts, default=None)

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        for window in ctx.pack.frequency:
            since = ctx.now - window.window
            count = sum(1 for at in ctx.facts.recent_attempts if since < at <= ctx.now)
            if count >= window.max_attempts:
                minutes = int(window.window.total_seconds() // 60)
                return (
                    Reason(
                        "frequency.exceeded",
                        f"{count} attempts in the last {minutes} min "
                        f"(at most {window.max_attempts})",
                    ),
                )
        return ()


def _pending_consent(ctx: RuleContext) -> datetime | None:
    """When the earliest consent given for a later instant (on an accepted channel, and neither
    expired nor revoked by then) starts to hold; None when there is none."""
    rule = ctx.pack.purposes.get(ctx.attempt.purpose)
    channels = rule.consent_channels if rule is not None else frozenset()
    return min(
        (
            c.given_at
            for c in ctx.facts.consents
            if c.tenant == ctx.attempt.tenant
            and c.purpose == ctx.attempt.purpose
            and (not channels or c.channel in channels)
            and c.given_at > ctx.now
            and holds(c, c.given_at)
        ),
        default=None,
    )


class Consent:
    def lifts_at(self, ctx: RuleContext) -> datetime | None:
        """A consent that is valid only from a later instant: that instant."""
        return _pending_consent(ctx)

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        rule = ctx.pack.purposes.get(ctx.attempt.purpose)
        if rule is None or not rule.requires_consent or valid_consent(ctx) is not None:
            return ()
        same = [
            c
            for c in ctx.facts.consents
            if c.tenant == ctx.attempt.tenant and c.purpose == ctx.attempt.purpose
        ]
        wrong_channel = sorted({c.channel for c in same if holds(c, ctx.now)})
        if any(c.revoked_at is not None and c.revoked_at <= ctx.now for c in same):
            detail = "was revoked"
        elif any(c.expires_at is not None and c.expires_at <= ctx.now for c in same):
            detail = "has expired"
        elif wrong_channel:
            needed = " or ".join(sorted(rule.consent_channels))
            detail = f"needs a {needed} record (found: {', '.join(wrong_channel)})"
        elif (pending := _pending_consent(ctx)) is not None:
            detail = f"is valid only from {pending.isoformat()}"
        else:
            detail = "is missing"
        return (Reason("consent.missing", f"consent for {ctx.attempt.purpose} {detail}"),)


class InboundCallerId:
    """Inbound screening: a call from outside presenting one of our own numbers is spoofed."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.facts.caller is None:
            return (Reason("callerid.invalid", f"caller ID {ctx.attempt.caller!r} is not valid"),)
        if any(reg.active for reg in ctx.facts.caller_registrations):
            return (Reason("callerid.spoofed", "inbound call presents one of our own numbers"),)
        if ctx.attempt.verstat == VERSTAT_FAILED and ctx.pack.unverified_inbound != "ignore":
            return (
                Reason(
                    "callerid.verification_failed",
                    f"the caller ID failed STIR/SHAKEN verification (verstat {VERSTAT_FAILED})",
                ),
            )
        return ()


class InboundEnabled:
    """Inbound: the dialled number, when it is one of ours, must be filed for inbound calls at
    the call's instant (the calling tenant's filing, else whoever holds it)."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        versions = ctx.facts.callee_registrations
        found = in_force(versions, ctx.attempt.tenant, ctx.now)
        if found.standing is Standing.NONE and versions:
            found = in_force(versions, versions[0].tenant, ctx.now)
        reg = found.version
        if found.standing is Standing.IN_FORCE and reg is not None and not reg.inbound_enabled:
            return (
                Reason("callee.inbound_disabled", "the dialled number is not filed for inbound"),
            )
        return ()


OUTBOUND_RULES: tuple[Rule, ...] = (
    CalleeValid(),
    CallerIdHidden(),
    CallerIdValid(),
    CallerIdRegistered(),
    CallerIdOutboundEnabled(),
    PurposeFiled(),
    PurposeAllowed(),
    ScriptApproved(),
    ContactRestriction(),
    CalleeNotOnDnc(),
    QuietHours(),
    Holidays(),
    Frequency(),
    Consent(),
    SmsConfirmation(),
    DataResidency(),
)
"""Every rule, in the order its reasons are reported. Rules whose pack parameters are off
(``sms_confirmation``, ``forbidden_contacts``, ``data.region``) object to nothing."""
