"""The healthcare pack's data rules at the API: patient numbers masked in every read, exported
only to the ``dsr`` role (not even ``admin``), and a general tenant's data untouched.

Two tenants called the same callee: ``clinic`` (healthcare) and ``acme`` (general, seeded).
Each has a decision and a recording whose free text repeats the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from api_harness import CALLEE, CALLER, ApiHarness

from dialguard.numbers import mask
from dialguard.ops import dsr
from dialguard.ops.audited import Actor
from dialguard.policy.model import CallAttempt, Decision, Reason, Verdict
from dialguard.storage.dsr_requests import DsrStatus
from dialguard.storage.recording_records import CallSource, NewRecording, RetentionTerms

CLINIC_CALLER = "+861058001299"
ACME_ONLY = "+8613900139000"
"""A callee only acme ever called: exporting it is unrestricted."""
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
IDS = {
    "clinic": "00000000-0000-4000-8000-00000000c11c",
    "acme": "00000000-0000-4000-8000-000000000ac3",
    "acme-only": "00000000-0000-4000-8000-000000000003",
}
CALLERS = {"clinic": CLINIC_CALLER, "acme": CALLER}


async def _seed(api: ApiHarness) -> dict[str, int]:
    """Decisions and recordings of both tenants; returns the recording ids by tenant."""
    async with api.store.transaction() as tx:
        await tx.tenants.ensure("clinic", "healthcare")
        decisions = [
            _decision(IDS[tenant], tenant, CALLERS[tenant], CALLEE) for tenant in ("clinic", "acme")
        ]
        decisions.append(_decision(IDS["acme-only"], "acme", CALLER, ACME_ONLY))
        await tx.decisions.add_many(decisions)
    recordings = {}
    for tenant in ("clinic", "acme"):
        source = CallSource(IDS[tenant], None, CALLERS[tenant], CALLEE, tenant, "standard", T0)
        terms = RetentionTerms("standard", "MIIT: 30 days", "call_end", T0, 30, None)
        name = f"{tenant}-{CALLEE[3:]}"
        new = NewRecording(
            name, source, T0, T0, 1000, 10, "0" * 64, "k1", "cn", f"cn/{name}", terms, T0
        )
        async with api.store.transaction() as tx:
            added = await tx.recordings.add(new)
        assert added is not None
        recordings[tenant] = added.id
    return recordings


def _decision(decision_id: str, tenant: str, caller: str, callee: str) -> Decision:
    attempt = CallAttempt(caller=caller, callee=callee, tenant=tenant)
    reason = Reason("callee.dnc", f"callee {callee} is on the do-not-call list (tenant)")
    return Decision(decision_id, Verdict.DENY, (reason,), "cn-test", T0, attempt, caller, callee)


def _shown_as(tenant: str, number: str) -> str:
    return mask(number) if tenant == "clinic" else number


# -- reads: masked for the healthcare tenant, whoever reads ------------------------------------


@dataclass(frozen=True)
class Read:
    path: str
    tenant: str | None
    """Which tenant's one record the path returns; None: a list of both."""
    params: dict[str, str] | None = None


READS = (
    Read("/v1/decisions", None, {"callee": CALLEE}),
    Read("/v1/decisions/{clinic}", "clinic"),
    Read("/v1/decisions/{acme}", "acme"),
    Read("/v1/recordings", None),
    Read("/v1/recordings/{rec_clinic}", "clinic"),
    Read("/v1/recordings/{rec_acme}", "acme"),
)


@pytest.mark.parametrize("role", ["admin", "auditor"])
@pytest.mark.parametrize("read", READS, ids=lambda r: r.path)
async def test_reads_mask_the_healthcare_tenants_numbers_only(
    api: ApiHarness, read: Read, role: str
) -> None:
    recording_ids = await _seed(api)
    path = read.path.format(
        **IDS, rec_clinic=recording_ids["clinic"], rec_acme=recording_ids["acme"]
    )
    reply = await api.call("GET", path, token=role, params=read.params)
    assert reply.status == 200, reply.body
    rows = reply.body if read.tenant is None else [reply.body]
    seen = {row["tenant"] for row in rows}
    assert seen == ({"clinic", "acme"} if read.tenant is None else {read.tenant})
    for row in rows:
        tenant = row["tenant"]
        assert row["caller"] == _shown_as(tenant, CALLERS[tenant])
        assert row["callee"] == _shown_as(tenant, CALLEE)
        text = " ".join(
            [r["message"] for r in row.get("reasons", [])]
            + [row.get("name", ""), row.get("vault_path", "")]
        )
        assert (CALLEE[3:] in text) is (tenant == "acme"), text
        if tenant == "clinic":
            assert "138****8000" in text


