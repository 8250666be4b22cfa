"""What the service checks before it accepts work (ledger schema, configuration, rule W2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.ledger.migrate import upgrade
from entrypoints.container import Container, ServiceCannotStart, open_bridge, prepare_service


def _container(tmp_path: Path, config: dict[str, object]) -> Container:
    config_path = tmp_path / "conf.json"
    config_path.write_text(json.dumps(config))
    container = Container()
    container.environ.override(
        {
            "ALMABRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            "CONFIG_FILE": str(config_path),
        }
    )
    return container


def _java_conf(shared_reference: Path) -> dict[str, object]:
    document = json.loads((shared_reference / "scf-java-app" / "conf.json").read_text())
    assert isinstance(document, dict)
    return document


async def test_the_service_refuses_an_unmigrated_ledger_naming_db_upgrade(
    tmp_path: Path, shared_reference: Path
) -> None:
    container = _container(tmp_path, _java_conf(shared_reference))
    with pytest.raises(ServiceCannotStart, match="almabridge db upgrade"):
        await prepare_service(container)
    await container.ledger().close()


async def test_W2_the_service_refuses_to_start_without_a_webhook_secret(
    tmp_path: Path, shared_reference: Path
) -> None:
    config = _java_conf(shared_reference)
    del config["webhook_secret"]
    container = _container(tmp_path, config)
    await upgrade(f"sqlite:///{tmp_path / 'ledger.db'}")
    with pytest.raises(ServiceCannotStart, match="allow_unsigned_webhooks"):
        await prepare_service(container)
    await container.ledger().close()


async def test_a_migrated_ledger_and_a_valid_configuration_start(
    tmp_path: Path, shared_reference: Path
) -> None:
    container = _container(tmp_path, _java_conf(shared_reference))
    await upgrade(f"sqlite:///{tmp_path / 'ledger.db'}")
    settings = await prepare_service(container)
    assert settings.consortium.remote_storage.institution == "01AAA_RS"
    alma = container.alma()
    assert alma.gateway("01aaa_cd").institution == "01AAA_CD"
    assert alma.gateway("01aaa_rs").institution == "01AAA_RS"
    assert alma.client.throttle("01AAA_CD").rate_per_second == 25
    async with open_bridge(container) as bridge:
        assert bridge.settings.file_server.main_folder == "/the/main/folder"
        assert bridge.work_dir == Path("/tmp/files")
    await alma.client.aclose()
    await container.ledger().close()
