"""Wiring of ArchivesSpace to Alma: `almabridge run aspace2alma` and `almabridge run
aspace2alma-remove-stale` (rules AS1–AS6, B1–B5, B8, B9).

The entries turn the command line and the ``--config`` file into the options stored with the
run, and build the workflows from stored options alone, so ``--resume`` works (B5):

* ``--institution CODE`` names the ``[alma.CODE]`` table whose set holds the known barcodes
  (exit 2 when the file has none); for a scheduled run, ``institution`` in ``[aspace2alma]``
  stands in for it. ``[aspace2alma] barcode_set`` is required (exit 2 naming the key);
* ``--no-upload``: no remote is touched at all, rotation included (AS1);
* the remove-stale run takes no flag.

Resources: each run reads the configuration again in a worker thread for the secrets (never
stored: the ArchivesSpace password, the API key), opens one `AlmaHttpClient` (B4) and one
ArchivesSpace client (``[aspace2alma.archivesspace]``: URL, user, ``concurrency``) and closes
both when the run ends; each remote operation opens and closes its own connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.sets import HttpSetMembers
from adapters.aspace.http_client import HttpArchivesSpace
from adapters.aspace.marc_out import MarcOutFiles
from adapters.aspace.resource_marc import AspaceResourceMarc
from application.aspace.drop_folder import DropFolder
from application.aspace.export_collection import ASPACE2ALMA, ExportCollection
from application.aspace.ports import ArchivesSpace
from application.aspace.remove_stale import ASPACE2ALMA_REMOVE_STALE, RemoveStaleFile
from application.ports.transfer import FileTransfer
from application.shared.connections import Secret
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext, RunFailed, Workflow
from application.shared.workflow_settings import (
    AlmaInstitution,
    ArchivesSpaceConnection,
    Remote,
    UnknownInstitution,
    UnknownRemote,
    WorkflowSettings,
)
from entrypoints.workflow_entries import (
    WorkflowArguments,
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
    alma_client,
    configured_settings,
    remote_folder,
    remote_transfer,
)

__all__ = ["ASPACE2ALMA_ENTRY", "ASPACE2ALMA_REMOVE_STALE_ENTRY", "AspaceJob"]

SECTION: Final = "aspace2alma"

ClientFactory = Callable[[AlmaInstitution], AlmaHttpClient]
TransferFactory = Callable[[Remote], FileTransfer]
AspaceFactory = Callable[[ArchivesSpaceConnection], ArchivesSpace]


def archivesspace_client(connection: ArchivesSpaceConnection) -> ArchivesSpace:
    """A run's own ArchivesSpace client: the configured URL, login and calls in flight."""
    return HttpArchivesSpace(
        connection.url,
        connection.user,
        connection.password or Secret(""),
        concurrency=connection.concurrency,
    )


@dataclass(frozen=True)
class AspaceJobOptions:
    """The stored options of a run of either workflow, read back (B5)."""

    workflow: str
    institution: str | None = None
    upload: bool = True

    def stored(self) -> dict[str, JsonValue]:
        """The options as the ledger keeps them (no secret among them)."""
        return {"institution": self.institution, "upload": self.upload}

    @classmethod
    def read(cls, workflow: str, options: Mapping[str, JsonValue]) -> AspaceJobOptions:
        """The options of a stored run; WorkflowUsageError when they are not this workflow's."""
        institution = options.get("institution")
        if not isinstance(institution, str | None) or (workflow == ASPACE2ALMA and not institution):
            raise WorkflowUsageError(f"{workflow}: the run's options are not a {workflow} run's")
        return cls(workflow, institution, options.get("upload") is not False)


