"""An items sync fills the SCF's threshold with the Java configuration's 4 threads (rule A4).

Through the real HTTP adapter against the fake Alma (150 ms per call, Alma's 25 calls a second
per institution, refused calls counted): 120 new items on 12 bibs, `max_number_of_threads` 4.
With 4 items in flight the SCF saw about 0.56 of its threshold (issue 13): each bib's first item
makes its calls one after another while the bib's other items wait. The sync adds items while
the SCF's limiter has calls to spare.

That no rolling second holds more than 25 calls is shown where the fake does not share the
bridge's process (tests/e2e/test_shared_rate_limit.py): here the fake stamps a call when this
process gets to it, so a pause of this process (a collection under coverage) bunches the stamps.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig
from adapters.scf.alma_directory import HttpAlmaDirectory
from entrypoints.bridge_wiring import item_sync
from tests.scenarios.items.support import FAST_LOAN_RETRY, Copy, calls, seed_bib
from tests.scenarios.world import AB, SCF, example_settings, open_world

THRESHOLD = 25
LATENCY = 0.15
BIBS, PER_BIB = 12, 10


async def test_A4_four_threads_fill_the_scf_threshold_without_passing_it(tmp_path: Path) -> None:
    settings = example_settings(max_number_of_threads="4")
    faults = FaultConfig(latency=LATENCY, per_second_threshold=THRESHOLD)
    async with open_world(tmp_path, alma="http", faults=faults, settings=settings) as world:
        records = [
            seed_bib(
                world,
                AB,
                f"99AB7{bib:02d}",
                [Copy(f"PACE{bib:02d}{n:02d}", "ABRS", "rs_shared_in_ab") for n in range(PER_BIB)],
                title=f"Paced title {bib}",
            )
            for bib in range(BIBS)
        ]
        world.drop_publishing_file(AB, "AB_pace_new.tar.gz", records)
        assert world.faults is not None
        # The service's client: Alma's rate, default retries, over the fake's ASGI app.
        client = AlmaHttpClient(
            settings.gateway,
            rate_per_second=THRESHOLD,
            retry=RetryPolicy(),
            transport=httpx.ASGITransport(app=create_fake_alma_app(world.state, world.faults)),
        )
        bridge = dataclasses.replace(world.bridge, alma=HttpAlmaDirectory(settings, client))
        try:
            summary = await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        finally:
            await client.aclose()
    assert summary.created == BIBS * PER_BIB
    scf = [call for call in calls(world, SCF) if call.status != 429]
    times = [call.time.timestamp() for call in scf]
    rate = (len(times) - 1) / (max(times) - min(times))
    assert summary.most_in_flight > 4
    assert rate >= 0.85 * THRESHOLD, f"{rate:.1f} SCF calls a second"
