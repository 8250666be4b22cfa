"""The Java conf.json files load unchanged, lax scalars work, defaults are the Java ones (K1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.scf.config import settings_from_bytes
from adapters.scf.config.mapping import apikey_env_name, resolve_transfer
from application.shared.connections import Secret
from domain.scf.institutions import Library
from tests.unit.config.conftest import Load, fixture_bytes


def test_the_java_sample_loads_unchanged(shared_reference: Path) -> None:
    # rule K1: the real file, read from the shared reference, not our copy.
    data = (shared_reference / "scf-java-app" / "conf.json").read_bytes()
    settings = settings_from_bytes(data, {})

    assert settings.gateway == "https://api-na.hosted.exlibrisgroup.com"
    assert settings.main_local_folder == "/tmp"
    assert settings.report_file_folder == "/file/path"
    assert settings.max_number_of_threads == 4
    scf = settings.consortium.remote_storage
    assert (scf.institution, scf.holding_library, scf.holding_location, scf.circ_desk) == (
        "01AAA_RS",
        "RS",
        "rs_shared",
        "DEFAULT_CIRC_DESK",
    )
    assert scf.digitization_department == "DIGI_DEPT_INST"
    assert settings.consortium.ignore_delete_files is True
    assert settings.webhook_secret == Secret("webhook")
    server = settings.file_server
    assert (server.host, server.user, server.main_folder) == (
        "my.ftp.server",
        "user",
        "/the/main/folder",
    )
    assert (server.protocol, server.port) == ("ftp", 21)
    assert server.password.reveal() == "xxx"
    ab, cd = settings.consortium.institutions
    assert (ab.code, ab.requests_job_id, ab.publishing_job_id, ab.default_library) == (
        "01AAA_AB",
        "S123456789",
        "S987654321",
        "ABRS",
    )
    assert ab.libraries == (Library("ABRS", "DEFAULT_CIRC_DESK", frozenset({"rs_shared_in_ab"})),)
    assert cd.library("CDRS") == Library(
        "CDRS", "DEFAULT_CIRC_DESK", frozenset({"rs_shared_1", "rs_shared_2", "rs_shared_3"})
    )
    assert settings.api_key("01aaa_ab") == Secret("l8xx...")
    assert settings.api_key("01AAA_RS") == Secret("l8xx...")


def test_the_2019_java_file_loads_with_the_scf_listed_without_a_circ_desc(
    shared_reference: Path,
) -> None:
    # rule K1: history/2019-10-24_52da4e2 lists the SCF with a library that has no circ_desc
    # and has no ftp_port, no webhook_secret and no ignore_delete_files.
    path = shared_reference / "scf-java-app" / "history" / "2019-10-24_52da4e2" / "conf.json"
    settings = settings_from_bytes(path.read_bytes(), {})

    consortium = settings.consortium
    assert [i.code for i in consortium.institutions] == ["01AAA_RS", "01AAA_AB", "01AAA_CD"]
    assert [i.code for i in consortium.members] == ["01AAA_AB", "01AAA_CD"]
    scf_entry = consortium.institution("01AAA_RS")
    assert scf_entry is not None
    assert scf_entry.libraries == (Library("RS", None, frozenset({"rs_shared"})),)
    assert (settings.file_server.protocol, settings.file_server.port) == ("ftp", 21)
    assert settings.webhook_secret is None
    assert consortium.ignore_delete_files is True
    # The SCF is reached with remote_storage_apikey, not its institutions[] entry's key.
    assert settings.api_key("01AAA_RS") == Secret("l8xx...")
    assert settings.main_local_folder is None
    assert settings.report_file_folder is None


@pytest.mark.parametrize(
    "name", ["java_conf.json", "java_conf_2019-10-24.json", "typed_values.json"]
)
def test_fixture_copies_load(name: str) -> None:
    settings_from_bytes(fixture_bytes(name), {})


def test_real_json_numbers_and_booleans_work_too() -> None:
    # rule K1: "real numbers and booleans work too".
    settings = settings_from_bytes(fixture_bytes("typed_values.json"), {})

    assert settings.gateway == "https://api-eu.hosted.exlibrisgroup.com"  # trailing / dropped
    assert settings.max_number_of_threads == 8
    assert (settings.file_server.protocol, settings.file_server.port) == ("sftp", 22)
    assert settings.consortium.ignore_delete_files is False
    assert settings.allow_unsigned_webhooks is True
    assert settings.webhook_secret is None  # "" means none
    assert settings.request_grace_hours == 12.5
    assert settings.alma_rate_limit_per_second == 10
    ab = settings.consortium.institution("01AAA_AB")
    assert ab is not None
    assert (ab.requests_job_id, ab.publishing_job_id) == ("123456789", "987654321")
    pickup = settings.consortium.institution("01AAA_PU")
    assert pickup is not None
    assert pickup.libraries == ()
    assert settings.api_key("01AAA_PU") == Secret("typed-values-pu-key")


def test_new_keys_and_secrets_only_from_the_environment() -> None:
    environ = {
        apikey_env_name("01AAA_AB"): "env-ab-key",
        apikey_env_name("01AAA_RS"): "env-scf-key",
        "ALMABRIDGE_FTP_PASSWORD": "env-ftp-password",
        "ALMABRIDGE_WEBHOOK_SECRET": "env-webhook-secret",
    }
    settings = settings_from_bytes(fixture_bytes("new_keys_sftp.json"), environ)

    server = settings.file_server
    assert (server.protocol, server.port) == ("sftp", 2222)
    assert server.known_hosts == "/etc/almabridge/known_hosts"
    assert server.host_key_fingerprint == "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"
    assert server.password == Secret("env-ftp-password")
    assert settings.api_key("01AAA_AB") == Secret("env-ab-key")
    assert settings.api_key("01AAA_RS") == Secret("env-scf-key")
    assert settings.webhook_secret == Secret("env-webhook-secret")
    ab = settings.consortium.institution("01AAA_AB")
    assert ab is not None
    # A default library that is not configured here is accepted: Alma has more libraries.
    assert ab.default_library == "MAIN"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" true ", True),
        (True, True),
        ("false", False),
        (False, False),
        ("False", False),
        (0, False),
        (1, True),
        ("yes", True),
        ("no", False),
    ],
)
def test_booleans_are_lax(
    java_conf: dict[str, Any], load: Load, text: object, expected: bool
) -> None:
    java_conf["ignore_delete_files"] = text
    java_conf["allow_unsigned_webhooks"] = text
    settings = load(java_conf)
    assert settings.consortium.ignore_delete_files is expected
    assert settings.allow_unsigned_webhooks is expected


@given(threads=st.integers(min_value=1, max_value=10_000), as_text=st.booleans())
def test_integers_may_be_strings_or_numbers(threads: int, as_text: bool) -> None:
    document = fixture_bytes("java_conf.json").replace(
        b'"max_number_of_threads" :"4"',
        b'"max_number_of_threads" :' + (f'"{threads}"' if as_text else str(threads)).encode(),
    )
    assert settings_from_bytes(document, {}).max_number_of_threads == threads


def test_defaults_are_the_java_ones(java_conf: dict[str, Any], load: Load) -> None:
    for key in (
        "max_number_of_threads",
        "ignore_delete_files",
        "webhook_secret",
        "main_local_folder",
        "report_file_folder",
        "remote_storage_digitization_department",
    ):
        del java_conf[key]
    del java_conf["ftp_server"]["ftp_port"]
    settings = load(java_conf)

    assert settings.max_number_of_threads == 4
    assert settings.consortium.ignore_delete_files is True  # the Java default is true
    assert settings.webhook_secret is None
    assert settings.allow_unsigned_webhooks is False
    assert settings.request_grace_hours == 24
    assert settings.alma_rate_limit_per_second == 25
    assert (settings.file_server.protocol, settings.file_server.port) == ("ftp", 21)
    assert settings.consortium.remote_storage.digitization_department is None


@pytest.mark.parametrize(
    ("protocol", "port", "expected"),
    [
        (None, None, ("ftp", 21)),
        (None, 21, ("ftp", 21)),
        (None, 22, ("sftp", 22)),  # Java: ftp_port "22" selects SFTP
        (None, 2121, ("ftp", 2121)),
        ("sftp", None, ("sftp", 22)),
        ("sftp", 2222, ("sftp", 2222)),
        ("ftp", 22, ("ftp", 22)),  # an explicit protocol wins over the port rule
        ("local", 21, ("local", 0)),
    ],
)
def test_protocol_and_port(
    protocol: str | None, port: int | None, expected: tuple[str, int]
) -> None:
    assert resolve_transfer(protocol, port) == expected


def test_port_22_as_a_string_selects_sftp(java_conf: dict[str, Any], load: Load) -> None:
    java_conf["ftp_server"]["ftp_port"] = "22"
    assert load(java_conf).file_server.protocol == "sftp"


def test_a_local_file_server_needs_only_main_folder(java_conf: dict[str, Any], load: Load) -> None:
    java_conf["ftp_server"] = {"protocol": "LOCAL", "main_folder": "/srv/alma-drop"}
    server = load(java_conf).file_server
    assert (server.protocol, server.main_folder, server.host) == ("local", "/srv/alma-drop", "")
    assert not server.password


def test_a_pickup_only_institution_needs_only_code_and_apikey(
    java_conf: dict[str, Any], load: Load
) -> None:
    java_conf["institutions"].append({"code": "01AAA_PU", "apikey": "pickup-key"})
    pickup = load(java_conf).consortium.institution("01AAA_PU")
    assert pickup is not None
    assert (pickup.libraries, pickup.publishing_job_id, pickup.requests_job_id) == ((), None, None)


def test_the_same_job_ids_in_two_institutions_are_allowed(
    java_conf: dict[str, Any], load: Load
) -> None:
    # The Java sample itself swaps S123456789 and S987654321 between AB and CD; rule W4 tells
    # them apart by the webhook's institution.
    ab, cd = load(java_conf).consortium.institutions
    assert ab.requests_job_id == cd.publishing_job_id


def test_env_names_for_api_keys() -> None:
    assert apikey_env_name("01AAA_AB") == "ALMABRIDGE_APIKEY_01AAA_AB"
    assert apikey_env_name("01aaa-ab.x") == "ALMABRIDGE_APIKEY_01AAA_AB_X"


def test_a_byte_order_mark_is_accepted() -> None:
    settings_from_bytes(b"\xef\xbb\xbf" + fixture_bytes("java_conf.json"), {})
