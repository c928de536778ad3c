"""The rules. Each is a small object whose ``evaluate(ctx)`` returns the reasons it objects with
(empty when the call passes it). No rule reads the clock or the database: everything it may look
at is in the frozen :class:`RuleContext`.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from .context import Rule, RuleContext, holds, valid_consent
from .model import Presentation, Reason
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
    """The presented number must be filed for the calling tenant and active."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        if ctx.facts.caller is None or ctx.own_registration() is not None:
            return ()
        others = any(r.tenant != ctx.attempt.tenant for r in ctx.facts.caller_registrations)
        detail = "registered to another tenant" if others else "not in the number registry"
        return (
            Reason(
                "callerid.unregistered",
                f"caller ID is {detail} (tenant {ctx.attempt.tenant!r})",
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


class QuietHours:
    """Outside quiet hours in every zone the callee may be in."""

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

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        for window in ctx.pack.frequency:
            since = ctx.now - window.window
            count = sum(1 for at in ctx.facts.recent_attempts if since < at <= ctx.now)
            if count >= window.max_attempts:
                minutes = int(window.window.total_seconds() // 60)
                return (
                    Reason(
                        "frequency.exceeded",
                        f"{count} attempt{'' if count == 1 else 's'} in the last {minutes} min "
                        f"(at most {window.max_attempts})",
                    ),
                )
        return ()


class Consent:
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
