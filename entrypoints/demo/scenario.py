"""`almabridge demo`: the whole bridge on one machine, driven the way Alma drives it.

A fake Alma (two members and the SCF), an SFTP server and the service (HTTP app with its worker,
ledger on SQLite) start on 127.0.0.1 random ports. The demo then acts as Alma: it drops a
publishing archive and a request file of 01AAA_AB on the SFTP server, sends the signed JOB_END
webhooks, has the SCF desk return a mirror's loan and cancel a forwarded request, and sends the
LOAN_RETURNED and REQUEST_CANCELED that follow. After each webhook it waits (bounded) until the
worker has emptied the inbox. Then it runs a WEST holdings export of 01AAA_AB on the same fake
Alma and ledger (`west_step`), and the OCLC data-sync merge of the reference inputs with the
doublecheck from the fake's Analytics (`oclc_step`; skipped when the reference folder is not
there), prints what the ledger says happened and stops everything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.seed import default_seed_path, state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.migrate import upgrade
from application.ports.ledger import Ledger
from application.scf.log_backup import back_up_logs
from entrypoints.container import Container, open_bridge
from entrypoints.demo import webhooks
from entrypoints.demo.alma_files import (
    PublishedItem,
    PublishedRecord,
    publishing_archive,
    request_export,
)
from entrypoints.demo.aspace_step import AspaceStep, run_aspace_step
from entrypoints.demo.courses_step import CoursesStep, run_courses_step
from entrypoints.demo.oclc_step import OclcSkipped, OclcStep, run_oclc_step
from entrypoints.demo.report import Happened, read_back
from entrypoints.demo.scf_desk import ScfDesk
from entrypoints.demo.servers import http_server, sftp_server
from entrypoints.demo.setup import (
    AB,
    AB_PUBLISHING_JOB,
    AB_REQUESTS_JOB,
    API_KEYS,
    MAIN_FOLDER,
    SCF,
    SCF_DESK,
    SCF_LIBRARY,
    SFTP_USER,
    DemoPaths,
    DemoSecrets,
    conf_document,
    service_environ,
    write_conf,
)
from entrypoints.demo.west_step import WestStep, run_west_step
from entrypoints.log_backup_runtime import install_log_file

log = logging.getLogger(__name__)

PUBLISHED = ("AB0001", "AB0002", "AB 0003+4&5#6", "AB0004")
"""AB's items in the archive: three in remote storage (mirrored), AB0004 on open shelves."""
RETURNED, CANCELLED = "AB0002", "AB0001"
STEP_TIMEOUT = 20.0


@dataclass
class DemoOutcome:
    """What the demo found, and where it left the ledger and the logs."""

    happened: Happened
    paths: DemoPaths
    backup: str | None
    leftovers: tuple[str, ...] = ()
    """Tasks still running once everything was stopped (none, or the demo failed its promise)."""
    west: WestStep | None = None
    """The WEST holdings export run on the same fake Alma (issue 15)."""
    oclc: OclcStep | OclcSkipped | None = None
    """The OCLC data-sync merge of the reference inputs (issue 16), or why it was skipped."""
    courses: CoursesStep | None = None
    """The Leganto course load and rollover report (issue 17)."""
    aspace: AspaceStep | None = None
    """The ArchivesSpace to Alma export (issue 18)."""


