"""The four workflow sections, ``[cleanup]`` and the top-level keys (rules B6, B7, B8, B9).

A workflow section keeps its unknown keys (rule tables, constants) for the workflow that owns
them; ``[aspace2alma.archivesspace]`` refuses them, as every connection table does.
``[course_loading]``'s tables and ``[aspace2alma]``'s rules are keys of their sections, checked
in their builders (``build_courses``, ``build_aspace``). A remote reference (``NAME`` or
``NAME:path``) is checked for its form here and for its name against ``[remotes]`` in the
loader.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from adapters.workflow_config.schema_values import (
    Digits,
    Flag,
    OptionalText,
    Seconds,
    SecretText,
    Section,
    Table,
    Text,
    TextList,
    array,
    http_url,
    problem,
    text,
    whole,
)
from application.shared.workflow_settings import (
    DEFAULT_CLEANUP_FOLDERS,
    DEFAULT_KEEP_DAYS,
    DEFAULT_LEDGER_RETENTION_DAYS,
    DEFAULT_SCHEDULE_GRACE,
    Aspace2AlmaSettings,
    CourseLoadingSettings,
    MergeOn,
    OclcSyncSettings,
    RemotePath,
    WestHoldingsSettings,
)

__all__ = [
    "ArchivesSpaceConf",
    "Aspace2AlmaConf",
    "CleanupConf",
    "CourseLoadingConf",
    "OclcInstitutionConf",
    "OclcSyncConf",
    "TopLevelConf",
    "WestHoldingsConf",
    "parse_remote_path",
]

# The defaults live in the application's settings, once; the file format refers to them.
_WEST: Final = WestHoldingsSettings()
_OCLC: Final = OclcSyncSettings()
_COURSES: Final = CourseLoadingSettings()
_ASPACE: Final = Aspace2AlmaSettings()
_REMOTE_NAME: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
_GLOB: Final = re.compile(r"[*?\[]")
_PLACEHOLDER: Final = re.compile(r"\{[^}]*\}")
_KNOWN_PLACEHOLDERS: Final = frozenset({"{YYYYMMDD}"})


def parse_remote_path(text: str, *, source: bool) -> RemotePath:
    """``NAME`` or ``NAME:path`` as a :class:`RemotePath`; raises ValueError with the sentence.

    The path is relative to the remote's folder; in a source its last segment may be a glob with
    ``{YYYYMMDD}`` for today's date (L1). The name is checked against ``[remotes]`` later.
    """
    name, _, path = text.strip().partition(":")
    example = "campus:leganto_export_{YYYYMMDD}*" if source else "drop or drop:subfolder"
    if not _REMOTE_NAME.match(name):
        raise ValueError(f"must name a remote as NAME or NAME:path, such as {example}")
    path = path.strip()
    segments = path.split("/") if path else []
    if path.startswith("/") or ".." in segments:
        raise ValueError("the path after NAME: must stay inside the remote's folder (relative)")
    if path.endswith("/"):
        path = path.rstrip("/")
        segments = path.split("/") if path else []
    for placeholder in _PLACEHOLDER.findall(path):
        if placeholder not in _KNOWN_PLACEHOLDERS:
            raise ValueError(f"{placeholder} is not a placeholder: only {{YYYYMMDD}} is")
    globbed = [index for index, segment in enumerate(segments) if _GLOB.search(segment)]
    if globbed and not source:
        raise ValueError("a destination cannot be a glob pattern (*, ?, [...])")
    if globbed and globbed != [len(segments) - 1]:
        raise ValueError("only the last segment of the path may be a glob pattern")
    return RemotePath(name, path)


def _remote_path(source: bool) -> Callable[[object], RemotePath]:
    def check(value: object) -> RemotePath:
        try:
            return parse_remote_path(text(value), source=source)
        except ValueError as error:
            raise problem(str(error)) from None

    return check


def _optional_remote_path(value: object) -> RemotePath | None:
    if isinstance(value, str) and not value.strip():
        return None
    return _remote_path(source=False)(value)


def _merge_on(value: object) -> MergeOn:
    if value == "code+section":
        return "code+section"
    if value == "code":
        return "code"
    raise problem('must be "code+section" or "code"')


def _encoding(value: object) -> str:
    name = text(value)
    try:
        codecs.lookup(name)
    except LookupError:
        raise problem("must be a text encoding Python knows, such as iso-8859-1 or utf-8") from None
    return name


def _date_format(value: object) -> str:
    pattern = text(value)
    try:
        sample = datetime(2001, 2, 3).strftime(pattern)
    except ValueError:
        sample = pattern
    if "%" not in pattern or sample == pattern:
        raise problem('must be a strftime format such as "%d-%m-%Y"')
    return pattern


class WestHoldingsConf(Section):
    """``[west_holdings]``."""

    prefix: Text = _WEST.prefix
    org_code: OptionalText = _WEST.org_code
    stamp_005: Flag = _WEST.stamp_005
    require_tags: TextList = Field(default_factory=lambda: list(_WEST.require_tags))
    upload_to: Annotated[RemotePath | None, BeforeValidator(_optional_remote_path)] = (
        _WEST.upload_to
    )


class OclcInstitutionConf(Table):
    """One row of the OCLC institutions table (inline or from its JSON file)."""

    name: Text
    id: Digits
    code: Text


class OclcSyncConf(Section):
    """``[oclc_sync]``; ``institutions`` is resolved in the loader (a path or an array)."""

    nz_suffix: Digits = _OCLC.nz_suffix
    institutions: Any = None
    primary: OptionalText = _OCLC.primary
    analytics_path: Text = _OCLC.analytics_path
    normalize_job_id: OptionalText = _OCLC.normalize_job_id


class CourseLoadingConf(Section):
    """``[course_loading]``."""

    source: Annotated[RemotePath, BeforeValidator(_remote_path(source=True))] = _COURSES.source
    target: Annotated[RemotePath, BeforeValidator(_remote_path(source=False))] = _COURSES.target
    date_format: Annotated[str, BeforeValidator(_date_format)] = _COURSES.date_format
    merge_on: Annotated[MergeOn, BeforeValidator(_merge_on)] = _COURSES.merge_on
    cem_encoding: Annotated[str, BeforeValidator(_encoding)] = _COURSES.cem_encoding
    job_id: OptionalText = _COURSES.job_id
    job_poll_seconds: Annotated[int, BeforeValidator(whole(1))] = _COURSES.job_poll_seconds
    job_wait_minutes: Annotated[int, BeforeValidator(whole(1))] = _COURSES.job_wait_minutes
    report_delay_minutes: Annotated[int, BeforeValidator(whole(0))] = _COURSES.report_delay_minutes
    # L3's tables (B9): the fallbacks here, the tables item by item in build_courses, so that
    # a problem names the rule it is in. Left out, each is ASU's.
    campus_fallback: Text = _COURSES.tables.campus_fallback
    college_fallback: Text = _COURSES.tables.college_fallback
    term_fallback: OptionalText = _COURSES.tables.term_fallback or None
    campus: Any = None
    overrides: Any = None
    terms: Any = None


class ArchivesSpaceConf(Table):
    """``[aspace2alma.archivesspace]``."""

    url: Annotated[str, BeforeValidator(http_url)] = _ASPACE.archivesspace.url
    user: Text = _ASPACE.archivesspace.user
    # Required when aspace2alma runs, unless ALMABRIDGE_ARCHIVESSPACE_PASSWORD gives it.
    password: SecretText = Field(default=None, repr=False)
    concurrency: Annotated[
        int, BeforeValidator(whole(1, 16, " (calls in flight to ArchivesSpace at once)"))
    ] = _ASPACE.archivesspace.concurrency


class Aspace2AlmaConf(Section):
    """``[aspace2alma]``."""

    barcode_set: OptionalText = _ASPACE.barcode_set
    target: Annotated[RemotePath, BeforeValidator(_remote_path(source=False))] = _ASPACE.target
    archivesspace: ArchivesSpaceConf = ArchivesSpaceConf()
    # AS4's constants, tag lists, patterns and exclusion list (B9): keys of the section, not
    # more keys; checked and built in build_aspace, each Princeton's when left out.
    org_code: Any = None
    cataloging_agency: Any = None
    cataloging_language: Any = None
    description_conventions: Any = None
    note_limit: Any = None
    heading_tags: Any = None
    removed_tags: Any = None
    finding_aid_link_text: Any = None
    finding_aid_label: Any = None
    location_note: Any = None
    recap_location: Any = None
    excluded_call_numbers: Any = None


class CleanupConf(Section):
    """``[cleanup]``; the folders are resolved against the file's folder in the loader."""

    keep_days: Annotated[int, BeforeValidator(whole(0))] = DEFAULT_KEEP_DAYS
    folders: Annotated[
        list[Text], BeforeValidator(array('folder paths in quotes, such as ["out"]'))
    ] = Field(default_factory=lambda: list(DEFAULT_CLEANUP_FOLDERS))


class TopLevelConf(BaseModel):
    """The top-level keys that are not tables."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    schedule_grace_hours: Seconds = DEFAULT_SCHEDULE_GRACE.total_seconds() / 3600
    ledger_retention_days: Annotated[int, BeforeValidator(whole(1))] = DEFAULT_LEDGER_RETENTION_DAYS
