"""Exit codes every almabridge command uses, so scripts and schedulers can rely on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    """0 the job succeeded, 1 the work failed, 2 the command line or configuration is wrong."""

    OK = 0
    WORK_FAILED = 1
    BAD_USAGE = 2