class Demo:
    """One run: the servers' URLs, the fake Alma's state, and the service's ledger."""

    def __init__(self, paths: DemoPaths, console: Console) -> None:
        self.paths = paths
        self.console = console
        self.secrets = DemoSecrets()
        self.state: FakeAlmaState = state_from_file(default_seed_path())

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False)

    async def run(self) -> DemoOutcome:
        """Start everything, play the scenario, read the ledger back; everything is stopped
        when this returns or raises."""
        async with AsyncExitStack() as stack:
            gateway = await stack.enter_async_context(http_server(create_fake_alma_app(self.state)))
            sftp = await stack.enter_async_context(
                sftp_server(self.paths.sftp_root, SFTP_USER, self.secrets.sftp_password)
            )
            document = conf_document(self.paths, gateway, sftp.port, sftp.fingerprint, self.secrets)
            write_conf(self.paths, document)
            await upgrade(self.paths.database_url)
            container = Container()
            container.environ.override(service_environ(self.paths))
            stack.push_async_callback(_close, container)
            from entrypoints.http import create_app  # the web stack only when it is needed

            bridge_url = await stack.enter_async_context(
                http_server(create_app(container, run_worker=True))
            )
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
            self.say(f"fake Alma     {gateway}/almaws/v1  (members {AB}, 01AAA_CD; SCF {SCF})")
            self.say(f"SFTP server   sftp://{SFTP_USER}@127.0.0.1:{sftp.port}{MAIN_FOLDER}")
            self.say(f"              host key {sftp.fingerprint} (pinned in conf.json)")
            self.say(f"almabridge    {bridge_url}  (webhook /webhook, worker inside, SQLite)")
            ledger: Ledger = container.ledger()
            desk = ScfDesk(client, gateway, API_KEYS[SCF], SCF_LIBRARY, SCF_DESK)
            webhook = _Webhooks(client, f"{bridge_url}/webhook", self.secrets.webhook, ledger)
            await self._play(webhook, desk, ledger)
            west = await run_west_step(self.paths.root, self.state, gateway, ledger, self.say)
            oclc = await run_oclc_step(self.paths.root, self.state, gateway, ledger, self.say)
            sftp_access = (
                self.paths.sftp_root,
                sftp.port,
                sftp.fingerprint,
                self.secrets.sftp_password,
            )
            courses = await run_courses_step(
                self.paths.root, self.state, gateway, sftp_access, ledger, self.say
            )
            aspace = await run_aspace_step(
                self.paths.root, self.state, gateway, sftp_access, ledger, self.say
            )
            happened = await read_back(ledger)
            backup = await self._back_up_logs(container)
        return DemoOutcome(
            happened, self.paths, backup, west=west, oclc=oclc, courses=courses, aspace=aspace
        )

    async def _play(self, webhook: _Webhooks, desk: ScfDesk, ledger: Ledger) -> None:
        self.drop_publishing_archive()
        await webhook.step(
            "1/4 publishing archive of 01AAA_AB dropped; JOB_END sent",
            webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing Platform Job RS"),
            self.say,
        )
        self.drop_request_file()
        await webhook.step(
            "2/4 request file of 01AAA_AB dropped; JOB_END sent",
            webhooks.job_end(AB, AB_REQUESTS_JOB, "Remote storage requests export"),
            self.say,
        )
        loan = await desk.return_loan(f"{RETURNED}X", f"{AB}-ABRS")
        await webhook.step(
            f"3/4 SCF desk returned the loan of {RETURNED}X; LOAN_RETURNED sent",
            webhooks.loan_returned(SCF, f"{RETURNED}X", loan.user_id, loan.loan_id),
            self.say,
        )
        source = self.state.requests_of(AB, user_id="ab_patron1")[0].request_id
        record = await ledger.request_record(AB, source)
        forwarded = record.request
        if forwarded is None or not forwarded.scf_request_id or not forwarded.scf_mms_id:
            self.say(f"4/4 skipped: request {source} of {AB} was not forwarded to the SCF")
            return
        comment = await desk.cancel_request(forwarded.scf_mms_id, forwarded.scf_request_id)
        await webhook.step(
            f"4/4 SCF desk cancelled request {forwarded.scf_request_id} on {CANCELLED}X; "
            "REQUEST_CANCELED sent",
            webhooks.request_canceled(
                SCF, forwarded.scf_request_id, f"{CANCELLED}X", f"{AB}-ABRS", comment
            ),
            self.say,
        )

    def drop_publishing_archive(self) -> None:
        """AB's publishing output, as Alma's publishing job would upload it."""
        records: dict[str, PublishedRecord] = {}
        for barcode in PUBLISHED:
            item = self.state.item_by_barcode(AB, barcode)
            bib = self.state.bib(AB, item.mms_id)
            entry = PublishedItem(
                barcode, item.data["library"]["value"], item.data["location"]["value"]
            )
            known = records.get(item.mms_id)
            items = (*known.items, entry) if known else (entry,)
            records[item.mms_id] = PublishedRecord(
                item.mms_id, f"Record {item.mms_id}", items, bib.nz_mms_id
            )
        name = f"{AB}_publishing_{datetime.now(UTC):%Y%m%d_%H%M%S}_new"
        archive = publishing_archive(name, records.values())
        (self.paths.drop_folder(AB, "items") / f"{name}.tar.gz").write_bytes(archive)

    def drop_request_file(self) -> None:
        """AB's remote-storage requests: the seeded hold on AB0001, and a new hold on AB0004
        (on open shelves, so never in the SCF: the bridge cancels it, rule R7)."""
        shelf = self.state.item_by_barcode(AB, "AB0004")
        self.state.create_item_request(
            AB,
            shelf.mms_id,
            shelf.holding_id,
            shelf.pid,
            "ab_patron2",
            {
                "request_type": "HOLD",
                "pickup_location_type": "LIBRARY",
                "pickup_location_library": "ABMAIN",
            },
        )
        barcode_of = {self.state.item_by_barcode(AB, b).pid: b for b in PUBLISHED}
        exported: list[dict[str, str]] = []
        for request in self.state.requests_of(AB):
            barcode = barcode_of.get(request.item_pid or "")
            if barcode is None:
                continue
            exported.append(
                {
                    "requestId": request.request_id,
                    "requestType": "PATRON_PHYSICAL",
                    "barcode": barcode,
                    "mmsId": request.mms_id,
                    "pickup": "AB Remote Storage Library",
                    "patronName": request.user_primary_id,
                    "patronIdentifier": request.user_primary_id,
                }
            )
        name = f"{AB}_requests_{datetime.now(UTC):%Y%m%d_%H%M%S}.xml"
        (self.paths.drop_folder(AB, "requests") / name).write_bytes(request_export(exported))

    async def _back_up_logs(self, container: Container) -> str | None:
        """The daily log backup (conf.json `log_backup`), run once now to show it."""
        settings = container.settings().current
        try:
            async with open_bridge(container) as bridge:
                return await back_up_logs(
                    bridge.files,
                    bridge.ledger,
                    settings.file_server.main_folder,
                    settings.log_backup,
                    datetime.now(UTC),
                )
        except Exception as error:
            log.warning("demo log backup failed: %s", error)
            return None


