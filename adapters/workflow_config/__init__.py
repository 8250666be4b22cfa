"""The batch workflows' configuration: one TOML file (rules B6, B7, B8, B9).

``schema`` is the file format (pydantic, table by table), ``loader`` reads the file, checks what
spans tables or the environment and builds the application's
:class:`~application.shared.workflow_settings.WorkflowSettings`, ``cron`` evaluates ``[schedules]``
with cronsim in local time, and ``summary`` describes the result for ``almabridge workflows check``.
"""

from adapters.workflow_config.cron import CronSchedule, cron_problem, cron_schedules, local_zone
from adapters.workflow_config.errors import WorkflowConfigError
from adapters.workflow_config.loader import (
    ARCHIVESSPACE_PASSWORD_ENV,
    SLACK_WEBHOOK_ENV,
    SMTP_PASSWORD_ENV,
    apikey_env_name,
    load_workflow_settings,
    remote_password_env_name,
    settings_from_text,
)
from adapters.workflow_config.summary import next_due_times, summarise, warnings

__all__ = [
    "ARCHIVESSPACE_PASSWORD_ENV",
    "SLACK_WEBHOOK_ENV",
    "SMTP_PASSWORD_ENV",
    "CronSchedule",
    "WorkflowConfigError",
    "apikey_env_name",
    "cron_problem",
    "cron_schedules",
    "load_workflow_settings",
    "local_zone",
    "next_due_times",
    "remote_password_env_name",
    "settings_from_text",
    "summarise",
    "warnings",
]
