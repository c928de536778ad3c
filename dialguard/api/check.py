"""``POST /v1/check``: the pre-dial check for dialers outside the PBX path.

A dry run, exactly like ``dialguard check``: nothing is recorded (no decision, no attempt counted
towards frequency caps), and the answer says so (``"dry_run": true``). A dialer that must leave
evidence and count towards caps asks ``POST /v1/decisions`` (:mod:`.predial`).
200 with the decision when the call would be allowed, 409 with the same JSON (its ``reasons``)
when denied; a bad caller or callee is a 400, not a deny.
"""

from __future__ import annotations

from aiohttp import web

from ..numbers import InvalidNumber, normalize
from ..ops.vocabulary import check_names
from ..policy.emergency import is_emergency
from ..policy.model import CallAttempt, Presentation
from ..views import decision_view
from .access import Access
from .endpoint import Call, Endpoint, Reply, respond
from .errors import ApiError
from .fields import Field, Instant, RawPhone, choice, text
from .schemas import ref


async def attempt_of(call: Call, call_id: str | None = None) -> CallAttempt:
    """The call attempt a pre-dial request describes (``/v1/check``, ``/v1/decisions``): bad
    numbers and unknown tenants or purposes are a 400, never a deny."""
    b = call.body
    _require_number("caller", b["caller"], call.context.region)
    if not is_emergency(b["callee"], call.context.gate.pack):
        call.subject_number = _require_number("callee", b["callee"], call.context.region)
    attempt = CallAttempt(
        caller=b["caller"],
        callee=b["callee"],
        tenant=b["tenant"] or "default",
        purpose=b["purpose"] or "callback",
        presentation=Presentation(b["presentation"] or Presentation.ALLOWED),
        campaign=b["campaign"],
        call_id=call_id,
    )
    gate = call.context.gate
    await check_names(gate.tenants, call.context.vocabulary, attempt.tenant, attempt.purpose)
    return attempt


async def check_call(call: Call) -> web.Response:
    decision = await call.context.gate.dry_run(await attempt_of(call), call.body["at"])
    view = {**decision_view(decision), "dry_run": True}
    return respond(view, status=200 if decision.allowed else 409)


def _require_number(name: str, raw: str, region: str) -> str:
    try:
        return normalize(raw, region)
    except InvalidNumber as exc:
        raise ApiError(400, "invalid_number", f"{name}: {exc}", name) from None


ENDPOINTS = (
    Endpoint(
        "POST",
        "/v1/check",
        check_call,
        Access.OPERATE,
        "Would this call be allowed? (a dry run: records nothing, counts towards no cap)",
        {
            200: Reply("Allowed: the decision (not recorded)", ref("DryRunDecision")),
            409: Reply("Denied: the decision with every reason", ref("DryRunDecision")),
        },
        body=(
            Field("caller", RawPhone(), required=True, description="Caller ID to present."),
            Field("callee", RawPhone(), required=True, description="Number to be called."),
            Field("tenant", text(64), description="Default: default."),
            Field("purpose", text(60), description="Default: callback."),
            Field("campaign", text(100)),
            Field("at", Instant(), description="Instant to decide for. Default: now."),
            Field("presentation", choice([p.value for p in Presentation])),
        ),
    ),
)
