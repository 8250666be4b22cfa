"""From the file format to the application's :class:`Settings` (rules K2, K3).

Two steps:

* :func:`check_document` finds what one key cannot tell on its own: a member library without a
  ``circ_desc`` (the SCF's own entry may omit it), a secret present neither in the file nor in its
  environment variable, a duplicate institution or library code, an institution using one job id
  for both jobs. It reads the parsed JSON, not the validated model, so that these problems are
  reported together with the schema's own instead of only after those are fixed.
* :func:`to_settings` builds the typed settings from a file that passed both checks; secrets from
  the environment win over the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time

from adapters.scf.config.errors import SECRET_KEYS, key_path
from adapters.scf.config.schema import ConfFile, FtpServerConf, InstitutionConf, LogBackupConf
from application.scf.settings import LogBackup, Settings
from application.shared.connections import FileServer, Secret, TransferProtocol
from domain.scf.institutions import Consortium, Institution, Library, RemoteStorage

__all__ = [
    "FTP_PASSWORD_ENV",
    "WEBHOOK_SECRET_ENV",
    "apikey_env_name",
    "check_document",
    "resolve_transfer",
    "secret_values",
    "to_settings",
]

# Names of environment variables, not secrets.
WEBHOOK_SECRET_ENV = "ALMABRIDGE_WEBHOOK_SECRET"  # noqa: S105
FTP_PASSWORD_ENV = "ALMABRIDGE_FTP_PASSWORD"  # noqa: S105
_APIKEY_ENV_PREFIX = "ALMABRIDGE_APIKEY_"
_PROTOCOLS: dict[str, TransferProtocol] = {"sftp": "sftp", "ftp": "ftp", "local": "local"}
_DEFAULT_PORTS: dict[TransferProtocol, int] = {"ftp": 21, "sftp": 22, "local": 0}


def apikey_env_name(code: str) -> str:
    """``ALMABRIDGE_APIKEY_<CODE>``: the code upper-cased, anything but A-Z and 0-9 made ``_``."""
    return _APIKEY_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", code.upper())


def resolve_transfer(protocol: str | None, port: int | None) -> tuple[TransferProtocol, int]:
    """The protocol and port of the file server.

    An explicit ``protocol`` wins. Without one, the Java rule applies: port 22 means SFTP and any
    other port (or none) FTP. A missing port is the protocol's usual one.
    """
    chosen: TransferProtocol = _PROTOCOLS.get(protocol or "") or ("sftp" if port == 22 else "ftp")
    if chosen == "local":
        return chosen, 0
    return chosen, port if port is not None else _DEFAULT_PORTS[chosen]


def check_document(document: Mapping[str, object], environ: Mapping[str, str]) -> list[str]:
    """Problems that depend on more than one key or on the environment (all of them)."""
    problems: list[str] = []
    scf = _text(document.get("remote_storage_inst"))
    _check_secret(
        problems,
        document,
        ("remote_storage_apikey",),
        apikey_env_name(scf) if scf else f"{_APIKEY_ENV_PREFIX}<remote_storage_inst>",
        environ,
    )
    ftp = document.get("ftp_server")
    if isinstance(ftp, Mapping):
        _check_file_server(problems, document, ftp, environ)
    institutions = document.get("institutions")
    if isinstance(institutions, list):
        _check_institutions(problems, document, institutions, scf, environ)
    return problems


def _check_file_server(
    problems: list[str],
    document: Mapping[str, object],
    ftp: Mapping[str, object],
    environ: Mapping[str, str],
) -> None:
    raw_protocol = ftp.get("protocol")
    protocol = raw_protocol.strip().lower() if isinstance(raw_protocol, str) else None
    protocol, _ = resolve_transfer(protocol, _port(ftp.get("ftp_port")))
    if protocol == "local":
        # A local folder (tests, a mounted share) needs only main_folder.
        return
    for key in ("host", "user"):
        if _blank(ftp.get(key)):
            problems.append(f"{key_path(('ftp_server', key), document)}: missing")
    _check_secret(problems, document, ("ftp_server", "password"), FTP_PASSWORD_ENV, environ)


def _check_institutions(
    problems: list[str],
    document: Mapping[str, object],
    institutions: list[object],
    scf: str | None,
    environ: Mapping[str, str],
) -> None:
    first_index: dict[str, int] = {}
    for index, entry in enumerate(institutions):
        if not isinstance(entry, Mapping):
            continue
        code = _text(entry.get("code"))
        here = ("institutions", index)
        is_scf = code is not None and scf is not None and code.casefold() == scf.casefold()
        if code is not None:
            # Codes compare case-insensitively (Consortium.institution does), so must be unique so.
            seen = first_index.setdefault(code.casefold(), index)
            if seen != index:
                problems.append(
                    f"{key_path((*here, 'code'), document)}: duplicate of institutions[{seen}]"
                )
        if not is_scf:
            # The SCF's own entry is reached with remote_storage_apikey; everyone else needs a key.
            env_name = apikey_env_name(code) if code else f"{_APIKEY_ENV_PREFIX}<code>"
            _check_secret(problems, document, (*here, "apikey"), env_name, environ)
        publishing = _text(entry.get("publishing_job_id"))
        requests = _text(entry.get("requests_job_id"))
        if publishing is not None and publishing == requests:
            # A JOB_END with this id could not tell an items sync from a requests sync (rule W4).
            problems.append(
                f"{key_path((*here, 'requests_job_id'), document)}: the same job id as "
                f"publishing_job_id ({requests}); each job needs its own id"
            )
        libraries = entry.get("libraries")
        if isinstance(libraries, list):
            _check_libraries(problems, document, here, libraries, is_scf=is_scf)


def _check_libraries(
    problems: list[str],
    document: Mapping[str, object],
    here: tuple[str, int],
    libraries: list[object],
    *,
    is_scf: bool,
) -> None:
    first_index: dict[str, int] = {}
    for index, library in enumerate(libraries):
        if not isinstance(library, Mapping):
            continue
        at = (*here, "libraries", index)
        code = _text(library.get("code"))
        if code is not None:
            seen = first_index.setdefault(code, index)
            if seen != index:
                problems.append(
                    f"{key_path((*at, 'code'), document)}: duplicate of libraries[{seen}]"
                )
        # Rule C1 scans a returned item in at this desk; the SCF's own libraries are never scanned.
        if not is_scf and _blank(library.get("circ_desc")):
            problems.append(f"{key_path((*at, 'circ_desc'), document)}: missing")


def _check_secret(
    problems: list[str],
    document: Mapping[str, object],
    loc: tuple[str | int, ...],
    env_name: str,
    environ: Mapping[str, str],
) -> None:
    if environ.get(env_name):
        return
    node: object = document
    for segment in loc:
        if isinstance(segment, int):
            node = node[segment] if isinstance(node, list) else None
        else:
            node = node.get(segment) if isinstance(node, Mapping) else None
    # A present but wrongly typed value is the schema's to report; only absence is ours.
    if _blank(node):
        problems.append(
            f"{key_path(loc, document)}: missing (give it in the file or in the environment "
            f"variable {env_name})"
        )


def secret_values(document: Mapping[str, object], environ: Mapping[str, str]) -> list[str]:
    """Every secret value the file or the environment holds, to scrub from problems."""
    values: list[str] = [
        value
        for name, value in environ.items()
        if name in (WEBHOOK_SECRET_ENV, FTP_PASSWORD_ENV) or name.startswith(_APIKEY_ENV_PREFIX)
    ]

    def collect(node: object, key: str | None) -> None:
        if isinstance(node, Mapping):
            for child_key, child in node.items():
                collect(child, str(child_key))
        elif isinstance(node, list):
            for child in node:
                collect(child, key)
        elif key in SECRET_KEYS and isinstance(node, str):
            values.append(node)

    collect(document, None)
    return [value for value in values if value]


def to_settings(conf: ConfFile, environ: Mapping[str, str]) -> Settings:
    """Typed settings from a file that passed :func:`check_document`; the environment wins."""
    scf_code = conf.remote_storage_inst
    institutions = tuple(_institution(entry) for entry in conf.institutions)
    api_keys: dict[str, Secret] = {}
    for entry in conf.institutions:
        if entry.code.casefold() == scf_code.casefold():
            continue
        api_keys[entry.code] = _secret(environ.get(apikey_env_name(entry.code)), entry.apikey)
    # The SCF is always reached with remote_storage_apikey, even when also listed in institutions.
    api_keys[scf_code] = _secret(environ.get(apikey_env_name(scf_code)), conf.remote_storage_apikey)
    webhook = environ.get(WEBHOOK_SECRET_ENV) or conf.webhook_secret
    return Settings(
        gateway=conf.gateway,
        consortium=Consortium(
            remote_storage=RemoteStorage(
                institution=scf_code,
                holding_library=conf.remote_storage_holding_library,
                holding_location=conf.remote_storage_holding_location,
                circ_desk=conf.remote_storage_circ_desc,
                digitization_department=conf.remote_storage_digitization_department,
            ),
            institutions=institutions,
            ignore_delete_files=conf.ignore_delete_files,
        ),
        api_keys=api_keys,
        file_server=_file_server(conf.ftp_server, environ),
        main_local_folder=conf.main_local_folder,
        report_file_folder=conf.report_file_folder,
        max_number_of_threads=conf.max_number_of_threads,
        webhook_secret=Secret(webhook) if webhook else None,
        allow_unsigned_webhooks=conf.allow_unsigned_webhooks,
        request_grace_hours=conf.request_grace_hours,
        alma_rate_limit_per_second=conf.alma_rate_limit_per_second,
        log_backup=_log_backup(conf.log_backup),
    )


def _log_backup(conf: LogBackupConf | None) -> LogBackup:
    if conf is None:
        return LogBackup()
    hours, minutes = conf.time_utc.split(":")
    return LogBackup(
        enabled=conf.enabled,
        log_folder=conf.log_folder or LogBackup.log_folder,
        time_utc=time(int(hours), int(minutes)),
    )


def _institution(entry: InstitutionConf) -> Institution:
    return Institution(
        code=entry.code,
        libraries=tuple(
            Library(
                code=library.code,
                circ_desk=library.circ_desc,
                remote_storage_locations=frozenset(library.remote_storage_location),
            )
            for library in entry.libraries
        ),
        default_library=entry.default_library,
        publishing_job_id=entry.publishing_job_id,
        requests_job_id=entry.requests_job_id,
    )


def _file_server(ftp: FtpServerConf, environ: Mapping[str, str]) -> FileServer:
    protocol, port = resolve_transfer(ftp.protocol, ftp.ftp_port)
    return FileServer(
        host=ftp.host or "",
        user=ftp.user or "",
        password=_secret(environ.get(FTP_PASSWORD_ENV), ftp.password),
        main_folder=ftp.main_folder,
        port=port,
        protocol=protocol,
        known_hosts=ftp.known_hosts,
        host_key_fingerprint=ftp.host_key_fingerprint,
    )


def _secret(from_environment: str | None, from_file: str | None) -> Secret:
    return Secret(from_environment or from_file or "")


def _text(value: object) -> str | None:
    """A non-blank string (or number, as the schema coerces it), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if text.strip() else None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _port(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
