"""Wiring of the WEST holdings export: `almabridge run west-holdings` (rules H1–H5, B1–B5, B8,
B9).

``WEST_HOLDINGS_ENTRY`` turns the command line and the ``--config`` file into the options stored
with the run, and builds the workflow from stored options alone, so ``--resume`` works (B5):

* ``--institution CODE`` names an ``[alma.CODE]`` table (exit 2 when the file has none);
* exactly one source (H1): ``--mrc F``, ``--marcxml F``, ``--ids F`` (stored absolute; exit 2
  when the file does not exist) or ``--set ID``. For a scheduled run, ``institution`` and ``set``
  in ``[west_holdings]`` stand in for the flags;
* ``[west_holdings]`` (prefix, org_code, stamp_005, require_tags, upload_to) is stored with the
  options, so a resume writes what the killed run would have.

Resources: the workflow built here (`WestHoldingsJob`) opens nothing until it runs. Its run reads
the configuration again in a worker thread for the secrets (never stored), opens one
`AlmaHttpClient` for the institution (its URL, its rate, throttle and retries inside, B4) and
closes it when the run ends, however it ends; an upload opens and closes its own connection.

A built-in of `entrypoints.workflow_registry`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.holdings import HttpHoldingsReader
from adapters.alma_http.sets import HttpSetMembers
from adapters.west.alma_answers import ReadableHoldings
from adapters.west.export_files import AlmaHoldingMarc, WestFiles
from adapters.west.id_files import FLAG_KINDS, FileIdSource
from application.ports.transfer import FileTransfer
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext, RunFailed, Workflow
from application.shared.workflow_settings import (
    AlmaInstitution,
    Remote,
    RemotePath,
    UnknownInstitution,
    UnknownRemote,
    WorkflowSettings,
)
from application.west.export_holdings import WEST_HOLDINGS, ExportHoldings, WestExportSettings
from application.west.id_sources import SetIdSource
from application.west.ports import MmsIdSource
from application.west.upload import RemoteFolderUpload
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

__all__ = [
    "WEST_HOLDINGS_ENTRY",
    "ClientFactory",
    "WestHoldingsJob",
    "WestJobOptions",
]

SET_FLAG: Final = "--set"
SOURCE_FLAGS: Final = (*FLAG_KINDS, SET_FLAG)
SECTION: Final = "west_holdings"

ClientFactory = Callable[[AlmaInstitution], AlmaHttpClient]
"""How a run gets its Alma client: one per run, for the institution's URL and rate (B4)."""
TransferFactory = Callable[[Remote], FileTransfer]


@dataclass(frozen=True)
class WestJobOptions:
    """The stored options of one run, read back (B5)."""

    institution: str
    source: str
    """One of `SOURCE_FLAGS`."""
    input: str
    """The file's absolute path, or the set id."""
    settings: WestExportSettings
    upload_to: str | None = None

    def stored(self) -> dict[str, JsonValue]:
        """The options as the ledger keeps them (no secret among them)."""
        tags: list[JsonValue] = [*self.settings.require_tags]
        return {
            "institution": self.institution,
            "source": self.source,
            "input": self.input,
            "prefix": self.settings.prefix,
            "org_code": self.settings.org_code,
            "stamp_005": self.settings.stamp_005,
            "require_tags": tags,
            "upload_to": self.upload_to,
        }

    @classmethod
    def read(cls, options: Mapping[str, JsonValue]) -> WestJobOptions:
        """The options of a stored run; WorkflowUsageError when they are not a west run's."""
        text = {key: options.get(key) for key in ("institution", "source", "input", "prefix")}
        tags = options.get("require_tags")
        org_code, upload_to = options.get("org_code"), options.get("upload_to")
        if (
            not all(isinstance(value, str) and value for value in text.values())
            or text["source"] not in SOURCE_FLAGS
            or not isinstance(tags, list)
            or not tags
            or not all(isinstance(tag, str) for tag in tags)
            or not isinstance(org_code, str | None)
            or not isinstance(upload_to, str | None)
        ):
            raise WorkflowUsageError(f"{WEST_HOLDINGS}: the run's options are not a west run's")
        settings = WestExportSettings(
            prefix=str(text["prefix"]),
            org_code=org_code,
            stamp_005=options.get("stamp_005") is True,
            require_tags=tuple(str(tag) for tag in tags),
        )
        return cls(
            str(text["institution"]), str(text["source"]), str(text["input"]), settings, upload_to
        )


