"""The bot's languages: English (the source strings) and Ukrainian, via gettext catalogues.

Strings are marked in the code as `_("…")` (and `ngettext` for counts) where `_` is the
chat's translator's `gettext`; `scripts/i18n` extracts them with Babel into
`bot/i18n/messages.pot` and merges them into `locale/<lang>/LC_MESSAGES/newsbot.po`. The
`.po` files are compiled in memory when the bot starts (`load_locales`), so no compiled
`.mo` is kept in the tree and a translation can never be older than its source.

Topic names come from data (topics.toml), not code: they are translated through the same
catalogue (`topic_name`), with the built-in names listed in the `.po` by hand.
"""

from __future__ import annotations

import gettext
import io
from importlib import resources
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.topics import Topic

DOMAIN = "newsbot"
DEFAULT_LANGUAGE = "en"
LANGUAGES: dict[str, str] = {"en": "English", "uk": "Українська"}

Translator = gettext.NullTranslations


def locale_dir() -> Path:
    return Path(str(resources.files("bot.i18n") / "locale"))


def compile_po(path: Path, language: str) -> gettext.GNUTranslations:
    """A `.po` file as gettext translations, compiled in memory with Babel."""
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Locales:
    """One translator per supported language; unknown languages get English."""

    def __init__(self, translations: dict[str, Translator]) -> None:
        self._translations = dict(translations)
        self._translations.setdefault(DEFAULT_LANGUAGE, gettext.NullTranslations())

    def get(self, language: str | None) -> Translator:
        return self._translations[pick_language(language)]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code in LANGUAGES if code in self._translations)


def load_locales(directory: Path | None = None) -> Locales:
    """Compile every catalogue under `directory` (the package's own by default)."""
    base = directory or locale_dir()
    translations: dict[str, Translator] = {}
    for language in LANGUAGES:
        path = base / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            translations[language] = compile_po(path, language)
    return Locales(translations)


def pick_language(code: str | None) -> str:
    """The supported language for a Telegram `language_code` ("uk", "uk-UA" → "uk")."""
    if not code:
        return DEFAULT_LANGUAGE
    base = code.replace("_", "-").split("-", 1)[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def topic_name(translator: Translator, topic: Topic) -> str:
    """A topic's display name in the chat's language (operators' own topics stay as named)."""
    return translator.gettext(topic.name)
