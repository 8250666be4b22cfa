"""`almabridge run aspace2alma` and `aspace2alma-remove-stale` as operators' cron lines call them
(rules AS1, AS2, B1, B2, B9, Command line): the fake ArchivesSpace and the fake Alma under
uvicorn (`entrypoints.demo.servers.http_server`) reached by the real HTTP adapters, a workflows
file, a migrated ledger (SQLite, PostgreSQL); exit codes 0, 1 and 2.

The command runs in a worker thread (it starts its own event loop) while the test's loop serves
the fakes. AS2's waits go through a recording sleep, as in the other aspace tests."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.fake_alma import create_fake_alma_app
from adapters.fake_archivesspace import create_fake_archivesspace_app
from adapters.ledger.migrate import upgrade
from application.aspace.export_collection import ExportCollection
from entrypoints import aspace_wiring
from entrypoints.cli import app
from entrypoints.demo.servers import http_server
from entrypoints.workflow_registry import MODULES_VARIABLE
from tests.integration.aspace.support import (
    AB,
    BARCODE_SET,
    KEY,
    MARC_OUT,
    MARC_OUT_OLD,
    PASSWORD,
    REPO,
    USER,
    YESTERDAY,
    FakeAlma,
    FakeAspace,
    RecordingSleep,
    call_numbers,
    collection,
    fake_alma,
    fake_aspace,
    files,
)
from tests.integration.ledger.support import database

runner = CliRunner()


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
    """One deployment: the two fakes' URLs, the drop folder and the workflows file."""

    root: Path
    url: str
    alma: FakeAlma
    aspace: FakeAspace
    alma_url: str = ""
    aspace_url: str = ""
    sleep: RecordingSleep = field(default_factory=RecordingSleep)

    @property
    def drop(self) -> Path:
        return self.root / "drop"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def config(self) -> Path:
        return self.root / "workflows.toml"

    def write_config(
        self, *, barcode_set: str | None = BARCODE_SET, password: str = PASSWORD
    ) -> Path:
        section = '[aspace2alma]\ntarget = "drop"'
        if barcode_set is not None:
            section += f'\nbarcode_set = "{barcode_set}"'
        self.config.write_text(
            f'[alma.{AB}]\nurl = "{self.alma_url}"\napikey = "{KEY}"\n'
            "rate_limit_per_second = 25\n\n"
            f'[remotes.drop]\nurl = "file://{self.drop}"\n\n'
            f"{section}\n\n"
            f'[aspace2alma.archivesspace]\nurl = "{self.aspace_url}"\nuser = "{USER}"\n'
            f'password = "{password}"\n'
        )
        return self.config

    async def cli(self, *args: str) -> Result:
        """The command in a worker thread: the test's loop keeps serving the fakes."""
        return await asyncio.to_thread(
            runner.invoke,
            app,
            [*args, "--database-url", self.url],
            env={MODULES_VARIABLE: "", "COLUMNS": "200"},
        )

    async def run(self, workflow: str = "aspace2alma", *args: str) -> Result:
        return await self.cli(
            "run", workflow, "--config", str(self.config), "--out", str(self.out), *args
        )


@pytest.fixture
async def site(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Site]:
    """Both fakes under uvicorn on 127.0.0.1, and a deployment around them."""
    made = Site(tmp_path, url, fake_alma(), fake_aspace())
    made.drop.mkdir()
    patched = functools.partial(ExportCollection, sleep=made.sleep)
    monkeypatch.setattr(aspace_wiring, "ExportCollection", patched)
    alma_app = create_fake_alma_app(made.alma.state, made.alma.faults)
    aspace_app = create_fake_archivesspace_app(made.aspace.state, made.aspace.faults)
    async with http_server(alma_app) as alma_url, http_server(aspace_app) as aspace_url:
        made.alma_url, made.aspace_url = alma_url, aspace_url
        made.write_config()
        yield made


