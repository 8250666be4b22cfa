"""Creations whose answer is lost: a bib or holding is created once all the same (I7, I8, I10).

Alma has no natural key that refuses a second holding at one (bib, location) or a second local
bib with one 035. When the connection resets after Alma made one, or a gateway answers 502/504,
the HTTP adapter does not repeat the POST (`AlmaOutcomeUnknown`); the catalog looks the record up
and creates again only when it is absent. Over a real HTTP port (the fake Alma under uvicorn),
so the resets are real ones, as httpx meets them in production.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.memory_gateway import InMemoryAlmaGateway
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from application.scf.items.item_sync import ItemSyncSummary
from application.scf.items.scf_catalog import CreateRetry, ScfCatalog
from application.shared.alma import AlmaBib, AlmaHolding, AlmaOutcomeUnknown
from domain.scf.items.holdings import resolve_scf_location
from domain.scf.items.published import PublishedItem
from entrypoints.bridge_wiring import item_sync
from tests.reliability.support import LateResets, Rig, open_rig, table_rows
from tests.scenarios.items.support import FAST_LOAN_RETRY, NZ_BARCODES, Copy, record
from tests.scenarios.world import CD, SCF, collection, example_settings

CD_LOCATIONS = ("rs_shared_1", "rs_shared_2", "rs_shared_3")  # rs_shared_3 → rs_shared (I8)
BIB_POST = ("POST", r"/almaws/v1/bibs$")
HOLDING_POST = ("POST", r"/holdings$")
LOCAL_MMS = "99CDL1"
NZ_MMS = "99CDN1"
FAST_CREATE_RETRY = CreateRetry(attempts=4, wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)


def _seed(state: FakeAlmaState) -> bytes:
    """CD: an NZ-linked bib with 9 items and a local bib with 6, over three locations each."""
    records = []
    for mms, nz, count in ((NZ_MMS, NZ_BARCODES, 9), (LOCAL_MMS, None, 6)):
        copies = [Copy(f"{mms}-{n}", "CDRS", CD_LOCATIONS[n % 3]) for n in range(count)]
        for copy in copies:
            state.seed_item(
                CD,
                barcode=copy.barcode,
                library=copy.library,
                location=copy.location,
                mms_id=mms,
                nz_mms_id=nz,
                title=f"Lost replies {mms}",
            )
        records.append(record(mms, copies, nz_id=nz, title=f"Lost replies {mms}"))
    return collection(records)


async def _sync(rig: Rig) -> ItemSyncSummary:
    return await item_sync(rig.bridge, loan_retry=FAST_LOAN_RETRY).run(CD)


def _posts(state: FakeAlmaState, pattern: tuple[str, str]) -> list[int]:
    """Statuses of the SCF calls matching (method, path pattern), in order."""
    method, path = pattern
    return [
        c.status
        for c in state.call_log.records(institution=SCF)
        if c.method == method and re.search(path, c.path)
    ]


def _assert_each_created_once_and_lent(state: FakeAlmaState, rows: list[dict[str, object]]) -> None:
    """I7: one SCF bib per record; I8: one holding per (bib, resolved location); I10: every
    item mirrored and lent to `{INST}-{library}`."""
    scf = state.institution(SCF)
    nz_bibs = state.find_bibs(SCF, nz_mms_id=NZ_BARCODES)
    local_bibs = state.find_bibs(SCF, other_system_id=f"({CD}){LOCAL_MMS}")
    assert (len(nz_bibs), len(local_bibs), len(scf.bibs)) == (1, 1, 2)
    holdings = Counter((h.mms_id, h.library, h.location) for h in scf.holdings.values())
    assert sorted(holdings.values()) == [1] * 6, holdings
    for bib in (*nz_bibs, *local_bibs):
        assert sorted(h.location or "" for h in state.holdings_of(SCF, bib.mms_id)) == [
            "rs_shared",
            "rs_shared_1",
            "rs_shared_2",
        ]
    assert len(scf.items) == 15
    lent = Counter(loan.item_pid for loan in scf.loans.values() if loan.active)
    assert set(lent) == {item.pid for item in scf.items.values()}
    assert set(lent.values()) == {1}
    assert {loan.user_id for loan in scf.loans.values()} == {f"{CD}-CDRS"}
    assert (
        sorted((r["state"], r["loaned_at"] is not None) for r in rows) == [("mirrored", True)] * 15
    )


async def test_I7_I8_I10_every_bib_and_holding_answer_lost_after_Alma_made_it(
    tmp_path: Path,
) -> None:
    """Every bib and holding POST is carried out by Alma and its answer cut off: each is sent
    once, found by the look that follows, and no second bib or holding appears."""
    state = state_from_file()
    published = _seed(state)
    late: list[LateResets] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        late.append(LateResets(app, rate=1.0, seed=1, paths=[BIB_POST, HOLDING_POST]))
        return late[0]

    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    overrides = {"max_number_of_threads": 10}  # concurrent items of one bib (I7, I8)
    async with open_rig(tmp_path, state, injector, wrap=wrap, settings_overrides=overrides) as rig:
        rig.put(CD, "items", "CD_1_new.xml", published)
        summary = await _sync(rig)
        rows = (await table_rows(rig.database_url))["mirrored_items"]
    assert (summary.created, summary.failed) == (15, 0)
    resets = Counter(path.rsplit("/", 1)[-1] for _method, path, _status in late[0].resets)
    assert resets == {"bibs": 2, "holdings": 6}
    assert _posts(state, BIB_POST) == [200, 200]  # each sent once: the look found it
    assert _posts(state, HOLDING_POST) == [200] * 6
    _assert_each_created_once_and_lent(state, rows)


class GatewayTimeouts:
    """A proxy in front of Alma that answers 504 to the first `limit` calls matching
    (method, path pattern): after Alma served them when `served`, else without passing them on."""

    def __init__(
        self, app: ASGIApp, paths: Iterable[tuple[str, str]], *, served: bool, limit: int
    ) -> None:
        self.app = app
        self._paths = [(method, re.compile(pattern)) for method, pattern in paths]
        self._served = served
        self._left = limit
        self.timeouts: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        targeted = scope["type"] == "http" and any(
            m == scope["method"] and p.search(str(scope["path"])) for m, p in self._paths
        )
        if not targeted or self._left == 0:
            await self.app(scope, receive, send)
            return
        self._left -= 1
        self.timeouts.append(str(scope["path"]))
        if self._served:

            async def swallow(_message: object) -> None:
                return None

            await self.app(scope, receive, swallow)
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 504, "headers": headers})
        await send({"type": "http.response.body", "body": b"<h1>504 Gateway Timeout</h1>"})


async def test_I7_I8_a_504_after_Alma_made_it_or_before_it_got_there_creates_each_once(
    tmp_path: Path,
) -> None:
    """A gateway gives up on the first bib and holding POSTs, once after Alma made them (the
    look finds them) and once before they reached Alma (the look finds nothing: created again).
    Either way, one bib per record and one holding per location."""
    state = state_from_file()
    published = _seed(state)
    proxies: list[GatewayTimeouts] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        made = GatewayTimeouts(app, [BIB_POST, HOLDING_POST], served=True, limit=2)
        lost = GatewayTimeouts(made, [BIB_POST, HOLDING_POST], served=False, limit=2)
        proxies.extend((made, lost))
        return lost

    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    overrides = {"max_number_of_threads": 10}
    async with open_rig(tmp_path, state, injector, wrap=wrap, settings_overrides=overrides) as rig:
        rig.put(CD, "items", "CD_1_new.xml", published)
        summary = await _sync(rig)
        rows = (await table_rows(rig.database_url))["mirrored_items"]
    assert (summary.created, summary.failed) == (15, 0)
    assert [len(p.timeouts) for p in proxies] == [2, 2]
    # The fake saw: the unserved POSTs never; each served one once (its look found it); every
    # other creation once. 2 bibs and 6 holdings, less what the outer proxy kept from Alma.
    sent = len(_posts(state, BIB_POST)) + len(_posts(state, HOLDING_POST))
    assert sent == 2 + 6
    _assert_each_created_once_and_lent(state, rows)


# ---- the catalog's bounded look-then-create -------------------------------------------------


class LosesEveryAnswer(InMemoryAlmaGateway):
    """The SCF in memory, but every holding POST's answer is lost: applied (`applied`) or not."""

    def __init__(self, state: FakeAlmaState, *, applied: bool) -> None:
        super().__init__(state, SCF)
        self.applied = applied
        self.posts = 0

    async def create_holding(self, mms_id: str, library: str, location: str) -> AlmaHolding:
        self.posts += 1
        if self.applied:
            await super().create_holding(mms_id, library, location)
        raise AlmaOutcomeUnknown(SCF, "create holding", method="POST", path="/holdings")


