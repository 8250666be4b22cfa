"""The demo's folder and configuration: one conf.json for the built-in consortium.

The consortium is the fake Alma's built-in seed (`adapters/fake_alma/seeds/consortium.json`):
members 01AAA_AB and 01AAA_CD and the SCF 01AAA_RS, with the job ids of `examples/conf.json`.
The webhook secret and the SFTP password are generated for this run and never printed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.ledger.database_url import ENVIRONMENT_VARIABLE as DATABASE_URL_ENV
from adapters.scf.config.loader import CONFIG_FILE_ENV

AB, CD, SCF = "01AAA_AB", "01AAA_CD", "01AAA_RS"
AB_PUBLISHING_JOB, AB_REQUESTS_JOB = "S987654321", "S123456789"
SCF_LIBRARY, SCF_DESK = "RS", "DEFAULT_CIRC_DESK"
API_KEYS = {AB: "ab-example-key", CD: "cd-example-key", SCF: "scf-example-key"}
SFTP_USER = "alma"
MAIN_FOLDER = "/alma"


@dataclass(frozen=True)
class DemoPaths:
    """Where everything of one demo run lives."""

    root: Path

    @property
    def sftp_root(self) -> Path:
        return self.root / "sftp"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.db"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def conf(self) -> Path:
        return self.root / "conf.json"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.ledger}"

    def drop_folder(self, institution: str, kind: str) -> Path:
        """The local folder behind `{main_folder}/{INST}/{kind}` on the SFTP server."""
        return self.sftp_root / MAIN_FOLDER.strip("/") / institution / kind

    def make(self) -> None:
        for institution in (AB, CD):
            for kind in ("items", "requests"):
                self.drop_folder(institution, kind).mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class DemoSecrets:
    """Generated per run: nothing in the demo works with a guessable secret."""

    webhook: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    sftp_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))


def conf_document(
    paths: DemoPaths, gateway: str, sftp_port: int, fingerprint: str, demo: DemoSecrets
) -> dict[str, Any]:
    """The conf.json of the demo (the Java format, plus the new keys it uses)."""
    return {
        "gateway": gateway,
        "main_local_folder": str(paths.root / "work"),
        "report_file_folder": str(paths.root / "reports"),
        "max_number_of_threads": 4,
        "ftp_server": {
            "host": "127.0.0.1",
            "user": SFTP_USER,
            "password": demo.sftp_password,
            "main_folder": MAIN_FOLDER,
            # The server listens on a random port, so SFTP is named outright rather than implied
            # by port 22 as the Java app would.
            "protocol": "sftp",
            "ftp_port": sftp_port,
            "host_key_fingerprint": fingerprint,
        },
        "remote_storage_inst": SCF,
        "remote_storage_apikey": API_KEYS[SCF],
        "remote_storage_holding_library": SCF_LIBRARY,
        "remote_storage_holding_location": "rs_shared",
        "remote_storage_circ_desc": SCF_DESK,
        "remote_storage_digitization_department": "DIGI_DEPT_INST",
        "webhook_secret": demo.webhook,
        "ignore_delete_files": False,
        "log_backup": {"enabled": True, "log_folder": str(paths.logs), "time_utc": "00:10"},
        "institutions": [
            _member(AB, AB_REQUESTS_JOB, AB_PUBLISHING_JOB, "ABRS", ["rs_shared_in_ab"]),
            _member(CD, "S987654321", "S123456789", "CDRS", ["rs_shared_1", "rs_shared_2"]),
        ],
    }


def _member(
    code: str, requests_job: str, publishing_job: str, library: str, locations: list[str]
) -> dict[str, Any]:
    return {
        "code": code,
        "apikey": API_KEYS[code],
        "requests_job_id": requests_job,
        "publishing_job_id": publishing_job,
        "default_library": library,
        "libraries": [
            {
                "code": library,
                "circ_desc": SCF_DESK,
                "remote_storage_location": locations,
            }
        ],
    }


def write_conf(paths: DemoPaths, document: dict[str, Any]) -> None:
    """Write conf.json readable by its owner only: it holds the run's secrets."""
    paths.conf.write_text(json.dumps(document, indent=2))
    paths.conf.chmod(0o600)


def service_environ(paths: DemoPaths) -> dict[str, str]:
    """The service's whole environment: only the demo's files.

    Not the caller's environment: an ALMABRIDGE_WEBHOOK_SECRET or API key exported in the
    shell would win over conf.json (rule K3) and break the demo's signatures and keys.
    """
    return {CONFIG_FILE_ENV: str(paths.conf), DATABASE_URL_ENV: paths.database_url}
