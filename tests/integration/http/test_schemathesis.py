"""schemathesis fuzzes every route of /openapi.json (positive and negative cases): no 5xx.

POST /webhook cases are signed with the webhook secret over the exact bytes sent, when the case
carries the signature header at all; cases without it must be refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from adapters.ledger.migrate import upgrade
from domain.scf.signature import SIGNATURE_HEADER, sign
from entrypoints.http import create_app
from entrypoints.http.openapi import document
from tests.integration.http.support import (
    ADMIN_TOKEN,
    WEBHOOK_SECRET,
    admin,
    database_url,
    example_conf,
    make_container,
)

EXAMPLES = 50


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The service's schema, loaded from the app it describes (lifespan run by schemathesis)."""
    tmp_path: Path = tmp_path_factory.mktemp("schemathesis")
    asyncio.run(upgrade(database_url(tmp_path)))
    container = make_container(
        tmp_path, example_conf(tmp_path), {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    app = create_app(container, run_worker=False)
    level = logging.getLogger().level  # PUT /logger cases change it
    # The token is sent by `call`; generated Authorization headers would only be overwritten, and
    # a case whose mutation was dropping it would then be judged wrongly.
    config = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config, headers=admin())
    asgi.shutdown_lifespans()
    logging.getLogger().setLevel(level)


PATHS = document()["paths"]
# Negative cases need something to get wrong: a query or header parameter, or a body. (schemathesis
# finds no negative path value it can send; test_audit covers those.)
TOO_LARGE = 413

CASES = [
    pytest.param(path, method.upper(), mode, id=f"{method.upper()} {path} {mode.value}")
    for path, methods in PATHS.items()
    for method, operation in methods.items()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE
    or "requestBody" in operation
    or any(p["in"] != "path" for p in operation.get("parameters", []))
]


# Parametrized by hand over the document (not `schema.parametrize()`): schemathesis' lazy fixture
# loader does not run under pytest 9, and the schema must come from the running app.
@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_no_route_answers_5xx_or_breaks_its_contract(
    api: schemathesis.BaseSchema, path: str, method: str, mode: GenerationMode
) -> None:
    operation = api[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case) -> None:
        call(case)

    fuzz()


def call(case: schemathesis.Case) -> None:
    """Send the case with the admin token; a webhook case signed when it names the header."""
    headers = admin()
    kwargs: dict[str, bytes] = {}
    if case.method == "POST" and case.path == "/webhook":
        raw = b"" if isinstance(case.body, NotSet) else json.dumps(case.body).encode()
        if isinstance(case.body, bytes):
            raw = case.body
        kwargs["data"] = raw
        if case.headers and SIGNATURE_HEADER in case.headers:
            headers[SIGNATURE_HEADER] = sign(WEBHOOK_SECRET, raw)
    response = case.call(headers=headers, **kwargs)
    if response.status_code == TOO_LARGE:
        # The service refuses a body over its limit before reading it: a rejection schemathesis'
        # negative-data check does not count (its list stops at 429), yet the right answer.
        return
    case.validate_response(response, headers=headers)
