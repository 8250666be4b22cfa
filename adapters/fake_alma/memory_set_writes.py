"""In-memory twin of `ItemizedSets` over the fake's state, without HTTP (rule O8).

As the twins of ``memory_roles`` (whose `_Twin` it builds on): each method sends the HTTP
adapter's own body through a ``json`` round trip, reads it as ``routes_sets`` reads it, calls
the same state method, renders the answer as the route does and reads it with the adapter's
functions; the state's Alma errors become the adapter's typed errors. The contract suite
``tests/integration/alma_roles/test_set_writes.py`` holds the pair together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.alma_http.requests_kit import each_record
from adapters.alma_http.set_writes import (
    ADD_SET_MEMBERS,
    CREATE_SET,
    SEARCH_SETS,
    answered_set,
    checked_ids,
    create_body,
    members_body,
    name_query,
    set_writes_error,
    sets_page,
)
from adapters.fake_alma import routes_sets
from adapters.fake_alma.memory_roles import _check_offset, _Twin, _wire
from application.ports.alma.sets import MAX_SET_PAGE, AlmaSet
from application.shared.alma import Page


class MemoryItemizedSets(_Twin):
    """`ItemizedSets` over the fake's state (as ``routes_sets``)."""

    async def create_itemized_set(
        self, name: str, content_type: str = "BIB_MMS", description: str | None = None
    ) -> AlmaSet:
        received = routes_sets.create_fields(_wire(create_body(name, content_type, description)))

        def work() -> Any:
            made = self._state.create_itemized_set(self._code, **received)
            return _wire(routes_sets.set_json(made, self._base))

        subject = {"set_name": name}
        data = await self._run(CREATE_SET, work, set_writes_error, subject)
        return answered_set(
            data, institution=self.institution, operation=CREATE_SET, subject=subject
        )

    async def add_members(self, set_id: str, ids: Sequence[str]) -> int:
        received = routes_sets.member_ids(_wire(members_body(checked_ids(ids))))

        def work() -> Any:
            found = self._state.add_set_members(self._code, set_id, received)
            return _wire(routes_sets.set_json(found, self._base))

        subject = {"set_id": set_id}
        data = await self._run(ADD_SET_MEMBERS, work, set_writes_error, subject)
        found = answered_set(
            data, institution=self.institution, operation=ADD_SET_MEMBERS, subject=subject
        )
        return found.number_of_members or 0

    async def set_named(self, name: str) -> AlmaSet | None:
        async for found in each_record(lambda offset: self._search(name, offset)):
            if found.name == name:
                return found
        return None

    async def _search(self, name: str, offset: int) -> Page[AlmaSet]:
        def work() -> Any:
            _check_offset(offset)
            found = self._state.sets_named(self._code, routes_sets.name_words(name_query(name)))
            return _wire(routes_sets.sets_json(found, MAX_SET_PAGE, offset, self._base))

        data = await self._run(SEARCH_SETS, work, set_writes_error, {"set_name": name})
        return sets_page(data, offset)
