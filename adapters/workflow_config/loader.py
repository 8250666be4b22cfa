"""Load the workflows configuration from a TOML file (rule B9).

``load_workflow_settings`` reads the file, parses it with the standard library's ``tomllib``,
validates every table (:mod:`adapters.workflow_config.schema`), then checks what depends on more
than one table or on the environment, and builds the application's
:class:`~application.shared.workflow_settings.WorkflowSettings`. It reports every problem at once
in one :class:`WorkflowConfigError`, each naming its key path, secrets scrubbed.

Secrets may come from the environment, and **the environment wins over the file** (as for the
bridge's conf.json): a file can then keep a placeholder, or nothing, and the real value live in
the service's environment only.

* ``ALMABRIDGE_APIKEY_<CODE>`` for ``alma.<CODE>.apikey``
* ``ALMABRIDGE_REMOTE_<NAME>_PASSWORD`` for ``remotes.<NAME>.password``
* ``ALMABRIDGE_ARCHIVESSPACE_PASSWORD`` for ``aspace2alma.archivesspace.password``
* ``ALMABRIDGE_SMTP_PASSWORD`` for ``notify.smtp.password``
* ``ALMABRIDGE_SLACK_WEBHOOK`` for ``notify.slack.webhook``

``<CODE>`` and ``<NAME>`` are upper-cased, with every character but A–Z and 0–9 made ``_``.
An environment variable set to the empty string counts as not set.

What is checked for which workflow: remote references and the ArchivesSpace password only for a
workflow whose section is in the file or that ``[schedules]`` runs; the defaults of a workflow
the deployment does not use (``course_loading.source = "campus:…"``) need no ``[remotes.campus]``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection, Mapping
from datetime import date, datetime, time, timedelta
from os import PathLike
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from adapters.workflow_config.cron import cron_problem
from adapters.workflow_config.errors import (
    WorkflowConfigError,
    key_path,
    kind_of,
    scrub,
    shown,
    suggestion,
)
from adapters.workflow_config.schema import (
    AlmaConf,
    Aspace2AlmaConf,
    CleanupConf,
    CourseLoadingConf,
    OclcInstitutionConf,
    OclcSyncConf,
    RemoteConf,
    RouteConf,
    SlackConf,
    SmtpConf,
    TopLevelConf,
    WestHoldingsConf,
    parse_remote_path,
    validate,
)
from application.ports.notify import NotifyRoute
from application.shared.connections import Secret
from application.shared.run_outcome import RunOutcome
from application.shared.workflow_settings import (
    OCUL_INSTITUTIONS,
    WORKFLOW_NAMES,
    AlmaInstitution,
    ArchivesSpaceConnection,
    Aspace2AlmaSettings,
    CleanupSettings,
    ConfigValue,
    CourseLoadingSettings,
    NotifySettings,
    OclcInstitution,
    OclcSyncSettings,
    Remote,
    RemotePath,
    Schedules,
    SlackSettings,
    SmtpSettings,
    WestHoldingsSettings,
    WorkflowSettings,
)

__all__ = [
    "ARCHIVESSPACE_PASSWORD_ENV",
    "SECTION_WORKFLOWS",
    "SLACK_WEBHOOK_ENV",
    "SMTP_PASSWORD_ENV",
    "apikey_env_name",
    "load_workflow_settings",
    "remote_password_env_name",
    "settings_from_text",
]

# Names of environment variables, not secrets.
ARCHIVESSPACE_PASSWORD_ENV: Final = "ALMABRIDGE_ARCHIVESSPACE_PASSWORD"  # noqa: S105
SMTP_PASSWORD_ENV: Final = "ALMABRIDGE_SMTP_PASSWORD"  # noqa: S105
SLACK_WEBHOOK_ENV: Final = "ALMABRIDGE_SLACK_WEBHOOK"

MAX_CONFIG_BYTES: Final = 4 * 1024 * 1024
"""A workflows file is a few kilobytes; anything this big is the wrong file."""

_M = TypeVar("_M", bound=BaseModel)
_SECRET_ENV: Final = frozenset({ARCHIVESSPACE_PASSWORD_ENV, SMTP_PASSWORD_ENV, SLACK_WEBHOOK_ENV})
_SECRET_ENV_PATTERN: Final = re.compile(r"ALMABRIDGE_(APIKEY_.+|REMOTE_.+_PASSWORD)\Z")
_NAME: Final = re.compile(r"[A-Za-z0-9_-]+\Z")

# Which workflows each section configures: a section is checked in full when the file holds it
# or when [schedules] runs one of its workflows.
SECTION_WORKFLOWS: Final[Mapping[str, tuple[str, ...]]] = {
    "west_holdings": ("west-holdings",),
    "oclc_sync": ("oclc-sync",),
    "course_loading": ("course-loading", "course-rollover-report"),
    "aspace2alma": ("aspace2alma", "aspace2alma-remove-stale"),
    "cleanup": ("cleanup",),
}
_TABLES: Final = ("alma", "remotes", *SECTION_WORKFLOWS, "schedules", "notify")
_SCALARS: Final = ("schedule_grace_hours",)
_CHANNELS: Final = ("smtp", "slack")
# Remote references: section, key, whether a glob source, and the default when left out.
_REFERENCES: Final[tuple[tuple[str, str, bool, RemotePath | None], ...]] = (
    ("west_holdings", "upload_to", False, WestHoldingsSettings().upload_to),
    ("course_loading", "source", True, CourseLoadingSettings().source),
    ("course_loading", "target", False, CourseLoadingSettings().target),
    ("aspace2alma", "target", False, Aspace2AlmaSettings().target),
)


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def apikey_env_name(code: str) -> str:
    """``ALMABRIDGE_APIKEY_<CODE>``: the code upper-cased, anything but A-Z and 0-9 made ``_``."""
    return "ALMABRIDGE_APIKEY_" + _env_part(code)


def remote_password_env_name(name: str) -> str:
    """``ALMABRIDGE_REMOTE_<NAME>_PASSWORD`` for the remote ``name``."""
    return f"ALMABRIDGE_REMOTE_{_env_part(name)}_PASSWORD"


def _env_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", text.upper())


def load_workflow_settings(
    path: str | PathLike[str],
    environ: Mapping[str, str],
    *,
    more_workflows: Collection[str] = (),
) -> WorkflowSettings:
    """The settings in the TOML file at ``path``; raises :class:`WorkflowConfigError`.

    A missing or unreadable file is a problem naming the file (exit 2 for the commands).
    ``more_workflows`` names workflows registered beyond the built-in ones (the
    ``$ALMABRIDGE_WORKFLOW_MODULES`` of ``almabridge run``): they may be scheduled and notified,
    and their own ``[name]`` section is kept for them unchecked.
    """
    file = Path(path)
    source = str(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise WorkflowConfigError([f"{source}: no such file"], source=source) from None
    except IsADirectoryError:
        raise WorkflowConfigError(
            [f"{source}: is a directory, not a file"], source=source
        ) from None
    except PermissionError:
        raise WorkflowConfigError([f"{source}: permission denied"], source=source) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise WorkflowConfigError([f"{source}: {reason}"], source=source) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise WorkflowConfigError(
            [f"{source}: larger than 4 MiB: not a workflows configuration"], source=source
        )
    return settings_from_text(
        data, environ, source=source, base_dir=file.parent, more_workflows=more_workflows
    )


def settings_from_text(
    data: bytes | str,
    environ: Mapping[str, str],
    *,
    source: str = "workflows.toml",
    base_dir: str | PathLike[str] = ".",
    more_workflows: Collection[str] = (),
) -> WorkflowSettings:
    """The settings in ``data`` (TOML); relative paths in it are read from ``base_dir``."""
    document = _parse(data, source)
    workflows = tuple(dict.fromkeys((*WORKFLOW_NAMES, *more_workflows)))
    builder = _Builder(document, environ, Path(base_dir), source, workflows)
    settings = builder.build()
    if builder.problems or settings is None:
        raise WorkflowConfigError(scrub(builder.problems, builder.secrets), source=source)
    return settings


def _parse(data: bytes | str, source: str) -> dict[str, Any]:
    if isinstance(data, bytes):
        try:
            # utf-8-sig: editors on Windows like to start files with a byte-order mark.
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise WorkflowConfigError(
                [f"{source}: not UTF-8 text: invalid byte on line {line}"], source=source
            ) from None
    else:
        text = data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise WorkflowConfigError([f"{source}: not valid TOML: {error}"], source=source) from None


class _Builder:
    """One pass over a parsed file: every problem collected, the settings built if none."""

    def __init__(
        self,
        document: dict[str, Any],
        environ: Mapping[str, str],
        base_dir: Path,
        source: str,
        workflows: tuple[str, ...],
    ) -> None:
        self.document = document
        self.workflows = workflows
        # A registered workflow's own section: [name], or [name_with_underscores] as ours are.
        self.more_sections = {
            section: workflow
            for workflow in workflows
            if workflow not in WORKFLOW_NAMES
            for section in (workflow, workflow.replace("-", "_"))
        }
        self.environ = environ
        self.base_dir = base_dir
        self.source = source
        self.problems: list[str] = []
        # Every secret value seen, file and environment, to scrub from problems.
        self.secrets: list[str] = [
            value
            for name, value in environ.items()
            if name in _SECRET_ENV or _SECRET_ENV_PATTERN.match(name)
        ]

    # ---- the whole file ----------------------------------------------------------------------

    def build(self) -> WorkflowSettings | None:
        self._check_top_level()
        scheduled, crons = self._schedules()
        present = frozenset(name for name in SECTION_WORKFLOWS if name in self.document)
        in_use = present | {
            section
            for section, workflows in SECTION_WORKFLOWS.items()
            if any(workflow in scheduled for workflow in workflows)
        }
        alma = self._alma()
        remotes = self._remotes()
        west = self._west_holdings()
        oclc = self._oclc_sync()
        courses = self._course_loading()
        aspace = self._aspace2alma("aspace2alma" in in_use)
        cleanup = self._cleanup()
        more = self._more_workflows()
        notify = self._notify()
        top = validate(
            TopLevelConf,
            {key: self.document[key] for key in _SCALARS if key in self.document},
            (),
            self.problems,
        )
        self._check_references(in_use)
        if (
            alma is None
            or remotes is None
            or west is None
            or oclc is None
            or courses is None
            or aspace is None
            or cleanup is None
            or notify is None
            or top is None
            or self.problems
        ):
            return None
        return WorkflowSettings(
            source=self.source,
            alma=MappingProxyType(alma),
            remotes=MappingProxyType(remotes),
            west_holdings=west,
            oclc_sync=oclc,
            course_loading=courses,
            aspace2alma=aspace,
            cleanup=cleanup,
            schedules=Schedules(
                crons=MappingProxyType(crons),
                grace=timedelta(hours=top.schedule_grace_hours),
            ),
            notify=notify,
            sections=present,
            more_workflows=MappingProxyType(more),
        )

    def _check_top_level(self) -> None:
        for key, value in self.document.items():
            if key in _TABLES or key in _SCALARS or key in self.more_sections:
                continue
            what = "table" if isinstance(value, dict) else "key"
            if key in CleanupConf.model_fields:
                # B8's keep_days reads like a global setting; it is the cleanup run's.
                self.problems.append(f"{key}: unknown top-level key; it belongs in [cleanup]")
                continue
            self.problems.append(
                f"{key_path((key,))}: unknown {what}{suggestion(key, (*_TABLES, *_SCALARS))}; "
                f"the tables are {', '.join(f'[{name}]' for name in _TABLES)} and the "
                f"top-level keys {', '.join(_SCALARS)}"
            )

    def _table(self, key: str) -> dict[str, Any] | None:
        """The top-level table ``key`` ({} when absent), or None with a problem."""
        value = self.document.get(key, {})
        if isinstance(value, dict):
            return value
        # The kind only: a value where a table belongs may be a secret pasted in the wrong place.
        self.problems.append(f"{key}: must be a table [{key}], got {kind_of(value)}")
        return None

    def _tables(self, key: str, what: str) -> dict[str, dict[str, Any]] | None:
        """The named tables (``[alma.CODE]``, ``[remotes.NAME]``) that are tables with a good
        name; a problem for each other entry. None when ``key`` itself is not a table."""
        outer = self._table(key)
        if outer is None:
            return None
        named: dict[str, dict[str, Any]] = {}
        for name, value in outer.items():
            loc = (key, name)
            if not isinstance(value, dict):
                self.problems.append(
                    f"{key_path(loc)}: must be a table [{key}.{what}], got {kind_of(value)}"
                )
            elif not _NAME.match(name):
                self.problems.append(
                    f"{key_path(loc)}: {what} must be letters, digits, _ and - only"
                )
            else:
                named[name] = value
        return named

    # ---- [alma.CODE] -------------------------------------------------------------------------

    def _alma(self) -> dict[str, AlmaInstitution] | None:
        tables = self._tables("alma", "CODE")
        if tables is None:
            return None
        institutions: dict[str, AlmaInstitution] = {}
        for code, table in tables.items():
            self._remember_secret(table.get("apikey"))
            conf = validate(AlmaConf, table, ("alma", code), self.problems)
            env_name = apikey_env_name(code)
            apikey = self._secret(table, "apikey", env_name, ("alma", code, "apikey"))
            if conf is None or apikey is None:
                continue
            institutions[code] = AlmaInstitution(
                code=code,
                url=conf.url,
                apikey=Secret(apikey),
                rate_limit_per_second=conf.rate_limit_per_second,
            )
        return institutions if len(institutions) == len(tables) else None

    # ---- [remotes.NAME] ----------------------------------------------------------------------

    def _remotes(self) -> dict[str, Remote] | None:
        tables = self._tables("remotes", "NAME")
        if tables is None:
            return None
        remotes: dict[str, Remote] = {}
        for name, table in tables.items():
            self._remember_secret(table.get("password"))
            self._remember_url_password(table.get("url"))
            remote = self._remote(name, table)
            if remote is not None:
                remotes[name] = remote
        return remotes if len(remotes) == len(tables) else None

    def _remote(self, name: str, table: dict[str, Any]) -> Remote | None:
        loc = ("remotes", name)
        conf = validate(RemoteConf, table, loc, self.problems)
        if conf is None:
            return None
        url = conf.url
        problems = len(self.problems)
        if url.protocol == "file":
            for key in ("password", "host_key"):
                if key in table:
                    self.problems.append(
                        f"{key_path((*loc, key))}: not used by a file:// remote; remove it"
                    )
        elif url.protocol == "ftp" and conf.host_key is not None:
            self.problems.append(
                f"{key_path((*loc, 'host_key'))}: only sftp:// remotes have a host key"
            )
        elif url.protocol == "sftp" and conf.host_key is None:
            # The SFTP adapter trusts no key it was not given: without one every connection
            # would be refused, so say it now rather than at the first run.
            self.problems.append(
                f"{key_path((*loc, 'host_key'))}: missing: an sftp:// remote needs the server's "
                "host key fingerprint (SHA256:…, as `ssh-keyscan HOST | ssh-keygen -lf -` "
                "prints it)"
            )
        if url.password is not None and conf.password is not None:
            self.problems.append(
                f"{key_path((*loc, 'password'))}: given both here and in the url; keep one"
            )
        if len(self.problems) > problems:
            return None
        env_name = remote_password_env_name(name)
        password = self._from_environment(env_name) or conf.password or url.password
        return Remote(
            name=name,
            url=url.display,
            protocol=url.protocol,
            host=url.host,
            port=url.port,
            user=url.user,
            folder=url.folder,
            password=Secret(password) if password else None,
            host_key=conf.host_key,
        )

    # ---- workflow sections -------------------------------------------------------------------

    def _section(self, name: str, model: type[_M]) -> _M | None:
        table = self._table(name)
        if table is None:
            return None
        return validate(model, table, (name,), self.problems)

    def _west_holdings(self) -> WestHoldingsSettings | None:
        conf = self._section("west_holdings", WestHoldingsConf)
        if conf is None:
            return None
        return WestHoldingsSettings(
            prefix=conf.prefix,
            org_code=conf.org_code,
            stamp_005=conf.stamp_005,
            require_tags=tuple(conf.require_tags),
            upload_to=conf.upload_to,
            extra=_extra(conf),
        )

    def _oclc_sync(self) -> OclcSyncSettings | None:
        conf = self._section("oclc_sync", OclcSyncConf)
        institutions = self._oclc_institutions()
        if conf is None or institutions is None:
            return None
        table, origin = institutions
        codes = {institution.code for institution in table}
        if conf.primary is not None and conf.primary not in codes:
            self.problems.append(
                f"oclc_sync.primary: {shown(conf.primary)} is not the code of any institution "
                f"in oclc_sync.institutions ({origin})"
            )
            return None
        return OclcSyncSettings(
            nz_suffix=conf.nz_suffix,
            institutions=table,
            institutions_source=origin,
            primary=conf.primary,
            analytics_path=conf.analytics_path,
            normalize_job_id=conf.normalize_job_id,
            extra=_extra(conf),
        )

    def _oclc_institutions(self) -> tuple[tuple[OclcInstitution, ...], str] | None:
        section = self.document.get("oclc_sync")
        value = section.get("institutions") if isinstance(section, dict) else None
        loc = ("oclc_sync", "institutions")
        if value is None:
            return OCUL_INSTITUTIONS, "built-in OCUL table"
        if isinstance(value, str) and value.strip():
            rows = self._institutions_file(value.strip())
            if rows is None:
                return None
            where = f"{key_path(loc)}: {value.strip()}"
            from_file = self._institution_rows(rows, where, ())
            return (from_file, value.strip()) if from_file is not None else None
        if isinstance(value, list):
            table = self._institution_rows(value, "", loc)
            return (table, "inline") if table is not None else None
        self.problems.append(
            f"{key_path(loc)}: must be the path of a JSON file (relative to this file) or an "
            f"array of tables {{name, id, code}}, got {shown(value)}"
        )
        return None

    def _institutions_file(self, relative: str) -> list[Any] | None:
        where = "oclc_sync.institutions"
        path = self.base_dir / relative
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            self.problems.append(f"{where}: no such file {path}")
            return None
        except OSError as error:
            self.problems.append(f"{where}: cannot read {path}: {error.strerror or error}")
            return None
        try:
            rows = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            self.problems.append(f"{where}: {relative} is not a JSON file: {error}")
            return None
        if not isinstance(rows, list):
            self.problems.append(
                f"{where}: {relative} must hold a JSON array of {{name, id, code}} objects"
            )
            return None
        return rows

    def _institution_rows(
        self, rows: list[Any], where: str, loc: tuple[str, ...]
    ) -> tuple[OclcInstitution, ...] | None:
        problems: list[str] = []
        table: list[OclcInstitution] = []
        if not rows:
            problems.append(f"{where or key_path(loc)}: must list at least one institution")
        seen: dict[tuple[str, str], int] = {}
        for index, row in enumerate(rows):
            found: list[str] = []
            conf = validate(OclcInstitutionConf, row, (*loc, index), found)
            problems.extend(f"{where}{line}" if where else line for line in found)
            if conf is None:
                continue
            for key in ("id", "code"):
                value = str(getattr(conf, key))
                first = seen.setdefault((key, value), index)
                if first != index:
                    path = key_path((*loc, index, key))
                    problems.append(
                        f"{where}{path}: {shown(value)} is listed twice (also at [{first}])"
                    )
            table.append(OclcInstitution(conf.name, conf.id, conf.code))
        self.problems.extend(problems)
        return None if problems else tuple(table)

    def _course_loading(self) -> CourseLoadingSettings | None:
        conf = self._section("course_loading", CourseLoadingConf)
        if conf is None:
            return None
        return CourseLoadingSettings(
            source=conf.source,
            target=conf.target,
            date_format=conf.date_format,
            merge_on=conf.merge_on,
            cem_encoding=conf.cem_encoding,
            job_id=conf.job_id,
            job_poll_seconds=conf.job_poll_seconds,
            job_wait_minutes=conf.job_wait_minutes,
            report_delay_minutes=conf.report_delay_minutes,
            extra=_extra(conf),
        )

    def _aspace2alma(self, in_use: bool) -> Aspace2AlmaSettings | None:
        section = self.document.get("aspace2alma")
        if isinstance(section, dict) and isinstance(section.get("archivesspace"), dict):
            self._remember_secret(section["archivesspace"].get("password"))
        conf = self._section("aspace2alma", Aspace2AlmaConf)
        raw = section.get("archivesspace") if isinstance(section, dict) else None
        password = self._secret(
            raw if isinstance(raw, dict) else {},
            "password",
            ARCHIVESSPACE_PASSWORD_ENV,
            ("aspace2alma", "archivesspace", "password"),
            required=in_use,
        )
        if conf is None or (password is None and in_use):
            return None
        space = conf.archivesspace
        return Aspace2AlmaSettings(
            barcode_set=conf.barcode_set,
            target=conf.target,
            archivesspace=ArchivesSpaceConnection(
                url=space.url, user=space.user, password=Secret(password) if password else None
            ),
            extra=_extra(conf),
        )

    def _cleanup(self) -> CleanupSettings | None:
        conf = self._section("cleanup", CleanupConf)
        if conf is None:
            return None
        # Relative to the configuration file, as every path in it (B9); absolute from here on,
        # so that a run started in another working directory removes the same files.
        folders = tuple(str((self.base_dir / folder).absolute()) for folder in conf.folders)
        return CleanupSettings(keep_days=conf.keep_days, folders=folders, extra=_extra(conf))

    def _more_workflows(self) -> dict[str, Mapping[str, ConfigValue]]:
        found: dict[str, Mapping[str, ConfigValue]] = {}
        for section, workflow in self.more_sections.items():
            if section not in self.document:
                continue
            table = self._table(section)
            if table is not None:
                found[workflow] = MappingProxyType({k: _frozen(v) for k, v in table.items()})
        return found

    def _check_references(self, in_use: frozenset[str]) -> None:
        """Every remote reference of a section in use names a ``[remotes.NAME]`` table.

        Read from the file's own values (a default when the key is left out), so that a
        reference is checked even when another key of its section has a problem.
        """
        raw_remotes = self.document.get("remotes")
        defined = list(raw_remotes) if isinstance(raw_remotes, dict) else []
        for section, key, is_source, default in _REFERENCES:
            if section not in in_use:
                continue
            table = self.document.get(section)
            written = isinstance(table, dict) and key in table
            reference = (
                self._written_reference(table.get(key), is_source)
                if isinstance(table, dict) and written
                else default
            )
            if reference is None or reference.remote in defined:
                continue
            self.problems.append(
                f"{key_path((section, key))}: names the remote {shown(reference.remote)}, which "
                f"has no [remotes.{reference.remote}] table (defined: "
                f"{', '.join(defined) or 'none'})"
                + ("" if written else "; this is the key's default value")
            )

    @staticmethod
    def _written_reference(value: object, is_source: bool) -> RemotePath | None:
        if not isinstance(value, str) or not value.strip():
            return None
        try:
            return parse_remote_path(value, source=is_source)
        except ValueError:
            return None  # the section's own validation says what is wrong with it

    # ---- [schedules] -------------------------------------------------------------------------

    def _schedules(self) -> tuple[frozenset[str], dict[str, str]]:
        table = self._table("schedules")
        if table is None:
            return frozenset(), {}
        crons: dict[str, str] = {}
        for workflow, value in table.items():
            path = key_path(("schedules", workflow))
            if workflow not in self.workflows:
                self.problems.append(
                    f"{path}: unknown workflow{suggestion(workflow, self.workflows)}; "
                    f"the workflows are {', '.join(self.workflows)}"
                )
                continue
            if not isinstance(value, str):
                self.problems.append(
                    f'{path}: must be a cron expression in quotes, such as "30 10 * * 0-5", '
                    f"got {shown(value)}"
                )
                continue
            problem = cron_problem(value)
            if problem is not None:
                self.problems.append(f"{path}: {problem}, got {shown(value)}")
                continue
            crons[workflow] = " ".join(value.split())
        # A workflow named with a wrong expression is still meant to run: check its section.
        return frozenset(name for name in table if name in self.workflows), crons

    # ---- [notify.*] --------------------------------------------------------------------------

    def _notify(self) -> NotifySettings | None:
        table = self._table("notify")
        if table is None:
            return None
        problems = len(self.problems)
        smtp: SmtpSettings | None = None
        slack: SlackSettings | None = None
        routes: dict[str, NotifyRoute] = {}
        for name, value in table.items():
            loc = ("notify", name)
            if isinstance(value, dict) and name == "smtp":
                self._remember_secret(value.get("password"))
                smtp = self._smtp(value)
            elif isinstance(value, dict) and name == "slack":
                self._remember_secret(value.get("webhook"))
                slack = self._slack(value)
            elif name not in (*_CHANNELS, *self.workflows):
                what = "table" if isinstance(value, dict) else "key"
                self.problems.append(
                    f"{key_path(loc)}: unknown {what}"
                    f"{suggestion(name, (*_CHANNELS, *self.workflows))}; [notify] holds "
                    "[notify.smtp], [notify.slack] and one [notify.WORKFLOW] per workflow "
                    f"({', '.join(self.workflows)})"
                )
            elif not isinstance(value, dict):
                self.problems.append(f"{key_path(loc)}: must be a table, got {kind_of(value)}")
            else:
                conf = validate(RouteConf, value, loc, self.problems)
                if conf is not None:
                    routes[name] = NotifyRoute(
                        workflow=name,
                        to=tuple(conf.to),
                        on=frozenset(RunOutcome(outcome) for outcome in conf.on),
                        slack=conf.slack,
                    )
        if "slack" not in table:
            # The webhook may come from the environment alone.
            slack = self._slack({})
        if len(self.problems) > problems:
            return None
        return NotifySettings(smtp=smtp, slack=slack, routes=MappingProxyType(routes))

    def _smtp(self, table: dict[str, Any]) -> SmtpSettings | None:
        loc = ("notify", "smtp")
        conf = validate(SmtpConf, table, loc, self.problems)
        user = table.get("user")
        needs_login = isinstance(user, str) and bool(user.strip())
        password = self._secret(
            table, "password", SMTP_PASSWORD_ENV, (*loc, "password"), required=needs_login
        )
        if conf is not None and conf.starttls and conf.use_tls:
            self.problems.append(
                f"{key_path((*loc, 'use_tls'))}: cannot be true together with starttls "
                "(starttls upgrades a plain connection, port 587; use_tls speaks TLS from the "
                "first byte, port 465): set starttls = false"
            )
            return None
        if conf is None or (password is None and needs_login):
            return None
        return SmtpSettings(
            host=conf.host,
            sender=conf.sender,
            port=conf.port,
            starttls=conf.starttls,
            use_tls=conf.use_tls,
            user=conf.user,
            password=Secret(password) if password else None,
            timeout_seconds=conf.timeout_seconds,
        )

    def _slack(self, table: dict[str, Any]) -> SlackSettings | None:
        loc = ("notify", "slack")
        conf = validate(SlackConf, table, loc, self.problems)
        webhook = self._from_environment(SLACK_WEBHOOK_ENV) or (conf.webhook if conf else None)
        if conf is None or webhook is None:
            return None
        parts = urlsplit(webhook.strip())
        # Plain http only to this machine: a relay on the host, or a test's local receiver.
        loopback = parts.hostname in LOOPBACK_HOSTS and parts.scheme.lower() == "http"
        if (parts.scheme.lower() != "https" and not loopback) or not parts.hostname:
            # Never echoed: the webhook's URL is its credential.
            self.problems.append(
                f"{key_path((*loc, 'webhook'))}: must be an https:// URL (the Slack app's "
                f"incoming webhook), got {kind_of(webhook)}"
            )
            return None
        return SlackSettings(webhook=Secret(webhook.strip()), timeout_seconds=conf.timeout_seconds)

    # ---- secrets -----------------------------------------------------------------------------

    def _secret(
        self,
        table: Mapping[str, object],
        key: str,
        env_name: str,
        loc: tuple[str, ...],
        *,
        required: bool = True,
    ) -> str | None:
        """The secret from the environment (which wins) or the file; a problem when required
        and absent from both. A value of the wrong type is the schema's problem, not this one."""
        from_env = self._from_environment(env_name)
        if from_env is not None:
            return from_env
        value = table.get(key)
        if isinstance(value, str) and value:
            return value
        if required and (value is None or value == ""):
            because = ": user is set" if loc[-2:] == ("smtp", "password") else ""
            self.problems.append(
                f"{key_path(loc)}: missing{because} (give it here or in {env_name} in the "
                "environment)"
            )
        return None

    def _from_environment(self, name: str) -> str | None:
        value = self.environ.get(name, "")
        if not value.strip():
            return None
        self.secrets.append(value)
        return value

    def _remember_secret(self, value: object) -> None:
        if isinstance(value, str) and value:
            self.secrets.append(value)

    def _remember_url_password(self, value: object) -> None:
        if isinstance(value, str):
            try:
                password = urlsplit(value.strip()).password
            except ValueError:
                return
            if password:
                self.secrets.append(password)


def _extra(conf: BaseModel) -> Mapping[str, ConfigValue]:
    """A section's unknown keys, read-only all the way down (tables and arrays included)."""
    return MappingProxyType(
        {key: _frozen(value) for key, value in (conf.model_extra or {}).items()}
    )


def _frozen(value: object) -> ConfigValue:
    if isinstance(value, dict):
        return MappingProxyType({str(key): _frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    raise TypeError(f"not a TOML value: {type(value).__name__}")
