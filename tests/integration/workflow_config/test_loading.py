"""Loading the workflows TOML configuration (rule B9): the example, defaults, every problem named
by its key path, secrets from the environment, secrets never shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest

from adapters.workflow_config import (
    WorkflowConfigError,
    apikey_env_name,
    load_workflow_settings,
    remote_password_env_name,
    settings_from_text,
    summarise,
)
from application.shared.connections import Secret
from application.shared.run_outcome import RunOutcome
from application.shared.workflow_settings import (
    OCUL_INSTITUTIONS,
    Aspace2AlmaSettings,
    CourseLoadingSettings,
    OclcInstitution,
    OclcSyncSettings,
    RemotePath,
    UnknownInstitution,
    UnknownRemote,
    WestHoldingsSettings,
    WorkflowSettings,
)
from tests.integration.workflow_config.support import (
    ALMA,
    APIKEY,
    ASPACE_PASSWORD,
    DROP_PASSWORD,
    EXAMPLE,
    REPOSITORY,
    SECRET_ENVIRONMENT,
    SECRETS,
    SMTP_PASSWORD,
    WEBHOOK,
    load,
    problems,
)

# ---- the shipped example ------------------------------------------------------------------------


def test_B9_the_shipped_example_loads_as_it_is_with_its_placeholders() -> None:
    settings = load_workflow_settings(EXAMPLE, {})

    institution = settings.institution("01ABC_INST")
    assert institution.url == "https://api-na.hosted.exlibrisgroup.com"
    assert institution.api_base == "https://api-na.hosted.exlibrisgroup.com/almaws/v1"
    assert institution.rate_limit_per_second == 25
    assert institution.apikey == Secret("...")

    drop = settings.remotes["drop"]
    assert (drop.protocol, drop.host, drop.port, drop.user, drop.folder) == (
        "sftp",
        "host",
        22,
        "user",
        "/alma/aspace",
    )
    assert drop.url == "sftp://user@host:22/alma/aspace"
    assert drop.password == Secret("...")

    assert settings.west_holdings == WestHoldingsSettings()
    assert settings.oclc_sync.institutions == OCUL_INSTITUTIONS
    assert settings.oclc_sync.institutions_source == "institutions.json"
    assert settings.oclc_sync.nz_suffix == "5151"
    assert settings.oclc_sync.primary is None
    assert settings.course_loading == CourseLoadingSettings()
    assert settings.aspace2alma.target == RemotePath("drop")
    assert settings.aspace2alma.barcode_set is None
    assert settings.aspace2alma.archivesspace.url == "http://localhost:8089"
    assert settings.aspace2alma.archivesspace.user == "admin"
    assert dict(settings.schedules.crons) == {"aspace2alma": "30 10 * * 0-5"}
    assert settings.schedules.grace == timedelta(hours=6)
    assert settings.keep_days == 42
    assert settings.cleanup.folders == (str(EXAMPLE.parent / "out"),)

    smtp = settings.notify.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.starttls, smtp.use_tls) == (
        "smtp.example.edu",
        587,
        True,
        False,
    )
    assert (smtp.user, smtp.password, smtp.sender) == ("", None, "almabridge@example.edu")
    assert settings.notify.slack is None  # webhook = "" and none in the environment
    route = settings.notify.routes["course-rollover-report"]
    assert route.to == ("reserves@example.edu",)
    assert route.on == frozenset(RunOutcome)
    assert route.slack is True
    assert settings.sections == {
        "west_holdings",
        "oclc_sync",
        "course_loading",
        "aspace2alma",
        "cleanup",
    }


def test_B9_secrets_from_the_environment_win_over_the_file() -> None:
    settings = load_workflow_settings(EXAMPLE, SECRET_ENVIRONMENT)
    assert settings.institution("01ABC_INST").apikey.reveal() == APIKEY
    assert settings.remotes["drop"].password == Secret(DROP_PASSWORD)
    assert settings.aspace2alma.archivesspace.password == Secret(ASPACE_PASSWORD)
    assert settings.notify.smtp is not None
    assert settings.notify.smtp.password == Secret(SMTP_PASSWORD)
    assert settings.notify.slack is not None
    assert settings.notify.slack.webhook == Secret(WEBHOOK)


def test_B9_a_secret_may_live_in_the_environment_only() -> None:
    text = """
