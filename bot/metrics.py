"""Prometheus metrics for one Application: its own CollectorRegistry, no global state.

What is counted where:

* ingest (`observe_ingest`, fed by `Ingestor(on_report=…)`): sources fetched and failed,
  articles stored, alerts queued;
* Telegram sends (`MeasuredLimiter`, wrapped around the flood limiter): messages sent and
  failed, and the latency of each send request (the HTTP round trip, without throttling);
* alerts edited with a story's later sources (`Editor(on_edited=…)`);
* rate-limit waits: read from `FloodLimiter.retry_after_pauses` at scrape time;
* the outbox (`refresh`, called by `/metrics` before rendering): alerts per status and the
  depth, read from the database, so with several instances every one reports the same truth.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import BaseRateLimiter

from bot.delivery.ratelimit import FloodLimiter
from bot.ingest import IngestReport
from storage import outbox

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SEND_PREFIX = "send"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _RateLimitWaits(Collector):
    """Exposes the limiter's own count, so nothing has to mirror it into a Counter."""

    def __init__(self, limiter: FloodLimiter) -> None:
        self._limiter = limiter

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "newsbot_rate_limit_waits",
            "Times Telegram answered 429 and every send paused for retry_after",
        )
        family.add_metric([], self._limiter.retry_after_pauses)
        yield family


class Metrics:
    """Every metric of one running bot, registered in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sources_fetched = Counter(
            "newsbot_sources_fetched", "Feed fetches that succeeded (incl. 304)", registry=r
        )
        self.sources_failed = Counter(
            "newsbot_sources_failed", "Feed fetches that failed", registry=r
        )
        self.articles_stored = Counter("newsbot_articles_stored", "New articles stored", registry=r)
        self.alerts_queued = Counter(
            "newsbot_alerts_queued", "Alerts put in the outbox", registry=r
        )
        self.messages_sent = Counter(
            "newsbot_messages_sent", "Messages Telegram accepted (alerts and replies)", registry=r
        )
        self.alerts_edited = Counter(
            "newsbot_alerts_edited",
            'Sent alerts edited to name a story\'s later source ("Also:")',
            registry=r,
        )
        self.messages_failed = Counter(
            "newsbot_messages_failed",
            "Send requests that failed, by exception type",
            ["error"],
            registry=r,
        )
        self.send_latency = Histogram(
            "newsbot_send_latency_seconds",
            "Round trip of one send request to the Bot API",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "newsbot_outbox_depth", "Alerts waiting to be sent (pending or claimed)", registry=r
        )
        self.outbox_alerts = Gauge(
            "newsbot_outbox_alerts", "Outbox rows by status", ["status"], registry=r
        )

    def watch_limiter(self, limiter: FloodLimiter) -> None:
        self.registry.register(_RateLimitWaits(limiter))

    def observe_ingest(self, report: IngestReport) -> None:
        if report.error is not None:
            self.sources_failed.inc()
            return
        self.sources_fetched.inc()
        self.articles_stored.inc(report.new_articles)
        self.alerts_queued.inc(report.alerts_queued)

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the outbox gauges from the database (called per scrape)."""
        async with sessionmaker() as session:
            counts = await outbox.count_by_status(session)
            depth = await outbox.depth(session)
        self.outbox_depth.set(depth)
        for status, count in counts.items():
            self.outbox_alerts.labels(status=status).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeasuredLimiter(BaseRateLimiter[int]):
    """Wraps the flood limiter: counts and times each send request Telegram answers.

    It times the callback the limiter finally runs, so throttling delays are not latency.
    """

    def __init__(self, inner: BaseRateLimiter[int], metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if not endpoint.startswith(SEND_PREFIX):
            return await self._inner.process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        metrics = self._metrics

        async def timed(*call_args: Any, **call_kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await callback(*call_args, **call_kwargs)
            except Exception as error:
                metrics.messages_failed.labels(error=type(error).__name__).inc()
                raise
            finally:
                metrics.send_latency.observe(time.perf_counter() - started)
            metrics.messages_sent.inc()
            return result

        return await self._inner.process_request(
            timed, args, kwargs, endpoint, data, rate_limit_args
        )
