"""Patron data stays in Alma (rule P2): what older ledgers hold of it is removed.

`forwarded_requests.request_data` kept the export's `patronInfo` whole; it now keeps only the
patron identifier (the Alma user id the rules match on) and the names of the contact fields the
export gave (`withheld`), which a later forwarding reads again from the member's Alma. Inbox
bodies of webhooks kept the SCF request's comment (with its `Patron: name, id, e-mail, address`)
and any patron keys Alma sent; they now keep only what the bridge reads back from the comment
(`Internal identifier: RID` and the `{Source Request …}` tag). Only data changes.

The scrub is written out here, not imported, so that this revision does the same whatever the
code later becomes.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTACT = ("name", "email", "address")
_PATRON_KEYS = frozenset(
    {
        "contact_info", "address", "email", "email_address", "phone", "phone_number",
        "first_name", "middle_name", "last_name", "full_name", "pref_first_name",
        "pref_middle_name", "pref_last_name", "preferred_first_name", "preferred_middle_name",
        "preferred_last_name", "user_full_name", "patron_name", "birth_date",
    }
)
_SOURCE_REQUEST = re.compile(r"\{Source Request ([^-{}]*)-([^-{}]*)-([^}]*)\}")
_INTERNAL_IDENTIFIER = re.compile(r"Internal identifier: ([^\s{}|]+)")
_BATCH = 500

requests = sa.table(
    "forwarded_requests",
    sa.column("source_institution", sa.String()),
    sa.column("source_request_id", sa.String()),
    sa.column("request_data", sa.JSON()),
)
inbox = sa.table(
    "inbox_messages",
    sa.column("id", sa.BigInteger()),
    sa.column("body", sa.LargeBinary()),
)


def _patron(stored: object) -> object:
    if not isinstance(stored, dict):
        return stored
    if set(stored) <= {"identifier", "withheld"}:
        return stored
    withheld = [name for name in _CONTACT if stored.get(name) is not None]
    return {"identifier": stored.get("identifier"), "withheld": withheld}


def _comment(comment: str) -> str | None:
    parts = []
    ids = _INTERNAL_IDENTIFIER.findall(comment)
    if ids:
        parts.append(f"Internal identifier: {ids[-1]}")
    tags = list(_SOURCE_REQUEST.finditer(comment))
    if tags:
        parts.append(tags[-1].group(0))
    return " ".join(parts) if parts else None


def _scrub(value: object, key: object = None) -> object:
    if isinstance(value, dict):
        kept: dict[object, object] = {}
        for name, inner in value.items():
            if name in _PATRON_KEYS:
                continue
            if key == "user_request" and name == "comment" and isinstance(inner, str):
                kept[name] = _comment(inner)
            else:
                kept[name] = _scrub(inner, name)
        return kept
    if isinstance(value, list):
        return [_scrub(inner, key) for inner in value]
    return value


def _body(raw: bytes) -> bytes:
    try:
        document = json.loads(raw)
        if not isinstance(document, dict):
            return raw
        scrubbed = _scrub(document)
    except (ValueError, RecursionError):
        return raw
    if scrubbed == document:
        return raw
    return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")).encode()


def upgrade() -> None:
    """Keep the patron identifier of each forwarded request; scrub the inbox bodies."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(requests.c.source_institution, requests.c.source_request_id,
                  requests.c.request_data)
    ).all()
    for institution, request_id, data in rows:
        if not isinstance(data, dict) or not isinstance(data.get("patron"), dict):
            continue
        patron = _patron(data["patron"])
        if patron == data["patron"]:
            continue
        bind.execute(
            requests.update()
            .where(requests.c.source_institution == institution)
            .where(requests.c.source_request_id == request_id)
            .values(request_data={**data, "patron": patron})
        )
    last = None
    while True:
        query = sa.select(inbox.c.id, inbox.c.body).order_by(inbox.c.id).limit(_BATCH)
        if last is not None:
            query = query.where(inbox.c.id > last)
        batch = bind.execute(query).all()
        if not batch:
            break
        for message_id, body in batch:
            raw = bytes(body)
            scrubbed = _body(raw)
            if scrubbed != raw:
                bind.execute(inbox.update().where(inbox.c.id == message_id).values(body=scrubbed))
        last = batch[-1][0]


def downgrade() -> None:
    """Nothing to do: what was removed stays in Alma, where it belongs (P2)."""
