"""Configuration: environment names, defaults, validation messages, TOML file, sources file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.config import DEFAULT_API_URL, DEFAULT_DATABASE_URL, ConfigError, load_settings
from bot.logs import REDACTED, RedactTokenFilter
from bot.sources import SourcesError, load_sources, parse_sources

TOKEN = "123456:AAE-secret-part_XYZ"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts from an empty NEWSBOT_ environment in an empty directory."""
    import os

    for name in list(os.environ):
        if name.startswith("NEWSBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.telegram_api_url == DEFAULT_API_URL
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.poll_interval == 120
    assert settings.http_port == 8080
    assert settings.send_rate == 30
    assert settings.admin_ids == frozenset()
    assert settings.sources_file is None
    assert TOKEN not in repr(settings)


def test_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSBOT_TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("NEWSBOT_ADMIN_IDS", "12, 34,56")
    monkeypatch.setenv("NEWSBOT_POLL_INTERVAL", "1")
    monkeypatch.setenv("NEWSBOT_HTTP_PORT", "0")
    monkeypatch.setenv("NEWSBOT_SEND_RATE", "100")
    monkeypatch.setenv("NEWSBOT_SOURCES_FILE", "feeds.toml")
    settings = load_settings()
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == frozenset({12, 34, 56})
    assert settings.poll_interval == 1
    assert settings.http_port == 0
    assert settings.send_rate == 100
    assert settings.sources_file == Path("feeds.toml")


def test_toml_file_and_env_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "newsbot.toml").write_text(
        f'telegram_token = "{TOKEN}"\npoll_interval = 30\nsend_rate = 10\n', encoding="utf-8"
    )
    monkeypatch.setenv("NEWSBOT_SEND_RATE", "20")
    settings = load_settings()
    assert settings.token == TOKEN
    assert settings.poll_interval == 30
    assert settings.send_rate == 20


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSBOT_POLL_INTERVAL", "0.5", "NEWSBOT_POLL_INTERVAL"),
        ("NEWSBOT_ADMIN_IDS", "12,abc", "comma-separated Telegram user ids"),
        ("NEWSBOT_TELEGRAM_API_URL", "ftp://x", "http:// or https://"),
        ("NEWSBOT_TELEGRAM_TOKEN", "has space", "@BotFather"),
        ("NEWSBOT_HTTP_PORT", "70000", "NEWSBOT_HTTP_PORT"),
        ("NEWSBOT_DATABASE_URL", "garbage", "NEWSBOT_DATABASE_URL must be a database URL"),
        ("NEWSBOT_DATABASE_URL", "mysql://x", "SQLite or PostgreSQL URL"),
        ("NEWSBOT_DATABASE_URL", "sqlite+pysqlite:///x.db", "must use sqlite+aiosqlite://"),
        (
            "NEWSBOT_DATABASE_URL",
            "postgresql+psycopg2://u:pw@h/d",
            "must use postgresql+asyncpg://",
        ),
    ],
)
def test_invalid_values_give_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("NEWSBOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///newsbot.db",
        "sqlite+aiosqlite://",
        "postgresql+asyncpg://newsbot:secret@db:5432/newsbot",
    ],
)
def test_supported_database_urls(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
    assert load_settings().database_url == url


@pytest.mark.parametrize(
    ("url", "used"),
    [
        ("sqlite:///newsbot.db", "sqlite+aiosqlite:///newsbot.db"),
        ("postgresql://newsbot:se%40cret@db:5432/newsbot", None),
        ("postgres://newsbot@db/newsbot", "postgresql+asyncpg://newsbot@db/newsbot"),
    ],
)
def test_a_url_without_a_driver_gets_the_async_one(
    monkeypatch: pytest.MonkeyPatch, url: str, used: str | None
) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
    got = load_settings().database_url
    if used is not None:
        assert got == used
    # The password, escapes included, survives the rewrite.
    parsed = make_url(got)
    assert parsed.get_driver_name() in {"aiosqlite", "asyncpg"}
    assert parsed.password == make_url(url).password


def test_database_url_errors_never_repeat_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("postgresql+psycopg2://u:hunter22@h/d", "mysql://u:hunter22@h/d", "u:hunter22@@:/"):
        monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert "hunter22" not in str(caught.value)


def test_missing_token_is_reported_when_needed() -> None:
    settings = load_settings()
    with pytest.raises(ConfigError, match="NEWSBOT_TELEGRAM_TOKEN is required"):
        _ = settings.token


def test_builtin_sources_are_real_feeds() -> None:
    sources = load_sources(None)
    names = {source.name for source in sources}
    assert {"The Kyiv Independent", "BBC News – World", "Al Jazeera", "Meduza"} <= names
    assert all(source.url.startswith("https://") for source in sources)


def test_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[sources]]\nurl = "https://example.org/feed.xml"\n\n'
        '[[sources]]\nurl = "https://example.com/rss"\nname = "Example"\ninterval = 60\n',
        encoding="utf-8",
    )
    first, second = load_sources(path)
    assert (first.url, first.name, first.interval) == (
        "https://example.org/feed.xml",
        "example.org",
        None,
    )
    assert (second.name, second.interval) == ("Example", 60.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]]\nname = 'x'\n", "`url` is required"),
        ("[[sources]]\nurl = 'file:///etc/passwd'\n", "must be an http(s) URL"),
        ("[[sources]]\nurl = 'https://a.org/f'\ninterval = 0\n", "at least 1 second"),
        ("[[sources]]\nurl = 'https://a.org/f'\n[[sources]]\nurl = 'https://a.org/f'\n", "twice"),
        ("sources = 3", "at least one [[sources]]"),
        ("[[sources]\n", "not valid TOML"),
        ("[[sources]]\nurl = 'https://a.org/f'\nintervall = 5\n", "unknown key(s) intervall"),
    ],
)
def test_bad_sources_files_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(SourcesError) as caught:
        parse_sources(text, "sources.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("sources.toml")


def test_missing_sources_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="cannot read"):
        load_sources(tmp_path / "nope.toml")


def test_token_is_redacted_from_log_records() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        "POST https://api.telegram.org/bot%s/sendMessage",
        (TOKEN,),
        None,
    )
    RedactTokenFilter(TOKEN).filter(record)
    assert TOKEN not in record.getMessage()
    assert "AAE-secret-part_XYZ" not in record.getMessage()
    assert REDACTED in record.getMessage()
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/getMe")
    except RuntimeError:
        import sys

        failing = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactTokenFilter(TOKEN).filter(failing)
    assert failing.exc_text is not None
    assert "AAE-secret-part_XYZ" not in failing.exc_text
