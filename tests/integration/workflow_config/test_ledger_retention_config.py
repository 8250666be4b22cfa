"""Rule P2's `ledger_retention_days`: a top-level key of the workflows file, default 400, and the
`ledger-retention` run schedulable in `[schedules]`."""

from __future__ import annotations

from application.shared.workflow_settings import DEFAULT_LEDGER_RETENTION_DAYS
from tests.integration.workflow_config.support import load, problems


def test_P2_ledger_retention_days_defaults_to_400() -> None:
    assert DEFAULT_LEDGER_RETENTION_DAYS == 400
    assert load("").ledger_retention_days == 400


def test_P2_ledger_retention_days_and_its_schedule_load() -> None:
    settings = load('ledger_retention_days = 30\n\n[schedules]\nledger-retention = "15 3 * * 0"\n')
    assert settings.ledger_retention_days == 30
    assert settings.schedules.crons["ledger-retention"] == "15 3 * * 0"


def test_P2_ledger_retention_days_must_be_a_whole_number_of_days() -> None:
    for value in ("0", "-3", '"400"', "1.5"):
        found = problems(f"ledger_retention_days = {value}\n")
        assert any(problem.startswith("ledger_retention_days: ") for problem in found), found
