"""``GET /metrics``: the Prometheus text exposition of everything the bridge counts.

Three sources: the process registry (`application.shared.metrics.Metrics`: webhooks counted here;
items by outcome, requests by outcome and reason, and the heartbeat counted by the inbox worker
running in this process), the ledger (inbox depth by status, read at each scrape), and the Alma
client (calls, 429s and Alma's ``X-Exl-Api-Remaining`` per institution, retries). Labels and help
texts carry no secret: API keys live only in the client's headers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response

from application.shared.metrics import Labels, Sample
from entrypoints.http.state import HttpService, service_of

log = logging.getLogger("almabridge.http.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# (name, kind, help) of the series computed at scrape time.
_SCRAPED = {
    "almabridge_ledger_up": ("gauge", "1 when the ledger database answered this scrape."),
    "almabridge_inbox_messages": ("gauge", "Inbox messages by status."),
    "almabridge_alma_calls_total": ("counter", "Alma API calls started, per institution."),
    "almabridge_alma_rate_limited_total": (
        "counter",
        "Alma 429 (per-second threshold) answers, per institution.",
    ),
    "almabridge_alma_api_remaining": (
        "gauge",
        "Alma's X-Exl-Api-Remaining (calls left today) from the last answer, per institution.",
    ),
    "almabridge_alma_retries_total": ("counter", "Alma calls retried after a transient failure."),
}


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format 0.0.4."""
    service = service_of(request)
    samples = list(service.metrics.samples())
    samples += await _ledger_samples(service)
    samples += _alma_samples(service)
    return Response(render(samples, service), media_type=CONTENT_TYPE)


async def _ledger_samples(service: HttpService) -> list[Sample]:
    try:
        depth = await service.ledger.inbox_depth()
    except Exception as error:  # a scrape reports the outage instead of failing
        log.warning("metrics: ledger unavailable: %s", type(error).__name__)
        return [Sample("almabridge_ledger_up", (), 0.0)]
    samples = [Sample("almabridge_ledger_up", (), 1.0)]
    for status in ("pending", "processing", "done", "dead"):
        count = float(getattr(depth, status))
        samples.append(Sample("almabridge_inbox_messages", (("status", status),), count))
    return samples


def _alma_samples(service: HttpService) -> list[Sample]:
    holder = service.settings
    if not holder.loaded:
        return []
    client = service.container.alma_client()
    consortium = holder.current.consortium
    codes = [consortium.remote_storage.institution]
    codes += [i.code for i in consortium.institutions if i.code not in codes]
    samples = []
    for code in codes:
        throttle = client.throttle(code)
        labels: Labels = (("institution", code),)
        samples.append(Sample("almabridge_alma_calls_total", labels, throttle.calls_started))
        samples.append(
            Sample("almabridge_alma_rate_limited_total", labels, throttle.rate_limited_responses)
        )
        if throttle.api_remaining is not None:
            samples.append(Sample("almabridge_alma_api_remaining", labels, throttle.api_remaining))
    samples.append(Sample("almabridge_alma_retries_total", (), client.retries))
    return samples


def render(samples: Iterable[Sample], service: HttpService | None = None) -> str:
    """Samples grouped by name, each group under its HELP and TYPE lines."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name in sorted(by_name):
        declared = service.metrics.help_for(name) if service is not None else None
        kind, help_text = declared or _SCRAPED.get(name, ("untyped", name))
        lines.append(f"# HELP {name} {_escape_help(help_text)}")
        lines.append(f"# TYPE {name} {kind}")
        for sample in by_name[name]:
            lines.append(f"{name}{_labels(sample.labels)} {_number(sample.value)}")
    return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape_value(value)}"' for key, value in labels)
    return "{" + inner + "}"


def _escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    number = float(value)
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "+Inf" if number > 0 else "-Inf"
    return str(int(number)) if number.is_integer() else repr(number)
