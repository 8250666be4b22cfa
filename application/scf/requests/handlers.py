"""The six ways a member request becomes an SCF request, one per R4 route (research §7.4).

Each handler picks the SCF user (the pickup library's system user `{INST}-{LIB}`, or for a patron
digitization the patron's linked SCF account), builds the body with the domain's builders (R5:
bodies and comments are pinned there, byte for byte) and places the request on the SCF item or
bib the plan found.

Requests are first placed with `allow_same_request=false`, so Alma itself refuses a second
identical request (R6). When that refusal meets a request an earlier attempt did place (its reply
lost to a timeout, or a crash before the ledger write), the handler adopts it: the SCF request of
the same user whose comment names this member request's `Internal identifier`. When the active
request is another member request's (two patrons of one pickup library share its system user),
the request is placed again with `allow_same_request=true`, as the Java app always did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.scf.linked_users import scf_patron
from application.scf.requests.plans import Plan, ScfTarget, Unforwardable
from application.shared.alma import AlmaRequest, DuplicateRequest
from domain.scf.institutions import RemoteStorage
from domain.scf.requests.bodies import digitization_body, item_hold_body, title_hold_body
from domain.scf.requests.comments import parse_internal_identifier
from domain.scf.requests.routing import Route
from domain.shared.alma_json import JsonObject

MAX_USER_REQUEST_PAGES = 20
"""Bound on the pages of a system user's requests searched for an earlier attempt's request."""


@dataclass(frozen=True)
class Placed:
    """The SCF request that now stands for the member request."""

    scf_request_id: str
    scf_mms_id: str
    user_id: str
    user_how: str
    adopted: bool = False


async def place(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> Placed:
    """Create the SCF request for `plan` (its decision is to forward)."""
    return await _HANDLERS[plan.route](alma, storage, plan)


def _scf(alma: AlmaDirectory, storage: RemoteStorage) -> AlmaGateway:
    return alma.gateway(storage.institution)


def _system_user(plan: Plan) -> tuple[str, str]:
    user = plan.pickup.system_user
    if user is None:
        raise Unforwardable(
            f"no pickup library for the system user ({plan.pickup.how.value}); set the "
            f"default_library of {plan.pickup.pickup_institution}"
        )
    return user, f"system user from the {plan.pickup.how.value}"


async def _patron(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> tuple[str, str]:
    if not plan.member_user_id:
        raise Unforwardable("the member request names no patron")
    found = await scf_patron(alma, storage, plan.institution, plan.member_user_id)
    return found.primary_id, found.how


def _target(plan: Plan) -> ScfTarget:
    if plan.target is None:  # planning forwards only with a target; this guards the types
        raise Unforwardable("nothing in the SCF to place the request on")
    return plan.target


def _digitization(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan, user: str) -> JsonObject:
    return digitization_body(
        plan.request,
        plan.route,
        plan.institution,
        plan.original,
        user,
        storage.digitization_department,
    )


async def _item_hold(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> Placed:
    user, how = _system_user(plan)
    return await _create(alma, storage, plan, user, how, item_hold_body(plan.request, user))


async def _title_hold(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> Placed:
    user, how = _system_user(plan)
    body = title_hold_body(
        plan.request, plan.institution, plan.original, user, scf_holding_id=plan.title_holding_id
    )
    return await _create(alma, storage, plan, user, how, body)


async def _patron_digitization(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> Placed:
    user, how = await _patron(alma, storage, plan)
    return await _create(alma, storage, plan, user, how, _digitization(alma, storage, plan, user))


async def _staff_digitization(alma: AlmaDirectory, storage: RemoteStorage, plan: Plan) -> Placed:
    user, how = _system_user(plan)
    return await _create(alma, storage, plan, user, how, _digitization(alma, storage, plan, user))


async def _create(
    alma: AlmaDirectory, storage: RemoteStorage, plan: Plan, user: str, how: str, body: JsonObject
) -> Placed:
    scf = _scf(alma, storage)
    target = _target(plan)
    item_ids = target.item_ids

    async def create(allow_same_request: bool) -> AlmaRequest:
        if plan.route.is_title_level or item_ids is None:
            return await scf.create_title_request(
                target.mms_id, user, body, allow_same_request=allow_same_request
            )
        return await scf.create_item_request(
            *item_ids, user, body, allow_same_request=allow_same_request
        )

    try:
        created = await create(allow_same_request=False)
        adopted = False
    except DuplicateRequest:
        earlier = await _earlier_attempt(scf, target, user, plan.request.request_id)
        if earlier is None:
            # Another member request of the same system user: both must stand.
            created, adopted = await create(allow_same_request=True), False
        else:
            created, adopted = earlier, True
    if created.request_id is None:
        raise Unforwardable("Alma created the SCF request but returned no request id")
    return Placed(created.request_id, target.mms_id, user, how, adopted)


async def _earlier_attempt(
    scf: AlmaGateway, target: ScfTarget, user: str, request_id: str
) -> AlmaRequest | None:
    """The active SCF request of `user` on `target` that names `request_id`, if any."""

    def ours(request: AlmaRequest) -> bool:
        return (
            request.user_primary_id == user
            and parse_internal_identifier(request.comment) == request_id
        )

    item_ids = target.item_ids
    if item_ids is not None:
        return next(filter(ours, await scf.list_item_requests(*item_ids)), None)
    offset: int | None = 0
    for _ in range(MAX_USER_REQUEST_PAGES):
        if offset is None:
            break
        page = await scf.list_user_requests(user, offset=offset)
        for request in page.records:
            if request.mms_id == target.mms_id and ours(request):
                return request
        offset = page.next_offset
    return None


_HANDLERS: dict[Route, Callable[[AlmaDirectory, RemoteStorage, Plan], Awaitable[Placed]]] = {
    Route.ITEM_HOLD: _item_hold,
    Route.TITLE_HOLD: _title_hold,
    Route.PATRON_ITEM_DIGITIZATION: _patron_digitization,
    Route.PATRON_TITLE_DIGITIZATION: _patron_digitization,
    Route.STAFF_ITEM_DIGITIZATION: _staff_digitization,
    Route.STAFF_TITLE_DIGITIZATION: _staff_digitization,
}
"""Research §7.4.1–§7.4.6; item or title level follows the route (see `_create`)."""

__all__ = ["Placed", "place"]
