"""What ``almabridge workflows check`` prints: the workflows configuration as an operator reads it.

Lines of plain text (rule B9). Secrets are never included: an API key, a password or a webhook
is only said to be set or not. Warnings are lines starting with ``warning:``: legal, but probably
not meant (a Slack route without a webhook, the example's placeholders left in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime, tzinfo

from adapters.workflow_config.build_sections import SECTION_WORKFLOWS
from adapters.workflow_config.cron import CronSchedule
from application.shared.connections import Secret
from application.shared.run_outcome import RunOutcome
from application.shared.workflow_settings import (
    WORKFLOW_NAMES,
    Aspace2AlmaSettings,
    ConfigValue,
    CourseLoadingSettings,
    WorkflowSettings,
)

__all__ = ["next_due_times", "summarise", "warnings"]

PLACEHOLDER = "..."
"""The value WORKFLOWS.md and the example file write for every secret."""

EXAMPLE_HOST_KEY = "SHA256:replace-with-the-servers-host-key-fingerprint"
"""The host key fingerprint the example file writes for its sftp remote."""

_OUTCOME_ORDER = (RunOutcome.FAILED, RunOutcome.PARTIAL, RunOutcome.OK)
_ASU_TABLES = CourseLoadingSettings().tables
"""What a deployment gets for every table it leaves out (B9)."""
_PRINCETON_RULES = Aspace2AlmaSettings().rules
"""What a deployment gets for every aspace2alma rule key it leaves out (AS4, B9)."""


def next_due_times(settings: WorkflowSettings, now: datetime, zone: tzinfo) -> dict[str, datetime]:
    """Per scheduled workflow, its next due time after ``now``, in ``zone`` (local time, B6)."""
    return {
        workflow: CronSchedule(expression, zone).next_after(now)
        for workflow, expression in settings.schedules.crons.items()
    }


def summarise(settings: WorkflowSettings, now: datetime, zone: tzinfo) -> list[str]:
    """The configuration, one fact per line, followed by its warnings."""
    lines = [f"file: {settings.source}"]
    lines += _alma_lines(settings)
    lines += _remote_lines(settings)
    lines += _workflow_lines(settings)
    lines += _schedule_lines(settings, now, zone)
    lines += _notify_lines(settings)
    lines.extend(f"warning: {warning}" for warning in warnings(settings))
    return lines


def _alma_lines(settings: WorkflowSettings) -> list[str]:
    if not settings.alma:
        return ["alma: no institutions ([alma.CODE] tables)"]
    return [
        f"alma {code}: {institution.api_base}, at most {institution.rate_limit_per_second} "
        f"calls per second, API key {_set(institution.apikey)}"
        for code, institution in settings.alma.items()
    ]


def _remote_lines(settings: WorkflowSettings) -> list[str]:
    if not settings.remotes:
        return ["remotes: none ([remotes.NAME] tables)"]
    lines = []
    for name, remote in settings.remotes.items():
        facts = [f"password {_set(remote.password)}"] if remote.protocol != "file" else []
        if remote.host_key:
            facts.append(f"host key {remote.host_key}")
        detail = f" ({', '.join(facts)})" if facts else ""
        lines.append(f"remote {name}: {remote.url}{detail}")
    return lines


def _workflow_lines(settings: WorkflowSettings) -> list[str]:
    west = settings.west_holdings
    oclc = settings.oclc_sync
    courses = settings.course_loading
    aspace = settings.aspace2alma
    space = aspace.archivesspace
    report = (
        f"after job {courses.job_id} finishes (polled every {courses.job_poll_seconds} s, up "
        f"to {courses.job_wait_minutes} min)"
        if courses.job_id
        else f"{courses.report_delay_minutes} min after the push"
    )
    lines = [
        f"west-holdings{_origin(settings, 'west_holdings')}: prefix {west.prefix}, "
        f"003 {west.org_code or '-'}, 005 stamp {'on' if west.stamp_005 else 'off'}, "
        f"require tags {', '.join(west.require_tags)}, upload to {west.upload_to or '-'}"
        + _extra_keys(west.extra),
        f"oclc-sync{_origin(settings, 'oclc_sync')}: NZ suffix {oclc.nz_suffix}, "
        f"{len(oclc.institutions)} institutions ({oclc.institutions_source}), "
        f"primary {oclc.primary or 'the first report given'}, analytics path "
        f"{oclc.analytics_path}, normalize job {oclc.normalize_job_id or '-'}"
        + _extra_keys(oclc.extra),
        f"course-loading{_origin(settings, 'course_loading')}: source {courses.source}, "
        f"target {courses.target}, date format {courses.date_format}, merge on "
        f"{courses.merge_on}, CEM encoding {courses.cem_encoding}, tables: "
        f"{_course_tables(courses)}" + _extra_keys(courses.extra),
        f"course-rollover-report: made {report}",
        f"aspace2alma{_origin(settings, 'aspace2alma')}: barcode set "
        f"{aspace.barcode_set or '-'}, target {aspace.target}, ArchivesSpace {space.url} as "
        f"{space.user} (password {_set(space.password)}, at most {space.concurrency} calls at "
        f"once), rules: {_aspace_rules(aspace)}" + _extra_keys(aspace.extra),
        f"cleanup{_origin(settings, 'cleanup')}: generated files older than "
        f"{settings.cleanup.keep_days} days are removed from {', '.join(settings.cleanup.folders)}"
        + _extra_keys(settings.cleanup.extra),
    ]
    lines.extend(
        f"{workflow}: its own section, keys {', '.join(table) or '-'}"
        for workflow, table in sorted(settings.more_workflows.items())
    )
    return lines


def _course_tables(courses: CourseLoadingSettings) -> str:
    """``7 campus rules, 3 overrides, 3 terms (ASU's)``: how many, and whose (L3, B9)."""
    tables, asu = courses.tables, _ASU_TABLES
    counts = (
        f"{_counted(len(tables.campus_rules), 'campus rule')}, "
        f"{_counted(len(tables.overrides), 'override')}, {_counted(len(tables.terms), 'term')}"
    )
    own = [kind for kind, attributes in _TABLE_KINDS if _differ(tables, asu, attributes)]
    if not own:
        return f"{counts} (ASU's)"
    if len(own) == len(_TABLE_KINDS):
        return f"{counts} (from the file)"
    return f"{counts} (from the file: {', '.join(own)}; the rest ASU's)"


def _aspace_rules(aspace: Aspace2AlmaSettings) -> str:
    """``Princeton's``, or the keys whose values are the file's own (AS4, B9)."""
    names = [item.name for item in fields(aspace.rules)]
    own = [name for name in names if _differ(aspace.rules, _PRINCETON_RULES, (name,))]
    if not own:
        return "Princeton's"
    if len(own) == len(names):
        return "all from the file"
    return f"from the file: {', '.join(own)}; the rest Princeton's"


_TABLE_KINDS = (
    ("campus rules", ("campus_rules",)),
    ("overrides", ("overrides",)),
    ("terms", ("terms",)),
    ("fallbacks", ("campus_fallback", "college_fallback", "term_fallback")),
)


def _differ(tables: object, asu: object, attributes: tuple[str, ...]) -> bool:
    return any(getattr(tables, name) != getattr(asu, name) for name in attributes)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _schedule_lines(settings: WorkflowSettings, now: datetime, zone: tzinfo) -> list[str]:
    crons = settings.schedules.crons
    if not crons:
        return ["schedules: none (runs start only from the command line)"]
    due = next_due_times(settings, now, zone)
    grace_hours = settings.schedules.grace.total_seconds() / 3600
    lines = [
        f"schedule {workflow}: {crons[workflow]}, next {due[workflow]:%Y-%m-%d %H:%M %Z} "
        "(local time)"
        for workflow in _in_order(crons)
    ]
    lines.append(
        f"schedules: a run missed while the service was down starts if at most {grace_hours:g} h "
        "late; older ones are recorded as missed"
    )
    return lines


def _notify_lines(settings: WorkflowSettings) -> list[str]:
    notify = settings.notify
    smtp = notify.smtp
    if smtp is None:
        lines = ["notify smtp: off (no [notify.smtp])"]
    else:
        security = "TLS" if smtp.use_tls else "STARTTLS" if smtp.starttls else "no encryption"
        login = f"login {smtp.user}, password {_set(smtp.password)}" if smtp.user else "no login"
        lines = [f"notify smtp: {smtp.host}:{smtp.port}, {security}, {login}, from {smtp.sender}"]
    lines.append(f"notify slack: {'webhook set' if notify.slack else 'off (no webhook)'}")
    for workflow in _in_order(notify.routes):
        route = notify.routes[workflow]
        outcomes = ", ".join(o.value for o in _OUTCOME_ORDER if o in route.on) or "never"
        channels = []
        if route.to:
            channels.append("e-mail to " + ", ".join(route.to))
        if route.slack:
            channels.append("Slack")
        lines.append(f"notify {workflow}: on {outcomes} → {'; '.join(channels) or 'no channel'}")
    return lines


def warnings(settings: WorkflowSettings) -> list[str]:
    """What is legal but probably not meant."""
    found: list[str] = []
    for code, institution in settings.alma.items():
        if _placeholder(institution.apikey):
            found.append(f"alma.{code}.apikey is still the example's placeholder {PLACEHOLDER!r}")
    for name, remote in settings.remotes.items():
        if _placeholder(remote.password):
            found.append(f"remotes.{name}.password is still the example's placeholder")
        if remote.host_key == EXAMPLE_HOST_KEY:
            found.append(
                f"remotes.{name}.host_key is still the example's placeholder: every connection "
                "will be refused"
            )
        if remote.protocol == "ftp":
            found.append(f"remotes.{name} uses plain FTP: its password travels unencrypted")
    in_use = settings.sections | _scheduled_sections(settings)
    aspace = settings.aspace2alma
    if "aspace2alma" in in_use and not aspace.barcode_set:
        found.append(
            "aspace2alma.barcode_set is empty: aspace2alma runs stop until it is set (AS3)"
        )
    if "aspace2alma" in in_use and _placeholder(aspace.archivesspace.password):
        found.append("aspace2alma.archivesspace.password is still the example's placeholder")
    notify = settings.notify
    if notify.smtp is not None and _placeholder(notify.smtp.password):
        found.append("notify.smtp.password is still the example's placeholder")
    for workflow, route in notify.routes.items():
        if route.to and notify.smtp is None:
            found.append(f"notify.{workflow}.to: no [notify.smtp] table, so no e-mail is sent")
        if route.slack and notify.slack is None:
            found.append(
                f"notify.{workflow}.slack: no Slack webhook (notify.slack.webhook or "
                "ALMABRIDGE_SLACK_WEBHOOK), so nothing is posted"
            )
    return found


def _scheduled_sections(settings: WorkflowSettings) -> frozenset[str]:
    crons = settings.schedules.crons
    return frozenset(
        section
        for section, names in SECTION_WORKFLOWS.items()
        if any(name in crons for name in names)
    )


def _in_order(names: Iterable[str]) -> list[str]:
    """The built-in workflows in their usual order, then any others by name."""
    given = set(names)
    return [name for name in WORKFLOW_NAMES if name in given] + sorted(given - set(WORKFLOW_NAMES))


def _origin(settings: WorkflowSettings, section: str) -> str:
    return "" if section in settings.sections else " (defaults)"


def _extra_keys(extra: Mapping[str, ConfigValue]) -> str:
    return f"; more keys: {', '.join(extra)}" if extra else ""


def _set(secret: Secret | None) -> str:
    return "set" if secret else "not set"


def _placeholder(secret: Secret | None) -> bool:
    # Compared, never shown.
    return secret is not None and secret.reveal() == PLACEHOLDER
