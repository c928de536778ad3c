"""What every CLI command shares: settings from ``--config``/``--set``/env, the rule pack, the
store, and turning library errors into exit status 2 with a message naming what was wrong."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ..clock import Clock, parse_instant
from ..config import Settings, load_settings, parse_assignments
from ..display import operator_zone, shown

if TYPE_CHECKING:
    # Imported where used: `dialguard --help` must not load SQLAlchemy or the rule packs.
    from ..ops.audited import Actor
    from ..ops.vocabulary import Vocabulary
    from ..policy.book import PolicyBook
    from ..policy.pack import RulePack
    from ..storage.facts import FactReader
    from ..storage.store import Store

T = TypeVar("T")

EXIT_BAD_INPUT = 2


@dataclass
class CliState:
    config_path: Path | None
    assignments: tuple[str, ...]
    actor_name: str | None = None
    option_variables: Callable[[], Collection[str]] | None = None
    """The CLI's ``DIALGUARD_*`` option variables (asked only for a name no setting has)."""
    _clock: Clock = field(default_factory=Clock.from_env)

    @cached_property
    def settings(self) -> Settings:
        return load_settings(
            self.config_path,
            cli=parse_assignments(list(self.assignments)),
            other_variables=self.option_variables,
        )

    @cached_property
    def book(self) -> PolicyBook:
        from ..policy.book import PolicyBook

        policy = self.settings.policy
        return PolicyBook.load(
            policy.pack,
            Path(policy.overrides_file) if policy.overrides_file else None,
            Path(policy.calendar_file) if policy.calendar_file else None,
        )

    @cached_property
    def vocabulary(self) -> Vocabulary:
        """The purposes and consent channels the loaded rule packs define."""
        from ..ops.vocabulary import Vocabulary

        return Vocabulary.of(self.book)

    @property
    def pack(self) -> RulePack:
        """The default pack (no industry, no callee): its calendar, its emergency numbers."""
        return self.book.default_pack

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def actor(self) -> str:
        return self.actor_name or f"cli:{getpass.getuser()}"

    def act(self) -> Actor:
        """Who acts, and now, for an audited operation (:mod:`dialguard.ops`)."""
        from ..ops.audited import Actor

        return Actor(self.actor, self.clock.now(), self.settings.numbers.default_region)

    @cached_property
    def zone(self) -> tzinfo:
        """The operator's zone (``display.timezone``): naive times typed are read in it."""
        return operator_zone(self.settings)

    def instant(self, text: str, name: str) -> datetime:
        """An instant typed as option ``name``; without an offset, local to the operator."""
        return parse_instant(text, name, self.zone)

    def shown(self, value: datetime | None, *, utc: bool = False, empty: str = "-") -> str:
        """``value`` as listings print it: in the operator's zone (UTC when ``utc``), offset
        included (``empty`` for none)."""
        return shown(value, UTC if utc else self.zone, empty=empty)

    def number(self, raw: str) -> str:
        from ..numbers import normalize

        return normalize(raw, self.settings.numbers.default_region)

    def on_facts(self, work: Callable[[FactReader], Coroutine[Any, Any, T]]) -> T:
        """The result of ``work`` given the reader the gate reads the facts of calls through.

        On an SQLite file the reader is opened without a store, and ``work`` — which on it never
        suspends — runs to its end without an event loop: a command that needs only facts
        (``check``) imports neither SQLAlchemy nor asyncio. Otherwise (PostgreSQL, or a file a
        store would not open as it is) the reader comes from a store, whose errors name what is
        wrong, on an event loop."""
        from ..storage.facts import fact_reader, open_sqlite_reader, run_inline

        reader = open_sqlite_reader(self.settings)
        if reader is not None:
            with closing(reader):
                return run_inline(work(reader))

        async def through_a_store() -> T:
            async with self.store() as store:
                with closing(fact_reader(store)) as from_store:
                    return await work(from_store)

        return run(through_a_store)

    @asynccontextmanager
    async def store(self) -> AsyncIterator[Store]:
        from ..storage.store import Store

        store = await Store.open(self.settings)
        try:
            yield store
        finally:
            await store.close()


def state(ctx: click.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:
        raise click.UsageError("internal: CLI state missing")
    return obj


def run(factory: Callable[[], Awaitable[T]]) -> T:
    import asyncio  # not at the top: `dialguard --help` has no event loop to run

    async def _main() -> T:
        return await factory()

    return asyncio.run(_main())


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class PackNames(click.Option):
    """An option whose valid values the loaded rule packs define (``--purpose``, ``--channel``):
    its help lists them, read when the help is shown (not when the CLI is imported)."""

    def __init__(self, *args: Any, names: Callable[[Vocabulary], Collection[str]], **kw: Any):
        super().__init__(*args, **kw)
        self._names = names

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        try:
            names = sorted(self._names(state(ctx).vocabulary))
        except (ValueError, OSError):  # a bad config: the help still shows, without the list
            return record
        return record[0], f"{record[1]}  One of: {', '.join(names)}.".strip()


def purposes_of(vocabulary: Vocabulary) -> Collection[str]:
    return vocabulary.purposes


def channels_of(vocabulary: Vocabulary) -> Collection[str]:
    return vocabulary.channels


utc_option = click.option(
    "--utc", is_flag=True, help="Show times in UTC (default: display.timezone, with offset)."
)
"""Listings print times in the operator's zone with their offset; ``--utc`` on request."""


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` (the first a header) as lines of columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip
