"""Try newsbot without Telegram: the real bot, a Bot API emulator and a web chat in one process.

`newsbot sandbox` (and `newsbot run` without a token) starts `runner.Sandbox`: the bot
from `bot.app.build_application`, unchanged, talks to `bot.emulator` (the same emulator the
end-to-end tests use) and polls bundled real feeds that `replay` publishes item by item
through `feeds.FeedServer`; `web` serves the chat page and `chatlog` turns the emulator's
events into what the page shows.
"""

from bot.sandbox.runner import Sandbox, SandboxError, run_sandbox

__all__ = ["Sandbox", "SandboxError", "run_sandbox"]
