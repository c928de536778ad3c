"""The configuration reference, generated from the settings classes:
``python -m dialguard.config_reference > docs/operators/configuration.md``.

Each section is a field of :class:`~dialguard.config.Settings`, each key a field of that section's
dataclass, and each is documented by the docstring written under it. Python keeps no attribute
docstrings at run time, so they are read from the class's source with :mod:`ast`. A section or
key without a docstring is an error: a new setting cannot ship undocumented, and
``tests/unit/test_config_reference.py`` fails when the committed page is not what this prints.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
import textwrap
from dataclasses import MISSING, dataclass, fields
from typing import Any

from .config import DEFAULT_CONFIG_PATH, FOLLOW_DATABASE, OTHER_VARIABLES, Settings

COMMAND = "python -m dialguard.config_reference > docs/operators/configuration.md"

_ROLE = re.compile(r":[a-z]+:`~?\.*([^`]+)`")
"""A Sphinx role (``:mod:`dialguard.x```, ``:func:`~.y```): its target, as code."""

_TYPES = {
    bool: "boolean: `true` or `false` (environment and `--set`: also `1`/`0`, `yes`/`no`, "
    "`on`/`off`)",
    int: "integer",
    str: "string",
}


class UndocumentedSetting(Exception):
    """A settings class or one of its fields has no docstring; the message names it."""


def _markdown(docstring: str) -> str:
    """reStructuredText's inline code and roles as Markdown code, indentation removed."""
    text = inspect.cleandoc(docstring)
    return _ROLE.sub(r"``\1``", text).replace("``", "`")


def class_docs(cls: type) -> tuple[str, dict[str, str]]:
    """The docstring of ``cls`` and of each of its fields, as written in its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    node = tree.body[0]
    if not isinstance(node, ast.ClassDef):
        raise UndocumentedSetting(f"{cls.__qualname__}: not a class definition")
    class_doc = ast.get_docstring(node, clean=False)
    if not class_doc:
        raise UndocumentedSetting(f"{cls.__qualname__}: no class docstring")
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = following.value.value
    return class_doc, docs


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    doc: str


@dataclass(frozen=True)
class Section:
    name: str
    doc: str
    keys: tuple[Key, ...]


def sections(settings: type = Settings) -> list[Section]:
    """Every section of ``settings`` with its keys, defaults and docstrings, in source order."""
    found = []
    for section in fields(settings):
        if section.default_factory is MISSING:
            raise UndocumentedSetting(f"{section.name}: a section needs a default factory")
        class_doc, docs = class_docs(type(section.default_factory()))
        keys = []
        for key in fields(section.default_factory()):
            if key.name not in docs:
                raise UndocumentedSetting(f"{section.name}.{key.name}: no docstring under it")
            keys.append(Key(key.name, key.default, docs[key.name]))
        found.append(Section(section.name, class_doc, tuple(keys)))
    return found


def render(settings: type = Settings) -> str:
    """The whole page, Markdown."""
    every = sections(settings)
    out = [
        "# Configuration reference",
        "",
        f"<!-- Generated from the settings classes: {COMMAND}",
        "     (tests/unit/test_config_reference.py fails when this is not what it prints). -->",
        "",
        f"One TOML file, `{DEFAULT_CONFIG_PATH}` (or `--config PATH`, or `DIALGUARD_CONFIG`).",
        "Each setting is `key` in its `[section]`, and is read, each source overriding the one",
        "before: the default below, the file, the environment variable",
        "`DIALGUARD_<SECTION>_<KEY>`, then `--set section.key=value` on the command line (any",
        "command, before or after the subcommand; given twice, the later wins). An unknown",
        "section, key or `DIALGUARD_*` variable is refused naming it, as is a value of the wrong",
        "type.",
        "",
        "Without a config file, an SQLite database other than the default one keeps these files",
        "beside it (unless the environment or `--set` names them), so a scratch database never",
        "writes under `/etc/dialguard` or `/var/lib/dialguard`:",
        "",
        "| Setting | File beside the database |",
        "|---|---|",
    ]
    out += [f"| `{dotted}` | `{name}` |" for dotted, name in FOLLOW_DATABASE.items()]
    out += ["", "Other `DIALGUARD_*` variables, which are not settings:", ""]
    out += [f"- `{name}`: {what}" for name, what in OTHER_VARIABLES.items()]
    out += ["", "Sections: " + ", ".join(f"[`[{s.name}]`](#{s.name})" for s in every), ""]
    for section in every:
        out += [f"## {section.name}", "", _markdown(section.doc), ""]
        for key in section.keys:
            dotted = f"{section.name}.{key.name}"
            out += [
                f"### `{dotted}`",
                "",
                f"- type: {_TYPES[type(key.default)]}",
                f"- default: `{_toml(key.default)}`",
                f"- environment: `DIALGUARD_{section.name.upper()}_{key.name.upper()}`",
                f"- command line: `--set {dotted}=…`",
                "",
                _markdown(key.doc),
                "",
            ]
    out += ["## Every default", "", "```toml"]
    for section in every:
        out += [f"[{section.name}]", *(f"{k.name} = {_toml(k.default)}" for k in section.keys), ""]
    out[-1] = "```"
    return "\n".join(out) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
