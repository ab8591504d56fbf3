"""`newsbot` as an operator runs it: a real subprocess, configured only through NEWSBOT_*."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.emulator import BotAPIEmulator
from storage import migrate
from tests.conftest import feed_bytes
from tests.e2e.harness import write_sources
from tests.support.env import child_env
from tests.support.feed_server import FeedServer

NEWSBOT = [sys.executable, "-m", "bot.cli"]


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = child_env()
    env.update({"NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"})
    env.update(values)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *NEWSBOT,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_run_without_token_starts_the_sandbox_in_one_line(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(tmp_path, NEWSBOT_HTTP_PORT=str(port))
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *NEWSBOT, "run", env=env, cwd=tmp_path, stdout=out, stderr=err
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            for _ in range(300):  # bounded: 30 s
                if url in out_path.read_text(encoding="utf-8"):
                    break
                assert process.returncode is None, err_path.read_text(encoding="utf-8")
                await asyncio.sleep(0.1)
            async with aiohttp.ClientSession() as http, http.get(url + "healthz") as response:
                assert response.status == 200
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    (line,) = out_path.read_text(encoding="utf-8").splitlines()
    assert "no NEWSBOT_TELEGRAM_TOKEN" in line and "sandbox" in line and url in line
    assert err_path.read_text(encoding="utf-8") == ""
    assert not (tmp_path / "newsbot.db").exists()  # the sandbox's database is throwaway


async def test_invalid_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path, NEWSBOT_TELEGRAM_TOKEN="not a token")
    code, out, err = await _run("run", env=env, cwd=tmp_path)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0
    assert "NEWSBOT_TELEGRAM_TOKEN" in err


async def test_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path, NEWSBOT_TELEGRAM_TOKEN="1:abc", NEWSBOT_POLL_INTERVAL="soon")
    code, _, err = await _run("run", env=env, cwd=tmp_path)
    assert code == 2
    assert "NEWSBOT_POLL_INTERVAL" in err and err.strip().count("\n") == 0


async def test_bad_database_url_is_one_line_and_exit_2_for_every_verb(tmp_path: Path) -> None:
    for url in ("garbage", "mysql://x", "sqlite+pysqlite:///x.db"):
        env = _env(tmp_path, NEWSBOT_TELEGRAM_TOKEN="1:abc", NEWSBOT_DATABASE_URL=url)
        for verb in (["stats"], ["sources", "list"], ["db", "current"], ["run"]):
            code, out, err = await _run(*verb, env=env, cwd=tmp_path)
            assert (code, out) == (2, ""), (url, verb, err)
            assert err.startswith("newsbot: NEWSBOT_DATABASE_URL "), (url, verb, err)
            assert err.strip().count("\n") == 0, (url, verb, err)


async def test_unreachable_database_is_one_line_without_the_password(
    emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    url = f"postgresql+asyncpg://newsbot:hunter22@127.0.0.1:{_free_port()}/newsbot"
    env = _env(
        tmp_path,
        NEWSBOT_DATABASE_URL=url,
        NEWSBOT_TELEGRAM_TOKEN=emulator.token,
        NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
        NEWSBOT_HTTP_PORT="0",
        NEWSBOT_LOG_LEVEL="WARNING",
    )
    shown = url.replace("hunter22", "***")
    for verb in (["stats"], ["sources", "list"], ["sources", "export"], ["db", "current"]):
        code, out, err = await _run(*verb, env=env, cwd=tmp_path)
        assert (code, out) == (1, ""), (verb, err)
        assert err == f"newsbot: cannot reach the database at {shown}: connection refused\n"
    code, _, err = await _run("run", env=env, cwd=tmp_path)
    assert code == 1
    assert err == f"newsbot: cannot reach the database at {shown}: connection refused\n"


async def test_unreachable_bot_api_is_one_line_without_the_token(tmp_path: Path) -> None:
    token = "123456:AAE-not-to-be-printed_XYZ"
    api = f"http://127.0.0.1:{_free_port()}"
    env = _env(
        tmp_path,
        NEWSBOT_TELEGRAM_TOKEN=token,
        NEWSBOT_TELEGRAM_API_URL=api,
        NEWSBOT_HTTP_PORT="0",
        NEWSBOT_LOG_LEVEL="DEBUG",
    )
    code, out, err = await _run("run", env=env, cwd=tmp_path)
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        f"newsbot: cannot reach the Bot API at {api}: connection refused"
    )
    assert "Traceback" not in err and "Unclosed" not in err
    assert token.split(":", 1)[1] not in out + err


async def test_rejected_token_is_one_line_without_the_token(
    emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    token = "123456:AAE-not-to-be-printed_XYZ"
    env = _env(
        tmp_path,
        NEWSBOT_TELEGRAM_TOKEN=token,
        NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
        NEWSBOT_HTTP_PORT="0",
    )
    code, out, err = await _run("run", env=env, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert err == (f"newsbot: the Bot API at {emulator.api_url} rejected NEWSBOT_TELEGRAM_TOKEN\n")


async def test_db_upgrade(tmp_path: Path) -> None:
    env = _env(tmp_path, NEWSBOT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    code, out, _ = await _run("db", "upgrade", env=env, cwd=tmp_path)
    # Every branch head (features add parallel migrations off 0001).
    assert code == 0 and f"database at revision {migrate.head_revision()}" in out
    code, out, _ = await _run("db", "downgrade", "base", env=env, cwd=tmp_path)
    assert code == 0 and "base (empty)" in out
    code, out, err = await _run("db", "downgrade", "bogus", env=env, cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith("newsbot: cannot downgrade to bogus: ") and "'bogus'" in err
    assert err.count("\n") == 1


async def test_run_serves_commands_health_and_stops_cleanly_on_sigterm(
    emulator: BotAPIEmulator, feeds: FeedServer, tmp_path: Path
) -> None:
    feeds.serve("/kyiv.rss", feed_bytes("kyivindependent-news-archive-2026-10-04.rss.xml"))
    sources = write_sources(
        tmp_path / "sources.toml", [("Kyiv Independent", feeds.url("/kyiv.rss"))]
    )
    port = _free_port()
    env = _env(
        tmp_path,
        NEWSBOT_TELEGRAM_TOKEN=emulator.token,
        NEWSBOT_TELEGRAM_API_URL=emulator.api_url,
        NEWSBOT_SOURCES_FILE=str(sources),
        NEWSBOT_POLL_INTERVAL="1",
        NEWSBOT_HTTP_PORT=str(port),
        NEWSBOT_LOG_LEVEL="DEBUG",
    )
    log_path = tmp_path / "newsbot.log"
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        *NEWSBOT, "run", env=env, cwd=tmp_path, stdout=log_file, stderr=log_file
    )
    try:
        await emulator.wait_for_request("getUpdates", timeout=30)
        # The database is created in the working directory by default.
        assert (tmp_path / "newsbot.db").exists()
        emulator.send_text(77, "/start")
        (reply,) = await emulator.wait_for_messages(77, 1, timeout=10)
        assert "/subscribe" in reply.plain_text
        latest = await _latest_once_stored(emulator, 77)
        assert "Lukoil deal" in latest  # the newest story: no subscriptions yet
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
            assert (await response.json())["status"] == "ok"

        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 10)
        assert code == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log_file.close()
    logs = log_path.read_text(encoding="utf-8")
    assert "newsbot stopped" in logs
    secret = emulator.token.split(":", 1)[1]
    assert secret not in logs  # not even at DEBUG, where httpx would log every URL


async def _latest_once_stored(emulator: BotAPIEmulator, chat_id: int) -> str:
    """Ask /latest until the first fetch has stored something (bounded)."""
    for _ in range(20):
        count = len(emulator.messages_to(chat_id))
        emulator.send_text(chat_id, "/latest")
        messages = await emulator.wait_for_messages(chat_id, count + 1, timeout=10)
        if "No stories stored yet" not in messages[count].plain_text:
            return messages[count].plain_text
        await asyncio.sleep(0.5)
    raise AssertionError("no story was stored within 10 s")
