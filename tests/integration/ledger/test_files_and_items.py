"""Contract: claimed files survive a restart (rule I1); mirrored items keep the mirror (I13, R7)."""

from __future__ import annotations

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import (
    LedgerRecordNotFound,
    MirrorState,
    Outcome,
    TransferKind,
    TransferStatus,
)
from tests.integration.ledger.support import Backend

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


async def test_claimed_files_not_finished_are_listed_for_restart(
    backend: Backend, ledger: Ledger
) -> None:
    start = backend.clock.now()
    async with ledger.unit_of_work() as uow:
        first = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "a.tar.gz", SHA, 10)
        backend.clock.advance(seconds=1)
        second = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "b.tar.gz", SHA, 20)
        done = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "c.tar.gz", SHA, 30)
        await uow.files.record_claim("01AAA", TransferKind.REQUESTS, "r.xml", SHA, 40)
        await uow.files.record_claim("01BBB", TransferKind.ITEMS, "d.tar.gz", SHA, 50)
        await uow.commit()
    assert first.status is TransferStatus.CLAIMED
    assert first.finished_at is None
    assert (first.remote_name, first.sha256, first.size) == ("a.tar.gz", SHA, 10)
    assert first.claimed_at == start
    backend.clock.advance(minutes=1)
    async with ledger.unit_of_work() as uow:
        finished = await uow.files.finish(
            done.id, TransferStatus.DONE, records_total=12, records_failed=2
        )
        await uow.commit()
    assert finished.status is TransferStatus.DONE
    assert (finished.records_total, finished.records_failed) == (12, 2)
    assert finished.finished_at == backend.clock.now()

    # A restarted process sees only what is still claimed, oldest claim first.
    async with backend.open().unit_of_work() as uow:
        unfinished = await uow.files.list_unfinished("01AAA", TransferKind.ITEMS)
    assert [file.id for file in unfinished] == [first.id, second.id]


