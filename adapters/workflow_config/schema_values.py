"""The value checks every table of the workflows file shares, and the two kinds of table.

Each check refuses with the whole sentence (``must be a whole number ≥ 1``), so that the loader
only adds the key path and the value it got. Checks that belong to one area (a remote's URL, an
e-mail address) live with that area's models.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = [
    "PROBLEM_TYPE",
    "Digits",
    "Flag",
    "OptionalText",
    "Port",
    "Seconds",
    "SecretText",
    "Section",
    "Table",
    "Text",
    "TextList",
    "array",
    "http_url",
    "optional_text",
    "problem",
    "text",
    "whole",
]


PROBLEM_TYPE: Final = "workflow_config"
"""The error type of a check's own sentence: said as it is, where pydantic's own are reworded."""


def problem(sentence: str) -> PydanticCustomError:
    return PydanticCustomError(PROBLEM_TYPE, sentence)


def _quoted(value: object) -> str:
    # Strict, as TOML types it: a number where text is expected is refused, not guessed at.
    if not isinstance(value, str):
        raise problem("must be text in quotes")
    return value


def text(value: object) -> str:
    stripped = _quoted(value).strip()
    if not stripped:
        raise problem("must not be empty")
    return stripped


def optional_text(value: object) -> str | None:
    # An empty string means "not set", as the example file writes it (org_code = "").
    return _quoted(value).strip() or None


def _secret_text(value: object) -> str | None:
    # Never stripped: a secret is sent as it is written.
    return _quoted(value) or None


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise problem("must be true or false")
    return value


def whole(minimum: int, maximum: int | None = None, why: str = "") -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise problem(f"must be a whole number ≥ {minimum}")
        if maximum is not None and value > maximum:
            raise problem(f"must be a whole number from {minimum} to {maximum}{why}")
        return value

    return check


def _positive_number(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise problem("must be a number greater than 0")
    return float(value)


def array(what: str) -> Callable[[object], list[object]]:
    # The array itself; each item is checked by its own validator, so a problem names its index.
    def check(value: object) -> list[object]:
        if not isinstance(value, list):
            raise problem(f"must be an array of {what}")
        return value

    return check


def _digits(value: object) -> str:
    digits = text(value)
    if not digits.isdigit():
        raise problem("must be digits in quotes")
    return digits


def http_url(value: object) -> str:
    url = text(value)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise problem("must be an http(s):// URL such as https://api-na.hosted.exlibrisgroup.com")
    if parts.query or parts.fragment:
        raise problem("must be a URL without ?query or #fragment")
    return url.rstrip("/")


Text = Annotated[str, BeforeValidator(text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]
SecretText = Annotated[str | None, BeforeValidator(_secret_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
TextList = Annotated[list[Text], BeforeValidator(array('texts in quotes, such as ["583"]'))]
Digits = Annotated[str, BeforeValidator(_digits)]
Port = Annotated[int, BeforeValidator(whole(1, 65535))]
Seconds = Annotated[float, BeforeValidator(_positive_number)]


class Table(BaseModel):
    """A table that refuses keys it does not know: a misspelt optional key would otherwise be
    ignored and its default used."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Section(BaseModel):
    # Workflow sections keep unknown keys: rule tables and constants are data in the file (B9).
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)
