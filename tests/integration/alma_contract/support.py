"""The two backends of the contract suite, built from the same seed on the same frozen clock.

* ``memory``: `InMemoryAlmaDirectory` over a `FakeAlmaState` (direct calls, no HTTP);
* ``http``: `HttpAlmaDirectory` (settings from ``examples/conf.json``, whose keys are the demo
  seed's) and one `AlmaHttpClient` talking to the fake app through ``httpx.ASGITransport``.

Both states come from the demo seed with identical clocks, and the fake's ids are drawn from the
seed, so the same calls give the same ids, dates and JSON on both sides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.fake_alma import (
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)
from adapters.fake_alma.memory_gateway import InMemoryAlmaDirectory
from adapters.scf.alma_directory import HttpAlmaDirectory
from adapters.scf.config.loader import settings_from_bytes
from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.shared.alma import AlmaItem

BackendName = Literal["memory", "http"]
BACKENDS: tuple[BackendName, ...] = ("memory", "http")

AB = "01AAA_AB"
CD = "01AAA_CD"
SCF = "01AAA_RS"
GATEWAY_URL = "http://fake-alma"
EXAMPLE_CONF = Path(__file__).resolve().parents[3] / "examples" / "conf.json"

# Retries are the resilience suite's subject; here they only have to be quick if one happens.
FAST_RETRY = RetryPolicy(
    attempts=3,
    budget_seconds=5.0,
    wait_initial=0.001,
    wait_max=0.01,
    wait_jitter=0.0,
    rate_limit_pause=0.01,
)


@dataclass
class Backend:
    """One side of the contract: its directory, and the fake state behind it for checks."""

    name: BackendName
    state: FakeAlmaState
    directory: AlmaDirectory

    def gateway(self, institution: str = SCF) -> AlmaGateway:
        """The gateway of an institution (the SCF by default)."""
        return self.directory.gateway(institution)


@asynccontextmanager
async def open_backend(name: BackendName) -> AsyncIterator[Backend]:
    """A fresh demo-seeded backend; the HTTP one closes its pooled client on exit."""
    clock = ManualClock()
    state = state_from_file(clock=clock)
    if name == "memory":
        yield Backend(name, state, InMemoryAlmaDirectory(state, gateway_url=GATEWAY_URL))
        return
    # Thresholds off: the clock is frozen (so that dates match the twin's), which would put
    # every call of a test into one second; thresholds are tested by the resilience suite.
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), clock=clock, seed=state.seed)
    client = AlmaHttpClient(
        GATEWAY_URL,
        rate_per_second=1000,  # the throttle's spacing is real time; keep it negligible here
        retry=FAST_RETRY,
        transport=httpx.ASGITransport(app=create_fake_alma_app(state, faults)),
    )
    settings = settings_from_bytes(EXAMPLE_CONF.read_bytes(), {})
    try:
        yield Backend(name, state, HttpAlmaDirectory(settings, client))
    finally:
        await client.aclose()


# ---- seed facts and setup helpers shared by the tests ---------------------------------------

NZ_LINKED_IN_AB = "9912345600000021"
"""An NZ record the AB seed links a bib to (none in the SCF)."""
NZ_UNLINKED = "9912345800000021"
"""An NZ record no institution links to yet."""
NZ_ABSENT = "9999999900000021"
"""An id the network zone does not hold."""
SCF_LIBRARY = "RS"
SCF_DESK = "DEFAULT_CIRC_DESK"
SCF_USER = "01AAA_AB-ABRS"
"""The AB system user of rule N3, seeded in the SCF."""


def item_body(barcode: str, *, provenance: str = AB, description: str = "c.1") -> dict[str, object]:
    """Alma item JSON as the bridge sends it (rule I9): no pid, library or location."""
    return {
        "item_data": {
            "barcode": barcode,
            "provenance": {"value": provenance},
            "description": description,
            "physical_material_type": {"value": "BOOK"},
        },
        "holding_data": {},
    }


async def scf_holding(
    gateway: AlmaGateway, *, nz_mms_id: str = NZ_UNLINKED, location: str = "rs_shared"
) -> tuple[str, str]:
    """A new SCF bib (linked to an NZ record) with one holding: (mms_id, holding_id)."""
    bib = await gateway.create_bib_from_nz(nz_mms_id)
    holding = await gateway.create_holding(_some(bib.mms_id), SCF_LIBRARY, location)
    return _some(bib.mms_id), _some(holding.holding_id)


async def scf_items(gateway: AlmaGateway, *barcodes: str) -> list[AlmaItem]:
    """Items with these barcodes under one new SCF bib and holding."""
    mms_id, holding_id = await scf_holding(gateway)
    return [await gateway.create_item(mms_id, holding_id, item_body(b)) for b in barcodes]


def ids(item: AlmaItem) -> tuple[str, str, str]:
    """(mms_id, holding_id, pid) of an item view."""
    return _some(item.mms_id), _some(item.holding_id), _some(item.pid)


def _some(value: str | None) -> str:
    assert value is not None
    return value
