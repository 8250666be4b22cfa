"""How a batch workflow run ended: ``ok``, ``partial`` or ``failed`` (rule B7, exit codes)."""

from __future__ import annotations

from enum import StrEnum


class RunOutcome(StrEnum):
    """A run's outcome, as the configuration (``[notify.*] on``) and the ledger spell it."""

    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