[alma.01abc-inst]
url = "https://api-eu.hosted.exlibrisgroup.com/"
"""
    assert apikey_env_name("01abc-inst") == "ALMABRIDGE_APIKEY_01ABC_INST"
    settings = load(text, {"ALMABRIDGE_APIKEY_01ABC_INST": APIKEY})
    institution = settings.institution("01abc-inst")
    assert institution.apikey == Secret(APIKEY)
    assert institution.url == "https://api-eu.hosted.exlibrisgroup.com"


def test_B9_an_empty_environment_variable_counts_as_unset() -> None:
    settings = load(ALMA, {"ALMABRIDGE_APIKEY_01ABC_INST": " "})
    assert settings.institution("01ABC_INST").apikey == Secret("file-apikey-0001")


def test_B9_a_remote_password_from_the_url_or_the_environment() -> None:
    text = """
[remotes.my-drop]
url = "ftp://loader:pa%40ss@ftp.example.edu/in"
"""
    assert remote_password_env_name("my-drop") == "ALMABRIDGE_REMOTE_MY_DROP_PASSWORD"
    remote = load(text).remotes["my-drop"]
    assert remote.password == Secret("pa@ss")
    assert remote.url == "ftp://loader@ftp.example.edu/in"
    assert (remote.protocol, remote.port, remote.user) == ("ftp", 21, "loader")
    from_env = load(text, {"ALMABRIDGE_REMOTE_MY_DROP_PASSWORD": DROP_PASSWORD})
    assert from_env.remotes["my-drop"].password == Secret(DROP_PASSWORD)


def test_B9_remotes_become_the_file_servers_the_transfer_adapters_take() -> None:
    text = """
[remotes.drop]
url = "sftp://alma@sftp.example.edu:2222/~/aspace"
password = "p"
host_key = "SHA256:AbCdEf0123"

[remotes.local]
url = "file:///srv/almabridge/out"
"""
    settings = load(text)
    server = settings.remotes["drop"].file_server()
    assert (server.protocol, server.host, server.port, server.user) == (
        "sftp",
        "sftp.example.edu",
        2222,
        "alma",
    )
    assert server.main_folder == "aspace"  # /~/ is the login directory
    assert server.host_key_fingerprint == "SHA256:AbCdEf0123"
    local = settings.remotes["local"].file_server()
    assert (local.protocol, local.main_folder) == ("local", "/srv/almabridge/out")


# ---- defaults -----------------------------------------------------------------------------------


def test_B9_a_key_left_out_takes_the_original_institutions_value() -> None:
    settings = load(ALMA)
    assert settings.west_holdings.prefix == "wau"
    assert settings.west_holdings.require_tags == ("583",)
    assert settings.west_holdings.org_code is None
    assert settings.west_holdings.stamp_005 is False
    assert settings.oclc_sync.nz_suffix == "5151"
    assert settings.oclc_sync.institutions == OCUL_INSTITUTIONS
    assert len(OCUL_INSTITUTIONS) == 19
    assert settings.oclc_sync.institutions_source == "built-in OCUL table"
    assert settings.oclc_sync.analytics_path == (
        "/shared/UTON Network 01OCUL_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
    )
    courses = settings.course_loading
    assert courses.source == RemotePath("campus", "leganto_export_{YYYYMMDD}*")
    assert str(courses.source) == "campus:leganto_export_{YYYYMMDD}*"
    assert courses.target == RemotePath("alma")
    assert (courses.date_format, courses.merge_on, courses.cem_encoding) == (
        "%d-%m-%Y",
        "code+section",
        "iso-8859-1",
    )
    assert (courses.job_poll_seconds, courses.job_wait_minutes) == (15, 240)
    assert courses.report_delay_minutes == 120
    assert courses.job_id is None
    assert settings.aspace2alma == Aspace2AlmaSettings()
    assert settings.keep_days == 42
    assert settings.cleanup.folders == (str(REPOSITORY / "out"),)
    assert settings.schedules.grace == timedelta(hours=6)
    assert settings.institution("01ABC_INST").rate_limit_per_second == 25
    assert settings.sections == frozenset()


def test_B9_the_ocul_table_is_upstreams_institutions_json(shared_reference: Path) -> None:
    upstream = json.loads(
        (shared_reference / "joint_oclc_data_sync" / "inputs" / "institutions.json").read_text()
    )
    assert [OclcInstitution(**row) for row in upstream] == list(OCUL_INSTITUTIONS)


def test_B9_an_empty_file_is_usable_with_every_default() -> None:
    settings = load("")
    assert settings.alma == {}
    assert settings.remotes == {}
    assert settings.oclc_sync == OclcSyncSettings()


def test_B9_workflow_settings_as_the_file_gives_them() -> None:
    text = """
schedule_grace_hours = 1.5

[remotes.asu]
url = "file:///srv/asu"

[west_holdings]
prefix = "asu"
org_code = "AzTeS"
stamp_005 = true
require_tags = ["583", "561"]
upload_to = "asu:west/out"

