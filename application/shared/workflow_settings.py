"""The batch workflows' configuration, parsed and checked (rules B6, B7, B8, B9).

Built by the TOML adapter (``adapters.workflow_config``); the application only reads it. Every
key and default is the one WORKFLOWS.md fixes ("Configuration keys every deployment may rely
on"): a key left out takes the original institution's value, so the shipped example reproduces
the seeds' behaviour. A workflow section may hold more keys than these (rule tables, constants):
they are kept, read-only, in its ``extra`` mapping for the workflow that owns them.

Secrets are :class:`~application.shared.connections.Secret` and never show themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from application.ports.notify import NotifyRoute
from application.shared.connections import FileServer, Secret
from application.shared.run_outcome import RunOutcome
from domain.shared.aspace_rules import PRINCETON_RULES, AspaceRules
from domain.shared.asu_course_tables import ASU_TABLES
from domain.shared.course_tables import CourseTables

__all__ = [
    "ALL_OUTCOMES",
    "DEFAULT_CLEANUP_FOLDERS",
    "DEFAULT_KEEP_DAYS",
    "DEFAULT_LEDGER_RETENTION_DAYS",
    "DEFAULT_SCHEDULE_GRACE",
    "OCUL_INSTITUTIONS",
    "WORKFLOW_NAMES",
    "AlmaInstitution",
    "ArchivesSpaceConnection",
    "Aspace2AlmaSettings",
    "CleanupSettings",
    "ConfigValue",
    "CourseLoadingSettings",
    "MergeOn",
    "NotifyRoute",
    "NotifySettings",
    "OclcInstitution",
    "OclcSyncSettings",
    "Remote",
    "RemotePath",
    "RemoteProtocol",
    "Schedules",
    "SlackSettings",
    "SmtpSettings",
    "UnknownInstitution",
    "UnknownRemote",
    "WestHoldingsSettings",
    "WorkflowSettings",
]

WORKFLOW_NAMES: Final = (
    "west-holdings",
    "oclc-sync",
    "course-loading",
    "course-rollover-report",
    "aspace2alma",
    "aspace2alma-remove-stale",
    "cleanup",
    "ledger-retention",
)
"""Every workflow `almabridge run NAME` knows: the keys of ``[schedules]`` and ``[notify.NAME]``."""

DEFAULT_KEEP_DAYS: Final = 42
"""B8: generated files older than this many days are removed by the ``cleanup`` run."""

DEFAULT_LEDGER_RETENTION_DAYS: Final = 400
"""P2: ledger events older than this many days are removed by the ``ledger-retention`` run."""

DEFAULT_CLEANUP_FOLDERS: Final = ("out",)
"""B8: where the ``cleanup`` run looks, relative to the configuration file."""

DEFAULT_SCHEDULE_GRACE: Final = timedelta(hours=6)
"""B6: a scheduled run missed while the service was down still starts if at most this late."""

ALL_OUTCOMES: Final = frozenset(RunOutcome)

ConfigValue: TypeAlias = (
    "str | int | float | bool | datetime | date | time "
    "| tuple[ConfigValue, ...] | Mapping[str, ConfigValue]"
)
"""A value of a workflow section's extra keys: TOML scalars (dates included), arrays as tuples,
tables as read-only mappings."""


def _no_extra() -> Mapping[str, ConfigValue]:
    return MappingProxyType({})


class UnknownInstitution(LookupError):
    """A workflow names an ``[alma.CODE]`` the file does not define (exit 2, WORKFLOWS.md)."""

    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        self.code = code
        defined = ", ".join(known) or "none"
        super().__init__(
            f"no [alma.{code}] table in the workflows configuration (defined: {defined})"
        )


class UnknownRemote(LookupError):
    """A remote reference names a ``[remotes.NAME]`` the file does not define."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        defined = ", ".join(known) or "none"
        super().__init__(
            f"no [remotes.{name}] table in the workflows configuration (defined: {defined})"
        )


@dataclass(frozen=True)
class AlmaInstitution:
    """One ``[alma.CODE]`` table: an Alma institution the workflows call (rule B4)."""

    code: str
    url: str
    """The API host, without a trailing slash; ``/almaws/v1`` is appended (:attr:`api_base`)."""
    apikey: Secret
    rate_limit_per_second: int = 25

    @property
    def api_base(self) -> str:
        """The base of every Alma API path: the host followed by ``/almaws/v1``."""
        return f"{self.url}/almaws/v1"


RemoteProtocol = Literal["sftp", "ftp", "file"]


