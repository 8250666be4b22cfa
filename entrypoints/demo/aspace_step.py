"""The demo's ArchivesSpace step (issue 18, rules AS1–AS6): five collections into Alma.

A fake ArchivesSpace (`adapters.fake_archivesspace`, served on 127.0.0.1 like the fake Alma)
holds five resources: three ReCAP collections with their boxes, one whose box barcode Alma
already has (in the set of known barcodes), and one without a 041, which the run records failed
while it writes the rest (AS5). Yesterday's ``MARC_out.xml`` and the day before's are in the
drop folder on the demo's SFTP server: the run rotates them first (AS1), then uploads today's.
It runs as `almabridge run aspace2alma --config aspace.toml --institution 01AAA_AB` builds it,
on the service's own ledger.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from adapters.fake_alma.state import FakeAlmaState
from adapters.fake_archivesspace import (
    FakeArchivesSpaceState,
    build_state,
    create_fake_archivesspace_app,
)
from adapters.fake_archivesspace.records import ResourceSpec, resource_marcxml
from adapters.fake_archivesspace.state import DEFAULT_PASSWORD, DEFAULT_USER
from adapters.ledger.clock import SystemClock
from application.ports.ledger import Ledger
from application.shared.run_records import RecordOutcome, RunRecord, RunStatus
from application.shared.runs import JobRunner, RunResult
from entrypoints.aspace_wiring import ASPACE2ALMA_ENTRY
from entrypoints.demo.servers import LOOPBACK, http_server
from entrypoints.demo.setup import AB, API_KEYS, SFTP_USER
from entrypoints.workflow_entries import read_config

__all__ = ["AspaceStep", "run_aspace_step"]

REPOSITORY = 3
BARCODE_SET = "9100000000004101"
_COLLECTIONS = (
    (201, "MC200", "Civil liberties papers", "scarcpph", ("32101000000201", "32101000000202")),
    (202, "MC201", "Papers of a Trenton & Camden press", "scarcppl", ("32101000000203",)),
    (203, "MC202", "Cartes et plans de Montréal", "scarcpxm", ("32101000000204",)),
    (204, "MC203", "A box Alma already has", "scarcpph", ("32101000000999",)),
    (205, "MC204", "A record without a language", "scarcpph", ("32101000000205",)),
)
"""Resource id, call number, title, ReCAP location, box barcodes."""
KNOWN_IN_ALMA = "32101000000999"
WITHOUT_041 = 205


@dataclass(frozen=True)
class AspaceStep:
    """What the run did, read back from the ledger, and what the drop folder holds after it."""

    run: RunResult
    records: tuple[RunRecord, ...]
    drop_files: tuple[str, ...]
    uploaded: Path

    def written(self) -> list[RunRecord]:
        """The resources written to ``MARC_out.xml``."""
        return [r for r in self.records if r.kind == "resource" and r.outcome is RecordOutcome.OK]

    def failed(self) -> list[RunRecord]:
        """The resources recorded failed (AS5)."""
        return [r for r in self.records if r.outcome is RecordOutcome.FAILED]

    def as_expected(self) -> bool:
        """Partial (one record failed on purpose), four written, the files rotated and sent."""
        return (
            self.run.run.status is RunStatus.PARTIAL
            and len(self.written()) == 4
            and len(self.failed()) == 1
            and set(self.drop_files) == {"MARC_out.xml", "MARC_out_old.xml"}
            and b"(yesterday)" not in self.uploaded.read_bytes()
        )


async def run_aspace_step(
    root: Path,
    alma: FakeAlmaState,
    gateway: str,
    sftp: tuple[Path, int, str, str],
    ledger: Ledger,
    say: Callable[[str], None],
) -> AspaceStep:
    """Seed ArchivesSpace and the set, serve the fake, run the export, and say what it did."""
    sftp_root, port, fingerprint, password = sftp
    archives = build_state()
    _seed(archives)
    alma.add_set(AB, [("23101", KNOWN_IN_ALMA)], set_id=BARCODE_SET, content="ITEM")
    drop = sftp_root / "aspace"
    async with AsyncExitStack() as stack:
        aspace_url = await stack.enter_async_context(
            http_server(create_fake_archivesspace_app(archives))
        )
        config = root / "aspace.toml"
        await asyncio.to_thread(
            _write, config, drop, gateway, aspace_url, (port, fingerprint, password)
        )
        setup = await asyncio.to_thread(read_config, config)
        options = await asyncio.to_thread(ASPACE2ALMA_ENTRY.options, ["--institution", AB], setup)
        runner = JobRunner(ledger, SystemClock(), ledger)
        result = await runner.run(
            ASPACE2ALMA_ENTRY.build(options, setup), out_dir=root / "aspace2alma", options=options
        )
    async with ledger.unit_of_work() as uow:
        records = tuple(await uow.runs.records_of(result.run.id))
    files = tuple(sorted(p.name for p in drop.iterdir() if p.is_file()))
    step = AspaceStep(result, records, files, drop / "MARC_out.xml")
    _tell(step, aspace_url, say)
    return step


def _tell(step: AspaceStep, aspace_url: str, say: Callable[[str], None]) -> None:
    run = step.run.run
    say(
        f"then: ArchivesSpace to Alma from the fake ArchivesSpace at {aspace_url}: run {run.id} "
        f"{run.status.value}, {len(step.written())} records written, "
        f"{len(step.failed())} failed"
    )
    for record in step.records:
        if record.kind == "rotation":
            say(f"      rotation first (AS1): {record.reason}")
    for record in step.written():
        say(f"      {record.key}: {record.reason}")
    for record in step.failed():
        say(f"      {record.key} FAILED: {record.reason}")
    if step.uploaded.is_file():
        size = step.uploaded.stat().st_size
        say(
            f"      uploaded MARC_out.xml ({size} bytes); drop folder: {', '.join(step.drop_files)}"
        )


def _seed(archives: FakeArchivesSpaceState) -> None:
    archives.add_repository(REPOSITORY, "mss", "Manuscripts Division")
    for resource_id, call_number, title, location, barcodes in _COLLECTIONS:
        marcxml = resource_marcxml(
            ResourceSpec(
                call_number,
                title,
                location_code=location,
                finding_aid_url=f"http://arks.princeton.edu/ark:/88435/{call_number.lower()}",
            )
        )
        if resource_id == WITHOUT_041:
            marcxml = re.sub(rb'<datafield[^>]*tag="041".*?</datafield>', b"", marcxml, flags=re.S)
        archives.add_resource(REPOSITORY, resource_id, marcxml, identifier=call_number, title=title)
        for number, barcode in enumerate(barcodes, start=1):
            archives.add_top_container(
                REPOSITORY,
                resource_id,
                barcode=barcode,
                type="box",
                indicator=str(number),
                location_code=location,
            )


def _write(
    config: Path, drop: Path, gateway: str, aspace_url: str, sftp: tuple[int, str, str]
) -> None:
    port, fingerprint, password = sftp
    drop.mkdir(parents=True, exist_ok=True)
    # Yesterday's upload and the day before's: the run moves them out of Alma's way first.
    (drop / "MARC_out.xml").write_bytes(b"<collection><!-- (yesterday) --></collection>")
    (drop / "MARC_out_old.xml").write_bytes(b"<collection><!-- (two days ago) --></collection>")
    config.write_text(
        f'[alma.{AB}]\nurl = "{gateway}"\napikey = "{API_KEYS[AB]}"\n'
        "rate_limit_per_second = 25\n\n"
        f'[remotes.drop]\nurl = "sftp://{SFTP_USER}@{LOOPBACK}:{port}/aspace"\n'
        f'password = "{password}"\nhost_key = "{fingerprint}"\n\n'
        f'[aspace2alma]\nbarcode_set = "{BARCODE_SET}"\ntarget = "drop"\n'
        f'[aspace2alma.archivesspace]\nurl = "{aspace_url}"\nuser = "{DEFAULT_USER}"\n'
        f'password = "{DEFAULT_PASSWORD}"\n',
        encoding="utf-8",
    )
