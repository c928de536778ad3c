"""The values that flow through the policy: a call attempt and its facts in, a decision out.

Everything here is immutable and free of I/O, so the engine stays a pure function and the same
attempt with the same facts at the same instant always gets the same decision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

INDUSTRIES = ("general", "finance", "education", "healthcare")
"""Tenant industries; each may select an overlay pack of the callee's jurisdiction."""


class Verdict(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class Presentation(enum.StrEnum):
    """Caller-ID presentation as the PBX reports it."""

    ALLOWED = "allowed"
    RESTRICTED = "restricted"


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class NumberType(enum.StrEnum):
    """How an access number is filed with the regulator."""

    CALL_CENTRE = "call-centre"
    CARRIER_MARKETING = "carrier-marketing"


class DncScope(enum.StrEnum):
    GLOBAL = "global"
    TENANT = "tenant"
    CAMPAIGN = "campaign"


@dataclass(frozen=True, slots=True)
class CallAttempt:
    """What the transport saw, before any lookup. Numbers are as dialled (not yet normalised)."""

    caller: str
    callee: str
    tenant: str = "default"
    purpose: str = "callback"
    presentation: Presentation = Presentation.ALLOWED
    direction: Direction = Direction.OUTBOUND
    campaign: str | None = None
    call_id: str | None = None
    verstat: str | None = None
    """The caller ID's STIR/SHAKEN verification as the PBX reports it: one of :data:`VERSTATS`,
    or None when the trunk gave none."""


VERSTAT_PASSED = "TN-Validation-Passed"
VERSTAT_FAILED = "TN-Validation-Failed"
VERSTAT_NONE = "No-TN-Validation"
VERSTATS = frozenset({VERSTAT_PASSED, VERSTAT_FAILED, VERSTAT_NONE})
"""The ``verstat`` values of ATIS-1000074 / 3GPP TS 24.229 a terminating network puts on the
caller's identity; transports pass these and nothing else."""


@dataclass(frozen=True, slots=True)
class RegisteredNumber:
    number: str
    tenant: str
    purposes: frozenset[str]
    inbound_enabled: bool
    outbound_enabled: bool
    number_type: NumberType
    filing_ref: str | None
    filed_on: date | None
    active: bool
    number_class: str | None = None
    """The access-code class the number was recognised as (``service-national``, ``sms-port``…);
    None for an ordinary number."""
    effective_from: datetime | None = None
    """When these terms take effect; None: in force since the registration began."""
    expires_on: date | None = None
    """The last day (Beijing time) the filing is valid; None: no expiry filed."""


@dataclass(frozen=True, slots=True)
class DncEntry:
    number: str
    scope: DncScope
    tenant: str | None
    campaign: str | None
    source: str
    reason: str | None
    added_at: datetime
    expires_at: datetime | None
    added_by: str


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    consent_id: int
    callee: str
    tenant: str
    purpose: str
    evidence_ref: str
    channel: str
    given_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContactFlags:
    number: str
    minor: bool = False
    guardian: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """What storage knew about the attempt when it was looked up.

    ``caller``/``callee`` are the E.164 forms, or None when the number did not parse or validate.
    ``caller_registrations`` holds the registry rows of the caller for *any* tenant so that the
    policy can tell "not ours" from "someone else's". ``recent_attempts`` are the times of earlier
    allowed attempts to the callee by the tenant, newest first, covering the longest window.
    """

    caller: str | None
    callee: str | None
    caller_registrations: tuple[RegisteredNumber, ...] = ()
    dnc: tuple[DncEntry, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()
    recent_attempts: tuple[datetime, ...] = ()
    contact: ContactFlags | None = None
    callee_time_zones: tuple[str, ...] = ()
    tenant_industry: str = "general"
    campaign_script_approved: bool | None = None
    """Whether the attempt's campaign has an approved script; None when it names no campaign."""
    tenant_data_region: str | None = None
    """Where the tenant's recordings are stored (``recording.tenant_regions``); None: unknown."""
    decision_data_region: str | None = None
    """Where decisions and other personal data are stored (``database.region``); None: unknown."""
    callee_registrations: tuple[RegisteredNumber, ...] = ()
    """Inbound calls: every version of the dialled number's filings (it is one of ours)."""


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


NOTICE_REQUIRED = "required"
NOTICE_PLAYED = "played"
NOTICE_MISSING = "missing"
NOTICE_STATUSES = (NOTICE_REQUIRED, NOTICE_PLAYED, NOTICE_MISSING)
"""A decision's recording notice (:attr:`Decision.notice_status`), as stored and shown."""


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: str
    verdict: Verdict
    reasons: tuple[Reason, ...]
    policy_version: str
    decided_at: datetime
    attempt: CallAttempt
    caller: str | None
    callee: str | None
    consent_ref: str | None = None
    record: bool = False
    notice: bool = False
    """The call is recorded and its pack requires the recording notice (``recording.notice``):
    the PBX plays it to the callee before the recording starts."""
    notice_played: bool | None = field(default=None, compare=False)
    """What became of that notice, learnt after the decision: True (played) or False (missing)
    once the call's recording was ingested with the PBX's report; None until then."""
    notice_prompt: str | None = field(default=None, compare=False)
    """The sound the PBX reported it played (or failed to), once the recording was ingested."""
    retention_class: str | None = None
    """The pack's retention class in force when the call was decided: how long this decision
    (and its recording, if any) must be kept, whatever the tenant's industry becomes later."""
    retain_until: datetime | None = None
    """``decided_at`` plus that class's period: when an erasure request may remove the decision.
    None only for decisions stored before dialguard fixed it at decision time."""
    latency_ms: float | None = field(default=None, compare=False)
    next_allowed_at: datetime | None = None
    """For a denial that time alone lifts (quiet hours, holiday, frequency window, consent not
    yet valid): the earliest instant the same call would pass, in the callee's time zone
    (:mod:`.next_allowed`). None for allowed calls and for any other denial."""

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    @property
    def first_reason(self) -> str | None:
        return self.reasons[0].code if self.reasons else None

    @property
    def notice_status(self) -> str | None:
        """:data:`NOTICE_STATUSES`: ``required`` until the recording says ``played`` or
        ``missing``; None when no notice was required."""
        if not self.notice:
            return None
        if self.notice_played is None:
            return NOTICE_REQUIRED
        return NOTICE_PLAYED if self.notice_played else NOTICE_MISSING
