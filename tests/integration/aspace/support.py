"""aspace2alma's test rig (rules AS1–AS6, B1–B5, B8): the wiring's own `AspaceJob` over a fake
ArchivesSpace and a fake Alma, both reached over ``httpx.ASGITransport`` (so the HTTP adapters
run), a ``file://`` drop folder watched operation by operation, a workflows file, and the
`JobRunner` on a ledger backend with a fixed clock.

AS2's waits (1, 2, 3 s) go through a `RecordingSleep` that returns at once: the fixture gives
the wiring an `ExportCollection` with that ``sleep``, so no test waits on a real clock.
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx

from adapters.alma_http.client import AlmaHttpClient
from adapters.aspace.http_client import HttpArchivesSpace
from adapters.fake_alma import (
    FakeAlmaState,
    FaultConfig,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)
from adapters.fake_alma import FaultInjector as AlmaFaults
from adapters.fake_archivesspace import (
    FakeArchivesSpaceState,
    FaultInjector,
    build_state,
    create_fake_archivesspace_app,
    seed_reference,
)
from adapters.fake_archivesspace.records import ResourceSpec, resource_marcxml
from adapters.marc.marcxml import record_from_element
from adapters.transfer import LocalFileTransfer
from application.aspace.export_collection import ASPACE2ALMA
from application.aspace.ports import ArchivesSpace
from application.ports.ledger import Ledger
from application.ports.runs import WorkflowLock
from application.shared.connections import Secret
from application.shared.run_records import JobRun, RunRecord
from application.shared.runs import JobRunner, RunResult
from application.shared.workflow_settings import AlmaInstitution, ArchivesSpaceConnection, Remote
from domain.shared.marc import MarcRecord
from entrypoints.aspace_wiring import AspaceJob, AspaceJobOptions
from entrypoints.workflow_entries import WorkflowSetup
from tests.integration.ledger.support import Backend
from tests.integration.west.support import FAST_RETRY

AB = "01AAA_AB"
KEY = "ab-example-key"
GATEWAY_URL = "http://fake-alma"
ASPACE_URL = "http://fake-archivesspace"
USER = "archivist"
PASSWORD = "Pass-Word-4711!"
BARCODE_SET = "7700123"
"""The configured set of known barcodes: empty unless a test fills `FULL_SET` instead."""
FULL_SET = "7700456"
REPO = 3
"""The reference repository (1511, 1512) and where generated resources go."""
NOW = datetime(2026, 9, 1, 14, 30, 5, tzinfo=UTC)
REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "aspace2alma"
BARCODE_1511 = "32101106176132"
"""The barcode of resource 1511's container (``single_container.json``)."""
MARC_OUT = "MARC_out.xml"
MARC_OUT_OLD = "MARC_out_old.xml"
YESTERDAY = b"<collection>yesterday</collection>"
TWO_DAYS_AGO = b"<collection>the day before</collection>"


def uri(resource_id: int, repo_id: int = REPO) -> str:
    """A resource's record key: its URI."""
    return f"/repositories/{repo_id}/resources/{resource_id}"


# ---- the fake ArchivesSpace -------------------------------------------------------------------


def marcxml(
    call_number: str,
    *,
    title: str = "",
    location: str = "scarcpph",
    without: Sequence[str] = (),
) -> bytes:
    """A resource's MARC export (the fake's generated layout) without the fields ``without``
    names (``"008"``, ``"041"``, ``"099"``, ``"856"``)."""
    spec = ResourceSpec(call_number, title or f"Papers {call_number}", location_code=location)
    data = resource_marcxml(spec)
    for tag in without:
        kind = "controlfield" if tag < "010" else "datafield"
        data, found = re.subn(
            rb'\s*<%s [^>]*tag="%s">.*?</%s>' % (kind.encode(), tag.encode(), kind.encode()),
            b"",
            data,
            flags=re.DOTALL,
        )
        assert found == 1, tag
    return data


