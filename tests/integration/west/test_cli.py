"""`almabridge run west-holdings` as operators run it (rules B1, B2, B5, B8, B9): the fake Alma
on a real port, a workflows file, a migrated ledger (SQLite, PostgreSQL); exit codes 0, 1, 2."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.fake_alma.seed import state_from_file
from adapters.ledger.migrate import upgrade
from entrypoints.cli import app
from entrypoints.workflow_registry import MODULES_VARIABLE
from tests.integration.cli.support import fake_alma_server
from tests.integration.ledger.support import database
from tests.integration.west.support import AB, KEY, Catalog, outputs, report_lines, seed_catalog

runner = CliRunner()
UNKNOWN = "990000000000004101"


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


@pytest.fixture
def alma(tmp_path: Path) -> Iterator[tuple[str, Catalog]]:
    """The fake Alma under uvicorn, seeded with the WEST catalogue; its URL and catalogue."""
    state = state_from_file()
    catalog = seed_catalog(state)
    with fake_alma_server(state) as served:
        yield served, catalog


def _config(tmp_path: Path, gateway: str) -> Path:
    path = tmp_path / "workflows.toml"
    path.write_text(
        f'[alma.{AB}]\nurl = "{gateway}"\napikey = "{KEY}"\nrate_limit_per_second = 25\n\n'
        '[west_holdings]\nprefix = "wau"\n'
    )
    return path


def _cli(url: str, *args: str) -> Result:
    return runner.invoke(
        app, [*args, "--database-url", url], env={MODULES_VARIABLE: "", "COLUMNS": "200"}
    )


def _ids(tmp_path: Path, ids: list[str]) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{mms_id}\n" for mms_id in ids))
    return path


def test_B1_B2_an_export_with_only_skips_exits_0_and_names_its_outputs(
    url: str, alma: tuple[str, Catalog], tmp_path: Path
) -> None:
    gateway, catalog = alma
    config, out = _config(tmp_path, gateway), tmp_path / "west"

    result = _cli(
        url, "run", "west-holdings", "--config", str(config), "--institution", AB,
        "--ids", str(_ids(tmp_path, catalog.ids)), "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of west-holdings: ok - 8 ok, 3 skipped, 0 failed")
    files = sorted(p.name for p in out.iterdir())
    assert [f"output: {name} sha256" in result.stdout for name in files] == [True] * 3
    assert KEY not in result.output


def test_B2_a_failed_record_exits_1_and_resume_reuses_the_run_s_options(
    url: str, alma: tuple[str, Catalog], tmp_path: Path
) -> None:
    gateway, catalog = alma
    config, out = _config(tmp_path, gateway), tmp_path / "west"
    ids = _ids(tmp_path, [UNKNOWN, *catalog.ids])

    result = _cli(
        url, "run", "west-holdings", "--config", str(config), "--institution", AB,
        "--ids", str(ids), "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "partial - 8 ok, 3 skipped, 1 failed" in result.stdout
    assert f"failed: mms_id {UNKNOWN}: MMS id {UNKNOWN}: not in Alma" in result.stdout

    # B5: the resumed run asks Alma again only for the failed id, writes the same outputs.
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = _cli(url, "run", "west-holdings", "--config", str(config), "--resume", "1")
    assert again.exit_code == 1, again.output
    assert "partial - 0 ok, 0 skipped, 1 failed (resumes run 1)" in again.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    [_, *rows] = report_lines(outputs(out, "wau", sorted(before)[0].split(".")[3])[2])
    assert rows[0] == [UNKNOWN, "", "failed", "not in Alma"]


def test_B2_B9_an_institution_the_file_does_not_define_exits_2_naming_it(
    url: str, alma: tuple[str, Catalog], tmp_path: Path
) -> None:
    gateway, catalog = alma

    result = _cli(
        url, "run", "west-holdings", "--config", str(_config(tmp_path, gateway)),
        "--institution", "01ZZZ_XX", "--ids", str(_ids(tmp_path, catalog.ids)),
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "--institution 01ZZZ_XX: no [alma.01ZZZ_XX] table" in result.output
    assert "Traceback" not in result.output


def test_B2_a_missing_input_file_exits_2_naming_the_flag_and_path(
    url: str, alma: tuple[str, Catalog], tmp_path: Path
) -> None:
    gateway, _ = alma
    missing = tmp_path / "nowhere.mrc"

    result = _cli(
        url, "run", "west-holdings", "--config", str(_config(tmp_path, gateway)),
        "--institution", AB, "--mrc", str(missing),
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert f"--mrc {missing}: no such file" in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ((), "one of --mrc FILE, --marcxml FILE, --ids FILE or --set ID is required"),
        (("--set", "1", "--ids", "x.txt"), "not allowed with argument"),
    ],
)
def test_B2_one_source_exactly_else_exit_2(
    url: str, alma: tuple[str, Catalog], tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    gateway, _ = alma

    result = _cli(
        url, "run", "west-holdings", "--config", str(_config(tmp_path, gateway)),
        "--institution", AB, *args,
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert said in result.output
