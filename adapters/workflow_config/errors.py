"""Problems of a workflows configuration, each naming its key path (rule B9).

Every problem is one line ``<key path>: <sentence>``; the key path is the TOML path of the value
(``alma.01ABC_INST.rate_limit_per_second``, ``notify.course-rollover-report.on[1]``), with keys
that are not bare TOML keys quoted (``remotes."my drop".url``). Secret values are never echoed:
a problem about a secret key says what kind of value it got, and every problem is scrubbed of
every secret value the file and the environment hold before it leaves the adapter.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Sequence

__all__ = [
    "SECRET_KEYS",
    "Loc",
    "WorkflowConfigError",
    "is_secret",
    "key_path",
    "kind_of",
    "scrub",
    "shown",
    "suggestion",
    "unknown_entry",
]

# Keys whose values are never echoed in a problem, whatever is wrong with them.
SECRET_KEYS = frozenset({"apikey", "password", "webhook"})

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_URL_PASSWORD = re.compile(r"(://[^/@:\s]*):[^/@\s]*@")

Loc = Sequence[str | int]


class WorkflowConfigError(Exception):
    """The workflows configuration cannot be used; ``problems`` lists every reason (B9).

    A file that cannot be read at all (missing, not TOML) has one problem naming the file.
    """

    def __init__(self, problems: Iterable[str], *, source: str) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"workflows configuration {self.source} is not usable ({count} {noun}):"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


def key_path(loc: Loc) -> str:
    """The TOML path of ``loc``.

    >>> key_path(("alma", "01ABC_INST", "rate_limit_per_second"))
    'alma.01ABC_INST.rate_limit_per_second'
    >>> key_path(("remotes", "my drop", "url"))
    'remotes."my drop".url'
    >>> key_path(("notify", "course-loading", "on", 1))
    'notify.course-loading.on[1]'
    """
    parts: list[str] = []
    for segment in loc:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
            continue
        name = segment if _BARE_KEY.match(segment) else json.dumps(segment, ensure_ascii=False)
        parts.append(f".{name}" if parts else name)
    return "".join(parts) or "(top level)"


def is_secret(loc: Loc) -> bool:
    """Whether the value at ``loc`` is a secret (an API key, a password, a webhook URL)."""
    return any(isinstance(segment, str) and segment in SECRET_KEYS for segment in loc)


def shown(value: object, *, secret: bool = False) -> str:
    """How a wrong value is quoted in a problem: its TOML text, or only its kind when secret."""
    if secret or isinstance(value, dict | list | tuple):
        return kind_of(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # A URL may carry a password (sftp://user:password@host/): never echo it.
        text = json.dumps(_URL_PASSWORD.sub(r"\1:***@", value), ensure_ascii=False)
    elif isinstance(value, int | float):
        text = json.dumps(value, ensure_ascii=False)
    else:
        # Dates and times: TOML writes them bare, as their ISO text.
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str:
    """``a string``, ``a number``, ``an array``: what a value is, without saying what it says."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def suggestion(unknown: str, known: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for a near miss among ``known``, else the empty string."""
    by_folded = {name.casefold(): name for name in known}
    folded = unknown.casefold().replace("-", "_")
    for candidate, name in by_folded.items():
        if candidate.replace("-", "_") == folded:
            return f" (did you mean '{name}'?)"
    close = difflib.get_close_matches(unknown.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""


def unknown_entry(loc: Loc, value: object, known: Collection[str]) -> str:
    """``<key path>: unknown table`` (or ``key``), with a near miss among ``known`` if any; the
    caller goes on to say what the table holds."""
    what = "table" if isinstance(value, dict) else "key"
    return f"{key_path(loc)}: unknown {what}{suggestion(str(loc[-1]), known)}"


def scrub(problems: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """Problems with every known secret value replaced by ``********``.

    Secret keys are never echoed in the first place; this is the second line of defence for a
    secret pasted into the wrong key. Values shorter than four characters are left alone:
    replacing every ``a`` would make the text unreadable, and such a value protects nothing.
    """
    values = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    cleaned: list[str] = []
    for problem in problems:
        for value in values:
            problem = problem.replace(value, "********")
        cleaned.append(problem)
    return cleaned
