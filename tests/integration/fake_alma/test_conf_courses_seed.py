"""Configuration, courses, seeding and the in-process Python API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.fake_alma import (
    ManualClock,
    build_state,
    default_seed_path,
    load_seed,
    state_from_file,
)
from adapters.fake_alma.seed import SeedError, yaml_supported
from tests.integration.fake_alma.conftest import AB, API, CD, SCF, error_code, headers


async def test_libraries_and_locations_of_the_demo_consortium(client: httpx.AsyncClient) -> None:
    libraries = await client.get(f"{API}/conf/libraries", headers=headers(CD))
    assert [lib["code"] for lib in libraries.json()["library"]] == ["CDRS"]
    locations = await client.get(f"{API}/conf/libraries/CDRS/locations", headers=headers(CD))
    codes = [loc["code"] for loc in locations.json()["location"]]
    assert codes == ["rs_shared_1", "rs_shared_2", "rs_shared_3", "cd_stacks"]
    scf = await client.get(f"{API}/conf/libraries/RS/locations", headers=headers(SCF))
    # rs_shared_in_ab and rs_shared_3 are deliberately absent in the SCF: items from there
    # take the default holding location (rule I8's fallback).
    assert [loc["code"] for loc in scf.json()["location"]] == [
        "rs_shared",
        "rs_shared_1",
        "rs_shared_2",
    ]
    unknown = await client.get(f"{API}/conf/libraries/NOPE", headers=headers(SCF))
    assert unknown.status_code == 400
    unknown_location = await client.get(
        f"{API}/conf/libraries/RS/locations/rs_shared_3", headers=headers(SCF)
    )
    assert unknown_location.status_code == 400


async def test_courses_search_and_paging(client: httpx.AsyncClient) -> None:
    everything = await client.get(f"{API}/courses", headers=headers(AB))
    assert everything.json()["total_record_count"] == 2
    found = await client.get(f"{API}/courses", params={"q": "code~lis"}, headers=headers(AB))
    assert [c["code"] for c in found.json()["course"]] == ["LIS500"]
    both = await client.get(
        f"{API}/courses", params={"q": "all~2025 AND name~intro"}, headers=headers(AB)
    )
    assert [c["code"] for c in both.json()["course"]] == ["HIST101"]
    page = await client.get(f"{API}/courses", params={"limit": 1, "offset": 1}, headers=headers(AB))
    assert [c["code"] for c in page.json()["course"]] == ["LIS500"]
    bad = await client.get(f"{API}/courses", params={"q": "nonsense"}, headers=headers(AB))
    assert bad.status_code == 400
    missing = await client.get(f"{API}/courses/123", headers=headers(AB))
    assert error_code(missing) == "401006"


def test_same_seed_gives_the_same_ids() -> None:
    first = state_from_file(clock=ManualClock())
    second = state_from_file(clock=ManualClock())
    for code in (AB, CD, SCF):
        assert list(first.institution(code).items) == list(second.institution(code).items)
        assert list(first.institution(code).bibs) == list(second.institution(code).bibs)
    item = first.find_item(AB, "AB0001")
    assert item is not None
    assert item.mms_id.startswith("99")
    assert item.mms_id.endswith("04101")
    assert item.holding_id.startswith("22")
    assert item.pid.startswith("23")
    seed = load_seed(default_seed_path())
    seed["seed"] = 99
    other = build_state(seed, clock=ManualClock())
    assert list(other.institution(AB).items) != list(first.institution(AB).items)


def test_seed_errors_name_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    with pytest.raises(SeedError, match="invalid JSON"):
        load_seed(broken)
    with pytest.raises(SeedError, match="cannot read seed"):
        load_seed(tmp_path / "absent.json")
    bad_library = {
        "institutions": [
            {"code": "X", "bibs": [{"holdings": [{"library": "NOPE", "location": "x"}]}]}
        ]
    }
    with pytest.raises(SeedError, match=r"institution X: .*Library code NOPE"):
        build_state(bad_library)
    yaml_seed = tmp_path / "seed.yaml"
    yaml_seed.write_text("institutions: []\n", encoding="utf-8")
    if yaml_supported():
        assert load_seed(yaml_seed) == {"institutions": []}
    else:
        with pytest.raises(SeedError, match="PyYAML"):
            load_seed(yaml_seed)


async def test_async_seed_loading_matches(tmp_path: Path) -> None:
    from adapters.fake_alma.seed import load_seed_async

    path = tmp_path / "tiny.json"
    path.write_text(
        json.dumps({"institutions": [{"code": "01T", "api_keys": ["k"]}]}), encoding="utf-8"
    )
    assert await load_seed_async(path) == load_seed(path)


def test_python_api_for_tests_and_the_demo() -> None:
    state = state_from_file(clock=ManualClock())
    item = state.seed_item(
        SCF, barcode="CD0002X", library="RS", location="rs_shared", title="Minutes"
    )
    same_bib = state.seed_item(
        SCF, barcode="CD0009X", library="RS", location="rs_shared", mms_id=item.mms_id
    )
    assert same_bib.holding_id == item.holding_id
    loan = state.create_loan(
        SCF, "01AAA_CD-CDRS", item_pid=item.pid, circ_desk="DEFAULT_CIRC_DESK", library="RS"
    )
    assert state.loans_of(SCF) == [loan]
    assert state.item_by_barcode(SCF, "CD0002X").process_type == "LOAN"
    assert repr(state) == "FakeAlmaState(institutions=['01AAA_AB', '01AAA_CD', '01AAA_RS'])"
    assert "example-key" not in repr(state)
    assert state.institution_for_key("scf-example-key") == SCF
    assert state.institution_for_key("nope") is None
    with pytest.raises(KeyError, match="no institution 01ZZZ"):
        state.institution("01ZZZ")
