"""Configuration adapter: the Java app's ``conf.json`` (rules K1–K3) from a path or a URL.

``schema`` is the file format, ``mapping`` checks what the format alone cannot and builds the
application's :class:`~application.scf.settings.Settings`, ``sources`` fetch the bytes, ``loader``
ties them together and ``summary`` describes the result for ``almabridge config check``.
"""

from adapters.scf.config.errors import ConfigError, ConfigSourceError
from adapters.scf.config.loader import load_settings, settings_from_bytes, source_from_environment
from adapters.scf.config.sources import config_source_from
from adapters.scf.config.summary import summarise, warnings

__all__ = [
    "ConfigError",
    "ConfigSourceError",
    "config_source_from",
    "load_settings",
    "settings_from_bytes",
    "source_from_environment",
    "summarise",
    "warnings",
]
