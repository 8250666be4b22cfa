"""A seeded consortium to run the SCF bridge in: the fake Alma (two members and the SCF), an
in-memory file server, a ledger, and helpers that drop publishing and request files like Alma.

Scenario tests build one with `open_world(...)` and drive the application services through the
same `Bridge` the service uses; only the adapters differ.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.memory_gateway import InMemoryAlmaDirectory
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from adapters.scf.alma_directory import HttpAlmaDirectory
from adapters.scf.config.loader import settings_from_bytes
from adapters.scf.formats.publishing import MarcPublishingFiles
from adapters.scf.formats.request_xml import XmlRequestFiles
from adapters.scf.reports.csv_reports import MemoryFailureReports
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles
from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.file_batches import member_folder
from application.scf.settings import Settings
from application.shared.ledger_records import LedgerEvent, TransferKind
from entrypoints.bridge_wiring import BridgePorts
from tests.integration.ledger.support import FakeClock, database

REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_CONF = REPOSITORY / "examples" / "conf.json"
AB, CD, SCF = "01AAA_AB", "01AAA_CD", "01AAA_RS"
LedgerKind = Literal["memory", "sqlite", "postgres"]
AlmaKind = Literal["memory", "http"]

# Quick retries: the tests are about what is retried, not about waiting.
FAST_RETRY = RetryPolicy(
    attempts=8,
    budget_seconds=30,
    wait_initial=0.001,
    wait_max=0.01,
    wait_jitter=0.001,
    rate_limit_pause=0.01,
)


def example_settings(**overrides: object) -> Settings:
    """The settings of `examples/conf.json`, matching the fake's seeded consortium."""
    import json

    document = json.loads(EXAMPLE_CONF.read_text())
    document.update(overrides)
    return settings_from_bytes(json.dumps(document).encode(), {}, source="examples/conf.json")


@dataclass
class World:
    """One consortium and one bridge over it."""

    state: FakeAlmaState
    remote: MemoryFiles
    bridge: BridgePorts
    reports: MemoryFailureReports
    clock: FakeClock
    faults: FaultInjector | None = None
    _closers: list[AlmaHttpClient] = field(default_factory=list)
    database_url: str | None = None
    """The SQL ledger's URL (None for the memory ledger), for a service sharing it."""

    @property
    def ledger(self) -> Ledger:
        return self.bridge.ledger

    @property
    def alma(self) -> AlmaDirectory:
        return self.bridge.alma

    def scf(self) -> AlmaGateway:
        return self.alma.gateway(SCF)

    def member(self, institution: str) -> AlmaGateway:
        return self.alma.gateway(institution)

    def folder(self, institution: str, kind: str) -> str:
        main_folder = self.bridge.settings.file_server.main_folder
        return member_folder(main_folder, institution, TransferKind(kind))

    def drop_publishing_file(self, institution: str, name: str, records: Iterable[str]) -> str:
        """Put a publishing file where Alma's publishing job would (`.tar.gz` or bare `.xml`).

        An archive holds one member named like the archive with `.xml` (Alma's layout).
        """
        xml = collection(records)
        if name.endswith(".tar.gz"):
            payload = tar_gz({name.removesuffix(".tar.gz") + ".xml": xml})
        else:
            payload = xml
        path = f"{self.folder(institution, 'items')}/{name}"
        self.remote.put(path, payload)
        return path

    def drop_request_file(self, institution: str, name: str, xml: bytes) -> str:
        """Put a remote-storage request export where Alma's integration profile would."""
        path = f"{self.folder(institution, 'requests')}/{name}"
        self.remote.put(path, xml)
        return path

    async def events(self, **filters: object) -> list[LedgerEvent]:
        """The ledger's events, oldest first (filters as `Ledger.events`)."""
        return await self.ledger.events(limit=10_000, **filters)  # type: ignore[arg-type]

    async def close(self) -> None:
        for client in self._closers:
            await client.aclose()
        await self.ledger.close()


