"""Bad records from ArchivesSpace (rules AS5, AS4, B2): a record without a field the rules need
is recorded failed naming it and left out, the rest written and uploaded; values with ``&``,
``<`` and non-ASCII characters come out escaped, so the file parses and keeps them."""

from __future__ import annotations

import pytest

from application.shared.run_records import RecordOutcome, RunStatus
from tests.integration.aspace.support import (
    MARC_OUT,
    Rig,
    add_resource,
    by_call_number,
    call_numbers,
    collection,
    marcxml,
    uri,
)


@pytest.mark.parametrize(
    ("tag", "named"),
    [
        pytest.param("008", "no 008", id="008"),
        pytest.param("041", "no 041", id="041"),
        pytest.param("099", "no 099 $a", id="099"),
    ],
)
async def test_AS5_B2_a_record_without_a_needed_field_is_failed_naming_it_and_the_rest_uploaded(
    rig: Rig, tag: str, named: str
) -> None:
    state = rig.aspace.state
    add_resource(state, 80, data=marcxml("C03.80", without=[tag]), barcodes=["32101000000080"])
    add_resource(state, 81, barcodes=["32101000000081"])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key) for f in result.failures] == [("resource", uri(80))]
    assert result.failures[0].reason.startswith(f"{named}:")
    # fix: upstream raised and uploaded nothing; here the rest is written and uploaded.
    written = collection(rig.out / MARC_OUT)
    assert call_numbers(written) == ["C03.81", "MC001.01", "MC001.02.01"]
    assert (rig.drop / MARC_OUT).read_bytes() == (rig.out / MARC_OUT).read_bytes()
    # rule AS3: the failed record's container is no item, and does not hide a later one.
    assert "32101000000080" not in (rig.out / MARC_OUT).read_text("utf-8")


async def test_AS4_ampersand_less_than_and_non_ASCII_in_barcodes_locations_and_notes_survive(
    rig: Rig,
) -> None:
    title = "Smith & <Sons> of Montréal"
    data = marcxml("C03.90", title=title, location="scarcpph rcpé&<x")
    add_resource(rig.aspace.state, 90, data=data)
    rig.aspace.state.add_top_container(
        3, 90, barcode="B&<é-90", type="bôx", indicator="1 & <2>", location_code="scarcpé&<x"
    )

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.failures
    # rule AS4: built with an XML library, so the file parses (fix: `&` broke it upstream).
    record = by_call_number(collection(rig.out / MARC_OUT))["C03.90"]
    assert (rig.drop / MARC_OUT).read_bytes() == (rig.out / MARC_OUT).read_bytes()
    assert "B&amp;&lt;é-90" in (rig.out / MARC_OUT).read_text("utf-8")  # escaped, UTF-8
    notes = [v for f in record.data_fields if f.tag == "520" for v in f.values("a")]
    assert notes == [f"Papers documenting {title.lower()}."]
    titles = [v for f in record.data_fields if f.tag == "245" for v in f.values("a")]
    assert titles == [title]
    locations = [v for f in record.data_fields if f.tag == "982" for v in f.values("c")]
    assert locations == ["scarcpph", "rcpé&<x"]
    [item] = [f for f in record.data_fields if f.tag == "949"]
    assert item.values("a") == ("B&<é-90",)
    assert item.values("b") == ("bôx 1 & <2>",)
    assert item.values("c") == ("scarcpé&<x",)
    resources = (await rig.kinds(result.run.id))["resource"]
    assert resources[uri(90)].outcome is RecordOutcome.OK
    assert resources[uri(90)].reason == "written as C03.90, items B&<é-90"


async def test_B2_a_record_rule_17_leaves_out_is_skipped_and_keeps_the_run_ok(rig: Rig) -> None:
    state = rig.aspace.state
    add_resource(state, 5, data=marcxml("C0140"), barcodes=["32101000000005"])
    add_resource(state, 6, data=marcxml("C03.6", without=["856"]))

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.failures
    resources = (await rig.kinds(result.run.id))["resource"]
    assert (resources[uri(5)].outcome, resources[uri(5)].reason) == (
        RecordOutcome.SKIPPED,
        "call number C0140 is on the exclusion list",
    )
    assert (resources[uri(6)].outcome, resources[uri(6)].reason) == (
        RecordOutcome.SKIPPED,
        "no 856: no finding aid to link",
    )
    assert call_numbers(collection(rig.out / MARC_OUT)) == ["MC001.01", "MC001.02.01"]
    # Its containers are not asked for: it would not be written anyway.
    assert rig.aspace.state.call_log.count((3, 5)) == rig.aspace.marc_requests(5) == 1
