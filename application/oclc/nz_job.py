"""Rule O8, its second half (``--run-job``): the normalisation job "Move OCLC 035 $a to $z"
(``normalize_job_id``) run on the run's NZ set through the Jobs API, and waited for.

* ``POST /conf/jobs/{id}?op=run`` with the parameters of Alma's own run request
  (``ref:Testing-Environment-esploro-csv-researcher-loader__job_run_request.json``): ``set_id``
  and ``job_name``. The job name is the set's, so that Alma's instance name (``{job_name} -
  {date time}``) says which run started it: when the run's answer is lost
  (`AlmaOutcomeUnknown`), the job's newest instances are searched for that name, and the job is
  never run blind a second time (ADR 0007).
* The instance is recorded (kind ``nz_job``, key ``job``) as soon as it is known, so a resumed
  run (B5) polls the same instance instead of running the job again; then it is polled every
  ``poll_seconds`` (15 s) until it has finished, for at most ``wait_seconds`` (4 h).
* A failed instance (``COMPLETED_FAILED``, ``FAILED``, aborted) is recorded ``failed`` and fails
  the run with one sentence; one still unfinished after the wait fails it too, naming the
  instance. A finished one is recorded ``ok`` with its status.

Time is read through ``sleep`` and ``monotonic``, so tests never wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from application.oclc.outcomes import NZ_JOB
from application.ports.alma.jobs import JobInstance, JobInstanceRef, JobInstances
from application.shared.alma import AlmaOutcomeUnknown
from application.shared.ledger_records import JsonObject
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome

__all__ = [
    "DEFAULT_POLL_SECONDS",
    "DEFAULT_WAIT_SECONDS",
    "JOB_KEY",
    "JOB_TITLE",
    "JobPolling",
    "NormalizationJob",
    "Sleep",
]

DEFAULT_POLL_SECONDS: Final = 15.0
DEFAULT_WAIT_SECONDS: Final = 4 * 3600.0
JOB_KEY: Final = "job"
JOB_TITLE: Final = "Move OCLC 035 $a to $z"
_NEWEST: Final = 10

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class JobPolling:
    """The normalisation job (``normalize_job_id``) and how long to wait for it."""

    job_id: str
    poll_seconds: float = DEFAULT_POLL_SECONDS
    wait_seconds: float = DEFAULT_WAIT_SECONDS

    def __post_init__(self) -> None:
        if not self.job_id or self.poll_seconds <= 0 or self.wait_seconds <= 0:
            raise ValueError("a job id, and a poll interval and a wait above 0, are needed")


class NormalizationJob:
    """Runs the job on a set and waits for its instance (see the module text)."""

    def __init__(
        self,
        jobs: JobInstances,
        polling: JobPolling,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._jobs = jobs
        self._polling = polling
        self._sleep = sleep
        self._monotonic = monotonic

    @property
    def job_id(self) -> str:
        return self._polling.job_id

    async def run(self, context: RunContext, set_id: str, name: str) -> JobInstance:
        """Run the job on ``set_id`` (``name``: the set's name) and wait until it has ended;
        `RunFailed` when it fails or outlasts the wait."""
        earlier = context.earlier(NZ_JOB, JOB_KEY)
        instance_id = None
        if earlier is not None and earlier.detail.get("set_id") == set_id:
            found = earlier.detail.get("instance_id")
            instance_id = found if isinstance(found, str) else None
        fresh = instance_id is None
        if instance_id is None:
            instance_id = (await self._start(context, set_id, name)).instance_id
            await self._record(context, RecordOutcome.OK, set_id, instance_id, "started")
            context.progress(f"job {self.job_id} runs on set {set_id} as instance {instance_id}")
        instance = await self._wait(context, instance_id, fresh=fresh)
        status = instance.status_value
        if instance.status.is_failure:
            await self._record(context, RecordOutcome.FAILED, set_id, instance_id, status)
            raise RunFailed(
                f'job {self.job_id} ("{JOB_TITLE}") instance {instance_id} on set {set_id} ended '
                f"{status}: see its report in Alma's Monitor Jobs, and do not import "
                "for_import_to_NZ.xlsx before the job has run"
            )
        await self._record(context, RecordOutcome.OK, set_id, instance_id, status)
        return instance

    async def _start(self, context: RunContext, set_id: str, name: str) -> JobInstanceRef:
        try:
            return await self._jobs.run(self.job_id, {"set_id": set_id, "job_name": name})
        except AlmaOutcomeUnknown:
            context.progress(f"the answer to running job {self.job_id} was lost; looking for it")
        for instance in await self._jobs.latest_instances(self.job_id, limit=_NEWEST):
            if (instance.name or "").startswith(f"{name} - "):
                return JobInstanceRef(self.job_id, instance.instance_id)
        raise RunFailed(
            f"job {self.job_id} was asked to run on set {set_id}, but Alma's answer was lost and "
            f"none of its newest instances is named {name!r}: look in Alma's Monitor Jobs, and "
            "run the job on the set by hand if it has not started"
        )

    async def _wait(self, context: RunContext, instance_id: str, *, fresh: bool) -> JobInstance:
        """Poll until the instance has finished; an instance an earlier run started (B5) is
        read at once, a new one first given ``poll_seconds``."""
        polling = self._polling
        deadline = self._monotonic() + polling.wait_seconds
        shown = ""
        wait = fresh
        while True:
            if wait:
                await self._sleep(polling.poll_seconds)
            wait = True
            instance = await self._jobs.instance(self.job_id, instance_id)
            if instance.is_finished:
                context.progress(f"job instance {instance_id} ended {instance.status_value}")
                return instance
            now = f"{instance.status_value} ({instance.progress or 0}%)"
            if now != shown:
                shown = now
                context.progress(f"job instance {instance_id}: {now}")
            if self._monotonic() >= deadline:
                minutes = polling.wait_seconds / 60
                raise RunFailed(
                    f"job {self.job_id} instance {instance_id} had not finished after "
                    f"{minutes:g} minutes "
                    f"(status {instance.status_value}); follow it in Alma's Monitor Jobs, then "
                    "import for_import_to_NZ.xlsx once it has ended"
                )

    async def _record(
        self,
        context: RunContext,
        outcome: RecordOutcome,
        set_id: str,
        instance_id: str,
        status: str,
    ) -> None:
        detail: JsonObject = {
            "job_id": self.job_id,
            "instance_id": instance_id,
            "set_id": set_id,
            "status": status,
        }
        reason = f'job {self.job_id} ("{JOB_TITLE}") instance {instance_id} on set {set_id}'
        await context.record(NZ_JOB, JOB_KEY, outcome, f"{reason}: {status}", detail)
