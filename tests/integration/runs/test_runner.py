"""JobRunner on every ledger backend: status and counts (B1, B2), secrets kept out (B1, B4),
output folder (B8), resume (B5), one run of a workflow at a time (B1), notifications (B7)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from adapters.notify import MemoryNotifier, Notifications
from application.ports.ledger import Ledger
from application.ports.notify import Notification, NotifyRoute, RunOutcome
from application.ports.runs import WorkflowLock
from application.shared.ledger_records import JsonValue, Outcome
from application.shared.run_context import RunContext, RunProgress
from application.shared.run_notices import NOTIFY_ACTION
from application.shared.run_options import safe_options
from application.shared.run_records import (
    RecordEntry,
    RecordOutcome,
    RunCounts,
    RunStatus,
    RunTrigger,
)
from application.shared.runs import (
    JobRunner,
    RunCrashed,
    RunFailed,
    RunRefused,
    WorkflowBusy,
)
from tests.integration.ledger.support import Backend


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs in the workflow, and the runner does not
    end the run (a BaseException is not the workflow's failure)."""


Step = Callable[[RunContext, str], object]


class Scripted:
    """A workflow recording one record per key, as told by `outcome_of`; can be killed at a
    key, writes `keys.txt` of the keys it (or the run it resumes) did ok."""

    def __init__(
        self,
        keys: Sequence[str],
        outcome_of: Callable[[str], RecordOutcome] = lambda key: RecordOutcome.OK,
        *,
        kill_at: str | None = None,
        name: str = "toy",
    ) -> None:
        self.name = name
        self.keys = keys
        self.outcome_of = outcome_of
        self.kill_at = kill_at
        self.done_here: list[str] = []

    async def run(self, context: RunContext) -> None:
        await context.add_input("keys", "\n".join(self.keys).encode())
        lines = []
        for key in self.keys:
            if key == self.kill_at:
                raise Killed
            earlier = context.earlier("key", key)
            if context.already_done("key", key):
                assert earlier is not None
                lines.append(f"{key} {earlier.detail['length']}")
                continue
            outcome = self.outcome_of(key)
            self.done_here.append(key)
            await context.record("key", key, outcome, f"key {key}: {outcome}", {"length": len(key)})
            if outcome is RecordOutcome.OK:
                lines.append(f"{key} {len(key)}")
        output = context.out_dir / "keys.txt"
        output.write_text("\n".join(lines) + "\n")
        await context.add_output("keys.txt", output)


def _runner(backend: Backend, ledger: Ledger, **kwargs: object) -> JobRunner:
    lock: WorkflowLock = ledger  # type: ignore[assignment]  # both ledgers try locks
    return JobRunner(ledger, backend.clock, lock, **kwargs)  # type: ignore[arg-type]


KEYS = ["991", "992", "993", "994", "995"]


