"""A table checked against its model, every pydantic error put in our words (rule B9).

One problem line per error, key path first; a secret's value is never echoed, only its kind.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from adapters.workflow_config.errors import Loc, is_secret, key_path, kind_of, shown, suggestion
from adapters.workflow_config.schema_values import PROBLEM_TYPE

__all__ = ["describe_errors", "known_keys", "validate"]

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], value: object, loc: Loc, problems: list[str]) -> M | None:
    """``value`` as ``model``, or None with one problem per error appended (all of them)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_errors(exc.errors(include_url=False), loc, model))
        return None


def describe_errors(errors: list[ErrorDetails], prefix: Loc, model: type[BaseModel]) -> list[str]:
    """One problem line per pydantic error, key path first, never echoing a secret."""
    lines: list[str] = []
    for error in errors:
        loc: Loc = (*prefix, *error["loc"])
        path = key_path(loc)
        kind = error["type"]
        if kind == "missing":
            lines.append(f"{path}: missing")
        elif kind == "extra_forbidden":
            lines.append(f"{path}: unknown key{_suggest(model, error['loc'])}")
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            lines.append(f"{path}: must be a table, got {kind_of(error['input'])}")
        else:
            sentence = error["msg"] if kind == PROBLEM_TYPE else _lowered(error["msg"])
            got = shown(error["input"], secret=is_secret(loc))
            lines.append(f"{path}: {sentence}, got {got}")
    return lines


def _lowered(message: str) -> str:
    return "must be valid: " + message[:1].lower() + message[1:]


def _suggest(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    unknown = loc[-1] if loc else None
    target: type[BaseModel] | None = model
    for segment in loc[:-1]:
        field = target.model_fields.get(str(segment)) if target is not None else None
        annotation = field.annotation if field is not None else None
        target = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if not isinstance(unknown, str) or target is None:
        return ""
    return suggestion(unknown, known_keys(target))


def known_keys(model: type[BaseModel]) -> list[str]:
    """The TOML keys a table model knows (its fields' aliases: ``from`` for ``sender``)."""
    return [field.alias or name for name, field in model.model_fields.items()]
