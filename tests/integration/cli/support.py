"""A bridge for the operator commands: a fake Alma on a real port, a local file server folder,
a migrated SQLite ledger, and a conf.json pointing at them.

The commands build their own container from `--config` and `--database-url`, so the fake Alma
must be reachable over HTTP: it runs under uvicorn in a thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from typer.testing import CliRunner

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.migrate import upgrade
from entrypoints.cli import app
from entrypoints.demo.alma_files import (
    PublishedItem,
    PublishedRecord,
    publishing_archive,
    request_export,
)

REPOSITORY = Path(__file__).resolve().parents[3]
EXAMPLE_CONF = REPOSITORY / "examples" / "conf.json"
AB, CD, SCF = "01AAA_AB", "01AAA_CD", "01AAA_RS"
WEBHOOK_SECRET = "cli-test-webhook-secret"
REMOTE_STORAGE = ("AB0001", "AB0002")

runner = CliRunner()


@contextmanager
def fake_alma_server(state: FakeAlmaState) -> Iterator[str]:
    """The fake Alma under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(create_fake_alma_app(state), log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


@dataclass
class Bridge:
    """Paths and state of one bridge under test."""

    root: Path
    state: FakeAlmaState
    gateway: str
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def conf_path(self) -> Path:
        return self.root / "conf.json"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.root / 'ledger.db'}"

    @property
    def files(self) -> Path:
        return self.root / "server"

    def folder(self, institution: str, kind: str) -> Path:
        path = self.files / institution / kind
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_conf(self, **changes: Any) -> None:
        document: dict[str, Any] = json.loads(EXAMPLE_CONF.read_text())
        document.update(
            gateway=self.gateway,
            webhook_secret=WEBHOOK_SECRET,
            main_local_folder=str(self.root / "work"),
            ftp_server={"protocol": "local", "main_folder": str(self.files)},
        )
        document.update(changes)
        self.conf = document
        self.conf_path.write_text(json.dumps(document))

    def run(self, *args: str) -> tuple[int, str]:
        """`almabridge ARGS --config … --database-url …`; exit code and output."""
        result = runner.invoke(
            app,
            [*args, "--config", str(self.conf_path), "--database-url", self.database_url],
            env={"COLUMNS": "200"},
        )
        return result.exit_code, result.output

    def run_ledger(self, *args: str) -> tuple[int, str]:
        """`almabridge ledger ARGS --database-url …` (no configuration needed)."""
        result = runner.invoke(
            app, ["ledger", *args, "--database-url", self.database_url], env={"COLUMNS": "200"}
        )
        return result.exit_code, result.output

    def publish(self, name: str, barcodes: tuple[str, ...] = REMOTE_STORAGE) -> Path:
        """Drop a publishing archive of AB's items, as Alma's publishing job would."""
        records: dict[str, PublishedRecord] = {}
        for barcode in barcodes:
            item = self.state.item_by_barcode(AB, barcode)
            entry = PublishedItem(
                barcode, item.data["library"]["value"], item.data["location"]["value"]
            )
            known = records.get(item.mms_id)
            nz = self.state.bib(AB, item.mms_id).nz_mms_id
            items = (*known.items, entry) if known else (entry,)
            records[item.mms_id] = PublishedRecord(item.mms_id, "A title", items, nz)
        path = self.folder(AB, "items") / f"{name}.tar.gz"
        path.write_bytes(publishing_archive(name, records.values()))
        return path

    def request_file(self, name: str, barcode: str = "AB0001") -> str:
        """Drop a request export of AB's seeded hold on `barcode`; its request id."""
        item = self.state.item_by_barcode(AB, barcode)
        (request,) = self.state.requests_of(AB, item_pid=item.pid)
        export = request_export(
            [
                {
                    "requestId": request.request_id,
                    "requestType": "PATRON_PHYSICAL",
                    "barcode": barcode,
                    "mmsId": item.mms_id,
                    "pickup": "AB Remote Storage Library",
                }
            ]
        )
        (self.folder(AB, "requests") / name).write_bytes(export)
        return request.request_id


@contextmanager
def bridge_at(root: Path, *, migrate: bool = True) -> Iterator[Bridge]:
    """A fake Alma, a conf.json and (unless told not to) a migrated ledger under `root`."""
    state = state_from_file()
    with fake_alma_server(state) as gateway:
        bridge = Bridge(root, state, gateway)
        bridge.files.mkdir(parents=True, exist_ok=True)
        bridge.write_conf()
        if migrate:
            asyncio.run(upgrade(bridge.database_url))
        yield bridge
