"""/settings and its menu, /pause, /resume, /timezone, /language, /quiet, /digest.

What the settings mean is decided in `bot.delivery.policy`; this module only reads what the
user chose, checks that they may choose it (admins, in groups) and stores it.

Callback data (`set:<what>:<value>`, at most 20 bytes)::

    set:mode:instant|hourly|daily     set:at:<minutes after midnight>
    set:quiet:off|<start>-<end>       set:qb:hold|silent
    set:pause:1|0                     set:lang:en|uk

Anything else, or a value outside the menu's choices, is a forged or stale button: it gets a
polite answer and changes nothing.

Pausing drops the alerts already queued for the chat (held digests included): paused means
no alerts, and /resume starts afresh with the next story instead of flooding the chat with
what it missed (/latest shows that).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from bot.context import CustomContext
from bot.delivery.policy import (
    canonical_timezone,
    close_timezone,
    format_clock,
    format_offset,
    offset_timezone,
    parse_clock,
    parse_offset,
    parse_window,
    split_window,
    timezone_label,
    timezones_for_place,
)
from bot.i18n import LANGUAGES, Translator, pick_language
from handlers.common import (
    MAX_ARGUMENT_CHARS,
    admins_only,
    argument,
    command,
    edit_button_message,
    may_change,
    quote,
    register_chat,
    reply,
    too_long,
    translator,
)
from storage import chats as chat_store
from storage.models import DeliveryMode, QuietBehaviour
from storage.records import ChatRecord, ChatSettings

DIGEST_TIMES = (time(7, 0), time(8, 0), time(12, 0), time(18, 0), time(21, 0))
QUIET_WINDOWS = ((time(22, 0), time(7, 0)), (time(23, 0), time(7, 0)), (time(0, 0), time(8, 0)))
Change = Callable[[ChatSettings], ChatSettings]
# What a setting command's argument means: a change, a change with a line to say before the
# new settings, or (a str) why it cannot be done.
Outcome = Change | tuple[Change, str] | str


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _window_code(window: tuple[time, time]) -> str:
    return f"{_minutes(window[0])}-{_minutes(window[1])}"


def describe(t: Translator, chat: ChatRecord, settings: ChatSettings) -> str:
    """The settings as a short HTML summary, in the chat's language."""
    _ = t.gettext
    if settings.mode is DeliveryMode.HOURLY:
        mode = _("one digest every hour")
    elif settings.mode is DeliveryMode.DAILY:
        mode = _("one digest a day at {time}").format(time=format_clock(settings.digest_time))
    else:
        mode = _("each story as it breaks")
    window = settings.quiet_hours
    if window is None:
        quiet = _("off")
    else:
        span = f"{format_clock(window[0])}–{format_clock(window[1])}"
        quiet = (
            _("{span}: alerts wait and come as one digest when they end").format(span=span)
            if settings.quiet_behaviour is QuietBehaviour.HOLD
            else _("{span}: alerts come without a sound").format(span=span)
        )
    language = LANGUAGES[pick_language(chat.language)]
    lines = [
        "<b>" + html.escape(_("Settings for this chat")) + "</b>",
        _("Alerts: {mode}").format(mode=html.escape(mode)),
        _("Quiet hours: {quiet}").format(quiet=html.escape(quiet)),
        _("Time zone: {zone} (change it with /timezone Europe/Kyiv)").format(
            zone=html.escape(timezone_label(settings.timezone))
        ),
        _("Language: {language}").format(language=html.escape(language)),
    ]
    if settings.paused:
        lines.append("⏸ " + _("Alerts are paused: /resume to get them again."))
    return "\n".join(lines)


def _mark(label: str, chosen: bool) -> str:
    return ("✓ " if chosen else "") + label


