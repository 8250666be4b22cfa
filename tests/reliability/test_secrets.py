"""Secrets stay secret, admin routes stay closed, unknown SFTP hosts are refused (A1, W2, K3).

`almabridge serve` runs as a subprocess at DEBUG with distinctive secrets: the SCF's and two
members' API keys (one of them not known to Alma, so every call with it fails), the webhook
secret, the SFTP password (and a wrong one, loaded by a configuration reload so that a login
fails), and the admin token. It does real work (items and requests syncs, circulation webhooks,
refused webhooks, refused admin calls, a failed Alma key, a failed SFTP login). Then everything
an operator or an attacker could read is searched for each secret: the service's whole log, every
row of every ledger table, `/metrics`, every admin and audit answer, every error answer.

In-process, the same search covers the log records (root logger at DEBUG) and the errors of a
sync whose Alma key is refused. Last, the SFTP adapter must refuse a host key it does not know,
before it sends the password.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.transfer import SftpFileTransfer
from application.shared.connections import Secret
from application.shared.files import HostKeyRefused
from entrypoints.bridge_wiring import item_sync
from entrypoints.demo import webhooks
from entrypoints.demo.setup import AB, AB_PUBLISHING_JOB, AB_REQUESTS_JOB, CD, SCF, write_conf
from tests.e2e.harness import ADMIN_TOKEN, AlmaSide, BridgeApi, ServiceProcess, alma_side, until
from tests.e2e.test_webhooks import MIRRORED
from tests.integration.files.servers import PASSWORD, USER, Faults, sftp_server
from tests.reliability import tally
from tests.reliability.support import open_rig, table_rows
from tests.scenarios.world import EXAMPLE_CONF, collection, marc_record

SCF_KEY = "scf-KEY-n3ver-SHOWN-4c1d9e"
AB_KEY = "ab-KEY-n3ver-SHOWN-8f2a6b"
CD_KEY = "cd-KEY-unknown-to-alma-n3ver-SHOWN-5e7c"
WEBHOOK_SECRET = "webhook-SECRET-n3ver-SHOWN-3b9f"
WRONG_SFTP_PASSWORD = "sftp-WRONG-pass-n3ver-SHOWN-6d0a"
CD_PUBLISHING_JOB = "S123456789"
ADMIN_ROUTES = (
    ("GET", "/metrics"),
    ("GET", "/configuration"),
    ("GET", "/logger"),
    ("PUT", "/logger?level=warning"),
    ("GET", "/ledger/events"),
    ("GET", f"/ledger/items/{AB}/AB0001"),
    ("GET", f"/ledger/requests/{AB}/1234"),
    ("GET", "/openapi.json"),
)
WRONG_TOKENS: tuple[dict[str, str], ...] = (
    {},
    {"Authorization": "Bearer not-the-token"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": ADMIN_TOKEN},
)
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class DebugService(ServiceProcess):
    """The harness's service, logging at DEBUG: the most it will ever write."""

    def _command(self) -> list[str]:
        command = super()._command()
        command[command.index("--log-level") + 1] = "debug"
        return command


def _configure(side: AlmaSide, *, sftp_password: str) -> None:
    """conf.json with the distinctive keys; Alma knows the SCF's and AB's, not CD's."""
    document = json.loads(side.paths.conf.read_text())
    document["webhook_secret"] = WEBHOOK_SECRET
    document["remote_storage_apikey"] = SCF_KEY
    document["ftp_server"]["password"] = sftp_password
    keys = {AB: AB_KEY, CD: CD_KEY}
    for institution in document["institutions"]:
        institution["apikey"] = keys[institution["code"]]
    write_conf(side.paths, document)


def _secrets(side: AlmaSide) -> dict[str, str]:
    return {
        "SCF API key": SCF_KEY,
        "AB API key": AB_KEY,
        "CD API key": CD_KEY,
        "webhook secret": WEBHOOK_SECRET,
        "SFTP password": side.secrets.sftp_password,
        "wrong SFTP password": WRONG_SFTP_PASSWORD,
        "admin token": ADMIN_TOKEN,
    }


def _leaks(secrets: dict[str, str], texts: dict[str, str]) -> list[str]:
    return [
        f"{name} in {where}"
        for name, secret in secrets.items()
        for where, text in texts.items()
        if secret in text
    ]


