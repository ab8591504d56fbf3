"""Typed configuration, read once at start-up from the environment, `.env` and `newsbot.toml`.

Every setting has the prefix ``NEWSBOT_`` in the environment (``NEWSBOT_TELEGRAM_TOKEN``) and
its bare name in ``newsbot.toml`` (``telegram_token = "…"``). The environment wins over
``.env``, which wins over the TOML file. Nothing here runs at import: ``load_settings()`` is
called by the CLI, which turns a validation error into one clear line and exit code 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///newsbot.db"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The async drivers newsbot ships with, by SQLAlchemy backend name (storage/db.py).
DATABASE_DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}
DATABASE_EXAMPLES = "sqlite+aiosqlite:///newsbot.db or postgresql+asyncpg://user@host/db"


class Settings(BaseSettings):
    """What an operator can set. Field names are the contract with operators: keep them."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        toml_file="newsbot.toml",
        extra="ignore",
        frozen=True,
    )

    telegram_token: SecretStr | None = Field(
        default=None,
        description="The bot's token from @BotFather; `newsbot run` requires it.",
    )
    telegram_api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Bot API server; calls go to {url}/bot{token}/{method}.",
    )
    database_url: str = Field(default=DEFAULT_DATABASE_URL)
    sources_file: Path | None = Field(default=None)
    topics_file: Path | None = Field(
        default=None,
        description="An operator's TOML file that adds to or replaces built-in topics.",
    )
    poll_interval: float = Field(default=120.0, ge=1.0)
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default=frozenset())
    http_host: str = Field(default="127.0.0.1")
    http_port: int = Field(default=8080, ge=0, le=65535)
    send_rate: float = Field(default=30.0, gt=0.0, le=1000.0)
    log_level: str = Field(default="INFO")
    fetch_timeout: float = Field(default=20.0, gt=0.0)
    fetch_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    fetch_concurrency: int = Field(default=8, ge=1)
    article_pages: bool = Field(
        default=True,
        description="Fetch the article page for a lead when a feed item has only a headline "
        "(bot.leads), so every alert has a summary; false never requests publishers' pages.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL for Telegram's webhook; unset = long polling.",
    )
    webhook_secret: SecretStr | None = Field(default=None)
    retention_days: int = Field(default=30, ge=1)

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if not token or any(ch.isspace() for ch in token) or "/" in token:
            raise ValueError("must be the token @BotFather gave you, e.g. 123456:ABC-DEF…")
        return SecretStr(token)

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        """Only what storage/db.py can open: SQLite via aiosqlite, PostgreSQL via asyncpg.

        A URL that names no driver (`sqlite:///newsbot.db`, `postgresql://…`, Heroku-style
        `postgres://…`) gets the async one; another driver named outright is refused. The
        messages never repeat the URL, which may hold a password."""
        url = value.strip()
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(f"must be a database URL such as {DATABASE_EXAMPLES}") from None
        backend = "postgresql" if parsed.drivername == "postgres" else parsed.get_backend_name()
        wanted = DATABASE_DRIVERS.get(backend)
        if wanted is None:
            raise ValueError(
                f"must be a SQLite or PostgreSQL URL ({DATABASE_EXAMPLES}), not {backend}://"
            )
        if "+" not in parsed.drivername:
            return parsed.set(drivername=f"{backend}+{wanted}").render_as_string(
                hide_password=False
            )
        if parsed.get_driver_name() != wanted:
            raise ValueError(f"must use {backend}+{wanted}:// (not {parsed.drivername}://)")
        return url

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> Any:
        """Accept "1, 2,3" from the environment as well as a TOML list."""
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError(
                    "must be comma-separated Telegram user ids, e.g. 1234,5678"
                ) from None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().startswith("https://"):
            raise ValueError("must be an https:// URL (Telegram only calls HTTPS webhooks)")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.webhook_url is not None:
            if self.webhook_secret is None:
                raise ValueError(
                    "NEWSBOT_WEBHOOK_SECRET is required with NEWSBOT_WEBHOOK_URL, "
                    "so only Telegram can post updates"
                )
            if self.http_port == 0:
                raise ValueError("NEWSBOT_HTTP_PORT must not be 0 in webhook mode")
        return self

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def token(self) -> str:
        """The token; only call after `require_token()` (or when it was set)."""
        if self.telegram_token is None:
            raise ConfigError(TOKEN_MISSING)
        return self.telegram_token.get_secret_value()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
            file_secret_settings,
        )


TOKEN_MISSING = "NEWSBOT_TELEGRAM_TOKEN is required: create a bot with @BotFather and set its token"


class ConfigError(Exception):
    """Configuration is missing or invalid; the message is one line meant for the operator."""


def load_settings(**overrides: Any) -> Settings:
    """Build `Settings`, turning pydantic's report into one readable line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            env_name = f"NEWSBOT_{field.upper()}"
            if not error["loc"]:  # a check across fields names them in its message
                problems.append(error["msg"].removeprefix("Value error, "))
            elif error["type"] == "missing":
                problems.append(f"{env_name} is required")
            else:
                problems.append(f"{env_name} {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(problems)) from None
