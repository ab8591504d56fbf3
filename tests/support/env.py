"""The environment for a `newsbot` child process a test starts."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child_env() -> dict[str, str]:
    """This process's environment without any NEWSBOT_* setting of the developer's, and with
    article-page leads off: fixture feeds link to real publishers, which no test may request
    (tests/conftest.py does the same for bots started in-process).

    The checkout under test comes first on PYTHONPATH: a child runs `python -m bot.cli` from
    a temporary directory, where it would otherwise import whatever checkout the virtualenv
    has installed (another worktree sharing the .venv, say), not the code under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["NEWSBOT_ARTICLE_PAGES"] = "false"
    return env
