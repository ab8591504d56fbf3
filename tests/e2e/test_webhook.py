"""Webhook mode, /metrics and /healthz end to end: the real Application without an Updater,
its aiohttp server, the emulator recording setWebhook, and updates POSTed the way Telegram
posts them (with and without the secret header)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.app import build_application
from bot.config import Settings
from bot.context import NewsbotApplication
from bot.emulator import BotAPIEmulator
from bot.health import build_web_app
from bot.sources import load_sources
from bot.topics import load_catalogue
from bot.webhook import SECRET_HEADER
from storage.db import create_engine
from tests.conftest import feed_bytes
from tests.e2e.harness import write_sources
from tests.support.env import child_env
from tests.support.feed_server import FeedServer

KYIV = "kyivindependent-news-archive-2026-10-04.rss.xml"
SECRET = "s3cret_Token-42"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"
CHAT = 4242


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def webhook_bot(
    emulator: BotAPIEmulator, database_url: str, sources_file: Path, port: int
) -> AsyncIterator[NewsbotApplication]:
    """The lifecycle `newsbot run` drives in webhook mode (bot.lifecycle), on this loop."""
    settings = Settings(
        telegram_token=emulator.token,
        telegram_api_url=emulator.api_url,
        database_url=database_url,
        sources_file=sources_file,
        poll_interval=1.0,
        http_port=port,
        webhook_url=PUBLIC_URL,
        webhook_secret=SECRET,
    )
    app = build_application(
        settings, sources=load_sources(sources_file), catalogue=load_catalogue(None)
    )
    assert app.updater is None  # webhook mode: no getUpdates at all
    await app.initialize()
    assert app.post_init is not None and app.post_stop is not None
    assert app.post_shutdown is not None
    await app.post_init(app)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)


async def test_webhook_receives_updates_and_serves_metrics_and_health(
    emulator: BotAPIEmulator, feeds: FeedServer, database_url: str, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    async with (
        webhook_bot(emulator, database_url, sources, port),
        aiohttp.ClientSession() as http,
    ):
        (registration,) = [r for r in emulator.requests if r.method == "setwebhook"]
        assert registration.params["url"] == PUBLIC_URL
        assert registration.params["secret_token"] == SECRET
        assert not [r for r in emulator.requests if r.method == "getupdates"]

        update = emulator.send_text(CHAT, "/start")
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            async with http.post(f"{base}/telegram/webhook", json=update, headers=headers) as r:
                assert r.status == 403
        async with http.post(
            f"{base}/telegram/webhook", data=b"{", headers={SECRET_HEADER: SECRET}
        ) as r:
            assert r.status == 400
        await asyncio.sleep(0)  # (nothing queued by the refused requests)
        assert emulator.messages_to(CHAT) == []

        async with http.post(
            f"{base}/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
        (reply,) = await emulator.wait_for_messages(CHAT, 1, timeout=10)
        assert "/subscribe" in reply.plain_text

        async def metrics() -> str:
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                assert response.headers["Content-Type"].startswith("text/plain")
                return await response.text()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while "newsbot_sources_fetched_total 1.0" not in (text := await metrics()):
            assert loop.time() < deadline, text
            await asyncio.sleep(0.1)
        assert "newsbot_articles_stored_total 15.0" in text
        assert "newsbot_alerts_queued_total 0.0" in text  # a first fetch alerts nobody
        assert "newsbot_sources_failed_total 0.0" in text
        assert "newsbot_messages_sent_total 1.0" in text  # the /start reply
        assert "newsbot_send_latency_seconds_count 1.0" in text
        assert "newsbot_outbox_depth 0.0" in text
        assert "newsbot_rate_limit_waits_total 0.0" in text

        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {
                "status": "ok",
                "database": "ok",
                "scheduler": "running",
            }


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    from aiohttp.test_utils import TestClient, TestServer

    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    try:
        async with TestClient(TestServer(build_web_app(engine))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            body = await response.json()
            assert body["database"] == "unreachable" and body["status"] == "error"
    finally:
        await engine.dispose()


def _env(**values: str) -> dict[str, str]:
    env = child_env()
    env.update({"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


@pytest.mark.slow
async def test_newsbot_run_in_webhook_mode_never_logs_token_or_secret(
    emulator: BotAPIEmulator, feeds: FeedServer, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes(KYIV))
    sources = write_sources(tmp_path / "sources.toml", [("Kyiv", feeds.url("/kyiv.rss"))])
    port = _free_port()
    env = _env(
        NEWSBOT_TELEGRAM_TOKEN=emulator.token,
        NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
        NEWSBOT_SOURCES_FILE=str(sources),
        NEWSBOT_POLL_INTERVAL="1",
        NEWSBOT_HTTP_PORT=str(port),
        NEWSBOT_LOG_LEVEL="DEBUG",
        NEWSBOT_WEBHOOK_URL=PUBLIC_URL,
        NEWSBOT_WEBHOOK_SECRET=SECRET,
    )
    log_path = tmp_path / "newsbot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            await emulator.wait_for_request("setWebhook", timeout=30)
            update = emulator.send_text(CHAT, "/help")
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # the server starts before setWebhook; be safe anyway
                    try:
                        async with http.post(
                            f"http://127.0.0.1:{port}/telegram/webhook",
                            json=update,
                            headers={SECRET_HEADER: SECRET},
                        ) as response:
                            assert response.status == 200
                            break
                    except aiohttp.ClientConnectorError:
                        await asyncio.sleep(0.1)
            (reply,) = await emulator.wait_for_messages(CHAT, 1, timeout=10)
            assert "/subscribe" in reply.plain_text
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    logs = log_path.read_text(encoding="utf-8")
    assert "Webhook mode" in logs and "newsbot stopped" in logs
    assert emulator.token.split(":", 1)[1] not in logs
    assert SECRET not in logs
