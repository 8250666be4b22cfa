"""The workflow sections, ``[cleanup]`` and registered workflows' own sections (B6, B7, B8, B9).

What is checked for which workflow: remote references and the ArchivesSpace password only for a
workflow whose section is in the file or that ``[schedules]`` runs; the defaults of a workflow
the deployment does not use (``course_loading.source = "campus:…"``) need no ``[remotes.campus]``.
``[oclc_sync]`` has its own module, for its institutions table, ``[course_loading]``'s rule
tables theirs (:mod:`~adapters.workflow_config.build_courses`) and ``[aspace2alma]``'s rules
theirs (:mod:`~adapters.workflow_config.build_aspace`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from adapters.workflow_config import build_aspace, build_courses
from adapters.workflow_config.env_secrets import ARCHIVESSPACE_PASSWORD_ENV
from adapters.workflow_config.errors import key_path, shown
from adapters.workflow_config.reading import Reading, extra, frozen
from adapters.workflow_config.schema import (
    Aspace2AlmaConf,
    CleanupConf,
    CourseLoadingConf,
    WestHoldingsConf,
    parse_remote_path,
)
from application.shared.connections import Secret
from application.shared.workflow_settings import (
    ArchivesSpaceConnection,
    Aspace2AlmaSettings,
    CleanupSettings,
    ConfigValue,
    CourseLoadingSettings,
    RemotePath,
    WestHoldingsSettings,
)

__all__ = [
    "SECTION_WORKFLOWS",
    "aspace2alma",
    "check_references",
    "cleanup",
    "course_loading",
    "more_workflows",
    "west_holdings",
]

# Which workflows each section configures: a section is checked in full when the file holds it
# or when [schedules] runs one of its workflows.
SECTION_WORKFLOWS: Final[Mapping[str, tuple[str, ...]]] = {
    "west_holdings": ("west-holdings",),
    "oclc_sync": ("oclc-sync",),
    "course_loading": ("course-loading", "course-rollover-report"),
    "aspace2alma": ("aspace2alma", "aspace2alma-remove-stale"),
    "cleanup": ("cleanup",),
}
# Remote references: section, key, whether a glob source, and the default when left out.
_REFERENCES: Final[tuple[tuple[str, str, bool, RemotePath | None], ...]] = (
    ("west_holdings", "upload_to", False, WestHoldingsSettings().upload_to),
    ("course_loading", "source", True, CourseLoadingSettings().source),
    ("course_loading", "target", False, CourseLoadingSettings().target),
    ("aspace2alma", "target", False, Aspace2AlmaSettings().target),
)


def west_holdings(reading: Reading) -> WestHoldingsSettings | None:
    conf = reading.section("west_holdings", WestHoldingsConf)
    if conf is None:
        return None
    return WestHoldingsSettings(
        prefix=conf.prefix,
        org_code=conf.org_code,
        stamp_005=conf.stamp_005,
        require_tags=tuple(conf.require_tags),
        upload_to=conf.upload_to,
        extra=extra(conf),
    )


def course_loading(reading: Reading) -> CourseLoadingSettings | None:
    conf = reading.section("course_loading", CourseLoadingConf)
    tables = build_courses.course_tables(reading, conf)
    if conf is None or tables is None:
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
        tables=tables,
        extra=extra(conf),
    )


def aspace2alma(reading: Reading, in_use: bool) -> Aspace2AlmaSettings | None:
    """``[aspace2alma]``; its ArchivesSpace password is required only when ``in_use``."""
    raw = reading.raw("aspace2alma", "archivesspace")
    space_table = raw if isinstance(raw, dict) else {}
    reading.secrets.remember(space_table.get("password"))
    conf = reading.section("aspace2alma", Aspace2AlmaConf)
    rules = build_aspace.aspace_rules(reading)
    password = reading.secrets.secret(
        space_table,
        "password",
        ARCHIVESSPACE_PASSWORD_ENV,
        ("aspace2alma", "archivesspace", "password"),
        required=in_use,
    )
    if conf is None or rules is None or (password is None and in_use):
        return None
    space = conf.archivesspace
    return Aspace2AlmaSettings(
        barcode_set=conf.barcode_set,
        target=conf.target,
        archivesspace=ArchivesSpaceConnection(
            url=space.url,
            user=space.user,
            password=Secret(password) if password else None,
            concurrency=space.concurrency,
        ),
        rules=rules,
        extra=extra(conf),
    )


def cleanup(reading: Reading) -> CleanupSettings | None:
    conf = reading.section("cleanup", CleanupConf)
    if conf is None:
        return None
    # Relative to the configuration file, as every path in it (B9); absolute from here on,
    # so that a run started in another working directory removes the same files.
    folders = tuple(str((reading.base_dir / folder).absolute()) for folder in conf.folders)
    return CleanupSettings(keep_days=conf.keep_days, folders=folders, extra=extra(conf))


def more_workflows(reading: Reading) -> dict[str, Mapping[str, ConfigValue]]:
    """The sections of workflows registered beyond ours, kept unchecked and read-only."""
    found: dict[str, Mapping[str, ConfigValue]] = {}
    for section, workflow in reading.more_sections.items():
        if section not in reading.document:
            continue
        table = reading.table(section)
        if table is not None:
            found[workflow] = MappingProxyType({k: frozen(v) for k, v in table.items()})
    return found


def check_references(reading: Reading, in_use: frozenset[str]) -> None:
    """Every remote reference of a section in use names a ``[remotes.NAME]`` table.

    Read from the file's own values (a default when the key is left out), so that a
    reference is checked even when another key of its section has a problem.
    """
    raw_remotes = reading.document.get("remotes")
    defined = list(raw_remotes) if isinstance(raw_remotes, dict) else []
    for section, key, is_source, default in _REFERENCES:
        if section not in in_use:
            continue
        # TOML has no null: a key that is written has a value.
        value = reading.raw(section, key)
        written = value is not None
        reference = _written_reference(value, is_source) if written else default
        if reference is None or reference.remote in defined:
            continue
        reading.problems.append(
            f"{key_path((section, key))}: names the remote {shown(reference.remote)}, which "
            f"has no [remotes.{reference.remote}] table (defined: "
            f"{', '.join(defined) or 'none'})"
            + ("" if written else "; this is the key's default value")
        )


def _written_reference(value: object, is_source: bool) -> RemotePath | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_remote_path(value, source=is_source)
    except ValueError:
        return None  # the section's own validation says what is wrong with it
