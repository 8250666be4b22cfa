"""Helpers for the workflows configuration tests: the shipped example, secrets, loading text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from adapters.workflow_config import WorkflowConfigError, settings_from_text
from application.shared.workflow_settings import WorkflowSettings

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLE = REPOSITORY / "examples" / "workflows.toml"

# Distinctive values, so that a test can search every output for them.
APIKEY = "l8xx-apikey-from-the-environment-0001"
DROP_PASSWORD = "drop-password-from-the-environment"
ASPACE_PASSWORD = "aspace-password-from-the-environment"
SMTP_PASSWORD = "smtp-password-from-the-environment"
WEBHOOK = "https://hooks.slack.com/services/T0000/B0000/webhook-token-from-the-environment"

SECRET_ENVIRONMENT = {
    "ALMABRIDGE_APIKEY_01ABC_INST": APIKEY,
    "ALMABRIDGE_REMOTE_DROP_PASSWORD": DROP_PASSWORD,
    "ALMABRIDGE_ARCHIVESSPACE_PASSWORD": ASPACE_PASSWORD,
    "ALMABRIDGE_SMTP_PASSWORD": SMTP_PASSWORD,
    "ALMABRIDGE_SLACK_WEBHOOK": WEBHOOK,
}
SECRETS = tuple(SECRET_ENVIRONMENT.values())

ALMA = """
[alma.01ABC_INST]
url = "https://api-na.hosted.exlibrisgroup.com"
apikey = "file-apikey-0001"
"""


def load(
    text: str, environ: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> WorkflowSettings:
    """The settings in a TOML text."""
    return settings_from_text(
        text, environ or {}, source="test.toml", base_dir=base_dir or REPOSITORY
    )


def problems(
    text: str, environ: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> list[str]:
    """Every problem the text has; fails the test when it loads."""
    with pytest.raises(WorkflowConfigError) as raised:
        load(text, environ, base_dir)
    return list(raised.value.problems)
