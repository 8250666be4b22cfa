"""One reading of a parsed workflows file: its tables, the problems found, the secrets seen.

Each area's builder (:mod:`~adapters.workflow_config.build_connections`,
:mod:`~adapters.workflow_config.build_sections`, …) takes the :class:`Reading` and adds its own
problems to it, so that every problem in the file is reported at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from adapters.workflow_config.env_secrets import EnvSecrets
from adapters.workflow_config.errors import key_path, kind_of
from adapters.workflow_config.schema import validate
from application.shared.workflow_settings import WORKFLOW_NAMES, ConfigValue

__all__ = ["Reading", "extra", "frozen"]

_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")
_NAME: Final = re.compile(r"[A-Za-z0-9_-]+\Z")


class Reading:
    """One pass over a parsed file: every problem collected, the settings built if none."""

    def __init__(
        self,
        document: dict[str, Any],
        environ: Mapping[str, str],
        base_dir: Path,
        source: str,
        workflows: tuple[str, ...],
    ) -> None:
        self.document = document
        self.workflows = workflows
        # A registered workflow's own section: [name], or [name_with_underscores] as ours are.
        self.more_sections = {
            section: workflow
            for workflow in workflows
            if workflow not in WORKFLOW_NAMES
            for section in (workflow, workflow.replace("-", "_"))
        }
        self.base_dir = base_dir
        self.source = source
        self.problems: list[str] = []
        self.secrets = EnvSecrets(environ, self.problems)

    def raw(self, table: str, key: str) -> object:
        """The file's own value of ``table.key``, whatever its type; None when it is not there
        (or ``table`` is not a table: that is the table's problem, said where it is read)."""
        outer = self.document.get(table)
        return outer.get(key) if isinstance(outer, dict) else None

    def table(self, key: str) -> dict[str, Any] | None:
        """The top-level table ``key`` ({} when absent), or None with a problem."""
        value = self.document.get(key, {})
        if isinstance(value, dict):
            return value
        # The kind only: a value where a table belongs may be a secret pasted in the wrong place.
        self.problems.append(f"{key}: must be a table [{key}], got {kind_of(value)}")
        return None

    def tables(self, key: str, what: str) -> dict[str, dict[str, Any]] | None:
        """The named tables (``[alma.CODE]``, ``[remotes.NAME]``) that are tables with a good
        name; a problem for each other entry. None when ``key`` itself is not a table."""
        outer = self.table(key)
        if outer is None:
            return None
        named: dict[str, dict[str, Any]] = {}
        for name, value in outer.items():
            loc = (key, name)
            if not isinstance(value, dict):
                self.problems.append(
                    f"{key_path(loc)}: must be a table [{key}.{what}], got {kind_of(value)}"
                )
            elif not _NAME.match(name):
                self.problems.append(
                    f"{key_path(loc)}: {what} must be letters, digits, _ and - only"
                )
            else:
                named[name] = value
        return named

    def each_named(
        self, key: str, what: str, build: Callable[[str, dict[str, Any]], _T | None]
    ) -> dict[str, _T] | None:
        """``build`` applied to each of the named tables ``key``; None unless all of them built
        (``build`` adds the problems), so that no settings are made of half the tables."""
        tables = self.tables(key, what)
        if tables is None:
            return None
        built: dict[str, _T] = {}
        for name, table in tables.items():
            item = build(name, table)
            if item is not None:
                built[name] = item
        return built if len(built) == len(tables) else None

    def section(self, name: str, model: type[_M]) -> _M | None:
        """The top-level table ``name`` as ``model``, or None with its problems."""
        table = self.table(name)
        if table is None:
            return None
        return validate(model, table, (name,), self.problems)


def extra(conf: BaseModel) -> Mapping[str, ConfigValue]:
    """A section's unknown keys, read-only all the way down (tables and arrays included)."""
    return MappingProxyType({key: frozen(value) for key, value in (conf.model_extra or {}).items()})


def frozen(value: object) -> ConfigValue:
    """A TOML value made read-only: tables as mapping proxies, arrays as tuples."""
    if isinstance(value, dict):
        return MappingProxyType({str(key): frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    if isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    raise TypeError(f"not a TOML value: {type(value).__name__}")