async def test_B2_every_record_ok_ends_the_run_ok(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    result = await _runner(backend, ledger).run(Scripted(KEYS), out_dir=tmp_path / "out")
    run = result.run
    assert (run.status, run.trigger, run.counts) == (RunStatus.OK, RunTrigger.CLI, RunCounts(5))
    assert run.ended == backend.clock.now()
    assert [digest.name for digest in run.inputs] == ["keys"]
    assert [digest.name for digest in run.outputs] == ["keys.txt"]
    assert result.failures == ()


async def test_B2_skipped_records_alone_keep_the_run_ok(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    workflow = Scripted(KEYS, lambda key: RecordOutcome.SKIPPED)
    result = await _runner(backend, ledger).run(workflow, out_dir=tmp_path)
    assert result.run.status is RunStatus.OK
    assert result.run.counts == RunCounts(ok=0, skipped=5, failed=0)


async def test_B2_one_bad_record_makes_the_run_partial_and_the_rest_go_on(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    def outcome(key: str) -> RecordOutcome:
        return RecordOutcome.FAILED if key == "992" else RecordOutcome.OK

    workflow = Scripted(KEYS, outcome)
    result = await _runner(backend, ledger).run(workflow, out_dir=tmp_path)
    assert result.run.status is RunStatus.PARTIAL
    assert result.run.counts == RunCounts(ok=4, skipped=0, failed=1)
    assert workflow.done_here == KEYS
    assert [(r.key, r.reason) for r in result.failures] == [("992", "key 992: failed")]


class MissingInput:
    name = "toy"

    async def run(self, context: RunContext) -> None:
        await context.record("key", "1", RecordOutcome.OK, "done before the input was missed")
        raise RunFailed("no CEM file for 2026-01-01 in campus:leganto_export_20260101*")


async def test_B2_a_missing_input_fails_the_run_with_one_sentence(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    result = await _runner(backend, ledger).run(MissingInput(), out_dir=tmp_path)
    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == "no CEM file for 2026-01-01 in campus:leganto_export_20260101*"
    assert result.run.counts == RunCounts(ok=1)


class Surprise:
    name = "toy"

    async def run(self, context: RunContext) -> None:
        raise LookupError("holding 22 is not in Alma\nsecond line never shown")


async def test_B2_an_unexpected_error_ends_the_run_failed_then_raises_a_typed_error(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    with pytest.raises(RunCrashed) as raised:
        await _runner(backend, ledger).run(Surprise(), out_dir=tmp_path)
    run = raised.value.run
    assert run.status is RunStatus.FAILED
    assert run.reason == "LookupError: holding 22 is not in Alma"
    assert str(raised.value) == f"run {run.id} of toy failed: {run.reason}"
    assert isinstance(raised.value.__cause__, LookupError)
    async with ledger.unit_of_work() as uow:
        assert await uow.runs.get_run(run.id) == run


def test_B1_secrets_never_reach_the_options() -> None:
    options: Mapping[str, JsonValue] = {
        "institution": "01AAA_AB",
        "api_key": "l8xx-secret",
        "ApiKey": "l8xx-secret",
        "smtp-password": "hunter2",
        "slack_webhook_url": "https://hooks.slack.com/services/T/B/X",
        "client_secret": "s",
        "remote": {"url": "sftp://bridge:hunter2@host/alma", "password": "hunter2"},
        "urls": ["ftp://u:p@h/x", "https://example.org/a@b"],
    }
    assert safe_options(options) == {
        "institution": "01AAA_AB",
        "remote": {"url": "sftp://bridge:***@host/alma"},
        "urls": ["ftp://u:***@h/x", "https://example.org/a@b"],
    }


async def test_B1_the_runner_stores_options_without_secrets(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    result = await _runner(backend, ledger).run(
        Scripted(KEYS), out_dir=tmp_path, options={"set": "123", "apikey": "l8xx"}
    )
    assert result.run.options == {"set": "123"}


async def test_B8_the_output_folder_is_created_when_absent(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    out = tmp_path / "deep" / "er" / "out"
    result = await _runner(backend, ledger).run(Scripted(KEYS), out_dir=out)
    assert (out / "keys.txt").is_file()
    assert result.run.out_dir == str(out)


async def test_B8_an_output_folder_that_cannot_be_made_refuses_the_run(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(RunRefused, match="--out"):
        await _runner(backend, ledger).run(Scripted(KEYS), out_dir=tmp_path / "file" / "out")
    async with ledger.unit_of_work() as uow:
        assert await uow.runs.list_runs() == []


async def test_B5_a_resume_does_not_redo_recorded_keys_and_writes_equal_outputs(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    runner = _runner(backend, ledger)
    whole = await runner.run(Scripted(KEYS), out_dir=tmp_path / "whole")

    with pytest.raises(Killed):
        await runner.run(
            Scripted(KEYS, kill_at="993"), out_dir=tmp_path / "killed", options={"n": 5}
        )
    async with ledger.unit_of_work() as uow:
        [killed, _] = await uow.runs.list_runs()
    assert (killed.status, killed.ended, killed.counts) == (RunStatus.RUNNING, None, RunCounts(2))

    again = Scripted(KEYS)
    resumed = await runner.resume(killed.id, again)
    assert again.done_here == ["993", "994", "995"]
    run = resumed.run
    assert (run.trigger, run.resumed_from, run.status) == (RunTrigger.RESUME, killed.id, "ok")
    assert (run.options, run.out_dir) == ({"n": 5}, str(tmp_path / "killed"))
    assert run.counts == RunCounts(ok=3)  # this run's own records
    assert run.outputs == whole.run.outputs
    assert (tmp_path / "killed" / "keys.txt").read_bytes() == (
        tmp_path / "whole" / "keys.txt"
    ).read_bytes()


async def test_B5_chained_resumes_skip_what_every_earlier_run_did(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    runner = _runner(backend, ledger)
    with pytest.raises(Killed):
        await runner.run(Scripted(KEYS, kill_at="992"), out_dir=tmp_path)
    with pytest.raises(Killed):
        await runner.resume(1, Scripted(KEYS, kill_at="994"))
    last = Scripted(KEYS)
    result = await runner.resume(2, last)
    assert last.done_here == ["994", "995"]
    assert result.run.resumed_from == 2
    assert (tmp_path / "keys.txt").read_text() == "".join(f"{key} 3\n" for key in KEYS)


async def test_B5_a_resume_retries_the_failed_records(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    runner = _runner(backend, ledger)
    flaky = Scripted(KEYS, lambda key: RecordOutcome.FAILED if key == "993" else RecordOutcome.OK)
    first = await runner.run(flaky, out_dir=tmp_path)
    assert first.run.status is RunStatus.PARTIAL
    retry = Scripted(KEYS)
    second = await runner.resume(first.run.id, retry)
    assert retry.done_here == ["993"]
    assert second.run.status is RunStatus.OK


async def test_B5_a_resume_is_refused_when_it_cannot_be_one(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    runner = _runner(backend, ledger)
    done = await runner.run(Scripted(KEYS), out_dir=tmp_path)
    with pytest.raises(RunRefused, match="no run 99"):
        await runner.resume(99, Scripted(KEYS))
    with pytest.raises(RunRefused, match="ended ok; nothing to resume"):
        await runner.resume(done.run.id, Scripted(KEYS))
    with pytest.raises(Killed):
        await runner.run(Scripted(KEYS, kill_at="991"), out_dir=tmp_path)
    with pytest.raises(RunRefused, match="is a run of toy, not of other"):
        await runner.resume(2, Scripted(KEYS, name="other"))


async def test_B5_a_resume_refuses_an_input_that_changed(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    runner = _runner(backend, ledger)
    with pytest.raises(Killed):
        await runner.run(Scripted(KEYS, kill_at="993"), out_dir=tmp_path)
    result = await runner.resume(1, Scripted([*KEYS, "996"]))
    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith("input keys changed since run 1")


async def test_B5_records_are_idempotent_through_the_context(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    class Twice:
        name = "toy"

        async def run(self, context: RunContext) -> None:
            await context.record("key", "1", RecordOutcome.FAILED, "first try")
            await context.record("key", "1", RecordOutcome.OK, "second try")
            assert context.counts == RunCounts(ok=1)

    result = await _runner(backend, ledger).run(Twice(), out_dir=tmp_path)
    assert (result.run.status, result.run.counts) == (RunStatus.OK, RunCounts(ok=1))


class Holding:
    """Holds its run open until released, so a second run can try to start meanwhile."""

    name = "toy"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, context: RunContext) -> None:
        self.started.set()
        await self.release.wait()


async def test_B1_a_second_run_of_one_workflow_is_refused_while_the_first_runs(
    backend: Backend, tmp_path: Path
) -> None:
    # On PostgreSQL the two runners have ledgers of their own, as two processes would.
    first_ledger = backend.open()
    second_ledger = backend.open() if backend.name == "postgresql" else first_ledger
    holding = Holding()
    first = asyncio.create_task(_runner(backend, first_ledger).run(holding, out_dir=tmp_path / "a"))
    await asyncio.wait_for(holding.started.wait(), 10)
    second = _runner(backend, second_ledger)
    with pytest.raises(WorkflowBusy, match="workflow toy is already running"):
        await second.run(Scripted(KEYS), out_dir=tmp_path / "b")
    # Another workflow is not held up.
    other = await second.run(Scripted(KEYS, name="other"), out_dir=tmp_path / "c")
    assert other.run.status is RunStatus.OK
    holding.release.set()
    assert (await asyncio.wait_for(first, 10)).run.status is RunStatus.OK
    # Once the first has ended, the workflow runs again.
    again = await second.run(Scripted(KEYS), out_dir=tmp_path / "d")
    assert again.run.status is RunStatus.OK
    async with first_ledger.unit_of_work() as uow:
        assert len(await uow.runs.list_runs(workflow="toy")) == 2


async def test_B7_a_failed_notifier_is_recorded_and_the_run_stays_ok(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    email, slack = MemoryNotifier("smtp"), MemoryNotifier("slack")
    slack.fail_next()
    route = NotifyRoute("toy", ("ops@example.edu",), frozenset(RunOutcome), slack=True)
    notifications = Notifications({"toy": route}, email=email, slack=slack)
    runner = _runner(backend, ledger, notifications=notifications)

    result = await runner.run(Scripted(KEYS), out_dir=tmp_path)

    assert result.run.status is RunStatus.OK
    assert result.notify_failures == ("slack: failure injected",)
    [sent] = email.sent
    assert (sent.workflow, sent.run_id, sent.outcome) == ("toy", result.run.id, RunOutcome.OK)
    assert "Records: 5 ok, 0 skipped, 0 failed." in sent.text
    [event] = await ledger.events(action=NOTIFY_ACTION)
    assert event.outcome is Outcome.FAILED
    assert event.message == "slack: failure injected"
    assert event.details["run_id"] == result.run.id
    assert event.details["channel"] == "slack"


async def test_B7_the_notification_names_the_first_failures(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    class Recording:
        def __init__(self) -> None:
            self.sent: list[Notification] = []

        async def notify(self, notification: Notification) -> Sequence[Exception]:
            self.sent.append(notification)
            raise RuntimeError("a notifier with a bug, its message may hold a token")

    recording = Recording()
    keys = [f"bad{n:02}" for n in range(12)]
    runner = _runner(backend, ledger, notifications=recording)
    result = await runner.run(Scripted(keys, lambda key: RecordOutcome.FAILED), out_dir=tmp_path)
    assert result.run.status is RunStatus.PARTIAL
    [notification] = recording.sent
    assert notification.outcome is RunOutcome.PARTIAL
    assert notification.subject == f"almabridge toy run {result.run.id}: partial"
    assert "First failures (10 of 12):" in notification.text
    assert "- key bad09: key bad09: failed" in notification.text
    assert "bad10" not in notification.text
    # The bug is recorded by its class only, never its message.
    assert result.notify_failures == ("unexpected RuntimeError",)
    [event] = await ledger.events(action=NOTIFY_ACTION)
    assert "token" not in (event.message or "")


async def test_progress_is_reported_as_records_are_done(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    seen: list[RunProgress] = []
    runner = _runner(backend, ledger, on_progress=seen.append)
    await runner.run(Scripted(KEYS[:2]), out_dir=tmp_path)
    assert seen[0].message is not None
    assert seen[0].message.startswith("started")
    assert [progress.counts.ok for progress in seen[1:]] == [1, 2]


async def test_a_failing_progress_display_never_fails_the_run(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    def broken(progress: RunProgress) -> None:
        raise BrokenPipeError("stderr went away")

    runner = _runner(backend, ledger, on_progress=broken)
    result = await runner.run(Scripted(KEYS), out_dir=tmp_path)
    assert result.run.status is RunStatus.OK


class Batched:
    """Records its keys in one `record_many`, then one key again with `record`."""

    name = "batched"

    def __init__(self) -> None:
        self.seen: list[RunCounts] = []

    async def run(self, context: RunContext) -> None:
        await context.record_many(
            "key",
            [RecordEntry(key, RecordOutcome.OK, f"key {key} ok") for key in KEYS],
        )
        self.seen.append(context.counts)
        await context.record("key", "992", RecordOutcome.FAILED, "key 992 failed after all")
        self.seen.append(context.counts)


async def test_B1_many_records_at_once_count_like_one_at_a_time(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    workflow = Batched()
    result = await _runner(backend, ledger).run(workflow, out_dir=tmp_path)
    assert workflow.seen == [RunCounts(ok=5), RunCounts(ok=4, skipped=0, failed=1)]
    assert result.run.status is RunStatus.PARTIAL
    assert result.run.counts == RunCounts(ok=4, skipped=0, failed=1)
    assert [(r.key, r.reason) for r in result.failures] == [("992", "key 992 failed after all")]
