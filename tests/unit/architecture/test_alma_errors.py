"""Alma's error codes are the adapter's business: the application acts on typed errors only.

Issue 14: use cases compared raw codes ("401873", a set of "request gone" codes); the adapter now
names each refusal the application acts on (`BarcodeExists`, `RequestGone`, ...).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters.alma_http.error_envelope import Envelope, error_class_for
from application.shared.alma import (
    AlmaError,
    AlreadyOnLoan,
    BarcodeExists,
    DuplicateRequest,
    ItemNotFound,
    ItemNotReadyForLoan,
    RequestGone,
)

APPLICATION = Path(__file__).resolve().parents[3] / "application"


def _code_comparisons(path: Path) -> list[str]:
    """`error_code` compared (==, !=, in, not in) with anything, or a bare Alma code literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "error_code" for s in sides):
                found.append(f"{path.name}:{node.lineno}")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.isdigit()
            and len(node.value) in (6, 7, 8)
        ):
            found.append(f"{path.name}:{node.lineno} {node.value!r}")
    return found


def test_no_application_module_compares_an_alma_error_code() -> None:
    modules = sorted(APPLICATION.rglob("*.py"))
    assert modules
    offenders = [hit for module in modules for hit in _code_comparisons(module)]
    assert offenders == []


@pytest.mark.parametrize(
    ("operation", "code", "expected"),
    [
        ("create item", "401873", BarcodeExists),
        ("create item request", "401136", DuplicateRequest),
        ("create title request", "401136", DuplicateRequest),
        ("create loan", "400042", AlreadyOnLoan),
        ("create loan", "401689", ItemNotReadyForLoan),
        ("create loan", "40166411", ItemNotReadyForLoan),
        ("create loan", "402204", AlmaError),  # an unknown circulation desk: not worth waiting
        ("cancel item request", "401694", RequestGone),
        ("cancel user request", "401694", RequestGone),
        ("get request", "401694", RequestGone),
        # The same code means something else to another call.
        ("get item by barcode", "401689", ItemNotFound),
        ("create holding", "401873", AlmaError),
    ],
)
def test_the_adapter_names_a_refusal_by_its_code_and_operation(
    operation: str, code: str, expected: type[AlmaError]
) -> None:
    assert error_class_for(400, Envelope(code, "message", "t1"), operation) is expected