[oclc_sync]
institutions = [
    {name = "Carleton University", id = "5153", code = "CEF"},
    {name = "Western University", id = "5163", code = "UWO"},
]
primary = "UWO"
normalize_job_id = "S1234"

[cleanup]
keep_days = 7
folders = ["out", "/var/cache/almabridge"]

[course_loading]
source = "asu:incoming/leganto_export_{YYYYMMDD}*.csv"
target = "asu:loader"
merge_on = "code"
date_format = "%Y-%m-%d"
cem_encoding = "utf-8"
job_id = "M12345"
job_poll_seconds = 30
job_wait_minutes = 60
report_delay_minutes = 0
"""
    settings = load(text)
    west = settings.west_holdings
    assert (west.prefix, west.org_code, west.stamp_005) == ("asu", "AzTeS", True)
    assert west.require_tags == ("583", "561")
    assert west.upload_to == RemotePath("asu", "west/out")
    oclc = settings.oclc_sync
    assert oclc.institutions == (
        OclcInstitution("Carleton University", "5153", "CEF"),
        OclcInstitution("Western University", "5163", "UWO"),
    )
    assert (oclc.institutions_source, oclc.primary, oclc.normalize_job_id) == (
        "inline",
        "UWO",
        "S1234",
    )
    courses = settings.course_loading
    assert courses.source == RemotePath("asu", "incoming/leganto_export_{YYYYMMDD}*.csv")
    assert courses.merge_on == "code"
    assert (courses.job_id, courses.job_poll_seconds, courses.report_delay_minutes) == (
        "M12345",
        30,
        0,
    )
    assert settings.cleanup.keep_days == 7
    assert settings.cleanup.folders == (str(REPOSITORY / "out"), "/var/cache/almabridge")
    assert settings.schedules.grace == timedelta(hours=1.5)


def test_B9_the_institutions_file_is_read_relative_to_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    rows = [{"name": "Carleton University", "id": "5153", "code": "CEF"}]
    (tmp_path / "tables" / "ocul.json").write_text(json.dumps(rows), encoding="utf-8")
    config = tmp_path / "workflows.toml"
    config.write_text('[oclc_sync]\ninstitutions = "tables/ocul.json"\n', encoding="utf-8")
    settings = load_workflow_settings(config, {})
    assert settings.oclc_sync.institutions == (
        OclcInstitution("Carleton University", "5153", "CEF"),
    )
    assert settings.oclc_sync.institutions_source == "tables/ocul.json"


def test_B9_unknown_keys_of_a_workflow_section_are_kept_read_only() -> None:
    text = """
[remotes.campus]
url = "file:///srv/campus"
[remotes.alma]
url = "file:///srv/alma"
[remotes.drop]
url = "file:///srv/drop"

[course_loading]
fallback_department = "LIB"
term_codes = [["Fall", "2261"], ["Spring", "2264"]]  # terms is L3's table now

[course_loading.campus_departments]
TEMPE = "TEMPE_LIB"
POLY = "POLY_LIB"

