"""PTB's HTTP transport on one `aiohttp.ClientSession`, instead of the default httpx one.

Why: with httpx every send costs ~5 ms of CPU (see ../shared/docs/performance-notes.md);
on aiohttp it is a tenth of that, and the whole bot uses one HTTP stack. PTB's own error
mapping (`RetryAfter`, `Forbidden`, `ChatMigrated`, `BadRequest`, 5xx → `NetworkError`) is
kept: it lives in `BaseRequest._request_wrapper`, which calls `do_request` below.

What a failed request means for the caller is the one decision made here::

    NetworkError   the request never left: no connection, connect timeout, no free slot.
                   Sending again cannot make a duplicate, so it is safe to retry.
    AnswerLost     (a `TimedOut`) the request was written but its answer never came or came
                   broken: read timeout, server closed the connection, truncated body.
                   Telegram may have delivered the message; the sender must not resend it.

A keep-alive connection that the server closed while idle fails the same way as a lost
answer; aiohttp opens a fresh connection for each attempt after that, and such a send is
recorded as `unconfirmed` rather than risk a duplicate alert.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

DefaultInput = float | None | object


class AnswerLost(TimedOut):
    """The request reached the server, but no usable answer came back."""


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession`; one instance per purpose.

    The bot needs two: one for API calls (`connection_limit` requests at once) and one for
    `getUpdates`, whose long poll PTB lengthens by adding the poll timeout to `read_timeout`.
    """

    def __init__(
        self,
        *,
        connection_limit: int = 64,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        write_timeout: float | None = 5.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._connection_limit = connection_limit
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"User-Agent": self.USER_AGENT}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connection_limit),
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        read_timeout: DefaultInput,
        write_timeout: DefaultInput,
        connect_timeout: DefaultInput,
        pool_timeout: DefaultInput,
        has_files: bool,
    ) -> aiohttp.ClientTimeout:
        read = _pick(read_timeout, self._read_timeout)
        write = _pick(
            write_timeout, self._media_write_timeout if has_files else self._write_timeout
        )
        connect = _pick(connect_timeout, self._connect_timeout)
        pool = _pick(pool_timeout, self._pool_timeout)
        acquire = None if connect is None or pool is None else connect + pool
        # aiohttp has no write timeout of its own: `total` bounds the whole exchange instead,
        # and sock_read (the answer) starts once the request is written.
        total = None
        if read is not None and write is not None and acquire is not None:
            total = read + write + acquire
        return aiohttp.ClientTimeout(
            total=total, connect=acquire, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        write_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        connect_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        pool_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        has_files = bool(request_data and request_data.contains_files)
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, has_files
        )
        body: aiohttp.FormData | bytes | None = None
        headers = self._headers
        if request_data is not None:
            if has_files:
                body = _form(request_data)
            else:
                body = request_data.json_payload
                headers = {**self._headers, "Content-Type": "application/json"}
        try:
            async with session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                payload = await response.read()
                return response.status, payload
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            raise NetworkError(f"request not sent: {error!r}") from error
        except TimeoutError as error:
            # ConnectionTimeoutError is handled above; any other timeout is on the answer.
            raise AnswerLost(f"no answer in time: {error!r}") from error
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as error:
            raise AnswerLost(f"answer lost: {error!r}") from error
        except aiohttp.ClientResponseError as error:
            raise AnswerLost(f"unreadable answer: {error!r}") from error
        except aiohttp.ClientError as error:
            raise AnswerLost(f"connection failed after sending: {error!r}") from error


def _pick(value: DefaultInput, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "use the instance's timeout"; None means no limit."""
    if isinstance(value, DefaultValue):
        return default
    return None if value is None else float(value)  # type: ignore[arg-type]


def _form(request_data: RequestData) -> aiohttp.FormData:
    """Multipart body for uploads: plain parameters as fields, files as file parts."""
    form = aiohttp.FormData()
    for name, value in request_data.multipart_data.items():
        filename, content, content_type = value
        form.add_field(name, content, filename=filename, content_type=content_type)
    for name, text in request_data.json_parameters.items():
        form.add_field(name, text)
    return form
