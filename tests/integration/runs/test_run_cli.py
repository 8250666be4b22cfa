"""`almabridge run NAME` and `almabridge runs` (rules B1, B2, B5, B8), with the toy workflow of
tests/toy_workflow.py registered through $ALMABRIDGE_WORKFLOW_MODULES.

In process (CliRunner) for exit codes and output; as real processes for a run killed with
SIGKILL and resumed, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from adapters.ledger.migrate import upgrade
from entrypoints.cli import app
from entrypoints.workflow_registry import MODULES_VARIABLE
from tests.integration.ledger.support import database, sqlite_file_url
from tests.integration.notify.servers import Mailbox, smtp_server
from tests.toy_workflow import OUTPUT, TICK, WAITING

REPOSITORY = Path(__file__).resolve().parents[3]
TOY_MODULE = "tests.toy_workflow"
KEYS = [f"mms{n:02}" for n in range(1, 9)]

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A migrated SQLite ledger."""
    url = sqlite_file_url(tmp_path)
    asyncio.run(upgrade(url))
    return url


def _keys(path: Path, keys: list[str]) -> Path:
    path.write_text("".join(f"{key}\n" for key in keys))
    return path


def _cli(url: str, *args: str, modules: str = TOY_MODULE) -> Result:
    return runner.invoke(
        app, [*args, "--database-url", url], env={MODULES_VARIABLE: modules, "COLUMNS": "200"}
    )


