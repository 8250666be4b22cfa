"""`try_exclusive`, the lock that keeps one run of a workflow at a time (rule B1): tried, never
waited for; per ledger (schema), not per database."""

from __future__ import annotations

import pytest

from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.ports.runs import WorkflowLock
from tests.integration.ledger.support import Backend, FakeClock, postgres_schema


def _lock(backend: Backend) -> WorkflowLock:
    lock: WorkflowLock = backend.open()  # type: ignore[assignment]
    return lock


async def test_B1_a_held_name_is_refused_at_once_and_free_again_after(backend: Backend) -> None:
    lock = _lock(backend)
    async with lock.try_exclusive("workflow:toy") as held:
        assert held
        async with lock.try_exclusive("workflow:toy") as again:
            assert not again
        async with lock.try_exclusive("workflow:other") as other:
            assert other
    async with lock.try_exclusive("workflow:toy") as later:
        assert later


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_B1_two_ledgers_on_one_schema_exclude_each_other(backend: Backend) -> None:
    first, second = _lock(backend), _lock(backend)
    async with first.try_exclusive("workflow:toy") as held:
        assert held
        async with second.try_exclusive("workflow:toy") as refused:
            assert not refused
    async with second.try_exclusive("workflow:toy") as free:
        assert free


@pytest.mark.postgres
async def test_B1_ledgers_in_two_schemas_of_one_database_do_not(clock: FakeClock) -> None:
    async with postgres_schema() as one, postgres_schema() as two:
        await upgrade(one)
        await upgrade(two)
        ledgers = SqlLedger.from_url(one, clock), SqlLedger.from_url(two, clock)
        try:
            async with (
                ledgers[0].try_exclusive("workflow:toy") as first,
                ledgers[1].try_exclusive("workflow:toy") as second,
            ):
                assert first
                assert second
        finally:
            for ledger in ledgers:
                await ledger.close()