async def test_AS6_B1_a_day_s_export_exits_0_and_runs_show_names_its_output(site: Site) -> None:
    (site.drop / MARC_OUT).write_bytes(YESTERDAY)

    result = await site.run("aspace2alma", "--institution", AB)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of aspace2alma: ok - 4 ok, 0 skipped, 0 failed")
    assert call_numbers(collection(site.out / MARC_OUT)) == ["MC001.01", "MC001.02.01"]
    assert files(site.drop) == [MARC_OUT, MARC_OUT_OLD]  # rule AS1, AS6
    assert (site.drop / MARC_OUT).read_bytes() == (site.out / MARC_OUT).read_bytes()
    assert (site.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY
    assert KEY not in result.output
    assert PASSWORD not in result.output
    # The real HTTP adapter logged in once, over the network.
    assert site.aspace.state.call_log.logins() == 1
    [listed] = json.loads((await site.cli("runs", "--json")).stdout)
    assert (listed["id"], listed["workflow"], listed["status"]) == (1, "aspace2alma", "ok")
    shown = await site.cli("runs", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert f"output {MARC_OUT}" in shown.stdout


async def test_AS2_B2_a_resource_lost_four_times_makes_the_run_partial_exit_1_and_runs_show_it(
    site: Site,
) -> None:
    # Under uvicorn a reset drops the connection mid-answer.
    site.aspace.faults.reset(REPO, 1511, count=4, endpoint="marc21")

    result = await site.run("aspace2alma", "--institution", AB)

    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("run 1 of aspace2alma: partial - 3 ok, 0 skipped, 1 failed")
    failure = "resource /repositories/3/resources/1511: ArchivesSpace unavailable after 4 tries"
    assert f"failed: {failure}" in result.stdout
    assert site.sleep.waits == [1.0, 2.0, 3.0]
    assert call_numbers(collection(site.drop / MARC_OUT)) == ["MC001.02.01"]  # uploaded anyway
    shown = await site.cli("runs", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert "partial" in shown.stdout
    assert "/repositories/3/resources/1511" in shown.stdout
    assert "ArchivesSpace unavailable after 4 tries" in shown.stdout
    document = json.loads((await site.cli("runs", "show", "1", "--json")).stdout)
    assert document["status"] == "partial"
    [listed] = document["failures"]
    assert (listed["kind"], listed["key"]) == ("resource", "/repositories/3/resources/1511")
    assert listed["reason"].startswith("ArchivesSpace unavailable after 4 tries: ")


async def test_AS2_B2_a_wrong_password_fails_the_run_exit_1_in_one_sentence(site: Site) -> None:
    (site.drop / MARC_OUT).write_bytes(YESTERDAY)
    site.write_config(password="not-the-password")

    result = await site.run("aspace2alma", "--institution", AB)

    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("run 1 of aspace2alma: failed")
    [reason] = [line for line in result.stdout.splitlines() if line.startswith("reason: ")]
    assert reason.startswith("reason: ArchivesSpace cannot be read: ")
    assert "not-the-password" not in result.output
    assert "Traceback" not in result.output
    # Nothing uploaded; yesterday's file rotated away first (AS1).
    assert files(site.drop) == [MARC_OUT_OLD]
    assert MARC_OUT not in files(site.out)


@pytest.mark.parametrize(
    ("args", "barcode_set", "named"),
    [
        pytest.param(["--institution", AB], None, "aspace2alma.barcode_set", id="no-barcode-set"),
        pytest.param(["--institution", "01XXX_NOPE"], BARCODE_SET, "01XXX_NOPE", id="unknown"),
        pytest.param([], BARCODE_SET, "--institution", id="no-institution"),
    ],
)
async def test_B2_B9_usage_and_configuration_errors_exit_2_naming_the_key(
    site: Site, args: list[str], barcode_set: str | None, named: str
) -> None:
    site.write_config(barcode_set=barcode_set)

    result = await site.run("aspace2alma", *args)

    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
    # Nothing ran: no run, no call, the drop folder untouched.
    assert json.loads((await site.cli("runs", "--json")).stdout) == []
    assert len(site.aspace.state.call_log) == 0
    assert files(site.drop) == []


async def test_AS1_remove_stale_exits_0_and_removes_MARC_out_only(site: Site) -> None:
    site.drop.joinpath(MARC_OUT).write_bytes(YESTERDAY)
    site.drop.joinpath(MARC_OUT_OLD).write_bytes(b"older")

    result = await site.run("aspace2alma-remove-stale")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of aspace2alma-remove-stale: ok - 1 ok")
    assert files(site.drop) == [MARC_OUT_OLD]
    assert len(site.aspace.state.call_log) == 0
