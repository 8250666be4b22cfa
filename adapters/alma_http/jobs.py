"""`JobInstances` over Alma's REST API: run a job, read its instances (rules O8, L8, B4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from adapters.alma_http.requests_kit import (
    AlmaCaller,
    check_limit,
    code,
    error_with,
    listed,
    plain,
    retyped,
    text,
)
from application.ports.alma.jobs import (
    JobInstance,
    JobInstanceNotFound,
    JobInstanceRef,
    JobNotFound,
    JobStatus,
)
from application.shared.alma import AlmaError

GET_JOB_INSTANCE = "get job instance"
LIST_JOB_INSTANCES = "list job instances"
RUN_JOB = "run job"
MAX_INSTANCES = 100
# The fake's codes (unverified against Alma, which has no public sample of these refusals).
_NOT_FOUND: Mapping[str, type[AlmaError]] = {"402470": JobNotFound, "402471": JobInstanceNotFound}
_JOB_NUMBER = re.compile(r"Job no\.\s*(\d+)")


def _time(value: Any) -> datetime | None:
    raw = text(value)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)  # "2025-10-05T09:11:32.592Z": 3.11 reads the Z
    except ValueError:
        return None
    # Alma's times are UTC; one without a zone would not compare with the others.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _progress(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    raw = text(value)
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def job_instance_of(data: Mapping[str, Any], job_id: str) -> JobInstance:
    """An instance of ``ref:Testing-Environment-esploro-csv-researcher-loader__job_instance_
    completed_success.json``; ``counter[]`` becomes type code → value (a counter without a
    type is left out)."""
    counters: dict[str, str] = {}
    for counter in listed(data, "counter"):
        name = code(counter.get("type"))
        if name is not None:
            counters[name] = text(counter.get("value")) or ""
    status_value = code(data.get("status")) or ""
    return JobInstance(
        job_id=job_id,
        instance_id=text(data.get("id")) or "",
        status=JobStatus.of(status_value),
        status_value=status_value,
        name=text(data.get("name")),
        progress=_progress(data.get("progress")),
        counters=counters,
        submitted=_time(data.get("submit_time")),
        started=_time(data.get("start_time")),
        ended=_time(data.get("end_time")),
    )


def newest_first(instances: list[JobInstance]) -> list[JobInstance]:
    """Newest submitted first, whatever order Alma lists them in (unverified); an instance
    without a submit time keeps its place after those with one."""
    timed = [i for i in instances if i.submitted is not None]
    untimed = [i for i in instances if i.submitted is None]
    timed.sort(key=lambda i: i.submitted or datetime.min.replace(tzinfo=UTC), reverse=True)
    return timed + untimed


def run_parameters(parameters: Mapping[str, str]) -> dict[str, Any]:
    """The run body (``ref:…__job_run_request.json``)."""
    return {
        "parameter": [
            {"name": {"value": name}, "value": value} for name, value in parameters.items()
        ]
    }


def instance_ref_of(data: Mapping[str, Any], job_id: str, *, institution: str) -> JobInstanceRef:
    """The started instance: the last segment of ``additional_info.link``
    (``…/conf/jobs/M50173/instances/9563643080000561``), else the number in its text
    (``Job no. 9563643080000561 triggered on …``)."""
    info = data.get("additional_info")
    link = text(info.get("link")) if isinstance(info, Mapping) else None
    if link:
        segments = [unquote(s) for s in urlsplit(link).path.split("/") if s]
        if len(segments) >= 2 and segments[-2] == "instances" and segments[-1]:
            return JobInstanceRef(job_id, segments[-1])
    words = text(info.get("value")) if isinstance(info, Mapping) else text(info)
    found = _JOB_NUMBER.search(words or "")
    if found:
        return JobInstanceRef(job_id, found.group(1))
    raise error_with(
        institution, RUN_JOB, "Alma's run answer names no job instance", {"job_id": job_id}
    )


def jobs_error(error: AlmaError) -> AlmaError:
    """`JobNotFound` / `JobInstanceNotFound` by Alma's code; any other failure unchanged."""
    kind = _NOT_FOUND.get(error.error_code or "")
    if plain(error) and kind is not None:
        return retyped(error, kind)
    return error


class HttpJobInstances(AlmaCaller):
    """One institution's jobs through the process-wide `AlmaHttpClient` (O8, L8, B4)."""

    async def instance(self, job_id: str, instance_id: str) -> JobInstance:
        try:
            data = await self.get_json(
                "conf",
                "jobs",
                job_id,
                "instances",
                instance_id,
                operation=GET_JOB_INSTANCE,
                subject={"job_id": job_id, "instance_id": instance_id},
            )
        except AlmaError as exc:
            raise jobs_error(exc) from None
        return job_instance_of(data, job_id)

    async def latest_instances(self, job_id: str, limit: int = 10) -> list[JobInstance]:
        check_limit(limit, 1, MAX_INSTANCES)
        try:
            data = await self.get_json(
                "conf",
                "jobs",
                job_id,
                "instances",
                operation=LIST_JOB_INSTANCES,
                params={"limit": limit, "offset": 0},
                subject={"job_id": job_id},
            )
        except AlmaError as exc:
            raise jobs_error(exc) from None
        found = [job_instance_of(i, job_id) for i in listed(data, "job_instance")]
        return newest_first(found)[:limit]

    async def run(self, job_id: str, parameters: Mapping[str, str]) -> JobInstanceRef:
        try:
            data = await self.post_json(
                "conf",
                "jobs",
                job_id,
                operation=RUN_JOB,
                params={"op": "run"},
                body=run_parameters(parameters),
                subject={"job_id": job_id},
                # A second run is a second instance doing the work again (O8): never blind.
                repeat_safe=False,
            )
        except AlmaError as exc:
            raise jobs_error(exc) from None
        return instance_ref_of(data, job_id, institution=self.institution)
