"""The ``conf.json`` file format of the Java app, as pydantic models (rule K1).

Key names are the Java app's exactly (``circ_desc`` included, spelled as Java spells it), so its
files load unchanged. Unknown keys are refused (``extra="forbid"``): a misspelt optional key would
otherwise be silently ignored and its default used, which is how ``ignore_delete_files`` gets
lost. Scalars are lax because the Java app reads every value with ``getString``: ``"4"`` and ``4``,
``"true"`` and ``true`` are all accepted.

This module only knows the shape of one file. What depends on other keys or on the environment
(the SCF's own entry needs no ``circ_desc``; secrets may come from environment variables) is
checked in :mod:`adapters.scf.config.mapping`.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from adapters.scf.config.errors import SECRET_KEYS, Loc, key_path

__all__ = [
    "ConfFile",
    "FtpServerConf",
    "InstitutionConf",
    "LibraryConf",
    "LogBackupConf",
    "validate_document",
]


def _blank_to_none(value: object) -> object:
    # Java treats an empty string like an absent key for every optional value
    # (``webhook_secret: ""`` disables checking), so we do too.
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


def _strip_scalar(value: object) -> object:
    # pydantic parses " 4 " as 4 but not " true" as True; be equally forgiving for both.
    return value.strip() if isinstance(value, str) else value


def _lower_text(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _http_url(value: str) -> str:
    lowered = value.strip().lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme) and len(lowered) > len(scheme):
            # A trailing slash would double up when API paths are appended to the gateway.
            return value.strip().rstrip("/")
    raise PydanticCustomError(
        "http_url",
        "expected an http(s) URL such as https://api-na.hosted.exlibrisgroup.com",
    )


def _time_of_day(value: str) -> str:
    hours, colon, minutes = value.strip().partition(":")
    if (
        colon
        and hours.isdigit()
        and minutes.isdigit()
        and len(minutes) == 2
        and int(hours) < 24
        and int(minutes) < 60
    ):
        return f"{int(hours):02d}:{minutes}"
    raise PydanticCustomError("time_of_day", "expected a time of day as HH:MM (UTC), e.g. 00:10")


def _fingerprint(value: str) -> str:
    if not value.startswith("SHA256:") or len(value) <= len("SHA256:"):
        raise PydanticCustomError(
            "fingerprint",
            "expected an OpenSSH SHA256 fingerprint (SHA256:<base64>, as ssh-keygen -lf prints)",
        )
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
LaxBool = Annotated[bool, BeforeValidator(_strip_scalar)]
Port = Annotated[int, Field(ge=1, le=65535)]
OptionalPort = Annotated[Port | None, BeforeValidator(_blank_to_none)]
Protocol = Annotated[Literal["sftp", "ftp", "local"] | None, BeforeValidator(_lower_text)]
Fingerprint = Annotated[
    Annotated[str, AfterValidator(_fingerprint)] | None, BeforeValidator(_blank_to_none)
]
Gateway = Annotated[str, AfterValidator(_http_url)]


class _Conf(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        # Java reads job ids and codes with getString; a bare number there is still meant as text.
        coerce_numbers_to_str=True,
        allow_inf_nan=False,
        frozen=True,
    )


class LibraryConf(_Conf):
    """``institutions[].libraries[]``."""

    code: Text
    # Required for members, optional for the SCF's own entry: checked in mapping.
    circ_desc: OptionalText = None
    remote_storage_location: list[Text] = Field(default_factory=list)


class InstitutionConf(_Conf):
    """``institutions[]``: a member, the SCF's own entry, or a pickup-only institution."""

    code: Text
    # Required unless it comes from ALMABRIDGE_APIKEY_<CODE> (or this is the SCF's own entry).
    apikey: OptionalText = None
    requests_job_id: OptionalText = None
    publishing_job_id: OptionalText = None
    default_library: OptionalText = None
    libraries: list[LibraryConf] = Field(default_factory=list)


class FtpServerConf(_Conf):
    """``ftp_server``: where Alma drops publishing archives and request files."""

    # host, user and password are required unless ``protocol`` is ``local`` (checked in mapping);
    # the password may also come from ALMABRIDGE_FTP_PASSWORD.
    host: OptionalText = None
    user: OptionalText = None
    password: OptionalText = None
    main_folder: Text
    # Java: "22" selects SFTP, anything else (or nothing) FTP.
    ftp_port: OptionalPort = None
    # New: say the protocol outright instead of inferring it from the port.
    protocol: Protocol = None
    # New, SFTP only: how the server's host key is checked (never blindly accepted).
    known_hosts: OptionalText = None
    host_key_fingerprint: Fingerprint = None


