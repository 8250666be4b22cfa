"""The Java app's CSV failure reports, kept because SCF staff read them (rule P1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ReportName(StrEnum):
    """One CSV file per handler, named as the Java app named them."""

    ITEMS = "ItemsHandler"
    REQUESTS = "RequestHandler"
    LOAN_RETURNED = "LoanReturnedHandler"
    REQUEST_CANCELED = "RequestCanceled"


@dataclass(frozen=True)
class ReportRow:
    """A failure as the report shows it: barcode, institution, message."""

    report: ReportName
    occurred_at: datetime
    barcode: str | None
    institution: str | None
    message: str
