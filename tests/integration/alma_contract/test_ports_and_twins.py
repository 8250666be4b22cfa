"""Contract: both adapters satisfy the ports, directories, and the twins' JSON is identical.

The last test runs one scenario touching every `AlmaGateway` method on both backends side by
side and compares every result's raw JSON and every error (all but Alma's tracking id, which is
random per response), so a difference anywhere in the views shows up, not only in the fields
the other tests look at.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.gateway import HttpAlmaGateway
from adapters.fake_alma import state_from_file
from adapters.fake_alma.memory_gateway import InMemoryAlmaDirectory, InMemoryAlmaGateway
from adapters.scf.alma_directory import HttpAlmaDirectory
from adapters.scf.config.loader import settings_from_bytes
from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.shared.alma import AlmaError, Page, UnknownInstitution
from application.shared.connections import Secret
from tests.integration.alma_contract.support import (
    AB,
    CD,
    EXAMPLE_CONF,
    GATEWAY_URL,
    NZ_ABSENT,
    NZ_LINKED_IN_AB,
    NZ_UNLINKED,
    SCF,
    SCF_DESK,
    SCF_LIBRARY,
    SCF_USER,
    Backend,
    ids,
    item_body,
    open_backend,
)


async def test_both_adapters_satisfy_the_ports() -> None:
    state = state_from_file()
    client = AlmaHttpClient(GATEWAY_URL)
    settings = settings_from_bytes(EXAMPLE_CONF.read_bytes(), {})
    try:
        # mypy checks these assignments against the Protocols; the asserts keep them used.
        memory: AlmaGateway = InMemoryAlmaGateway(state, AB)
        http: AlmaGateway = HttpAlmaGateway(client, AB, Secret("ab-example-key"))
        memory_directory: AlmaDirectory = InMemoryAlmaDirectory(state)
        http_directory: AlmaDirectory = HttpAlmaDirectory(settings, client)
        assert memory.institution == http.institution == AB
        assert memory_directory.gateway(AB).institution == http_directory.gateway(AB).institution
    finally:
        await client.aclose()


async def test_the_directory_matches_codes_in_any_case_and_refuses_unknown_ones(
    backend: Backend,
) -> None:
    directory = backend.directory

    gateway = directory.gateway("01aaa_ab")

    assert gateway is directory.gateway(AB)
    assert (await gateway.item_by_barcode("AB0001")).barcode == "AB0001"
    with pytest.raises(UnknownInstitution) as caught:
        directory.gateway("01AAA_XX")
    assert caught.value.institution == "01AAA_XX"


async def test_api_remaining_comes_from_alma_s_header_which_only_http_has(
    backend: Backend,
) -> None:
    gateway = backend.gateway(AB)
    assert gateway.api_remaining is None

    await gateway.get_user("ab_patron1")

    # The daily quota (100000 in the seed) is counted by the fake's HTTP gateway middleware,
    # not by its state, so the in-memory twin has no header to report.
    assert gateway.api_remaining == {"memory": None, "http": 99_999}[backend.name]


async def test_only_the_http_backend_goes_through_the_fake_app(backend: Backend) -> None:
    await backend.gateway(AB).get_user("ab_patron1")

    calls = backend.state.call_log.records(path_prefix="/almaws/v1/users/ab_patron1")
    assert len(calls) == {"memory": 0, "http": 1}[backend.name]


def _plain(value: object) -> Any:
    """A result as comparable data: views by their raw JSON, pages by their fields."""
    if isinstance(value, Page):
        return {
            "records": [_plain(r) for r in value.records],
            "total_record_count": value.total_record_count,
            "offset": value.offset,
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    raw = getattr(value, "raw", None)
    return raw if raw is not None else value


async def _outcome(call: Awaitable[object]) -> Any:
    try:
        return ("ok", _plain(await call))
    except AlmaError as error:
        return (
            "error",
            bool(error.tracking_id),  # always set; its value is random per response
            type(error).__name__,
            error.institution,
            error.operation,
            error.http_status,
            error.error_code,
            error.error_message,
            dict(error.subject),
        )
    except ValueError as error:
        return ("ValueError", str(error))


async def _scenario(backend: Backend) -> list[Any]:
    """Every gateway method, successes and refusals, in one fixed order."""
    scf = backend.gateway(SCF)
    ab = backend.gateway(AB)
    seen: list[Any] = []

    async def step(call: Awaitable[object]) -> Any:
        result = await _outcome(call)
        seen.append(result)
        return result

    member = await ab.item_by_barcode("AB 0003+4&5#6")
    seen.append(_plain(member))
    await step(ab.item_by_barcode("missing"))
    await step(ab.get_item(*ids(member)))
    await step(ab.list_items(str(member.mms_id), limit=1, offset=1))
    await step(ab.list_items(str(member.mms_id), limit=101))
    await step(ab.list_items(str(member.mms_id), offset=-1))
    await step(ab.bibs_by_nz_id(NZ_LINKED_IN_AB))
    await step(ab.get_bib(str(member.mms_id)))
    await step(ab.get_bib("990"))
    await step(ab.list_holdings(str(member.mms_id)))
    await step(ab.list_user_requests("ab_patron1", limit=1))
    await step(ab.get_user("ABP0001", id_type="BARCODE"))
    await step(ab.get_user("nobody"))
    await step(ab.libraries())
    await step(ab.locations("ABRS"))
    await step(ab.locations("NOPE"))

    await step(scf.bibs_by_other_system_id("(01AAA_AB)991234"))
    await step(scf.create_bib_from_nz(NZ_ABSENT))
    bib = await scf.create_bib_from_nz(NZ_UNLINKED)
    seen.append(_plain(bib))
    await step(scf.create_bib_from_nz(NZ_UNLINKED))
    record = (
        '<record><datafield ind1=" " ind2=" " tag="035"><subfield code="a">(01AAA_AB)991234'
        '</subfield></datafield><datafield ind1="0" ind2="0" tag="245"><subfield code="a">'
        "Twin</subfield></datafield></record>"
    )
    await step(scf.create_local_bib(record))
    await step(scf.bibs_by_other_system_id("(01AAA_AB)991234"))
    await step(scf.create_local_bib("<record>"))
    mms_id = str(bib.mms_id)
    holding = await scf.create_holding(mms_id, SCF_LIBRARY, "rs_shared_2")
    seen.append(_plain(holding))
    holding_id = str(holding.holding_id)
    await step(scf.create_holding(mms_id, SCF_LIBRARY, "nowhere"))
    await step(scf.list_holdings(mms_id))
    created = [
        await scf.create_item(mms_id, holding_id, item_body(f"T{n}X", provenance=CD))
        for n in range(3)
    ]
    seen.extend(_plain(c) for c in created)
    await step(scf.create_item(mms_id, holding_id, item_body("T0X")))
    first, second, third = (str(c.pid) for c in created)
    body = created[0].raw
    body["item_data"]["internal_note_2"] = "twin"
    await step(scf.update_item(mms_id, holding_id, first, body))
    await step(scf.list_items(mms_id, holding_id, limit=2, offset=1))

    hold = {"request_type": "HOLD", "pickup_location_library": SCF_LIBRARY, "comment": "c"}
    on_item = await scf.create_item_request(mms_id, holding_id, first, SCF_USER, hold)
    seen.append(_plain(on_item))
    on_title = await scf.create_title_request(mms_id, "01AAA_CD-CDRS", hold)
    seen.append(_plain(on_title))
    on_second = await scf.create_item_request(mms_id, holding_id, second, SCF_USER, hold)
    seen.append(_plain(on_second))
    await step(scf.create_item_request(mms_id, holding_id, first, "nobody", hold))
    await step(scf.list_item_requests(mms_id, holding_id, first))
    await step(scf.get_title_request(mms_id, str(on_title.request_id)))
    await step(scf.get_user_request(SCF_USER, str(on_item.request_id)))
    await step(scf.list_user_requests(SCF_USER, limit=1, offset=1))
    await step(
        scf.cancel_item_request(
            mms_id,
            holding_id,
            first,
            str(on_item.request_id),
            reason="A",
            note="n",
            notify_user=True,
        )
    )
    await step(
        scf.cancel_title_request(
            mms_id, str(on_title.request_id), reason="B", note="", notify_user=False
        )
    )
    await step(
        scf.cancel_user_request(
            SCF_USER, str(on_second.request_id), reason="C", note="x", notify_user=None
        )
    )
    await step(
        scf.cancel_user_request(
            SCF_USER, str(on_second.request_id), reason="C", note="x", notify_user=None
        )
    )

    await step(scf.create_loan(SCF_USER, third, circ_desk=SCF_DESK, library=SCF_LIBRARY))
    await step(scf.create_loan(SCF_USER, second, circ_desk="", library=SCF_LIBRARY))
    await step(scf.list_user_loans(SCF_USER, limit=5))
    await step(scf.item_loans(mms_id, holding_id, third))
    await step(scf.item_loans(mms_id, holding_id, "23999999999999999"))
    await step(scf.delete_item(mms_id, holding_id, third))
    await step(scf.scan_in(mms_id, holding_id, third, library=SCF_LIBRARY, circ_desk=""))
    await step(scf.scan_in(mms_id, holding_id, third, library=SCF_LIBRARY, circ_desk=SCF_DESK))
    await step(scf.list_user_loans(SCF_USER))
    await step(scf.item_loans(mms_id, holding_id, third))
    await step(scf.delete_item(mms_id, holding_id, third))
    await step(scf.get_item(mms_id, holding_id, third))

    await step(scf.get_linked_user("7100000000000004101", AB))
    await step(scf.get_linked_user("7100000000000004201", CD))
    await step(scf.create_linked_user(CD, "cd_patron1"))
    await step(scf.create_linked_user(CD, "cd_patron1"))
    await step(scf.refresh_user("cd_patron1"))
    await step(scf.refresh_user(SCF_USER))
    await step(scf.get_user("cd_patron1"))
    return seen


async def test_the_in_memory_twin_answers_exactly_as_the_http_adapter() -> None:
    async with open_backend("memory") as memory, open_backend("http") as http:
        from_memory = await _scenario(memory)
        from_http = await _scenario(http)

    assert len(from_memory) == len(from_http)
    for index, (twin, real) in enumerate(zip(from_memory, from_http, strict=True)):
        assert twin == real, f"step {index} differs"
    refusals = [o for o in from_http if isinstance(o, tuple) and o[0] != "ok"]
    assert len(refusals) >= 15  # the scenario does exercise the error paths
