"""Wiring of the OCLC data-sync merge: `almabridge run oclc-sync` (rules O1–O8, B1–B5, B8, B9).

``OCLC_SYNC_ENTRY`` turns the command line and the ``--config`` file into the options stored
with the run, and builds the workflow from stored options alone, so ``--resume`` works (B5):

* ``--report F`` once per report (at least one; the order given decides a conflict when
  ``primary`` is not set, O2), ``--do-not-change F.xlsx``, and one doublecheck source:
  ``--doublecheck F.xlsx`` or ``--analytics-institution CODE`` (an ``[alma.CODE]`` table, the
  Network Zone, whose Analytics report ``analytics_path`` is read). Files are stored absolute;
  one that does not exist, or two inputs of one file name (B1 names inputs by file name), exit 2
  naming the flag and the path.
* ``--create-set`` (O8) needs ``--analytics-institution`` (the NZ whose Sets API makes the set);
  ``--run-job`` needs ``--create-set`` and ``[oclc_sync] normalize_job_id``. Otherwise exit 2.
* ``[oclc_sync]`` is stored with the options: ``nz_suffix``, ``institutions`` (the built-in OCUL
  table, a JSON file relative to the configuration, or inline; checked for a suffix or code
  given twice and for the NZ's suffix), ``primary``, ``analytics_path``, ``normalize_job_id``,
  and two more keys of this workflow, ``job_poll_seconds`` (15) and ``job_wait_minutes`` (240).
  Without ``--config`` the defaults serve, unless a flag needs an ``[alma.CODE]`` table.

Resources: the workflow built here (`OclcSyncJob`) opens nothing until it runs. With
``--analytics-institution`` its run reads the configuration again in a worker thread for the
secrets (never stored), opens one `AlmaHttpClient` for the institution (its URL, its rate,
throttle and retries inside, B4) and closes it when the run ends, however it ends.

A built-in of `entrypoints.workflow_registry`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from adapters.alma_http.analytics import HttpAnalyticsReports
from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.jobs import HttpJobInstances
from adapters.alma_http.set_writes import HttpItemizedSets
from adapters.oclc.oclc_files import OclcFiles
from adapters.oclc.oclc_inputs import (
    AnalyticsDoublecheck,
    ReportFiles,
    WorkbookDoNotChange,
    XlsxDoublecheck,
)
from application.oclc.nz_job import JobPolling, NormalizationJob, Sleep
from application.oclc.nz_set import NzSetChain
from application.oclc.oclc_sync import OCLC_SYNC, OclcRunSettings, OclcSync
from application.oclc.ports import DoublecheckSource
from application.ports.alma.sets import MAX_MEMBERS_PER_CALL
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext, RunFailed, Workflow
from application.shared.workflow_settings import (
    AlmaInstitution,
    OclcSyncSettings,
    UnknownInstitution,
    WorkflowSettings,
)
from domain.oclc.split import Institution, table_problems
from domain.shared.errors import DomainError
from entrypoints.workflow_entries import (
    WorkflowArguments,
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
    alma_client,
    configured_settings,
)

__all__ = ["OCLC_SYNC_ENTRY", "ClientFactory", "OclcJobOptions", "OclcSyncJob"]

SECTION: Final = "oclc_sync"
PROG: Final = f"almabridge run {OCLC_SYNC}"

ClientFactory = Callable[[AlmaInstitution], AlmaHttpClient]
"""How a run gets its Alma client: one per run, for the institution's URL and rate (B4)."""


def usage_error(message: str) -> WorkflowUsageError:
    """A usage error of this workflow, prefixed as argparse prefixes its own (exit 2)."""
    return WorkflowUsageError(f"{PROG}: {message}")