async def test_I1_known_names_finds_claims_the_ledger_never_recorded(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.files.record_claim("01AAA", TransferKind.ITEMS, "items/OLD/a.tar.gz", SHA, 1)
        await uow.files.record_claim("01AAA", TransferKind.REQUESTS, "requests/OLD/b.xml", SHA, 1)
        await uow.files.record_claim("01BBB", TransferKind.ITEMS, "items/OLD/c.tar.gz", SHA, 1)
        await uow.commit()
    on_server = [f"items/OLD/{n}" for n in ("a.tar.gz", "b.xml", "c.tar.gz", "lost.tar.gz")]
    many = on_server + [f"items/OLD/old-{n}.tar.gz" for n in range(1200)]
    async with ledger.unit_of_work() as uow:
        known = await uow.files.known_names("01AAA", TransferKind.ITEMS, many)
    assert known == {"items/OLD/a.tar.gz"}


async def test_a_failed_file_keeps_its_reason(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        file = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "bad.tar.gz", SHA, 1)
        await uow.files.finish(file.id, TransferStatus.FAILED, failure_reason="not a gzip file")
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        stored = await uow.files.get(file.id)
        assert await uow.files.list_unfinished("01AAA", TransferKind.ITEMS) == []
    assert stored is not None
    assert (stored.status, stored.failure_reason) == (TransferStatus.FAILED, "not a gzip file")


async def test_finish_refuses_claimed_and_unknown_files(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        file = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "a.xml", SHA, 1)
        with pytest.raises(ValueError, match="done or failed"):
            await uow.files.finish(file.id, TransferStatus.CLAIMED)
        with pytest.raises(LedgerRecordNotFound):
            await uow.files.finish(9999, TransferStatus.DONE)
        assert await uow.files.get(9999) is None


async def mirror(ledger: Ledger, barcode: str = "3210", pid: str = "2301") -> None:
    """Commit one mirrored item of 01AAA."""
    async with ledger.unit_of_work() as uow:
        await uow.items.upsert(
            "01AAA",
            barcode,
            scf_mms_id="9901",
            scf_holding_id="2201",
            scf_item_pid=pid,
            member_mms_id="9955",
            nz_mms_id="9977",
            member_item_pid="2355",
            fingerprint="f1",
        )
        await uow.commit()


async def test_upsert_keeps_first_sync_and_updates_the_rest(
    backend: Backend, ledger: Ledger
) -> None:
    first_time = backend.clock.now()
    await mirror(ledger)
    later = backend.clock.advance(hours=1)
    async with ledger.unit_of_work() as uow:
        item = await uow.items.upsert(
            "01AAA", "3210", scf_mms_id="9901", scf_holding_id="2202", scf_item_pid="2301"
        )
        await uow.commit()
    assert item.state is MirrorState.MIRRORED
    assert (item.first_synced_at, item.last_synced_at) == (first_time, later)
    assert item.scf_holding_id == "2202"
    assert item.fingerprint is None
    async with ledger.unit_of_work() as uow:
        assert await uow.items.get("01AAA", "3210") == item
        assert await uow.items.get("01BBB", "3210") is None


async def test_transit_loan_lasts_until_returned(ledger: Ledger) -> None:
    await mirror(ledger)
    async with ledger.unit_of_work() as uow:
        loaned = await uow.items.mark_loan("01AAA", "3210")
        assert loaned is not None
        assert loaned.in_transit_loan
        # The next items sync of the same SCF copy does not forget the loan (rule R7).
        resynced = await uow.items.upsert(
            "01AAA", "3210", scf_mms_id="9901", scf_holding_id="2201", scf_item_pid="2301"
        )
        assert resynced.in_transit_loan
        assert resynced.loaned_at == loaned.loaned_at
        returned = await uow.items.mark_loan_returned("01AAA", "3210")
        assert returned is not None
        assert not returned.in_transit_loan
        assert returned.loan_returned_at is not None
        await uow.commit()


async def test_a_new_scf_copy_starts_without_loan_facts(ledger: Ledger) -> None:
    await mirror(ledger)
    async with ledger.unit_of_work() as uow:
        await uow.items.mark_loan("01AAA", "3210")
        deleted = await uow.items.mark_deleted("01AAA", "3210")
        assert deleted is not None
        assert deleted.state is MirrorState.DELETED
        recreated = await uow.items.upsert(
            "01AAA", "3210", scf_mms_id="9901", scf_holding_id="2201", scf_item_pid="2301"
        )
        assert recreated.state is MirrorState.MIRRORED
        assert recreated.loaned_at is None
        await uow.items.mark_loan("01AAA", "3210")
        other_pid = await uow.items.upsert(
            "01AAA", "3210", scf_mms_id="9901", scf_holding_id="2201", scf_item_pid="2399"
        )
        assert other_pid.loaned_at is None
        assert other_pid.loan_returned_at is None


async def test_marks_on_an_unknown_barcode_return_none(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        assert await uow.items.mark_deleted("01AAA", "nope") is None
        assert await uow.items.mark_loan("01AAA", "nope") is None
        assert await uow.items.mark_loan_returned("01AAA", "nope") is None


async def test_item_history_gives_the_mirror_and_its_events_in_time_order(
    backend: Backend, ledger: Ledger
) -> None:
    async with ledger.unit_of_work() as uow:
        file = await uow.files.record_claim("01AAA", TransferKind.ITEMS, "a.tar.gz", SHA, 1)
        await uow.events.append(
            "item.create",
            Outcome.OK,
            institution="01AAA",
            barcode="3210",
            file_id=file.id,
            details={"scf_item_pid": "2301", "scf_mms_id": "9901"},
        )
        await uow.events.append("item.create", Outcome.OK, institution="01AAA", barcode="other")
        await uow.events.append("item.create", Outcome.OK, institution="01BBB", barcode="3210")
        await uow.commit()
    backend.clock.advance(minutes=1)
    await mirror(ledger)
    backend.clock.advance(minutes=1)
    async with ledger.unit_of_work() as uow:
        await uow.events.append(
            "item.loan",
            Outcome.FAILED,
            institution="01AAA",
            barcode="3210",
            message="Alma is not ready",
            error_code="401651",
        )
        await uow.commit()
    history = await ledger.item_history("01AAA", "3210")
    assert history.item is not None
    assert history.item.scf_item_pid == "2301"
    assert [event.action for event in history.events] == ["item.create", "item.loan"]
    created, loan = history.events
    assert created.file_id == file.id
    assert created.details == {"scf_item_pid": "2301", "scf_mms_id": "9901"}
    assert (loan.outcome, loan.error_code, loan.message) == (
        Outcome.FAILED,
        "401651",
        "Alma is not ready",
    )
    empty = await ledger.item_history("01AAA", "never")
    assert empty.item is None
    assert empty.events == ()
