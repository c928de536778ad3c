"""The Asterisk container for the whole session. Missing tools fail the run: the pbx suite is
part of the README's test command and CI, and a skip would hide that it never ran."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from devkit.asterisk import AsteriskContainer, AsteriskError
from devkit.cases import load_cases
from devkit.rootfs import RootfsError

TENANT = load_cases()[0].tenant
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
