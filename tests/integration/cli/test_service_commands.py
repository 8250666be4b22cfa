"""`almabridge serve` and `almabridge worker`: refusals (exit 2) and clean runs as processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.ledger.clock import SystemClock
from adapters.ledger.sql import SqlLedger
from application.shared.ledger_records import InboxStatus
from entrypoints.cli import app
from tests.integration.cli.support import REPOSITORY, Bridge, bridge_at, runner

COMMANDS = (
    [],
    ["replay"],
    ["ledger"],
    ["serve"],
    ["worker"],
    ["sync-items"],
    ["send-requests"],
    ["replay", "message"],
    ["replay", "file"],
    ["replay", "request"],
    ["ledger", "item"],
    ["ledger", "request"],
    ["ledger", "events"],
    ["demo"],
)


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with bridge_at(tmp_path) as running:
        yield running


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command) or "almabridge")
def test_every_command_has_help_with_examples(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Examples:" in result.output


def test_serve_refuses_an_unmigrated_ledger_with_exit_code_2(tmp_path: Path) -> None:
    with bridge_at(tmp_path, migrate=False) as bridge:
        code, output = bridge.run("serve", "--port", "1")
    assert code == 2
    assert "almabridge db upgrade" in output


def test_W2_serve_refuses_to_start_without_a_webhook_secret(bridge: Bridge) -> None:
    bridge.write_conf(webhook_secret="")
    code, output = bridge.run("serve", "--port", "1")
    assert code == 2
    assert "allow_unsigned_webhooks" in output


def test_serve_refuses_a_missing_configuration_naming_it(bridge: Bridge, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "serve",
            "--config",
            str(tmp_path / "nowhere.json"),
            "--database-url",
            bridge.database_url,
        ],
    )
    assert result.exit_code == 2
    assert "nowhere.json" in result.output


def test_serve_refuses_a_port_in_use(bridge: Bridge) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = bridge.run("serve", "--port", str(port))
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in output


def test_worker_refuses_an_unusable_database_url(bridge: Bridge) -> None:
    result = runner.invoke(
        app, ["worker", "--config", str(bridge.conf_path), "--database-url", "mysql://x@y/z"]
    )
    assert result.exit_code == 2
    assert "mysql" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(bridge: Bridge, *args: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    options = ["--config", str(bridge.conf_path), "--database-url", bridge.database_url]
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", *args, *options],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"did not stop on SIGTERM:\n{output}")
    return process.returncode, output


def test_serve_answers_until_SIGTERM_then_exits_0_and_frees_the_port(bridge: Bridge) -> None:
    port = _free_port()
    process = _start(bridge, "serve", "--port", str(port))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/webhook?challenge=abc", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"serve did not start:\n{_stop(process)[1]}")
                time.sleep(0.1)
        assert answer.json() == {"challenge": "abc"}
    finally:
        code, output = _stop(process)
    assert code == 0, output
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)


async def _inbox(bridge: Bridge, body: dict[str, object]) -> int:
    ledger = SqlLedger.from_url(bridge.database_url, SystemClock())
    try:
        async with ledger.unit_of_work() as uow:
            added = await uow.inbox.add("worker-test", json.dumps(body).encode(), datetime.now(UTC))
            await uow.commit()
        return added.id
    finally:
        await ledger.close()


async def _status(bridge: Bridge, message_id: int) -> InboxStatus | None:
    ledger = SqlLedger.from_url(bridge.database_url, SystemClock())
    try:
        async with ledger.unit_of_work() as uow:
            message = await uow.inbox.get(message_id)
        return None if message is None else message.status
    finally:
        await ledger.close()


def test_worker_processes_the_inbox_until_SIGTERM(bridge: Bridge) -> None:
    # A JOB_END of no configured job: recorded as skipped, the message done (rule W4).
    body = {"id": "77", "action": "JOB_END", "job_instance": {"job_info": {"id": "S000"}}}
    message_id = asyncio.run(_inbox(bridge, body))
    process = _start(bridge, "worker", "--owner", "test-worker")
    try:
        deadline = time.monotonic() + 30
        while asyncio.run(_status(bridge, message_id)) is not InboxStatus.DONE:
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"the worker did not process the message:\n{_stop(process)[1]}")
            time.sleep(0.2)
    finally:
        code, output = _stop(process)
    assert code == 0, output
    assert "test-worker" in output


def test_the_demo_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "ledger.db").write_text("an earlier run")
    result = runner.invoke(app, ["demo", "--folder", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not empty; give the demo a new or empty folder" in result.output
