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
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from adapters.workflow_config.errors import (
    Loc,
    is_secret,
    key_path,
    kind_of,
    shown,
    suggestion,
)
from application.shared.workflow_settings import (
    DEFAULT_CLEANUP_FOLDERS,
    DEFAULT_KEEP_DAYS,
    DEFAULT_SCHEDULE_GRACE,
    Aspace2AlmaSettings,
    CourseLoadingSettings,
    MergeOn,
    OclcSyncSettings,
    RemotePath,
    RemoteProtocol,
    WestHoldingsSettings,
)

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

OUTCOME_NAMES: Final = ("failed", "partial", "ok")
# The defaults live in the application's settings, once; the file format refers to them.
_WEST: Final = WestHoldingsSettings()
_OCLC: Final = OclcSyncSettings()
_COURSES: Final = CourseLoadingSettings()
_ASPACE: Final = Aspace2AlmaSettings()
_REMOTE_NAME: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
_GLOB: Final = re.compile(r"[*?\[]")
_PLACEHOLDER: Final = re.compile(r"\{[^}]*\}")
_KNOWN_PLACEHOLDERS: Final = frozenset({"{YYYYMMDD}"})


M = TypeVar("M", bound=BaseModel)


def _problem(sentence: str) -> PydanticCustomError:
    return PydanticCustomError("workflow_config", sentence)


# ---- value checks: each refuses with the whole sentence --------------------------------------


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _problem("must be text in quotes")
    if not value.strip():
        raise _problem("must not be empty")
    return value.strip()


def _optional_text(value: object) -> str | None:
    # An empty string means "not set", as the example file writes it (org_code = "").
    if not isinstance(value, str):
        raise _problem("must be text in quotes")
    return value.strip() or None


def _secret_text(value: object) -> str | None:
    # Never stripped: a secret is sent as it is written.
    if not isinstance(value, str):
        raise _problem("must be text in quotes")
    return value or None


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise _problem("must be true or false")
    return value


def _whole(minimum: int, maximum: int | None = None, why: str = "") -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _problem(f"must be a whole number ≥ {minimum}")
        if value < minimum:
            raise _problem(f"must be a whole number ≥ {minimum}")
        if maximum is not None and value > maximum:
            raise _problem(f"must be a whole number from {minimum} to {maximum}{why}")
        return value

    return check


def _positive_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _problem("must be a number greater than 0")
    if not math.isfinite(value) or value <= 0:
        raise _problem("must be a number greater than 0")
    return float(value)


def _array(what: str) -> Callable[[object], list[object]]:
    # The array itself; each item is checked by its own validator, so a problem names its index.
    def check(value: object) -> list[object]:
        if not isinstance(value, list):
            raise _problem(f"must be an array of {what}")
        return value

    return check


def _digits(value: object) -> str:
    text = _text(value)
    if not text.isdigit():
        raise _problem("must be digits in quotes")
    return text


def _http_url(value: object) -> str:
    text = _text(value)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _problem("must be an http(s):// URL such as https://api-na.hosted.exlibrisgroup.com")
    if parts.query or parts.fragment:
        raise _problem("must be a URL without ?query or #fragment")
    return text.rstrip("/")


def _alma_host(value: object) -> str:
    url = _http_url(value)
    if url.lower().endswith("/almaws/v1"):
        raise _problem("must be the API host only: /almaws/v1 is appended")
    return url


def _merge_on(value: object) -> MergeOn:
    if value == "code+section":
        return "code+section"
    if value == "code":
        return "code"
    raise _problem('must be "code+section" or "code"')


def _encoding(value: object) -> str:
    text = _text(value)
    try:
        codecs.lookup(text)
    except LookupError:
        raise _problem(
            "must be a text encoding Python knows, such as iso-8859-1 or utf-8"
        ) from None
    return text


def _date_format(value: object) -> str:
    text = _text(value)
    try:
        sample = datetime(2001, 2, 3).strftime(text)
    except ValueError:
        sample = text
    if "%" not in text or sample == text:
        raise _problem('must be a strftime format such as "%d-%m-%Y"')
    return text


