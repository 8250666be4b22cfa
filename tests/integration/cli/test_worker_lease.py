"""The inbox lease comes from ALMABRIDGE_WORKER_LEASE_SECONDS (default 20 seconds, rule W8)."""

from datetime import timedelta

import pytest

from entrypoints.worker_runtime import DEFAULT_LEASE, lease_from


def test_the_lease_defaults_to_twenty_seconds_and_follows_the_environment() -> None:
    assert lease_from({}) == DEFAULT_LEASE == timedelta(seconds=20)
    assert lease_from({"ALMABRIDGE_WORKER_LEASE_SECONDS": " 90 "}) == timedelta(seconds=90)


@pytest.mark.parametrize("raw", ["soon", "0.5", "-3"])
def test_an_unusable_lease_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="ALMABRIDGE_WORKER_LEASE_SECONDS"):
        lease_from({"ALMABRIDGE_WORKER_LEASE_SECONDS": raw})
