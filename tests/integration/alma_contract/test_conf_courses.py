"""Contract: libraries, locations and courses (search with paging, get)."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError
from tests.integration.alma_contract.support import AB, Backend


async def test_libraries_of_the_institution(backend: Backend) -> None:
    libraries = await backend.gateway(AB).libraries()

    assert [(lib.code, lib.name) for lib in libraries] == [
        ("ABRS", "AB Remote Storage Library"),
        ("ABMAIN", "AB Main Library"),
    ]
    assert libraries[0].raw["link"] == "http://fake-alma/almaws/v1/conf/libraries/ABRS"


async def test_locations_of_a_library_and_an_unknown_library(backend: Backend) -> None:
    gateway = backend.gateway(AB)

    locations = await gateway.locations("ABRS")

    assert [loc.code for loc in locations] == ["rs_shared_in_ab", "stacks"]
    assert locations[0].raw["remote_storage"] == "SCF"
    with pytest.raises(AlmaError) as caught:
        await gateway.locations("NOPE")
    assert caught.value.error_code == "402221"
