"""`almabridge fake-archivesspace`: its --help, and the fake under uvicorn on 127.0.0.1 called
by the HTTP adapter over a real socket (where a reset is a real dropped connection)."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from adapters.aspace.http_client import HttpArchivesSpace
from adapters.fake_archivesspace import FaultInjector, create_fake_archivesspace_app
from application.aspace.ports import ArchivesSpaceUnavailable
from application.shared.connections import Secret
from domain.aspace.containers import TopContainer
from entrypoints.cli import app
from entrypoints.demo.servers import http_server
from tests.integration.aspace_contract.support import PASSWORD, REFERENCE, USER, reference_state

runner = CliRunner()


def test_the_help_teaches_what_is_served_the_login_and_examples() -> None:
    result = runner.invoke(app, ["fake-archivesspace", "--help"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "/repositories/{r}/resources/marc21/{id}.xml" in output
    assert 'user "admin", password "admin"' in output
    assert "X-ArchivesSpace-Session" in output
    for option in ("--host", "--port", "--seed-reference", "--resources", "--latency-ms"):
        assert option in output
    assert "almabridge fake-archivesspace --resources 500 --latency-ms 20" in output


def test_a_negative_resource_count_exits_2() -> None:
    result = runner.invoke(app, ["fake-archivesspace", "--resources", "-1"])
    assert result.exit_code == 2
    assert "cannot be negative" in result.output


async def test_the_fake_under_uvicorn_answers_the_http_adapter() -> None:
    state = reference_state()
    faults = FaultInjector()
    async with http_server(create_fake_archivesspace_app(state, faults)) as url:
        aspace = HttpArchivesSpace(url, USER, Secret(PASSWORD), concurrency=2)
        try:
            assert [r.repo_id for r in await aspace.repositories()] == [2, 3]
            assert await aspace.resource_ids(3) == [1511, 1512]
            marc = await aspace.resource_marcxml(3, 1511)
            assert marc == (REFERENCE / "marc_1511.xml").read_bytes()
            assert await aspace.top_containers(3, 1511) == [
                TopContainer(
                    "/repositories/3/top_containers/28023",
                    "32101106176132",
                    "volume",
                    "2477",
                    "scarcpph",
                )
            ]
            faults.reset(3, 1512)
            with pytest.raises(ArchivesSpaceUnavailable) as raised:
                await aspace.resource_marcxml(3, 1512)
            assert "no answer (RemoteProtocolError" in str(raised.value)
            assert await aspace.resource_marcxml(3, 1512)
        finally:
            await aspace.aclose()
        async with httpx.AsyncClient(base_url=url) as plain:
            calls = (await plain.get("/_fake_archivesspace/calls")).json()
    assert calls["total"] == len(state.call_log)
    assert state.call_log.logins() == 1
    text = str(calls)
    assert PASSWORD not in text
    assert all(token not in text for token in state.issued_tokens)
