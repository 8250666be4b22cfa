"""Validation names the key path and the institution, and reports every problem (rule K2)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.scf.config import ConfigError, settings_from_bytes
from tests.unit.config.conftest import Problems, fixture_bytes


def _problems_of(name: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(fixture_bytes(name), {}, source=name)
    return list(caught.value.problems)


def test_a_missing_member_circ_desc_is_named_exactly() -> None:
    assert _problems_of("missing_circ_desc.json") == [
        "institutions[1] (01AAA_CD).libraries[0].circ_desc: missing"
    ]


def test_a_misspelt_key_is_named_with_a_suggestion() -> None:
    assert _problems_of("misspelt_circ_desk.json") == [
        "institutions[0] (01AAA_AB).libraries[0].circ_desk: unknown key "
        "(did you mean 'circ_desc'?)",
        # ...and because the right key is then absent:
        "institutions[0] (01AAA_AB).libraries[0].circ_desc: missing",
    ]


def test_invalid_json_names_line_and_column() -> None:
    (problem,) = _problems_of("invalid_json.json")
    assert problem.startswith("invalid JSON at line 50, column 2:")


def test_the_error_text_names_the_source() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(fixture_bytes("missing_circ_desc.json"), {}, source="/etc/conf.json")
    text = str(caught.value)
    assert "/etc/conf.json" in text
    assert "institutions[1] (01AAA_CD).libraries[0].circ_desc: missing" in text


@pytest.mark.parametrize(
    "key",
    [
        "gateway",
        "remote_storage_inst",
        "remote_storage_holding_library",
        "remote_storage_holding_location",
        "remote_storage_circ_desc",
        "ftp_server",
        "institutions",
    ],
)
def test_required_top_level_keys(java_conf: dict[str, Any], problems: Problems, key: str) -> None:
    del java_conf[key]
    assert problems(java_conf) == [f"{key}: missing"]


@pytest.mark.parametrize("key", ["host", "user", "main_folder"])
def test_required_ftp_server_keys(java_conf: dict[str, Any], problems: Problems, key: str) -> None:
    del java_conf["ftp_server"][key]
    assert problems(java_conf) == [f"ftp_server.{key}: missing"]


def test_an_empty_required_value_is_named(java_conf: dict[str, Any], problems: Problems) -> None:
    java_conf["remote_storage_holding_location"] = "  "
    assert problems(java_conf) == ["remote_storage_holding_location: must not be empty"]


def test_institution_code_and_library_code_are_required(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    del java_conf["institutions"][0]["code"]
    del java_conf["institutions"][1]["libraries"][0]["code"]
    assert problems(java_conf) == [
        "institutions[0].code: missing",
        "institutions[1] (01AAA_CD).libraries[0].code: missing",
    ]


def test_every_problem_is_reported_not_just_the_first(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    del java_conf["remote_storage_holding_library"]
    java_conf["max_number_of_threads"] = "four"
    java_conf["ignore_delete_files"] = "maybe"
    java_conf["ftp_server"]["ftp_port"] = "70000"
    java_conf["Gateway"] = "x"
    java_conf["institutions"][0]["libraries"][0]["remote_storage_location"] = "rs_shared_in_ab"
    del java_conf["institutions"][1]["libraries"][0]["circ_desc"]
    java_conf["institutions"][1]["publishing_job_id"] = java_conf["institutions"][1][
        "requests_job_id"
    ]
    assert sorted(problems(java_conf)) == sorted(
        [
            'max_number_of_threads: expected an integer, got "four"',
            'ftp_server.ftp_port: expected a number of at most 65535, got "70000"',
            "remote_storage_holding_library: missing",
            'ignore_delete_files: expected true or false, got "maybe"',
            "institutions[0] (01AAA_AB).libraries[0].remote_storage_location: expected an array, "
            'got "rs_shared_in_ab"',
            "Gateway: unknown key (did you mean 'gateway'?)",
            "institutions[1] (01AAA_CD).requests_job_id: the same job id as publishing_job_id "
            "(S987654321); each job needs its own id",
            "institutions[1] (01AAA_CD).libraries[0].circ_desc: missing",
        ]
    )


def test_an_unknown_key_without_a_close_match(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    java_conf["ftp_server"]["colour"] = "blue"
    assert problems(java_conf) == ["ftp_server.colour: unknown key"]


def test_duplicate_institution_codes_are_refused(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    java_conf["institutions"][1]["code"] = "01aaa_ab"
    assert problems(java_conf) == ["institutions[1] (01aaa_ab).code: duplicate of institutions[0]"]


def test_duplicate_library_codes_are_refused(java_conf: dict[str, Any], problems: Problems) -> None:
    libraries = java_conf["institutions"][0]["libraries"]
    libraries.append(dict(libraries[0]))
    assert problems(java_conf) == [
        "institutions[0] (01AAA_AB).libraries[1].code: duplicate of libraries[0]"
    ]


def test_a_duplicated_json_key_is_refused_like_org_json_does() -> None:
    data = fixture_bytes("java_conf.json").replace(
        b'"default_library":"ABRS",', b'"default_library":"ABRS", "default_library":"X",'
    )
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(data, {})
    assert caught.value.problems == (
        "institutions[0] (01AAA_AB).default_library: appears more than once in the same object",
    )


def test_the_scf_entry_may_omit_circ_desc_but_members_may_not(
    java_conf_2019: dict[str, Any], problems: Problems
) -> None:
    # Rename the SCF: its entry becomes a member, whose library then lacks a circ_desc.
    java_conf_2019["remote_storage_inst"] = "01AAA_XX"
    assert "institutions[0] (01AAA_RS).libraries[0].circ_desc: missing" in problems(java_conf_2019)


def test_the_scf_is_recognised_case_insensitively(
    java_conf_2019: dict[str, Any], load: Any
) -> None:
    java_conf_2019["remote_storage_inst"] = "01aaa_rs"
    assert [i.code for i in load(java_conf_2019).consortium.members] == ["01AAA_AB", "01AAA_CD"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("request_grace_hours", 0, "request_grace_hours: expected a number greater than 0, got 0"),
        (
            "request_grace_hours",
            "-1",
            'request_grace_hours: expected a number greater than 0, got "-1"',
        ),
        (
            "alma_rate_limit_per_second",
            26,
            "alma_rate_limit_per_second: expected a number of at most 25, got 26",
        ),
        (
            "alma_rate_limit_per_second",
            0,
            "alma_rate_limit_per_second: expected a number of at least 1, got 0",
        ),
        ("max_number_of_threads", 2.5, "max_number_of_threads: expected a whole number, got 2.5"),
        (
            "gateway",
            "api-na.hosted.exlibrisgroup.com",
            "gateway: expected an http(s) URL such as https://api-na.hosted.exlibrisgroup.com, "
            'got "api-na.hosted.exlibrisgroup.com"',
        ),
        ("institutions", {}, "institutions: expected an array, got an object"),
        ("ftp_server", "ftp://x", 'ftp_server: expected an object, got "ftp://x"'),
        ("remote_storage_inst", None, "remote_storage_inst: expected a string, got null"),
        ("remote_storage_inst", True, "remote_storage_inst: expected a string, got true"),
    ],
)
def test_type_errors_say_what_was_expected_and_what_was_found(
    java_conf: dict[str, Any], problems: Problems, key: str, value: object, expected: str
) -> None:
    java_conf[key] = value
    assert problems(java_conf) == [expected]


def test_an_unknown_protocol_lists_the_known_ones(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    java_conf["ftp_server"]["protocol"] = "scp"
    assert problems(java_conf) == [
        "ftp_server.protocol: expected one of 'sftp', 'ftp' or 'local', got \"scp\""
    ]


def test_a_host_key_fingerprint_must_look_like_one(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    java_conf["ftp_server"]["host_key_fingerprint"] = "aa:bb:cc"
    (problem,) = problems(java_conf)
    assert problem.startswith("ftp_server.host_key_fingerprint: expected an OpenSSH SHA256")


def test_the_top_level_must_be_an_object() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(b"[1, 2]", {})
    assert caught.value.problems == ("the file must hold one JSON object ({...}) at the top level",)


def test_text_that_is_not_utf8_names_its_position() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(b'{\n  "gateway": "caf\xe9"}', {})
    assert caught.value.problems == ("not UTF-8 text: invalid byte at line 2, column 18",)


def test_a_key_that_is_not_an_identifier_is_quoted(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    java_conf["institutions"][0]["circ desc"] = "x"
    assert problems(java_conf) == ['institutions[0] (01AAA_AB)["circ desc"]: unknown key']
