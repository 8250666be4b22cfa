"""What `almabridge config check` prints, and the warnings it gives."""

from __future__ import annotations

from typing import Any

from adapters.scf.config import summarise, warnings
from adapters.scf.config.summary import role
from tests.unit.config.conftest import Load


def test_summary_of_the_java_sample(java_conf: dict[str, Any], load: Load) -> None:
    lines = summarise(load(java_conf))
    assert lines[:3] == [
        "gateway: https://api-na.hosted.exlibrisgroup.com",
        "SCF: 01AAA_RS (holding library RS, location rs_shared, circ desk DEFAULT_CIRC_DESK, "
        "digitization department DIGI_DEPT_INST)",
        "file server: ftp my.ftp.server:21 as user, main folder /the/main/folder",
    ]
    assert "webhooks: signed" in lines
    assert (
        "institution 01AAA_CD (member): publishing job S123456789, requests job S987654321, "
        "default library CDRS"
    ) in lines
    assert (
        "  library CDRS: remote storage rs_shared_1, rs_shared_2, rs_shared_3; "
        "circ desk DEFAULT_CIRC_DESK"
    ) in lines
    assert lines[-1] == "warning: the file server uses plain FTP: its password travels unencrypted"


def test_roles_and_their_warnings(java_conf_2019: dict[str, Any], load: Load) -> None:
    java_conf_2019["institutions"].append({"code": "01AAA_PU", "apikey": "k"})
    java_conf_2019["allow_unsigned_webhooks"] = True
    settings = load(java_conf_2019)
    consortium = settings.consortium
    assert [role(consortium, i) for i in consortium.institutions] == [
        "SCF",
        "member",
        "member",
        "pickup-only",
    ]
    lines = summarise(settings)
    assert (
        "institution 01AAA_PU (pickup-only): publishing job -, requests job -, default library -"
        in lines
    )
    assert "  library RS: remote storage rs_shared; circ desk -" in lines
    found = warnings(settings)
    assert any(w.startswith("webhooks are accepted unsigned") for w in found)
    assert any(w.startswith("institution 01AAA_PU has neither") for w in found)
    assert all(f"warning: {w}" in lines for w in found)


def test_no_webhook_secret_warns_that_the_service_will_refuse(
    java_conf: dict[str, Any], load: Load
) -> None:
    del java_conf["webhook_secret"]
    assert warnings(load(java_conf))[0].startswith("the service will refuse to start:")


def test_sftp_and_half_configured_members(java_conf: dict[str, Any], load: Load) -> None:
    java_conf["ftp_server"]["ftp_port"] = "22"
    del java_conf["institutions"][0]["requests_job_id"]
    java_conf["institutions"][1]["libraries"][0]["remote_storage_location"] = []
    found = warnings(load(java_conf))
    assert found == [
        "the SFTP host key is checked against ~/.ssh/known_hosts; set ftp_server.known_hosts "
        "or ftp_server.host_key_fingerprint to pin it",
        "institution 01AAA_AB has no requests_job_id: its requests are not forwarded",
        "library CDRS of 01AAA_CD lists no remote_storage_location: none of its items counts "
        "as in remote storage",
    ]


def test_job_ids_on_the_scf_entry_are_reported_as_ignored(
    java_conf_2019: dict[str, Any], load: Load
) -> None:
    java_conf_2019["institutions"][0]["publishing_job_id"] = "S1"
    found = warnings(load(java_conf_2019))
    assert any("the SCF's own entry 01AAA_RS has publishing_job_id: ignored" in w for w in found)


def test_a_local_file_server(java_conf: dict[str, Any], load: Load) -> None:
    java_conf["ftp_server"] = {"protocol": "local", "main_folder": "/srv/drop"}
    java_conf["institutions"] = []
    settings = load(java_conf)
    assert "file server: local folder /srv/drop" in summarise(settings)
    assert "no member institutions: nothing will be synced" in warnings(settings)


def test_log_backup_is_shown_off_by_default_and_when_on(
    java_conf: dict[str, Any], load: Load
) -> None:
    assert "log backup: off" in summarise(load(java_conf))
    java_conf["log_backup"] = {"enabled": True, "log_folder": "/var/log/almabridge"}
    assert (
        "log backup: daily at 00:10 UTC, from /var/log/almabridge "
        "to /the/main/folder/logs/ on the file server"
    ) in summarise(load(java_conf))