[aspace2alma]
excluded = ["MC001"]
"""
    settings = load(text, {"ALMABRIDGE_ARCHIVESSPACE_PASSWORD": ASPACE_PASSWORD})
    extra = settings.course_loading.extra
    assert extra["fallback_department"] == "LIB"
    assert extra["term_codes"] == (("Fall", "2261"), ("Spring", "2264"))
    assert extra["campus_departments"] == {"TEMPE": "TEMPE_LIB", "POLY": "POLY_LIB"}
    assert isinstance(extra, MappingProxyType)
    with pytest.raises(TypeError):
        extra["fallback_department"] = "X"  # type: ignore[index]
    nested = extra["campus_departments"]
    assert isinstance(nested, MappingProxyType)
    with pytest.raises(TypeError):
        nested["TEMPE"] = "X"  # type: ignore[index]
    assert settings.aspace2alma.extra["excluded"] == ("MC001",)
    assert settings.west_holdings.extra == {}


def test_B9_remote_references_of_workflows_not_in_use_are_not_checked() -> None:
    # course_loading's defaults name campus and alma; a deployment without course loading
    # defines neither, and is fine.
    settings = load(ALMA)
    assert settings.remotes == {}


def test_B9_a_workflow_naming_an_undefined_alma_institution_stops_naming_it() -> None:
    settings = load(ALMA)
    with pytest.raises(UnknownInstitution, match=r"no \[alma\.01XYZ_INST\] table.*01ABC_INST"):
        settings.institution("01XYZ_INST")
    with pytest.raises(UnknownRemote, match=r"no \[remotes\.drop\] table"):
        settings.remote(RemotePath("drop"))


# ---- problems, each named by its key path -------------------------------------------------------

CASES = [
    pytest.param(
        ALMA + "rate_limit_per_second = 0\n",
        "alma.01ABC_INST.rate_limit_per_second: must be a whole number ≥ 1, got 0",
        id="rate-limit-0",
    ),
    pytest.param(
        ALMA + "rate_limit_per_second = 26\n",
        "alma.01ABC_INST.rate_limit_per_second: must be a whole number from 1 to 25 "
        "(Alma's limit per institution), got 26",
        id="rate-limit-26",
    ),
    pytest.param(
        ALMA + 'rate_limit_per_second = "25"\n',
        'alma.01ABC_INST.rate_limit_per_second: must be a whole number ≥ 1, got "25"',
        id="rate-limit-text",
    ),
    pytest.param(
        ALMA + "rate_limit_per_second = 2.5\n",
        "alma.01ABC_INST.rate_limit_per_second: must be a whole number ≥ 1, got 2.5",
        id="rate-limit-fraction",
    ),
    pytest.param(
        '[alma.01ABC_INST]\nurl = "api-na.hosted.exlibrisgroup.com"\napikey = "k"\n',
        "alma.01ABC_INST.url: must be an http(s):// URL such as "
        'https://api-na.hosted.exlibrisgroup.com, got "api-na.hosted.exlibrisgroup.com"',
        id="alma-url-no-scheme",
    ),
    pytest.param(
        '[alma.01ABC_INST]\nurl = "https://api-na.hosted.exlibrisgroup.com/almaws/v1"\n'
        'apikey = "k"\n',
        "alma.01ABC_INST.url: must be the API host only: /almaws/v1 is appended",
        id="alma-url-with-path",
    ),
    pytest.param(
        '[alma.01ABC_INST]\nurl = "https://api-na.hosted.exlibrisgroup.com"\n',
        "alma.01ABC_INST.apikey: missing (give it here or in ALMABRIDGE_APIKEY_01ABC_INST in "
        "the environment)",
        id="alma-apikey-missing",
    ),
    pytest.param(
        '[alma.01ABC_INST]\napikey = "k"\n', "alma.01ABC_INST.url: missing", id="alma-url-missing"
    ),
    pytest.param(
        ALMA + "rate_limit = 10\n",
        "alma.01ABC_INST.rate_limit: unknown key (did you mean 'rate_limit_per_second'?)",
        id="alma-unknown-key",
    ),
    pytest.param(
        '[alma]\nurl = "https://api-na.hosted.exlibrisgroup.com"\n',
        "alma.url: must be a table [alma.CODE], got a string",
        id="alma-without-code",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "https://example.edu/drop"\n',
        "remotes.drop.url: must be an sftp://, ftp:// or file:// URL, such as "
        'sftp://user@host:22/alma/aspace, got "https://example.edu/drop"',
        id="remote-scheme",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "sftp://alma@sftp.example.edu/aspace"\n',
        "remotes.drop.host_key: missing: an sftp:// remote needs the server's host key fingerprint",
        id="remote-sftp-without-host-key",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "sftp://alma@sftp.example.edu/aspace"\n'
        'host_key = "ssh-ed25519 AAAA"\n',
        "remotes.drop.host_key: must be an OpenSSH SHA256 fingerprint",
        id="remote-host-key-format",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "ftp://alma@ftp.example.edu/in"\nhost_key = "SHA256:abc"\n',
        "remotes.drop.host_key: only sftp:// remotes have a host key",
        id="remote-ftp-with-host-key",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "file:///srv/drop"\npassword = "p"\n',
        "remotes.drop.password: not used by a file:// remote; remove it",
        id="remote-file-with-password",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "file://srv/drop"\n',
        "remotes.drop.url: must be file:///absolute/folder (a file:// URL names no host)",
        id="remote-file-with-host",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "ftp://alma:one@ftp.example.edu/in"\npassword = "two"\n',
        "remotes.drop.password: given both here and in the url; keep one",
        id="remote-password-twice",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "ftp://ftp.example.edu:99999/in"\n',
        "remotes.drop.url: has a port that is not a number from 1 to 65535",
        id="remote-port",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "file:///srv/drop"\nfolder = "x"\n',
        "remotes.drop.folder: unknown key",
        id="remote-unknown-key",
    ),
    pytest.param("[remotes.drop]\n", "remotes.drop.url: missing", id="remote-url-missing"),
    pytest.param(
        '[remotes."my drop"]\nurl = "file:///srv/drop"\n',
        'remotes."my drop": NAME must be letters, digits, _ and - only',
        id="remote-name",
    ),
    pytest.param(
        "[west_holdings]\nprefix = 5\n",
        "west_holdings.prefix: must be text in quotes, got 5",
        id="west-prefix-number",
    ),
    pytest.param(
        "[west_holdings]\nrequire_tags = [583]\n",
        "west_holdings.require_tags[0]: must be text in quotes, got 583",
        id="west-tags-numbers",
    ),
    pytest.param(
        '[west_holdings]\nrequire_tags = "583"\n',
        'west_holdings.require_tags: must be an array of texts in quotes, such as ["583"], '
        'got "583"',
        id="west-tags-not-array",
    ),
    pytest.param(
        '[west_holdings]\nstamp_005 = "yes"\n',
        'west_holdings.stamp_005: must be true or false, got "yes"',
        id="west-stamp-text",
    ),
    pytest.param(
        '[west_holdings]\nupload_to = "west:out"\n',
        'west_holdings.upload_to: names the remote "west", which has no [remotes.west] table '
        "(defined: none)",
        id="west-upload-undefined-remote",
    ),
    pytest.param(
        '[remotes.west]\nurl = "file:///srv/west"\n[west_holdings]\nupload_to = "west:out/*.xml"\n',
        "west_holdings.upload_to: a destination cannot be a glob pattern (*, ?, [...]), got "
        '"west:out/*.xml"',
        id="west-upload-glob",
    ),
    pytest.param(
        '[oclc_sync]\nnz_suffix = "51x1"\n',
        'oclc_sync.nz_suffix: must be digits in quotes, got "51x1"',
        id="oclc-suffix",
    ),
    pytest.param(
        '[oclc_sync]\ninstitutions = "nowhere/institutions.json"\n',
        "oclc_sync.institutions: no such file ",
        id="oclc-institutions-file-missing",
    ),
    pytest.param(
        "[oclc_sync]\ninstitutions = 5\n",
        "oclc_sync.institutions: must be the path of a JSON file (relative to this file) or an "
        "array of tables {name, id, code}, got 5",
        id="oclc-institutions-number",
    ),
    pytest.param(
        '[oclc_sync]\ninstitutions = [{name = "Carleton", id = 5153, code = "CEF"}]\n',
        "oclc_sync.institutions[0].id: must be text in quotes, got 5153",
        id="oclc-institution-id-number",
    ),
    pytest.param(
        '[oclc_sync]\ninstitutions = [{name = "Carleton", id = "5153"}]\n',
        "oclc_sync.institutions[0].code: missing",
        id="oclc-institution-code-missing",
    ),
    pytest.param(
        "[oclc_sync]\ninstitutions = [\n"
        '  {name = "Carleton", id = "5153", code = "CEF"},\n'
        '  {name = "Carleton again", id = "5154", code = "CEF"},\n]\n',
        'oclc_sync.institutions[1].code: "CEF" is listed twice (also at [0])',
        id="oclc-institution-duplicate",
    ),
    pytest.param(
        "[oclc_sync]\ninstitutions = []\n",
        "oclc_sync.institutions: must list at least one institution",
        id="oclc-institutions-empty",
    ),
    pytest.param(
        '[oclc_sync]\nprimary = "XYZ"\n',
        'oclc_sync.primary: "XYZ" is not the code of any institution in oclc_sync.institutions '
        "(built-in OCUL table)",
        id="oclc-primary-unknown",
    ),
    pytest.param(
        '[course_loading]\nmerge_on = "section"\n',
        'course_loading.merge_on: must be "code+section" or "code", got "section"',
        id="merge-on",
    ),
    pytest.param(
        '[course_loading]\ndate_format = "DD-MM-YYYY"\n',
        'course_loading.date_format: must be a strftime format such as "%d-%m-%Y", got '
        '"DD-MM-YYYY"',
        id="date-format",
    ),
    pytest.param(
        '[course_loading]\ncem_encoding = "latin-9000"\n',
        "course_loading.cem_encoding: must be a text encoding Python knows, such as iso-8859-1 "
        'or utf-8, got "latin-9000"',
        id="cem-encoding",
    ),
    pytest.param(
        "[course_loading]\njob_poll_seconds = 0\n",
        "course_loading.job_poll_seconds: must be a whole number ≥ 1, got 0",
        id="job-poll-0",
    ),
    pytest.param(
        "[course_loading]\nreport_delay_minutes = -1\n",
        "course_loading.report_delay_minutes: must be a whole number ≥ 0, got -1",
        id="report-delay-negative",
    ),
    pytest.param(
        '[course_loading]\nsource = "campus:/leganto/*"\n',
        "course_loading.source: the path after NAME: must stay inside the remote's folder "
        '(relative), got "campus:/leganto/*"',
        id="source-absolute",
    ),
    pytest.param(
        '[course_loading]\nsource = "campus:*/leganto.csv"\n',
        "course_loading.source: only the last segment of the path may be a glob pattern",
        id="source-glob-in-folder",
    ),
    pytest.param(
        '[course_loading]\nsource = "campus:leganto_{DATE}*"\n',
        "course_loading.source: {DATE} is not a placeholder: only {YYYYMMDD} is",
        id="source-placeholder",
    ),
    pytest.param(
        '[course_loading]\ntarget = "alma:loader/*"\n',
        "course_loading.target: a destination cannot be a glob pattern",
        id="target-glob",
    ),
    pytest.param(
        '[course_loading]\ntarget = ""\n',
        "course_loading.target: must not be empty",
        id="target-empty",
    ),
    pytest.param(
        "[course_loading]\njob_id = 12345\n",
        "course_loading.job_id: must be text in quotes, got 12345",
        id="job-id-number",
    ),
    pytest.param(
        '[remotes.alma]\nurl = "file:///srv/alma"\n[course_loading]\nmerge_on = "code"\n',
        'course_loading.source: names the remote "campus", which has no [remotes.campus] table '
        "(defined: alma); this is the key's default value",
        id="source-default-remote-undefined",
    ),
    pytest.param(
        '[schedules]\ncourse-loading = "0 6 * * 1-5"\n',
        'course_loading.target: names the remote "alma", which has no [remotes.alma] table',
        id="scheduled-workflow-references-checked",
    ),
    pytest.param(
        '[aspace2alma]\ntarget = "sftp-drop"\n[aspace2alma.archivesspace]\npassword = "p"\n',
        'aspace2alma.target: names the remote "sftp-drop", which has no [remotes.sftp-drop] table',
        id="aspace-target-undefined",
    ),
    pytest.param(
        '[remotes.drop]\nurl = "file:///srv/drop"\n[aspace2alma]\nbarcode_set = "123"\n',
        "aspace2alma.archivesspace.password: missing (give it here or in "
        "ALMABRIDGE_ARCHIVESSPACE_PASSWORD in the environment)",
        id="aspace-password-missing",
    ),
    pytest.param(
        '[aspace2alma.archivesspace]\nurl = "localhost:8089"\npassword = "p"\n',
        "aspace2alma.archivesspace.url: must be an http(s):// URL",
        id="aspace-url",
    ),
    pytest.param(
        '[aspace2alma.archivesspace]\npasword = "p"\n',
        "aspace2alma.archivesspace.pasword: unknown key (did you mean 'password'?)",
        id="aspace-unknown-key",
    ),
    pytest.param(
        '[schedules]\ncourse-loding = "0 6 * * *"\n',
        "schedules.course-loding: unknown workflow (did you mean 'course-loading'?); the "
        "workflows are west-holdings, oclc-sync, course-loading, course-rollover-report, "
        "aspace2alma, aspace2alma-remove-stale, cleanup",
        id="schedule-unknown-workflow",
    ),
    pytest.param(
        '[schedules]\ncleanup = "0 0 3 * * *"\n',
        "schedules.cleanup: must be a cron expression of 5 fields (minute hour day-of-month "
        'month day-of-week), not 6 fields, got "0 0 3 * * *"',
        id="schedule-six-fields",
    ),
    pytest.param(
        '[schedules]\ncleanup = "61 3 * * *"\n',
        'schedules.cleanup: is not a valid cron expression: bad minute, got "61 3 * * *"',
        id="schedule-bad-minute",
    ),
    pytest.param(
        '[schedules]\ncleanup = "0 3 31 2 *"\n',
        "schedules.cleanup: is not a valid cron expression: bad day-of-month",
        id="schedule-never-due",
    ),
    pytest.param(
        '[schedules]\ncleanup = "@daily"\n',
        "schedules.cleanup: must be a cron expression of 5 fields",
        id="schedule-nickname",
    ),
    pytest.param(
        "[schedules]\ncleanup = 3\n",
        'schedules.cleanup: must be a cron expression in quotes, such as "30 10 * * 0-5", got 3',
        id="schedule-number",
    ),
    pytest.param(
        '[notify.teams]\nwebhook = "x"\n',
        "notify.teams: unknown table; [notify] holds [notify.smtp], [notify.slack] and one "
        "[notify.WORKFLOW] per workflow",
        id="notify-unknown-table",
    ),
    pytest.param(
        "[notify.smtp]\nport = 587\n",
        "notify.smtp.host: missing",
        id="smtp-host-missing",
    ),
    pytest.param(
        '[notify.smtp]\nhost = "smtp.example.edu"\n',
        "notify.smtp.from: missing",
        id="smtp-from-missing",
    ),
    pytest.param(
        '[notify.smtp]\nhost = "smtp.example.edu"\nfrom = "a@example.edu"\nport = 0\n',
        "notify.smtp.port: must be a whole number ≥ 1, got 0",
        id="smtp-port",
    ),
    pytest.param(
        '[notify.smtp]\nhost = "h"\nfrom = "a@example.edu"\nuse_tls = true\n',
        "notify.smtp.use_tls: cannot be true together with starttls",
        id="smtp-tls-twice",
    ),
    pytest.param(
        '[notify.smtp]\nhost = "h"\nfrom = "a@example.edu"\nuse_tls = true\nuser = "u"\n',
        "notify.smtp.use_tls: cannot be true together with starttls",
        id="smtp-tls-twice-and-no-password",
    ),
    pytest.param(
        '[notify.smtp]\nhost = "h"\nfrom = "a@example.edu"\nuser = "almabridge"\n',
        "notify.smtp.password: missing: user is set (give it here or in "
        "ALMABRIDGE_SMTP_PASSWORD in the environment)",
        id="smtp-password-missing",
    ),
    pytest.param(
        '[notify.slack]\nwebhook = "http://hooks.slack.com/services/T/B/x"\n',
        "notify.slack.webhook: must be an https:// URL (the Slack app's incoming webhook), got "
        "a string",
        id="slack-http",
    ),
    pytest.param(
        '[notify.course-loading]\nto = ["reserves"]\n',
        "notify.course-loading.to[0]: must be an e-mail address such as reserves@example.edu, "
        'got "reserves"',
        id="route-address",
    ),
    pytest.param(
        '[notify.course-loading]\non = ["failed", "error"]\n',
        'notify.course-loading.on[1]: must be "failed", "partial" or "ok", got "error"',
        id="route-outcome",
    ),
    pytest.param(
        "[notify.course-loading]\nemail = true\n",
        "notify.course-loading.email: unknown key",
        id="route-unknown-key",
    ),
    pytest.param(
        "[notify]\ncourse-loading = true\n",
        "notify.course-loading: must be a table, got a boolean",
        id="route-not-table",
    ),
    pytest.param(
        "[leganto]\nterms = 7\n",
        "leganto: unknown table; the tables are [alma], [remotes], [west_holdings], "
        "[oclc_sync], [course_loading], [aspace2alma], [cleanup], [schedules], [notify] and the "
        "top-level keys schedule_grace_hours",
        id="top-level-unknown-table",
    ),
    pytest.param(
        "schedule_grace = 7\n",
        "schedule_grace: unknown key (did you mean 'schedule_grace_hours'?)",
        id="top-level-unknown-key",
    ),
    pytest.param(
        "keep_days = 7\n",
        "keep_days: unknown top-level key; it belongs in [cleanup]",
        id="keep-days-belongs-to-cleanup",
    ),
    pytest.param(
        "[cleanup]\nkeep_days = -1\n",
        "cleanup.keep_days: must be a whole number ≥ 0, got -1",
        id="keep-days",
    ),
    pytest.param(
        '[cleanup]\nfolders = "out"\n',
        'cleanup.folders: must be an array of folder paths in quotes, such as ["out"], got "out"',
        id="cleanup-folders",
    ),
    pytest.param(
        "schedule_grace_hours = 0\n",
        "schedule_grace_hours: must be a number greater than 0, got 0",
        id="grace",
    ),
    pytest.param(
        "schedules = 3\n",
        "schedules: must be a table [schedules], got a number",
        id="schedules-not-table",
    ),
    pytest.param(
        "[alma.X]\nurl = \n",
        "test.toml: not valid TOML: Invalid value (at line 2, column 7)",
        id="not-toml",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_B9_each_problem_names_its_key_path(text: str, expected: str) -> None:
    found = problems(text)
    assert any(problem.startswith(expected) for problem in found), found


def test_B9_every_problem_is_listed_at_once() -> None:
    text = """
