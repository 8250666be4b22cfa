"""A member's webhooks side by side (rules W6, W7), delivered at once through one worker's handlers.

Items of one new bib arriving together make one SCF bib and one holding (I7, I8), and each
mirror and its transit loan once (I9, I10); the same ITEM_CREATED twice makes one mirror, the
same REQUEST_CREATED twice one SCF request (R6). Webhooks of one member overlap in time, never
beside its items or requests sync; a sync waiting for them goes before webhooks arriving later.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.fake_alma.model import Loan
from application.scf.institution_locks import ITEM_SYNC_LOCKS, InstitutionLocks, items_sync_lock
from application.scf.items.scf_catalog import ScfCatalog
from application.scf.requests.outcomes import Action
from application.shared.ledger_records import MirrorState, Outcome, RequestStatus
from tests.scenarios.items.support import NZ_BARCODES, calls, row, seed_bib
from tests.scenarios.requests import support as requests
from tests.scenarios.webhooks_fast.support import (
    BIB,
    at_once,
    created,
    handlers,
    new_copies,
    request_created,
    requested,
    scf_items,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, open_world, request_export

LEDGERS: list[LedgerKind] = ["memory", "sqlite", "postgres"]
TRANSIT_USER = "01AAA_AB-ABRS"  # I10: {INST}-{$c}


async def _turns(count: int = 200) -> None:
    """Let the other tasks run as far as they can (no timing: a count of event-loop turns)."""
    for _ in range(count):
        await asyncio.sleep(0)


class _AllIn:
    """Holds each call of `owner.name` until `expected` calls are in at once: the webhooks
    overlap there, or the test fails."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str, expected: int):
        self.inside = self.most = 0
        everyone = asyncio.Event()
        original = getattr(owner, name)

        async def gated(*args: Any, **kwargs: Any) -> Any:
            self.inside += 1
            self.most = max(self.most, self.inside)
            if self.inside == expected:
                everyone.set()
            try:
                try:
                    await asyncio.wait_for(everyone.wait(), timeout=10)
                except TimeoutError:
                    raise AssertionError(f"only {self.most} of {expected} ran at once") from None
                return await original(*args, **kwargs)
            finally:
                self.inside -= 1

        monkeypatch.setattr(owner, name, gated)


def _loans(world: World, item_pid: str) -> list[Loan]:
    """Every loan the SCF ever made of the item, returned or not."""
    return [
        loan for loan in world.state.institution(SCF).loans.values() if loan.item_pid == item_pid
    ]