@dataclass(frozen=True)
class Remote:
    """One ``[remotes.NAME]`` table: a remote folder reached over SFTP, FTP or the file system.

    ``url`` is the configured URL without any password (safe to print); ``folder`` is its path,
    the folder every ``NAME:path`` reference is relative to.
    """

    name: str
    url: str
    protocol: RemoteProtocol
    host: str
    port: int
    user: str
    folder: str
    password: Secret | None = None
    host_key: str | None = None
    """SFTP only: the server's OpenSSH host key fingerprint (``SHA256:…``)."""

    def file_server(self) -> FileServer:
        """The connection as the transfer adapters take it (``adapters.transfer``)."""
        return FileServer(
            host=self.host,
            user=self.user,
            password=self.password or Secret(""),
            main_folder=self.folder,
            port=self.port,
            protocol="local" if self.protocol == "file" else self.protocol,
            host_key_fingerprint=self.host_key,
        )


@dataclass(frozen=True)
class RemotePath:
    """A reference ``NAME`` or ``NAME:path`` to a remote folder; ``path`` is relative to it.

    In a source, the last segment of ``path`` may be a glob in which ``{YYYYMMDD}`` stands for
    today's local date (rule L1).
    """

    remote: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.remote}:{self.path}" if self.path else self.remote


@dataclass(frozen=True)
class WestHoldingsSettings:
    """``[west_holdings]`` (rules H3–H5); defaults are UW's WEST scripts."""

    prefix: str = "wau"
    org_code: str | None = None
    """H3: written as 003 when set."""
    stamp_005: bool = False
    require_tags: tuple[str, ...] = ("583",)
    upload_to: RemotePath | None = None
    extra: Mapping[str, ConfigValue] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class OclcInstitution:
    """One row of the OCLC institutions table: name, 4-digit MMS id suffix, OCLC symbol (O3)."""

    name: str
    id: str
    code: str


OCUL_INSTITUTIONS: Final = (
    OclcInstitution("Algome University", "5166", "CNALU"),
    OclcInstitution("Brock University", "5152", "BRX"),
    OclcInstitution("Carleton University", "5153", "CEF"),
    OclcInstitution("Lakehead University", "5155", "LHU"),
    OclcInstitution("Laurentian University", "5165", "LU$"),
    OclcInstitution("McMaster University", "7371", "MUX"),
    OclcInstitution("Nipissing University", "5157", "CANPU"),
    OclcInstitution("OCAD University", "7481", "CNCAD"),
    OclcInstitution("Ontario Tech", "5160", "CAUOI"),
    OclcInstitution("Queen's University", "5158", "Q2U"),
    OclcInstitution("Toronto Metropolitan University", "8636", "RRP"),
    OclcInstitution("Trent University", "5159", "CNTRU"),
    OclcInstitution("University of Guelph", "5154", "U3G"),
    OclcInstitution("University of Ottawa", "5161", "OTZ"),
    OclcInstitution("University of Waterloo", "5162", "UWW"),
    OclcInstitution("University of Windsor", "2181", "CWI"),
    OclcInstitution("Western University", "5163", "UWO"),
    OclcInstitution("Wilfrid Laurier University", "5156", "W2U"),
    OclcInstitution("York University", "5164", "YOU"),
)
"""The OCUL network's table (kevintburke/joint_oclc_data_sync ``inputs/institutions.json``):
the value of ``oclc_sync.institutions`` when the key is left out."""

OCUL_ANALYTICS_PATH: Final = (
    "/shared/UTON Network 01OCUL_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
)


@dataclass(frozen=True)
class OclcSyncSettings:
    """``[oclc_sync]`` (rules O2–O8); defaults are the OCUL network's."""

    nz_suffix: str = "5151"
    institutions: tuple[OclcInstitution, ...] = OCUL_INSTITUTIONS
    institutions_source: str = "built-in OCUL table"
    """Where the table came from: a file path, ``inline`` or the built-in default."""
    primary: str | None = None
    """O2: the OCLC symbol whose row wins a conflict; None means the first report given."""
    analytics_path: str = OCUL_ANALYTICS_PATH
    normalize_job_id: str | None = None
    extra: Mapping[str, ConfigValue] = field(default_factory=_no_extra, hash=False)


MergeOn = Literal["code+section", "code"]


@dataclass(frozen=True)
class CourseLoadingSettings:
    """``[course_loading]`` (rules L1–L8); defaults are ASU's Leganto scripts."""

    source: RemotePath = RemotePath("campus", "leganto_export_{YYYYMMDD}*")
    target: RemotePath = RemotePath("alma")
    date_format: str = "%d-%m-%Y"
    merge_on: MergeOn = "code+section"
    cem_encoding: str = "iso-8859-1"
    job_id: str | None = None
    job_poll_seconds: int = 15
    job_wait_minutes: int = 240
    report_delay_minutes: int = 120
    """L8: used when ``job_id`` is empty."""
    tables: CourseTables = field(default=ASU_TABLES, hash=False)
    """L3's campus, college, prefix and term tables (B9); a table the file leaves out is ASU's.
    Not hashed: its college and ending mappings are read-only views, which cannot be."""
    extra: Mapping[str, ConfigValue] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class ArchivesSpaceConnection:
    """``[aspace2alma.archivesspace]``: the ArchivesSpace backend API and its login (AS2)."""

    url: str = "http://localhost:8089"
    user: str = "admin"
    password: Secret | None = None
    concurrency: int = 4
    """AS2: calls in flight to ArchivesSpace at once, 1 to 16; records are still written in
    repository, then resource id order."""


