"""A running HTTP service in-process: migrated SQLite ledger, temp conf.json, httpx client.

The service runs its real lifespan (`prepare_service`), without the inbox worker unless a test
says otherwise; requests go through `httpx.ASGITransport`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from adapters.ledger.migrate import upgrade
from application.ports.ledger import Ledger
from domain.scf.signature import SIGNATURE_HEADER, sign
from entrypoints.container import Container
from entrypoints.http import create_app

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLE_CONF = REPOSITORY / "examples" / "conf.json"
ALMA_FIXTURES = REPOSITORY / "tests" / "fixtures" / "alma"

WEBHOOK_SECRET = "secretkey"
ADMIN_TOKEN = "admin-token-for-tests-0123456789"
API_KEYS = ("scf-example-key", "ab-example-key", "cd-example-key")
FTP_PASSWORD = "change-me"
SECRETS = (WEBHOOK_SECRET, ADMIN_TOKEN, *API_KEYS, FTP_PASSWORD)

LOAN_RETURNED = "lulibrary-alma-webhook-handler__loan_returned_event.body.json"
REQUEST_CANCELED = "lulibrary-alma-webhook-handler__request_canceled_event.body.json"
LOAN_CREATED = "lulibrary-alma-webhook-handler__loan_created_event.body.json"
ON_SHELF = "lulibrary-alma-webhook-handler__request_placed_on_shelf_event.body.json"


def alma_body(name: str) -> bytes:
    """A real webhook body, byte for byte (its signature vectors depend on it)."""
    return (ALMA_FIXTURES / name).read_bytes()


def signed(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """Headers of a webhook Alma signed with secret."""
    return {SIGNATURE_HEADER: sign(secret, body), "Content-Type": "application/json"}


def example_conf(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    """examples/conf.json with the test secret, a temp work folder, and the changes."""
    document: dict[str, Any] = json.loads(EXAMPLE_CONF.read_text())
    document["webhook_secret"] = WEBHOOK_SECRET
    document["main_local_folder"] = str(tmp_path / "work")
    document.update(changes)
    return document


def admin(token: str = ADMIN_TOKEN) -> dict[str, str]:
    """The admin Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Service:
    """One service under test."""

    container: Container
    app: Starlette
    client: httpx.AsyncClient
    conf_path: Path

    @property
    def ledger(self) -> Ledger:
        """The service's ledger."""
        ledger: Ledger = self.container.ledger()
        return ledger

    def write_conf(self, document: dict[str, Any] | str) -> None:
        """Replace the configuration file (picked up by the next reload)."""
        text = document if isinstance(document, str) else json.dumps(document)
        self.conf_path.write_text(text)


def make_container(tmp_path: Path, conf: dict[str, Any], env: dict[str, str]) -> Container:
    """A container over a SQLite ledger file and a conf.json in tmp_path."""
    conf_path = tmp_path / "conf.json"
    conf_path.write_text(json.dumps(conf))
    container = Container()
    container.environ.override(
        {
            "ALMABRIDGE_DATABASE_URL": database_url(tmp_path),
            "CONFIG_FILE": str(conf_path),
            **env,
        }
    )
    return container


def database_url(tmp_path: Path) -> str:
    """The ledger of the service in tmp_path."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@asynccontextmanager
async def running_service(
    tmp_path: Path,
    *,
    conf: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    migrate: bool = True,
    run_worker: bool = False,
) -> AsyncIterator[Service]:
    """The service started (lifespan entered) with a client; stopped afterwards."""
    environment = {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN} if env is None else env
    container = make_container(tmp_path, conf or example_conf(tmp_path), environment)
    if migrate:
        await upgrade(database_url(tmp_path))
    app = create_app(container, run_worker=run_worker)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
            yield Service(container, app, client, tmp_path / "conf.json")