def menu(t: Translator, chat: ChatRecord, settings: ChatSettings) -> InlineKeyboardMarkup:
    _ = t.gettext
    mode = settings.mode
    daily = mode is DeliveryMode.DAILY
    window = settings.quiet_hours
    rows = [
        [
            InlineKeyboardButton(
                _mark(_("Instant"), mode is DeliveryMode.INSTANT), callback_data="set:mode:instant"
            ),
            InlineKeyboardButton(
                _mark(_("Hourly"), mode is DeliveryMode.HOURLY), callback_data="set:mode:hourly"
            ),
            InlineKeyboardButton(_mark(_("Daily"), daily), callback_data="set:mode:daily"),
        ],
        [
            InlineKeyboardButton(
                _mark(format_clock(at), daily and settings.digest_time == at),
                callback_data=f"set:at:{_minutes(at)}",
            )
            for at in DIGEST_TIMES
        ],
        [
            InlineKeyboardButton(
                _mark(_("No quiet hours"), window is None), callback_data="set:quiet:off"
            ),
            *(
                InlineKeyboardButton(
                    _mark(f"{format_clock(start)}–{format_clock(end)}", window == (start, end)),
                    callback_data=f"set:quiet:{_window_code((start, end))}",
                )
                for start, end in QUIET_WINDOWS
            ),
        ],
        [
            InlineKeyboardButton(
                _mark(_("Hold for a digest"), settings.quiet_behaviour is QuietBehaviour.HOLD),
                callback_data="set:qb:hold",
            ),
            InlineKeyboardButton(
                _mark(_("Send silently"), settings.quiet_behaviour is QuietBehaviour.SILENT),
                callback_data="set:qb:silent",
            ),
        ],
        [
            InlineKeyboardButton("▶️ " + _("Resume"), callback_data="set:pause:0")
            if settings.paused
            else InlineKeyboardButton("⏸ " + _("Pause"), callback_data="set:pause:1")
        ],
        [
            InlineKeyboardButton(
                _mark(name, pick_language(chat.language) == code), callback_data=f"set:lang:{code}"
            )
            for code, name in LANGUAGES.items()
        ],
    ]
    return InlineKeyboardMarkup(rows)


async def _load(context: CustomContext, chat_id: int) -> ChatRecord | None:
    async with context.app.sessionmaker() as session:
        return await chat_store.get_chat(session, chat_id)


async def _save(context: CustomContext, chat: ChatRecord, change: Change) -> ChatRecord | None:
    app = context.app
    settings = change(chat.settings)
    async with app.sessionmaker() as session, session.begin():
        await chat_store.save_settings(session, chat.id, settings, now=app.clock.now())
        if settings.paused:
            await chat_store.drop_queued_alerts(session, chat.id, reason="paused")
        return await chat_store.get_chat(session, chat.id)


async def _setting_command(
    update: Update, context: CustomContext, build: Callable[[Translator, str], Outcome]
) -> None:
    """Shared shape of /pause, /timezone, /quiet…: check, parse, store, confirm."""
    chat = await register_chat(update, context)
    if chat is None:
        return
    t = translator(context, chat)
    text = argument(update)
    if len(text) > MAX_ARGUMENT_CHARS:
        await reply(update, too_long(t))
        return
    outcome = build(t, text)
    if isinstance(outcome, str):
        await reply(update, outcome)
        return
    change, note = outcome if isinstance(outcome, tuple) else (outcome, None)
    if not await may_change(update, context):
        await reply(update, admins_only(t))
        return
    saved = await _save(context, chat, change)
    if saved is not None:
        summary = describe(t, saved, saved.settings)
        await reply(update, summary if note is None else note + "\n\n" + summary)


async def settings_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    t = translator(context, chat)
    await reply(update, describe(t, chat, chat.settings), reply_markup=menu(t, chat, chat.settings))


def _pause(t: Translator, text: str) -> Change:
    return lambda s: dataclasses.replace(s, paused=True)


def _resume(t: Translator, text: str) -> Change:
    return lambda s: dataclasses.replace(s, paused=False)


async def pause(update: Update, context: CustomContext) -> None:
    await _setting_command(update, context, _pause)


async def resume(update: Update, context: CustomContext) -> None:
    await _setting_command(update, context, _resume)


def _timezone(t: Translator, text: str) -> Outcome:
    """An IANA name in any case, a UTC offset ("UTC+2", "+05:30") or a city ("kyiv")."""
    _ = t.gettext
    if not text:
        return _(
            "Send your time zone as an IANA name, e.g. /timezone Europe/Kyiv or "
            "/timezone America/New_York. Digests and quiet hours follow it."
        )
    name = canonical_timezone(text)
    if name is not None:
        return lambda s: dataclasses.replace(s, timezone=name)
    offset = parse_offset(text)
    if offset is not None:
        fixed = offset_timezone(offset)
        if fixed is None:
            return _(
                "{offset} is not an offset any time zone uses: they run from UTC-12:00 to "
                "UTC+14:00."
            ).format(offset=quote(text))
        note = _(
            "Time zone set to {offset}, a fixed offset: it does not change for daylight saving "
            "time. To follow a place's clock, send its name, e.g. /timezone Europe/Kyiv."
        ).format(offset=format_offset(offset))
        return (lambda s: dataclasses.replace(s, timezone=fixed)), note
    places = timezones_for_place(text)
    if len(places) == 1:
        return lambda s: dataclasses.replace(s, timezone=places[0])
    if places:
        return _("{name} could be {zones}. Send the one you mean, e.g. /timezone {zone}.").format(
            name=quote(text), zones=", ".join(places), zone=places[0]
        )
    suggestion = close_timezone(text)
    hint = (
        " " + _("Did you mean {zone}?").format(zone=html.escape(suggestion)) if suggestion else ""
    )
    return (
        _(
            "I don't know the time zone {name}. Use an IANA name such as Europe/Kyiv or "
            "America/New_York."
        ).format(name=quote(text))
        + hint
    )


