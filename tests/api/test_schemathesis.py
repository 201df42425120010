"""The contract, machine-checked: schemathesis sends what the OpenAPI document allows (and, in its
negative mode, what it does not) to every operation, job bodies of every type included, and fails
on any 5xx, any status code the document does not list for the operation, and any answer that does
not match its documented schema.

Seeded (``derandomize``) and bounded (``EXAMPLES`` per operation): the same requests every run,
a couple of minutes in all. The app runs without its job runtime: submitted jobs stay queued, so a
generated 30-qubit circuit costs an insert, not a simulation. The key is the bootstrap
administrator's, which reaches every operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_platform

#: Examples per operation, valid and invalid ones mixed: ~80 operations, ~3000 requests in all.
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def fuzzed(settings) -> Iterator[tuple[Any, str]]:  # type: ignore[no-untyped-def]
    from qumulus.api.app import create_app

    platform, key = make_platform(settings)
    app = create_app(platform, run_jobs=False)
    app.state.rate_limiter.enabled = False  # a fuzzer is not a client to slow down
    yield app, key
    platform.stop()


@pytest.mark.timeout(900)  # ~30 s on a quiet 2-core machine; a loaded one takes several times that
def test_every_operation_keeps_the_contract(fuzzed: tuple[Any, str]) -> None:
    app, key = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"apiKey {key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    assert operations >= 80, operations  # the whole API is in the document
    assert not failures, "\n\n".join(failures)
