"""The whole workflows file into :class:`WorkflowSettings`, every table's builder in turn (B9).

Every builder runs, even after another has found a problem, so that one reading reports every
problem in the file; the settings are made only when there is none.
"""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from typing import Final

from adapters.workflow_config import (
    build_connections,
    build_notify,
    build_oclc,
    build_schedules,
    build_sections,
)
from adapters.workflow_config.build_sections import SECTION_WORKFLOWS
from adapters.workflow_config.errors import unknown_entry
from adapters.workflow_config.reading import Reading
from adapters.workflow_config.schema import CleanupConf, TopLevelConf, validate
from application.shared.workflow_settings import Schedules, WorkflowSettings

__all__ = ["build"]

_TABLES: Final = ("alma", "remotes", *SECTION_WORKFLOWS, "schedules", "notify")
_SCALARS: Final = ("schedule_grace_hours", "ledger_retention_days")


def build(reading: Reading) -> WorkflowSettings | None:
    """The settings, or None when ``reading.problems`` says why not."""
    _check_top_level(reading)
    scheduled, crons = build_schedules.schedules(reading)
    document = reading.document
    present = frozenset(name for name in SECTION_WORKFLOWS if name in document)
    in_use = present | {
        section
        for section, workflows in SECTION_WORKFLOWS.items()
        if any(workflow in scheduled for workflow in workflows)
    }
    alma = build_connections.alma_institutions(reading)
    remotes = build_connections.remotes(reading)
    west = build_sections.west_holdings(reading)
    oclc = build_oclc.oclc_sync(reading)
    courses = build_sections.course_loading(reading)
    aspace = build_sections.aspace2alma(reading, "aspace2alma" in in_use)
    cleanup = build_sections.cleanup(reading)
    more = build_sections.more_workflows(reading)
    notify = build_notify.notify(reading)
    top = validate(
        TopLevelConf,
        {key: document[key] for key in _SCALARS if key in document},
        (),
        reading.problems,
    )
    build_sections.check_references(reading, in_use)
    if (
        alma is None
        or remotes is None
        or west is None
        or oclc is None
        or courses is None
        or aspace is None
        or cleanup is None
        or notify is None
        or top is None
        or reading.problems
    ):
        return None
    return WorkflowSettings(
        source=reading.source,
        alma=MappingProxyType(alma),
        remotes=MappingProxyType(remotes),
        west_holdings=west,
        oclc_sync=oclc,
        course_loading=courses,
        aspace2alma=aspace,
        cleanup=cleanup,
        schedules=Schedules(
            crons=MappingProxyType(crons),
            grace=timedelta(hours=top.schedule_grace_hours),
        ),
        ledger_retention_days=top.ledger_retention_days,
        notify=notify,
        sections=present,
        more_workflows=MappingProxyType(more),
    )


def _check_top_level(reading: Reading) -> None:
    for key, value in reading.document.items():
        if key in _TABLES or key in _SCALARS or key in reading.more_sections:
            continue
        if key in CleanupConf.model_fields:
            # B8's keep_days reads like a global setting; it is the cleanup run's.
            reading.problems.append(f"{key}: unknown top-level key; it belongs in [cleanup]")
            continue
        reading.problems.append(
            f"{unknown_entry((key,), value, (*_TABLES, *_SCALARS))}; "
            f"the tables are {', '.join(f'[{name}]' for name in _TABLES)} and the "
            f"top-level keys {', '.join(_SCALARS)}"
        )
