"""Rules that object only where a pack switches them on: the industry overlays (finance's SMS
confirmation, education's minors), the EU's data residency, and approved campaign scripts.

Like every rule they read nothing but the :class:`~.context.RuleContext`.
"""

from __future__ import annotations

from .context import RuleContext, consents_holding
from .model import Reason

SMS = "sms"


class ScriptApproved:
    """A call made for a campaign needs the campaign's script to have passed the banned-phrase
    check (``dialguard scripts add``). Unknown approval state (not looked up) denies."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        campaign = ctx.attempt.campaign
        if not campaign or not ctx.pack.require_approved_script:
            return ()
        if ctx.facts.campaign_script_approved is True:
            return ()
        return (
            Reason(
                "script.unapproved",
                f"campaign {campaign!r} has no approved script (dialguard scripts add)",
            ),
        )


class ContactRestriction:
    """Education: no marketing to a contact flagged as a minor or as a minor's guardian."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        rule = ctx.pack.purposes.get(ctx.attempt.purpose)
        contact = ctx.facts.contact
        if rule is None or not rule.forbidden_contacts or contact is None:
            return ()
        flagged = {"minor": contact.minor, "guardian": contact.guardian}
        hits = sorted(flag for flag in rule.forbidden_contacts if flagged[flag])
        if not hits:
            return ()
        who = " and ".join("a minor" if h == "minor" else "a minor's guardian" for h in hits)
        return (
            Reason(
                "callee.minor",
                f"{ctx.attempt.purpose} calls to {who} are forbidden "
                f"(policy {ctx.pack.policy_version})",
            ),
        )


class SmsConfirmation:
    """Finance marketing: besides the explicit consent, a recorded SMS confirmation, i.e. a
    consent record on channel ``sms`` for the same purpose that holds now. A consent given by
    SMS is therefore both the consent and its confirmation."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        rule = ctx.pack.purposes.get(ctx.attempt.purpose)
        if rule is None or not rule.sms_confirmation:
            return ()
        if consents_holding(ctx, frozenset({SMS})):
            return ()
        return (
            Reason(
                "consent.sms_confirmation_missing",
                f"{ctx.attempt.purpose} calls need a recorded SMS confirmation "
                "(a consent record on channel 'sms')",
            ),
        )


class DataResidency:
    """Packs that keep data in a region (CN: ``cn``, EU: ``eu``): recordings and decisions of
    calls under the pack must be stored there; a tenant whose recordings go elsewhere
    (``recording.tenant_regions``), or a gate whose decision database is elsewhere
    (``database.region``), may not place the call. Regions are facts passed in."""

    def evaluate(self, ctx: RuleContext) -> tuple[Reason, ...]:
        wanted = ctx.pack.data_region
        if wanted is None:
            return ()
        stored = (
            ("recordings", ctx.facts.tenant_data_region),
            ("decisions", ctx.facts.decision_data_region),
        )
        elsewhere = [
            f"{what} in {region!r}" for what, region in stored if region not in (None, wanted)
        ]
        if not elsewhere:
            return ()
        return (
            Reason(
                "data.residency",
                f"calls under policy {ctx.pack.policy_version} keep their data in region "
                f"{wanted!r}; tenant {ctx.attempt.tenant!r} stores {' and '.join(elsewhere)}",
            ),
        )