class LogBackupConf(_Conf):
    """``log_backup`` (new): upload yesterday's log file to ``{main_folder}/logs/`` daily."""

    enabled: LaxBool = False
    # Where the service writes application.log and its dated copies; default ./logs.
    log_folder: OptionalText = None
    time_utc: Annotated[str, AfterValidator(_time_of_day)] = "00:10"


class ConfFile(_Conf):
    """The whole ``conf.json``."""

    gateway: Gateway
    main_local_folder: OptionalText = None
    report_file_folder: OptionalText = None
    max_number_of_threads: Annotated[int, Field(ge=1)] = 4
    ftp_server: FtpServerConf
    remote_storage_inst: Text
    remote_storage_apikey: OptionalText = None
    remote_storage_holding_library: Text
    remote_storage_holding_location: Text
    remote_storage_circ_desc: Text
    remote_storage_digitization_department: OptionalText = None
    webhook_secret: OptionalText = None
    ignore_delete_files: LaxBool = True
    institutions: list[InstitutionConf]
    # New keys (not in the Java app).
    allow_unsigned_webhooks: LaxBool = False
    request_grace_hours: Annotated[float, Field(gt=0)] = 24.0
    alma_rate_limit_per_second: Annotated[int, Field(ge=1, le=25)] = 25
    log_backup: LogBackupConf | None = None


def validate_document(document: Mapping[str, object]) -> tuple[ConfFile | None, list[str]]:
    """The validated file, or None and one problem line per error (all of them, not the first)."""
    try:
        return ConfFile.model_validate(document), []
    except ValidationError as exc:
        return None, [describe_error(error, document) for error in exc.errors(include_url=False)]


def describe_error(error: ErrorDetails, document: object) -> str:
    """One problem line for a pydantic error, in our wording, never echoing a secret."""
    loc: Loc = error["loc"]
    path = key_path(loc, document)
    kind = error["type"]
    if kind == "missing":
        return f"{path}: missing"
    if kind == "extra_forbidden":
        return f"{path}: unknown key{_suggestion(loc)}"
    if kind == "blank":
        return f"{path}: must not be empty"
    expected = _expected(error)
    return f"{path}: {expected}, got {_shown(error['input'], secret=_is_secret(loc))}"


_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected an array",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
}

_BOUNDS = {
    "greater_than": "a number greater than {gt}",
    "greater_than_equal": "a number of at least {ge}",
    "less_than": "a number less than {lt}",
    "less_than_equal": "a number of at most {le}",
}


def _expected(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind in _BOUNDS:
        bounds = {name: _number(value) for name, value in ctx.items()}
        return "expected " + _BOUNDS[kind].format(**bounds)
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}"
    # Our own PydanticCustomErrors already read well; anything else keeps pydantic's wording.
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _number(value: object) -> object:
    # pydantic reports gt=0 on a float field as 0.0; people wrote 0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _shown(value: object, *, secret: bool) -> str:
    if secret or isinstance(value, dict | list):
        return _kind(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_secret(loc: Loc) -> bool:
    return any(isinstance(segment, str) and segment in SECRET_KEYS for segment in loc)


def _suggestion(loc: Loc) -> str:
    unknown = loc[-1] if loc else None
    model = _model_at(loc[:-1])
    if not isinstance(unknown, str) or model is None:
        return ""
    known = list(model.model_fields)
    by_folded = {name.casefold(): name for name in known}
    if unknown.casefold() in by_folded:
        return f" (did you mean '{by_folded[unknown.casefold()]}'?)"
    close = difflib.get_close_matches(unknown.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean '{by_folded[close[0]]}'?)" if close else ""


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model whose keys are expected at ``loc`` (list indexes skipped)."""
    model: type[BaseModel] = ConfFile
    for segment in loc:
        if isinstance(segment, int):
            continue
        field = model.model_fields.get(segment)
        if field is None:
            return None
        inner = _inner_model(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType, Annotated):
        for argument in typing.get_args(annotation):
            found = _inner_model(argument)
            if found is not None:
                return found
    return None
