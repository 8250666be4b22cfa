"""The `ledger-retention` workflow's entry (rule P2): its options and how it is built.

The age limit is the top-level `ledger_retention_days` of the workflows configuration (default
400), or `--days N`. It is the workflows file's key, not the service's `conf.json`: the events
live in the ledger that `almabridge run` and its `[schedules]` share with the service, the run is
started and scheduled from the workflows file like `cleanup`, and `conf.json` stays the Java
app's format (rule K1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from application.shared.ledger_records import JsonValue
from application.shared.ledger_retention import (
    DEFAULT_LEDGER_RETENTION_DAYS,
    LEDGER_RETENTION,
    LedgerRetention,
)
from application.shared.run_context import Workflow
from entrypoints.workflow_entries import (
    WorkflowArguments,
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
)

__all__ = ["LEDGER_RETENTION_ENTRY"]

_KEY = "ledger_retention_days"


def _days(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WorkflowUsageError(f"{where} must be a whole number of days, 1 or more")
    return value


def _options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(LEDGER_RETENTION)
    parser.add_argument("--days", type=int, default=None)
    given = vars(parser.parse_args(list(args)))
    if given["days"] is not None:
        return {"retention_days": _days(given["days"], "--days")}
    configured = setup.config.get(_KEY, DEFAULT_LEDGER_RETENTION_DAYS)
    return {"retention_days": _days(configured, _KEY)}


def _build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
    days = options.get("retention_days")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise WorkflowUsageError("ledger-retention: the run's options hold no retention_days")
    return LedgerRetention(days)


LEDGER_RETENTION_ENTRY = WorkflowEntry(
    name=LEDGER_RETENTION,
    summary=(
        f"remove ledger events older than ledger_retention_days (default "
        f"{DEFAULT_LEDGER_RETENTION_DAYS}); mirrors and forwarded requests stay (P2)"
    ),
    options=_options,
    build=_build,
    usage=(
        f"[--days N]; default: ledger_retention_days of --config, else "
        f"{DEFAULT_LEDGER_RETENTION_DAYS} days"
    ),
)