@dataclass(frozen=True)
class OclcJobOptions:
    """The stored options of one run, read back (B5): the inputs (absolute paths), the flags,
    and ``[oclc_sync]`` as the run started with it."""

    reports: tuple[str, ...]
    do_not_change: str | None
    doublecheck: str | None
    analytics_institution: str | None
    create_set: bool
    run_job: bool
    nz_suffix: str
    institutions: tuple[tuple[str, str, str], ...]
    """(name, 4-digit suffix, OCLC symbol) of each institution, in the table's order."""
    primary: str | None
    analytics_path: str
    normalize_job_id: str | None
    job_poll_seconds: float = 15.0
    job_wait_minutes: float = 240.0

    def institution_table(self) -> tuple[Institution, ...]:
        return tuple(Institution(name, suffix, code) for name, suffix, code in self.institutions)

    def stored(self) -> dict[str, JsonValue]:
        """The options as the ledger keeps them (no secret among them)."""
        reports: list[JsonValue] = [*self.reports]
        table: list[JsonValue] = [
            {"name": name, "id": suffix, "code": code} for name, suffix, code in self.institutions
        ]
        return {
            "reports": reports,
            "do_not_change": self.do_not_change,
            "doublecheck": self.doublecheck,
            "analytics_institution": self.analytics_institution,
            "create_set": self.create_set,
            "run_job": self.run_job,
            "nz_suffix": self.nz_suffix,
            "institutions": table,
            "primary": self.primary,
            "analytics_path": self.analytics_path,
            "normalize_job_id": self.normalize_job_id,
            "job_poll_seconds": self.job_poll_seconds,
            "job_wait_minutes": self.job_wait_minutes,
        }

    @classmethod
    def read(cls, options: Mapping[str, JsonValue]) -> OclcJobOptions:
        """The options of a stored run; WorkflowUsageError when they are not an oclc run's."""
        refused = WorkflowUsageError(f"{OCLC_SYNC}: the run's options are not an oclc-sync run's")
        reports, table = options.get("reports"), options.get("institutions")
        if not isinstance(reports, list) or not reports or not isinstance(table, list):
            raise refused
        institutions = tuple(_stored_institution(entry) for entry in table)
        texts = {
            key: options.get(key)
            for key in (
                "do_not_change",
                "doublecheck",
                "analytics_institution",
                "primary",
                "normalize_job_id",
            )
        }
        suffix, path = options.get("nz_suffix"), options.get("analytics_path")
        numbers = [options.get("job_poll_seconds", 15.0), options.get("job_wait_minutes", 240.0)]
        if (
            not all(isinstance(report, str) and report for report in reports)
            or None in institutions
            or not all(value is None or isinstance(value, str) for value in texts.values())
            or not isinstance(suffix, str)
            or not isinstance(path, str)
            or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)
        ):
            raise refused

        def text(key: str) -> str | None:
            value = texts[key]
            return value if isinstance(value, str) else None

        poll, wait = (float(n) for n in numbers if isinstance(n, int | float))
        return cls(
            reports=tuple(str(report) for report in reports),
            do_not_change=text("do_not_change"),
            doublecheck=text("doublecheck"),
            analytics_institution=text("analytics_institution"),
            create_set=options.get("create_set") is True,
            run_job=options.get("run_job") is True,
            nz_suffix=suffix,
            institutions=tuple(i for i in institutions if i is not None),
            primary=text("primary"),
            analytics_path=path,
            normalize_job_id=text("normalize_job_id"),
            job_poll_seconds=poll,
            job_wait_minutes=wait,
        )


def _stored_institution(entry: JsonValue) -> tuple[str, str, str] | None:
    if not isinstance(entry, dict):
        return None
    values = [entry.get(key) for key in ("name", "id", "code")]
    if not all(isinstance(value, str) for value in values):
        return None
    name, suffix, code = (str(value) for value in values)
    return name, suffix, code


