from __future__ import annotations

import pytest

from dialguard.settings.agi import AgiSettings
from dialguard.settings.api import ApiSettings
from dialguard.settings.checks import check_agi, check_api
from dialguard.settings.errors import ConfigError


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"port": 70000}, "agi.port"),
        ({"port": -1}, "agi.port"),
        ({"budget_ms": 0}, "agi.budget_ms"),
        ({"header_timeout_ms": -5}, "agi.header_timeout_ms"),
        ({"max_header_bytes": 0}, "agi.max_header_bytes"),
        ({"workers": 0}, "agi.workers"),
        ({"workers": 2, "port": 0}, "agi.workers"),
    ],
)
def test_bad_agi_settings_name_the_key(change: dict[str, int], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_agi(AgiSettings(**change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"port": 65536}, "api.port"),
        ({"optout_client_burst": 0}, "api.optout_client_burst"),
        ({"optout_number_per_hour": -1}, "api.optout_number_per_hour"),
    ],
)
def test_bad_api_settings_name_the_key(change: dict[str, int], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check_api(ApiSettings(**change))  # type: ignore[arg-type]


def test_defaults_and_an_ephemeral_port_are_usable() -> None:
    check_agi(AgiSettings())
    check_agi(AgiSettings(port=0))
    check_agi(AgiSettings(workers=4, port=4573))
    check_api(ApiSettings(port=0))
