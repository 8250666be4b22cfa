"""`almabridge workflows check FILE` (rule B9): a summary and exit 0, or every problem and exit 2.

The command's sub-app is mounted here on a root like `entrypoints.cli.app`'s, so that the
command line reads `… workflows check FILE` as operators type it.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from entrypoints.cli import workflows_command
from tests.integration.workflow_config.support import EXAMPLE, SECRET_ENVIRONMENT, SECRETS

root = typer.Typer(
    name="almabridge",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
root.add_typer(workflows_command.app, name="workflows")


@root.callback()
def _root() -> None:
    """almabridge (test root)."""


runner = CliRunner()

# Each variable the command reads, unset unless a test sets it.
_CLEAN = dict.fromkeys(SECRET_ENVIRONMENT)


def check(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(root, ["workflows", "check", *args], env={**_CLEAN, **(env or {})})


def test_B9_check_summarises_the_example_and_exits_0() -> None:
    result = check(str(EXAMPLE), env={"TZ": "America/New_York"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "alma 01ABC_INST: https://api-na.hosted.exlibrisgroup.com/almaws/v1, at most 25 calls "
        "per second, API key set" in lines
    )
    assert (
        "remote drop: sftp://user@host:22/alma/aspace (password set, host key "
        "SHA256:replace-with-the-servers-host-key-fingerprint)" in lines
    )
    assert "remote campus: file:///srv/almabridge/campus" in lines
    assert any(line.startswith("west-holdings: prefix wau, 003 -, 005 stamp off") for line in lines)
    assert any("19 institutions (institutions.json)" in line for line in lines)
    assert any("merge on code+section, CEM encoding iso-8859-1" in line for line in lines)
    assert "course-rollover-report: made 120 min after the push" in lines
    folder = EXAMPLE.parent / "out"
    assert f"cleanup: generated files older than 42 days are removed from {folder}" in lines
    # B6: the next due time in local time (Sunday to Friday at 10:30 in New York).
    schedule = next(line for line in lines if line.startswith("schedule aspace2alma:"))
    assert re.fullmatch(
        r"schedule aspace2alma: 30 10 \* \* 0-5, next \d{4}-\d\d-\d\d 10:30 E[SD]T \(local time\)",
        schedule,
    ), schedule
    assert any("at most 6 h late" in line for line in lines)
    assert (
        "notify smtp: smtp.example.edu:587, STARTTLS, no login, from almabridge@example.edu"
        in lines
    )
    assert (
        "notify course-rollover-report: on failed, partial, ok → e-mail to reserves@example.edu; "
        "Slack" in lines
    )
    assert "warning: alma.01ABC_INST.apikey is still the example's placeholder '...'" in lines
    assert result.stderr == ""


def test_B9_check_never_prints_a_secret() -> None:
    result = check(str(EXAMPLE), env=SECRET_ENVIRONMENT)
    assert result.exit_code == 0, result.output
    for secret in SECRETS:
        assert secret not in result.output
    assert "notify slack: webhook set" in result.stdout.splitlines()
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert not any("apikey" in line or "password" in line for line in warnings), warnings
    assert (
        "warning: remotes.drop.host_key is still the example's placeholder: every connection "
        "will be refused" in warnings
    )


def test_B9_check_lists_every_problem_on_stderr_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "workflows.toml"
    config.write_text(
        "\n".join(
            [
                "[alma.01ABC_INST]",
                'url = "https://api-na.hosted.exlibrisgroup.com"',
                f'apikey = "{SECRETS[0]}"',
                "rate_limit_per_second = 0",
                "[course_loading]",
                'merge_on = "section"',
                "[schedules]",
                'nightly = "0 3 * * *"',
            ]
        ),
        encoding="utf-8",
    )
    result = check(str(config))
    assert result.exit_code == 2
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[0] == f"workflows configuration {config} is not usable (5 problems):"
    assert "  alma.01ABC_INST.rate_limit_per_second: must be a whole number ≥ 1, got 0" in errors
    assert '  course_loading.merge_on: must be "code+section" or "code", got "section"' in errors
    assert any(line.startswith("  schedules.nightly: unknown workflow") for line in errors)
    assert any(
        line.startswith('  course_loading.source: names the remote "campus"') for line in errors
    )
    assert any(
        line.startswith('  course_loading.target: names the remote "alma"') for line in errors
    )
    assert SECRETS[0] not in result.output


def test_B9_check_of_a_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = check(str(missing))
    assert result.exit_code == 2
    assert f"{missing}: no such file" in result.stderr


def test_B9_check_of_a_directory_exits_2_naming_it(tmp_path: Path) -> None:
    result = check(str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path}: is a directory, not a file" in result.stderr


def test_B9_check_without_a_file_is_a_usage_error() -> None:
    result = runner.invoke(root, ["workflows", "check"])
    assert result.exit_code == 2
    assert "FILE" in result.output


def test_B9_check_help_teaches_with_an_example() -> None:
    result = runner.invoke(root, ["workflows", "check", "--help"])
    assert result.exit_code == 0
    assert "almabridge workflows check examples/workflows.toml" in result.output
    for variable in (
        "ALMABRIDGE_APIKEY_<CODE>",
        "ALMABRIDGE_REMOTE_<NAME>_PASSWORD",
        "ALMABRIDGE_ARCHIVESSPACE_PASSWORD",
        "ALMABRIDGE_SMTP_PASSWORD",
        "ALMABRIDGE_SLACK_WEBHOOK",
    ):
        assert variable in result.output
    assert "the environment wins" in " ".join(result.output.split())
    group = runner.invoke(root, ["workflows", "--help"])
    assert group.exit_code == 0
    assert "almabridge workflows check /etc/almabridge/workflows.toml" in group.output
