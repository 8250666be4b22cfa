"""Secrets may come from the environment and never show themselves (rules K3, A1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.scf.config import ConfigError, settings_from_bytes, summarise
from application.shared.connections import Secret
from tests.unit.config.conftest import Load, Problems, fixture_bytes

ENV = {
    "ALMABRIDGE_WEBHOOK_SECRET": "env-webhook-secret",
    "ALMABRIDGE_APIKEY_01AAA_AB": "env-key-ab",
    "ALMABRIDGE_APIKEY_01AAA_RS": "env-key-scf",
    "ALMABRIDGE_FTP_PASSWORD": "env-ftp-password",
}


def test_the_environment_wins_over_the_file(java_conf: dict[str, Any], load: Load) -> None:
    settings = load(java_conf, ENV)
    assert settings.webhook_secret == Secret("env-webhook-secret")
    assert settings.api_key("01AAA_AB") == Secret("env-key-ab")
    assert settings.api_key("01AAA_CD") == Secret("l8xx...")  # not in the environment
    assert settings.api_key("01AAA_RS") == Secret("env-key-scf")
    assert settings.file_server.password == Secret("env-ftp-password")


def test_an_empty_environment_variable_counts_as_unset(
    java_conf: dict[str, Any], load: Load
) -> None:
    settings = load(java_conf, {"ALMABRIDGE_APIKEY_01AAA_AB": "", "ALMABRIDGE_WEBHOOK_SECRET": ""})
    assert settings.api_key("01AAA_AB") == Secret("l8xx...")
    assert settings.webhook_secret == Secret("webhook")


def test_secrets_may_live_only_in_the_environment(java_conf: dict[str, Any], load: Load) -> None:
    for institution in java_conf["institutions"]:
        del institution["apikey"]
    del java_conf["remote_storage_apikey"]
    del java_conf["ftp_server"]["password"]
    del java_conf["webhook_secret"]
    environ = {**ENV, "ALMABRIDGE_APIKEY_01AAA_CD": "env-key-cd"}
    settings = load(java_conf, environ)
    assert settings.api_key("01AAA_CD") == Secret("env-key-cd")
    assert settings.webhook_secret == Secret("env-webhook-secret")


def test_a_secret_in_neither_place_names_both(
    java_conf: dict[str, Any], problems: Problems
) -> None:
    del java_conf["institutions"][1]["apikey"]
    java_conf["remote_storage_apikey"] = ""
    del java_conf["ftp_server"]["password"]
    assert problems(java_conf) == [
        "remote_storage_apikey: missing (give it in the file or in the environment variable "
        "ALMABRIDGE_APIKEY_01AAA_RS)",
        "ftp_server.password: missing (give it in the file or in the environment variable "
        "ALMABRIDGE_FTP_PASSWORD)",
        "institutions[1] (01AAA_CD).apikey: missing (give it in the file or in the environment "
        "variable ALMABRIDGE_APIKEY_01AAA_CD)",
    ]


def test_the_scf_entry_needs_no_apikey_of_its_own(
    java_conf_2019: dict[str, Any], load: Load
) -> None:
    del java_conf_2019["institutions"][0]["apikey"]
    assert load(java_conf_2019).api_key("01AAA_RS") == Secret("l8xx...")


def test_a_missing_webhook_secret_loads_but_the_service_must_refuse(
    java_conf: dict[str, Any], load: Load
) -> None:
    # rule W2: loading succeeds so that `config check` can show the file; starting does not.
    del java_conf["webhook_secret"]
    settings = load(java_conf)
    assert not settings.verifies_webhooks
    refusal = settings.webhook_startup_error()
    assert refusal is not None
    assert "allow_unsigned_webhooks" in refusal
    assert "ALMABRIDGE_WEBHOOK_SECRET" in refusal

    java_conf["allow_unsigned_webhooks"] = "true"
    assert load(java_conf).webhook_startup_error() is None


def test_with_a_secret_the_service_may_start(java_conf: dict[str, Any], load: Load) -> None:
    settings = load(java_conf)
    assert settings.verifies_webhooks
    assert settings.webhook_startup_error() is None


def test_no_secret_shows_in_repr_str_or_summary(java_conf: dict[str, Any], load: Load) -> None:
    settings = load(java_conf, ENV)
    shown = "\n".join([repr(settings), str(settings), *summarise(settings)])
    for value in [*ENV.values(), "l8xx...", "xxx"]:
        assert value not in shown


@pytest.mark.parametrize("key", ["apikey", "password", "webhook_secret", "remote_storage_apikey"])
@pytest.mark.parametrize("bad", [True, ["sekret-value"], {"v": "sekret-value"}])
def test_a_badly_typed_secret_is_never_echoed(
    java_conf: dict[str, Any], problems: Problems, key: str, bad: object
) -> None:
    # (A number is not bad: it is taken as text, like every other string value, rule K1.)
    if key == "apikey":
        java_conf["institutions"][0]["apikey"] = bad
    elif key == "password":
        java_conf["ftp_server"]["password"] = bad
    else:
        java_conf[key] = bad
    (problem,) = problems(java_conf)
    assert "sekret" not in problem
    assert "true" not in problem.split(":", 1)[1]
    assert "got a" in problem


# Printable secrets of realistic length (surrogates cannot be encoded, so the codec drops them).
_secret_text = st.text(alphabet=st.characters(codec="utf-8"), min_size=4, max_size=40).filter(
    lambda s: bool(s.strip())
)


@settings(max_examples=60)
@given(apikey=_secret_text, password=_secret_text, webhook=_secret_text)
def test_secrets_never_appear_in_errors(apikey: str, password: str, webhook: str) -> None:
    document = json.loads(fixture_bytes("java_conf.json"))
    document["institutions"][0]["apikey"] = apikey
    document["ftp_server"]["password"] = password
    document["webhook_secret"] = webhook
    # A secret pasted into the wrong key is scrubbed too.
    document["institutions"][1]["libraries"][0]["circ_desc"] = {"oops": apikey}
    document["remote_storage_circ_desc"] = password
    document["remote_storage_holding_location"] = 5.5
    document["institutions"][0]["apikeyy"] = webhook
    environ = {"ALMABRIDGE_APIKEY_01AAA_CD": webhook}
    with pytest.raises(ConfigError) as caught:
        settings_from_bytes(json.dumps(document).encode(), environ)
    text = str(caught.value) + "\n".join(caught.value.problems)
    for secret in (apikey, password, webhook):
        assert secret not in text


# A marker no repr or summary text contains on its own: a random 4-character secret could be
# "True" or "None", which a repr legitimately shows without leaking anything.
_marked_secret_text = _secret_text.map(lambda s: f"\u00a7secret\u00a7{s}")


@settings(max_examples=60)
@given(apikey=_marked_secret_text, password=_marked_secret_text, webhook=_marked_secret_text)
def test_secrets_never_appear_in_repr(apikey: str, password: str, webhook: str) -> None:
    document = json.loads(fixture_bytes("java_conf.json"))
    document["institutions"][0]["apikey"] = apikey
    document["ftp_server"]["password"] = password
    loaded = settings_from_bytes(
        json.dumps(document).encode(), {"ALMABRIDGE_WEBHOOK_SECRET": webhook}
    )
    shown = repr(loaded) + str(loaded) + "\n".join(summarise(loaded))
    for secret in (apikey, password, webhook):
        assert secret not in shown
