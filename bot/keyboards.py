"""Inline keyboards, built from the callback factories in bot.callbacks."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    BankAction,
    BankCb,
    ForgetCb,
    FormatCb,
    LanguageCb,
    RegisterCb,
    RegisterChoice,
    VoiceAction,
    VoiceCb,
)
from bot.locales import Texts, supported_languages, texts_for
from bot.names import CURATED_MARK
from storage import BankPage, Voice

MAX_BUTTON_NAME = 40


def short(name: str) -> str:
    return name if len(name) <= MAX_BUTTON_NAME else name[: MAX_BUTTON_NAME - 1] + "…"


def voice_list(voices: list[Voice], active_id: int | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for voice in voices:
        mark = "✅ " if voice.id == active_id else ("🌐 " if voice.public else "")
        kb.button(
            text=f"{mark}{short(voice.name)}",
            callback_data=VoiceCb(action=VoiceAction.show, voice_id=voice.id),
        )
    kb.adjust(1)
    return kb.as_markup()


def voice_actions(voice: Voice, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()

    def add(text: str, action: VoiceAction) -> None:
        kb.button(text=text, callback_data=VoiceCb(action=action, voice_id=voice.id))

    add(texts.btn_use, VoiceAction.use)
    add(texts.btn_rename, VoiceAction.rename)
    if voice.public:
        add(texts.btn_withdraw, VoiceAction.withdraw)
    else:
        add(texts.btn_publish, VoiceAction.publish)
    add(texts.btn_delete, VoiceAction.delete)
    add(texts.btn_back, VoiceAction.back)
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def confirm(voice_id: int, yes_text: str, yes: VoiceAction, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=yes_text, callback_data=VoiceCb(action=yes, voice_id=voice_id))
    kb.button(
        text=texts.btn_cancel, callback_data=VoiceCb(action=VoiceAction.show, voice_id=voice_id)
    )
    kb.adjust(1)
    return kb.as_markup()


def bank_label(voice: Voice) -> str:
    """A bank row's text: the bot's mark, then the name. Only a curated voice gets ⭐; a user's
    name cannot begin with a picture character (bot/names.py), so none can pass for one."""
    mark = CURATED_MARK if voice.curated else "🎙"
    return f"{mark} {short(voice.name)}"


def bank_page(page: BankPage, texts: Texts, *, is_admin: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    widths: list[int] = []
    for voice in page.voices:
        kb.button(
            text=bank_label(voice),
            callback_data=BankCb(action=BankAction.use, voice_id=voice.id, page=page.page),
        )
        kb.button(
            text="▶️",
            callback_data=BankCb(action=BankAction.preview, voice_id=voice.id, page=page.page),
        )
        widths.append(2)
        if is_admin:
            kb.button(
                text="🗑",
                callback_data=BankCb(action=BankAction.remove, voice_id=voice.id, page=page.page),
            )
            widths[-1] = 3
    nav = 0
    if page.has_prev:
        kb.button(
            text=texts.btn_prev, callback_data=BankCb(action=BankAction.page, page=page.page - 1)
        )
        nav += 1
    if page.has_next:
        kb.button(
            text=texts.btn_next, callback_data=BankCb(action=BankAction.page, page=page.page + 1)
        )
        nav += 1
    if nav:
        widths.append(nav)
    kb.adjust(*widths)
    return kb.as_markup()


def merge_or_new(voice: Voice, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=texts.merge_button.format(name=short(voice.name)),
        callback_data=RegisterCb(choice=RegisterChoice.merge, voice_id=voice.id),
    )
    kb.button(
        text=texts.new_button,
        callback_data=RegisterCb(choice=RegisterChoice.new, voice_id=voice.id),
    )
    kb.adjust(1)
    return kb.as_markup()


def formats(texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for output_format, name in texts.format_names.items():
        kb.button(text=name, callback_data=FormatCb(output_format=output_format))
    kb.adjust(2)
    return kb.as_markup()


def languages() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for language in supported_languages():
        kb.button(
            text=texts_for(language).language_name, callback_data=LanguageCb(language=language)
        )
    kb.adjust(2)
    return kb.as_markup()


def forget(texts: Texts, user_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.btn_forget, callback_data=ForgetCb(confirm=True, user_id=user_id))
    kb.button(text=texts.btn_cancel, callback_data=ForgetCb(confirm=False, user_id=user_id))
    kb.adjust(1)
    return kb.as_markup()