[cleanup]
keep_days = -1

[alma.01ABC_INST]
url = "https://api-na.hosted.exlibrisgroup.com"
rate_limit_per_second = 0

[west_holdings]
prefix = 5
upload_to = "nowhere"

[course_loading]
merge_on = "section"

[schedules]
aspace2alma = "30 10 * * 0-5 *"
"""
    found = problems(text)
    expected = [
        "cleanup.keep_days: must be a whole number ≥ 0, got -1",
        "alma.01ABC_INST.rate_limit_per_second: must be a whole number ≥ 1, got 0",
        "alma.01ABC_INST.apikey: missing",
        "west_holdings.prefix: must be text in quotes, got 5",
        'west_holdings.upload_to: names the remote "nowhere"',
        'course_loading.merge_on: must be "code+section" or "code", got "section"',
        'course_loading.source: names the remote "campus"',
        "schedules.aspace2alma: must be a cron expression of 5 fields",
        "aspace2alma.archivesspace.password: missing",
    ]
    for line in expected:
        assert any(problem.startswith(line) for problem in found), (line, found)
    with pytest.raises(WorkflowConfigError) as raised:
        load(text)
    assert str(raised.value).startswith(
        f"workflows configuration test.toml is not usable ({len(found)} problems):\n  "
    )


def test_B9_a_missing_file_is_one_problem_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(WorkflowConfigError) as raised:
        load_workflow_settings(missing, {})
    assert raised.value.problems == (f"{missing}: no such file",)


def test_B9_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "workflows.toml"
    path.write_bytes(b'schedule_grace_hours = 6\nprefix = "\xe9"\n')
    with pytest.raises(WorkflowConfigError) as raised:
        load_workflow_settings(path, {})
    assert raised.value.problems == (f"{path}: not UTF-8 text: invalid byte on line 2",)


# ---- secrets are never shown --------------------------------------------------------------------


def test_B9_secrets_never_appear_in_problems() -> None:
    text = f"""
