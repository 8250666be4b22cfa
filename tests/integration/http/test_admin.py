"""The admin surface: the token gate, configuration reload (rule K2) and the log level."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.http.support import (
    ADMIN_TOKEN,
    LOAN_RETURNED,
    Service,
    admin,
    alma_body,
    example_conf,
    running_service,
    signed,
)

ADMIN_ROUTES = [
    ("GET", "/metrics"),
    ("GET", "/configuration"),
    ("GET", "/logger"),
    ("PUT", "/logger?level=INFO"),
    ("GET", "/ledger/items/01AAA_AB/39031031697261"),
    ("GET", "/ledger/requests/01AAA_AB/1234"),
    ("GET", "/ledger/events"),
    ("GET", "/openapi.json"),
]


@pytest.fixture(autouse=True)
def _root_level_restored() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_answer_403_when_no_token_is_configured(
    tmp_path: Path, method: str, path: str
) -> None:
    async with running_service(tmp_path, env={}) as service:
        for headers in ({}, admin(), admin("")):
            response = await service.client.request(method, path, headers=headers)
            assert response.status_code == 403, headers
            assert "ALMABRIDGE_ADMIN_TOKEN" in response.json()["error"]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_answer_401_without_the_right_token(
    service: Service, method: str, path: str
) -> None:
    wrong = [
        {},
        admin("wrong"),
        admin(ADMIN_TOKEN + "x"),
        admin(ADMIN_TOKEN[:-1]),
        {"Authorization": ADMIN_TOKEN},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
    ]
    for headers in wrong:
        response = await service.client.request(method, path, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
    allowed = await service.client.request(method, path, headers=admin())
    assert allowed.status_code in (200, 404)


async def test_the_bearer_scheme_is_case_insensitive(service: Service) -> None:
    response = await service.client.get(
        "/logger", headers={"Authorization": f"bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 200


async def test_webhooks_and_health_need_no_token(tmp_path: Path) -> None:
    async with running_service(tmp_path, env={}) as service:
        body = alma_body(LOAN_RETURNED)
        assert (await service.client.get("/webhook?challenge=x")).status_code == 200
        posted = await service.client.post("/webhook", content=body, headers=signed(body))
        assert posted.status_code == 200
        assert (await service.client.get("/health")).status_code == 200


async def test_K2_a_reload_answers_the_new_configuration_in_summary(
    service: Service, tmp_path: Path
) -> None:
    service.write_conf(example_conf(tmp_path, request_grace_hours=6))
    response = await service.client.get("/configuration", headers=admin())
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "reloaded"
    assert any("requests wait up to 6 h" in line for line in answer["summary"])
    assert service.container.settings().current.request_grace_hours == 6


async def test_K2_a_failed_reload_keeps_the_running_settings_and_names_the_problem(
    service: Service, tmp_path: Path
) -> None:
    running = service.container.settings().current
    broken = example_conf(tmp_path, alma_rate_limit_per_second=99)
    broken["institutions"][0]["publishing_job_id"] = broken["institutions"][1]["publishing_job_id"]
    service.write_conf(broken)
    response = await service.client.get("/configuration", headers=admin())
    assert response.status_code == 422
    answer = response.json()
    assert answer["status"] == "failed"
    assert answer["kept_running_settings"] is True
    assert any("alma_rate_limit_per_second" in problem for problem in answer["problems"])
    assert service.container.settings().current is running
    body = alma_body(LOAN_RETURNED)  # the running secret still verifies webhooks
    assert (
        await service.client.post("/webhook", content=body, headers=signed(body))
    ).status_code == 200
    health = (await service.client.get("/health")).json()
    assert health["configuration"]["last_reload_failure"] == answer["error"]


async def test_K2_a_configuration_that_is_not_json_is_422(service: Service) -> None:
    service.write_conf("{not json")
    response = await service.client.get("/configuration", headers=admin())
    assert response.status_code == 422
    assert response.json()["problems"]


async def test_K2_an_unreadable_source_is_502_and_the_settings_stay(service: Service) -> None:
    running = service.container.settings().current
    service.conf_path.unlink()
    response = await service.client.get("/configuration", headers=admin())
    assert response.status_code == 502
    assert response.json()["kept_running_settings"] is True
    assert service.container.settings().current is running


async def test_the_logger_level_is_shown_and_set(service: Service) -> None:
    logging.getLogger().setLevel(logging.INFO)
    shown = await service.client.get("/logger", headers=admin())
    assert shown.json() == {"level": "INFO"}
    changed = await service.client.put("/logger", params={"level": "debug"}, headers=admin())
    assert changed.json() == {"level": "DEBUG", "previous": "INFO"}
    assert logging.getLogger().level == logging.DEBUG
    # Java parity: GET with a level sets it too, and log4j's WARN is understood.
    java = await service.client.get("/logger", params={"level": "WARN"}, headers=admin())
    assert java.json() == {"level": "WARNING", "previous": "DEBUG"}


@pytest.mark.parametrize("params", [{"level": "LOUD"}, {"level": ""}, {}])
async def test_a_bad_or_missing_level_is_400_naming_the_valid_ones(
    service: Service, params: dict[str, str]
) -> None:
    logging.getLogger().setLevel(logging.INFO)
    response = await service.client.put("/logger", params=params, headers=admin())
    assert response.status_code == 400
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in response.json()["error"]
    assert logging.getLogger().level == logging.INFO


async def test_the_openapi_document_describes_every_route(service: Service) -> None:
    document = (await service.client.get("/openapi.json", headers=admin())).json()
    assert document["openapi"].startswith("3.")
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = {
        (route.path, method)
        for route in service.app.routes
        for method in getattr(route, "methods", set()) - {"HEAD"}
        if route.path != "/openapi.json"
    }
    assert described == served
