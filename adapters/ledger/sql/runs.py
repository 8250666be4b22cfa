"""Batch runs and their records in SQL (rules B1, B5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, column, select, table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from adapters.ledger.sql.support import require_aware, upsert_insert
from adapters.ledger.tables import job_runs, run_records
from application.ports.clock import Clock
from application.shared.ledger_records import JsonObject, JsonValue, LedgerRecordNotFound
from application.shared.run_records import (
    FileDigest,
    FileRole,
    JobRun,
    RecordEntry,
    RecordOutcome,
    RunCounts,
    RunDetail,
    RunRecord,
    RunStatus,
    RunTrigger,
)

# Which counter column of job_runs holds each outcome.
_COUNTER = {
    RecordOutcome.OK: "records_ok",
    RecordOutcome.SKIPPED: "records_skipped",
    RecordOutcome.FAILED: "records_failed",
}
_FILES = {FileRole.INPUT: "inputs", FileRole.OUTPUT: "outputs"}
_CHUNK = 500
"""Keys per query of `record_many`'s earlier outcomes: well under SQLite's 999 bound parameters
of old."""
_RECORDS_UNTYPED = table(
    run_records.name, *(column(c.name) for c in run_records.c if c.name != "id")
)
"""`run_records` without its column types: `record_many` binds values already made ready."""
_RECORD_COLUMNS = ("run_id", "kind", "key", "outcome", "reason", "detail", "recorded_at")
_UPSERTS: dict[tuple[str, str], tuple[str, bool]] = {}


def _upsert_records(dialect: Dialect) -> tuple[str, bool]:
    """The upsert of one `run_records` row as the dialect's driver takes it, compiled once per
    dialect and driver, and whether it binds the values by position (in `_RECORD_COLUMNS`
    order) or by column name."""
    known = _UPSERTS.get((dialect.name, dialect.driver))
    if known is None:
        insert = (
            postgresql.insert(_RECORDS_UNTYPED)
            if dialect.name == "postgresql"
            else sqlite.insert(_RECORDS_UNTYPED)
        )
        statement = insert.on_conflict_do_update(
            index_elements=["run_id", "kind", "key"],
            set_={
                column: insert.excluded[column]
                for column in ("outcome", "reason", "detail", "recorded_at")
            },
        )
        compiled = statement.compile(dialect=dialect, column_keys=list(_RECORD_COLUMNS))
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        if tuple(names or ()) != _RECORD_COLUMNS:
            raise RuntimeError(f"the {dialect.name} upsert does not bind a record's columns")
        known = _UPSERTS[(dialect.name, dialect.driver)] = (str(compiled), compiled.positional)
    return known


class _Ready:
    """Values made ready for the database by their `run_records` column's own type, as a
    statement on the typed table would make each of them."""

    def __init__(self, dialect: Dialect) -> None:
        self._time = _processor(run_records.c.recorded_at.type, dialect)
        self._detail = _processor(run_records.c.detail.type, dialect)
        self._outcome = _processor(run_records.c.outcome.type, dialect)

    def time(self, value: datetime) -> Any:
        return self._time(value)

    def detail(self, value: JsonObject) -> Any:
        return self._detail(value)

    def outcome(self, value: RecordOutcome) -> Any:
        return self._outcome(value.value)


def _processor(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    process = kind.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: Any) -> Any:
    return value


class SqlRunRepository:
    """Batch runs and their records in SQL (rules B1, B5)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def start_run(
        self,
        workflow: str,
        trigger: RunTrigger,
        *,
        options: Mapping[str, JsonValue] | None = None,
        dry_run: bool = False,
        out_dir: str | None = None,
        resumed_from: int | None = None,
    ) -> JobRun:
        """Write a new run, `running` from the clock's now, with no records yet."""
        if resumed_from is not None and await self.get_run(resumed_from) is None:
            # Said plainly, before the foreign key refuses it in the driver's words.
            raise LedgerRecordNotFound(f"no run with id {resumed_from}")
        statement = (
            job_runs.insert()
            .values(
                workflow=workflow,
                trigger=RunTrigger(trigger).value,
                started=self._clock.now(),
                ended=None,
                status=RunStatus.RUNNING.value,
                records_ok=0,
                records_skipped=0,
                records_failed=0,
                options=dict(options or {}),
                inputs=[],
                outputs=[],
                dry_run=dry_run,
                out_dir=out_dir,
                resumed_from=resumed_from,
                reason=None,
            )
            .returning(*job_runs.c)
        )
        return job_run((await self._conn.execute(statement)).one())

    async def record(
        self,
        run_id: int,
        kind: str,
        key: str,
        outcome: RecordOutcome,
        reason: str,
        detail: JsonObject | None = None,
    ) -> RunRecord:
        """Record how one record ended and keep the run's counts (idempotent per key)."""
        outcome = RecordOutcome(outcome)
        # The run's row is locked first, so two writers of one key cannot both count it.
        await self._locked_run(run_id)
        same_key = (
            (run_records.c.run_id == run_id)
            & (run_records.c.kind == kind)
            & (run_records.c.key == key)
        )
        previous = (
            await self._conn.execute(select(run_records.c.outcome).where(same_key))
        ).scalar_one_or_none()
        values = {
            "outcome": outcome.value,
            "reason": reason,
            "detail": dict(detail or {}),
            "recorded_at": self._clock.now(),
        }
        statement = (
            upsert_insert(self._conn, run_records)
            .values(run_id=run_id, kind=kind, key=key, **values)
            .on_conflict_do_update(index_elements=["run_id", "kind", "key"], set_=values)
            .returning(*run_records.c)
        )
        row = (await self._conn.execute(statement)).one()
        changes: dict[str, Any] = {}
        if previous != outcome.value:
            counter = _COUNTER[outcome]
            changes[counter] = job_runs.c[counter] + 1
            if previous is not None:
                earlier = _COUNTER[RecordOutcome(previous)]
                changes[earlier] = job_runs.c[earlier] - 1
            await self._conn.execute(
                update(job_runs).where(job_runs.c.id == run_id).values(**changes)
            )
        return run_record(row)

    async def record_many(self, run_id: int, kind: str, entries: Sequence[RecordEntry]) -> None:
        """Many records of one kind: the earlier outcomes read in chunks, the rows upserted in
        one statement, the run's counts updated once (the same result as `record` of each in
        turn).

        The rows go to the driver as it takes them, in one ``executemany`` of the upsert
        compiled once for the dialect (`_upsert_records`): each value is made ready by its
        column's own type once (the time, an empty detail) or once per row (a detail), so that
        a million rows do not pay for the same conversion, and for SQLAlchemy's handling of
        each row's parameters, a million times."""
        latest = {entry.key: entry for entry in entries}  # a key given twice: its last entry
        if not latest:
            return
        await self._locked_run(run_id)
        ready = _Ready(self._conn.dialect)
        now = ready.time(self._clock.now())
        no_detail = ready.detail({})
        outcomes = {outcome: ready.outcome(outcome) for outcome in RecordOutcome}
        changes: Counter[str] = Counter()
        keys = list(latest)
        earlier: dict[str, str] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            found = await self._conn.execute(
                select(run_records.c.key, run_records.c.outcome).where(
                    (run_records.c.run_id == run_id)
                    & (run_records.c.kind == kind)
                    & run_records.c.key.in_(chunk)
                )
            )
            earlier.update((key, outcome) for key, outcome in found)
        rows: list[tuple[Any, ...]] = []
        for key, entry in latest.items():
            outcome = RecordOutcome(entry.outcome)
            previous = earlier.get(key)
            if previous != outcome.value:
                changes[_COUNTER[outcome]] += 1
                if previous is not None:
                    changes[_COUNTER[RecordOutcome(previous)]] -= 1
            detail = ready.detail(dict(entry.detail)) if entry.detail else no_detail
            rows.append((run_id, kind, key, outcomes[outcome], entry.reason, detail, now))
        sql, positional = _upsert_records(self._conn.dialect)
        if positional:
            await self._conn.exec_driver_sql(sql, rows)
        else:
            named = [dict(zip(_RECORD_COLUMNS, row, strict=True)) for row in rows]
            await self._conn.exec_driver_sql(sql, named)
        if any(changes.values()):
            await self._conn.execute(
                update(job_runs)
                .where(job_runs.c.id == run_id)
                .values({name: job_runs.c[name] + n for name, n in changes.items() if n})
            )

    async def add_file(self, run_id: int, role: FileRole, digest: FileDigest) -> JobRun:
        """Name an input or output of the run with its sha256; a name given again is replaced."""
        column = _FILES[FileRole(role)]
        current = await self._locked_run(run_id)
        listed: list[dict[str, str]] = current._mapping[column]
        files = [entry for entry in listed if entry["name"] != digest.name]
        files.append({"name": digest.name, "sha256": digest.sha256})
        statement = (
            update(job_runs)
            .where(job_runs.c.id == run_id)
            .values({column: files})
            .returning(*job_runs.c)
        )
        return job_run((await self._conn.execute(statement)).one())

    async def finish_run(
        self, run_id: int, status: RunStatus, *, reason: str | None = None
    ) -> JobRun:
        """End the run with a final status (not `running`) at the clock's now."""
        if RunStatus(status) is RunStatus.RUNNING:
            raise ValueError("a run finishes as ok, partial or failed, not running")
        statement = (
            update(job_runs)
            .where(job_runs.c.id == run_id)
            .values(status=RunStatus(status).value, ended=self._clock.now(), reason=reason)
            .returning(*job_runs.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        if row is None:
            raise LedgerRecordNotFound(f"no run with id {run_id}")
        return job_run(row)

    async def get_run(self, run_id: int) -> JobRun | None:
        """The run with this id, if any."""
        row = (
            await self._conn.execute(select(job_runs).where(job_runs.c.id == run_id))
        ).one_or_none()
        return None if row is None else job_run(row)

    async def records_of(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> list[RunRecord]:
        """The run's records (with these outcomes), in the order first recorded."""
        return await self._records(run_id, outcomes, limit=None)

    async def recorded_keys(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> set[tuple[str, str]]:
        """The (kind, key) pairs the run recorded (with these outcomes): what a resume skips."""
        query = select(run_records.c.kind, run_records.c.key).where(run_records.c.run_id == run_id)
        if outcomes is not None:
            query = query.where(run_records.c.outcome.in_(_values(outcomes)))
        return {(kind, key) for kind, key in await self._conn.execute(query)}

    async def list_runs(
        self, *, workflow: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[JobRun]:
        """Runs (of one workflow), newest start first."""
        query = select(job_runs)
        if workflow is not None:
            query = query.where(job_runs.c.workflow == workflow)
        query = (
            query.order_by(job_runs.c.started.desc(), job_runs.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [job_run(row) for row in await self._conn.execute(query)]

    async def run_with_failures(self, run_id: int, *, limit: int = 100) -> RunDetail | None:
        """The run and its first `limit` failed records, None when there is no such run."""
        run = await self.get_run(run_id)
        if run is None:
            return None
        failures = await self._records(run_id, [RecordOutcome.FAILED], limit=limit)
        return RunDetail(run=run, failures=tuple(failures))

    async def failed_records(
        self,
        workflow: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[RunRecord]:
        """Failed records of a workflow's runs recorded since (inclusive) until (exclusive),
        oldest first."""
        query = (
            select(run_records)
            .join(job_runs, job_runs.c.id == run_records.c.run_id)
            .where(
                job_runs.c.workflow == workflow,
                run_records.c.outcome == RecordOutcome.FAILED.value,
            )
        )
        if since is not None:
            require_aware(since, "since")
            query = query.where(run_records.c.recorded_at >= since)
        if until is not None:
            require_aware(until, "until")
            query = query.where(run_records.c.recorded_at < until)
        query = query.order_by(run_records.c.recorded_at, run_records.c.id).limit(limit)
        return [run_record(row) for row in await self._conn.execute(query)]

    async def _locked_run(self, run_id: int) -> Row[Any]:
        # FOR UPDATE on PostgreSQL; SQLite drops it, its BEGIN IMMEDIATE already serialises.
        query = select(job_runs).where(job_runs.c.id == run_id).with_for_update()
        row = (await self._conn.execute(query)).one_or_none()
        if row is None:
            raise LedgerRecordNotFound(f"no run with id {run_id}")
        return row

    async def _records(
        self, run_id: int, outcomes: Collection[RecordOutcome] | None, *, limit: int | None
    ) -> list[RunRecord]:
        query = select(run_records).where(run_records.c.run_id == run_id)
        if outcomes is not None:
            query = query.where(run_records.c.outcome.in_(_values(outcomes)))
        query = query.order_by(run_records.c.id).limit(limit)
        return [run_record(row) for row in await self._conn.execute(query)]


def _values(outcomes: Collection[RecordOutcome]) -> list[str]:
    return [RecordOutcome(outcome).value for outcome in outcomes]


def _digests(entries: list[dict[str, str]]) -> tuple[FileDigest, ...]:
    return tuple(FileDigest(name=entry["name"], sha256=entry["sha256"]) for entry in entries)


def job_run(row: Row[Any]) -> JobRun:
    """A job_runs row as a record."""
    return JobRun(
        id=row.id,
        workflow=row.workflow,
        trigger=RunTrigger(row.trigger),
        status=RunStatus(row.status),
        started=row.started,
        ended=row.ended,
        counts=RunCounts(ok=row.records_ok, skipped=row.records_skipped, failed=row.records_failed),
        options=row.options,
        inputs=_digests(row.inputs),
        outputs=_digests(row.outputs),
        dry_run=bool(row.dry_run),
        out_dir=row.out_dir,
        resumed_from=row.resumed_from,
        reason=row.reason,
    )


def run_record(row: Row[Any]) -> RunRecord:
    """A run_records row as a record."""
    return RunRecord(
        run_id=row.run_id,
        kind=row.kind,
        key=row.key,
        outcome=RecordOutcome(row.outcome),
        reason=row.reason,
        detail=row.detail,
        recorded_at=row.recorded_at,
    )
