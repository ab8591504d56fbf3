"""Which feeds to poll: the operator's sources file, or the built-in list.

Both are TOML files of `[[sources]]` tables (`url`, optional `name`, optional `interval` in
seconds). A mistake in the file is reported with the file and the entry, and stops start-up:
silently skipping a source would look like a quiet news day.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MIN_INTERVAL = 1.0


class SourcesError(Exception):
    """The sources file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    url: str
    name: str
    interval: float | None = None


def _entry(raw: Any, where: str) -> SourceConfig:
    if not isinstance(raw, dict):
        raise SourcesError(f"{where}: each [[sources]] entry must be a table")
    url = raw.get("url")
    if not isinstance(url, str) or not url.strip():
        raise SourcesError(f"{where}: `url` is required")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SourcesError(f"{where}: `url` must be an http(s) URL, got {url!r}")
    name = raw.get("name", parts.hostname or url)
    if not isinstance(name, str) or not name.strip():
        raise SourcesError(f"{where}: `name` must be a non-empty string")
    interval = raw.get("interval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise SourcesError(f"{where}: `interval` must be a number of seconds")
        if interval < MIN_INTERVAL:
            raise SourcesError(f"{where}: `interval` must be at least {MIN_INTERVAL:g} second")
        interval = float(interval)
    unknown = set(raw) - {"url", "name", "interval"}
    if unknown:
        raise SourcesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return SourceConfig(url=url, name=name.strip(), interval=interval)


def parse_sources(text: str, origin: str) -> list[SourceConfig]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"{origin}: not valid TOML: {exc}") from None
    entries = data.get("sources")
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{origin}: expected at least one [[sources]] table")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries, start=1):
        source = _entry(raw, f"{origin}: source #{index}")
        if source.url in seen:
            raise SourcesError(f"{origin}: source #{index}: {source.url} is listed twice")
        seen.add(source.url)
        sources.append(source)
    return sources


def load_sources(path: Path | None) -> list[SourceConfig]:
    """The operator's sources when `path` is given, else the built-in list."""
    if path is None:
        builtin = resources.files("bot") / "data" / "sources.toml"
        return parse_sources(builtin.read_text(encoding="utf-8"), "built-in sources")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    return parse_sources(text, str(path))
