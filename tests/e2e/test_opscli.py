"""`newsbot sources …` and `newsbot stats` as an operator runs them (real subprocesses, a
real database), OPML round trips, and the deployment files parse and agree with the code."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import yaml

from bot.config import Settings
from bot.opml import Feed, parse_opml, render_opml
from tests.support.env import child_env

ROOT = Path(__file__).resolve().parents[2]
NEWSBOT = [sys.executable, "-m", "bot.cli"]


async def _newsbot(*args: str, database_url: str, cwd: Path) -> tuple[int, str, str]:
    env = child_env()
    env["NEWSBOT_DATABASE_URL"] = database_url
    out_path, err_path = cwd / "out.txt", cwd / "err.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = await asyncio.create_subprocess_exec(
            *NEWSBOT, *args, env=env, cwd=cwd, stdout=out, stderr=err
        )
        code = await asyncio.wait_for(process.wait(), 60)
    return code, out_path.read_text("utf-8"), err_path.read_text("utf-8")


def _opml(count: int) -> bytes:
    outlines = "\n".join(
        f'<outline text="Feed {i}" type="rss" xmlUrl="https://feeds{i}.example.org/rss"/>'
        for i in range(count)
    )
    return (
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        f'<outline text="News">{outlines}</outline>'
        '<outline text="bad" xmlUrl="gopher://old.example.org/"/>'
        "</body></opml>"
    ).encode()


def test_opml_round_trip() -> None:
    feeds = parse_opml(_opml(3))
    assert [f.name for f in feeds] == ["Feed 0", "Feed 1", "Feed 2", "bad"]
    again = parse_opml(render_opml([Feed("https://a.org/f?x=1&y=2", 'A "quoted" <name>')]).encode())
    assert again == [Feed("https://a.org/f?x=1&y=2", 'A "quoted" <name>')]


async def test_sources_commands(database_url: str, tmp_path: Path) -> None:
    code, out, _ = await _newsbot(
        "sources",
        "add",
        "https://example.org/feed",
        "--name",
        "Example",
        "--interval",
        "300",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert code == 0 and out.startswith("added: 1 https://example.org/feed")
    code, out, _ = await _newsbot(
        "sources", "add", "https://example.org/feed", database_url=database_url, cwd=tmp_path
    )
    assert code == 0 and "already a source" in out
    code, _, err = await _newsbot(
        "sources", "add", "not a url", database_url=database_url, cwd=tmp_path
    )
    assert code == 1 and "not an http(s) URL" in err
    for bad in ("https://exa mple.org/x", "https://example.org:99999/x", "https:///x"):
        code, out, err = await _newsbot(
            "sources", "add", bad, database_url=database_url, cwd=tmp_path
        )
        assert (code, out) == (1, "") and "not an http(s) URL" in err, bad

    opml = tmp_path / "feeds.opml"
    opml.write_bytes(_opml(120))
    code, out, err = await _newsbot(
        "sources", "import", str(opml), database_url=database_url, cwd=tmp_path
    )
    assert code == 0
    assert "imported 121 feeds: 120 added, 0 already sources, 1 invalid" in out
    # More than 50 feeds: a progress bar on stderr even without a terminal, ending at 121/121.
    assert "importing [" in err and err.rstrip().endswith("121/121")

    code, out, _ = await _newsbot("sources", "list", database_url=database_url, cwd=tmp_path)
    assert code == 0 and len(out.strip().splitlines()) == 1 + 121
    assert "cli" in out and "never" in out
    states = {line.split()[1] for line in out.strip().splitlines()[1:]}
    assert states == {"new"}  # never fetched: not "ok" yet

    code, out, _ = await _newsbot("sources", "remove", "1", database_url=database_url, cwd=tmp_path)
    assert code == 0 and "removed: 1" in out
    code, _, err = await _newsbot("sources", "remove", "1", database_url=database_url, cwd=tmp_path)
    assert code == 1 and "source 1 is already removed: https://example.org/feed" in err
    code, _, err = await _newsbot(
        "sources", "remove", "999", database_url=database_url, cwd=tmp_path
    )
    assert code == 1 and "no such source: 999" in err

    code, out, _ = await _newsbot("sources", "export", database_url=database_url, cwd=tmp_path)
    assert code == 0
    exported = parse_opml(out.encode())
    assert len(exported) == 120 and "https://example.org/feed" not in {f.url for f in exported}

    code, out, _ = await _newsbot("stats", database_url=database_url, cwd=tmp_path)
    assert code == 0 and "sources: 120 enabled, 0 failing" in out and "outbox depth: 0" in out


def test_deployment_files_agree_with_the_code() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    assert set(compose["services"]) == {"bot", "db"}
    bot = compose["services"]["bot"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["environment"]["NEWSBOT_DATABASE_URL"].startswith("postgresql+asyncpg://")

    known = {f"NEWSBOT_{name.upper()}" for name in Settings.model_fields}
    example = {}
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=", 1)[0]:
            name, value = line.split("=", 1)
            example[name] = value
    assert {n for n in example if n.startswith("NEWSBOT_")} <= known
    assert {"NEWSBOT_TELEGRAM_TOKEN", "NEWSBOT_WEBHOOK_URL", "NEWSBOT_WEBHOOK_SECRET"} <= set(
        example
    )

    unit = (ROOT / "deploy" / "newsbot.service").read_text("utf-8")
    assert "ExecStart=/opt/newsbot/.venv/bin/newsbot run" in unit
    assert "RestartPreventExitStatus=2" in unit  # a configuration error, see bot/cli.py
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert 'ENTRYPOINT ["newsbot"]' in dockerfile and "/healthz" in dockerfile
