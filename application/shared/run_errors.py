"""How a batch run refuses, fails or crashes, as typed errors the command line turns into exit
codes (rules B1, B2, B5, B8): 2 for a run that cannot start as asked, 1 for the others."""

from __future__ import annotations

from application.shared.run_records import JobRun

__all__ = ["RunCrashed", "RunFailed", "RunRefused", "WorkflowBusy"]


class RunFailed(Exception):
    """A workflow cannot go on (a missing input, an unreachable source): the run ends `failed`
    with this one clear sentence, and the command exits 1 (rule B2)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class WorkflowBusy(Exception):
    """Another process sharing the ledger is running this workflow now (B1); nothing was run."""

    def __init__(self, workflow: str) -> None:
        super().__init__(
            f"workflow {workflow} is already running in another process sharing this ledger; "
            "run it again once that run has ended"
        )
        self.workflow = workflow


class RunRefused(Exception):
    """The run cannot start as asked (no such run to resume, an output folder that cannot be
    created): a usage error, exit 2 (B2, B8). Nothing was run."""


class RunCrashed(Exception):
    """The workflow raised an unexpected error: the run is recorded `failed` with the error's
    class and message (B2); the command says so in one line and exits 1, no traceback."""

    def __init__(self, run: JobRun, reason: str) -> None:
        super().__init__(f"run {run.id} of {run.workflow} failed: {reason}")
        self.run = run
        self.reason = reason
