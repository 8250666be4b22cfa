"""Jobs: a job, running it, and its instances (rules O8, L8).

Shapes as ``ref:Testing-Environment-esploro-csv-researcher-loader__job_details.json``,
``…__job_run_response.json`` and ``…__job_instance_completed_success.json``; the list wrapper
as ``ref:scriptotek-php-alma-client__jobinstances_response.json``.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import errors, marc, views
from adapters.fake_alma.clock import alma_date, alma_timestamp
from adapters.fake_alma.state_workflows import STATUS_DESCRIPTIONS, FakeJob, FakeJobInstance
from adapters.fake_alma.web import (
    answer,
    base_url,
    fake,
    institution_code,
    is_xml,
    json_body,
    paging,
    text_body,
)


def _code_desc(pair: tuple[str, str]) -> dict[str, str]:
    return {"value": pair[0], "desc": pair[1]}


def job_link(base: str, job_id: str) -> str:
    """``…/conf/jobs/{id}``."""
    return f"{base}/conf/jobs/{quote(job_id, safe='')}"


def instance_link(base: str, job_id: str, instance_id: str) -> str:
    """``…/conf/jobs/{id}/instances/{instance}``: the run answer's ``additional_info.link``."""
    return f"{job_link(base, job_id)}/instances/{quote(instance_id, safe='')}"


def job_json(job: FakeJob, base: str) -> dict[str, Any]:
    """A job as in ``…__job_details.json``."""
    body: dict[str, Any] = {
        "id": job.job_id,
        "name": job.name,
        "description": job.description,
        "type": _code_desc(job.type),
        "category": _code_desc(job.category),
    }
    if job.content is not None:
        body["content"] = _code_desc(job.content)
    body["link"] = job_link(base, job.job_id)
    return body


def run_json(job: FakeJob, instance: FakeJobInstance, base: str) -> dict[str, Any]:
    """The answer to ``op=run`` (``…__job_run_response.json``): the job, its parameters and
    ``additional_info`` naming the new instance."""
    body = job_json(job, base)
    link = body.pop("link")
    body["parameter"] = [
        {"name": {"value": name}, "value": value} for name, value in instance.parameters.items()
    ]
    stamp = format_datetime(instance.submitted.astimezone(UTC), usegmt=True)
    body["additional_info"] = {
        "value": f"Job no. {instance.instance_id} triggered on {stamp}",
        "link": instance_link(base, job.job_id, instance.instance_id),
    }
    body["link"] = link
    return body


def instance_json(job: FakeJob, instance: FakeJobInstance, base: str) -> dict[str, Any]:
    """An instance as in ``…__job_instance_completed_success.json`` (key order included); no
    ``start_time`` before it starts, no ``end_time`` nor ``alert`` before it finishes."""
    status = instance.status
    body: dict[str, Any] = {
        "id": instance.instance_id,
        "name": instance.name,
        "progress": instance.progress,
        "status": {"value": status, "desc": STATUS_DESCRIPTIONS.get(status, status)},
        "external_id": instance.external_id,
        "submitted_by": _code_desc(instance.submitted_by),
        "submit_time": alma_timestamp(instance.submitted),
    }
    if instance.started is not None:
        body["start_time"] = alma_timestamp(instance.started)
    if instance.ended is not None:
        body["end_time"] = alma_timestamp(instance.ended)
    body["status_date"] = alma_date(instance.ended or instance.started or instance.submitted)
    if instance.finished:
        failed = status not in ("COMPLETED_SUCCESS", "COMPLETED_NO_BULKS")
        body["alert"] = [
            {"value": "alert_general_error", "desc": "The job completed with errors."}
            if failed
            else {"value": "alert_general_success", "desc": "The job completed successfully."}
        ]
    body["counter"] = [
        {"type": {"value": code, "desc": desc}, "value": value}
        for code, desc, value in instance.counters
    ]
    info = job_json(job, base)
    info.pop("content", None)  # the sample's job_info has no content
    body["job_info"] = info
    body["link"] = instance_link(base, job.job_id, instance.instance_id)
    return body


async def _run_parameters(request: Request) -> dict[str, str]:
    text = await text_body(request)
    found: dict[str, str] = {}
    if is_xml(request, text):
        # <job><parameters><parameter><name>…</name><value>…</value> (…__job_run_request.xml)
        for parameter in marc.parse_xml(text).iter("parameter"):
            found[(parameter.findtext("name") or "").strip()] = parameter.findtext("value") or ""
        return found
    for parameter in (await json_body(request)).get("parameter") or []:
        if isinstance(parameter, dict):
            name = parameter.get("name")
            key = name.get("value") if isinstance(name, dict) else name
            found[str(key or "")] = str(parameter.get("value") or "")
    return found


async def job_resource(request: Request) -> Response:
    """``GET /conf/jobs/{id}``; ``POST /conf/jobs/{id}?op=run`` with the job's parameters."""
    state = fake(request).state
    code = institution_code(request)
    job = state.job(code, request.path_params["job_id"])
    base = base_url(request)
    if request.method == "GET":
        return answer(request, job_json(job, base), root="job")
    op = request.query_params.get("op")
    if op != "run":
        raise errors.invalid_parameter("op", op or "")
    instance = state.run_job(code, job.job_id, await _run_parameters(request))
    return answer(request, run_json(job, instance, base), root="job")


async def job_instances(request: Request) -> Response:
    """``GET /conf/jobs/{id}/instances?limit=&offset=``: newest first."""
    limit, offset = paging(request)
    state = fake(request).state
    code = institution_code(request)
    job = state.job(code, request.path_params["job_id"])
    page, total = state.read_job_instances(code, job.job_id, limit=limit, offset=offset)
    base = base_url(request)
    body = instances_json(job, page, total, base)
    return answer(request, body, root="job_instances", list_key="job_instance")


def instances_json(
    job: FakeJob, page: list[FakeJobInstance], total: int, base: str
) -> dict[str, Any]:
    """The list wrapper of ``…__jobinstances_response.json`` (no array when empty)."""
    rendered = [instance_json(job, i, base) for i in page]
    listed = views.listing("job_instance", rendered, total)
    # The sample puts the count first.
    return {"total_record_count": listed.pop("total_record_count"), **listed}


async def job_instance(request: Request) -> Response:
    """``GET /conf/jobs/{id}/instances/{instance_id}``: each read moves its status script on."""
    state = fake(request).state
    code = institution_code(request)
    job_id = request.path_params["job_id"]
    instance = state.read_job_instance(code, job_id, request.path_params["instance_id"])
    body = instance_json(state.job(code, job_id), instance, base_url(request))
    return answer(request, body, root="job_instance")


routes = [
    Route("/almaws/v1/conf/jobs/{job_id}", job_resource, methods=["GET", "POST"]),
    Route("/almaws/v1/conf/jobs/{job_id}/instances", job_instances, methods=["GET"]),
    Route("/almaws/v1/conf/jobs/{job_id}/instances/{instance_id}", job_instance, methods=["GET"]),
]
