"""A failed reload keeps the settings in force and says why (rule K2; Java nulls them)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest

from adapters.scf.config import ConfigError, settings_from_bytes
from application.scf.configuration import (
    ConfigurationError,
    Reloaded,
    ReloadFailed,
    SettingsHolder,
    SettingsNotLoaded,
)
from application.scf.settings import Settings
from tests.unit.config.conftest import fixture_bytes


def _settings(threads: int = 4) -> Settings:
    document = json.loads(fixture_bytes("java_conf.json"))
    document["max_number_of_threads"] = threads
    return settings_from_bytes(json.dumps(document).encode(), {})


def _scripted(*outcomes: Settings | BaseException) -> Callable[[], Awaitable[Settings]]:
    queue = list(outcomes)

    async def loader() -> Settings:
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return loader


async def test_a_successful_reload_replaces_the_settings() -> None:
    first, second = _settings(1), _settings(2)
    holder = SettingsHolder(_scripted(first, second))
    assert not holder.loaded
    assert await holder.load() is first
    result = await holder.reload()
    assert isinstance(result, Reloaded)
    assert (result.ok, result.settings, result.previous) == (True, second, first)
    assert holder.current is second
    assert holder.last_failure is None


async def test_a_failed_reload_keeps_the_settings_in_force() -> None:
    first = _settings(1)
    broken = ConfigError(
        ["institutions[1] (01AAA_CD).libraries[0].circ_desc: missing"], source="/etc/conf.json"
    )
    holder = SettingsHolder(_scripted(first, broken, _settings(3)))
    await holder.load()

    result = await holder.reload()

    assert isinstance(result, ReloadFailed)
    assert result.ok is False
    assert result.kept is first
    assert holder.current is first
    assert result.problems == ("institutions[1] (01AAA_CD).libraries[0].circ_desc: missing",)
    assert "/etc/conf.json" in result.error
    assert "keeping the settings in force" in str(result)
    assert holder.last_failure is result
    # ...and the next good reload clears the failure.
    assert isinstance(await holder.reload(), Reloaded)
    assert holder.last_failure is None


async def test_the_real_loader_failing_on_a_bad_file_keeps_the_settings() -> None:
    good, bad = fixture_bytes("java_conf.json"), fixture_bytes("missing_circ_desc.json")
    files = [good, bad]

    async def loader() -> Settings:
        return settings_from_bytes(files.pop(0), {}, source="conf.json")

    holder = SettingsHolder(loader)
    first = await holder.load()
    result = await holder.reload()
    assert isinstance(result, ReloadFailed)
    assert holder.current is first
    assert result.problems == ("institutions[1] (01AAA_CD).libraries[0].circ_desc: missing",)


async def test_any_loader_exception_is_a_failed_reload_not_a_crash() -> None:
    first = _settings()
    holder = SettingsHolder(_scripted(first, RuntimeError("disk on fire")), initial=None)
    await holder.load()
    result = await holder.reload()
    assert isinstance(result, ReloadFailed)
    assert result.problems == ("RuntimeError: disk on fire",)
    assert holder.current is first


async def test_cancellation_is_not_swallowed() -> None:
    holder = SettingsHolder(_scripted(asyncio.CancelledError()), initial=_settings())
    with pytest.raises(asyncio.CancelledError):
        await holder.reload()


async def test_before_any_success_there_are_no_settings() -> None:
    holder = SettingsHolder(_scripted(ConfigError(["gateway: missing"])))
    with pytest.raises(SettingsNotLoaded):
        _ = holder.current
    with pytest.raises(ConfigurationError) as caught:
        await holder.load()
    assert caught.value.problems == ("gateway: missing",)
    assert holder.last_failure is not None
    assert holder.last_failure.kept is None
    assert "no settings in force" in holder.last_failure.error


async def test_initial_settings_count_as_loaded() -> None:
    initial = _settings()
    holder = SettingsHolder(_scripted(ConfigError(["x: missing"])), initial=initial)
    assert holder.current is initial
    result = await holder.reload()
    assert isinstance(result, ReloadFailed)
    assert result.kept is initial


async def test_concurrent_reloads_run_one_after_the_other() -> None:
    order: list[str] = []
    gate = asyncio.Event()
    first, second = _settings(1), _settings(2)
    outcomes = [first, second]

    async def loader() -> Settings:
        settings = outcomes.pop(0)
        order.append(f"start {settings.max_number_of_threads}")
        if settings is first:
            await gate.wait()
        order.append(f"end {settings.max_number_of_threads}")
        return settings

    holder = SettingsHolder(loader)
    one = asyncio.create_task(holder.reload())
    two = asyncio.create_task(holder.reload())
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(one, two)
    assert order == ["start 1", "end 1", "start 2", "end 2"]
    assert holder.current is second


def test_configuration_error_text_lists_every_problem() -> None:
    error = ConfigurationError(["a: missing", "b: unknown key"], source="conf.json")
    assert str(error) == (
        "configuration in conf.json is not usable (2 problems):\n  a: missing\n  b: unknown key"
    )
