"""Seeds: a JSON (or, when PyYAML is importable, YAML) description of a consortium, loaded
into a :class:`FakeAlmaState` before serving.

PyYAML is not a dependency of almabridge, so YAML seeds work only where it happens to be
installed; JSON always works. Reading a file is blocking I/O: do it before the server starts,
or through :func:`load_seed_async`, never inside a request.

Shape (every key optional unless noted)::

    {"seed": 1, "network_zone": {"code": "01AAA_NETWORK", "bibs": [BIB…]},
     "institutions": [{"code": "01AAA_AB" (required), "name", "number": "4101",
        "api_keys": [...], "network_member": true, "per_second_threshold": 25,
        "daily_quota": 100000,
        "libraries": [{"code" (required), "name", "circ_desks": {"CODE": "Name"},
                       "departments": {...}, "locations": [{"code", "name", "type",
                       "remote_storage", "external_name"}]}],
        "bibs": [BIB + {"nz_mms_id", "holdings": [{"library", "location", "call_number",
                 "items": [{"barcode" (required), "item_data": {...},
                            "holding_data": {...}}]}]}],
        "users": [partial Alma user JSON, "primary_id" required],
        "linked_users": [{"source_institution_code", "source_user_id"}],
        "loans": [{"user_id", "barcode", "circ_desk", "library"}],
        "requests": [{"user_id", "barcode" | "mms_id", "body": {...},
                      "allow_same_request": false}],
        "courses": [partial Alma course JSON]}]}

    BIB = {"mms_id", "record": "<record>…</record>", or fields "title", "author", "isbn",
           "issn", "complete_edition", "place_of_publication", "publisher_const",
           "date_of_publication", "system_numbers": ["(OCoLC)…"]}
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.fake_alma.clock import Clock
from adapters.fake_alma.errors import AlmaError
from adapters.fake_alma.state import FakeAlmaState

SEEDS = Path(__file__).resolve().parent / "seeds"
_BIB_FIELDS = (
    "title",
    "author",
    "isbn",
    "issn",
    "complete_edition",
    "place_of_publication",
    "publisher_const",
    "date_of_publication",
    "system_numbers",
)


class SeedError(ValueError):
    """A seed that cannot be loaded, naming the file or the entry at fault."""


def default_seed_path() -> Path:
    """The demo consortium matching ``examples/conf.json``."""
    return SEEDS / "consortium.json"


def yaml_supported() -> bool:
    """Whether YAML seeds can be read here (PyYAML importable)."""
    try:
        importlib.import_module("yaml")
    except ImportError:
        return False
    return True


def load_seed(path: str | Path) -> dict[str, Any]:
    """Read a seed file: JSON, or YAML (``.yml``/``.yaml``) when PyYAML is installed."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read seed {source}: {exc.strerror}") from None
    if source.suffix.lower() in (".yml", ".yaml"):
        if not yaml_supported():
            raise SeedError(f"{source}: YAML seeds need PyYAML, which is not installed; use JSON")
        yaml = importlib.import_module("yaml")
        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedError(f"{source}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise SeedError(f"{source}: a seed is an object with an 'institutions' list")
    return data


async def load_seed_async(path: str | Path) -> dict[str, Any]:
    """:func:`load_seed` off the event loop."""
    return await asyncio.to_thread(load_seed, path)


def _bib_fields(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in _BIB_FIELDS if key in entry}


def build_state(seed: Mapping[str, Any], *, clock: Clock | None = None) -> FakeAlmaState:
    """A state holding everything the seed describes."""
    nz = seed.get("network_zone") or {}
    state = FakeAlmaState(
        clock=clock,
        seed=int(seed.get("seed", 0)),
        network_code=str(nz.get("code", "01AAA_NETWORK")),
    )
    for entry in nz.get("bibs") or []:
        state.add_nz_bib(entry.get("record"), mms_id=entry.get("mms_id"), **_bib_fields(entry))
    institutions = seed.get("institutions") or []
    for inst in institutions:
        _add_institution(state, inst)
    # Second pass: links that need every institution's users and items to exist.
    for inst in institutions:
        code = inst["code"]
        try:
            for link in inst.get("linked_users") or []:
                state.create_linked_user(
                    code, link["source_institution_code"], link["source_user_id"]
                )
            for loan in inst.get("loans") or []:
                state.create_loan(
                    code,
                    loan["user_id"],
                    item_barcode=loan["barcode"],
                    circ_desk=loan.get("circ_desk", "DEFAULT_CIRC_DESK"),
                    library=loan.get("library") or _item_library(state, code, loan["barcode"]),
                )
            for request in inst.get("requests") or []:
                _add_request(state, code, request)
        except (KeyError, ValueError, AlmaError) as exc:
            raise SeedError(f"institution {code}: {exc}") from exc
    return state


def _item_library(state: FakeAlmaState, code: str, barcode: str) -> str:
    return str(state.item_by_barcode(code, barcode).data["library"]["value"])


def _add_request(state: FakeAlmaState, code: str, request: Mapping[str, Any]) -> None:
    body = dict(request.get("body") or {"request_type": "HOLD"})
    allow_same = bool(request.get("allow_same_request", False))
    if "barcode" in request:
        item = state.item_by_barcode(code, request["barcode"])
        state.create_item_request(
            code,
            item.mms_id,
            item.holding_id,
            item.pid,
            request["user_id"],
            body,
            allow_same_request=allow_same,
        )
    else:
        state.create_title_request(
            code, request["mms_id"], request["user_id"], body, allow_same_request=allow_same
        )


def _add_institution(state: FakeAlmaState, inst: Mapping[str, Any]) -> None:
    code = inst.get("code")
    if not code:
        raise SeedError("an institution needs a 'code'")
    try:
        state.add_institution(
            code,
            name=inst.get("name"),
            number=inst.get("number"),
            api_keys=inst.get("api_keys") or [],
            network_member=bool(inst.get("network_member", True)),
            per_second_threshold=int(inst.get("per_second_threshold", 25)),
            daily_quota=int(inst.get("daily_quota", 100_000)),
        )
        for lib in inst.get("libraries") or []:
            state.add_library(
                code,
                lib["code"],
                name=lib.get("name"),
                description=lib.get("description"),
                circ_desks=lib.get("circ_desks"),
                departments=lib.get("departments"),
                campus=lib.get("campus", ""),
            )
            for loc in lib.get("locations") or []:
                state.add_location(
                    code,
                    lib["code"],
                    loc["code"],
                    name=loc.get("name"),
                    external_name=loc.get("external_name"),
                    type=loc.get("type", "OPEN"),
                    remote_storage=loc.get("remote_storage", ""),
                )
        for bib_entry in inst.get("bibs") or []:
            bib = state.create_bib(
                code,
                bib_entry.get("record"),
                mms_id=bib_entry.get("mms_id"),
                nz_mms_id=bib_entry.get("nz_mms_id"),
                **_bib_fields(bib_entry),
            )
            for holding_entry in bib_entry.get("holdings") or []:
                holding = state.create_holding(
                    code,
                    bib.mms_id,
                    library=holding_entry["library"],
                    location=holding_entry["location"],
                    call_number=holding_entry.get("call_number"),
                )
                for item_entry in holding_entry.get("items") or []:
                    body = {
                        "item_data": {
                            **(item_entry.get("item_data") or {}),
                            "barcode": item_entry["barcode"],
                        },
                        "holding_data": item_entry.get("holding_data") or {},
                    }
                    state.create_item(code, bib.mms_id, holding.holding_id, body)
        for user in inst.get("users") or []:
            state.add_user(code, user)
        for course in inst.get("courses") or []:
            state.add_course(code, course)
    except (KeyError, ValueError, AlmaError) as exc:
        raise SeedError(f"institution {code}: {exc}") from exc


def state_from_file(path: str | Path | None = None, *, clock: Clock | None = None) -> FakeAlmaState:
    """Load a seed file (the demo consortium by default) into a new state."""
    return build_state(load_seed(path or default_seed_path()), clock=clock)
