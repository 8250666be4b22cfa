"""Rule L8's wait before the rollover report: until Alma's course loader job has finished, or
``report_delay_minutes`` after the last push (fix: upstream slept two hours blind).

* With ``job_id``: the newest instance of the job is polled every ``job_poll_seconds`` until it
  has finished, for at most ``job_wait_minutes``. When the last push is known (``since``), an
  instance submitted before it is yesterday's load, not today's: the wait goes on. Its end is
  recorded (kind ``loader_job``, key the job id): ok when it succeeded; failed when it failed
  or did not finish in time, and the report is made all the same (staff still want the
  candidates; the run ends partial and says why).
* Without: the stamp of the newest loader file on the target remote is the last push; the
  report waits until ``report_delay_minutes`` after it (no wait when that is past, or when no
  loader file is there).

A resumed run does not wait again once its original recorded the wait (B5). Time is read through
``sleep`` and ``monotonic``, and the clock through the run, so tests never wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from application.courses.ports import LoaderPush
from application.ports.alma.jobs import JobInstance, JobInstances
from application.shared.alma import AlmaError, AlmaStop
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome

__all__ = ["LOADER_JOB", "JobWait", "LoaderWait", "PushDelayWait", "Sleep"]

LOADER_JOB = "loader_job"
"""The run-record kind of the wait, keyed by the job id (or ``delay``)."""

Sleep = Callable[[float], Awaitable[None]]
Since = Callable[[], Awaitable[datetime | None]]
"""When the loader file was last pushed (naive: the machine's local time), or None."""


class LoaderWait(Protocol):
    """How the rollover report knows Alma has loaded the day's file (L8)."""

    async def wait(self, context: RunContext) -> None:
        """Return once the report may be made; record how the wait ended."""
        ...


class JobWait:
    """Polls the newest instance of the course loader job (see the module text)."""

    def __init__(
        self,
        jobs: JobInstances,
        job_id: str,
        *,
        poll_seconds: float,
        wait_seconds: float,
        since: Since | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._since = since
        self._jobs = jobs
        self._job_id = job_id
        self._poll = poll_seconds
        self._wait = wait_seconds
        self._sleep = sleep
        self._monotonic = monotonic

    async def wait(self, context: RunContext) -> None:
        if context.earlier_records(LOADER_JOB):
            return
        context.progress(f"waiting for the newest instance of Alma job {self._job_id}")
        deadline = self._monotonic() + self._wait
        pushed = None if self._since is None else await self._since()
        newest: JobInstance | None = None
        while True:
            try:
                found = await self._jobs.latest_instances(self._job_id, 1)
            except AlmaStop as stop:
                raise RunFailed(f"Alma stopped the run: {stop}") from None
            except AlmaError as error:
                found = []
                context.progress(f"job {self._job_id} could not be read ({error}); trying again")
            newest = found[0] if found else newest
            if newest is not None and newest.is_finished and _after(newest, pushed):
                break
            if self._monotonic() >= deadline:
                await self._timed_out(context, newest)
                return
            await self._sleep(self._poll)
        failed = newest.status.is_failure
        await context.record(
            LOADER_JOB,
            self._job_id,
            RecordOutcome.FAILED if failed else RecordOutcome.OK,
            f"course loader job {self._job_id} instance {newest.instance_id} ended "
            f"{newest.status_value}" + ("; the report is made all the same" if failed else ""),
        )

    async def _timed_out(self, context: RunContext, newest: JobInstance | None) -> None:
        where = "no instance" if newest is None else f"instance {newest.instance_id} is "
        status = "" if newest is None else newest.status_value
        await context.record(
            LOADER_JOB,
            self._job_id,
            RecordOutcome.FAILED,
            f"course loader job {self._job_id} had not finished after "
            f"{self._wait / 60:g} min ({where}{status}); the report is made all the same and "
            "may not reflect today's load",
        )


def _after(instance: JobInstance, pushed: datetime | None) -> bool:
    """Whether the instance may be the load of the file pushed at ``pushed`` (local time)."""
    submitted = instance.submitted or instance.started
    if pushed is None or submitted is None:
        return True
    return submitted >= pushed.astimezone()  # a naive stamp is the machine's local time


class PushDelayWait:
    """Waits until ``delay`` after the last push (see the module text)."""

    def __init__(
        self,
        push: LoaderPush,
        delay: timedelta,
        *,
        zone: tzinfo | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._push = push
        self._delay = delay
        self._zone = zone
        self._sleep = sleep

    async def wait(self, context: RunContext) -> None:
        if context.earlier_records(LOADER_JOB):
            return
        pushed = await self._push.last_push()
        now = context.now().astimezone(self._zone).replace(tzinfo=None)
        if pushed is None:
            reason = f"no loader file on {self._push.target}: the report is made at once"
        else:
            left = (pushed + self._delay - now).total_seconds()
            reason = f"last push {pushed:%Y-%m-%d %H:%M:%S}, {self._delay} before the report"
            if left > 0:
                context.progress(f"{reason}: waiting {left / 60:.0f} min")
                await self._sleep(left)
        await context.record(LOADER_JOB, "delay", RecordOutcome.OK, reason)
