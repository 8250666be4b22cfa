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
    AlmaStop,
    AlreadyOnLoan,
    BarcodeExists,
    DuplicateRequest,
    ItemNotFound,
    ItemNotReadyForLoan,
    QuotaExhausted,
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


def test_the_daily_quota_is_a_stop_not_a_record_s_failure() -> None:
    """Issue 14: `except AlmaError` records a record's failure and lets the quota stop by,
    without every handler re-raising it by hand."""
    quota = error_class_for(429, Envelope("DAILY_THRESHOLD", "Daily limit", "t1"), "get item")
    assert quota is QuotaExhausted
    assert issubclass(quota, AlmaStop)
    assert not issubclass(quota, AlmaError)
    per_second = error_class_for(429, Envelope("PER_SECOND_THRESHOLD", "Slow down", "t2"))
    assert issubclass(per_second, AlmaError)


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, ast.Tuple):
        return {n for element in node.elts for n in _names(element)}
    return {node.id} if isinstance(node, ast.Name) else set()


def _lets_through(handler: ast.ExceptHandler) -> bool:
    """`except QuotaExhausted: raise`, or `if isinstance(e, QuotaExhausted): raise` at the top
    of an `except AlmaError` handler: the by-hand pass-through AlmaStop made needless."""
    body = handler.body
    if _names(handler.type) & {"QuotaExhausted", "AlmaStop"}:
        return len(body) == 1 and isinstance(body[0], ast.Raise) and body[0].exc is None
    first = body[0]
    return (
        isinstance(first, ast.If)
        and "QuotaExhausted" in ast.unparse(first.test)
        and isinstance(first.body[0], ast.Raise)
    )


def test_no_application_module_lets_the_quota_through_by_hand() -> None:
    offenders = [
        f"{module.name}:{node.lineno}"
        for module in sorted(APPLICATION.rglob("*.py"))
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.ExceptHandler) and _lets_through(node)
    ]
    assert offenders == []
