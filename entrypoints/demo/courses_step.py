"""The demo's Leganto step (issue 17, rules L1–L8, B7): a small CEM file loaded for 01AAA_AB.

The campus drops ``leganto_export_{today}_0715.csv`` (Latin-1, as ASU's feed) on the demo's SFTP
server; `almabridge run course-loading` fetches it, checks its DELETEs against the fake Alma,
writes the loader file and pushes it to the course-loader folder on the same server. Then
`almabridge run course-rollover-report` (no ``job_id``: ``report_delay_minutes = 0``) finds the
course to roll over from last year and sends the report to a local SMTP server the step starts,
which keeps the e-mail. Both run on the service's own ledger, beside the syncs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.clock import SystemClock
from application.ports.ledger import Ledger
from application.shared.run_records import RecordOutcome, RunRecord, RunStatus
from application.shared.runs import JobRunner, RunResult
from entrypoints.courses_wiring import COURSE_LOADING_ENTRY, COURSE_ROLLOVER_REPORT_ENTRY
from entrypoints.demo.servers import LOOPBACK, smtp_server
from entrypoints.demo.setup import AB, API_KEYS, SFTP_USER
from entrypoints.scheduling import notifications_for
from entrypoints.workflow_entries import WorkflowEntry, configured_settings, read_config

__all__ = ["CoursesStep", "run_courses_step"]

READERS = "reserves@demo.example"
_HEADER = (
    "MYASU_COURSE_IDSTRING,COURSE_STATUS,COURSE_NAME,SLN,ASURITEID,COLLEGE_OR_DIVISION_CODE,"
    "CAMPUS,COURSE_ID,TERM,YEAR,START_SYNC_DATE,END_SYNC_DATE,COPY_COURSE_SLN,"
    "COPY_COURSE_SEMESTER_YEAR,COPY_COURSE_ID,COPY_COURSE_SEMESTER_TERM"
)


@dataclass(frozen=True)
class CoursesStep:
    """What the two runs did, read back from the ledger, and the e-mail the report went out in."""

    load: RunResult
    report: RunResult
    records: tuple[RunRecord, ...]
    loader_file: Path | None
    pushed: bool
    mail: tuple[EmailMessage, ...]

    def dropped_deletes(self) -> list[RunRecord]:
        """The DELETEs the guard dropped, with their reasons (L5)."""
        return [r for r in self.records if r.kind == "course" and "DELETE dropped" in r.reason]

    def rollovers(self) -> list[RunRecord]:
        """The courses to roll over (L8)."""
        return [r for r in self.records if r.kind == "rollover" and r.outcome is RecordOutcome.OK]

    def as_expected(self) -> bool:
        """Both runs ok, the file pushed, two DELETEs dropped, one rollover e-mailed."""
        attached = any(
            part.get_filename() and str(part.get_filename()).startswith("rollover_")
            for message in self.mail
            for part in message.iter_attachments()
        )
        return (
            self.load.run.status is RunStatus.OK
            and self.report.run.status is RunStatus.OK
            and self.pushed
            and len(self.dropped_deletes()) == 2
            and len(self.rollovers()) == 1
            and attached
        )


async def run_courses_step(
    root: Path,
    state: FakeAlmaState,
    gateway: str,
    sftp: tuple[Path, int, str, str],
    ledger: Ledger,
    say: Callable[[str], None],
) -> CoursesStep:
    """Seed the courses, drop the CEM file, load it, report the rollovers, and say so."""
    sftp_root, port, fingerprint, password = sftp
    today = datetime.now().date()
    _seed(state, today)
    async with smtp_server() as (smtp_port, mailbox):
        config = root / "courses.toml"
        await asyncio.to_thread(
            _write, config, sftp_root, today, gateway, (port, fingerprint, password), smtp_port
        )
        args = ["--institution", AB]
        load = await _run(COURSE_LOADING_ENTRY, config, args, root / "course-loading", ledger)
        report = await _run(
            COURSE_ROLLOVER_REPORT_ENTRY, config, args, root / "course-rollover-report", ledger
        )
    async with ledger.unit_of_work() as uow:
        records = (
            *await uow.runs.records_of(load.run.id),
            *await uow.runs.records_of(report.run.id),
        )
    loader = next((Path(load.run.out_dir or root) / o.name for o in load.run.outputs), None)
    pushed = loader is not None and (sftp_root / "course_loader" / loader.name).is_file()
    step = CoursesStep(load, report, tuple(records), loader, pushed, tuple(mailbox.messages))
    _tell(step, say)
    return step


async def _run(
    entry: WorkflowEntry, config: Path, args: list[str], out: Path, ledger: Ledger
) -> RunResult:
    setup = await asyncio.to_thread(read_config, config)
    # The entry reads the configuration file: a small blocking read, off the event loop.
    options = await asyncio.to_thread(entry.options, args, setup)
    settings = await asyncio.to_thread(configured_settings, setup, None, entry.name)
    runner = JobRunner(ledger, SystemClock(), ledger, notifications_for(settings.notify))
    return await runner.run(entry.build(options, setup), out_dir=out, options=options)


def _tell(step: CoursesStep, say: Callable[[str], None]) -> None:
    load, report = step.load.run, step.report.run
    counts = load.counts
    say(
        f"then: Leganto course loading of {AB}: run {load.id} {load.status.value}, "
        f"{counts.ok} ok, {counts.skipped} skipped, {counts.failed} failed; "
        f"{'pushed' if step.pushed else 'NOT pushed'} to alma:course_loader"
    )
    if step.loader_file is not None and step.loader_file.is_file():
        lines = step.loader_file.read_text(encoding="utf-8").splitlines()
        say(f"      {step.loader_file} ({len(lines) - 1} courses), first rows:")
        for line in lines[:3]:
            cells = line.split("\t")
            say(f"        {' | '.join(cells[:6])} | … | {cells[28] or '(create/update)'}")
    for record in step.dropped_deletes():
        say(f"      {record.key}: {record.reason}")
    say(f"      rollover report: run {report.id} {report.status.value}")
    for record in step.rollovers():
        say(f"        {record.key}: {record.reason}")
    for message in step.mail:
        names = ", ".join(str(p.get_filename()) for p in message.iter_attachments())
        say(f"      e-mail to {message['To']}: {message['Subject']} (attached: {names})")


def _seed(state: FakeAlmaState, today: date) -> None:
    this, last = today.year, today.year - 1
    state.add_course(AB, _course(f"{this}Fall-X-HIS300-50001", "50001", this, "Modern Europe"))
    with_lists = state.add_course(AB, _course(f"{this}Fall-X-LAW500-50002", "50002", this, "Torts"))
    state.add_reading_list(AB, with_lists.course_id, code="LAW500-RL", name="Torts readings")
    state.add_course(AB, _course(f"{this}Fall-X-PHY1000-50003", "50003", this, "Physics II"))
    old = state.add_course(AB, _course(f"{last}Fall-X-BIO100-40404", "40404", last, "Biology I"))
    state.add_reading_list(AB, old.course_id, code="BIO100-RL", name="Biology readings")


def _course(code: str, section: str, year: int, name: str) -> dict[str, Any]:
    return {"code": code, "section": section, "year": str(year), "name": name}


def _cem(today: date) -> bytes:
    y = today.year
    start, end = f"{y}-08-19 00:00:00.000000000", f"{y}-12-06 00:00:00.000000000"
    rows = [
        # Two instructors of one course: merged (L4); é in Latin-1, as the campus sends it.
        f"{y}Fall-X-ENG101-12345,APPROVED,Écrire en anglais,12345,jdoe1,LA,TEMPE,ENG101,7,{y}",
        f"{y}Fall-X-ENG101-12345,APPROVED,Écrire en anglais,12345,asmith2,LA,TEMPE,ENG101,7,{y}",
        f"{y}Fall-X-MUS200-22222,APPROVED,Music Theory,22222,bchan3,HI,TEMPE,MUS200,7,{y}",
        # DELETEs (L5): one kept, one with reading lists, one only a partial match of PHY1000.
        f"{y}Fall-X-HIS300-50001,DENIED,Modern Europe,50001,cking4,LA,TEMPE,HIS300,7,{y}",
        f"{y}Fall-X-LAW500-50002,SUSPENDED,Torts,50002,cking4,LW,DTPHX,LAW500,7,{y}",
        f"{y}Fall-X-PHY100-50003,DENIED,Physics,50003,emay6,LS,TEMPE,PHY100,7,{y}",
        # A campus the tables do not know: the fallback, recorded (L3).
        f"{y}Fall-X-GEO110-33333,APPROVED,Landforms,33333,fgil7,LS,MARS,GEO110,7,{y}",
        f"{y}Fall-X-XYZ999-77777,REQUESTED,Not yet,77777,hjo9,LA,TEMPE,XYZ999,7,{y}",
    ]
    lines = [_HEADER, *(f"{row},{start},{end},,,," for row in rows)]
    # The rollover candidate (L8): last year's BIO100, section 40404, has reading lists.
    lines.append(
        f"{y}Fall-X-BIO100-44444,APPROVED,Biology I,44444,dlee5,LS,TEMPE,BIO100,7,{y},"
        f"{start},{end},40404,{y - 1},BIO100,7"
    )
    return ("\r\n".join(lines) + "\r\n").encode("iso-8859-1")


def _write(
    config: Path,
    sftp_root: Path,
    today: date,
    gateway: str,
    sftp: tuple[int, str, str],
    smtp_port: int,
) -> None:
    port, fingerprint, password = sftp
    campus = sftp_root / "campus"
    campus.mkdir(parents=True, exist_ok=True)
    (sftp_root / "course_loader").mkdir(parents=True, exist_ok=True)
    (campus / f"leganto_export_{today:%Y%m%d}_0715.csv").write_bytes(_cem(today))
    remote = f'password = "{password}"\nhost_key = "{fingerprint}"\n'
    config.write_text(
        f'[alma.{AB}]\nurl = "{gateway}"\napikey = "{API_KEYS[AB]}"\n'
        "rate_limit_per_second = 25\n\n"
        f'[remotes.campus]\nurl = "sftp://{SFTP_USER}@{LOOPBACK}:{port}/campus"\n{remote}\n'
        f'[remotes.alma]\nurl = "sftp://{SFTP_USER}@{LOOPBACK}:{port}/course_loader"\n{remote}\n'
        "[course_loading]\nreport_delay_minutes = 0\n\n"
        f'[notify.smtp]\nhost = "{LOOPBACK}"\nport = {smtp_port}\nstarttls = false\n'
        'from = "almabridge@demo.example"\n\n'
        f'[notify.course-rollover-report]\nto = ["{READERS}"]\non = ["failed", "partial", "ok"]\n',
        encoding="utf-8",
    )