async def test_I8_a_holding_whose_answers_keep_getting_lost_is_tried_a_bounded_time() -> None:
    """Nothing lands and every answer is lost: the catalog stops after its attempts with the
    transient error (the item fails transiently and its file is processed again)."""
    state = state_from_file()
    bib = state.create_bib(SCF, title="Never lands")
    gateway = LosesEveryAnswer(state, applied=False)
    remote_storage = example_settings().consortium.remote_storage
    catalog = ScfCatalog(gateway, remote_storage, FAST_CREATE_RETRY)
    resolved = resolve_scf_location("rs_shared_1", await catalog.location_codes(), remote_storage)
    with pytest.raises(AlmaOutcomeUnknown, match="look before repeating it"):
        await catalog.holding_for(bib.mms_id, resolved)
    assert gateway.posts == FAST_CREATE_RETRY.attempts
    assert state.holdings_of(SCF, bib.mms_id) == []


async def test_I8_after_giving_up_the_next_item_looks_again_not_at_a_stale_cache() -> None:
    """A first answer was lost and the catalog gave up, yet Alma made the holding: the next item
    of that bib lists the holdings again and reuses it (no second holding, no POST)."""
    state = state_from_file()
    bib = state.create_bib(SCF, title="Landed late")
    gateway = LosesEveryAnswer(state, applied=False)
    remote_storage = example_settings().consortium.remote_storage
    catalog = ScfCatalog(gateway, remote_storage, CreateRetry(attempts=1))
    resolved = resolve_scf_location("rs_shared_1", await catalog.location_codes(), remote_storage)
    gateway.applied = True  # this one lands, but its answer is lost and no attempt is left
    with pytest.raises(AlmaOutcomeUnknown):
        await catalog.holding_for(bib.mms_id, resolved)
    (made,) = state.holdings_of(SCF, bib.mms_id)
    assert await catalog.holding_for(bib.mms_id, resolved) == made.holding_id
    assert gateway.posts == 1
    assert len(state.holdings_of(SCF, bib.mms_id)) == 1


