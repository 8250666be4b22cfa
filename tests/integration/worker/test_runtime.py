"""`run_worker`: the worker as `almabridge serve` and `almabridge worker` run it (item 2).

A real container (SQLite ledger file, conf.json, a local folder as the file server) with the
in-memory fake Alma; the tests wait on events, never on the clock.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from adapters.fake_alma.memory_gateway import InMemoryAlmaDirectory
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.migrate import upgrade
from application.scf.configuration import SettingsHolder
from application.scf.inbox.records import INBOX_PROCESSED
from application.shared.ledger_records import Outcome
from application.shared.metrics import Metrics
from entrypoints import worker_runtime
from entrypoints.bridge_wiring import BridgePorts
from entrypoints.container import Container, prepare_service
from entrypoints.worker_runtime import (
    DEFAULT_LEASE,
    default_owner,
    is_dead_on_this_host,
    run_worker,
)
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    enqueue,
    job_end,
    message,
    process_events,
)
from tests.scenarios.world import AB, EXAMPLE_CONF, SCF, collection, marc_record, tar_gz


class CountingMetrics(Metrics):
    """Signals each message the worker finishes, so a test can wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self.finished: asyncio.Queue[str] = asyncio.Queue()

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        super().inc(name, value, **labels)
        if name == INBOX_PROCESSED:
            self.finished.put_nowait(f"{labels['outcome']} {labels['kind']}")


def write_conf(path: Path, tmp_path: Path, **changes: Any) -> None:
    document = json.loads(EXAMPLE_CONF.read_text())
    document["main_local_folder"] = str(tmp_path / "local")
    document["ftp_server"] = {"protocol": "local", "main_folder": str(tmp_path / "remote")}
    for institution in document["institutions"]:
        institution.update(changes.get(institution["code"], {}))
    path.write_text(json.dumps(document))


@pytest.fixture
def alma_state() -> FakeAlmaState:
    return state_from_file()


@pytest.fixture
async def container(tmp_path: Path, alma_state: FakeAlmaState) -> AsyncIterator[Container]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(url)
    write_conf(tmp_path / "conf.json", tmp_path)
    built = Container()
    built.environ.override(
        {"ALMABRIDGE_DATABASE_URL": url, "CONFIG_FILE": str(tmp_path / "conf.json")}
    )
    built.alma.override(providers.Object(InMemoryAlmaDirectory(alma_state)))
    built.metrics.override(providers.Object(CountingMetrics()))
    await prepare_service(built)
    yield built
    await built.ledger().close()


def publish(state: FakeAlmaState, tmp_path: Path) -> None:
    member = state.find_item(AB, "AB0002")
    assert member is not None
    record = marc_record(member.mms_id, [{"b": "AB0002", "c": "ABRS", "l": "rs_shared_in_ab"}])
    folder = tmp_path / "remote" / AB / "items"
    folder.mkdir(parents=True)
    (folder / "AB_new_1.tar.gz").write_bytes(tar_gz({"AB_new_1.xml": collection([record])}))


async def next_finished(container: Container) -> str:
    metrics: CountingMetrics = container.metrics()
    async with asyncio.timeout(30):
        return await metrics.finished.get()


async def test_run_worker_drains_the_inbox_until_stopped(
    container: Container, alma_state: FakeAlmaState, tmp_path: Path
) -> None:
    publish(alma_state, tmp_path)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(container, stop, owner="test:1", poll_interval=0.01))

    ledger = container.ledger()
    await enqueue(ledger, container.clock(), job_end(AB, AB_PUBLISHING_JOB, "1001"))
    assert await next_finished(container) == "ok items_sync_due"
    stop.set()
    async with asyncio.timeout(30):
        await worker

    assert alma_state.find_item(SCF, "AB0002X") is not None
    (event,) = await process_events(ledger)
    assert event.outcome is Outcome.OK
    assert (await ledger.inbox_depth()).done == 1


async def test_a_settings_reload_rebuilds_the_bridge_between_messages(
    container: Container,
    alma_state: FakeAlmaState,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publish(alma_state, tmp_path)
    built: list[BridgePorts] = []
    real_open_bridge: Callable[[Container], AbstractAsyncContextManager[BridgePorts]] = (
        worker_runtime.open_bridge
    )

    @asynccontextmanager
    async def counting_open_bridge(container: Container) -> AsyncIterator[BridgePorts]:
        async with real_open_bridge(container) as bridge:
            built.append(bridge)
            yield bridge

    monkeypatch.setattr(worker_runtime, "open_bridge", counting_open_bridge)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(container, stop, owner="test:2", poll_interval=0.01))
    ledger = container.ledger()
    try:
        await enqueue(ledger, container.clock(), job_end(AB, "S555000111", "1002"))
        assert await next_finished(container) == "skipped skipped"  # nobody's job (yet)

        write_conf(tmp_path / "conf.json", tmp_path, **{AB: {"publishing_job_id": "S555000111"}})
        holder: SettingsHolder = container.settings()
        assert (await holder.reload()).ok
        await enqueue(ledger, container.clock(), job_end(AB, "S555000111", "1003"))
        assert await next_finished(container) == "ok items_sync_due"
    finally:
        stop.set()
        async with asyncio.timeout(30):
            await worker

    assert len(built) == 2
    assert built[1].settings is holder.current
    first, second = await process_events(ledger)
    assert (first.outcome, second.outcome) == (Outcome.SKIPPED, Outcome.OK)
    assert alma_state.find_item(SCF, "AB0002X") is not None


def test_the_default_owner_names_the_host_and_the_process() -> None:
    host, pid = default_owner().rsplit(":", 1)
    assert host
    assert int(pid) > 0


async def a_dead_pid() -> int:
    """The pid of a process of this host that has ended (and been reaped)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await process.wait()
    return process.pid


async def test_a_dead_process_of_this_host_is_recognised_and_nothing_else() -> None:
    host = socket.gethostname()
    dead = await a_dead_pid()
    assert is_dead_on_this_host(f"{host}:{dead}")
    assert not is_dead_on_this_host(default_owner())  # this very process
    assert not is_dead_on_this_host(f"{host}:1")  # init: alive (or not ours to signal)
    assert not is_dead_on_this_host(f"another-{host}:{dead}")  # unknowable: wait for the lease
    assert not is_dead_on_this_host("w2")  # a name given with --owner
    assert not is_dead_on_this_host(f"{host}:0")
    assert not is_dead_on_this_host(f"{host}:-5")


async def test_W8_a_restarted_worker_takes_up_its_dead_predecessors_message_at_once(
    container: Container, alma_state: FakeAlmaState, tmp_path: Path
) -> None:
    publish(alma_state, tmp_path)
    ledger = container.ledger()
    [inbox_id] = await enqueue(ledger, container.clock(), job_end(AB, AB_PUBLISHING_JOB, "1004"))
    predecessor = f"{socket.gethostname()}:{await a_dead_pid()}"
    [held] = await ledger.claim_inbox(predecessor, DEFAULT_LEASE, limit=1)  # then kill -9
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(container, stop, owner="test:3"))
    try:
        # Well before the predecessor's 20 s lease runs out: handed back at start-up.
        async with asyncio.timeout(DEFAULT_LEASE.total_seconds() / 2):
            assert await next_finished(container) == "ok items_sync_due"
    finally:
        stop.set()
        async with asyncio.timeout(30):
            await worker

    done = await message(ledger, inbox_id)
    assert (held.attempts, done.attempts) == (1, 2)
    assert alma_state.find_item(SCF, "AB0002X") is not None