def _runs(url: str, *args: str) -> list[dict[str, Any]]:
    result = _cli(url, "runs", "--json", *args)
    assert result.exit_code == 0, result.output
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def _show(url: str, run_id: int) -> dict[str, Any]:
    result = _cli(url, "runs", "show", str(run_id), "--json")
    assert result.exit_code == 0, result.output
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_B1_B2_an_ok_run_exits_0_and_is_listed(url: str, tmp_path: Path) -> None:
    keys = _keys(tmp_path / "keys.txt", KEYS)
    out = tmp_path / "not" / "yet" / "there"
    result = _cli(url, "run", "toy-count", "--input", str(keys), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of toy-count: ok - 8 ok, 0 skipped, 0 failed")
    assert "run 1 of toy-count: 0 ok, 0 skipped, 0 failed; started" in result.stderr  # progress
    assert (out / OUTPUT).read_text().splitlines()[0] == "mms01\t5"  # B8: --out created
    [listed] = _runs(url)
    assert {key: listed[key] for key in ("id", "workflow", "status", "trigger")} == {
        "id": 1,
        "workflow": "toy-count",
        "status": "ok",
        "trigger": "cli",
    }
    assert listed["started"] <= listed["ended"]
    shown = _show(url, 1)
    assert [entry["name"] for entry in shown["inputs"]] == ["keys"]
    assert [entry["name"] for entry in shown["outputs"]] == [OUTPUT]
    assert len(shown["outputs"][0]["sha256"]) == 64
    assert shown["failures"] == []
    table = _cli(url, "runs")
    assert table.exit_code == 0
    assert "toy-count" in table.stdout
    assert "Runs (1)" in table.stdout


def test_B2_a_bad_record_makes_the_run_partial_and_exit_1(url: str, tmp_path: Path) -> None:
    keys = _keys(tmp_path / "keys.txt", ["mms01", "bad02", "mms03"])
    result = _cli(url, "run", "toy-count", "--input", str(keys), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1, result.output
    assert "partial - 2 ok, 0 skipped, 1 failed" in result.stdout
    assert "failed: line bad02: line bad02: bad key" in result.stdout
    shown = _show(url, 1)
    assert shown["status"] == "partial"
    assert [(f["key"], f["reason"]) for f in shown["failures"]] == [
        ("bad02", "line bad02: bad key")
    ]
    table = _cli(url, "runs", "show", "1")
    assert "Failed records (1)" in table.stdout
    assert "line bad02: bad key" in table.stdout


def test_B2_skipped_records_alone_exit_0(url: str, tmp_path: Path) -> None:
    keys = _keys(tmp_path / "keys.txt", ["skip01", "mms02", "skip03"])
    result = _cli(url, "run", "toy-count", "--input", str(keys), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert "ok - 1 ok, 2 skipped, 0 failed" in result.stdout


def test_B2_a_missing_input_fails_the_run_with_one_sentence(url: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    result = _cli(url, "run", "toy-count", "--input", str(missing), "--out", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert f"reason: the input file {missing} does not exist" in result.stdout
    assert "Traceback" not in result.output
    assert _runs(url)[0]["status"] == "failed"


def test_B2_an_unexpected_error_exits_1_without_a_traceback(url: str, tmp_path: Path) -> None:
    keys = _keys(tmp_path / "keys.txt", KEYS)
    result = _cli(
        url, "run", "toy-count", "--input", str(keys), "--crash", "--out", str(tmp_path / "o")
    )
    assert result.exit_code == 1
    assert "error: run 1 of toy-count failed: ValueError: toy crash at mms05" in result.stderr
    assert "Traceback" not in result.output
    shown = _show(url, 1)
    assert (shown["status"], shown["reason"]) == ("failed", "ValueError: toy crash at mms05")


def test_B2_usage_errors_exit_2_and_name_the_problem(url: str, tmp_path: Path) -> None:
    keys = str(_keys(tmp_path / "keys.txt", KEYS))
    unknown = _cli(url, "run", "west-holding")
    assert unknown.exit_code == 2
    assert "unknown workflow 'west-holding'; known workflows: " in unknown.stderr
    known = unknown.stderr.split("known workflows: ", 1)[1].strip().split(", ")
    assert known == sorted(known)
    assert {"cleanup", "oclc-sync", "west-holdings", "toy-count"} <= set(known)
    bad_flag = _cli(url, "run", "toy-count", "--input", keys, "--pause-at", "soon")
    assert bad_flag.exit_code == 2
    assert "--pause-at: invalid int value: 'soon'" in bad_flag.stderr
    missing_flag = _cli(url, "run", "toy-count")
    assert missing_flag.exit_code == 2
    assert "--input" in missing_flag.stderr
    no_config = _cli(url, "run", "cleanup", "--config", str(tmp_path / "missing.toml"))
    assert no_config.exit_code == 2
    assert f"--config {tmp_path / 'missing.toml'}: no such file" in no_config.stderr
    bad_module = _cli(url, "run", "toy-count", modules="tests.no_such_module")
    assert bad_module.exit_code == 2
    assert "ALMABRIDGE_WORKFLOW_MODULES names tests.no_such_module" in bad_module.stderr
    assert _runs(url) == []  # nothing was run


def test_B2_an_unmigrated_ledger_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _cli(sqlite_file_url(tmp_path / "empty"), "run", "cleanup")
    assert result.exit_code == 2
    assert "almabridge db upgrade" in result.stderr


def test_B5_resume_refusals_exit_2(url: str, tmp_path: Path) -> None:
    keys = str(_keys(tmp_path / "keys.txt", KEYS))
    assert _cli(url, "run", "toy-count", "--input", keys, "--out", str(tmp_path)).exit_code == 0
    extra = _cli(url, "run", "toy-count", "--resume", "1", "--input", keys, "--dry-run")
    assert extra.exit_code == 2
    assert "--resume reuses run 1's own options" in extra.stderr
    assert "drop --dry-run --input" in extra.stderr
    assert _cli(url, "run", "toy-count", "--resume", "7").exit_code == 2
    other = _cli(url, "run", "cleanup", "--resume", "1")
    assert (other.exit_code, "is a run of toy-count, not of cleanup" in other.stderr) == (2, True)
    ended = _cli(url, "run", "toy-count", "--resume", "1")
    assert (ended.exit_code, "ended ok; nothing to resume" in ended.stderr) == (2, True)
    missing = _cli(url, "runs", "show", "7")
    assert (missing.exit_code, missing.stderr.strip()) == (1, "error: the ledger has no run 7")


def test_B1_secrets_given_on_the_command_line_are_not_stored(url: str, tmp_path: Path) -> None:
    keys = str(_keys(tmp_path / "keys.txt", KEYS))
    result = _cli(
        url, "run", "toy-count", "--input", keys, "--api-key", "l8xx-abc", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    options = _show(url, 1)["options"]
    assert options["input"] == keys
    assert "api_key" not in options
    assert "l8xx-abc" not in _cli(url, "runs", "show", "1").stdout


def test_B8_cleanup_from_the_command_line_and_its_configuration(url: str, tmp_path: Path) -> None:
    old = tmp_path / "generated" / "old.csv"
    old.parent.mkdir()
    old.write_text("x")
    os.utime(old, (0, 0))
    config = tmp_path / "workflows.toml"
    config.write_text('[cleanup]\nfolders = ["generated", "missing"]\nkeep_days = 30\n')
    dry = _cli(url, "run", "cleanup", "--config", str(config), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "ok (dry run) - 0 ok, 2 skipped, 0 failed" in dry.stdout
    assert old.exists()
    assert _show(url, 1)["options"] == {
        "folders": [str(tmp_path / "generated"), str(tmp_path / "missing")],
        "keep_days": 30,
    }
    real = _cli(url, "run", "cleanup", "--folder", str(old.parent), "--keep-days", "1")
    assert real.exit_code == 0, real.output
    assert not old.exists()
    assert _runs(url, "--workflow", "cleanup")[0]["counts"] == {"ok": 1, "skipped": 0, "failed": 0}


def test_help_teaches_exit_codes_and_examples() -> None:
    for command in (["run", "--help"], ["runs", "--help"], ["runs", "show", "--help"]):
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "Example" in result.stdout
    text = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Exit codes: 0 ok" in text
    assert "--resume RUN_ID" in text
    assert "cleanup" in text


# ---- real processes: SIGKILL mid-run, then --resume (rule B5) ------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
async def process_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated ledger that separate processes share: a SQLite file or a PostgreSQL schema."""
    async with database(request.param, tmp_path) as url:
        assert url is not None
        await upgrade(url)
        yield url


def _environment() -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ALMA")}
    environ[MODULES_VARIABLE] = TOY_MODULE
    return environ


async def _start(url: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints.cli",
        *args,
        "--database-url",
        url,
        cwd=REPOSITORY,
        env=_environment(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _almabridge(url: str, *args: str) -> tuple[int, str, str]:
    process = await _start(url, *args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_B5_a_run_killed_mid_way_resumes_without_redoing_records(
    process_url: str, tmp_path: Path
) -> None:
    url = process_url
    keys = str(_keys(tmp_path / "keys.txt", [*KEYS, "skip09"]))
    whole_out, whole_effects = tmp_path / "whole", tmp_path / "whole-effects.txt"
    code, stdout, stderr = await _almabridge(
        url,
        "run",
        "toy-count",
        "--input",
        keys,
        "--effects",
        str(whole_effects),
        "--out",
        str(whole_out),
    )
    assert code == 0, stdout + stderr
    assert "run 1 of toy-count" in stderr  # progress on stderr

    # A second run stops before its fifth key; SIGKILL there: no goodbye, no end written.
    out, effects, gate = tmp_path / "killed", tmp_path / "effects.txt", tmp_path / "gate"
    process = await _start(
        url,
        "run",
        "toy-count",
        "--input",
        keys,
        "--effects",
        str(effects),
        "--pause-at",
        "4",
        "--gate",
        str(gate),
        "--out",
        str(out),
    )
    try:
        await _waiting(process)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert process.returncode == -signal.SIGKILL
    killed = _by_id(await _runs_of(url))[2]
    assert (killed["status"], killed["ended"]) == ("running", None)
    assert killed["counts"] == {"ok": 4, "skipped": 0, "failed": 0}

    gate.touch()
    code, stdout, stderr = await _almabridge(url, "run", "toy-count", "--resume", "2")
    assert code == 0, stdout + stderr
    assert stdout.startswith("run 3 of toy-count: ok - 4 ok, 1 skipped, 0 failed (resumes run 2)")

    # Every simulated write happened once across the two processes (B5) ...
    assert effects.read_text().splitlines() == whole_effects.read_text().splitlines() == KEYS
    # ... and the output equals the uninterrupted run's, byte for byte and in the ledger.
    assert (out / OUTPUT).read_bytes() == (whole_out / OUTPUT).read_bytes()
    runs = _by_id(await _runs_of(url))
    assert [(runs[n]["status"], runs[n]["trigger"]) for n in (1, 2, 3)] == [
        ("ok", "cli"),
        ("running", "cli"),
        ("ok", "resume"),
    ]
    assert runs[3]["resumed_from"] == 2
    assert runs[3]["outputs"] == runs[1]["outputs"]
    assert runs[3]["inputs"] == runs[2]["inputs"] == runs[1]["inputs"]
    assert runs[3]["options"] == runs[2]["options"]
    assert runs[3]["out_dir"] == str(out)


async def test_B1_a_killed_run_leaves_its_workflow_free_to_run(
    process_url: str, tmp_path: Path
) -> None:
    # On PostgreSQL the killed process held the workflow's advisory lock: the server frees it.
    url, keys = process_url, str(_keys(tmp_path / "keys.txt", KEYS))
    gate = tmp_path / "gate"
    process = await _start(
        url,
        "run",
        "toy-count",
        "--input",
        keys,
        "--pause-at",
        "0",
        "--gate",
        str(gate),
        "--out",
        str(tmp_path / "a"),
    )
    try:
        await _waiting(process)
        if "postgresql" in url:
            # While it lives, a second run of the workflow is refused, not queued.
            code, _, stderr = await _almabridge(
                url, "run", "toy-count", "--input", keys, "--out", str(tmp_path / "b")
            )
            assert code == 1
            assert "workflow toy-count is already running in another process" in stderr
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    code, stdout, stderr = await _almabridge(
        url, "run", "toy-count", "--input", keys, "--out", str(tmp_path / "c")
    )
    assert code == 0, stdout + stderr


async def _waiting(process: asyncio.subprocess.Process) -> None:
    """Until the toy says it waits for its gate; the process's stderr when it ended instead."""
    assert process.stdout is not None
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    if line.decode().strip() != WAITING:
        stderr = await asyncio.wait_for(process.stderr.read(), 120)
        pytest.fail(f"the toy ended before its gate: {line.decode()}{stderr.decode()}")


async def _runs_of(url: str) -> list[dict[str, Any]]:
    code, stdout, stderr = await _almabridge(url, "runs", "--json")
    assert code == 0, stderr
    runs: list[dict[str, Any]] = json.loads(stdout)
    return runs


def _by_id(runs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {run["id"]: run for run in runs}


def test_B7_a_run_notifies_by_email_as_its_configuration_says(url: str, tmp_path: Path) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        config = tmp_path / "workflows.toml"
        config.write_text(
            "[notify.smtp]\n"
            f'host = "127.0.0.1"\nport = {port}\nstarttls = false\n'
            'from = "almabridge@example.edu"\n\n'
            f'[notify.{TICK}]\nto = ["systems@example.edu"]\non = ["ok"]\n'
        )
        result = _cli(url, "run", TICK, "--config", str(config), "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    (message,) = mailbox.messages
    assert message["To"] == "systems@example.edu"
    assert f"{TICK} run" in str(message["Subject"])


def test_B9_a_run_with_a_bad_notify_key_exits_2_naming_it(url: str, tmp_path: Path) -> None:
    config = tmp_path / "workflows.toml"
    config.write_text('[notify.smtp]\nhost = "127.0.0.1"\nport = "many"\nfrom = "a@b.edu"\n')
    result = _cli(url, "run", TICK, "--config", str(config))
    assert result.exit_code == 2
    assert "notify.smtp.port" in result.output
