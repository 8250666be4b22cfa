"""A transient fault does not hold a request back until the worker's next try (issue 13; rules
R1, R6, R7, A3).

Measured from outside: the fake Alma over a real HTTP port answers half the calls with 503 and
refuses bursts of calls with 429 `PER_SECOND_THRESHOLD`; six item holds come in one request
export; the service's `InboxWorker` runs the requests `JOB_END` once. Before the fix, a request
whose Alma call used up the adapter's retries (A3: 8 attempts) kept its file open (R1, R7) and
reached the SCF only on a later attempt of the message, after the worker's retry backoff and a
whole second run. Now the run itself tries such a request again after a short computed pause
(`TransientRetry`), so the message's first attempt forwards all six.

The bursts are counted in calls, not seconds (unlike `StormInjector`, whose bursts last a time):
the requests of a file are handled one after the other, so every call meets the same seeded draw
on every machine and the run is deterministic. The adapter's waits are the reliability suite's
scaled ones (`PRODUCTION_LIKE_RETRY`); the in-run pause is the production default.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.fake_alma.faults import Decision, FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from domain.scf.requests.comments import parse_internal_identifier
from entrypoints.demo import webhooks
from tests.reliability import tally
from tests.reliability.support import faults_seen, open_rig, table_rows
from tests.scenarios.world import AB, SCF, request_export

REQUESTS_JOB = "S123456789"
"""AB's `requests_job_id` in examples/conf.json."""
FAULTS = FaultConfig(error_rate=0.5, error_statuses=(503,), enforce_thresholds=False)
BURST_RATE = 0.08
BURST_CALLS = 5
SEEDS = {"one retried once": 1, "three retried, one twice": 17}
"""Seeds whose first pass leaves requests failed after the adapter's 8 attempts (the test checks
that they still do): with seed 1 one request, with seed 17 three, one of which fails its first
retry too. Since a per-second 429 no longer spends an attempt (A3, `AlmaHttpClient`), only the
503s exhaust a call, hence their rate of one call in two (it was 30 % with 429s counted)."""
TARGET_SECONDS = 60.0
"""Issue 13: every request of the file forwarded within a minute of the run's start."""
HOLD = {"request_type": "HOLD", "pickup_location_type": "USER_HOME_ADDRESS"}


class CountedBursts(FaultInjector):
    """The fake's seeded 503s, plus bursts of 429 `PER_SECOND_THRESHOLD`: on a seeded draw per
    call, the next `burst_calls` calls of the institution are refused, as Alma refuses every
    call while its per-second window is full."""

    def __init__(
        self, config: FaultConfig, *, seed: int, burst_rate: float, burst_calls: int
    ) -> None:
        super().__init__(config, seed=seed)
        self._draws = random.Random(seed + 1)  # fault draws, replayable by seed
        self._rate = burst_rate
        self._calls = burst_calls
        self._left: Counter[str] = Counter()

    def admit(self, institution: str, path: str) -> Decision:
        if not self._left[institution] and self._draws.random() < self._rate:
            self._left[institution] = self._calls
        if self._left[institution]:
            self._left[institution] -= 1
            return Decision("per_second", 429, self.remaining(institution))
        return super().admit(institution, path)


@dataclass(frozen=True)
class Figures:
    """What one attempt of the requests `JOB_END` achieved."""

    seconds: float
    forwarded: int
    message_status: str
    scf_requests: Counter[str]
    """Active SCF requests per member request id (from the comment's Internal identifier)."""
    cancelled: list[str]
    passes: dict[str, int]
    """The pass of the run in which each forwarded request reached the SCF."""
    transient_failures: int
    faults: Counter[str]


def _seed(state: FakeAlmaState) -> list[str]:
    """Six AB items in remote storage, each mirrored in the SCF, each with a patron's hold."""
    ids = []
    for n in range(1, 7):
        barcode = f"RQF{n}"
        member = state.seed_item(
            AB, barcode=barcode, library="ABRS", location="rs_shared_in_ab", title=f"Fault {n}"
        )
        state.seed_item(
            SCF,
            barcode=f"{barcode}X",
            library="RS",
            location="rs_shared",
            title=f"Fault {n}",
            item_data={"provenance": {"value": AB}},
        )
        made = state.create_item_request(
            AB, member.mms_id, member.holding_id, member.pid, "ab_patron1", HOLD
        )
        ids.append(made.request_id)
    return ids


