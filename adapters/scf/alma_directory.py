"""`AlmaDirectory` over HTTP: one gateway per configured institution, one client for all."""

from __future__ import annotations

import httpx

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.alma_http.gateway import HttpAlmaGateway
from application.scf.settings import Settings
from application.shared.alma import UnknownInstitution


class HttpAlmaDirectory:
    """Gateways for the institutions of the current settings, sharing one pooled client."""

    def __init__(self, settings: Settings, client: AlmaHttpClient) -> None:
        self._settings = settings
        self._client = client
        self._gateways: dict[str, HttpAlmaGateway] = {}

    @property
    def client(self) -> AlmaHttpClient:
        """The shared client, to close at shutdown and to read per-institution counters."""
        return self._client

    def calls_wanted(self, institution: str) -> int:
        """`CallPacing`: what the institution's throttle could take on now (A4)."""
        return self._client.throttle(institution).calls_wanted()

    async def next_call_start(self, institution: str) -> None:
        """`CallPacing`: return at the institution's next call start."""
        await self._client.throttle(institution).next_start()

    def gateway(self, institution: str) -> HttpAlmaGateway:
        key = institution.casefold()
        if key not in self._gateways:
            api_key = self._settings.api_key(institution)
            if not api_key:
                raise UnknownInstitution(institution)
            self._gateways[key] = HttpAlmaGateway(
                self._client, self._configured_code(institution), api_key
            )
        return self._gateways[key]

    def _configured_code(self, institution: str) -> str:
        # Webhooks may spell a code in another case; events and errors use the configured one.
        consortium = self._settings.consortium
        if consortium.is_scf(institution):
            return consortium.remote_storage.institution
        configured = consortium.institution(institution)
        return configured.code if configured else institution


def http_alma_directory(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HttpAlmaDirectory:
    """A directory over a new pooled client at the configured `gateway` and rate limit (A4)."""
    client = AlmaHttpClient(
        settings.gateway,
        rate_per_second=settings.alma_rate_limit_per_second,
        retry=retry,
        transport=transport,
    )
    return HttpAlmaDirectory(settings, client)
