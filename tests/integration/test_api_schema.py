"""Schemathesis against the live API: property-based requests generated from the served OpenAPI
document (examples, coverage and fuzzing phases), with an admin token, on 127.0.0.1.

Checks: no 5xx, every status, content type, header and body as documented, schema-invalid
input rejected, and requests without the token refused. Left out: ``positive_data_acceptance``
(a schema cannot say which strings are valid phone numbers, so schema-valid input may rightly
get a 400) and the stateful checks (the document declares no links between operations).
Bounded (examples per operation, a fixed seed) so it finishes well under a minute.

``schemathesis_hooks.py`` adds the generators an outside attack showed were missing: date-times
at the ends of the ISO range, bodies nested hundreds deep, text with NULs, unpaired surrogates,
control characters or past its column's length. Run on both backends: PostgreSQL refuses some of
what SQLite stores, and such input once came back as a 503 "database unavailable".

On SQLite every phase runs; on PostgreSQL the examples and the fuzzing, which carries those
hooks' inputs to every operation. The coverage phase, left out there, walks each schema's bounds
deterministically: what it finds in the validation and the document does not depend on the
backend, and what does differ at those bounds, the columns' lengths, ``test_api_input.py``
checks on both. It costs about as much as the other two phases together.

``GET /v1/audit/verify`` verifies in the test process (``verification_in_process``): this test
checks the API's answers, and a child per request cost a fifth of its time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from api_harness import ApiHarness
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.long

SCHEMATHESIS = Path(sys.executable).with_name("st")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 15
EXCLUDED_CHECKS = "positive_data_acceptance,use_after_free,ensure_resource_availability"
PHASES = {"sqlite": "examples,coverage,fuzzing", "postgresql": "examples,fuzzing"}


async def test_the_api_conforms_to_its_openapi_document(api: ApiHarness, tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{api.url}/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {api.tokens['admin']}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--phases",
        PHASES[make_url(api.settings.database.url).get_backend_name()],
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20261125",
        "--workers",
        "1",
        "--no-color",
        "--report-dir",
        str(tmp_path / "report"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env=os.environ | {"SCHEMATHESIS_HOOKS": str(HOOKS)},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    report = "\n".join(line[:300] for line in output.decode(errors="replace").splitlines())
    assert process.returncode == 0, report