class _Webhooks:
    """Sends one webhook and waits until the worker has finished with the inbox."""

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str, ledger: Ledger) -> None:
        self._client = client
        self._url = url
        self._secret = secret
        self._ledger = ledger

    async def step(self, label: str, body: dict[str, Any], say: Callable[[str], None]) -> None:
        started = asyncio.get_running_loop().time()
        await webhooks.send(self._client, self._url, self._secret, body)
        await _until(self._inbox_empty, STEP_TIMEOUT, f"the worker to finish: {label}")
        elapsed = asyncio.get_running_loop().time() - started
        say(f"{label}: done in {elapsed:.1f} s")

    async def _inbox_empty(self) -> bool:
        return (await self._ledger.inbox_depth()).backlog == 0


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Poll `condition` every 50 ms until it holds; TimeoutError naming `what` after `seconds`."""
    try:
        async with asyncio.timeout(seconds):
            # The worker's progress is in the database, written by another task: there is no
            # event to wait on, so the ledger is polled, briefly and with a deadline.
            while not await condition():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise TimeoutError(f"gave up after {seconds:.0f} s waiting for {what}") from None


async def _close(container: Container) -> None:
    # The service's lifespan may have closed these already; closing twice is harmless.
    holder = container.settings()
    if holder.loaded:
        await container.alma_client().aclose()
    await container.ledger().close()


async def _leftover_tasks() -> tuple[str, ...]:
    """Tasks other than this one still alive after shutdown, cancelled (and named) if any."""
    await asyncio.sleep(0)  # let tasks that were just told to finish do so
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    return tuple(task.get_name() for task in leftovers)


async def run_demo(folder: Path, console: Console) -> DemoOutcome:
    """The demo in `folder` (created), its log in `folder/logs/application.log`."""
    paths = DemoPaths(folder)
    paths.make()
    handler = install_log_file(paths.logs)
    try:
        outcome = await Demo(paths, console).run()
        return dataclasses.replace(outcome, leftovers=await _leftover_tasks())
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
