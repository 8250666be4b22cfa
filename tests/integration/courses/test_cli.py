"""`almabridge run course-loading` and `course-rollover-report` as operators' cron lines call
them (rules L1, L7, L8, B1, B2, B5, B7, B8, Command line): the fake Alma on a real port, a
workflows file, a migrated ledger (SQLite, PostgreSQL); exit codes 0, 1 and 2."""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from adapters.fake_alma.seed import state_from_file
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.shared.run_records import RunRecord
from entrypoints.cli import app
from entrypoints.workflow_registry import MODULES_VARIABLE
from tests.integration.cli.support import fake_alma_server
from tests.integration.courses.support import (
    AB,
    CEM_COLUMNS,
    KEY,
    Cem,
    body_text,
    cem_bytes,
    cem_lines,
    files,
    served_in_thread,
)
from tests.integration.ledger.support import FakeClock, database
from tests.integration.notify.servers import (
    WEBHOOK_PATH,
    Mailbox,
    SlackInbox,
    slack_receiver,
    smtp_server,
)

runner = CliRunner()
LOADER_NAME = re.compile(r"\A\d{14}\.txt\Z")
ROWS = [Cem("HIS101", "79001", instructor="ann1"), Cem("HIS102", "79002", campus="MARS")]


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated ledger: a SQLite file or a PostgreSQL schema."""
    async with database(request.param, tmp_path) as opened:
        assert opened is not None
        await upgrade(opened)
        yield opened


@dataclass
class Site:
    """One deployment: the fake Alma's URL, the remotes' folders and the workflows file."""

    root: Path
    gateway: str
    url: str

    @property
    def campus(self) -> Path:
        return self.root / "campus"

    @property
    def target(self) -> Path:
        return self.root / "alma"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def config(self) -> Path:
        return self.root / "workflows.toml"

    def write_config(self, notify: dict[str, dict[str, Any]] | None = None) -> Path:
        lines = [
            f'[alma.{AB}]\nurl = "{self.gateway}"\napikey = "{KEY}"\nrate_limit_per_second = 25',
            f'[remotes.campus]\nurl = "file://{self.campus}"',
            f'[remotes.alma]\nurl = "file://{self.target}"',
            '[course_loading]\nsource = "campus:leganto_export_{YYYYMMDD}*"\ntarget = "alma"\n'
            "report_delay_minutes = 0",
        ]
        for name, table in (notify or {}).items():
            lines.append(
                f"[notify.{name}]\n"
                + "\n".join(f"{key} = {json.dumps(value)}" for key, value in table.items())
            )
        self.config.write_text("\n\n".join(lines) + "\n")
        tomllib.loads(self.config.read_text())  # a typo here is the test's, not the code's
        return self.config

    def put_cem(self, content: bytes, day: date | None = None) -> Path:
        """A CEM file of ``day`` (today by default: the command line's own clock, L1)."""
        self.campus.mkdir(parents=True, exist_ok=True)
        path = self.campus / f"leganto_export_{day or date.today():%Y%m%d}_0700.csv"
        path.write_bytes(content)
        return path

    def cli(self, *args: str) -> Result:
        return runner.invoke(
            app,
            [*args, "--database-url", self.url],
            env={MODULES_VARIABLE: "", "COLUMNS": "200"},
        )

    def run(self, workflow: str, *args: str) -> Result:
        return self.cli(
            "run", workflow, "--config", str(self.config), "--institution", AB,
            "--out", str(self.out), *args,
        )  # fmt: skip

    def records(self, run_id: int) -> list[RunRecord]:
        async def read() -> list[RunRecord]:
            ledger = SqlLedger.from_url(self.url, FakeClock())
            try:
                async with ledger.unit_of_work() as uow:
                    return await uow.runs.records_of(run_id)
            finally:
                await ledger.close()

        return asyncio.run(read())


@pytest.fixture
def site(url: str, tmp_path: Path) -> Iterator[Site]:
    """The demo-seeded fake Alma under uvicorn, and a deployment around it."""
    with fake_alma_server(state_from_file()) as gateway:
        made = Site(tmp_path, gateway, url)
        made.write_config()
        yield made


def test_L1_B1_a_day_s_load_exits_0_and_runs_show_names_its_input_and_output(site: Site) -> None:
    cem = site.put_cem(cem_bytes(ROWS))
    site.put_cem(cem_bytes([Cem("OLD100", "79999")]), date.today() - timedelta(days=1))

    result = site.run("course-loading")

    assert result.exit_code == 0, result.output
    # rule B2: a fallback department is recorded ok and keeps the run ok.
    assert result.stdout.startswith("run 1 of course-loading: ok - 5 ok, 0 skipped, 0 failed")
    [name] = files(site.out)
    assert LOADER_NAME.match(name)
    assert files(site.target) == [name]  # rule L7
    assert (site.target / name).read_bytes() == (site.out / name).read_bytes()
    assert cem.is_file()  # rule L1: the CEM file stays on the remote
    assert KEY not in result.output
    # rule B1: every CEM line and every course is a record of the run.
    kinds = {(r.kind, r.key) for r in site.records(1)}
    assert {("cem_line", "line 2"), ("cem_line", "line 3")} <= kinds
    assert {("course", ROWS[0].key), ("course", ROWS[1].key), ("push", name)} <= kinds
    shown = site.cli("runs", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert f"input {cem.name}" in shown.stdout
    assert f"output {name}" in shown.stdout
    assert "5 ok, 0 skipped, 0 failed" in shown.stdout
    [listed] = json.loads(site.cli("runs", "--json").stdout)
    assert (listed["id"], listed["workflow"], listed["status"]) == (1, "course-loading", "ok")
    document = json.loads(site.cli("runs", "show", "1", "--json").stdout)
    assert document["status"] == "ok"
    assert [i["name"] for i in document["inputs"]] == [cem.name]
    assert [o["name"] for o in document["outputs"]] == [name]


@pytest.mark.parametrize(
    ("content", "code", "said"),
    [
        pytest.param(
            "".join([*cem_lines(ROWS), "only,three,fields\n"]).encode(),
            1,
            "failed: cem_line line 4: leganto_export_",
            id="malformed-line",
        ),
        pytest.param(
            cem_bytes([Cem("HIS103", "79003", end="2026-02-30")]),
            1,
            "END_SYNC_DATE '2026-02-30' of 2026Fall-X-HIS103-79003 79003 is not a date",
            id="bad-date",
        ),
        pytest.param(
            cem_bytes(ROWS, [c for c in CEM_COLUMNS if c != "SLN"]),
            1,
            "lacks the column SLN in its header (line 1)",
            id="missing-column",
        ),
        pytest.param(
            cem_bytes([Cem("GEO101", "79004", campus="TEMPE", college="ZZ", term="9")]),
            0,
            "run 1 of course-loading: ok - 3 ok, 0 skipped, 0 failed",
            id="fallbacks",
        ),
    ],
)
def test_B2_exit_codes_of_bad_inputs(site: Site, content: bytes, code: int, said: str) -> None:
    site.put_cem(content)

    result = site.run("course-loading")

    assert result.exit_code == code, result.output
    assert said in result.stdout
    assert "Traceback" not in result.output
    if code == 1 and "failed:" in said:
        shown = site.cli("runs", "show", "1")
        assert "cem_line" in shown.stdout
        assert "line 4" in shown.stdout


def test_L1_B7_no_CEM_file_today_fails_exit_1_and_notifies(site: Site) -> None:
    site.put_cem(cem_bytes(ROWS), date.today() - timedelta(days=1))
    mailbox, inbox = Mailbox(), SlackInbox()
    with smtp_server(mailbox) as port, served_in_thread(slack_receiver(inbox)) as slack:
        site.write_config(
            {
                "smtp": {
                    "host": "127.0.0.1",
                    "port": port,
                    "starttls": False,
                    "from": "almabridge@example.edu",
                },
                "slack": {"webhook": slack + WEBHOOK_PATH},
                "course-loading": {"to": ["reserves@example.edu"], "on": ["failed"], "slack": True},
            }
        )

        result = site.run("course-loading")

    assert result.exit_code == 1, result.output
    assert "run 1 of course-loading: failed" in result.stdout
    sentence = f"no CEM file for {date.today():%Y-%m-%d} in campus:leganto_export_{{YYYYMMDD}}*"
    assert f"reason: {sentence}" in result.stdout
    assert files(site.out) == []
    [message] = mailbox.messages
    assert message["Subject"] == "almabridge course-loading run 1: failed"
    assert f"Reason: {sentence}" in body_text(message)
    [payload] = inbox.payloads
    assert "course-loading run 1: failed" in payload["text"]
    assert sentence in payload["text"]


def test_B8_dry_run_writes_locally_and_pushes_nothing(site: Site) -> None:
    site.put_cem(cem_bytes(ROWS))

    result = site.run("course-loading", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "run 1 of course-loading: ok (dry run)" in result.stdout
    assert len(files(site.out)) == 1
    assert files(site.target) == []


def test_L1_cem_flag_and_no_push(site: Site) -> None:
    given = site.root / "given.csv"
    given.write_bytes(cem_bytes(ROWS))

    result = site.run("course-loading", "--cem", str(given), "--no-push")

    assert result.exit_code == 0, result.output
    assert len(files(site.out)) == 1
    assert files(site.target) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        pytest.param(("--cem", "nowhere.csv"), "--cem {root}/nowhere.csv: no such file", id="cem"),
        pytest.param(
            ("--institution", "01ZZZ_XX"), "--institution 01ZZZ_XX: ", id="unknown-institution"
        ),
        pytest.param(("--bogus",), "unrecognized arguments: --bogus", id="unknown-flag"),
    ],
)
def test_B2_usage_errors_exit_2_naming_the_flag(
    site: Site, args: tuple[str, ...], said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site.root)
    site.put_cem(cem_bytes(ROWS))

    result = site.run("course-loading", *args)

    assert result.exit_code == 2, result.output
    assert said.format(root=site.root) in result.output
    assert "Traceback" not in result.output
    assert files(site.out) == []


def test_B2_the_institution_flag_is_required(site: Site) -> None:
    result = site.cli("run", "course-loading", "--config", str(site.config))

    assert result.exit_code == 2, result.output
    assert "--institution CODE is required" in result.output


def test_B5_L7_resume_of_a_partial_run_does_not_push_again(site: Site) -> None:
    site.put_cem("".join([*cem_lines(ROWS), "only,three,fields\n"]).encode())
    first = site.run("course-loading")
    assert first.exit_code == 1, first.output
    pushed = files(site.target)
    assert len(pushed) == 1

    again = site.cli("run", "course-loading", "--config", str(site.config), "--resume", "1")

    assert again.exit_code == 1, again.output
    assert "partial" in again.stdout
    assert "(resumes run 1)" in again.stdout
    assert files(site.target) == pushed  # rule L7: not pushed twice


def test_L8_the_rollover_report_runs_from_the_command_line(site: Site) -> None:
    site.put_cem(cem_bytes([*ROWS, Cem("BIO100", "79005", copy_sln="69005", copy_year="2019")]))

    result = site.run("course-rollover-report")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of course-rollover-report: ok")
    [name] = files(site.out)
    assert re.fullmatch(r"rollover_\d{14}\.txt", name)
    kinds = {(r.kind, r.key): r.reason for r in site.records(1)}
    assert kinds[("rollover", "2026Fall-X-BIO100-79005 79005")] == (
        "no course of 2019 hold SLN 69005; exactly one is needed"
    )
