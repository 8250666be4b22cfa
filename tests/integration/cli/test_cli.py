"""The `almabridge` command line as an operator uses it: exit codes, messages, --help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrypoints.cli import app

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_K1_config_check_summarises_the_java_conf_json(shared_reference: Path) -> None:
    code, output = _run("config", "check", str(shared_reference / "scf-java-app" / "conf.json"))
    assert code == 0, output
    assert "institution 01AAA_AB (member): publishing job S987654321" in output
    assert "requests job S987654321" in output  # 01AAA_CD's requests job
    assert "library CDRS: remote storage rs_shared_1, rs_shared_2, rs_shared_3" in output
    assert "l8xx" not in output  # API keys are never printed


def test_K1_the_history_variant_with_the_scf_listed_among_institutions_loads(
    shared_reference: Path,
) -> None:
    path = shared_reference / "scf-java-app" / "history" / "2019-10-24_52da4e2" / "conf.json"
    code, output = _run("config", "check", str(path))
    assert code == 0, output
    assert "01AAA_RS" in output


def test_K2_a_wrong_key_exits_2_naming_the_key_and_institution(
    shared_reference: Path, tmp_path: Path
) -> None:
    document = json.loads((shared_reference / "scf-java-app" / "conf.json").read_text())
    library = document["institutions"][1]["libraries"][0]
    library["circ_desk"] = library.pop("circ_desc")
    path = tmp_path / "conf.json"
    path.write_text(json.dumps(document))
    code, output = _run("config", "check", str(path))
    assert code == 2
    assert "institutions[1] (01AAA_CD).libraries[0].circ_desk: unknown key" in output
    assert "institutions[1] (01AAA_CD).libraries[0].circ_desc: missing" in output


def test_config_check_of_a_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    code, output = _run("config", "check", str(tmp_path / "nowhere.json"))
    assert code == 2
    assert "nowhere.json" in output


def test_db_upgrade_then_status_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    code, output = _run("db", "status", "--database-url", url)
    assert code == 1
    assert "almabridge db upgrade" in output
    code, output = _run("db", "upgrade", "--database-url", url)
    assert code == 0, output
    assert "(current)" in output
    code, output = _run("db", "upgrade", "--database-url", url)  # idempotent
    assert code == 0, output
    code, output = _run("db", "status", env={"ALMABRIDGE_DATABASE_URL": url})
    assert code == 0, output
    assert "(current)" in output


def test_db_upgrade_refuses_an_unusable_url_with_exit_2_and_no_password() -> None:
    code, output = _run("db", "upgrade", "--database-url", "mysql://bridge:hunter2@db/ledger")
    assert code == 2
    assert "hunter2" not in output
    assert "sqlite:///PATH" in output


@pytest.mark.parametrize(
    "command",
    [(), ("db",), ("db", "upgrade"), ("db", "status"), ("config",), ("config", "check")],
)
def test_every_command_has_help_with_examples_or_a_description(command: tuple[str, ...]) -> None:
    code, output = _run(*command, "--help")
    assert code == 0
    assert "Usage:" in output


def test_fake_alma_has_help_with_an_example() -> None:
    code, output = _run("fake-alma", "--help")
    assert code == 0
    assert "item_barcode=AB0001" in output


def test_fake_alma_with_a_missing_seed_exits_2_naming_it(tmp_path: Path) -> None:
    code, output = _run("fake-alma", "--seed", str(tmp_path / "no-seed.json"))
    assert code == 2
    assert "no-seed.json" in output
