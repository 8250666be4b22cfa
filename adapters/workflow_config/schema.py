"""The workflows TOML file format, table by table, as pydantic models (rule B9).

Values are checked strictly, as TOML types them: ``25`` is a number and ``"25"`` is text, and a
number where text is expected is refused rather than guessed at (identifiers stay text, O1).
Every check speaks the problem's sentence itself (``must be a whole number ≥ 1``), so that the
loader only adds the key path and the value it got.

``[alma.*]``, ``[remotes.*]``, ``[aspace2alma.archivesspace]`` and ``[notify.*]`` refuse keys
they do not know: a misspelt optional key would otherwise be ignored and its default used. A
workflow section keeps its unknown keys (rule tables, constants) for the workflow that owns them.

What depends on other tables or on the environment (remote references, secrets from environment
variables, the institutions file) is checked in :mod:`adapters.workflow_config.loader`.

This module is the format's one door; the models live one area to a module:

* :mod:`~adapters.workflow_config.schema_values`: the value checks and kinds of table all share
* :mod:`~adapters.workflow_config.schema_connections`: ``[alma.CODE]``, ``[remotes.NAME]``
* :mod:`~adapters.workflow_config.schema_sections`: the workflow sections, ``[cleanup]``, the
  top-level keys, remote references
* :mod:`~adapters.workflow_config.schema_notify`: ``[notify.*]``
* :mod:`~adapters.workflow_config.schema_validation`: pydantic's errors in our words
"""

from __future__ import annotations

from adapters.workflow_config.schema_connections import AlmaConf, ParsedUrl, RemoteConf
from adapters.workflow_config.schema_notify import RouteConf, SlackConf, SmtpConf
from adapters.workflow_config.schema_sections import (
    ArchivesSpaceConf,
    Aspace2AlmaConf,
    CleanupConf,
    CourseLoadingConf,
    OclcInstitutionConf,
    OclcSyncConf,
    TopLevelConf,
    WestHoldingsConf,
    parse_remote_path,
)
from adapters.workflow_config.schema_validation import describe_errors, known_keys, validate

__all__ = [
    "AlmaConf",
    "ArchivesSpaceConf",
    "Aspace2AlmaConf",
    "CleanupConf",
    "CourseLoadingConf",
    "OclcInstitutionConf",
    "OclcSyncConf",
    "ParsedUrl",
    "RemoteConf",
    "RouteConf",
    "SlackConf",
    "SmtpConf",
    "TopLevelConf",
    "WestHoldingsConf",
    "describe_errors",
    "known_keys",
    "parse_remote_path",
    "validate",
]
