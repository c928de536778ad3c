"""The Asterisk container and the FreeSWITCH for the whole session. Missing tools fail the run:
the pbx suite is part of the README's test command and CI, and a skip would hide that it never
ran."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from devkit.asterisk import AsteriskContainer, AsteriskError
from devkit.cases import load_cases
from devkit.freeswitch import FreeSwitch, FreeSwitchError
from devkit.rootfs import RootfsError

TENANT = load_cases()[0].tenant
FS_TENANT = load_cases(index_file="freeswitch.toml")[0].tenant
_TOOLS = {
    "sipp": "apt-get install sip-tester",
    "unshare": "apt-get install util-linux",
    "nsenter": "apt-get install util-linux",
}


@pytest.fixture(scope="session")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsteriskContainer]:
    missing = [f"{tool} ({hint})" for tool, hint in _TOOLS.items() if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the pbx tests need: {', '.join(missing)}", pytrace=False)
    container = AsteriskContainer(accountcode=TENANT, workdir=tmp_path_factory.mktemp("asterisk"))
    try:
        container.start()
    except (RootfsError, AsteriskError) as exc:
        pytest.fail(f"cannot start Asterisk: {exc}", pytrace=False)
    yield container
    container.stop()


@pytest.fixture(scope="session")
def freeswitch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitch]:
    """One FreeSWITCH for the session (~2 s to start; its SIGTERM alone would cost ~4.7 s per
    instance): each case points ``dialguard_socket`` at its own gate with ``global_setvar``."""
    if shutil.which("sipp") is None:
        pytest.fail("the pbx tests need: sipp (apt-get install sip-tester)", pytrace=False)
    instance = FreeSwitch(tenant=FS_TENANT, workdir=tmp_path_factory.mktemp("freeswitch"))
    try:
        instance.start()
    except FreeSwitchError as exc:
        pytest.fail(f"cannot start FreeSWITCH: {exc}", pytrace=False)
    yield instance
    instance.stop()