class OclcSyncJob:
    """The `oclc-sync` workflow as the runner sees it: with an Analytics institution, opens its
    Alma client when the run starts and closes it when the run ends (see the module text).

    ``sleep`` and ``monotonic`` pace the job's polls (O8) and ``members_per_call`` the set's
    calls: tests make them instant and small."""

    name = OCLC_SYNC

    def __init__(
        self,
        options: OclcJobOptions,
        setup: WorkflowSetup,
        *,
        connect_alma: ClientFactory = alma_client,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        members_per_call: int = MAX_MEMBERS_PER_CALL,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.options = options
        self._setup = setup
        self._connect_alma = connect_alma
        self._sleep = sleep
        self._monotonic = monotonic
        self._members_per_call = members_per_call
        self._environ = environ

    async def run(self, context: RunContext) -> None:
        """Build the merge (over a fresh client for the NZ when one is named), run it."""
        code = self.options.analytics_institution
        if code is None:
            await self._merge(None, None).run(context)
            return
        try:
            settings = await asyncio.to_thread(_settings, self._setup, self._environ)
            institution = settings.institution(code)
        except (WorkflowUsageError, UnknownInstitution) as error:
            raise RunFailed(f"the workflows configuration cannot serve this run: {error}") from None
        client = self._connect_alma(institution)
        try:
            await self._merge(client, institution).run(context)
        finally:
            await client.aclose()

    def _merge(self, client: AlmaHttpClient | None, nz: AlmaInstitution | None) -> OclcSync:
        options = self.options
        doublecheck: DoublecheckSource | None = None
        nz_set = None
        if options.doublecheck is not None:
            doublecheck = XlsxDoublecheck(Path(options.doublecheck))
        if client is not None and nz is not None:
            code, key = nz.code, nz.apikey
            analytics = HttpAnalyticsReports(client, code, key)
            doublecheck = AnalyticsDoublecheck(analytics, options.analytics_path)
            if options.create_set:
                nz_set = self._chain(client, nz)
        settings = OclcRunSettings(
            reports=tuple(Path(report) for report in options.reports),
            institutions=options.institution_table(),
            nz_suffix=options.nz_suffix,
            primary=options.primary,
        )
        do_not_change = options.do_not_change
        return OclcSync(
            settings,
            ReportFiles(),
            OclcFiles(),
            do_not_change=None
            if do_not_change is None
            else WorkbookDoNotChange(Path(do_not_change)),
            doublecheck=doublecheck,
            nz_set=nz_set,
        )

    def _chain(self, client: AlmaHttpClient, nz: AlmaInstitution) -> NzSetChain:
        options = self.options
        job = None
        if options.run_job and options.normalize_job_id:
            polling = JobPolling(
                options.normalize_job_id,
                poll_seconds=options.job_poll_seconds,
                wait_seconds=options.job_wait_minutes * 60,
            )
            job = NormalizationJob(
                HttpJobInstances(client, nz.code, nz.apikey),
                polling,
                sleep=self._sleep,
                monotonic=self._monotonic,
            )
        return NzSetChain(
            HttpItemizedSets(client, nz.code, nz.apikey),
            job,
            members_per_call=self._members_per_call,
        )


# ---- the entry -------------------------------------------------------------------------------


def _options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(OCLC_SYNC)
    parser.add_argument(
        "--report", dest="reports", action="append", type=Path, default=[], metavar="FILE"
    )
    parser.add_argument("--do-not-change", type=Path, metavar="FILE")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--doublecheck", type=Path, metavar="FILE")
    source.add_argument("--analytics-institution", metavar="CODE")
    parser.add_argument("--create-set", action="store_true")
    parser.add_argument("--run-job", action="store_true")
    given = parser.parse_args(list(args))
    if not given.reports:
        raise usage_error("--report FILE is required, once per bib processing report")
    reports = [_existing("--report", path) for path in given.reports]
    do_not_change = _optional_file("--do-not-change", given.do_not_change)
    doublecheck = _optional_file("--doublecheck", given.doublecheck)
    _distinct_names(reports, do_not_change, doublecheck)
    code: str | None = given.analytics_institution
    if given.run_job and not given.create_set:
        raise usage_error("--run-job needs --create-set: the job runs on the set the run makes")
    if given.create_set and code is None:
        raise usage_error(
            "--create-set needs --analytics-institution CODE, the Network Zone whose Sets API "
            "makes the set (and whose Analytics gives the doublecheck)"
        )
    settings = _configured(setup, code)
    oclc = settings.oclc_sync
    if given.run_job and not oclc.normalize_job_id:
        raise usage_error(
            f"--run-job needs [{SECTION}] normalize_job_id, the id of the Alma job "
            '"Move OCLC 035 $a to $z", in --config'
        )
    poll, wait = _job_timing(oclc)
    return OclcJobOptions(
        reports=tuple(str(path) for path in reports),
        do_not_change=None if do_not_change is None else str(do_not_change),
        doublecheck=None if doublecheck is None else str(doublecheck),
        analytics_institution=code,
        create_set=bool(given.create_set),
        run_job=bool(given.run_job),
        nz_suffix=oclc.nz_suffix,
        institutions=_institutions(oclc),
        primary=oclc.primary,
        analytics_path=oclc.analytics_path,
        normalize_job_id=oclc.normalize_job_id,
        job_poll_seconds=poll,
        job_wait_minutes=wait,
    ).stored()


def _existing(flag: str, path: Path) -> Path:
    """A file named on the command line, absolute (B5); exit 2 when it is not there (B2)."""
    path = path.absolute()
    if not path.is_file():
        raise WorkflowUsageError(f"{flag} {path}: no such file")
    return path


def _optional_file(flag: str, path: Path | None) -> Path | None:
    return None if path is None else _existing(flag, path)


def _distinct_names(reports: Sequence[Path], *others: Path | None) -> None:
    """B1 names each input by its file name: two inputs of one name would be one."""
    seen: dict[str, Path] = {}
    for path in [*reports, *(other for other in others if other is not None)]:
        first = seen.setdefault(path.name, path)
        if first != path:
            raise usage_error(f"{first} and {path} have the same file name; rename one")
        if first is not path:
            raise usage_error(f"{path} is given twice")


def _configured(setup: WorkflowSetup, code: str | None) -> WorkflowSettings:
    """The validated configuration (B9); the defaults when there is no --config and no flag
    needs one; the Analytics institution checked (exit 2 naming it)."""
    if setup.config_path is None:
        if code is not None:
            raise usage_error(
                f"--analytics-institution {code} needs --config FILE with [alma.{code}]"
            )
        return WorkflowSettings(source="built-in defaults")
    settings = _settings(setup, None)
    if code is not None:
        try:
            settings.institution(code)
        except UnknownInstitution as error:
            raise WorkflowUsageError(f"--analytics-institution {code}: {error}") from None
    return settings


def _institutions(oclc: OclcSyncSettings) -> tuple[tuple[str, str, str], ...]:
    """O3: the table, checked as the split needs it (exit 2 naming the key)."""
    try:
        table = tuple(Institution(i.name, i.id, i.code) for i in oclc.institutions)
    except DomainError as error:
        raise WorkflowUsageError(f"{SECTION}.institutions: {error}") from None
    problems = table_problems(table, nz_suffix=oclc.nz_suffix)
    if problems:
        raise WorkflowUsageError(
            f"{SECTION}.institutions ({oclc.institutions_source}): {problems[0]}"
        )
    return tuple((i.name, i.suffix, i.code) for i in table)


def _job_timing(oclc: OclcSyncSettings) -> tuple[float, float]:
    """O8: ``job_poll_seconds`` (15) and ``job_wait_minutes`` (240), numbers above 0."""
    found: list[float] = []
    for key, default in (("job_poll_seconds", 15), ("job_wait_minutes", 240)):
        value: Any = oclc.extra.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise WorkflowUsageError(f"{SECTION}.{key}: must be a number above 0, got {value!r}")
        found.append(float(value))
    return found[0], found[1]


def _build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
    job = OclcJobOptions.read(options)
    code = job.analytics_institution
    alma = setup.config.get("alma")
    if code is not None and (not isinstance(alma, Mapping) or code not in alma):
        raise WorkflowUsageError(
            f"--analytics-institution {code}: no [alma.{code}] table in the workflows "
            "configuration (--config)"
        )
    return OclcSyncJob(job, setup)


def _settings(setup: WorkflowSetup, environ: Mapping[str, str] | None) -> WorkflowSettings:
    return configured_settings(setup, environ, OCLC_SYNC)


USAGE: Final = (
    "--config FILE --report FILE --report FILE [...] [--do-not-change FILE.xlsx] "
    "[--doublecheck FILE.xlsx | --analytics-institution CODE] [--create-set [--run-job]]. "
    "Merges the institutions' OCLC bib processing reports on Network Id (a conflict keeps the "
    "[oclc_sync] primary's row, else the first report's, and is listed) and writes to --out: "
    "bibprocessmerged.csv (the NZ's rows), {code}bibprocess.csv (each institution's), "
    "unknown_suffix.csv (any other suffix), comparison_file_IZ.xlsx (DIFF and SAME of existing "
    "vs incoming 035a); with a doublecheck (the Analytics report exported, or read from the "
    "NZ's Analytics at [oclc_sync] analytics_path) also NZ-OCLC-Identifier-report_YYYY-MM-DD.xlsx "
    "(do_not_change, update by job, updated records, records for review, not in analytics, "
    "conflicts), a_to_z_MMSid_for_set.txt (the update by job ids), oclc_numbers_updated.txt (their "
    "incoming numbers) and for_import_to_NZ.xlsx (001 and 035 $a). Then, in Alma: build an "
    'itemized set of all titles from a_to_z_MMSid_for_set.txt, run the job "Move OCLC 035 $a to '
    '$z" on it, and import for_import_to_NZ.xlsx with the import profile "OCLC number (035) '
    "import - From XLS\". --create-set makes the set through the NZ's API, --run-job also runs "
    "[oclc_sync] normalize_job_id on it and waits for it; the import stays by hand. "
    "Example: 'almabridge run oclc-sync --config workflows.toml --report CEF.txt --report UWO.txt "
    "--do-not-change Do_not_change.xlsx --analytics-institution 01OCUL_NETWORK --create-set "
    "--run-job --out /srv/oclc'"
)

OCLC_SYNC_ENTRY = WorkflowEntry(
    name=OCLC_SYNC,
    summary=(
        "merge the institutions' OCLC bib processing reports, classify the NZ's DIFF rows "
        "against the Analytics doublecheck and write the NZ import files (O1-O8)"
    ),
    options=_options,
    build=_build,
    usage=USAGE,
)
