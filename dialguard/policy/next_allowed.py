"""When would a denied call pass? ``next_allowed_at`` for denials that time alone lifts.

Only some rules can be satisfied by waiting: quiet hours, holiday periods, frequency windows and a
consent that is valid only from a later instant. Each of them says when it stops objecting
(``lifts_at``); the answer is the earliest instant at which *every* rule passes with the same
facts. Those instants interact (a frequency window that ends inside quiet hours, quiet hours that
end on a holiday), so the search moves to the latest instant any objecting rule names and asks all
rules again, until none objects (that instant is the answer) or one objects that time will not
lift (no answer: a DNC entry, an unregistered caller ID, a consent that expires first, a calendar
year that is missing). The search is bounded in steps and in time.

Pure like the rules: it reads nothing but the :class:`~.context.RuleContext` and its ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from .context import Rule, RuleContext

MAX_STEPS = 32
"""Moves of the search; each one crosses a quiet period, a holiday or a window."""
HORIZON = timedelta(days=400)
"""No answer further out than this: the facts (and the calendar) will have changed."""


class TimeBoundRule(Protocol):
    """A rule that time alone can satisfy: it also says when it stops objecting."""

    def evaluate(self, ctx: RuleContext) -> tuple[object, ...]: ...

    def lifts_at(self, ctx: RuleContext) -> datetime | None:
        """The earliest instant after ``ctx.now`` at which this rule stops objecting with the
        same facts, or None when time alone will not make it stop."""
        ...


def next_allowed_at(
    ctx: RuleContext, rules: tuple[Rule, ...], objecting: tuple[Rule, ...] | None = None
) -> datetime | None:
    """The earliest instant from ``ctx.now`` at which ``rules`` all pass with ``ctx``'s facts,
    in the callee's (first) time zone; None when time alone will not get there. ``objecting``:
    the rules that object at ``ctx.now``, when the caller has just evaluated them.

    Between steps only the time-bound rules are asked (the others did not object at ``now``);
    every rule is asked again at the instant found, and any objection there means None."""
    timed = tuple(rule for rule in rules if _lifts_of(rule) is not None)
    at = ctx.now
    probe = ctx
    blocking = objecting if objecting is not None else _objecting(probe, rules)
    for _ in range(MAX_STEPS):
        if not blocking:
            if at == ctx.now or _objecting(probe, rules):
                return None
            return at.astimezone(ZoneInfo(ctx.callee_zones()[0]))
        lifts: list[datetime] = []
        for rule in blocking:
            lifts_at = _lifts_of(rule)
            lifted = lifts_at(probe) if lifts_at is not None else None
            if lifted is None or lifted <= at:
                return None
            lifts.append(lifted)
        at = max(lifts)
        if at - ctx.now > HORIZON:
            return None
        probe = replace(ctx, now=at)
        blocking = _objecting(probe, timed)
    return None


def _lifts_of(rule: Rule) -> Callable[[RuleContext], datetime | None] | None:
    """The rule's ``lifts_at`` when it is a :class:`TimeBoundRule` (an attribute lookup: an
    ``isinstance`` on a runtime protocol inspects every member, each call)."""
    found: Callable[[RuleContext], datetime | None] | None = getattr(rule, "lifts_at", None)
    return found


def _objecting(ctx: RuleContext, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    return tuple(rule for rule in rules if rule.evaluate(ctx))
