"""Contract: a unit of work commits only when told to, on every ledger backend."""

from __future__ import annotations

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import Outcome, TransferKind
from tests.integration.ledger.support import Backend


async def test_changes_are_invisible_until_commit(backend: Backend) -> None:
    ledger = backend.open()
    async with ledger.unit_of_work() as uow:
        await uow.events.append("item.create", Outcome.OK, institution="01AAA", barcode="b1")
        assert await ledger.events() == []
        await uow.commit()
    assert [event.barcode for event in await ledger.events()] == ["b1"]


async def test_exit_without_commit_rolls_back(backend: Backend, ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        added = await uow.inbox.add("k1", b"{}", backend.clock.now())
        await uow.events.append("webhook.received", Outcome.OK, inbox_id=added.id)
    async with ledger.unit_of_work() as uow:
        assert await uow.inbox.get(added.id) is None
    assert await ledger.events() == []
    assert (await ledger.inbox_depth()).pending == 0


async def test_an_exception_rolls_back_and_propagates(ledger: Ledger) -> None:
    async def fail_midway() -> None:
        async with ledger.unit_of_work() as uow:
            await uow.events.append("item.create", Outcome.OK, barcode="b1")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()
    assert await ledger.events() == []


async def test_commit_covers_work_so_far_and_later_work_needs_another(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.events.append("first", Outcome.OK)
        await uow.commit()
        await uow.events.append("second", Outcome.OK)
    assert [event.action for event in await ledger.events()] == ["first"]


async def test_rollback_discards_work_since_last_commit(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.events.append("kept", Outcome.OK)
        await uow.commit()
        await uow.events.append("discarded", Outcome.OK)
        await uow.rollback()
        await uow.events.append("also kept", Outcome.OK)
        await uow.commit()
    assert [event.action for event in await ledger.events()] == ["kept", "also kept"]


async def test_a_unit_of_work_reads_its_own_writes(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        file = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "a.tar.gz", "0" * 64, 10)
        assert await uow.files.get(file.id) == file