@asynccontextmanager
async def open_world(
    tmp_path: Path,
    *,
    ledger: LedgerKind = "memory",
    alma: AlmaKind = "memory",
    faults: FaultConfig | None = None,
    settings: Settings | None = None,
    state: FakeAlmaState | None = None,
) -> AsyncIterator[World]:
    """A fresh world: the demo seed, `examples/conf.json`, an empty file server and ledger."""
    clock = FakeClock()
    fake = state if state is not None else state_from_file()
    config = settings or example_settings()
    remote = MemoryFiles()
    reports = MemoryFailureReports()
    closers: list[AlmaHttpClient] = []
    injector: FaultInjector | None = None
    directory: AlmaDirectory
    if alma == "memory":
        directory = InMemoryAlmaDirectory(fake)
    else:
        injector = FaultInjector(
            faults or FaultConfig(enforce_thresholds=False), clock=fake.clock, seed=fake.seed
        )
        client = AlmaHttpClient(
            config.gateway,
            rate_per_second=1000,
            retry=FAST_RETRY,
            transport=httpx.ASGITransport(app=create_fake_alma_app(fake, injector)),
        )
        closers.append(client)
        directory = HttpAlmaDirectory(config, client)
    async with database(ledger, tmp_path) as url:
        ledger_adapter: Ledger
        if url is None:
            ledger_adapter = MemoryLedger(clock)
        else:
            await upgrade(url)
            ledger_adapter = SqlLedger.from_url(url, clock)
        bridge = BridgePorts(
            settings=config,
            alma=directory,
            ledger=ledger_adapter,
            files=InMemoryFileTransfer(remote),
            publishing=MarcPublishingFiles(),
            request_files=XmlRequestFiles(),
            reports=reports,
            clock=clock,
            work_dir=tmp_path / "work",
        )
        world = World(fake, remote, bridge, reports, clock, injector, closers, url)
        try:
            yield world
        finally:
            await world.close()


# ---- Alma-shaped files ---------------------------------------------------------------------


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar of regular files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def collection(records: Iterable[str]) -> bytes:
    """A publishing file: a `<collection>` of records without namespace, as Alma writes it."""
    body = "\n".join(records)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n{body}\n</collection>\n'.encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def marc_record(
    mms_id: str,
    items: Iterable[dict[str, str]],
    *,
    nz_id: str | None = None,
    title: str = "A title",
    deleted: bool = False,
) -> str:
    """A published record: 005/008 before 001, optional NZ 035, an AVA, and one ITM per item.

    Each item maps ITM subfield codes to values: `b` barcode, `c` library, `l` location,
    `n` internal note 2.
    """
    status = "d" if deleted else "c"
    fields = [
        f"<leader>00000{status}am a2200000 i 4500</leader>",
        '<controlfield tag="005">20261122101010.0</controlfield>',
        '<controlfield tag="008">261122s2026    xx            000 0 eng d</controlfield>',
        f'<controlfield tag="001">{_escape(mms_id)}</controlfield>',
    ]
    if nz_id:
        fields.append(
            '<datafield tag="035" ind1=" " ind2=" ">'
            f'<subfield code="a">(EXLNZ-01AAA_NETWORK){_escape(nz_id)}</subfield></datafield>'
        )
    fields.append(
        '<datafield tag="245" ind1="1" ind2="0">'
        f'<subfield code="a">{_escape(title)}</subfield></datafield>'
    )
    fields.append(
        '<datafield tag="AVA" ind1=" " ind2=" "><subfield code="b">X</subfield></datafield>'
    )
    for item in items:
        subfields = "".join(
            f'<subfield code="{code}">{_escape(value)}</subfield>' for code, value in item.items()
        )
        fields.append(f'<datafield tag="ITM" ind1=" " ind2=" ">{subfields}</datafield>')
    return "<record>" + "".join(fields) + "</record>"


RS_NAMESPACE = "http://com/exlibris/urm/rep/externalsysremotestorage/xmlbeans"


def request_export(requests: Iterable[dict[str, object]]) -> bytes:
    """A remote-storage request export (`xb:rsExportList`), one `xb:rsExport` per request.

    Keys are element names (`requestId`, `requestType`, `barcode`, `mmsId`, `institutionCode`,
    `libraryCode`, `requestNote`, `description`); `pickup` is a library name; `patron` a dict
    with `patronName`, `patronIdentifier`, `patronEmail`, `patronAddress`.
    """
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<xb:rsExportList xmlns:xb="{RS_NAMESPACE}">']
    for request in requests:
        inner: list[str] = []
        for key, value in request.items():
            if key == "pickup":
                inner.append(
                    f"<xb:pickup><xb:library>{_escape(str(value))}</xb:library></xb:pickup>"
                )
            elif key == "patron":
                assert isinstance(value, dict)
                patron = "".join(f"<xb:{k}>{_escape(str(v))}</xb:{k}>" for k, v in value.items())
                inner.append(f"<xb:patronInfo>{patron}</xb:patronInfo>")
            elif key == "description":
                inner.append(
                    f"<xb:requestedInfo><xb:description>{_escape(str(value))}"
                    "</xb:description></xb:requestedInfo>"
                )
            else:
                inner.append(f"<xb:{key}>{_escape(str(value))}</xb:{key}>")
        parts.append("  <xb:rsExport>" + "".join(inner) + "</xb:rsExport>")
    parts.append("</xb:rsExportList>\n")
    return "\n".join(parts).encode()
