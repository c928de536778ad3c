"""What every CLI command shares: settings from ``--config``/``--set``/env, the rule pack, the
store, and turning library errors into exit status 2 with a message naming what was wrong."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ..clock import Clock
from ..config import Settings, load_settings, parse_assignments

if TYPE_CHECKING:
    # Imported where used: `dialguard --help` must not load SQLAlchemy or the rule packs.
    from ..ops.audited import Actor
    from ..policy.book import PolicyBook
    from ..policy.pack import RulePack
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

    def number(self, raw: str) -> str:
        from ..numbers import normalize

        return normalize(raw, self.settings.numbers.default_region)

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
