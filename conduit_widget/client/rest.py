"""Conduit's REST routes over httpx: timeouts, retries that never duplicate a task, typed errors.

Retries follow what the well-kept clients do (openai-python, replicate): exponential backoff with jitter,
``Retry-After`` honoured up to a cap, 408/429/5xx and connection failures retried for reads and cancels.
A create is different, because a retried create can make a second task that someone pays for: it is
retried only when the server provably never took it (the connection was refused or never opened, or the
answer was 429 / 503, which refuse before doing anything). A video retry likewise: sent twice, the second is
refused (the task is no longer failed), so what became of the first is for the task's status to say.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import email.utils
import functools
import logging
import ssl
import time
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from conduit_widget import protocol
from conduit_widget._version import __version__
from conduit_widget.client.errors import (
    ConduitError,
    DeadlineExceededError,
    NetworkError,
    NotFoundError,
    UnsafeUrlError,
    error_for_status,
)
from conduit_widget.client.policies import RetryPolicy
from conduit_widget.client.secret import Secret
from conduit_widget.protocol import Kind
from conduit_widget.url_policy import UnsafeUrl, check_fetch_url

log = logging.getLogger(__name__)

Routes = Literal["auto", "conduit", "successor"]
RETRYABLE_STATUS: Final = frozenset({408, 409, 429, 500, 502, 503, 504})
CREATE_RETRYABLE_STATUS: Final = frozenset({429, 503})
MAX_RETRY_AFTER: Final = 60.0
_MAYBE_CREATED: Final = "the task may have been created"
MAX_DOWNLOAD_BYTES: Final = 1024 * 1024 * 1024  # a minute of 4K video is well under this; a runaway server is not
_MAX_REDIRECTS: Final = 5
_MAX_ERROR_BODY: Final = 64 * 1024
DEFAULT_TIMEOUT: Final = httpx.Timeout(30.0, connect=5.0)  # a server that asks for longer gets its error raised instead


async def _head(response: httpx.Response, limit: int) -> bytes:
    """Up to `limit` bytes of a streamed answer, and not one chunk more."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


async def _capped_body(response: httpx.Response, limit: int, what: str) -> bytes:
    """The whole body, if it is at most `limit` bytes: refused on its Content-Length first, and else stopped at
    the first chunk over the limit (an endless answer costs `limit` bytes, not all of memory)."""
    shown = f"{limit / 2**20:,.0f} MiB" if limit >= 2**20 else f"{limit:,} bytes"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ConduitError(f"{what}: the server would send {int(declared):,} bytes, more than the {shown} allowed")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:  # dropped as it stands, never joined: an endless answer costs `limit` bytes at most
            raise ConduitError(f"{what}: the server sent more than the {shown} allowed; the rest was not read")
        chunks.append(chunk)
    return b"".join(chunks)


