"""Inline keyboards, built from the callback factories in bot.callbacks."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    MIX_SHARES,
    BankAction,
    BankCb,
    ForgetCb,
    FormatCb,
    ForwardedCb,
    ForwardedChoice,
    LanguageCb,
    MixCb,
    MixStep,
    RegisterCb,
    RegisterChoice,
    SpeedCb,
    VoiceAction,
    VoiceCb,
)
from bot.locales import Texts, supported_languages, texts_for
from bot.names import CURATED_MARK
from storage import BankPage, Voice

MAX_BUTTON_NAME = 40
MAX_SHARE_BUTTON_NAME = 16  # two names and two shares on one button
# The paces /speed offers as buttons; any other within PACE_RANGE can be typed.
PACE_CHOICES = (0.75, 0.9, 1.0, 1.1, 1.25, 1.5)


def short(name: str, limit: int = MAX_BUTTON_NAME) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


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


def mix_candidates(
    page: BankPage,
    user_id: int,
    pick: Callable[[Voice], MixCb],
    turn: Callable[[int], MixCb],
    texts: Texts,
    back: MixCb | None = None,
) -> InlineKeyboardMarkup:
    """One page of voices to mix: `pick(voice)` is a voice's payload, `turn(page)` a page's.
    The user's own voices are marked 🎙, the bank's 🏦."""
    kb = InlineKeyboardBuilder()
    widths: list[int] = []
    for voice in page.voices:
        mark = "🎙" if voice.owner_id == user_id else "🏦"
        kb.button(text=f"{mark} {short(voice.name)}", callback_data=pick(voice))
        widths.append(1)
    nav = 0
    if page.has_prev:
        kb.button(text=texts.btn_prev, callback_data=turn(page.page - 1))
        nav += 1
    if page.has_next:
        kb.button(text=texts.btn_next, callback_data=turn(page.page + 1))
        nav += 1
    if nav:
        widths.append(nav)
    if back is not None:
        kb.button(text=texts.btn_back, callback_data=back)
    kb.button(text=texts.btn_cancel, callback_data=MixCb(step=MixStep.cancel))
    widths.append(2 if back is not None else 1)
    kb.adjust(*widths)
    return kb.as_markup()


def mix_back(back: MixCb, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.btn_back, callback_data=back)
    kb.button(text=texts.btn_cancel, callback_data=MixCb(step=MixStep.cancel))
    kb.adjust(2)
    return kb.as_markup()


def mix_shares(first: Voice, second: Voice, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for share in MIX_SHARES:
        kb.button(
            text=texts.mix_share_button.format(
                first_share=share,
                first=short(first.name, MAX_SHARE_BUTTON_NAME),
                second_share=100 - share,
                second=short(second.name, MAX_SHARE_BUTTON_NAME),
            ),
            callback_data=MixCb(
                step=MixStep.share, first_id=first.id, second_id=second.id, share=share
            ),
        )
    kb.button(text=texts.btn_back, callback_data=MixCb(step=MixStep.first, first_id=first.id))
    kb.button(text=texts.btn_cancel, callback_data=MixCb(step=MixStep.cancel))
    kb.adjust(1, 1, 1, 2)
    return kb.as_markup()


def paces(current: float, texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for pace in PACE_CHOICES:
        mark = "✅ " if pace == current else ""
        kb.button(text=f"{mark}{texts.pace(pace)}", callback_data=SpeedCb(pace=pace))
    kb.adjust(3)
    return kb.as_markup()


def forwarded(texts: Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.btn_check, callback_data=ForwardedCb(choice=ForwardedChoice.check))
    kb.button(text=texts.btn_learn, callback_data=ForwardedCb(choice=ForwardedChoice.learn))
    kb.adjust(1)
    return kb.as_markup()