# -- exports: only the dsr role, decided per export --------------------------------------------


@dataclass(frozen=True)
class ExportCase:
    role: str
    number: str
    status: int
    code: str | None = None


EXPORTS = (
    ExportCase("dsr", CALLEE, 200),
    ExportCase("admin", CALLEE, 403, "sensitive_data"),
    ExportCase("operator", CALLEE, 403, "forbidden"),
    ExportCase("auditor", CALLEE, 403, "forbidden"),
    ExportCase("admin", CLINIC_CALLER, 403, "sensitive_data"),
    ExportCase("admin", ACME_ONLY, 200),
    ExportCase("dsr", ACME_ONLY, 200),
)


@pytest.mark.parametrize("case", EXPORTS, ids=lambda c: f"{c.role}-{c.number[-4:]}-{c.status}")
async def test_exports_with_healthcare_records_go_to_the_dsr_role_only(
    api: ApiHarness, case: ExportCase
) -> None:
    await _seed(api)
    reply = await api.call(
        "POST", "/v1/dsr/requests", token=case.role, json={"kind": "export", "number": case.number}
    )
    assert reply.status == case.status, reply.body
    if case.status == 403:
        assert reply.body["error"]["code"] == case.code
        if case.code == "sensitive_data":
            message = reply.body["error"]["message"]
            assert "cn-healthcare" in message and "dsr" in message and "'admin'" in message
            assert case.number not in message and "clinic" not in message
        async with api.store.transaction(readonly=True) as tx:
            assert await tx.dsr.list() == ()  # refused before anything was put on the register
        return
    export = reply.body["result"]
    decisions = {d["tenant"]: d for d in export["decisions"]}
    expected = {"clinic", "acme"} if case.number == CALLEE else {"acme"}
    assert set(decisions) == expected
    for tenant, row in decisions.items():  # an export is the data itself: nothing masked
        assert row["callee_e164"] == case.number
        assert row["caller_e164"] == CALLERS[tenant]


async def test_a_refused_export_leaves_a_received_request_open_for_the_dsr_role(
    api: ApiHarness,
) -> None:
    await _seed(api)
    received = await dsr.receive(api.store, Actor("test", T0), "export", CALLEE, deadline_days=15)
    body = {"kind": "export", "number": CALLEE, "request_id": received.id}
    refused = await api.call("POST", "/v1/dsr/requests", token="admin", json=body)
    assert refused.status == 403, refused.body
    async with api.store.transaction(readonly=True) as tx:
        still = await tx.dsr.get(received.id)
    assert still is not None and still.status is DsrStatus.OPEN

    done = await api.call("POST", "/v1/dsr/requests", token="dsr", json=body)
    assert done.status == 200, done.body
    assert done.body["request"]["status"] == DsrStatus.COMPLETED.value
    audit = [(e.action, e.detail.get("status")) for e in await api.audit_tail(10)]
    assert ("api.request", 403) in audit  # the refusal is on the record


async def test_the_openapi_document_names_the_sensitive_data_refusal(api: ApiHarness) -> None:
    document = (await api.call("GET", "/v1/openapi.json", token=None)).body
    reply = document["paths"]["/v1/dsr/requests"]["post"]["responses"]["403"]
    assert "sensitive_data" in reply["description"]


async def test_the_audit_log_read_masks_even_entries_written_before_masking(
    api: ApiHarness,
) -> None:
    """An entry from before masking covered every spelling (written here straight into the
    chain) still shows no patient's number to an auditor; the tenant's own number stays."""
    async with api.store.transaction() as tx:
        await tx.tenants.ensure("clinic", "healthcare")
        detail = {
            "callee": CALLEE,
            "note": f"patient on {CALLEE[3:6]} {CALLEE[6:10]} {CALLEE[10:]}",
        }
        await tx.audit.append("legacy", "recording.ingest", CALLEE, detail)
        await tx.audit.append("legacy", "numbers.add", CALLER, {"after": {"number": CALLER}})
    reply = await api.call("GET", "/v1/audit", token="auditor", params={"limit": "2"})
    assert reply.status == 200
    legacy, ours = reply.body
    assert legacy["subject"] == mask(CALLEE)
    assert legacy["detail"] == {"callee": mask(CALLEE), "note": f"patient on {mask(CALLEE)}"}
    assert (ours["subject"], ours["detail"]["after"]["number"]) == (CALLER, CALLER)