async def timezone_command(update: Update, context: CustomContext) -> None:
    await _setting_command(update, context, _timezone)


QUIET_SILENT = {"silent", "silently", "тихо"}
QUIET_HOLD = {"hold", "digest", "дайджест"}


def _not_a_time(t: Translator, text: str) -> str:
    _ = t.gettext
    return _("{time} is not a time of day: use HH:MM, 00:00–23:59.").format(time=quote(text))


def _quiet_problem(t: Translator, words: list[str]) -> str | None:
    """Why `/quiet <words>` is not a window (with an optional mode), if it is clear why."""
    _ = t.gettext
    if len(words) > 1 and parse_window(" ".join(words[:-1])) is not None:
        return _("{mode} is not a quiet-hours mode: use hold or silent.").format(
            mode=quote(words[-1])
        )
    parts = split_window(" ".join(words))
    if parts is None:
        return None
    bad = next((part for part in parts if parse_clock(part) is None), None)
    if bad is not None:
        return _not_a_time(t, bad)
    if parse_clock(parts[0]) == parse_clock(parts[1]):
        return _("Quiet hours must start and end at different times.")
    return None


def _quiet(t: Translator, text: str) -> Change | str:
    _ = t.gettext
    words = text.split()
    behaviour: QuietBehaviour | None = None
    if words and words[-1].lower() in QUIET_SILENT:
        behaviour, words = QuietBehaviour.SILENT, words[:-1]
    elif words and words[-1].lower() in QUIET_HOLD:
        behaviour, words = QuietBehaviour.HOLD, words[:-1]
    rest = " ".join(words)
    if rest.lower() in {"off", "none", "no", "вимк"}:
        return lambda s: dataclasses.replace(s, quiet_start=None, quiet_end=None)
    window = parse_window(rest) if rest else None
    if window is None and not (behaviour and not rest):
        usage = _(
            "Send quiet hours as a time range, e.g. /quiet 23:00-07:00 (add <code>silent</code> "
            "to get alerts without a sound instead of a digest when they end), or /quiet off."
        )
        problem = _quiet_problem(t, words)
        return usage if problem is None else problem + "\n" + usage

    def change(s: ChatSettings) -> ChatSettings:
        if window is not None:
            s = dataclasses.replace(s, quiet_start=window[0], quiet_end=window[1])
        if behaviour is not None:
            s = dataclasses.replace(s, quiet_behaviour=behaviour)
        return s

    return change


async def quiet_command(update: Update, context: CustomContext) -> None:
    await _setting_command(update, context, _quiet)


DIGEST_OFF = {"off", "instant", "none"}


def _digest(t: Translator, text: str) -> Change | str:
    _ = t.gettext
    words = text.split()
    usage = _(
        "Choose how alerts come: /digest off (each story at once), /digest hourly, or "
        "/digest daily 08:00 (one digest a day at that time, in your time zone)."
    )
    if not words:
        return usage
    mode, rest = words[0].lower(), words[1:]
    if mode in DIGEST_OFF and not rest:
        return lambda s: dataclasses.replace(s, mode=DeliveryMode.INSTANT)
    if mode == "hourly" and not rest:
        return lambda s: dataclasses.replace(s, mode=DeliveryMode.HOURLY)
    if mode == "daily":
        at = parse_clock(rest[0].lower()) if rest else None
        if rest and at is None:
            return _not_a_time(t, rest[0]) + "\n" + usage
        if len(rest) <= 1:
            return lambda s: dataclasses.replace(
                s, mode=DeliveryMode.DAILY, digest_time=at or s.digest_time
            )
        known, extra = words[:2], rest[1:]
    else:
        known, extra = words[:1], rest
    if mode in DIGEST_OFF or mode in {"hourly", "daily"}:
        problem = _("I don't understand {words} after /digest {mode}.").format(
            words=quote(" ".join(extra)), mode=html.escape(" ".join(known))
        )
    elif mode == "weekly":
        problem = _("Weekly digests are not offered: use /digest daily HH:MM or /digest hourly.")
    else:
        problem = _("{mode} is not a way to get alerts: use off, hourly or daily.").format(
            mode=quote(words[0])
        )
    return problem + "\n" + usage


