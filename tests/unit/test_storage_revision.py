"""Opening a store checks the schema revision without importing Alembic: the head it expects,
read from the scripts' revision lines, is Alembic's own head."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from dialguard.storage.migrate import alembic_config
from dialguard.storage.revision import head_revision


def test_head_read_from_the_scripts_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
