"""The environment for a `newsbot` child process a test starts."""

from __future__ import annotations

import os


def child_env() -> dict[str, str]:
    """This process's environment without any NEWSBOT_* setting of the developer's, and with
    article-page leads off: fixture feeds link to real publishers, which no test may request
    (tests/conftest.py does the same for bots started in-process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env["NEWSBOT_ARTICLE_PAGES"] = "false"
    return env