class WestHoldingsJob:
    """The `west-holdings` workflow as the runner sees it: opens the Alma client when the run
    starts and closes it when the run ends (see the module text)."""

    name = WEST_HOLDINGS

    def __init__(
        self,
        options: WestJobOptions,
        setup: WorkflowSetup,
        *,
        connect_alma: ClientFactory = alma_client,
        connect_remote: TransferFactory = remote_transfer,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.options = options
        self._setup = setup
        self._connect_alma = connect_alma
        self._connect_remote = connect_remote
        self._environ = environ

    async def run(self, context: RunContext) -> None:
        """Build the export over a fresh client, run it, close the client (B4)."""
        try:
            settings = await asyncio.to_thread(_settings, self._setup, self._environ)
            institution = settings.institution(self.options.institution)
            remote = _upload_remote(settings, self.options.upload_to)
        except (WorkflowUsageError, UnknownInstitution, UnknownRemote) as error:
            raise RunFailed(f"the workflows configuration cannot serve this run: {error}") from None
        client = self._connect_alma(institution)
        try:
            await self._export(client, institution, remote).run(context)
        finally:
            await client.aclose()

    def _export(
        self,
        client: AlmaHttpClient,
        institution: AlmaInstitution,
        remote: tuple[Remote, str, str] | None,
    ) -> ExportHoldings:
        options = self.options
        code, key = institution.code, institution.apikey
        source: MmsIdSource
        if options.source == SET_FLAG:
            source = SetIdSource(HttpSetMembers(client, code, key), options.input)
        else:
            source = FileIdSource(Path(options.input), options.source)
        upload = None
        if remote is not None:
            server, folder, target = remote
            upload = RemoteFolderUpload(lambda: self._connect_remote(server), folder, target)
        return ExportHoldings(
            source,
            ReadableHoldings(HttpHoldingsReader(client, code, key)),
            AlmaHoldingMarc(),
            WestFiles(),
            options.settings,
            # Enough calls in flight to use the rate at Alma's latency; the client's throttle
            # keeps the pace (H2, B4).
            concurrency=max(1, 2 * institution.rate_limit_per_second),
            upload=upload,
        )


# ---- the entry -------------------------------------------------------------------------------


def _options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(WEST_HOLDINGS)
    parser.add_argument("--institution", metavar="CODE")
    sources = parser.add_mutually_exclusive_group()
    for flag in FLAG_KINDS:
        sources.add_argument(flag, type=Path, metavar="FILE")
    sources.add_argument(SET_FLAG, dest="set_id", metavar="ID")
    given = parser.parse_args(list(args))
    section = setup.config.get(SECTION, {})
    section = section if isinstance(section, Mapping) else {}
    institution = given.institution or _text(section.get("institution"))
    if not institution:
        raise WorkflowUsageError(
            f"almabridge run {WEST_HOLDINGS}: --institution CODE is required (an [alma.CODE] "
            "table of --config)"
        )
    source, value = _source(given, section)
    settings = _settings(setup, None)
    try:
        settings.institution(institution)
    except UnknownInstitution as error:
        raise WorkflowUsageError(f"--institution {institution}: {error}") from None
    west = settings.west_holdings
    try:
        _upload_remote(settings, None if west.upload_to is None else str(west.upload_to))
    except UnknownRemote as error:
        raise WorkflowUsageError(f"{SECTION}.upload_to: {error}") from None
    return WestJobOptions(
        institution,
        source,
        value,
        WestExportSettings(west.prefix, west.org_code, west.stamp_005, west.require_tags),
        None if west.upload_to is None else str(west.upload_to),
    ).stored()


def _source(given: Any, section: Mapping[str, Any]) -> tuple[str, str]:
    """The one source flag given (H1), its file checked and made absolute (B2, B5)."""
    for flag in FLAG_KINDS:
        path: Path | None = getattr(given, flag.removeprefix("--"))
        if path is None:
            continue
        path = path.absolute()
        if not path.is_file():
            raise WorkflowUsageError(f"{flag} {path}: no such file")
        return flag, str(path)
    set_id = given.set_id or _text(section.get("set"))
    if set_id:
        return SET_FLAG, set_id
    raise WorkflowUsageError(
        f"almabridge run {WEST_HOLDINGS}: one of --mrc FILE, --marcxml FILE, --ids FILE or "
        "--set ID is required"
    )


def _build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
    job = WestJobOptions.read(options)
    alma = setup.config.get("alma")
    if not isinstance(alma, Mapping) or job.institution not in alma:
        raise WorkflowUsageError(
            f"--institution {job.institution}: no [alma.{job.institution}] table in the "
            "workflows configuration (--config)"
        )
    return WestHoldingsJob(job, setup)


def _settings(setup: WorkflowSetup, environ: Mapping[str, str] | None) -> WorkflowSettings:
    return configured_settings(setup, environ, WEST_HOLDINGS)


def _upload_remote(
    settings: WorkflowSettings, upload_to: str | None
) -> tuple[Remote, str, str] | None:
    """The remote, folder and reference of ``upload_to`` (``NAME`` or ``NAME:path``)."""
    if not upload_to:
        return None
    name, _, path = upload_to.partition(":")
    remote = settings.remote(RemotePath(name, path))
    return remote, remote_folder(remote, path), upload_to


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


WEST_HOLDINGS_ENTRY = WorkflowEntry(
    name=WEST_HOLDINGS,
    summary=(
        "export an institution's holdings records for WEST: MARCXML, MARC 21 and a report of "
        "every skip and failure (H1-H5)"
    ),
    options=_options,
    build=_build,
    usage=(
        "--config FILE --institution CODE (--mrc FILE | --marcxml FILE | --ids FILE | --set ID)"
        "; writes {prefix}.alma.archived.YYYYMMDD.xml, .mrc and .report.csv to --out, then "
        "uploads them to [west_holdings] upload_to unless --dry-run. Cron: "
        "'0 2 * * 1 almabridge run west-holdings --config /etc/almabridge/workflows.toml "
        "--institution 01ABC_INST --set 1234567890 --out /srv/west'"
    ),
)
