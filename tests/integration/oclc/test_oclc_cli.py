"""`almabridge run oclc-sync` as operators run it (rules O1–O8, B1, B2, B5, B8, B9): the fake Alma
on a real port, a workflows file, a migrated ledger (SQLite, PostgreSQL); exit codes 0, 1, 2."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.migrate import upgrade
from domain.oclc.doublecheck import HEADINGS
from entrypoints.cli import app
from entrypoints.workflow_registry import MODULES_VARIABLE
from tests.integration.cli.support import fake_alma_server
from tests.integration.ledger.support import database
from tests.integration.oclc.support import (
    CEF,
    COLUMN_ORDER,
    DO_NOT_CHANGE,
    KEY,
    MANUAL,
    MISALIGNED,
    NZ,
    PATH,
    UWO,
    export_rows,
)

runner = CliRunner()
REPORTS = ("--report", str(CEF), "--report", str(UWO), "--do-not-change", str(DO_NOT_CHANGE))


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
def alma() -> Iterator[tuple[str, FakeAlmaState]]:
    """The fake Alma under uvicorn, its NZ's Analytics serving the manual export in pages of
    25, columns in another order, empty cells left out; its URL and state."""
    state = state_from_file()
    state.add_report(
        NZ, PATH, HEADINGS, export_rows(), page_size=25, column_order=COLUMN_ORDER, omit_empty=True
    )
    with fake_alma_server(state) as served:
        yield served, state


def _config(tmp_path: Path, gateway: str, oclc: str = "") -> Path:
    path = tmp_path / "workflows.toml"
    path.write_text(
        f'[alma.{NZ}]\nurl = "{gateway}"\napikey = "{KEY}"\nrate_limit_per_second = 25\n\n'
        f'[oclc_sync]\nnz_suffix = "5151"\n{oclc}'
    )
    return path


def _cli(url: str, *args: str) -> Result:
    return runner.invoke(
        app, [*args, "--database-url", url], env={MODULES_VARIABLE: "", "COLUMNS": "200"}
    )


def test_O1_O7_B1_the_reference_run_exits_0_and_names_its_eight_outputs(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, _ = alma
    config, out = _config(tmp_path, gateway), tmp_path / "oclc"

    result = _cli(
        url, "run", "oclc-sync", "--config", str(config), *REPORTS,
        "--doublecheck", str(MANUAL), "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("run 1 of oclc-sync: ok - 2264 ok, 20 skipped, 0 failed")
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 8
    assert all(f"output: {name} sha256" in result.stdout for name in files)
    assert "conflict 991523164305151: CEF vs UWO (Incoming 035a and Action differ)" in (
        result.stderr
    )
    assert "left by hand in Alma: an itemized set of all titles" in result.stderr


def test_O5_O8_the_nz_analytics_and_a_set_over_http_exit_0(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, state = alma
    config, out = _config(tmp_path, gateway), tmp_path / "oclc"

    result = _cli(
        url, "run", "oclc-sync", "--config", str(config), *REPORTS,
        "--analytics-institution", NZ, "--create-set", "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "ok - 2265 ok, 20 skipped, 0 failed" in result.stdout  # and the nz_set record
    [made] = state.sets_named(NZ, "almabridge oclc-sync run 1 ")
    ids = (out / "a_to_z_MMSid_for_set.txt").read_text().splitlines()[1:]
    assert [member["id"] for member in made.members] == ids
    assert f'run the job "Move OCLC 035 $a to $z" on set {made.set_id}' in result.stderr
    assert KEY not in result.output


def test_O8_B8_a_dry_run_makes_no_set(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, state = alma

    result = _cli(
        url, "run", "oclc-sync", "--config", str(_config(tmp_path, gateway)), *REPORTS,
        "--analytics-institution", NZ, "--create-set", "--dry-run", "--out", str(tmp_path / "o"),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "ok (dry run)" in result.stdout
    assert state.sets_named(NZ, "almabridge") == []


def test_O5_B2_the_misaligned_export_fails_the_run_exit_1(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, _ = alma

    result = _cli(
        url, "run", "oclc-sync", "--config", str(_config(tmp_path, gateway)), *REPORTS,
        "--doublecheck", str(MISALIGNED), "--out", str(tmp_path / "o"),
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "run 1 of oclc-sync: failed" in result.stdout
    assert f"reason: {MISALIGNED} is refused because its columns do not line up: " in (
        result.stdout
    )
    assert "'OCLC Control Number (035z)'" in result.stdout
    assert "Traceback" not in result.output


def test_O1_B2_B5_a_skipped_line_exits_1_and_resume_reuses_the_run_s_options(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, _ = alma
    report = tmp_path / "CEF.txt"
    report.write_bytes(CEF.read_bytes() + b"CEF_1::bib::1|991|1|match\n")
    config, out = _config(tmp_path, gateway), tmp_path / "o"
    line = len(CEF.read_bytes().splitlines()) + 1

    result = _cli(
        url, "run", "oclc-sync", "--config", str(config), "--report", str(report),
        "--report", str(UWO), "--doublecheck", str(MANUAL), "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "partial - 2264 ok, 20 skipped, 1 failed" in result.stdout
    assert f"failed: line CEF.txt:{line}: line skipped: 4 columns" in result.stdout
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = _cli(url, "run", "oclc-sync", "--config", str(config), "--resume", "1")
    assert again.exit_code == 1, again.output
    assert "(resumes run 1)" in again.stdout
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_O5_B2_an_analytics_path_that_does_not_exist_exits_1(
    url: str, alma: tuple[str, FakeAlmaState], tmp_path: Path
) -> None:
    gateway, _ = alma
    config = _config(tmp_path, gateway, 'analytics_path = "/shared/nowhere"\n')

    result = _cli(
        url, "run", "oclc-sync", "--config", str(config), *REPORTS,
        "--analytics-institution", NZ, "--out", str(tmp_path / "o"),
    )  # fmt: skip

    assert result.exit_code == 1, result.output
    assert "Path not found (/shared/nowhere)" in result.stdout


@pytest.mark.parametrize(
    ("args", "oclc", "said"),
    [
        ((), "", "--report FILE is required"),
        (("--report", "{tmp}/nowhere.txt"), "", "--report {tmp}/nowhere.txt: no such file"),
        (
            ("--report", str(CEF), "--doublecheck", "{tmp}/gone.xlsx"),
            "",
            "--doublecheck {tmp}/gone.xlsx: no such file",
        ),
        (
            ("--report", str(CEF), "--do-not-change", "{tmp}/gone.xlsx"),
            "",
            "--do-not-change {tmp}/gone.xlsx: no such file",
        ),
        (("--report", str(CEF), "--report", str(CEF)), "", f"{CEF} is given twice"),
        (
            ("--report", str(CEF), "--analytics-institution", "01ZZZ_XX"),
            "",
            "--analytics-institution 01ZZZ_XX: no [alma.01ZZZ_XX] table",
        ),
        (
            ("--report", str(CEF), "--doublecheck", str(MANUAL), "--analytics-institution", NZ),
            "",
            "not allowed with argument",
        ),
        (
            ("--report", str(CEF), "--doublecheck", str(MANUAL), "--create-set"),
            "",
            "--create-set needs --analytics-institution CODE",
        ),
        (
            ("--report", str(CEF), "--analytics-institution", NZ, "--run-job"),
            'normalize_job_id = "M9001"\n',
            "--run-job needs --create-set",
        ),
        (
            ("--report", str(CEF), "--analytics-institution", NZ, "--create-set", "--run-job"),
            "",
            "--run-job needs [oclc_sync] normalize_job_id",
        ),
        (("--report", str(CEF)), "job_poll_seconds = 0\n", "oclc_sync.job_poll_seconds"),
        (
            ("--report", str(CEF)),
            'institutions = [{name = "NZ", id = "5151", code = "NZX"}]\n',
            "oclc_sync.institutions (inline): entry 1 (NZX) has the Network Zone's suffix 5151",
        ),
    ],
    ids=[
        "no report",
        "report missing",
        "doublecheck missing",
        "do-not-change missing",
        "report twice",
        "unknown institution",
        "two doublecheck sources",
        "set without the NZ",
        "job without the set",
        "job without its id",
        "poll of 0 s",
        "institution with the NZ's suffix",
    ],
)
def test_B2_B9_usage_and_configuration_errors_exit_2_naming_the_flag_or_key(
    url: str,
    alma: tuple[str, FakeAlmaState],
    tmp_path: Path,
    args: tuple[str, ...],
    oclc: str,
    said: str,
) -> None:
    gateway, _ = alma
    given = [arg.replace("{tmp}", str(tmp_path)) for arg in args]

    result = _cli(
        url, "run", "oclc-sync", "--config", str(_config(tmp_path, gateway, oclc)), *given
    )

    assert result.exit_code == 2, result.output
    assert said.replace("{tmp}", str(tmp_path)) in result.output
    assert "Traceback" not in result.output


def test_O7_O8_help_explains_each_output_and_the_manual_alma_steps() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "300"})

    assert result.exit_code == 0, result.output
    text = "".join(result.output.split())  # help wraps lines, at hyphens too
    for said in (
        "almabridge run oclc-sync --config FILE --report FILE --report FILE",
        "bibprocessmerged.csv",
        "comparison_file_IZ.xlsx",
        "NZ-OCLC-Identifier-report_YYYY-MM-DD.xlsx",
        "build an itemized set of all titles from a_to_z_MMSid_for_set.txt",
        'run the job "Move OCLC 035 $a to $z" on it',
        'import for_import_to_NZ.xlsx with the import profile "OCLC number (035) import - From '
        'XLS"',
        "--create-set makes the set",
    ):
        assert "".join(said.split()) in text, said
