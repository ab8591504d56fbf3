"""The exceptions raised while fetching and parsing a feed.

Callers catch :class:`FeedError` to record a broken source and move on, or a
subclass when the reaction differs (back off on :class:`HTTPStatusError` using
``retry_after``; stop polling on repeated :class:`ParseError`)::

    FeedError                   base of everything below
    ├── FetchError              network, timeout, DNS, TLS, too many redirects (.url)
    │   ├── HTTPStatusError     a status other than 2xx/304 (.status, .retry_after)
    │   └── TooLargeError       the body is bigger than the cap (.max_bytes)
    └── ParseError              the bytes are not a feed, or nothing usable is in them (.url)

No raw ``aiohttp`` exception or ``TimeoutError`` leaves ``bot.feeds``: the
fetcher wraps them in :class:`FetchError` and keeps the original as
``__cause__``.
"""


class FeedError(Exception):
    """Base class for every error raised by ``bot.feeds``."""


class FetchError(FeedError):
    """The feed could not be retrieved."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url


class HTTPStatusError(FetchError):
    """The server answered with a status that is neither 2xx nor 304.

    ``retry_after`` is the server's ``Retry-After`` in seconds from now (``None``
    when absent or unreadable), so the scheduler can honour it instead of guessing.
    """

    def __init__(self, *, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}", url=url)
        self.status = status
        self.retry_after = retry_after


class TooLargeError(FetchError):
    """The body is larger than the cap; the download was abandoned."""

    def __init__(self, *, url: str, max_bytes: int) -> None:
        super().__init__(f"body larger than {max_bytes} bytes", url=url)
        self.max_bytes = max_bytes


class ParseError(FeedError):
    """The bytes are not a feed (an HTML page, garbage, nothing) or hold nothing usable."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