async def _one_attempt(tmp_path: Path, *, seed: int) -> Figures:
    state = state_from_file()
    ids = _seed(state)
    export = request_export(
        {"requestId": rid, "barcode": f"RQF{n}"} for n, rid in enumerate(ids, start=1)
    )
    faults = CountedBursts(FAULTS, seed=seed, burst_rate=BURST_RATE, burst_calls=BURST_CALLS)
    async with open_rig(tmp_path, state, faults) as rig:
        rig.put(AB, "requests", "AB_requests_1.xml", export)
        job = webhooks.job_end(AB, REQUESTS_JOB, "Requests export")
        message_id = await rig.store_webhook(json.dumps(job).encode())
        worker = rig.worker()
        started = time.monotonic()
        assert await worker.run_once()  # one attempt of the message: the run under test
        seconds = time.monotonic() - started
        rows = await table_rows(rig.database_url)
        events = await rig.events(institution=AB)
    (message,) = [m for m in rows["inbox_messages"] if m["id"] == message_id]
    forwarded = [r for r in rows["forwarded_requests"] if r["status"] == "forwarded"]
    passes: dict[str, int] = {}
    for event in events:
        if event.action == "request.forward" and event.request_id:
            passes[event.request_id] = int(event.details.get("pass", 1))  # type: ignore[arg-type]
    return Figures(
        seconds=seconds,
        forwarded=len(forwarded),
        message_status=str(message["status"]),
        scf_requests=Counter(
            parse_internal_identifier(str(r.fields.get("comment", ""))) or ""
            for r in state.requests_of(SCF)
        ),
        cancelled=[rid for rid in ids if not state.request(AB, rid).active],
        passes=passes,
        transient_failures=sum(
            1 for e in events if e.action == "request.fail" and e.details.get("transient")
        ),
        faults=faults_seen(state.call_log),
    )


@pytest.mark.parametrize("seed", SEEDS.values(), ids=SEEDS.keys())
async def test_R7_A3_six_requests_under_503s_and_429_bursts_reach_the_scf_in_one_run(
    tmp_path: Path, seed: int
) -> None:
    """Issue 13: a request that failed only because Alma was unavailable is tried again within
    the run, so all six reach the SCF on the message's first attempt, within a minute, each
    once (R6), none cancelled (R7)."""
    got = await _one_attempt(tmp_path, seed=seed)

    # The storm really hit the run: 503s, 429s, and a request that used up its call's retries.
    assert got.faults["error"], got.faults
    assert got.faults["per_second"], got.faults
    assert got.transient_failures >= 1, "the seed no longer exhausts a call's retries"
    # Within the one attempt, every request reached the SCF.
    summary = (
        f"after the first attempt ({got.seconds:.1f} s): {got.forwarded}/6 forwarded, "
        f"message {got.message_status}, passes {sorted(got.passes.values())}"
    )
    assert got.forwarded == 6, summary
    assert got.message_status == "done", summary
    assert got.seconds < TARGET_SECONDS, summary
    assert max(got.passes.values()) >= 2, summary  # the ledger shows the second pass
    # R6: exactly one SCF request per member request; R7: nothing cancelled.
    assert sorted(got.scf_requests.values()) == [1] * 6, got.scf_requests
    assert got.cancelled == []

    tally.record(
        f"requests sync: 50 % 503 + 429 bursts, 6 holds (seed {seed})",
        faults_injected=sum(got.faults.values()),
        messages_processed=1,
        records_processed=6,
        effects_lost=6 - got.forwarded,
        duplicates=sum(n - 1 for n in got.scf_requests.values() if n > 1),
        transient_cancellations=len(got.cancelled),
    )
