"""``[alma.CODE]`` and ``[remotes.NAME]`` into the settings' institutions and remotes (rule B9).

Their secrets are remembered before anything is checked, so that a problem anywhere in the file
that quotes one is scrubbed of it.
"""

from __future__ import annotations

from typing import Any

from adapters.workflow_config.env_secrets import apikey_env_name, remote_password_env_name
from adapters.workflow_config.errors import key_path
from adapters.workflow_config.reading import Reading
from adapters.workflow_config.schema import AlmaConf, RemoteConf, validate
from application.shared.connections import Secret
from application.shared.workflow_settings import AlmaInstitution, Remote

__all__ = ["alma_institutions", "remotes"]


def alma_institutions(reading: Reading) -> dict[str, AlmaInstitution] | None:
    """Every ``[alma.CODE]``; None unless all of them are usable."""

    def institution(code: str, table: dict[str, Any]) -> AlmaInstitution | None:
        reading.secrets.remember(table.get("apikey"))
        conf = validate(AlmaConf, table, ("alma", code), reading.problems)
        env_name = apikey_env_name(code)
        apikey = reading.secrets.secret(table, "apikey", env_name, ("alma", code, "apikey"))
        if conf is None or apikey is None:
            return None
        return AlmaInstitution(
            code=code,
            url=conf.url,
            apikey=Secret(apikey),
            rate_limit_per_second=conf.rate_limit_per_second,
        )

    return reading.each_named("alma", "CODE", institution)


def remotes(reading: Reading) -> dict[str, Remote] | None:
    """Every ``[remotes.NAME]``; None unless all of them are usable."""

    def remote(name: str, table: dict[str, Any]) -> Remote | None:
        reading.secrets.remember(table.get("password"))
        reading.secrets.remember_url_password(table.get("url"))
        return _remote(reading, name, table)

    return reading.each_named("remotes", "NAME", remote)


def _remote(reading: Reading, name: str, table: dict[str, Any]) -> Remote | None:
    loc = ("remotes", name)
    problems = reading.problems
    conf = validate(RemoteConf, table, loc, problems)
    if conf is None:
        return None
    url = conf.url
    count = len(problems)
    if url.protocol == "file":
        for key in ("password", "host_key"):
            if key in table:
                problems.append(f"{key_path((*loc, key))}: not used by a file:// remote; remove it")
    elif url.protocol == "ftp" and conf.host_key is not None:
        problems.append(f"{key_path((*loc, 'host_key'))}: only sftp:// remotes have a host key")
    elif url.protocol == "sftp" and conf.host_key is None:
        # The SFTP adapter trusts no key it was not given: without one every connection
        # would be refused, so say it now rather than at the first run.
        problems.append(
            f"{key_path((*loc, 'host_key'))}: missing: an sftp:// remote needs the server's "
            "host key fingerprint (SHA256:…, as `ssh-keyscan HOST | ssh-keygen -lf -` "
            "prints it)"
        )
    if url.password is not None and conf.password is not None:
        problems.append(f"{key_path((*loc, 'password'))}: given both here and in the url; keep one")
    if len(problems) > count:
        return None
    env_name = remote_password_env_name(name)
    password = reading.secrets.from_environment(env_name) or conf.password or url.password
    return Remote(
        name=name,
        url=url.display,
        protocol=url.protocol,
        host=url.host,
        port=url.port,
        user=url.user,
        folder=url.folder,
        password=Secret(password) if password else None,
        host_key=conf.host_key,
    )
