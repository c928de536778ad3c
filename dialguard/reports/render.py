"""The quarterly report as HTML (Jinja, one self-contained file) and as PDF (WeasyPrint, with
Debian's Noto CJK fonts for the Chinese edition). ``lang`` is ``zh`` or ``en``; the figures and
rule references are the same in both."""

from __future__ import annotations

from typing import Any

import jinja2

from .quarterly import QuarterlyData

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Quarterly compliance self-assessment",
        "tenant": "Tenant",
        "period": "Period",
        "generated": "Generated",
        "policy": "Policy in force",
        "rule": "Rule evidenced",
        "outcomes": "1. Calls decided and denials by reason",
        "outcomes_rule": "Every call attempt is decided by the gate and recorded with its "
        "reasons (call records kept: caller, callee, time, consent evidence).",
        "decided": "Calls decided",
        "allowed": "Allowed",
        "reason": "Reason",
        "count": "Count",
        "quiet": "2. Attempts blocked at quiet hours and holidays",
        "quiet_rule": "No calls 21:00–09:00 or on statutory holidays (callee's local time).",
        "dnc": "3. Do-not-call and opt-out handling",
        "dnc_rule": "An explicit refusal goes on the DNC list and is never called again; an "
        "opt-out is effective in the transaction that records it.",
        "source": "Source",
        "after_listing": "Allowed calls to numbers while listed",
        "consent": "4. Consent coverage of allowed calls",
        "consent_rule": "Outbound calls only with explicit consent for the purpose; the consent "
        "evidence is kept with the call record.",
        "with_consent": "Allowed calls with a consent reference",
        "coverage": "Coverage",
        "retention": "5. Recordings kept against their retention class",
        "retention_rule": "Recordings kept at least 30 days (finance: 5 years); deleted only "
        "when their period ends, unless on legal hold.",
        "class": "Class",
        "min_days": "Minimum days",
        "kept": "Kept",
        "deleted": "Deleted",
        "deleted_early": "Deleted early",
        "on_hold": "On legal hold",
        "dsr": "6. Data-subject requests answered within their deadline",
        "dsr_rule": "Subjects may access, correct and erase their data within the statutory "
        "deadline (PIPL Arts 44–47).",
        "received": "Received",
        "on_time": "Answered in time",
        "late": "Answered late",
        "open_overdue": "Open, overdue",
        "open_in_time": "Open, within deadline",
        "scripts": "7. Banned-phrase screening of campaign scripts",
        "scripts_rule": "Sensitive-word interception: scripts with banned phrases (e.g. "
        "“100% 保本”, “无风险”) are refused and cannot be used.",
        "status": "Status",
        "filings": "8. Caller-ID filings",
        "filings_rule": "Access numbers are used only as filed with the regulator (purpose, "
        "inbound/outbound); changes are audited.",
        "numbers": "Registered numbers",
        "changed": "Changed this quarter",
        "unfiled": "Without a filing reference",
        "inactive": "Inactive",
        "filings_late": "Changes of the quarter reported late or not at all",
        "outages": "9. Gate outages",
        "outages_rule": "The gate fails closed: a call without a decision in its budget is "
        "denied (gate.timeout, gate.error).",
        "day": "Day (UTC)",
        "none": "None.",
        "audit": "10. Audit log integrity",
        "audit_rule": "Every create, modify and delete is in a tamper-evident, signed audit "
        "log (hash chain, Merkle tree, Ed25519 checkpoints).",
        "verify_ok": "Verification passed",
        "verify_bad": "Verification FAILED",
        "entries": "Entries verified",
        "problems": "Problems",
        "checkpoint": "Last signed checkpoint before the quarter's end",
        "root": "Merkle root",
        "size": "Entries",
        "signed": "Signed",
        "key": "Key",
        "no_checkpoint": "No signed checkpoint before the quarter's end.",
        "signature_note": "This file is signed with the audit signing key (detached signature "
        "beside it); check it with: dialguard report verify FILE SIG",
    },
    "zh": {
        "title": "季度合规自查报告",
        "tenant": "租户",
        "period": "期间",
        "generated": "生成时间",
        "policy": "适用策略",
        "rule": "对应规则",
        "outcomes": "一、呼叫判定及拒绝原因",
        "outcomes_rule": "每次呼叫均经网关判定并连同原因留存（主被叫号码、时间、授权凭证）。",
        "decided": "判定呼叫数",
        "allowed": "放行",
        "reason": "原因",
        "count": "数量",
        "quiet": "二、休息时间及法定节假日拦截",
        "quiet_rule": "21:00至次日09:00及法定节假日不得外呼（以被叫当地时间为准）。",
        "dnc": "三、拒访名单及退订处理",
        "dnc_rule": "明确拒绝者列入拒访名单，不得再次呼叫；退订在记录它的同一事务中生效。",
        "source": "来源",
        "after_listing": "列入名单期间仍被放行的呼叫",
        "consent": "四、放行呼叫的授权覆盖率",
        "consent_rule": "外呼须取得针对该用途的明确同意，并随通话记录留存授权凭证。",
        "with_consent": "有授权凭证的放行呼叫",
        "coverage": "覆盖率",
        "retention": "五、录音按留存类别保存情况",
        "retention_rule": "录音至少保存30天（金融行业5年）；期满方可删除，法律保全期间不得删除。",
        "class": "类别",
        "min_days": "最短天数",
        "kept": "保存中",
        "deleted": "已删除",
        "deleted_early": "提前删除",
        "on_hold": "法律保全",
        "dsr": "六、个人信息主体请求按期答复情况",
        "dsr_rule": "个人有权查阅、更正、删除其个人信息，须在法定期"
        "限内答复（《个人信息保护法》第44–47条）。",
        "received": "收到",
        "on_time": "按期答复",
        "late": "逾期答复",
        "open_overdue": "未结且逾期",
        "open_in_time": "未结未逾期",
        "scripts": "七、话术敏感词审核",
        "scripts_rule": "敏感词拦截：含禁用表述（如“100% 保本”“无风险”）的话术被拒绝，不得使用。",
        "status": "状态",
        "filings": "八、码号备案",
        "filings_rule": "码号仅按备案用途及呼入/呼出功能使用；变更均记入审计日志。",
        "numbers": "登记号码",
        "changed": "本季度变更",
        "unfiled": "无备案编号",
        "inactive": "停用",
        "filings_late": "本季度变更逾期报备或未报备",
        "outages": "九、网关故障",
        "outages_rule": "网关故障即拒绝：未能在时限内判定的呼叫一律拒绝（"
        "gate.timeout、gate.error）。",
        "day": "日期（UTC）",
        "none": "无。",
        "audit": "十、审计日志完整性",
        "audit_rule": "所有新增、修改、删除操作均记入防篡改且签名的审计"
        "日志（哈希链、默克尔树、Ed25519检查点）。",
        "verify_ok": "校验通过",
        "verify_bad": "校验未通过",
        "entries": "已校验条目",
        "problems": "问题",
        "checkpoint": "季度末前最后一个签名检查点",
        "root": "默克尔根",
        "size": "条目数",
        "signed": "签名时间",
        "key": "密钥",
        "no_checkpoint": "季度末前没有签名检查点。",
        "signature_note": "本文件已用审计签名密钥签名（分离式签名文件随附）；核验：di"
        "alguard report verify FILE SIG",
    },
}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dialguard.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"--lang: expected zh or en, got {lang[:10]!r}")
    return lang


def render_html(data: QuarterlyData, lang: str) -> str:
    t = TEXT[check_lang(lang)]
    values: dict[str, Any] = {"d": data, "t": t, "lang": lang}
    return _ENV.get_template("quarterly.html").render(values)


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (WeasyPrint; fonts from fontconfig, Noto CJK for Chinese)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise RuntimeError(f"PDF rendering is unavailable here (WeasyPrint: {exc})") from None
    pdf = weasyprint.HTML(string=html).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
