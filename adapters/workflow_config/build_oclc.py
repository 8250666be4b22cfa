"""``[oclc_sync]`` and its institutions table: built in, inline, or a JSON file (rule B9).

A JSON file's path is relative to the workflows file; its problems name the file and the row.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.workflow_config.errors import key_path, shown
from adapters.workflow_config.reading import Reading, extra
from adapters.workflow_config.schema import OclcInstitutionConf, OclcSyncConf, validate
from application.shared.workflow_settings import (
    OCUL_INSTITUTIONS,
    OclcInstitution,
    OclcSyncSettings,
)

__all__ = ["oclc_sync"]

_WHERE = "oclc_sync.institutions"


def oclc_sync(reading: Reading) -> OclcSyncSettings | None:
    conf = reading.section("oclc_sync", OclcSyncConf)
    institutions = _institutions(reading)
    if conf is None or institutions is None:
        return None
    table, origin = institutions
    codes = {institution.code for institution in table}
    if conf.primary is not None and conf.primary not in codes:
        reading.problems.append(
            f"oclc_sync.primary: {shown(conf.primary)} is not the code of any institution "
            f"in oclc_sync.institutions ({origin})"
        )
        return None
    return OclcSyncSettings(
        nz_suffix=conf.nz_suffix,
        institutions=table,
        institutions_source=origin,
        primary=conf.primary,
        analytics_path=conf.analytics_path,
        normalize_job_id=conf.normalize_job_id,
        extra=extra(conf),
    )


def _institutions(reading: Reading) -> tuple[tuple[OclcInstitution, ...], str] | None:
    """The institutions and where they come from, for the summary and for problems."""
    value = reading.raw("oclc_sync", "institutions")
    loc = ("oclc_sync", "institutions")
    if value is None:
        return OCUL_INSTITUTIONS, "built-in OCUL table"
    if isinstance(value, str) and value.strip():
        rows = _institutions_file(reading, value.strip())
        if rows is None:
            return None
        where = f"{key_path(loc)}: {value.strip()}"
        from_file = _institution_rows(reading, rows, where, ())
        return (from_file, value.strip()) if from_file is not None else None
    if isinstance(value, list):
        table = _institution_rows(reading, value, "", loc)
        return (table, "inline") if table is not None else None
    reading.problems.append(
        f"{key_path(loc)}: must be the path of a JSON file (relative to this file) or an "
        f"array of tables {{name, id, code}}, got {shown(value)}"
    )
    return None


def _institutions_file(reading: Reading, relative: str) -> list[Any] | None:
    path = reading.base_dir / relative
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        reading.problems.append(f"{_WHERE}: no such file {path}")
        return None
    except OSError as error:
        reading.problems.append(f"{_WHERE}: cannot read {path}: {error.strerror or error}")
        return None
    try:
        rows = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reading.problems.append(f"{_WHERE}: {relative} is not a JSON file: {error}")
        return None
    if not isinstance(rows, list):
        reading.problems.append(
            f"{_WHERE}: {relative} must hold a JSON array of {{name, id, code}} objects"
        )
        return None
    return rows


def _institution_rows(
    reading: Reading, rows: list[Any], where: str, loc: tuple[str, ...]
) -> tuple[OclcInstitution, ...] | None:
    """The rows as institutions, or None with a problem for each bad row and each repeated id
    or code; ``where`` prefixes the problems of a file's rows, ``loc`` those of inline rows."""
    problems: list[str] = []
    table: list[OclcInstitution] = []
    if not rows:
        problems.append(f"{where or key_path(loc)}: must list at least one institution")
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        found: list[str] = []
        conf = validate(OclcInstitutionConf, row, (*loc, index), found)
        problems.extend(f"{where}{line}" if where else line for line in found)
        if conf is None:
            continue
        for key in ("id", "code"):
            value = str(getattr(conf, key))
            first = seen.setdefault((key, value), index)
            if first != index:
                path = key_path((*loc, index, key))
                problems.append(
                    f"{where}{path}: {shown(value)} is listed twice (also at [{first}])"
                )
        table.append(OclcInstitution(conf.name, conf.id, conf.code))
    reading.problems.extend(problems)
    return None if problems else tuple(table)
