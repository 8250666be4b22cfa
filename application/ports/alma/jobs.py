"""Alma jobs: run one and follow its instances until they finish (rules O8 and L8).

O8 runs the "Move OCLC 035 $a to $z" normalisation on a set and polls the instance until it has
finished (a ``COMPLETED_FAILED`` fails the run); L8 waits for the newest instance of the course
loader job to finish before it writes the rollover report. Calls go through the institution's
shared client, throttle and retries (rule B4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol

from application.shared.alma import NotFound


class JobStatus(Enum):
    """``job_instance.status.value``. A value this list does not know is `UNKNOWN`, never an
    error: Alma adds statuses, and a poller must not crash on one (it keeps waiting)."""

    QUEUED = "QUEUED"
    PENDING = "PENDING"
    INITIALIZING = "INITIALIZING"
    RUNNING = "RUNNING"
    FINALIZING = "FINALIZING"
    COMPLETED_SUCCESS = "COMPLETED_SUCCESS"
    COMPLETED_NO_BULKS = "COMPLETED_NO_BULKS"
    COMPLETED_WARNINGS = "COMPLETED_WARNINGS"
    COMPLETED_FAILED = "COMPLETED_FAILED"
    FAILED = "FAILED"
    ABORTED = "ABORTED"
    SYSTEM_ABORTED = "SYSTEM_ABORTED"
    MANUAL_ABORTED = "MANUAL_ABORTED"
    SKIPPED = "SKIPPED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def of(cls, value: str | None) -> JobStatus:
        """The member for Alma's value (any case); `UNKNOWN` for anything else."""
        try:
            return cls((value or "").strip().upper())
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_finished(self) -> bool:
        """Alma will not change this instance any more. `UNKNOWN` is not finished: a poller
        keeps waiting (within its bound) rather than act on a status it cannot read."""
        return self in _FINISHED

    @property
    def is_failure(self) -> bool:
        """Finished without doing its work (O8: such an instance fails the run)."""
        return self in _FAILED


_FAILED = frozenset(
    {
        JobStatus.COMPLETED_FAILED,
        JobStatus.FAILED,
        JobStatus.ABORTED,
        JobStatus.SYSTEM_ABORTED,
        JobStatus.MANUAL_ABORTED,
    }
)
_FINISHED = _FAILED | {
    JobStatus.COMPLETED_SUCCESS,
    JobStatus.COMPLETED_NO_BULKS,
    JobStatus.COMPLETED_WARNINGS,
    JobStatus.SKIPPED,
}


@dataclass(frozen=True)
class JobInstance:
    """One run of a job (``GET /conf/jobs/{id}/instances/{instance}``).

    ``status_value`` keeps Alma's own word (useful when `status` is `UNKNOWN`); ``counters``
    maps each counter's type code (``label.new.records``) to its value as Alma sends it (a
    string); times are None until Alma sets them (no ``end_time`` while running).
    """

    job_id: str
    instance_id: str
    status: JobStatus
    status_value: str
    name: str | None = None
    progress: int | None = None
    counters: Mapping[str, str] = field(default_factory=dict)
    submitted: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def is_finished(self) -> bool:
        """Whether the instance has finished, successfully or not (`JobStatus.is_finished`)."""
        return self.status.is_finished


@dataclass(frozen=True)
class JobInstanceRef:
    """The instance a run started (from the run answer's ``additional_info`` link)."""

    job_id: str
    instance_id: str


class JobNotFound(NotFound):
    """Alma has no job with that id (the fake's 402470; the real code is unverified)."""


class JobInstanceNotFound(NotFound):
    """The job has no instance with that id (the fake's 402471; the real code is unverified)."""


class JobInstances(Protocol):
    """Runs one institution's jobs and reads their instances (rules O8, L8, B4)."""

    institution: str

    async def instance(self, job_id: str, instance_id: str) -> JobInstance:
        """One instance; `JobInstanceNotFound` or `JobNotFound` when there is none."""
        ...

    async def latest_instances(self, job_id: str, limit: int = 10) -> list[JobInstance]:
        """The job's newest instances, newest first (at most ``limit``, 1–100)."""
        ...

    async def run(self, job_id: str, parameters: Mapping[str, str]) -> JobInstanceRef:
        """``POST /conf/jobs/{id}?op=run`` with these parameters (``set_id``, ``job_name``…).

        A run is not safe to repeat blindly: when its answer is lost the call raises
        `application.shared.alma.AlmaOutcomeUnknown`, and the caller looks at
        `latest_instances` before running again.
        """
        ...