[alma.01ABC_INST]
url = "https://api-na.hosted.exlibrisgroup.com"
apikey = ["{APIKEY}"]

[alma.02DEF_INST]
url = "https://api-na.hosted.exlibrisgroup.com"
apikey = "02def-file-apikey"
rate_limit_per_second = "02def-file-apikey"

[remotes.drop]
url = "sftp://alma:{DROP_PASSWORD}@sftp.example.edu:99999/aspace"

[course_loading]
merge_on = "{SMTP_PASSWORD}"
date_format = "{ASPACE_PASSWORD}"

[notify.slack]
webhook = "{WEBHOOK.replace("https", "http")}"
"""
    environment = {"ALMABRIDGE_SMTP_PASSWORD": SMTP_PASSWORD}
    with pytest.raises(WorkflowConfigError) as raised:
        load(text, {**environment, "ALMABRIDGE_ARCHIVESSPACE_PASSWORD": ASPACE_PASSWORD})
    message = str(raised.value)
    for secret in (*SECRETS, "02def-file-apikey", WEBHOOK.replace("https", "http")):
        assert secret not in message
    assert "alma.01ABC_INST.apikey: must be text in quotes, got an array" in message
    assert "remotes.drop.url: has a port that is not a number from 1 to 65535" in message
    assert 'course_loading.merge_on: must be "code+section" or "code", got "********"' in message
    assert "notify.slack.webhook: must be an https:// URL" in message


def test_B9_a_secret_written_where_a_table_belongs_is_not_echoed() -> None:
    found = problems(f'[notify]\nslack = "{WEBHOOK}"\n[alma]\n01ABC_INST = "{APIKEY}"\n')
    assert "notify.slack: must be a table, got a string" in found
    assert "alma.01ABC_INST: must be a table [alma.CODE], got a string" in found
    assert not any(WEBHOOK in line or APIKEY in line for line in found)


def test_B9_secrets_never_appear_in_the_summary() -> None:
    settings = load_workflow_settings(EXAMPLE, SECRET_ENVIRONMENT)
    lines = summarise(settings, datetime(2026, 3, 2, 9, tzinfo=UTC), UTC)
    text = "\n".join(lines)
    for secret in SECRETS:
        assert secret not in text
    assert "hooks.slack.com" not in text
    assert (
        "alma 01ABC_INST: https://api-na.hosted.exlibrisgroup.com/almaws/v1, at most 25 calls "
        "per second, API key set" in lines
    )
    assert "notify slack: webhook set" in lines
    for secret in SECRETS:
        assert secret not in repr(settings)


def test_B9_workflows_registered_beyond_the_built_in_ones_may_be_configured() -> None:
    text = """
[toy_workflow]
colour = "blue"

[schedules]
toy-workflow = "0 * * * *"

[notify.toy-workflow]
on = ["failed"]
"""
    settings = load_registered(text, more_workflows=["toy-workflow"])
    assert settings.more_workflows["toy-workflow"] == {"colour": "blue"}
    assert dict(settings.schedules.crons) == {"toy-workflow": "0 * * * *"}
    assert settings.notify.routes["toy-workflow"].on == frozenset({RunOutcome.FAILED})
    # Unregistered, the same file is refused, naming each place.
    found = problems(text)
    assert any(line.startswith("toy_workflow: unknown table") for line in found)
    assert any(line.startswith("schedules.toy-workflow: unknown workflow") for line in found)
    assert any(line.startswith("notify.toy-workflow: unknown table") for line in found)


def load_registered(text: str, *, more_workflows: list[str]) -> WorkflowSettings:
    return settings_from_text(text, {}, source="test.toml", more_workflows=more_workflows)
