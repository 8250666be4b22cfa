"""A member's webhooks wait for its sync run by *another process* sharing the PostgreSQL ledger
(rules W6, W7, I1, R1, R6; docs/adr/0011-member-webhooks-side-by-side.md).

The other process is a second `SqlLedger` on the same database (its own engine and connections,
as `almabridge worker` beside `serve` has) holding what a sync holds there: the member's
items-sync or requests-sync advisory lock. The webhook is seen waiting in PostgreSQL's `pg_locks`
with not one Alma call made, and goes on once the other process lets go.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.ledger.clock import SystemClock
from adapters.ledger.sql import SqlLedger
from application.scf.institution_locks import items_sync_lock, requests_sync_lock
from application.scf.requests.outcomes import Action
from tests.integration.ledger.test_exclusive import waiting_for_advisory_locks
from tests.scenarios.items.support import NZ_BARCODES, calls, seed_bib
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
from tests.scenarios.world import AB, SCF, open_world

pytestmark = pytest.mark.postgres


async def test_W7_I1_a_webhook_waits_for_the_items_sync_of_another_process(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, ledger="postgres") as world:
        (new,) = new_copies(1)
        seed_bib(world, AB, BIB, [new], nz_id=NZ_BARCODES)
        (body,) = created(world, [new])
        other = SqlLedger.from_url(world.database_url or "", SystemClock())
        try:
            async with other.exclusive(items_sync_lock(AB)):
                webhook = asyncio.create_task(at_once(world, [body], handlers(world)))
                await waiting_for_advisory_locks(world.database_url, items_sync_lock(AB), 1)
                assert calls(world, AB) == []
                assert calls(world, SCF) == []
            (handled,) = await asyncio.wait_for(webhook, 30)
        finally:
            await other.close()
        assert handled.details is not None
        assert handled.details["result"] == "created", handled.message
        assert len(scf_items(world, new.barcode)) == 1


async def test_W6_R6_a_webhook_waits_for_the_requests_sync_of_another_process(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, ledger="postgres") as world:
        _, sources = await requested(world)
        body = request_created(AB, sources[0])
        other = SqlLedger.from_url(world.database_url or "", SystemClock())
        try:
            async with other.exclusive(requests_sync_lock(AB)):
                webhook = asyncio.create_task(at_once(world, [body], handlers(world)))
                await waiting_for_advisory_locks(world.database_url, requests_sync_lock(AB), 1)
                assert requests.scf_requests(world) == []
            (handled,) = await asyncio.wait_for(webhook, 30)
        finally:
            await other.close()
        assert handled.details is not None
        assert handled.details["result"] == Action.FORWARDED, handled.message
        assert len(requests.scf_requests(world)) == 1