def add_resource(
    state: FakeArchivesSpaceState,
    resource_id: int,
    *,
    repo_id: int = REPO,
    barcodes: Sequence[str] = (),
    location: str = "scarcpph",
    data: bytes | None = None,
) -> str:
    """A resource with a ReCAP container per barcode (indicators 1, 2…); its call number."""
    number = f"C{repo_id:02d}.{resource_id}"
    if repo_id not in state.repositories:
        state.add_repository(repo_id, f"repo{repo_id}", f"Repository {repo_id}")
    state.add_resource(
        repo_id, resource_id, data or marcxml(number), identifier=number, title=number
    )
    for n, barcode in enumerate(barcodes, start=1):
        state.add_top_container(
            repo_id, resource_id, barcode=barcode, indicator=str(n), location_code=location
        )
    return number


Wrap = Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


def _same(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    return inner


@dataclass
class FakeAspace:
    """A fake ArchivesSpace and how a run reaches it: `HttpArchivesSpace` over its app."""

    state: FakeArchivesSpaceState
    faults: FaultInjector = field(default_factory=FaultInjector)
    wrap: Wrap = _same
    """Tests put a transport around the fake's (a gate, a kill)."""
    clients: list[ArchivesSpace] = field(default_factory=list)

    def client(self, connection: ArchivesSpaceConnection) -> ArchivesSpace:
        """The wiring's `AspaceFactory`."""
        app = create_fake_archivesspace_app(self.state, self.faults)
        made = HttpArchivesSpace(
            connection.url,
            connection.user,
            connection.password or Secret(""),
            concurrency=connection.concurrency,
            transport=self.wrap(httpx.ASGITransport(app=app)),
        )
        self.clients.append(made)
        return made

    def calls(self) -> int:
        """Calls the fake answered (or cut off) so far."""
        return len(self.state.call_log)

    def marc_requests(self, resource_id: int, repo_id: int = REPO) -> int:
        """``GET …/resources/marc21/{id}.xml`` calls about one resource."""
        path = f"/repositories/{repo_id}/resources/marc21/{resource_id}.xml"
        return len(self.state.call_log.records(path_prefix=path))

    def marc_order(self) -> list[int]:
        """Resource ids in the order their MARC export was answered."""
        return [r.resource[1] for r in self.state.call_log if "/marc21/" in r.path and r.resource]


def fake_aspace() -> FakeAspace:
    """The reference samples (repositories 2 and 3; 3 holds 1511 and 1512)."""
    state = build_state(user=USER, password=PASSWORD)
    seed_reference(state, REFERENCE)
    return FakeAspace(state)


class Gate(httpx.AsyncBaseTransport):
    """Holds the MARC export of ``held`` until that of ``released_by`` has been answered: the
    later resource answers first, whatever the use case's order."""

    def __init__(self, inner: httpx.AsyncBaseTransport, held: str, released_by: str) -> None:
        self.inner = inner
        self.held = held
        self.released_by = released_by
        self.opened = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith(f"/marc21/{self.held}.xml"):
            async with asyncio.timeout(10):
                await self.opened.wait()
        response = await self.inner.handle_async_request(request)
        if path.endswith(f"/marc21/{self.released_by}.xml"):
            self.opened.set()
        return response


class Hook(httpx.AsyncBaseTransport):
    """Calls ``before(path)`` before each request goes through (a kill, a state change)."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, before: Callable[[str], Awaitable[None]]
    ) -> None:
        self.inner = inner
        self.before = before

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.before(request.url.path)
        return await self.inner.handle_async_request(request)


# ---- the fake Alma ----------------------------------------------------------------------------


@dataclass
class FakeAlma:
    """A fake Alma (the demo seed, institution AB) and how a run reaches it."""

    state: FakeAlmaState
    faults: AlmaFaults

    def client(self, institution: AlmaInstitution) -> AlmaHttpClient:
        """The wiring's `ClientFactory`: over the fake app, retries fast (B4)."""
        app = create_fake_alma_app(self.state, self.faults)
        return AlmaHttpClient(
            institution.url,
            rate_per_second=1000,
            retry=FAST_RETRY,
            transport=httpx.ASGITransport(app=app),
        )

    def set_reads(self) -> list[int]:
        """The offsets of the ``GET /conf/sets/{id}/members`` calls so far, in order."""
        return [int(r.param("offset") or 0) for r in self.state.call_log if "/conf/sets/" in r.path]

    def barcode_set(self, barcodes: Iterable[str], set_id: str) -> None:
        """A set of item members, each described by its barcode (AS3)."""
        members = [(f"23{n:014d}", barcode) for n, barcode in enumerate(barcodes)]
        self.state.add_set(AB, members, set_id=set_id, name=f"Set {set_id}", content="ITEM")


def fake_alma() -> FakeAlma:
    """The demo-seeded fake with an empty set ``BARCODE_SET``; thresholds off (its frozen clock
    would put every call in one second)."""
    clock = ManualClock()
    state = state_from_file(clock=clock)
    faults = AlmaFaults(FaultConfig(enforce_thresholds=False), clock=clock, seed=state.seed)
    made = FakeAlma(state, faults)
    made.barcode_set([], BARCODE_SET)
    return made


# ---- the drop folder --------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation on the drop folder: ``aspace_calls`` is how many calls the fake
    ArchivesSpace had answered at that moment; ``listing`` the folder's names (hidden ones
    included) when a finished upload took its final name."""

    name: str
    path: str
    aspace_calls: int
    listing: tuple[str, ...] = ()


class WatchedTransfer(LocalFileTransfer):
    """The ``file://`` remote's adapter, each operation written down (AS1, AS6)."""

    def __init__(self, ops: list[Op], aspace_calls: Callable[[], int]) -> None:
        super().__init__("/")
        self._ops = ops
        self._calls = aspace_calls

    def _note(self, name: str, path: str, listing: tuple[str, ...] = ()) -> None:
        self._ops.append(Op(name, path, self._calls(), listing))

    async def delete(self, remote_path: str) -> None:
        self._note("delete", remote_path)
        await super().delete(remote_path)

    async def rename(self, source: str, target: str) -> None:
        self._note("rename", f"{source} -> {target}")
        await super().rename(source, target)

    async def upload(self, local_path: Path, remote_path: str) -> None:
        self._note("upload", remote_path)
        await super().upload(local_path, remote_path)

    async def _replace(self, source: str, target: str) -> None:
        # The upload's last step: the temporary name becomes the final one.
        listing = tuple(sorted(p.name for p in Path(target).parent.iterdir()))
        self._note("replace", f"{Path(source).name} -> {Path(target).name}", listing)
        await super()._replace(source, target)


