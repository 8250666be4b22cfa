"""``[schedules]``: one cron expression per workflow, checked with cronsim (rules B3, B9)."""

from __future__ import annotations

from adapters.workflow_config.cron import cron_problem
from adapters.workflow_config.errors import key_path, shown, suggestion
from adapters.workflow_config.reading import Reading

__all__ = ["schedules"]


def schedules(reading: Reading) -> tuple[frozenset[str], dict[str, str]]:
    """The workflows ``[schedules]`` names, and the good cron expression of each one that has
    one (its fields separated by one space)."""
    table = reading.table("schedules")
    if table is None:
        return frozenset(), {}
    workflows = reading.workflows
    crons: dict[str, str] = {}
    for workflow, value in table.items():
        path = key_path(("schedules", workflow))
        if workflow not in workflows:
            reading.problems.append(
                f"{path}: unknown workflow{suggestion(workflow, workflows)}; "
                f"the workflows are {', '.join(workflows)}"
            )
            continue
        if not isinstance(value, str):
            reading.problems.append(
                f'{path}: must be a cron expression in quotes, such as "30 10 * * 0-5", '
                f"got {shown(value)}"
            )
            continue
        problem = cron_problem(value)
        if problem is not None:
            reading.problems.append(f"{path}: {problem}, got {shown(value)}")
            continue
        crons[workflow] = " ".join(value.split())
    # A workflow named with a wrong expression is still meant to run: check its section.
    return frozenset(name for name in table if name in workflows), crons
