"""The catalogues: every string the code marks is translated, with the same placeholders and
the same HTML tags, and the .po compiles at start (no .mo in the tree)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.emulator import format_text
from bot.i18n import LANGUAGES, load_locales, locale_dir, pick_language, topic_name
from bot.topics import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TAG = re.compile(r"</?([a-z]+)")


def _marked() -> set[str]:
    found: set[str] = set()
    for folder in ("handlers", "bot"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(language: str):  # type: ignore[no-untyped-def]
    with (locale_dir() / language / "LC_MESSAGES" / "newsbot.po").open("rb") as source:
        return read_po(source, locale=language)


def test_every_marked_string_has_a_ukrainian_translation() -> None:
    catalog = _catalog("uk")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_marked() - translated)
    assert missing == [], "run scripts/i18n and translate: " + repr(missing[:5])


def test_translations_keep_placeholders_and_markup() -> None:
    for message in _catalog("uk"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(ids[0]))
            assert TAG.findall(string) == TAG.findall(ids[0]), string
            format_text(string.replace("{", "").replace("}", ""), "html")  # Telegram parses it


def test_no_compiled_catalogue_is_kept() -> None:
    assert list(locale_dir().rglob("*.mo")) == []


def test_languages_and_fallbacks() -> None:
    locales = load_locales()
    assert locales.languages == tuple(LANGUAGES)
    assert locales.get("uk").gettext("Saved.") == "Збережено."
    assert locales.get("uk-UA").gettext("Saved.") == "Збережено."
    assert locales.get("de").gettext("Saved.") == "Saved."
    assert locales.get(None).gettext("Saved.") == "Saved."
    assert pick_language("UK_ua") == "uk"
    assert pick_language("") == "en"


def test_ukrainian_plurals() -> None:
    t = load_locales().get("uk")
    one = "🔎 Watching the keyword {words}: not a topic, so you'll get stories that mention it."
    many = "🔎 Watching the keywords {words}: not topics, so you'll get stories that mention them."
    assert "ключовим словом" in t.ngettext(one, many, 1)
    assert "ключовими словами" in t.ngettext(one, many, 3)
    assert "ключовим словом" in t.ngettext(one, many, 21)


def test_every_built_in_topic_name_is_translated() -> None:
    t = load_locales().get("uk")
    for topic in load_catalogue().topics:
        assert topic_name(t, topic) != topic.name, topic.slug