# ---- the rig ----------------------------------------------------------------------------------


class RecordingSleep:
    """A sleep that returns at once and remembers each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _toml(value: Any) -> str:
    return json.dumps(value)


@dataclass
class Rig:
    """One ledger backend, the two fakes, a workflows file and the drop folder."""

    backend: Backend
    alma: FakeAlma
    aspace: FakeAspace
    root: Path
    sleep: RecordingSleep = field(default_factory=RecordingSleep)
    barcode_set: str = BARCODE_SET
    password: str = PASSWORD
    concurrency: int = 4
    ops: list[Op] = field(default_factory=list)
    connections: int = 0
    """Connections opened to the drop folder."""

    def __post_init__(self) -> None:
        self.ledger: Ledger = self.backend.open()
        self.backend.clock.current = NOW
        self.drop.mkdir(parents=True, exist_ok=True)

    @property
    def drop(self) -> Path:
        """The ``drop`` remote's folder, which Alma's import profile reads."""
        return self.root / "drop"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def config_path(self) -> Path:
        return self.root / "workflows.toml"

    def known(self, barcodes: Iterable[str]) -> None:
        """``barcode_set`` becomes a new set of these barcodes (AS3)."""
        self.barcode_set = FULL_SET
        self.alma.barcode_set(barcodes, FULL_SET)

    def yesterday(self) -> None:
        """Yesterday's and the day before's files in the drop folder."""
        (self.drop / MARC_OUT).write_bytes(YESTERDAY)
        (self.drop / MARC_OUT_OLD).write_bytes(TWO_DAYS_AGO)

    def write_config(self) -> WorkflowSetup:
        aspace = {"barcode_set": self.barcode_set, "target": "drop"}
        connection = {
            "url": ASPACE_URL,
            "user": USER,
            "password": self.password,
            "concurrency": self.concurrency,
        }
        lines = [
            f'[alma.{AB}]\nurl = "{GATEWAY_URL}"\napikey = "{KEY}"\nrate_limit_per_second = 25',
            f'[remotes.drop]\nurl = "file://{self.drop}"',
            "[aspace2alma]\n" + "\n".join(f"{k} = {_toml(v)}" for k, v in aspace.items()),
            "[aspace2alma.archivesspace]\n"
            + "\n".join(f"{k} = {_toml(v)}" for k, v in connection.items()),
        ]
        self.config_path.write_text("\n\n".join(lines) + "\n")
        return WorkflowSetup(tomllib.loads(self.config_path.read_text()), self.config_path)

    def _remote(self, remote: Remote) -> WatchedTransfer:
        assert remote.name == "drop"
        self.connections += 1
        return WatchedTransfer(self.ops, self.aspace.calls)

    def job(self, workflow: str = ASPACE2ALMA, *, upload: bool = True) -> AspaceJob:
        """The workflow as ``almabridge run WORKFLOW [--institution AB]`` builds it."""
        setup = self.write_config()
        institution = AB if workflow == ASPACE2ALMA else None
        return AspaceJob(
            AspaceJobOptions(workflow, institution, upload),
            setup,
            connect_alma=self.alma.client,
            connect_remote=self._remote,
            connect_aspace=self.aspace.client,
            environ={},
        )

    def runner(self) -> JobRunner:
        lock = cast(WorkflowLock, self.ledger)  # both ledgers try locks
        return JobRunner(self.ledger, self.backend.clock, lock)

    async def run(
        self, job: AspaceJob, *, dry_run: bool = False, out: Path | None = None
    ) -> RunResult:
        return await self.runner().run(
            job, out_dir=out or self.out, options=job.options.stored(), dry_run=dry_run
        )

    async def records(self, run_id: int) -> list[RunRecord]:
        async with self.ledger.unit_of_work() as uow:
            return await uow.runs.records_of(run_id)

    async def kinds(self, run_id: int) -> Mapping[str, dict[str, RunRecord]]:
        """A run's records by kind, then key."""
        found: dict[str, dict[str, RunRecord]] = {}
        for record in await self.records(run_id):
            found.setdefault(record.kind, {})[record.key] = record
        return found

    async def runs(self) -> list[JobRun]:
        async with self.ledger.unit_of_work() as uow:
            return list(await uow.runs.list_runs())

    def advance(self, seconds: float) -> None:
        self.backend.clock.advance(seconds=seconds)


# ---- reading the output -----------------------------------------------------------------------


def collection(path: Path) -> list[MarcRecord]:
    """The records of a ``MARC_out.xml``, parsed by ElementTree (so it is well-formed)."""
    root = ET.fromstring(path.read_bytes())  # noqa: S314 - the test's own output
    return [record_from_element(child) for child in root]


def call_numbers(records: Sequence[MarcRecord]) -> list[str | None]:
    """The 001 of each record, in order."""
    return [r.control("001") for r in records]


def items(record: MarcRecord) -> list[str]:
    """The barcodes of a record's 949s, in order."""
    return [v for f in record.data_fields if f.tag == "949" for v in f.values("a")]


def by_call_number(records: Sequence[MarcRecord]) -> dict[str, MarcRecord]:
    return {r.control("001") or "": r for r in records}


def files(folder: Path) -> list[str]:
    """The names in ``folder`` (hidden ones included), sorted; none when it does not exist."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