class AspaceJob:
    """Either workflow as the runner sees it: opens its clients when the run starts and closes
    them when it ends (see the module text)."""

    def __init__(
        self,
        options: AspaceJobOptions,
        setup: WorkflowSetup,
        *,
        connect_alma: ClientFactory = alma_client,
        connect_remote: TransferFactory = remote_transfer,
        connect_aspace: AspaceFactory = archivesspace_client,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.options = options
        self._setup = setup
        self._connect_alma = connect_alma
        self._connect_remote = connect_remote
        self._connect_aspace = connect_aspace
        self._environ = environ

    @property
    def name(self) -> str:
        return self.options.workflow

    async def run(self, context: RunContext) -> None:
        """Build the workflow over fresh clients, run it, close them (B4)."""
        try:
            settings = await asyncio.to_thread(
                configured_settings, self._setup, self._environ, self.name
            )
            drop = self._drop(settings) if self.options.upload else None
            institution = (
                settings.institution(self.options.institution) if self.options.institution else None
            )
        except (WorkflowUsageError, UnknownInstitution, UnknownRemote) as error:
            raise RunFailed(f"the workflows configuration cannot serve this run: {error}") from None
        if self.name == ASPACE2ALMA_REMOVE_STALE:
            if drop is None:
                raise RunFailed("aspace2alma-remove-stale has nothing to do without its remote")
            await RemoveStaleFile(drop).run(context)
            return
        aspace = settings.aspace2alma
        if institution is None or not aspace.barcode_set:
            raise RunFailed("[aspace2alma] barcode_set and --institution are required")
        client = self._connect_alma(institution)
        archives = self._connect_aspace(aspace.archivesspace)
        try:
            await ExportCollection(
                archives,
                HttpSetMembers(client, institution.code, institution.apikey),
                AspaceResourceMarc(),
                MarcOutFiles(),
                aspace.rules,
                aspace.barcode_set,
                drop=drop,
                concurrency=aspace.archivesspace.concurrency,
            ).run(context)
        finally:
            await archives.aclose()
            await client.aclose()

    def _drop(self, settings: WorkflowSettings) -> DropFolder:
        target = settings.aspace2alma.target
        remote = settings.remote(target)
        folder = remote_folder(remote, target.path)
        return DropFolder(lambda: self._connect_remote(remote), folder, str(target))


# ---- the entries -----------------------------------------------------------------------------


def _export_options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(ASPACE2ALMA)
    parser.add_argument("--institution", metavar="CODE")
    parser.add_argument("--no-upload", action="store_true")
    given = parser.parse_args(list(args))
    section = setup.config.get(SECTION, {})
    section = section if isinstance(section, Mapping) else {}
    configured = section.get("institution")
    institution = given.institution or (configured.strip() if isinstance(configured, str) else "")
    if not institution:
        raise WorkflowUsageError(
            f"almabridge run {ASPACE2ALMA}: --institution CODE is required (the [alma.CODE] "
            "table whose set holds the known barcodes)"
        )
    settings = configured_settings(setup, None, ASPACE2ALMA)
    try:
        settings.institution(institution)
    except UnknownInstitution as error:
        raise WorkflowUsageError(f"--institution {institution}: {error}") from None
    if not settings.aspace2alma.barcode_set:
        raise WorkflowUsageError(
            f"{SECTION}.barcode_set: the id of the Alma set of known barcodes is required (AS3)"
        )
    if not given.no_upload:
        _check_target(settings)
    return AspaceJobOptions(ASPACE2ALMA, institution, not given.no_upload).stored()


def _remove_stale_options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    WorkflowArguments(ASPACE2ALMA_REMOVE_STALE).parse_args(list(args))
    _check_target(configured_settings(setup, None, ASPACE2ALMA_REMOVE_STALE))
    return AspaceJobOptions(ASPACE2ALMA_REMOVE_STALE).stored()


def _check_target(settings: WorkflowSettings) -> None:
    try:
        settings.remote(settings.aspace2alma.target)
    except UnknownRemote as error:
        raise WorkflowUsageError(f"{SECTION}.target: {error}") from None


def _build_for(workflow: str) -> Callable[[Mapping[str, JsonValue], WorkflowSetup], Workflow]:
    def build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
        job = AspaceJobOptions.read(workflow, options)
        alma = setup.config.get("alma")
        if job.institution and (not isinstance(alma, Mapping) or job.institution not in alma):
            raise WorkflowUsageError(
                f"--institution {job.institution}: no [alma.{job.institution}] table in the "
                "workflows configuration (--config)"
            )
        return AspaceJob(job, setup)

    return build


ASPACE2ALMA_ENTRY = WorkflowEntry(
    name=ASPACE2ALMA,
    summary=(
        "ArchivesSpace collection records and ReCAP items into MARC_out.xml for Alma's import "
        "profile, yesterday's file rotated away first (AS1-AS6)"
    ),
    options=_export_options,
    build=_build_for(ASPACE2ALMA),
    usage=(
        "--config FILE --institution CODE [--no-upload]; removes MARC_out_old.xml and renames "
        "MARC_out.xml to it on [aspace2alma] target, reads the barcodes of barcode_set, "
        "transforms every resource, writes MARC_out.xml to --out and uploads it (not with "
        "--no-upload or --dry-run, which touch no remote). Cron (Sun-Fri, Princeton's): "
        "'30 10 * * 0-5 almabridge run aspace2alma --config /etc/almabridge/workflows.toml "
        "--institution 01ABC_INST --out /srv/aspace2alma'"
    ),
)

ASPACE2ALMA_REMOVE_STALE_ENTRY = WorkflowEntry(
    name=ASPACE2ALMA_REMOVE_STALE,
    summary=(
        "the Saturday run: remove MARC_out.xml from [aspace2alma] target so Alma does not "
        "import yesterday's file twice (AS1)"
    ),
    options=_remove_stale_options,
    build=_build_for(ASPACE2ALMA_REMOVE_STALE),
    usage=(
        "--config FILE. Cron (Saturdays, while ArchivesSpace is down for maintenance): "
        "'30 10 * * 6 almabridge run aspace2alma-remove-stale --config "
        "/etc/almabridge/workflows.toml'"
    ),
)
