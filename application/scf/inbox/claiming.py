"""How eagerly a worker claims: by what it has in hand (W8, issue 13; W6, W7, issue 19).

Several workers may share one inbox (`serve` and `almabridge worker` on PostgreSQL). A worker
holding a *long* message (a file sync's JOB_END, a scheduled workflow run, anything not known to
be short) is busy: it claims only messages that have waited `BUSY_GRACE_FACTOR` poll intervals,
so that an idle worker, looking every poll interval, takes a new one first (before this, one
worker claimed both members' JOB_ENDs and the other stayed idle). A worker holding only *short*
messages (one member record each: W6, W7, C1, C2, or a job that only gets recorded) claims the
next due message at once while it has a free slot: a stream of member webhooks is handled as it
arrives instead of one message per busy interval.
"""

from __future__ import annotations

from domain.scf.institutions import Consortium
from domain.scf.member_webhooks import ItemChanged, RequestCreated
from domain.scf.webhooks import JobFailed, LoanReturned, RequestCanceled, classify_webhook

BUSY_GRACE_FACTOR = 3.0
"""A busy worker claims messages due for at least this × poll_interval (3 s in the service)."""
SHORT = (RequestCreated, ItemChanged, LoanReturned, RequestCanceled, JobFailed)
"""Messages about one member record, or only recorded: seconds of work, never a file."""


def runs_long(body: bytes, consortium: Consortium) -> bool:
    """Whether the message may keep its worker busy for long: anything but a `SHORT` one."""
    return not isinstance(classify_webhook(body, consortium), SHORT)
