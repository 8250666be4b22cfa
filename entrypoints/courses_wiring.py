"""Wiring of Leganto course loading: `almabridge run course-loading` and `almabridge run
course-rollover-report` (rules L1–L8, B1–B5, B7–B9).

The entries turn the command line and the ``--config`` file into the options stored with the
run, and build the workflows from stored options alone, so ``--resume`` works (B5):

* ``--institution CODE`` names an ``[alma.CODE]`` table (exit 2 when the file has none); for a
  scheduled run, ``institution`` in ``[course_loading]`` stands in for it;
* ``--cem FILE`` (stored absolute; exit 2 when it does not exist) instead of the configured
  ``source`` (L1); the day whose file is fetched is stored, so a resume the next morning reads
  the same file;
* ``--no-push`` (course-loading only): write the loader file, do not push it (L7);
* ``[course_loading]``'s date format, merge key and CEM encoding are stored with the options;
  the rule tables are read from the file when the run starts (B9).

Resources: each run reads the configuration again in a worker thread for the secrets (never
stored), opens one `AlmaHttpClient` for the institution (its URL, rate, throttle and retries,
B4) and closes it when the run ends; each remote operation opens and closes its own connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Final

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.courses import HttpCourseCatalog
from adapters.alma_http.jobs import HttpJobInstances
from adapters.courses.cem_csv import CemCsvReader
from adapters.courses.loader_tsv import LoaderFiles
from application.courses.cem_sources import LocalCemSource, RemoteCemSource
from application.courses.course_lookup import CourseLookup
from application.courses.load_courses import COURSE_LOADING, LoadCourses
from application.courses.loader_push import RemoteLoaderPush
from application.courses.loader_wait import JobWait, LoaderWait, PushDelayWait
from application.courses.ports import CemSource
from application.courses.rollover_report import COURSE_ROLLOVER_REPORT, RolloverReport
from application.ports.transfer import FileTransfer
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext, RunFailed, Workflow
from application.shared.workflow_settings import (
    AlmaInstitution,
    CourseLoadingSettings,
    Remote,
    UnknownInstitution,
    UnknownRemote,
    WorkflowSettings,
)
from domain.courses.transform import MergeOn
from entrypoints.courses_options import CourseJobOptions
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
    "COURSE_LOADING_ENTRY",
    "COURSE_ROLLOVER_REPORT_ENTRY",
    "CourseJobOptions",
    "CoursesJob",
]

SECTION: Final = "course_loading"

ClientFactory = Callable[[AlmaInstitution], AlmaHttpClient]
TransferFactory = Callable[[Remote], FileTransfer]


class CoursesJob:
    """Either workflow as the runner sees it: opens the Alma client when the run starts and
    closes it when the run ends (see the module text)."""

    def __init__(
        self,
        options: CourseJobOptions,
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

    @property
    def name(self) -> str:
        return self.options.workflow

    async def run(self, context: RunContext) -> None:
        """Build the workflow over a fresh client, run it, close the client (B4)."""
        try:
            settings = await asyncio.to_thread(
                configured_settings, self._setup, self._environ, self.name
            )
            institution = settings.institution(self.options.institution)
            courses = settings.course_loading
            source = self._source(settings, courses)
            push = self._push(settings, courses)
        except (WorkflowUsageError, UnknownInstitution, UnknownRemote) as error:
            raise RunFailed(f"the workflows configuration cannot serve this run: {error}") from None
        client = self._connect_alma(institution)
        try:
            await self._workflow(client, institution, courses, source, push).run(context)
        finally:
            await client.aclose()

    def _workflow(
        self,
        client: AlmaHttpClient,
        institution: AlmaInstitution,
        courses: CourseLoadingSettings,
        source: CemSource,
        push: RemoteLoaderPush,
    ) -> Workflow:
        code, key = institution.code, institution.apikey
        # Enough calls in flight to use the rate at Alma's latency; the client's throttle keeps
        # the pace (B4).
        concurrency = max(1, 2 * institution.rate_limit_per_second)
        lookup = CourseLookup(HttpCourseCatalog(client, code, key), concurrency=concurrency)
        rules = self.options.rules(courses)
        if self.name == COURSE_LOADING:
            return LoadCourses(
                source,
                CemCsvReader(),
                lookup,
                LoaderFiles(),
                rules,
                push=push if self.options.push else None,
                day=self.options.day,
                concurrency=concurrency,
            )
        wait: LoaderWait
        if courses.job_id:
            wait = JobWait(
                HttpJobInstances(client, code, key),
                courses.job_id,
                poll_seconds=courses.job_poll_seconds,
                wait_seconds=courses.job_wait_minutes * 60,
                since=push.last_push,
            )
        else:
            wait = PushDelayWait(push, timedelta(minutes=courses.report_delay_minutes))
        return RolloverReport(
            source,
            CemCsvReader(),
            lookup,
            LoaderFiles(),
            rules,
            wait,
            day=self.options.day,
            concurrency=concurrency,
        )

    def _source(self, settings: WorkflowSettings, courses: CourseLoadingSettings) -> CemSource:
        if self.options.cem is not None:
            return LocalCemSource(Path(self.options.cem))
        remote = settings.remote(courses.source)
        relative = PurePosixPath(courses.source.path)
        return RemoteCemSource(
            lambda: self._connect_remote(remote),
            remote_folder(
                remote, "" if relative.parent == PurePosixPath() else str(relative.parent)
            ),
            relative.name,
            str(courses.source),
        )

    def _push(self, settings: WorkflowSettings, courses: CourseLoadingSettings) -> RemoteLoaderPush:
        remote = settings.remote(courses.target)
        return RemoteLoaderPush(
            lambda: self._connect_remote(remote),
            remote_folder(remote, courses.target.path),
            str(courses.target),
        )


# ---- the entries -----------------------------------------------------------------------------


def _options_for(workflow: str) -> Callable[[Sequence[str], WorkflowSetup], dict[str, JsonValue]]:
    def options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
        parser = WorkflowArguments(workflow)
        parser.add_argument("--institution", metavar="CODE")
        parser.add_argument("--cem", type=Path, metavar="FILE")
        if workflow == COURSE_LOADING:
            parser.add_argument("--no-push", action="store_true")
        given = parser.parse_args(list(args))
        section = setup.config.get(SECTION, {})
        section = section if isinstance(section, Mapping) else {}
        configured = section.get("institution")
        institution = given.institution or (
            configured.strip() if isinstance(configured, str) else ""
        )
        if not institution:
            raise WorkflowUsageError(
                f"almabridge run {workflow}: --institution CODE is required (an [alma.CODE] "
                "table of --config)"
            )
        cem: str | None = None
        if given.cem is not None:
            path = given.cem.absolute()
            if not path.is_file():
                raise WorkflowUsageError(f"--cem {path}: no such file")
            cem = str(path)
        settings = configured_settings(setup, None, workflow)
        try:
            settings.institution(institution)
        except UnknownInstitution as error:
            raise WorkflowUsageError(f"--institution {institution}: {error}") from None
        courses = settings.course_loading
        for key, reference in (("source", courses.source), ("target", courses.target)):
            if key == "source" and cem is not None:
                continue
            try:
                settings.remote(reference)
            except UnknownRemote as error:
                raise WorkflowUsageError(f"{SECTION}.{key}: {error}") from None
        return CourseJobOptions(
            workflow,
            institution,
            datetime.now().date(),  # B3: the machine's local day, fixed for a resume (B5)
            cem,
            not getattr(given, "no_push", False),
            courses.date_format,
            MergeOn(courses.merge_on),
            courses.cem_encoding,
        ).stored()

    return options


def _build_for(workflow: str) -> Callable[[Mapping[str, JsonValue], WorkflowSetup], Workflow]:
    def build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
        job = CourseJobOptions.read(workflow, options)
        alma = setup.config.get("alma")
        if not isinstance(alma, Mapping) or job.institution not in alma:
            raise WorkflowUsageError(
                f"--institution {job.institution}: no [alma.{job.institution}] table in the "
                "workflows configuration (--config)"
            )
        return CoursesJob(job, setup)

    return build


COURSE_LOADING_ENTRY = WorkflowEntry(
    name=COURSE_LOADING,
    summary=(
        "turn the campus course feed (CEM) into Alma's course loader file, DELETEs checked "
        "against Alma, and push it (L1-L7)"
    ),
    options=_options_for(COURSE_LOADING),
    build=_build_for(COURSE_LOADING),
    usage=(
        "--config FILE --institution CODE [--cem FILE] [--no-push]; fetches today's CEM file "
        "from [course_loading] source (or --cem), writes {YYYYmmddHHMMSS}.txt to --out and "
        "pushes it to [course_loading] target unless --no-push or --dry-run. Cron: "
        "'47 7 * * * almabridge run course-loading --config /etc/almabridge/workflows.toml "
        "--institution 01ABC_INST --out /srv/leganto'"
    ),
)

COURSE_ROLLOVER_REPORT_ENTRY = WorkflowEntry(
    name=COURSE_ROLLOVER_REPORT,
    summary=(
        "report the courses to roll over, once Alma's course loader job has finished, by "
        "e-mail and Slack (L8)"
    ),
    options=_options_for(COURSE_ROLLOVER_REPORT),
    build=_build_for(COURSE_ROLLOVER_REPORT),
    usage=(
        "--config FILE --institution CODE [--cem FILE]; waits for [course_loading] job_id to "
        "finish (or report_delay_minutes after the last push), writes rollover_"
        "{YYYYmmddHHMMSS}.txt to --out and sends it to [notify.course-rollover-report]. Cron: "
        "'50 7 * * * almabridge run course-rollover-report --config "
        "/etc/almabridge/workflows.toml --institution 01ABC_INST --out /srv/leganto/rollover'"
    ),
)
