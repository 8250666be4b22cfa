"""Helpers for configuration tests: the fixture files and a quick way to load a dict."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from adapters.scf.config import ConfigError, settings_from_bytes
from application.scf.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "config"

Load = Callable[..., Settings]
Problems = Callable[..., list[str]]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def java_conf() -> dict[str, Any]:
    """A fresh, mutable copy of the Java app's sample conf.json."""
    return copy.deepcopy(json.loads(fixture_bytes("java_conf.json")))


@pytest.fixture
def java_conf_2019() -> dict[str, Any]:
    """A fresh copy of the 2019 conf.json, which lists the SCF among the institutions."""
    return copy.deepcopy(json.loads(fixture_bytes("java_conf_2019-10-24.json")))


def _dump(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.fixture
def load() -> Load:
    """``load(document, environ={})``: the settings of a dict, as if read from a file."""

    def run(document: object, environ: Mapping[str, str] | None = None) -> Settings:
        return settings_from_bytes(_dump(document), environ or {})

    return run


@pytest.fixture
def problems() -> Problems:
    """``problems(document, environ={})``: the problem lines a dict fails with."""

    def run(document: object, environ: Mapping[str, str] | None = None) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            settings_from_bytes(_dump(document), environ or {})
        return list(caught.value.problems)

    return run