@dataclass(frozen=True)
class Aspace2AlmaSettings:
    """``[aspace2alma]`` (rules AS1–AS6); defaults are Princeton's."""

    barcode_set: str | None = None
    """AS3: required by a run; left empty in the example, so checked when the run starts."""
    target: RemotePath = RemotePath("drop")
    archivesspace: ArchivesSpaceConnection = ArchivesSpaceConnection()
    rules: AspaceRules = PRINCETON_RULES
    """AS4's constants, tag lists, patterns and exclusion list (B9); a key the file leaves out
    is Princeton's."""
    extra: Mapping[str, ConfigValue] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class CleanupSettings:
    """``[cleanup]`` (rule B8): what the ``cleanup`` run removes, and after how many days."""

    keep_days: int = DEFAULT_KEEP_DAYS
    folders: tuple[str, ...] = DEFAULT_CLEANUP_FOLDERS
    """Absolute once loaded: a relative folder is read from the configuration file's folder."""
    extra: Mapping[str, ConfigValue] = field(default_factory=_no_extra, hash=False)


@dataclass(frozen=True)
class Schedules:
    """``[schedules]`` (rule B6): workflow name → 5-field cron expression, in local time."""

    crons: Mapping[str, str] = field(default_factory=dict, hash=False)
    grace: timedelta = DEFAULT_SCHEDULE_GRACE


@dataclass(frozen=True)
class SmtpSettings:
    """``[notify.smtp]`` (rule B7): STARTTLS (``starttls``) or TLS from the start (``use_tls``)."""

    host: str
    sender: str
    """The ``from`` key."""
    port: int = 587
    starttls: bool = True
    use_tls: bool = False
    user: str = ""
    password: Secret | None = None
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class SlackSettings:
    """``[notify.slack]`` (rule B7): an incoming webhook, a secret since its URL is the key."""

    webhook: Secret
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class NotifySettings:
    """``[notify.*]`` (rule B7): the channels and, per workflow, who hears of which outcomes."""

    smtp: SmtpSettings | None = None
    slack: SlackSettings | None = None
    routes: Mapping[str, NotifyRoute] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class WorkflowSettings:
    """The whole workflows configuration file (rule B9)."""

    source: str
    """The file it was read from, for messages."""
    alma: Mapping[str, AlmaInstitution] = field(default_factory=dict, hash=False)
    remotes: Mapping[str, Remote] = field(default_factory=dict, hash=False)
    west_holdings: WestHoldingsSettings = WestHoldingsSettings()
    oclc_sync: OclcSyncSettings = OclcSyncSettings()
    course_loading: CourseLoadingSettings = CourseLoadingSettings()
    aspace2alma: Aspace2AlmaSettings = Aspace2AlmaSettings()
    cleanup: CleanupSettings = CleanupSettings()
    schedules: Schedules = Schedules()
    ledger_retention_days: int = DEFAULT_LEDGER_RETENTION_DAYS
    """P2: the top-level ``ledger_retention_days``; the ``ledger-retention`` run's age limit."""
    notify: NotifySettings = NotifySettings()
    sections: frozenset[str] = frozenset()
    """The workflow sections the file holds (``west_holdings``, …); the others are defaults."""
    more_workflows: Mapping[str, Mapping[str, ConfigValue]] = field(
        default_factory=dict, hash=False
    )
    """Sections of workflows registered beyond the built-in ones (``$ALMABRIDGE_WORKFLOW_MODULES``),
    by workflow name, read-only and unchecked: their workflow reads them."""

    @property
    def keep_days(self) -> int:
        """B8: ``cleanup.keep_days``."""
        return self.cleanup.keep_days

    def institution(self, code: str) -> AlmaInstitution:
        """The ``[alma.CODE]`` table; :class:`UnknownInstitution` (exit 2) when there is none."""
        try:
            return self.alma[code]
        except KeyError:
            raise UnknownInstitution(code, tuple(self.alma)) from None

    def remote(self, reference: RemotePath) -> Remote:
        """The remote a reference names; :class:`UnknownRemote` when the file lacks it."""
        try:
            return self.remotes[reference.remote]
        except KeyError:
            raise UnknownRemote(reference.remote, tuple(self.remotes)) from None
