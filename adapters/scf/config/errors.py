"""Configuration errors, and how a problem names the place it is about.

Every problem is one line ``<key path>: <what is wrong>``. The key path follows the JSON
(``institutions[1].libraries[0].circ_desc``) and, because operators think in institution codes
rather than array positions, adds the code after each ``institutions[i]`` when the file gives one:
``institutions[1] (01AAA_CD).libraries[0].circ_desc: missing``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

from application.scf.configuration import ConfigurationError

__all__ = ["SECRET_KEYS", "ConfigError", "ConfigSourceError", "key_path", "scrub"]

# Keys whose values are never echoed in a problem, whatever is wrong with them.
SECRET_KEYS = frozenset({"apikey", "password", "webhook_secret", "remote_storage_apikey"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Loc = Sequence[str | int]


class ConfigError(ConfigurationError):
    """The configuration text is not a usable conf.json; ``problems`` lists every reason."""


class ConfigSourceError(ConfigError):
    """The configuration could not be read from its source (file, http(s), ftp, sftp)."""

    def __init__(self, source: str, reason: str) -> None:
        self.reason = reason
        super().__init__([f"{source}: {reason}"], source=source)


def key_path(loc: Loc, document: object) -> str:
    """The readable path of ``loc`` inside ``document`` (the parsed JSON), with institution codes.

    >>> key_path(("institutions", 1, "code"), {"institutions": [{}, {"code": "01AAA_CD"}]})
    'institutions[1] (01AAA_CD).code'
    """
    parts: list[str] = []
    node: object = document
    parent_key: str | int | None = None
    for segment in loc:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
            node = _child(node, segment)
            if parent_key == "institutions":
                code = _institution_code(node)
                if code is not None:
                    parts.append(f" ({code})")
        else:
            if _IDENTIFIER.match(segment):
                parts.append(f".{segment}" if parts else segment)
            else:
                parts.append(f"[{json.dumps(segment, ensure_ascii=False)}]")
            node = _child(node, segment)
        parent_key = segment
    return "".join(parts) or "(top level)"


def scrub(problems: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """Problems with every known secret value replaced by ``********``.

    Secret keys are never echoed in the first place; this is the second line of defence for a
    secret pasted into the wrong key. Very short values are left alone: replacing every ``a`` in
    a message would make it unreadable, and a two-letter value protects nothing anyway.
    """
    values = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
    cleaned: list[str] = []
    for problem in problems:
        for value in values:
            problem = problem.replace(value, "********")
        cleaned.append(problem)
    return cleaned


def _child(node: object, segment: str | int) -> object:
    if isinstance(segment, int):
        if isinstance(node, list) and 0 <= segment < len(node):
            return node[segment]
        return None
    if isinstance(node, Mapping):
        return node.get(segment)
    return None


def _institution_code(node: object) -> str | None:
    if not isinstance(node, Mapping):
        return None
    code = node.get("code")
    if isinstance(code, bool) or not isinstance(code, str | int):
        return None
    text = str(code)
    return text if text.strip() else None
