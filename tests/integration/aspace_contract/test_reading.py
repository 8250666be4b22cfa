"""Contract, what AS2 reads: login, repositories, resource ids, MARCXML and top containers, the
same from the HTTP adapter over the fake and from the in-memory twin."""

from __future__ import annotations

import json

import pytest

from adapters.aspace.http_client import HttpArchivesSpace
from adapters.fake_archivesspace import MemoryArchivesSpace, seed_many
from adapters.fake_archivesspace.records import ResourceSpec, resource_marcxml
from adapters.fake_archivesspace.seed import REFERENCE_1512_BARCODE
from application.aspace.ports import ArchivesSpace, Repository
from application.shared.connections import Secret
from domain.aspace.containers import TopContainer
from tests.integration.aspace_contract.support import (
    BASE_URL,
    PASSWORD,
    REFERENCE,
    USER,
    Backend,
    reference_state,
)


async def test_both_clients_satisfy_the_port() -> None:
    # mypy checks these assignments against the Protocol.
    http: ArchivesSpace = HttpArchivesSpace(BASE_URL, USER, Secret(PASSWORD))
    memory: ArchivesSpace = MemoryArchivesSpace(reference_state(), USER, Secret(PASSWORD))
    await http.aclose()
    await memory.aclose()


def test_a_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        HttpArchivesSpace(BASE_URL, USER, Secret(PASSWORD), concurrency=0)


async def test_the_login_waits_for_the_first_call_and_happens_once(backend: Backend) -> None:
    assert len(backend.state.call_log) == 0
    await backend.aspace.repositories()
    await backend.aspace.resource_ids(3)
    await backend.aspace.resource_marcxml(3, 1511)
    assert backend.state.call_log.logins() == 1
    assert backend.aspace.logins == 1
    login = backend.state.call_log.records()[0]
    assert (login.method, login.path, login.status) == ("POST", f"/users/{USER}/login", 200)
    assert PASSWORD not in login.query


async def test_repositories_come_in_archivesspace_order(backend: Backend) -> None:
    assert await backend.aspace.repositories() == [
        Repository("/repositories/2", 2, "Davetown", "Davetown Township"),
        Repository("/repositories/3", 3, "publicpolicy", "Public Policy Papers"),
    ]


async def test_resource_ids_are_ascending_whatever_order_archivesspace_sends(
    backend: Backend,
) -> None:
    marc = resource_marcxml(ResourceSpec("B1400", "Added later"))
    backend.state.add_resource(3, 1400, marc)
    assert backend.state.resource_ids(3) == [1511, 1512, 1400]  # the fake's (unsorted) answer
    assert await backend.aspace.resource_ids(3) == [1400, 1511, 1512]
    assert await backend.aspace.resource_ids(2) == []


async def test_the_marcxml_is_the_export_byte_for_byte(backend: Backend) -> None:
    for resource_id in (1511, 1512):
        expected = (REFERENCE / f"marc_{resource_id}.xml").read_bytes()
        assert await backend.aspace.resource_marcxml(3, resource_id) == expected


async def test_top_containers_are_read_from_each_docs_json(backend: Backend) -> None:
    assert await backend.aspace.top_containers(3, 1511) == [
        TopContainer(
            uri="/repositories/3/top_containers/28023",
            barcode="32101106176132",
            type="volume",
            indicator="2477",
            location_code="scarcpph",
        )
    ]
    (made,) = await backend.aspace.top_containers(3, 1512)
    assert (made.barcode, made.type, made.indicator, made.location_code) == (
        REFERENCE_1512_BARCODE,
        "box",
        "1",
        "scarcpph",
    )
    assert await backend.aspace.top_containers(3, 9999) == []


async def test_missing_container_fields_read_as_empty_text(backend: Backend) -> None:
    uri = "/repositories/3/resources/1512"
    bare = {"uri": "/repositories/3/top_containers/7", "collection_uri_u_sstr": [uri]}
    no_location = {
        **bare,
        "uri": "/repositories/3/top_containers/8",
        "json": json.dumps({"uri": "/repositories/3/top_containers/8", "indicator": 12}),
    }
    backend.state.add_container_doc(3, bare)
    backend.state.add_container_doc(3, no_location)
    containers = await backend.aspace.top_containers(3, 1512)
    assert containers[1:] == [
        TopContainer(uri="/repositories/3/top_containers/7"),
        TopContainer(uri="/repositories/3/top_containers/8", indicator="12"),
    ]


async def test_generated_resources_carry_distinct_call_numbers_and_recap_barcodes(
    backend: Backend,
) -> None:
    added = seed_many(backend.state, resources=5, containers_per_resource=3)
    ids = await backend.aspace.resource_ids(3)
    assert [resource for _repo, resource in added] == ids[2:]  # after 1511 and 1512
    calls = set()
    barcodes: list[str] = []
    for _repo, resource_id in added:
        marc = await backend.aspace.resource_marcxml(3, resource_id)
        assert b'tag="008"' in marc
        assert b"Location of resource: scarcp" in marc
        calls.add(marc.split(b'tag="099"')[1].split(b"</")[0])
        containers = await backend.aspace.top_containers(3, resource_id)
        assert len(containers) == 3
        assert all(c.location_code.startswith("scarcp") for c in containers)
        barcodes.extend(c.barcode for c in containers)
    assert len(calls) == 5
    assert len(set(barcodes)) == 15
    assert all(len(b) == 14 for b in barcodes)


async def test_closing_ends_the_session(backend: Backend) -> None:
    await backend.aspace.repositories()
    assert len(backend.state.sessions) == 1
    await backend.aspace.aclose()
    assert backend.state.sessions == {}
    assert backend.state.call_log.records(path_prefix="/logout")[0].status == 200