@pytest.mark.parametrize("ledger", LEDGERS)
@pytest.mark.parametrize(
    "scf_bib",
    [
        "new from NZ",
        "new local",  # found before the guard empty, looked up again under it
        "from NZ, no holding",
    ],
)
async def test_W7_I7_I10_items_of_one_new_bib_created_at_once_make_one_bib_and_holding(
    tmp_path: Path, ledger: LedgerKind, scf_bib: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        copies = new_copies(5)
        nz_id = None if scf_bib == "new local" else NZ_BARCODES
        seed_bib(world, AB, BIB, copies, nz_id=nz_id)
        if scf_bib == "from NZ, no holding":  # the holdings race alone (I8)
            await world.scf().create_bib_from_nz(NZ_BARCODES)
        bodies = created(world, copies)
        # Every webhook has planned its create and asks for the SCF bib at once.
        gate = _AllIn(monkeypatch, ScfCatalog, "bib_for", len(copies))

        handled = await at_once(world, bodies, handlers(world))

        assert gate.most == len(copies)
        assert [h.details and h.details["result"] for h in handled] == ["created"] * len(copies)
        local = f"({AB}){BIB}"
        bibs = world.state.find_bibs(SCF, nz_mms_id=nz_id, other_system_id=local)
        assert len(bibs) == 1, f"{len(bibs)} SCF bibs"  # I7: once
        (bib,) = bibs
        (holding,) = world.state.holdings_of(SCF, bib.mms_id)  # I8: once
        for copy in copies:
            (scf_copy,) = scf_items(world, copy.barcode)  # I9
            assert (scf_copy.mms_id, scf_copy.holding_id) == (bib.mms_id, holding.holding_id)
            (loan,) = _loans(world, scf_copy.pid)  # I10
            assert (loan.user_id, loan.active) == (TRANSIT_USER, True)
            mirrored = await row(world, AB, copy.barcode)
            assert mirrored is not None
            assert mirrored.state is MirrorState.MIRRORED
            assert (mirrored.scf_item_pid, mirrored.in_transit_loan) == (scf_copy.pid, True)
        assert await world.events(outcome=Outcome.FAILED) == []


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W7_I6_the_same_item_created_twice_at_once_is_mirrored_and_lent_once(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        (new,) = new_copies(1)
        seed_bib(world, AB, BIB, [new], nz_id=NZ_BARCODES)
        (body,) = created(world, [new])

        handled = await at_once(world, [body, body], handlers(world))

        assert [h.outcome for h in handled] == [Outcome.OK, Outcome.OK]
        results = sorted(str(h.details and h.details["result"]) for h in handled)
        assert results == ["created", "unchanged"]
        (scf_copy,) = scf_items(world, new.barcode)
        assert [loan.user_id for loan in _loans(world, scf_copy.pid)] == [TRANSIT_USER]
        assert await world.events(outcome=Outcome.FAILED) == []


async def test_W7_webhooks_of_different_items_of_one_member_run_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path) as world:
        copies = new_copies(3)
        for n, copy in enumerate(copies):  # three local bibs (I7 by other_system_id)
            seed_bib(world, AB, f"9910000000{n}004101", [copy])
        bodies = created(world, copies)
        worker = handlers(world)
        gate = _AllIn(monkeypatch, worker.item_now, "_mirror", len(copies))  # before Alma calls

        handled = await at_once(world, bodies, worker)

        assert gate.most == len(copies)  # all three at once
        assert all(h.outcome is Outcome.OK for h in handled)
        for n, copy in enumerate(copies):
            (bib,) = world.state.find_bibs(SCF, other_system_id=f"({AB})9910000000{n}004101")
            (scf_copy,) = scf_items(world, copy.barcode)
            assert scf_copy.mms_id == bib.mms_id


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W7_I1_a_webhook_waits_while_the_member_items_sync_holds_it(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger, alma="http") as world:
        (new,) = new_copies(1)
        seed_bib(world, AB, BIB, [new], nz_id=NZ_BARCODES)
        (body,) = created(world, [new])
        worker = handlers(world)

        # What ItemSync.run holds for its whole run (the world's sync uses ITEM_SYNC_LOCKS).
        async with ITEM_SYNC_LOCKS.hold(AB), world.ledger.exclusive(items_sync_lock(AB)):
            webhook = asyncio.create_task(at_once(world, [body], worker))
            await _turns()
            assert not webhook.done()
            assert calls(world, AB) == []  # not one Alma call
            assert calls(world, SCF) == []

        (handled,) = await webhook
        assert handled.details is not None
        assert handled.details["result"] == "created", handled.message
        assert len(scf_items(world, new.barcode)) == 1


async def test_W7_I1_a_waiting_sync_goes_before_webhooks_that_arrive_after_it() -> None:
    locks = InstitutionLocks()
    order: list[str] = []
    first_in, first_may_end = asyncio.Event(), asyncio.Event()

    async def webhook(name: str, until: asyncio.Event | None = None) -> None:
        async with locks.share(AB):
            order.append(f"{name} in")
            if until is not None:
                first_in.set()
                await until.wait()
            order.append(f"{name} out")

    async def sync() -> None:
        async with locks.hold(AB.lower()):  # codes are case-insensitive
            order.append("sync in")
            await _turns(5)  # nobody gets in beside it meanwhile
            order.append("sync out")

    first = asyncio.create_task(webhook("first", first_may_end))
    await first_in.wait()
    second = asyncio.create_task(webhook("second"))
    await _turns(5)
    assert order == ["first in", "second in", "second out"]  # webhooks share the member
    syncing = asyncio.create_task(sync())
    await _turns(5)
    third = asyncio.create_task(webhook("third"))
    await _turns(5)
    assert order == ["first in", "second in", "second out"]  # the sync waits; so does third
    assert not locks.busy(AB)

    first_may_end.set()
    await asyncio.gather(first, second, syncing, third)

    assert order[3:] == ["first out", "sync in", "sync out", "third in", "third out"]


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W6_R6_requests_of_one_member_at_once_each_forwarded_once(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        mirrors, sources = await requested(world)
        bodies = [request_created(AB, source) for source in sources]

        handled = await at_once(world, [*bodies, bodies[0]], handlers(world))  # the 1st twice

        assert [h.outcome for h in handled] == [Outcome.OK] * 3
        results = sorted(str(h.details and h.details["result"]) for h in handled)
        assert results == sorted([Action.FORWARDED, Action.FORWARDED, Action.ALREADY_HANDLED])
        assert sorted(r.item_pid or "" for r in requests.scf_requests(world)) == sorted(mirrors)
        async with world.ledger.unit_of_work() as uow:
            for source in sources:
                forwarded = await uow.requests.get(AB, source.request_id)
                assert forwarded is not None
                assert forwarded.status is RequestStatus.FORWARDED
        assert len(await world.events(action="request.forward")) == 2


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W6_R1_a_webhook_waits_while_the_member_requests_sync_runs(
    tmp_path: Path, ledger: LedgerKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        _, sources = await requested(world)
        in_file: dict[str, object] = {
            "requestId": sources[0].request_id,
            "requestType": "PATRON_PHYSICAL",
            "barcode": "AB0001",
            "libraryCode": "ABRS",
            "patron": {"patronIdentifier": "ab_patron2", "patronName": "Hopper, Grace"},
        }
        world.drop_request_file(AB, "requests_1.xml", request_export([in_file]))
        worker = handlers(world)
        scf = world.scf()
        create = scf.create_item_request
        placing: list[str] = []
        paused, resume = asyncio.Event(), asyncio.Event()

        async def held_create(*args: Any, **kwargs: Any) -> Any:
            placing.append(args[2])  # the SCF item pid
            paused.set()
            await resume.wait()
            return await create(*args, **kwargs)

        monkeypatch.setattr(scf, "create_item_request", held_create)
        run = asyncio.create_task(worker.requests_sync(AB, 1))  # a requests JOB_END
        await asyncio.wait_for(paused.wait(), timeout=10)  # the run is placing the file's

        webhook = asyncio.create_task(at_once(world, [request_created(AB, sources[1])], worker))
        await _turns()
        assert not webhook.done()
        assert len(placing) == 1  # the webhook's request waits for the run
        resume.set()

        summary = await run
        (handled,) = await webhook
        assert [o.action for o in summary.outcomes] == [Action.FORWARDED]
        assert handled.details is not None
        assert handled.details["result"] == Action.FORWARDED, handled.message
        assert len(requests.scf_requests(world)) == 2