def _fingerprint(value: object) -> str | None:
    text = _optional_text(value)
    if text is None:
        return None
    if not text.startswith("SHA256:") or len(text) <= len("SHA256:"):
        raise _problem(
            "must be an OpenSSH SHA256 fingerprint (SHA256:<base64>, as "
            "`ssh-keyscan HOST | ssh-keygen -lf -` prints it)"
        )
    return text


def _outcome(value: object) -> str:
    if value not in OUTCOME_NAMES:
        raise _problem('must be "failed", "partial" or "ok"')
    return str(value)


def _address(value: object) -> str:
    address = _text(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise _problem("must be an e-mail address such as reserves@example.edu")
    return address


def parse_remote_path(text: str, *, source: bool) -> RemotePath:
    """``NAME`` or ``NAME:path`` as a :class:`RemotePath`; raises ValueError with the sentence.

    The path is relative to the remote's folder; in a source its last segment may be a glob with
    ``{YYYYMMDD}`` for today's date (L1). The name is checked against ``[remotes]`` later.
    """
    name, _, path = text.strip().partition(":")
    example = "campus:leganto_export_{YYYYMMDD}*" if source else "drop or drop:subfolder"
    if not _REMOTE_NAME.match(name):
        raise ValueError(f"must name a remote as NAME or NAME:path, such as {example}")
    path = path.strip()
    segments = path.split("/") if path else []
    if path.startswith("/") or ".." in segments:
        raise ValueError("the path after NAME: must stay inside the remote's folder (relative)")
    if path.endswith("/"):
        path = path.rstrip("/")
        segments = path.split("/") if path else []
    for placeholder in _PLACEHOLDER.findall(path):
        if placeholder not in _KNOWN_PLACEHOLDERS:
            raise ValueError(f"{placeholder} is not a placeholder: only {{YYYYMMDD}} is")
    globbed = [index for index, segment in enumerate(segments) if _GLOB.search(segment)]
    if globbed and not source:
        raise ValueError("a destination cannot be a glob pattern (*, ?, [...])")
    if globbed and globbed != [len(segments) - 1]:
        raise ValueError("only the last segment of the path may be a glob pattern")
    return RemotePath(name, path)


def _remote_path(source: bool) -> Callable[[object], RemotePath]:
    def check(value: object) -> RemotePath:
        text = _text(value)
        try:
            return parse_remote_path(text, source=source)
        except ValueError as error:
            raise _problem(str(error)) from None

    return check


def _optional_remote_path(value: object) -> RemotePath | None:
    if isinstance(value, str) and not value.strip():
        return None
    return _remote_path(source=False)(value)


class ParsedUrl(BaseModel):
    """A remote's URL taken apart; the password (if the URL held one) kept apart from it."""

    model_config = ConfigDict(frozen=True)

    protocol: RemoteProtocol
    host: str
    port: int
    user: str
    folder: str
    # Never in the repr: a model printed in a traceback must not show it.
    password: str | None = Field(repr=False)
    display: str
    """The URL without its password: safe to print."""


_DEFAULT_PORTS: Final = {"sftp": 22, "ftp": 21}


def _remote_url(value: object) -> ParsedUrl:
    text = _text(value)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("sftp", "ftp", "file"):
        raise _problem(
            "must be an sftp://, ftp:// or file:// URL, such as sftp://user@host:22/alma/aspace"
        )
    if parts.query or parts.fragment:
        raise _problem("must be a URL without ?query or #fragment")
    try:
        port = parts.port
    except ValueError:
        raise _problem("has a port that is not a number from 1 to 65535") from None
    folder = unquote(parts.path)
    if scheme == "file":
        if parts.hostname not in (None, "", "localhost") or parts.username or port:
            raise _problem("must be file:///absolute/folder (a file:// URL names no host)")
        if not folder.startswith("/"):
            raise _problem("must be file:///absolute/folder (an absolute path)")
        return ParsedUrl(
            protocol="file", host="", port=0, user="", folder=folder, password=None, display=text
        )
    if not parts.hostname:
        raise _problem(f"must name a host, such as {scheme}://user@host/folder")
    protocol: RemoteProtocol = "sftp" if scheme == "sftp" else "ftp"
    if protocol == "sftp" and folder.startswith("/~/"):
        # draft-ietf-secsh-scp-sftp-ssh-uri: /~/ starts a path relative to the login directory.
        folder = folder[len("/~/") :]
    return ParsedUrl(
        protocol=protocol,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        user=unquote(parts.username) if parts.username else "",
        folder=folder or "/",
        password=unquote(parts.password) if parts.password else None,
        display=_without_password(parts),
    )


def _without_password(parts: SplitResult) -> str:
    if parts.password is None:
        return parts.geturl()
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if user else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()


Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(_optional_text)]
SecretText = Annotated[str | None, BeforeValidator(_secret_text)]
Flag = Annotated[bool, BeforeValidator(_flag)]
TextList = Annotated[list[Text], BeforeValidator(_array('texts in quotes, such as ["583"]'))]
Digits = Annotated[str, BeforeValidator(_digits)]
Port = Annotated[int, BeforeValidator(_whole(1, 65535))]
Seconds = Annotated[float, BeforeValidator(_positive_number)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Section(BaseModel):
    # Workflow sections keep unknown keys: rule tables and constants are data in the file (B9).
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class AlmaConf(_Table):
    """``[alma.CODE]``."""

    url: Annotated[str, BeforeValidator(_alma_host)]
    # Required, unless ALMABRIDGE_APIKEY_<CODE> gives it (checked in the loader).
    apikey: SecretText = Field(default=None, repr=False)
    rate_limit_per_second: Annotated[
        int, BeforeValidator(_whole(1, 25, " (Alma's limit per institution)"))
    ] = 25


class RemoteConf(_Table):
    """``[remotes.NAME]``."""

    url: Annotated[ParsedUrl, BeforeValidator(_remote_url)]
    password: SecretText = Field(default=None, repr=False)
    host_key: Annotated[str | None, BeforeValidator(_fingerprint)] = None


class WestHoldingsConf(_Section):
    """``[west_holdings]``."""

    prefix: Text = _WEST.prefix
    org_code: OptionalText = _WEST.org_code
    stamp_005: Flag = _WEST.stamp_005
    require_tags: TextList = Field(default_factory=lambda: list(_WEST.require_tags))
    upload_to: Annotated[RemotePath | None, BeforeValidator(_optional_remote_path)] = (
        _WEST.upload_to
    )


class OclcInstitutionConf(_Table):
    """One row of the OCLC institutions table (inline or from its JSON file)."""

    name: Text
    id: Digits
    code: Text


class OclcSyncConf(_Section):
    """``[oclc_sync]``; ``institutions`` is resolved in the loader (a path or an array)."""

    nz_suffix: Digits = _OCLC.nz_suffix
    institutions: Any = None
    primary: OptionalText = _OCLC.primary
    analytics_path: Text = _OCLC.analytics_path
    normalize_job_id: OptionalText = _OCLC.normalize_job_id


class CourseLoadingConf(_Section):
    """``[course_loading]``."""

    source: Annotated[RemotePath, BeforeValidator(_remote_path(source=True))] = _COURSES.source
    target: Annotated[RemotePath, BeforeValidator(_remote_path(source=False))] = _COURSES.target
    date_format: Annotated[str, BeforeValidator(_date_format)] = _COURSES.date_format
    merge_on: Annotated[MergeOn, BeforeValidator(_merge_on)] = _COURSES.merge_on
    cem_encoding: Annotated[str, BeforeValidator(_encoding)] = _COURSES.cem_encoding
    job_id: OptionalText = _COURSES.job_id
    job_poll_seconds: Annotated[int, BeforeValidator(_whole(1))] = _COURSES.job_poll_seconds
    job_wait_minutes: Annotated[int, BeforeValidator(_whole(1))] = _COURSES.job_wait_minutes
    report_delay_minutes: Annotated[int, BeforeValidator(_whole(0))] = _COURSES.report_delay_minutes


class ArchivesSpaceConf(_Table):
    """``[aspace2alma.archivesspace]``."""

    url: Annotated[str, BeforeValidator(_http_url)] = _ASPACE.archivesspace.url
    user: Text = _ASPACE.archivesspace.user
    # Required when aspace2alma runs, unless ALMABRIDGE_ARCHIVESSPACE_PASSWORD gives it.
    password: SecretText = Field(default=None, repr=False)


class Aspace2AlmaConf(_Section):
    """``[aspace2alma]``."""

    barcode_set: OptionalText = _ASPACE.barcode_set
    target: Annotated[RemotePath, BeforeValidator(_remote_path(source=False))] = _ASPACE.target
    archivesspace: ArchivesSpaceConf = ArchivesSpaceConf()


class SmtpConf(_Table):
    """``[notify.smtp]``; ``from`` is a Python keyword, hence the field's alias."""

    host: Text
    port: Port = 587
    starttls: Flag = True
    use_tls: Flag = False
    user: Annotated[str, BeforeValidator(lambda value: _optional_text(value) or "")] = ""
    password: SecretText = Field(default=None, repr=False)
    sender: Annotated[str, BeforeValidator(_text)] = Field(alias="from")
    timeout_seconds: Seconds = 30.0


class SlackConf(_Table):
    """``[notify.slack]``."""

    webhook: SecretText = Field(default=None, repr=False)
    timeout_seconds: Seconds = 30.0


class RouteConf(_Table):
    """``[notify.WORKFLOW]``: who hears about the workflow's runs, on which outcomes."""

    to: Annotated[
        list[Annotated[str, BeforeValidator(_address)]],
        BeforeValidator(_array("e-mail addresses in quotes")),
    ] = Field(default_factory=list)
    on: Annotated[
        list[Annotated[str, BeforeValidator(_outcome)]],
        BeforeValidator(_array('outcomes: "failed", "partial", "ok"')),
    ] = Field(default_factory=lambda: list(OUTCOME_NAMES))
    slack: Flag = False


class CleanupConf(_Section):
    """``[cleanup]``; the folders are resolved against the file's folder in the loader."""

    keep_days: Annotated[int, BeforeValidator(_whole(0))] = DEFAULT_KEEP_DAYS
    folders: Annotated[
        list[Text], BeforeValidator(_array('folder paths in quotes, such as ["out"]'))
    ] = Field(default_factory=lambda: list(DEFAULT_CLEANUP_FOLDERS))


class TopLevelConf(BaseModel):
    """The top-level keys that are not tables."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    schedule_grace_hours: Seconds = DEFAULT_SCHEDULE_GRACE.total_seconds() / 3600


# ---- validation with problems in our words ---------------------------------------------------


def validate(model: type[M], value: object, loc: Loc, problems: list[str]) -> M | None:
    """``value`` as ``model``, or None with one problem per error appended (all of them)."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems.extend(describe_errors(exc.errors(include_url=False), loc, model))
        return None


def describe_errors(errors: list[ErrorDetails], prefix: Loc, model: type[BaseModel]) -> list[str]:
    """One problem line per pydantic error, key path first, never echoing a secret."""
    lines: list[str] = []
    for error in errors:
        loc: Loc = (*prefix, *error["loc"])
        path = key_path(loc)
        kind = error["type"]
        if kind == "missing":
            lines.append(f"{path}: missing")
        elif kind == "extra_forbidden":
            lines.append(f"{path}: unknown key{_suggest(model, error['loc'])}")
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            lines.append(f"{path}: must be a table, got {kind_of(error['input'])}")
        else:
            sentence = error["msg"] if kind == "workflow_config" else _lowered(error["msg"])
            got = shown(error["input"], secret=is_secret(loc))
            lines.append(f"{path}: {sentence}, got {got}")
    return lines


def _lowered(message: str) -> str:
    return "must be valid: " + message[:1].lower() + message[1:]


def _suggest(model: type[BaseModel], loc: tuple[str | int, ...]) -> str:
    unknown = loc[-1] if loc else None
    target: type[BaseModel] | None = model
    for segment in loc[:-1]:
        field = target.model_fields.get(str(segment)) if target is not None else None
        annotation = field.annotation if field is not None else None
        target = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if not isinstance(unknown, str) or target is None:
        return ""
    return suggestion(unknown, known_keys(target))


def known_keys(model: type[BaseModel]) -> list[str]:
    """The TOML keys a table model knows (its fields' aliases: ``from`` for ``sender``)."""
    return [field.alias or name for name, field in model.model_fields.items()]
