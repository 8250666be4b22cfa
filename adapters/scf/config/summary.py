"""What ``almabridge config check`` prints: the configuration as an operator reads it.

Lines of plain text, secrets never included (not even whether a password is long or short);
warnings are lines starting with ``warning:`` and are also available on their own.
"""

from __future__ import annotations

from typing import Literal

from application.scf.settings import Settings
from domain.scf.institutions import Consortium, Institution

__all__ = ["Role", "role", "summarise", "warnings"]

Role = Literal["member", "SCF", "pickup-only"]


def role(consortium: Consortium, institution: Institution) -> Role:
    """The part an institution plays: the SCF, a member with jobs, or only a pickup location."""
    if consortium.is_scf(institution.code):
        return "SCF"
    if institution.publishing_job_id or institution.requests_job_id:
        return "member"
    return "pickup-only"


def summarise(settings: Settings) -> list[str]:
    """The configuration, one fact per line, followed by its warnings."""
    consortium = settings.consortium
    scf = consortium.remote_storage
    server = settings.file_server
    lines = [
        f"gateway: {settings.gateway}",
        f"SCF: {scf.institution} (holding library {scf.holding_library}, "
        f"location {scf.holding_location}, circ desk {scf.circ_desk}, "
        f"digitization department {scf.digitization_department or '-'})",
    ]
    if server.protocol == "local":
        lines.append(f"file server: local folder {server.main_folder}")
    else:
        lines.append(
            f"file server: {server.protocol} {server.host}:{server.port} as {server.user}, "
            f"main folder {server.main_folder}"
        )
    lines += [
        f"local work folder: {settings.main_local_folder or '(current directory)'}; "
        f"reports: {settings.report_file_folder or '(none)'}",
        f"items: ignore_delete_files {str(consortium.ignore_delete_files).lower()}, "
        f"{settings.max_number_of_threads} threads",
        f"webhooks: {'signed' if settings.verifies_webhooks else 'UNSIGNED'}",
        f"Alma: at most {settings.alma_rate_limit_per_second} calls per second per institution; "
        f"requests wait up to {settings.request_grace_hours:g} h for an items sync",
        _log_backup_line(settings),
    ]
    for institution in consortium.institutions:
        lines.extend(_institution_lines(consortium, institution))
    lines.extend(f"warning: {warning}" for warning in warnings(settings))
    return lines


def _log_backup_line(settings: Settings) -> str:
    backup = settings.log_backup
    if not backup.enabled:
        return "log backup: off"
    return (
        f"log backup: daily at {backup.time_utc:%H:%M} UTC, "
        f"from {backup.log_folder} to {settings.file_server.main_folder}/logs/ on the file server"
    )


def _institution_lines(consortium: Consortium, institution: Institution) -> list[str]:
    facts = [
        f"publishing job {institution.publishing_job_id or '-'}",
        f"requests job {institution.requests_job_id or '-'}",
        f"default library {institution.default_library or '-'}",
    ]
    lines = [
        f"institution {institution.code} ({role(consortium, institution)}): " + ", ".join(facts)
    ]
    for library in institution.libraries:
        locations = ", ".join(sorted(library.remote_storage_locations)) or "-"
        lines.append(
            f"  library {library.code}: remote storage {locations}; "
            f"circ desk {library.circ_desk or '-'}"
        )
    return lines


def warnings(settings: Settings) -> list[str]:
    """What is legal but probably not meant, or unsafe; the first may stop the service (W2)."""
    found: list[str] = []
    refusal = settings.webhook_startup_error()
    if refusal is not None:
        found.append(f"the service will refuse to start: {refusal}")
    elif not settings.verifies_webhooks:
        found.append(
            "webhooks are accepted unsigned (allow_unsigned_webhooks: true): anyone who can "
            "reach /webhook can start a sync"
        )
    consortium = settings.consortium
    scf = consortium.remote_storage
    server = settings.file_server
    if server.protocol == "ftp":
        found.append("the file server uses plain FTP: its password travels unencrypted")
    if server.protocol == "sftp" and not (server.known_hosts or server.host_key_fingerprint):
        found.append(
            "the SFTP host key is checked against ~/.ssh/known_hosts; set ftp_server.known_hosts "
            "or ftp_server.host_key_fingerprint to pin it"
        )
    if not scf.digitization_department:
        found.append(
            "remote_storage_digitization_department is not set: digitization requests cannot "
            "be forwarded"
        )
    if not consortium.members:
        found.append("no member institutions: nothing will be synced")
    for institution in consortium.institutions:
        found.extend(_institution_warnings(consortium, institution))
    return found


def _institution_warnings(consortium: Consortium, institution: Institution) -> list[str]:
    code = institution.code
    part = role(consortium, institution)
    if part == "SCF":
        ignored = [
            key
            for key, value in (
                ("publishing_job_id", institution.publishing_job_id),
                ("requests_job_id", institution.requests_job_id),
            )
            if value
        ]
        if ignored:
            return [
                f"the SCF's own entry {code} has {' and '.join(ignored)}: ignored (the SCF is "
                "not synced from itself)"
            ]
        return []
    if part == "pickup-only":
        return [
            f"institution {code} has neither publishing_job_id nor requests_job_id: it is only "
            "a pickup location"
        ]
    found: list[str] = []
    if not institution.publishing_job_id:
        found.append(f"institution {code} has no publishing_job_id: its items are not synced")
    if not institution.requests_job_id:
        found.append(f"institution {code} has no requests_job_id: its requests are not forwarded")
    if not institution.libraries:
        found.append(
            f"institution {code} lists no libraries: none of its items is in remote storage"
        )
    for library in institution.libraries:
        if not library.remote_storage_locations:
            found.append(
                f"library {library.code} of {code} lists no remote_storage_location: none of its "
                "items counts as in remote storage"
            )
    return found
