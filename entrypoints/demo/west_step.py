"""The demo's WEST step (issue 15, rules H1–H5): 01AAA_AB's holdings exported from the fake Alma.

Four titles are catalogued in the fake: two with holdings committed to WEST (a 583), one whose
only holding has no 583, and one without holdings. The export runs as `almabridge run
west-holdings --config workflows.toml --institution 01AAA_AB --ids west-ids.txt` builds it, on
the service's own ledger, so `almabridge runs` and the status page show it beside the syncs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.clock import SystemClock
from application.ports.ledger import Ledger
from application.shared.run_records import RecordOutcome, RunRecord, RunStatus
from application.shared.runs import JobRunner, RunResult
from entrypoints.demo.setup import AB, API_KEYS
from entrypoints.west_wiring import WEST_HOLDINGS_ENTRY
from entrypoints.workflow_entries import read_config

__all__ = ["WestStep", "run_west_step"]

_TITLES: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = (
    ("Pacific Northwest quarterly", (("ABRS", "WEST retain until 2035"), ("ABMAIN", None))),
    ("Journal of Western Archives", (("ABRS", "WEST retain & review 2040"),)),
    ("Open-shelf newsletter", (("ABMAIN", None),)),
    ("Catalogued, never held", ()),
)
"""Title, then its holdings: library and the 583's text (None: no WEST commitment)."""
_LOCATIONS = {"ABRS": "stacks", "ABMAIN": "main"}
"""A location of each library in the demo seed."""
KEPT = 2
"""Holdings the export keeps (those with a 583)."""


@dataclass(frozen=True)
class WestStep:
    """What the WEST run did, read back from its run records, and where its files are."""

    run: RunResult
    records: tuple[RunRecord, ...]
    outputs: tuple[Path, ...]

    def kept(self) -> int:
        """Holdings written to the files."""
        return sum(r.kind == "holding" and r.outcome is RecordOutcome.OK for r in self.records)

    def skipped(self) -> int:
        """Records skipped on purpose: a holding without 583, a bib without holdings (H2, H4)."""
        return sum(r.outcome is RecordOutcome.SKIPPED for r in self.records)

    def as_expected(self) -> bool:
        """The run ended ok with both WEST holdings kept and its three files written."""
        return (
            self.run.run.status is RunStatus.OK
            and self.kept() == KEPT
            and len(self.outputs) == 3
            and all(path.is_file() for path in self.outputs)
        )


async def run_west_step(
    root: Path, state: FakeAlmaState, gateway: str, ledger: Ledger, say: Callable[[str], None]
) -> WestStep:
    """Catalogue the titles, write the workflows file and the ids, export, and say what it did."""
    ids = _catalogue(state)
    config, ids_file = root / "workflows.toml", root / "west-ids.txt"
    await asyncio.to_thread(_write, config, ids_file, gateway, ids)
    setup = await asyncio.to_thread(read_config, config)
    args = ["--institution", AB, "--ids", str(ids_file)]
    # The entry reads the configuration file: a small blocking read, off the event loop.
    options = await asyncio.to_thread(WEST_HOLDINGS_ENTRY.options, args, setup)
    workflow = WEST_HOLDINGS_ENTRY.build(options, setup)
    runner = JobRunner(ledger, SystemClock(), ledger)
    result = await runner.run(workflow, out_dir=root / "west-holdings", options=options)
    async with ledger.unit_of_work() as uow:
        records = tuple(await uow.runs.records_of(result.run.id))
    outputs = tuple(Path(result.run.out_dir or root) / digest.name for digest in result.run.outputs)
    step = WestStep(result, records, outputs)
    say(
        f"then: WEST holdings export of {AB} ({len(ids)} MMS ids): run {result.run.id} "
        f"{result.run.status.value}, {step.kept()} holdings kept, {step.skipped()} skipped"
    )
    for path in outputs:
        say(f"      {path}")
    return step


def _catalogue(state: FakeAlmaState) -> list[str]:
    ids: list[str] = []
    for number, (title, holdings) in enumerate(_TITLES):
        mms_id = state.create_bib(AB, title=title).mms_id
        ids.append(mms_id)
        for library, retention in holdings:
            state.seed_holding_record(AB, mms_id, _holding(number, library, retention))
    return ids


def _holding(number: int, library: str, retention: str | None) -> str:
    """A holdings record as Alma keeps it: a migrated 001, an 852, and a WEST 583 if any."""
    fields = [
        f'<controlfield tag="001">migrated-{number}</controlfield>',
        '<controlfield tag="008">1511020l||||||||4   uu</controlfield>',
        f'<datafield ind1="0" ind2=" " tag="852"><subfield code="b">{library}</subfield>'
        f'<subfield code="c">{_LOCATIONS[library]}</subfield></datafield>',
    ]
    if retention is not None:
        fields.append(
            '<datafield ind1="1" ind2=" " tag="583">'
            f'<subfield code="a">{escape(retention)}</subfield><subfield code="f">WEST</subfield>'
            "</datafield>"
        )
    return f"<record><leader>00000nx  a2200000ui 4500</leader>{''.join(fields)}</record>"


def _write(config: Path, ids_file: Path, gateway: str, ids: Sequence[str]) -> None:
    config.write_text(
        f'[alma.{AB}]\nurl = "{gateway}"\napikey = "{API_KEYS[AB]}"\n'
        "rate_limit_per_second = 25\n\n"
        '[west_holdings]\nprefix = "wau"\norg_code = "AbDEMO"\nstamp_005 = true\n',
        encoding="utf-8",
    )
    ids_file.write_text("".join(f"{mms_id}\n" for mms_id in ids), encoding="utf-8")
