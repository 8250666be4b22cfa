"""Programming errors in callers of the rules name the record they were about."""

from __future__ import annotations

from domain.shared.errors import DomainError, InvalidIdentifier, MalformedItem


def test_a_domain_error_names_institution_barcode_and_request() -> None:
    error = MalformedItem(
        "member item has no item_data", institution="01AAA_AB", barcode="1", request_id="9"
    )
    assert str(error) == "member item has no item_data (institution 01AAA_AB, barcode 1, request 9)"
    assert isinstance(error, DomainError)


def test_a_domain_error_without_context_is_just_the_problem() -> None:
    assert str(InvalidIdentifier("bad")) == "bad"
