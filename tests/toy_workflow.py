"""A toy batch workflow for the run layer's tests (rules B1, B2, B5, B8); never shipped.

Registered through $ALMABRIDGE_WORKFLOW_MODULES=tests.toy_workflow. It reads an input file of
one key a line and records each key:
  - `bad…`  → failed (B2: the run goes on and ends partial),
  - `skip…` → skipped (B2: alone it keeps the run ok),
  - others  → ok, after a simulated remote write appended to `--effects` (what a resume must not
    repeat, B5).
It writes `toy-count.txt` (one `key<TAB>value` line per ok key, in input order) to the output
folder. With `--pause-at N --gate FILE` it stops before the key at index N, prints
`toy-count: waiting for the gate` and waits until FILE exists: a test kills it there.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext, RunFailed, Workflow
from application.shared.run_records import RecordOutcome
from entrypoints.workflow_registry import WorkflowArguments, WorkflowEntry, WorkflowSetup

TOY = "toy-count"
OUTPUT = "toy-count.txt"
WAITING = "toy-count: waiting for the gate"


class ToyCount:
    """Counts the keys of an input file (see the module's docstring)."""

    name = TOY

    def __init__(
        self,
        source: Path,
        *,
        effects: Path | None = None,
        pause_at: int | None = None,
        gate: Path | None = None,
        crash: bool = False,
    ) -> None:
        self.source = source
        self.effects = effects
        self.pause_at = pause_at
        self.gate = gate
        self.crash = crash

    async def run(self, context: RunContext) -> None:
        """Record every key, then write the output."""
        if not self.source.is_file():
            raise RunFailed(f"the input file {self.source} does not exist")
        data = self.source.read_bytes()
        await context.add_input("keys", data)
        keys = [line.strip() for line in data.decode().splitlines() if line.strip()]
        lines: list[str] = []
        for index, key in enumerate(keys):
            if index == self.pause_at and self.gate is not None:
                await self._wait_for_gate(self.gate)
            if self.crash and index == len(keys) // 2:
                raise ValueError(f"toy crash at {key}")
            earlier = context.earlier("line", key)
            if earlier is not None:
                # B5: done by the run being resumed; its value rebuilds the same output.
                if earlier.outcome is RecordOutcome.OK:
                    lines.append(f"{key}\t{earlier.detail['value']}")
                continue
            if key.startswith("bad"):
                await context.record("line", key, RecordOutcome.FAILED, f"line {key}: bad key")
            elif key.startswith("skip"):
                await context.record("line", key, RecordOutcome.SKIPPED, f"line {key}: skipped")
            else:
                value = len(key)
                if self.effects is not None and not context.dry_run:
                    with self.effects.open("a") as effects:
                        effects.write(f"{key}\n")
                detail: dict[str, JsonValue] = {"value": value}
                await context.record("line", key, RecordOutcome.OK, f"line {key} counted", detail)
                lines.append(f"{key}\t{value}")
        output = context.out_dir / OUTPUT
        partial = output.with_name(f".{OUTPUT}.part")
        partial.write_text("".join(f"{line}\n" for line in lines))
        os.replace(partial, output)  # B3: the final name only when complete
        await context.add_output(OUTPUT, output)

    @staticmethod
    async def _wait_for_gate(gate: Path) -> None:
        if gate.exists():
            return
        print(WAITING, flush=True)
        # Waits on a marker file the test creates (another process: no Event to share), not on
        # a fixed delay.
        while not gate.exists():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(TOY)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--effects", type=Path)
    parser.add_argument("--pause-at", type=int)
    parser.add_argument("--gate", type=Path)
    parser.add_argument("--crash", action="store_true")
    parser.add_argument("--api-key")  # never stored (secrets stay out of the ledger)
    given = parser.parse_args(list(args))
    return {
        "input": str(given.input.absolute()),
        "effects": None if given.effects is None else str(given.effects.absolute()),
        "pause_at": given.pause_at,
        "gate": None if given.gate is None else str(given.gate.absolute()),
        "crash": given.crash,
        "api_key": given.api_key,
    }


def _build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
    def path(name: str) -> Path | None:
        value = options.get(name)
        return None if value is None else Path(str(value))

    source = path("input")
    assert source is not None
    pause_at = options.get("pause_at")
    return ToyCount(
        source,
        effects=path("effects"),
        pause_at=pause_at if isinstance(pause_at, int) else None,
        gate=path("gate"),
        crash=bool(options.get("crash")),
    )


WORKFLOWS = [
    WorkflowEntry(
        name=TOY,
        summary="counts the keys of a file (a test's toy)",
        options=_options,
        build=_build,
        usage="--input FILE [--effects FILE] [--pause-at N --gate FILE] [--crash]",
    )
]

TICK = "toy-tick"
"""A workflow of no arguments for the schedule tests (B6): each run records one tick."""


class ToyTick:
    """Records one `tick` keyed by the run's time."""

    name = TICK

    async def run(self, context: RunContext) -> None:
        """One record; nothing else."""
        await context.record("tick", context.now().isoformat(), RecordOutcome.OK, "ticked")


def _no_options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    WorkflowArguments(TICK).parse_args(list(args))
    return {}


WORKFLOWS.append(
    WorkflowEntry(
        name=TICK,
        summary="records one tick (a schedule test's toy)",
        options=_no_options,
        build=lambda options, setup: ToyTick(),
    )
)