class LosesBibAnswers(InMemoryAlmaGateway):
    """The SCF in memory; every local bib POST is applied and its answer lost."""

    def __init__(self, state: FakeAlmaState) -> None:
        super().__init__(state, SCF)
        self.posts = 0

    async def create_local_bib(self, marc_record_xml: str) -> AlmaBib:
        self.posts += 1
        await super().create_local_bib(marc_record_xml)
        raise AlmaOutcomeUnknown(SCF, "create local bib", method="POST", path="/almaws/v1/bibs")


async def test_I7_N4_after_giving_up_on_a_local_bib_it_is_looked_up_again() -> None:
    """The batch had looked the bib up (absent, cached), then its creation's answer was lost and
    no attempt was left: the next item of the record looks by `({INST}){mms}` again (N4) and
    finds the bib Alma made, instead of creating a second one from the cached "absent" (I7)."""
    state = state_from_file()
    gateway = LosesBibAnswers(state)
    other_id = f"({CD}){LOCAL_MMS}"
    marcxml = (
        f'<record><controlfield tag="001">{LOCAL_MMS}</controlfield>'
        f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">{other_id}</subfield>'
        '</datafield><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Lost replies'
        "</subfield></datafield></record>"
    )
    item = PublishedItem(
        institution=CD,
        member_mms_id=LOCAL_MMS,
        nz_mms_id=None,
        barcode="CDL-1",
        library="CDRS",
        location="rs_shared_1",
        internal_note_2=None,
        deleted=False,
        source_file="CD_1_new.xml",
        record_position=0,
        local_bib_marcxml=marcxml,
    )
    remote_storage = example_settings().consortium.remote_storage
    catalog = ScfCatalog(gateway, remote_storage, CreateRetry(attempts=1))
    assert await catalog.find_bibs(item) == ()  # looked up and cached: absent
    with pytest.raises(AlmaOutcomeUnknown):
        await catalog.bib_for(item)
    (made,) = state.find_bibs(SCF, other_system_id=other_id)
    assert await catalog.find_bibs(item) == (made.mms_id,)
    assert await catalog.bib_for(item) == made.mms_id
    assert gateway.posts == 1
