"""``POST /v1/decisions``: the recorded pre-dial decision, for dialers outside the PBX path.

Unlike ``POST /v1/check`` (a dry run), this is the live gate's decision: the same facts and
policy, the same decision row and audit entry, counted towards the frequency caps (and settled
against every other gate's calls, :mod:`dialguard.storage.settle`), within the same fail-closed
budget (``agi.budget_ms``: no decision in time, or a failure, is a recorded ``gate.timeout`` /
``gate.error`` denial). 200 with the decision when allowed, 409 when denied; the answer carries
``"dry_run": false`` and the ``decision_id`` to quote in the call's records.

A dialer that retries (a timeout, a lost connection) sends the same ``Idempotency-Key`` header,
or the same ``call_id`` field: the retry gets the first decision back, status included, and
nothing is counted twice. The key is stored with the decision under a unique index per tenant,
so concurrent retries, to one gate or to several on one database, also get one decision.
"""

from __future__ import annotations

from aiohttp import web

from ..gate.budget import DecisionGate
from ..gate.service import GateService
from ..policy.model import CallAttempt, Decision, Presentation
from ..views import decision_view
from .access import Access
from .check import attempt_of
from .endpoint import Call, Endpoint, Reply, respond
from .fields import Field, RawPhone, choice, text
from .schemas import ref

IDEMPOTENCY_HEADER = "Idempotency-Key"


class _Keyed:
    """The gate's :class:`~dialguard.gate.budget.DecisionMaker` for one request: decides under the
    request's idempotency key and keeps the decision for the answer."""

    def __init__(self, gate: GateService, key: str | None) -> None:
        self._gate = gate
        self._key = key
        self.decision: Decision | None = None

    async def decide(self, attempt: CallAttempt) -> Decision:
        self.decision = await self._gate.decide(attempt, self._key)
        return self.decision

    async def record_failure(self, attempt: CallAttempt, decision_id: str, reason: str) -> None:
        await self._gate.record_failure(attempt, decision_id, reason)


async def record_decision(call: Call) -> web.Response:
    """The contract for dialers outside the PBX: ask once per call attempt, just before dialling.
    The gate decides as for a PBX call (same facts, policy, decision row and audit entry) and
    records the decision before answering; an allowed call counts towards the callee's frequency
    caps at once, on every gate sharing the database, so simultaneous requests for one callee get
    at most the cap's number of allows. 200: dial, quoting decision_id. 409: do not dial; the
    reasons say why (gate.timeout / gate.error: the gate could not decide within its budget and
    denied, fail-closed). Send one Idempotency-Key per call attempt (else call_id is the key):
    a retry with the same key and tenant, even concurrent or to another gate, returns the first
    decision recorded under it, with its status, and counts nothing twice. POST /v1/check is the
    dry run: it records and counts nothing (dry_run: true)."""
    b = call.body
    gate = call.context.gate
    attempt = await attempt_of(call, b["call_id"])
    maker = _Keyed(gate, call.params[IDEMPOTENCY_HEADER] or b["call_id"])
    budget = DecisionGate(maker, call.context.settings.agi.budget_ms)
    verdict = await budget.decide(attempt, "")
    decision = maker.decision
    if decision is None or decision.decision_id != verdict.decision_id:
        decision = gate.failure(attempt, verdict.decision_id, verdict.reason)
    view = {**decision_view(decision), "dry_run": False}
    return respond(view, status=200 if decision.allowed else 409)


ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/decisions",
        record_decision,
        Access.OPERATE,
        "Decide and record a call before dialling it (counts towards caps; idempotent per key)",
        {
            200: Reply(
                "Allowed: dial now, quoting decision_id. The decision is recorded and counts "
                "towards the callee's frequency caps; a retry with the same key returns it again.",
                ref("RecordedDecision"),
            ),
            409: Reply(
                "Denied: do not dial. The decision is recorded with every reason (gate.timeout "
                "or gate.error when the gate could not decide within its budget).",
                ref("RecordedDecision"),
            ),
        },
        body=(
            Field("caller", RawPhone(), required=True, description="Caller ID to present."),
            Field("callee", RawPhone(), required=True, description="Number to be called."),
            Field("tenant", text(64), description="Default: default."),
            Field("purpose", text(60), description="Default: callback."),
            Field("campaign", text(100)),
            Field("presentation", choice([p.value for p in Presentation])),
            Field(
                "call_id",
                text(128),
                description="The dialer's id of this call attempt, stored with the decision; "
                "the idempotency key when no Idempotency-Key header is sent.",
            ),
        ),
        headers=(
            Field(
                IDEMPOTENCY_HEADER,
                text(128),
                description="One key per call attempt (a UUID): a retry with the same key, "
                "for the same tenant, returns the first decision and records nothing new.",
            ),
        ),
    ),
)