async def digest_command(update: Update, context: CustomContext) -> None:
    await _setting_command(update, context, _digest)


async def language_command(update: Update, context: CustomContext) -> None:
    chat = await register_chat(update, context)
    if chat is None:
        return
    t = translator(context, chat)
    _ = t.gettext
    text = argument(update).lower()
    if len(text) > MAX_ARGUMENT_CHARS:
        await reply(update, too_long(t))
        return
    names = {name.lower(): code for code, name in LANGUAGES.items()}
    names.update({"english": "en", "ukrainian": "uk", "українська": "uk", "ua": "uk"})
    code = text if text in LANGUAGES else names.get(text)
    if code is None:
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _mark(name, pick_language(chat.language) == lang),
                        callback_data=f"set:lang:{lang}",
                    )
                    for lang, name in LANGUAGES.items()
                ]
            ]
        )
        prefix = (
            _("I don't speak {language} yet.").format(language=quote(text)) + " " if text else ""
        )
        await reply(update, prefix + _("Choose the bot's language:"), reply_markup=keyboard)
        return
    if not await may_change(update, context):
        await reply(update, admins_only(t))
        return
    app = context.app
    async with app.sessionmaker() as session, session.begin():
        await chat_store.set_language(session, chat.id, code, now=app.clock.now())
    await reply(update, app.locales.get(code).gettext("I'll speak English here from now on."))


def _button_change(kind: str, value: str) -> Change | None:
    """The change a settings button asks for, or None if the button is not one we offer."""
    if kind == "mode" and value in {mode.value for mode in DeliveryMode}:
        return lambda s: dataclasses.replace(s, mode=DeliveryMode(value))
    if kind == "at" and value.isdigit():
        at = next((at for at in DIGEST_TIMES if _minutes(at) == int(value)), None)
        if at is not None:
            return lambda s: dataclasses.replace(s, mode=DeliveryMode.DAILY, digest_time=at)
    if kind == "quiet":
        if value == "off":
            return lambda s: dataclasses.replace(s, quiet_start=None, quiet_end=None)
        window = next((w for w in QUIET_WINDOWS if _window_code(w) == value), None)
        if window is not None:
            return lambda s: dataclasses.replace(s, quiet_start=window[0], quiet_end=window[1])
    if kind == "qb" and value in {b.value for b in QuietBehaviour}:
        return lambda s: dataclasses.replace(s, quiet_behaviour=QuietBehaviour(value))
    if kind == "pause" and value in {"0", "1"}:
        return lambda s: dataclasses.replace(s, paused=value == "1")
    return None


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = await register_chat(update, context)
    t = translator(context, chat)
    _ = t.gettext
    parts = (query.data or "").split(":")
    if chat is None or len(parts) != 3:
        await query.answer(_("That button is out of date. Send /settings to see the menu."))
        return
    kind, value = parts[1], parts[2]
    is_language = kind == "lang" and value in LANGUAGES
    change = None if is_language else _button_change(kind, value)
    if not is_language and change is None:
        await query.answer(_("That button is out of date. Send /settings to see the menu."))
        return
    if not await may_change(update, context):
        await query.answer(admins_only(t), show_alert=True)
        return
    app = context.app
    if is_language:
        async with app.sessionmaker() as session, session.begin():
            await chat_store.set_language(session, chat.id, value, now=app.clock.now())
        saved = await _load(context, chat.id)
    else:
        assert change is not None
        saved = await _save(context, chat, change)
    if saved is None:
        await query.answer(_("That button is out of date. Send /settings to see the menu."))
        return
    t = translator(context, saved)
    await query.answer(t.gettext("Saved."))
    if (saved.settings, saved.language) == (chat.settings, chat.language):
        return  # the menu already shows this
    await edit_button_message(
        query, describe(t, saved, saved.settings), reply_markup=menu(t, saved, saved.settings)
    )


def build() -> list[BaseHandler[Update, CustomContext, None]]:
    return [
        command("settings", settings_command),
        command("pause", pause),
        command("resume", resume),
        command("timezone", timezone_command),
        command("quiet", quiet_command),
        command("digest", digest_command),
        command("language", language_command),
        CallbackQueryHandler(on_button, pattern=r"^set:"),
    ]
