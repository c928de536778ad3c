"""The quarterly self-assessment as one audited operation (CLI ``report quarterly`` and the
console's report page): verify the audit log, gather the quarter's figures, render HTML (and PDF
when asked), sign each file with the audit signing key, and write one ``report.quarterly``
entry naming the tenant, quarter, language and each file's SHA-256 — so a report handed to a
regulator can be matched to the log."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ..audit.checkpoint import SigningKey
from ..audit.service import verify
from ..audit.verify import VerifyReport
from ..config import Settings
from ..policy.calendar import HolidayCalendar
from ..reports.quarterly import Quarter, gather
from ..reports.render import check_lang, render_html, render_pdf
from ..reports.signature import sign
from ..storage.store import Store
from .audited import Actor, record


@dataclass(frozen=True)
class ReportFiles:
    stem: str
    """``dialguard-quarterly-<tenant>-<quarter>-<lang>``: the files are ``stem.html``/``.pdf``."""
    files: dict[str, bytes] = field(default_factory=dict)
    """File name → content, signatures (``<file>.sig``) included."""


async def quarterly_report(
    store: Store,
    actor: Actor,
    settings: Settings,
    *,
    tenant: str,
    quarter: str,
    lang: str,
    zone: ZoneInfo,
    policy_version: str,
    calendar: HolidayCalendar,
    pdf: bool,
) -> ReportFiles:
    period = Quarter.parse(quarter)
    check_lang(lang)
    key = SigningKey.load(Path(settings.audit.signing_key_file))  # no key: refuse before work
    report: VerifyReport | None = None
    error: str | None = None
    try:
        report = await verify(settings)
    except (ValueError, OSError) as exc:
        error = f"cannot verify: {exc}"
    data = await gather(
        store,
        tenant,
        period,
        zone,
        now=actor.now,
        policy_version=policy_version,
        calendar=calendar,
        checkpoint_file=Path(settings.audit.checkpoint_file),
        verification=report,
        verification_error=error,
    )
    stem = f"dialguard-quarterly-{tenant}-{period}-{lang}"
    html = render_html(data, lang).encode()
    outputs = {f"{stem}.html": html}
    if pdf:
        outputs[f"{stem}.pdf"] = await asyncio.to_thread(render_pdf, html.decode())
    files = dict(outputs)
    for name, content in outputs.items():
        files[f"{name}.sig"] = sign(content, name, key, actor.now).encode()
    async with store.transaction() as tx:
        await record(
            tx,
            actor,
            "report.quarterly",
            f"{tenant}/{period}",
            {
                "tenant": tenant,
                "quarter": str(period),
                "lang": lang,
                "key_id": key.key_id,
                "files": {name: hashlib.sha256(c).hexdigest() for name, c in outputs.items()},
            },
        )
    return ReportFiles(stem, files)
