"""Text that reaches users from data rather than code, listed so that extraction finds it.

`N_` marks a string for the catalogue without translating it here (gettext's "noop"): the
translation happens where the text is shown (`topic_name`, keyword errors in handlers).
"""

from __future__ import annotations


def N_(text: str) -> str:  # gettext's conventional name for the no-op marker
    return text


# The built-in topic names (bot/data/topics.toml).
TOPIC_NAMES = (
    N_("Ukraine"),
    N_("Russia"),
    N_("Sanctions"),
    N_("NATO"),
    N_("European Union"),
    N_("United States"),
    N_("Energy"),
    N_("Diplomacy"),
    N_("Military"),
)

# Reasons bot.keywords and bot.targets give for refusing a keyword.
KEYWORD_ERRORS = (
    N_("Please give a word or phrase to watch, e.g. /subscribe Tomahawk."),
    N_("A keyword needs at least one letter or digit."),
    N_("that is too long to be a topic or a keyword"),
    N_(
        'A watch needs a word to look for: "-" words only exclude, e.g. /subscribe sanctions -iran.'
    ),
    N_("A watch can have at most {count} words or phrases."),
    N_("That watch is too long: keep it to {count} characters."),
    N_("That is too long for a keyword: keep it to {count} characters."),
)