def _data_url_bytes(url: str, limit: int, what: str) -> bytes:
    """The bytes of a base64 image data URL (the policy let through only those)."""
    payload = url.partition(",")[2]
    if len(payload) * 3 // 4 > limit:
        raise ConduitError(f"{what}: the data URL holds more than the {limit:,} bytes allowed")
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error:
        raise ConduitError(f"{what}: the data URL is not valid base64") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client in the process. httpx otherwise builds one per client, loading the CA
    bundle each time: about 30-50 ms for every ConduitClient (and every synchronous `generate`)."""
    return httpx.create_ssl_context()


class RestClient:
    """The REST half of a ConduitClient. One httpx.AsyncClient, shared by every call."""

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        *,
        routes: Routes = "auto",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        total_timeout: float | None = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._routes: Routes = routes
        self._retry = retry
        self._total_timeout = total_timeout  # a whole call, retries and Retry-After waits included
        self.is_simulator = False  # set once the server says it is the local Conduit
        self._plain: httpx.AsyncClient | None = None  # for media elsewhere: no key, no Conduit headers
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            verify=tls_context(),
            headers={"Authorization": f"Bearer {api_key.reveal()}", "User-Agent": f"conduit-widget/{__version__}"},
        )

    def __repr__(self) -> str:
        return f"<RestClient {self.base_url} routes={self._routes}>"

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._plain is not None:
            await self._plain.aclose()

    @property
    def routes(self) -> Routes:
        return self._routes

    def _path(self, template: str, **values: str) -> str:
        # A task id is one path segment, whatever it holds ("/", "?", "#", "..": a handle from task() may).
        path = template.format(**{name: _segment(value) for name, value in values.items()})
        # The Gateway serves the media routes, the task routes and discovery under /v1/conduit/.
        return path.replace("/v1/", protocol.GATEWAY_PREFIX + "/", 1) if self._routes == "successor" else path

    # -- routes --------------------------------------------------------------------------------

    async def create(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        """POST a new task; the answer's JSON. Never sent twice unless the first provably went nowhere."""
        template = protocol.IMAGE_CREATE if kind == "image" else protocol.VIDEO_CREATE
        what = f"creating {'an image' if kind == 'image' else 'a video'} task"
        return await self._json("POST", template, what=what, json=body, create=True)

    async def status(self, kind: Kind, task_id: str) -> dict[str, Any]:
        template = protocol.IMAGE_STATUS if kind == "image" else protocol.VIDEO_STATUS
        return await self._json("GET", template, task_id=task_id, what="reading the task's status")

    async def cancel(self, kind: Kind, task_id: str) -> None:
        template = protocol.IMAGE_CANCEL if kind == "image" else protocol.VIDEO_CANCEL
        await self._send("DELETE", template, task_id=task_id, what="cancelling the task")

    async def retry_video(self, task_id: str) -> dict[str, Any]:
        """Start a failed video again. Sent once, as a create is: if the answer is lost, the retry may have started."""
        return await self._json(
            "POST",
            protocol.VIDEO_RETRY,
            task_id=task_id,
            what="retrying the video task",
            create=True,
            maybe="the retry may have started",
        )

    async def models(self) -> list[dict[str, Any]]:
        answer = await self._json("GET", protocol.MODELS, what="listing models", plain_path=True)
        return _entries(answer)

    async def discovered_models(self) -> list[dict[str, Any]] | None:
        """The gateway's model discovery (what each model can do), or None where it has none."""
        try:
            answer = await self._json("GET", protocol.DISCOVERY_MODELS, what="discovering models")
        except NotFoundError as exc:
            if exc.route_missing:
                return None
            raise
        return _entries(answer)

    async def download(self, url: str, *, limit: int = MAX_DOWNLOAD_BYTES) -> bytes:
        """A result's bytes, at most `limit` of them: a server sending more (or saying it will) gets an error, not
        all of this process's memory. Only from where the kernel may fetch (`url_policy.check_fetch_url`), checked
        again at every redirect hop; the key goes only to this Conduit's own origin, never to a storage host."""
        what = f"downloading {url}"
        for _hop in range(_MAX_REDIRECTS + 1):
            try:
                url = check_fetch_url(url, self.base_url)
            except UnsafeUrl as exc:
                raise UnsafeUrlError(f"{what}: refused, {exc}") from None
            if url[:5].lower() == "data:":
                return _data_url_bytes(url, limit, what)
            own = url.startswith(self.base_url + "/")
            if not own and self._plain is None:
                self._plain = httpx.AsyncClient(timeout=self._http.timeout, verify=tls_context())
            http = self._http if own else self._plain
            assert http is not None
            try:
                async with http.stream("GET", url) as response:
                    if response.is_redirect and "Location" in response.headers:
                        url = str(response.url.join(response.headers["Location"]))
                        continue
                    if response.status_code >= 400:
                        head = await _head(response, _MAX_ERROR_BODY)
                        raise error_for_status(response.status_code, head, what=what, secret=self._key.reveal())
                    return await _capped_body(response, limit, what)
            except httpx.InvalidURL as exc:
                raise ConduitError(f"{what}: the URL is not valid ({exc})") from None
            except httpx.TransportError as exc:
                raise NetworkError(f"{what} failed: {type(exc).__name__}") from None
        raise ConduitError(f"{what}: more than {_MAX_REDIRECTS} redirects")

    # -- the machinery -------------------------------------------------------------------------

    async def _json(self, method: str, template: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._send(method, template, what=what, **kwargs)
        try:
            data = response.json()
        except ValueError:
            raise ConduitError(f"{what}: the server answered with something that is not JSON") from None
        except RecursionError:  # Python's parser gives up on deep nesting this way; no Conduit answer nests so
            raise ConduitError(f"{what}: the server's JSON answer nests too deeply to read") from None
        if not isinstance(data, dict):
            raise ConduitError(f"{what}: the server answered with a JSON {type(data).__name__}, not an object")
        return data

    async def _send(self, method: str, template: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One call, finding out on the way which routes this gateway has. Until it is known, a route answered with
        the empty 404 of a route that does not exist is tried once under the Gateway's prefix."""
        if self._routes != "auto" or kwargs.get("plain_path"):
            return await self._deadline(method, template, what=what, **kwargs)
        try:
            response = await self._deadline(method, template, what=what, **kwargs)
        except NotFoundError as exc:
            if not exc.route_missing:
                self._routes = "conduit"  # a missing task, not a missing route: these are the routes
                raise
        else:
            self._routes = "conduit"
            return response
        self._routes = "successor"
        try:
            response = await self._deadline(method, template, what=what, **kwargs)
        except NotFoundError as exc:
            if exc.route_missing:
                self._routes = "auto"  # neither has it: no conclusion yet
            raise
        log.info("this gateway serves its media routes under %s/; using them from now on", protocol.GATEWAY_PREFIX)
        return response

    async def _deadline(self, method: str, template: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """One call, retries included, within the total deadline."""
        try:
            async with asyncio.timeout(self._total_timeout):
                return await self._attempts(method, template, what=what, **kwargs)
        except builtins.TimeoutError as exc:
            if isinstance(exc, ConduitError):
                raise
            more = f"; {kwargs.get('maybe', _MAYBE_CREATED)}" if kwargs.get("create") else ""
            raise DeadlineExceededError(
                f"{what}: not done within {self._total_timeout:g} s, retries included{more}",
                task_id=kwargs.get("task_id"),
            ) from None

    async def _attempts(
        self,
        method: str,
        template: str,
        *,
        what: str,
        task_id: str | None = None,
        json: Any = None,
        create: bool = False,  # not idempotent: sent again only when it provably never reached the server
        maybe: str = _MAYBE_CREATED,  # what may have happened when such a call's answer is lost
        plain_path: bool = False,
    ) -> httpx.Response:
        path = template if plain_path else self._path(template, task_id=task_id or "")
        retryable_status = CREATE_RETRYABLE_STATUS if create else RETRYABLE_STATUS
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                response = await self._http.request(method, path, json=json)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server (no connection, or none free in our own pool): safe to try again,
                # even for a create.
                error: ConduitError = NetworkError(f"{what}: could not connect to {self.base_url} ({_reason(exc)})")
            except httpx.TimeoutException as exc:
                if create:
                    raise DeadlineExceededError(
                        f"{what}: no answer in time ({type(exc).__name__}); {maybe}, so it was not sent again",
                        task_id=task_id,
                    ) from None
                error = DeadlineExceededError(f"{what}: no answer from {self.base_url} in time", task_id=task_id)
            except httpx.TransportError as exc:
                if create:
                    raise NetworkError(
                        f"{what}: the connection broke after the request was sent ({_reason(exc)}); {maybe}, so "
                        "it was not sent again",
                        task_id=task_id,
                    ) from None
                error = NetworkError(f"{what}: the connection broke ({_reason(exc)})", task_id=task_id)
            else:
                if protocol.SIMULATOR_HEADER in response.headers:
                    self.is_simulator = True
                if response.status_code < 400:
                    return response
                retry_after = _retry_after(response)
                error = error_for_status(
                    response.status_code,
                    response.content,
                    what=what,
                    task_id=task_id,
                    retry_after=retry_after,
                    secret=self._key.reveal(),
                )
                if response.status_code not in retryable_status or (retry_after or 0) > MAX_RETRY_AFTER:
                    raise error
            if attempt >= self._retry.max_retries:
                raise error
            wait = self._retry.delay(attempt, retry_after)
            log.debug("%s: %s; retrying in %.2f s", what, error.message, wait)
            attempt += 1
            await asyncio.sleep(wait)


def _entries(answer: dict[str, Any]) -> list[dict[str, Any]]:
    data = answer.get("data")
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def _segment(value: str) -> str:
    """`value` as one URL path segment: quoted, and "." or ".." spelled so that no one resolves them away."""
    return quote(value, safe="") if value not in (".", "..") else value.replace(".", "%2E")


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