async def test_A1_W2_K3_no_secret_in_logs_ledger_metrics_or_answers_and_admin_is_closed(
    tmp_path: Path,
) -> None:
    """Rule A1 (keys never in logs, errors or the ledger), W2 (401 before anything), the admin
    token (401 without it), and the same for the webhook secret and the SFTP passwords."""
    answers: dict[str, str] = {}
    async with alma_side(tmp_path) as side:
        _configure(side, sftp_password=side.secrets.sftp_password)
        side.state.add_api_key(SCF, SCF_KEY)
        side.state.add_api_key(AB, AB_KEY)
        secrets = _secrets(side)
        service = DebugService(side)
        try:
            await service.start()
            api = BridgeApi(side.client, service, WEBHOOK_SECRET)
            client = side.client
            url = service.url

            # Real work: an items sync over SFTP, a requests sync, a circulation webhook.
            side.demo.drop_publishing_archive()
            await api.send(webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing"))
            await api.wait_processed(1)
            side.demo.drop_request_file()
            await api.send(webhooks.job_end(AB, AB_REQUESTS_JOB, "Requests export"))
            await api.wait_processed(2)
            await api.send(webhooks.loan_returned(SCF, "AB0001X", f"{AB}-ABRS", None))
            await api.wait_processed(3)

            # CD's key is unknown to Alma: every call of its items sync is refused.
            record = marc_record("99CD1", [{"b": "CDKEY1", "c": "CDRS", "l": "rs_shared_1"}])
            drop = side.paths.drop_folder(CD, "items") / "CD_1_new.xml"
            drop.write_bytes(collection([record]))
            await api.send(webhooks.job_end(CD, CD_PUBLISHING_JOB, "Publishing"))
            await api.wait_processed(4)
            refused_key = [e for e in await api.events(institution=CD) if e["outcome"] == "failed"]
            assert refused_key, "the refused CD key left no failed event"

            # Refused webhooks: no signature, a wrong one, a signature made with another secret.
            raw = json.dumps(webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing")).encode()
            for name, headers in (
                ("unsigned", {"Content-Type": "application/json"}),
                ("wrong signature", {"X-Exl-Signature": "c2lnbmF0dXJl"}),
                ("other secret", api.signed(raw) | {"X-Exl-Signature": "AAAA" + "=" * 40}),
            ):
                answer = await client.post(f"{url}/webhook", content=raw, headers=headers)
                assert answer.status_code == 401, name
                answers[f"webhook {name}"] = f"{answer.headers}\n{answer.text}"

            # Admin routes: closed without the token, open with it.
            refused = 0
            for method, route in ADMIN_ROUTES:
                for headers in WRONG_TOKENS:
                    answer = await client.request(method, url + route, headers=headers)
                    assert answer.status_code == 401, (method, route, headers, answer.text)
                    refused += 1
                    answers[f"{method} {route} {headers}"] = f"{answer.headers}\n{answer.text}"
            for method, route in ADMIN_ROUTES:
                answer = await client.request(method, url + route, headers=BEARER)
                assert answer.status_code < 500, (route, answer.text)
                answers[f"{method} {route} with token"] = f"{answer.headers}\n{answer.text}"
            await client.put(f"{url}/logger", params={"level": "debug"}, headers=BEARER)

            # A reload with a wrong SFTP password, then a JOB_END whose login fails.
            _configure(side, sftp_password=WRONG_SFTP_PASSWORD)
            reload = await client.get(f"{url}/configuration", headers=BEARER)
            answers["reload, wrong SFTP password"] = reload.text
            side.demo.drop_publishing_archive()
            await api.send(webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing"))

            async def login_failed() -> bool:
                processed = await api.events(action="webhook.process")
                return any(e["outcome"] == "failed" for e in processed)

            await until(login_failed, 30, "the failed SFTP login to be recorded")
            failed_login = [
                e for e in await api.events(action="webhook.process") if e["outcome"] == "failed"
            ]
            assert any("login" in (e["message"] or "").lower() for e in failed_login), failed_login
            _configure(side, sftp_password=side.secrets.sftp_password)
            answers["reload, right SFTP password"] = (
                await client.get(f"{url}/configuration", headers=BEARER)
            ).text
            answers["metrics"] = await api.admin("/metrics")
            answers["events"] = json.dumps(await api.events())
            answers["health"] = (await client.get(f"{url}/health")).text
            answers["openapi"] = json.dumps(await api.admin("/openapi.json"))
        finally:
            await service.stop()
        logs = {
            f"service log {i}": log.read_text(errors="replace")
            for i, log in enumerate(service.logs)
        }
        rows = await table_rows(side.paths.database_url)

    # The scan would be hollow if nothing had been logged or recorded: it was, at DEBUG.
    log_text = "\n".join(logs.values())
    for logger in ("adapters.alma_http.client", "httpcore", "asyncssh", "almabridge.http"):
        assert f"DEBUG {logger}" in log_text, logger
    assert len(rows["events"]) > 20
    assert any(r["state"] == "mirrored" for r in rows["mirrored_items"])
    texts = {
        **logs,
        **answers,
        **{
            f"ledger {table}": json.dumps(table_rows_, default=_text_of)
            for table, table_rows_ in rows.items()
        },
    }
    leaks = _leaks(secrets, texts)
    assert leaks == []
    state = side.state
    mirrored = [i.barcode for i in state.institutions[SCF].items.values()]
    assert sorted(mirrored) == sorted(f"{b}X" for b in MIRRORED)
    cancelled = state.requests_of(AB, active=False)
    assert len(cancelled) == 1  # the hold on AB0004, on open shelves (R7)
    tally.record(
        f"secrets: service at DEBUG ({len(secrets)} secrets, {len(texts)} texts, "
        f"{len(leaks)} leaks)",
        faults_injected=refused + 3 + 1 + 1,  # wrong tokens, bad signatures, bad key, bad login
        messages_processed=len(rows["inbox_messages"]),
        records_processed=len(rows["events"]),
        effects_lost=len(set(f"{b}X" for b in MIRRORED) - set(mirrored)),
        duplicates=len(mirrored) - len(set(mirrored)),
        transient_cancellations=len(cancelled) - 1,  # the off-site hold is the one (R7)
    )


async def test_A1_a_refused_alma_key_leaks_into_no_log_record_error_or_ledger_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rule A1 in-process: the root logger at DEBUG, the errors raised, the events written,
    while one member's key is refused by Alma and the others work."""
    caplog.set_level(logging.DEBUG)
    state = state_from_file()
    state.add_api_key(SCF, SCF_KEY)
    state.add_api_key(AB, AB_KEY)
    document = json.loads(EXAMPLE_CONF.read_text())
    keys = {AB: AB_KEY, CD: CD_KEY}
    institutions = [{**i, "apikey": keys[i["code"]]} for i in document["institutions"]]
    overrides = {
        "remote_storage_apikey": SCF_KEY,
        "webhook_secret": WEBHOOK_SECRET,
        "institutions": institutions,
        "ftp_server": {**document["ftp_server"], "password": WRONG_SFTP_PASSWORD},
    }
    for barcode, inst, library, location in (
        ("KA1", AB, "ABRS", "rs_shared_in_ab"),
        ("KC1", CD, "CDRS", "rs_shared_1"),
    ):
        state.seed_item(inst, barcode=barcode, library=library, location=location, mms_id="99K1")
    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    async with open_rig(tmp_path, state, injector, settings_overrides=overrides) as rig:
        for inst, barcode, library, location in (
            (AB, "KA1", "ABRS", "rs_shared_in_ab"),
            (CD, "KC1", "CDRS", "rs_shared_1"),
        ):
            items = [{"b": barcode, "c": library, "l": location}]
            rig.put(inst, "items", f"{inst}_1_new.xml", collection([marc_record("99K1", items)]))
        summaries = [await item_sync(rig.bridge).run(inst) for inst in (AB, CD)]
        errors: list[BaseException] = []
        try:
            await rig.bridge.alma.gateway(CD).item_by_barcode("KC1")
        except Exception as error:  # the typed Alma error (A2)
            errors.append(error)
        rows = await table_rows(rig.database_url)
    assert summaries[0].created == 1
    assert summaries[1].failed == 1
    assert errors
    assert "UNAUTHORIZED" in str(errors[0])
    texts = {
        "log": caplog.text,
        "log messages": "\n".join(r.getMessage() for r in caplog.records),
        "errors": "\n".join(f"{e}\n{e!r}\n{vars(e)}" for e in errors),
        "summaries": repr(summaries),
        "fake call log": "\n".join(repr(c) for c in state.call_log),
        **{f"ledger {t}": json.dumps(r, default=_text_of) for t, r in rows.items()},
    }
    assert "alma 01AAA_RS" in caplog.text  # the client did log at DEBUG
    secrets = {"SCF": SCF_KEY, "AB": AB_KEY, "CD": CD_KEY, "webhook": WEBHOOK_SECRET}
    secrets["sftp"] = WRONG_SFTP_PASSWORD
    assert _leaks(secrets, texts) == []


async def test_the_sftp_adapter_refuses_unknown_host_keys_before_sending_the_password(
    tmp_path: Path,
) -> None:
    """An impostor's key, a wrong pinned fingerprint, and no trust configured at all are each
    refused before authentication: the server never sees a password (the Java app trusted any
    host). The right key is accepted (the control)."""
    root = tmp_path / "root"
    (root / "alma").mkdir(parents=True)
    faults = Faults()
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    async with sftp_server(root, faults) as server:
        unknown = tmp_path / "unknown_hosts"
        unknown.write_text(server.known_hosts_line(impostor))
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        trusts: list[dict[str, Any]] = [
            {"known_hosts": unknown},
            {"host_key_fingerprint": impostor.get_fingerprint("sha256")},
            {},
        ]
        refusals = []
        for trust in trusts:
            adapter = SftpFileTransfer(
                "127.0.0.1", port=server.port, user=USER, password=Secret(PASSWORD), **trust
            )
            try:
                with pytest.raises(HostKeyRefused) as refused:
                    await adapter.list_files("/alma")
            finally:
                await adapter.aclose()
            refusals.append(refused.value)
        assert faults.logins == 0  # no password ever reached the impostor
        trusted = SftpFileTransfer(
            "127.0.0.1", port=server.port, user=USER, password=Secret(PASSWORD), known_hosts=known
        )
        try:
            assert await trusted.list_files("/alma") == []
        finally:
            await trusted.aclose()
        assert faults.logins == 1
    offered = server.host_key.get_fingerprint("sha256")
    for refusal in refusals:
        assert offered in str(refusal)  # names what the server offered, for the operator
        assert PASSWORD not in str(refusal)
    tally.record(
        f"SFTP unknown host keys ({faults.logins - 1} passwords sent to impostors)",
        faults_injected=len(trusts),
        messages_processed=0,
        records_processed=0,
        effects_lost=0,
        duplicates=0,
        transient_cancellations=0,
    )


def _text_of(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
