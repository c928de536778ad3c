"""``./dev install`` as CI runs it, on a clean temporary prefix: a venv holding a copy of the
package (not the tree) that ships the tested dialplan snippets, a ``dialguard`` symlink in
bindir, and the systemd unit running the default bindir's ``dialguard``."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.long

ROOT = Path(__file__).parents[2]
ASTERISK_SNIPPET = ROOT / "dialplan" / "asterisk" / "extensions_dialguard.conf"
FREESWITCH_SNIPPET = ROOT / "dialplan" / "freeswitch" / "dialguard.xml"
"""The snippets the e2e tests load (``devkit.asterisk_config``, ``devkit.freeswitch_config``)."""


def test_dev_install_on_a_clean_prefix(tmp_path: Path) -> None:
    prefix, bindir = tmp_path / "opt" / "dialguard", tmp_path / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALGUARD_")}
    # pip's byte-compiling of every installed module is half the install and none of ours: the
    # modules these commands import compile as they first run. (Not ``PIP_NO_COMPILE=1``: pip
    # reads that as compile=yes.)
    env["PIP_COMPILE"] = "false"
    installed = subprocess.run(
        [str(ROOT / "dev"), "install", "--prefix", str(prefix), "--bindir", str(bindir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    link = bindir / "dialguard"
    assert link.is_symlink()
    assert link.resolve() == (prefix / "bin" / "dialguard").resolve()

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    shown = subprocess.run([str(link), "--version"], capture_output=True, text=True, env=env)
    assert shown.stdout.strip() == f"dialguard {version}"

    where = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import dialguard; print(dialguard.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert Path(where.stdout.strip()).is_relative_to(prefix)  # a copy, not the source tree

    # the copy ships the dialplan snippets the e2e tests load into Asterisk and FreeSWITCH
    for pbx, tested in (("asterisk", ASTERISK_SNIPPET), ("freeswitch", FREESWITCH_SNIPPET)):
        printed = subprocess.run(
            [str(link), "dialplan", pbx], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout == tested.read_text(encoding="utf-8"), f"{pbx}: not the tested one"

    data = tmp_path / "data"
    env["DIALGUARD_DATABASE_URL"] = f"sqlite+aiosqlite:///{data}/dialguard.db"
    init = subprocess.run([str(link), "init"], capture_output=True, text=True, env=env)
    assert init.returncode == 0, init.stderr
    assert (data / "subject-hash.key").is_file()  # no config file: keys beside the database
    tenant = subprocess.run([str(link), "tenants", "add", "acme"], capture_output=True, env=env)
    assert tenant.returncode == 0, tenant.stderr
    call = ("--tenant", "acme", "--caller", "01058001234", "--callee", "13800138000")
    check = subprocess.run(
        [str(link), "check", *call],
        capture_output=True,
        text=True,
        env=env,
    )
    assert check.returncode == 1, check.stderr  # a deny: the installed gate ran the check
    assert check.stdout.startswith("DENY")


def test_the_unit_runs_what_dev_install_links() -> None:
    unit = (ROOT / "packaging" / "dialguard.service").read_text()
    dev = (ROOT / "dev").read_text()
    bindir = re.search(r"^DEFAULT_BINDIR=(\S+)$", dev, re.MULTILINE)
    prefix = re.search(r"^DEFAULT_PREFIX=(\S+)$", dev, re.MULTILINE)
    assert bindir is not None and prefix is not None
    assert f"ExecStart={bindir.group(1)}/dialguard serve" in unit
    assert prefix.group(1) == "/opt/dialguard"
    guide = (ROOT / "docs" / "operators" / "install.md").read_text()
    assert "./dev install --service" in guide
    assert "./dev install" in (ROOT / "README.md").read_text()
