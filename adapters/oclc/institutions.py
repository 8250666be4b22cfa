"""Rule O3's institutions table from upstream's ``institutions.json``:
``[{"name": "Carleton University", "id": "5153", "code": "CEF"}, …]``.

``id`` is the institution's 4-digit MMS id suffix and ``code`` its OCLC symbol, which names its
``{code}bibprocess.csv``. Each value must be a JSON string: a suffix written as a number is
refused, as identifiers are never numbers (``"0151"`` would lose its zero). Other keys are
ignored. Every error names the file and the entry (counted from 1, with its code when it has one),
as a configuration error does (B9), and the whole table is refused: an institution left out
would send its rows to ``unknown_suffix.csv`` without a word.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

from domain.oclc.split import NZ_SUFFIX, Institution, institution_problem, table_problems

__all__ = ["InstitutionsFileError", "institutions_from_json", "read_institutions"]

_KEYS: Final = ("name", "id", "code")


class InstitutionsFileError(ValueError):
    """The institutions table cannot be used; the message names the file and the entry (B2, B9:
    a configuration error, exit 2)."""


def read_institutions(path: Path, *, nz_suffix: str = NZ_SUFFIX) -> tuple[Institution, ...]:
    """Rule O3: the table in the file at ``path``; see `institutions_from_json`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InstitutionsFileError(f"{path}: the file does not exist") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InstitutionsFileError(f"{path}: cannot be read ({reason})") from None
    return institutions_from_json(str(path), data, nz_suffix=nz_suffix)


def institutions_from_json(
    file: str, data: bytes, *, nz_suffix: str = NZ_SUFFIX
) -> tuple[Institution, ...]:
    """Rule O3: the institutions of ``data`` (UTF-8 JSON, upstream's shape), in its order."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InstitutionsFileError(f"{file}: not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InstitutionsFileError(
            f"{file}: not JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(document, list):
        raise InstitutionsFileError(
            f"{file}: expected a list of institutions "
            '([{"name": …, "id": …, "code": …}, …]), found a JSON '
            f"{_json_kind(document)}"
        )
    institutions = tuple(
        _institution(file, number, entry) for number, entry in enumerate(document, start=1)
    )
    problems = table_problems(institutions, nz_suffix=nz_suffix)
    if problems:
        raise InstitutionsFileError(f"{file}: {'; '.join(problems)}")
    return institutions


def _institution(file: str, number: int, entry: object) -> Institution:
    if not isinstance(entry, dict):
        raise InstitutionsFileError(
            f"{file}: entry {number} is a JSON {_json_kind(entry)}, not an object with "
            '"name", "id" and "code"'
        )
    code = entry.get("code")
    label = f"entry {number}" + (f" ({code})" if isinstance(code, str) and code else "")
    values: list[str] = []
    for key in _KEYS:
        value = entry.get(key)
        if value is None:
            raise InstitutionsFileError(f'{file}: {label} has no "{key}"')
        if not isinstance(value, str):
            raise InstitutionsFileError(
                f'{file}: {label}: "{key}" is a JSON {_json_kind(value)}; write it as text, '
                f'for example "{key}": "{value}"'
            )
        values.append(value)
    name, suffix, code_text = values
    problem = institution_problem(name, suffix, code_text)
    if problem is not None:
        raise InstitutionsFileError(f"{file}: {label}: {problem}")
    return Institution(name, suffix, code_text)


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"
